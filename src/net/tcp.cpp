#include "corio/net/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "corio/net/resolve.hpp"
#include "corio/queue.hpp"
#include "corio/task_group.hpp"
#include "corio/wait_for.hpp"
#include "socket_util.hpp"

namespace corio::net {
namespace {

using detail_socket::connect_socket;
using detail_socket::errno_text;
using detail_socket::open_socket;
using detail_socket::read_through_ring;
using detail_socket::throw_timeout;

void set_no_delay(int fd, bool on) {
    const int value = on ? 1 : 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value);
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
    return connect_before(peer, deadline_after(current_loop("connect").now(), options.connect_timeout), options);
}

task<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port, tcp_options options) {
    const corio::detail::deadline_check check("TCP connect to", options.resolve_timeout + options.connect_timeout,
                                       [&] { return host + ":" + std::to_string(port); });
    auto endpoints = co_await resolve(host, port, {.timeout = options.resolve_timeout});
    co_return co_await connect(std::move(endpoints), host + ":" + std::to_string(port), options);
}

task<tcp_stream> tcp_stream::connect(std::vector<endpoint> peers, std::string name, tcp_options options) {
    const corio::detail::deadline_check check("TCP connect to", options.connect_timeout, [&] { return name; });
    const auto deadline = deadline_after(current_loop("connect").now(), options.connect_timeout);
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
    auto watch = open_socket(peer.family(), SOCK_STREAM, what);
    set_no_delay(watch->fd(), options.no_delay);
    co_await connect_socket(*watch, peer.data(), peer.size(), deadline, what, options.connect_timeout);
    read_through_ring(*watch);
    co_return tcp_stream(std::move(watch), peer, options);
}

tcp_listener tcp_listener::bind(const endpoint& local, bind_options options) {
    const std::string what = "listen on " + local.to_string();
    auto watch = open_socket(local.family(), SOCK_STREAM, what);
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
    detail::accepted_socket accepted = co_await socket_.accept();
    set_no_delay(accepted.watch->fd(), options.no_delay);
    co_return tcp_stream(std::move(accepted.watch),
                         endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&accepted.peer), accepted.peer_size), options);
}

void tcp_listener::close() noexcept { socket_.close(); }

task<> tcp_listener::aclose() {
    close();
    co_return;
}

}  // namespace corio::net
