// corio/sleep.hpp — sleep(duration), sleep_until(time_point), yield().
//
// Suspends the calling task for at least the given time, measured on corio::clock (virtual time
// aware). sleep(0) and yield() give other ready tasks a turn.
//
// A sleep is awaited once: the first await turns its delay into a deadline, so awaiting the same
// sleep object again (or one moved from) throws corio::error; make a new sleep() for another wait.
//
// Cancel safety: a pending sleep is cancelled at once (its timer is removed) and throws
// cancelled_error; nothing else to undo. Throws: cancelled_error, or corio::error as above.
// Thread-safety: call from a task on its loop's thread.
#pragma once

#include <cassert>
#include <coroutine>
#include <utility>

#include "corio/clock.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"

namespace corio {

namespace detail {

/// A task suspended until a deadline: what sleep(), sleep_until() and yield() return (as a
/// sleep_awaiter). Movable until it is awaited; awaiting it fixes the deadline, so it is awaited once.
class sleep_wait : timer_node, cancel_hook {
public:
    /// The moved-from sleep is spent: awaiting it throws. (g++ 12 awaits `co_await std::move(s)`
    /// on a moved copy of s, so this is what marks s awaited there; clang awaits s itself.)
    sleep_wait(sleep_wait&& other) noexcept
        : timer_node(&fire, other.deadline()), task_(other.task_ == nullptr ? nullptr : spent_mark()) {
        assert(!other.queued() && "a sleep is moved only before it is awaited");
        other.task_ = spent_mark();
    }
    ~sleep_wait() {
        if (queued()) [[unlikely]] remove_timer();  // its frame destroyed while it sleeps
    }

    bool await_ready() const noexcept { return false; }
    void await_resume() const {
        if (task_ == spent_mark()) throw cancelled_error("sleep cancelled");
    }

protected:
    /// `stored`: the deadline, or for a relative sleep the delay (as a time since the epoch).
    explicit sleep_wait(clock::time_point stored) noexcept : timer_node(&fire, stored) {}
    clock::time_point stored() const noexcept { return deadline(); }
    // Inlined into the awaiting coroutine, so debug mode records the co_await's line.
    [[gnu::always_inline]] bool suspend_until(clock::time_point deadline, std::coroutine_handle<> h) {
        task_ = current_task;
        task_->loop().add_timer(*this, deadline);
        if (task_->suspend(h, this)) return true;
        task_->loop().remove_timer(*this);
        task_ = spent_mark();
        return false;
    }
    /// Before the first await, stored() is still the caller's value; after it, the deadline.
    bool awaited_before() const noexcept { return task_ != nullptr; }
    [[noreturn]] static void throw_awaited_twice();
    void remove_timer() noexcept;

private:
    static void fire(timer_node& node) noexcept { static_cast<sleep_wait&>(node).task_->wake(); }
    void on_cancel() noexcept override {
        remove_timer();
        std::exchange(task_, spent_mark())->wake();
    }
    std::string describe_wait() const override;
    /// Stands in task_ for a wait that was cancelled, or a sleep moved from; never dereferenced
    /// (no task_state lives at this address).
    static task_state* spent_mark() noexcept { return reinterpret_cast<task_state*>(alignof(task_state)); }

    // Null until awaited; then the sleeping task, or spent_mark() once the wait was cancelled (or
    // this sleep moved from). Non-null: awaiting again throws.
    task_state* task_ = nullptr;
};

/// sleep_wait for a delay from the loop's time when awaited (Relative), or until a time point.
template <bool Relative>
class sleep_awaiter final : public sleep_wait {
public:
    explicit sleep_awaiter(clock::time_point stored) noexcept : sleep_wait(stored) {}
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<> h) {
        if (awaited_before()) [[unlikely]] throw_awaited_twice();
        if constexpr (Relative) return suspend_until(deadline_after(current_task->loop().now(), stored().time_since_epoch()), h);
        return suspend_until(stored(), h);
    }
};

}  // namespace detail

/// Suspends the calling task for at least `d` (measured from the loop's current time).
template <class Rep, class Period>
[[nodiscard]] detail::sleep_awaiter<true> sleep(std::chrono::duration<Rep, Period> d) noexcept {
    return detail::sleep_awaiter<true>(clock::time_point(std::chrono::duration_cast<clock::duration>(d)));
}

/// Suspends the calling task until corio::clock reaches `t`.
[[nodiscard]] inline detail::sleep_awaiter<false> sleep_until(clock::time_point t) noexcept {
    return detail::sleep_awaiter<false>(t);
}

/// Lets every other ready task run once before this one continues.
[[nodiscard]] inline detail::sleep_awaiter<true> yield() noexcept { return sleep(clock::duration::zero()); }

}  // namespace corio
