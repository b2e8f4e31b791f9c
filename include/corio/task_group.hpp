// corio/task_group.hpp — structured concurrency: with_task_group (asyncio.TaskGroup, Trio nursery).
//
// snippet: examples/structured.cpp#with_task_group
//   co_await corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
//       tg.spawn(download("a.txt", 50ms));
//       tg.spawn(download("b.txt", 10ms, /*fails=*/true));
//       tg.spawn(download("huge.iso", 1h));  // cancelled when b.txt fails
//       co_return;
//   });
//
// The body runs in the calling task; children spawned through `tg` run concurrently. The group
// ends only when the body has returned and every child has finished: no child outlives it.
// The first error (from a child or from the body) cancels the body and every other child; once
// all have finished, with_task_group throws corio::exception_group holding every error that is
// not a cancellation, in the order they occurred. If nothing failed, it returns the body's value.
//
// Cancel safety: cancelling the calling task (or a wait_for around the group) cancels the body
// and all children, waits for them, and propagates as cancelled_error, not as a group. Errors
// raised by children during that cancellation are logged, not lost.
// Spawning while the group is cancelling (after its first error, or once the calling task was
// cancelled — from the body's cleanup, or from a child's) is allowed, and the new child is
// cancelled before it starts (Trio's rule; asyncio refuses with an error instead): cleanup code
// cannot make a failing group wait for new work.
// Lifetime: the callable is moved into the group's coroutine frame, so a lambda's captures live
// as long as the body runs. Children must not capture locals of the body by reference unless the
// body outlives them (it does not: children may still run after the body returns).
// Thread-safety: use a task_group only from the task running its body and its children.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/detail/child_group.hpp"
#include "corio/exception_group.hpp"
#include "corio/log.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"
#include "corio/wait_for.hpp"

namespace corio {

/// Only with_task_group makes one (like Trio's nursery, it has no public constructor): a group
/// nobody joins would drop its children's errors.
class task_group {
public:
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Starts `op` as a child of the group (children may spawn further children). While the
    /// group is cancelling, the child is cancelled before it starts.
    template <awaitable A>
    join_handle<detail::await_result_t<A>> spawn(A op, std::string name = {},
                                                 detail::source_site site = detail::source_site::current()) {
        return children_.spawn(as_task(std::move(op)), std::move(name), site);
    }
    /// Starts fn(args...) as a child, fn and args moved into its frame (corio::invoke): safe
    /// for a lambda with captures, passed without call parentheses.
    template <class F, class... Args>
        requires(!awaitable<F>) && async_callable<F, Args...>
    [[gnu::noinline]] join_handle<async_result_t<F, Args...>> spawn(F&& fn, Args&&... args) {
        return children_.spawn(as_task(invoke(std::forward<F>(fn), std::forward<Args>(args)...)), {}, {},
                            __builtin_return_address(0));
    }

    /// Children still running.
    std::size_t size() const noexcept { return children_.active(); }

private:
    task_group() noexcept = default;
    template <class F>
    friend auto with_task_group(F body) -> task<detail::await_result_t<std::invoke_result_t<F&, task_group&>>>;

    /// Records a failure and cancels everything else in the group, children spawned later too.
    void fail(std::exception_ptr e) {
        errors_.push_back(std::move(e));
        body_scope_.cancel();
        children_.cancel_now_and_later();
    }

    class children final : public detail::child_group {
    public:
        explicit children(task_group& owner) noexcept : owner_(owner) {}

    private:
        void on_child_done(detail::task_state& child) noexcept override {
            if (!child.promise().error || detail::is_cancellation(child.promise().error)) return;
            owner_.fail(child.take_error());
        }
        task_group& owner_;
    };

    children children_{*this};
    detail::cancel_scope body_scope_;          // the body runs in it; cancelled by the first error
    std::vector<std::exception_ptr> errors_;   // non-cancellation errors, in order of occurrence
};

/// Runs `body(tg)` with a fresh task_group and waits for all its children (see above).
template <class F>
auto with_task_group(F body) -> task<detail::await_result_t<std::invoke_result_t<F&, task_group&>>> {
    using result_type = detail::await_result_t<std::invoke_result_t<F&, task_group&>>;
    task_group tg;
    std::exception_ptr body_cancelled;
    std::optional<value_or_monostate<result_type>> result;
    try {
        if constexpr (std::is_void_v<result_type>) {
            co_await detail::scoped_awaiter<void>(as_task(body(tg)), tg.body_scope_);
            result.emplace();
        } else {
            result.emplace(co_await detail::scoped_awaiter<result_type>(as_task(body(tg)), tg.body_scope_));
        }
    } catch (const cancelled_error&) {
        body_cancelled = std::current_exception();
    } catch (...) {
        tg.fail(std::current_exception());
    }
    co_await tg.children_.join();
    if (detail::current_task->cancel_pending()) {
        for (const auto& e : tg.errors_) log_error("corio: task group cancelled; dropping error: " + describe(e));
        throw cancelled_error("task group cancelled");
    }
    if (!tg.errors_.empty()) throw exception_group(std::move(tg.errors_));
    if (body_cancelled) std::rethrow_exception(body_cancelled);
    if constexpr (!std::is_void_v<result_type>) co_return std::move(*result);
}

}  // namespace corio
