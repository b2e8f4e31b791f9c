#include "corio/net/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "corio/net/resolve.hpp"
#include "corio/queue.hpp"
#include "corio/task_group.hpp"
#include "corio/wait_for.hpp"
#include "../reactor/ring_socket.hpp"

namespace corio::net {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

/// A non-blocking, close-on-exec socket of `family`, registered with the current loop.
std::unique_ptr<detail::fd_watch> open_socket(int family, const std::string& purpose) {
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw connection_error(purpose + ": socket(): " + errno_text(errno));
    return std::make_unique<detail::fd_watch>(fd);
}

/// The current loop's ring, if it runs on io_uring and its provided buffers could be set up:
/// sockets then receive, send and accept through it.
detail::uring_reactor* socket_ring() noexcept {
    event_loop* loop = event_loop::current();
    if (loop == nullptr || loop->backend() != io_backend::io_uring) return nullptr;
    auto& ring = static_cast<detail::uring_reactor&>(loop->reactor());
    return ring.buffers() != nullptr ? &ring : nullptr;
}

void set_no_delay(int fd, bool on) {
    const int value = on ? 1 : 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value);
}

[[noreturn]] void throw_timeout(const std::string& what, clock::duration budget) {
    throw timeout_error(what + " timed out after " + format_duration(budget));
}

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

/// RFC 8305 §4: the addresses with their families alternating, starting with the first's.
std::vector<endpoint> interleave_families(const std::vector<endpoint>& peers) {
    std::vector<endpoint> first, other;
    for (const endpoint& p : peers) (p.family() == peers.front().family() ? first : other).push_back(p);
    std::vector<endpoint> out;
    for (std::size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
        if (i < first.size()) out.push_back(first[i]);
        if (i < other.size()) out.push_back(other[i]);
    }
    return out;
}

/// How one racing attempt ended (a constructor, not an aggregate: it crosses a co_await).
struct attempt_outcome {
    attempt_outcome(std::optional<tcp_stream> s, std::string why, bool expired)
        : stream(std::move(s)), failure(std::move(why)), timed_out(expired) {}
    std::optional<tcp_stream> stream;  // set iff it connected
    std::string failure;
    bool timed_out;
};

}  // namespace

task<tcp_stream> tcp_stream::connect(endpoint peer, tcp_options options) {
    return connect_before(peer, current_loop("connect").now() + options.connect_timeout, options);
}

task<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port, tcp_options options) {
    const corio::detail::deadline_check check("TCP connect to", options.resolve_timeout + options.connect_timeout,
                                       [&] { return host + ":" + std::to_string(port); });
    auto endpoints = co_await resolve(host, port, {.timeout = options.resolve_timeout});
    co_return co_await connect(std::move(endpoints), host + ":" + std::to_string(port), options);
}

task<tcp_stream> tcp_stream::connect(std::vector<endpoint> peers, std::string name, tcp_options options) {
    const corio::detail::deadline_check check("TCP connect to", options.connect_timeout, [&] { return name; });
    const auto deadline = current_loop("connect").now() + options.connect_timeout;
    if (peers.size() == 1 && peers.front().to_string() == name)  // a numeric host: its own error says it all
        co_return co_await connect_before(peers.front(), deadline, options);
    if (peers.empty()) throw connect_error("connect to " + name + " failed: no address");
    co_return co_await race(interleave_families(peers), std::move(name), deadline, options);
}

task<tcp_stream> tcp_stream::race(std::vector<endpoint> peers, std::string name, clock::time_point deadline,
                                  tcp_options options) {
    corio::queue<attempt_outcome> finished(peers.size());  // outlives the group: every attempt reports here
    std::vector<join_handle<void>> attempts;
    std::string failures;
    bool timed_out = false;
    const auto attempt = [](endpoint peer, clock::time_point until, tcp_options o, corio::queue<attempt_outcome>* out) -> task<> {
        std::optional<tcp_stream> stream;
        std::string failure;
        bool expired = false;
        try {
            stream.emplace(co_await connect_before(peer, until, o));
        } catch (const connect_error& e) {
            failure = e.what();
        } catch (const timeout_error& e) {
            failure = e.what();
            expired = true;
        }
        attempt_outcome outcome(std::move(stream), std::move(failure), expired);
        co_await out->push(std::move(outcome));  // room for every attempt: never waits
    };
    // The group's body never throws (a group would wrap the error): it returns nothing instead.
    const auto body = [&](task_group& tg) -> task<std::optional<tcp_stream>> {
        const auto start_next = [&] { attempts.push_back(tg.spawn(attempt, peers[attempts.size()], deadline, options, &finished)); };
        start_next();
        for (std::size_t failed = 0; failed < peers.size();) {
            std::optional<attempt_outcome> done;
            if (attempts.size() < peers.size() && options.happy_eyeballs_delay.count() > 0) {
                try {
                    attempt_outcome got = co_await wait_for(finished.pop(), options.happy_eyeballs_delay);
                    done.emplace(std::move(got));
                } catch (const timeout_error&) {  // the latest attempt is slow: race the next one
                }
            } else {
                attempt_outcome got = co_await finished.pop();
                done.emplace(std::move(got));
            }
            if (!done) {
                start_next();
                continue;
            }
            if (done->stream) {
                for (const join_handle<void>& a : attempts) a.cancel();  // the losers close their sockets
                co_return std::move(done->stream);
            }
            failures += (failures.empty() ? "" : "; ") + done->failure;
            timed_out = timed_out || done->timed_out;
            ++failed;
            if (attempts.size() < peers.size()) start_next();  // a failure starts the next at once
        }
        co_return std::nullopt;
    };
    std::optional<tcp_stream> winner = co_await with_task_group(body);
    if (winner) co_return std::move(*winner);
    if (timed_out) throw_timeout("connect to " + name, options.connect_timeout);
    throw connect_error("connect to " + name + " failed: " + failures);
}

task<tcp_stream> tcp_stream::connect_before(endpoint peer, clock::time_point deadline, tcp_options options) {
    const corio::detail::deadline_check check("TCP connect to", deadline - current_loop("connect").now(), [&] { return peer.to_string(); });
    const std::string what = "connect to " + peer.to_string();
    auto watch = open_socket(peer.family(), what);
    set_no_delay(watch->fd(), options.no_delay);
    if (::connect(watch->fd(), peer.data(), peer.size()) != 0) {
        if (errno != EINPROGRESS) throw connect_error(what + " failed: " + errno_text(errno));
        watch->not_writable();
        if (!co_await watch->writable(deadline)) throw_timeout(what, options.connect_timeout);
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(watch->fd(), SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) throw connect_error(what + " failed: " + errno_text(error));
    }
    if (detail::uring_reactor* ring = socket_ring()) {
        watch->unregister();  // the connect's poll: from here on the ring reports arrivals
        watch->receive_through(*ring);
    }
    co_return tcp_stream(std::move(watch), peer, options);
}

detail::fd_watch& tcp_stream::open_watch(const char* operation) const {
    if (!is_open()) throw connection_error(std::string(operation) + ": the stream to " + peer_.to_string() + " is closed");
    return *watch_;
}

void tcp_stream::throw_io_error(const char* operation, int error) const {
    const std::string what = std::string(operation) + " " + peer_.to_string();
    if (error == ECONNRESET || error == EPIPE) throw connection_reset_error(what + ": connection reset by peer");
    throw connection_error(what + " failed: " + errno_text(error));
}

task<std::size_t> tcp_stream::read_some(std::span<char> buffer) {
    const corio::detail::deadline_check check("TCP read from", options_.read_timeout, [this] { return peer_.to_string(); });
    detail::fd_watch& watch = open_watch("read");
    for (;;) {
        // The last read ran dry and no readiness edge came since: wait instead of a doomed recv.
        if (watch.must_wait_to_read() && !co_await watch.readable(current_loop("read_some").now() + options_.read_timeout))
            throw_timeout("read from " + peer_.to_string(), options_.read_timeout);
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

task<> tcp_stream::write_all(std::string_view data, clock::time_point deadline) {
    const std::string_view pieces[] = {data};
    co_await write_all(std::span<const std::string_view>(pieces), deadline);
}

task<> tcp_stream::write_all(std::span<const std::string_view> pieces, clock::time_point deadline) {
    const corio::detail::deadline_check check("TCP write to", std::min(options_.write_timeout, deadline - current_loop("write").now()),
                                       [this] { return peer_.to_string(); });
    detail::fd_watch& watch = open_watch("write");
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
        if (detail::uring_reactor* ring = watch.ring()) {  // one request, submitted by the loop's next wait
            const auto stalled_at = current_loop("write_all").now() + options_.write_timeout;
            detail::ring_operation send(*ring, std::min(deadline, stalled_at));
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

task<> tcp_stream::send_file(int file_fd, std::uint64_t offset, std::uint64_t count, clock::time_point deadline) {
    const corio::detail::deadline_check check("TCP sendfile to", std::min(options_.write_timeout, deadline - current_loop("write").now()),
                                       [this] { return peer_.to_string(); });
    detail::fd_watch& watch = open_watch("sendfile");
    auto position = static_cast<off_t>(offset);
    while (count > 0) {
        const ssize_t n = ::sendfile(watch.fd(), file_fd, &position, static_cast<std::size_t>(std::min<std::uint64_t>(count, 1u << 30)));
        if (n > 0) {
            count -= static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) throw connection_error("sendfile to " + peer_.to_string() + ": the file ended " + std::to_string(count) + " bytes early");
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_io_error("sendfile to", errno);
        co_await wait_writable(watch, deadline);
    }
}

task<> tcp_stream::wait_writable(detail::fd_watch& watch, clock::time_point deadline) {
    watch.not_writable();
    const auto stalled_at = current_loop("write_all").now() + options_.write_timeout;
    if (co_await watch.writable(std::min(deadline, stalled_at))) co_return;
    throw_write_timeout(stalled_at, deadline);
}

void tcp_stream::throw_write_timeout(clock::time_point stalled_at, clock::time_point deadline) const {
    if (stalled_at <= deadline)
        throw timeout_error("write to " + peer_.to_string() + " made no progress for " + format_duration(options_.write_timeout));
    throw timeout_error("write to " + peer_.to_string() + " did not finish by its deadline");
}

void tcp_stream::throw_if_send_failed(const detail::ring_operation& send, int result, clock::time_point stalled_at,
                                      clock::time_point deadline) const {
    if (send.cancelled() || (send.expired() && corio::detail::current_task->cancel_pending())) throw cancelled_error("write cancelled");
    if (result > 0) return;
    if (send.expired()) throw_write_timeout(stalled_at, deadline);
    if (result != 0 && result != -EINTR && result != -EAGAIN) throw_io_error("write to", -result);
}

bool tcp_stream::is_quiet() noexcept {
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

void tcp_stream::shutdown_write() {
    if (::shutdown(open_watch("shutdown").fd(), SHUT_WR) != 0) throw_io_error("shutdown of", errno);
}

void tcp_stream::close() noexcept {
    if (watch_) watch_->close();
}

void tcp_stream::abort() noexcept {
    if (!is_open()) return;
    const linger reset_on_close{1, 0};
    ::setsockopt(watch_->fd(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
    close();
}

task<> tcp_stream::aclose() {
    close();
    co_return;
}

tcp_listener tcp_listener::bind(const endpoint& local, bind_options options) {
    const std::string what = "listen on " + local.to_string();
    auto watch = open_socket(local.family(), what);
    const int one = 1;
    ::setsockopt(watch->fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port) ::setsockopt(watch->fd(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(watch->fd(), local.data(), local.size()) != 0 || ::listen(watch->fd(), options.backlog) != 0)
        throw connection_error(what + " failed: " + errno_text(errno));
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(watch->fd(), reinterpret_cast<sockaddr*>(&bound), &length);
    return tcp_listener(std::move(watch), endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), length));
}

task<tcp_stream> tcp_listener::accept(tcp_options options) {
    if (!watch_ || !watch_->is_open()) throw connection_error("accept on " + local_.to_string() + ": the listener is closed");
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        const int fd = accept_one(peer, length);
        if (fd >= 0) {
            auto stream_watch = std::make_unique<detail::fd_watch>(fd);
            if (acceptor_) stream_watch->receive_through(acceptor_->ring());
            set_no_delay(fd, options.no_delay);
            co_return tcp_stream(std::move(stream_watch), endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length),
                                 options);
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == ENOTCONN) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw connection_error("accept on " + local_.to_string() + " failed: " + errno_text(errno));
        watch_->not_readable();
        co_await watch_->readable();
    }
}

int tcp_listener::accept_one(sockaddr_storage& peer, socklen_t& length) {
    auto* address = reinterpret_cast<sockaddr*>(&peer);
    if (!acceptor_) {
        detail::uring_reactor* ring = socket_ring();
        if (ring == nullptr) return ::accept4(watch_->fd(), address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        acceptor_.reset(new detail::ring_acceptor(*ring, watch_->fd(), watch_->feed_from_ring()));
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

void tcp_listener::close() noexcept {
    acceptor_.reset();  // closes the connections it had taken
    if (watch_) watch_->close();
}

task<> tcp_listener::aclose() {
    close();
    co_return;
}

}  // namespace corio::net
