// corio/gather.hpp — run operations concurrently and collect their results.
//
//   auto [a, b] = co_await gather(fetch(x), fetch(y));        // fail-fast, tuple in input order
//   std::vector<T> all = co_await gather(std::move(tasks));    // fail-fast, vector in input order
//   auto settled = co_await gather_settled(fetch(x), fetch(y)); // every outcome<T>, never throws
//                                                               // for a child's error
// Each operation (a task or any awaitable) runs as its own child task, started when the gather
// is first awaited. A void operation yields std::monostate.
//
// gather: the first child to fail cancels all the others, waits for them to finish their
// cleanup, then rethrows that first error (a child's cancellation counts as its error).
// gather_settled: waits for every child; each result is an outcome<T> (value or exception_ptr).
//
// Cancel safety: cancelling the awaiting task (or a wait_for around the gather) cancels every
// child and waits for them; then cancelled_error propagates. Never is the outer cancellation
// turned into a result (asyncio's gather(return_exceptions=True) does that: cpython#76865).
// Throws: gather: the first child error or cancelled_error; gather_settled: cancelled_error.
#pragma once

#include <exception>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/detail/child_group.hpp"
#include "corio/outcome.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {

/// Cancels every other child when the first one fails, and keeps that first error.
class fail_fast_group final : public child_group {
public:
    std::exception_ptr first_error;

private:
    void on_child_done(task_state& child) noexcept override {
        if (first_error || !child.promise().error) return;
        first_error = child.take_error();
        cancel_all();
    }
};

/// Waits for every child; their outcomes are read afterwards.
class settling_group final : public child_group {
    void on_child_done(task_state&) noexcept override {}
};

/// Throws cancelled_error if the calling task has a cancellation pending.
inline void throw_if_cancelled(const char* what) {
    if (current_task->cancel_pending()) throw cancelled_error(what);
}

/// Moves a finished child's value out (void becomes std::monostate); rethrows its error.
template <class T>
value_or_monostate<T> take_value(join_handle<T>& h) {
    h.state().take_error();
    auto& promise = static_cast<task_promise<T>&>(h.state().promise());
    if constexpr (std::is_void_v<T>) {
        promise.take();
        return {};
    } else {
        return promise.take();
    }
}

template <class T>
outcome<T> take_outcome(join_handle<T>& h) {
    if (std::exception_ptr e = h.state().take_error()) return outcome<T>(std::move(e));
    if constexpr (std::is_void_v<T>)
        return outcome<void>();
    else
        return outcome<T>(static_cast<task_promise<T>&>(h.state().promise()).take());
}

template <class Group, class T>
std::vector<join_handle<T>> spawn_all(Group& group, std::vector<task<T>>& tasks) {
    std::vector<join_handle<T>> handles;
    handles.reserve(tasks.size());
    for (auto& t : tasks) handles.push_back(group.spawn(std::move(t)));
    return handles;
}

}  // namespace detail

/// Runs every operation concurrently; returns their values in order, or rethrows the first error.
template <awaitable... A>
task<std::tuple<value_or_monostate<detail::await_result_t<A>>...>> gather(A... ops) {
    detail::fail_fast_group group;
    auto handles = std::tuple{group.spawn(as_task(std::move(ops)))...};  // braces: in order
    co_await group.join();
    detail::throw_if_cancelled("gather cancelled");
    if (group.first_error) std::rethrow_exception(group.first_error);
    co_return std::apply([](auto&... h) { return std::make_tuple(detail::take_value(h)...); },
                         handles);
}

/// Runs every task concurrently; returns their values in input order, or the first error.
template <class T>
task<std::vector<value_or_monostate<T>>> gather(std::vector<task<T>> tasks) {
    detail::fail_fast_group group;
    auto handles = detail::spawn_all(group, tasks);
    co_await group.join();
    detail::throw_if_cancelled("gather cancelled");
    if (group.first_error) std::rethrow_exception(group.first_error);
    std::vector<value_or_monostate<T>> values;
    values.reserve(handles.size());
    for (auto& h : handles) values.push_back(detail::take_value(h));
    co_return values;
}

/// Runs every operation concurrently and returns each one's outcome, in input order.
template <awaitable... A>
task<std::tuple<outcome<detail::await_result_t<A>>...>> gather_settled(A... ops) {
    detail::settling_group group;
    auto handles = std::tuple{group.spawn(as_task(std::move(ops)))...};  // braces: in order
    co_await group.join();
    detail::throw_if_cancelled("gather_settled cancelled");
    co_return std::apply([](auto&... h) { return std::make_tuple(detail::take_outcome(h)...); },
                         handles);
}

/// Runs every task concurrently and returns each one's outcome, in input order.
template <class T>
task<std::vector<outcome<T>>> gather_settled(std::vector<task<T>> tasks) {
    detail::settling_group group;
    auto handles = detail::spawn_all(group, tasks);
    co_await group.join();
    detail::throw_if_cancelled("gather_settled cancelled");
    std::vector<outcome<T>> outcomes;
    outcomes.reserve(handles.size());
    for (auto& h : handles) outcomes.push_back(detail::take_outcome(h));
    co_return outcomes;
}

}  // namespace corio
