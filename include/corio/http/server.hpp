// corio/http/server.hpp — http::server: an HTTP/1.1 server whose handlers are coroutines.
//
// snippet: examples/http_server.cpp#items
//   http::server app;
//   app.get("/items/{id}", [](http::request& req) -> corio::task<http::response> {
//       co_return http::response::json({{"id", std::string(req.param("id"))}});
//   });
//   const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));  // listening from here
//
// Routing: method + path, with `{name}` segments captured as path parameters. An unknown path
// answers 404, a known path with another method 405 (with Allow); HEAD is answered by the GET
// handler without the body. Every response gets Date and Server headers; keep-alive and
// pipelining follow HTTP/1.1 (requests on one connection are answered in order).
//
// Protection (server_options): the whole request head must arrive within header_timeout
// (slowloris; on a new connection the clock starts at the accept, so a silent connection cannot
// hold a slot for longer), the body within body_timeout; an idle keep-alive connection is closed
// after idle_timeout; a handler (with its middleware) running longer than handler_timeout is
// cancelled and answered 503; a response that makes no write progress for write_timeout is cut (and logged).
// Oversized heads and bodies are answered 431/414/413, malformed requests 400 (see
// parser.hpp and the target/Host rules below), an unsupported Transfer-Encoding 501, a major
// version other than 1 505; the connection is then closed. Bodies read whole before the handler
// share one server-wide budget (max_buffered_bytes): a request that would exceed it is answered
// 503 with Retry-After and its connection closed, never an out-of-memory.
// Request targets: origin-form and absolute-form (routed by its path); `OPTIONS *` is answered
// with the server's methods; CONNECT is 501. Every escape is checked: an invalid one, or a path
// decoding to NUL, is a 400 — never a dropped connection. Path parameters are decoded per
// segment ("%2F" stays inside its segment). An HTTP/1.1 request needs exactly one valid Host.
// A handler that throws yields a 500 with no detail in the body; the error is logged
// (corio::log_error) with the request id, also sent as X-Request-Id. A response whose header
// names or values could not go on the wire as they are (a name that is not a token; CR, LF, NUL
// or another control character in a value), or which sets Content-Length or Transfer-Encoding
// itself (the server frames bodies), or has a status outside 200-999, is a bug in the handler:
// it is logged naming the header and answered 500 — its bytes never reach the wire (no response
// splitting). A form_error (request::multipart, request::form) escaping a handler is answered
// with its status (400, 413, 415) and message, and the connection closed (the body may be left
// unread). A handler may set `Connection: close` to close after its response. At most
// max_connections are open: beyond that, accepting pauses until one closes.
// HTTP/1.0 clients get `Connection: keep-alive` when they asked for it, no 100 Continue, and a
// streamed response delimited by closing the connection (chunked is HTTP/1.1 only).
// A client that disconnects does not cancel its handler by default (a half-done write is worse
// than a wasted response); handlers can ask request::peer_disconnected(), and
// cancel_on_disconnect = true cancels them instead.
//
// Shutdown: stop(grace), SIGINT/SIGTERM (which cancel corio::run's main task) or cancelling
// serve(): the listener closes, idle connections close, requests in flight get up to `grace`
// to finish (their responses say Connection: close), then what is left is cancelled.
// HTTPS: serve(endpoint, tls_context), start(...) and run(...) take a context from
// net::tls_context::server(); the handshake and the first request's head share header_timeout;
// reload_tls() swaps the certificate for new connections without a restart.
// Multi-core: run(endpoint, threads) runs one loop per thread, each with its own SO_REUSEPORT
// listener (thread-per-core; the handlers must be safe to call from several threads).
//
// Throws: serve() throws connection_error if it cannot listen. Cancel safety: cancelling
// serve() shuts down as described and then propagates cancelled_error.
// Thread-safety: configure routes before serving; stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/async_generator.hpp"
#include "corio/event_loop.hpp"
#include "corio/file.hpp"
#include "corio/http/headers.hpp"
#include "corio/http/multipart.hpp"
#include "corio/http/parser.hpp"
#include "corio/http/url.hpp"
#include "corio/http/websocket.hpp"
#include "corio/net/endpoint.hpp"
#include "corio/net/tcp.hpp"
#include "corio/net/tls.hpp"
#include "corio/net/unix.hpp"
#include "corio/run.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"

namespace corio::http {

/// What went on the wire for a request (request::after_response).
struct response_sent {
    int status = 0;
    std::uint64_t body_bytes = 0;        ///< body bytes written (a HEAD response's are 0)
    std::chrono::nanoseconds duration{};  ///< from the end of the request's head to the last byte
    bool complete = false;               ///< false if the connection failed before the end
};

/// A request as a handler sees it: the head, the body, path parameters. The body is read whole
/// before the handler runs (within limits.max_body_size), unless the route was added with
/// route_options{.stream_body = true}: then the handler reads it with body_stream(), as it
/// arrives (the same limit and body_timeout apply; what the handler leaves unread is drained).
class request {
public:
    const std::string& method() const noexcept { return method_; }
    /// 1 for HTTP/1.1 (and later 1.x), 0 for HTTP/1.0.
    int version_minor() const noexcept { return version_minor_; }
    const std::string& target() const noexcept { return target_; }  ///< as sent (origin-form: path + "?" + query)
    const std::string& path() const noexcept { return path_; }      ///< decoded path ("*" for OPTIONS *)
    /// The path's segments, each decoded on its own ("/a%2Fb/c" -> "a/b", "c"; "/" -> "").
    const std::vector<std::string>& segments() const noexcept { return segments_; }
    const query_params& query() const noexcept { return query_; }
    const http::headers& headers() const noexcept { return headers_; }
    const std::string& body() const noexcept { return body_; }
    /// The body in pieces (each valid until the next); on a streaming route, read off the
    /// connection as it arrives, else the whole body at once. Cancel-safe: a next() cut short
    /// (by a wait_for, say) loses nothing; the following next() carries on.
    async_generator<std::string_view> body_stream();
    /// The body parsed as JSON; throws json_error (answered 400 if not caught).
    nlohmann::json json() const;
    /// The parts of a multipart/form-data body, each read as it arrives (http/multipart.hpp),
    /// within `limits`. Throws form_error at once if the body is not multipart/form-data (415)
    /// or has no boundary (400); the generator throws it for a malformed or oversized body. A
    /// form_error a handler lets escape is answered with its status.
    async_generator<multipart_part> multipart(multipart_options limits = {});
    /// The fields of an application/x-www-form-urlencoded or multipart/form-data body, in order
    /// (a file part's content as its value); form_error as multipart(), 415 for other types.
    task<query_params> form(multipart_options limits = {});
    /// A `{name}` segment of the route; "" if the route has none of that name.
    std::string_view param(std::string_view name) const noexcept;
    /// The client's address; an empty endpoint (family() 0) on a Unix socket, whose peers have none.
    const net::endpoint& peer() const noexcept { return peer_; }
    /// Numbered per server process (from 1).
    std::uint64_t id() const noexcept { return id_; }
    /// The id that log lines and the X-Request-Id response header carry, bound as
    /// corio::request_id while the request is handled: id() as text, or the client's own
    /// X-Request-Id with server_options::accept_request_id.
    const std::string& request_id() const noexcept { return request_id_; }
    /// Runs `fn` once the response has been written (or failed half-way), with what was sent:
    /// an access log, a metric. Called in the order added; an exception it throws is logged.
    void after_response(std::function<void(const request&, const response_sent&)> fn) {
        after_response_.push_back(std::move(fn));
    }
    /// True once the client has closed its side of the connection.
    bool peer_disconnected() const noexcept;

private:
    friend class server;
    std::string method_;
    int version_minor_ = 1;
    std::string target_;
    std::string path_;
    std::vector<std::string> segments_;  // the path's segments, each decoded on its own
    query_params query_;
    http::headers headers_;
    std::string body_;
    std::vector<std::pair<std::string, std::string>> params_;
    net::endpoint peer_;
    std::uint64_t id_ = 0;
    std::string request_id_;
    std::vector<std::function<void(const request&, const response_sent&)>> after_response_;
    std::function<bool()> peer_gone_;  // asks the connection
    std::function<task<std::optional<std::string_view>>()> body_source_;  // streaming routes only
};

namespace detail {
class file_handle;         // an open file (static_files.hpp)
struct ws_upgrade;         // a 101 answer's WebSocket session (ws_handshake.hpp)
class static_directory;    // server::static_files
/// Part of an open file as a response body, sent with sendfile.
struct file_part {
    std::shared_ptr<const file_handle> file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
}  // namespace detail

/// One server-sent event (response::sse), built with chainable setters:
///   co_yield http::sse_event(price.dump()).type("price").id(std::to_string(seq));
/// A type or id holding CR, LF or NUL (which would end the event early and forge another) is
/// refused with std::invalid_argument. Not an aggregate: see request_options.
class sse_event {
public:
    explicit sse_event(std::string data = {}) : data_(std::move(data)) {}

    sse_event& type(std::string event_type) &;          ///< "" for the default type, "message"
    sse_event& id(std::string event_id) &;              ///< becomes the client's Last-Event-ID
    sse_event& retry(std::chrono::milliseconds delay) &;  ///< the client's reconnection delay
    sse_event&& type(std::string t) && { return std::move(type(std::move(t))); }
    sse_event&& id(std::string i) && { return std::move(id(std::move(i))); }
    sse_event&& retry(std::chrono::milliseconds d) && { return std::move(retry(d)); }

    const std::string& data() const noexcept { return data_; }  ///< may hold newlines: one data: line each
    const std::string& type() const noexcept { return type_; }
    const std::string& id() const noexcept { return id_; }
    std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }

private:
    std::string data_;
    std::string type_;
    std::string id_;
    std::optional<std::chrono::milliseconds> retry_;
};

struct sse_options {
    /// A comment line sent when no event came for this long: proxies keep the connection, and a
    /// client that left is noticed (its write fails) even while the events wait. 0: none.
    std::chrono::nanoseconds heartbeat = std::chrono::seconds(15);
};

/// What a handler returns. A body, or a stream of pieces sent with chunked encoding.
class response {
public:
    response() = default;
    explicit response(int status, std::string body = {}, std::string content_type = "text/plain; charset=utf-8");

    static response text(std::string body, int status = 200);
    static response json(const nlohmann::json& value, int status = 200);
    /// Sends each yielded piece as a chunk as soon as it is produced.
    static response stream(async_generator<std::string> pieces, std::string content_type = "application/octet-stream",
                           int status = 200);
    /// Server-sent events (text/event-stream): each event is sent as soon as it is yielded.
    /// The generator runs in a task of its own, cancelled when the stream ends (the client
    /// left, the server stops): its frame is destroyed then, so its RAII cleanup runs. An event
    /// type or id holding CR, LF or NUL (which would forge events) fails the stream: it is
    /// logged and the connection reset.
    static response sse(async_generator<sse_event> events, sse_options options = {});
    /// The file from its position() to its end, sent with sendfile like static_files: never read
    /// into memory, however large. The response shares the open file (its fd is duplicated);
    /// `f` itself is closed. Throws file_error (stat, dup, a file opened write-only) naming the path.
    static task<response> from_file(corio::file f, std::string content_type = "application/octet-stream",
                                    int status = 200);

    int status() const noexcept { return status_; }
    response& set_status(int status) noexcept {
        status_ = status;
        return *this;
    }
    http::headers& headers() noexcept { return headers_; }
    const http::headers& headers() const noexcept { return headers_; }
    const std::string& body() const noexcept { return body_; }
    /// Replaces the body (middleware rewriting a response); a streamed response stays streamed.
    response& set_body(std::string body) noexcept {
        body_ = std::move(body);
        return *this;
    }
    bool streaming() const noexcept { return stream_.has_value(); }

private:
    friend class server;
    friend class detail::static_directory;
    friend struct detail::ws_upgrade;
    int status_ = 200;
    http::headers headers_;
    std::string body_;
    std::optional<async_generator<std::string>> stream_;
    std::optional<detail::file_part> file_;  // static files: sent with sendfile
    std::shared_ptr<const detail::ws_upgrade> upgrade_;  // a 101 to WebSocket: the session to run after it
};

using handler = std::function<task<response>(request&)>;

/// A WebSocket route's handler: it runs after the 101 answer, for as long as the connection
/// lasts; when it returns the server closes the websocket (1000; 1011 if it threw, 1001 when
/// the server shuts down and cancels it).
using websocket_handler = std::function<task<>(request&, http::websocket&)>;

namespace detail {
/// The GET handler of a WebSocket route: checks the handshake (426 without Upgrade: websocket
/// or with another Sec-WebSocket-Version, 400 for a bad Sec-WebSocket-Key) and answers 101.
handler websocket_route(websocket_handler h, websocket_options options);
}  // namespace detail

class next_handler;
/// Code around handlers (aiohttp's middleware, axum's from_fn): it may look at or change the
/// request, answer it itself, or `co_await next(req)` and look at or change the response.
///   app.use([](http::request& req, http::next_handler next) -> corio::task<http::response> {
///       http::response r = co_await next(req);
///       r.headers().set("X-Served-By", "corio");
///       co_return r;
///   });
/// An exception thrown by a handler passes through the middleware around it (which may catch
/// it) before the server answers it (500, or 400 for a body that is not JSON).
using middleware = std::function<task<response>(request&, next_handler)>;

/// What comes after a middleware: the next middleware, and in the end the route's handler.
/// It may be called more than once (a retry) or not at all, while the middleware runs (not
/// from a task that outlives it: it refers to the request's place in the server).
class next_handler {
public:
    task<response> operator()(request& req) const {
        if (rest_.empty()) return (*last_)(req);
        return rest_.front()(req, next_handler(rest_.subspan(1), *last_));
    }

private:
    friend class server;
    next_handler(std::span<const middleware> rest, const handler& last) noexcept : rest_(rest), last_(&last) {}
    std::span<const middleware> rest_;  // the middleware still to run, outermost first (the server's)
    const handler* last_;               // then this one (lives while the request is handled)
};

/// The standard reason phrase of `status` ("Not Found"), or "Status" for codes it does not know.
std::string_view reason_phrase(int status) noexcept;

/// How server::static_files serves a directory.
struct static_options {
    std::string index = "index.html";   ///< a directory's answer ("" : 404; there are no listings)
    std::chrono::seconds max_age{0};    ///< Cache-Control: max-age; 0 sends no-cache (revalidate)
    bool serve_hidden = false;          ///< names starting with '.' (.env, .git) are 404 unless set
};

struct route_options {
    bool stream_body = false;  ///< the handler reads the body itself, with request::body_stream()
    /// This route's body limit instead of server_options::limits.max_body_size (413 beyond it).
    std::optional<std::uint64_t> max_body_size{};
};

/// Route registration shared by http::server and http::route_group: get(), post(), ...
template <class Routes>
class route_methods {
public:
    Routes& get(std::string pattern, handler h, route_options o = {}) { return add("GET", pattern, h, o); }
    Routes& post(std::string pattern, handler h, route_options o = {}) { return add("POST", pattern, h, o); }
    Routes& put(std::string pattern, handler h, route_options o = {}) { return add("PUT", pattern, h, o); }
    Routes& patch(std::string pattern, handler h, route_options o = {}) { return add("PATCH", pattern, h, o); }
    Routes& delete_(std::string pattern, handler h, route_options o = {}) { return add("DELETE", pattern, h, o); }
    /// A WebSocket endpoint (http/websocket.hpp): a GET route whose handshake passes through
    /// the middleware like any request (which may refuse it), then `h` runs with the websocket.
    Routes& websocket(std::string pattern, websocket_handler h, websocket_options o = {}) {
        return static_cast<Routes&>(*this).route("GET", std::move(pattern), detail::websocket_route(std::move(h), std::move(o)));
    }

private:
    Routes& add(const char* method, std::string& pattern, handler& h, route_options& o) {
        return static_cast<Routes&>(*this).route(method, std::move(pattern), std::move(h), std::move(o));
    }
};

class server;

/// Routes under one path prefix sharing middleware that runs after the server's (aiohttp's
/// sub-application, axum's nested Router with route_layer):
///   auto admin = app.group("/admin");
///   admin.use(require_token);
///   admin.get("/stats", stats);  // GET /admin/stats, through the server's middleware, then require_token
/// Middleware added to a group applies to its routes added before and after. A group is a
/// handle: copies add to the same group. It must not outlive its server.
class route_group : public route_methods<route_group> {
public:
    route_group& use(middleware mw);
    route_group& route(std::string method, std::string pattern, handler h, route_options options = {});

private:
    friend class server;
    route_group(server& owner, std::string prefix);
    server* owner_;
    std::string prefix_;                              // "/admin": no trailing '/'
    std::shared_ptr<std::vector<middleware>> chain_;  // shared with the routes added through it
};

/// Limits and timeouts; every one is finite by default.
struct server_options {
    std::chrono::nanoseconds header_timeout = std::chrono::seconds(10);   ///< whole head of a request (from the accept on a new connection)
    std::chrono::nanoseconds body_timeout = std::chrono::seconds(30);     ///< whole body of a request
    std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);     ///< keep-alive wait for the next request
    /// Middleware and handler together (not counting a body read whole: body_timeout), then 503.
    std::chrono::nanoseconds handler_timeout = std::chrono::seconds(30);
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(30);    ///< no write progress for this long: the response is cut
    std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(10);   ///< stop() default
    std::size_t max_connections = 10'000;
    /// Request bodies read whole before their handlers, all connections and loops together;
    /// a request that would go over it is answered 503 (Retry-After: 1) and its connection closed.
    std::uint64_t max_buffered_bytes = 256ull << 20;
    parse_limits limits{};   ///< head sizes (431/414), max_body_size (413)
    bool cancel_on_disconnect = false;
    bool access_log = false;  ///< http::access_log() to stderr, outermost (http/middleware.hpp)
    /// Take a request's id from its X-Request-Id when it sends a valid one (1-128 letters, digits
    /// or "-_.:+/=") instead of numbering it: behind a proxy that assigns ids, logs line up.
    bool accept_request_id = false;
};

class server : public route_methods<server> {
public:
    explicit server(server_options options = {});
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server();

    /// Adds a route; `pattern` is a path whose segments may be `{name}`. Later routes never
    /// shadow earlier ones: the first match wins.
    server& route(std::string method, std::string pattern, handler h, route_options options = {});
    /// Adds middleware around every request the server routes (404s and 405s included), after
    /// the middleware added before it: the first added is the outermost. It runs before the
    /// route's body is read, so it can refuse a request without reading it.
    server& use(middleware mw);
    /// Routes under `prefix` ("/api") with their own middleware, inside the server's.
    route_group group(std::string prefix);
    /// Serves the files under `directory` at `prefix` (aiohttp's add_static; `static` itself is
    /// a C++ keyword): GET and HEAD, the content type from the extension, ETag and
    /// Last-Modified with conditional requests (304), single byte ranges (206, 416), a
    /// directory's index (a directory named without its '/' is redirected to it, 301). The
    /// kernel resolves every path beneath the directory (openat2 RESOLVE_BENEATH): "..", an
    /// encoded "%2e%2e" or "%2f", or a symlink leading out of it is a 404, with no race between
    /// a check and the open. Files are opened on a worker thread and sent with sendfile.
    /// Throws std::system_error if `directory` cannot be opened.
    server& static_files(std::string prefix, std::string directory, static_options options = {});

    /// Binds `local` (port 0 picks one) and serves on the current loop until stopped. Once it
    /// listens, local_endpoint() tells where. `reuse_port`: for several loops on one port.
    task<> serve(net::endpoint local, bool reuse_port = false);
    /// HTTPS: serves `local` like serve() above, each connection beginning with a TLS handshake
    /// (a context from net::tls_context::server(): its ALPN offers http/1.1) that must finish,
    /// with the first request's head, within header_timeout of the accept. A failed or slow
    /// handshake closes the connection quietly (scanners are many).
    task<> serve(net::endpoint local, net::tls_context tls, bool reuse_port = false);
    /// Serves on a listener bound beforehand (its address is known before anything runs:
    /// spawn this into a task_group; or a socket handed over by a supervisor).
    task<> serve(net::tcp_listener listener);
    /// Serves plain HTTP on a Unix-domain listener (net/unix.hpp: a local daemon's API, as
    /// Docker's) like serve(listener) above; local_endpoint() stays empty, each request's peer()
    /// is empty. Closing the listener at shutdown removes its socket file.
    task<> serve(net::unix_listener listener);
    /// Trio's nursery.start: binds `local`, returns the endpoint it listens on (port 0 resolved)
    /// once connections can be accepted, and serves in the background on the current loop until
    /// stop() (or the loop's end). Then co_await wait_closed() for the shutdown to finish before
    /// destroying the server (destroying it while it serves terminates the program, naming the
    /// mistake). Throws connection_error if it cannot listen; std::logic_error if it already
    /// serves in the background.
    task<net::endpoint> start(net::endpoint local, bool reuse_port = false);
    /// start() with HTTPS, as serve(local, tls).
    task<net::endpoint> start(net::endpoint local, net::tls_context tls, bool reuse_port = false);
    /// Replaces the TLS context (a renewed certificate) for the connections accepted from now
    /// on, by every HTTPS serve(); connections open keep theirs. Any thread.
    void reload_tls(net::tls_context tls);
    /// Waits until the serve() that start() began has finished its shutdown (at once if none).
    /// Cancelling the wait cancels the serving, which then shuts down gracefully.
    task<> wait_closed();
    /// Where the first serve() listens (port 0 resolved); empty until then.
    std::optional<net::endpoint> local_endpoint() const;
    /// Blocks: `threads` loops, one per thread, each serving `local` with SO_REUSEPORT (port
    /// must not be 0 when threads > 1). Returns after stop() or SIGINT/SIGTERM. `loop_options`:
    /// debug mode, SIGUSR1 task dumps (corio/run.hpp).
    void run(net::endpoint local, int threads = 1, run_options loop_options = {});
    /// run() with HTTPS, as serve(local, tls).
    void run(net::endpoint local, net::tls_context tls, int threads = 1, run_options loop_options = {});
    /// Starts a graceful shutdown of every serve() (any thread): see the header comment.
    void stop();
    void stop(std::chrono::nanoseconds grace);

    const server_options& options() const noexcept { return options_; }
    /// Serves the Prometheus text format (corio/metrics.hpp) at `path` (a GET route; put it
    /// behind auth middleware in a group if it must not be public): the global registry —
    /// corio's loop and HTTP client metrics, and your own — and this server's
    /// corio_http_server_requests_total{status="..."}, corio_http_server_request_seconds (from
    /// the end of the request's head to the last byte of the response) and
    /// corio_http_server_open_connections.
    server& metrics(std::string path = "/metrics");
    /// Requests answered so far (all loops).
    std::uint64_t requests_served() const noexcept { return served_.load(std::memory_order_relaxed); }
    /// Connections open right now (all loops).
    std::size_t open_connections() const noexcept { return open_.load(std::memory_order_relaxed); }

private:
    struct route_entry {
        std::string method;
        std::vector<std::string> segments;  // literal, or "{name}"
        handler h;
        route_options options;
        std::shared_ptr<const std::vector<middleware>> chain;  // its group's middleware, or null
        bool prefix_only = false;  // matches every path under `segments` (static_files)
    };
    friend class route_group;
    void add_route(std::string method, std::string pattern, handler h, route_options options,
                   std::shared_ptr<const std::vector<middleware>> chain);
    class runtime;  // one serve() on one loop
    friend class runtime;

    /// The route for method + path (params filled in), or null: then `allowed` lists the
    /// methods the path has (empty: 404).
    const route_entry* match(std::string_view method, const std::vector<std::string>& segments,
                             std::vector<std::pair<std::string, std::string>>& params, std::string& allowed) const;
    /// Every method some route answers, for `OPTIONS *` ("GET, HEAD, POST").
    std::string all_methods() const;
    class registry;  // the serve() calls running, shared with the stop requests posted to them
    /// Binds, and records where the first listener listens.
    net::tcp_listener listen(net::endpoint local, bool reuse_port);
    using any_listener = std::variant<net::tcp_listener, net::unix_listener>;
    task<> serve_on(any_listener listener, bool tls);
    task<net::endpoint> start_on(net::endpoint local, bool reuse_port, bool tls);
    void run_on(net::endpoint local, std::optional<net::tls_context> tls, int threads, run_options loop_options);
    /// The TLS context new connections take (reload_tls).
    net::tls_context current_tls() const;

    server_options options_;
    std::vector<route_entry> routes_;
    std::vector<middleware> middleware_;  // around every request, outermost first
    std::uint64_t largest_body_limit_;    // the parser's limit: routes may raise their own above the server's
    std::atomic<std::uint64_t> served_{0};
    std::atomic<std::size_t> open_{0};
    std::atomic<std::uint64_t> next_request_id_{1};
    std::atomic<std::uint64_t> buffered_bytes_{0};  // bodies held for handlers; <= max_buffered_bytes
    mutable std::mutex mutex_;  // guards local_ and tls_
    std::optional<net::endpoint> local_;
    std::optional<net::tls_context> tls_;  // set by the first HTTPS serve()/start(), replaced by reload_tls()
    std::shared_ptr<registry> registry_;  // never null
    struct request_metrics;  // responses by status and their durations, all loops (atomics)
    std::unique_ptr<request_metrics> metrics_;  // never null
    std::optional<join_handle<void>> background_;  // the serve() start() began (one loop's thread)
};

}  // namespace corio::http
