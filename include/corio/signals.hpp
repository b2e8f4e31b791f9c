// corio/signals.hpp — corio::signal_receiver: POSIX signals as a stream a task awaits (Trio's
// open_signal_receiver).
//
// snippet: examples/signals.cpp#reload
//   auto signals = corio::open_signals({SIGHUP, SIGTERM});  // SIGTERM comes here now, not as a cancellation
//   for (;;) {
//       const int signo = co_await corio::wait_for(signals.next(), 10s);  // no signal is lost between next()s
//       if (signo == SIGTERM) break;
//       ++reloads;
//       std::printf("SIGHUP: reloading the configuration\n");
//   }
//
// open_signals installs corio's handler for the signals it is given and returns a receiver;
// `co_await receiver.next()` returns the number of the next signal received. Scoped: when the
// receiver is destroyed, each signal gets back the disposition it had before (a handler,
// SIG_DFL or SIG_IGN) — or, for SIGINT/SIGTERM inside corio::run, their meaning there again. A
// task still waiting in next() then is woken: its next() throws corio::error.
//
// Guarantees:
// - Nothing is lost between next() calls: each delivery while the receiver is open is queued and
//   counted (not merged per signal number as POSIX does for a blocked signal), up to
//   max_pending deliveries of one signal number waiting to be taken; beyond that, further
//   deliveries of that signal are dropped until next() takes some. (The kernel itself merges a
//   signal delivered again before its handler ran.) Order: as the loop sees them, once per
//   iteration; deliveries seen in the same iteration come out in increasing signal number.
// - One receiver per signal number in the process: opening a second one for a signal already
//   received elsewhere throws signal_error naming the signal. SIGINT and SIGTERM keep their
//   meaning in corio::run (cancelling the main task) unless a receiver holds them: then they go
//   to the receiver only, until it is destroyed.
// - Several loops: a receiver belongs to the loop that opened it, and next() is awaited on that
//   loop's thread; the signal itself may arrive on any thread. Receivers of different signals
//   may live on different loops at once. A receiver whose loop ends first gives its signals
//   back then; its next() throws corio::error afterwards.
//
// Cancel safety of `co_await receiver.next()`: cancelled while waiting, it throws
// cancelled_error and takes nothing: a signal arriving after the cancellation stays queued for
// the next next(). A signal handed to the waiter before the cancellation is returned (result
// wins; the next suspension point throws). While a task waits in next(), virtual time treats it
// as external work (like a socket wait): the clock does not jump past a timeout meanwhile.
//
// Throws: open_signals: signal_error (already received elsewhere; cannot be caught: SIGKILL,
// SIGSTOP, out of range; a fault that must be handled where it happens: SIGSEGV, SIGBUS, SIGFPE,
// SIGILL; no signals given), corio::error (no loop runs on this thread).
// next(): cancelled_error; corio::error (a moved-from receiver, another thread than its loop's,
// its loop has ended, the receiver was destroyed while the task waited in it). Thread-safety: a
// receiver is used and destroyed on its loop's thread (or after its loop ended); receivers on
// different loops open and close concurrently safely.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "corio/detail/wait_queue.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"

namespace corio {

/// A signal cannot be received: held by another receiver, not catchable, or not a signal.
class signal_error : public error {
public:
    using error::error;
};

namespace detail {

/// The state of one signal_receiver: its signals' routing to its loop and their queue.
class signal_stream : public list_node {
    struct next_awaiter;

public:
    /// Takes `signals` for `loop` (throws signal_error as open_signals does).
    signal_stream(event_loop& loop, std::vector<int> signals);
    ~signal_stream();
    signal_stream(const signal_stream&) = delete;
    signal_stream& operator=(const signal_stream&) = delete;

    const std::vector<int>& signals() const noexcept { return signals_; }
    std::size_t pending() const noexcept { return pending_.size(); }
    wait_request<next_awaiter, signal_stream> next() noexcept { return wait_request<next_awaiter, signal_stream>(*this); }

    /// For the loop, each iteration: queues what the handler counted and hands it to waiters.
    void deliver() noexcept;
    /// Gives the signals back (as the loop ends, or the receiver goes) and wakes the tasks waiting
    /// in next() with corio::error; next() throws from then on.
    void detach() noexcept;

private:
    struct next_waiter : waiter {
        int signo = 0;  // set before granted
    };
    struct next_awaiter final : next_waiter {
        explicit next_awaiter(signal_stream& s) noexcept : stream(s) {}
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            if (!stream.waiters_.park(*this, h)) return false;
            counted = external_work(*stream.loop_);  // until this awaiter goes, after its task resumed
            return true;
        }
        int await_resume() const;  // does not touch `stream`: refused, it may be gone
        std::string describe_wait() const override;  // "waiting for a signal: SIGHUP, SIGTERM"

        signal_stream& stream;            // only while waiting: detach() refuses the waiters
        external_work counted;             // while waiting: virtual time does not jump past a signal
    };

    /// Takes the oldest pending delivery (pending_ must not be empty).
    int take() noexcept;

    event_loop* loop_;          // null once detached
    std::vector<int> signals_;  // sorted, distinct
    std::vector<std::uint32_t> queued_;  // invariant: queued_[i] == count of signals_[i] in pending_, <= max_pending
    std::deque<int> pending_;            // deliveries not yet taken, oldest first; non-empty only while waiters_ is empty
    wait_queue<next_waiter> waiters_;    // tasks in next(), in arrival order
};

}  // namespace detail

/// Receives the signals given to open_signals until destroyed (see the header comment).
class signal_receiver {
public:
    /// Deliveries of one signal number kept while waiting to be taken; more are dropped.
    static constexpr std::uint32_t max_pending = 1024;

    explicit signal_receiver(std::unique_ptr<detail::signal_stream> stream) noexcept : stream_(std::move(stream)) {}
    signal_receiver(signal_receiver&&) noexcept = default;
    signal_receiver& operator=(signal_receiver&&) noexcept = default;

    /// Awaitable: the next signal received (its number), in order; waits until one arrives.
    [[nodiscard]] auto next() { return stream("next").next(); }
    /// The signals received, in increasing order.
    const std::vector<int>& signals() const { return stream("signals").signals(); }
    /// Deliveries queued and not yet taken by next().
    std::size_t pending() const { return stream("pending").pending(); }

private:
    detail::signal_stream& stream(const char* caller) const;

    std::unique_ptr<detail::signal_stream> stream_;  // null once moved from
};

/// Starts receiving `signals` on the calling thread's loop; their previous dispositions come
/// back when the receiver is destroyed. Duplicates are ignored.
signal_receiver open_signals(std::vector<int> signals);

}  // namespace corio
