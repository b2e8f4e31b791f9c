// Implementation of connection_pool.hpp.
#include "connection_pool.hpp"

#include <algorithm>
#include <utility>

#include "corio/http/errors.hpp"

namespace corio::http::detail {

// ---- client_metrics ----

client_metrics& client_metrics::get() {
    static client_metrics* const instance = [] {
        auto* m = new client_metrics;
        m->registration = metrics::registry::global().add_collector([m](metrics::sample_writer& out) {
            const auto open = static_cast<double>(m->open.load(std::memory_order_relaxed));
            const auto idle = static_cast<double>(m->idle.load(std::memory_order_relaxed));
            const char* help = "HTTP client connections open, by state (every client_session together)";
            out.gauge("corio_http_client_connections", help, {{"state", "in_use"}}, open - idle);  // connecting counts as in use
            out.gauge("corio_http_client_connections", help, {{"state", "idle"}}, idle);
            out.gauge("corio_http_client_pool_waiters", "HTTP client requests waiting for a connection slot", {},
                      static_cast<double>(m->waiters.load(std::memory_order_relaxed)));
            out.counter("corio_http_client_connections_opened_total", "HTTP client connections opened", {},
                        static_cast<double>(m->opened.value()));
            out.histogram("corio_http_client_connect_seconds", "Time to open an HTTP client connection (DNS, TCP, proxy, TLS)", {},
                          m->connect.read());
        });
        return m;
    }();
    return *instance;
}

// ---- pool_slot ----

pool_slot::pool_slot(connection_pool& pool, pool_host& host) noexcept : pool_(&pool), host_(&host) {
    pool.slot_taken(host);
}

pool_slot::pool_slot(pool_slot&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), host_(std::exchange(other.host_, nullptr)) {}

pool_slot& pool_slot::operator=(pool_slot&& other) noexcept {
    if (this != &other) {
        reset();
        pool_ = std::exchange(other.pool_, nullptr);
        host_ = std::exchange(other.host_, nullptr);
    }
    return *this;
}

void pool_slot::reset() noexcept {
    if (pool_ != nullptr) std::exchange(pool_, nullptr)->slot_released(*std::exchange(host_, nullptr));
}

const std::string& pool_slot::key() const noexcept { return host_->key; }

// ---- pooled_connection ----

pooled_connection::pooled_connection(pool_slot slot, any_stream stream)
    : slot_(std::move(slot)), stream_(std::move(stream)) {
    slot_.pool().connections_.push_back(*this);
}

pooled_connection::~pooled_connection() { unlink(); }

task<> pooled_connection::write_all(std::string_view data, clock::time_point deadline) {
    return std::visit([data, deadline](auto& s) { return s.write_all(data, deadline); }, stream_);
}

task<> pooled_connection::write_all(std::span<const std::string_view> pieces, clock::time_point deadline) {
    return std::visit([pieces, deadline](auto& s) { return s.write_all(pieces, deadline); }, stream_);
}

task<> pooled_connection::send_file(int file_fd, std::uint64_t offset, std::uint64_t count, clock::time_point deadline) {
    return std::visit([=](auto& s) { return s.send_file(file_fd, offset, count, deadline); }, stream_);
}

task<std::size_t> pooled_connection::fill() {
    const std::span<char> space = buffer_.prepare();
    const std::size_t n = co_await std::visit([space](auto& s) { return s.read_some(space); }, stream_);
    buffer_.commit(n);
    co_return n;
}

void pooled_connection::close() noexcept {
    std::visit([](auto& s) { s.close(); }, stream_);
}

// ---- connection_pool ----

/// Defers dispatch() while the pool is rearranged (a connection closed inside try_take must not
/// let a waiter take the slot the caller is about to use); dispatches at the end if needed.
class connection_pool::batch {
public:
    explicit batch(connection_pool& pool) noexcept : pool_(pool), outer_(pool.dispatching_) {
        pool_.dispatching_ = true;
    }
    ~batch() {
        if (outer_) return;
        pool_.dispatching_ = false;
        if (std::exchange(pool_.dispatch_again_, false)) pool_.dispatch();
    }

private:
    connection_pool& pool_;
    bool outer_;  // nested in a dispatch or batch: the outer one finishes the work
};

class connection_pool::acquire_awaiter final : public pool_waiter {
public:
    acquire_awaiter(connection_pool& pool, const std::string& waited_key) noexcept : pool_(pool) {
        key = &waited_key;
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return pool_.waiters_.park(*this, h); }
    pool_lease await_resume() {
        throw_if_cancelled("cancelled while waiting for a connection");
        if (!granted()) throw session_closed_error("the client session was closed while a request waited for a connection");
        return std::move(lease);
    }

private:
    connection_pool& pool_;
};

connection_pool::connection_pool(pool_limits limits) : timer_node(&on_expiry), limits_(limits) {}

connection_pool::~connection_pool() { close(); }

task<pool_lease> connection_pool::acquire(std::string key) { return acquire(std::move(key), nullptr); }

task<pool_lease> connection_pool::acquire(std::string key, std::function<void()> on_queued) {
    if (closed_) throw session_closed_error("the client session is closed");
    if (loop_ == nullptr) loop_ = &current_loop("client_session");
    std::optional<pool_lease> taken;
    {
        batch b(*this);
        taken = try_take(key);
    }
    if (taken) co_return std::move(*taken);
    if (on_queued) on_queued();
    struct waiting {  // counted in the waiters gauge while parked, on every path out
        waiting() noexcept { client_metrics::get().waiters.fetch_add(1, std::memory_order_relaxed); }
        waiting(const waiting&) = delete;
        ~waiting() { client_metrics::get().waiters.fetch_sub(1, std::memory_order_relaxed); }
    } counted;
    co_return co_await acquire_awaiter(*this, key);
}

std::optional<pool_lease> connection_pool::try_take(const std::string& key) {
    auto found = hosts_.find(key);
    if (found == hosts_.end()) found = hosts_.emplace(key, pool_host{key, 0, {}}).first;
    pool_host& host = found->second;
    const auto now = loop_->now();
    while (!host.idle.empty()) {
        std::unique_ptr<pooled_connection> c = std::move(host.idle.back());
        host.idle.pop_back();
        count_idle(-1);
        if (!expired(*c, now) && c->is_quiet()) return pool_lease{std::move(c), {}};
    }  // a stale connection is closed as `c` goes; its slot is free again
    if (limits_.limit_per_host != 0 && host.open >= limits_.limit_per_host) return std::nullopt;
    if (open_ >= limits_.limit && !evict_oldest_idle()) return std::nullopt;
    return pool_lease{nullptr, pool_slot(*this, host)};
}

bool connection_pool::evict_oldest_idle() noexcept {
    pool_host* oldest = nullptr;
    for (auto& [key, host] : hosts_)
        if (!host.idle.empty() && (oldest == nullptr || host.idle.front()->idle_since < oldest->idle.front()->idle_since))
            oldest = &host;
    if (oldest == nullptr) return false;
    oldest->idle.erase(oldest->idle.begin());  // closes it and frees its slot
    count_idle(-1);
    return true;
}

void connection_pool::count_idle(std::ptrdiff_t delta) noexcept {
    idle_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(idle_) + delta);
    client_metrics::get().idle.fetch_add(delta, std::memory_order_relaxed);
}

bool connection_pool::expired(const pooled_connection& c, clock::time_point now) const noexcept {
    return now - c.idle_since >= limits_.keepalive;
}

void connection_pool::release(std::unique_ptr<pooled_connection> connection) {
    if (closed_ || !connection->is_open()) return;  // dropping it closes it
    pool_host& host = hosts_.at(connection->key());
    connection->reused = true;
    connection->idle_since = loop_->now();
    host.idle.push_back(std::move(connection));
    count_idle(1);
    arm_expiry();
    dispatch();
}

void connection_pool::slot_taken(pool_host& host) noexcept {
    ++host.open;
    ++open_;
    client_metrics::get().open.fetch_add(1, std::memory_order_relaxed);
}

void connection_pool::slot_released(pool_host& host) noexcept {
    --host.open;
    --open_;
    client_metrics::get().open.fetch_sub(1, std::memory_order_relaxed);
    if (!closed_) dispatch();
}

void connection_pool::dispatch() noexcept {
    if (dispatching_) {
        dispatch_again_ = true;
        return;
    }
    batch b(*this);
    do {
        dispatch_again_ = false;
        waiters_.for_each([this](pool_waiter& w) {
            if (auto taken = try_take(*w.key)) {
                w.lease = std::move(*taken);
                waiters_.grant(w);
            }
        });
    } while (dispatch_again_);
}

void connection_pool::arm_expiry() noexcept {
    if (queued() || idle_ == 0) return;
    clock::time_point oldest = clock::time_point::max();
    for (auto& [key, host] : hosts_)
        if (!host.idle.empty()) oldest = std::min(oldest, host.idle.front()->idle_since);
    loop_->add_timer(*this, oldest + limits_.keepalive);
}

void connection_pool::on_expiry(corio::detail::timer_node& node) noexcept {
    auto& self = static_cast<connection_pool&>(node);
    self.close_expired();
    self.arm_expiry();
}

void connection_pool::close_expired() noexcept {
    batch b(*this);
    const auto now = loop_->now();
    for (auto it = hosts_.begin(); it != hosts_.end();) {
        auto& idle = it->second.idle;
        const auto fresh = std::find_if(idle.begin(), idle.end(), [&](const auto& c) { return !expired(*c, now); });
        count_idle(-(fresh - idle.begin()));
        idle.erase(idle.begin(), fresh);
        it = it->second.open == 0 ? hosts_.erase(it) : std::next(it);  // forget origins no longer used
    }
}

void connection_pool::close() noexcept {
    if (closed_) return;
    closed_ = true;
    if (loop_ != nullptr && queued()) loop_->remove_timer(*this);
    waiters_.refuse_all();
    for (auto& [key, host] : hosts_) host.idle.clear();
    count_idle(-static_cast<std::ptrdiff_t>(idle_));
    connections_.for_each([](pooled_connection& c) { c.close(); });  // in use: their owners drop them
}

}  // namespace corio::http::detail
