// Implementation of event_loop::call_at / call_later and timer_handle (corio/event_loop.hpp).
#include <exception>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/log.hpp"

namespace corio::detail {

/// One call_at call. Shared by its timer_handle and, until it runs or is cancelled, its loop:
/// while its timer is queued it owns itself (self_); once due, the call_soon callback that runs
/// it holds it.
class scheduled_call : public list_node, timer_node {
public:
    scheduled_call(event_loop& loop, std::function<void()> fn) noexcept
        : timer_node(&fire), loop_(&loop), fn_(std::move(fn)) {}

    static timer_handle schedule(event_loop& loop, clock::time_point when, std::function<void()> fn) {
        auto call = std::make_shared<scheduled_call>(loop, std::move(fn));
        loop.add_timer(*call, when);
        loop.scheduled_calls_.push_back(*call);
        call->self_ = call;
        return timer_handle(std::move(call));
    }

    bool cancel() noexcept {
        if (state_ != state::pending && state_ != state::due) return false;
        end(state::cancelled);
        return true;
    }
    bool cancelled() const noexcept { return state_ == state::cancelled; }
    clock::time_point when() const noexcept { return deadline(); }

    /// The loop ends: every call not yet run will never run. One at a time from the front: the
    /// destructor of a dropped callback's capture may cancel (unlink) any other call.
    static void drop_all(intrusive_list<scheduled_call>& calls) noexcept {
        while (!calls.empty()) calls.front().end(state::dropped);
    }

private:
    enum class state : unsigned char {
        pending,    // its timer is queued
        due,        // its timer fired; a call_soon callback will run it
        ran,
        cancelled,
        dropped,    // its loop ended first
    };

    static void fire(timer_node& node) noexcept {
        auto& call = static_cast<scheduled_call&>(node);
        call.state_ = state::due;
        // Allocation-free unless soon_ must grow (as a task's done callbacks, task_state.cpp).
        call.loop_->call_soon([self = std::move(call.self_)] { self->run(); });
    }

    /// Run by the loop as a call_soon callback; logs what fn throws, naming the call's kind.
    void run() noexcept {
        if (state_ != state::due) return;  // cancelled, or dropped, meanwhile
        std::function<void()> fn = std::move(fn_);
        end(state::ran);
        try {
            fn();
        } catch (...) {
            log_error("call_later/call_at callback threw: " + describe(std::current_exception()));
        }
    }

    /// Leaves the timers and the loop's list and releases the callback; may release the last
    /// reference to this (self_) but does not touch this afterwards.
    void end(state final_state) noexcept {
        if (state_ == state::pending) loop_->remove_timer(*this);
        state_ = final_state;
        unlink();
        fn_ = nullptr;
        auto keep = std::move(self_);
    }

    event_loop* loop_;                     // valid while state_ is pending or due
    std::function<void()> fn_;             // invariant: empty once state_ is neither pending nor due
    std::shared_ptr<scheduled_call> self_;  // invariant: set iff state_ == pending
    state state_ = state::pending;          // pending or due iff linked into loop_->scheduled_calls_
};

}  // namespace corio::detail

namespace corio {

timer_handle event_loop::call_at(clock::time_point when, std::function<void()> fn) {
    return detail::scheduled_call::schedule(*this, when, std::move(fn));
}

void event_loop::drop_scheduled_calls() noexcept { detail::scheduled_call::drop_all(scheduled_calls_); }

bool timer_handle::cancel() noexcept { return call_ && call_->cancel(); }

bool timer_handle::cancelled() const noexcept { return call_ && call_->cancelled(); }

clock::time_point timer_handle::when() const noexcept { return call_ ? call_->when() : clock::time_point{}; }

}  // namespace corio
