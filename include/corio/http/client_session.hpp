// corio/http/client_session.hpp — http::client_session: an HTTP/1.1 client with a connection pool
// (aiohttp.ClientSession).
//
// snippet: examples/http_client.cpp#session
//   http::client_session session({.base_url = service.url("/"), .timeout = {.total = 10s}});
//   auto response = co_await session.get("items", http::request_options().param("page", "2"));
//   response.raise_for_status();                      // status_error on 4xx/5xx
//   nlohmann::json items = co_await response.json();  // the whole body (read once, then kept)
//   co_await session.aclose();
//
// Connections: pooled per (scheme, host, port) and reused while the server keeps them alive.
// At most `limit` connections are open in total (connecting, in use and idle together) and at
// most `limit_per_host` to one origin; the limits hold under any interleaving. A request that
// finds them reached waits its turn — waiters are served first come, first served — and an idle
// connection to another origin is closed to make room. A failed connect gives its slot back. Idle
// connections expire after `keepalive_timeout`. A connection goes back to the pool only after
// its response was read to the end; a response abandoned early, a request cancelled mid-flight
// or a failure closes its connection. An idempotent request (GET, HEAD, PUT, DELETE, OPTIONS)
// that fails on a REUSED connection before any response byte arrived (the server had closed it
// while idle) is retried once on a fresh connection, as browsers do.
//
// Timeouts (client_timeout, per session and per request): `total` bounds the whole request
// including reading the body; `connect` (30 s by default) bounds DNS + TCP + TLS of a new
// connection together, one deadline for the three ("connect timeout (2s) expired while doing
// the TLS handshake with h:443");
// `pool_acquire` bounds the wait for a pool slot; `sock_read` is an idle limit between received
// bytes (for long streams). Zero disables one limit, but total and sock_read cannot both be
// zero (no request may wait forever). Expiry throws timeout_error naming the method, URL, the
// limit and the phase: "GET http://h/x: sock_read timeout (1s) expired while reading the body".
//
// Requests: headers (merged over the session's default headers), query params, a body given
// as bytes, JSON, a form, a multipart form_data, a file or an async_generator (streamed; the
// client frames every body itself: a Host, Content-Length or Transfer-Encoding the caller sets is
// not sent); User-Agent "corio/<version>", Accept-Encoding gzip/deflate, cookies
// from the session's jar; credentials (http/auth.hpp) from the request, the URL's user:password
// or the session. Redirects (301/302/303/307/308) are followed up to max_redirects:
// 307/308 repeat the method and body, the others become GET (HEAD stays HEAD); crossing to
// another origin drops Authorization and Cookie headers.
//
// TLS: certificates and host names are verified (verify_tls; off logs a warning once); each
// server's last TLS session is resumed on its next connection; client certificates (mTLS), a
// CA file or directory, a minimum version, or a net::tls_context of your own. A host with
// several addresses is connected with happy eyeballs (net/tcp.hpp). ws_connect() opens a
// WebSocket (http/websocket.hpp) with the session's settings.
//
// Proxies (session_options::proxy, else the environment's as curl reads it): an http request goes
// to the proxy in absolute form ("GET http://h/x HTTP/1.1") with Proxy-Authorization; an https
// or WebSocket connection is a CONNECT tunnel through it, so the proxy sees only the host and
// port and the TLS handshake is with the server itself. Connections through a proxy are pooled
// per target origin. A proxy refusing CONNECT throws proxy_error with its status.
//
// Errors (each names the method and URL): timeout_error; net::dns_error, net::connect_error,
// net::tls_error, net::connection_reset_error; http::protocol_error (malformed or truncated response);
// http::proxy_error (a proxy refused CONNECT);
// too_many_redirects_error (naming the URL requested and the last hop); url_error; session_closed_error
// (also for a request or body read that close() interrupted); status_error when raise_for_status
// is set.
// Cancel safety: a cancelled request closes the connection it was using (never returned dirty
// to the pool) or gives back its pool slot; nothing leaks. aclose()/close() close every
// connection, including those of responses still being read (their reads then fail), and make
// further requests throw session_closed_error.
// Thread-safety: a session belongs to the loop it first runs on; use it from that loop's tasks.
// Movable; responses keep what they need alive, so a response may outlive its session object.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "corio/http/client_response.hpp"
#include "corio/http/cookie_jar.hpp"
#include "corio/async_generator.hpp"
#include "corio/http/auth.hpp"
#include "corio/http/headers.hpp"
#include "corio/http/multipart.hpp"
#include "corio/http/parser.hpp"
#include "corio/http/trace.hpp"
#include "corio/http/url.hpp"
#include "corio/http/websocket.hpp"
#include "corio/net/tls.hpp"
#include "corio/task.hpp"
#include "corio/version.hpp"

namespace corio::http {

/// Limits of one request; zero disables a limit (total and sock_read not both).
struct client_timeout {
    std::chrono::nanoseconds total = std::chrono::minutes(5);  ///< the whole request, body included
    /// DNS + TCP + TLS of a new connection, all three within this one limit (aiohttp's default
    /// sock_connect is 30 s too); expiry names the phase it cut.
    std::chrono::nanoseconds connect = std::chrono::seconds(30);
    std::chrono::nanoseconds pool_acquire{0};  ///< waiting for a pool slot
    std::chrono::nanoseconds sock_read{0};     ///< no received byte for this long
};

struct session_options {
    std::string base_url{};       ///< relative request URLs are resolved against it ("" = none)
    http::headers headers{};     ///< default headers of every request
    std::optional<http::auth> auth{};  ///< credentials of every request (never sent to another origin)
    client_timeout timeout{};    ///< default limits of every request
    std::size_t limit = 100;     ///< open connections in total (>= 1)
    std::size_t limit_per_host = 0;  ///< open connections per (scheme, host, port); 0 = only `limit`
    std::chrono::nanoseconds keepalive_timeout = std::chrono::seconds(15);  ///< idle expiry
    int max_redirects = 10;
    bool follow_redirects = true;
    bool raise_for_status = false;  ///< throw status_error for 4xx/5xx responses
    bool auto_decompress = true;    ///< decode gzip/deflate bodies
    bool use_cookies = true;        ///< keep cookies in the session's jar and send them
    bool verify_tls = true;         ///< verify certificates and host names (off: tests only!)
    std::string ca_file{};          ///< PEM CA bundle to trust instead of the system store
    std::string ca_dir{};           ///< a directory of CA certificates (`openssl rehash`), trusted too
    std::string client_cert_file{}; ///< mTLS: a client certificate chain (PEM) for servers that ask...
    std::string client_key_file{};  ///< ...and its private key (PEM)
    net::tls_version tls_min_version = net::tls_version::tls1_2;
    /// Your own client context (net::tls_context::client) instead of the five settings above
    /// and verify_tls: its CA store, certificate, versions and session cache.
    std::optional<net::tls_context> tls{};
    /// A proxy, "http://[user:password@]host[:port]" ("host:port" for short): plain http
    /// requests are forwarded through it, https and WebSocket connections tunnelled (CONNECT).
    /// "" = the environment's (trust_env), if any.
    std::string proxy{};
    std::optional<http::auth> proxy_auth{};  ///< Proxy-Authorization, over the proxy URL's user:password
    /// Hosts reached without the proxy: "localhost, .internal.example, 10.0.0.0/8" (a name also
    /// covers its subdomains; addresses and ranges; "*" = every host). "" = none, or the environment's.
    std::string no_proxy{};
    /// With proxy (or no_proxy) empty, take it from the environment as curl, Python's requests
    /// and Go do: http_proxy, https_proxy, all_proxy, no_proxy (lower case first, then upper
    /// case; HTTP_PROXY is ignored when REQUEST_METHOD is set, as in a CGI program). Read when
    /// the session is made. false: only the options above (aiohttp's default).
    bool trust_env = true;
    std::string user_agent = "corio/" CORIO_VERSION_STRING;
    parse_limits limits{};          ///< response limits; limits.max_body_size bounds bodies
    /// Send the request id the calling task works for (corio::request_id, bound by http::server
    /// around its handlers) as X-Request-Id, unless the request sets that header itself.
    bool send_request_id = false;
    /// Called with each request's events as they happen: connection, DNS, first byte, body
    /// pieces, with timestamps (http/trace.hpp). Empty: no tracing, no cost.
    trace_hook trace{};
    /// A Unix-domain socket to connect to instead of each URL's host and port, like aiohttp's
    /// UnixConnector (a local daemon's API, as Docker's: "/var/run/docker.sock"; "@name": the
    /// abstract namespace, net/unix.hpp). The URL still gives the Host header and the path;
    /// http:// only (an https:// request throws net::connect_error), never through a proxy.
    /// "" = TCP as usual.
    std::string unix_socket{};
};

namespace detail {
class session_state;
class request_body;
}  // namespace detail

/// A request's own settings, set with chainable setters; anything unset falls back to the
/// session's:
///   co_await session.post("items", http::request_options().json({{"name", "x"}}).header("X-Id", "7"));
/// Deliberately not an aggregate: g++ 12 miscompiles aggregate temporaries (designated
/// initialisers, `= {}` defaults) that live across a co_await, corrupting their strings.
class request_options {
public:
    request_options() noexcept {}  // user-provided: keeps the class a non-aggregate (see above)

    request_options& header(std::string name, std::string value) &;
    request_options& headers(http::headers fields) &;  ///< added to any set before
    request_options& param(std::string key, std::string value) &;
    request_options& params(const query_params& more) &;
    request_options& body(std::string bytes, std::string content_type = {}) &;  ///< raw body
    request_options& json(nlohmann::json value) &;   ///< body as application/json
    request_options& form(query_params fields) &;    ///< body as application/x-www-form-urlencoded
    /// A body sent as it is produced, each piece a chunk (Transfer-Encoding: chunked). It can be
    /// sent once: a retry or a 307/308 redirect that would need it again throws
    /// stream_consumed_error. Each piece must come within the time left (the total, else 60 s).
    request_options& body(async_generator<std::string> pieces, std::string content_type = {}) &;
    /// The file at `path` as the body, streamed from disk (sendfile) with a Content-Length;
    /// opened when the request is sent (std::system_error naming it if it cannot be).
    request_options& file(std::string path, std::string content_type = "application/octet-stream") &;
    /// A multipart/form-data body (http/multipart.hpp): its files streamed from disk.
    request_options& form(form_data form) &;
    /// Credentials for this request, over the session's and the URL's (http/auth.hpp).
    request_options& auth(http::auth credentials) &;
    request_options& timeout(const client_timeout& limits) &;
    request_options& follow_redirects(bool on) &;
    request_options& max_redirects(int count) &;
    request_options& raise_for_status(bool on) &;

    // The same on a temporary, so a chain moves (not copies) into the request. Those that take a
    // value are out of line: inlined into a coroutine, g++ 12 -O2 may report a false
    // -Warray-bounds in their string moves.
    request_options&& header(std::string name, std::string value) &&;
    request_options&& headers(http::headers fields) &&;
    request_options&& param(std::string key, std::string value) &&;
    request_options&& params(const query_params& more) && { return std::move(params(more)); }
    request_options&& body(std::string bytes, std::string content_type = {}) &&;
    request_options&& json(nlohmann::json value) &&;
    request_options&& form(query_params fields) &&;
    request_options&& body(async_generator<std::string> pieces, std::string content_type = {}) &&;
    request_options&& file(std::string path, std::string content_type = "application/octet-stream") &&;
    request_options&& form(form_data form) &&;
    request_options&& auth(http::auth credentials) &&;
    request_options&& timeout(const client_timeout& limits) && { return std::move(timeout(limits)); }
    request_options&& follow_redirects(bool on) && { return std::move(follow_redirects(on)); }
    request_options&& max_redirects(int count) && { return std::move(max_redirects(count)); }
    request_options&& raise_for_status(bool on) && { return std::move(raise_for_status(on)); }

private:
    friend class client_session;
    request_options& replace_body(std::string bytes, std::shared_ptr<detail::request_body> streamed, std::string content_type);

    http::headers headers_;
    query_params params_;
    std::string body_;  // the encoded body, whichever setter gave it
    /// A body not held in body_ (a stream, a file, a form_data); shared, so options copy.
    std::shared_ptr<detail::request_body> streamed_;
    std::optional<http::auth> auth_;
    std::optional<client_timeout> timeout_;
    std::optional<bool> follow_redirects_;
    std::optional<int> max_redirects_;
    std::optional<bool> raise_for_status_;
};

class client_session {
public:
    explicit client_session(session_options options = {});
    client_session(client_session&&) noexcept;
    client_session& operator=(client_session&&) noexcept;
    ~client_session();  ///< close()

    /// Sends `method` to `url` (absolute, or relative to base_url) and returns the response
    /// once its headers arrived. Throws the errors listed in the header comment.
    task<client_response> request(std::string method, std::string url, request_options options = {});
    task<client_response> get(std::string url, request_options options = {});
    task<client_response> post(std::string url, request_options options = {});
    task<client_response> put(std::string url, request_options options = {});
    task<client_response> patch(std::string url, request_options options = {});
    task<client_response> delete_(std::string url, request_options options = {});
    task<client_response> head(std::string url, request_options options = {});
    /// Opens a WebSocket (http/websocket.hpp) to `url` (ws:// or wss://, or http(s):// and
    /// relative to base_url), with the session's headers, cookies, auth, TLS settings and
    /// timeouts (connect; the handshake within total). Throws websocket_handshake_error if the
    /// server does not switch protocols, and the connection errors of request(). The websocket
    /// lives on its own: closing the session does not close it.
    task<http::websocket> ws_connect(std::string url, websocket_options options = {});

    http::cookie_jar& cookies() noexcept;
    const session_options& options() const noexcept;

    /// Open connections (connecting, in use, idle) and idle ones.
    std::size_t open_connections() const noexcept;
    std::size_t idle_connections() const noexcept;

    bool closed() const noexcept;
    /// Closes every connection and refuses further requests (idempotent).
    void close() noexcept;
    /// close(), for async_with.
    task<> aclose();

private:
    static task<client_response> perform(std::shared_ptr<detail::session_state> state, std::string method,
                                         std::string url, request_options options);
    static task<http::websocket> connect_websocket(std::shared_ptr<detail::session_state> state, std::string url,
                                                   websocket_options options);

    std::shared_ptr<detail::session_state> state_;  // null only when moved from
};

}  // namespace corio::http
