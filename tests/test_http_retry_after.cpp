// Retry-After: parsing it, and corio::retry honouring it through http::retry_after_delay against
// the demo service's /flaky endpoint on a real socket.
#include <gtest/gtest.h>

#include <corio/corio.hpp>
#include <corio/http/retry_after.hpp>

#include "demo_service.hpp"

using namespace std::chrono_literals;
namespace http = corio::http;

namespace {

TEST(http_retry_after, parses_seconds_and_dates) {
    using http::parse_retry_after;
    // Wed, 21 Oct 2015 07:28:00 GMT
    const auto now = std::chrono::system_clock::from_time_t(1445412480);
    EXPECT_EQ(parse_retry_after("120", now), 120s);
    EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), 30s);
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now + 500ms), 30s);  // rounded up
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), 0s);          // in the past
    EXPECT_EQ(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now), 24h);
    EXPECT_GE(parse_retry_after("99999999999999999999", now), 3600s);  // huge: capped by the caller
    EXPECT_FALSE(parse_retry_after("-5", now));
    EXPECT_FALSE(parse_retry_after("1.5", now));
    EXPECT_FALSE(parse_retry_after("soon", now));
    EXPECT_FALSE(parse_retry_after("", now));
    EXPECT_FALSE(parse_retry_after("1\r\nX-Evil: 1", now));
    EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT trailing", now));
}

std::exception_ptr status_error_with(std::optional<std::string> retry_after, int status = 503) {
    http::headers fields;
    if (retry_after) fields.add("Retry-After", *retry_after);
    return std::make_exception_ptr(http::status_error(status, "Service Unavailable", "GET", "http://h/x", fields));
}

TEST(http_retry_after, the_hook_reads_status_errors_only_and_caps_the_delay) {
    const auto hook = http::retry_after_delay(60s);
    EXPECT_EQ(hook(status_error_with("7")), 7s);
    EXPECT_EQ(hook(status_error_with("7", 429)), 7s);
    EXPECT_EQ(hook(status_error_with("3600")), 60s);  // capped
    EXPECT_EQ(hook(status_error_with(std::nullopt)), std::nullopt);
    EXPECT_EQ(hook(status_error_with("later")), std::nullopt);
    EXPECT_EQ(hook(std::make_exception_ptr(corio::timeout_error("slow"))), std::nullopt);
    EXPECT_EQ(hook(std::make_exception_ptr(corio::cancelled_error())), std::nullopt);
}

/// GETs `path` on the demo service through corio::retry (raise_for_status, 5 attempts, 10 ms
/// backoff), with or without the Retry-After hook; returns the final status and the time taken.
corio::task<std::pair<int, corio::clock::duration>> retried_get(std::string url, bool honour_retry_after) {
    http::client_session session({.timeout = {.total = 10s}});
    corio::retry_policy policy;
    policy.max_attempts = 5;
    policy.initial_delay = 10ms;
    policy.max_delay = 10ms;
    policy.retry_if = [](const std::exception_ptr& e) {
        return corio::is_transient_error(e) || corio::holds<http::status_error>(e);
    };
    if (honour_retry_after) policy.delay_from_error = http::retry_after_delay(60s);
    const auto started = corio::clock::now();
    auto attempt = [&session, &url]() -> corio::task<int> {
        auto response = co_await session.get(url, http::request_options().raise_for_status(true));
        co_return response.status();
    };
    const int status = co_await corio::retry(std::move(policy), std::move(attempt));
    co_return std::pair(status, corio::clock::now() - started);
}

TEST(http_retry_after, corio_retry_waits_what_the_server_asks) {
    corio::run([]() -> corio::task<> {
        auto demo = co_await corio_test_support::start_demo_service();
        // Two 503s with Retry-After: 1, then 200: two waits of a second each.
        const auto [status, took] = co_await retried_get(demo->url("/flaky?key=a&fail=2&retry_after=1"), true);
        EXPECT_EQ(status, 200);
        EXPECT_GE(took, 2s);
        EXPECT_LT(took, 4s);
        // Without the hook, the 10 ms backoff applies.
        const auto [plain_status, plain_took] = co_await retried_get(demo->url("/flaky?key=b&fail=2&retry_after=1"), false);
        EXPECT_EQ(plain_status, 200);
        EXPECT_LT(plain_took, 1s);
        co_await demo->aclose();
    }());
}

}  // namespace
