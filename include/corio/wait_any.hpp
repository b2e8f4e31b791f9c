// corio/wait_any.hpp — wait_any: the first operation to finish wins; the rest are cancelled.
//
// snippet: examples/combinators.cpp#wait_any
//   auto first = co_await corio::wait_any(fetch("/slow"), fetch("/a"));  // the other one is cancelled
//   std::printf("operation %zu finished first\n", first.index());      // std::get<I>(first): its value
//   auto [index, value] = co_await corio::wait_any(std::move(mirrors));  // same-typed tasks
//
// Every operation runs as its own child task. When one finishes, all others are cancelled and
// awaited (their cleanup runs) before wait_any returns. If the first to finish failed, its error
// is rethrown (after the others are cleaned up). A void operation yields std::monostate.
//
// Cancel safety: cancelling the awaiting task cancels every child, waits for them, and throws
// cancelled_error. Throws: the winner's error, cancelled_error; corio::error for an empty vector.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/detail/child_group.hpp"
#include "corio/gather.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {
/// Remembers the first child to finish and cancels the others.
class first_wins_group final : public child_group {
public:
    task_state* winner = nullptr;  // the first child to finish, once one has
    std::exception_ptr first_error;  // stays null: the winner's error is read from its handle

private:
    void on_child_done(task_state& child) noexcept override {
        if (winner != nullptr) return;
        winner = &child;
        cancel_all();
    }
};

template <std::size_t I, class Variant, class Handles>
Variant take_winner(Handles& handles, std::size_t index) {
    if constexpr (I < std::tuple_size_v<Handles>) {
        if (index == I) return Variant(std::in_place_index<I>, take_value(std::get<I>(handles)));
        return take_winner<I + 1, Variant>(handles, index);
    } else {
        std::terminate();  // unreachable: index < number of handles
    }
}
}  // namespace detail

/// Awaits whichever operation finishes first; returns its value as a variant whose index()
/// identifies the operation.
template <awaitable... A>
task<std::variant<value_or_monostate<detail::await_result_t<A>>...>> wait_any(A... ops) {
    static_assert(sizeof...(A) > 0, "wait_any needs at least one operation");
    detail::first_wins_group group;
    auto handles = std::tuple{group.spawn(as_task(std::move(ops)))...};  // braces: in order
    co_await detail::join_and_check(group, "wait_any cancelled");
    const auto states = std::apply(
        [](auto&... h) { return std::array<const detail::task_state*, sizeof...(A)>{&h.state()...}; },
        handles);
    const auto index = static_cast<std::size_t>(std::find(states.begin(), states.end(), group.winner) - states.begin());
    using result = std::variant<value_or_monostate<detail::await_result_t<A>>...>;
    co_return detail::take_winner<0, result>(handles, index);
}

/// Awaits whichever task finishes first; returns its index in `tasks` and its value.
template <class T>
task<std::pair<std::size_t, value_or_monostate<T>>> wait_any(std::vector<task<T>> tasks) {
    if (tasks.empty()) throw error("wait_any: no tasks given");
    detail::first_wins_group group;
    auto handles = detail::spawn_all(group, tasks);
    co_await detail::join_and_check(group, "wait_any cancelled");
    for (std::size_t i = 0; i < handles.size(); ++i) {
        if (&handles[i].state() == group.winner) co_return std::pair{i, detail::take_value(handles[i])};
    }
    std::terminate();  // unreachable: the winner is one of the handles
}

}  // namespace corio
