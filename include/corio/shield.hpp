// corio/shield.hpp — protecting work from cancellation: shield(op) and uncancellable(op).
//
// shield(op)
//
// asyncio.shield: `op` runs as its own spawned task. If the awaiting task is cancelled, the
// awaiter stops waiting and gets cancelled_error at once, while `op` keeps running to completion
// on the loop (its error, if any, is logged as never retrieved). If nothing is cancelled, this is
// the same as awaiting `op`. Typical use: a write that must not be torn in half by a timeout.
//
// Cancel safety: the awaiter can always be cancelled; the operation is never cancelled by it.
// Throws: what op throws; cancelled_error when the awaiter is cancelled.
//
// uncancellable(op)
// Trio's shielded cancel scope: `op` runs in the current task, and cancellation of the task (or
// of any enclosing wait_for) does not reach it; the awaiter waits for op to finish. This is for
// cleanup that must complete, such as closing a connection after cancellation. Always bound it:
// `co_await uncancellable(wait_for(close(), 5s))` (a deadline inside the shield still works).
// Cancellation requested meanwhile is not lost: the next suspension point after it throws.
// Throws: what op throws.
#pragma once

#include "corio/detail/awaitable_traits.hpp"
#include "corio/spawn.hpp"
#include "corio/wait_for.hpp"

namespace corio {

namespace detail {
template <class T>
class [[nodiscard]] shield_request {
public:
    explicit shield_request(join_handle<T> h) noexcept : handle_(std::move(h)) {}
    auto operator co_await() const noexcept {
        return join_awaiter<T, cancel_policy::abandon>(handle_.state());
    }

private:
    join_handle<T> handle_;
};
}  // namespace detail

/// Starts `op` as a separate task now and returns an awaitable for its outcome that does not
/// pass the awaiter's cancellation on to it.
template <awaitable A>
auto shield(A op) {
    return detail::shield_request<detail::await_result_t<A>>(spawn(as_task(std::move(op)), "shield"));
}

/// Awaits `op` in the current task, shielded from cancellation (see above).
template <awaitable A>
auto uncancellable(A op) {
    using request = detail::scope_request<detail::await_result_t<A>>;
    return request(as_task(std::move(op)), request::kind::uncancellable);
}

}  // namespace corio
