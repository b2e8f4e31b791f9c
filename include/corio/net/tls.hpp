// corio/net/tls.hpp — tls_context and tls_stream: TLS 1.2+ (OpenSSL 3) over a tcp_stream.
//
// snippet: examples/net.cpp#tls
//   auto context = net::tls_context::client({.ca_file = pki.ca_file});  // verify on; trust this CA
//   auto tcp = co_await net::tcp_stream::connect("localhost", port);
//   auto tls = co_await net::tls_stream::connect(std::move(tcp), context, "localhost");
//   co_await tls.write_all("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
//   std::size_t n = co_await tls.read_some(buffer);  // 0 at end of stream
//
// Guarantees: a client verifies the peer's chain and its host name (or IP address, for an IP
// literal) by default; TLS 1.2 is the minimum (1.3 on request); renegotiation is refused. A
// client context resumes each server's last session by default; a server context can require
// client certificates (mTLS). Every operation is
// bounded like tcp_stream's: the handshake by its handshake_timeout, each read by the tcp
// stream's options().read_timeout (idle: no progress for that long), each write_all by
// options().write_timeout (no progress for that long) and an optional absolute deadline, a
// shutdown by write_timeout. Expiry throws corio::timeout_error naming the peer.
//
// End of stream: read_some returns 0 after the peer's close_notify AND after a bare TCP EOF
// without close_notify (OpenSSL's SSL_OP_IGNORE_UNEXPECTED_EOF: many servers omit it). A
// truncation attack is therefore only detected by the framing on top (Content-Length,
// chunked encoding): protocols must check that a message is complete. A reset (RST) throws
// net::connection_reset_error.
//
// Throws: net::tls_error carrying OpenSSL's reason and naming the peer ("TLS handshake with
// localhost (127.0.0.1:4433) failed: certificate verify failed: certificate has expired");
// net::connection_reset_error; corio::connection_error when the stream is closed; timeout_error.
//
// Cancel safety: connect/accept — the socket (taken by value) is closed, nothing leaks.
// read_some — no plaintext is lost: a record OpenSSL already decrypted stays buffered in the
// stream and the next read returns it. write_all — a prefix of the data (or a partial record)
// may have been sent: the stream is unusable, close it. shutdown — close_notify may be
// half-sent: close the stream. aclose — always closes the socket.
//
// Concurrency: at most one reader (read_some) and one writer (write_all/shutdown) at a time per
// stream; they may run concurrently (full duplex). OpenSSL 3 sends TLS 1.3 post-handshake
// replies (KeyUpdate) from the write side, so a read normally waits only for readability and a
// write for writability; in the rare case where both need the same one (a read flushing an
// alert while a write waits), the second polls every millisecond until the first is done.
// Thread-safety: a context is immutable once built and may be shared between threads and loops;
// a stream belongs to the loop that created its tcp_stream. Streams are move-only; destroying
// one closes the socket at once, without close_notify and without blocking.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corio/clock.hpp"
#include "corio/net/endpoint.hpp"
#include "corio/net/errors.hpp"
#include "corio/net/tcp.hpp"
#include "corio/task.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace corio::net {

/// A shared, copyable handle to an OpenSSL SSL_CTX (reference counted; cheap to copy).
/// Building one reads files (CA bundle, certificate, key): do it once, outside hot paths.
/// Throws tls_error (unreadable CA file, bad certificate or key, key not matching...).
/// The oldest protocol version a context accepts.
enum class tls_version { tls1_2, tls1_3 };

class tls_context {
public:
    struct client_options {
        /// Verify the peer's chain and host name (default ON). Turning it off logs a warning,
        /// once per process: such connections can be intercepted (tests only).
        bool verify = true;
        std::string ca_file{};  // PEM CA bundle trusted instead of the system store ("" = system)
        std::string ca_dir{};   // a directory of CA certificates named by subject hash (`openssl rehash`), trusted too
        std::string certificate_chain_file{};  // mTLS: the client's certificate (PEM), sent when the server asks...
        std::string private_key_file{};        // ...with its private key (PEM)
        tls_version min_version = tls_version::tls1_2;
        /// Keep the latest session of each server (host:port) and resume it on the next
        /// connection: an abbreviated handshake (TLS 1.3 tickets, TLS 1.2 sessions).
        bool resume_sessions = true;
        std::vector<std::string> alpn = {"http/1.1"};  // offered protocols, preferred first
    };
    struct server_options {
        std::string certificate_chain_file{};  // PEM: the server certificate, then intermediates
        std::string private_key_file{};        // PEM
        /// mTLS: require a client certificate signed by a CA of this PEM bundle; a client
        /// without one fails the handshake. "" : no client certificates asked for.
        std::string client_ca_file{};
        tls_version min_version = tls_version::tls1_2;
        /// Supported protocols in the server's order of preference: the server picks the first
        /// one the client also offers (RFC 7301); none in common: no ALPN is negotiated.
        std::vector<std::string> alpn = {"http/1.1"};
    };

    tls_context() noexcept = default;  // empty: native_handle() is null, streams refuse it
    static tls_context client(const client_options& options);
    static tls_context client() { return client(client_options{}); }
    static tls_context server(const server_options& options);

    ssl_ctx_st* native_handle() const noexcept;

private:
    struct state;
    explicit tls_context(std::shared_ptr<const state> s) noexcept : state_(std::move(s)) {}

    std::shared_ptr<const state> state_;  // immutable after construction; null when empty
};

class tls_stream {
public:
    tls_stream() noexcept = default;
    tls_stream(tls_stream&&) noexcept = default;
    tls_stream& operator=(tls_stream&&) noexcept = default;

    /// Client handshake over an established tcp stream. SNI carries `server_name` (not sent for
    /// an IP literal such as "127.0.0.1" or "::1", without brackets); when the context verifies,
    /// the certificate must match `server_name` (its IP address for an IP literal; "" is then
    /// refused with tls_error). Bounded by `handshake_timeout` (timeout_error naming the
    /// peer). Throws tls_error with OpenSSL's reason, connection_reset_error, cancelled_error.
    static task<tls_stream> connect(tcp_stream tcp, tls_context context, std::string server_name,
                                    std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(10));
    /// Server handshake on an accepted tcp stream, with a context from tls_context::server().
    static task<tls_stream> accept(tcp_stream tcp, tls_context context,
                                   std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(10));

    /// Reads up to buffer.size() bytes of plaintext; returns 0 at end of stream (see above).
    task<std::size_t> read_some(std::span<char> buffer);
    /// Writes all of `data`: timeout_error when no progress was made for
    /// tcp().options().write_timeout, or when `deadline` passes.
    task<> write_all(std::string_view data, clock::time_point deadline = clock::time_point::max());
    /// Writes the pieces in order (small ones gathered into one record); as write_all above.
    task<> write_all(std::span<const std::string_view> pieces, clock::time_point deadline = clock::time_point::max());
    /// Sends `count` bytes of the open file `file_fd` from `offset`, read in 64 KiB slices
    /// (TLS encrypts in user space: no sendfile); as write_all. Throws connection_error if the
    /// file ends early.
    task<> send_file(int file_fd, std::uint64_t offset, std::uint64_t count,
                     clock::time_point deadline = clock::time_point::max());
    /// Sends close_notify (bounded by write_timeout); the socket stays open for reading the
    /// peer's remaining data and its close_notify.
    task<> shutdown();
    /// Closes the socket now, without close_notify (idempotent).
    void close() noexcept;
    /// Resets the connection (RST): the peer cannot take what it received for a whole message.
    void abort() noexcept;
    /// Best-effort close_notify bounded by min(write_timeout, 1s), errors swallowed, then
    /// close(); for async_with. A cancellation still closes the socket, then propagates.
    task<> aclose();

    /// The protocol ALPN negotiated ("http/1.1", "h2"), or "" if none.
    std::string_view alpn_protocol() const noexcept;
    /// True if the handshake resumed an earlier session (client_options::resume_sessions).
    bool session_reused() const noexcept;
    bool is_open() const noexcept { return ssl_ && tcp_.is_open(); }
    const endpoint& peer() const noexcept { return tcp_.peer(); }
    /// The underlying stream, for its options(); do not read, write or close it directly.
    tcp_stream& tcp() noexcept { return tcp_; }
    tcp_options& options() noexcept { return tcp_.options(); }
    /// True once the peer has closed its side of the connection (or reset it).
    bool peer_closed() const noexcept { return tcp_.peer_closed(); }
    /// The OpenSSL SSL object, for what corio does not wrap (peer certificate, cipher...);
    /// null when closed. Do not read, write or shut it down yourself. corio links OpenSSL
    /// privately: code that calls OpenSSL includes its headers and links OpenSSL::SSL itself.
    ssl_st* native_handle() const noexcept { return ssl_.get(); }

private:
    struct ssl_free {
        void operator()(ssl_st* ssl) const noexcept;
    };

    tls_stream(tcp_stream tcp, tls_context context, std::string server_name);
    task<> handshake(std::chrono::nanoseconds timeout);
    task<> send_close_notify(std::chrono::nanoseconds timeout);
    /// The SSL object; throws connection_error naming `operation` when the stream is closed.
    ssl_st* open_ssl(const char* operation) const;
    /// After an SSL call failed with `ssl_error` (SSL_get_error; `sys_error`: errno right after
    /// the call): waits, until `deadline`, for the socket readiness OpenSSL asks for; throws
    /// timeout_error when the deadline passes, or the failure OpenSSL reports.
    task<> await_progress(int ssl_error, int sys_error, const char* operation, clock::time_point deadline,
                          std::chrono::nanoseconds budget);
    /// "localhost (127.0.0.1:443)", or just the endpoint when no other name is known.
    std::string peer_name() const;

    tcp_stream tcp_;
    tls_context context_;     // keeps the SSL_CTX's callback state alive as long as ssl_
    std::string server_name_;  // as given to connect; "" on the server side
    std::unique_ptr<ssl_st, ssl_free> ssl_;  // bound to tcp_'s fd; null when default/closed
    // [0]: an operation waits for readability on tcp_'s fd_watch, [1]: for writability. The
    // watch takes one waiter per direction, so a second operation needing the same one polls.
    std::array<bool, 2> waiting_{};
};

}  // namespace corio::net
