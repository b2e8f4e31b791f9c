// corio/testing/test_server.hpp — test_server: an http::server serving on a free loopback port
// for the length of a test, and clients bound to it (aiohttp's aiohttp_server and
// aiohttp_client fixtures).
//
// snippet: examples/testing.cpp#test_server
//   http::server app;
//   app.get("/hello/{name}", hello);
//   corio::testing::run_test([&app]() -> corio::task<> {
//       auto server = co_await corio::testing::test_server::start(app);  // listening from here
//       auto client = server.client();  // base_url: the server's "http://127.0.0.1:PORT/"
//       auto response = co_await client.get("/hello/ada");
//       const std::string body = co_await response.text();
//       check(response.status() == 200 && body == "hello ada", "GET /hello/ada");
//       co_await client.aclose();
//       co_await server.aclose();
//   });
//
// start(app) serves `app` on 127.0.0.1, port 0 (a free port the kernel picks, so tests run in
// parallel), in the background on the current loop, and returns once the socket listens: a
// connect made after it returns is accepted, with no sleep or retry. url(path), port() and
// endpoint() say where; client(options) makes an http::client_session whose base_url is the
// server's, so requests name paths only. close() (aclose(), for corio::async_with) stops the
// server gracefully: requests in flight get options.close_grace to finish, then the serving is
// cancelled, and it returns when the server has shut down; it is idempotent. A test_server
// destroyed unclosed (a test body that failed half-way) asks the server to stop without waiting;
// the loop's end (run_test's return) finishes the shutdown.
//
// Lifetime: `app` must outlive the serving (declare it outside run_test, or close the
// test_server before it goes). An http::server serves once: once stopped, a new start() of it
// stops at once, so give each test its own app (a function adding the routes to it).
// Throws: start: connection_error if it cannot listen, std::logic_error if `app` already serves
// in the background. close: nothing (the server's own shutdown does not fail).
// Cancel safety: cancelling close() cancels the serving, which then shuts down gracefully
// (http::server::wait_closed). Thread-safety: the loop that started it. Move-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "corio/http/client_session.hpp"
#include "corio/http/server.hpp"
#include "corio/net/endpoint.hpp"
#include "corio/task.hpp"

namespace corio::testing {

struct test_server_options {
    /// How long requests in flight may take to finish when the server is closed.
    std::chrono::nanoseconds close_grace = std::chrono::seconds(1);
};

class test_server {
public:
    /// Serves `app` on 127.0.0.1, port 0, and returns once it listens (see the header comment).
    static task<test_server> start(http::server& app, test_server_options options = {});

    test_server(test_server&& other) noexcept;
    test_server& operator=(test_server&& other) noexcept;
    ~test_server();  ///< unclosed: asks the server to stop (without waiting)

    /// Where it listens: 127.0.0.1 and the port picked.
    const net::endpoint& endpoint() const noexcept { return endpoint_; }
    std::uint16_t port() const noexcept { return endpoint_.port(); }
    /// "http://127.0.0.1:PORT" + `path` (which should begin with '/').
    std::string url(std::string_view path = "/") const;
    /// A session for this server: `options` with base_url set to url("/") (any base_url given
    /// is replaced), so client.get("/items") requests this server. Close it before the test ends.
    http::client_session client(http::session_options options = {}) const;
    /// The application served.
    http::server& app() const noexcept { return *app_; }

    /// Stops serving gracefully (within options.close_grace) and waits for the shutdown.
    task<> close();
    /// close(), for corio::async_with.
    task<> aclose() { return close(); }

private:
    test_server(http::server& app, net::endpoint where, test_server_options options) noexcept
        : app_(&app), endpoint_(where), options_(options) {}

    http::server* app_;  // null once closed or moved from
    net::endpoint endpoint_;
    test_server_options options_;
};

}  // namespace corio::testing
