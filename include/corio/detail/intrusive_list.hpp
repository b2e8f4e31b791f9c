// corio/detail/intrusive_list.hpp — a circular doubly-linked list whose nodes live inside the
// objects they link (waiters in awaiter frames, live tasks in their states). No allocation;
// O(1) push, pop and removal of any node. Lists and nodes are pinned: neither copies nor moves.
#pragma once

#include <cassert>

namespace corio::detail {

class list_node {
public:
    list_node() noexcept = default;
    list_node(const list_node&) = delete;
    list_node& operator=(const list_node&) = delete;

    bool linked() const noexcept { return next_ != nullptr; }

    /// Removes this node from whatever list holds it; a no-op if it is not linked.
    void unlink() noexcept {
        if (!linked()) return;
        prev_->next_ = next_;
        next_->prev_ = prev_;
        prev_ = next_ = nullptr;
    }

private:
    template <class T, class Hook>
    friend class intrusive_list;
    list_node* prev_ = nullptr;  // invariant: both null, or both point into one circular list
    list_node* next_ = nullptr;
};

/// Links items of type T through their base Hook (list_node itself, or a class derived from it
/// so that one object can sit in several lists, one per hook type).
template <class T, class Hook = list_node>
class intrusive_list {
public:
    intrusive_list() noexcept { head_.prev_ = head_.next_ = &head_; }
    intrusive_list(const intrusive_list&) = delete;
    intrusive_list& operator=(const intrusive_list&) = delete;
    ~intrusive_list() { assert(empty()); }

    bool empty() const noexcept { return head_.next_ == &head_; }

    void push_back(T& item) noexcept {
        list_node& n = static_cast<Hook&>(item);
        assert(!n.linked());
        n.prev_ = head_.prev_;
        n.next_ = &head_;
        head_.prev_->next_ = &n;
        head_.prev_ = &n;
    }

    T& front() noexcept {
        assert(!empty());
        return item_of(*head_.next_);
    }

    /// Removes and returns the first item, or nullptr when empty.
    T* pop_front() noexcept {
        if (empty()) return nullptr;
        T& item = front();
        static_cast<Hook&>(item).unlink();
        return &item;
    }

    /// Calls fn(T&) for each item; fn may unlink the item it is given (and nothing else).
    template <class F>
    void for_each(F&& fn) {
        for (list_node* n = head_.next_; n != &head_;) {
            list_node* next = n->next_;
            fn(item_of(*n));
            n = next;
        }
    }

private:
    static T& item_of(list_node& n) noexcept { return static_cast<T&>(static_cast<Hook&>(n)); }

    list_node head_;  // sentinel; the list is empty iff head_ links to itself
};

}  // namespace corio::detail
