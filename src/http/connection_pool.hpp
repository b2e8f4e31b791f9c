// Private to the HTTP client: the connection pool of a client_session, and its connections.
//
// The pool counts every open connection of the session — being opened, in use, or idle — in
// one `pool_slot` each, and hands out slots so that `limit` (all origins) and `limit_per_host`
// (one origin, the pool key "scheme://host:port") are never exceeded. Tasks that cannot get an
// idle connection or a slot wait in one FIFO queue; whenever something is freed, the queue is
// served in arrival order, each waiter taking what it can use (an idle connection of its origin,
// a free slot, or the slot of an idle connection to another origin, which is closed for it).
// Idle connections are reused last-in-first-out and closed after keepalive_timeout by a loop
// timer. Thread-safety: one loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/timer_heap.hpp"
#include "corio/detail/wait_queue.hpp"
#include "corio/event_loop.hpp"
#include "corio/metrics.hpp"
#include "corio/net/tcp.hpp"
#include "corio/net/tls.hpp"
#include "corio/net/unix.hpp"
#include "corio/task.hpp"
#include "read_buffer.hpp"

namespace corio::http::detail {

class connection_pool;
struct pool_host;

/// Every client_session's pools together, reported to corio/metrics.hpp's global registry
/// (corio_http_client_*). Process-wide, updated from any loop: atomics.
struct client_metrics {
    std::atomic<std::int64_t> open{0};     // connections open: connecting, in use or idle
    std::atomic<std::int64_t> idle{0};
    std::atomic<std::int64_t> waiters{0};  // requests waiting for a pool slot
    metrics::counter opened;               // connections made
    metrics::histogram connect{metrics::latency_buckets()};  // seconds to open each (DNS, TCP, CONNECT, TLS)
    metrics::collector_handle registration;

    static client_metrics& get();  // made, and registered, on first use; never destroyed
};

/// One unit of the pool's limits, held while a connection is opened and for its whole life.
/// Move-only; gives the unit back when destroyed.
class pool_slot {
public:
    pool_slot() noexcept = default;
    pool_slot(connection_pool& pool, pool_host& host) noexcept;
    pool_slot(pool_slot&& other) noexcept;
    pool_slot& operator=(pool_slot&& other) noexcept;
    ~pool_slot() { reset(); }

    explicit operator bool() const noexcept { return pool_ != nullptr; }
    const std::string& key() const noexcept;
    connection_pool& pool() const noexcept { return *pool_; }

private:
    void reset() noexcept;
    connection_pool* pool_ = nullptr;  // null iff empty
    pool_host* host_ = nullptr;
};

using any_stream = std::variant<net::tcp_stream, net::tls_stream, net::unix_stream>;
/// Calls `fn` with the socket under any kind (a TLS stream's tcp_stream): its options, its
/// socket. `fn` takes `auto&` (a tcp_stream or a unix_stream) and returns the same type for both.
template <class F>
decltype(auto) with_socket(any_stream& stream, F&& fn) {
    return std::visit(
        [&fn](auto& s) -> decltype(auto) {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, net::tls_stream>)
                return fn(s.tcp());
            else
                return fn(s);
        },
        stream);
}

/// An open HTTP/1.1 connection: its stream and its read buffer.
class pooled_connection : public corio::detail::list_node {  // node: the pool's list of all
public:
    pooled_connection(pool_slot slot, any_stream stream);
    pooled_connection(const pooled_connection&) = delete;
    ~pooled_connection();

    const std::string& key() const noexcept { return slot_.key(); }
    connection_pool& pool() const noexcept { return slot_.pool(); }
    bool is_open() noexcept {
        return with_socket(stream_, [](auto& s) { return s.is_open(); });
    }
    /// Sets the idle limit of the next reads (the caller recomputes it per read).
    void set_read_timeout(std::chrono::nanoseconds timeout) noexcept {
        with_socket(stream_, [timeout](auto& s) { s.options().read_timeout = timeout; });
    }
    void set_write_timeout(std::chrono::nanoseconds timeout) noexcept {
        with_socket(stream_, [timeout](auto& s) { s.options().write_timeout = timeout; });
    }

    /// Writes all of `data` (no progress for write_timeout, or `deadline`: timeout_error).
    task<> write_all(std::string_view data, clock::time_point deadline);
    /// Writes the pieces in order (gathered); they must stay valid until it completes.
    task<> write_all(std::span<const std::string_view> pieces, clock::time_point deadline);
    /// Sends `count` bytes of the open file from `offset` (sendfile on plain TCP); as write_all.
    task<> send_file(int file_fd, std::uint64_t offset, std::uint64_t count, clock::time_point deadline);
    /// Bytes received and not consumed yet.
    std::string_view unread() const noexcept { return buffer_.unread(); }
    void consume(std::size_t n) noexcept { buffer_.consume(n); }
    /// Reads more bytes after the unread ones (which may move: views into them end here);
    /// returns how many arrived, 0 at end of stream.
    task<std::size_t> fill();
    void close() noexcept;
    /// The stream, taken out for a protocol that is not HTTP any more (WebSocket); the
    /// connection is then left closed and gives back its pool slot when destroyed.
    any_stream take_stream() && noexcept { return std::move(stream_); }
    /// Idle and usable: open, and the peer sent nothing and did not close since the last read.
    bool is_quiet() noexcept {
        return unread().empty() && with_socket(stream_, [](auto& s) { return s.is_quiet(); });
    }

    bool reused = false;            // has carried a request before this one
    clock::time_point idle_since;   // when it last went back to the pool

private:
    pool_slot slot_;  // declared first: given back after the stream closed
    any_stream stream_;
    read_buffer buffer_;
};

/// A pool's answer to acquire(): an idle connection to reuse, or else a slot to open one with.
struct pool_lease {
    std::unique_ptr<pooled_connection> connection;
    pool_slot slot;
};

struct pool_limits {
    std::size_t limit = 100;
    std::size_t limit_per_host = 0;  // 0: only `limit`
    std::chrono::nanoseconds keepalive{std::chrono::seconds(15)};
};

/// Per-origin bookkeeping. Invariant: open counts slots of this origin, idle included.
struct pool_host {
    std::string key;
    std::size_t open = 0;
    std::vector<std::unique_ptr<pooled_connection>> idle;  // oldest first
};

/// A task waiting in connection_pool::acquire; granted with `lease` filled in.
struct pool_waiter : corio::detail::waiter {
    const std::string* key = nullptr;  // the origin it waits for
    pool_lease lease;
};

class connection_pool : corio::detail::timer_node {
public:
    explicit connection_pool(pool_limits limits);
    connection_pool(const connection_pool&) = delete;
    ~connection_pool();

    /// An idle connection to `key` or a slot to open one; waits (FIFO) while the limits are
    /// reached. Throws session_closed_error once closed. Cancel safety: a cancelled wait takes
    /// nothing; a grant that raced the cancellation is returned (result wins).
    task<pool_lease> acquire(std::string key);
    /// As above; `on_queued` (if set) is called when the request has to wait for a slot.
    task<pool_lease> acquire(std::string key, std::function<void()> on_queued);
    /// Takes back a connection whose last response was read to its end.
    void release(std::unique_ptr<pooled_connection> connection);
    /// Closes every connection (those in use too) and refuses waiting and future acquires.
    void close() noexcept;

    bool closed() const noexcept { return closed_; }
    std::size_t open_count() const noexcept { return open_; }
    std::size_t idle_count() const noexcept { return idle_; }

private:
    friend class pool_slot;
    friend class pooled_connection;
    using acquire_waiter = pool_waiter;
    class acquire_awaiter;
    class batch;

    std::optional<pool_lease> try_take(const std::string& key);
    bool evict_oldest_idle() noexcept;
    void count_idle(std::ptrdiff_t delta) noexcept;  // idle_ += delta, and the process-wide gauge
    bool expired(const pooled_connection& c, clock::time_point now) const noexcept;
    void slot_taken(pool_host& host) noexcept;
    void slot_released(pool_host& host) noexcept;
    void dispatch() noexcept;
    void arm_expiry() noexcept;
    static void on_expiry(corio::detail::timer_node& node) noexcept;
    void close_expired() noexcept;

    pool_limits limits_;
    std::unordered_map<std::string, pool_host> hosts_;  // entries with open == 0 pruned on expiry
    std::size_t open_ = 0;  // invariant: sum of hosts_' open, <= limits_.limit
    std::size_t idle_ = 0;  // sum of hosts_' idle sizes
    corio::detail::intrusive_list<pooled_connection> connections_;  // every open connection
    corio::detail::wait_queue<acquire_waiter> waiters_;              // in arrival order
    event_loop* loop_ = nullptr;  // bound on first acquire; the expiry timer lives there
    bool closed_ = false;
    // dispatch() re-entered (a connection closed while serving waiters): run once more.
    bool dispatching_ = false;
    bool dispatch_again_ = false;
};

}  // namespace corio::http::detail
