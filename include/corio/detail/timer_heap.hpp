// corio/detail/timer_heap.hpp — the loop's pending timers: FIFO lanes for repeated durations,
// and a 4-ary min-heap with back-indices for the rest.
//
// Nodes live inside their owners (sleep awaiters, deadline scopes, fd waits); nothing here
// allocates per timer. A timer set `d` after the loop's now joins the lane of timers set about
// `d` ahead (whole milliseconds) if its deadline is not before that lane's last one, so a lane
// is ordered by deadline and insert and remove are O(1) list operations: the server's fixed
// header, idle, body, handler and write timeouts and the pool's keep-alive cost no heap work per
// request. Up to lane_count lanes are in use at a time; any other timer goes to the heap
// (O(log n)). A lane takes part in the heap through one proxy node due no later than the lane's
// first timer: removing that first timer leaves the proxy early (it re-keys itself when it comes
// due), emptying the lane removes it. Removal of a cancelled timer is immediate, so nothing
// lingers. Timers fire in deadline order, ties in insertion order (sequence numbers), which
// keeps virtual-time tests deterministic.
#pragma once

#include <array>
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
    /// `deadline` is only held until the node is queued (which sets the real one): an owner may
    /// keep a value there meanwhile.
    timer_node(fire_fn fire, clock::time_point deadline) noexcept : deadline_(deadline), fire_(fire) {}
    timer_node(const timer_node&) = delete;
    timer_node& operator=(const timer_node&) = delete;

    bool queued() const noexcept { return lane_ != 0 || index_ != not_queued; }
    clock::time_point deadline() const noexcept { return deadline_; }

private:
    friend class timer_heap;
    clock::time_point deadline_{};
    std::uint64_t sequence_ : 59 = 0;  // insertion order, breaks ties between equal deadlines
    std::uint64_t lane_ : 5 = 0;       // 1 + the lane it is in (or, for a lane's proxy, stands for); 0: none
    union {
        std::size_t index_ = not_queued;  // in the heap: heap_[index_] == this; else not_queued (outside lanes)
        timer_node* lane_prev_;           // in a lane: the timer before it, null for the first
    };
    timer_node* lane_next_ = nullptr;  // in a lane: the timer after it, null for the last
    fire_fn fire_;                     // null for a lane's proxy
};

class timer_heap {
public:
    static constexpr std::size_t lane_count = 8;

    timer_heap() noexcept;
    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    /// Not after the earliest deadline (a lane's proxy may be due early: waking then fires nothing).
    clock::time_point next_deadline() const noexcept { return heap_.front()->deadline_; }

    /// Queues `node` to fire at `deadline`; `now` (the loop's time) chooses its lane.
    void insert(timer_node& node, clock::time_point deadline, clock::time_point now);
    void remove(timer_node& node) noexcept;

    /// Fires, in order, every timer whose deadline is <= now. Returns how many fired.
    std::size_t fire_expired(clock::time_point now);

private:
    struct lane {
        clock::duration ahead{};    // what its timers were set to (whole ms); meaningful while in use
        timer_node* first = nullptr;  // the earliest; null when the lane is free
        timer_node* last = nullptr;
        timer_node proxy{nullptr};  // in heap_ while the lane holds timers, keyed no later than `first`
    };

    lane* lane_for(clock::duration ahead, clock::time_point deadline) noexcept;
    void append(lane& l, timer_node& node);
    /// Takes `node` out of lane `l`'s list (the proxy is left where it is).
    void detach(lane& l, timer_node& node) noexcept;
    /// detach(), and the proxy leaves the heap if the lane is now empty.
    void unlink(lane& l, timer_node& node) noexcept;
    /// A lane's proxy came due: fires the lane's first timer if that is what it stood for, and
    /// queues the proxy again for the (new) first timer.
    bool proxy_due(timer_node& proxy);
    void heap_push(timer_node& node);
    void heap_remove(timer_node& node) noexcept;
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

    std::vector<timer_node*> heap_;  // invariant: 4-ary min-heap ordered by earlier(); timers and lane proxies
    std::array<lane, lane_count> lanes_;
    std::size_t count_ = 0;          // invariant: timers queued, in the heap or a lane (proxies not counted)
    std::uint64_t next_sequence_ = 0;
};

}  // namespace corio::detail
