#include "corio/detail/timer_heap.hpp"

namespace corio::detail {

void timer_heap::insert(timer_node& node, clock::time_point deadline) {
    node.deadline_ = deadline;
    node.sequence_ = next_sequence_++;
    heap_.push_back(&node);
    node.index_ = heap_.size() - 1;
    sift_up(node.index_);
}

void timer_heap::remove(timer_node& node) noexcept {
    if (!node.queued()) return;
    const std::size_t i = node.index_;
    node.index_ = timer_node::not_queued;
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (last == &node) return;
    place(i, last);
    sift_up(i);
    sift_down(last->index_);
}

std::size_t timer_heap::fire_expired(clock::time_point now) {
    std::size_t fired = 0;
    while (!heap_.empty() && heap_.front()->deadline_ <= now) {
        timer_node& node = *heap_.front();
        remove(node);
        node.fire_(node);
        ++fired;
    }
    return fired;
}

void timer_heap::sift_up(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 4;
        if (!earlier(n, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, n);
}

void timer_heap::sift_down(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    const std::size_t size = heap_.size();
    for (;;) {
        const std::size_t first = 4 * i + 1;
        if (first >= size) break;
        std::size_t best = first;
        const std::size_t end = first + 4 < size ? first + 4 : size;
        for (std::size_t c = first + 1; c < end; ++c)
            if (earlier(heap_[c], heap_[best])) best = c;
        if (!earlier(heap_[best], n)) break;
        place(i, heap_[best]);
        i = best;
    }
    place(i, n);
}

}  // namespace corio::detail
