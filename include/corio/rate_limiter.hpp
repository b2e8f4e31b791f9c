// corio/rate_limiter.hpp — rate_limiter: at most `rate` operations per second, with bursts.
//
// snippet: examples/primitives.cpp#rate_limiter
//   corio::rate_limiter limit(10.0, 5);  // 10 per second on average, up to 5 at once
//   co_await limit.acquire();            // waits for a token (FIFO)
//   if (limit.try_acquire()) ++sent;     // never waits
//
// A token bucket measured on corio::clock (so virtual time applies): it holds up to `burst`
// tokens, starts full, and refills continuously at `rate_per_second`; each acquire takes one.
// N acquires in a row therefore complete within about (N - burst) / rate seconds.
//
// Guarantees: strict FIFO among waiters — while anyone waits, try_acquire() fails and a new
// acquire() queues behind, even if a token has accrued (the head gets it when its timer fires).
// acquire() takes an available token without suspending (and then is not a cancellation point).
// One loop timer is armed while tasks wait, for the moment the head's token is due.
//
// Cancel safety of `co_await l.acquire()`: a task cancelled while waiting leaves the queue and
// acquire() throws cancelled_error; it consumed no token, and the others are not delayed (the
// next waiter gets the token at the time the cancelled one would have). If the token was already
// granted when the cancellation arrives, acquire() returns normally (result wins; the next
// suspension point throws). A waiting frame destroyed after its grant keeps the token consumed.
//
// Throws: the constructor throws std::invalid_argument if rate_per_second is not a positive
// finite number or burst is 0; acquire() throws cancelled_error. Thread-safety: none — use a
// limiter from one loop's thread (one loop at a time). It must outlive its waiters; it is pinned
// (neither copyable nor movable).
#pragma once

#include <coroutine>
#include <cstddef>

#include "corio/clock.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"

namespace corio {

class event_loop;
class rate_limiter;

namespace detail {

/// One task waiting for a token: the pinned awaiter of `co_await limiter.acquire()`.
class token_waiter final : public list_node, cancel_hook {
public:
    explicit token_waiter(rate_limiter& limiter) noexcept : limiter_(limiter) {}
    token_waiter(const token_waiter&) = delete;
    token_waiter& operator=(const token_waiter&) = delete;
    ~token_waiter();

    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const;

    /// Called by the limiter after unlinking this waiter: the token is ours.
    void grant() noexcept { task_->wake(); }

private:
    void on_cancel() noexcept override;

    rate_limiter& limiter_;
    task_state* task_ = nullptr;  // the waiting task; set in await_suspend
    bool cancelled_ = false;      // left the queue without a token: await_resume throws
};

/// What acquire() returns: movable (can be passed to wait_for, spawn, ...).
class [[nodiscard]] acquire_request {
public:
    explicit acquire_request(rate_limiter& limiter) noexcept : limiter_(&limiter) {}
    token_waiter operator co_await() const noexcept { return token_waiter(*limiter_); }

private:
    rate_limiter* limiter_;  // must outlive the await
};

}  // namespace detail

class rate_limiter : private detail::timer_node {
public:
    rate_limiter(double rate_per_second, std::size_t burst);
    rate_limiter(const rate_limiter&) = delete;
    rate_limiter& operator=(const rate_limiter&) = delete;
    ~rate_limiter();

    /// Awaitable: takes a token, waiting (FIFO) until one is available.
    detail::acquire_request acquire() noexcept { return detail::acquire_request(*this); }
    /// Takes a token if one is available now and nobody is waiting; never waits.
    bool try_acquire() noexcept;

    double rate() const noexcept { return rate_; }
    std::size_t burst() const noexcept { return burst_; }

private:
    friend class detail::token_waiter;

    void refill(clock::time_point now) noexcept;
    clock::time_point next_token_time() const noexcept;
    void enqueue(detail::token_waiter& w, event_loop& loop);
    void leave(detail::token_waiter& w) noexcept;
    static void fire(timer_node& self) noexcept;

    double rate_;        // tokens per second; positive and finite
    std::size_t burst_;  // bucket capacity; >= 1
    double tokens_;      // invariant: <= burst_; the level as of updated_
    clock::time_point updated_;  // when tokens_ was last brought up to date
    detail::intrusive_list<detail::token_waiter> waiters_;  // FIFO
    event_loop* loop_ = nullptr;  // the loop whose heap holds this timer; invariant: the timer
                                  // is queued iff waiters_ is non-empty
};

}  // namespace corio
