// http::client_session against real servers on loopback: an in-process server written for each
// test (well-behaved or broken on purpose), nginx, and TLS with a throwaway CA.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <sys/socket.h>
#include <zlib.h>

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/net/resolve.hpp>

#include "loopback_server.hpp"
#include "nginx_process.hpp"
#include "tiny_dns_server.hpp"
#include "tls_test_pki.hpp"

using corio_test::open_fd_count;
using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::client_timeout;
using corio::http::request_options;
using corio::net::tcp_stream;
using corio_test_support::reply;
using test_request = corio_test_support::received_request;
using test_server = corio_test_support::loopback_server;

namespace {

/// Runs `body(server)` against a server answering with `respond`; the server is stopped after.
template <class Body>
void with_server(test_server::responder respond, Body body) {
    corio::run(corio::invoke(
        [](test_server::responder respond, Body body) -> corio::task<> {
            co_await corio::async_with(test_server::start(std::move(respond)),
                                       [&](auto& server) -> corio::task<> { co_await body(*server); });
        },
        std::move(respond), std::move(body)));
}

corio::task<> ok_json(test_request&, tcp_stream& out) {
    co_await reply(out, 200, R"({"items": [1, 2, 3]})", "Content-Type: application/json\r\n");
}

void expect_contains(const std::string& text, std::string_view part) {
    EXPECT_NE(text.find(part), std::string::npos) << "\"" << part << "\" not in: " << text;
}

/// Expects `op` to throw E whose what() contains every one of `parts`. (Parts are separate
/// arguments: g++ 12 cannot keep an initializer_list across a co_await.)
template <class E, class... Parts>
corio::task<> expect_error(corio::task<> op, Parts... parts) {
    try {
        co_await std::move(op);
        ADD_FAILURE() << "no exception";
    } catch (const E& e) {
        (expect_contains(e.what(), parts), ...);
    }
}

TEST(http_client, get_json_and_headers) {
    with_server(ok_json, [](test_server& server) -> corio::task<> {
        client_session session;
        auto response = co_await session.get(server.url("/items"));
        EXPECT_EQ(response.status(), 200);
        EXPECT_TRUE(response.ok());
        EXPECT_EQ(response.headers().get("content-type"), "application/json");
        EXPECT_EQ(response.url(), server.url("/items"));
        const auto items = co_await response.json();
        EXPECT_EQ(items["items"].size(), 3u);
        EXPECT_EQ(co_await response.text(), R"({"items": [1, 2, 3]})");  // the body is kept
    });
}

TEST(http_client, sends_user_agent_default_headers_params_and_base_url) {
    test_request seen;
    with_server(
        [&](test_request& r, tcp_stream& out) -> corio::task<> {
            seen = r;
            co_await reply(out, 200, "ok");
        },
        [&](test_server& server) -> corio::task<> {
            client_session session({.base_url = server.url("/api/"), .headers = {{"X-Default", "yes"}}});
            auto response = co_await session.get(
                "v1/search", corio::http::request_options().header("X-Request", "7").param("q", "a b&c").param("page", "2"));
            EXPECT_EQ(co_await response.text(), "ok");
            EXPECT_EQ(seen.method, "GET");
            EXPECT_EQ(seen.target, "/api/v1/search?q=a%20b%26c&page=2");
            EXPECT_EQ(seen.headers.get("User-Agent"), std::string_view("corio/" CORIO_VERSION_STRING));
            EXPECT_EQ(seen.headers.get("X-Request"), "7");
            EXPECT_EQ(seen.headers.get("X-Default"), "yes");
            EXPECT_EQ(seen.headers.get("Host"), "127.0.0.1:" + std::to_string(server.port()));
        });
}

/// GET `url` and read its body as text.
corio::task<std::string> get_text(client_session& session, std::string url) {
    co_return co_await (co_await session.get(std::move(url))).text();
}

/// GET `url` and drop the response (for requests expected to throw).
corio::task<> get_only(client_session& session, std::string url) { co_await session.get(std::move(url)); }

template <class T>
corio::task<bool> finished_by_cancellation(corio::join_handle<T>& handle) {
    try {
        co_await handle;
    } catch (const corio::cancelled_error&) {
        co_return true;
    }
    co_return false;
}

corio::task<> ok_text(test_request&, tcp_stream& out) { co_await reply(out, 200, "hello"); }

TEST(http_client, reuses_keep_alive_connections) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session;
        for (int i = 0; i < 10; ++i) EXPECT_EQ(co_await (co_await session.get(server.url())).text(), "hello");
        EXPECT_EQ(server.connections(), 1u);
        EXPECT_EQ(session.open_connections(), 1u);
        EXPECT_EQ(session.idle_connections(), 1u);
    });
}

TEST(http_client, an_unread_body_closes_its_connection_instead_of_returning_it) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session;
        {
            auto abandoned = co_await session.get(server.url());
            EXPECT_EQ(session.open_connections(), 1u);
        }
        EXPECT_EQ(session.open_connections(), 0u);
        EXPECT_EQ(co_await (co_await session.get(server.url())).text(), "hello");
        EXPECT_EQ(server.connections(), 2u);
    });
}

TEST(http_client, raise_for_status_throws_status_error_with_details) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> { co_await reply(out, 404, "missing", "X-Why: gone\r\n"); },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto response = co_await session.get(server.url("/nope"));
            EXPECT_EQ(response.status(), 404);
            EXPECT_FALSE(response.ok());
            try {
                response.raise_for_status();
                ADD_FAILURE() << "no status_error";
            } catch (const corio::http::status_error& e) {
                EXPECT_EQ(e.status(), 404);
                EXPECT_EQ(e.url(), server.url("/nope"));
                EXPECT_EQ(e.headers().get("x-why"), "gone");
                EXPECT_EQ(std::string(e.what()), "GET " + server.url("/nope") + ": 404 Not Found");
            }
            auto raising_get = corio::invoke([&session, &server]() -> corio::task<> {
                co_await session.get(server.url("/nope"), request_options().raise_for_status(true));
            });
            co_await expect_error<corio::http::status_error>(std::move(raising_get), "404");
        });
}

TEST(http_client, invalid_json_throws_json_error_with_position) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> { co_await reply(out, 200, R"({"a": 1,, })"); },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto response = co_await session.get(server.url("/bad"));
            try {
                co_await response.json();
                ADD_FAILURE() << "no json_error";
            } catch (const corio::http::json_error& e) {
                EXPECT_EQ(e.position(), 8u);  // 0-based: the second ','
                EXPECT_NE(std::string(e.what()).find(server.url("/bad")), std::string::npos) << e.what();
            }
        });
}

TEST(http_client, json_error_position_of_a_truncated_body_is_its_size) {
    static constexpr std::string_view body = R"({"key": "value")";  // 15 bytes, no closing brace
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> { co_await reply(out, 200, std::string(body)); },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto response = co_await session.get(server.url("/cut"));
            try {
                co_await response.json();
                ADD_FAILURE() << "no json_error";
            } catch (const corio::http::json_error& e) {
                EXPECT_EQ(e.position(), body.size());  // the end of the body, a byte offset
            }
        });
}

TEST(http_client, refused_connection_is_a_connect_error_naming_the_url) {
    corio::run([]() -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const std::string url = "http://127.0.0.1:" + std::to_string(listener.local_endpoint().port()) + "/x";
        listener.close();  // nothing listens there now
        client_session session;
        co_await expect_error<corio::net::connect_error>(
            get_only(session, url),
            "GET " + url, "refused");
        EXPECT_EQ(session.open_connections(), 0u);  // the failed connect gave its slot back
    }());
}

TEST(http_client, unknown_host_is_a_dns_error_and_answers_are_cached) {
    corio_test::tiny_dns_server dns;
    auto using_dns = dns.use();
    with_server(ok_text, [&dns](test_server& server) -> corio::task<> {
        client_session session;
        co_await expect_error<corio::net::dns_error>(get_only(session, "http://nothing.corio.test/"),
                                                     "GET http://nothing.corio.test/", "nothing.corio.test");
        // host1.corio.test is 127.0.0.1: the test server.
        const std::string url = "http://host1.corio.test:" + std::to_string(server.port()) + "/";
        {
            auto first = co_await session.get(url);  // dropped unread: the next request connects again
        }
        const int lookups = dns.queries();
        EXPECT_EQ(co_await get_text(session, url), "hello");
        EXPECT_EQ(server.connections(), 2u);
        EXPECT_EQ(dns.queries(), lookups);  // the second connect used the cached addresses
    });
}

TEST(http_client, dns_tcp_and_tls_share_one_connect_deadline) {
    corio_test::tiny_dns_server dns;  // slowhost1.corio.test: 127.0.0.1, after 400 ms
    auto using_dns = dns.use();
    corio::run([]() -> corio::task<> {
        // A server that accepts TCP and never answers the TLS handshake.
        auto silent = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const std::string port = std::to_string(silent.local_endpoint().port());
        client_session session({.timeout = {.total = 10s, .connect = 1s}});
        const auto started = corio::clock::now();
        co_await expect_error<corio::timeout_error>(
            get_only(session, "https://slowhost1.corio.test:" + port + "/"),
            "GET https://slowhost1.corio.test:" + port + "/: connect timeout (1s) expired while doing the TLS handshake "
            "with slowhost1.corio.test:" + port);
        const auto took = corio::clock::now() - started;
        EXPECT_GE(took, 1s);
        EXPECT_LT(took, 1300ms);  // 0.4 s of DNS came out of the same second, not on top of it
        // The phase that ran out is named: here the lookup itself.
        client_session quick({.timeout = {.total = 10s, .connect = 300ms}});
        co_await expect_error<corio::timeout_error>(get_only(quick, "http://silent.corio.test/"),
                                                    "connect timeout (300ms) expired while resolving silent.corio.test");
        EXPECT_EQ(client_session().options().timeout.connect, 30s);  // new connections are bounded by default
    }());
}

TEST(http_client, closing_the_session_mid_request_says_so) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            if (r.target == "/slow-head") co_await corio::sleep(2s);
            co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
            co_await corio::sleep(2s);  // the rest of the body never comes in time
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto waiting = corio::spawn(get_only(session, server.url("/slow-head")));
            auto response = co_await session.get(server.url("/body"));
            auto reading = corio::spawn(response.text());
            co_await corio::sleep(50ms);
            session.close();
            auto await_waiting = corio::invoke([](corio::join_handle<void> h) -> corio::task<> { co_await h; },
                                               std::move(waiting));
            co_await expect_error<corio::http::session_closed_error>(
                std::move(await_waiting),
                "GET " + server.url("/slow-head") + ": the client session was closed during the request");
            auto await_reading = corio::invoke([](corio::join_handle<std::string> h) -> corio::task<> { co_await h; },
                                               std::move(reading));
            co_await expect_error<corio::http::session_closed_error>(
                std::move(await_reading),
                "GET " + server.url("/body") + ": the client session was closed while the body was read");
        });
}

TEST(http_client, a_failed_connect_gives_its_pool_slot_back) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const std::string refused = "http://127.0.0.1:" + std::to_string(listener.local_endpoint().port()) + "/";
        listener.close();
        client_session session({.timeout = {.total = 2s}, .limit = 1});
        for (int i = 0; i < 3; ++i) co_await expect_error<corio::net::connect_error>(get_only(session, refused), "refused");
        EXPECT_EQ(co_await get_text(session, server.url()), "hello");  // the only slot is free again
    });
}

TEST(http_client, idle_connections_expire_after_keepalive_timeout) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session({.keepalive_timeout = 50ms});
        EXPECT_EQ(co_await get_text(session, server.url()), "hello");
        EXPECT_EQ(session.idle_connections(), 1u);
        co_await corio::sleep(120ms);
        EXPECT_EQ(session.idle_connections(), 0u);
        EXPECT_EQ(session.open_connections(), 0u);
    });
}

TEST(http_client, per_request_timeouts_override_the_session) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await corio::sleep(100ms);
            co_await reply(out, 200, "late");
        },
        [](test_server& server) -> corio::task<> {
            client_session session({.timeout = {.total = 20ms}});
            auto response = co_await session.get(server.url(), request_options().timeout({.total = 2s}));
            EXPECT_EQ(co_await response.text(), "late");
            co_await expect_error<corio::timeout_error>(get_only(session, server.url()), "total timeout (20ms)");
        });
}

TEST(http_client, responses_close_with_async_with_and_read_as_bytes) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session;
        auto bytes = co_await (co_await session.get(server.url())).bytes();
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "hello");
        co_await corio::async_with(session.get(server.url()), [](corio::http::client_response& r) -> corio::task<> {
            EXPECT_EQ(r.status(), 200);
            co_return;  // the body is not read: closing drops the connection
        });
        EXPECT_EQ(session.open_connections(), 0u);  // the reused connection went with the unread response
    });
}

TEST(http_client, total_timeout_bounds_reading_the_body) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
            co_await corio::sleep(10s);  // never finishes the body
        },
        [](test_server& server) -> corio::task<> {
            client_session session({.timeout = {.total = 150ms}});
            auto response = co_await session.get(server.url("/stall"));
            EXPECT_EQ(response.status(), 200);
            try {
                co_await response.text();
                ADD_FAILURE() << "no timeout";
            } catch (const corio::timeout_error& e) {
                EXPECT_EQ(std::string(e.what()), "GET " + server.url("/stall") +
                                                     ": total timeout (150ms) expired while reading the body");
            }
        });
}

TEST(http_client, sock_read_is_an_idle_limit_between_bytes) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");
            const auto gap = r.target == "/drip" ? 40ms : 400ms;
            for (char c : std::string("abcdef")) {
                co_await corio::sleep(gap);
                co_await out.write_all(std::string(1, c));
            }
        },
        [](test_server& server) -> corio::task<> {
            client_session session({.timeout = {.total = 5s, .sock_read = 150ms}});
            // 6 x 40 ms = 240 ms in all, more than sock_read, but never idle that long.
            EXPECT_EQ(co_await (co_await session.get(server.url("/drip"))).text(), "abcdef");
            auto slow = co_await session.get(server.url("/stall"));
            auto read_slow = corio::invoke([&slow]() -> corio::task<> { co_await slow.text(); });
            co_await expect_error<corio::timeout_error>(std::move(read_slow),
                                                        "sock_read timeout (150ms) expired while reading the body");
        });
}

TEST(http_client, headers_that_never_come_hit_the_timeout_naming_the_phase) {
    with_server(
        [](test_request&, tcp_stream&) -> corio::task<> { co_await corio::sleep(10s); },
        [](test_server& server) -> corio::task<> {
            client_session session({.timeout = {.total = 100ms}});
            co_await expect_error<corio::timeout_error>(
                get_only(session, server.url()),
                "total timeout (100ms) expired while waiting for the response headers");
        });
}

TEST(http_client, truncated_and_malformed_responses_are_protocol_errors) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            if (r.target == "/truncated") {
                co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
            } else {
                co_await out.write_all("HTTP/1.1 200 OK\r\nContent Length: 3\r\n\r\nabc");
            }
            out.close();
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto truncated = co_await session.get(server.url("/truncated"));
            auto read_truncated = corio::invoke([&truncated]() -> corio::task<> { co_await truncated.text(); });
            co_await expect_error<corio::http::protocol_error>(
                std::move(read_truncated),
                "GET " + server.url("/truncated"), "closed the connection before the response ended");
            co_await expect_error<corio::http::protocol_error>(
                get_only(session, server.url("/bad")),
                "GET " + server.url("/bad"), "invalid response");
            EXPECT_EQ(session.open_connections(), 0u);
        });
}

TEST(http_client, reset_mid_body_is_a_connection_error) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'x'));
            const linger abort_on_close{1, 0};
            ::setsockopt(out.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
            out.close();  // RST
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto response = co_await session.get(server.url());
            auto read_body = corio::invoke([&response]() -> corio::task<> { co_await response.text(); });
            co_await expect_error<corio::connection_error>(std::move(read_body), "GET " + server.url());
        });
}

TEST(http_client, a_reused_connection_closed_by_the_server_is_retried_once) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await reply(out, 200, "fresh");
            co_await corio::sleep(20ms);
            out.close();  // closes idle keep-alive connections without saying so
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            EXPECT_EQ(co_await (co_await session.get(server.url())).text(), "fresh");
            co_await corio::sleep(50ms);  // the server has closed it by now
            EXPECT_EQ(co_await (co_await session.get(server.url())).text(), "fresh");
            EXPECT_EQ(server.connections(), 2u);
        });
}

TEST(http_client, pool_limit_holds_under_a_thousand_concurrent_requests) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await corio::sleep(1ms);
            co_await reply(out, 200, "ok");
        },
        [](test_server& server) -> corio::task<> {
            client_session session({.limit = 10});
            std::vector<corio::task<std::string>> requests;
            for (int i = 0; i < 1000; ++i)
                requests.push_back(get_text(session, server.url()));
            const auto bodies = co_await corio::gather(std::move(requests));
            EXPECT_EQ(std::count(bodies.begin(), bodies.end(), "ok"), 1000);
            EXPECT_LE(server.max_open_connections(), 10u);
            EXPECT_LE(server.connections(), 10u);  // all reused, none churned
            EXPECT_EQ(server.requests(), 1000u);
        });
}

TEST(http_client, limit_per_host_and_fifo_waiters) {
    std::vector<std::string> order;
    with_server(
        [&](test_request& r, tcp_stream& out) -> corio::task<> {
            order.push_back(r.target);
            co_await corio::sleep(5ms);
            co_await reply(out, 200, r.target);
        },
        [&](test_server& server) -> corio::task<> {
            client_session session({.limit = 10, .limit_per_host = 1});
            std::vector<corio::task<std::string>> requests;
            for (int i = 0; i < 5; ++i)
                requests.push_back(get_text(session, server.url("/" + std::to_string(i))));
            co_await corio::gather(std::move(requests));
            EXPECT_EQ(order, (std::vector<std::string>{"/0", "/1", "/2", "/3", "/4"}));
            EXPECT_EQ(server.max_open_connections(), 1u);
        });
}

TEST(http_client, pool_acquire_timeout) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await corio::sleep(300ms);
            co_await reply(out, 200, "slow");
        },
        [](test_server& server) -> corio::task<> {
            client_session session({.timeout = {.total = 5s, .pool_acquire = 50ms}, .limit = 1});
            auto first = corio::spawn(session.get(server.url()));
            co_await corio::sleep(10ms);
            co_await expect_error<corio::timeout_error>(
                get_only(session, server.url()),
                "pool_acquire timeout (50ms) expired while waiting for a connection from the pool");
            EXPECT_EQ(co_await (co_await first).text(), "slow");
        });
}

TEST(http_client, cancelled_requests_leak_no_connection_or_fd) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            if (r.target == "/body") co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
            std::array<char, 64> buffer;
            while (co_await out.read_some(buffer) > 0) {
            }
            out.close();  // the client went away
        },
        [](test_server& server) -> corio::task<> {
            const auto fds_before = open_fd_count();
            client_session session;
            auto request = corio::spawn(session.get(server.url("/head")));
            co_await corio::sleep(20ms);
            EXPECT_EQ(session.open_connections(), 1u);
            request.cancel();
            EXPECT_TRUE(co_await finished_by_cancellation(request));
            EXPECT_EQ(session.open_connections(), 0u);
            auto body = corio::spawn(get_text(session, server.url("/body")));
            co_await corio::sleep(20ms);
            body.cancel();
            EXPECT_TRUE(co_await finished_by_cancellation(body));
            EXPECT_EQ(session.open_connections(), 0u);
            co_await corio::sleep(10ms);  // let the server notice
            EXPECT_EQ(server.open_connections(), 0u);
            EXPECT_EQ(open_fd_count(), fds_before);
        });
}

TEST(http_client, post_json_form_and_raw_bodies) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            co_await reply(out, 200, r.method + " " + std::string(r.headers.get("Content-Type").value_or("-")) + " " + r.body);
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            const nlohmann::json document = {{"name", "corio"}};  // not inside the co_await (g++ 12)
            auto json = co_await session.post(server.url(), request_options().json(document));
            EXPECT_EQ(co_await json.text(), R"(POST application/json {"name":"corio"})");
            corio::http::query_params form;
            form.add("a", "1 2").add("b", "&");
            auto posted = co_await session.put(server.url(), request_options().form(form));
            EXPECT_EQ(co_await posted.text(), "PUT application/x-www-form-urlencoded a=1%202&b=%26");
            auto raw = co_await session.patch(server.url(), request_options().body("bytes", "application/octet-stream"));
            EXPECT_EQ(co_await raw.text(), "PATCH application/octet-stream bytes");
            auto removed = co_await session.delete_(server.url());
            EXPECT_EQ(co_await removed.text(), "DELETE - ");
        });
}

TEST(http_client, follows_redirects_with_method_semantics) {
    with_server(
        [](test_request& r, tcp_stream& out) -> corio::task<> {
            if (r.target == "/see-other") co_return co_await reply(out, 303, "", "Location: /landing\r\n");
            if (r.target == "/temporary") co_return co_await reply(out, 307, "", "Location: landing\r\n");
            if (r.target == "/loop") co_return co_await reply(out, 302, "", "Location: /loop\r\n");
            if (r.target.starts_with("/hop")) {  // /hop -> /hop1 -> /hop11 -> ...
                co_return co_await reply(out, 302, "", "Location: " + r.target + "1\r\n");
            }
            co_await reply(out, 200, r.method + " " + r.target + " " + r.body);
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto other = co_await session.post(server.url("/see-other"), request_options().body("data"));
            EXPECT_EQ(co_await other.text(), "GET /landing ");
            EXPECT_EQ(other.url(), server.url("/landing"));
            EXPECT_EQ(other.history(), std::vector<std::string>{server.url("/see-other")});
            auto temporary = co_await session.post(server.url("/temporary"), request_options().body("data"));
            EXPECT_EQ(co_await temporary.text(), "POST /landing data");
            auto loop = corio::invoke([&session, &server]() -> corio::task<> {
                co_await session.get(server.url("/loop"), request_options().max_redirects(3));
            });
            co_await expect_error<corio::http::too_many_redirects_error>(std::move(loop), "more than 3 redirects");
            // The error names the URL that was requested, and the hop it gave up at.
            auto hops = corio::invoke([&session, &server]() -> corio::task<> {
                co_await session.get(server.url("/hop"), request_options().max_redirects(2));
            });
            co_await expect_error<corio::http::too_many_redirects_error>(
                std::move(hops),
                "GET " + server.url("/hop") + ": more than 2 redirects (the last one to " + server.url("/hop111") + ")");
            auto unfollowed = co_await session.get(server.url("/loop"), request_options().follow_redirects(false));
            EXPECT_EQ(unfollowed.status(), 302);
            EXPECT_EQ(server.connections(), 1u);  // empty redirect bodies let the connection be reused
        });
}

std::string gzip(std::string_view text) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, text.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

TEST(http_client, decodes_gzip_and_streams_chunked_bodies) {
    test_request seen;
    with_server(
        [&](test_request& r, tcp_stream& out) -> corio::task<> {
            seen = r;
            if (r.target == "/gzip") co_return co_await reply(out, 200, gzip(std::string(5000, 'z')), "Content-Encoding: gzip\r\n");
            co_await out.write_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            co_await corio::sleep(5ms);
            co_await out.write_all("6\r\n world\r\n0\r\n\r\n");
        },
        [&](test_server& server) -> corio::task<> {
            client_session session;
            auto zipped = co_await session.get(server.url("/gzip"));
            EXPECT_EQ(co_await zipped.text(), std::string(5000, 'z'));
            EXPECT_EQ(seen.headers.get("Accept-Encoding"), "gzip, deflate");
            auto chunked = co_await session.get(server.url("/chunked"));
            std::vector<std::string> pieces;
            auto chunks = chunked.chunks();
            while (auto piece = co_await chunks.next()) pieces.emplace_back(*piece);
            EXPECT_EQ(pieces, (std::vector<std::string>{"hello", " world"}));
            EXPECT_EQ(server.connections(), 1u);
        });
}

TEST(http_client, a_body_read_cut_short_by_a_timeout_loses_nothing) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await out.write_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            co_await corio::sleep(200ms);
            co_await out.write_all("6\r\n world\r\n");
            co_await corio::sleep(200ms);
            co_await out.write_all("1\r\n!\r\n0\r\n\r\n");
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto streamed = co_await session.get(server.url("/slow-chunks"));
            auto chunks = streamed.chunks();
            EXPECT_EQ(co_await chunks.next(), "hello");
            EXPECT_THROW(co_await corio::wait_for(chunks.next(), 50ms), corio::timeout_error);
            EXPECT_EQ(co_await chunks.next(), " world");  // the generator and the connection live on
            auto whole = co_await session.get(server.url("/slow-chunks"));
            EXPECT_THROW(co_await corio::wait_for(whole.text(), 50ms), corio::timeout_error);
            EXPECT_EQ(co_await whole.text(), "hello world!");  // text() carries on where it stopped
            EXPECT_EQ(co_await chunks.next(), "!");
            EXPECT_FALSE(co_await chunks.next());
            EXPECT_EQ(session.idle_connections(), 2u);  // both bodies read to the end: both reusable
        });
}

TEST(http_client, keeps_cookies_in_the_session_jar) {
    std::vector<std::string> cookies;
    with_server(
        [&](test_request& r, tcp_stream& out) -> corio::task<> {
            cookies.emplace_back(r.headers.get("Cookie").value_or(""));
            co_await reply(out, 200, "", r.target == "/login" ? "Set-Cookie: session=abc; Path=/\r\n" : "");
        },
        [&](test_server& server) -> corio::task<> {
            client_session session;
            co_await (co_await session.get(server.url("/login"))).text();
            co_await (co_await session.get(server.url("/me"))).text();
            EXPECT_EQ(cookies, (std::vector<std::string>{"", "session=abc"}));
        });
}

TEST(http_client, head_requests_have_no_body_and_keep_the_connection) {
    with_server(
        [](test_request&, tcp_stream& out) -> corio::task<> {
            co_await out.write_all("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        },
        [](test_server& server) -> corio::task<> {
            client_session session;
            auto response = co_await session.head(server.url());
            EXPECT_EQ(response.content_length(), 1234u);
            EXPECT_EQ(session.idle_connections(), 1u);  // back in the pool before any read
            EXPECT_EQ(co_await response.text(), "");
        });
}

TEST(http_client, a_closed_session_refuses_requests) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session;
        auto use_session = corio::invoke([&session, &server]() -> corio::task<client_session*> {
            co_await (co_await session.get(server.url())).text();
            co_return &session;
        });
        co_await corio::async_with(std::move(use_session), [](client_session*) -> corio::task<> { co_return; });
        EXPECT_TRUE(session.closed());
        EXPECT_EQ(session.open_connections(), 0u);
        co_await expect_error<corio::http::session_closed_error>(
            get_only(session, server.url()),
            "closed");
    });
}

TEST(http_client, nothing_can_be_injected_onto_the_wire) {
    with_server(ok_text, [](test_server& server) -> corio::task<> {
        client_session session;
        auto injected_value = corio::invoke([&session, &server]() -> corio::task<> {
            co_await session.get(server.url(), request_options().header("X-Note", "a\r\nX-Injected: 1"));
        });
        co_await expect_error<corio::error>(std::move(injected_value),
                                            "header 'X-Note' has an invalid name or a CR, LF or NUL in its value");
        auto bad_name = corio::invoke([&session, &server]() -> corio::task<> {
            co_await session.get(server.url(), request_options().header("X-Bad Name", "1"));
        });
        co_await expect_error<corio::error>(std::move(bad_name), "header 'X-Bad Name' has an invalid name");
        const std::string smuggled = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET";
        EXPECT_THROW(co_await session.request(smuggled, server.url()), std::invalid_argument);
        EXPECT_THROW(co_await session.get(server.url("/a b")), corio::http::url_error);    // a space in the target
        EXPECT_THROW(co_await session.get(server.url("/a\r\nb")), corio::http::url_error);
        EXPECT_EQ(server.requests(), 0u);  // not one byte of them was sent
    });
}

TEST(http_client, timeouts_must_bound_every_request) {
    corio::run([]() -> corio::task<> {
        client_session session({.timeout = {.total = 0s}});
        EXPECT_THROW(co_await session.get("http://127.0.0.1:9/"), std::invalid_argument);
        EXPECT_THROW(co_await session.get("ftp://127.0.0.1/"), corio::http::url_error);
    }());
}

/// Serves HTTPS for one connection: answers every request with "secure".
corio::task<> serve_tls_once(corio::net::tcp_listener& listener, corio::net::tls_context context) {
    try {
        auto tls = co_await corio::net::tls_stream::accept(co_await listener.accept(), context);
        std::string request;
        std::array<char, 4096> buffer;
        while (request.find("\r\n\r\n") == std::string::npos) {
            const auto n = co_await tls.read_some(buffer);
            if (n == 0) co_return;
            request.append(buffer.data(), n);
        }
        co_await tls.write_all("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure");
        co_await tls.read_some(buffer);  // until the client goes
    } catch (const corio::connection_error&) {
    }
}

TEST(http_client, https_with_a_custom_ca_and_verification_failures) {
    const auto pki = corio_test::test_pki::create();
    corio::run(corio::invoke([&pki]() -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const auto context = corio::net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
        const std::string url = "https://localhost:" + std::to_string(listener.local_endpoint().port()) + "/";
        {
            auto server = corio::spawn(serve_tls_once(listener, context));
            client_session session({.ca_file = pki.ca_file});
            auto response = co_await session.get(url);
            EXPECT_EQ(co_await response.text(), "secure");
            session.close();
            co_await server;
        }
        auto server = corio::spawn(serve_tls_once(listener, context));
        client_session system_trust;
        co_await expect_error<corio::net::tls_error>(
            get_only(system_trust, url),
            "GET " + url, "certificate verify failed");
        co_await server;
    }));
}

/// nginx on loopback: at most 3 requests per connection, idle connections closed after 300 ms,
/// gzip (so chunked) for text/plain.
class nginx_peer : public testing::Test {
protected:
    void SetUp() override {
        CORIO_REQUIRE_PROGRAM("nginx", "nginx");
        const std::string failure = nginx_.start(
            {.http = "    keepalive_requests 3;\n    keepalive_timeout 300ms;\n"
                     "    gzip on;\n    gzip_min_length 0;\n    gzip_types text/plain;\n",
             .server = "        location /hello { return 200 \"Hello from nginx\"; }\n"});
        ASSERT_EQ(failure, "");
    }
    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(nginx_.port()) + std::string(path); }

    corio_test_support::nginx_server nginx_;
};

TEST_F(nginx_peer, decodes_its_chunked_gzip_and_reads_identity_bodies) {
    corio::run(corio::invoke([](std::string url) -> corio::task<> {
        client_session session;
        auto zipped = co_await session.get(url);
        EXPECT_EQ(zipped.headers().get("Transfer-Encoding"), "chunked");
        EXPECT_EQ(zipped.headers().get("Content-Encoding"), "gzip");
        EXPECT_EQ(co_await zipped.text(), "Hello from nginx");
        client_session plain({.auto_decompress = false});
        auto identity = co_await plain.get(url);
        EXPECT_EQ(identity.content_length(), 16u);
        EXPECT_EQ(co_await identity.text(), "Hello from nginx");
    }, url("/hello")));
}

TEST_F(nginx_peer, follows_its_keep_alive_limits) {
    corio::run(corio::invoke([](std::string url) -> corio::task<> {
        client_session session;
        for (int i = 1; i <= 7; ++i) {
            EXPECT_EQ(co_await get_text(session, url), "Hello from nginx");
            // nginx answers the 3rd request of a connection with "Connection: close".
            EXPECT_EQ(session.idle_connections(), i % 3 == 0 ? 0u : 1u) << "after request " << i;
            EXPECT_LE(session.open_connections(), 1u);
        }
        co_await corio::sleep(500ms);  // nginx closes the idle connection (keepalive_timeout 300ms)
        EXPECT_EQ(co_await get_text(session, url), "Hello from nginx");
    }, url("/hello")));
}

}  // namespace
