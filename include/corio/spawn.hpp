// corio/spawn.hpp — spawn(): run a task concurrently; join_handle<T>: its result and control.
//
// spawn() is asyncio.create_task: the task is scheduled on the calling thread's loop and starts
// at the loop's next batch. Give it the operation (a task or any awaitable), or — safe for
// lambdas with captures — the callable and its arguments, which it keeps alive in the task's
// frame (corio::invoke):
// snippet: examples/structured.cpp#owning_spawn
//   int total = 0;
//   const std::string base = "page-";
//   // Pass the lambda itself (no call parentheses): spawn keeps it, and its captures, alive.
//   auto counting = corio::spawn([&total, base](int pages) -> corio::task<> {
//       for (int page = 1; page <= pages; ++page) total += co_await download(base + std::to_string(page), 1ms);
//   }, 3);
//   co_await counting;
// Never spawn a capturing lambda CALLED in place (`spawn([&] () -> task<> {...}())`): its closure
// dies at the end of the statement while the task still uses it (see README, "Pitfalls").
// The returned join_handle is a counted reference to the task:
//   co_await h        waits for it; returns its value or rethrows its error
//   h.cancel()        requests cancellation (its current or next suspension point throws)
//   h.done(), h.cancelled(), h.result(), h.exception(), h.add_done_callback(fn), h.name()
// Dropping every handle does NOT cancel the task; it runs to completion (owned by the loop).
// If it fails and no handle ever looked at the error, the error is logged (never silently lost).
//
// Cancel safety of `co_await h`: if the awaiting task is cancelled, the awaited task is cancelled
// too (as in asyncio) and the awaiter waits for it to finish; then it gets the awaited task's
// outcome (a value if the task completed anyway). Use shield() to wait without propagating.
//
// Throws: spawn() throws corio::error outside a running loop. result() throws corio::error if
// the task is not done. Thread-safety: use a handle only on the loop's thread.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/invoke.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

enum class cancel_policy { propagate, abandon };

/// A finished task's value (copied when T is copyable, so it can be read again); rethrows its
/// error, which it marks as retrieved.
template <class T>
T read_result(task_state& finished) {
    if (finished.failed()) [[unlikely]] std::rethrow_exception(finished.take_error());
    return static_cast<task_promise<T>&>(finished.promise()).get();
}

/// Suspends the awaiting task until `target` finishes, then yields its outcome. If the awaiting
/// task is cancelled meanwhile: `propagate` cancels the target and keeps waiting for it;
/// `abandon` stops waiting at once and throws cancelled_error (the target runs on).
template <class T, cancel_policy Policy>
class join_awaiter : cancel_hook {
public:
    explicit join_awaiter(task_state& target) noexcept : target_(target) {}
    join_awaiter(const join_awaiter&) = delete;
    ~join_awaiter() { waiter_.unlink(); }

    bool await_ready() const noexcept { return target_.done(); }
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<> h) noexcept {
        task_state& self = *current_task;
        if (self.suspend(h, this)) {
            waiter_.set_waiter(self);
            target_.add_waiter(waiter_);
            return true;
        }
        if constexpr (Policy == cancel_policy::abandon) {
            abandoned_ = true;
            return false;
        } else {
            self.suspend_uninterruptible(h);
            waiter_.set_waiter(self);
            target_.add_waiter(waiter_);
            target_.cancel();
            return true;
        }
    }
    T await_resume() {
        if (abandoned_) throw cancelled_error("stopped waiting for a shielded task");
        return read_result<T>(target_);
    }

private:
    void on_cancel() noexcept override {
        if constexpr (Policy == cancel_policy::abandon) {
            waiter_.unlink();
            abandoned_ = true;
            waiter_.waiter().wake();
        } else {
            target_.cancel();  // stay queued as a waiter until the target finishes
        }
    }
    std::string describe_wait() const override;

    task_state& target_;
    join_waiter waiter_;  // linked into target_'s waiters while suspended
    bool abandoned_ = false;
};

/// "awaiting task #4 'fetch'" (for task dumps).
std::string describe_join_wait(const task_state& target);

template <class T, cancel_policy Policy>
std::string join_awaiter<T, Policy>::describe_wait() const {
    return describe_join_wait(target_);
}

}  // namespace detail

template <class T = void>
class join_handle {
public:
    join_handle() noexcept = default;
    /// Adopts one reference to `state`.
    explicit join_handle(detail::task_state* state) noexcept : state_(state) {}
    join_handle(const join_handle& o) noexcept : state_(o.state_) {
        if (state_) state_->add_ref();
    }
    join_handle(join_handle&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
    join_handle& operator=(join_handle o) noexcept {
        std::swap(state_, o.state_);
        return *this;
    }
    ~join_handle() {
        if (state_) state_->release();
    }

    explicit operator bool() const noexcept { return state_ != nullptr; }
    bool done() const noexcept { return state_->done(); }
    /// True if the task finished by cancellation.
    bool cancelled() const noexcept { return state_->finished_cancelled(); }
    /// Requests cancellation; returns false if the task had already finished.
    bool cancel() const noexcept {
        if (state_->done()) return false;
        state_->cancel();
        return true;
    }
    const std::string& name() const noexcept { return state_->name(); }

    /// The task's value; rethrows its error. Throws corio::error if the task is not done.
    T result() const {
        require_done("result");
        return detail::read_result<T>(*state_);
    }
    /// The task's error, or null. Throws corio::error if the task is not done.
    std::exception_ptr exception() const {
        require_done("exception");
        return state_->take_error();
    }
    /// Calls fn(handle) on the loop after the task finishes (soon, if it already has).
    void add_done_callback(std::function<void(const join_handle&)> fn) const {
        state_->add_done_callback([h = *this, fn = std::move(fn)] { fn(h); });
    }

    /// Waits for the task; if the awaiter is cancelled, the task is cancelled too (see above).
    /// Throws corio::error on an empty handle (default-constructed or moved from); a move-only
    /// result can be read once (awaited or result()), a second read throws corio::error.
    auto operator co_await() const {
        if (!state_) detail::throw_empty("join_handle");
        return detail::join_awaiter<T, detail::cancel_policy::propagate>(*state_);
    }

    detail::task_state& state() const noexcept { return *state_; }

private:
    void require_done(const char* what) const {
        if (!state_) detail::throw_empty("join_handle");
        if (!state_->done())
            throw error("join_handle::" + std::string(what) + ": task '" + state_->name() +
                        "' is not done");
    }

    detail::task_state* state_ = nullptr;  // counted reference; null only when moved-from/empty
};

namespace detail {
/// spawn() with the place it was called from (a debug loop records it; see corio/debug.hpp), into
/// `group` if one is given (the task is then a group_member that tells it when it completes).
/// (The site comes as scalars, not a code_site built in memory: a struct stored field by field
/// and then copied whole stalls the store-to-load forwarding of every spawn.)
template <class A>
[[gnu::always_inline]] inline join_handle<await_result_t<A>> spawn_at(A&& op, std::string&& name, source_site site,
                                                                     const void* caller,
                                                                     completion_observer* group = nullptr) {
    event_loop& loop = current_loop("spawn");
    auto h = as_task(std::forward<A>(op)).release();
    task_state* state = group == nullptr ? new task_state(loop, h, h.promise(), std::move(name))
                                         : new group_member(loop, h, h.promise(), std::move(name), *group);
    if (debug_on) [[unlikely]] debug_note_spawn(*state, {site, caller});
    loop.start(*state);
    state->add_ref();
    return join_handle<await_result_t<A>>(state);
}
}  // namespace detail

/// Schedules `op` (a task, or any awaitable, which is wrapped in one) on the calling thread's
/// loop. `name` appears in logs and task dumps; `site` in debug reports.
template <awaitable A>
join_handle<detail::await_result_t<A>> spawn(A op, std::string name = {},
                                             detail::source_site site = detail::source_site::current()) {
    return detail::spawn_at(std::move(op), std::move(name), site, nullptr);
}

/// Schedules fn(args...) with fn and args moved into the task's frame (corio::invoke): the safe
/// way to spawn a lambda with captures. To name such a task: spawn(invoke(fn, args...), name).
/// (Out of line so that debug mode can tell where it was called from.)
template <class F, class... Args>
    requires(!awaitable<F>) && async_callable<F, Args...>
[[gnu::noinline]] join_handle<async_result_t<F, Args...>> spawn(F&& fn, Args&&... args) {
    return detail::spawn_at(invoke(std::forward<F>(fn), std::forward<Args>(args)...), {}, {},
                            __builtin_return_address(0));
}

}  // namespace corio
