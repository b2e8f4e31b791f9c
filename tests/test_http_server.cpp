// http::server against real clients on loopback: corio's own client, curl, and raw sockets
// for pipelining, slowloris and malformed requests.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>
#include <corio/run_threads.hpp>

#include "demo_service.hpp"
#include "raw_exchange.hpp"
#include "serve_app.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request;
using corio::http::response;
using corio::http::server;
using corio::net::tcp_stream;

using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;

namespace {

/// Sends raw bytes to `app` and reads until it closes (see raw_exchange.hpp).
corio::task<std::string> raw_exchange(const server& app, std::string bytes, std::chrono::milliseconds limit = 2s) {
    return corio_test_support::raw_exchange(*app.local_endpoint(), std::move(bytes), limit);
}

/// GET `url`, read its body, return its status.
corio::task<int> get_status(client_session& session, std::string url) {
    auto r = co_await session.get(std::move(url));
    co_await r.text();
    co_return r.status();
}

std::size_t count(const std::string& text, std::string_view part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

void add_item_routes(server& app) {
    app.get("/items/{id}", [](request& req) -> corio::task<response> {
        co_return response::json({{"id", std::string(req.param("id"))}, {"q", std::string(req.query().get("q").value_or(""))}});
    });
    app.post("/echo", [](request& req) -> corio::task<response> { co_return response::json(req.json()); });
}

TEST(http_server, routes_parameters_404_405_and_head) {
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto item = co_await session.get(base_url(app) + "/items/42?q=x%20y");
        EXPECT_EQ(item.status(), 200);
        EXPECT_EQ(item.headers().get("Content-Type"), "application/json");
        EXPECT_TRUE(item.headers().contains("Date"));
        EXPECT_EQ(item.headers().get("Server"), std::string_view("corio/" CORIO_VERSION_STRING));
        EXPECT_EQ((co_await item.json()).dump(), R"({"id":"42","q":"x y"})");
        auto missing = co_await session.get(base_url(app) + "/nope");
        EXPECT_EQ(missing.status(), 404);
        co_await missing.text();
        auto wrong = co_await session.put(base_url(app) + "/items/1");
        EXPECT_EQ(wrong.status(), 405);
        EXPECT_EQ(wrong.headers().get("Allow"), "GET");
        co_await wrong.text();
        auto head = co_await session.head(base_url(app) + "/items/7");
        EXPECT_EQ(head.status(), 200);
        EXPECT_EQ(head.content_length(), 17u);  // {"id":"7","q":""}
        EXPECT_EQ(session.open_connections(), 1u);  // all on one keep-alive connection
    });
}

TEST(http_server, json_bodies_and_bad_json) {
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        const nlohmann::json document = {{"a", 1}};
        auto echo = co_await session.post(base_url(app) + "/echo", corio::http::request_options().json(document));
        EXPECT_EQ(co_await echo.json(), document);
        auto bad = co_await session.post(base_url(app) + "/echo", corio::http::request_options().body("{oops"));
        EXPECT_EQ(bad.status(), 400);
    });
}

TEST(http_server, a_throwing_handler_is_a_500_with_a_logged_request_id) {
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    server app;
    app.get("/boom", [](request&) -> corio::task<response> {
        throw std::runtime_error("secret database password in this message");
        co_return response::text("unreachable");
    });
    with_app(app, [&](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/boom");
        EXPECT_EQ(r.status(), 500);
        const std::string body = co_await r.text();
        EXPECT_EQ(body.find("secret"), std::string::npos);
        const auto id = std::string(r.headers().get("X-Request-Id").value_or("?"));
        EXPECT_EQ(logged.size(), 1u);
        if (!logged.empty()) {
            EXPECT_NE(logged[0].find("[request_id=" + id + "]"), std::string::npos) << logged[0];
            EXPECT_NE(logged[0].find("secret database password"), std::string::npos);
        }
    });
    corio::set_error_logger(previous);
}

TEST(http_server, a_slow_handler_is_cancelled_and_answered_503) {
    bool cancelled = false;
    server app({.handler_timeout = 50ms});
    app.get("/slow", [&](request&) -> corio::task<response> {
        try {
            co_await corio::sleep(10s);
        } catch (const corio::cancelled_error&) {
            cancelled = true;
            throw;
        }
        co_return response::text("late");
    });
    with_app(app, [&](server& app) -> corio::task<> {
        client_session session;
        EXPECT_EQ((co_await session.get(base_url(app) + "/slow")).status(), 503);
        EXPECT_TRUE(cancelled);
    });
}

TEST(http_server, malformed_and_oversized_requests_get_4xx_and_a_close) {
    server app(corio::http::server_options{.limits = {.max_header_bytes = 1024, .max_body_size = 10}});
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        auto bad = co_await raw_exchange(app, "GET /items/1 HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n");
        EXPECT_EQ(bad.rfind("HTTP/1.1 400 ", 0), 0u) << bad;
        EXPECT_NE(bad.find("Connection: close"), std::string::npos);
        auto big_head = co_await raw_exchange(app, "GET /items/1 HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n");
        EXPECT_EQ(big_head.rfind("HTTP/1.1 431 ", 0), 0u) << big_head;
        auto big_body = co_await raw_exchange(app, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
        EXPECT_EQ(big_body.rfind("HTTP/1.1 413 ", 0), 0u) << big_body;
        client_session session;  // the server still serves
        EXPECT_EQ((co_await session.get(base_url(app) + "/items/1")).status(), 200);
    });
}

/// Collects what corio::log_error reports while it lives.
class captured_log {
public:
    captured_log() : previous_(corio::set_error_logger([this](std::string_view m) { lines.emplace_back(m); })) {}
    ~captured_log() { corio::set_error_logger(std::move(previous_)); }
    std::vector<std::string> lines;

private:
    corio::error_logger previous_;
};

TEST(http_server, invalid_escapes_are_a_400_not_a_dropped_connection) {
    captured_log log;
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        for (const char* target : {"/items/1%zz", "/items/1%", "/items/1?a=%zz", "/items/1?a=%G0", "/items/%00"}) {
            const auto reply = co_await raw_exchange(app, "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n"
                                                          "GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n");
            EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << target << ":\n" << reply;
            EXPECT_EQ(count(reply, "HTTP/1.1 "), 1u) << "the pipelined request after a refusal is not served";
        }
        const auto post = co_await raw_exchange(app, "POST /echo%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        EXPECT_EQ(post.rfind("HTTP/1.1 400 ", 0), 0u) << post;
        client_session session;  // the server still serves
        auto item = co_await session.get(base_url(app) + "/items/a%2Fb");
        EXPECT_EQ((co_await item.json())["id"], "a/b");  // decoded per segment: one segment
    });
    EXPECT_TRUE(log.lines.empty()) << log.lines.front();  // refusals are not errors: no log flood
}

TEST(http_server, a_header_that_would_split_the_response_is_a_logged_500) {
    captured_log log;
    server app;
    app.get("/reflect", [](request& req) -> corio::task<response> {
        response r = response::text("ok");
        r.headers().add("X-Echo", std::string(req.query().get("v").value_or("")));
        co_return r;
    });
    app.get("/bad-name", [](request&) -> corio::task<response> {
        response r = response::text("ok");
        r.headers().add("X Evil", "1");
        co_return r;
    });
    app.get("/framing", [](request&) -> corio::task<response> {
        response r = response::text("ok");
        r.headers().add("Content-Length", "0");
        co_return r;
    });
    app.get("/status", [](request&) -> corio::task<response> { co_return response::text("ok", 42); });
    app.get("/close", [](request&) -> corio::task<response> {
        response r = response::text("bye");
        r.headers().add("Connection", "close");
        co_return r;
    });
    with_app(app, [](server& app) -> corio::task<> {
        // %0D%0A decodes to CR LF: reflected verbatim it would forge a header and a second response.
        const auto split = co_await raw_exchange(
            app, "GET /reflect?v=1%0D%0ASet-Cookie:%20session=evil%0D%0A%0D%0AHTTP/1.1%20200%20OK HTTP/1.1\r\n"
                 "Host: x\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(split.rfind("HTTP/1.1 500 ", 0), 0u) << split;
        EXPECT_EQ(split.find("Set-Cookie"), std::string::npos) << split;
        EXPECT_EQ(count(split, "HTTP/1.1 "), 1u) << split;
        for (const char* path : {"/reflect?v=a%00b", "/bad-name", "/framing", "/status"}) {
            const auto reply = co_await raw_exchange(app, "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            EXPECT_EQ(reply.rfind("HTTP/1.1 500 ", 0), 0u) << path << ":\n" << reply;
        }
        const auto fine = co_await raw_exchange(app, "GET /reflect?v=plain%20text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_NE(fine.find("X-Echo: plain text\r\n"), std::string::npos) << fine;
        // A handler's Connection: close is honoured (the pipelined request is not served).
        const auto closing = co_await raw_exchange(app, "GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET /close HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(count(closing, "HTTP/1.1 200"), 1u) << closing;
        EXPECT_EQ(count(closing, "Connection: close"), 1u) << closing;
    });
    ASSERT_EQ(log.lines.size(), 5u);
    EXPECT_NE(log.lines[0].find("its header 'X-Echo' has a CR, LF, NUL or another control character"), std::string::npos)
        << log.lines[0];
    EXPECT_NE(log.lines[0].find("GET /reflect?v=1%0D%0ASet-Cookie"), std::string::npos) << log.lines[0];
    EXPECT_NE(log.lines[2].find("a header name is not a token: \"X Evil\""), std::string::npos) << log.lines[2];
    EXPECT_NE(log.lines[3].find("it sets 'Content-Length'"), std::string::npos) << log.lines[3];
    EXPECT_NE(log.lines[4].find("its status 42"), std::string::npos) << log.lines[4];
}

TEST(http_server, the_demo_services_retry_after_cannot_be_used_to_split_responses) {
    corio::run([]() -> corio::task<> {
        auto demo = co_await corio_test_support::start_demo_service();
        auto stream = co_await tcp_stream::connect(corio::net::endpoint::parse("127.0.0.1", demo->port()));
        co_await stream.write_all("GET /flaky?key=s&retry_after=1%0D%0AX-Evil:%20yes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        std::string reply;
        std::array<char, 4096> buffer;
        while (const auto n = co_await stream.read_some(buffer)) reply.append(buffer.data(), n);
        EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
        EXPECT_EQ(reply.find("X-Evil"), std::string::npos) << reply;
        client_session session;
        auto dated = co_await session.get(demo->url("/flaky?key=d&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT"));
        EXPECT_EQ(dated.status(), 503);
        EXPECT_EQ(dated.headers().get("Retry-After"), "Wed, 21 Oct 2015 07:28:00 GMT");
        co_await demo->aclose();
    }());
}

/// A blocking client socket with a 64 KiB receive buffer (set before connecting, so the window
/// stays that small): the server's writes must wait for it once its own send buffer is full.
int connect_small_window(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int size = 64 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ADD_FAILURE() << "connect";
    return fd;
}

/// Sends GET /big on a small-window socket, waits `stall`, then reads at a steady pace (64 KiB
/// every 5 ms, about 13 MB/s) until the server closes; returns the bytes read.
std::size_t slow_read(std::uint16_t port, std::chrono::milliseconds stall) {
    const int fd = connect_small_window(port);
    const std::string request = "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(stall);
    std::size_t total = 0;
    std::vector<char> buffer(64 * 1024);
    for (ssize_t n; (n = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0;) {
        total += static_cast<std::size_t>(n);
        std::this_thread::sleep_for(5ms);
    }
    ::close(fd);
    return total;
}

// Larger than the server's send buffer (tcp_wmem max: 4 MiB) and the client's window together,
// so that writing it takes longer than write_timeout even for a reader that keeps up. (The
// kernel reports writability only once a third of the send buffer is free again, about 100 ms
// at this pace: write_timeout leaves a wide margin above that.)
constexpr std::size_t big_body_size = 16 << 20;

TEST(http_server, write_timeout_cuts_only_a_response_that_makes_no_progress) {
    captured_log log;
    server app({.write_timeout = 500ms});
    app.get("/big", [](request&) -> corio::task<response> { co_return response::text(std::string(big_body_size, 'x')); });
    with_app(app, [](server& app) -> corio::task<> {
        const auto port = app.local_endpoint()->port();
        // A steady reader needs far longer than write_timeout for the whole body, and gets all of it.
        const auto started = corio::clock::now();
        auto steady = [port] { return slow_read(port, 0ms); };
        EXPECT_GT(co_await corio::to_thread(std::move(steady)), big_body_size);  // head + body
        EXPECT_GT(corio::clock::now() - started, 800ms);
        // A reader that stops reading is cut after write_timeout.
        auto stalled = [port] { return slow_read(port, 1500ms); };
        EXPECT_LT(co_await corio::to_thread(std::move(stalled)), big_body_size);
    });
    ASSERT_EQ(log.lines.size(), 1u);
    EXPECT_NE(log.lines[0].find("http::server: GET /big: its response was cut: write to 127.0.0.1:"), std::string::npos) << log.lines[0];
    EXPECT_NE(log.lines[0].find("made no progress for 500ms"), std::string::npos) << log.lines[0];
}

TEST(http_server, buffered_bodies_share_a_memory_budget) {
    corio::event release;
    server app({.max_buffered_bytes = 1 << 20, .limits = {.max_body_size = 4 << 20}});
    app.post("/hold", [&](request& req) -> corio::task<response> {
        co_await release.wait();
        co_return response::text(std::to_string(req.body().size()));
    });
    with_app(app, [&](server& app) -> corio::task<> {
        client_session session;
        const auto post = [&session, &app](std::size_t size) {
            return session.post(base_url(app) + "/hold", corio::http::request_options().body(std::string(size, 'b')));
        };
        auto first = corio::spawn(post(700'000));  // held by its handler
        co_await corio::sleep(50ms);
        auto over = co_await post(400'000);  // 700 KB + 400 KB > 1 MiB
        EXPECT_EQ(over.status(), 503);
        EXPECT_EQ(over.headers().get("Retry-After"), "1");
        EXPECT_EQ(over.headers().get("Connection"), "close");
        auto chunked = co_await raw_exchange(app, "POST /hold HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                  "60000\r\n" + std::string(0x60000, 'c') + "\r\n0\r\n\r\n");
        EXPECT_EQ(chunked.rfind("HTTP/1.1 503 ", 0), 0u) << chunked.substr(0, 200);
        release.set();
        EXPECT_EQ(co_await (co_await first).text(), "700000");
        auto after = co_await post(900'000);  // the budget was given back
        EXPECT_EQ(co_await after.text(), "900000");
    });
}

TEST(http_server, a_silent_new_connection_is_bounded_by_header_timeout) {
    server app({.header_timeout = 200ms, .idle_timeout = 60s});
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const auto started = corio::clock::now();
        const auto reply = co_await raw_exchange(app, "", 5s);  // connects and never sends a byte
        EXPECT_EQ(reply, "");                                   // closed without an answer
        EXPECT_LT(corio::clock::now() - started, 2s);
        EXPECT_EQ(app.open_connections(), 0u);
        // Empty lines are not the start of a request either; a request after them is served.
        const auto late = co_await raw_exchange(app, "\r\n\r\nGET /items/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(late.rfind("HTTP/1.1 200 ", 0), 0u) << late;
    });
}

TEST(http_server, pipelined_requests_are_answered_in_order) {
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string requests = "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                                     "GET /items/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        const auto replies = co_await raw_exchange(app, requests);
        EXPECT_EQ(count(replies, "HTTP/1.1 200 OK"), 3u);
        const auto one = replies.find(R"("id":"1")"), two = replies.find(R"("id":"2")"), three = replies.find(R"("id":"3")");
        EXPECT_TRUE(one < two && two < three) << replies;
    });
}

TEST(http_server, a_pipelining_client_does_not_hold_the_loop) {
    int answered = 0;                       // /burst requests handled so far
    std::optional<int> answered_when_other;  // ... when the other client's request ran
    server app;
    app.get("/burst", [&](request&) -> corio::task<response> {
        ++answered;
        co_return response::text("b");
    });
    app.get("/other", [&](request&) -> corio::task<response> {
        answered_when_other = answered;
        co_return response::text("o");
    });
    with_app(app, [](server& app) -> corio::task<> {
        // Both connections are accepted and idle first. Then, without this task suspending,
        // 300 pipelined requests (~11 KB: one send, and the server reads them without ever
        // waiting) go on one connection and one request on the other.
        auto greedy = co_await tcp_stream::connect(*app.local_endpoint());
        auto other = co_await tcp_stream::connect(*app.local_endpoint());
        co_await corio::sleep(10ms);
        std::string burst;
        for (int i = 0; i < 300; ++i) burst += "GET /burst HTTP/1.1\r\nHost: x\r\n\r\n";
        co_await greedy.write_all(burst);
        co_await other.write_all("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        std::array<char, 4096> buffer;
        EXPECT_GT(co_await other.read_some(buffer), 0u);
    });
    ASSERT_TRUE(answered_when_other.has_value());
    EXPECT_LT(*answered_when_other, 300) << "the other client waited for the whole burst";
}

TEST(http_server, slowloris_and_idle_connections_are_closed) {
    server app(corio::http::server_options{.header_timeout = 100ms, .idle_timeout = 150ms});
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const auto started = corio::clock::now();
        auto partial = co_await raw_exchange(app, "GET /items/1 HTTP/1.1\r\nHost: x\r\n");  // never finished
        EXPECT_EQ(partial.rfind("HTTP/1.1 408 ", 0), 0u) << partial;
        auto idle = co_await raw_exchange(app, "");  // connects and says nothing
        EXPECT_EQ(idle, "");                          // closed without an answer
        EXPECT_LT(corio::clock::now() - started, 1s);
    });
}

TEST(http_server, a_vanished_client_cancels_its_handler_only_when_asked_to) {
    for (const bool cancel : {false, true}) {
        bool finished = false, saw_disconnect = false;
        server app({.cancel_on_disconnect = cancel});
        app.get("/long", [&](request& req) -> corio::task<response> {
            co_await corio::sleep(300ms);
            saw_disconnect = req.peer_disconnected();
            finished = true;
            co_return response::text("done");
        });
        with_app(app, [](server& app) -> corio::task<> {
            auto client = co_await tcp_stream::connect(*app.local_endpoint());
            co_await client.write_all("GET /long HTTP/1.1\r\nHost: x\r\n\r\n");
            co_await corio::sleep(50ms);
            client.close();                // gone before the answer
            co_await corio::sleep(400ms);  // past the handler's 300 ms
        });
        EXPECT_EQ(finished, !cancel) << "cancel_on_disconnect=" << cancel;
        EXPECT_EQ(saw_disconnect, !cancel);
    }
}

TEST(http_server, streaming_routes_read_the_body_as_it_arrives) {
    server app({.limits = {.max_body_size = 1 << 20}});
    app.route(
        "POST", "/upload",
        [](request& req) -> corio::task<response> {
            std::size_t total = 0, pieces = 0;
            auto body = req.body_stream();
            while (auto piece = co_await body.next()) {
                total += piece->size();
                ++pieces;
            }
            co_return response::json({{"bytes", total}, {"streamed", pieces > 1}});
        },
        {.stream_body = true});
    app.route("POST", "/ignore", [](request&) -> corio::task<response> { co_return response::text("ignored"); },
              {.stream_body = true});
    with_app(app, [](server& app) -> corio::task<> {
        auto client = co_await tcp_stream::connect(*app.local_endpoint());
        co_await client.write_all("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; ++i) {
            co_await client.write_all("4000\r\n" + std::string(0x4000, 'x') + "\r\n");
            co_await corio::sleep(10ms);
        }
        co_await client.write_all("0\r\n\r\n");
        std::array<char, 4096> buffer;
        std::string reply(buffer.data(), co_await client.read_some(buffer));
        EXPECT_NE(reply.find(R"({"bytes":49152,"streamed":true})"), std::string::npos) << reply;
        client_session session;  // an unread streamed body is drained; the connection is reused
        auto ignored = co_await session.post(base_url(app) + "/ignore", corio::http::request_options().body("abc"));
        EXPECT_EQ(co_await ignored.text(), "ignored");
        EXPECT_EQ(co_await get_status(session, base_url(app) + "/nope"), 404);
        EXPECT_EQ(session.open_connections(), 1u);
    });
}

TEST(http_server, body_stream_next_is_cancel_safe) {
    server app;
    app.route(
        "POST", "/patient",
        [](request& req) -> corio::task<response> {
            std::string got;
            int timeouts = 0;
            auto body = req.body_stream();
            for (;;) {
                std::optional<std::string_view> piece;
                try {
                    piece = co_await corio::wait_for(body.next(), 20ms);
                } catch (const corio::timeout_error&) {
                    ++timeouts;
                    continue;
                }
                if (!piece) break;
                got.append(*piece);
            }
            co_return response::json({{"body", got}, {"waited", timeouts > 0}});
        },
        {.stream_body = true});
    with_app(app, [](server& app) -> corio::task<> {
        auto client = co_await tcp_stream::connect(*app.local_endpoint());
        co_await client.write_all("POST /patient HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        co_await corio::sleep(100ms);
        co_await client.write_all("3\r\ndef\r\n0\r\n\r\n");
        std::array<char, 4096> buffer;
        std::string reply(buffer.data(), co_await client.read_some(buffer));
        EXPECT_NE(reply.find(R"({"body":"abcdef","waited":true})"), std::string::npos) << reply;
    });
}

TEST(http_server, streams_chunked_responses) {
    server app;
    app.get("/stream", [](request&) -> corio::task<response> {
        co_return response::stream([]() -> corio::async_generator<std::string> {
            for (int i = 1; i <= 3; ++i) {
                co_await corio::sleep(5ms);
                co_yield "piece " + std::to_string(i) + "\n";
            }
        }(), "text/plain");
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/stream");
        EXPECT_EQ(r.headers().get("Transfer-Encoding"), "chunked");
        EXPECT_EQ(co_await r.text(), "piece 1\npiece 2\npiece 3\n");
    });
}

TEST(http_server, graceful_shutdown_finishes_requests_in_flight) {
    server app;
    int working = 0;
    corio::event all_working;
    app.get("/work", [&working, &all_working](request&) -> corio::task<response> {
        if (++working == 5) all_working.set();
        co_await corio::sleep(100ms);
        co_return response::text("done");
    });
    corio::run(corio::invoke([&app, &all_working]() -> corio::task<> {
        co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        client_session session;
        std::vector<corio::task<std::string>> calls;
        for (int i = 0; i < 5; ++i)
            calls.push_back(corio::invoke([&session](std::string url) -> corio::task<std::string> {
                co_return co_await (co_await session.get(url)).text();
            }, base_url(app) + "/work"));
        auto in_flight = corio::spawn(corio::gather(std::move(calls)));
        co_await all_working.wait();  // five handlers run
        app.stop(2s);
        const auto bodies = co_await in_flight;
        EXPECT_EQ(std::count(bodies.begin(), bodies.end(), "done"), 5);
        co_await app.wait_closed();  // returns once they are answered
        EXPECT_EQ(app.requests_served(), 5u);
    }));
}

TEST(http_server, sigterm_shuts_down_gracefully) {
    bool handler_finished = false;
    server app;
    app.get("/work", [&](request&) -> corio::task<response> {
        co_await corio::sleep(100ms);
        handler_finished = true;
        co_return response::text("done");
    });
    int status = 0;  // the client task may be cancelled by run()'s exit before it reads it
    EXPECT_THROW(corio::run(corio::invoke([&app, &status]() -> corio::task<> {
                     co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
                     auto request = corio::spawn([&status](std::string url) -> corio::task<> {
                         client_session session;
                         status = (co_await session.get(url)).status();
                     }, base_url(app) + "/work");
                     co_await corio::sleep(20ms);
                     ::kill(::getpid(), SIGTERM);  // corio::run cancels this task, then the serving
                     co_await app.wait_closed();
                 })),
                 corio::cancelled_error);
    EXPECT_TRUE(handler_finished);           // the request in flight ran to its end
    EXPECT_EQ(app.requests_served(), 1u);   // and was answered
}

TEST(http_server, max_connections_pauses_accepting) {
    server app(corio::http::server_options{.max_connections = 1});
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        auto first = co_await tcp_stream::connect(*app.local_endpoint());
        co_await first.write_all("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        std::array<char, 4096> buffer;
        EXPECT_GT(co_await first.read_some(buffer), 0u);
        client_session session({.timeout = {.total = 5s}});
        auto second = corio::spawn(session.get(base_url(app) + "/items/2"));
        co_await corio::sleep(50ms);
        EXPECT_FALSE(second.done());  // waiting: the only slot is taken
        first.close();
        EXPECT_EQ((co_await second).status(), 200);
    });
}

TEST(http_server, curl_is_served_too) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command = "curl -s -H 'Expect: 100-continue' -d '{\"b\":2}' " + base_url(app) + "/echo";
        auto run_curl = [command] { return output_of(command); };  // named, not a temporary in the co_await (g++ 12)
        const std::string out = co_await corio::to_thread(std::move(run_curl));
        EXPECT_EQ(out, R"({"b":2})");
    });
}

/// A Python client (another real client) that opens `n` keep-alive connections, sends one
/// request on each, prints how many were answered 200, then holds them open for `hold_s`.
constexpr const char* python_many_connections = R"(
import resource, socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /items/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
    socks.append(s)
ok = sum(1 for s in socks if s.recv(4096).startswith(b"HTTP/1.1 200"))
print(ok, flush=True)
time.sleep(hold)
)";

constexpr int connections = 10'000;  // for holds_ten_thousand_keep_alive_connections

TEST(http_server, holds_ten_thousand_keep_alive_connections) {
    CORIO_REQUIRE_PROGRAM("python3", "python3");
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const rlimit saved = files;
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, connections + 1000);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command = "python3 -c '" + std::string(python_many_connections) + "' " +
                                    std::to_string(app.local_endpoint()->port()) + " " + std::to_string(connections) + " 1";
        FILE* client = ::popen(command.c_str(), "r");
        EXPECT_NE(client, nullptr);
        auto first_line = [client] {
            char line[64] = {};
            return std::fgets(line, sizeof line, client) != nullptr ? std::atoi(line) : -1;
        };
        const int answered = co_await corio::to_thread(std::move(first_line));
        EXPECT_EQ(answered, connections);
        EXPECT_EQ(app.open_connections(), static_cast<std::size_t>(connections));  // all held open
        // A response counts once its send completed: on io_uring the loop learns that from a
        // completion it may reap after the client has read the bytes.
        for (int i = 0; i < 100 && app.requests_served() < static_cast<std::uint64_t>(connections); ++i)
            co_await corio::sleep(10ms);
        EXPECT_EQ(app.requests_served(), static_cast<std::uint64_t>(connections));
        auto wait_exit = [client] { return ::pclose(client); };
        EXPECT_EQ(co_await corio::to_thread(std::move(wait_exit)), 0);
        for (int i = 0; i < 100 && app.open_connections() > 0; ++i) co_await corio::sleep(10ms);
        EXPECT_EQ(app.open_connections(), 0u);  // the server saw them close
    });
    ::setrlimit(RLIMIT_NOFILE, &saved);
}

TEST(http_server, python_http_client_is_served_too) {
    CORIO_REQUIRE_PROGRAM("python3", "python3");
    server app;
    add_item_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command =
            "python3 -c 'import http.client, sys\n"
            "c = http.client.HTTPConnection(\"127.0.0.1\", int(sys.argv[1]))\n"
            "for i in (5, 6):\n"
            "    c.request(\"GET\", \"/items/%d\" % i)\n"
            "    r = c.getresponse()\n"
            "    print(r.status, r.getheader(\"Content-Type\"), r.read().decode())\n' " +
            std::to_string(app.local_endpoint()->port());
        auto run_python = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(std::move(run_python));
        EXPECT_EQ(out, "200 application/json {\"id\":\"5\",\"q\":\"\"}\n200 application/json {\"id\":\"6\",\"q\":\"\"}\n");
        EXPECT_EQ(app.requests_served(), 2u);  // one keep-alive connection, two requests
    });
}

TEST(http_server, runs_one_loop_per_thread_with_reuse_port) {
    server app;
    add_item_routes(app);
    // A fixed port for SO_REUSEPORT: take a free one.
    const auto port = corio::run([]() -> corio::task<std::uint16_t> {
        co_return corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0)).local_endpoint().port();
    }());
    std::thread serving([&] { app.run(corio::net::endpoint::parse("127.0.0.1", port), 2); });
    corio::run(corio::invoke([&app, port]() -> corio::task<> {
        client_session session({.timeout = {.total = 5s}, .limit = 8});
        const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/items/9";
        for (int attempt = 0; attempt < 50 && !app.local_endpoint(); ++attempt) co_await corio::sleep(10ms);
        std::vector<corio::task<int>> calls;
        for (int i = 0; i < 40; ++i)
            calls.push_back(corio::invoke([&session, &url]() -> corio::task<int> {
                co_return (co_await session.get(url)).status();
            }));
        const auto statuses = co_await corio::gather(std::move(calls));
        EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 40);
    }), {.handle_signals = false});
    app.stop();
    serving.join();
    EXPECT_EQ(app.requests_served(), 40u);
}

/// A server with one route, GET /hello -> "hi".
void add_hello(server& app) {
    app.get("/hello", [](request&) -> corio::task<response> { co_return response::text("hi"); });
}

corio::task<std::string> get_text(corio::net::endpoint where, std::string path) {
    client_session session;
    auto answer = co_await session.get("http://" + where.to_string() + path);
    std::string body = co_await answer.text();
    session.close();
    co_return body;
}

TEST(server_start, returns_the_bound_endpoint_once_it_accepts) {
    server app;
    add_hello(app);
    corio::run([&app]() -> corio::task<> {
        const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        EXPECT_NE(where.port(), 0);
        EXPECT_EQ(app.local_endpoint(), where);
        EXPECT_EQ(co_await get_text(where, "/hello"), "hi");  // no sleep: it listened before start() returned
        EXPECT_THROW(co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0)), std::logic_error);
        app.stop(1s);
        co_await app.wait_closed();
        EXPECT_THROW(co_await tcp_stream::connect(where), corio::net::connect_error);  // it stopped listening
        co_await app.wait_closed();  // at once when already closed
    }());
}

TEST(server_start, cancelling_wait_closed_shuts_the_server_down) {
    server app;
    add_hello(app);
    corio::run([&app]() -> corio::task<> {
        const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        auto waiting = corio::spawn(app.wait_closed());
        co_await corio::sleep(1ms);
        waiting.cancel();
        EXPECT_THROW(co_await waiting, corio::cancelled_error);
        EXPECT_THROW(co_await tcp_stream::connect(where), corio::net::connect_error);
    }());
}

TEST(server_start, a_port_in_use_throws_at_start) {
    server app;
    corio::run([&app]() -> corio::task<> {
        auto taken = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        EXPECT_THROW(co_await app.start(taken.local_endpoint()), corio::connection_error);
        co_await app.wait_closed();  // nothing was started
    }());
}

TEST(server_start, serves_a_listener_bound_beforehand) {
    server app;
    add_hello(app);
    corio::run([&app]() -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const auto where = listener.local_endpoint();  // known before anything serves
        auto serving = corio::spawn(app.serve(std::move(listener)));
        EXPECT_EQ(co_await get_text(where, "/hello"), "hi");
        app.stop(1s);
        co_await serving;
    }());
}

}  // namespace
