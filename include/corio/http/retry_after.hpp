// corio/http/retry_after.hpp — Retry-After (RFC 9110 §10.2.3): parsing it, and letting
// corio::retry honour it.
//
// snippet: examples/http_client.cpp#retry_after
//   corio::retry_policy policy{.max_attempts = 5};
//   policy.retry_if = [](const std::exception_ptr& e) {  // the default: transient errors only
//       return corio::is_transient_error(e) || corio::holds<http::status_error>(e);
//   };
//   policy.delay_from_error = http::retry_after_delay(std::chrono::seconds(60));  // at most 60 s
//   auto response = co_await corio::retry(policy, [&] {
//       return session.get(url, http::request_options().raise_for_status(true));
//   });
//
// A 429 or 503 (or any 4xx/5xx) whose Retry-After says "wait 7 s" then waits 7 s before the next
// attempt, instead of the jittered backoff; an error without a usable Retry-After keeps the
// backoff. The hook only times errors that are retried: the default retry_if takes timeouts and
// connection errors only, so the policy above adds status_error (what raise_for_status throws).
// Both forms are understood: delta-seconds ("120") and an HTTP-date (IMF-fixdate,
// "Wed, 21 Oct 2015 07:28:00 GMT", judged against the system clock; a past date means 0).
// Thread-safety: pure functions; the hook is stateless. Throws: nothing but std::bad_alloc.
// Cancel safety: nothing here suspends.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>

#include "corio/clock.hpp"

namespace corio::http {

/// The wait a Retry-After value asks for, in whole seconds (an HTTP-date is rounded up to the
/// second `now` is in); nullopt if the value is neither delta-seconds nor an IMF-fixdate.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

/// A retry_policy::delay_from_error hook: for an error holding an http::status_error with a
/// valid Retry-After header, that delay (at most `cap`: a server cannot park the client for an
/// hour); for any other error, nullopt (the backoff applies).
std::function<std::optional<clock::duration>(const std::exception_ptr&)> retry_after_delay(
    std::chrono::seconds cap = std::chrono::seconds(60));

}  // namespace corio::http
