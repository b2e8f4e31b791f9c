// corio/net/stream_socket.hpp — basic_stream: the connected byte stream TCP and Unix-domain
// sockets share (net/tcp.hpp, net/unix.hpp), and the listening socket under their listeners.
//
// A basic_stream<Protocol> owns one connected, non-blocking SOCK_STREAM socket registered with
// its loop; Protocol (tcp_protocol, unix_protocol) gives its options type (each holding
// read_timeout and write_timeout), its peer type and the name its errors use ("TCP", "Unix").
// Every read is bounded by options().read_timeout (an idle timeout: no byte for that long), every
// write_all by options().write_timeout (a progress timeout: no byte accepted by the kernel for
// that long) and, if given, by an absolute deadline of the caller's. Expiry throws
// corio::timeout_error naming the peer; a reset throws net::connection_reset_error; other socket
// errors throw corio::connection_error with the errno text.
//
// Cancel safety: read_some — no data is lost: bytes are only taken from the socket (or, on
// io_uring, from what the ring received) after the wait, so a cancelled read consumed nothing.
// write_all and send_file — a prefix of the data may have been sent (last_write_sent() says how
// much for write_all; on io_uring the task resumes only once the kernel has finished with the
// buffers); the stream is then in an unknown state and should be closed.
// detail::listening_socket::accept (the listeners' accept) — no connection is lost: on io_uring one the ring took waits
// for the next accept().
//
// On the io_uring backend a stream keeps one multishot receive in flight into the loop's
// provided buffers and sends with one request per write; a listening socket keeps one multishot
// accept in flight. A stream closes its socket on destruction; close() and aclose() (for
// async_with) do it early. Thread-safety: a stream belongs to the loop that created it. Move-only.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "corio/clock.hpp"
#include "corio/detail/fd_watch.hpp"
#include "corio/net/errors.hpp"
#include "corio/task.hpp"

namespace corio::detail {
class ring_acceptor;
class ring_operation;
struct ring_acceptor_release {
    void operator()(ring_acceptor* acceptor) const noexcept;  // src/reactor/ring_socket.cpp
};
}  // namespace corio::detail

namespace corio::net {

class tls_stream;

/// The stream half of a connected socket; tcp_stream and unix_stream add how they connect.
/// Its members are defined in src/net/stream_socket.cpp for the two protocols.
template <class Protocol>
class basic_stream {
public:
    using options_type = typename Protocol::options_type;
    using peer_type = typename Protocol::peer_type;

    basic_stream() noexcept = default;

    bool is_open() const noexcept { return watch_ && watch_->is_open(); }
    /// Who this stream talks to: the address (TCP) or the socket's path (Unix).
    const peer_type& peer() const noexcept { return peer_; }
    options_type& options() noexcept { return options_; }
    /// The socket, for options corio does not wrap (-1 when closed). Do not close it yourself.
    int native_handle() const noexcept { return watch_ ? watch_->fd() : -1; }

    /// Reads up to buffer.size() bytes; returns 0 at end of stream.
    task<std::size_t> read_some(std::span<char> buffer);
    /// Writes all of `data`, failing with timeout_error when no byte could be sent for
    /// options().write_timeout or when `deadline` passes.
    task<> write_all(std::string_view data, clock::time_point deadline = clock::time_point::max());
    /// Writes the pieces in order with vectored sends (sendmsg: no copy into one buffer); the
    /// pieces and the span must stay valid until the write completes. Bounded like the above.
    task<> write_all(std::span<const std::string_view> pieces, clock::time_point deadline = clock::time_point::max());
    /// How many bytes of the last write_all the kernel took: all of them once it returned; after
    /// it threw (cancelled, timed out, reset), the prefix that went out.
    std::size_t last_write_sent() const noexcept { return last_write_sent_; }
    /// Sends `count` bytes of the open file `file_fd` from `offset` with sendfile(2), without
    /// copying them through user space; bounded and cancel-safe like write_all. Throws
    /// connection_error if the file ends before `count` bytes (it shrank while being sent).
    task<> send_file(int file_fd, std::uint64_t offset, std::uint64_t count,
                     clock::time_point deadline = clock::time_point::max());
    /// For a pooled keep-alive connection about to be reused: true if the peer has neither sent
    /// a byte nor closed since the last read. Costs no syscall when the loop has seen no
    /// readiness since the last read ran dry, else one non-blocking peek.
    bool is_quiet() noexcept;
    /// True once the loop has seen the peer close its side (or the connection fail).
    bool peer_closed() const noexcept { return watch_ && watch_->peer_closed(); }
    /// Sends FIN: the peer reads end of stream; reading stays possible.
    void shutdown_write();
    /// Closes the socket now (idempotent).
    void close() noexcept;
    /// Closes with a reset instead of an orderly end (for a response that failed mid-body): on
    /// TCP an RST, so the peer's reads fail with connection_reset_error. A Unix socket has no
    /// reset: its peer reads end of stream (an error only if bytes it sent were left unread here).
    void abort() noexcept;
    /// close() as an awaitable, for async_with.
    task<> aclose();

protected:
    basic_stream(std::unique_ptr<detail::fd_watch> watch, peer_type peer, options_type options) noexcept
        : watch_(std::move(watch)), peer_(std::move(peer)), options_(std::move(options)) {}

private:
    friend class tls_stream;  // the TLS layer (net/tls.hpp) drives OpenSSL on this socket's fd_watch
    /// What errors call the peer ("127.0.0.1:8080", "/run/app.sock").
    std::string peer_name() const { return Protocol::describe(peer_); }
    [[noreturn]] void throw_io_error(const char* operation, int error) const;
    /// Waits until the socket may take more bytes: throws timeout_error after write_timeout or
    /// at `deadline`, whichever comes first.
    task<> wait_writable(detail::fd_watch& watch, clock::time_point deadline);
    /// After a send through the io_uring reactor: throws cancelled_error if the task was
    /// cancelled, timeout_error if the send expired with nothing sent, connection errors for a
    /// failure; returns if the write goes on.
    void throw_if_send_failed(const detail::ring_operation& send, int result, clock::time_point stalled_at,
                              clock::time_point deadline) const;
    [[noreturn]] void throw_write_timeout(clock::time_point stalled_at, clock::time_point deadline) const;
    detail::fd_watch& open_watch(const char* operation) const;

    std::unique_ptr<detail::fd_watch> watch_;  // pinned registration; null when default/moved-from
    peer_type peer_;
    options_type options_;
    std::size_t last_write_sent_ = 0;  // bytes of the current (or last) write_all the kernel took
};

}  // namespace corio::net

namespace corio::detail {

/// A connection accept() took: its socket, registered with the loop (reading through the ring
/// on io_uring), and the peer's address as the kernel reported it.
struct accepted_socket {
    accepted_socket(std::unique_ptr<fd_watch> w, const sockaddr_storage& p, socklen_t n) noexcept
        : watch(std::move(w)), peer(p), peer_size(n) {}
    std::unique_ptr<fd_watch> watch;
    sockaddr_storage peer;
    socklen_t peer_size;
};

/// A listening socket of any family, under tcp_listener and unix_listener.
class listening_socket {
public:
    listening_socket() noexcept = default;
    /// Takes `watch`, bound and listening; `name` is what errors call it ("127.0.0.1:8080").
    listening_socket(std::unique_ptr<fd_watch> watch, std::string name) noexcept
        : watch_(std::move(watch)), name_(std::move(name)) {}

    bool is_open() const noexcept { return watch_ && watch_->is_open(); }
    const std::string& name() const noexcept { return name_; }
    /// Waits for the next connection, until one arrives or the awaiting task is cancelled.
    /// Throws connection_error naming the listener when it is (or gets) closed or accept fails.
    task<accepted_socket> accept();
    /// Stops listening: a pending accept() throws connection_error. Idempotent.
    void close() noexcept;

private:
    /// As accept4(2) (-1 and errno EAGAIN: none yet), through the ring's multishot accept on io_uring.
    int accept_one(sockaddr_storage& peer, socklen_t& length);

    std::unique_ptr<fd_watch> watch_;
    std::unique_ptr<ring_acceptor, ring_acceptor_release> acceptor_;  // io_uring: made by the first accept
    std::string name_;
};

}  // namespace corio::detail
