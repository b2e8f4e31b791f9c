// corio/timeout.hpp — a deadline over a block of calls: fail_after, fail_at / timeout_at,
// move_on_after, move_on_at (Trio's cancel scopes with deadlines; asyncio.timeout).
//
// snippet: examples/timeouts.cpp#fail_after
//   co_await corio::fail_after(10s, [&]() -> corio::task<> {  // timeout_error after 10 s
//       auto user = co_await fetch_user(id);
//       co_await save(user);                                  // both within the 10 s
//   });
//   const bool gave_up = co_await corio::move_on_after(20ms, [&]() -> corio::task<> {
//       co_await refresh_cache();                             // best effort: cut at 20 ms
//   });
//
// The block is a callable returning a task (or any awaitable), called with no argument or with
// the block's timeout_scope& (to read or move the deadline: timeout_scope.hpp). It is moved into
// the operation's frame and runs in the calling task, in a cancel scope with the deadline: when
// the deadline passes, the suspension point the block is at throws cancelled_error, the block's
// cleanup runs, and then fail_after / fail_at / timeout_at throw timeout_error ("timed out
// after 10s"), while move_on_after / move_on_at return true (the block was cut short) or false
// for a block returning void, std::optional<T> (nullopt when cut) for a block returning T.
// A block that finishes first returns its value or throws its own error, even if the deadline
// fired in the same instant. If the calling task is cancelled (a request, not a deadline), that
// cancellation propagates as cancelled_error. Nested blocks: the innermost deadline that expired
// reports; current_deadline() inside a block sees the nearest one.
// Cost: one timer insert and remove. Cancel safety: as the block's own operations.
// Throws: timeout_error (fail_*), cancelled_error, or what the block throws.
#pragma once

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/clock.hpp"
#include "corio/detail/awaitable_traits.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"
#include "corio/timeout_scope.hpp"
#include "corio/wait_for.hpp"

namespace corio {

namespace detail {

/// Calls the block with the scope if it takes one.
template <class F>
auto start_block(F& block, timeout_scope& scope) {
    if constexpr (std::invocable<F&, timeout_scope&>)
        return as_task(block(scope));
    else
        return as_task(block());
}

template <class F>
using block_result_t = typename decltype(start_block(std::declval<F&>(), std::declval<timeout_scope&>()))::value_type;

/// A deadline as given: a duration counted from when the block starts, or a time point.
struct deadline_spec {
    clock::duration after{};
    clock::time_point at = clock::time_point::min();  // min(): use `after`

    /// The scope for a block starting now.
    void make_scope(std::optional<timeout_scope>& scope) const {
        const auto now = current_loop("corio timeout").now();
        if (at == clock::time_point::min())
            scope.emplace(deadline_after(now, after), after);
        else
            scope.emplace(at, at - now);
    }
};

/// Runs the block in a timeout scope; throws timeout_error if the deadline cut it short.
template <class F>
task<block_result_t<F>> fail_block(deadline_spec deadline, F block) {
    std::optional<timeout_scope> scope;
    deadline.make_scope(scope);
    co_return co_await scoped_awaiter<block_result_t<F>>(start_block(block, *scope), *scope);
}

/// What move_on returns: whether the block was cut short (void block), or its value if it was not.
template <class T>
using move_on_result_t = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;

/// Awaits a block in a timeout scope; reports the deadline's cut instead of throwing it.
template <class T>
class move_on_awaiter : public scoped_awaiter<T> {
public:
    move_on_awaiter(task<T> inner, timeout_scope& scope) noexcept : scoped_awaiter<T>(std::move(inner), scope) {}
    move_on_result_t<T> await_resume() {
        this->leave();
        const bool cut = this->cut_by_deadline();
        if constexpr (std::is_void_v<T>) {
            if (!cut) this->inner().promise().take();
            return cut;
        } else {
            if (cut) return std::nullopt;
            return this->inner().promise().take();
        }
    }
};

template <class F>
task<move_on_result_t<block_result_t<F>>> move_on_block(deadline_spec deadline, F block) {
    std::optional<timeout_scope> scope;
    deadline.make_scope(scope);
    co_return co_await move_on_awaiter<block_result_t<F>>(start_block(block, *scope), *scope);
}

}  // namespace detail

/// A block that must finish within `timeout` of its start: timeout_error if it does not.
template <class F, class Rep, class Period>
auto fail_after(std::chrono::duration<Rep, Period> timeout, F block) {
    return detail::fail_block({.after = std::chrono::duration_cast<clock::duration>(timeout)}, std::move(block));
}

/// A block that must finish by `deadline` (on corio::clock): timeout_error if it does not.
template <class F>
auto fail_at(clock::time_point deadline, F block) {
    return detail::fail_block({.at = deadline}, std::move(block));
}

/// asyncio's name for fail_at.
template <class F>
auto timeout_at(clock::time_point deadline, F block) {
    return fail_at(deadline, std::move(block));
}

/// A block cut short, without an error, if it has not finished within `timeout` of its start:
/// true (or nullopt, for a block returning a value) when it was.
template <class F, class Rep, class Period>
auto move_on_after(std::chrono::duration<Rep, Period> timeout, F block) {
    return detail::move_on_block({.after = std::chrono::duration_cast<clock::duration>(timeout)}, std::move(block));
}

/// A block cut short, without an error, if it has not finished by `deadline`.
template <class F>
auto move_on_at(clock::time_point deadline, F block) {
    return detail::move_on_block({.at = deadline}, std::move(block));
}

}  // namespace corio
