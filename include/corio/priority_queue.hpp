// corio/priority_queue.hpp — corio::priority_queue<T, Compare>: a bounded channel between tasks
// of one loop that yields its SMALLEST item first (asyncio.PriorityQueue, heapq).
//
// snippet: examples/primitives.cpp#priority_queue
//   // Smallest first (unlike std::priority_queue; std::greater gives largest first); equal
//   // priorities come out in the order they went in.
//   corio::priority_queue<std::pair<int, std::string>> jobs(16);
//   co_await jobs.push({2, "reindex"});
//   co_await jobs.push({1, "page the on-call"});
//   co_await jobs.push({2, "rotate logs"});
//   auto [priority, job] = co_await jobs.pop();  // 1, "page the on-call"
//
// Order: pop() takes the smallest item by Compare (std::less<T> by default) — the OPPOSITE of
// std::priority_queue, which yields the largest; with std::greater<T> this one yields the
// largest first. Equal items (neither compares less than the other) come out in the order they
// were pushed: the queue is stable (each item carries an insertion number that breaks ties), so
// T need not be totally ordered to be fair. Pushing and popping cost O(log n).
//
// Otherwise the same API and guarantees as corio::queue (queue.hpp: capacity, push/push_from/
// pop, try_push/try_pop, close(), hand-off, cancel safety, what it throws, thread-safety).
// Waiting pushers and poppers are served FIFO whatever their items' priority: a popper waiting
// on an empty queue takes the next item pushed, whatever it is. A pop that frees space while a
// pusher waits takes the smallest item already queued, then that pusher's item goes in.
// Compare is called during push and pop and must not throw; whatever T's move constructor and
// move assignment throw propagates (as for queue).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "corio/queue.hpp"

namespace corio {

namespace detail {
/// basic_queue's Store for smallest-first: a binary heap of items numbered in push order (see
/// fifo_store).
template <class T, class Compare>
class priority_store {
public:
    explicit priority_store(Compare less = Compare()) : order_{std::move(less)} {}

    void push(T&& item) {
        items_.push_back(entry{std::move(item), next_number_++});
        std::push_heap(items_.begin(), items_.end(), order_);
    }
    T take() {
        std::pop_heap(items_.begin(), items_.end(), order_);
        T first(std::move(items_.back().item));
        items_.pop_back();
        return first;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    struct entry {
        T item;
        std::uint64_t number;  // push order: breaks ties between equal items
    };
    /// The heap's order: true if `a` comes out AFTER `b` (std's heap functions put the
    /// greatest by this order, i.e. the one that comes out first, at the front).
    struct comes_after {
        Compare less;
        bool operator()(const entry& a, const entry& b) const {
            if (less(b.item, a.item)) return true;
            if (less(a.item, b.item)) return false;
            return a.number > b.number;
        }
    };

    std::vector<entry> items_;     // invariant: a heap by order_ between operations
    comes_after order_;
    std::uint64_t next_number_ = 0;  // the number the next pushed item gets
};
}  // namespace detail

/// Smallest first, stable (asyncio.PriorityQueue); see the header.
template <class T, class Compare = std::less<T>>
class priority_queue : public basic_queue<T, detail::priority_store<T, Compare>> {
    using base = basic_queue<T, detail::priority_store<T, Compare>>;

public:
    /// Throws std::invalid_argument if capacity is 0.
    explicit priority_queue(std::size_t capacity, Compare less = Compare())
        : base(capacity, detail::priority_store<T, Compare>(std::move(less))) {}
};

}  // namespace corio
