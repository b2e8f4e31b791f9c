// src/reactor/reactor.hpp — what an event loop blocks in: epoll or io_uring, chosen per loop.
//
// A reactor tells registered io_watchers when their fds are ready (events are epoll's bits:
// EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP, which equal poll's) and blocks the loop's
// thread until something is. The io_uring reactor also runs operations submitted to its ring
// (src/reactor/uring_reactor.hpp); the epoll reactor only reports readiness.
// Thread-safety: the loop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "corio/event_loop.hpp"

namespace corio::detail {

class reactor {
public:
    virtual ~reactor() = default;

    virtual io_backend backend() const noexcept = 0;
    /// Registers fd for edge-triggered (or, with edge = false, level-triggered) events; the
    /// watcher must outlive the registration. Throws corio::error naming the failed call.
    virtual void watch(int fd, std::uint32_t events, io_watcher& w, bool edge) = 0;
    /// Changes the events a registered fd is watched for.
    virtual void rewatch(int fd, std::uint32_t events, io_watcher& w, bool edge) = 0;
    /// Ends fd's registration: its watcher hears nothing more (also of events already reaped).
    virtual void unwatch(int fd) noexcept = 0;
    /// fd was closed by its owner while registered: forgets the registration.
    virtual void unwatch_closed(int fd) noexcept = 0;
    /// True when waiting could report something: an fd is registered or an operation is in flight.
    virtual bool busy() const noexcept = 0;
    /// Blocks up to timeout_ms (-1: without limit, 0: not at all) until something is ready, then
    /// tells the watchers (and the operations) what is. A signal cuts the wait short.
    virtual void wait(int timeout_ms) = 0;
    /// Before the loop frees the frames of unfinished tasks: ends every request the kernel still
    /// runs on their memory (a no-op for epoll, which runs none).
    virtual void quiesce() noexcept {}
};

/// The reactor `choice` asks for (io_backend::automatic: CORIO_BACKEND if set, else io_uring
/// when the kernel allows it, else epoll). `wake` hears `wake_fd` (an eventfd) become readable;
/// that registration does not make the reactor busy(). Throws corio::error when the backend
/// asked for cannot be had, naming it and why.
std::unique_ptr<reactor> make_reactor(io_backend choice, io_watcher& wake, int wake_fd);

/// The epoll reactor (src/reactor/epoll_reactor.cpp).
std::unique_ptr<reactor> make_epoll_reactor(io_watcher& wake, int wake_fd);

}  // namespace corio::detail
