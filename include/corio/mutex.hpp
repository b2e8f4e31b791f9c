// corio/mutex.hpp — corio::mutex: mutual exclusion between tasks of one loop (asyncio.Lock).
//
// snippet: examples/primitives.cpp#mutex
//   corio::mutex m;
//   {
//       auto lock = co_await m.lock();  // mutex::guard: unlocks when it goes out of scope
//       co_await corio::sleep(1ms);     // may suspend: other tasks run, but not in here
//   }
//   if (auto lock = m.try_lock()) locked_at_once = true;  // never waits; empty guard if locked
//
// Guarantees: strict FIFO fairness. Unlocking while tasks wait hands the lock DIRECTLY to the
// longest waiter; the mutex never looks free in between, so the unlocking task (or any other)
// cannot barge in: a task that unlocks and relocks at once queues behind every waiter.
// lock() on a free mutex takes it without suspending (and without a cancellation check).
//
// Cancel safety of `co_await m.lock()`: if the task is cancelled while waiting, it leaves the
// queue (the next waiter is unaffected) and lock() throws cancelled_error; the lock was not
// taken. If the lock was already handed over when the cancellation arrives, lock() returns the
// guard anyway (result wins; the task's next suspension point throws) and the lock is released
// when that guard dies. If the waiting frame is destroyed after the hand-over, the lock is
// released too.
//
// Not recursive: a task that locks twice deadlocks. Throws: only cancelled_error (from lock()).
// Thread-safety: none — a mutex belongs to one loop and is used from its thread only; it is
// not a std::mutex. Destroying a mutex that is locked or has waiters is a programming error
// (asserted).
#pragma once

#include <cassert>
#include <utility>

#include "corio/detail/permit_pool.hpp"

namespace corio {

class mutex {
public:
    /// Holds the lock; unlocks when destroyed. Move-only. Empty when default-constructed, moved
    /// from, unlocked, or returned by a failed try_lock().
    class guard : public detail::permit {
    public:
        guard() noexcept = default;
        explicit guard(detail::permit unit) noexcept : permit(std::move(unit)) {}

        bool owns_lock() const noexcept { return static_cast<bool>(*this); }
        /// True if this holds the lock of `m` (condition::wait checks the guard it is given).
        bool owns_lock(const mutex& m) const noexcept { return pool() == &m.pool_; }
        /// Unlocks now (handing the lock to the first waiter, if any); a no-op if empty.
        void unlock() noexcept { reset(); }
    };

    mutex() noexcept = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;
    ~mutex() { assert(!locked() && "corio::mutex destroyed while locked"); }

    /// Awaitable: waits for the lock (FIFO) and yields a guard owning it.
    [[nodiscard]] detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>
    lock() noexcept {
        return detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>(pool_);
    }

    /// The lock if it is free now, else an empty guard. Never waits.
    [[nodiscard]] guard try_lock() noexcept { return guard(pool_.try_take()); }

    bool locked() const noexcept { return pool_.available() == 0; }

private:
    detail::permit_pool pool_{1};  // one unit, the lock: available() == 0 iff locked
};

}  // namespace corio
