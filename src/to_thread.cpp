#include "corio/to_thread.hpp"

#include <cassert>

namespace corio::detail {

void thread_job_base::start(event_loop& loop, thread_job_waiter& w) {
    loop_ = &loop;
    handle_ = loop.handle();
    context_ = current_context();  // the call sees the awaiting task's context_vars
    thread_pool::shared().submit(shared_from_this());  // may throw: nothing registered yet
    loop.begin_external_work();
    waiter_ = &w;
}

void thread_job_base::detach() noexcept {
    if (!skip_if_pending()) waiter_ = nullptr;  // started: it finishes unobserved
}

bool thread_job_base::skip_if_pending() noexcept {
    if (waiter_ == nullptr) return false;
    int expected = pending;
    if (!status_.compare_exchange_strong(expected, skipped, std::memory_order_acq_rel)) return false;  // started
    waiter_ = nullptr;
    loop_->end_external_work();  // the worker will not post finish()
    return true;
}

void thread_job_base::run() noexcept {
    int expected = pending;
    if (!status_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) return;
    context_ref outside = std::exchange(context_outside_tasks, std::move(context_));
    try {
        invoke();
    } catch (...) {
        error_ = std::current_exception();
    }
    context_outside_tasks = std::move(outside);
    // Refused once the loop has ended: then the lambda (and maybe this job) dies right here.
    handle_.post([self = shared_from_this()] { self->finish(); });
}

void thread_job_base::finish() noexcept {
    loop_->end_external_work();
    if (waiter_ != nullptr) std::exchange(waiter_, nullptr)->on_job_done();
}

bool thread_job_awaiter_base::await_suspend(std::coroutine_handle<> h) {
    task_ = current_task;
    if (task_->cancel_pending()) {  // never start a job that nobody would wait for
        cancelled_ = true;
        return false;
    }
    job_->start(task_->loop(), *this);
    [[maybe_unused]] const bool suspended = task_->suspend(h, this);
    assert(suspended && "cancellation cannot become pending while submitting");
    return true;
}

thread_job_base& thread_job_awaiter_base::finished_job() const {
    if (cancelled_) throw cancelled_error("to_thread cancelled");
    return *job_;
}

void thread_job_awaiter_base::on_cancel() noexcept {
    cancelled_ = true;
    if (abandon_on_cancel_) job_->detach();
    if (abandon_on_cancel_ || job_->skip_if_pending()) {
        task_->wake();
        return;
    }
    // The job runs: stay registered (the hook is gone); on_job_done() wakes the task.
}

}  // namespace corio::detail
