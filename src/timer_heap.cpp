#include "corio/detail/timer_heap.hpp"

#include <chrono>

namespace corio::detail {

timer_heap::timer_heap() noexcept {
    for (std::size_t i = 0; i < lane_count; ++i) lanes_[i].proxy.lane_ = i + 1;
}

void timer_heap::insert(timer_node& node, clock::time_point deadline, clock::time_point now) {
    node.deadline_ = deadline;
    node.sequence_ = next_sequence_++;
    const auto ahead = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (lane* l = ahead.count() > 0 ? lane_for(ahead, deadline) : nullptr) {
        append(*l, node);
    } else {
        heap_push(node);
    }
    ++count_;
}

timer_heap::lane* timer_heap::lane_for(clock::duration ahead, clock::time_point deadline) noexcept {
    lane* free = nullptr;
    for (lane& l : lanes_) {
        if (l.first == nullptr) {
            if (free == nullptr) free = &l;
        } else if (l.ahead == ahead) {
            return l.last->deadline_ <= deadline ? &l : nullptr;  // else it would not stay in order
        }
    }
    if (free != nullptr) free->ahead = ahead;
    return free;
}

void timer_heap::append(lane& l, timer_node& node) {
    node.lane_ = l.proxy.lane_;
    node.lane_prev_ = l.last;
    node.lane_next_ = nullptr;
    if (l.last != nullptr) {
        l.last->lane_next_ = &node;
    } else {
        l.first = &node;
        l.proxy.deadline_ = node.deadline_;
        l.proxy.sequence_ = node.sequence_;
        heap_push(l.proxy);
    }
    l.last = &node;
}

void timer_heap::detach(lane& l, timer_node& node) noexcept {
    (node.lane_prev_ != nullptr ? node.lane_prev_->lane_next_ : l.first) = node.lane_next_;
    (node.lane_next_ != nullptr ? node.lane_next_->lane_prev_ : l.last) = node.lane_prev_;
    node.lane_ = 0;
    node.lane_next_ = nullptr;
    node.index_ = timer_node::not_queued;
}

void timer_heap::unlink(lane& l, timer_node& node) noexcept {
    detach(l, node);
    if (l.first == nullptr) heap_remove(l.proxy);  // stays early otherwise: re-keyed when due
}

void timer_heap::remove(timer_node& node) noexcept {
    if (node.lane_ != 0) {
        unlink(lanes_[node.lane_ - 1], node);
    } else if (node.index_ != timer_node::not_queued) {
        heap_remove(node);
    } else {
        return;
    }
    --count_;
}

std::size_t timer_heap::fire_expired(clock::time_point now) {
    std::size_t fired = 0;
    while (!heap_.empty() && heap_.front()->deadline_ <= now) {
        timer_node& node = *heap_.front();
        heap_remove(node);
        if (node.fire_ == nullptr) {
            fired += proxy_due(node) ? 1 : 0;
            continue;
        }
        --count_;
        node.fire_(node);
        ++fired;
    }
    return fired;
}

bool timer_heap::proxy_due(timer_node& proxy) {
    lane& l = lanes_[proxy.lane_ - 1];
    timer_node& first = *l.first;  // the proxy is queued only while the lane holds timers
    const bool stood_for_first = proxy.deadline_ == first.deadline_ && proxy.sequence_ == first.sequence_;
    if (stood_for_first) {
        detach(l, first);  // the proxy is out of the heap already
        --count_;
    }
    if (l.first != nullptr) {
        proxy.deadline_ = l.first->deadline_;
        proxy.sequence_ = l.first->sequence_;
        heap_push(proxy);
    }
    if (stood_for_first) first.fire_(first);  // last: it may queue or remove timers
    return stood_for_first;
}

void timer_heap::heap_push(timer_node& node) {
    heap_.push_back(&node);
    node.index_ = heap_.size() - 1;
    sift_up(node.index_);
}

void timer_heap::heap_remove(timer_node& node) noexcept {
    const std::size_t i = node.index_;
    node.index_ = timer_node::not_queued;
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (last == &node) return;
    place(i, last);
    sift_up(i);
    sift_down(last->index_);
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
