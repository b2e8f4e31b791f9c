// corio/net/endpoint.hpp — endpoint: an IP address (v4 or v6) and a port.
//
// Numeric addresses only: name resolution (DNS) yields endpoints. to_string() gives
// "127.0.0.1:8080" or "[::1]:8080", the form every net error message uses.
// Throws: parse() throws corio::error for an invalid address. Thread-safety: a value type.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace corio::net {

class endpoint {
public:
    endpoint() noexcept = default;
    /// Parses a numeric IPv4 or IPv6 address ("127.0.0.1", "::1"; no brackets) and a port.
    static endpoint parse(std::string_view address, std::uint16_t port);
    /// The same, or nullopt when `address` is not a numeric IP address.
    static std::optional<endpoint> try_parse(std::string_view address, std::uint16_t port);
    /// Wraps a socket address returned by the kernel (accept, getsockname).
    static endpoint from_sockaddr(const sockaddr* sa, socklen_t len);

    int family() const noexcept { return storage_.ss_family; }
    std::uint16_t port() const noexcept;
    std::string address() const;
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return size_; }

    /// Same family, address and port (and IPv6 flow/scope).
    friend bool operator==(const endpoint& a, const endpoint& b) noexcept {
        return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
    }

private:
    sockaddr_storage storage_{};  // a sockaddr_in or sockaddr_in6, per family()
    socklen_t size_ = 0;
};

}  // namespace corio::net
