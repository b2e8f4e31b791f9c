// corio/queue.hpp — corio::queue<T>: a bounded FIFO channel between tasks of one loop
// (asyncio.Queue with a maxsize, plus close()); and basic_queue<T, Store>, the same channel over
// another order of items: lifo_queue (lifo_queue.hpp) and priority_queue (priority_queue.hpp).
//
// snippet: examples/primitives.cpp#queue
//   corio::queue<std::string> jobs(16);      // capacity >= 1
//   co_await jobs.push("resize a.png");      // waits while the queue is full
//   std::string next = co_await jobs.pop();  // waits while it is empty
//   jobs.close();                            // no more pushes; consumers drain what is left
//
// Guarantees (of every basic_queue; only the order items come out in depends on the Store):
//  - queue: items come out in the order they went in. Waiting pushers and poppers are always
//    served FIFO, whatever the order of the items.
//  - Hand-off: a push while a popper waits gives the item straight to that popper; a pop that
//    frees space while a pusher waits takes the next item first, then moves that pusher's item in
//    (queue: at the back). A waiting task is therefore never overtaken by one that arrives later.
//  - close() wakes every waiter. Pending and later pushes throw queue_closed_error. Pops keep
//    returning the remaining items and throw queue_closed_error once the queue is empty and closed.
//  - push/pop that can complete at once do not suspend (and do not check for cancellation).
//  - A capacity of 0 is rejected (std::invalid_argument): there is no rendezvous mode.
//
// The pushed object: push(item) takes the item by value — the request owns it, so it can be
// stored or spawned (spawn(q.push(make())) is safe) — and a push that is cancelled, times out or
// hits a closed queue destroys it with the request. When the item must survive that, use
// push_from(item): it refers to the caller's named object (an lvalue: a temporary does not
// compile) and moves from it ONLY when the item is accepted, so a refused or cancelled push
// leaves it intact for a retry. try_push(T&&) moves only when it accepts, too.

// Cancel safety: cancelled while waiting, a push leaves the waiters without enqueueing (and
// push_from without touching the caller's object: it LOSES NOTHING); a pop leaves the waiters without taking
// an item. An item already handed to a popper (or a pusher's item already accepted) before the
// cancellation arrives is delivered anyway: pop returns it / push returns normally (result wins;
// the task's next suspension point throws). Only if the popping frame is destroyed before it
// resumes is a handed-over item destroyed with it. wait_for(q.pop(), d) never drops an item
// (its operation's result wins over the deadline); a combinator that discards the result of an
// operation that finished anyway (a wait_any loser) can.
//
// Throws: queue_closed_error (push on a closed queue; pop on an empty closed queue; the same for
// try_push/try_pop), cancelled_error, and whatever T's copy/move constructors and the Store's
// push throw (a waiting push whose item the Store refuses throws that error, and a push_from
// item stays with the caller as far as the Store's push leaves it intact).
// Thread-safety: none — one loop's thread only (not a cross-thread channel). Destroying a queue
// while tasks wait on it is a programming error (asserted); leftover items are simply destroyed.
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "corio/detail/wait_queue.hpp"
#include "corio/error.hpp"

namespace corio {

namespace detail {
/// basic_queue's Store for first-in, first-out. A Store holds the items in their order:
/// push(T&&) adds one, take() removes and returns the next, size() counts them.
template <class T>
class fifo_store {
public:
    void push(T&& item) { items_.push_back(std::move(item)); }
    T take() {
        T first(std::move(items_.front()));
        items_.pop_front();
        return first;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::deque<T> items_;
};
}  // namespace detail

/// Thrown by a push to a closed queue, and by a pop from a closed queue that is empty.
class queue_closed_error : public error {
public:
    queue_closed_error() : error("corio::queue is closed") {}
};
using queue_closed = queue_closed_error;  ///< the name before every error ended in _error

/// A bounded channel whose items come out in Store's order (see the header).
template <class T, class Store>
class basic_queue {
    class push_awaiter;
    class pop_awaiter;

public:
    using value_type = T;

    /// What push() and push_from() return: awaitable once (see the header).
    class [[nodiscard]] push_request {
    public:
        push_awaiter operator co_await() && noexcept {
            return push_awaiter(*queue_, owned_ ? *owned_ : *source_);
        }

    private:
        friend class basic_queue;
        push_request(basic_queue& q, T& source) noexcept : queue_(&q), source_(&source) {}
        push_request(basic_queue& q, std::in_place_t, T&& item) : queue_(&q), owned_(std::move(item)) {}

        basic_queue* queue_;
        T* source_ = nullptr;     // the caller's object (push_from); null when owned_ is used
        std::optional<T> owned_;  // the item push() took by value
    };

    /// Throws std::invalid_argument if capacity is 0.
    explicit basic_queue(std::size_t capacity, Store store = Store())
        : capacity_(capacity), items_(std::move(store)) {
        if (capacity == 0) throw std::invalid_argument("corio::queue: capacity must be at least 1");
    }
    basic_queue(const basic_queue&) = delete;
    basic_queue& operator=(const basic_queue&) = delete;

    /// Awaitable: appends `item` (owned by the request), waiting while the queue is full.
    /// Throws queue_closed_error if the queue is or gets closed first (the item is then dropped).
    push_request push(T item) { return push_request(*this, std::in_place, std::move(item)); }
    /// Awaitable: appends the caller's `item`, moving from it only once it is accepted: a push
    /// that is cancelled, times out or is refused leaves `item` as it was. `item` must outlive
    /// the await.
    push_request push_from(T& item) noexcept { return push_request(*this, item); }

    /// Awaitable: removes and yields the first item, waiting while the queue is empty. Throws
    /// queue_closed_error if the queue is (or gets) closed while empty.
    [[nodiscard]] detail::wait_request<pop_awaiter, basic_queue> pop() noexcept {
        return detail::wait_request<pop_awaiter, basic_queue>(*this);
    }

    /// Appends `item` if there is room now (moving from it); false (item untouched) if full.
    /// Throws queue_closed_error if closed.
    bool try_push(T&& item) {
        require_open();
        return offer(item);
    }
    /// Appends a copy of `item` if there is room now; false if full. Throws queue_closed_error if closed.
    bool try_push(const T& item) {
        require_open();
        if (!has_room()) return false;
        T copy(item);
        return offer(copy);
    }

    /// The first item if there is one now; nullopt if empty. Throws queue_closed_error if empty and
    /// closed.
    std::optional<T> try_pop() {
        std::optional<T> item = take();
        if (!item) require_open();
        return item;
    }

    /// Refuses all further pushes and wakes every waiting task (see the header). Idempotent.
    void close() noexcept {
        closed_ = true;
        pushers_.refuse_all();
        poppers_.refuse_all();
    }

    bool closed() const noexcept { return closed_; }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.size() == 0; }
    bool full() const noexcept { return items_.size() >= capacity_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    /// A parked push; `item` is the object to move in once there is room.
    struct push_waiter : detail::waiter {
        T* item = nullptr;
        std::exception_ptr failure;  // set when refused because the store could not take the item
    };
    /// A parked pop; the queue stores the item here before granting.
    struct pop_waiter : detail::waiter {
        std::optional<T> item;  // engaged once granted (or taken at once in await_ready)
    };

    class push_awaiter final : public push_waiter {
        using status = detail::waiter::status;

    public:
        push_awaiter(basic_queue& q, T& source) noexcept : queue_(q) { this->item = &source; }
        bool await_ready() {
            if (queue_.closed_)
                this->settle(status::refused);
            else if (queue_.offer(*this->item))
                this->settle(status::granted);
            return this->state() != status::idle;
        }
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            return queue_.pushers_.park(*this, h);
        }
        void await_resume() const {
            this->throw_if_cancelled("cancelled while waiting to push");
            if (this->failure) std::rethrow_exception(this->failure);
            if (!this->granted()) throw queue_closed_error();
        }

    private:
        basic_queue& queue_;
    };

    class pop_awaiter final : public pop_waiter {
        using status = detail::waiter::status;

    public:
        explicit pop_awaiter(basic_queue& q) noexcept : queue_(q) {}
        bool await_ready() {
            this->item = queue_.take();
            if (this->item)
                this->settle(status::granted);
            else if (queue_.closed_)
                this->settle(status::refused);
            return this->state() != status::idle;
        }
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            return queue_.poppers_.park(*this, h);
        }
        T await_resume() {
            this->throw_if_cancelled("cancelled while waiting to pop");
            if (!this->granted()) throw queue_closed_error();
            return std::move(*this->item);
        }

    private:
        basic_queue& queue_;
    };

    void require_open() const {
        if (closed_) throw queue_closed_error();
    }
    bool has_room() const noexcept { return !poppers_.empty() || !full(); }

    /// Hands `item` to the longest-waiting popper, or appends it if there is room; moves from
    /// `item` only then. False (item untouched) if full. Precondition: not closed.
    bool offer(T& item) {
        if (pop_waiter* p = poppers_.front()) {
            p->item.emplace(std::move(item));
            poppers_.grant(*p);
            return true;
        }
        if (full()) return false;
        items_.push(std::move(item));
        return true;
    }

    /// Removes the next item (nullopt if empty). The space it frees goes to the
    /// longest-waiting pusher, whose item is moved in after; if the store cannot take it
    /// (bad_alloc, a throwing move), that push throws the error and the taken item still goes out.
    std::optional<T> take() {
        if (empty()) return std::nullopt;
        std::optional<T> next(items_.take());
        if (push_waiter* p = pushers_.front()) {
            try {
                items_.push(std::move(*p->item));
                pushers_.grant(*p);
            } catch (...) {
                p->failure = std::current_exception();
                pushers_.refuse(*p);
            }
        }
        return next;
    }

    const std::size_t capacity_;  // >= 1
    Store items_;                 // invariant: size() <= capacity_ between operations
    bool closed_ = false;         // invariant: when true, pushers_ and poppers_ are empty
    // Invariant: non-empty only while items_ is full (and the queue open).
    detail::wait_queue<push_waiter> pushers_;
    // Invariant: non-empty only while items_ is empty (and the queue open).
    detail::wait_queue<pop_waiter> poppers_;
};

/// First in, first out (asyncio.Queue).
template <class T>
class queue : public basic_queue<T, detail::fifo_store<T>> {
public:
    using basic_queue<T, detail::fifo_store<T>>::basic_queue;
};

}  // namespace corio
