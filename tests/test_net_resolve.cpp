// net::resolve against the hosts file and a real (tiny) DNS server on loopback UDP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/corio.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/tcp.hpp>

#include "tiny_dns_server.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::net::endpoint;

namespace {

using corio_test::tiny_dns_server;

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
