// corio/sleep.hpp — sleep(duration), sleep_until(time_point), yield().
//
// Suspends the calling task for at least the given time, measured on corio::clock (virtual time
// aware). sleep(0) and yield() give other ready tasks a turn.
//
// Cancel safety: a pending sleep is cancelled at once (its timer is removed) and throws
// cancelled_error; nothing else to undo. Throws: cancelled_error only.
// Thread-safety: call from a task on its loop's thread.
#pragma once

#include <coroutine>

#include "corio/clock.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"

namespace corio {

namespace detail {

/// Suspends the current task until a deadline; the building block of sleep.
class sleep_awaiter final : timer_node, cancel_hook {
public:
    explicit sleep_awaiter(clock::time_point deadline) noexcept
        : timer_node(&fire), deadline_(deadline) {}
    sleep_awaiter(const sleep_awaiter&) = delete;
    ~sleep_awaiter() {
        if (queued()) task_->loop().remove_timer(*this);
    }

    bool await_ready() const noexcept { return false; }
    // Inlined into the awaiting coroutine, so debug mode records the co_await's line.
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<> h) {
        task_ = current_task;
        task_->loop().add_timer(*this, deadline_);
        if (task_->suspend(h, this)) return true;
        task_->loop().remove_timer(*this);
        cancelled_ = true;
        return false;
    }
    void await_resume() const {
        if (cancelled_) throw cancelled_error("sleep cancelled");
    }

private:
    static void fire(timer_node& node) noexcept { static_cast<sleep_awaiter&>(node).task_->wake(); }
    void on_cancel() noexcept override {
        task_->loop().remove_timer(*this);
        cancelled_ = true;
        task_->wake();
    }
    std::string describe_wait() const override;

    clock::time_point deadline_;
    task_state* task_ = nullptr;  // the sleeping task; set in await_suspend
    bool cancelled_ = false;
};

/// What sleep() returns: movable; the deadline is fixed when it is awaited.
struct sleep_request {
    clock::duration delay;
    bool absolute;
    clock::time_point deadline;
    sleep_awaiter operator co_await() const noexcept {
        return sleep_awaiter(absolute ? deadline : event_loop::current()->now() + delay);
    }
};

}  // namespace detail

/// Suspends the calling task for at least `d` (measured from the loop's current time).
template <class Rep, class Period>
[[nodiscard]] detail::sleep_request sleep(std::chrono::duration<Rep, Period> d) noexcept {
    return {std::chrono::duration_cast<clock::duration>(d), false, {}};
}

/// Suspends the calling task until corio::clock reaches `t`.
[[nodiscard]] inline detail::sleep_request sleep_until(clock::time_point t) noexcept {
    return {{}, true, t};
}

/// Lets every other ready task run once before this one continues.
[[nodiscard]] inline detail::sleep_request yield() noexcept { return sleep(clock::duration::zero()); }

}  // namespace corio
