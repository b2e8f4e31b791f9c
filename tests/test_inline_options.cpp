// Every option value corio's documentation writes inline, written inline here inside the co_await
// that uses it. g++ 12 copies some temporaries that live across a co_await bitwise (README: "A
// g++ 12 pitfall"), so an option type that is not safe inline frees its strings twice. This file
// is what `./run.sh gcc-asan` builds with g++ and AddressSanitizer: a documented form that breaks
// on g++ 12 fails here. The static_asserts keep the option types that cross a co_await safe.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/tcp.hpp>

#include "demo_service.hpp"

#include <array>
#include <memory>
#include <string>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
namespace http = corio::http;
namespace net = corio::net;

// Passed by value to coroutines, so written inline they live across a co_await: trivially
// copyable, which a bitwise copy cannot break.
static_assert(std::is_trivially_copyable_v<net::tcp_options>);
static_assert(std::is_trivially_copyable_v<net::resolve_options>);
static_assert(std::is_trivially_copyable_v<corio::async_with_options>);
static_assert(std::is_trivially_copyable_v<http::client_timeout>);
static_assert(std::is_trivially_copyable_v<http::multipart_options>);  // request::form(limits)
// Holds std::functions: documented as named before the co_await (examples/combinators.cpp#retry).
static_assert(!std::is_trivially_copyable_v<corio::retry_policy>);

TEST(inline_options, tcp_and_dns_options_inline) {
    corio::run([]() -> corio::task<> {
        auto listener = net::tcp_listener::bind(net::endpoint::parse("127.0.0.1", 0));
        auto peers = co_await net::resolve("localhost", listener.local_endpoint().port(), {.timeout = 2s});
        CO_ASSERT_FALSE(peers.empty());
        auto accepted = corio::spawn(listener.accept({.read_timeout = 2s}));
        auto client = co_await net::tcp_stream::connect(listener.local_endpoint(),
                                                        {.connect_timeout = 2s, .read_timeout = 2s});
        auto server_side = co_await accepted;
        co_await client.write_all("ping");
        std::string got;
        std::array<char, 4> buffer{};
        while (got.size() < 4) {
            const std::size_t n = co_await server_side.read_some(buffer);
            CO_ASSERT_TRUE(n > 0);
            got.append(buffer.data(), n);
        }
        EXPECT_EQ(got, "ping");
    }());
}

TEST(inline_options, async_with_options_inline) {
    corio::run([]() -> corio::task<> {
        auto listener = net::tcp_listener::bind(net::endpoint::parse("127.0.0.1", 0));
        const auto where = listener.local_endpoint();
        auto accepted = corio::spawn(listener.accept());
        const std::string sent = co_await corio::async_with(
            net::tcp_stream::connect(where),
            [](net::tcp_stream& s) -> corio::task<std::string> {
                co_await s.write_all("x");
                co_return std::string(64, 's');  // a heap string carried out of the block
            },
            {.close_timeout = 1s});
        EXPECT_EQ(sent.size(), 64u);
        co_await accepted;
    }());
}

TEST(inline_options, session_and_request_options_inline) {
    corio::run([]() -> corio::task<> {
        auto service = co_await corio_test_support::start_demo_service();
        // The session's options hold strings (base_url, headers): built inline in a constructor.
        http::client_session session({.base_url = service->url("/"), .timeout = {.total = 10s}});
        // request_options is built with setters: safe inline inside the co_await.
        auto response = co_await session.get(
            "headers", http::request_options()
                           .header("X-Inline", std::string(48, 'h'))
                           .param("page", std::string(40, 'p'))
                           .timeout({.total = 5s, .sock_read = 2s}));
        const std::string body = co_await response.text();
        EXPECT_NE(body.find(std::string(48, 'h')), std::string::npos) << body;
        session.close();
        co_await service->aclose();
    }());
}

TEST(inline_options, retry_policy_named_before_the_await) {
    corio::run_options options;
    options.virtual_time = true;
    corio::run([]() -> corio::task<> {
        int attempts = 0;
        corio::retry_policy policy{.max_attempts = 4, .initial_delay = 10ms,
                                   .retry_if = [](const std::exception_ptr&) { return true; }};
        const int value = co_await corio::retry(policy, [&attempts]() -> corio::task<int> {
            if (++attempts < 3) throw std::runtime_error(std::string(40, 'e'));
            co_return attempts;
        });
        EXPECT_EQ(value, 3);
    }(), options);
}

}  // namespace
