// corio/barrier.hpp — corio::barrier: N tasks of one loop wait for each other, cycle after
// cycle (asyncio.Barrier, without abort/reset).
//
// snippet: examples/primitives.cpp#barrier
//   corio::barrier ready(3);  // trips when 3 tasks wait; then the next cycle begins
//   auto worker = [&]() -> corio::task<> {
//       std::size_t index = co_await ready.wait();  // 0, 1, 2: the arrival order
//       indices.push_back(index);
//   };
//   auto a = corio::spawn(worker());
//   auto b = corio::spawn(worker());
//   co_await worker();  // the third arrival: trips it without waiting
//   co_await a;
//   co_await b;
//
// Guarantees: wait() suspends until parties() tasks are waiting; the arrival that makes the
// count complete trips the barrier without suspending, and every waiter of that cycle returns.
// wait() returns the task's arrival index in its cycle, 0 for the first still waiting to
// parties() - 1 for the one that tripped it: distinct within a cycle, in arrival order. The
// barrier is reusable: a wait() after a trip belongs to the next cycle. Waiters are woken in
// arrival order.
//
// Cancel safety of `co_await b.wait()`: cancelled before the barrier trips, the task withdraws
// its arrival (n_waiting() drops by one, so one more arrival is needed to trip, and the indices
// of the others close the gap) and wait() throws cancelled_error. Cancelled after the trip but
// before it resumes, wait() returns its index (result wins; the next suspension point throws):
// a cycle that tripped stays tripped. wait() that trips the barrier does not suspend (and does
// not check for cancellation).
//
// Throws: cancelled_error (from wait()); std::invalid_argument (from the constructor, for 0
// parties). Thread-safety: none — one loop's thread only. Destroying a barrier while tasks wait
// on it is a programming error (asserted).
#pragma once

#include <coroutine>
#include <cstddef>
#include <stdexcept>

#include "corio/detail/wait_queue.hpp"

namespace corio {

class barrier {
    class wait_awaiter;

public:
    /// Throws std::invalid_argument if parties is 0.
    explicit barrier(std::size_t parties) : parties_(parties) {
        if (parties == 0) throw std::invalid_argument("corio::barrier: parties must be at least 1");
    }
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    /// Awaitable: arrives and waits until parties() tasks have arrived; yields the arrival index.
    [[nodiscard]] detail::wait_request<wait_awaiter, barrier> wait() noexcept {
        return detail::wait_request<wait_awaiter, barrier>(*this);
    }

    /// How many tasks must arrive to trip the barrier.
    std::size_t parties() const noexcept { return parties_; }
    /// How many tasks of the current cycle wait.
    std::size_t n_waiting() const noexcept { return waiting_; }

private:
    /// A parked wait(); the barrier stores the arrival index before granting.
    struct arrival : detail::waiter {
        std::size_t index = 0;

    protected:
        ~arrival() = default;
    };

    class wait_awaiter final : public arrival {
    public:
        explicit wait_awaiter(barrier& b) noexcept : barrier_(b) {}
        bool await_ready() noexcept {
            if (barrier_.waiting_ + 1 < barrier_.parties_) return false;
            index = barrier_.trip();
            settle(status::granted);
            return true;
        }
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            if (!barrier_.waiters_.park(*this, h)) return false;
            ++barrier_.waiting_;
            return true;
        }
        std::size_t await_resume() const {
            throw_if_cancelled("cancelled while waiting at a barrier");
            return index;
        }

    private:
        void on_withdrawn() noexcept override { --barrier_.waiting_; }

        barrier& barrier_;
    };

    /// Releases every waiter of the cycle with its index, in arrival order; starts the next
    /// cycle. Returns the index of the arrival that tripped it.
    std::size_t trip() noexcept {
        std::size_t next = 0;
        waiters_.for_each([this, &next](arrival& a) {
            a.index = next++;
            waiters_.grant(a);
        });
        waiting_ = 0;
        return next;
    }

    const std::size_t parties_;  // >= 1
    std::size_t waiting_ = 0;    // invariant: the number of parked waiters, < parties_
    detail::wait_queue<arrival> waiters_;  // the current cycle's waiters, in arrival order
};

}  // namespace corio
