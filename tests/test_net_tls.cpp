// net::tls_context / tls_stream over real loopback sockets, with a PKI generated at test time.
//
// Like test_net_tcp.cpp, these run in real time: fd waits are real I/O, which virtual time does
// not skip; the timeouts involved are short (tens of milliseconds).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <corio/corio.hpp>
#include <corio/net/tls.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tls_test_pki.hpp"

using corio_test::open_fd_count;
using namespace std::chrono_literals;
using corio::net::endpoint;
using corio::net::tcp_listener;
using corio::net::tcp_stream;
using corio::net::tls_context;
using corio::net::tls_error;
using corio::net::tls_stream;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// One PKI for the whole file (key generation is the slow part).
const corio_test::test_pki& pki() {
    static const corio_test::test_pki instance = corio_test::test_pki::create();
    return instance;
}

// (No defaulted braced-list arguments: g++ 12 miscompiles them in coroutine call sites.)
tls_context server_context(const corio_test::test_pki::leaf_files& files, std::vector<std::string> alpn) {
    return tls_context::server({.certificate_chain_file = files.cert_file, .private_key_file = files.key_file, .alpn = alpn});
}
tls_context server_context(const corio_test::test_pki::leaf_files& files) { return server_context(files, {"http/1.1"}); }
tls_context server_context() { return server_context({pki().cert_file, pki().key_file}); }
tls_context trusting_client(std::vector<std::string> alpn) {
    return tls_context::client({.ca_file = pki().ca_file, .alpn = alpn});
}
tls_context trusting_client() { return trusting_client({"http/1.1"}); }

corio::task<tls_stream> accept_tls(tcp_listener& listener, tls_context context) {
    tcp_stream tcp = co_await listener.accept();
    co_return co_await tls_stream::accept(std::move(tcp), std::move(context));
}

corio::task<tls_stream> connect_tls(endpoint peer, tls_context context, std::string server_name,
                                    std::chrono::nanoseconds handshake_timeout = 10s) {
    tcp_stream tcp = co_await tcp_stream::connect(peer);
    co_return co_await tls_stream::connect(std::move(tcp), std::move(context), std::move(server_name), handshake_timeout);
}

corio::task<std::string> read_all(tls_stream& s) {
    std::string out;
    std::array<char, 16384> buffer;
    while (const std::size_t n = co_await s.read_some(buffer)) out.append(buffer.data(), n);
    co_return out;
}

/// Accepts one TLS connection and echoes everything until end of stream, then closes politely.
corio::task<> echo_once(tcp_listener& listener, tls_context context) {
    tls_stream peer = co_await accept_tls(listener, std::move(context));
    std::array<char, 16384> buffer;
    while (const std::size_t n = co_await peer.read_some(buffer))
        co_await peer.write_all(std::string_view(buffer.data(), n));
    co_await peer.aclose();
}

/// Accepts one connection whose handshake is expected to fail; returns the server's error.
corio::task<std::string> failing_accept(tcp_listener& listener, tls_context context) {
    try {
        co_await accept_tls(listener, std::move(context));
    } catch (const corio::connection_error& e) {
        co_return e.what();
    }
    co_return "";
}

/// Connects with `client` and `server_name` to a server on `address` using `server`; returns
/// the client's tls_error message ("" if the handshake succeeded).
std::string handshake_error(tls_context client, std::string server_name, tls_context server,
                            std::string address = "127.0.0.1") {
    std::string message;
    corio::run(corio::invoke(
        [&message](tls_context c, std::string name, tls_context s, std::string addr) -> corio::task<> {
            auto listener = tcp_listener::bind(endpoint::parse(addr, 0));
            auto server_task = corio::spawn(failing_accept(listener, std::move(s)));
            try {
                co_await connect_tls(listener.local_endpoint(), std::move(c), name);
            } catch (const tls_error& e) {
                message = e.what();
            }
            EXPECT_TRUE(message.empty() || contains(message, listener.local_endpoint().to_string())) << message;
            const std::string server_error = co_await server_task;
            EXPECT_EQ(message.empty(), server_error.empty()) << server_error;
        },
        std::move(client), std::move(server_name), std::move(server), std::move(address)));
    return message;
}

TEST(tls, echo_round_trip_with_a_custom_ca_negotiates_alpn) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<std::string> {
            tls_stream peer = co_await accept_tls(listener, server_context());
            const std::string protocol(peer.alpn_protocol());
            std::array<char, 64> buffer;
            while (const std::size_t n = co_await peer.read_some(buffer))
                co_await peer.write_all(std::string_view(buffer.data(), n));
            co_await peer.shutdown();
            co_return protocol;
        });
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        EXPECT_TRUE(client.is_open());
        EXPECT_EQ(client.alpn_protocol(), "http/1.1");
        EXPECT_EQ(client.peer().to_string(), listener.local_endpoint().to_string());
        co_await client.write_all("hello over TLS");
        co_await client.shutdown();
        const std::string echoed = co_await read_all(client);
        EXPECT_EQ(echoed, "hello over TLS");
        const std::string server_protocol = co_await server;
        EXPECT_EQ(server_protocol, "http/1.1");
    }());
}

TEST(tls, alpn_picks_the_servers_preference_and_may_negotiate_nothing) {
    corio::run([]() -> corio::task<> {
        struct alpn_case {
            std::vector<std::string> client, server;
            std::string expected;
        };
        std::vector<alpn_case> cases;
        cases.push_back({{"http/1.1", "h2"}, {"h2", "http/1.1"}, "h2"});
        cases.push_back({{"h2"}, {"http/1.1"}, ""});
        cases.push_back({{}, {"http/1.1"}, ""});
        for (const alpn_case& c : cases) {
            auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
            auto server = corio::spawn(accept_tls(listener, server_context({pki().cert_file, pki().key_file}, c.server)));
            auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(c.client), "localhost");
            tls_stream peer = co_await server;
            EXPECT_EQ(client.alpn_protocol(), c.expected);
            EXPECT_EQ(peer.alpn_protocol(), c.expected);
        }
    }());
}

TEST(tls, four_mebibytes_each_way_with_a_concurrent_reader_and_writer) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(echo_once(listener, server_context()));
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        std::string payload(4 << 20, '\0');
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i % 251);
        auto writer = corio::spawn([&client, &payload]() -> corio::task<> {
            co_await client.write_all(payload);
            co_await client.shutdown();
        });
        const std::string echoed = co_await read_all(client);
        co_await writer;
        co_await server;
        EXPECT_EQ(echoed.size(), payload.size());
        EXPECT_TRUE(echoed == payload);
    }());
}

TEST(tls, ip_literal_is_checked_against_the_ip_subject_alt_names) {
    EXPECT_EQ(handshake_error(trusting_client(), "127.0.0.1", server_context()), "");
    EXPECT_EQ(handshake_error(trusting_client(), "::1", server_context(), "::1"), "");
    const auto named_only = pki().issue("named-only", {.subject_alt_names = "DNS:localhost"});
    const std::string message = handshake_error(trusting_client(), "127.0.0.1", server_context(named_only));
    EXPECT_TRUE(contains(message, "certificate verify failed: IP address mismatch")) << message;
}

TEST(tls, system_store_rejects_the_throwaway_ca) {
    const std::string message = handshake_error(tls_context::client(), "localhost", server_context());
    EXPECT_TRUE(contains(message, "TLS handshake with localhost (127.0.0.1:")) << message;
    EXPECT_TRUE(contains(message, "failed: certificate verify failed: ")) << message;
}

TEST(tls, wrong_host_name_is_rejected) {
    const auto other = pki().issue("other", {.common_name = "other.example", .subject_alt_names = "DNS:other.example"});
    const std::string message = handshake_error(trusting_client(), "localhost", server_context(other));
    EXPECT_TRUE(contains(message, "certificate verify failed: hostname mismatch")) << message;
    EXPECT_EQ(handshake_error(trusting_client(), "other.example", server_context(other)), "");
}

TEST(tls, expired_certificate_is_rejected) {
    const auto expired = pki().issue("expired", {.valid_from_seconds = -2 * 86400, .valid_until_seconds = -86400});
    const std::string message = handshake_error(trusting_client(), "localhost", server_context(expired));
    EXPECT_TRUE(contains(message, "certificate verify failed: certificate has expired")) << message;
}

TEST(tls, verify_false_accepts_any_certificate) {
    const auto expired = pki().issue("expired-too", {.common_name = "x", .subject_alt_names = "DNS:x.example",
                                                     .valid_from_seconds = -2 * 86400, .valid_until_seconds = -86400});
    EXPECT_EQ(handshake_error(tls_context::client({.verify = false}), "localhost", server_context(expired)), "");
    EXPECT_EQ(handshake_error(tls_context::client({.verify = false}), "", server_context()), "");
}

TEST(tls, verifying_without_a_server_name_is_refused) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto tcp = co_await tcp_stream::connect(listener.local_endpoint());
        EXPECT_THROW(co_await tls_stream::connect(std::move(tcp), trusting_client(), ""), tls_error);
    }());
}

TEST(tls, a_plain_http_server_is_a_tls_error) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            std::array<char, 4096> buffer;
            co_await peer.read_some(buffer);  // the ClientHello (so closing sends no RST)
            co_await peer.write_all("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            try {
                while (co_await peer.read_some(buffer) != 0) {}
            } catch (const corio::net::connection_reset_error&) {
                // The client may close with part of the response unread.
            }
        });
        try {
            co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
            ADD_FAILURE() << "handshake with an HTTP server succeeded";
        } catch (const tls_error& e) {
            const std::string message = e.what();
            EXPECT_TRUE(contains(message, "TLS handshake with localhost (" + listener.local_endpoint().to_string() + ") failed: "))
                << message;
            EXPECT_TRUE(contains(message, "wrong version number") || contains(message, "packet length too long")) << message;
        }
        co_await server;
    }());
}

TEST(tls, handshake_times_out_naming_the_peer) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto silent = corio::spawn([&listener]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            co_await corio::sleep(10s);
        });
        try {
            co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost", 50ms);
            ADD_FAILURE() << "handshake did not time out";
        } catch (const corio::timeout_error& e) {
            const std::string message = e.what();
            EXPECT_TRUE(contains(message, "TLS handshake with localhost (" + listener.local_endpoint().to_string() + ")"))
                << message;
            EXPECT_TRUE(contains(message, "timed out after 50ms")) << message;
        }
        silent.cancel();
    }());
}

TEST(tls, idle_read_times_out_naming_the_peer) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(accept_tls(listener, server_context()));
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        tls_stream peer = co_await server;
        client.tcp().options().read_timeout = 30ms;
        std::array<char, 16> buffer;
        try {
            co_await client.read_some(buffer);
            ADD_FAILURE() << "read did not time out";
        } catch (const corio::timeout_error& e) {
            EXPECT_TRUE(contains(e.what(), "TLS read from localhost (127.0.0.1:")) << e.what();
            EXPECT_TRUE(contains(e.what(), "30ms")) << e.what();
        }
    }());
}

TEST(tls, cancelled_handshakes_leak_no_descriptor) {
    const std::size_t fds_before = open_fd_count();
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        // Client side: the server never answers the ClientHello.
        corio::event accepted;
        auto silent = corio::spawn([&listener, &accepted]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            accepted.set();
            co_await corio::sleep(10s);
        });
        EXPECT_THROW(co_await corio::wait_for(connect_tls(listener.local_endpoint(), trusting_client(), "localhost"), 20ms),
                     corio::timeout_error);
        // The 20ms may run out before `silent` took the connection (a slow build: the loop's time
        // is read once per iteration, and io_uring reports the accept an iteration later), and
        // the server below must not get it.
        co_await corio::wait_for(accepted.wait(), 5s);
        silent.cancel();
        // Server side: the client never sends a ClientHello.
        auto server = corio::spawn(accept_tls(listener, server_context()));
        auto mute = co_await tcp_stream::connect(listener.local_endpoint());
        co_await corio::sleep(20ms);
        server.cancel();
        EXPECT_THROW(co_await server, corio::cancelled_error);
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(tls, cancelling_a_read_leaks_no_descriptor_and_loses_no_data) {
    const std::size_t fds_before = open_fd_count();
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<> {
            tls_stream peer = co_await accept_tls(listener, server_context());
            co_await corio::sleep(50ms);
            co_await peer.write_all("late data");
            co_await corio::sleep(10s);
        });
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        std::array<char, 64> buffer;
        EXPECT_THROW(co_await corio::wait_for(client.read_some(buffer), 10ms), corio::timeout_error);
        const std::size_t n = co_await client.read_some(buffer);
        EXPECT_EQ(std::string(buffer.data(), n), "late data");
        server.cancel();
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(tls, small_reads_drain_a_buffered_record) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<> {
            tls_stream peer = co_await accept_tls(listener, server_context());
            co_await peer.write_all("0123456789abcdef");
            co_await peer.shutdown();
            co_await corio::sleep(10s);  // keep the socket open: the 0 below is the close_notify
        });
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        std::array<char, 5> buffer;
        std::string got;
        while (const std::size_t n = co_await client.read_some(buffer)) {
            EXPECT_LE(n, buffer.size());
            got.append(buffer.data(), n);
        }
        EXPECT_EQ(got, "0123456789abcdef");
        EXPECT_NE(SSL_get_shutdown(client.native_handle()) & SSL_RECEIVED_SHUTDOWN, 0);
        EXPECT_EQ(co_await client.read_some(buffer), 0u);  // stays at end of stream
        server.cancel();
    }());
}

TEST(tls, eof_without_close_notify_reads_as_end_and_a_reset_throws) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto closer = corio::spawn([&listener]() -> corio::task<> {
            tls_stream abrupt = co_await accept_tls(listener, server_context());
            abrupt.close();  // FIN, no close_notify
            tls_stream rude = co_await accept_tls(listener, server_context());
            const linger abort_on_close{1, 0};  // close sends RST
            ::setsockopt(rude.tcp().native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
            rude.close();
        });
        std::array<char, 16> buffer;
        auto first = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        EXPECT_EQ(co_await first.read_some(buffer), 0u);
        auto second = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        co_await closer;
        try {
            co_await second.read_some(buffer);
            ADD_FAILURE() << "a reset read did not throw";
        } catch (const corio::net::connection_reset_error& e) {
            EXPECT_TRUE(contains(e.what(), "TLS read from localhost (127.0.0.1:")) << e.what();
        }
    }());
}

TEST(tls, async_with_sends_close_notify_and_closes) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<bool> {
            tls_stream peer = co_await accept_tls(listener, server_context());
            std::array<char, 4> buffer;
            EXPECT_EQ(co_await peer.read_some(buffer), 1u);
            co_await peer.write_all("x");
            EXPECT_EQ(co_await peer.read_some(buffer), 0u);
            co_return (SSL_get_shutdown(peer.native_handle()) & SSL_RECEIVED_SHUTDOWN) != 0;
        });
        co_await corio::async_with(connect_tls(listener.local_endpoint(), trusting_client(), "localhost"),
                                   [](tls_stream& s) -> corio::task<> {
                                       co_await s.write_all("x");
                                       std::array<char, 4> buffer;
                                       EXPECT_EQ(co_await s.read_some(buffer), 1u);  // the echo
                                   });
        EXPECT_TRUE(co_await server);  // the server got a close_notify, not a bare EOF
    }());
}

TEST(tls, aclose_of_a_vanished_peer_still_closes) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(accept_tls(listener, server_context()));
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        {
            tls_stream peer = co_await server;
            const linger abort_on_close{1, 0};
            ::setsockopt(peer.tcp().native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        }
        co_await corio::sleep(10ms);  // let the RST arrive
        co_await client.aclose();     // swallows the failed close_notify
        EXPECT_FALSE(client.is_open());
        co_await client.aclose();     // idempotent
    }());
}

TEST(tls, operations_on_a_closed_stream_throw) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(accept_tls(listener, server_context()));
        auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
        tls_stream peer = co_await server;
        client.close();
        EXPECT_FALSE(client.is_open());
        EXPECT_EQ(client.alpn_protocol(), "");
        std::array<char, 4> buffer;
        EXPECT_THROW(co_await client.read_some(buffer), corio::connection_error);
        EXPECT_THROW(co_await client.write_all("x"), corio::connection_error);
        EXPECT_THROW(co_await client.shutdown(), corio::connection_error);
        tls_stream empty;
        EXPECT_FALSE(empty.is_open());
        EXPECT_THROW(co_await empty.read_some(buffer), corio::connection_error);
    }());
}

TEST(tls_context, bad_files_are_tls_errors_at_creation) {
    try {
        tls_context::client({.ca_file = "/nonexistent/ca.pem"});
        ADD_FAILURE() << "a missing CA file was accepted";
    } catch (const tls_error& e) {
        EXPECT_TRUE(contains(e.what(), "cannot load CA file \"/nonexistent/ca.pem\"")) << e.what();
    }
    EXPECT_THROW(tls_context::client({.ca_file = pki().key_file}), tls_error);  // not a certificate
    EXPECT_THROW(tls_context::server({.certificate_chain_file = pki().cert_file, .private_key_file = "/nonexistent/key.pem"}),
                 tls_error);
    EXPECT_THROW(tls_context::server({.certificate_chain_file = "/nonexistent/cert.pem", .private_key_file = pki().key_file}),
                 tls_error);
    const auto other = pki().issue("mismatch", {});
    EXPECT_THROW(tls_context::server({.certificate_chain_file = pki().cert_file, .private_key_file = other.key_file}), tls_error);
    EXPECT_THROW(tls_context::client({.alpn = {""}}), tls_error);
    EXPECT_EQ(tls_context().native_handle(), nullptr);
    EXPECT_NE(tls_context::client().native_handle(), nullptr);
}

TEST(tls_test_pki, removes_its_directory) {
    std::string dir;
    {
        auto scratch = corio_test::test_pki::create();
        dir = scratch.dir;
        EXPECT_TRUE(std::filesystem::exists(scratch.ca_file));
        EXPECT_TRUE(std::filesystem::exists(scratch.key_file));
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace

/// One echo exchange on a new connection; whether the client resumed a session.
corio::task<bool> exchange_resumed(tcp_listener& listener, tls_context server_side, tls_context client_context) {
    auto server = corio::spawn(echo_once(listener, std::move(server_side)));
    auto client = co_await connect_tls(listener.local_endpoint(), std::move(client_context), "localhost");
    const bool resumed = client.session_reused();
    co_await client.write_all("x");
    co_await client.shutdown();
    const std::string echoed = co_await read_all(client);  // reading also takes the TLS 1.3 tickets
    EXPECT_EQ(echoed, "x");
    co_await server;
    co_return resumed;
}

TEST(tls, a_client_context_resumes_each_servers_session_unless_told_not_to) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        const tls_context server_side = server_context();  // one context: its ticket keys decrypt the tickets
        const tls_context resuming = trusting_client();
        std::vector<bool> resumed;
        for (int i = 0; i < 3; ++i) resumed.push_back(co_await exchange_resumed(listener, server_side, resuming));
        EXPECT_EQ(resumed, (std::vector<bool>{false, true, true}));
        const tls_context forgetful = tls_context::client({.ca_file = pki().ca_file, .resume_sessions = false});
        std::vector<bool> never;
        for (int i = 0; i < 2; ++i) never.push_back(co_await exchange_resumed(listener, server_side, forgetful));
        EXPECT_EQ(never, (std::vector<bool>{false, false}));
    }());
}

TEST(tls, a_server_can_require_client_certificates) {
    const auto client_files = pki().issue("client", {.common_name = "client one", .subject_alt_names = "DNS:client.example",
                                                     .extended_key_usage = "clientAuth"});
    const auto requiring = [] {
        return tls_context::server({.certificate_chain_file = pki().cert_file, .private_key_file = pki().key_file,
                                    .client_ca_file = pki().ca_file});
    };
    const tls_context with_certificate = tls_context::client(
        {.ca_file = pki().ca_file, .certificate_chain_file = client_files.cert_file, .private_key_file = client_files.key_file});
    EXPECT_EQ(handshake_error(with_certificate, "localhost", requiring()), "");
    corio::run(corio::invoke([](tls_context server_side) -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(failing_accept(listener, std::move(server_side)));
        std::string client_error;
        try {  // TLS 1.3: the client's handshake ends before the server has judged it; the refusal comes next
            auto client = co_await connect_tls(listener.local_endpoint(), trusting_client(), "localhost");
            std::array<char, 16> buffer;
            co_await client.read_some(buffer);
        } catch (const corio::connection_error& e) {
            client_error = e.what();
        }
        const std::string server_error = co_await server;
        EXPECT_TRUE(contains(server_error, "certificate")) << server_error;
        EXPECT_TRUE(contains(client_error, "certificate")) << client_error;
    }, requiring()));
}

TEST(tls, min_version_refuses_an_older_protocol) {
    tls_context old_server = server_context();
    SSL_CTX_set_max_proto_version(old_server.native_handle(), TLS1_2_VERSION);
    const tls_context modern = tls_context::client({.ca_file = pki().ca_file, .min_version = corio::net::tls_version::tls1_3});
    EXPECT_NE(handshake_error(modern, "localhost", old_server), "");
    EXPECT_EQ(handshake_error(trusting_client(), "localhost", old_server), "");
}

TEST(tls, a_ca_directory_is_trusted) {
    CORIO_REQUIRE_PROGRAM("openssl", "openssl");
    const std::string dir = pki().dir + "/ca-dir";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(pki().ca_file, dir + "/corio-test-ca.pem", std::filesystem::copy_options::overwrite_existing);
    ASSERT_EQ(std::system(("openssl rehash " + dir).c_str()), 0);  // the subject-hash names OpenSSL looks up
    EXPECT_EQ(handshake_error(tls_context::client({.ca_dir = dir}), "localhost", server_context()), "");
    EXPECT_NE(handshake_error(tls_context::client({.ca_dir = pki().dir + "/empty"}), "localhost", server_context()), "");
}
