#include "corio/net/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "corio/error.hpp"

namespace corio::net {

endpoint endpoint::parse(std::string_view address, std::uint16_t port) {
    if (auto ep = try_parse(address, port)) return *ep;
    throw error("invalid IP address '" + std::string(address) + "'");
}

std::optional<endpoint> endpoint::try_parse(std::string_view address, std::uint16_t port) {
    const std::string text(address);
    endpoint ep;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.storage_);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.storage_);
    if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        ep.size_ = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        ep.size_ = sizeof(sockaddr_in6);
    } else {
        return std::nullopt;
    }
    return ep;
}

endpoint endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
    endpoint ep;
    if (len > static_cast<socklen_t>(sizeof ep.storage_)) len = sizeof ep.storage_;
    std::memcpy(&ep.storage_, sa, len);
    ep.size_ = len;
    return ep;
}

std::uint16_t endpoint::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::string endpoint::address() const {
    char text[INET6_ADDRSTRLEN] = "?";
    if (family() == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
    else if (family() == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text, sizeof text);
    return text;
}

std::string endpoint::to_string() const {
    return family() == AF_INET6 ? "[" + address() + "]:" + std::to_string(port())
                                : address() + ":" + std::to_string(port());
}

}  // namespace corio::net
