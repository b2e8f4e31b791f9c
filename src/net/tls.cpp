#include "corio/net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "corio/log.hpp"
#include "corio/sleep.hpp"

namespace corio::net {
namespace {

// --- OpenSSL errors -------------------------------------------------------------------------

/// The reason of the first error queued by OpenSSL ("" if none), with the certificate
/// verification result when that is what failed. Empties the queue.
std::string take_reason(const SSL* ssl) {
    const unsigned long first = ERR_get_error();
    ERR_clear_error();
    if (first == 0) return {};
    std::string reason;
    if (ERR_SYSTEM_ERROR(first)) {
        reason = std::strerror(ERR_GET_REASON(first));
    } else if (const char* text = ERR_reason_error_string(first)) {
        reason = text;
    } else {
        std::array<char, 256> buffer;
        ERR_error_string_n(first, buffer.data(), buffer.size());
        reason = buffer.data();
    }
    if (ssl != nullptr && ERR_GET_LIB(first) == ERR_LIB_SSL && ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) reason += std::string(": ") + X509_verify_cert_error_string(verify);
    }
    return reason;
}

[[noreturn]] void throw_openssl_error(const std::string& what) {
    const std::string reason = take_reason(nullptr);
    throw tls_error(what + (reason.empty() ? "" : ": " + reason));
}

/// Makes errno and the error queue describe only the next OpenSSL call.
void begin_ssl_call() noexcept {
    ERR_clear_error();
    errno = 0;
}

// --- A socket BIO that never raises SIGPIPE -------------------------------------------------
// OpenSSL's own socket BIO writes with write(2): a peer's reset would kill the process with
// SIGPIPE. This one uses send(MSG_NOSIGNAL), and reads through the stream's fd_watch (recv, or
// the io_uring reactor's queue), so a closed stream reads fd -1 (EBADF) instead of a reused
// descriptor number.

detail::fd_watch& watch_of(BIO* bio) { return *static_cast<detail::fd_watch*>(BIO_get_data(bio)); }

/// Translates a recv/send result into BIO conventions (retry flags for EAGAIN).
int bio_result(BIO* bio, ssize_t n, bool reading) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (reading) BIO_set_retry_read(bio);
        else BIO_set_retry_write(bio);
    }
    if (n == 0 && reading) BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    return static_cast<int>(n);
}

int bio_read(BIO* bio, char* out, int size) {
    BIO_clear_retry_flags(bio);
    ssize_t n;
    do n = watch_of(bio).receive(std::span<char>(out, static_cast<std::size_t>(size)));
    while (n < 0 && errno == EINTR);
    return bio_result(bio, n, true);
}

int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    ssize_t n;
    do n = ::send(watch_of(bio).fd(), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return bio_result(bio, n, false);
}

long bio_ctrl(BIO* bio, int command, long, void*) {
    switch (command) {
        case BIO_CTRL_FLUSH: return 1;
        case BIO_CTRL_EOF: return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
        default: return 0;
    }
}

const BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "corio socket");
        if (m == nullptr || BIO_meth_set_read(m, bio_read) != 1 || BIO_meth_set_write(m, bio_write) != 1 ||
            BIO_meth_set_ctrl(m, bio_ctrl) != 1)
            throw_openssl_error("TLS: creating the socket BIO method failed");
        return m;
    }();
    return method;
}

// --- Contexts -------------------------------------------------------------------------------

using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

/// ALPN's wire format: each name prefixed by its length.
std::string alpn_wire(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255) throw tls_error("TLS: invalid ALPN protocol name \"" + p + "\"");
        wire += static_cast<char>(p.size());
        wire += p;
    }
    return wire;
}

/// A context with the settings every corio stream uses.
ctx_ptr new_context(const SSL_METHOD* method, const char* role) {
    ctx_ptr ctx(SSL_CTX_new(method), &SSL_CTX_free);
    if (!ctx) throw_openssl_error(std::string("TLS ") + role + " context: SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

/// The server's ALPN choice: its own most preferred protocol that the client offers.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void* arg) {
    const auto& supported = *static_cast<const std::string*>(arg);
    unsigned char* chosen = nullptr;
    const int status = SSL_select_next_proto(&chosen, out_length, reinterpret_cast<const unsigned char*>(supported.data()),
                                             static_cast<unsigned int>(supported.size()), offered, offered_length);
    if (status != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

bool is_ip_literal(const std::string& name) { return endpoint::try_parse(name, 0).has_value(); }

int min_protocol(tls_version v) noexcept { return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

/// Loads an endpoint's own certificate chain and key (a server's, or a client's for mTLS).
void use_certificate(SSL_CTX* ctx, const std::string& chain_file, const std::string& key_file, const char* role) {
    if (SSL_CTX_use_certificate_chain_file(ctx, chain_file.c_str()) != 1)
        throw_openssl_error(std::string("TLS ") + role + " context: cannot load certificate chain \"" + chain_file + "\"");
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        throw_openssl_error(std::string("TLS ") + role + " context: cannot load private key \"" + key_file + "\"");
    if (SSL_CTX_check_private_key(ctx) != 1)
        throw_openssl_error(std::string("TLS ") + role + " context: the private key does not match the certificate");
}

void warn_unverified_once() {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
        log_error("net::tls_context: certificate verification is OFF (verify = false): these connections can be "
                  "intercepted; use it for tests only (logged once)");
}

/// A client context's sessions, one per server ("host:port"), resumed by the next connection.
/// Thread-safety: a context is shared between loops, so the map is locked.
class session_cache {
public:
    session_cache() = default;
    session_cache(const session_cache&) = delete;
    ~session_cache() { clear(); }

    /// The server's session with a reference for the caller, or null.
    SSL_SESSION* find(const std::string& server) {
        const std::lock_guard lock(mutex_);
        const auto it = sessions_.find(server);
        if (it == sessions_.end()) return nullptr;
        SSL_SESSION_up_ref(it->second);
        return it->second;
    }
    /// Takes the caller's reference to `session`.
    void store(const std::string& server, SSL_SESSION* session) {
        const std::lock_guard lock(mutex_);
        if (sessions_.size() >= max_servers && !sessions_.contains(server)) clear_locked();
        SSL_SESSION*& slot = sessions_[server];
        if (slot != nullptr) SSL_SESSION_free(slot);
        slot = session;
    }
    void forget(const std::string& server) {
        const std::lock_guard lock(mutex_);
        if (const auto it = sessions_.find(server); it != sessions_.end()) {
            SSL_SESSION_free(it->second);
            sessions_.erase(it);
        }
    }

private:
    static constexpr std::size_t max_servers = 1024;
    void clear() {
        const std::lock_guard lock(mutex_);
        clear_locked();
    }
    void clear_locked() {
        for (auto& [server, session] : sessions_) SSL_SESSION_free(session);
        sessions_.clear();
    }
    std::mutex mutex_;
    std::unordered_map<std::string, SSL_SESSION*> sessions_;  // each holds one reference
};

/// Where OpenSSL's callbacks find a connection's server key (on the SSL) and the cache (on its SSL_CTX).
void free_server_key(void*, void* key, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(key); }
int server_key_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_server_key);
    return index;
}
int session_cache_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}
session_cache* sessions_of(SSL* ssl) {
    return static_cast<session_cache*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), session_cache_index()));
}

/// OpenSSL's new-session callback (after a handshake; for TLS 1.3 when a ticket arrives).
int remember_session(SSL* ssl, SSL_SESSION* session) {
    const auto* server = static_cast<const std::string*>(SSL_get_ex_data(ssl, server_key_index()));
    session_cache* cache = sessions_of(ssl);
    if (server == nullptr || cache == nullptr) return 0;
    // A copy: OpenSSL marks the connection's own session unresumable when the connection is
    // freed without a close_notify, which is how HTTP clients usually end connections.
    if (SSL_SESSION* copy = SSL_SESSION_dup(session)) cache->store(*server, copy);
    return 0;  // the connection keeps its reference to `session`
}

}  // namespace

struct tls_context::state {
    state(ctx_ptr context, std::string alpn_wire) : ctx(std::move(context)), alpn(std::move(alpn_wire)) {}
    ctx_ptr ctx;
    std::string alpn;  // server: supported protocols in wire format, read by select_alpn
    mutable session_cache sessions;  // client: the servers' sessions (locked inside)
};

tls_context tls_context::client(const client_options& options) {
    auto s = std::make_shared<state>(new_context(TLS_client_method(), "client"), std::string());
    SSL_CTX* ctx = s->ctx.get();
    SSL_CTX_set_min_proto_version(ctx, min_protocol(options.min_version));
    if (options.verify)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    else
        warn_unverified_once();
    const char* file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    const char* dir = options.ca_dir.empty() ? nullptr : options.ca_dir.c_str();
    if (file != nullptr || dir != nullptr) {
        if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1)
            throw_openssl_error("TLS client context: cannot load CA file \"" + options.ca_file + "\" / directory \"" +
                                options.ca_dir + "\"");
    } else if (options.verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        throw_openssl_error("TLS client context: cannot load the system CA store");
    }
    if (!options.certificate_chain_file.empty() || !options.private_key_file.empty())
        use_certificate(ctx, options.certificate_chain_file, options.private_key_file, "client");
    if (options.resume_sessions) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_set_ex_data(ctx, session_cache_index(), &s->sessions);
        SSL_CTX_sess_set_new_cb(ctx, remember_session);
    }
    const std::string wire = alpn_wire(options.alpn);
    if (!wire.empty() &&
        SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size())) != 0)
        throw_openssl_error("TLS client context: setting ALPN failed");
    return tls_context(std::move(s));
}

tls_context tls_context::server(const server_options& options) {
    auto s = std::make_shared<state>(new_context(TLS_server_method(), "server"), alpn_wire(options.alpn));
    SSL_CTX* ctx = s->ctx.get();
    SSL_CTX_set_min_proto_version(ctx, min_protocol(options.min_version));
    use_certificate(ctx, options.certificate_chain_file, options.private_key_file, "server");
    static constexpr unsigned char session_context[] = "corio";  // resumption works with client verification too
    SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
    if (!options.client_ca_file.empty()) {
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
        if (names == nullptr || SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1)
            throw_openssl_error("TLS server context: cannot load client CA file \"" + options.client_ca_file + "\"");
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    if (!s->alpn.empty()) SSL_CTX_set_alpn_select_cb(ctx, select_alpn, const_cast<std::string*>(&s->alpn));
    return tls_context(std::move(s));
}

ssl_ctx_st* tls_context::native_handle() const noexcept { return state_ ? state_->ctx.get() : nullptr; }

// --- Streams --------------------------------------------------------------------------------

void tls_stream::ssl_free::operator()(ssl_st* ssl) const noexcept { SSL_free(ssl); }

tls_stream::tls_stream(tcp_stream tcp, tls_context context, std::string server_name)
    : tcp_(std::move(tcp)), context_(std::move(context)), server_name_(std::move(server_name)) {
    if (!tcp_.is_open()) throw connection_error("TLS handshake with " + peer_name() + ": the tcp stream is closed");
    if (context_.native_handle() == nullptr) throw tls_error("TLS handshake with " + peer_name() + ": empty tls_context");
    begin_ssl_call();
    ssl_.reset(SSL_new(context_.native_handle()));
    BIO* bio = ssl_ ? BIO_new(socket_bio_method()) : nullptr;
    if (bio == nullptr) throw_openssl_error("TLS handshake with " + peer_name() + ": creating the SSL object failed");
    BIO_set_data(bio, tcp_.watch_.get());
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // ssl_ owns the BIO
}

task<tls_stream> tls_stream::connect(tcp_stream tcp, tls_context context, std::string server_name,
                                     std::chrono::nanoseconds handshake_timeout) {
    tls_stream stream(std::move(tcp), std::move(context), std::move(server_name));
    SSL* ssl = stream.ssl_.get();
    const std::string& name = stream.server_name_;
    const bool ip = is_ip_literal(name);
    const auto invalid_name = [&](const char* why) { return "TLS handshake with " + stream.peer_name() + ": " + why; };
    if (!name.empty() && !ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
        throw_openssl_error(invalid_name("invalid server name"));
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
        if (name.empty()) throw tls_error(invalid_name("no server name to verify the certificate against"));
        const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) : SSL_set1_host(ssl, name.c_str());
        if (set != 1) throw_openssl_error(invalid_name("invalid server name"));
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    SSL_set_connect_state(ssl);
    session_cache* sessions = sessions_of(ssl);
    const std::string server = (name.empty() ? stream.tcp_.peer().address() : name) + ":" +
                               std::to_string(stream.tcp_.peer().port());
    if (sessions != nullptr) {
        SSL_set_ex_data(ssl, server_key_index(), new std::string(server));
        if (SSL_SESSION* last = sessions->find(server)) {
            SSL_set_session(ssl, last);  // takes its own reference
            SSL_SESSION_free(last);
        }
    }
    try {
        co_await stream.handshake(handshake_timeout);
    } catch (...) {
        if (sessions != nullptr) sessions->forget(server);  // never offer a session that failed
        throw;
    }
    co_return stream;
}

task<tls_stream> tls_stream::accept(tcp_stream tcp, tls_context context, std::chrono::nanoseconds handshake_timeout) {
    tls_stream stream(std::move(tcp), std::move(context), {});
    SSL_set_accept_state(stream.ssl_.get());
    co_await stream.handshake(handshake_timeout);
    co_return stream;
}

task<> tls_stream::handshake(std::chrono::nanoseconds timeout) {
    static constexpr const char* operation = "TLS handshake with";
    const corio::detail::deadline_check check(operation, timeout, [this] { return tcp_.peer().to_string(); });
    const auto deadline = deadline_after(current_loop("tls handshake").now(), timeout);
    for (;;) {
        SSL* ssl = open_ssl(operation);
        begin_ssl_call();
        const int result = SSL_do_handshake(ssl);
        if (result == 1) co_return;
        const int sys_error = errno;
        co_await await_progress(SSL_get_error(ssl, result), sys_error, operation, deadline, timeout);
    }
}

task<std::size_t> tls_stream::read_some(std::span<char> buffer) {
    static constexpr const char* operation = "TLS read from";
    open_ssl(operation);                  // a closed stream throws, even for an empty buffer
    if (buffer.empty()) co_return 0;      // like recv(): nothing to read into
    const auto timeout = tcp_.options().read_timeout;
    const corio::detail::deadline_check check(operation, timeout, [this] { return tcp_.peer().to_string(); });
    for (;;) {
        SSL* ssl = open_ssl(operation);
        begin_ssl_call();
        std::size_t n = 0;
        const int result = SSL_read_ex(ssl, buffer.data(), buffer.size(), &n);
        if (result == 1) co_return n;
        const int sys_error = errno;
        const int ssl_error = SSL_get_error(ssl, result);
        if (ssl_error == SSL_ERROR_ZERO_RETURN) co_return 0;  // close_notify, or EOF (IGNORE_UNEXPECTED_EOF)
        co_await await_progress(ssl_error, sys_error, operation, deadline_after(current_loop("read_some").now(), timeout), timeout);
    }
}

task<> tls_stream::write_all(std::string_view data, clock::time_point deadline) {
    static constexpr const char* operation = "TLS write to";
    const auto timeout = tcp_.options().write_timeout;  // no progress for this long
    while (!data.empty()) {
        SSL* ssl = open_ssl(operation);
        begin_ssl_call();
        std::size_t n = 0;
        const int result = SSL_write_ex(ssl, data.data(), data.size(), &n);
        if (result == 1) {
            data.remove_prefix(n);
            continue;
        }
        const int sys_error = errno;
        const auto stalled_at = deadline_after(current_loop("write_all").now(), timeout);
        co_await await_progress(SSL_get_error(ssl, result), sys_error, operation, std::min(deadline, stalled_at), timeout);
    }
}

task<> tls_stream::write_all(std::span<const std::string_view> pieces, clock::time_point deadline) {
    std::size_t total = 0;
    for (const std::string_view p : pieces) total += p.size();
    if (total <= 16 * 1024) {  // one record, one send: a response head with a small body
        std::string gathered;
        gathered.reserve(total);
        for (const std::string_view p : pieces) gathered.append(p);
        co_await write_all(gathered, deadline);
        co_return;
    }
    for (const std::string_view p : pieces) co_await write_all(p, deadline);
}

task<> tls_stream::send_file(int file_fd, std::uint64_t offset, std::uint64_t count, clock::time_point deadline) {
    std::string slice(std::min<std::uint64_t>(count, 64 * 1024), '\0');
    while (count > 0) {
        const ssize_t n = ::pread(file_fd, slice.data(), std::min<std::uint64_t>(count, slice.size()), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw connection_error("TLS send of a file to " + peer_name() + ": reading the file failed: " + std::strerror(errno));
        if (n == 0) throw connection_error("TLS send of a file to " + peer_name() + ": the file ended " + std::to_string(count) + " bytes early");
        co_await write_all(std::string_view(slice.data(), static_cast<std::size_t>(n)), deadline);
        offset += static_cast<std::uint64_t>(n);
        count -= static_cast<std::uint64_t>(n);
    }
}

task<> tls_stream::shutdown() { return send_close_notify(tcp_.options().write_timeout); }

task<> tls_stream::send_close_notify(std::chrono::nanoseconds timeout) {
    static constexpr const char* operation = "TLS close_notify to";
    const auto deadline = deadline_after(current_loop("shutdown").now(), timeout);
    for (;;) {
        SSL* ssl = open_ssl(operation);
        begin_ssl_call();
        const int result = SSL_shutdown(ssl);  // 0: sent; 1: sent, and the peer's was received
        if (result >= 0) co_return;
        const int sys_error = errno;
        co_await await_progress(SSL_get_error(ssl, result), sys_error, operation, deadline, timeout);
    }
}

void tls_stream::close() noexcept {
    ssl_.reset();
    tcp_.close();
}

void tls_stream::abort() noexcept {
    ssl_.reset();
    tcp_.abort();
}

task<> tls_stream::aclose() {
    if (is_open()) {
        try {
            co_await send_close_notify(std::min<std::chrono::nanoseconds>(tcp_.options().write_timeout, std::chrono::seconds(1)));
        } catch (const std::exception&) {
            // Best effort: the peer may be gone or slow; closing is what matters.
        } catch (...) {
            close();  // cancelled: still release the socket
            throw;
        }
    }
    close();
}

std::string_view tls_stream::alpn_protocol() const noexcept {
    if (!ssl_) return {};
    const unsigned char* data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &data, &length);
    return {reinterpret_cast<const char*>(data), length};
}

bool tls_stream::session_reused() const noexcept { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }

SSL* tls_stream::open_ssl(const char* operation) const {
    if (!is_open()) throw connection_error(std::string(operation) + " " + peer_name() + ": the stream is closed");
    return ssl_.get();
}

task<> tls_stream::await_progress(int ssl_error, int sys_error, const char* operation, clock::time_point deadline,
                                  std::chrono::nanoseconds budget) {
    if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) {
        const bool for_read = ssl_error == SSL_ERROR_WANT_READ;
        const auto timed_out = [&] {
            return timeout_error(std::string(operation) + " " + peer_name() + " timed out after " + format_duration(budget));
        };
        bool& busy = waiting_[for_read ? 0 : 1];
        if (busy) {
            // The other operation of this stream already waits for this readiness (a read that
            // must flush an alert while a write waits for writability). fd_watch takes one
            // waiter per direction: retry shortly instead.
            const auto now = current_loop("tls").now();
            if (now >= deadline) throw timed_out();
            co_await sleep_until(std::min(deadline, now + std::chrono::milliseconds(1)));
            co_return;
        }
        busy = true;
        const struct reset_flag {
            bool& flag;
            ~reset_flag() { flag = false; }
        } reset{busy};
        detail::fd_watch& watch = *tcp_.watch_;
        if (for_read) watch.not_readable();
        else watch.not_writable();
        if (!co_await (for_read ? watch.readable(deadline) : watch.writable(deadline))) throw timed_out();
        co_return;
    }
    const std::string what = std::string(operation) + " " + peer_name();
    if (ssl_error == SSL_ERROR_SYSCALL && (sys_error == ECONNRESET || sys_error == EPIPE))
        throw connection_reset_error(what + ": connection reset by peer");
    std::string reason = take_reason(ssl_.get());
    if (reason.empty())
        reason = ssl_error == SSL_ERROR_SYSCALL && sys_error != 0 ? std::strerror(sys_error) : "connection closed by peer";
    throw tls_error(what + " failed: " + reason);
}

std::string tls_stream::peer_name() const {
    const std::string address = tcp_.peer().to_string();
    if (server_name_.empty() || server_name_ == tcp_.peer().address()) return address;
    return server_name_ + " (" + address + ")";
}

}  // namespace corio::net
