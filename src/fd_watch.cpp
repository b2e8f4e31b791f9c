#include "corio/detail/fd_watch.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "corio/error.hpp"
#include "reactor/ring_socket.hpp"

namespace corio::detail {

fd_watch::fd_watch(int fd, bool owned) : fd_(fd), loop_(&current_loop("fd_watch")), owned_(owned) {
    // On epoll, at once: the loop then records a hang-up even while nobody waits (peer_closed()).
    // On io_uring, at the first wait: a socket that reads through the ring hears of hang-ups
    // from its receive, and registering would report each arrival twice.
    if (loop_->backend() != io_backend::epoll) return;
    try {
        register_once();
    } catch (...) {
        if (owned_) ::close(fd_);
        fd_ = -1;
        throw;
    }
}

void fd_watch::register_once() {
    if (registered_ || fd_ < 0) return;
    // A socket fed by the ring hears of arrivals and hang-ups from its receive: it polls only
    // for writing, or every arrival would be reported twice (errors are reported either way).
    loop_->watch(fd_, fed_by_ring_ ? EPOLLOUT : EPOLLIN | EPOLLOUT | EPOLLRDHUP, *this);
    registered_ = true;
}

void fd_watch::unregister() noexcept {
    if (!std::exchange(registered_, false)) return;
    loop_->unwatch(fd_);
}

ssize_t fd_watch::receive(std::span<char> buffer) noexcept {
    if (ring_ == nullptr) return ::recv(fd_, buffer.data(), buffer.size(), 0);
    return ring_reads().receive(buffer);
}

ring_receiver& fd_watch::ring_reads() noexcept {
    if (!receiver_) receiver_.reset(new ring_receiver(*ring_, fd_, *this));
    return *receiver_;
}

bool fd_watch::holds_unread() const noexcept { return receiver_ && receiver_->holds_unread(); }

bool fd_watch::known_quiet() const noexcept { return receiver_ && receiver_->receiving() && !receiver_->holds_unread(); }

void fd_watch::close() noexcept {
    if (fd_ < 0) return;
    receiver_.reset();  // before the fd closes: its requests are cancelled by address, not by fd
    unregister();
    if (owned_) ::close(fd_);
    forget();
}

void fd_watch::closed_by_owner() noexcept {
    if (fd_ < 0) return;
    if (std::exchange(registered_, false)) loop_->unwatch_closed(fd_);
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
    const bool sticky_error = (events & EPOLLERR) != 0 && !transient_errors_;
    if (sticky_error || (events & (EPOLLHUP | EPOLLRDHUP)) != 0) peer_closed_ = true;
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
    if (!(for_read_ && watch_.fed_by_ring_))
        watch_.register_once();  // may throw: nothing to undo yet
    else if (watch_.ring_ != nullptr)
        watch_.ring_reads().watch_for_arrivals();  // arrivals are reported only while it receives or polls
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
