// net::unix_stream / unix_listener over real Unix-domain sockets (files and the abstract namespace).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <corio/corio.hpp>
#include <corio/net/unix.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using corio_test::expect_throws;
using corio_test::open_fd_count;
using namespace std::chrono_literals;
using corio::net::unix_listener;
using corio::net::unix_stream;

namespace {

/// A fresh directory for socket files, removed with what is left in it.
class socket_dir {
public:
    socket_dir() {
        char pattern[] = "/tmp/corio-unix-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~socket_dir() { std::filesystem::remove_all(path_); }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

bool exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

/// A unique abstract-namespace name for this process.
std::string abstract_name(const char* what) { return "@corio-test-" + std::to_string(::getpid()) + "-" + what; }

/// Accepts one connection and echoes everything back until end of stream.
corio::task<> echo_once(unix_listener& listener) {
    unix_stream peer = co_await listener.accept();
    std::array<char, 4096> buffer;
    while (const std::size_t n = co_await peer.read_some(buffer))
        co_await peer.write_all(std::string_view(buffer.data(), n));
}

/// Sends `message` through an echo server at `path`, returns what came back.
corio::task<std::string> echo_through(unix_listener& listener, std::string path, std::string message) {
    auto server = corio::spawn(echo_once(listener));
    auto client = co_await unix_stream::connect(path);
    co_await client.write_all(message);
    client.shutdown_write();
    std::string out;
    std::array<char, 4096> buffer;
    while (const std::size_t n = co_await client.read_some(buffer)) out.append(buffer.data(), n);
    co_await server;
    co_return out;
}

TEST(unix_socket, echo_round_trip_through_a_socket_file) {
    const socket_dir dir;
    const std::string path = dir / "echo.sock";
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(path);
        EXPECT_EQ(listener.path(), path);
        EXPECT_TRUE(exists(path));
        const std::string big(200'000, 'x');  // more than a socket buffer: writes wait for the reader
        EXPECT_EQ(co_await echo_through(listener, path, "hello"), "hello");
        EXPECT_EQ(co_await echo_through(listener, path, big), big);
    }());
}

TEST(unix_socket, abstract_namespace_makes_no_file) {
    const std::string name = abstract_name("echo");
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name);
        EXPECT_FALSE(exists(name.substr(1)));
        EXPECT_FALSE(exists(name));
        EXPECT_EQ(co_await echo_through(listener, name, "abstract"), "abstract");
    }());
}

TEST(unix_socket, connecting_to_a_missing_path_is_a_connect_error_naming_it) {
    const socket_dir dir;
    const std::string path = dir / "missing.sock";
    corio::run([&]() -> corio::task<> {
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect(path),
                                                          "connect to " + path + " failed: No such file or directory");
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect(abstract_name("missing")), "Connection refused");
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect("/tmp/" + std::string(200, 'p')), "at most 107");
    }());
}

TEST(unix_socket, an_abstract_name_may_fill_all_of_sun_path) {
    std::string name = abstract_name("long");
    name.resize(sizeof(sockaddr_un::sun_path), 'x');  // '@' (the NUL) and 107 bytes: no NUL ends it
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name);
        EXPECT_EQ(co_await echo_through(listener, name, "long name"), "long name");
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect(name + "y"), "has 109 bytes, at most 108 fit");
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect("/" + std::string(107, 'p')), "has 108 bytes, at most 107 fit");
    }());
}

TEST(unix_socket, the_listener_removes_its_socket_file_on_close_and_destruction) {
    const socket_dir dir;
    const std::string path = dir / "gone.sock";
    corio::run([&]() -> corio::task<> {
        {
            auto listener = unix_listener::bind(path);
            EXPECT_TRUE(exists(path));
            auto moved = std::move(listener);  // the file goes with the moved-to listener
            listener.close();
            EXPECT_TRUE(exists(path));
        }
        EXPECT_FALSE(exists(path));
        auto listener = unix_listener::bind(path);
        co_await listener.aclose();
        EXPECT_FALSE(exists(path));
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect(path), "No such file");
    }());
}

TEST(unix_socket, bind_replaces_a_stale_socket_file_but_not_a_live_one_or_another_file) {
    const socket_dir dir;
    const std::string stale = dir / "stale.sock";
    const std::string live = dir / "live.sock";
    const std::string plain = dir / "plain.txt";
    {  // a server that died without removing its file
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, stale.c_str());
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ::close(fd);
    }
    std::ofstream(plain) << "keep me";
    corio::run([&]() -> corio::task<> {
        co_await expect_throws<corio::net::connect_error>(unix_stream::connect(stale), "Connection refused");
        auto replaced = unix_listener::bind(stale);
        EXPECT_EQ(co_await echo_through(replaced, stale, "again"), "again");

        auto first = unix_listener::bind(live);
        try {
            unix_listener::bind(live);
            ADD_FAILURE() << "a second bind over a live socket succeeded";
        } catch (const corio::connection_error& e) {
            EXPECT_NE(std::string(e.what()).find("listen on " + live + " failed: Address already in use"), std::string::npos) << e.what();
        }
        EXPECT_THROW(unix_listener::bind(plain), corio::connection_error);
        co_return;
    }());
    std::ifstream in(plain);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "keep me");
}

TEST(unix_socket, idle_read_times_out_naming_the_path) {
    const std::string name = abstract_name("idle");
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name);
        auto client = co_await unix_stream::connect(name, {.read_timeout = 30ms});
        unix_stream silent = co_await listener.accept();
        std::array<char, 16> buffer;
        co_await expect_throws<corio::timeout_error>(client.read_some(buffer), "read from " + name + " timed out after 30ms");
        silent.options().write_timeout = 20ms;  // nobody reads: the accepted side's write stalls
        const std::string big(4 << 20, 'x');
        co_await expect_throws<corio::timeout_error>(silent.write_all(big), "write to " + name + " made no progress for 20ms");
        EXPECT_GT(silent.last_write_sent(), 0u);
    }());
}

TEST(unix_socket, cancelling_accept_and_read_loses_no_connection_and_no_data) {
    const std::size_t fds_before = open_fd_count();
    const std::string name = abstract_name("cancel");
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name);
        EXPECT_THROW(co_await corio::wait_for(listener.accept(), 10ms), corio::timeout_error);
        auto client = co_await unix_stream::connect(name);
        unix_stream server = co_await listener.accept();  // the connection made after the cancelled accept
        std::array<char, 64> buffer;
        EXPECT_THROW(co_await corio::wait_for(client.read_some(buffer), 10ms), corio::timeout_error);
        co_await server.write_all("late data");
        const std::size_t n = co_await client.read_some(buffer);  // the data is still there
        EXPECT_EQ(std::string(buffer.data(), n), "late data");
        co_await corio_test::expect_cancel_propagates(listener.accept(), 5ms);
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(unix_socket, a_full_backlog_bounds_connect_by_its_timeout_and_frees_up_on_accept) {
    const std::string name = abstract_name("backlog");
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name, {.backlog = 1});
        std::vector<unix_stream> queued;  // connected, never accepted: they fill the backlog
        bool timed_out = false;
        for (int i = 0; i < 16 && !timed_out; ++i) {
            try {
                queued.push_back(co_await unix_stream::connect(name, {.connect_timeout = 30ms}));
            } catch (const corio::timeout_error& e) {
                EXPECT_NE(std::string(e.what()).find("connect to " + name + " timed out after 30ms"), std::string::npos) << e.what();
                timed_out = true;
            }
        }
        CO_ASSERT_TRUE(timed_out);
        auto waiting = corio::spawn(unix_stream::connect(name, {.connect_timeout = 5s}));
        co_await corio::sleep(20ms);
        unix_stream first = co_await listener.accept();  // room in the backlog: the waiting connect gets in
        unix_stream late = co_await waiting;
        EXPECT_TRUE(late.is_open());
    }());
}

TEST(unix_socket, closing_the_listener_fails_a_pending_accept) {
    const std::string name = abstract_name("close");
    corio::run([&]() -> corio::task<> {
        auto listener = unix_listener::bind(name);
        auto pending = corio::spawn([&listener, &name]() -> corio::task<> {
            co_await expect_throws<corio::connection_error>(listener.accept(), "accept on " + name);
        });
        co_await corio::sleep(5ms);
        listener.close();
        co_await pending;
    }());
}

}  // namespace
