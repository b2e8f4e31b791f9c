#include "corio/detail/task_state.hpp"

#include <string>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/log.hpp"
#include "corio/task.hpp"

namespace corio::detail {

bool is_cancellation(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const cancelled_error&) {
        return true;
    } catch (...) {
        return false;
    }
}

task_state::task_state(event_loop& loop, std::coroutine_handle<> root, promise_base& promise,
                       std::string name) noexcept
    : loop_(&loop), root_(root), promise_(&promise), resume_point_(root), name_(std::move(name)) {
    root_scope_.enter(*this);
    promise.owner = this;
}

task_state::~task_state() {
    if (root_) root_.destroy();
}

void task_state::destroy() noexcept {
    if (done_ && promise_->error && !cancelled_ && !error_retrieved_) {
        log_error("corio: task '" + name_ + "' failed and nobody retrieved its error: " +
                  describe(promise_->error));
    }
    delete this;
}

std::exception_ptr task_state::take_error() noexcept {
    error_retrieved_ = true;
    return promise_->error;
}

void task_state::add_done_callback(std::function<void()> fn) {
    if (done_) {
        loop_->call_soon(std::move(fn));
        return;
    }
    if (!callbacks_) callbacks_ = std::make_unique<std::vector<std::function<void()>>>();
    callbacks_->push_back(std::move(fn));
}

void task_state::run_step() {
    if (!started_) {
        started_ = true;
        if (cancel_pending()) {  // cancelled before its first step: the body never runs
            promise_->error = std::make_exception_ptr(cancelled_error("task cancelled before it started"));
            complete();
            return;
        }
    }
    current_task = this;
    resume_point_.resume();  // may complete and destroy this state
}

void task_state::complete() noexcept {
    done_ = true;
    hook_ = nullptr;
    cancelled_ = is_cancellation(promise_->error);
    loop_->forget(*this);
    if (observer_ != nullptr) std::exchange(observer_, nullptr)->on_task_done(*this);
    waiters_.for_each([](join_waiter& w) {
        w.unlink();
        w.waiter().wake();
    });
    if (callbacks_) {
        for (auto& fn : *callbacks_) loop_->call_soon(std::move(fn));
        callbacks_.reset();
    }
    release();  // the loop's reference
}

void task_state::abandon() noexcept {
    std::exchange(root_, {}).destroy();  // runs the destructors of the frame's locals
    done_ = true;
    cancelled_ = true;
    observer_ = nullptr;
    loop_->forget(*this);
    waiters_.for_each([](join_waiter& w) { w.unlink(); });
    callbacks_.reset();
    release();
}

}  // namespace corio::detail
