// corio/retry.hpp — retry(policy, fn): run an operation again when it fails transiently.
//
// snippet: examples/combinators.cpp#retry
//   corio::retry_policy policy{.max_attempts = 5, .initial_delay = 10ms, .attempt_timeout = 2s};
//   auto reply = co_await corio::retry(policy, [&] { return get_status(attempts); });
//
// Calls fn() (a callable returning a task or another awaitable) until an attempt succeeds, and
// returns that attempt's value. Between attempts it sleeps with exponential backoff and FULL
// jitter: before retry n (n = 0 for the first) it sleeps uniform[0, min(max_delay,
// initial_delay * multiplier^n)). Jitter comes from policy.random (must return values in [0, 1);
// clamped) or, when that is empty, from a small PRNG seeded differently for every retry() call
// (not cryptographic). fn is moved into the operation's frame and called as an lvalue once per
// attempt, so it may own what the attempts need; it must not be used elsewhere meanwhile.
//
// Which errors are retried: policy.retry_if(error) decides; when empty, is_transient_error
// (corio::timeout_error and corio::connection_error). Any other error propagates at once,
// unchanged (the same exception object). cancelled_error is never retried.
//
// The delay may come from the error instead: policy.delay_from_error(error), when set and it
// returns a duration, replaces the jittered backoff before the next attempt (a server's
// Retry-After: http::retry_after_delay() in corio/http/retry_after.hpp reads it off a
// status_error). It is not capped by max_delay (the hook caps what it trusts), but the total
// timeout still applies: a delay that would reach it gives up at once.
//
// Time limits (measured on corio::clock, so virtual time applies):
//  - attempt_timeout bounds each attempt (via wait_until); an attempt that exceeds it fails with
//    timeout_error, which retry_if judges like any other error (the default retries it).
//  - total_timeout is a deadline for the whole operation, fixed when it is first awaited: it
//    also bounds every attempt, and retry gives up as soon as the deadline passes or the next
//    backoff would reach it, throwing timeout_error("corio::retry: total timeout of 5s exceeded
//    after 3 attempts; last error: ...").
//
// Throws: the first non-retryable error; retry_error when max_attempts attempts all failed
// ("corio::retry: gave up after 3 attempts: <last error's what()>"); timeout_error for the total
// timeout; cancelled_error. retry() itself throws std::invalid_argument for a bad policy
// (max_attempts < 1, negative delays, multiplier < 1 or not finite, timeouts <= 0), at the call.
// Cancel safety: cancelling the awaiting task cancels the current attempt (as fn's own
// operation defines) or the backoff sleep, and cancelled_error propagates; no further attempt
// starts. Thread-safety: one loop's thread; retry_if and random are called there.
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/clock.hpp"
#include "corio/detail/awaitable_traits.hpp"
#include "corio/error.hpp"
#include "corio/sleep.hpp"
#include "corio/task.hpp"
#include "corio/wait_for.hpp"

namespace corio {

/// Every attempt of a retry() failed with a retryable error.
class retry_error : public error {
public:
    retry_error(int attempts, std::exception_ptr last);
    /// How many attempts were made.
    int attempts() const noexcept { return attempts_; }
    /// The error of the last attempt.
    const std::exception_ptr& last_error() const noexcept { return last_; }

private:
    int attempts_;
    std::exception_ptr last_;
};

struct retry_policy {
    int max_attempts = 3;                                     // including the first; >= 1
    clock::duration initial_delay = std::chrono::milliseconds(100);  // backoff cap before retry 0
    double multiplier = 2.0;                                  // cap growth per retry; >= 1
    clock::duration max_delay = std::chrono::seconds(10);     // upper bound of every cap
    std::optional<clock::duration> attempt_timeout{};           // bounds each attempt
    std::optional<clock::duration> total_timeout{};             // bounds the whole operation
    std::function<bool(const std::exception_ptr&)> retry_if{};  // empty: is_transient_error
    /// The delay before the next attempt, chosen from the error that ended the last one;
    /// empty, or nullopt from it: the jittered backoff. Called only for errors being retried.
    std::function<std::optional<clock::duration>(const std::exception_ptr&)> delay_from_error{};
    std::function<double()> random{};  // jitter source in [0, 1); empty: seeded per call
};

/// The default retry_if: true for corio::timeout_error and corio::connection_error.
bool is_transient_error(const std::exception_ptr& e) noexcept;

namespace detail {

/// Throws std::invalid_argument naming the first bad field of `policy`.
void validate(const retry_policy& policy);

/// The bookkeeping of one retry() operation: attempts, backoff caps, deadline, jitter.
class retry_schedule {
public:
    /// Starts the total-timeout clock now.
    explicit retry_schedule(retry_policy policy);

    /// Counts a new attempt; returns the deadline bounding it, if any.
    std::optional<clock::time_point> begin_attempt();
    /// Judges a failed attempt: rethrows e (cancellation, not retryable), throws retry_error or
    /// timeout_error (giving up), or returns the backoff to sleep before the next attempt.
    clock::duration after_failure(const std::exception_ptr& e);

private:
    clock::duration next_backoff();
    double uniform();  // in [0, 1]
    [[noreturn]] void throw_total_timeout(const std::exception_ptr& last) const;

    retry_policy policy_;
    std::optional<clock::time_point> deadline_;  // start + total_timeout, if set
    double cap_ns_;           // the next backoff's cap; invariant: 0 <= cap_ns_ <= max_delay
    std::uint64_t rng_;       // splitmix64 state, used when policy_.random is empty
    int attempts_ = 0;        // attempts started so far
};

template <class R, class F>
task<R> retry_attempts(retry_policy policy, F fn) {
    retry_schedule schedule(std::move(policy));
    for (;;) {
        std::exception_ptr failure;
        try {
            if (const auto limit = schedule.begin_attempt())
                co_return co_await wait_until(fn(), *limit);
            co_return co_await fn();
        } catch (...) {
            failure = std::current_exception();
        }
        co_await sleep(schedule.after_failure(failure));
    }
}

}  // namespace detail

/// Runs fn() until an attempt succeeds, as `policy` says (see the header comment).
template <class F>
    requires std::invocable<F&> && awaitable<std::invoke_result_t<F&>>
auto retry(retry_policy policy, F fn) -> task<detail::await_result_t<std::invoke_result_t<F&>>> {
    detail::validate(policy);
    return detail::retry_attempts<detail::await_result_t<std::invoke_result_t<F&>>>(
        std::move(policy), std::move(fn));
}

}  // namespace corio
