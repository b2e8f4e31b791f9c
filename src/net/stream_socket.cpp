#include "corio/net/stream_socket.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "corio/net/tcp.hpp"
#include "corio/sleep.hpp"
#include "corio/net/unix.hpp"
#include "socket_util.hpp"
#include "../reactor/ring_socket.hpp"

namespace corio::net {

namespace detail_socket {

std::unique_ptr<corio::detail::fd_watch> open_socket(int family, int type, const std::string& purpose) {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw connection_error(purpose + ": socket(): " + errno_text(errno));
    return std::make_unique<corio::detail::fd_watch>(fd);
}

corio::detail::uring_reactor* socket_ring() noexcept {
    event_loop* loop = event_loop::current();
    if (loop == nullptr || loop->backend() != io_backend::io_uring) return nullptr;
    auto& ring = static_cast<corio::detail::uring_reactor&>(loop->reactor());
    return ring.buffers() != nullptr ? &ring : nullptr;
}

void read_through_ring(corio::detail::fd_watch& watch) noexcept {
    if (corio::detail::uring_reactor* ring = socket_ring()) {
        watch.unregister();  // the connect's poll: from here on the ring reports arrivals
        watch.receive_through(*ring);
    }
}

task<> connect_socket(corio::detail::fd_watch& watch, const sockaddr* address, socklen_t size,
                      clock::time_point deadline, const std::string& what, clock::duration budget) {
    for (;;) {
        if (::connect(watch.fd(), address, size) == 0) co_return;
        if (errno == EINTR) continue;
        if (errno == EAGAIN && address->sa_family == AF_UNIX) {
            const auto now = current_loop("connect").now();
            if (now >= deadline) throw_timeout(what, budget);
            co_await sleep_until(std::min(deadline, now + std::chrono::milliseconds(10)));
            continue;
        }
        if (errno != EINPROGRESS) throw connect_error(what + " failed: " + errno_text(errno));
        watch.not_writable();
        const bool connected = co_await watch.writable(deadline);
        if (!connected) throw_timeout(what, budget);
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(watch.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) throw connect_error(what + " failed: " + errno_text(error));
        co_return;
    }
}

void throw_timeout(const std::string& what, clock::duration budget) {
    throw timeout_error(what + " timed out after " + format_duration(budget));
}

}  // namespace detail_socket

namespace {

using detail_socket::errno_text;

/// Marks the first `n` bytes of vectors[first, ...) sent: emptied vectors are skipped (first
/// moves past them), a partly sent one starts after its sent prefix. Returns n.
std::size_t consume(iovec* vectors, std::size_t& first, std::size_t n) noexcept {
    for (std::size_t left = n; left > 0;) {
        const std::size_t step = std::min(left, vectors[first].iov_len);
        vectors[first].iov_base = static_cast<char*>(vectors[first].iov_base) + step;
        vectors[first].iov_len -= step;
        left -= step;
        if (vectors[first].iov_len == 0) ++first;
    }
    return n;
}

/// "TCP read from", "Unix write to": what debug mode's deadline check calls an operation.
template <class Protocol>
struct operation_names {
    static inline const std::string read = std::string(Protocol::name) + " read from";
    static inline const std::string write = std::string(Protocol::name) + " write to";
    static inline const std::string sendfile = std::string(Protocol::name) + " sendfile to";
};

}  // namespace

template <class Protocol>
corio::detail::fd_watch& basic_stream<Protocol>::open_watch(const char* operation) const {
    if (!is_open()) throw connection_error(std::string(operation) + ": the stream to " + peer_name() + " is closed");
    return *watch_;
}

template <class Protocol>
void basic_stream<Protocol>::throw_io_error(const char* operation, int error) const {
    const std::string what = std::string(operation) + " " + peer_name();
    if (error == ECONNRESET || error == EPIPE) throw connection_reset_error(what + ": connection reset by peer");
    throw connection_error(what + " failed: " + errno_text(error));
}

template <class Protocol>
task<std::size_t> basic_stream<Protocol>::read_some(std::span<char> buffer) {
    const corio::detail::deadline_check check(operation_names<Protocol>::read.c_str(), options_.read_timeout,
                                              [this] { return peer_name(); });
    corio::detail::fd_watch& watch = open_watch("read");
    for (;;) {
        // The last read ran dry and no readiness edge came since: wait instead of a doomed recv.
        if (watch.must_wait_to_read() && !co_await watch.readable(deadline_after(current_loop("read_some").now(), options_.read_timeout)))
            detail_socket::throw_timeout("read from " + peer_name(), options_.read_timeout);
        const ssize_t n = watch.receive(buffer);
        // A short read drained the socket (or the ring's queue): the next read waits for an edge
        // instead of a doomed recv (edge-triggered epoll, or the ring, reports any later data or FIN).
        if (n > 0 && static_cast<std::size_t>(n) < buffer.size()) watch.not_readable();
        if (n >= 0) co_return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_io_error("read from", errno);
        watch.not_readable();
    }
}

template <class Protocol>
task<> basic_stream<Protocol>::write_all(std::string_view data, clock::time_point deadline) {
    const std::string_view pieces[] = {data};
    co_await write_all(std::span<const std::string_view>(pieces), deadline);
}

template <class Protocol>
task<> basic_stream<Protocol>::write_all(std::span<const std::string_view> pieces, clock::time_point deadline) {
    const corio::detail::deadline_check check(operation_names<Protocol>::write.c_str(),
                                              std::min(options_.write_timeout, deadline - current_loop("write").now()),
                                              [this] { return peer_name(); });
    corio::detail::fd_watch& watch = open_watch("write");
    constexpr std::size_t inline_count = 4;
    std::array<iovec, inline_count> inline_vectors;
    std::vector<iovec> more_vectors(pieces.size() > inline_count ? pieces.size() : 0);
    iovec* const vectors = more_vectors.empty() ? inline_vectors.data() : more_vectors.data();
    std::size_t count = 0;
    for (const std::string_view piece : pieces)
        if (!piece.empty()) vectors[count++] = {const_cast<char*>(piece.data()), piece.size()};
    std::size_t first = 0;  // vectors[first, count) remain; vectors[first] may be partly sent
    std::size_t sent = 0;
    last_write_sent_ = 0;
    while (first < count) {
        msghdr message{};
        message.msg_iov = vectors + first;
        message.msg_iovlen = count - first;
        if (corio::detail::uring_reactor* ring = watch.ring()) {  // one request, submitted by the loop's next wait
            const auto stalled_at = deadline_after(current_loop("write_all").now(), options_.write_timeout);
            corio::detail::ring_operation send(*ring, std::min(deadline, stalled_at));
            if (message.msg_iovlen == 1)
                io_uring_prep_send(&send.request(), watch.fd(), vectors[first].iov_base, vectors[first].iov_len, MSG_NOSIGNAL);
            else
                io_uring_prep_sendmsg(&send.request(), watch.fd(), &message, MSG_NOSIGNAL);
            const int result = co_await send;
            // Whatever stopped it, a send reports what it sent: last_write_sent() stays exact.
            sent += consume(vectors, first, static_cast<std::size_t>(std::max(result, 0)));
            last_write_sent_ = sent;
            throw_if_send_failed(send, result, stalled_at, deadline);
            continue;
        }
        const ssize_t n = ::sendmsg(watch.fd(), &message, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += consume(vectors, first, static_cast<std::size_t>(n));
            last_write_sent_ = sent;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_io_error("write to", errno);
        co_await wait_writable(watch, deadline);
    }
}

template <class Protocol>
task<> basic_stream<Protocol>::send_file(int file_fd, std::uint64_t offset, std::uint64_t count, clock::time_point deadline) {
    const corio::detail::deadline_check check(operation_names<Protocol>::sendfile.c_str(),
                                              std::min(options_.write_timeout, deadline - current_loop("write").now()),
                                              [this] { return peer_name(); });
    corio::detail::fd_watch& watch = open_watch("sendfile");
    auto position = static_cast<off_t>(offset);
    while (count > 0) {
        const ssize_t n = ::sendfile(watch.fd(), file_fd, &position, static_cast<std::size_t>(std::min<std::uint64_t>(count, 1u << 30)));
        if (n > 0) {
            count -= static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) throw connection_error("sendfile to " + peer_name() + ": the file ended " + std::to_string(count) + " bytes early");
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_io_error("sendfile to", errno);
        co_await wait_writable(watch, deadline);
    }
}

template <class Protocol>
task<> basic_stream<Protocol>::wait_writable(corio::detail::fd_watch& watch, clock::time_point deadline) {
    watch.not_writable();
    const auto stalled_at = deadline_after(current_loop("write_all").now(), options_.write_timeout);
    if (co_await watch.writable(std::min(deadline, stalled_at))) co_return;
    throw_write_timeout(stalled_at, deadline);
}

template <class Protocol>
void basic_stream<Protocol>::throw_write_timeout(clock::time_point stalled_at, clock::time_point deadline) const {
    if (stalled_at <= deadline)
        throw timeout_error("write to " + peer_name() + " made no progress for " + format_duration(options_.write_timeout));
    throw timeout_error("write to " + peer_name() + " did not finish by its deadline");
}

template <class Protocol>
void basic_stream<Protocol>::throw_if_send_failed(const corio::detail::ring_operation& send, int result,
                                                  clock::time_point stalled_at, clock::time_point deadline) const {
    if (send.cancelled() || (send.expired() && corio::detail::current_task->cancel_pending())) throw cancelled_error("write cancelled");
    if (result > 0) return;
    if (send.expired()) throw_write_timeout(stalled_at, deadline);
    if (result != 0 && result != -EINTR && result != -EAGAIN) throw_io_error("write to", -result);
}

template <class Protocol>
bool basic_stream<Protocol>::is_quiet() noexcept {
    if (!is_open() || watch_->peer_closed() || watch_->holds_unread()) return false;
    if (watch_->known_quiet() || !watch_->maybe_readable()) return true;
    char byte;
    const ssize_t n = ::recv(watch_->fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch_->not_readable();
        return true;
    }
    return false;  // data nobody asked for, end of stream, or an error: not reusable
}

template <class Protocol>
void basic_stream<Protocol>::shutdown_write() {
    if (::shutdown(open_watch("shutdown").fd(), SHUT_WR) != 0) throw_io_error("shutdown of", errno);
}

template <class Protocol>
void basic_stream<Protocol>::close() noexcept {
    if (watch_) watch_->close();
}

template <class Protocol>
void basic_stream<Protocol>::abort() noexcept {
    if (!is_open()) return;
    const linger reset_on_close{1, 0};
    ::setsockopt(watch_->fd(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
    close();
}

template <class Protocol>
task<> basic_stream<Protocol>::aclose() {
    close();
    co_return;
}

template class basic_stream<tcp_protocol>;
template class basic_stream<unix_protocol>;

}  // namespace corio::net

namespace corio::detail {

task<accepted_socket> listening_socket::accept() {
    if (!is_open()) throw connection_error("accept on " + name_ + ": the listener is closed");
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        const int fd = accept_one(peer, length);
        if (fd >= 0) {
            auto stream_watch = std::make_unique<fd_watch>(fd);
            if (acceptor_) stream_watch->receive_through(acceptor_->ring());
            co_return accepted_socket(std::move(stream_watch), peer, length);
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == ENOTCONN) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw connection_error("accept on " + name_ + " failed: " + net::detail_socket::errno_text(errno));
        watch_->not_readable();
        co_await watch_->readable();
    }
}

int listening_socket::accept_one(sockaddr_storage& peer, socklen_t& length) {
    auto* address = reinterpret_cast<sockaddr*>(&peer);
    if (!acceptor_) {
        uring_reactor* ring = net::detail_socket::socket_ring();
        if (ring == nullptr) return ::accept4(watch_->fd(), address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        acceptor_.reset(new ring_acceptor(*ring, watch_->fd(), watch_->feed_from_ring()));
    }
    const int fd = acceptor_->accept();
    if (fd >= 0 && ::getpeername(fd, address, &length) != 0) {  // a multishot accept reports no address
        const int failure = errno;  // ENOTCONN: reset before we looked
        ::close(fd);
        errno = failure;
        return -1;
    }
    return fd;
}

void listening_socket::close() noexcept {
    acceptor_.reset();  // closes the connections it had taken
    if (watch_) watch_->close();
}

}  // namespace corio::detail
