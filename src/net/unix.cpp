#include "corio/net/unix.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <utility>

#include "corio/detail/debug_hooks.hpp"
#include "socket_util.hpp"

namespace corio::net {
namespace {

using detail_socket::errno_text;

/// A Unix socket address: `path`, or for '@name' the abstract name (a leading NUL).
struct unix_address {
    sockaddr_un address{};
    socklen_t size = 0;
    bool abstract() const noexcept { return address.sun_path[0] == '\0'; }
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&address); }
};

bool is_abstract(const std::string& path) noexcept { return !path.empty() && path.front() == '@'; }

/// The most bytes `path` may have: all of sun_path for an abstract name (its '@' becomes the
/// leading NUL, and nothing ends it), one less for a file path (its NUL).
std::size_t longest_path(const std::string& path) noexcept {
    return sizeof(sockaddr_un::sun_path) - (is_abstract(path) ? 0 : 1);
}

/// The address of `path`, or nullopt when it is empty or does not fit sun_path.
std::optional<unix_address> address_of(const std::string& path) noexcept {
    unix_address out;
    out.address.sun_family = AF_UNIX;
    const bool abstract = is_abstract(path);
    if (path.empty() || path.size() > longest_path(path)) return std::nullopt;
    std::memcpy(out.address.sun_path, path.data(), path.size());
    if (abstract) out.address.sun_path[0] = '\0';
    // An abstract name is exactly its bytes; a file path ends at its NUL.
    out.size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return out;
}

std::string too_long(const std::string& path) {
    return path.empty() ? std::string("the path is empty")
                        : "the path has " + std::to_string(path.size()) + " bytes, at most " +
                              std::to_string(longest_path(path)) + " fit";
}

/// A socket file nobody listens on: connecting to it is refused.
bool is_stale_socket_file(const std::string& path, const unix_address& address) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) return false;
    const bool refused = ::connect(probe, address.data(), address.size) != 0 && errno == ECONNREFUSED;
    ::close(probe);
    return refused;
}

/// Binds `fd` to `address`: 0 or errno.
int bind_to(int fd, const unix_address& address) noexcept {
    return ::bind(fd, address.data(), address.size) == 0 ? 0 : errno;
}

}  // namespace

task<unix_stream> unix_stream::connect(std::string path, unix_options options) {
    const corio::detail::deadline_check check("Unix connect to", options.connect_timeout, [&] { return path; });
    const std::string what = "connect to " + path;
    const std::optional<unix_address> address = address_of(path);
    if (!address) throw connect_error(what + " failed: " + too_long(path));
    auto watch = detail_socket::open_socket(AF_UNIX, SOCK_STREAM, what);
    const auto deadline = deadline_after(current_loop("connect").now(), options.connect_timeout);
    co_await detail_socket::connect_socket(*watch, address->data(), address->size, deadline, what, options.connect_timeout);
    detail_socket::read_through_ring(*watch);
    co_return unix_stream(std::move(watch), std::move(path), options);
}

unix_listener unix_listener::bind(std::string path, bind_options options) {
    const std::string what = "listen on " + path;
    const std::optional<unix_address> address = address_of(path);
    if (!address) throw connection_error(what + " failed: " + too_long(path));
    auto watch = detail_socket::open_socket(AF_UNIX, SOCK_STREAM, what);
    int error = bind_to(watch->fd(), *address);
    if (error == EADDRINUSE && options.replace_stale && !address->abstract() && is_stale_socket_file(path, *address)) {
        ::unlink(path.c_str());
        error = bind_to(watch->fd(), *address);
    }
    if (error != 0) throw connection_error(what + " failed: " + errno_text(error));
    socket_file file;  // the file bind() just made: removed on every path from here
    struct stat info {};
    if (!address->abstract() && ::stat(path.c_str(), &info) == 0) file = socket_file(path, info.st_dev, info.st_ino);
    if (::listen(watch->fd(), options.backlog) != 0) throw connection_error(what + " failed: listen(): " + errno_text(errno));
    return unix_listener(detail::listening_socket(std::move(watch), std::move(path)), std::move(file));
}

task<unix_stream> unix_listener::accept(unix_options options) {
    detail::accepted_socket accepted = co_await socket_.accept();
    co_return unix_stream(std::move(accepted.watch), path(), options);
}

void unix_listener::close() noexcept {
    socket_.close();
    file_.remove();
}

task<> unix_listener::aclose() {
    close();
    co_return;
}

unix_listener::socket_file::socket_file(socket_file&& other) noexcept
    : path_(std::exchange(other.path_, {})), device_(other.device_), inode_(other.inode_) {}

unix_listener::socket_file& unix_listener::socket_file::operator=(socket_file&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
        device_ = other.device_;
        inode_ = other.inode_;
    }
    return *this;
}

void unix_listener::socket_file::remove() noexcept {
    if (path_.empty()) return;
    struct stat info {};
    if (::lstat(path_.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) ::unlink(path_.c_str());
    path_.clear();
}

}  // namespace corio::net
