// corio/async_with.hpp — async_with: async RAII. The resource's aclose() runs on every path.
//
// snippet: examples/streams.cpp#async_with
//   // Like `async with`: aclose() runs after success, error, timeout or cancellation,
//   // shielded from cancellation and bounded (close_timeout, default 5 s).
//   int answer = co_await corio::async_with(connect(&closed), [](connection& c) -> corio::task<int> {
//       co_return co_await c.query();
//   });
//
// Python's `async with`: `open` is awaited to obtain the resource (if that fails, there is
// nothing to close and the error propagates). Then `body(resource)` runs, and afterwards —
// whether the body returned, threw, or was cancelled — `resource.aclose()` is awaited
// (`resource->aclose()` for pointer-like resources). A resource whose aclose takes a
// std::exception_ptr gets the body's error (null when it succeeded), as Python's __aexit__
// does: pg::transaction commits or rolls back on it.
//
// Guarantees:
//  - aclose() runs shielded from cancellation (so a cancelled or timed-out body still closes its
//    resource), bounded by options.close_timeout (default 5 s): a close that hangs is cancelled
//    and reported as timeout_error. Cancellation that arrives meanwhile propagates right after.
//  - A close error never replaces the body's error: the body's error propagates and the close
//    error is logged. If the body succeeded, the close error propagates (the work may not have
//    been flushed). The body's value is returned.
// Lifetime: `body` is moved into this coroutine's frame, so a lambda's captures outlive its use.
// Throws: what open, body or aclose throw; timeout_error if aclose exceeds close_timeout.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/log.hpp"
#include "corio/shield.hpp"
#include "corio/task.hpp"
#include "corio/wait_for.hpp"

namespace corio {

struct async_with_options {
    /// Upper bound for the resource's aclose().
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(5);
};

namespace detail {
/// r.aclose(), or r.aclose(error) when the resource wants to know how the body ended (null:
/// it succeeded), like Python's __aexit__ (a transaction commits or rolls back).
template <class R>
auto close_resource(R& r, const std::exception_ptr& error) {
    if constexpr (requires { r.aclose(error); })
        return r.aclose(error);
    else if constexpr (requires { r.aclose(); })
        return r.aclose();
    else
        return close_resource(*r, error);
}
}  // namespace detail

template <awaitable Open, class F>
auto async_with(Open open, F body, async_with_options options = {})
    -> task<detail::await_result_t<std::invoke_result_t<F&, detail::await_result_t<Open>&>>> {
    using resource_type = detail::await_result_t<Open>;
    using result_type = detail::await_result_t<std::invoke_result_t<F&, resource_type&>>;
    static_assert(!std::is_void_v<resource_type>, "async_with: open must produce a resource");

    resource_type resource = co_await std::move(open);
    std::exception_ptr body_error;
    std::optional<value_or_monostate<result_type>> result;
    try {
        if constexpr (std::is_void_v<result_type>) {
            co_await body(resource);
            result.emplace();
        } else {
            result.emplace(co_await body(resource));
        }
    } catch (...) {
        body_error = std::current_exception();
    }

    std::exception_ptr close_error;
    try {
        co_await uncancellable(wait_for(detail::close_resource(resource, body_error), options.close_timeout));
    } catch (...) {
        close_error = std::current_exception();
    }

    if (body_error) {
        if (close_error) log_error("corio: async_with: closing the resource failed after an error in the body: " + describe(close_error));
        std::rethrow_exception(body_error);
    }
    if (close_error) std::rethrow_exception(close_error);
    if constexpr (!std::is_void_v<result_type>) co_return std::move(*result);
}

}  // namespace corio
