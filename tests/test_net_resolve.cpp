// net::resolve against the hosts file and a real (tiny) DNS server on loopback UDP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/corio.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/tcp.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::net::endpoint;

namespace {

/// A DNS server on 127.0.0.1 speaking just enough of RFC 1035 for one-question queries:
///   <name>.corio.test  -> A 127.0.0.<n> where <name> is "host<n>"; no AAAA records
///   silent.corio.test  -> never answered
///   anything else      -> NXDOMAIN
class tiny_dns_server {
public:
    tiny_dns_server() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        const timeval poll_interval{0, 50'000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &poll_interval, sizeof poll_interval);
        thread_ = std::thread([this] { serve(); });
    }
    ~tiny_dns_server() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::string servers() const { return "127.0.0.1:" + std::to_string(port_); }
    /// Points this thread's lookups at the server while the returned guard lives.
    struct use_guard {
        std::string previous;
        ~use_guard() { corio::net::set_dns_servers(previous); }
    };
    use_guard use() const { return {corio::net::set_dns_servers(servers())}; }
    int queries() const { return queries_; }

private:
    void serve() {
        unsigned char q[512];
        while (!stop_) {
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 12) continue;
            ++queries_;
            std::string name;
            std::size_t i = 12;
            while (i < static_cast<std::size_t>(n) && q[i] != 0) {
                if (!name.empty()) name += '.';
                name.append(reinterpret_cast<const char*>(q + i + 1), q[i]);
                i += q[i] + 1;
            }
            const std::size_t question_end = i + 5;  // zero label + QTYPE + QCLASS
            if (question_end > static_cast<std::size_t>(n) || name == "silent.corio.test") continue;
            const int qtype = (q[i + 1] << 8) | q[i + 2];
            const bool known = name.rfind("host", 0) == 0 && name.ends_with(".corio.test");
            std::vector<unsigned char> r(q, q + question_end);
            r[2] = 0x81;                          // response, recursion desired
            r[3] = known ? 0x80 : 0x83;           // recursion available; NOERROR or NXDOMAIN
            r[6] = 0, r[7] = (known && qtype == 1) ? 1 : 0;  // one answer for A queries
            r[8] = r[9] = r[10] = r[11] = 0;
            if (known && qtype == 1) {
                const unsigned char host_number = static_cast<unsigned char>(std::stoi(name.substr(4)));
                const unsigned char answer[] = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, host_number};
                r.insert(r.end(), std::begin(answer), std::end(answer));
            }
            ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> queries_{0};
    std::thread thread_;
};

TEST(resolve, numeric_addresses_need_no_lookup) {
    corio::run([]() -> corio::task<> {
        auto v4 = co_await corio::net::resolve("127.0.0.1", 80);
        EXPECT_EQ(v4.at(0).to_string(), "127.0.0.1:80");
        auto v6 = co_await corio::net::resolve("[::1]", 443);
        EXPECT_EQ(v6.at(0).to_string(), "[::1]:443");
    }());
}

TEST(resolve, localhost_comes_from_the_hosts_file) {
    corio::run([]() -> corio::task<> {
        auto endpoints = co_await corio::net::resolve("localhost", 8080);
        EXPECT_FALSE(endpoints.empty());
        for (const auto& ep : endpoints) {
            EXPECT_TRUE(ep.address() == "127.0.0.1" || ep.address() == "::1") << ep.to_string();
            EXPECT_EQ(ep.port(), 8080);
        }
    }());
}

TEST(resolve, asks_a_dns_server_over_udp) {
    tiny_dns_server dns;
    auto using_dns = dns.use();
    corio::run([]() -> corio::task<> {
        auto endpoints = co_await corio::net::resolve("host7.corio.test", 5000);
        EXPECT_EQ(endpoints.size(), 1u);
        EXPECT_EQ(endpoints.at(0).to_string(), "127.0.0.7:5000");
    }());
    EXPECT_GE(dns.queries(), 1);
}

TEST(resolve, unknown_name_is_a_dns_error_naming_the_host) {
    tiny_dns_server dns;
    auto using_dns = dns.use();
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::net::resolve("nope.corio.test", 80);
            ADD_FAILURE() << "resolved a name that does not exist";
        } catch (const corio::net::dns_error& e) {
            EXPECT_NE(std::string(e.what()).find("nope.corio.test"), std::string::npos) << e.what();
        }
    }());
}

TEST(resolve, a_silent_server_hits_the_timeout) {
    tiny_dns_server dns;
    auto using_dns = dns.use();
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::net::resolve("silent.corio.test", 80, {.timeout = 200ms});
            ADD_FAILURE() << "no timeout";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("silent.corio.test"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("200ms"), std::string::npos) << e.what();
        }
    }());
}

TEST(resolve, cancelling_a_lookup_leaves_nothing_registered) {
    tiny_dns_server dns;
    auto using_dns = dns.use();
    corio::run([]() -> corio::task<> {
        auto& loop = corio::current_loop("test");
        const auto timers_before = loop.pending_timers();
        EXPECT_THROW(co_await corio::wait_for(corio::net::resolve("silent.corio.test", 80), 50ms), corio::timeout_error);
        EXPECT_EQ(loop.pending_timers(), timers_before);
        auto endpoints = co_await corio::net::resolve("host9.corio.test", 1);  // the loop still resolves
        EXPECT_EQ(endpoints.at(0).address(), "127.0.0.9");
    }());
}

TEST(tcp_connect_by_name, tries_every_address_until_one_accepts) {
    corio::run([]() -> corio::task<> {
        // Listen on IPv4 only; "localhost" may resolve to ::1 first, which then refuses.
        auto listener = corio::net::tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        auto accepted = corio::spawn(listener.accept());
        auto stream = co_await corio::net::tcp_stream::connect("localhost", listener.local_endpoint().port());
        EXPECT_EQ(stream.peer().address(), "127.0.0.1");
        co_await accepted;
    }());
}

TEST(tcp_connect_by_name, failure_lists_the_host_and_the_addresses_tried) {
    corio::run([]() -> corio::task<> {
        auto probe = corio::net::tcp_listener::bind(endpoint::parse("127.0.0.1", 0));
        const auto port = probe.local_endpoint().port();
        probe.close();
        try {
            co_await corio::net::tcp_stream::connect("localhost", port);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const corio::net::connect_error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("localhost:" + std::to_string(port)), std::string::npos) << what;
            EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
        }
    }());
}

}  // namespace
