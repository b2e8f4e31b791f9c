// corio/bounded_semaphore.hpp — corio::bounded_semaphore: a semaphore whose count can never
// rise above its initial value (asyncio.BoundedSemaphore).
//
// snippet: examples/primitives.cpp#bounded_semaphore
//   corio::bounded_semaphore slots(2);
//   (co_await slots.acquire()).detach();  // a unit taken for good...
//   slots.release();                      // ...given back by hand
//   try {
//       slots.release();  // no unit out: the count would exceed 2
//   } catch (const corio::semaphore_overflow_error&) {
//       refused = true;
//   }
//
// The same API and guarantees as corio::semaphore (semaphore.hpp: strict FIFO hand-off, no
// barging, acquire() without suspending when a unit is free, the cancel safety of acquire()),
// with one difference: release() may only give back a unit whose guard was detached. A unit
// held by a guard goes back through the guard, so release() with no detached unit outstanding
// would raise the count above the initial value: it throws semaphore_overflow_error and changes
// nothing. The count of free units plus the units held (by guards or detached) is always the
// initial value.
//
// Throws: cancelled_error (from acquire()); semaphore_overflow_error (from release()).
// Thread-safety: none — one loop's thread only. Destroying a bounded_semaphore while tasks
// wait on it is a programming error (asserted); so is destroying it before the guards that hold
// its units.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "corio/detail/permit_pool.hpp"
#include "corio/error.hpp"

namespace corio {

/// bounded_semaphore::release() was called with no detached unit to give back.
class semaphore_overflow_error : public error {
public:
    explicit semaphore_overflow_error(std::size_t initial)
        : error("corio::bounded_semaphore: release() beyond the initial value of " + std::to_string(initial) +
                " (no unit was taken and detached)") {}
};

class bounded_semaphore {
    struct counted_pool : detail::permit_pool {
        using permit_pool::permit_pool;
        std::size_t detached = 0;  // units taken whose guards detached: what release() may give back
    };

public:
    /// Holds one unit; releases it when destroyed. Move-only. Empty when default-constructed,
    /// moved from, released, detached, or returned by a failed try_acquire().
    class guard : public detail::permit {
    public:
        guard() noexcept = default;

        /// Releases the unit now (to the first waiter, if any); a no-op if empty.
        void release() noexcept { reset(); }
        /// Keeps the unit taken but stops owning it; bounded_semaphore::release() gives it back.
        /// A no-op if empty.
        void detach() noexcept {
            // Only a bounded_semaphore makes these guards (acquire, try_acquire), so the pool is one.
            if (auto* owner = static_cast<counted_pool*>(permit::pool())) {
                ++owner->detached;
                permit::detach();
            }
        }

    private:
        friend class bounded_semaphore;
        friend class detail::acquire_awaiter<guard>;
        // Private: only this semaphore's units may be adopted (detach() relies on it).
        explicit guard(detail::permit unit) noexcept : permit(std::move(unit)) {}
    };

    /// `initial` free units, the most there can ever be.
    explicit bounded_semaphore(std::size_t initial) noexcept : pool_(initial), initial_(initial) {}
    bounded_semaphore(const bounded_semaphore&) = delete;
    bounded_semaphore& operator=(const bounded_semaphore&) = delete;

    /// Awaitable: waits for a unit (FIFO) and yields a guard owning it.
    [[nodiscard]] detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>
    acquire() noexcept {
        return detail::wait_request<detail::acquire_awaiter<guard>, detail::permit_pool>(pool_);
    }

    /// A unit if one is free now, else an empty guard. Never waits.
    [[nodiscard]] guard try_acquire() noexcept { return guard(pool_.try_take()); }

    /// Gives back one detached unit: to the longest waiter if any, else to available().
    /// Throws semaphore_overflow_error (and changes nothing) if no detached unit is outstanding.
    void release() {
        if (pool_.detached == 0) throw semaphore_overflow_error(initial_);
        --pool_.detached;
        pool_.give();
    }

    /// Free units (0 whenever tasks wait).
    std::size_t available() const noexcept { return pool_.available(); }
    /// The initial and largest count.
    std::size_t initial() const noexcept { return initial_; }

private:
    counted_pool pool_;  // invariant: available() + units held by guards + pool_.detached == initial_
    const std::size_t initial_;
};

}  // namespace corio
