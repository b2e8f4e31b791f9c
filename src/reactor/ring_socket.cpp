#include "ring_socket.hpp"

#include "corio/net/tcp.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace corio::detail {

// ---- ring_receiver ----

ssize_t ring_receiver::receive(std::span<char> out) noexcept {
    if (queued_ > 0) return static_cast<ssize_t>(take(out));
    if (failure_ != 0) {
        errno = failure_;
        return -1;
    }
    if (ended_) return 0;
    if (starved_) {  // no multishot receive runs: read the socket itself
        const ssize_t n = ::recv(fd_, out.data(), out.size(), MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return n;
    }
    watch_for_arrivals();
    errno = EAGAIN;
    return -1;
}

void ring_receiver::watch_for_arrivals() noexcept {
    if (starved_ && ring_.buffers()->available() > 0) starved_ = false;
    if (starved_)
        poll_readable();
    else
        start();
}

std::size_t ring_receiver::take(std::span<char> out) noexcept {
    provided_buffers& buffers = *ring_.buffers();
    std::size_t copied = 0;
    while (copied < out.size() && head_ < chunks_.size()) {
        chunk& c = chunks_[head_];
        const std::size_t n = std::min<std::size_t>(out.size() - copied, c.end - c.begin);
        std::memcpy(out.data() + copied, buffers.data(c.buffer) + c.begin, n);
        c.begin += static_cast<std::uint32_t>(n);
        copied += n;
        queued_ -= n;
        if (c.begin == c.end) {
            buffers.give_back(c.buffer);
            ++head_;
        }
    }
    if (head_ == chunks_.size()) {
        chunks_.clear();
        head_ = 0;
    }
    if (queued_ < pause_at / 2) start();  // keep bytes coming
    return copied;
}

void ring_receiver::start() noexcept {
    if (receiving_ || watcher_ == nullptr || ended_ || failure_ != 0 || starved_ || queued_ >= pause_at) return;
    io_uring_sqe request{};
    io_uring_prep_recv_multishot(&request, fd_, nullptr, 0, 0);
    request.flags |= IOSQE_BUFFER_SELECT;
    request.buf_group = provided_buffers::group;
    ring_.submit(*this, request);
    receiving_ = true;
}

void ring_receiver::poll_readable() noexcept {
    if (poll_.in_flight) return;
    io_uring_sqe request{};
    io_uring_prep_poll_add(&request, fd_, POLLIN | POLLRDHUP);
    ring_.submit(poll_, request);
    poll_.in_flight = true;
}

void ring_receiver::complete(int result, std::uint32_t flags) noexcept {
    const bool last = (flags & IORING_CQE_F_MORE) == 0;
    if (last) receiving_ = pausing_ = false;
    if (result > 0) {
        provided_buffers& buffers = *ring_.buffers();
        const unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
        buffers.taken();
        if (watcher_ == nullptr) {
            buffers.give_back(id);
        } else {
            chunks_.push_back({id, 0, static_cast<std::uint32_t>(result)});
            queued_ += static_cast<std::size_t>(result);
        }
    } else if (result == 0) {
        ended_ = true;
    } else if (result == -ENOBUFS) {
        starved_ = true;
    } else if (result != -ECANCELED) {
        failure_ = -result;
    }
    if (watcher_ == nullptr) return free_if_done();
    if (receiving_ && !pausing_ && queued_ >= pause_at) {  // backpressure: nobody reads
        pausing_ = true;
        ring_.cancel(*this);
    }
    if (last) start();
    if (result == -ECANCELED) return;
    tell_watcher(result == 0 ? EPOLLIN | EPOLLRDHUP : result < 0 && result != -ENOBUFS ? EPOLLIN | EPOLLERR : EPOLLIN);
}

void ring_receiver::readiness_poll::complete(int result, std::uint32_t) noexcept {
    in_flight = false;
    if (owner.watcher_ == nullptr) return owner.free_if_done();
    if (result != -ECANCELED) owner.tell_watcher(result >= 0 ? static_cast<std::uint32_t>(result) : EPOLLERR);
}

void ring_receiver::tell_watcher(std::uint32_t events) noexcept {
    watcher_->on_io_events(events);
}

void ring_receiver::release(ring_receiver* r) noexcept {
    r->watcher_ = nullptr;
    if (!r->chunks_.empty()) {
        provided_buffers& buffers = *r->ring_.buffers();
        for (std::size_t i = r->head_; i < r->chunks_.size(); ++i) buffers.give_back(r->chunks_[i].buffer);
        r->chunks_.clear();
    }
    if (r->receiving_ && !std::exchange(r->pausing_, true)) r->ring_.cancel_now(*r);  // the socket closes now, not at the next wait
    if (r->poll_.in_flight) r->ring_.cancel_now(r->poll_);
    if (r->receiving_ || r->poll_.in_flight)
        r->ring_.adopt(*r);  // freed by free_if_done() at the last completion
    else
        delete r;
}

void ring_receiver_release::operator()(ring_receiver* receiver) const noexcept { ring_receiver::release(receiver); }

void ring_receiver::free_if_done() noexcept {
    if (receiving_ || poll_.in_flight) return;
    unlink();
    delete this;
}

// ---- ring_acceptor ----

int ring_acceptor::accept() noexcept {
    if (head_ < accepted_.size()) {
        const int fd = accepted_[head_++];
        if (head_ == accepted_.size()) {
            accepted_.clear();
            head_ = 0;
        }
        start();
        return fd;
    }
    if (failure_ != 0) {
        errno = std::exchange(failure_, 0);
        return -1;
    }
    start();
    errno = EAGAIN;
    return -1;
}

void ring_acceptor::start() noexcept {
    if (accepting_ || watcher_ == nullptr || accepted_.size() - head_ >= pause_at) return;
    io_uring_sqe request{};
    io_uring_prep_multishot_accept(&request, fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ring_.submit(*this, request);
    accepting_ = true;
}

void ring_acceptor::complete(int result, std::uint32_t flags) noexcept {
    const bool last = (flags & IORING_CQE_F_MORE) == 0;
    if (last) accepting_ = pausing_ = false;
    if (result >= 0) {
        if (watcher_ == nullptr)
            ::close(result);
        else
            accepted_.push_back(result);
    } else if (result != -ECANCELED) {
        failure_ = -result;  // reported by the next accept(), which starts accepting again
    }
    if (watcher_ == nullptr) {
        if (!accepting_) {
            unlink();
            delete this;
        }
        return;
    }
    if (accepting_ && !pausing_ && accepted_.size() - head_ >= pause_at) {  // nobody accepts: stop taking
        pausing_ = true;
        ring_.cancel(*this);
    }
    if (last && failure_ == 0) start();
    if (result != -ECANCELED) watcher_->on_io_events(EPOLLIN);
}

void ring_acceptor_release::operator()(ring_acceptor* acceptor) const noexcept { ring_acceptor::release(acceptor); }

void ring_acceptor::release(ring_acceptor* a) noexcept {
    a->watcher_ = nullptr;
    for (std::size_t i = a->head_; i < a->accepted_.size(); ++i) ::close(a->accepted_[i]);
    a->accepted_.clear();
    if (a->accepting_ && !std::exchange(a->pausing_, true)) a->ring_.cancel_now(*a);  // stops listening now
    if (a->accepting_)
        a->ring_.adopt(*a);
    else
        delete a;
}

}  // namespace corio::detail
