// corio/wait_for.hpp — wait_for(op, duration) / wait_until(op, deadline): bound an operation.
//
// Runs `op` (a task or any awaitable) inside a cancel scope of the awaiting task. If the deadline
// passes first, the scope is cancelled: op's current suspension point throws cancelled_error, its
// cleanup runs, and when it has unwound wait_for throws corio::timeout_error ("timed out after
// 2s"). If op finishes first, its value or its own error wins, even when the deadline fired in
// the same instant. If the awaiting task itself is cancelled, that cancellation propagates as
// cancelled_error, never as a timeout (cpython#86296).
//
// Cost: one timer insert and remove on the loop's heap; no extra task, no allocation for a task
// argument. Cancel safety: as op's own; the deadline is removed on every path.
// Throws: timeout_error, cancelled_error, or whatever op throws.
#pragma once

#include <coroutine>

#include "corio/clock.hpp"
#include "corio/detail/awaitable_traits.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// Runs a child task in a new cancel scope of the awaiting task, optionally with a deadline
/// and/or shielded from cancellation of enclosing scopes.
template <class T>
class scoped_awaiter : timer_node {
public:
    using handle_type = typename task<T>::handle_type;

    struct deadline {
        clock::time_point at;
        clock::duration budget;  // the caller's timeout, for the message
    };

    /// Runs inner in `scope`, which the caller owns and may cancel.
    scoped_awaiter(task<T> inner, cancel_scope& scope) noexcept
        : timer_node(&fire), inner_(inner.release()), scope_(&scope) {}
    /// Runs inner in a scope of its own that enclosing cancellation cannot reach.
    explicit scoped_awaiter(task<T> inner) noexcept
        : timer_node(&fire), inner_(inner.release()), own_scope_(true) {}
    /// The scope is cancelled when `limit.at` passes.
    scoped_awaiter(task<T> inner, deadline limit) noexcept
        : timer_node(&fire), inner_(inner.release()), deadline_(limit), has_deadline_(true) {}
    scoped_awaiter(const scoped_awaiter&) = delete;
    ~scoped_awaiter() {
        if (inner_) inner_.destroy();  // inner frames leave their scopes before ours
        leave();
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        task_ = current_task;
        if (has_deadline_) task_->loop().add_timer(*this, deadline_.at);
        scope_->enter(*task_);
        inner_.promise().continuation = caller;
        return inner_;
    }
    T await_resume() {
        leave();
        if (expired_ && is_cancellation(inner_.promise().error) && !task_->cancel_pending())
            throw timeout_error("timed out after " + format_duration(deadline_.budget));
        return inner_.promise().take();
    }

private:
    static void fire(timer_node& node) noexcept {
        auto& self = static_cast<scoped_awaiter&>(node);
        self.expired_ = true;
        self.scope_->cancel();
    }
    void leave() noexcept {
        if (task_ == nullptr) return;
        if (queued()) task_->loop().remove_timer(*this);
        scope_->exit();
    }

    handle_type inner_;  // owned child frame
    cancel_scope own_scope_;
    cancel_scope* scope_ = &own_scope_;  // the scope inner runs in: own_scope_ or the caller's
    task_state* task_ = nullptr;  // the awaiting task, once suspended
    deadline deadline_{};
    bool has_deadline_ = false;
    bool expired_ = false;  // the deadline fired and cancelled scope_
};

/// What wait_for, wait_until and uncancellable return: movable (so it can be spawned or
/// gathered); the scope is set up when it is awaited, so a relative timeout starts then.
template <class T>
class [[nodiscard]] scope_request {
public:
    enum class kind { relative_deadline, absolute_deadline, shielded };

    scope_request(task<T> op, kind k, clock::duration timeout = {}, clock::time_point deadline = {})
        : op_(std::move(op)), timeout_(timeout), deadline_(deadline), kind_(k) {}

    scoped_awaiter<T> operator co_await() && {
        if (kind_ == kind::shielded) return scoped_awaiter<T>(std::move(op_));
        const auto now = current_loop("wait_for").now();
        using limit = typename scoped_awaiter<T>::deadline;
        return scoped_awaiter<T>(std::move(op_), kind_ == kind::absolute_deadline
                                                     ? limit{deadline_, deadline_ - now}
                                                     : limit{now + timeout_, timeout_});
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
