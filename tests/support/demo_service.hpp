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
// Given a PostgreSQL database (start(port, url)), it also serves, through a pg::pool of 4:
//   /db/users?team=T       200 {"users": [{"id", "name", "team"}...]} from table demo_users
//                          (created and filled if missing), of team T if given
//   /db/sleep?ms=N         runs `select pg_sleep(N / 1000)` within 500 ms: past that, the query
//                          is cancelled on the server and the answer is 504 {"error": ...}
// Handlers get 10 s (handler_timeout): /slow?ms=20000 is answered 503 by the server itself.
#pragma once

#include <corio/corio.hpp>
#include <corio/http/retry_after.hpp>
#include <corio/http/server.hpp>
#include <corio/pg.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace corio_test_support {

namespace http = corio::http;

class demo_service {
public:
    /// Starts serving on 127.0.0.1:`port` (0: any free port) on the current loop, with the
    /// /db routes if `database_url` is given; stop it with aclose() (async_with does). Throws
    /// connection_error if the port cannot be bound or the database cannot be reached.
    static corio::task<std::unique_ptr<demo_service>> start(std::uint16_t port = 0, std::string database_url = {}) {
        auto service = std::unique_ptr<demo_service>(new demo_service());
        if (!database_url.empty()) co_await service->open_database(std::move(database_url));
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
        if (db_) co_await db_->aclose();
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

    corio::task<> open_database(std::string url) {
        auto opened = co_await corio::pg::pool::open(std::move(url), {.min_size = 1, .max_size = 4, .acquire_timeout = std::chrono::seconds(2)});
        db_ = std::make_unique<corio::pg::pool>(std::move(opened));
        co_await db_->execute("create table if not exists demo_users (id int primary key, name text not null, team text not null)");
        co_await db_->execute("insert into demo_users values (1, 'ada', 'ops'), (2, 'grace', 'dev'), (3, 'linus', 'dev') on conflict do nothing");
        app_.get("/db/users", [this](http::request& req) -> corio::task<http::response> { co_return co_await users_from_database(req); });
        app_.get("/db/sleep", [this](http::request& req) -> corio::task<http::response> { co_return co_await sleep_in_database(req); });
    }

    corio::task<http::response> users_from_database(const http::request& req) {
        std::optional<std::string> team;
        if (const auto given = req.query().get("team")) team = std::string(*given);
        const auto rows = co_await db_->query("select id, name, team from demo_users where $1::text is null or team = $1 order by id", team);
        nlohmann::json users = nlohmann::json::array();
        for (const auto& row : rows)
            users.push_back({{"id", row.get<int>("id")}, {"name", row.get<std::string>("name")}, {"team", row.get<std::string>("team")}});
        co_return http::response::json({{"users", users}});
    }

    corio::task<http::response> sleep_in_database(const http::request& req) {
        const int ms = query_int(req, "ms", 1000);
        auto sleep = [this, ms]() -> corio::task<> { co_await db_->execute("select pg_sleep($1::float8 / 1000)", ms); };
        std::string cut;
        try {
            co_await corio::fail_after(std::chrono::milliseconds(500), std::move(sleep));
        } catch (const corio::timeout_error& e) {
            cut = e.what();
        }
        if (!cut.empty()) co_return http::response::json({{"error", "the query was cancelled on the server: " + cut}}, 504);
        co_return http::response::json({{"slept_ms", ms}});
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
    std::unique_ptr<corio::pg::pool> db_;  // null without a database
    std::map<std::string, int, std::less<>> flaky_requests_;  // /flaky's requests per key
};

/// Starts the demo service (see demo_service::start).
inline corio::task<std::unique_ptr<demo_service>> start_demo_service(std::uint16_t port = 0, std::string database_url = {}) {
    return demo_service::start(port, std::move(database_url));
}

}  // namespace corio_test_support
