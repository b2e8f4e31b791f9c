// Implementation of corio/http/client_session.hpp: the request cycle (pool, connect, send,
// read the head, redirects); the body is read by client_response through body_reader.
#include "corio/http/client_session.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>

#include "body_reader.hpp"
#include "connection_pool.hpp"
#include "proxy.hpp"
#include "request_body.hpp"
#include "websocket_state.hpp"
#include "corio/context_var.hpp"
#include "corio/log.hpp"
#include "corio/net/resolve.hpp"
#include "corio/wait_for.hpp"

namespace corio::http {
namespace detail {

/// Everything a session shares with its in-flight requests and unread responses.
class session_state {
public:
    explicit session_state(session_options o)
        : options(std::move(o)),
          proxies(options),
          pool({.limit = options.limit, .limit_per_host = options.limit_per_host,
                .keepalive = options.keepalive_timeout}) {
        if (options.limit == 0) throw std::invalid_argument("client_session: limit must be at least 1");
        if (!options.base_url.empty()) base = url::parse(options.base_url);
    }

    const net::tls_context& tls() {
        if (!tls_)
            tls_ = options.tls ? *options.tls
                               : net::tls_context::client({.verify = options.verify_tls,
                                                           .ca_file = options.ca_file,
                                                           .ca_dir = options.ca_dir,
                                                           .certificate_chain_file = options.client_cert_file,
                                                           .private_key_file = options.client_key_file,
                                                           .min_version = options.tls_min_version});
        return *tls_;
    }

    /// Addresses of host:port, from a cache entry younger than dns_ttl or a fresh lookup.
    task<std::vector<net::endpoint>> resolve(const url& u, std::chrono::nanoseconds timeout, const request_clock& clk) {
        const std::string key = u.host_port();
        const auto now = clock::now();
        if (auto it = dns_cache_.find(key); it != dns_cache_.end() && it->second.expires > now) {
            clk.trace(trace_kind::dns_cache_hit, u.host());
            co_return it->second.endpoints;
        }
        clk.trace(trace_kind::dns_start, u.host());
        auto endpoints = co_await net::resolve(u.host(), u.port(), {.timeout = timeout});
        clk.trace(trace_kind::dns_end, u.host());
        if (dns_cache_.size() >= max_dns_entries) dns_cache_.clear();
        dns_cache_[key] = {endpoints, deadline_after(clock::now(), dns_ttl)};
        co_return endpoints;
    }
    void forget_address(const url& u) { dns_cache_.erase(u.host_port()); }
    /// A new request's place in the trace (session_options::trace): none without a hook.
    trace_context start_trace() {
        ++requests_;
        if (!options.trace) return {};
        return {&options.trace, requests_, clock::now()};
    }

    session_options options;
    std::optional<url> base;
    proxy_settings proxies;
    connection_pool pool;
    cookie_jar jar;

private:
    static constexpr std::chrono::seconds dns_ttl{10};
    static constexpr std::size_t max_dns_entries = 1024;
    struct dns_entry {
        std::vector<net::endpoint> endpoints;
        clock::time_point expires;
    };
    std::optional<net::tls_context> tls_;  // made on the first https request (reads CA files)
    std::unordered_map<std::string, dns_entry> dns_cache_;
    std::uint64_t requests_ = 0;  // requests started, numbering them for the trace
};

namespace {

/// One request as it goes out; redirects rewrite it. (A constructor, not an aggregate: g++ 12
/// miscompiles aggregate initialisation of non-trivial members inside coroutines.)
struct outgoing {
    outgoing(std::string m, url t, http::headers f) : method(std::move(m)), target(std::move(t)), fields(std::move(f)) {}

    std::string method;
    url target;
    http::headers fields;  // the caller's headers over the session's defaults
    std::string body;
    std::shared_ptr<request_body> streamed;  // instead of `body`: a stream, a file, a form
};

bool is_idempotent(std::string_view method) {
    constexpr std::array<std::string_view, 6> methods{"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    return std::find(methods.begin(), methods.end(), method) != methods.end();
}

void check_field(const std::string& description, std::string_view name, std::string_view value) {
    if (!is_token(name) || breaks_line(value))
        throw error(description + ": header '" + std::string(name) + "' has an invalid name or a CR, LF or NUL in its value");
}

/// "https://h:8443": the scheme, host and port (a default port left out), as a pool key and in traces.
std::string origin_of(const url& u) { return u.scheme() + "://" + u.host_header(); }

url request_url(const session_state& s, std::string_view text, const query_params& params) {
    url u = s.base ? resolve(*s.base, text) : url::parse(text);
    if (u.scheme() != "http" && u.scheme() != "https")
        throw url_error("unsupported URL scheme '" + u.scheme() + "' in \"" + std::string(text) + "\" (http and https only)");
    return u.with_params(params).without_fragment();
}

/// The request head; `body_length` nullopt for a chunked body. Sent to a proxy that forwards it
/// (`forward_via`), the target is in absolute form and the proxy's credentials are added.
std::string serialize_head(session_state& s, const outgoing& req, const std::string& description,
                           std::optional<std::uint64_t> body_length, const proxy_route* forward_via) {
    std::string head;
    head.reserve(256);
    const std::string target = forward_via != nullptr ? req.target.to_string() : req.target.target();
    head.append(req.method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
    head.append(req.target.host_header()).append("\r\n");
    const auto field = [&](std::string_view name, std::string_view value) {
        check_field(description, name, value);
        head.append(name).append(": ").append(value).append("\r\n");
    };
    for (const auto& [name, value] : req.fields)
        if (!iequals(name, "Host") && !iequals(name, "Content-Length") && !iequals(name, "Transfer-Encoding"))
            field(name, value);  // the client frames the body itself
    if (!req.fields.contains("User-Agent")) field("User-Agent", s.options.user_agent);
    if (!req.fields.contains("Accept")) field("Accept", "*/*");
    if (s.options.auto_decompress && !req.fields.contains("Accept-Encoding")) field("Accept-Encoding", "gzip, deflate");
    if (s.options.send_request_id && !req.fields.contains("X-Request-Id"))
        if (const std::string* id = request_id.get(); id != nullptr && !id->empty()) field("X-Request-Id", *id);
    if (s.options.use_cookies)
        if (const std::string cookies = s.jar.header_for(req.target); !cookies.empty()) field("Cookie", cookies);
    if (forward_via != nullptr && !forward_via->authorization.empty() && !req.fields.contains("Proxy-Authorization"))
        field("Proxy-Authorization", forward_via->authorization);
    const bool sends_body = body_length != 0 || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!body_length)
        field("Transfer-Encoding", "chunked");
    else if (sends_body)
        field("Content-Length", std::to_string(*body_length));
    head.append("\r\n");
    return head;
}

/// Sets Authorization from the first of: the request's credentials, its own header, the URL's
/// user:password, the session's; and takes the user:password out of the URL (out of messages).
void add_credentials(outgoing& req, const std::optional<auth>& request_auth, const std::optional<auth>& session_auth) {
    if (request_auth) {
        req.fields.set("Authorization", request_auth->header_value());
    } else if (!req.fields.contains("Authorization")) {
        if (req.target.has_userinfo())
            req.fields.set("Authorization", auth::basic(req.target.decoded_user(), req.target.decoded_password()).header_value());
        else if (session_auth)
            req.fields.set("Authorization", session_auth->header_value());
    }
    req.target = req.target.without_userinfo();
}

/// What a redirect response turns the request into; false if it is not one to follow.
bool redirect(outgoing& req, int status, std::string_view location) {
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) return false;
    url next = resolve(req.target, escape_unsafe(location)).without_fragment().without_userinfo();
    const bool to_get = (status == 303 && req.method != "HEAD") || ((status == 301 || status == 302) && req.method == "POST");
    if (to_get) {
        req.method = "GET";
        req.body.clear();
        req.streamed.reset();
        req.fields.erase("Content-Type");
    } else if (req.streamed && req.streamed->consumed()) {
        throw stream_consumed_error("the " + std::to_string(status) + " redirect to " + next.to_string() +
                                    " needs the request body again, but it was a stream already sent"
                                    " (send bytes or a file to follow it)");
    }
    if (origin_of(next) != origin_of(req.target)) {
        req.fields.erase("Authorization");
        req.fields.erase("Proxy-Authorization");
        req.fields.erase("Cookie");
    }
    req.target = std::move(next);
    return true;
}

/// How a request reaches its origin: directly, through a proxy that forwards it, or through a
/// proxy's CONNECT tunnel; and the pool key of its connections.
struct route {
    route(const session_state& s, const url& target, bool websocket)
        : proxy(s.options.unix_socket.empty() ? s.proxies.route_for(target) : nullptr), tunnel(proxy != nullptr && (target.scheme() == "https" || websocket)) {
        key = origin_of(target);
        if (proxy != nullptr) key += (tunnel ? " via CONNECT " : " via ") + proxy->origin;
    }
    const proxy_route* forward_via() const noexcept { return tunnel ? nullptr : proxy; }

    const proxy_route* proxy;  // null: direct
    bool tunnel;               // a CONNECT tunnel through `proxy`
    std::string key;           // "https://h via CONNECT http://p:3128"
};

/// A new connection over session_options::unix_socket, within `budget`; `phase` names the wait
/// for a timeout, `opened` counts it.
template <class Opened>
task<std::unique_ptr<pooled_connection>> open_unix_connection(session_state& s, const url& u, std::chrono::nanoseconds budget,
                                                              pool_slot slot, std::string& phase, const Opened& opened) {
    const std::string& path = s.options.unix_socket;
    if (u.scheme() != "http")
        throw net::connect_error("connect to " + path + " failed: only http:// requests go over a Unix socket, not " + u.scheme() + "://");
    phase = "connecting to " + path;
    net::unix_options options;
    options.connect_timeout = budget;
    net::unix_stream stream = co_await net::unix_stream::connect(path, options);
    opened();
    co_return std::make_unique<pooled_connection>(std::move(slot), std::move(stream));
}

/// A new connection to `u` (by way of `way`): DNS, TCP connect, the proxy's CONNECT and the
/// TLS handshake share ONE deadline (the connect limit, capped by the total); expiry names the
/// phase it cut.
task<std::unique_ptr<pooled_connection>> open_connection(session_state& s, request_clock& clk, const url& u, const route& way,
                                                         pool_slot slot) {
    const auto deadline = deadline_after(clock::now(), clk.budget(clk.timeout().connect, "connect"));
    const auto left = [deadline] { return std::max<std::chrono::nanoseconds>(deadline - clock::now(), std::chrono::nanoseconds(1)); };
    const url& peer = way.proxy != nullptr ? way.proxy->address : u;  // whom the socket connects to
    const std::string authority = peer.host() + ":" + std::to_string(peer.port());
    const std::string peer_name = (way.proxy != nullptr ? "the proxy " : "") + authority;
    std::string phase = "resolving " + peer.host();
    clk.trace(trace_kind::connection_create_start, way.key);
    const auto opened = [&clk, &way, began = clock::now()] {
        client_metrics& counted = client_metrics::get();
        counted.opened.add();
        counted.connect.observe(std::chrono::duration<double>(clock::now() - began).count());
        clk.trace(trace_kind::connection_create_end, way.key);
    };
    try {
        if (!s.options.unix_socket.empty()) co_return co_await open_unix_connection(s, u, left(), std::move(slot), phase, opened);
        auto endpoints = co_await s.resolve(peer, left(), clk);
        phase = "connecting to " + peer_name;
        net::tcp_options options;
        options.connect_timeout = left();
        net::tcp_stream tcp;
        try {
            tcp = co_await net::tcp_stream::connect(std::move(endpoints), peer_name, options);
        } catch (const net::connect_error&) {
            s.forget_address(peer);  // the next attempt resolves again
            throw;
        }
        if (way.tunnel) {
            phase = "waiting for " + peer_name + " to open a tunnel";
            co_await open_tunnel(tcp, *way.proxy, u, deadline, s.options.limits);
        }
        if (u.scheme() == "http") {
            opened();
            co_return std::make_unique<pooled_connection>(std::move(slot), std::move(tcp));
        }
        phase = "doing the TLS handshake with " + u.host() + ":" + std::to_string(u.port());
        auto tls = co_await net::tls_stream::connect(std::move(tcp), s.tls(), u.host(), left());
        opened();
        co_return std::make_unique<pooled_connection>(std::move(slot), std::move(tls));
    } catch (const timeout_error&) {
        clk.throw_timeout(phase.c_str());
    }
}

/// A connection to the request's origin (by way of `way`): an idle pooled one, or a new one.
task<std::unique_ptr<pooled_connection>> obtain_connection(session_state& s, request_clock& clk, const url& u, const route& way) {
    pool_lease lease;
    const std::string& origin = way.key;
    bool queued = false;
    std::function<void()> on_queued;  // named, not built inside the co_await (g++ 12)
    if (clk.tracing_on()) on_queued = [&] {
        queued = true;
        clk.trace(trace_kind::connection_queued_start, origin);
    };
    try {
        lease = co_await wait_for(s.pool.acquire(origin, std::move(on_queued)), clk.budget(clk.timeout().pool_acquire, "pool_acquire"));
    } catch (const timeout_error&) {
        clk.throw_timeout("waiting for a connection from the pool");
    }
    if (queued) clk.trace(trace_kind::connection_queued_end, origin);
    if (lease.connection) {
        clk.trace(trace_kind::connection_reuse, origin);
        co_return std::move(lease.connection);
    }
    co_return co_await open_connection(s, clk, u, way, std::move(lease.slot));
}

/// Reads until the final (non-1xx) response head; false if the connection closed before any
/// byte of it arrived.
task<bool> read_head(pooled_connection& c, response_parser& parser, request_clock& clk) {
    bool any_byte = false;
    for (;;) {
        const parse_result r = parser.parse(c.unread());
        c.consume(r.consumed);
        if (r.event == parse_event::headers && parser.head().status >= 200) co_return true;
        if (r.event != parse_event::need_more) continue;  // an interim 1xx response and its end
        c.set_read_timeout(clk.budget(clk.timeout().sock_read, "sock_read"));
        std::size_t n = 0;
        try {
            n = co_await c.fill();
        } catch (const timeout_error&) {
            clk.throw_timeout("waiting for the response headers");
        }
        if (n == 0) {
            if (any_byte) parser.finish();  // throws: the head was cut short
            co_return false;
        }
        if (!any_byte) clk.trace(trace_kind::response_first_byte);
        any_byte = true;
    }
}

}  // namespace

namespace {

/// Writes the head and the body, within the total deadline and without a stall longer than
/// what is left of it (or 60 s without a total).
task<> write_request(pooled_connection& c, request_clock& clk, const std::string& head, const outgoing& req) {
    const std::string& body = req.body;
    const std::chrono::nanoseconds stall = clk.budget({}, "write");
    c.set_write_timeout(stall);
    try {
        if (!req.streamed && !body.empty() && body.size() <= 64 * 1024) {
            co_await c.write_all(head + body, clk.deadline());  // one send for small bodies
            clk.trace(trace_kind::request_headers_sent, {}, 0, head.size());
        } else {
            co_await c.write_all(head, clk.deadline());
            clk.trace(trace_kind::request_headers_sent, {}, 0, head.size());
            if (req.streamed)
                co_await req.streamed->write(c, clk.deadline(), stall);
            else if (!body.empty())
                co_await c.write_all(body, clk.deadline());
        }
    } catch (const timeout_error&) {
        clk.throw_timeout("sending the request");
    }
}

}  // namespace

/// One exchange: a connection, the request written, the response head read.
struct exchange {
    exchange(std::unique_ptr<pooled_connection> c, const parse_limits& limits) : connection(std::move(c)), parser(limits) {}

    std::unique_ptr<pooled_connection> connection;
    response_parser parser;
};

task<exchange> send_request(session_state& s, request_clock& clk, const outgoing& req) {
    std::optional<std::uint64_t> body_length = req.body.size();  // nullopt: chunked
    if (req.streamed && req.streamed->chunked()) body_length.reset();
    if (req.streamed && !req.streamed->chunked()) body_length = co_await req.streamed->open(clk.description());
    const route way(s, req.target, false);
    const std::string head = serialize_head(s, req, clk.description(), body_length, way.forward_via());
    for (int attempt = 0;; ++attempt) {
        exchange ex(co_await obtain_connection(s, clk, req.target, way), s.options.limits);
        if (req.method == "HEAD") ex.parser.expect_no_body();
        const bool reused = ex.connection->reused;
        bool answered = false;
        try {
            co_await write_request(*ex.connection, clk, head, req);
            answered = co_await read_head(*ex.connection, ex.parser, clk);
        } catch (const connection_error&) {
            // A reused connection the server had closed while idle: retried below.
            if (!reused || attempt > 0 || !is_idempotent(req.method) || (req.streamed && req.streamed->consumed())) throw;
        }
        if (answered) co_return ex;
        if (!reused || attempt > 0 || !is_idempotent(req.method) || (req.streamed && req.streamed->consumed()))
            throw protocol_error("the server closed the connection without responding");
    }
}

}  // namespace detail

task<client_response> client_session::perform(std::shared_ptr<detail::session_state> state, std::string method,
                                               std::string url_text, request_options options) {
    detail::session_state& s = *state;
    if (!is_token(method))  // it goes on the wire as it is: no CR, LF, space or other separator
        throw std::invalid_argument("client_session: the method must be an HTTP token: \"" + escape_unsafe(method) + "\"");
    detail::outgoing req(std::move(method), detail::request_url(s, url_text, options.params_), std::move(options.headers_));
    detail::add_credentials(req, options.auth_, s.options.auth);
    if (s.pool.closed())
        throw session_closed_error(req.method + " " + req.target.to_string() + ": the client session is closed");
    req.fields.merge_missing(s.options.headers);
    req.body = std::move(options.body_);
    req.streamed = std::move(options.streamed_);
    const client_timeout timeout = options.timeout_.value_or(s.options.timeout);
    const corio::detail::deadline_check check("HTTP", timeout.total.count() > 0 ? timeout.total : std::chrono::nanoseconds::max(),
                                       [&] { return req.method + " " + req.target.to_string(); });
    if (timeout.total.count() <= 0 && timeout.sock_read.count() <= 0)
        throw std::invalid_argument("client_timeout: set total or sock_read (a request may not wait forever)");
    const bool follow = options.follow_redirects_.value_or(s.options.follow_redirects);
    const int max_redirects = options.max_redirects_.value_or(s.options.max_redirects);
    detail::request_clock clk(req.method + " " + req.target.to_string(), timeout);
    clk.set_trace(s.start_trace());
    clk.trace(trace_kind::request_start);
    const std::string requested = clk.description();  // redirects rename clk; errors name the request
    std::vector<std::string> history;
    client_response response;
    try {
        for (;;) {
            std::optional<detail::exchange> ex;
            try {
                ex = co_await detail::send_request(s, clk, req);
            } catch (const connection_error&) {
                if (s.pool.closed()) throw session_closed_error(clk.description() + ": the client session was closed during the request");
                detail::rethrow_naming(clk.description());
            } catch (const parse_error&) {
                detail::rethrow_naming(clk.description());
            }
            const response_head& head = ex->parser.head();
            if (s.options.use_cookies)
                for (const header_field& f : head.headers)
                    if (iequals(f.name, "Set-Cookie")) s.jar.update(req.target, f.value);
            const auto location = head.find("Location");
            const int status = head.status;
            std::string answered_url = req.target.to_string();
            if (follow && location && detail::redirect(req, status, *location)) {
                // The redirect's own body is not wanted: its connection is closed unless it has none.
                const bool empty = head.content_length == 0;
                detail::body_reader(state, std::move(ex->connection), std::move(ex->parser), clk, "", 0).finish_if_empty(empty);
                if (static_cast<int>(history.size()) >= max_redirects)
                    throw too_many_redirects_error(requested + ": more than " + std::to_string(max_redirects) +
                                                   " redirects (the last one to " + req.target.to_string() + ")");
                history.push_back(std::move(answered_url));
                clk.trace(trace_kind::request_redirect, req.target.to_string(), status);
                detail::request_clock next_hop(req.method + " " + req.target.to_string(), timeout);
                next_hop.set_trace(clk.tracing());
                clk = std::move(next_hop);
                continue;
            }
            response.status_ = status;
            response.version_minor_ = head.version_minor;
            response.reason_ = std::string(head.reason);
            for (const header_field& f : head.headers) response.headers_.add(std::string(f.name), std::string(f.value));
            response.content_length_ = head.content_length;
            response.method_ = req.method;
            response.url_ = std::move(answered_url);
            response.history_ = std::move(history);
            clk.trace(trace_kind::request_end, {}, status);
            const bool no_body = req.method == "HEAD" || status == 204 || status == 304 || head.content_length == 0;
            const auto encoding = s.options.auto_decompress ? head.find("Content-Encoding").value_or("") : std::string_view();
            response.reader_ = std::make_unique<detail::body_reader>(state, std::move(ex->connection), std::move(ex->parser),
                                                                     std::move(clk), encoding, s.options.limits.max_body_size);
            response.reader_->finish_if_empty(no_body);
            break;
        }
    } catch (...) {
        if (clk.tracing_on()) clk.trace(trace_kind::request_exception, describe(std::current_exception()));
        throw;
    }
    if (options.raise_for_status_.value_or(s.options.raise_for_status)) response.raise_for_status();
    co_return response;
}

namespace {

/// "ws://h/x" -> "http://h/x", "wss://" -> "https://"; other text as it is.
std::string http_form_of(std::string text) {
    if (text.size() >= 5 && iequals(std::string_view(text).substr(0, 5), "ws://")) return "http" + text.substr(2);
    if (text.size() >= 6 && iequals(std::string_view(text).substr(0, 6), "wss://")) return "https" + text.substr(3);
    return text;
}

/// The handshake request's fields beyond what every request carries.
void add_handshake_fields(detail::outgoing& req, const std::string& key, const websocket_options& options) {
    req.fields.set("Upgrade", "websocket");
    req.fields.set("Connection", "Upgrade");
    req.fields.set("Sec-WebSocket-Key", key);
    req.fields.set("Sec-WebSocket-Version", "13");
    if (options.compression) req.fields.set("Sec-WebSocket-Extensions", std::string(detail::ws_deflate_offer));
    std::string protocols;
    for (const std::string& p : options.protocols) protocols.append(protocols.empty() ? "" : ", ").append(p);
    if (!protocols.empty()) req.fields.set("Sec-WebSocket-Protocol", protocols);
}

/// Checks the server's 101 against what was asked; what it settled.
detail::ws_handshake_result check_switch(const response_head& head, const std::string& key, const websocket_options& options,
                                         const std::string& description) {
    const auto wrong = [&](const std::string& why) { return websocket_handshake_error(0, description + ": " + why); };
    const auto has = [&](std::string_view name, std::string_view token) {
        const auto value = head.find(name);
        if (!value) return false;
        const auto elements = list_elements(*value);
        return std::any_of(elements.begin(), elements.end(), [&](std::string_view e) { return iequals(e, token); });
    };
    if (!has("Upgrade", "websocket") || !has("Connection", "upgrade"))
        throw wrong("the 101 response lacks Upgrade: websocket or Connection: Upgrade");
    if (head.find("Sec-WebSocket-Accept") != std::optional<std::string_view>(detail::ws_accept_key(key)))
        throw wrong("the 101 response's Sec-WebSocket-Accept does not match the key sent");
    detail::ws_handshake_result result;
    if (const auto extension = head.find("Sec-WebSocket-Extensions")) {
        if (!options.compression) throw wrong("the server accepted an extension that was not offered");
        try {
            result.deflate = detail::ws_client_deflate(*extension);
        } catch (const detail::ws_violation& v) {
            throw wrong(v.what());
        }
    }
    if (const auto protocol = head.find("Sec-WebSocket-Protocol")) {
        if (std::find(options.protocols.begin(), options.protocols.end(), *protocol) == options.protocols.end())
            throw wrong("the server chose the subprotocol '" + std::string(*protocol) + "', which was not offered");
        result.protocol = std::string(*protocol);
    }
    return result;
}

/// Reads the handshake's response head into `parser` (false if the connection closed first).
task<bool> read_switch(detail::pooled_connection& c, response_parser& parser, detail::request_clock& clk) {
    for (;;) {
        const parse_result r = parser.parse(c.unread());
        if (r.event == parse_event::headers) {
            c.consume(r.consumed);  // the bytes after the head are the first frames
            co_return true;
        }
        c.consume(r.consumed);
        c.set_read_timeout(clk.budget(clk.timeout().sock_read, "sock_read"));
        std::size_t n = 0;
        try {
            n = co_await c.fill();
        } catch (const timeout_error&) {
            clk.throw_timeout("waiting for the WebSocket handshake response");
        }
        if (n == 0) co_return false;
    }
}

}  // namespace

task<websocket> client_session::ws_connect(std::string url, websocket_options options) {
    return connect_websocket(state_, std::move(url), std::move(options));
}

task<websocket> client_session::connect_websocket(std::shared_ptr<detail::session_state> state, std::string url_text,
                                                  websocket_options options) {
    detail::session_state& s = *state;
    detail::outgoing req("GET", detail::request_url(s, http_form_of(std::move(url_text)), {}), options.headers);
    const std::string shown = req.target.without_userinfo().to_string();
    const std::string description = std::string("WebSocket ") + (req.target.scheme() == "https" ? "wss" : "ws") + shown.substr(shown.find(':'));
    if (s.pool.closed()) throw session_closed_error(description + ": the client session is closed");
    detail::add_credentials(req, std::nullopt, s.options.auth);
    req.fields.merge_missing(s.options.headers);
    const std::string key = detail::ws_new_key();
    add_handshake_fields(req, key, options);
    detail::request_clock clk(description, s.options.timeout);
    const detail::route way(s, req.target, true);
    const std::string head = detail::serialize_head(s, req, description, 0, nullptr);
    std::unique_ptr<detail::pooled_connection> connection;
    response_parser parser(s.options.limits);
    try {
        connection = co_await detail::obtain_connection(s, clk, req.target, way);
        co_await detail::write_request(*connection, clk, head, req);
        if (!co_await read_switch(*connection, parser, clk))
            throw protocol_error("the server closed the connection without answering the WebSocket handshake");
    } catch (const connection_error&) {
        detail::rethrow_naming(description);
    }
    const response_head& answer = parser.head();
    for (const header_field& f : answer.headers)
        if (s.options.use_cookies && iequals(f.name, "Set-Cookie")) s.jar.update(req.target, f.value);
    if (answer.status != 101)
        throw websocket_handshake_error(answer.status, description + ": the server answered " + std::to_string(answer.status) + " " +
                                                           std::string(answer.reason) + " instead of switching to WebSocket");
    detail::ws_handshake_result settled = check_switch(answer, key, options, description);
    const std::string leftover(connection->unread());
    auto ws = std::make_shared<detail::websocket_state>(std::move(*connection).take_stream(), leftover, true, std::move(options),
                                                        description, std::move(settled));
    detail::websocket_state::start(ws);
    co_return websocket(std::move(ws));
}

request_options& request_options::header(std::string name, std::string value) & {
    headers_.add(std::move(name), std::move(value));
    return *this;
}
request_options& request_options::headers(http::headers fields) & {
    for (auto& [name, value] : fields.fields()) headers_.add(name, value);
    return *this;
}
request_options& request_options::param(std::string key, std::string value) & {
    params_.add(std::move(key), std::move(value));
    return *this;
}
request_options& request_options::params(const query_params& more) & {
    for (const auto& [key, value] : more.items()) params_.add(key, value);
    return *this;
}
request_options& request_options::replace_body(std::string bytes, std::shared_ptr<detail::request_body> streamed,
                                               std::string content_type) {
    body_ = std::move(bytes);
    streamed_ = std::move(streamed);
    if (!content_type.empty()) headers_.set("Content-Type", std::move(content_type));
    return *this;
}
request_options& request_options::body(std::string bytes, std::string content_type) & {
    return replace_body(std::move(bytes), nullptr, std::move(content_type));
}
request_options& request_options::body(async_generator<std::string> pieces, std::string content_type) & {
    return replace_body({}, std::make_shared<detail::request_body>(std::move(pieces)), std::move(content_type));
}
request_options& request_options::file(std::string path, std::string content_type) & {
    std::vector<form_data::segment> whole_file{{{}, std::move(path)}};
    return replace_body({}, std::make_shared<detail::request_body>(std::move(whole_file)), std::move(content_type));
}
request_options& request_options::form(form_data form) & {
    return replace_body({}, std::make_shared<detail::request_body>(form.encode()), form.content_type());
}
request_options& request_options::json(nlohmann::json value) & { return body(value.dump(), "application/json"); }

request_options&& request_options::header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
}
request_options&& request_options::headers(http::headers fields) && { return std::move(headers(std::move(fields))); }
request_options&& request_options::param(std::string key, std::string value) && {
    return std::move(param(std::move(key), std::move(value)));
}
request_options&& request_options::body(std::string bytes, std::string content_type) && {
    return std::move(body(std::move(bytes), std::move(content_type)));
}
request_options&& request_options::json(nlohmann::json value) && { return std::move(json(std::move(value))); }
request_options&& request_options::form(query_params fields) && { return std::move(form(std::move(fields))); }
request_options&& request_options::body(async_generator<std::string> pieces, std::string content_type) && {
    return std::move(body(std::move(pieces), std::move(content_type)));
}
request_options&& request_options::file(std::string path, std::string content_type) && {
    return std::move(file(std::move(path), std::move(content_type)));
}
request_options&& request_options::form(form_data form) && { return std::move(this->form(std::move(form))); }
request_options&& request_options::auth(http::auth credentials) && { return std::move(auth(std::move(credentials))); }
request_options& request_options::form(query_params fields) & {
    return body(fields.encode(), "application/x-www-form-urlencoded");
}
request_options& request_options::auth(http::auth credentials) & {
    auth_ = std::move(credentials);
    return *this;
}
request_options& request_options::timeout(const client_timeout& limits) & {
    timeout_ = limits;
    return *this;
}
request_options& request_options::follow_redirects(bool on) & {
    follow_redirects_ = on;
    return *this;
}
request_options& request_options::max_redirects(int count) & {
    max_redirects_ = count;
    return *this;
}
request_options& request_options::raise_for_status(bool on) & {
    raise_for_status_ = on;
    return *this;
}

client_session::client_session(session_options options)
    : state_(std::make_shared<detail::session_state>(std::move(options))) {}
client_session::client_session(client_session&&) noexcept = default;
client_session& client_session::operator=(client_session&&) noexcept = default;
client_session::~client_session() { close(); }

task<client_response> client_session::request(std::string method, std::string url, request_options options) {
    if (!state_) throw session_closed_error(method + " " + url + ": the client session was moved from");
    return perform(state_, std::move(method), std::move(url), std::move(options));
}
task<client_response> client_session::get(std::string url, request_options options) {
    return request("GET", std::move(url), std::move(options));
}
task<client_response> client_session::post(std::string url, request_options options) {
    return request("POST", std::move(url), std::move(options));
}
task<client_response> client_session::put(std::string url, request_options options) {
    return request("PUT", std::move(url), std::move(options));
}
task<client_response> client_session::patch(std::string url, request_options options) {
    return request("PATCH", std::move(url), std::move(options));
}
task<client_response> client_session::delete_(std::string url, request_options options) {
    return request("DELETE", std::move(url), std::move(options));
}
task<client_response> client_session::head(std::string url, request_options options) {
    return request("HEAD", std::move(url), std::move(options));
}

cookie_jar& client_session::cookies() noexcept { return state_->jar; }
const session_options& client_session::options() const noexcept { return state_->options; }
std::size_t client_session::open_connections() const noexcept { return state_ ? state_->pool.open_count() : 0; }
std::size_t client_session::idle_connections() const noexcept { return state_ ? state_->pool.idle_count() : 0; }
bool client_session::closed() const noexcept { return !state_ || state_->pool.closed(); }

void client_session::close() noexcept {
    if (state_) state_->pool.close();
}

task<> client_session::aclose() {
    close();
    co_return;
}

}  // namespace corio::http
