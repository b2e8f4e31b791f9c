// corio/detail/awaitable_traits.hpp — what `co_await x` yields, and wrapping any awaitable in a task.
#pragma once

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>
#include <variant>

#include "corio/task.hpp"

namespace corio::detail {

template <class A>
concept has_member_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>)
        return std::forward<A>(a).operator co_await();
    else
        return std::forward<A>(a);
}

template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

}  // namespace corio::detail

namespace corio {

/// A void result as a value (std::monostate), as in gather's tuples and vectors.
template <class T>
using value_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// An awaitable corio can run as a task: has await_ready/await_suspend/await_resume,
/// or a member operator co_await returning such an object.
template <class A>
concept awaitable = requires(A&& a) {
    { detail::get_awaiter(std::forward<A>(a)).await_ready() } -> std::convertible_to<bool>;
};

/// Wraps an awaitable in a task (a task is returned unchanged). The awaitable is moved into the
/// task's frame, so it must be movable: awaitables corio returns are.
template <awaitable A>
auto as_task(A aw) -> task<detail::await_result_t<A>> {
    if constexpr (is_task_v<A>)
        return aw;
    else
        return [](A a) -> task<detail::await_result_t<A>> { co_return co_await std::move(a); }(std::move(aw));
}

}  // namespace corio
