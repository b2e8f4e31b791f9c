// corio/net/unix.hpp — unix_stream and unix_listener: Unix-domain stream sockets on the loop.
//
// snippet: examples/net.cpp#unix
//   auto daemon = co_await net::unix_stream::connect(path, {.read_timeout = 5s});
//   co_await daemon.write_all("status");
//   std::size_t n = co_await daemon.read_some(buffer);  // 0 at end of stream
//
// A path names a socket file; a path starting with '@' names a socket in Linux's abstract
// namespace (the '@' stands for the leading NUL byte, as ss(8) and Go write it): no file, gone
// when its last socket closes. A file path has at most 107 bytes, an '@' name 108 (sun_path).
// The reading and writing half is basic_stream (net/stream_socket.hpp), shared with tcp_stream:
// the same read_some/write_all/send_file API, the same limits (unix_options: connect_timeout,
// read_timeout, write_timeout, all finite by default), the same errors, named by the path
// ("read from /run/app.sock timed out after 60s"). A stream accepted by a listener is named by
// the listener's path (the connecting side is usually unnamed).
// Errors: connect throws net::connect_error "connect to <path> failed: <errno text>" (no such
// file, nobody listening, permission denied, path too long) or timeout_error; bind throws
// corio::connection_error "listen on <path> failed: <errno text>".
// Socket files: bind over an existing socket file nobody listens on (a server that died without
// cleaning up) replaces it — bind_options::replace_stale, on by default; the check connects to
// it, so a live server sees one connection that closes at once. A file that is not a socket, or
// one a server listens on, is never touched: bind fails with EADDRINUSE. The listener removes its
// socket file on close() and destruction, unless another file has replaced it since.
//
// Cancel safety: connect — the half-open socket is closed. read_some — no data is lost (a
// cancelled read consumed nothing). write_all — a prefix of the data may have been sent; the
// stream should then be closed. accept — no connection is lost: it waits for the next accept().
// On the io_uring backend streams and listeners use the ring as TCP's do (net/tcp.hpp).
// Thread-safety: a stream or listener belongs to the loop that created it. Move-only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "corio/net/stream_socket.hpp"
#include "corio/task.hpp"

namespace corio::net {

struct unix_options {
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);  // also while the listener's backlog is full
    std::chrono::nanoseconds read_timeout = std::chrono::seconds(60);     // idle: no byte for this long
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);    // no write progress for this long
};

/// The protocol of unix_stream (net/stream_socket.hpp): its peer is the socket's path.
struct unix_protocol {
    using options_type = unix_options;
    using peer_type = std::string;
    static constexpr const char* name = "Unix";
    static std::string describe(const std::string& path) { return path; }
};

extern template class basic_stream<unix_protocol>;

/// A connected Unix-domain stream socket: basic_stream's reads and writes, and connect.
class unix_stream : public basic_stream<unix_protocol> {
public:
    unix_stream() noexcept = default;

    /// Connects to the socket at `path` ('@name': abstract namespace) within
    /// options.connect_timeout; throws connect_error, timeout_error or cancelled_error.
    static task<unix_stream> connect(std::string path, unix_options options = {});

    /// The path connected to, or the path of the listener that accepted this stream.
    const std::string& path() const noexcept { return peer(); }

private:
    unix_stream(std::unique_ptr<detail::fd_watch> watch, std::string path, unix_options options) noexcept
        : basic_stream(std::move(watch), std::move(path), options) {}
    friend class unix_listener;
};

class unix_listener {
public:
    struct bind_options {
        int backlog = 1024;
        bool replace_stale = true;  // a socket file nobody listens on is removed and bound again
    };

    /// Binds and listens on `path` ('@name': abstract namespace). Throws connection_error
    /// naming the path (EADDRINUSE when a server listens there or the file is not a socket).
    static unix_listener bind(std::string path, bind_options options);
    static unix_listener bind(std::string path) { return bind(std::move(path), bind_options{}); }

    const std::string& path() const noexcept { return socket_.name(); }
    /// Waits for the next connection (until one arrives or the awaiting task is cancelled);
    /// the stream gets `options`.
    task<unix_stream> accept(unix_options options = {});
    /// Stops listening and removes the socket file: a pending accept() throws connection_error.
    /// Idempotent.
    void close() noexcept;
    /// close(), for async_with (never throws, never suspends).
    task<> aclose();

private:
    /// The socket file a listener made: removed when the listener closes, if it is still that file.
    class socket_file {
    public:
        socket_file() noexcept = default;
        socket_file(std::string path, dev_t device, ino_t inode) noexcept
            : path_(std::move(path)), device_(device), inode_(inode) {}
        socket_file(socket_file&& other) noexcept;
        socket_file& operator=(socket_file&& other) noexcept;
        ~socket_file() { remove(); }
        void remove() noexcept;

    private:
        std::string path_;  // empty: nothing to remove (abstract namespace, moved-from, removed)
        dev_t device_ = 0;  // the identity of the file bind() made
        ino_t inode_ = 0;
    };

    unix_listener(detail::listening_socket socket, socket_file file) noexcept
        : socket_(std::move(socket)), file_(std::move(file)) {}

    detail::listening_socket socket_;  // named by the path given to bind()
    socket_file file_;
};

}  // namespace corio::net
