// corio/testing/run_test.hpp — run_test(body): a test body on a fresh loop, in virtual time,
// under a deadlock guard (what trio.testing's MockClock with autojump gives a Trio test).
//
// snippet: examples/testing.cpp#run_test
//   corio::testing::run_test([]() -> corio::task<> {
//       const auto start = corio::clock::now();
//       co_await corio::sleep(1h);  // virtual time: returns at once
//       check(corio::clock::now() - start == 1h, "an hour of virtual time passes at once");
//   });
//
// The body (a task, or a callable returning one, which is kept alive until the run ends) runs
// in corio::run on a new loop (so everything it starts is cancelled and drained when it
// returns), in virtual time by default: the clock stands still while tasks run and jumps to the
// next timer when nothing is runnable, so hour-long sleeps and timeouts take no wall time and
// every run sees the same times. Real I/O — a socket a task waits on, a test_server's listener,
// a thread job — holds virtual time to the real clock while it is pending (event_loop.hpp).
//
// Deadlock guard: a watchdog sleeps options.deadlock_after beside the body. A body that can
// never finish (every task waits on an event, a queue or a lock nobody will release) leaves
// only the watchdog's timer, so virtual time jumps straight to it and run_test throws
// deadlock_error at once in wall time, naming the limit and listing every task still alive and
// what it waits on (corio::dump_tasks); the body is cancelled and its cleanup runs first. A body
// that legitimately runs past deadlock_after is reported the same way. While real I/O is
// pending the guard fires only after deadlock_after of real time: give such tests a short limit.
//
// Returns the body's value. Throws: deadlock_error (a corio::timeout_error); whatever the body
// throws; corio::error if a loop already runs on this thread. Thread-safety: like corio::run,
// one run_test per thread at a time. Cancel safety: SIGINT/SIGTERM cancel the body (corio::run).
#pragma once

#include <chrono>
#include <type_traits>
#include <utility>
#include <variant>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/error.hpp"
#include "corio/invoke.hpp"
#include "corio/run.hpp"
#include "corio/task.hpp"
#include "corio/wait_any.hpp"

namespace corio::testing {

/// The test body did not finish within run_test_options::deadlock_after. Its what() names the
/// limit and lists the tasks that were still alive, with what each was waiting on.
class deadlock_error : public timeout_error {
public:
    using timeout_error::timeout_error;
};

struct run_test_options {
    /// How long (on the test's clock: virtual by default) the body may run before it is declared
    /// deadlocked. In virtual time a stuck body reaches this at once, so the default is generous.
    std::chrono::nanoseconds deadlock_after = std::chrono::hours(24 * 30);
    /// Drive the clock virtually (event_loop.hpp); false: real time, and deadlock_after is a
    /// wall-clock limit.
    bool virtual_time = true;
    /// Debug mode for the test's loop (corio/debug.hpp); CORIO_DEBUG=1 turns it on too.
    bool debug = false;
};

namespace detail {

/// Sleeps `limit`, then throws deadlock_error naming it and listing every live task.
task<> deadlock_watchdog(std::chrono::nanoseconds limit, bool virtual_time);

/// The body's outcome, unless the watchdog fires first (then the body is cancelled).
template <class T>
task<T> guarded(task<T> body, run_test_options options) {
    if constexpr (std::is_void_v<T>) {
        co_await corio::wait_any(std::move(body), deadlock_watchdog(options.deadlock_after, options.virtual_time));
    } else {
        auto first = co_await corio::wait_any(std::move(body), deadlock_watchdog(options.deadlock_after, options.virtual_time));
        co_return std::get<0>(std::move(first));
    }
}

/// The body as a task: a task or awaitable as it is, a callable through invoke (which keeps the
/// callable, and a lambda's captures, alive in the task's frame).
template <class Body>
auto body_task(Body body) {
    if constexpr (awaitable<Body>)
        return as_task(std::move(body));
    else
        return as_task(corio::invoke(std::move(body)));
}

}  // namespace detail

/// Runs `body` on a new loop under the deadlock guard (see the header comment); returns its value.
template <class Body>
    requires awaitable<Body> || async_callable<Body>
auto run_test(Body body, run_test_options options = {}) {
    auto guarded = detail::guarded(detail::body_task(std::move(body)), options);
    return corio::run(std::move(guarded), {.virtual_time = options.virtual_time, .debug = options.debug});
}

}  // namespace corio::testing
