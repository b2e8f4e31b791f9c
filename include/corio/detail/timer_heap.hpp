// corio/detail/timer_heap.hpp — the loop's pending timers: a 4-ary min-heap with back-indices.
//
// Nodes live inside their owners (sleep awaiters, deadline scopes); the heap stores pointers.
// Insert and remove are O(log n); removal of a cancelled timer is immediate, so nothing lingers.
// Ties on the deadline fire in insertion order (sequence numbers), which keeps virtual-time
// tests deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "corio/clock.hpp"

namespace corio::detail {

class timer_node {
public:
    static constexpr std::size_t not_queued = static_cast<std::size_t>(-1);

    /// Called by the loop when the deadline is reached; the node is already out of the heap.
    using fire_fn = void (*)(timer_node&) noexcept;

    timer_node(fire_fn fire) noexcept : fire_(fire) {}
    timer_node(const timer_node&) = delete;
    timer_node& operator=(const timer_node&) = delete;

    bool queued() const noexcept { return index_ != not_queued; }
    clock::time_point deadline() const noexcept { return deadline_; }

private:
    friend class timer_heap;
    clock::time_point deadline_{};
    std::uint64_t sequence_ = 0;       // insertion order, breaks ties between equal deadlines
    std::size_t index_ = not_queued;   // invariant: heap_[index_] == this, or not_queued
    fire_fn fire_;
};

class timer_heap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    clock::time_point next_deadline() const noexcept { return heap_.front()->deadline_; }

    void insert(timer_node& node, clock::time_point deadline);
    void remove(timer_node& node) noexcept;

    /// Fires, in order, every timer whose deadline is <= now. Returns how many fired.
    std::size_t fire_expired(clock::time_point now);

private:
    static bool earlier(const timer_node* a, const timer_node* b) noexcept {
        return a->deadline_ < b->deadline_ ||
               (a->deadline_ == b->deadline_ && a->sequence_ < b->sequence_);
    }
    void place(std::size_t i, timer_node* n) noexcept {
        heap_[i] = n;
        n->index_ = i;
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;

    std::vector<timer_node*> heap_;  // invariant: 4-ary min-heap ordered by earlier()
    std::uint64_t next_sequence_ = 0;
};

}  // namespace corio::detail
