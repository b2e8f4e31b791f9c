// net::tcp_stream / tcp_listener over real loopback sockets.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <corio/corio.hpp>
#include <corio/net/tcp.hpp>

#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

using corio_test::open_fd_count;
using namespace std::chrono_literals;
using corio::net::endpoint;
using corio::net::tcp_listener;
using corio::net::tcp_stream;

namespace {

corio::task<std::string> read_all(tcp_stream& s) {
    std::string out;
    std::array<char, 4096> buffer;
    while (const std::size_t n = co_await s.read_some(buffer)) out.append(buffer.data(), n);
    co_return out;
}

/// Accepts one connection and echoes everything back until end of stream.
corio::task<> echo_once(tcp_listener& listener) {
    tcp_stream peer = co_await listener.accept();
    std::array<char, 4096> buffer;
    while (const std::size_t n = co_await peer.read_some(buffer))
        co_await peer.write_all(std::string_view(buffer.data(), n));
}

TEST(endpoint, parses_and_formats_v4_and_v6) {
    EXPECT_EQ(endpoint::parse("127.0.0.1", 80).to_string(), "127.0.0.1:80");
    EXPECT_EQ(endpoint::parse("::1", 8080).to_string(), "[::1]:8080");
    EXPECT_THROW(endpoint::parse("localhost", 80), corio::error);
    EXPECT_THROW(endpoint::parse("300.1.1.1", 80), corio::error);
}

TEST(endpoint, compares_family_address_and_port) {
    EXPECT_EQ(endpoint::parse("127.0.0.1", 80), endpoint::parse("127.0.0.1", 80));
    EXPECT_FALSE(endpoint::parse("127.0.0.1", 80) == endpoint::parse("127.0.0.1", 81));
    EXPECT_FALSE(endpoint::parse("127.0.0.1", 80) == endpoint::parse("127.0.0.2", 80));
    EXPECT_FALSE(endpoint::parse("::1", 80) == endpoint::parse("127.0.0.1", 80));
    corio::run([]() -> corio::task<> {
        const auto bound = tcp_listener::bind(endpoint::parse("127.0.0.1", 0)).local_endpoint();  // from the kernel
        EXPECT_EQ(bound, endpoint::parse("127.0.0.1", bound.port()));
        co_return;
    }());
}

TEST(tcp, echo_round_trip_on_ipv4_and_ipv6) {
    for (const char* address : {"127.0.0.1", "::1"}) {
        corio::run(corio::invoke([](std::string addr) -> corio::task<> {
            auto listener = tcp_listener::bind(endpoint::parse(addr, 0));
            auto server = corio::spawn(echo_once(listener));
            auto client = co_await tcp_stream::connect(listener.local_endpoint());
            co_await client.write_all("hello over " + addr);
            client.shutdown_write();
            EXPECT_EQ(co_await read_all(client), "hello over " + addr);
            co_await server;
        }, address));
    }
}

TEST(tcp, large_writes_wait_for_a_slow_reader) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        const std::string payload(16 << 20, 'x');  // far beyond the socket buffers
        auto reader = corio::spawn([&listener]() -> corio::task<std::size_t> {
            tcp_stream peer = co_await listener.accept();
            co_await corio::sleep(20ms);  // let the writer fill the buffers and wait
            co_return (co_await read_all(peer)).size();
        });
        auto client = co_await tcp_stream::connect(listener.local_endpoint());
        co_await client.write_all(payload);
        client.close();
        EXPECT_EQ(co_await reader, payload.size());
    }());
}

TEST(tcp, refused_connection_is_a_connect_error_naming_the_peer) {
    corio::run([]() -> corio::task<> {
        // A port that was just free: bind, learn the port, close.
        auto probe = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        const endpoint closed = probe.local_endpoint();
        probe.close();
        try {
            co_await tcp_stream::connect(closed);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const corio::net::connect_error& e) {
            EXPECT_NE(std::string(e.what()).find(closed.to_string()), std::string::npos) << e.what();
        }
    }());
}

TEST(tcp, idle_read_times_out_naming_the_peer) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto silent = corio::spawn([&listener]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            co_await corio::sleep(1s);
        });
        auto client = co_await tcp_stream::connect(listener.local_endpoint(), {.read_timeout = 30ms});
        std::array<char, 16> buffer;
        try {
            co_await client.read_some(buffer);
            ADD_FAILURE() << "read did not time out";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("read from 127.0.0.1:"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("30ms"), std::string::npos) << e.what();
        }
        silent.cancel();
    }());
}

TEST(tcp, the_longest_read_timeout_means_no_limit) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto late = corio::spawn([&listener]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            co_await corio::sleep(20ms);
            co_await peer.write_all("late");
        });
        auto client = co_await tcp_stream::connect(listener.local_endpoint(), {.read_timeout = std::chrono::nanoseconds::max()});
        std::array<char, 16> buffer;
        const std::size_t n = co_await client.read_some(buffer);  // used to time out at once
        EXPECT_EQ(std::string_view(buffer.data(), n), "late");
        co_await late;
    }());
}

TEST(tcp, end_of_stream_and_reset_are_told_apart) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        corio::event connected;  // the reset comes after the connect completed (else connect reports it)
        auto closer = corio::spawn([&listener, &connected]() -> corio::task<> {
            tcp_stream polite = co_await listener.accept();
            polite.close();  // FIN: the peer reads end of stream
            tcp_stream rude = co_await listener.accept();
            co_await connected.wait();
            const linger abort_on_close{1, 0};  // close sends RST
            ::setsockopt(rude.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
            rude.close();
        });
        std::array<char, 16> buffer;
        auto first = co_await tcp_stream::connect(listener.local_endpoint());
        EXPECT_EQ(co_await first.read_some(buffer), 0u);
        auto second = co_await tcp_stream::connect(listener.local_endpoint());
        connected.set();
        co_await closer;
        EXPECT_THROW(co_await second.read_some(buffer), corio::net::connection_reset_error);
    }());
}

TEST(tcp, cancelling_a_read_leaks_no_descriptor_and_loses_no_data) {
    const std::size_t fds_before = open_fd_count();
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn([&listener]() -> corio::task<> {
            tcp_stream peer = co_await listener.accept();
            co_await corio::sleep(50ms);
            co_await peer.write_all("late data");
            co_await corio::sleep(1s);
        });
        auto client = co_await tcp_stream::connect(listener.local_endpoint());
        std::array<char, 64> buffer;
        EXPECT_THROW(co_await corio::wait_for(client.read_some(buffer), 10ms), corio::timeout_error);
        const std::size_t n = co_await client.read_some(buffer);  // the data is still there
        EXPECT_EQ(std::string(buffer.data(), n), "late data");
        server.cancel();
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

/// Awaits `server`, a task returning what it read up to end of stream; fails the test instead of
/// hanging if the end never comes (the client's side was never closed).
corio::task<std::string> read_until_end_of_stream(corio::join_handle<std::string> server) {
    try {
        co_return co_await corio::wait_for(server, 2s);
    } catch (const corio::timeout_error&) {
        ADD_FAILURE() << "the server never read end of stream: the client's stream was not closed";
    }
    co_return "";
}

TEST(tcp, async_with_closes_the_stream) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        corio::event accepted;  // every descriptor is open before the client's closes
        const auto read_one_connection = [&listener, &accepted]() -> corio::task<std::string> {
            tcp_stream peer = co_await listener.accept();
            accepted.set();
            co_return co_await read_all(peer);  // returns at end of stream only
        };

        // As it is used: the stream is the resource.
        auto server = corio::spawn(read_one_connection);
        int client_fd = -1;
        auto write_x = [&client_fd, &accepted](tcp_stream& s) -> corio::task<> {
            client_fd = s.native_handle();
            co_await accepted.wait();
            co_await s.write_all("x");
        };
        co_await corio::async_with(tcp_stream::connect(listener.local_endpoint()), std::move(write_x));
        CO_ASSERT_TRUE(client_fd >= 0);
        errno = 0;
        EXPECT_EQ(::fcntl(client_fd, F_GETFD), -1) << "the client's descriptor is still open";
        EXPECT_EQ(errno, EBADF);
        EXPECT_EQ(co_await read_until_end_of_stream(server), "x");

        // Through a pointer the test keeps: the stream object outlives async_with, so only
        // async_with's aclose() (not a destructor) can have closed it.
        accepted.clear();
        auto second_server = corio::spawn(read_one_connection);
        std::shared_ptr<tcp_stream> kept;
        auto open_shared = corio::invoke([&listener]() -> corio::task<std::shared_ptr<tcp_stream>> {
            auto stream = co_await tcp_stream::connect(listener.local_endpoint());
            co_return std::make_shared<tcp_stream>(std::move(stream));
        });
        auto keep_and_write_y = [&kept, &accepted](std::shared_ptr<tcp_stream>& s) -> corio::task<> {
            kept = s;
            co_await accepted.wait();
            co_await s->write_all("y");
        };
        co_await corio::async_with(std::move(open_shared), std::move(keep_and_write_y));
        CO_ASSERT_TRUE(kept != nullptr);
        EXPECT_FALSE(kept->is_open()) << "async_with did not close the stream";
        EXPECT_EQ(kept->native_handle(), -1);
        EXPECT_EQ(co_await read_until_end_of_stream(second_server), "y");
    }());
}

TEST(tcp, operations_on_a_closed_stream_throw) {
    corio::run([]() -> corio::task<> {
        auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto server = corio::spawn(echo_once(listener));
        auto client = co_await tcp_stream::connect(listener.local_endpoint());
        client.close();
        std::array<char, 4> buffer;
        EXPECT_THROW(co_await client.read_some(buffer), corio::connection_error);
        EXPECT_THROW(co_await client.write_all("x"), corio::connection_error);
        co_await server;
    }());
}

TEST(tcp, async_with_closes_the_listener) {
    corio::run([]() -> corio::task<> {
        auto bound = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1", 0)));
        const endpoint where = bound->local_endpoint();
        auto open_listener = [bound]() -> corio::task<std::shared_ptr<tcp_listener>> { co_return bound; };
        co_await corio::async_with(open_listener(), [](std::shared_ptr<tcp_listener>& listener) -> corio::task<> {
            auto accepting = corio::spawn(listener->accept());
            auto client = co_await tcp_stream::connect(listener->local_endpoint());
            co_await accepting;
        });
        // The listener object is still alive here: only aclose() can have closed its socket.
        EXPECT_THROW(co_await bound->accept(), corio::connection_error);
        EXPECT_THROW(co_await tcp_stream::connect(where), corio::net::connect_error);
    }());
}

}  // namespace

namespace {

/// Connects to `peers` with `delay` between attempts within `budget`; expects the `good` address
/// to win and returns how long it took.
corio::task<std::chrono::steady_clock::duration> time_to_connect(std::vector<endpoint> peers, endpoint good,
                                                                 std::chrono::milliseconds delay, std::chrono::milliseconds budget) {
    corio::net::tcp_options options;
    options.connect_timeout = budget;
    options.happy_eyeballs_delay = delay;
    const auto started = std::chrono::steady_clock::now();
    tcp_stream winner = co_await tcp_stream::connect(std::move(peers), "two addresses", options);
    EXPECT_EQ(winner.peer().to_string(), good.to_string());
    co_return std::chrono::steady_clock::now() - started;
}

}  // namespace

TEST(tcp, happy_eyeballs_races_a_stalled_address_with_the_next_one) {
    corio::run([]() -> corio::task<> {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a connect stalls.
        auto stalled = tcp_listener::bind(endpoint::parse("127.0.0.1", 0), {.backlog = 1});
        std::vector<tcp_stream> filling;
        corio::net::tcp_options quick;
        quick.connect_timeout = 200ms;
        for (int i = 0; i < 8; ++i) {
            try {
                tcp_stream s = co_await tcp_stream::connect(stalled.local_endpoint(), quick);
                filling.push_back(std::move(s));
            } catch (const corio::timeout_error&) {
                break;  // full
            }
        }
        auto good = tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        const std::vector<endpoint> both{stalled.local_endpoint(), good.local_endpoint()};
        // Generous bounds, not speed claims: racing does not wait out the stalled address's 5 s;
        // without racing (delay 0) the stalled address takes its whole 300 ms first.
        const auto racing = co_await time_to_connect(both, good.local_endpoint(), 50ms, 5000ms);
        EXPECT_LT(racing, 2500ms);
        const auto one_by_one = co_await time_to_connect(both, good.local_endpoint(), 0ms, 300ms);
        EXPECT_GE(one_by_one, 250ms);
    }());
}
