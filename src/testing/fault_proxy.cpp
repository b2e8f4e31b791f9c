// fault_proxy (corio/testing/fault_proxy.hpp).
#include "corio/testing/fault_proxy.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "corio/error.hpp"
#include "corio/event.hpp"
#include "corio/event_loop.hpp"
#include "corio/net/tcp.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/spawn.hpp"
#include "corio/task_set.hpp"
#include "corio/wait_any.hpp"

namespace corio::testing {

fault fault::delay(std::chrono::nanoseconds hold, direction which) noexcept {
    fault f(kind::delay);
    f.hold_ = hold;
    f.which_ = which;
    return f;
}

fault fault::reset(std::size_t after_bytes) noexcept {
    fault f(kind::reset);
    f.bytes_ = after_bytes;
    return f;
}

fault fault::truncate(std::size_t bytes) noexcept {
    fault f(kind::truncate);
    f.bytes_ = bytes;
    return f;
}

namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

/// Both sides of a proxied connection: the upstream connect bounded, either side's silence too.
net::tcp_options stream_options(const fault_proxy_options& options) {
    net::tcp_options o;
    o.connect_timeout = options.connect_timeout;
    o.read_timeout = options.idle_timeout;
    return o;
}

/// How long `f` holds each chunk going `way` (zero: not at all).
std::chrono::nanoseconds hold_towards(const fault& f, direction way) {
    const bool applies = f.type() == fault::kind::delay && (f.applies_to() == way || f.applies_to() == direction::both);
    return applies ? f.hold() : std::chrono::nanoseconds{0};
}

/// Copies `from` to `to`, each chunk held `hold` first, until `from` ends or `limit` bytes went
/// through; returns how many did.
task<std::size_t> copy(net::tcp_stream& from, net::tcp_stream& to, std::chrono::nanoseconds hold, std::size_t limit) {
    std::array<char, 16 * 1024> buffer;
    std::size_t copied = 0;
    while (copied < limit) {
        const std::size_t n = co_await from.read_some(buffer);
        if (n == 0) break;
        if (hold > std::chrono::nanoseconds{0}) co_await corio::sleep(hold);
        const std::size_t forwarded = std::min(n, limit - copied);
        co_await to.write_all(std::string_view(buffer.data(), forwarded));
        copied += forwarded;
    }
    co_return copied;
}

/// The client's bytes to the upstream; once the client shut its side down, the upstream's side
/// too. Never returns: the answer may still be coming, and its end ends the connection (relay
/// cancels this wait then).
task<> forward_requests(net::tcp_stream& client, net::tcp_stream& upstream, std::chrono::nanoseconds hold) {
    co_await copy(client, upstream, hold, unlimited);
    upstream.shutdown_write();
    event never_set;
    co_await never_set.wait();
}

/// A black hole: reads and discards what the client sends until it closes (or falls silent for
/// the idle timeout: timeout_error).
task<> swallow(net::tcp_stream& client) {
    std::array<char, 16 * 1024> buffer;
    while (co_await client.read_some(buffer) != 0) {
    }
}

/// Serves one connection with fault `f`. Errors propagate: relay() ends the connection on them.
task<> serve_with_fault(net::tcp_stream& client, net::endpoint upstream_at, fault f, fault_proxy_options options) {
    if (f.type() == fault::kind::drop) {
        co_await swallow(client);
        co_return;
    }
    if (f.type() == fault::kind::reset && f.bytes() == 0) {
        client.abort();
        co_return;
    }
    net::tcp_stream upstream = co_await net::tcp_stream::connect(upstream_at, stream_options(options));
    const auto request_hold = hold_towards(f, direction::to_upstream);
    const auto answer_hold = hold_towards(f, direction::to_client);
    // Only the answer's end (or an error, rethrown) ends the race: forward_requests never returns.
    auto ended = co_await corio::wait_any(forward_requests(client, upstream, request_hold),
                                          copy(upstream, client, answer_hold, f.bytes()));
    const std::size_t answered = std::get<1>(ended);
    if (f.type() == fault::kind::reset && answered == f.bytes())
        client.abort();
    else
        client.shutdown_write();  // the answer ended, or was truncated: an orderly end
}

/// One accepted connection, start to end. A peer's reset, an unreachable upstream or a timeout is
/// the traffic a proxy sees, not its failure: the client's connection is then reset (the path
/// broke), and the task ends quietly. The sockets close when the task ends, on every path.
task<> relay(net::tcp_stream client, net::endpoint upstream_at, fault f, fault_proxy_options options) {
    try {
        co_await serve_with_fault(client, upstream_at, f, options);
    } catch (const corio::error&) {
        client.abort();
    }
}

}  // namespace

class fault_proxy::state {
public:
    state(net::tcp_listener listener, net::endpoint upstream, fault_proxy_options options)
        : listener_(std::move(listener)), upstream_(upstream), options_(options) {
        tasks_.spawn(accept_loop(), "fault_proxy accept");
    }

    const net::endpoint& endpoint() const noexcept { return listener_.local_endpoint(); }
    std::size_t accepted() const noexcept { return accepted_; }

    void set_fault(fault f, std::size_t connections) noexcept {
        current_ = connections == 0 ? fault::none() : f;
        remaining_ = connections == 0 ? unlimited : connections;
    }

    /// Cancels every task (the accept loop first of all), waits for them, stops listening.
    task<> close() {
        co_await tasks_.shutdown(std::chrono::seconds(1));
        listener_.close();
    }

    /// Closes `s` in a task of its own, then frees it: the state outlives every task using it.
    /// Uncancellable, so the loop's own shutdown cannot free the state under those tasks.
    static void close_in_background(std::unique_ptr<state> s) {
        if (s->tasks_.empty() || event_loop::current() == nullptr) return;  // nothing uses it any more
        corio::spawn(corio::uncancellable(close_and_free(std::move(s))), "fault_proxy close");
    }

private:
    static task<> close_and_free(std::unique_ptr<state> s) { co_await s->close(); }

    task<> accept_loop() {
        for (;;) {
            net::tcp_stream client = co_await listener_.accept(stream_options(options_));
            ++accepted_;
            tasks_.spawn(relay(std::move(client), upstream_, next_fault(), options_), "fault_proxy connection");
        }
    }

    /// The fault of the connection just accepted; counts down set_fault's `connections`.
    fault next_fault() noexcept {
        const fault f = current_;
        if (remaining_ != unlimited && --remaining_ == 0) set_fault(fault::none(), unlimited);
        return f;
    }

    net::tcp_listener listener_;
    net::endpoint upstream_;
    fault_proxy_options options_;
    fault current_ = fault::none();
    std::size_t remaining_ = unlimited;  // connections current_ still applies to (unlimited: all)
    std::size_t accepted_ = 0;
    task_set tasks_;  // the accept loop and every relay; last member: cancelled first on destruction
};

task<fault_proxy> fault_proxy::start(net::endpoint upstream, fault_proxy_options options) {
    auto listener = net::tcp_listener::bind(net::endpoint::parse("127.0.0.1", 0));
    co_return fault_proxy(std::make_unique<state>(std::move(listener), upstream, options));
}

fault_proxy::fault_proxy(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
fault_proxy::fault_proxy(fault_proxy&&) noexcept = default;

fault_proxy& fault_proxy::operator=(fault_proxy&& other) noexcept {
    fault_proxy old(std::move(*this));  // closed (in the background) when it goes
    state_ = std::move(other.state_);
    return *this;
}

fault_proxy::~fault_proxy() {
    if (state_) state::close_in_background(std::move(state_));
}

const net::endpoint& fault_proxy::endpoint() const noexcept { return state_->endpoint(); }

std::string fault_proxy::url(std::string_view path) const { return "http://" + endpoint().to_string() + std::string(path); }

void fault_proxy::set_fault(fault f) noexcept { state_->set_fault(f, unlimited); }
void fault_proxy::set_fault(fault f, std::size_t connections) noexcept { state_->set_fault(f, connections); }
std::size_t fault_proxy::connections_accepted() const noexcept { return state_->accepted(); }

task<> fault_proxy::close() {
    if (state_) co_await state_->close();
}

}  // namespace corio::testing
