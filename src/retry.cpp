#include "corio/retry.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>

#include "corio/event_loop.hpp"
#include "corio/log.hpp"

namespace corio {

namespace {

std::string attempts_phrase(int n) {
    return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A different seed for every call: the clock mixed with a process-wide counter.
std::uint64_t fresh_seed() noexcept {
    static std::atomic<std::uint64_t> calls{0};
    std::uint64_t s = static_cast<std::uint64_t>(clock::steady_now().time_since_epoch().count()) ^
                      (calls.fetch_add(1, std::memory_order_relaxed) << 32);
    return splitmix64(s);
}

void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("corio::retry: ") + what);
}

}  // namespace

retry_error::retry_error(int attempts, std::exception_ptr last)
    : error("corio::retry: gave up after " + attempts_phrase(attempts) + ": " + describe(last)),
      attempts_(attempts),
      last_(std::move(last)) {}

bool is_transient_error(const std::exception_ptr& e) noexcept {
    return holds<timeout_error>(e) || holds<connection_error>(e);
}

namespace detail {

void validate(const retry_policy& p) {
    const auto zero = clock::duration::zero();
    require(p.max_attempts >= 1, "max_attempts must be at least 1");
    require(p.initial_delay >= zero, "initial_delay must not be negative");
    require(p.max_delay >= zero, "max_delay must not be negative");
    require(std::isfinite(p.multiplier) && p.multiplier >= 1.0,
            "multiplier must be finite and at least 1");
    require(!p.attempt_timeout || *p.attempt_timeout > zero, "attempt_timeout must be positive");
    require(!p.total_timeout || *p.total_timeout > zero, "total_timeout must be positive");
}

retry_schedule::retry_schedule(retry_policy policy)
    : policy_(std::move(policy)),
      cap_ns_(static_cast<double>(std::min(policy_.initial_delay, policy_.max_delay).count())),
      rng_(fresh_seed()) {
    if (policy_.total_timeout) deadline_ = clock::now() + *policy_.total_timeout;
}

std::optional<clock::time_point> retry_schedule::begin_attempt() {
    ++attempts_;
    std::optional<clock::time_point> limit = deadline_;
    if (policy_.attempt_timeout) {
        const auto own = clock::now() + *policy_.attempt_timeout;
        if (!limit || own < *limit) limit = own;
    }
    return limit;
}

clock::duration retry_schedule::after_failure(const std::exception_ptr& e) {
    if (is_cancellation(e)) std::rethrow_exception(e);
    const auto now = clock::now();
    // The deadline cancelled the attempt (or it timed out on its own as the budget ran out).
    if (deadline_ && now >= *deadline_ && holds<timeout_error>(e)) throw_total_timeout(e);
    const bool retryable = policy_.retry_if ? policy_.retry_if(e) : is_transient_error(e);
    if (!retryable) std::rethrow_exception(e);
    if (attempts_ >= policy_.max_attempts) throw retry_error(attempts_, e);
    auto delay = next_backoff();  // advances the backoff even when the error chooses the delay
    if (policy_.delay_from_error)
        if (const auto chosen = policy_.delay_from_error(e)) delay = std::max(*chosen, clock::duration::zero());
    // No attempt could start before the deadline: give up now rather than sleep in vain.
    if (deadline_ && now + delay >= *deadline_) throw_total_timeout(e);
    return delay;
}

clock::duration retry_schedule::next_backoff() {
    const double cap = cap_ns_;
    const double max_ns = static_cast<double>(policy_.max_delay.count());
    cap_ns_ = std::min(cap_ns_ * policy_.multiplier, max_ns);
    return clock::duration(static_cast<clock::rep>(uniform() * cap));
}

double retry_schedule::uniform() {
    if (policy_.random) {
        const double r = policy_.random();
        return r >= 0.0 ? std::min(r, 1.0) : 0.0;  // out of range (or NaN) is clamped
    }
    return static_cast<double>(splitmix64(rng_) >> 11) * 0x1.0p-53;
}

void retry_schedule::throw_total_timeout(const std::exception_ptr& last) const {
    throw timeout_error("corio::retry: total timeout of " +
                        format_duration(*policy_.total_timeout) + " exceeded after " +
                        attempts_phrase(attempts_) + "; last error: " + describe(last));
}

}  // namespace detail

}  // namespace corio
