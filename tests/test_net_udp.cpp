// net::udp_socket over real loopback sockets, IPv4 and IPv6.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/net/udp.hpp>

#include <unistd.h>

#include <array>
#include <string>

using corio_test::expect_throws;
using corio_test::open_fd_count;
using namespace std::chrono_literals;
using corio::net::endpoint;
using corio::net::udp_socket;

namespace {

/// Sends a datagram from a fresh socket to a bound one on `address` and checks what arrives.
corio::task<> round_trip_on(std::string address) {
    auto server = udp_socket::bind(endpoint::parse(address, 0));
    auto client = udp_socket::bind(endpoint::parse(address, 0));
    EXPECT_NE(server.local_endpoint().port(), 0);
    co_await client.send_to("ping", server.local_endpoint());
    std::array<char, 64> buffer;
    const corio::net::received_datagram got = co_await server.receive_from(buffer);
    EXPECT_EQ(std::string(buffer.data(), got.size), "ping");
    EXPECT_EQ(got.sender, client.local_endpoint());
    EXPECT_FALSE(got.truncated);
    co_await server.send_to("pong", got.sender);  // the answer goes back to the sender
    const corio::net::received_datagram answer = co_await client.receive_from(buffer);
    EXPECT_EQ(std::string(buffer.data(), answer.size), "pong");
    EXPECT_EQ(answer.sender, server.local_endpoint());
}

TEST(udp, send_and_receive_on_ipv4_and_ipv6) {
    corio::run([]() -> corio::task<> {
        co_await round_trip_on("127.0.0.1");
        co_await round_trip_on("::1");
    }());
}

TEST(udp, a_datagram_longer_than_the_buffer_is_reported_truncated) {
    corio::run([]() -> corio::task<> {
        auto server = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
        auto client = udp_socket::connect(server.local_endpoint());
        co_await client.send("0123456789");
        co_await client.send("abc");
        std::array<char, 4> small;
        const auto cut = co_await server.receive_from(small);
        EXPECT_TRUE(cut.truncated);
        EXPECT_EQ(std::string(small.data(), cut.size), "0123");
        const auto whole = co_await server.receive_from(small);  // the rest of the first is gone
        EXPECT_FALSE(whole.truncated);
        EXPECT_EQ(std::string(small.data(), whole.size), "abc");
    }());
}

TEST(udp, connected_mode_talks_to_one_peer_only) {
    corio::run([]() -> corio::task<> {
        auto server = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
        auto client = udp_socket::connect(server.local_endpoint());
        auto stranger = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
        EXPECT_TRUE(client.is_connected());
        EXPECT_EQ(client.peer(), server.local_endpoint());
        co_await client.send("hello");
        std::array<char, 64> buffer;
        const auto got = co_await server.receive_from(buffer);
        EXPECT_EQ(got.sender, client.local_endpoint());
        co_await stranger.send_to("not for you", client.local_endpoint());  // the kernel drops it
        co_await server.send_to("reply", got.sender);
        const auto reply = co_await client.receive(buffer);
        EXPECT_EQ(std::string(buffer.data(), reply.size), "reply");
        EXPECT_EQ(reply.sender, server.local_endpoint());
        co_await expect_throws<corio::connection_error>(server.send("x"), "not connected");
    }());
}

TEST(udp, a_refused_peer_is_a_connect_error_on_the_next_call) {
    corio::run([]() -> corio::task<> {
        endpoint closed;
        {
            auto gone = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
            closed = gone.local_endpoint();
        }
        auto client = udp_socket::connect(closed);
        co_await client.send("anyone?");  // ICMP port unreachable comes back
        std::array<char, 16> buffer;
        co_await expect_throws<corio::net::connect_error>(client.receive(buffer), closed.to_string());
    }());
}

TEST(udp, after_a_refused_peer_a_receive_still_waits_and_times_out) {
    ::alarm(30);  // the bug this guards against spins the loop forever: SIGALRM fails the test
    corio::run([]() -> corio::task<> {
        endpoint closed;
        {
            auto gone = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
            closed = gone.local_endpoint();
        }
        auto client = udp_socket::connect(closed, {.receive_timeout = 50ms});
        std::array<char, 16> buffer;
        co_await expect_throws<corio::timeout_error>(client.receive(buffer));  // registered (io_uring: at the first wait)
        co_await client.send("anyone?");  // ICMP port unreachable comes back
        co_await corio::sleep(20ms);      // the loop polls meanwhile: it sees EPOLLERR
        co_await expect_throws<corio::net::connect_error>(client.receive(buffer), closed.to_string());
        co_await expect_throws<corio::timeout_error>(client.receive(buffer), "receive on " + closed.to_string() + " timed out after 50ms");
        auto back = udp_socket::bind(closed);  // the peer comes back: its datagram still arrives
        client.options().receive_timeout = 5s;
        auto receiving = corio::spawn(client.receive(buffer));
        co_await corio::sleep(5ms);
        co_await back.send_to("here", client.local_endpoint());
        const auto got = co_await receiving;
        EXPECT_EQ(std::string(buffer.data(), got.size), "here");
    }());
    ::alarm(0);
}

TEST(udp, receive_times_out_naming_the_socket) {
    corio::run([]() -> corio::task<> {
        auto socket = udp_socket::bind(endpoint::parse("127.0.0.1", 0), {.receive_timeout = 20ms});
        std::array<char, 16> buffer;
        co_await expect_throws<corio::timeout_error>(socket.receive_from(buffer),
                                                     "receive on " + socket.local_endpoint().to_string() + " timed out after 20ms");
    }());
}

TEST(udp, a_cancelled_receive_loses_no_datagram_and_no_descriptor) {
    const std::size_t fds_before = open_fd_count();
    corio::run([]() -> corio::task<> {
        auto server = udp_socket::bind(endpoint::parse("::1", 0));
        auto client = udp_socket::connect(server.local_endpoint());
        std::array<char, 64> buffer;
        EXPECT_THROW(co_await corio::wait_for(server.receive_from(buffer), 10ms), corio::timeout_error);
        co_await corio_test::expect_cancel_propagates(server.receive_from(buffer), 5ms);
        co_await client.send("after the cancel");
        const auto got = co_await server.receive_from(buffer);
        EXPECT_EQ(std::string(buffer.data(), got.size), "after the cancel");
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(udp, errors_name_the_socket_and_the_errno) {
    corio::run([]() -> corio::task<> {
        auto socket = udp_socket::bind(endpoint::parse("127.0.0.1", 0));
        const std::string huge(70'000, 'x');  // over UDP's 65507-byte limit
        co_await expect_throws<corio::connection_error>(socket.send_to(huge, socket.local_endpoint()),
                                                        "send to " + socket.local_endpoint().to_string() + " failed: Message too long");
        EXPECT_THROW(udp_socket::bind(socket.local_endpoint()), corio::connection_error);  // the port is taken
        socket.close();
        std::array<char, 16> buffer;
        co_await expect_throws<corio::connection_error>(socket.receive_from(buffer), "is closed");
    }());
}

}  // namespace
