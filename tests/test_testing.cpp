// corio/testing.hpp, the fixtures for users: run_test's virtual time and deadlock guard,
// test_server and its client, and each fault of fault_proxy seen through http::client_session.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/testing.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::client_timeout;
using corio::http::request_options;
using corio::testing::fault;
using corio::testing::fault_proxy;
using corio::testing::run_test;
using corio::testing::test_server;
namespace http = corio::http;

namespace {

/// Wall time of `fn()`.
template <class F>
std::chrono::steady_clock::duration wall_time_of(F fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::steady_clock::now() - start;
}

corio::task<> wait_forever(corio::event& never_set) { co_await never_set.wait(); }

/// /hello answers "hello"; POST /echo answers its body; /big answers 100 000 bytes.
void add_routes(http::server& app) {
    app.get("/hello", [](http::request&) -> corio::task<http::response> { co_return http::response::text("hello"); });
    app.post("/echo", [](http::request& req) -> corio::task<http::response> { co_return http::response::text(req.body()); });
    app.get("/big", [](http::request&) -> corio::task<http::response> {
        co_return http::response::text(std::string(100'000, 'x'));
    });
}

/// A request with only a total limit of `total`.
request_options within(std::chrono::nanoseconds total) {
    client_timeout limits;
    limits.total = total;
    request_options options;
    options.timeout(limits);
    return options;
}

/// GETs `path` and returns the whole body.
corio::task<std::string> body_of(client_session& client, std::string path, request_options options = {}) {
    auto response = co_await client.get(std::move(path), std::move(options));
    co_return co_await response.text();
}

/// Serves a fresh app with the routes and a proxy in front of it while `body(server, proxy,
/// client)` runs (the client goes through the proxy); closes all three after.
template <class Body>
void with_proxy(Body body) {
    http::server app;
    add_routes(app);
    run_test([&app, &body]() -> corio::task<> {
        auto server = co_await test_server::start(app);
        auto proxy = co_await fault_proxy::start(server.endpoint());
        http::session_options options;
        options.base_url = proxy.url("/");
        client_session client(std::move(options));
        co_await body(server, proxy, client);
        co_await client.aclose();
        co_await proxy.aclose();
        co_await server.aclose();
    });
}

}  // namespace

TEST(run_test, runs_in_virtual_time_and_returns_the_value) {
    int answer = 0;
    const auto took = wall_time_of([&answer] {
        answer = run_test([]() -> corio::task<int> {
            const auto start = corio::clock::now();
            co_await corio::sleep(1h);
            EXPECT_EQ(corio::clock::now() - start, 1h);
            co_return 42;
        });
    });
    EXPECT_EQ(answer, 42);
    EXPECT_LT(took, 1s);
}

TEST(run_test, takes_a_task_as_well_as_a_callable) {
    EXPECT_EQ(run_test(corio_test::value_after(10min, 7)), 7);
}

TEST(run_test, a_deadlock_throws_at_once_naming_the_limit_and_the_stuck_tasks) {
    bool cleaned_up = false;
    std::string message;
    const auto took = wall_time_of([&] {
        try {
            run_test([&cleaned_up]() -> corio::task<> {
                corio::event never_set;
                auto waiter = corio::spawn(wait_forever(never_set), "the-stuck-waiter");
                struct cleanup {
                    bool& done;
                    ~cleanup() { done = true; }
                } guard{cleaned_up};
                co_await waiter;
            });
        } catch (const corio::testing::deadlock_error& e) {
            message = e.what();
        }
    });
    EXPECT_LT(took, 2s);
    EXPECT_TRUE(cleaned_up);  // the body was cancelled and unwound before the error came out
    EXPECT_NE(message.find("did not finish within 720h of virtual time"), std::string::npos) << message;
    EXPECT_NE(message.find("the-stuck-waiter"), std::string::npos) << message;
}

TEST(run_test, deadlock_after_sets_the_limit_and_is_a_timeout_error) {
    corio::testing::run_test_options options;
    options.deadlock_after = 5s;
    EXPECT_THROW(run_test(corio::sleep(6s), options), corio::timeout_error);
    EXPECT_NO_THROW(run_test(corio::sleep(4s), options));
}

TEST(run_test, the_bodys_own_timeout_is_not_a_deadlock) {
    try {
        run_test(corio::wait_for(corio::sleep(1h), 1s));
        ADD_FAILURE() << "no timeout";
    } catch (const corio::testing::deadlock_error& e) {
        ADD_FAILURE() << "reported as a deadlock: " << e.what();
    } catch (const corio::timeout_error& e) {
        EXPECT_NE(std::string(e.what()).find("timed out after 1s"), std::string::npos) << e.what();
    }
}

TEST(test_server, client_get_and_post_round_trip) {
    http::server app;
    add_routes(app);
    run_test([&app]() -> corio::task<> {
        auto server = co_await test_server::start(app);
        CO_ASSERT_TRUE(server.port() != 0);
        CO_ASSERT_EQ(server.url("/hello"), "http://127.0.0.1:" + std::to_string(server.port()) + "/hello");
        auto client = server.client();
        const std::string hello = co_await body_of(client, "/hello");
        EXPECT_EQ(hello, "hello");
        request_options echo;
        echo.body("ping", "text/plain");
        auto response = co_await client.post("/echo", std::move(echo));
        EXPECT_EQ(response.status(), 200);
        const std::string echoed = co_await response.text();
        EXPECT_EQ(echoed, "ping");
        co_await client.aclose();
        co_await server.close();
        co_await server.close();  // idempotent
        // Closed: nothing listens there any more.
        co_await corio_test::expect_throws<corio::net::connect_error>(corio::net::tcp_stream::connect(server.endpoint()));
    });
}

TEST(test_server, listens_when_start_returns_and_closes_through_async_with) {
    http::server app;
    add_routes(app);
    run_test([&app]() -> corio::task<> {
        auto with_server = [](test_server& server) -> corio::task<> {
            // Connecting needs no wait and no retry: start() returned once the socket listened.
            auto connection = co_await corio::net::tcp_stream::connect(server.endpoint());
            co_await connection.aclose();
        };
        co_await corio::async_with(test_server::start(app), std::move(with_server));
    });
    EXPECT_EQ(app.requests_served(), 0u);
}

TEST(fault_proxy, forwards_faithfully_without_a_fault) {
    with_proxy([](test_server&, fault_proxy& proxy, client_session& client) -> corio::task<> {
        const std::string big = co_await body_of(client, "/big");
        EXPECT_EQ(big.size(), 100'000u);
        request_options echo;
        echo.body(std::string(50'000, 'y'), "text/plain");
        auto response = co_await client.post("/echo", std::move(echo));
        const std::string echoed = co_await response.text();
        EXPECT_EQ(echoed, std::string(50'000, 'y'));
        EXPECT_EQ(proxy.connections_accepted(), 1u);  // the session kept its connection alive
    });
}

TEST(fault_proxy, delay_makes_a_short_timeout_fire_and_a_longer_one_wait) {
    with_proxy([](test_server&, fault_proxy& proxy, client_session& client) -> corio::task<> {
        proxy.set_fault(fault::delay(150ms, corio::testing::direction::to_client));
        co_await corio_test::expect_throws<corio::timeout_error>(body_of(client, "/hello", within(50ms)), "50ms");
        const auto start = std::chrono::steady_clock::now();
        const std::string hello = co_await body_of(client, "/hello", within(5s));
        EXPECT_EQ(hello, "hello");
        EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    });
}

TEST(fault_proxy, drop_is_a_black_hole_the_clients_timeout_ends) {
    with_proxy([](test_server& server, fault_proxy& proxy, client_session& client) -> corio::task<> {
        proxy.set_fault(fault::drop());
        co_await corio_test::expect_throws<corio::timeout_error>(body_of(client, "/hello", within(100ms)));
        EXPECT_EQ(proxy.connections_accepted(), 1u);
        EXPECT_EQ(server.app().requests_served(), 0u);  // nothing reached the upstream
    });
}

TEST(fault_proxy, reset_at_once_or_after_some_bytes) {
    with_proxy([](test_server&, fault_proxy& proxy, client_session& client) -> corio::task<> {
        proxy.set_fault(fault::reset());
        co_await corio_test::expect_throws<corio::net::connection_reset_error>(body_of(client, "/hello", within(5s)));
        proxy.set_fault(fault::reset(1000));  // within /big's body
        co_await corio_test::expect_throws<corio::net::connection_reset_error>(body_of(client, "/big", within(5s)));
        EXPECT_EQ(proxy.connections_accepted(), 2u);
    });
}

TEST(fault_proxy, truncate_cuts_the_answer_short) {
    with_proxy([](test_server&, fault_proxy& proxy, client_session& client) -> corio::task<> {
        proxy.set_fault(fault::truncate(1000));
        co_await corio_test::expect_throws<http::protocol_error>(body_of(client, "/big", within(5s)));
    });
}

TEST(fault_proxy, a_fault_for_the_next_connections_only) {
    with_proxy([](test_server&, fault_proxy& proxy, client_session& client) -> corio::task<> {
        proxy.set_fault(fault::reset(), 1);
        co_await corio_test::expect_throws<corio::net::connection_reset_error>(body_of(client, "/hello", within(5s)));
        const std::string hello = co_await body_of(client, "/hello", within(5s));  // the next one goes through
        EXPECT_EQ(hello, "hello");
        EXPECT_EQ(proxy.connections_accepted(), 2u);
    });
}

TEST(fault_proxy, an_unreachable_upstream_resets_the_client) {
    run_test([]() -> corio::task<> {
        // A port nobody listens on: bind one, note it, close it.
        auto unused = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const auto nowhere = unused.local_endpoint();
        unused.close();
        auto proxy = co_await fault_proxy::start(nowhere);
        client_session client;
        co_await corio_test::expect_throws<corio::net::connection_reset_error>(body_of(client, proxy.url("/x"), within(5s)));
        co_await client.aclose();
        co_await proxy.aclose();
    });
}

TEST(fault_proxy, close_ends_open_connections_and_leaks_no_descriptor) {
    const std::size_t fds_before = corio_test::open_fd_count();
    run_test([]() -> corio::task<> {
        auto proxy = co_await fault_proxy::start(corio::net::endpoint::parse("127.0.0.1", 9));
        proxy.set_fault(fault::drop());
        auto connection = co_await corio::net::tcp_stream::connect(proxy.endpoint());
        co_await connection.write_all("hello?");
        co_await corio::sleep(20ms);
        co_await proxy.close();
        std::array<char, 16> buffer;
        const std::size_t n = co_await connection.read_some(buffer);  // the proxy's side is gone
        EXPECT_EQ(n, 0u);
    });
    EXPECT_EQ(corio_test::open_fd_count(), fds_before);
}

TEST(fault_proxy, destroyed_unclosed_it_closes_in_the_background) {
    const std::size_t fds_before = corio_test::open_fd_count();
    run_test([]() -> corio::task<> {
        {
            auto proxy = co_await fault_proxy::start(corio::net::endpoint::parse("127.0.0.1", 9));
            proxy.set_fault(fault::drop());
            auto connection = co_await corio::net::tcp_stream::connect(proxy.endpoint());
            co_await corio::sleep(20ms);
        }
        co_await corio::sleep(20ms);
    });
    EXPECT_EQ(corio_test::open_fd_count(), fds_before);
}
