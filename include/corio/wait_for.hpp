// corio/wait_for.hpp — wait_for(op, duration) / wait_until(op, deadline): bound an operation.
//
// Runs `op` (a task or any awaitable) inside a cancel scope of the awaiting task. If the deadline
// passes first, the scope is cancelled: op's current suspension point throws cancelled_error, its
// cleanup runs, and when it has unwound wait_for throws corio::timeout_error ("timed out after
// 2s"). If op finishes first, its value or its own error wins, even when the deadline fired in
// the same instant. If the awaiting task itself is cancelled, that cancellation propagates as
// cancelled_error, never as a timeout (cpython#86296). Nested: when several deadlines pass, the
// innermost one that expired reports. For a deadline over a block of several calls, use
// fail_after / move_on_after (timeout.hpp); current_deadline() sees wait_for's deadline too.
//
// Cost: one timer insert and remove on the loop's heap; no extra task, no allocation for a task
// argument. Cancel safety: as op's own; the deadline is removed on every path.
// Throws: timeout_error, cancelled_error, or whatever op throws.
#pragma once

#include <coroutine>
#include <optional>

#include "corio/clock.hpp"
#include "corio/detail/awaitable_traits.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"
#include "corio/timeout_scope.hpp"

namespace corio {

namespace detail {

/// Runs a child task in a cancel scope of the awaiting task: the caller's own scope (a
/// task_group's body), a scope shielded from enclosing cancellation (uncancellable), or a
/// timeout_scope — its own (wait_for) or the caller's (fail_after, move_on_after).
template <class T>
class scoped_awaiter {
public:
    using handle_type = typename task<T>::handle_type;

    /// Runs inner in `scope`, which the caller owns and may cancel.
    scoped_awaiter(task<T> inner, cancel_scope& scope) noexcept : inner_(inner.release()), scope_(&scope) {}
    /// Runs inner in a scope of its own that enclosing cancellation cannot reach.
    explicit scoped_awaiter(task<T> inner) noexcept : inner_(inner.release()), own_scope_(true) {}
    /// Runs inner in a timeout scope of its own: cancelled when `at` passes; `budget` is the
    /// timeout as the caller gave it (for the message).
    scoped_awaiter(task<T> inner, clock::time_point at, clock::duration budget) noexcept
        : inner_(inner.release()) {
        timeout_ = &own_timeout_.emplace(at, budget);
    }
    /// Runs inner in the caller's timeout scope.
    scoped_awaiter(task<T> inner, timeout_scope& timeout) noexcept : inner_(inner.release()), timeout_(&timeout) {}
    scoped_awaiter(const scoped_awaiter&) = delete;
    ~scoped_awaiter() {
        if (inner_) inner_.destroy();  // inner frames leave their scopes before ours
        leave();
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        task_ = current_task;
        if (timeout_ != nullptr)
            timeout_->enter(*task_);
        else
            scope_->enter(*task_);
        inner_.promise().set_continuation(caller);
        return inner_;
    }
    /// The value; timeout_error if the deadline cut the operation short.
    T await_resume() {
        leave();
        if (cut_by_deadline())
            throw timeout_error("timed out after " + format_duration(timeout_->budget()));
        return inner_.promise().take();
    }

protected:
    /// True if our deadline cancelled the operation (and no requested cancellation is pending:
    /// that one propagates as cancelled_error, never as a timeout). Valid after leave().
    bool cut_by_deadline() const noexcept {
        return timeout_ != nullptr && timeout_->expired() && is_cancellation(inner_.promise().error) &&
               !task_->cancel_requested_in_scope();
    }
    handle_type& inner() noexcept { return inner_; }
    void leave() noexcept {
        if (task_ == nullptr) return;
        if (timeout_ != nullptr)
            timeout_->leave();
        else
            scope_->exit();
    }

private:
    handle_type inner_;  // owned child frame
    cancel_scope own_scope_;
    cancel_scope* scope_ = &own_scope_;  // the scope inner runs in, when there is no timeout
    std::optional<timeout_scope> own_timeout_;
    timeout_scope* timeout_ = nullptr;   // own_timeout_, the caller's, or none
    task_state* task_ = nullptr;         // the awaiting task, once suspended
};

/// What wait_for, wait_until and uncancellable return: movable (so it can be spawned or
/// gathered); the scope is set up when it is awaited, so a relative timeout starts then.
template <class T>
class [[nodiscard]] scope_request {
public:
    enum class kind { relative_deadline, absolute_deadline, uncancellable };

    scope_request(task<T> op, kind k, clock::duration timeout = {}, clock::time_point deadline = {})
        : op_(std::move(op)), timeout_(timeout), deadline_(deadline), kind_(k) {}

    scoped_awaiter<T> operator co_await() && {
        if (kind_ == kind::uncancellable) return scoped_awaiter<T>(std::move(op_));
        const auto now = current_loop("wait_for").now();
        if (kind_ == kind::absolute_deadline) return scoped_awaiter<T>(std::move(op_), deadline_, deadline_ - now);
        return scoped_awaiter<T>(std::move(op_), deadline_after(now, timeout_), timeout_);
    }

private:
    task<T> op_;
    clock::duration timeout_;
    clock::time_point deadline_;
    kind kind_;
};

}  // namespace detail

/// Awaits `op`, cancelling it if it has not finished within `timeout`.
template <awaitable A, class Rep, class Period>
auto wait_for(A op, std::chrono::duration<Rep, Period> timeout) {
    using request = detail::scope_request<detail::await_result_t<A>>;
    return request(as_task(std::move(op)), request::kind::relative_deadline,
                   std::chrono::duration_cast<clock::duration>(timeout));
}

/// Awaits `op`, cancelling it if it has not finished when corio::clock reaches `deadline`.
template <awaitable A>
auto wait_until(A op, clock::time_point deadline) {
    using request = detail::scope_request<detail::await_result_t<A>>;
    return request(as_task(std::move(op)), request::kind::absolute_deadline, {}, deadline);
}

}  // namespace corio
