// corio/detail/child_group.hpp — the children a combinator spawned and must account for.
//
// gather, gather_settled, wait_any, as_completed, task_group and task_set all spawn tasks and
// then wait for some or all of them. child_group is that shared engine: it observes each child's
// completion (synchronously, in the child's final step), keeps the list of children still
// running, and lets tasks wait in one of three ways:
//   join()             until none is running; cannot be interrupted: cancellation of the waiting
//                      task is forwarded to every child, and waiting goes on until they finish
//   wait_all()         until none is running; interruptible (throws cancelled_error, children
//                      are left running)
//   next_completion()  until the next child finishes (or none is running); interruptible
// A group destroyed while children still run cancels them and leaves them to finish on the loop.
// Once cancel_now_and_later() was called (a task_group that failed or whose task was cancelled, a
// task_set shutting down), every child spawned afterwards is cancelled before it starts: work
// added to a group that is being torn down never delays the teardown (Trio's choice).
#pragma once

#include <cstddef>
#include <string>

#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/error.hpp"
#include "corio/spawn.hpp"

namespace corio::detail {

class child_group : completion_observer {
    enum class wait_mode { all_forwarding_cancel, all, next };
    class awaiter;

public:
    child_group() noexcept = default;
    child_group(const child_group&) = delete;
    child_group& operator=(const child_group&) = delete;
    ~child_group() {
        children_.for_each([](group_member& t) {
            t.leave_group();
            t.cancel();
        });
    }

    /// Spawns `t` as a child of this group (cancelled before it starts once the group is
    /// being torn down: see cancel_now_and_later).
    template <class T>
    join_handle<T> spawn(task<T> t, std::string name = {}, source_site site = {}, const void* caller = nullptr) {
        join_handle<T> h = spawn_at(std::move(t), std::move(name), site, caller, this);
        children_.push_back(static_cast<group_member&>(h.state()));
        ++active_;
        if (tearing_down_) h.state().cancel();
        return h;
    }

    std::size_t active() const noexcept { return active_; }
    void cancel_all() noexcept {
        children_.for_each([](task_state& t) { t.cancel(); });
    }
    /// Cancels every child, and from now on every child as it is spawned.
    void cancel_now_and_later() noexcept {
        tearing_down_ = true;
        cancel_all();
    }
    template <class F>
    void for_each_active(F&& fn) {
        children_.for_each(fn);
    }

    awaiter join() noexcept { return awaiter(*this, wait_mode::all_forwarding_cancel); }
    awaiter wait_all() noexcept { return awaiter(*this, wait_mode::all); }
    awaiter next_completion() noexcept { return awaiter(*this, wait_mode::next); }

protected:
    /// Called as each child finishes, before any waiter is woken.
    virtual void on_child_done(task_state& child) noexcept = 0;

private:
    class awaiter : public list_node, cancel_hook {
    public:
        awaiter(child_group& group, wait_mode mode) noexcept : group_(group), mode_(mode) {}
        awaiter(const awaiter&) = delete;
        ~awaiter() { unlink(); }

        bool await_ready() const noexcept { return group_.active_ == 0; }
        bool await_suspend(std::coroutine_handle<> h) noexcept {
            task_ = current_task;
            if (!task_->suspend(h, this)) {
                if (mode_ != wait_mode::all_forwarding_cancel) {
                    cancelled_ = true;
                    return false;
                }
                task_->suspend_uninterruptible(h);
                group_.cancel_now_and_later();
            }
            group_.waiters_.push_back(*this);
            return true;
        }
        void await_resume() const {
            if (cancelled_) throw cancelled_error("wait for child tasks cancelled");
        }

    private:
        friend class child_group;
        void on_cancel() noexcept override {
            if (mode_ == wait_mode::all_forwarding_cancel) {
                group_.cancel_now_and_later();  // keep waiting, now without a hook
                return;
            }
            unlink();
            cancelled_ = true;
            task_->wake();
        }
        bool satisfied() const noexcept { return mode_ == wait_mode::next || group_.active_ == 0; }

        child_group& group_;
        wait_mode mode_;
        task_state* task_ = nullptr;
        bool cancelled_ = false;
    };

    void on_task_done(task_state& child) noexcept override {
        static_cast<group_member&>(child).unlink_from_group();
        --active_;
        on_child_done(child);
        waiters_.for_each([](awaiter& w) {
            if (!w.satisfied()) return;
            w.unlink();
            w.task_->wake();
        });
    }

    intrusive_list<group_member, group_hook> children_;  // children still running
    std::size_t active_ = 0;                 // invariant: the length of children_
    bool tearing_down_ = false;              // set by cancel_now_and_later: new children start cancelled
    intrusive_list<awaiter> waiters_;        // suspended waiters
};

}  // namespace corio::detail
