#include "corio/detail/fd_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include "corio/error.hpp"

namespace corio::detail {

fd_watch::fd_watch(int fd) : fd_(fd), loop_(&current_loop("fd_watch")) {
    try {
        loop_->watch(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, *this);
    } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
    }
}

void fd_watch::close() noexcept {
    if (fd_ < 0) return;
    loop_->unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
    readable_ = writable_ = true;  // let waiters retry and see EBADF
    if (reader_ != nullptr) reader_->wake();
    if (writer_ != nullptr) writer_->wake();
}

void fd_watch::on_io_events(std::uint32_t events) noexcept {
    const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
    if (failed || (events & (EPOLLIN | EPOLLRDHUP)) != 0) {
        readable_ = true;
        if (reader_ != nullptr) reader_->wake();
    }
    if (failed || (events & EPOLLOUT) != 0) {
        writable_ = true;
        if (writer_ != nullptr) writer_->wake();
    }
}

void fd_watch::waiter::await_resume() const {
    if (cancelled_) throw cancelled_error("I/O wait cancelled");
}

}  // namespace corio::detail
