// demo_service: the embedded "remote API" of the examples, the tour, corio-serve-demo and the
// fetch tests: corio's own http::server on 127.0.0.1. Its endpoints show every way a real
// service behaves or fails:
//   /users                 200 {"users": [...]} after 40 ms
//   /orders                200 {"orders": 12} after 60 ms
//   /slow?ms=N             200 {"eventually": true} after N ms (default 5000)
//   /error                 500 {"error": "internal"} after 20 ms
//   /invalid-json          200 with a body that is not JSON
//   /broken                starts a body, then fails: the server resets the connection
//   /items?page=N          {"page": N, "items": [...]}: 4 items on pages 1-3, none after
//   /flaky?key=K&fail=N&status=S&retry_after=R
//                          the first N requests (default 1) with key K (default "") answer S
//                          (default 503) {"error": "flaky"}, with "Retry-After: R" if R is given
//                          (seconds or an HTTP-date; anything else is a 400, never reflected
//                          into the response); later ones 200
//                          {"key": K, "attempts": <requests so far>}. Counts are per service.
//   /headers               200 {"headers": {name: value, ...}}: the request's headers (names
//                          lower-cased; of repeated ones, the last)
//   anything else          404
// Handlers get 10 s (handler_timeout): /slow?ms=20000 is answered 503 by the server itself.
#pragma once

#include <corio/corio.hpp>
#include <corio/http/retry_after.hpp>
#include <corio/http/server.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace corio_test_support {

namespace http = corio::http;

class demo_service {
public:
    /// Starts serving on 127.0.0.1:`port` (0: any free port) on the current loop; stop it with
    /// aclose() (async_with does). Throws connection_error if the port cannot be bound.
    static corio::task<std::unique_ptr<demo_service>> start(std::uint16_t port = 0) {
        auto service = std::unique_ptr<demo_service>(new demo_service());
        co_await service->app_.start(corio::net::endpoint::parse("127.0.0.1", port));
        co_return service;
    }

    std::string url(std::string_view path = "/") const {
        return "http://" + app_.local_endpoint()->to_string() + std::string(path);
    }
    std::uint16_t port() const { return app_.local_endpoint()->port(); }
    http::server& server() noexcept { return app_; }

    /// Graceful: requests in flight get a second to finish.
    corio::task<> aclose() {
        app_.stop(std::chrono::seconds(1));
        co_await app_.wait_closed();
    }

private:
    demo_service() : app_({.handler_timeout = std::chrono::seconds(10), .shutdown_grace = std::chrono::seconds(1)}) {
        add_routes();
    }

    static int query_int(const http::request& req, std::string_view key, int fallback) {
        const auto value = req.query().get(key);
        int n = fallback;
        if (value) std::from_chars(value->data(), value->data() + value->size(), n);
        return n;
    }

    void add_routes() {
        using std::chrono::milliseconds;
        app_.get("/users", [](http::request&) -> corio::task<http::response> {
            co_await corio::sleep(milliseconds(40));
            co_return http::response(200, R"({"users": ["ada", "grace", "linus"]})", "application/json");
        });
        app_.get("/orders", [](http::request&) -> corio::task<http::response> {
            co_await corio::sleep(milliseconds(60));
            co_return http::response(200, R"({"orders": 12})", "application/json");
        });
        app_.get("/slow", [](http::request& req) -> corio::task<http::response> {
            co_await corio::sleep(milliseconds(query_int(req, "ms", 5000)));
            co_return http::response(200, R"({"eventually": true})", "application/json");
        });
        app_.get("/error", [](http::request&) -> corio::task<http::response> {
            co_await corio::sleep(milliseconds(20));
            co_return http::response(500, R"({"error": "internal"})", "application/json");
        });
        app_.get("/invalid-json", [](http::request&) -> corio::task<http::response> {
            co_return http::response(200, "<html>oops</html>", "text/html");
        });
        app_.get("/broken", [](http::request&) -> corio::task<http::response> {
            co_return http::response::stream(
                []() -> corio::async_generator<std::string> {
                    co_yield "0123456789";
                    throw std::runtime_error("the demo's /broken endpoint failed mid-body (on purpose)");
                }(),
                "application/json");
        });
        app_.get("/items", [](http::request& req) -> corio::task<http::response> {
            const int page = query_int(req, "page", 1);
            nlohmann::json items = nlohmann::json::array();
            for (int i = 1; page >= 1 && page <= 3 && i <= 4; ++i) items.push_back("item-" + std::to_string((page - 1) * 4 + i));
            co_return http::response::json({{"page", page}, {"items", items}});
        });
        app_.get("/flaky", [this](http::request& req) -> corio::task<http::response> { co_return flaky(req); });
        app_.get("/headers", [](http::request& req) -> corio::task<http::response> {
            nlohmann::json fields = nlohmann::json::object();
            for (const auto& [name, value] : req.headers()) {
                std::string lower = name;
                for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
                fields[lower] = value;
            }
            co_return http::response::json({{"headers", fields}});
        });
    }

    http::response flaky(const http::request& req) {
        const auto retry_after = req.query().get("retry_after");
        if (retry_after && !http::parse_retry_after(*retry_after, std::chrono::system_clock::now()))
            return http::response::json({{"error", "retry_after must be seconds or an HTTP-date"}}, 400);
        const std::string key(req.query().get("key").value_or(""));
        const int seen = ++flaky_requests_[key];
        if (seen > query_int(req, "fail", 1)) return http::response::json({{"key", key}, {"attempts", seen}});
        http::response refusal(query_int(req, "status", 503), R"({"error": "flaky"})", "application/json");
        if (retry_after) refusal.headers().add("Retry-After", std::string(*retry_after));
        return refusal;
    }

    http::server app_;
    std::map<std::string, int, std::less<>> flaky_requests_;  // /flaky's requests per key
};

/// Starts the demo service (see demo_service::start).
inline corio::task<std::unique_ptr<demo_service>> start_demo_service(std::uint16_t port = 0) {
    return demo_service::start(port);
}

}  // namespace corio_test_support
