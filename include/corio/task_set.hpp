// corio/task_set.hpp — task_set: a home for background tasks, with graceful shutdown.
//
// The seed's BackgroundTaskManager. spawn() starts a task and tracks it; a finished task leaves
// the set by itself. An error in a background task is never silently lost: it goes to the set's
// error handler (by default logged through corio::log_error with the task's name). A task that
// ends by cancellation is not an error.
//
// snippet: examples/structured.cpp#task_set
//   corio::task_set background;  // errors go to a handler (default: logged with the task's name)
//   background.spawn(download("refresh-cache", 20ms), "refresh-cache");
//   background.spawn(corio::sleep(1h), "poller");
//   co_await corio::sleep(30ms);
//   // Cancel everything, give cleanup up to 1 s, and learn who did not finish.
//   std::vector<std::string> stuck = co_await background.shutdown(1s);
//   std::printf("shutdown: %zu tasks still running\n", stuck.size());
//
// Cancel safety: join_all() and shutdown() may be cancelled; the tasks in the set are then left
// running (shutdown will already have asked them to cancel). Destroying a set that still has
// tasks cancels them; they finish on the loop on their own.
// Thread-safety: use a task_set from tasks of one loop.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/detail/child_group.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"

namespace corio {

class task_set {
public:
    /// Receives the name and error of a background task that failed.
    using error_handler = std::function<void(const std::string& task_name, std::exception_ptr error)>;

    /// Logs a failed task's name and error through corio::log_error.
    static void log_failure(const std::string& task_name, std::exception_ptr error);

    explicit task_set(error_handler on_error = log_failure) : on_error_(std::move(on_error)) {}
    task_set(const task_set&) = delete;
    task_set& operator=(const task_set&) = delete;

    /// Starts `op` in the background and tracks it until it finishes. Once shutdown() has begun,
    /// the task is cancelled before it starts (a set being shut down takes no new work).
    template <awaitable A>
    join_handle<detail::await_result_t<A>> spawn(A op, std::string name = {},
                                                 detail::source_site site = detail::source_site::current()) {
        return tasks_.spawn(as_task(std::move(op)), std::move(name), site);
    }
    /// Starts fn(args...) in the background, fn and args moved into its frame (corio::invoke):
    /// safe for a lambda with captures, passed without call parentheses.
    template <class F, class... Args>
        requires(!awaitable<F>) && async_callable<F, Args...>
    [[gnu::noinline]] join_handle<async_result_t<F, Args...>> spawn(F&& fn, Args&&... args) {
        return tasks_.spawn(as_task(invoke(std::forward<F>(fn), std::forward<Args>(args)...)), {}, {},
                            __builtin_return_address(0));
    }

    /// Tasks still running.
    std::size_t size() const noexcept { return tasks_.active(); }
    bool empty() const noexcept { return size() == 0; }
    /// Requests cancellation of every task in the set (does not wait).
    void cancel_all() noexcept { tasks_.cancel_all(); }

    /// Waits until every task in the set has finished (including ones spawned meanwhile).
    task<> join_all();

    /// Cancels every task (and every task spawned from now on), waits up to `grace` for them to
    /// finish, and returns the names of those still running (each also logged). An empty result
    /// means a clean shutdown.
    task<std::vector<std::string>> shutdown(std::chrono::nanoseconds grace = std::chrono::seconds(5));

private:
    class tracked final : public detail::child_group {
    public:
        explicit tracked(task_set& owner) noexcept : owner_(owner) {}

    private:
        void on_child_done(detail::task_state& t) noexcept override;
        task_set& owner_;
    };

    error_handler on_error_;
    tracked tasks_{*this};
};

}  // namespace corio
