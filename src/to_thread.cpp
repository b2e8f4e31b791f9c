#include "corio/to_thread.hpp"

#include <cassert>

namespace corio::detail {

void thread_job_base::start(event_loop& loop, thread_job_waiter& w) {
    loop_ = &loop;
    handle_ = loop.handle();
    thread_pool::shared().submit(shared_from_this());  // may throw: nothing registered yet
    loop.begin_external_work();
    waiter_ = &w;
}

void thread_job_base::detach() noexcept {
    if (waiter_ == nullptr) return;
    waiter_ = nullptr;
    int expected = pending;
    // Skipped: the worker will not post finish(), so the external work ends here.
    if (status_.compare_exchange_strong(expected, skipped, std::memory_order_acq_rel))
        loop_->end_external_work();
}

void thread_job_base::run() noexcept {
    int expected = pending;
    if (!status_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) return;
    try {
        invoke();
    } catch (...) {
        error_ = std::current_exception();
    }
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
    if (cancelled_) throw cancelled_error("to_thread cancelled (the job is not interrupted)");
    return *job_;
}

void thread_job_awaiter_base::on_cancel() noexcept {
    job_->detach();
    cancelled_ = true;
    task_->wake();
}

}  // namespace corio::detail
