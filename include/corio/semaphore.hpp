// corio/semaphore.hpp — corio::semaphore: at most N tasks of one loop at a time (asyncio.Semaphore).
//
// snippet: examples/primitives.cpp#semaphore
//   corio::semaphore slots(3);
//   {
//       auto slot = co_await slots.acquire();  // semaphore::guard: releases when destroyed
//       co_await corio::sleep(1ms);            // at most 3 tasks are in here at once
//   }
//   if (auto slot = slots.try_acquire()) slot.detach();  // never waits; detach: the unit stays taken
//   slots.release();                                     // adds a unit (here: the detached one back)
//
// Guarantees: strict FIFO. A unit released while tasks wait goes DIRECTLY to the longest
// waiter (available() stays 0), so nobody can barge in ahead of it. acquire() takes a free unit
// without suspending (and without a cancellation check). The count is not bounded: release()
// beyond the initial count adds units.
//
// Cancel safety of `co_await s.acquire()`: if the task is cancelled while waiting, it leaves
// the queue and acquire() throws cancelled_error; no unit was taken. If a unit was already
// handed over when the cancellation arrives, acquire() returns the guard anyway (result wins;
// the next suspension point throws). If the waiting frame is destroyed after the hand-over, the
// unit is released.
//
// Throws: only cancelled_error (from acquire()). Thread-safety: none — one loop's thread only.
// Destroying a semaphore while tasks wait on it is a programming error (asserted); so is
// destroying it before the guards that hold its units.
#pragma once

#include <cstddef>
#include <utility>

#include "corio/detail/permit_pool.hpp"

namespace corio {

class semaphore {
public:
    /// Holds one unit; releases it when destroyed. Move-only. Empty when default-constructed,
    /// moved from, released, detached, or returned by a failed try_acquire().
    class guard : public detail::permit {
    public:
        guard() noexcept = default;
        explicit guard(detail::permit unit) noexcept : permit(std::move(unit)) {}

        /// Releases the unit now (to the first waiter, if any); a no-op if empty.
        void release() noexcept { reset(); }
        /// Keeps the unit taken but stops owning it: nothing is released now or later, unless
        /// someone calls semaphore::release(). For units passed between tasks by counting.
        void detach() noexcept { permit::detach(); }
    };

    explicit semaphore(std::size_t count) noexcept : pool_(count) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Awaitable: waits for a unit (FIFO) and yields a guard owning it.
    [[nodiscard]] detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>
    acquire() noexcept {
        return detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>(pool_);
    }

    /// A unit if one is free now, else an empty guard. Never waits.
    [[nodiscard]] guard try_acquire() noexcept { return guard(pool_.try_take()); }

    /// Adds one unit: to the longest waiter if any, else to available().
    void release() noexcept { pool_.give(); }

    /// Free units (0 whenever tasks wait).
    std::size_t available() const noexcept { return pool_.available(); }

private:
    detail::permit_pool pool_;
};

}  // namespace corio
