// corio/sleep.hpp — sleep(duration), sleep_until(time_point), yield().
//
// Suspends the calling task for at least the given time, measured on corio::clock (virtual time
// aware). sleep(0) and yield() give other ready tasks a turn.
//
// Cancel safety: a pending sleep is cancelled at once (its timer is removed) and throws
// cancelled_error; nothing else to undo. Throws: cancelled_error only.
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
/// sleep_awaiter). Movable until it is awaited; awaiting it fixes the deadline.
class sleep_wait : timer_node, cancel_hook {
public:
    sleep_wait(sleep_wait&& other) noexcept : timer_node(&fire, other.deadline()) {
        assert(!other.queued() && "a sleep is moved only before it is awaited");
    }
    ~sleep_wait() {
        if (queued()) task_->loop().remove_timer(*this);
    }

    bool await_ready() const noexcept { return false; }
    void await_resume() const {
        if (task_ == nullptr) throw cancelled_error("sleep cancelled");
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
        task_ = nullptr;
        return false;
    }

private:
    static void fire(timer_node& node) noexcept { static_cast<sleep_wait&>(node).task_->wake(); }
    void on_cancel() noexcept override {
        task_->loop().remove_timer(*this);
        std::exchange(task_, nullptr)->wake();
    }
    std::string describe_wait() const override;

    task_state* task_ = nullptr;  // the sleeping task from await_suspend on; null before, and once cancelled
};

/// sleep_wait for a delay from the loop's time when awaited (Relative), or until a time point.
template <bool Relative>
class sleep_awaiter final : public sleep_wait {
public:
    explicit sleep_awaiter(clock::time_point stored) noexcept : sleep_wait(stored) {}
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<> h) {
        if constexpr (Relative) return suspend_until(current_task->loop().now() + stored().time_since_epoch(), h);
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
