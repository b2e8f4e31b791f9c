#include "corio/net/udp.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "corio/detail/debug_hooks.hpp"
#include "socket_util.hpp"

namespace corio::net {
namespace {

using detail_socket::errno_text;

/// The address the kernel bound `fd` to.
endpoint bound_endpoint(int fd) {
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    return endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), length);
}

}  // namespace

udp_socket udp_socket::bind(const endpoint& local, udp_options options) {
    const std::string what = "UDP bind to " + local.to_string();
    auto watch = detail_socket::open_socket(local.family(), SOCK_DGRAM, what);
    const int one = 1;
    if (options.reuse_address) ::setsockopt(watch->fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(watch->fd(), local.data(), local.size()) != 0) throw connection_error(what + " failed: " + errno_text(errno));
    const endpoint bound = bound_endpoint(watch->fd());
    return udp_socket(std::move(watch), bound, endpoint(), options);
}

udp_socket udp_socket::connect(const endpoint& peer, udp_options options) {
    const std::string what = "UDP connect to " + peer.to_string();
    auto watch = detail_socket::open_socket(peer.family(), SOCK_DGRAM, what);
    if (::connect(watch->fd(), peer.data(), peer.size()) != 0) throw connect_error(what + " failed: " + errno_text(errno));
    const endpoint bound = bound_endpoint(watch->fd());
    return udp_socket(std::move(watch), bound, peer, options);
}

detail::fd_watch& udp_socket::open_watch(const char* operation) const {
    if (!is_open()) throw connection_error(std::string(operation) + ": the UDP socket " + name() + " is closed");
    return *watch_;
}

void udp_socket::throw_io_error(const std::string& what, int error) const {
    if (error == ECONNREFUSED) throw connect_error(what + " failed: " + errno_text(error) + " (nobody listens there)");
    throw connection_error(what + " failed: " + errno_text(error));
}

task<> udp_socket::send_to(std::string_view data, endpoint peer) { co_await send_datagram(data, &peer); }

task<> udp_socket::send(std::string_view data) {
    if (!is_connected()) throw connection_error("UDP send on " + name() + ": the socket is not connected (use send_to)");
    co_await send_datagram(data, nullptr);
}

task<> udp_socket::send_datagram(std::string_view data, const endpoint* to) {
    const std::string peer = to != nullptr ? to->to_string() : name();
    const corio::detail::deadline_check check("UDP send to", options_.send_timeout, [&] { return peer; });
    detail::fd_watch& watch = open_watch("send");
    const auto deadline = deadline_after(current_loop("send").now(), options_.send_timeout);
    for (;;) {
        const ssize_t n = ::sendto(watch.fd(), data.data(), data.size(), MSG_NOSIGNAL, to != nullptr ? to->data() : nullptr,
                                   to != nullptr ? to->size() : 0);
        if (n >= 0) co_return;  // a datagram goes whole
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) throw_io_error("send to " + peer, errno);
        watch.not_writable();
        const bool writable = co_await watch.writable(deadline);
        if (!writable) detail_socket::throw_timeout("send to " + peer, options_.send_timeout);
    }
}

task<received_datagram> udp_socket::receive(std::span<char> buffer) {
    if (!is_connected()) throw connection_error("UDP receive on " + name() + ": the socket is not connected (use receive_from)");
    co_return co_await receive_from(buffer);
}

task<received_datagram> udp_socket::receive_from(std::span<char> buffer) {
    const corio::detail::deadline_check check("UDP receive on", options_.receive_timeout, [this] { return name(); });
    detail::fd_watch& watch = open_watch("receive");
    const auto deadline = deadline_after(current_loop("receive").now(), options_.receive_timeout);
    for (;;) {
        sockaddr_storage sender{};
        iovec vector{buffer.data(), buffer.size()};
        msghdr message{};
        message.msg_name = &sender;
        message.msg_namelen = sizeof sender;
        message.msg_iov = &vector;
        message.msg_iovlen = 1;
        // MSG_TRUNC: the datagram's real length, and msg_flags says whether it was cut.
        const ssize_t n = ::recvmsg(watch.fd(), &message, MSG_TRUNC);
        if (n >= 0) {
            received_datagram got;
            got.size = std::min(static_cast<std::size_t>(n), buffer.size());
            got.sender = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&sender), message.msg_namelen);
            got.truncated = (message.msg_flags & MSG_TRUNC) != 0;
            co_return got;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_io_error("receive on " + name(), errno);
        watch.not_readable();
        const bool readable = co_await watch.readable(deadline);
        if (!readable) detail_socket::throw_timeout("receive on " + name(), options_.receive_timeout);
    }
}

void udp_socket::close() noexcept {
    if (watch_) watch_->close();
}

task<> udp_socket::aclose() {
    close();
    co_return;
}

}  // namespace corio::net
