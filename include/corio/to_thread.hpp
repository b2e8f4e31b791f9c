// corio/to_thread.hpp — to_thread(fn, args...): run a blocking call on a worker thread.
//
// asyncio.to_thread: `co_await to_thread(fn, args...)` runs fn(args...) on the process-wide pool
// of worker threads (detail/thread_pool.hpp: at most max(4, hardware_concurrency + 4) threads,
// started lazily) while the loop keeps running other tasks, then resumes the awaiting task on ITS
// loop with fn's value, or rethrows fn's exception there. fn and args are decay-copied (moved
// when given rvalues) into the job when to_thread is called, like std::thread; the job invokes
// them as rvalues and never refers to the awaiting coroutine's frame. Jobs start in FIFO order.
//
// fn sees the awaiting task's context_var bindings (context_var.hpp), as asyncio.to_thread does.
//
// Virtual time: while a job is in flight (from submission until its completion reaches the loop)
// the loop counts it as external work, so virtual time never jumps past it; instead the loop
// waits in real time (a wait_for(to_thread(...), 10s) does not time out because of a jump).
//
// Cancel safety (Trio's default): if the awaiting task is cancelled, a job that has not started
// is skipped (fn never runs) and the await throws cancelled_error at once; a job that is running
// cannot be interrupted, so the await WAITS for it to finish, discards its value or exception,
// and then throws cancelled_error. So a job may use the awaiting frame's locals by reference:
// they outlive it. Awaiting with cancellation already pending never submits the job.
//   to_thread(corio::abandon_on_cancel, fn, args...) opts out: a cancelled await throws at once
// while a running job goes on alone (its value or exception discarded on the worker, or on the
// loop if the completion reaches it; it still holds virtual time until it finishes). Use it only
// for jobs that own everything they touch. If the awaiting frame is destroyed or the loop ends
// while such a job runs, the job's state (refcounted) outlives them; its completion is dropped by
// the closed loop. At process exit the pool waits for running jobs and discards queued ones (see
// detail/thread_pool.hpp).
//
// Throws: what fn throws; cancelled_error; std::system_error if no worker thread can be started.
// Thread-safety: await on a loop thread; fn runs on a worker thread.
#pragma once

#include <atomic>
#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "corio/detail/thread_pool.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// The loop-side party told when a thread job's completion reaches the loop.
class thread_job_waiter {
public:
    virtual void on_job_done() noexcept = 0;

protected:
    ~thread_job_waiter() = default;
};

/// What the awaiting task (loop thread) and the worker share; refcounted so that either side may
/// go away first. The worker publishes the outcome, then posts finish() to the loop: the post
/// orders the outcome's writes before the loop's reads.
class thread_job_base : public pool_job, public std::enable_shared_from_this<thread_job_base> {
public:
    /// Loop thread: submits the job and registers w for its completion. Strong guarantee.
    void start(event_loop& loop, thread_job_waiter& w);
    /// Loop thread: w stops waiting; a job that has not started will be skipped. Idempotent.
    void detach() noexcept;
    /// Loop thread: skips the job if it has not started (and stops waiting for it); false if it
    /// is already running (or done): the waiter stays registered.
    bool skip_if_pending() noexcept;

protected:
    thread_job_base() = default;
    ~thread_job_base() = default;
    /// Moves the error out before throwing it: the job (which the worker may be releasing right
    /// now) then holds no reference to the exception the awaiting task is handling.
    void rethrow_if_failed() {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    enum status : int { pending, running, skipped };

    virtual void invoke() = 0;  // worker thread: the call itself; stores its value
    void run() noexcept final;  // worker thread
    void finish() noexcept;     // loop thread: the completion posted by run()

    std::atomic<int> status_{pending};     // pending -> running (worker), or -> skipped (loop)
    std::exception_ptr error_;             // written by the worker before it posts finish()
    event_loop* loop_ = nullptr;           // set by start(); dereferenced on the loop thread only
    loop_handle handle_;                   // set by start() before submission; used by the worker
    thread_job_waiter* waiter_ = nullptr;  // loop thread only; non-null iff someone still waits
    context_ref context_;                  // set by start(); moved to the worker's thread while it runs
};

/// A job's outcome for result type R.
template <class R>
class thread_job : public thread_job_base {
public:
    R take_result() {
        rethrow_if_failed();
        return std::move(*value_);
    }

protected:
    template <class Call>
    void store(Call&& call) {
        value_.emplace(std::forward<Call>(call)());
    }

private:
    std::optional<R> value_;  // engaged iff the call returned
};

template <>
class thread_job<void> : public thread_job_base {
public:
    void take_result() { rethrow_if_failed(); }

protected:
    template <class Call>
    void store(Call&& call) {
        std::forward<Call>(call)();
    }
};

/// A job holding its own decayed copies of the callable and its arguments.
template <class R, class F, class... Args>
class bound_thread_job final : public thread_job<R> {
public:
    template <class G, class... A>
    explicit bound_thread_job(G&& fn, A&&... args)
        : fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}

private:
    void invoke() override {
        this->store([this]() -> R { return std::apply(std::move(fn_), std::move(args_)); });
    }

    F fn_;
    std::tuple<Args...> args_;
};

/// The suspension protocol shared by every result type (see sleep.hpp for the model).
class thread_job_awaiter_base : thread_job_waiter, cancel_hook {
public:
    thread_job_awaiter_base(const thread_job_awaiter_base&) = delete;
    thread_job_awaiter_base& operator=(const thread_job_awaiter_base&) = delete;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h);

protected:
    thread_job_awaiter_base(std::shared_ptr<thread_job_base> job, bool abandon_on_cancel) noexcept
        : job_(std::move(job)), abandon_on_cancel_(abandon_on_cancel) {}
    ~thread_job_awaiter_base() { job_->detach(); }
    /// The job's outcome, once resumed: throws cancelled_error if the wait was abandoned.
    thread_job_base& finished_job() const;

private:
    void on_job_done() noexcept override { task_->wake(); }
    void on_cancel() noexcept override;

    std::shared_ptr<thread_job_base> job_;  // never null
    task_state* task_ = nullptr;            // the awaiting task; set in await_suspend
    bool abandon_on_cancel_;                // a cancelled await stops waiting for a running job
    bool cancelled_ = false;                // cancellation arrived: await_resume throws
};

template <class R>
class thread_job_awaiter final : public thread_job_awaiter_base {
public:
    thread_job_awaiter(std::shared_ptr<thread_job<R>> job, bool abandon_on_cancel) noexcept
        : thread_job_awaiter_base(std::move(job), abandon_on_cancel) {}
    R await_resume() { return static_cast<thread_job<R>&>(finished_job()).take_result(); }
};

template <class R>
task<R> await_thread_job(std::shared_ptr<thread_job<R>> job, bool abandon_on_cancel) {
    co_return co_await thread_job_awaiter<R>(std::move(job), abandon_on_cancel);
}

template <class F, class... Args>
auto submit_to_thread(bool abandon_on_cancel, F&& fn, Args&&... args) {
    using result = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    static_assert(!std::is_reference_v<result>,
                  "corio::to_thread: fn must return a value (or a pointer), not a reference");
    using job_type = bound_thread_job<result, std::decay_t<F>, std::decay_t<Args>...>;
    std::shared_ptr<thread_job<result>> job = std::make_shared<job_type>(std::forward<F>(fn), std::forward<Args>(args)...);
    return await_thread_job<result>(std::move(job), abandon_on_cancel);
}

}  // namespace detail

/// Tag for to_thread: a cancelled await stops waiting for a job that is already running.
struct abandon_on_cancel_t {
    explicit abandon_on_cancel_t() = default;
};
inline constexpr abandon_on_cancel_t abandon_on_cancel{};

/// Runs fn(args...) on a worker thread; the awaiting task resumes on its loop with the result.
/// Cancelled while the job runs, the await waits for it (see the header comment).
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
auto to_thread(F&& fn, Args&&... args) {
    return detail::submit_to_thread(false, std::forward<F>(fn), std::forward<Args>(args)...);
}

/// As above, but a cancelled await returns at once, leaving a running job to finish alone.
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
auto to_thread(abandon_on_cancel_t, F&& fn, Args&&... args) {
    return detail::submit_to_thread(true, std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace corio
