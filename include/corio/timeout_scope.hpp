// corio/timeout_scope.hpp — timeout_scope: a deadline over a block of work, and current_deadline().
//
// A timeout_scope is the deadline of one fail_after / move_on_after / timeout_at block (timeout.hpp)
// or wait_for: when it passes, everything inside the block is cancelled (each suspension point
// there throws cancelled_error), and once the block has unwound the timeout reports — an error
// for fail_after and wait_for, a flag for move_on_after. The block can read and move its
// deadline through the scope it is handed:
// snippet: examples/timeouts.cpp#reschedule
//   co_await corio::fail_after(50ms, [&](corio::timeout_scope& scope) -> corio::task<> {
//       co_await connect();
//       scope.reschedule(scope.deadline() + 50ms);  // the handshake earned more time
//       co_await handshake();
//   });
// current_deadline() tells any code the nearest deadline in force in the calling task (from every
// enclosing timeout, but none outside an uncancellable() shield): how a callee can size its own
// timeouts, or give up early instead of starting work it cannot finish.
//
// Nesting: scopes nest like the blocks; when several expire, the innermost one that expired reports
// (an inner fail_after's timeout_error passes through an outer one unchanged).
// Thread-safety: a scope belongs to the task running its block. Non-copyable, non-movable.
// Cancel safety: reschedule() and the accessors never suspend.
#pragma once

#include <optional>

#include "corio/clock.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"

namespace corio {

class timeout_scope : detail::timer_node {
public:
    /// A scope whose block must end by `deadline`; `budget` is the timeout as the caller gave
    /// it, for messages ("timed out after 2s").
    timeout_scope(clock::time_point deadline, clock::duration budget) noexcept
        : timer_node(&fire), deadline_(deadline), budget_(budget) {}
    timeout_scope(const timeout_scope&) = delete;
    timeout_scope& operator=(const timeout_scope&) = delete;
    ~timeout_scope() { leave(); }

    /// When the block is cut short (on corio::clock).
    clock::time_point deadline() const noexcept { return deadline_; }
    /// Moves the deadline, earlier or later, while the block runs (a deadline already past cuts
    /// it at the loop's next turn). After the scope has expired it changes nothing.
    void reschedule(clock::time_point deadline);
    /// True once the deadline passed and cancelled the block.
    bool expired() const noexcept { return expired_; }
    /// The timeout as given, for messages.
    clock::duration budget() const noexcept { return budget_; }

    // ---- for the awaiters that run a block in the scope (detail/scoped_awaiter.hpp) ----
    /// Arms the deadline and enters the cancel scope in `task`.
    void enter(detail::task_state& task);
    /// Disarms the deadline and leaves the cancel scope (idempotent).
    void leave() noexcept;
    detail::cancel_scope& cancel_scope() noexcept { return scope_; }

private:
    static void fire(detail::timer_node& node) noexcept;

    detail::cancel_scope scope_;
    clock::time_point deadline_;
    clock::duration budget_;
    event_loop* loop_ = nullptr;  // set while entered: where the deadline's timer is
    bool expired_ = false;        // the deadline fired and cancelled scope_
};

/// The nearest deadline in force in the calling task: the earliest of every enclosing timeout
/// scope (and wait_for), up to the innermost uncancellable() shield. nullopt if there is none
/// (or outside a task).
std::optional<clock::time_point> current_deadline() noexcept;

}  // namespace corio
