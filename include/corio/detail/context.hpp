// corio/detail/context.hpp — the storage behind context_var: an immutable, shared list of
// (variable, value) links, one head per task.
//
// Setting a variable pushes a link onto the running task's head; a spawned task starts from its
// parent's head, so it sees what was set when it was spawned and nothing set after. Links never
// change once made, so a head can be shared by any number of tasks (and handed to to_thread's
// worker thread: the counts are atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace corio::detail {

/// One binding of one variable. Subclassed per value type (context_var<T>).
class context_link {
public:
    explicit context_link(const void* key) noexcept : key_(key) {}
    context_link(const context_link&) = delete;
    context_link& operator=(const context_link&) = delete;
    virtual ~context_link();

    const void* key() const noexcept { return key_; }
    const context_link* next() const noexcept { return next_; }

private:
    friend class context_ref;
    const void* key_;                      // the context_var this binds
    const context_link* next_ = nullptr;   // the bindings made before; one reference held
    mutable std::atomic<std::uint32_t> refs_{1};
};

/// A counted reference to a context's head (null: nothing set).
class context_ref {
public:
    context_ref() noexcept = default;
    context_ref(const context_ref& other) noexcept : head_(other.head_) { hold(head_); }
    context_ref(context_ref&& other) noexcept : head_(std::exchange(other.head_, nullptr)) {}
    context_ref& operator=(context_ref other) noexcept {
        std::swap(head_, other.head_);
        return *this;
    }
    ~context_ref() { drop(head_); }

    const context_link* head() const noexcept { return head_; }
    /// The newest binding of `key`, or null.
    const context_link* find(const void* key) const noexcept {
        for (const context_link* l = head_; l != nullptr; l = l->next_)
            if (l->key_ == key) return l;
        return nullptr;
    }
    /// This context with `link` (fresh, unshared) in front.
    context_ref with(context_link* link) const noexcept {
        link->next_ = head_;
        hold(head_);
        context_ref r;
        r.head_ = link;
        return r;
    }

private:
    static void hold(const context_link* l) noexcept {
        if (l != nullptr) l->refs_.fetch_add(1, std::memory_order_relaxed);
    }
    static void drop(const context_link* l) noexcept;

    const context_link* head_ = nullptr;
};

/// The context of the code running on this thread: the current task's, or the thread's own
/// outside any task (see task_state.hpp).
context_ref& current_context() noexcept;

}  // namespace corio::detail
