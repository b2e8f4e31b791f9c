#include "corio/detail/fd_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include "corio/error.hpp"

namespace corio::detail {

fd_watch::fd_watch(int fd, bool owned) : fd_(fd), loop_(&current_loop("fd_watch")), owned_(owned) {
    try {
        loop_->watch(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, *this);
    } catch (...) {
        if (owned_) ::close(fd_);
        fd_ = -1;
        throw;
    }
}

void fd_watch::close() noexcept {
    if (fd_ < 0) return;
    loop_->unwatch(fd_);
    if (owned_) ::close(fd_);
    forget();
}

void fd_watch::closed_by_owner() noexcept {
    if (fd_ < 0) return;
    loop_->unwatch_closed();
    forget();
}

void fd_watch::forget() noexcept {
    fd_ = -1;
    readable_ = writable_ = true;  // let waiters retry and see EBADF
    if (reader_ != nullptr) reader_->wake();
    if (writer_ != nullptr) writer_->wake();
}

void fd_watch::on_io_events(std::uint32_t events) noexcept {
    const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
    if (failed || (events & EPOLLRDHUP) != 0) peer_closed_ = true;
    if (failed || (events & (EPOLLIN | EPOLLRDHUP)) != 0) {
        readable_ = true;
        if (reader_ != nullptr) reader_->wake();
    }
    if (failed || (events & EPOLLOUT) != 0) {
        writable_ = true;
        if (writer_ != nullptr) writer_->wake();
    }
}

bool fd_watch::waiter::await_suspend(std::coroutine_handle<> h) {
    task_ = current_task;
    const bool bounded = deadline_ != clock::time_point::max();
    if (bounded) task_->loop().add_timer(*this, deadline_);
    if (!task_->suspend(h, this)) {
        if (bounded) task_->loop().remove_timer(*this);
        cancelled_ = true;
        return false;
    }
    watch_.slot(for_read_) = this;
    task_->loop().begin_external_work();
    return true;
}

void fd_watch::waiter::leave() noexcept {
    if (task_ == nullptr) return;
    task_->loop().remove_timer(*this);
    if (watch_.slot(for_read_) != this) return;
    watch_.slot(for_read_) = nullptr;
    task_->loop().end_external_work();
}

bool fd_watch::waiter::await_resume() const {
    // An outer cancellation in the same instant as the deadline stays a cancellation.
    if (cancelled_ || (expired_ && task_->cancel_pending())) throw cancelled_error("I/O wait cancelled");
    return !expired_;
}

}  // namespace corio::detail

namespace corio::detail {

std::string fd_watch::waiter::describe_wait() const {
    return "waiting on fd " + std::to_string(watch_.fd()) + (for_read_ ? " to be readable" : " to be writable");
}

}  // namespace corio::detail
