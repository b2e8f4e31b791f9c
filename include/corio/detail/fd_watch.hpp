// corio/detail/fd_watch.hpp — waiting for a file descriptor to become readable or writable.
//
// An fd_watch registers one fd with its loop's reactor for the fd's remaining life (edge-
// triggered, read and write interest at once: on epoll when it is made, on io_uring when it
// first waits), and remembers readiness between waits, so no edge is lost. The protocol, used by the net layer: try the syscall first;
// only when it says EAGAIN, call not_readable()/not_writable() and co_await readable()/writable(),
// then try again. A socket whose reads come from the io_uring reactor's ring (feed_from_ring():
// src/reactor/ring_socket.hpp) hears of arrivals from it and registers only to wait for writing.
// At most one task waits for each direction at a time. A wait may carry a deadline: it then
// yields false when the deadline passes first (the caller throws its own timeout_error).
//
// While a task waits, the wait counts as external work of the loop (virtual time does not jump
// past real I/O). Cancel safety of the waits: a cancelled wait unregisters nothing and consumes
// nothing; it throws cancelled_error (also when its deadline passed in the same instant). Errors and hang-ups wake both directions (the next syscall
// reports them). close() deregisters before closing; a watch must outlive its waits.
// A borrowed fd (a library's own socket, libpq's) is watched the same way but never closed by
// the watch: close() only deregisters it, and closed_by_owner() forgets a registration the
// owner's close already ended.
// Thread-safety: one loop's thread.
#pragma once

#include <sys/types.h>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <span>

#include "corio/clock.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

class uring_reactor;
class ring_receiver;
struct ring_receiver_release {
    void operator()(ring_receiver* receiver) const noexcept;  // src/reactor/ring_socket.cpp
};

class fd_watch final : io_watcher {
public:
    fd_watch() noexcept = default;
    /// Watches `fd` (already non-blocking) on the current loop and takes ownership of it.
    explicit fd_watch(int fd) : fd_watch(fd, true) {}
    struct borrowed_t {};
    static constexpr borrowed_t borrowed{};
    /// Watches `fd` (already non-blocking), which stays its owner's to close.
    fd_watch(int fd, borrowed_t) : fd_watch(fd, false) {}
    fd_watch(fd_watch&& other) = delete;  // the epoll registration points at this object
    fd_watch& operator=(fd_watch&&) = delete;
    ~fd_watch() { close(); }

    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    /// Deregisters and closes the fd (a borrowed one is only deregistered); wakes any waiter
    /// (its next syscall fails with EBADF).
    void close() noexcept;
    /// The owner of a borrowed fd has closed it (the kernel ended the registration): forgets it,
    /// waking any waiter. Nothing is deregistered, so a new fd with the same number is safe.
    void closed_by_owner() noexcept;

    /// After the peer closed, reads never wait again (its edge may already have been consumed).
    void not_readable() noexcept { readable_ = peer_closed_; }
    /// False only when a read ran dry (not_readable) and no readiness edge came since (unknown,
    /// so true, while nothing reports arrivals: not registered and not fed by the ring).
    bool maybe_readable() const noexcept { return readable_ || !(registered_ || fed_by_ring_); }
    /// A read ran dry and no edge came since: wait (readable()) before reading again.
    bool must_wait_to_read() const noexcept { return !readable_; }
    /// As recv(2) with no flags on the non-blocking fd (-1 and errno EAGAIN: nothing yet); when
    /// reads come through the ring, taken from what its multishot receive queued.
    ssize_t receive(std::span<char> buffer) noexcept;
    /// Reads come from now on through a multishot receive on `ring` (src/reactor/ring_socket.hpp),
    /// started by the first receive(), which reports arrivals: waiting to read needs no registration.
    void receive_through(uring_reactor& ring) noexcept {
        ring_ = &ring;
        fed_by_ring_ = true;
    }
    /// The ring reads come through (null: recv).
    uring_reactor* ring() const noexcept { return ring_; }
    /// For a pooled connection: bytes, the end of the stream or an error wait unread in the ring's queue.
    bool holds_unread() const noexcept;
    /// The ring is receiving and nothing arrived: the peer is known to be quiet without a syscall.
    bool known_quiet() const noexcept;
    /// From now on a ring_acceptor reports arrivals, to the watcher returned: waiting to read
    /// needs no registration.
    io_watcher& feed_from_ring() noexcept {
        fed_by_ring_ = true;
        return *this;
    }
    /// Ends the registration (if any) while keeping the fd: for a socket that waited to connect
    /// and from then on reads through the ring, so arrivals are not reported twice.
    void unregister() noexcept;
    /// The loop has seen the peer close its side (or an error): sticky, unlike readiness.
    bool peer_closed() const noexcept { return peer_closed_; }
    /// For a datagram socket: an error (EPOLLERR: an ICMP error that the next receive reports and
    /// clears) wakes the waiters but is no hang-up, so reads wait again after it.
    void errors_are_transient() noexcept { transient_errors_ = true; }
    void not_writable() noexcept { writable_ = false; }

    class waiter;
    /// What readable()/writable() return: movable (usable with wait_for); the pinned waiter is
    /// made when it is awaited.
    struct readiness {
        fd_watch* watch;
        bool for_read;
        clock::time_point deadline;
        waiter operator co_await() const noexcept;
    };
    /// Awaitables yielding true when ready, false when `deadline` passed first.
    readiness readable(clock::time_point deadline = clock::time_point::max()) noexcept {
        return {this, true, deadline};
    }
    readiness writable(clock::time_point deadline = clock::time_point::max()) noexcept {
        return {this, false, deadline};
    }

    class waiter : timer_node, cancel_hook {
    public:
        waiter(fd_watch& watch, bool for_read, clock::time_point deadline) noexcept
            : timer_node(&on_deadline), watch_(watch), deadline_(deadline), for_read_(for_read) {}
        waiter(const waiter&) = delete;
        ~waiter() { leave(); }

        bool await_ready() const noexcept { return watch_.ready(for_read_); }
        bool await_suspend(std::coroutine_handle<> h);
        /// True when ready; false when the deadline passed first.
        bool await_resume() const;

    private:
        friend class fd_watch;
        void wake() noexcept {
            leave();
            task_->wake();
        }
        void leave() noexcept;
        void on_cancel() noexcept override {
            cancelled_ = true;
            wake();
        }
        std::string describe_wait() const override;
        static void on_deadline(timer_node& node) noexcept {
            auto& self = static_cast<waiter&>(node);
            self.expired_ = true;
            self.wake();
        }

        fd_watch& watch_;
        clock::time_point deadline_;  // time_point::max(): no deadline
        bool for_read_;
        bool cancelled_ = false;
        bool expired_ = false;
        task_state* task_ = nullptr;  // the waiting task, once suspended
    };

private:
    fd_watch(int fd, bool owned);
    void forget() noexcept;
    void register_once();  // registers with the reactor unless already registered
    ring_receiver& ring_reads() noexcept;  // the receiver (made on first use) of a watch reading through ring_
    void on_io_events(std::uint32_t events) noexcept override;
    bool ready(bool for_read) const noexcept { return for_read ? readable_ : writable_; }
    waiter*& slot(bool for_read) noexcept { return for_read ? reader_ : writer_; }

    int fd_ = -1;
    event_loop* loop_ = nullptr;  // the loop it waits on
    waiter* reader_ = nullptr;    // the task waiting for readability, if any
    waiter* writer_ = nullptr;
    bool readable_ = true;        // no EAGAIN seen since the last readiness edge: worth trying
    bool writable_ = true;
    bool peer_closed_ = false;    // EPOLLRDHUP/HUP (or ERR, unless transient_errors_) seen; never cleared
    bool transient_errors_ = false;  // EPOLLERR does not set peer_closed_ (a datagram socket)
    bool owned_ = true;           // close() closes fd_ (false: a borrowed fd)
    bool registered_ = false;     // the reactor reports this fd's readiness (since the first wait)
    bool fed_by_ring_ = false;    // a ring_receiver/ring_acceptor reports read readiness
    uring_reactor* ring_ = nullptr;  // receive() reads through this ring (null: recv)
    std::unique_ptr<ring_receiver, ring_receiver_release> receiver_;  // made by the first receive() through ring_
};

inline fd_watch::waiter fd_watch::readiness::operator co_await() const noexcept {
    return waiter(*watch, for_read, deadline);
}

}  // namespace corio::detail
