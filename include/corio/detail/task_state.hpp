// corio/detail/task_state.hpp — the control block of a spawned task, and cancel scopes.
//
// A spawned task is a chain of coroutine frames (the root frame, the child it awaits, ...) run by
// one loop. Its task_state records what the loop needs: which frame to resume, whether it is
// queued, its cancellation scopes, who waits for it. Everything here is touched only on the
// owning loop's thread.
//
// Cancellation model (Trio's cancel scopes, level-triggered):
//  - A task has a stack of cancel_scopes; wait_for pushes a scope with a deadline, a task_group
//    pushes one around its body. Below the bottom one is the task itself, the root of the stack:
//    what cancel() cancels (a flag in the task, not a scope object: every task has it).
//  - A task "has cancellation pending" when it or some scope on its stack is cancelled and no
//    shielding scope sits between that and the top of the stack.
//  - Every interruptible suspension point checks this before suspending (and throws
//    cancelled_error instead), and while suspended leaves a cancel_hook that the scope fires.
//    So once cancelled, every later suspension point throws again until the scope is left.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/context.hpp"
#include "corio/detail/debug_hooks.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/intrusive_list.hpp"

namespace corio {
class event_loop;
}

namespace corio::detail {

class task_state;
struct promise_base;

/// Left by an interruptible suspension point while its task is suspended there.
class cancel_hook {
public:
    /// Called at most once, with the hook already detached: must abandon the wait (unregister
    /// timer, waiter, ...) and wake the task so that the suspension point throws cancelled_error.
    virtual void on_cancel() noexcept = 0;
    /// For task dumps: what the suspended task waits for ("sleeping", "waiting on fd 7 for read").
    /// The default names the awaiter's type.
    virtual std::string describe_wait() const;

protected:
    ~cancel_hook() = default;
};

/// A cancellable region of one task. Entered and left in LIFO order on the task that owns it.
class cancel_scope {
public:
    cancel_scope() noexcept = default;
    explicit cancel_scope(bool shield) noexcept : shield_(shield) {}
    cancel_scope(const cancel_scope&) = delete;
    cancel_scope& operator=(const cancel_scope&) = delete;

    /// Requests cancellation of everything inside the scope. Idempotent; allowed before entry and
    /// after exit (then it only records the request).
    void cancel() noexcept;
    /// cancel(), because the scope's deadline passed (a timeout, not a request).
    void expire() noexcept {
        expired_ = true;
        cancel();
    }
    bool cancel_called() const noexcept { return cancelled_; }
    bool active() const noexcept { return owner_ != nullptr; }
    bool shields() const noexcept { return shield_; }
    /// The scope's deadline if a timeout governs it, else time_point::max() (for current_deadline()).
    clock::time_point deadline() const noexcept { return deadline_; }
    void set_deadline(clock::time_point deadline) noexcept { deadline_ = deadline; }
    /// The enclosing scope while active (null for the bottom scope: the task itself encloses it).
    const cancel_scope* parent() const noexcept { return parent_; }

    void enter(task_state& task) noexcept;
    void exit() noexcept;

private:
    friend class task_state;
    cancel_scope* parent_ = nullptr;  // enclosing scope of owner_; valid while active
    task_state* owner_ = nullptr;     // the task this scope is entered in; null when not active
    bool cancelled_ = false;
    bool expired_ = false;            // cancelled by its deadline (expire()), not by a request
    bool shield_ = false;             // blocks cancellation of enclosing scopes from reaching inside
    clock::time_point deadline_ = clock::time_point::max();  // set by a timeout_scope: when it fires
};

/// Told synchronously when a task finishes (used by gather, task_group, task_set).
class completion_observer {
public:
    virtual void on_task_done(task_state& task) noexcept = 0;

protected:
    ~completion_observer() = default;
};

/// A task suspended until another task finishes (co_await join_handle).
class join_waiter : public list_node {
public:
    void set_waiter(task_state& waiter) noexcept { waiter_ = &waiter; }
    task_state& waiter() const noexcept { return *waiter_; }

private:
    task_state* waiter_ = nullptr;
};

/// Links a task into the loop's list of live tasks.
class live_hook : public list_node {};

/// Returns true if e holds a cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;

/// When set, called on this thread every time a task suspends at an interruptible point (after
/// recording it): how the tests' cancellation sweep finds every suspension point of an operation
/// to cancel it there. One thread-local load and a branch when unset.
using suspension_observer = void (*)(task_state& suspended) noexcept;
inline thread_local suspension_observer observe_suspension = nullptr;

class task_state : public pooled, public live_hook {
public:
    task_state(event_loop& loop, std::coroutine_handle<> root, promise_base& promise,
               std::string&& name) noexcept;
    task_state(const task_state&) = delete;
    task_state& operator=(const task_state&) = delete;

    // ---- reference counting (join handles + the loop while the task runs) ----
    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) destroy();
    }

    // ---- identity and result ----
    event_loop& loop() const noexcept { return *loop_; }
    const std::string& name() const noexcept;
    bool done() const noexcept { return done_; }
    bool finished_cancelled() const noexcept { return done_ && cancelled_; }
    /// The task's error, or null; marks it as retrieved (so it is not reported as lost).
    /// A task abandoned at loop teardown reports a cancelled_error.
    std::exception_ptr take_error() noexcept;
    /// Whether take_error() would return an error, without marking it retrieved: inline, and no
    /// exception_ptr copy (take_error() is a call that returns one). Defined in task.hpp.
    inline bool failed() const noexcept;
    /// The root frame's promise; valid while the task runs and after it completed (not after
    /// it was abandoned: read take_error() first, which is non-null then).
    promise_base& promise() const noexcept {
        return *reinterpret_cast<promise_base*>(static_cast<char*>(root_.address()) + promise_offset_);
    }

    // ---- cancellation ----
    void cancel() noexcept {
        if (!cancel_requested_) {
            cancel_requested_ = true;
            deliver_cancel();
        }
        if (debug_on) [[unlikely]] debug_note_cancel_requested(*this);
    }
    bool cancel_requested() const noexcept { return cancel_requested_; }
    /// The innermost scope entered in this task; null when none is (the task itself is the root).
    const cancel_scope* innermost_scope() const noexcept { return scope_; }
    /// Like cancel_pending(), but counting only requested cancellations, not expired deadlines:
    /// a timeout whose block also saw an outer deadline pass still reports as the timeout.
    bool cancel_requested_in_scope() const noexcept {
        for (const cancel_scope* s = scope_; s != nullptr; s = s->parent_) {
            if (s->cancelled_ && !s->expired_) return true;
            if (s->shield_) return false;
        }
        return cancel_requested_;
    }
    bool cancel_pending() const noexcept {
        for (const cancel_scope* s = scope_; s != nullptr; s = s->parent_) {
            if (s->cancelled_) return true;
            if (s->shield_) return false;
        }
        return cancel_requested_;
    }

    // ---- suspension protocol for leaf awaitables ----
    /// Records where to resume and the hook cancellation should fire. Returns false (and records
    /// nothing) if cancellation is pending: the caller must not suspend and must throw.
    [[gnu::always_inline]] bool suspend(std::coroutine_handle<> at, cancel_hook* hook) noexcept {
        if (cancel_pending()) {
            if (debug_on) [[unlikely]] debug_note_cancel_delivered(*this);
            return false;
        }
        resume_point_ = at;
        hook_ = hook;
        if (observe_suspension != nullptr) observe_suspension(*this);
        if (debug_on) [[unlikely]] {
            debug_note_suspend(*this);
            asm volatile("");  // not a tail call: its return address must stay in the awaiting frame
        }
        return true;
    }
    /// Records where to resume without a cancel hook (the wait cannot be interrupted).
    void suspend_uninterruptible(std::coroutine_handle<> at) noexcept {
        resume_point_ = at;
        hook_ = nullptr;
        if (debug_on) [[unlikely]] {
            debug_note_suspend(*this);
            asm volatile("");  // as in suspend()
        }
    }
    /// Makes the task runnable; detaches its hook. Safe to call more than once.
    inline void wake() noexcept;

    // ---- introspection (task dumps, debug mode) ----
    /// What it waits on while suspended interruptibly (null when running, queued or uninterruptible).
    const cancel_hook* waiting_on() const noexcept { return hook_; }
    bool queued() const noexcept { return queued_; }
    bool started() const noexcept { return started_; }
    /// Its debug record (debug loops only), else null.
    task_debug* debug_info() const noexcept { return extras_ ? extras_->debug.get() : nullptr; }
    task_debug& ensure_debug_info();
    /// Its context_var bindings (inherited from the task that spawned it).
    context_ref& context() noexcept { return context_; }

    // ---- completion ----
    void add_waiter(join_waiter& w) noexcept { waiters_.push_back(w); }
    void add_done_callback(std::function<void()> fn);

    // ---- used by the loop ----
    void run_step();                      // resumes the task (or finishes it if cancelled unstarted)
    void complete() noexcept;             // the root frame reached final_suspend
    void abandon() noexcept;              // loop teardown: destroy the unfinished frame

protected:
    ~task_state();

private:
    friend class cancel_scope;
    friend class corio::event_loop;  // owns the ready-queue fields
    void destroy() noexcept;
    void deliver_cancel() noexcept {
        if (hook_ != nullptr && cancel_pending()) {
            if (debug_on) [[unlikely]] debug_note_cancel_delivered(*this);
            cancel_hook* h = hook_;
            hook_ = nullptr;
            h->on_cancel();
        }
    }

    event_loop* loop_;
    std::coroutine_handle<> root_;          // the spawned frame; owned, destroyed with this state; null once abandoned
    std::coroutine_handle<> resume_point_;  // innermost suspended frame: what run_step resumes
    cancel_hook* hook_ = nullptr;           // non-null only while suspended interruptibly
    cancel_scope* scope_ = nullptr;         // innermost entered scope; null when none is
    intrusive_list<join_waiter> waiters_;   // tasks awaiting this one; woken on completion
    context_ref context_;                   // context_var bindings: the spawner's at spawn, then its own
    /// Rarely used parts, allocated on first use: most tasks have no name and no callbacks.
    struct extras : pooled {
        std::string name;
        std::vector<std::function<void()>> callbacks;  // done callbacks not yet scheduled
        std::unique_ptr<task_debug> debug;              // debug loops only
    };
    std::unique_ptr<extras> extras_;
    extras& ensure_extras();
    task_state* next_ready_ = nullptr;      // ready-queue link; valid iff queued_
    std::uint32_t refs_ = 1;                // the loop's reference, until complete()
    std::uint16_t promise_offset_;          // where root_'s promise (value or error) is in its frame
    bool queued_ : 1 = false;               // in the loop's ready queue (at most once)
    bool started_ : 1 = false;
    bool done_ : 1 = false;
    bool cancelled_ : 1 = false;            // finished by a cancelled_error
    bool error_retrieved_ : 1 = false;      // someone looked at the error; if not, it is logged
    bool cancel_requested_ : 1 = false;     // cancel() was called: the root of the scope stack is cancelled
    bool grouped_ : 1 = false;              // this is a group_member (set once, by its constructor)
    friend class group_member;
};

/// Links a task into the child list of the group that spawned it.
class group_hook : public list_node {};

/// A task spawned into a group (gather, task_group, task_set, ...): the group lists it and is told
/// synchronously when it completes. Only such tasks carry these fields.
class group_member final : public task_state, public group_hook {
public:
    group_member(event_loop& loop, std::coroutine_handle<> root, promise_base& promise, std::string&& name,
                 completion_observer& group) noexcept
        : task_state(loop, root, promise, std::move(name)), group_(&group) {
        grouped_ = true;
    }
    /// Takes it out of its group's list of running children.
    void unlink_from_group() noexcept { group_hook::unlink(); }
    /// The group no longer follows this task (it is being destroyed): unlinks it, tells it nothing.
    void leave_group() noexcept {
        unlink_from_group();
        group_ = nullptr;
    }

private:
    friend class task_state;
    completion_observer* group_;  // told first when the task completes; null once it left the group
};

inline void cancel_scope::cancel() noexcept {
    if (cancelled_) return;
    cancelled_ = true;
    if (owner_ != nullptr) owner_->deliver_cancel();
}

inline void cancel_scope::enter(task_state& task) noexcept {
    owner_ = &task;
    parent_ = task.scope_;
    task.scope_ = this;
}

inline void cancel_scope::exit() noexcept {
    if (owner_ == nullptr) return;
    // Normally this is the innermost scope. When a suspended frame chain is destroyed, outer
    // frames' scopes may leave first; then unlink this scope from the middle of the stack.
    cancel_scope** link = &owner_->scope_;
    while (*link != this) link = &(*link)->parent_;
    *link = parent_;
    owner_ = nullptr;
    parent_ = nullptr;
}

/// The task the calling code runs in (null outside any task). Set by the loop around each step.
inline thread_local task_state* current_task = nullptr;

/// context_var bindings made outside any task on this thread (and, during a to_thread job, the
/// awaiting task's).
inline thread_local context_ref context_outside_tasks;

inline context_ref& current_context() noexcept {
    return current_task != nullptr ? current_task->context() : context_outside_tasks;
}

}  // namespace corio::detail
