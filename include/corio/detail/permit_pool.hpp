// corio/detail/permit_pool.hpp — counted units with FIFO hand-off: the core of mutex and semaphore.
//
// A pool holds available() units. Acquiring takes a free unit at once (no suspension, so no
// cancellation check), or parks the task in the pool's wait_queue. Giving a unit back hands it
// DIRECTLY to the longest waiter — the count does not move — so a task that gives back and at
// once acquires again queues behind every waiter: strict FIFO, no barging. A mutex is a pool of
// one unit. A unit is held by a `permit` (RAII), which gives it back when destroyed.
//
// Cancel safety of acquiring: cancelled while parked, the task leaves the queue and nothing was
// taken. Granted but cancelled before resuming: the co_await still returns the unit (result
// wins). If the awaiting frame is destroyed after the grant, the unit goes back to the pool.
// Thread-safety: none (one loop).
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include "corio/detail/wait_queue.hpp"

namespace corio::detail {

class permit_pool;

/// Owns one unit of a permit_pool; gives it back when destroyed. Move-only; empty when
/// default-constructed or moved from. Base of mutex::guard and semaphore::guard.
class permit {
public:
    permit() noexcept = default;
    permit(permit&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)) {}
    permit& operator=(permit&& other) noexcept {
        if (this != &other) {
            reset();
            pool_ = std::exchange(other.pool_, nullptr);
        }
        return *this;
    }
    ~permit() { reset(); }

    /// True if this holds a unit.
    explicit operator bool() const noexcept { return pool_ != nullptr; }

protected:
    /// Gives the unit back now; a no-op if empty.
    inline void reset() noexcept;
    /// Stops owning the unit without giving it back; a no-op if empty.
    void detach() noexcept { pool_ = nullptr; }
    /// The pool the unit goes back to; null if empty.
    permit_pool* pool() const noexcept { return pool_; }

private:
    friend class permit_pool;
    explicit permit(permit_pool& pool) noexcept : pool_(&pool) {}  // adopts a unit already taken

    permit_pool* pool_ = nullptr;  // where the unit goes back; null iff empty
};

/// A task waiting for a unit. The pool stores the unit in `unit` before granting.
struct permit_waiter : waiter {
    permit unit;  // holds the unit once granted, until the awaiter hands it out

protected:
    ~permit_waiter() = default;
};

class permit_pool {
public:
    explicit permit_pool(std::size_t units) noexcept : available_(units) {}
    permit_pool(const permit_pool&) = delete;
    permit_pool& operator=(const permit_pool&) = delete;

    std::size_t available() const noexcept { return available_; }

    /// A free unit, or an empty permit if none is free. Never waits.
    permit try_take() noexcept {
        if (available_ == 0) return {};
        --available_;
        return permit(*this);
    }

    /// Adds one unit: to the longest waiter if there is one, else to the free count.
    void give() noexcept {
        if (permit_waiter* w = waiters_.front()) {
            w->unit = permit(*this);
            waiters_.grant(*w);
        } else {
            ++available_;
        }
    }

    /// For await_suspend; see wait_queue::park.
    bool park(permit_waiter& w, std::coroutine_handle<> h) noexcept { return waiters_.park(w, h); }

private:
    // Invariant: available_ > 0 implies waiters_ is empty (a unit given back while tasks wait
    // goes straight to the first of them).
    std::size_t available_;
    wait_queue<permit_waiter> waiters_;  // tasks waiting for a unit, in arrival order
};

inline void permit::reset() noexcept {
    if (pool_ != nullptr) std::exchange(pool_, nullptr)->give();
}

/// Awaiter of mutex::lock() / semaphore::acquire(): yields a Guard (derived from permit,
/// constructible from one) holding the unit.
template <class Guard>
class acquire_awaiter final : public permit_waiter {
public:
    explicit acquire_awaiter(permit_pool& pool) noexcept : pool_(pool) {}

    bool await_ready() noexcept {
        unit = pool_.try_take();
        if (unit) settle(status::granted);
        return static_cast<bool>(unit);
    }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return pool_.park(*this, h); }
    Guard await_resume() {
        throw_if_cancelled("cancelled while waiting to acquire");
        return Guard(std::move(unit));
    }

private:
    permit_pool& pool_;
};

}  // namespace corio::detail
