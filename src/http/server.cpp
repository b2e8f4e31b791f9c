// Implementation of corio/http/server.hpp: routing, the per-loop runtime (accept loop,
// connections, graceful shutdown), reading requests and writing responses.
#include "corio/http/server.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <exception>
#include <list>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "corio/event.hpp"
#include "corio/context_var.hpp"
#include "corio/http/errors.hpp"
#include "corio/http/middleware.hpp"
#include "corio/log.hpp"
#include "corio/net/tcp.hpp"
#include "corio/run_threads.hpp"
#include "corio/semaphore.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/spawn.hpp"
#include "corio/task_set.hpp"
#include "corio/version.hpp"
#include "corio/wait_any.hpp"
#include "corio/wait_for.hpp"
#include "read_buffer.hpp"
#include "server_checks.hpp"
#include "static_files.hpp"
#include "ws_handshake.hpp"

namespace corio::http {
namespace {

/// The running loop's time, cached per iteration (deadlines need no fresher clock).
clock::time_point loop_now() noexcept { return event_loop::current()->now(); }

/// The status a rejected request gets (parser.hpp maps its limits to statuses).
int status_for(parse_error_code code) noexcept {
    switch (code) {
        case parse_error_code::start_line_too_long: return 414;
        case parse_error_code::too_many_headers:
        case parse_error_code::headers_too_large: return 431;
        case parse_error_code::body_too_large: return 413;
        case parse_error_code::unsupported_transfer_encoding: return 501;
        case parse_error_code::unsupported_version: return 505;
        default: return 400;
    }
}

bool has_no_body(int status) noexcept { return status < 200 || status == 204 || status == 304; }

/// Route patterns and prefixes are absolute paths.
void require_path(const char* what, const std::string& path) {
    if (path.empty() || path.front() != '/')
        throw std::invalid_argument(std::string("http::server: ") + what + " must start with '/': " + path);
}

bool is_param(std::string_view segment) noexcept {
    return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 499: return "Client Closed Request";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "Status";
    }
}

// ---- request / response ----

nlohmann::json request::json() const {
    try {
        return nlohmann::json::parse(body_);
    } catch (const nlohmann::json::parse_error& e) {
        throw json_error::from_bytes_read(method_ + " " + target_ + ": the request body is not valid JSON: " + e.what(), e.byte);
    }
}

std::string_view request::param(std::string_view name) const noexcept {
    for (const auto& [key, value] : params_)
        if (key == name) return value;
    return {};
}

bool request::peer_disconnected() const noexcept { return peer_gone_ && peer_gone_(); }

async_generator<std::string_view> request::body_stream() {
    return corio::detail::generate_from<std::string_view>(
        [this, whole_body_sent = false]() mutable -> task<std::optional<std::string_view>> {
            if (body_source_) co_return co_await body_source_();  // cancel-safe: nothing read is lost
            if (whole_body_sent || body_.empty()) co_return std::nullopt;
            whole_body_sent = true;
            co_return std::string_view(body_);
        });
}

response::response(int status, std::string body, std::string content_type) : status_(status), body_(std::move(body)) {
    if (!content_type.empty() && !has_no_body(status)) headers_.add("Content-Type", std::move(content_type));
}

response response::text(std::string body, int status) { return response(status, std::move(body)); }

response response::json(const nlohmann::json& value, int status) {
    return response(status, value.dump(), "application/json");
}

response response::stream(async_generator<std::string> pieces, std::string content_type, int status) {
    response r(status, {}, std::move(content_type));
    r.stream_.emplace(std::move(pieces));
    return r;
}

// ---- the per-loop runtime ----

namespace {

using detail::request_rejected;

/// One request's share of the server-wide budget for bodies read whole (max_buffered_bytes);
/// given back when the request is done.
class body_budget {
public:
    body_budget(std::atomic<std::uint64_t>& used, std::uint64_t limit) noexcept : used_(used), limit_(limit) {}
    body_budget(const body_budget&) = delete;
    ~body_budget() {
        if (held_ != 0) release();
    }

    /// Gives back everything taken.
    void release() noexcept {
        used_.fetch_sub(std::exchange(held_, 0), std::memory_order_relaxed);
    }

    /// Takes `n` more bytes; false (taking nothing) if that would go over the limit.
    bool take(std::uint64_t n) noexcept {
        std::uint64_t used = used_.load(std::memory_order_relaxed);
        do {
            if (used > limit_ || n > limit_ - used) return false;
        } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
        held_ += n;
        return true;
    }

private:
    std::atomic<std::uint64_t>& used_;
    std::uint64_t limit_;
    std::uint64_t held_ = 0;  // bytes this request took
};

/// The handler_timeout of one request: it runs from the start of the middleware chain, stops
/// while a body is read whole (body_timeout bounds that), and starts again once it has arrived.
class handler_deadline {
public:
    explicit handler_deadline(clock::duration timeout) : timeout_(timeout), scope_(deadline_after(loop_now(), timeout), timeout) {}

    /// The scope the chain runs in.
    timeout_scope& scope() noexcept { return scope_; }
    void pause() { scope_.reschedule(clock::time_point::max()); }
    void restart() { scope_.reschedule(deadline_after(loop_now(), timeout_)); }

private:
    clock::duration timeout_;
    timeout_scope scope_;
};

/// The client went away while its body was read, before any handler ran: carries the
/// connection_error through the middleware (not a std::exception, so none takes it for a
/// handler's failure) to end the connection quietly.
struct client_left {
    std::exception_ptr cause;
};

response refusal(int status) { return response::text(std::string(reason_phrase(status)) + "\n", status); }

/// True if the handler asked to close the connection after its response.
bool asks_to_close(const response& resp) noexcept {
    for (const auto& [name, value] : resp.headers())
        if (iequals(name, "Connection") && value.find("close") != std::string::npos) return true;
    return false;
}

}  // namespace

struct server::request_metrics {
    std::array<std::atomic<std::uint64_t>, 900> by_status{};  // responses with status 100 + i (checked: 100-999)
    corio::metrics::histogram seconds{corio::metrics::latency_buckets()};

    void count(int status) noexcept { by_status[static_cast<std::size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed); }
    void record(int status, std::chrono::nanoseconds took) noexcept {
        count(status);
        seconds.observe(std::chrono::duration<double>(took).count());
    }
    void report(corio::metrics::sample_writer& out, std::size_t open) const {
        for (std::size_t i = 0; i < by_status.size(); ++i)
            if (const auto n = by_status[i].load(std::memory_order_relaxed); n > 0)
                out.counter("corio_http_server_requests_total", "HTTP responses sent, by status", {{"status", std::to_string(100 + i)}},
                            static_cast<double>(n));
        out.histogram("corio_http_server_request_seconds", "Time from a request's head to its response's last byte", {}, seconds.read());
        out.gauge("corio_http_server_open_connections", "HTTP server connections open", {}, static_cast<double>(open));
    }
};

/// One serve() on one loop: the listener, its connections, their shutdown.
class server::runtime {
public:
    runtime(server& owner, any_listener listener, bool tls)
        : owner_(owner), tls_(tls), listener_(std::move(listener)), slots_(owner.options_.max_connections) {
        if (owner.options_.access_log) chain_.push_back(access_log());
        chain_.insert(chain_.end(), owner.middleware_.begin(), owner.middleware_.end());
    }

    task<> run();
    /// On this runtime's loop: begin the graceful shutdown.
    void request_stop(std::chrono::nanoseconds grace) noexcept {
        grace_ = grace;
        stop_.set();
    }

private:
    // A connection's control block, for closing the idle ones at shutdown.
    struct connection_control {
        join_handle<void> task;
        bool idle = true;  // waiting for (the start of) a request
    };
    using control_list = std::list<connection_control>;

    template <class Listener>
    task<> accept_loop(Listener& listener);
    /// A connection accepted by a tcp_listener (HTTPS: its handshake first) or a unix_listener.
    template <class Socket>
    task<> serve_connection(Socket stream, semaphore::guard slot, control_list::iterator control);
    task<> shutdown(join_handle<void>& accepting);
    // The connection's work, over a tcp_stream or a tls_stream (Stream).
    template <class Stream>
    class request_reader;
    template <class Stream>
    task<> handle_requests(Stream& stream, control_list::iterator control, clock::time_point connected_at);
    template <class Stream>
    task<bool> drain(request_reader<Stream>& reader);
    /// A 101 to WebSocket: writes it, then the connection is the websocket's until it closes.
    template <class Stream>
    task<> switch_to_websocket(Stream& stream, const detail::read_buffer& buffer, request& req, response& resp,
                               clock::time_point started_at);
    static void take_head(request& req, const request_head& head);
    template <class Stream>
    task<response> dispatch(request& req, Stream& stream, request_reader<Stream>& reader, body_budget& budget);
    /// The middleware chain's end: routes the request, reads its body, runs the route's handler
    /// inside its group's middleware.
    template <class Stream>
    task<response> route_request(request& req, request_reader<Stream>& reader, body_budget& budget,
                                 handler_deadline& deadline);
    template <class Stream>
    task<response> call_chain(request& req, const handler& router, Stream& stream);
    static void assign_request_id(request& req, std::uint64_t number, bool accept_theirs);
    /// Counts the response in the server's metrics and tells the request's after_response
    /// callbacks what was sent.
    void report_sent(const request& req, response_sent& sent, clock::time_point started_at);
    /// Replaces `resp` with a (logged) 500 if it cannot go on the wire as it is.
    static void check_response(const request& req, response& resp);
    /// False if the response failed half-way (the connection was reset).
    /// Counts the body bytes it writes in `sent`.
    template <class Stream>
    task<bool> write_response(Stream& stream, const request& req, response& resp, bool closing, response_sent& sent);
    template <class Stream>
    task<bool> write_stream(Stream& stream, const request& req, async_generator<std::string>& pieces, bool chunked,
                            response_sent& sent);
    std::string head_of(const request& req, const response& resp, bool closing, bool close_delimited);
    const std::string& date_header();

    server& owner_;
    const bool tls_;                 // connections start with a TLS handshake (server::current_tls())
    std::vector<middleware> chain_;  // around every request: access_log() if asked, then the server's
    any_listener listener_;
    semaphore slots_;  // one unit per open connection: max_connections
    event stop_;
    std::chrono::nanoseconds grace_{};
    bool stopping_ = false;  // no new requests are started once set
    task_set connections_{[](const std::string&, std::exception_ptr e) {
        log_error("http::server: a connection task failed: " + describe(e));
    }};
    control_list controls_;  // one per live connection task
    std::string date_;       // "Date: ...\r\n", refreshed once a second
    std::time_t date_second_ = 0;
};

task<> server::runtime::run() {
    auto accepting = spawn(std::visit([this](auto& listener) { return accept_loop(listener); }, listener_), "http::server.accept");
    std::exception_ptr cancelled;
    try {
        co_await stop_.wait();
    } catch (const cancelled_error&) {
        cancelled = std::current_exception();
        grace_ = owner_.options_.shutdown_grace;
    }
    co_await uncancellable(shutdown(accepting));  // bounded by grace_ and one more second
    if (cancelled) {
        owner_.stop();  // a signal reached this loop: the other loops stop too
        std::rethrow_exception(cancelled);
    }
}

task<> server::runtime::shutdown(join_handle<void>& accepting) {
    accepting.cancel();
    try {
        co_await accepting;
    } catch (const cancelled_error&) {
    }
    std::visit([](auto& listener) { listener.close(); }, listener_);
    stopping_ = true;
    for (auto& c : controls_)
        if (c.idle) c.task.cancel();
    try {
        co_await wait_for(connections_.join_all(), grace_);
    } catch (const timeout_error&) {
    }
    co_await connections_.shutdown(std::chrono::seconds(1));
}

template <class Listener>
task<> server::runtime::accept_loop(Listener& listener) {
    typename corio::detail::await_result_t<decltype(listener.accept())>::options_type stream_options;
    stream_options.read_timeout = owner_.options_.idle_timeout;
    stream_options.write_timeout = owner_.options_.write_timeout;
    for (;;) {
        auto slot = co_await slots_.acquire();  // pauses accepting at max_connections
        bool failed = false;
        try {
            auto stream = co_await listener.accept(stream_options);
            auto control = controls_.emplace(controls_.end());
            control->task = connections_.spawn(serve_connection(std::move(stream), std::move(slot), control));
        } catch (const connection_error& e) {  // EMFILE and friends: back off, keep serving
            log_error(std::string("http::server: accept failed: ") + e.what());
            failed = true;
        }
        if (failed) co_await corio::sleep(std::chrono::milliseconds(100));
    }
}

/// Reads the requests off a connection, one at a time: a head, then its body piece by piece (so
/// a handler can stream it). One per connection, so its parser's buffers serve every request
/// on it (the parser starts each message afresh, its body limit included). Every read is
/// bounded: the head by header_timeout (on a kept-alive connection, idle_timeout until its
/// first byte), the body by body_timeout; both end in request_rejected (408, or the parser's
/// status for bad syntax and limits).
template <class Stream>
class server::runtime::request_reader {
public:
    /// `largest_body`: the largest body limit of any route (the route's own is set by limit_body).
    request_reader(Stream& stream, detail::read_buffer& buffer, const server_options& options,
                   std::uint64_t largest_body)
        : stream_(stream), buffer_(buffer), options_(options), parser_(with_body_limit(options.limits, largest_body)) {}

    /// Reads up to the end of a head and copies it into `req`. False if the connection ended
    /// (or stayed idle too long) before a request began. `idle` turns false at the first byte
    /// of a request (empty lines before it do not count). `first`: the connection's first
    /// request, whose head is due header_timeout after `connected_at` (the TLS handshake
    /// included), not idle_timeout.
    task<bool> read_head(request& req, bool& idle, bool first, clock::time_point connected_at) {
        bool started = false;
        complete_ = false;
        deadline_ = first ? connected_at + options_.header_timeout : deadline_after(loop_now(), options_.idle_timeout);
        for (;;) {
            const parse_result r = parse();
            if (r.event == parse_event::headers) {
                take_head(req, parser_.head());
                buffer_.consume(r.consumed);  // after copying: the views point into the buffer
                deadline_ = deadline_after(loop_now(), options_.body_timeout);
                if (parser_.head().expect_continue) co_await stream_.write_all("HTTP/1.1 100 Continue\r\n\r\n");
                co_return true;
            }
            buffer_.consume(r.consumed);
            if (!started && !buffer_.unread().empty()) {  // a request line has begun
                started = true;
                idle = false;
                if (!first) deadline_ = deadline_after(loop_now(), options_.header_timeout);
            }
            const bool received = co_await receive();  // named: g++ 12 (design notes)
            if (!received) {
                if (started) throw request_rejected{408};  // too slow (slowloris) or cut off
                co_return false;
            }
        }
    }

    /// The next piece of the body (valid until the next call), or nullopt at its end.
    task<std::optional<std::string_view>> next_piece() {
        while (!complete_) {
            const parse_result r = parse();
            buffer_.consume(r.consumed);
            if (r.event == parse_event::body) co_return r.body;
            complete_ = r.event == parse_event::message_complete;
            if (r.event == parse_event::need_more && !co_await receive()) throw request_rejected{408};
        }
        co_return std::nullopt;
    }

    /// The body limit of the route the request is for; request_rejected{413} if it says it is larger.
    void limit_body(std::uint64_t max_body_size) {
        try {
            parser_.limit_body(max_body_size);
        } catch (const parse_error& e) {
            throw request_rejected{status_for(e.code())};
        }
    }

    bool complete() const noexcept { return complete_; }
    /// The request announced a body (Content-Length above 0, or chunked).
    bool has_body() const noexcept {
        const auto& head = parser_.head();
        return head.chunked || head.content_length.value_or(0) > 0;
    }
    /// After read_head: a request without a body is complete at once (no read, no suspension).
    void finish_if_bodiless() {
        if (has_body() || complete_) return;
        const parse_result r = parse();
        buffer_.consume(r.consumed);
        complete_ = r.event == parse_event::message_complete;
    }
    bool keep_alive() const noexcept { return parser_.head().keep_alive; }
    std::optional<std::uint64_t> content_length() const noexcept { return parser_.head().content_length; }

private:
    static parse_limits with_body_limit(parse_limits limits, std::uint64_t max_body_size) noexcept {
        limits.max_body_size = max_body_size;
        return limits;
    }

    parse_result parse() {
        try {
            return parser_.parse(buffer_.unread());
        } catch (const parse_error& e) {
            throw request_rejected{status_for(e.code())};
        }
    }

    /// More bytes within the deadline; false at end of stream or on expiry.
    task<bool> receive() {
        const auto left = deadline_ - loop_now();
        if (left <= clock::duration::zero()) co_return false;
        stream_.options().read_timeout = left;
        std::size_t n = 0;
        try {
            n = co_await stream_.read_some(buffer_.prepare());
        } catch (const timeout_error&) {
            co_return false;
        }
        buffer_.commit(n);
        co_return n > 0;
    }

    Stream& stream_;
    detail::read_buffer& buffer_;
    const server_options& options_;
    request_parser parser_;
    clock::time_point deadline_;
    bool complete_ = false;  // the current message (body included) has been read
};

/// Copies the parsed head into `req` (its views point into the buffer, which moves later) and
/// makes values of its target; throws request_rejected for what server_checks.hpp refuses.
void server::runtime::take_head(request& req, const request_head& head) {
    detail::checked_target target = detail::check_request(head);
    req.method_ = std::string(head.method);
    req.version_minor_ = head.version_minor;
    req.target_ = std::string(head.target);
    req.path_ = std::move(target.path);
    req.segments_ = std::move(target.segments);
    req.query_ = std::move(target.query);
    req.headers_.reserve(head.headers.size());
    for (const header_field& f : head.headers) req.headers_.add(std::string(f.name), std::string(f.value));
}

template <class Socket>
task<> server::runtime::serve_connection(Socket stream, semaphore::guard slot, control_list::iterator control) {
    struct forget_control {
        control_list& list;
        control_list::iterator it;
        std::atomic<std::size_t>& open;
        ~forget_control() {
            list.erase(it);
            open.fetch_sub(1, std::memory_order_relaxed);
        }
    } forget{controls_, control, owner_.open_};
    owner_.open_.fetch_add(1, std::memory_order_relaxed);
    (void)slot;  // held until the connection ends
    const clock::time_point connected_at = loop_now();
    try {
        if (!std::is_same_v<Socket, net::tcp_stream> || !tls_) {
            co_await handle_requests(stream, control, connected_at);
        } else if constexpr (std::is_same_v<Socket, net::tcp_stream>) {  // the handshake counts against the first request's header_timeout
            auto secure = co_await net::tls_stream::accept(std::move(stream), owner_.current_tls(), owner_.options_.header_timeout);
            co_await handle_requests(secure, control, connected_at);
        }
    } catch (const connection_error&) {  // the peer vanished, or its handshake failed: nothing to answer
    } catch (const timeout_error&) {     // a response made no progress (logged where it was cut), a slow handshake
    }
}

namespace {

/// After refusing a request whose bytes may still be arriving: read and drop them for a moment
/// (at most 256 KiB, 1 s) so that closing does not reset the connection and destroy the refusal
/// before the client has read it.
template <class Stream>
task<> linger(Stream& stream) {
    stream.options().read_timeout = std::chrono::seconds(1);
    std::array<char, 16 * 1024> sink;
    try {
        for (int i = 0; i < 16 && co_await stream.read_some(sink) > 0; ++i) {
        }
    } catch (const error&) {  // timed out or reset: done either way
    }
}

/// The client's address for request::peer(): none on a Unix socket.
template <class Stream>
net::endpoint peer_address(const Stream& stream) {
    if constexpr (std::is_same_v<Stream, net::unix_stream>)
        return {};
    else
        return stream.peer();
}

}  // namespace

template <class Stream>
task<> server::runtime::handle_requests(Stream& stream, control_list::iterator control, clock::time_point connected_at) {
    const server_options& o = owner_.options_;
    detail::read_buffer buffer(4096);  // grows for large heads; small for 10k idle connections
    request_reader<Stream> reader(stream, buffer, o, owner_.largest_body_limit_);
    for (bool first = true; !stopping_; first = false) {
        control->idle = true;
        request req;
        req.peer_ = peer_address(stream);
        req.peer_gone_ = [&stream] { return stream.peer_closed(); };
        int refused = 0;
        try {
            if (!co_await reader.read_head(req, control->idle, first, connected_at)) co_return;
        } catch (const request_rejected& r) {
            refused = r.status;
        }
        control->idle = false;
        if (refused != 0) {
            owner_.metrics_->count(refused);
            response answer = refusal(refused);
            response_sent unused;
            co_await write_response(stream, req, answer, true, unused);
            co_await linger(stream);
            co_return;
        }
        reader.finish_if_bodiless();
        assign_request_id(req, owner_.next_request_id_.fetch_add(1, std::memory_order_relaxed), o.accept_request_id);
        const auto bound = corio::request_id.set(req.request_id_);  // for log lines and tasks started from here
        const auto started_at = clock::now();
        body_budget budget(owner_.buffered_bytes_, o.max_buffered_bytes);
        response resp = co_await dispatch(req, stream, reader, budget);
        check_response(req, resp);
        if (resp.upgrade_ && resp.status_ == 101) {
            co_await switch_to_websocket(stream, buffer, req, resp, started_at);
            co_return;
        }
        bool closing = !reader.keep_alive() || stopping_ || asks_to_close(resp);
        if (!closing && !reader.complete()) closing = !co_await drain(reader);  // a body the handler left
        response_sent sent{.status = resp.status_};
        try {
            sent.complete = co_await write_response(stream, req, resp, closing, sent);
        } catch (const error&) {  // the peer went away, or the write made no progress
            report_sent(req, sent, started_at);
            throw;
        }
        owner_.served_.fetch_add(1, std::memory_order_relaxed);
        report_sent(req, sent, started_at);
        if (!sent.complete) co_return;
        if (closing) {
            // A body left unread (refused): let the client finish sending it and read the answer,
            // holding none of the memory budget meanwhile.
            if (!reader.complete()) {
                std::string().swap(req.body_);
                budget.release();
                co_await linger(stream);
            }
            co_return;
        }
        // Pipelined requests are already here: let other connections have a turn before the
        // next one, or a client sending thousands at once would hold the loop (and everyone's
        // latency) until its socket blocks.
        if (!buffer.unread().empty()) co_await corio::yield();
    }
}

template <class Stream>
task<> server::runtime::switch_to_websocket(Stream& stream, const detail::read_buffer& buffer, request& req,
                                            response& resp, clock::time_point started_at) {
    response_sent sent{.status = 101};
    co_await stream.write_all(head_of(req, resp, false, false));
    sent.complete = true;
    owner_.served_.fetch_add(1, std::memory_order_relaxed);
    report_sent(req, sent, started_at);
    co_await detail::run_websocket_session(*resp.upgrade_, req, detail::any_stream(std::move(stream)), buffer.unread());
}

template <class Stream>
task<bool> server::runtime::drain(request_reader<Stream>& reader) {
    try {
        while (co_await reader.next_piece()) {
        }
    } catch (const request_rejected&) {
        co_return false;
    }
    co_return true;
}

namespace {

/// Returns once the client has closed its side (checked every 50 ms: the loop records the
/// hang-up even while nobody reads).
template <class Stream>
task<> until_peer_closes(const Stream& stream) {
    while (!stream.peer_closed()) co_await corio::sleep(std::chrono::milliseconds(50));
}

}  // namespace

template <class Stream>
task<response> server::runtime::call_chain(request& req, const handler& router, Stream& stream) {
    const next_handler chain(chain_, router);
    if (!owner_.options_.cancel_on_disconnect) co_return co_await chain(req);
    auto first = co_await wait_any(chain(req), until_peer_closes(stream));
    if (first.index() == 0) co_return std::move(std::get<0>(first));
    co_return response::text("Client Closed Request\n", 499);  // nobody reads it: the peer is gone
}

namespace {

/// Reads the whole body into `body` within the server's memory budget; false (and the rest
/// left unread) if it would go over.
template <class Reader>
task<bool> read_whole_body(Reader& reader, std::string& body, body_budget& budget) {
    const auto length = reader.content_length();
    if (length) {
        if (!budget.take(*length)) co_return false;
        body.reserve(static_cast<std::size_t>(*length));  // <= limits.max_body_size (the parser checked)
    }
    while (const auto piece = co_await reader.next_piece()) {
        if (!length && !budget.take(piece->size())) co_return false;
        body.append(*piece);
    }
    co_return true;
}

}  // namespace

template <class Stream>
task<response> server::runtime::dispatch(request& req, Stream& stream, request_reader<Stream>& reader,
                                         body_budget& budget) {
    handler_deadline deadline(owner_.options_.handler_timeout);
    struct routing_parts {
        request_reader<Stream>& reader;
        body_budget& budget;
        handler_deadline& deadline;
    } parts{reader, budget, deadline};
    // One pointer captured besides `this`: std::function keeps it without an allocation.
    const handler router = [this, &parts](request& r) { return route_request(r, parts.reader, parts.budget, parts.deadline); };
    std::exception_ptr failure;
    try {
        co_return co_await corio::detail::scoped_awaiter<response>(call_chain(req, router, stream), deadline.scope());
    } catch (const client_left& left) {
        std::rethrow_exception(left.cause);  // ends the connection (serve_connection)
    } catch (const json_error&) {
        co_return response::text("Bad Request: the body is not valid JSON\n", 400);
    } catch (const form_error& e) {
        response answer = response::text(std::string(reason_phrase(e.status())) + ": " + e.what() + "\n", e.status());
        answer.headers().add("Connection", "close");  // the rest of the body may be unread
        co_return answer;
    } catch (const request_rejected& r) {  // while the handler streamed the body
        co_return refusal(r.status);
    } catch (const timeout_error&) {
        if (deadline.scope().expired()) co_return response::text("Service Unavailable: the handler took too long\n", 503);
        failure = std::current_exception();
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    log_error("http::server: " + req.method_ + " " + req.target_ + " failed: " + describe(failure));
    co_return response::text("Internal Server Error\n", 500);
}

template <class Stream>
task<response> server::runtime::route_request(request& req, request_reader<Stream>& reader, body_budget& budget,
                                              handler_deadline& deadline) {
    const std::uint64_t server_limit = owner_.options_.limits.max_body_size;
    if (req.path_ == "*") {  // OPTIONS *: what the server as a whole answers
        response answer(200);
        answer.headers().add("Allow", owner_.all_methods());
        co_return answer;
    }
    std::string allowed;
    const bool head = req.method_ == "HEAD";
    const route_entry* route = owner_.match(head ? "GET" : req.method_, req.segments_, req.params_, allowed);
    int refused = 0;
    try {
        reader.limit_body(route != nullptr ? route->options.max_body_size.value_or(server_limit) : server_limit);
    } catch (const request_rejected& r) {
        refused = r.status;
    }
    if (refused != 0) {
        response answer = refusal(refused);
        answer.headers().add("Connection", "close");  // the body is left unread
        co_return answer;
    }
    if (route == nullptr) {
        if (allowed.empty()) co_return response::text("Not Found\n", 404);
        response answer = refusal(405);
        answer.headers().add("Allow", allowed);
        co_return answer;
    }
    const bool read_whole = reader.has_body() && !route->options.stream_body;
    if (read_whole) deadline.pause();
    try {
        if (route->options.stream_body)
            req.body_source_ = [&reader] { return reader.next_piece(); };
        else if (read_whole && !co_await read_whole_body(reader, req.body_, budget))
            refused = 503;
    } catch (const request_rejected& r) {
        refused = r.status;
    } catch (const connection_error&) {  // the client left mid-body: nothing to answer, nothing to log
        throw client_left{std::current_exception()};
    }
    if (refused == 503) {  // over max_buffered_bytes: the client may come back in a moment
        response answer = refusal(503);
        answer.headers().add("Retry-After", "1");
        answer.headers().add("Connection", "close");  // the body is left unread
        co_return answer;
    }
    if (refused != 0) co_return refusal(refused);
    if (read_whole) deadline.restart();
    static const std::vector<middleware> no_middleware;
    co_return co_await next_handler(route->chain ? *route->chain : no_middleware, route->h)(req);
}

void server::runtime::assign_request_id(request& req, std::uint64_t number, bool accept_theirs) {
    req.id_ = number;
    if (accept_theirs)
        if (const auto theirs = req.headers_.get("X-Request-Id"); theirs && detail::is_valid_request_id(*theirs)) {
            req.request_id_ = std::string(*theirs);
            return;
        }
    req.request_id_ = std::to_string(number);
}

void server::runtime::report_sent(const request& req, response_sent& sent, clock::time_point started_at) {
    sent.duration = clock::now() - started_at;
    owner_.metrics_->record(sent.status, sent.duration);
    for (const auto& fn : req.after_response_) {
        try {
            fn(req, sent);
        } catch (const std::exception& e) {
            log_error("http::server: " + req.method_ + " " + req.target_ + ": an after_response callback failed: " + e.what());
        }
    }
}

void server::runtime::check_response(const request& req, response& resp) {
    const bool switching = resp.status_ == 101 && resp.upgrade_;  // a 101 only with the session it starts
    const std::string problem = detail::response_problem(switching ? 200 : resp.status_, resp.headers_);
    if (problem.empty()) return;
    log_error("http::server: " + req.method_ + " " + req.target_ + ": the handler's response was not sent: " + problem + "; answered 500 instead");
    resp = response::text("Internal Server Error\n", 500);
}

const std::string& server::runtime::date_header() {
    const std::time_t now = std::time(nullptr);
    if (now != date_second_) {
        date_second_ = now;
        date_ = "Date: " + format_http_date(now) + "\r\n";
    }
    return date_;
}

std::string server::runtime::head_of(const request& req, const response& resp, bool closing, bool close_delimited) {
    std::string head;
    head.reserve(256);
    head.append("HTTP/1.1 ").append(std::to_string(resp.status_)).append(" ").append(reason_phrase(resp.status_));
    head.append("\r\n");
    bool has_server = false, has_date = false, has_id = false;  // the handler's own replace the server's
    for (const auto& [name, value] : resp.headers_) {
        if (name.size() == 10 && iequals(name, "Connection")) continue;  // the server's say
        has_server = has_server || (name.size() == 6 && iequals(name, "Server"));
        has_date = has_date || (name.size() == 4 && iequals(name, "Date"));
        has_id = has_id || (name.size() == 12 && iequals(name, "X-Request-Id"));
        head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_server) head.append("Server: corio/" CORIO_VERSION_STRING "\r\n");
    if (!has_date) head.append(date_header());
    if (!req.request_id_.empty() && !has_id) head.append("X-Request-Id: ").append(req.request_id_).append("\r\n");
    if (close_delimited)
        ;  // the body ends when the connection does
    else if (resp.stream_)
        head.append("Transfer-Encoding: chunked\r\n");
    else if (resp.file_)
        head.append("Content-Length: ").append(std::to_string(resp.file_->length)).append("\r\n");
    else if (!has_no_body(resp.status_))
        head.append("Content-Length: ").append(std::to_string(resp.body_.size())).append("\r\n");
    if (resp.upgrade_ && resp.status_ == 101)
        head.append("Connection: Upgrade\r\n");
    else if (closing)
        head.append("Connection: close\r\n");
    else if (req.version_minor_ == 0)
        head.append("Connection: keep-alive\r\n");  // an HTTP/1.0 client asked for it
    head.append("\r\n");
    return head;
}

namespace {

/// A body this small is copied after the head, which then goes out as one piece.
constexpr std::size_t copied_body_limit = 1024;

/// After the last response of a connection: a FIN (TCP, Unix) or a close_notify (TLS, bounded by
/// write_timeout, failures ignored); the socket closes when the connection's task ends.
template <class Protocol>
task<> end_writing(net::basic_stream<Protocol>& stream) {
    stream.shutdown_write();
    co_return;
}

task<> end_writing(net::tls_stream& stream) {
    try {
        co_await stream.shutdown();
    } catch (const error&) {  // the client is gone or slow: closing is what matters
    }
}

}  // namespace

template <class Stream>
task<bool> server::runtime::write_response(Stream& stream, const request& req, response& resp, bool closing,
                                           response_sent& sent) {
    const bool send_body = req.method_ != "HEAD" && !has_no_body(resp.status_);
    const bool close_delimited = resp.stream_ && req.version_minor_ == 0;  // no chunked in HTTP/1.0
    closing = closing || close_delimited;
    std::string head = head_of(req, resp, closing, close_delimited);
    try {
        if (resp.file_) {
            co_await stream.write_all(head);
            if (send_body) co_await stream.send_file(resp.file_->file->fd(), resp.file_->offset, resp.file_->length);
            sent.body_bytes = send_body ? resp.file_->length : 0;
        } else if (!resp.stream_) {
            std::string_view body = send_body ? std::string_view(resp.body_) : std::string_view();
            const std::size_t body_bytes = body.size();
            if (body_bytes <= copied_body_limit) {  // one piece: one plain send, no scatter list for the kernel to import
                head.append(body);
                body = {};
            }
            const std::string_view pieces[] = {head, body};
            co_await stream.write_all(std::span<const std::string_view>(pieces));  // one request; a larger body is not copied
            sent.body_bytes = body_bytes;
        } else {
            co_await stream.write_all(head);
            if (send_body && !co_await write_stream(stream, req, *resp.stream_, !close_delimited, sent)) co_return false;
        }
    } catch (const timeout_error& e) {
        log_error("http::server: " + req.method_ + " " + req.target_ + ": its response was cut: " + e.what());
        throw;
    }
    if (closing) co_await end_writing(stream);
    co_return true;
}

template <class Stream>
task<bool> server::runtime::write_stream(Stream& stream, const request& req, async_generator<std::string>& pieces,
                                         bool chunked, response_sent& sent) {
    std::exception_ptr failure;
    try {
        while (auto piece = co_await pieces.next()) {
            if (piece->empty()) continue;
            if (!chunked) {
                co_await stream.write_all(*piece);
                sent.body_bytes += piece->size();
                continue;
            }
            char size[32];
            const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece->size());
            const std::string_view framed[] = {std::string_view(size, static_cast<std::size_t>(n)), *piece, "\r\n"};
            co_await stream.write_all(std::span<const std::string_view>(framed));
            sent.body_bytes += piece->size();
        }
        if (chunked) co_await stream.write_all("0\r\n\r\n");
        co_return true;
    } catch (const connection_error&) {
        throw;  // the peer went away
    } catch (const timeout_error&) {
        throw;  // no write progress: logged by write_response
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    // The body failed half-way: reset the connection so the client cannot take what it got
    // for the whole body.
    log_error("http::server: " + req.method_ + " " + req.target_ + ": its response stream failed: " + describe(failure));
    stream.abort();
    co_return false;
}

// ---- server ----

server::server(server_options options)
    : options_(options),
      largest_body_limit_(options.limits.max_body_size),
      registry_(std::make_shared<registry>()),
      metrics_(std::make_unique<request_metrics>()) {}

server& server::metrics(std::string path) {
    get(std::move(path), [this](request&) -> task<response> {
        corio::metrics::sample_writer out;
        corio::metrics::registry::global().write(out);
        metrics_->report(out, open_connections());
        co_return response(200, out.text(), std::string(corio::metrics::content_type));
    });
    return *this;
}

server::~server() {
    // The background serve() uses this object: destroying it first would be a use-after-free.
    if (background_ && !background_->done()) {
        log_error("http::server destroyed while it still serves in the background: call stop() and co_await "
                  "wait_closed() first");
        std::terminate();
    }
}

server& server::route(std::string method, std::string pattern, handler h, route_options options) {
    add_route(std::move(method), std::move(pattern), std::move(h), std::move(options), nullptr);
    return *this;
}

void server::add_route(std::string method, std::string pattern, handler h, route_options options,
                       std::shared_ptr<const std::vector<middleware>> chain) {
    require_path("a route", pattern);
    if (!is_token(method)) throw std::invalid_argument("http::server: a method must be a token: " + method);
    if (!h) throw std::invalid_argument("http::server: the handler of " + method + " " + pattern + " is empty");
    std::vector<std::string> segments;
    for (const std::string_view segment : detail::split_segments(pattern)) segments.emplace_back(segment);
    largest_body_limit_ = std::max(largest_body_limit_, options.max_body_size.value_or(0));
    routes_.push_back({std::move(method), std::move(segments), std::move(h), std::move(options), std::move(chain)});
}

server& server::use(middleware mw) {
    if (!mw) throw std::invalid_argument("http::server: use() was given an empty middleware");
    middleware_.push_back(std::move(mw));
    return *this;
}

route_group server::group(std::string prefix) { return route_group(*this, std::move(prefix)); }

server& server::static_files(std::string prefix, std::string directory, static_options options) {
    require_path("a static_files prefix", prefix);
    auto files = std::make_shared<const detail::static_directory>(std::move(directory), std::move(options));
    auto segments = detail::split_segments(prefix);
    if (segments.back().empty()) segments.pop_back();  // "/assets/" is "/assets", "/" is every path
    handler serve = [files, prefix_segments = segments.size()](request& req) { return files->serve(req, prefix_segments); };
    add_route("GET", std::move(prefix), std::move(serve), {}, nullptr);
    route_entry& r = routes_.back();
    r.segments.resize(segments.size());
    r.prefix_only = true;
    return *this;
}

// ---- route_group ----

route_group::route_group(server& owner, std::string prefix)
    : owner_(&owner), prefix_(std::move(prefix)), chain_(std::make_shared<std::vector<middleware>>()) {
    require_path("a group prefix", prefix_);
    while (prefix_.size() > 1 && prefix_.back() == '/') prefix_.pop_back();
    if (prefix_ == "/") prefix_.clear();
}

route_group& route_group::use(middleware mw) {
    if (!mw) throw std::invalid_argument("http::server: use() was given an empty middleware");
    chain_->push_back(std::move(mw));
    return *this;
}

route_group& route_group::route(std::string method, std::string pattern, handler h, route_options options) {
    require_path("a route", pattern);
    owner_->add_route(std::move(method), prefix_ + (pattern == "/" && !prefix_.empty() ? "" : pattern), std::move(h),
                      std::move(options), chain_);
    return *this;
}

const server::route_entry* server::match(std::string_view method, const std::vector<std::string>& segments,
                                         std::vector<std::pair<std::string, std::string>>& params,
                                         std::string& allowed) const {
    for (const route_entry& r : routes_) {
        const bool sized = r.prefix_only ? segments.size() >= r.segments.size() : segments.size() == r.segments.size();
        if (!sized) continue;
        bool fits = true;
        for (std::size_t i = 0; fits && i < r.segments.size(); ++i)
            fits = is_param(r.segments[i]) || r.segments[i] == segments[i];
        if (!fits) continue;
        if (r.method != method) {
            if (allowed.find(r.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + r.method;
            continue;
        }
        params.clear();
        for (std::size_t i = 0; i < r.segments.size(); ++i)
            if (is_param(r.segments[i])) params.emplace_back(r.segments[i].substr(1, r.segments[i].size() - 2), segments[i]);
        return &r;
    }
    return nullptr;
}

std::string server::all_methods() const {
    std::vector<std::string_view> methods;
    for (const route_entry& r : routes_) {
        methods.push_back(r.method);
        if (r.method == "GET") methods.push_back("HEAD");
    }
    methods.push_back("OPTIONS");
    std::sort(methods.begin(), methods.end());
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    std::string out;
    for (const std::string_view m : methods) out.append(out.empty() ? "" : ", ").append(m);
    return out;
}

/// Every serve() running (one runtime per loop) and whether stop() was called. Shared, through
/// a shared_ptr, with the stop requests stop() posts to the runtimes' loops: a request may run
/// after its serve() returned and even after the server was destroyed, and then finds nothing.
/// Runtimes are known by an id that is never reused (an address could be, by another runtime
/// on another loop).
class server::registry {
public:
    /// On r's loop: registers r; stops it at once if stop() came first. Returns its id.
    std::uint64_t add(runtime* r, loop_handle loop) {
        std::lock_guard lock(mutex_);
        const std::uint64_t id = next_id_++;
        runtimes_.push_back({id, r, std::move(loop)});
        if (stop_requested_) r->request_stop(grace_);
        return id;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        std::erase_if(runtimes_, [id](const entry& e) { return e.id == id; });
    }
    /// Any thread: asks every runtime, on its own loop, to stop within `grace`.
    static void stop_all(const std::shared_ptr<registry>& self, std::chrono::nanoseconds grace) {
        std::lock_guard lock(self->mutex_);
        self->stop_requested_ = true;
        self->grace_ = grace;
        for (const entry& e : self->runtimes_)
            e.loop.post([self, id = e.id, grace] { self->stop(id, grace); });
    }

private:
    /// On runtime `id`'s loop: stops it, if it still runs.
    void stop(std::uint64_t id, std::chrono::nanoseconds grace) {
        std::lock_guard lock(mutex_);
        for (const entry& e : runtimes_)
            if (e.id == id) e.r->request_stop(grace);
    }

    struct entry {
        std::uint64_t id;
        runtime* r;  // valid while registered; used on its own loop only
        loop_handle loop;
    };
    std::mutex mutex_;  // guards everything below
    std::vector<entry> runtimes_;
    std::uint64_t next_id_ = 1;
    bool stop_requested_ = false;
    std::chrono::nanoseconds grace_{};
};

net::tcp_listener server::listen(net::endpoint local, bool reuse_port) {
    auto listener = net::tcp_listener::bind(local, {.backlog = 1024, .reuse_port = reuse_port});
    std::lock_guard lock(mutex_);
    if (!local_) local_ = listener.local_endpoint();
    return listener;
}

task<> server::serve(net::endpoint local, bool reuse_port) {
    co_await serve(listen(local, reuse_port));  // a coroutine: nothing binds before it runs, on its loop
}

task<> server::serve(net::endpoint local, net::tls_context tls, bool reuse_port) {
    reload_tls(std::move(tls));
    co_await serve_on(listen(local, reuse_port), true);
}

task<> server::serve(net::tcp_listener listener) { return serve_on(std::move(listener), false); }

task<> server::serve(net::unix_listener listener) { return serve_on(std::move(listener), false); }

void server::reload_tls(net::tls_context tls) {
    std::lock_guard lock(mutex_);
    tls_ = std::move(tls);
}

net::tls_context server::current_tls() const {
    std::lock_guard lock(mutex_);
    return *tls_;
}

task<> server::serve_on(any_listener listener, bool tls) {
    if (const auto* tcp = std::get_if<net::tcp_listener>(&listener)) {
        std::lock_guard lock(mutex_);
        if (!local_) local_ = tcp->local_endpoint();
    }
    runtime rt(*this, std::move(listener), tls);
    const std::uint64_t id = registry_->add(&rt, current_loop("http::server::serve").handle());
    std::exception_ptr failure;
    try {
        co_await rt.run();
    } catch (...) {
        failure = std::current_exception();
    }
    registry_->remove(id);
    if (failure) std::rethrow_exception(failure);
}

task<net::endpoint> server::start(net::endpoint local, bool reuse_port) { return start_on(local, reuse_port, false); }

task<net::endpoint> server::start(net::endpoint local, net::tls_context tls, bool reuse_port) {
    reload_tls(std::move(tls));
    return start_on(local, reuse_port, true);
}

task<net::endpoint> server::start_on(net::endpoint local, bool reuse_port, bool tls) {
    if (background_ && !background_->done())
        throw std::logic_error("http::server::start: already serving in the background; stop() and wait_closed() first");
    net::tcp_listener listener = listen(local, reuse_port);  // listening from here on: no race
    const net::endpoint bound = listener.local_endpoint();
    background_ = spawn(serve_on(std::move(listener), tls), "http::server");
    co_return bound;
}

task<> server::wait_closed() {
    if (!background_) co_return;
    auto serving = *background_;  // a copy: the member may be replaced by a later start()
    co_await serving;
}

std::optional<net::endpoint> server::local_endpoint() const {
    std::lock_guard lock(mutex_);
    return local_;
}

void server::stop() { stop(options_.shutdown_grace); }

void server::stop(std::chrono::nanoseconds grace) { registry::stop_all(registry_, grace); }

void server::run(net::endpoint local, int threads, run_options loop_options) {
    run_on(local, std::nullopt, threads, loop_options);
}

void server::run(net::endpoint local, net::tls_context tls, int threads, run_options loop_options) {
    run_on(local, std::move(tls), threads, loop_options);
}

void server::run_on(net::endpoint local, std::optional<net::tls_context> tls, int threads, run_options loop_options) {
    if (threads > 1 && local.port() == 0) throw std::invalid_argument("http::server::run: several threads need an explicit port");
    const auto serve_here = [this, local, tls, reuse_port = threads > 1](int) {
        return tls ? serve(local, *tls, reuse_port) : serve(local, reuse_port);
    };
    try {
        if (threads <= 1)
            corio::run(serve_here(0), loop_options);
        else
            run_threads(threads, serve_here, loop_options);
    } catch (const cancelled_error&) {  // SIGINT/SIGTERM: the graceful shutdown has run
    }
}

}  // namespace corio::http
