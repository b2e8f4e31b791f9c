// corio/net/tcp.hpp — tcp_stream and tcp_listener: non-blocking TCP on the loop's reactor.
//
// snippet: examples/net.cpp#tcp
//   auto conn = co_await net::tcp_stream::connect(net::endpoint::parse("127.0.0.1", port));
//   co_await conn.write_all("ping");
//   std::size_t n = co_await conn.read_some(buffer);  // 0 at end of stream
//
// Every operation is bounded: a host name's lookup by options.resolve_timeout, connect by
// options.connect_timeout, each read by read_timeout (an idle timeout: no byte for that long),
// each write_all by write_timeout (a progress timeout: no byte accepted by the kernel for that
// long, like nginx's send_timeout, so a slow but steady reader is not cut) and, if given, by an
// absolute deadline of the caller's; all default to finite values and can be changed per stream.
// Expiry throws corio::timeout_error naming the peer.
// Failures throw net::connect_error or net::connection_reset_error naming the peer; other socket
// errors throw corio::connection_error with the errno text.
//
// Cancel safety: connect — the half-open socket is closed. read_some — no data is lost: bytes
// are only taken from the socket (or, on io_uring, from what the ring received) after the wait,
// so a cancelled read consumed nothing. write_all — a prefix of the data may have been sent
// (last_write_sent() says how much; on io_uring the task resumes only once the kernel has
// finished with the buffers); the stream is then in an unknown state and should be closed.
// accept — no connection is lost: on io_uring one the ring took waits for the next accept().
//
// On the io_uring backend (event_loop.hpp) a stream keeps one multishot receive in flight into
// the loop's provided buffers and sends with one request per write, all submitted in the loop's
// one io_uring_enter per iteration; a listener keeps one multishot accept in flight.
// A stream closes its socket on destruction; close() and aclose() (for async_with) do it early.
// Thread-safety: a stream or listener belongs to the loop that created it. Move-only.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corio/detail/fd_watch.hpp"
#include "corio/net/endpoint.hpp"
#include "corio/clock.hpp"
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

struct tcp_options {
    std::chrono::nanoseconds resolve_timeout = std::chrono::seconds(5);  // DNS, for connect(host, ...)
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10); // all addresses together
    std::chrono::nanoseconds read_timeout = std::chrono::seconds(60);   // idle: no byte for this long
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);  // no write progress for this long
    bool no_delay = true;                                               // TCP_NODELAY
    /// Happy eyeballs (RFC 8305): with several addresses, the next attempt starts when the
    /// last one has not connected within this delay (or at once when it failed); the first
    /// to connect wins and the others are cancelled. 0: one address after the other.
    std::chrono::nanoseconds happy_eyeballs_delay = std::chrono::milliseconds(250);
};

class tcp_stream {
public:
    tcp_stream() noexcept = default;

    /// Connects to `peer`; throws connect_error, timeout_error or cancelled_error.
    static task<tcp_stream> connect(endpoint peer, tcp_options options = {});
    /// Resolves `host` (net/resolve.hpp) and tries its addresses in order until one accepts.
    /// Throws dns_error, connect_error (listing every address tried), timeout_error.
    static task<tcp_stream> connect(std::string host, std::uint16_t port, tcp_options options = {});
    /// Connects to the first of `peers` that accepts, all within options.connect_timeout; `name`
    /// ("host:port") is what errors call the peer. For callers that resolve (and cache) themselves.
    /// The addresses are tried with happy eyeballs (options.happy_eyeballs_delay), their
    /// families interleaved (IPv6, IPv4, IPv6, ... when the first is IPv6).
    static task<tcp_stream> connect(std::vector<endpoint> peers, std::string name, tcp_options options = {});

    bool is_open() const noexcept { return watch_ && watch_->is_open(); }
    const endpoint& peer() const noexcept { return peer_; }
    tcp_options& options() noexcept { return options_; }
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
    /// Closes with a reset (RST) instead of FIN: the peer's reads fail with connection_reset_error
    /// instead of seeing an orderly end (for a response that failed mid-body).
    void abort() noexcept;
    /// close() as an awaitable, for async_with.
    task<> aclose();

private:
    tcp_stream(std::unique_ptr<detail::fd_watch> watch, endpoint peer, tcp_options options) noexcept
        : watch_(std::move(watch)), peer_(peer), options_(options) {}
    friend class tcp_listener;
    friend class tls_stream;  // the TLS layer (net/tls.hpp) drives OpenSSL on this socket's fd_watch
    static task<tcp_stream> connect_before(endpoint peer, clock::time_point deadline, tcp_options options);
    /// Races connections to `peers` (happy eyeballs): the first that connects; connect_error
    /// listing every failure, or timeout_error once `deadline` passed.
    static task<tcp_stream> race(std::vector<endpoint> peers, std::string name, clock::time_point deadline,
                                 tcp_options options);
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
    endpoint peer_;
    tcp_options options_;
    std::size_t last_write_sent_ = 0;  // bytes of the current (or last) write_all the kernel took
};

class tcp_listener {
public:
    struct bind_options {
        int backlog = 1024;
        bool reuse_port = false;  // SO_REUSEPORT: several listeners (one per thread) on one port
    };

    /// Binds and listens on `local` (port 0 picks a free port: see local_endpoint()).
    static tcp_listener bind(const endpoint& local, bind_options options);
    static tcp_listener bind(const endpoint& local) { return bind(local, bind_options{}); }

    const endpoint& local_endpoint() const noexcept { return local_; }
    /// Waits for the next connection (until one arrives or the awaiting task is cancelled);
    /// the stream gets `options`.
    task<tcp_stream> accept(tcp_options options = {});
    /// Stops listening: a pending accept() throws connection_error. Idempotent.
    void close() noexcept;
    /// close(), for async_with (never throws, never suspends).
    task<> aclose();

private:
    tcp_listener(std::unique_ptr<detail::fd_watch> watch, endpoint local) noexcept
        : watch_(std::move(watch)), local_(local) {}
    /// As accept4(2) (-1 and errno EAGAIN: none yet), through the ring's multishot accept on io_uring.
    int accept_one(sockaddr_storage& peer, socklen_t& length);

    std::unique_ptr<detail::fd_watch> watch_;
    std::unique_ptr<detail::ring_acceptor, detail::ring_acceptor_release> acceptor_;  // io_uring: made by the first accept
    endpoint local_;
};

}  // namespace corio::net
