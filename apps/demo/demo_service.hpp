// demo_service: the embedded "remote API" of the examples and the tour, served on 127.0.0.1 by
// a loopback_server. Its endpoints show every way a real service behaves or fails:
//   /users                 200 {"users": [...]} after 40 ms
//   /orders                200 {"orders": 12} after 60 ms
//   /slow?ms=N             200 {"eventually": true} after N ms (default 5000)
//   /error                 500 {"error": "internal"} after 20 ms
//   /invalid-json          200 with a body that is not JSON
//   /broken                promises 1000 bytes, sends 10, then resets the connection
//   /items?page=N          {"page": N, "items": [...]}: 4 items on pages 1-3, none after
//   /flaky?key=K&fail=N&status=S&retry_after=R
//                          the first N requests (default 1) with key K (default "") answer S
//                          (default 503) {"error": "flaky"}, with "Retry-After: R" if R is given
//                          (sent verbatim: seconds or an HTTP-date); later ones 200
//                          {"key": K, "attempts": <requests so far>}. Counts are per service.
//   /headers               200 {"headers": {name: value, ...}}: the request's headers (names
//                          lower-cased; of repeated ones, the last)
//   anything else          404 {"error": "not found"}
#pragma once

#include <corio/corio.hpp>
#include <corio/http/url.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "loopback_server.hpp"

namespace corio_demo {

namespace detail {

inline std::optional<std::string> query_string(std::string_view target, std::string_view key) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    const auto params = corio::http::query_params::parse(target.substr(q + 1));
    const auto value = params.get(key);  // a view into params
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

inline int query_int(std::string_view target, std::string_view key, int fallback) {
    const auto value = query_string(target, key);
    int n = fallback;
    if (value) std::from_chars(value->data(), value->data() + value->size(), n);
    return n;
}

/// What the service remembers between requests: /flaky's request count per key.
struct service_state {
    std::map<std::string, int, std::less<>> flaky_requests;
};

inline corio::task<> flaky(service_state& state, std::string_view target, corio::net::tcp_stream& out) {
    const std::string key = query_string(target, "key").value_or("");
    const int seen = ++state.flaky_requests[key];
    if (seen > query_int(target, "fail", 1)) {
        const auto body = R"({"key": )" + nlohmann::json(key).dump() + R"(, "attempts": )" + std::to_string(seen) + "}";
        co_return co_await reply(out, 200, body, "Content-Type: application/json\r\n");
    }
    std::string headers = "Content-Type: application/json\r\n";
    if (const auto retry_after = query_string(target, "retry_after")) headers += "Retry-After: " + *retry_after + "\r\n";
    co_await reply(out, query_int(target, "status", 503), R"({"error": "flaky"})", headers);
}

inline corio::task<> reset_mid_body(corio::net::tcp_stream& out) {
    co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    const linger abort_on_close{1, 0};
    ::setsockopt(out.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    out.close();
}

inline std::string items_page(int page) {
    std::string items;
    for (int i = 1; page >= 1 && page <= 3 && i <= 4; ++i)
        items += (i > 1 ? ", " : "") + std::string("\"item-") + std::to_string((page - 1) * 4 + i) + "\"";
    return R"({"page": )" + std::to_string(page) + R"(, "items": [)" + items + "]}";
}

inline std::string headers_json(const corio::http::headers& headers) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [name, value] : headers) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        fields[lower] = value;
    }
    return nlohmann::json{{"headers", fields}}.dump();
}

inline corio::task<> respond(std::shared_ptr<service_state> state, received_request& request,
                             corio::net::tcp_stream& out) {
    constexpr std::string_view json = "Content-Type: application/json\r\n";
    const std::string_view target = request.target;
    const std::string_view path = target.substr(0, target.find('?'));
    using std::chrono::milliseconds;
    if (path == "/users") {
        co_await corio::sleep(milliseconds(40));
        co_return co_await reply(out, 200, R"({"users": ["ada", "grace", "linus"]})", json);
    }
    if (path == "/orders") {
        co_await corio::sleep(milliseconds(60));
        co_return co_await reply(out, 200, R"({"orders": 12})", json);
    }
    if (path == "/slow") {
        co_await corio::sleep(milliseconds(query_int(target, "ms", 5000)));
        co_return co_await reply(out, 200, R"({"eventually": true})", json);
    }
    if (path == "/error") {
        co_await corio::sleep(milliseconds(20));
        co_return co_await reply(out, 500, R"({"error": "internal"})", json);
    }
    if (path == "/invalid-json") co_return co_await reply(out, 200, "<html>oops</html>", "Content-Type: text/html\r\n");
    if (path == "/broken") co_return co_await reset_mid_body(out);
    if (path == "/items") co_return co_await reply(out, 200, items_page(query_int(target, "page", 1)), json);
    if (path == "/flaky") co_return co_await flaky(*state, target, out);
    if (path == "/headers") co_return co_await reply(out, 200, headers_json(request.headers), json);
    co_await reply(out, 404, R"({"error": "not found"})", json);
}

}  // namespace detail

/// Starts the demo service on 127.0.0.1:`port` (0: any free port); stop it with aclose()
/// (async_with does).
inline corio::task<std::unique_ptr<loopback_server>> start_demo_service(std::uint16_t port = 0) {
    auto state = std::make_shared<detail::service_state>();
    return loopback_server::start(
        [state](received_request& request, corio::net::tcp_stream& out) { return detail::respond(state, request, out); },
        port);
}

}  // namespace corio_demo
