// corio/gather.hpp — run operations concurrently and collect their results.
//
// snippet: examples/combinators.cpp#gather
//   auto [a, b] = co_await corio::gather(fetch("/a"), fetch("/b"));          // fail-fast; a tuple
//   std::vector<std::string> all = co_await corio::gather(std::move(calls));  // fail-fast; in input order
//   auto [ok, down] = co_await corio::gather_settled(fetch("/a"), fetch("/down"));  // an outcome<T> each
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

/// Waits for every child; their outcomes are read afterwards (first_error stays null).
class settling_group final : public child_group {
public:
    std::exception_ptr first_error;

private:
    void on_child_done(task_state&) noexcept override {}
};

/// Throws cancelled_error if the calling task has a cancellation pending.
inline void throw_if_cancelled(const char* what) {
    if (current_task->cancel_pending()) throw cancelled_error(what);
}

/// Moves a finished child's value out (void becomes std::monostate); rethrows its error.
template <class T>
value_or_monostate<T> take_value(join_handle<T>& h) {
    if (h.state().failed()) [[unlikely]] std::rethrow_exception(h.state().take_error());
    auto& promise = static_cast<task_promise<T>&>(h.state().promise());
    if constexpr (std::is_void_v<T>) {
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

/// Waits for `group` to finish; then the outer cancellation, or else the group's first error,
/// propagates.
template <class Group>
task<> join_and_check(Group& group, const char* what) {
    co_await group.join();
    throw_if_cancelled(what);
    if (group.first_error) std::rethrow_exception(group.first_error);
}

/// Runs `tasks` as children of a Group and maps each finished handle through `read`.
template <class Group, class T, class Read>
auto collect_vector(std::vector<task<T>> tasks, Read read, const char* what)
    -> task<std::vector<std::invoke_result_t<Read&, join_handle<T>&>>> {
    Group group;
    auto handles = spawn_all(group, tasks);
    co_await join_and_check(group, what);
    std::vector<std::invoke_result_t<Read&, join_handle<T>&>> results;
    results.reserve(handles.size());
    for (auto& h : handles) results.push_back(read(h));
    co_return results;
}

/// Runs each task as a child of a Group and maps each finished handle through `read`.
template <class Group, class Read, class... T>
auto collect_tuple(Read read, const char* what, task<T>... tasks)
    -> task<std::tuple<std::invoke_result_t<Read&, join_handle<T>&>...>> {
    Group group;
    auto handles = std::tuple{group.spawn(std::move(tasks))...};  // braces: spawned in order
    co_await join_and_check(group, what);
    co_return std::apply([&](auto&... h) { return std::tuple{read(h)...}; }, handles);
}

struct value_reader {
    template <class T>
    value_or_monostate<T> operator()(join_handle<T>& h) const { return take_value(h); }
};
struct outcome_reader {
    template <class T>
    outcome<T> operator()(join_handle<T>& h) const { return take_outcome(h); }
};

}  // namespace detail

/// Runs every operation concurrently; returns their values in order, or rethrows the first error.
template <awaitable... A>
task<std::tuple<value_or_monostate<detail::await_result_t<A>>...>> gather(A... ops) {
    return detail::collect_tuple<detail::fail_fast_group>(detail::value_reader{}, "gather cancelled",
                                                          as_task(std::move(ops))...);
}

/// Runs every task concurrently; returns their values in input order, or the first error.
template <class T>
task<std::vector<value_or_monostate<T>>> gather(std::vector<task<T>> tasks) {
    return detail::collect_vector<detail::fail_fast_group>(std::move(tasks), detail::value_reader{},
                                                           "gather cancelled");
}

/// Runs every operation concurrently and returns each one's outcome, in input order.
template <awaitable... A>
task<std::tuple<outcome<detail::await_result_t<A>>...>> gather_settled(A... ops) {
    return detail::collect_tuple<detail::settling_group>(detail::outcome_reader{}, "gather_settled cancelled",
                                                         as_task(std::move(ops))...);
}

/// Runs every task concurrently and returns each one's outcome, in input order.
template <class T>
task<std::vector<outcome<T>>> gather_settled(std::vector<task<T>> tasks) {
    return detail::collect_vector<detail::settling_group>(std::move(tasks), detail::outcome_reader{},
                                                          "gather_settled cancelled");
}

}  // namespace corio
