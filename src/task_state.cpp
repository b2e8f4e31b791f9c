#include "corio/detail/task_state.hpp"

#include <string>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/log.hpp"
#include "corio/task.hpp"

namespace corio::detail {

bool is_cancellation(const std::exception_ptr& e) noexcept { return holds<cancelled_error>(e); }

task_state::task_state(event_loop& loop, std::coroutine_handle<> root, promise_base& promise,
                       std::string&& name) noexcept
    : loop_(&loop),
      root_(root),
      resume_point_(root),
      context_(current_context()),
      promise_offset_(static_cast<std::uint16_t>(reinterpret_cast<char*>(&promise) - static_cast<char*>(root.address()))) {
    promise.set_owner(*this);
    if (!name.empty()) ensure_extras().name = std::move(name);
}

task_debug& task_state::ensure_debug_info() {
    extras& e = ensure_extras();
    if (!e.debug) e.debug.reset(new task_debug);
    return *e.debug;
}

task_state::extras& task_state::ensure_extras() {
    if (!extras_) extras_.reset(new extras);
    return *extras_;
}

namespace {
// Constant-initialised at load time (not on first use: a function-local static would be set up,
// and its destructor registered with calloc, inside the debug monitor's signal handler, which
// reads a task's name; TSan: "signal-unsafe call inside of a signal").
const std::string unnamed_task;
}  // namespace

const std::string& task_state::name() const noexcept { return extras_ ? extras_->name : unnamed_task; }

task_state::~task_state() {
    if (root_) root_.destroy();
}

void task_state::destroy() noexcept {
    if (done_ && !cancelled_ && !error_retrieved_ && promise().error) {
        if (debug_info() != nullptr) {
            debug_report_unretrieved(*this, promise().error);
        } else {
            log_error("corio: task '" + name() + "' failed and nobody retrieved its error: " +
                      describe(promise().error));
        }
    }
    if (grouped_)
        delete static_cast<group_member*>(this);
    else
        delete this;
}

std::exception_ptr task_state::take_error() noexcept {
    error_retrieved_ = true;
    if (!root_) return std::make_exception_ptr(cancelled_error("task abandoned when its loop ended"));
    return promise().error;
}

void task_state::add_done_callback(std::function<void()> fn) {
    if (done_) {
        loop_->call_soon(std::move(fn));
        return;
    }
    ensure_extras().callbacks.push_back(std::move(fn));
}

void task_state::run_step() {
    if (!started_) {
        started_ = true;
        if (cancel_pending()) {  // cancelled before its first step: the body never runs
            promise().error = std::make_exception_ptr(cancelled_error("task cancelled before it started"));
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
    cancelled_ = promise().error && is_cancellation(promise().error);
    if (extras_ && extras_->debug) debug_note_complete(*this);
    loop_->forget(*this);
    if (grouped_) {
        if (auto* group = std::exchange(static_cast<group_member*>(this)->group_, nullptr)) group->on_task_done(*this);
    }
    waiters_.for_each([](join_waiter& w) {
        w.unlink();
        w.waiter().wake();
    });
    if (extras_) {
        for (auto& fn : extras_->callbacks) loop_->call_soon(std::move(fn));
        extras_->callbacks.clear();
    }
    release();  // the loop's reference
}

void task_state::abandon() noexcept {
    std::exchange(root_, {}).destroy();  // runs the destructors of the frame's locals, and its promise
    done_ = true;
    cancelled_ = true;
    if (grouped_) static_cast<group_member*>(this)->group_ = nullptr;
    loop_->forget(*this);
    waiters_.for_each([](join_waiter& w) { w.unlink(); });
    if (extras_) extras_->callbacks.clear();
    release();
}

}  // namespace corio::detail

namespace corio::detail {

void throw_value_taken() {
    throw error("join_handle: the task's move-only result was already taken (it can be read once)");
}

void throw_empty(const char* what) {
    throw error(std::string("corio: awaiting or reading an empty ") + what + " (moved from, or default-constructed)");
}

}  // namespace corio::detail
