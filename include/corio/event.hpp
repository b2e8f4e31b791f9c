// corio/event.hpp — corio::event: a flag tasks of one loop can wait for (asyncio.Event).
//
// snippet: examples/primitives.cpp#event
//   corio::event ready;
//   auto waiter = corio::spawn(ready.wait());  // a task waiting until someone calls set()
//   co_await corio::yield();                   // (let it start waiting)
//   ready.set();                               // wakes every task waiting now; later wait()s return at once
//   co_await waiter;
//   ready.clear();                             // later wait()s wait again
//
// Guarantees: set() wakes all current waiters, in the order they started waiting; each of them
// returns from wait() even if clear() is called before it gets to run. wait() on a set event
// does not suspend (and does not check for cancellation).
//
// Cancel safety of `co_await e.wait()`: cancelled while waiting, the task leaves the waiters
// and wait() throws cancelled_error; the event is untouched. If set() came first, wait()
// returns normally (result wins; the next suspension point throws).
//
// Throws: only cancelled_error (from wait()). Thread-safety: none — one loop's thread only; to
// set it from another thread, post set() to the loop (loop_handle::post). Destroying an event
// while tasks wait on it is a programming error (asserted).
#pragma once

#include <coroutine>

#include "corio/detail/wait_queue.hpp"

namespace corio {

class event {
    class wait_awaiter;

public:
    event() noexcept = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    bool is_set() const noexcept { return set_; }

    /// Sets the flag and wakes every waiting task. Idempotent.
    void set() noexcept {
        set_ = true;
        waiters_.grant_all();
    }

    /// Resets the flag; tasks already woken by set() are not affected.
    void clear() noexcept { set_ = false; }

    /// Awaitable: returns once the event is set.
    [[nodiscard]] detail::wait_request<wait_awaiter, event> wait() noexcept {
        return detail::wait_request<wait_awaiter, event>(*this);
    }

private:
    class wait_awaiter final : public detail::waiter {
    public:
        explicit wait_awaiter(event& e) noexcept : event_(e) {}
        bool await_ready() noexcept {
            if (event_.set_) settle(status::granted);
            return event_.set_;
        }
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            return event_.waiters_.park(*this, h);
        }
        void await_resume() const { throw_if_cancelled("cancelled while waiting for an event"); }

    private:
        event& event_;
    };

    bool set_ = false;                 // invariant: when true, waiters_ is empty
    detail::wait_queue<> waiters_;     // tasks waiting for set(), in arrival order
};

}  // namespace corio
