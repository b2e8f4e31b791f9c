// src/reactor/ring_socket.hpp — a socket's receiving and accepting sides on the io_uring reactor.
//
// ring_receiver keeps one multishot receive in flight into the loop's provided buffers and
// queues what arrives until the reader takes it: a read cancelled while it waits loses nothing,
// an idle connection holds no buffer, and bytes that arrive between reads cost no syscall. It
// stops receiving while `pause_at` bytes wait unread (backpressure) and resumes as they are
// read. When the loop's buffers run out it reads straight into the caller's buffer (recv) after
// a poll on the ring, until buffers are free again.
// ring_acceptor keeps one multishot accept in flight on a listening socket and queues the
// connections (up to `pause_at`) until accept() takes them.
// Both tell `watcher` (the socket's fd_watch) EPOLLIN when something arrives, so the TCP layer
// waits on its fd_watch as it does with epoll, and both follow the syscalls' conventions
// (-1 with errno EAGAIN: nothing yet; the watcher hears when there is).
// release() ends one: its owner is gone; the reactor frees it when the kernel is done with it.
// Thread-safety: the loop's thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <vector>

#include "uring_reactor.hpp"

namespace corio::detail {

class ring_receiver final : public ring_completion {
public:
    static constexpr std::size_t pause_at = 4 * provided_buffers::size;

    ring_receiver(uring_reactor& ring, int fd, io_watcher& watcher) noexcept
        : ring_(ring), fd_(fd), watcher_(&watcher), poll_(*this) {}

    /// As recv(2) on a non-blocking socket: the bytes copied into `out`, 0 at the end of the
    /// stream, or -1 with errno (EAGAIN: nothing yet).
    ssize_t receive(std::span<char> out) noexcept;
    /// Makes sure an arrival will be reported (to a reader about to wait): starts the multishot
    /// receive, or, while the loop's buffers are used up, a poll.
    void watch_for_arrivals() noexcept;
    /// The multishot receive is in flight: anything that arrives is reported.
    bool receiving() const noexcept { return receiving_; }
    /// Bytes, the end of the stream or a failure wait to be read.
    bool holds_unread() const noexcept { return queued_ > 0 || ended_ || failure_ != 0; }
    /// The owner is gone: drops what is queued; freed once no request is in flight.
    static void release(ring_receiver* receiver) noexcept;

    void complete(int result, std::uint32_t flags) noexcept override;

private:
    struct chunk {
        unsigned buffer;      // provided buffer id
        std::uint32_t begin;  // unread bytes: [begin, end) of the buffer
        std::uint32_t end;
    };
    /// The starved receiver's one-shot poll: tells the watcher when the socket is readable.
    struct readiness_poll final : ring_completion {
        explicit readiness_poll(ring_receiver& owner) noexcept : owner(owner) {}
        void complete(int result, std::uint32_t flags) noexcept override;
        ring_receiver& owner;
        bool in_flight = false;
    };

    std::size_t take(std::span<char> out) noexcept;
    void start() noexcept;  // starts the multishot receive unless it runs or must not (paused, starved, ended)
    void poll_readable() noexcept;
    void tell_watcher(std::uint32_t events) noexcept;
    void free_if_done() noexcept;

    uring_reactor& ring_;
    int fd_;
    io_watcher* watcher_;             // null once released
    readiness_poll poll_;
    std::vector<chunk> chunks_;       // queued, unread from index head_ on
    std::size_t head_ = 0;            // invariant: chunks_[head_, size) hold queued_ bytes
    std::size_t queued_ = 0;
    bool receiving_ = false;          // the multishot receive is in flight
    bool pausing_ = false;            // it was asked to end (backpressure or release)
    bool starved_ = false;            // it ended for want of buffers: read with recv until some are free
    bool ended_ = false;              // the peer closed its side (after the queued bytes)
    int failure_ = 0;                 // errno that ended the stream (after the queued bytes)
};

class ring_acceptor final : public ring_completion {
public:
    static constexpr std::size_t pause_at = 64;

    ring_acceptor(uring_reactor& ring, int fd, io_watcher& watcher) noexcept
        : ring_(ring), fd_(fd), watcher_(&watcher) {}

    /// As accept4(2) on a non-blocking listener with SOCK_NONBLOCK | SOCK_CLOEXEC: a connected
    /// socket, or -1 with errno (EAGAIN: none yet).
    int accept() noexcept;
    /// The owner is gone: closes the queued connections; freed once no request is in flight.
    static void release(ring_acceptor* acceptor) noexcept;
    uring_reactor& ring() const noexcept { return ring_; }

    void complete(int result, std::uint32_t flags) noexcept override;

private:
    void start() noexcept;

    uring_reactor& ring_;
    int fd_;
    io_watcher* watcher_;          // null once released
    std::vector<int> accepted_;    // queued connections, oldest first from head_
    std::size_t head_ = 0;
    bool accepting_ = false;       // the multishot accept is in flight
    bool pausing_ = false;         // it was asked to end
    int failure_ = 0;              // errno of a failed accept, for the next accept() to report
};

}  // namespace corio::detail
