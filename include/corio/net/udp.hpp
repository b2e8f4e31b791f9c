// corio/net/udp.hpp — udp_socket: UDP datagrams (IPv4 and IPv6) on the loop's reactor.
//
// snippet: examples/net.cpp#udp
//   auto metrics = net::udp_socket::connect(statsd);  // no handshake: fixes the peer
//   co_await metrics.send("requests:1|c");            // one datagram, whole or not at all
//   std::array<char, 512> packet;
//   net::received_datagram got = co_await collector.receive_from(packet);
//   std::string_view metric(packet.data(), got.size);  // got.sender: who sent it
//   if (got.truncated) std::printf("a metric longer than %zu bytes was cut\n", packet.size());
//
// A socket is bound (bind: receive from anyone, send_to anyone) or connected (connect: send and
// receive only with one peer; the kernel drops datagrams from others and reports the peer's ICMP
// "port unreachable" as connect_error on the next call). A datagram goes out whole or not at all.
// receive_from() copies the next datagram into the caller's buffer and reports its sender; a
// datagram longer than the buffer is cut and says so (received_datagram::truncated, from the
// kernel's MSG_TRUNC): the rest of it is lost, as with recvfrom(2).
// Every wait is bounded: a receive by options().receive_timeout (60 s by default: no datagram for
// that long), a send by options().send_timeout (the send buffer stays full that long); expiry
// throws corio::timeout_error naming the socket. Failures throw corio::connection_error naming
// the peer (or, for a receive on a bound socket, the local endpoint) with the errno text
// ("send to 10.0.0.1:8125 failed: Message too long"); net::connect_error for a refused peer.
//
// Cancel safety: receive_from/receive — no datagram is lost: one is only taken from the socket
// after the wait, so a cancelled receive consumed nothing. send_to/send — the datagram was sent
// whole or not at all (the await throws before it or returns after it).
// Both backends wait for readiness through detail::fd_watch (epoll, or a poll on the io_uring
// ring); datagrams are read and sent with plain recvmsg/sendto, not through ring requests. Once
// the loop has seen an error on the socket (the ICMP error of a connected one: fd_watch keeps it
// as a hang-up, and readable() no longer waits), a receive polls every millisecond instead.
// The socket closes on destruction; close() and aclose() (for async_with) do it early.
// Thread-safety: a socket belongs to the loop that created it. Move-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "corio/detail/fd_watch.hpp"
#include "corio/net/endpoint.hpp"
#include "corio/net/errors.hpp"
#include "corio/task.hpp"

namespace corio::net {

struct udp_options {
    std::chrono::nanoseconds receive_timeout = std::chrono::seconds(60);  // no datagram for this long
    std::chrono::nanoseconds send_timeout = std::chrono::seconds(10);     // the send buffer full this long
    bool reuse_address = false;                                           // SO_REUSEADDR on bind
};

/// What receive_from() and receive() return.
struct received_datagram {
    std::size_t size = 0;    // bytes copied into the buffer
    endpoint sender;         // who sent it
    bool truncated = false;  // the datagram was longer than the buffer: the rest is lost
};

class udp_socket {
public:
    udp_socket() noexcept = default;

    /// A socket bound to `local` (port 0 picks a free port: see local_endpoint()). Throws
    /// connection_error naming `local` with the errno text.
    static udp_socket bind(const endpoint& local, udp_options options = {});
    /// A socket of `peer`'s family bound to a free port and connected to `peer` (no packet is
    /// sent). Throws connect_error naming `peer` (no route, ...).
    static udp_socket connect(const endpoint& peer, udp_options options = {});

    bool is_open() const noexcept { return watch_ && watch_->is_open(); }
    bool is_connected() const noexcept { return peer_.family() != 0; }
    const endpoint& local_endpoint() const noexcept { return local_; }
    /// The connected peer (an endpoint of family 0 when not connected).
    const endpoint& peer() const noexcept { return peer_; }
    udp_options& options() noexcept { return options_; }
    /// The socket, for options corio does not wrap (-1 when closed). Do not close it yourself.
    int native_handle() const noexcept { return watch_ ? watch_->fd() : -1; }

    /// Sends `data` as one datagram to `peer`.
    task<> send_to(std::string_view data, endpoint peer);
    /// Waits for the next datagram (at most options().receive_timeout) and copies it into `buffer`.
    task<received_datagram> receive_from(std::span<char> buffer);
    /// Connected mode: sends `data` as one datagram to peer().
    task<> send(std::string_view data);
    /// Connected mode: the next datagram from peer(), bounded like receive_from().
    task<received_datagram> receive(std::span<char> buffer);

    /// Closes the socket now (idempotent); a pending receive throws connection_error.
    void close() noexcept;
    /// close() as an awaitable, for async_with.
    task<> aclose();

private:
    udp_socket(std::unique_ptr<detail::fd_watch> watch, endpoint local, endpoint peer, udp_options options) noexcept
        : watch_(std::move(watch)), local_(local), peer_(peer), options_(options) {
        watch_->errors_are_transient();  // an ICMP error fails one receive, then reads wait again
    }
    /// Sends one datagram, to `to` (null: the connected peer).
    task<> send_datagram(std::string_view data, const endpoint* to);
    detail::fd_watch& open_watch(const char* operation) const;
    /// What errors call this socket: the peer when connected, else the local endpoint.
    std::string name() const { return (is_connected() ? peer_ : local_).to_string(); }
    [[noreturn]] void throw_io_error(const std::string& what, int error) const;

    std::unique_ptr<detail::fd_watch> watch_;  // pinned registration; null when default/moved-from
    endpoint local_;                           // as bound (the port the kernel picked)
    endpoint peer_;                            // family 0 unless connected
    udp_options options_;
};

}  // namespace corio::net
