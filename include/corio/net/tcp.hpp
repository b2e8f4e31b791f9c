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
// The reading and writing half is basic_stream (net/stream_socket.hpp), shared with unix_stream.
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
#include "corio/net/stream_socket.hpp"
#include "corio/task.hpp"

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

/// The protocol of tcp_stream (net/stream_socket.hpp): its options, its peer, its errors' name.
struct tcp_protocol {
    using options_type = tcp_options;
    using peer_type = endpoint;
    static constexpr const char* name = "TCP";
    static std::string describe(const endpoint& peer) { return peer.to_string(); }
};

extern template class basic_stream<tcp_protocol>;

/// A connected TCP socket: basic_stream's reads and writes (net/stream_socket.hpp), and connect.
class tcp_stream : public basic_stream<tcp_protocol> {
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

private:
    tcp_stream(std::unique_ptr<detail::fd_watch> watch, endpoint peer, tcp_options options) noexcept
        : basic_stream(std::move(watch), peer, options) {}
    friend class tcp_listener;
    static task<tcp_stream> connect_before(endpoint peer, clock::time_point deadline, tcp_options options);
    /// Races connections to `peers` (happy eyeballs): the first that connects; connect_error
    /// listing every failure, or timeout_error once `deadline` passed.
    static task<tcp_stream> race(std::vector<endpoint> peers, std::string name, clock::time_point deadline,
                                 tcp_options options);
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
    tcp_listener(std::unique_ptr<detail::fd_watch> watch, endpoint local)
        : socket_(std::move(watch), local.to_string()), local_(local) {}

    detail::listening_socket socket_;
    endpoint local_;
};

}  // namespace corio::net
