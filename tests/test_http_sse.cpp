// response::sse: the text/event-stream format, heartbeats while the events wait, a client that
// leaves, and fields that would break the format — against corio's client, curl and raw sockets.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>

#include "serve_app.hpp"

#include <string>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request;
using corio::http::response;
using corio::http::server;
using corio::http::sse_event;
using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;

namespace {

corio::async_generator<sse_event> three_events() {
    co_yield sse_event("hello");
    co_yield sse_event("line one\nline two\r\nline three").type("update").id("7");
    co_yield sse_event().retry(2500ms);
}

corio::async_generator<sse_event> slow_events(std::chrono::milliseconds gap) {
    co_yield sse_event("first");
    co_await corio::sleep(gap);
    co_yield sse_event("second");
}

/// Sets `*destroyed` when the generator's frame goes (the events' RAII cleanup ran).
struct mark_on_destroy {
    bool* destroyed;
    ~mark_on_destroy() { *destroyed = true; }
};

corio::async_generator<sse_event> endless(bool* destroyed) {
    const mark_on_destroy mark{destroyed};
    for (int i = 0;; ++i) {
        co_yield sse_event(std::to_string(i));
        co_await corio::sleep(1h);
    }
}

corio::async_generator<sse_event> injecting() {
    co_yield sse_event("ok");
    co_yield sse_event("x").type("update\ndata: forged");  // throws here, in the producer
}

std::size_t count(const std::string& text, std::string_view part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

}  // namespace

TEST(http_sse, events_are_framed_as_text_event_stream) {
    server app;
    app.get("/events", [](request&) -> corio::task<response> { co_return response::sse(three_events()); });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/events");
        EXPECT_EQ(r.headers().get("Content-Type").value_or(""), "text/event-stream; charset=utf-8");
        EXPECT_EQ(r.headers().get("Cache-Control").value_or(""), "no-cache");
        EXPECT_EQ(co_await r.text(),
                  "data: hello\n\n"
                  "event: update\nid: 7\ndata: line one\ndata: line two\ndata: line three\n\n"
                  "retry: 2500\ndata: \n\n");
        co_await session.aclose();
    });
}

TEST(http_sse, heartbeats_fill_the_silence_between_events) {
    server app;
    app.get("/events", [](request&) -> corio::task<response> {
        co_return response::sse(slow_events(400ms), {.heartbeat = 50ms});
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/events");
        const std::string text = co_await r.text();
        EXPECT_TRUE(text.starts_with("data: first\n\n")) << text;
        EXPECT_TRUE(text.ends_with("data: second\n\n")) << text;
        EXPECT_GE(count(text, ": keep-alive\n\n"), 4u) << text;  // about 8 in 400 ms
        co_await session.aclose();
    });
}

TEST(http_sse, a_client_that_leaves_ends_the_events_and_the_server_goes_on) {
    server app;
    bool destroyed = false;
    app.get("/events", [&destroyed](request&) -> corio::task<response> {
        co_return response::sse(endless(&destroyed), {.heartbeat = 20ms});
    });
    app.get("/hello", [](request&) -> corio::task<response> { co_return response::text("hello\n"); });
    with_app(app, [&destroyed](server& app) -> corio::task<> {
        {
            auto stream = co_await corio::net::tcp_stream::connect(*app.local_endpoint());
            co_await stream.write_all("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
            std::array<char, 4096> buffer;
            std::string got;
            while (got.find("data: 0\n\n") == std::string::npos) got.append(buffer.data(), co_await stream.read_some(buffer));
            stream.abort();  // gone without a word
        }
        for (int i = 0; i < 100 && !destroyed; ++i) co_await corio::sleep(10ms);
        EXPECT_TRUE(destroyed);  // a heartbeat write failed: the stream, then the generator, ended
        client_session session;
        auto r = co_await session.get(base_url(app) + "/hello");
        EXPECT_EQ(co_await r.text(), "hello\n");
        co_await session.aclose();
    });
}

TEST(http_sse, an_event_type_or_id_that_would_end_the_event_is_refused) {
    EXPECT_THROW(sse_event("x").type("a\nb"), std::invalid_argument);
    EXPECT_THROW(sse_event("x").id("7\r"), std::invalid_argument);
    EXPECT_THROW(sse_event("x").id(std::string("7\0", 2)), std::invalid_argument);
    EXPECT_NO_THROW(sse_event("data may\nhold lines"));
}

TEST(http_sse, a_field_that_would_forge_an_event_cuts_the_stream_and_is_logged) {
    server app;
    app.get("/events", [](request&) -> corio::task<response> { co_return response::sse(injecting()); });
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/events");
        EXPECT_THROW(co_await r.text(), corio::error);  // reset before the end: never a whole-looking body
        co_await session.aclose();
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_NE(logged[0].find("type holds a CR, LF or NUL"), std::string::npos) << logged[0];
}

TEST(http_sse, curl_reads_the_stream_as_it_comes) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    app.get("/events", [](request&) -> corio::task<response> { co_return response::sse(three_events()); });
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command = "curl -s -N " + base_url(app) + "/events";
        auto run_curl = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_curl);
        EXPECT_EQ(count(out, "\n\n"), 3u) << out;
        EXPECT_NE(out.find("event: update\nid: 7\n"), std::string::npos) << out;
    });
}
