// corio/rwlock.hpp — corio::rwlock: a reader-writer lock between tasks of one loop: many readers
// at once, or one writer alone.
//
// snippet: examples/primitives.cpp#rwlock
//   corio::rwlock config_lock;
//   {
//       auto a = co_await config_lock.lock_shared();  // readers share the lock...
//       auto b = co_await config_lock.lock_shared();
//       readers_at_once = config_lock.readers();
//   }
//   {
//       auto w = co_await config_lock.lock();  // ...a writer holds it alone; once a writer
//       co_await corio::sleep(1ms);            // waits, later readers queue behind it
//   }
//   if (auto r = config_lock.try_lock_shared()) free_at_end = true;  // never waits; empty guard if not free
//
// Fairness, precisely: waiting tasks are served in arrival order, from one FIFO queue of
// readers and writers. A writer at the head gets in once nobody holds the lock. A reader at the
// head gets in once no writer holds it, and with it every reader queued directly behind it, up
// to the first waiting writer. Writer-preferring: a reader gets in at once only if no writer
// holds the lock AND nobody waits, so once a writer waits, readers arriving later queue behind
// it and it gets in when the readers holding the lock are done: a stream of readers cannot
// starve a writer, and since everyone waits in arrival order, writers cannot starve readers
// either. Unlocking hands the lock DIRECTLY to the tasks at the head
// (nobody can barge in between). lock()/lock_shared() that can take the lock at once do not
// suspend (and do not check for cancellation).
//
// Cancel safety of `co_await l.lock()` and `co_await l.lock_shared()`: cancelled while
// waiting, the task leaves the queue, having taken nothing, and the await throws
// cancelled_error; if it was a writer holding back readers queued behind it, those readers get
// in at once (when no writer holds the lock). If the lock was already handed over when the
// cancellation arrives, the await returns the guard anyway (result wins; the task's next
// suspension point throws). If the waiting frame is destroyed after the hand-over, the lock is
// released.
//
// Not recursive, not upgradable: a task that holds it and locks again may deadlock.
// Throws: only cancelled_error (from lock() and lock_shared()). Thread-safety: none — one
// loop's thread only. Destroying an rwlock that is held or has waiters is a programming error
// (asserted).
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <utility>

#include "corio/detail/wait_queue.hpp"

namespace corio {

class rwlock {
    template <bool Exclusive>
    class lock_awaiter;

public:
    /// Holds the lock, exclusively (lock(), try_lock()) or shared (lock_shared(),
    /// try_lock_shared()); unlocks when destroyed. Move-only. Empty when default-constructed,
    /// moved from, unlocked, or returned by a failed try_lock*().
    class guard {
    public:
        guard() noexcept = default;
        guard(guard&& other) noexcept
            : lock_(std::exchange(other.lock_, nullptr)), exclusive_(other.exclusive_) {}
        guard& operator=(guard&& other) noexcept {
            if (this != &other) {
                unlock();
                lock_ = std::exchange(other.lock_, nullptr);
                exclusive_ = other.exclusive_;
            }
            return *this;
        }
        ~guard() { unlock(); }

        bool owns_lock() const noexcept { return lock_ != nullptr; }
        explicit operator bool() const noexcept { return owns_lock(); }
        /// True if this holds the lock as the writer (false if shared or empty).
        bool exclusive() const noexcept { return lock_ != nullptr && exclusive_; }
        /// Unlocks now (handing the lock to the tasks at the head of the queue); a no-op if empty.
        void unlock() noexcept {
            if (lock_ != nullptr) std::exchange(lock_, nullptr)->release(exclusive_);
        }

    private:
        friend class rwlock;
        guard(rwlock& l, bool exclusive) noexcept : lock_(&l), exclusive_(exclusive) {}  // adopts

        rwlock* lock_ = nullptr;  // null iff empty
        bool exclusive_ = false;
    };

    rwlock() noexcept = default;
    rwlock(const rwlock&) = delete;
    rwlock& operator=(const rwlock&) = delete;
    ~rwlock() {
        assert(!writer_ && readers_ == 0 && "corio::rwlock destroyed while held");
    }

    /// Awaitable: waits for the lock as the writer (alone) and yields a guard owning it.
    [[nodiscard]] detail::wait_request<lock_awaiter<true>, rwlock> lock() noexcept {
        return detail::wait_request<lock_awaiter<true>, rwlock>(*this);
    }
    /// Awaitable: waits for the lock as a reader (shared) and yields a guard owning it.
    [[nodiscard]] detail::wait_request<lock_awaiter<false>, rwlock> lock_shared() noexcept {
        return detail::wait_request<lock_awaiter<false>, rwlock>(*this);
    }

    /// The lock as the writer if nobody holds it or waits, else an empty guard. Never waits.
    [[nodiscard]] guard try_lock() noexcept { return admit(true) ? guard(*this, true) : guard(); }
    /// The lock as a reader if no writer holds it and nobody waits, else an empty guard.
    [[nodiscard]] guard try_lock_shared() noexcept { return admit(false) ? guard(*this, false) : guard(); }

    /// True while a writer holds the lock.
    bool locked() const noexcept { return writer_; }
    /// How many readers hold the lock.
    std::size_t readers() const noexcept { return readers_; }

private:
    /// A parked lock()/lock_shared(); dispatch() stores the lock in `held` before granting.
    struct rw_waiter : detail::waiter {
        bool exclusive = false;  // a writer
        guard held;              // owns the lock once granted, until the awaiter hands it out

    protected:
        ~rw_waiter() = default;
    };

    template <bool Exclusive>
    class lock_awaiter final : public rw_waiter {
    public:
        explicit lock_awaiter(rwlock& l) noexcept : lock_(l) { this->exclusive = Exclusive; }
        bool await_ready() noexcept {
            if (!lock_.admit(Exclusive)) return false;
            this->held = guard(lock_, Exclusive);
            this->settle(status::granted);
            return true;
        }
        bool await_suspend(std::coroutine_handle<> h) noexcept { return lock_.waiters_.park(*this, h); }
        guard await_resume() {
            this->throw_if_cancelled("cancelled while waiting to lock an rwlock");
            return std::move(this->held);
        }

    private:
        void on_withdrawn() noexcept override { lock_.dispatch(); }

        rwlock& lock_;
    };

    /// Takes the lock for a task arriving now, if the rules above let it in without waiting.
    bool admit(bool exclusive) noexcept {
        if (writer_ || !waiters_.empty()) return false;
        if (!exclusive) {
            ++readers_;
            return true;
        }
        if (readers_ > 0) return false;
        writer_ = true;
        return true;
    }

    void release(bool exclusive) noexcept {
        if (exclusive)
            writer_ = false;
        else
            --readers_;
        dispatch();
    }

    /// Grants the lock to the head of the queue while the rules let it in: one writer, or a run
    /// of readers up to the first writer.
    void dispatch() noexcept {
        while (rw_waiter* w = waiters_.front()) {
            if (writer_ || (w->exclusive && readers_ > 0)) return;
            if (w->exclusive)
                writer_ = true;
            else
                ++readers_;
            w->held = guard(*this, w->exclusive);
            waiters_.grant(*w);
            if (writer_) return;
        }
    }

    bool writer_ = false;       // a writer holds the lock; invariant: then readers_ == 0
    std::size_t readers_ = 0;   // readers holding the lock
    // Tasks waiting, in arrival order. Invariant: after every operation its head cannot get in
    // (a writer while anyone holds the lock, a reader while a writer does), so it is empty
    // whenever the lock is free.
    detail::wait_queue<rw_waiter> waiters_;
};

}  // namespace corio
