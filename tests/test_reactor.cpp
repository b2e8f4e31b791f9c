// The event loop's reactors: choosing one (loop_options::backend, CORIO_BACKEND) and what each
// must do alike — readiness (edge- and level-triggered), wake-ups from other threads, timed waits,
// and TCP over real loopback sockets. The whole suite also runs on each backend (.ci/run).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <corio/corio.hpp>
#include <corio/net/tcp.hpp>

#include <array>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::io_backend;

namespace {

/// Sets (or, with nullptr, unsets) CORIO_BACKEND for the scope.
class backend_variable {
public:
    explicit backend_variable(const char* value) {
        if (const char* old = std::getenv("CORIO_BACKEND")) saved_ = old;
        if (value != nullptr)
            ::setenv("CORIO_BACKEND", value, 1);
        else
            ::unsetenv("CORIO_BACKEND");
    }
    ~backend_variable() {
        if (saved_)
            ::setenv("CORIO_BACKEND", saved_->c_str(), 1);
        else
            ::unsetenv("CORIO_BACKEND");
    }
    backend_variable(const backend_variable&) = delete;
    backend_variable& operator=(const backend_variable&) = delete;

private:
    std::optional<std::string> saved_;
};

bool io_uring_allowed() {
    try {
        corio::event_loop loop({.backend = io_backend::io_uring});
        return true;
    } catch (const corio::error&) {
        return false;
    }
}

/// Counts the events it hears, and what they were.
struct counting_watcher final : corio::detail::io_watcher {
    int calls = 0;
    std::uint32_t last = 0;
    void on_io_events(std::uint32_t events) noexcept override {
        ++calls;
        last = events;
    }
};

struct pipe_fds {
    int read = -1, write = -1;
    pipe_fds() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
            read = fds[0];
            write = fds[1];
        }
    }
    ~pipe_fds() {
        if (read >= 0) ::close(read);
        if (write >= 0) ::close(write);
    }
    void put(char c) const { EXPECT_EQ(::write(write, &c, 1), 1); }
};

}  // namespace

TEST(reactor_choice, environment_names_the_backend_or_is_refused) {
    {
        const backend_variable epoll("epoll");
        corio::event_loop loop;
        EXPECT_EQ(loop.backend(), io_backend::epoll);
        EXPECT_EQ(corio::to_string(loop.backend()), "epoll");
    }
    {
        const backend_variable bogus("kqueue");
        try {
            corio::event_loop loop;
            ADD_FAILURE() << "CORIO_BACKEND=kqueue was accepted";
        } catch (const corio::error& e) {
            EXPECT_NE(std::string(e.what()).find("CORIO_BACKEND=kqueue is not a backend"), std::string::npos) << e.what();
        }
    }
    if (!io_uring_allowed()) GTEST_SKIP() << "io_uring is not allowed here";
    const backend_variable uring("io_uring");
    corio::event_loop loop;
    EXPECT_EQ(loop.backend(), io_backend::io_uring);
}

TEST(reactor_choice, options_override_the_environment_and_automatic_prefers_io_uring) {
    const backend_variable uring(nullptr);
    corio::event_loop forced({.backend = io_backend::epoll});
    EXPECT_EQ(forced.backend(), io_backend::epoll);
    corio::event_loop chosen;  // automatic
    EXPECT_EQ(chosen.backend(), io_uring_allowed() ? io_backend::io_uring : io_backend::epoll);
}

class on_backend : public ::testing::TestWithParam<io_backend> {
protected:
    void SetUp() override {
        if (GetParam() == io_backend::io_uring && !io_uring_allowed()) GTEST_SKIP() << "io_uring is not allowed here";
    }
    corio::run_options options() const { return {.backend = GetParam()}; }
};

INSTANTIATE_TEST_SUITE_P(both, on_backend, ::testing::Values(io_backend::epoll, io_backend::io_uring),
                         [](const auto& info) { return std::string(corio::to_string(info.param)); });

TEST_P(on_backend, edge_triggered_watch_reports_each_new_arrival_until_unwatched) {
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto& loop = corio::current_loop("test");
                   const pipe_fds pipe;
                   counting_watcher watcher;
                   loop.watch(pipe.read, EPOLLIN, watcher);
                   pipe.put('a');
                   co_await corio::sleep(20ms);  // real time: the loop waits in its reactor
                   EXPECT_EQ(watcher.calls, 1);
                   EXPECT_TRUE(watcher.last & EPOLLIN);
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(watcher.calls, 1) << "an edge is reported once";
                   pipe.put('b');
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(watcher.calls, 2);
                   loop.unwatch(pipe.read);
                   pipe.put('c');
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(watcher.calls, 2) << "an unwatched fd is silent";
               }),
               options());
}

TEST_P(on_backend, level_triggered_watch_repeats_while_the_fd_stays_ready) {
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto& loop = corio::current_loop("test");
                   const pipe_fds pipe;
                   counting_watcher watcher;
                   loop.watch(pipe.read, EPOLLIN, watcher, /*edge=*/false);
                   pipe.put('a');
                   co_await corio::sleep(30ms);
                   EXPECT_GE(watcher.calls, 2) << "data left unread is reported again";
                   char byte;
                   EXPECT_EQ(::read(pipe.read, &byte, 1), 1);
                   co_await corio::sleep(10ms);
                   const int drained_at = watcher.calls;
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(watcher.calls, drained_at) << "a drained fd is silent";
                   loop.rewatch(pipe.read, EPOLLOUT, watcher, false);  // a pipe's read end is never writable
                   pipe.put('b');
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(watcher.calls, drained_at) << "rewatch replaced the events";
                   loop.unwatch(pipe.read);
               }),
               options());
}

TEST_P(on_backend, a_registration_closed_by_its_owner_is_forgotten) {
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto& loop = corio::current_loop("test");
                   counting_watcher first, second;
                   auto* pipe = new pipe_fds;
                   const int number = pipe->read;
                   loop.watch(number, EPOLLIN, first);
                   delete pipe;  // closed while registered
                   loop.unwatch_closed(number);
                   const pipe_fds reused;  // likely gets the same number
                   loop.watch(reused.read, EPOLLIN, second);
                   reused.put('x');
                   co_await corio::sleep(20ms);
                   EXPECT_EQ(second.calls, 1);
                   EXPECT_EQ(first.calls, 0);
                   loop.unwatch(reused.read);
               }),
               options());
}

TEST_P(on_backend, a_post_from_another_thread_wakes_a_blocked_loop) {
    const auto result = corio::run(corio::invoke([]() -> corio::task<int> {
                                       corio::event e;
                                       int value = 0;
                                       const auto handle = corio::current_loop("test").handle();
                                       std::thread poster([&] {
                                           std::this_thread::sleep_for(20ms);
                                           handle.post([&] {
                                               value = 42;
                                               e.set();
                                           });
                                       });
                                       co_await e.wait();
                                       poster.join();
                                       co_return value;
                                   }),
                                   options());
    EXPECT_EQ(result, 42);
}

TEST_P(on_backend, tcp_carries_a_megabyte_both_ways) {
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
                   const std::string payload(1 << 20, 'z');
                   auto echo = [&listener]() -> corio::task<> {
                       auto peer = co_await listener.accept();
                       std::array<char, 65536> buffer;
                       while (const std::size_t n = co_await peer.read_some(buffer))
                           co_await peer.write_all(std::string_view(buffer.data(), n));
                   };
                   auto server = corio::spawn(echo());
                   auto client = co_await corio::net::tcp_stream::connect(listener.local_endpoint());
                   auto writer = [&client, &payload]() -> corio::task<> {
                       co_await client.write_all(payload);
                       client.shutdown_write();
                   };
                   auto sending = corio::spawn(writer());
                   std::string echoed;
                   std::array<char, 65536> buffer;
                   while (const std::size_t n = co_await client.read_some(buffer)) echoed.append(buffer.data(), n);
                   co_await sending;
                   co_await server;
                   EXPECT_EQ(echoed.size(), payload.size());
                   EXPECT_EQ(echoed, payload);
               }),
               options());
}

TEST_P(on_backend, a_cancelled_write_reports_what_it_sent_and_the_stream_can_still_be_read) {
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
                   auto client = co_await corio::net::tcp_stream::connect(listener.local_endpoint());
                   auto peer = co_await listener.accept();  // reads nothing: the socket buffers fill up
                   const std::string big(64 << 20, 'w');
                   EXPECT_THROW(co_await corio::wait_for(client.write_all(big), 100ms), corio::timeout_error);
                   const std::size_t sent = client.last_write_sent();
                   EXPECT_GT(sent, 0u);
                   EXPECT_LT(sent, big.size());
                   client.close();
                   std::size_t received = 0;
                   std::array<char, 65536> buffer;
                   while (const std::size_t n = co_await peer.read_some(buffer)) received += n;
                   EXPECT_EQ(received, sent) << "the peer got exactly the prefix the write reported";
               }),
               options());
}

TEST_P(on_backend, many_connections_with_unread_data_lose_nothing) {
    // More unread bytes than the io_uring reactor's provided buffers hold (512 x 8 KiB): receives
    // pause per connection and, when the buffers run out, reads fall back to recv.
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
                   constexpr int connections = 200;
                   constexpr std::size_t each = 40'000;
                   std::vector<corio::net::tcp_stream> clients, servers;
                   for (int i = 0; i < connections; ++i) {
                       clients.push_back(co_await corio::net::tcp_stream::connect(listener.local_endpoint()));
                       servers.push_back(co_await listener.accept());
                   }
                   std::array<char, 1> probe;
                   for (auto& s : servers)  // each starts receiving, then nobody reads for a while
                       EXPECT_THROW(co_await corio::wait_for(s.read_some(probe), 1ms), corio::timeout_error);
                   for (int i = 0; i < connections; ++i) {
                       const std::string payload(each, static_cast<char>('a' + i % 26));
                       co_await clients[static_cast<std::size_t>(i)].write_all(payload);
                       clients[static_cast<std::size_t>(i)].shutdown_write();
                   }
                   co_await corio::sleep(50ms);  // the receives fill up, pause, run out of buffers
                   for (int i = 0; i < connections; ++i) {
                       std::string got;
                       std::array<char, 4096> buffer;
                       while (const std::size_t n = co_await servers[static_cast<std::size_t>(i)].read_some(buffer))
                           got.append(buffer.data(), n);
                       CO_ASSERT_EQ(got, std::string(each, static_cast<char>('a' + i % 26)));
                   }
               }),
               options());
}

TEST_P(on_backend, a_cancelled_accept_loses_no_connection_and_closing_frees_everything) {
    const std::size_t fds_before = corio_test::open_fd_count();
    corio::run(corio::invoke([]() -> corio::task<> {
                   auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
                   EXPECT_THROW(co_await corio::wait_for(listener.accept(), 10ms), corio::timeout_error);
                   auto a = co_await corio::net::tcp_stream::connect(listener.local_endpoint());
                   auto b = co_await corio::net::tcp_stream::connect(listener.local_endpoint());
                   co_await corio::sleep(10ms);  // both are taken off the backlog (by the ring on io_uring)
                   auto first = co_await listener.accept();
                   auto second = co_await listener.accept();
                   co_await a.write_all("to first");
                   co_await first.write_all("hello");
                   std::array<char, 16> buffer;
                   const std::size_t n = co_await a.read_some(buffer);
                   EXPECT_EQ(std::string_view(buffer.data(), n), "hello");
                   auto c = co_await corio::net::tcp_stream::connect(listener.local_endpoint());
                   co_await corio::sleep(10ms);
                   listener.close();  // with c's connection taken but not accepted: closed with it
                   bool ended = false;
                   try {
                       const std::size_t rest = co_await c.read_some(buffer);
                       ended = rest == 0;
                   } catch (const corio::net::connection_reset_error&) {
                       ended = true;
                   }
                   EXPECT_TRUE(ended) << "a connection the listener took but nobody accepted is closed with it";
                   (void)second;
               }),
               options());
    EXPECT_EQ(corio_test::open_fd_count(), fds_before);
}
