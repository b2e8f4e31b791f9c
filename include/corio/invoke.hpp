// corio/invoke.hpp — invoke(callable, args...): a task that owns the callable and its arguments.
//
// snippet: examples/structured.cpp#owning_spawn
//   int total = 0;
//   const std::string base = "page-";
//   // Pass the lambda itself (no call parentheses): spawn keeps it, and its captures, alive.
//   auto counting = corio::spawn([&total, base](int pages) -> corio::task<> {
//       for (int page = 1; page <= pages; ++page) total += co_await download(base + std::to_string(page), 1ms);
//   }, 3);
//   co_await counting;
//
// A lambda coroutine's captures live in the closure object, and its frame refers to that object;
// `spawn([&] () -> task<> {...}())` calls the lambda on a temporary closure that dies at the end
// of the full expression, while the task runs on: every access to a capture is then a
// use-after-free. invoke() decay-copies the callable and the arguments into the frame of the
// task it returns (folly's co_invoke, libcoro's invoke) and calls the callable there, as an
// lvalue, with the arguments as rvalues (like std::thread): the closure lives exactly as long as
// the work it started. spawn(callable, args...), task_group::spawn(callable, args...) and
// task_set::spawn(callable, args...) use it, so passing the lambda itself — without the call
// parentheses — is always safe.
//
// The callable must return an awaitable (usually a task<T>); the result is task<T>, lazy like
// every task. References captured by the lambda still refer to the caller's objects: those must
// outlive the task (as always in C++), but the closure holding them no longer dies early.
// Throws: what the callable throws, when the task runs; std::bad_alloc.
// Cancel safety: that of the callable's operation. Thread-safety: like any task.
#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/task.hpp"

namespace corio {

/// A callable that, called as an lvalue with `Args` as rvalues, returns an awaitable.
template <class F, class... Args>
concept async_callable = std::invocable<std::decay_t<F>&, std::decay_t<Args>&&...> &&
                         awaitable<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>>;

/// What awaiting the operation of `F(Args...)` yields.
template <class F, class... Args>
using async_result_t = detail::await_result_t<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>>;

namespace detail {

template <class R, class F, class... Args>
task<R> invoke_owned(F fn, Args... args) {  // fn and args live in this frame
    co_return co_await std::invoke(fn, std::move(args)...);
}

}  // namespace detail

/// A task that owns `fn` and `args` and awaits fn(args...) in its own frame (see above).
template <class F, class... Args>
    requires async_callable<F, Args...>
task<async_result_t<F, Args...>> invoke(F&& fn, Args&&... args) {
    return detail::invoke_owned<async_result_t<F, Args...>, std::decay_t<F>, std::decay_t<Args>...>(
        std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace corio
