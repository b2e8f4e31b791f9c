// demo_service: the embedded "remote API" of the examples and the tour, served on 127.0.0.1 by
// a loopback_server. Its endpoints show every way a real service behaves or fails:
//   /users                 200 {"users": [...]} after 40 ms
//   /orders                200 {"orders": 12} after 60 ms
//   /slow?ms=N             200 {"eventually": true} after N ms (default 5000)
//   /error                 500 {"error": "internal"} after 20 ms
//   /invalid-json          200 with a body that is not JSON
//   /broken                promises 1000 bytes, sends 10, then resets the connection
//   /items?page=N          {"page": N, "items": [...]}: 4 items on pages 1-3, none after
//   anything else          404 {"error": "not found"}
#pragma once

#include <corio/corio.hpp>
#include <corio/http/url.hpp>

#include <sys/socket.h>

#include <charconv>
#include <memory>
#include <string>

#include "loopback_server.hpp"

namespace corio_demo {

namespace detail {

inline int query_int(std::string_view target, std::string_view key, int fallback) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return fallback;
    const auto params = corio::http::query_params::parse(target.substr(q + 1));
    const auto value = params.get(key);
    int n = fallback;
    if (value) std::from_chars(value->data(), value->data() + value->size(), n);
    return n;
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

inline corio::task<> respond(received_request& request, corio::net::tcp_stream& out) {
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
    co_await reply(out, 404, R"({"error": "not found"})", json);
}

}  // namespace detail

/// Starts the demo service; stop it with aclose() (async_with does).
inline corio::task<std::unique_ptr<loopback_server>> start_demo_service() {
    return loopback_server::start(detail::respond);
}

}  // namespace corio_demo
