// corio/condition.hpp — corio::condition: tasks of one loop wait, under a corio::mutex, until
// another task notifies them (asyncio.Condition).
//
// snippet: examples/primitives.cpp#condition
//   corio::mutex m;
//   corio::condition changed(m);  // bound to m, which must outlive it
//   std::vector<std::string> inbox;
//   auto reader = corio::spawn([&]() -> corio::task<std::string> {
//       auto has_mail = [&] { return !inbox.empty(); };
//       auto lock = co_await m.lock();
//       co_await changed.wait(lock, has_mail);  // unlocks m while waiting, until has_mail()
//       co_return inbox.front();                // m is held again here
//   });
//   co_await corio::yield();  // (let it start waiting)
//   {
//       auto lock = co_await m.lock();
//       inbox.push_back("hello");
//       changed.notify_one();  // or notify_all(); waiters wake in the order they began waiting
//   }
//   std::string first = co_await reader;
//
// A condition is bound to a mutex it does not own (`corio::condition cv(m);`, as
// asyncio.Condition(lock)); the mutex must outlive it. Several conditions may share one mutex.
//
// Guarantees: wait(guard) takes a guard holding that mutex, unlocks it, waits for a
// notification, and locks it again (queueing FIFO behind the mutex's other waiters) before it
// returns: the guard holds the mutex again whenever wait() returns or throws. notify_one()
// wakes the longest-waiting task, notify_all() every task waiting now, in the order they began
// waiting; a notification with nobody waiting is lost (as with std::condition_variable). notify
// does not require holding the mutex: on one loop nothing runs between a check of the state and
// the start of a wait, so no wake-up can slip in between. wait(guard, pred) returns once pred()
// is true, checked under the mutex, first before waiting at all — the way to wait for a state,
// since a notified task may find the state changed again by the time it holds the mutex.
//
// Cancel safety of `co_await cv.wait(guard)` (and of wait(guard, pred)): cancelled while waiting
// for a notification, the task stops waiting (a later notify_one() goes to the next waiter),
// then locks the mutex again shielded from the cancellation — possibly waiting for it — and
// only then throws cancelled_error, with the guard holding the mutex. Notified and then
// cancelled before it resumes, wait() uses the notification and returns normally (result wins;
// the next suspension point throws). wait() under wait_for(..., d) that times out also returns
// only once the mutex is held again, so the time it takes can exceed d by the time another task
// keeps the mutex.
//
// wait() takes the guard by reference: the guard must outlive the await (it does when awaited
// at once, as above). Throws: cancelled_error; std::invalid_argument if the guard does not hold
// this condition's mutex; whatever pred throws (the guard still holds the mutex).
// Thread-safety: none — one loop's thread only. Destroying a condition while tasks wait on it is
// a programming error (asserted).
#pragma once

#include <coroutine>
#include <stdexcept>

#include "corio/detail/wait_queue.hpp"
#include "corio/mutex.hpp"
#include "corio/shield.hpp"
#include "corio/task.hpp"

namespace corio {

class condition {
    class notified_awaiter;

public:
    /// Binds the condition to `m`, which must outlive it.
    explicit condition(mutex& m) noexcept : mutex_(m) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;

    /// Unlocks `held`'s mutex, waits for a notification, locks it again into `held` (see the
    /// header). `held` must hold this condition's mutex.
    task<> wait(mutex::guard& held) {
        require_held(held);
        held.unlock();
        bool cancelled = false;
        try {
            co_await detail::wait_request<notified_awaiter, condition>(*this);
        } catch (const cancelled_error&) {
            cancelled = true;  // rethrown below, once the mutex is held again
        }
        held = co_await uncancellable(mutex_.lock());
        if (cancelled) throw cancelled_error("cancelled while waiting on a condition");
    }

    /// Waits (as wait(held)) until pred() is true; pred is called with the mutex held.
    template <class Predicate>
    task<> wait(mutex::guard& held, Predicate pred) {
        require_held(held);
        while (!pred()) co_await wait(held);
    }

    /// Wakes the task that has waited longest, if any.
    void notify_one() noexcept {
        if (detail::waiter* w = waiters_.front()) waiters_.grant(*w);
    }
    /// Wakes every task waiting now, in the order they began waiting.
    void notify_all() noexcept { waiters_.grant_all(); }

private:
    void require_held(const mutex::guard& held) const {
        if (!held.owns_lock(mutex_))
            throw std::invalid_argument("corio::condition::wait: the guard does not hold the condition's mutex");
    }

    class notified_awaiter final : public detail::waiter {
    public:
        explicit notified_awaiter(condition& c) noexcept : condition_(c) {}
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) noexcept { return condition_.waiters_.park(*this, h); }
        void await_resume() const { throw_if_cancelled("cancelled while waiting on a condition"); }

    private:
        condition& condition_;
    };

    mutex& mutex_;                  // the mutex waiters hold before and after waiting
    detail::wait_queue<> waiters_;  // tasks waiting for a notification, in arrival order
};

}  // namespace corio
