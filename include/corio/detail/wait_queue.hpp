// corio/detail/wait_queue.hpp — the FIFO of tasks suspended on a synchronization primitive.
//
// mutex, semaphore, event and queue all park their waiting tasks here. A waiter is a node that
// lives inside the awaiter of the suspended co_await (parking allocates nothing) and is that
// suspension's cancel_hook. A wait ends in exactly one of three ways:
//   granted   — the primitive gave the waiter what it waited for (a lock unit, an item, the
//               event). The primitive first stores any payload in the waiter, then grants.
//   refused   — the wait is over without success (a queue was closed).
//   cancelled — the task was cancelled while parked: the waiter unlinks itself, the primitive is
//               untouched, and the co_await throws cancelled_error.
// Granting or refusing wakes the task, which detaches its cancel hook (task_state::wake): a
// cancellation that arrives after the grant but before the task resumes cannot undo the grant,
// so the co_await returns its result ("result wins") and the task's NEXT suspension point throws
// (cancellation is level-triggered).
//
// Thread-safety: none. A primitive belongs to one loop and is used from its thread only.
#pragma once

#include <cassert>
#include <coroutine>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/task_state.hpp"

namespace corio::detail {

template <class W>
class wait_queue;

/// One task's place in a wait_queue. Derive the awaiter (or the primitive's payload-carrying
/// node) from it; the derived object must stay put while parked (awaiters are pinned).
class waiter : public list_node, private cancel_hook {
public:
    enum class status : unsigned char {
        idle,       // not parked, no outcome yet
        waiting,    // parked in a wait_queue; its task is suspended
        granted,    // got what it waited for (payload, if any, already stored)
        refused,    // the wait ended without success
        cancelled,  // the task was cancelled before anything was granted
    };

    waiter() noexcept = default;

    status state() const noexcept { return status_; }
    bool granted() const noexcept { return status_ == status::granted; }

    /// For await_resume: throws cancelled_error(reason) if the wait was cancelled.
    /// `reason` must be a string literal.
    void throw_if_cancelled(const char* reason) const {
        assert(status_ != status::idle && status_ != status::waiting);
        if (status_ == status::cancelled) throw cancelled_error(reason);
    }

protected:
    ~waiter() { unlink(); }  // a suspended frame may be destroyed while parked

    /// For await_ready: records an outcome reached at once, without parking.
    void settle(status outcome) noexcept {
        assert(status_ == status::idle);
        status_ = outcome;
    }

    /// Called once this waiter was cancelled while parked, after it left the queue (its task is
    /// already woken). A primitive whose state depends on who waits (rwlock: a writer at the
    /// head holds back the readers behind it; barrier: an arrival is withdrawn) updates it here.
    virtual void on_withdrawn() noexcept {}

private:
    template <class W>
    friend class wait_queue;

    /// Suspends the current task at `h` with this as its cancel hook; false (and status
    /// cancelled) if cancellation is already pending.
    [[gnu::always_inline]] bool park(std::coroutine_handle<> h) noexcept {
        assert(status_ == status::idle);
        task_ = current_task;
        if (!task_->suspend(h, this)) {
            status_ = status::cancelled;
            return false;
        }
        status_ = status::waiting;
        return true;
    }
    void finish(status outcome) noexcept {
        unlink();
        status_ = outcome;
        task_->wake();
    }
    void on_cancel() noexcept override {
        finish(status::cancelled);
        on_withdrawn();
    }

    task_state* task_ = nullptr;     // the parked task; set by park()
    status status_ = status::idle;   // invariant: waiting iff linked into a wait_queue
};

/// Parked waiters of type W (derived from waiter) in arrival order.
template <class W = waiter>
class wait_queue {
public:
    wait_queue() noexcept = default;
    wait_queue(const wait_queue&) = delete;
    wait_queue& operator=(const wait_queue&) = delete;
    ~wait_queue() {
        assert(empty() && "corio: a synchronization primitive was destroyed while tasks wait on it");
    }

    bool empty() const noexcept { return waiters_.empty(); }

    /// For await_suspend: parks `w` last and suspends the current task at `h`. Returns false,
    /// with `w` cancelled and not parked, if cancellation is pending: await_suspend must then
    /// return false (not suspend) and await_resume throws.
    bool park(W& w, std::coroutine_handle<> h) noexcept {
        if (!static_cast<waiter&>(w).park(h)) return false;
        waiters_.push_back(w);
        return true;
    }

    /// The longest-waiting waiter, or null. Store its payload, then grant() it.
    W* front() noexcept { return empty() ? nullptr : &waiters_.front(); }

    /// Calls fn(W&) for each parked waiter in arrival order; fn may grant the one it is given.
    template <class F>
    void for_each(F&& fn) {
        waiters_.for_each(fn);
    }

    /// Ends `w`'s wait successfully (unlinks it, wakes its task).
    void grant(W& w) noexcept { static_cast<waiter&>(w).finish(waiter::status::granted); }

    /// Grants every parked waiter.
    void grant_all() noexcept { finish_all(waiter::status::granted); }

    /// Ends `w`'s wait without success (unlinks it, wakes its task).
    void refuse(W& w) noexcept { static_cast<waiter&>(w).finish(waiter::status::refused); }

    /// Ends every parked waiter's wait without success.
    void refuse_all() noexcept { finish_all(waiter::status::refused); }

private:
    void finish_all(waiter::status outcome) noexcept {
        waiters_.for_each([outcome](W& w) { static_cast<waiter&>(w).finish(outcome); });
    }

    intrusive_list<W> waiters_;  // invariant: every node's status is waiting
};

/// What a primitive's operation returns (m.lock(), e.wait(), q.pop(), ...): a movable reference
/// to the primitive that makes the pinned awaiter only when awaited. Being movable, it can be
/// handed to wait_for, shield, gather, ...
template <class Awaiter, class Target>
class [[nodiscard]] wait_request {
public:
    explicit wait_request(Target& target) noexcept : target_(&target) {}
    Awaiter operator co_await() const noexcept { return Awaiter(*target_); }

private:
    Target* target_;  // the primitive; must outlive the await
};

}  // namespace corio::detail
