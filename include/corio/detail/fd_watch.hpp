// corio/detail/fd_watch.hpp — waiting for a file descriptor to become readable or writable.
//
// An fd_watch registers one fd with its loop's epoll for the fd's whole life (edge-triggered,
// read and write interest at once) and remembers readiness between waits, so no edge is lost.
// The protocol, used by the net layer: try the syscall first; only when it says EAGAIN, call
// not_readable()/not_writable() and co_await readable()/writable(), then try again.
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

#include <coroutine>
#include <cstdint>

#include "corio/clock.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"
#include "corio/event_loop.hpp"

namespace corio::detail {

class fd_watch final : io_watcher {
public:
    fd_watch() noexcept = default;
    /// Registers `fd` (already non-blocking) with the current loop and takes ownership of it.
    explicit fd_watch(int fd) : fd_watch(fd, true) {}
    struct borrowed_t {};
    static constexpr borrowed_t borrowed{};
    /// Registers `fd` (already non-blocking), which stays its owner's to close.
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
    /// False only when a read ran dry (not_readable) and no readiness edge came since.
    bool maybe_readable() const noexcept { return readable_; }
    /// The loop has seen the peer close its side (or an error): sticky, unlike readiness.
    bool peer_closed() const noexcept { return peer_closed_; }
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
    void on_io_events(std::uint32_t events) noexcept override;
    bool ready(bool for_read) const noexcept { return for_read ? readable_ : writable_; }
    waiter*& slot(bool for_read) noexcept { return for_read ? reader_ : writer_; }

    int fd_ = -1;
    event_loop* loop_ = nullptr;  // where fd_ is registered
    waiter* reader_ = nullptr;    // the task waiting for readability, if any
    waiter* writer_ = nullptr;
    bool readable_ = true;        // no EAGAIN seen since the last readiness edge: worth trying
    bool writable_ = true;
    bool peer_closed_ = false;    // EPOLLRDHUP/HUP/ERR seen; never cleared
    bool owned_ = true;           // close() closes fd_ (false: a borrowed fd)
};

inline fd_watch::waiter fd_watch::readiness::operator co_await() const noexcept {
    return waiter(*watch, for_read, deadline);
}

}  // namespace corio::detail
