// src/net/socket_util.hpp — what the socket types of net/ (tcp, unix, udp) share: opening a
// registered socket, the loop's ring, and errno and timeout messages.
// Thread-safety: the current loop's thread.
#pragma once

#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "corio/clock.hpp"
#include "corio/detail/fd_watch.hpp"
#include "corio/error.hpp"
#include "corio/task.hpp"
#include "../reactor/uring_reactor.hpp"

// (Not corio::net::detail: inside corio::net that name would hide corio::detail.)
namespace corio::net::detail_socket {

inline std::string errno_text(int error) { return std::strerror(error); }

/// A non-blocking, close-on-exec socket of `family` and `type`, registered with the current
/// loop; throws connection_error naming `purpose` and errno.
std::unique_ptr<corio::detail::fd_watch> open_socket(int family, int type, const std::string& purpose);

/// The current loop's ring, if it runs on io_uring and its provided buffers could be set up:
/// stream sockets then receive, send and accept through it.
corio::detail::uring_reactor* socket_ring() noexcept;

/// A stream socket that has just connected reads through the ring from now on, if there is one
/// (its connect's poll registration ends: the ring reports arrivals).
void read_through_ring(corio::detail::fd_watch& watch) noexcept;

/// Connects the stream socket of `watch` to `address` by `deadline`: waits for a TCP connect in
/// progress; retries a Unix connect refused with EAGAIN (the listener's backlog is full: Linux
/// cannot report when it has room) every 10 ms. Throws connect_error "<what> failed: <errno
/// text>", timeout_error "<what> timed out after <budget>", cancelled_error (the caller closes
/// the half-open socket). `what` must outlive the await.
task<> connect_socket(corio::detail::fd_watch& watch, const sockaddr* address, socklen_t size,
                      clock::time_point deadline, const std::string& what, clock::duration budget);

/// "connect to X timed out after 5s".
[[noreturn]] void throw_timeout(const std::string& what, clock::duration budget);

}  // namespace corio::net::detail_socket
