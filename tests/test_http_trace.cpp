// session_options::trace: the events of real requests on loopback, in order — a new connection
// (DNS, connect), a reused one, a DNS cache hit, a wait for a pool slot, a redirect, a failure —
// and a hook that throws, logged and ignored.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>
#include <corio/http/trace.hpp>
#include <corio/testing.hpp>

#include "serve_app.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request_options;
using corio::http::server;
using corio::http::trace_event;
using corio::http::trace_kind;
using corio_test_support::base_url;
using corio_test_support::with_app;

namespace {

struct recorded {
    trace_kind kind;
    std::uint64_t request;
    std::string url;
    std::string detail;
    int status;
    std::uint64_t bytes;
    std::chrono::nanoseconds elapsed;
};

/// Session options whose trace records into `events`.
corio::http::session_options recording(std::vector<recorded>& events) {
    corio::http::session_options options;
    options.trace = [&events](const trace_event& e) {
        events.push_back({e.kind, e.request, std::string(e.url), std::string(e.detail), e.status, e.bytes, e.elapsed});
    };
    return options;
}

/// The kinds of request `n`'s events, in order.
std::vector<trace_kind> kinds_of(const std::vector<recorded>& events, std::uint64_t n) {
    std::vector<trace_kind> kinds;
    for (const recorded& e : events)
        if (e.request == n) kinds.push_back(e.kind);
    return kinds;
}

void add_routes(server& app) {
    app.get("/hello", [](corio::http::request&) -> corio::task<corio::http::response> {
        co_return corio::http::response::text(std::string(10'000, 'x'));
    });
    app.get("/last", [](corio::http::request&) -> corio::task<corio::http::response> {
        corio::http::response r = corio::http::response::text("bye");
        r.headers().add("Connection", "close");
        co_return r;
    });
    app.get("/slow", [](corio::http::request&) -> corio::task<corio::http::response> {
        co_await corio::sleep(30ms);
        co_return corio::http::response::text("slow");
    });
    app.get("/moved", [](corio::http::request&) -> corio::task<corio::http::response> {
        corio::http::response r(302);
        r.headers().add("Location", "/hello");
        co_return r;
    });
}

corio::task<> get_all(client_session& session, std::string url) {
    auto response = co_await session.get(std::move(url));
    co_await response.text();
}

using k = trace_kind;

}  // namespace

TEST(http_trace, a_new_connection_then_a_reused_one) {
    server app;
    add_routes(app);
    std::vector<recorded> events;
    corio::testing::run_test([&app, &events]() -> corio::task<> {
        auto served = co_await corio::testing::test_server::start(app);
        client_session session = served.client(recording(events));  // requests name paths only
        co_await get_all(session, "/hello");
        co_await get_all(session, "/hello");
        co_await session.aclose();
        co_await served.close();
    });
    const std::vector<trace_kind> first = kinds_of(events, 1);
    ASSERT_GE(first.size(), 10u);
    const std::vector<trace_kind> setup(first.begin(), first.begin() + 9);
    EXPECT_EQ(setup, (std::vector<trace_kind>{k::request_start, k::connection_create_start, k::dns_start, k::dns_end,
                                              k::connection_create_end, k::request_headers_sent, k::response_first_byte,
                                              k::request_end, k::response_chunk_received}));
    EXPECT_EQ(first.back(), k::response_end);
    std::uint64_t body = 0;
    for (const recorded& e : events) {
        if (e.request != 1) continue;
        if (e.kind == k::response_chunk_received) body += e.bytes;
        if (e.kind == k::request_start) {
            EXPECT_EQ(e.elapsed.count(), 0);  // the clock starts there, however slow the build
        } else if (e.kind == k::request_end) {
            EXPECT_EQ(e.status, 200);
        } else if (e.kind == k::response_end) {
            EXPECT_EQ(e.bytes, 10'000u);
        } else if (e.kind == k::dns_start) {
            EXPECT_EQ(e.detail, "127.0.0.1");
        }
        EXPECT_EQ(e.url, base_url(app) + "/hello");
    }
    EXPECT_EQ(body, 10'000u);
    for (std::size_t i = 1; i < events.size(); ++i)
        EXPECT_TRUE(events[i].request != events[i - 1].request || events[i].elapsed >= events[i - 1].elapsed) << i;
    const std::vector<trace_kind> second = kinds_of(events, 2);
    ASSERT_GE(second.size(), 3u);
    EXPECT_EQ(second[0], k::request_start);
    EXPECT_EQ(second[1], k::connection_reuse);
    EXPECT_EQ(second[2], k::request_headers_sent);
}

TEST(http_trace, a_second_connection_finds_the_address_cached) {
    server app;
    add_routes(app);
    std::vector<recorded> events;
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session(recording(events));
        co_await get_all(session, base_url(a) + "/last");  // Connection: close: not reused
        co_await get_all(session, base_url(a) + "/hello");
        co_await session.aclose();
    });
    const std::vector<trace_kind> second = kinds_of(events, 2);
    ASSERT_GE(second.size(), 4u);
    EXPECT_EQ(std::vector<trace_kind>(second.begin(), second.begin() + 4),
              (std::vector<trace_kind>{k::request_start, k::connection_create_start, k::dns_cache_hit, k::connection_create_end}));
}

TEST(http_trace, a_request_waiting_for_a_pool_slot_is_queued) {
    server app;
    add_routes(app);
    std::vector<recorded> events;
    with_app(app, [&](server& a) -> corio::task<> {
        corio::http::session_options options = recording(events);
        options.limit = 1;
        client_session session(std::move(options));
        co_await corio::gather(get_all(session, base_url(a) + "/slow"), get_all(session, base_url(a) + "/slow"));
        co_await session.aclose();
    });
    const std::vector<trace_kind> second = kinds_of(events, 2);
    ASSERT_GE(second.size(), 4u);
    EXPECT_EQ(std::vector<trace_kind>(second.begin(), second.begin() + 4),
              (std::vector<trace_kind>{k::request_start, k::connection_queued_start, k::connection_queued_end, k::connection_reuse}));
}

TEST(http_trace, a_redirect_and_a_failure_are_reported) {
    server app;
    add_routes(app);
    std::vector<recorded> events;
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session(recording(events));
        co_await get_all(session, base_url(a) + "/moved");
        co_await corio_test::expect_throws<corio::net::connect_error>(get_all(session, "http://127.0.0.1:1/"), "127.0.0.1:1");
        co_await session.aclose();
    });
    bool redirected = false;
    for (const recorded& e : events) {
        if (e.request != 1 || e.kind != k::request_redirect) continue;
        redirected = true;
        EXPECT_EQ(e.status, 302);
        EXPECT_EQ(e.detail, base_url(app) + "/hello");
        EXPECT_EQ(e.url, base_url(app) + "/moved");
    }
    EXPECT_TRUE(redirected);
    EXPECT_EQ(kinds_of(events, 1).back(), k::response_end);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, k::request_exception);
    EXPECT_EQ(events.back().request, 2u);
    EXPECT_NE(events.back().detail.find("127.0.0.1:1"), std::string::npos) << events.back().detail;
}

TEST(http_trace, a_hook_that_throws_is_logged_and_ignored) {
    server app;
    add_routes(app);
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&logged](std::string_view line) { logged.emplace_back(line); });
    with_app(app, [&](server& a) -> corio::task<> {
        corio::http::session_options options;
        options.trace = [](const trace_event& e) {
            if (e.kind == k::response_first_byte) throw std::runtime_error("hook bug");
        };
        client_session session(std::move(options));
        auto response = co_await session.get(base_url(a) + "/hello");
        const std::string body = co_await response.text();
        EXPECT_EQ(body.size(), 10'000u);
        co_await session.aclose();
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_NE(logged[0].find("the trace hook threw at response_first_byte (ignored): hook bug"), std::string::npos) << logged[0];
}
