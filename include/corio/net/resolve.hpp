// corio/net/resolve.hpp — resolve(host, port): asynchronous DNS with c-ares, on the loop.
//
// A numeric address ("127.0.0.1", "::1", "[::1]") resolves to itself without any lookup.
// Otherwise c-ares resolves the name (hosts file, then the DNS servers of /etc/resolv.conf or
// set_dns_servers), its sockets and timers driven by the calling task's loop: nothing blocks
// the loop. The endpoints come in the order the resolver prefers (as getaddrinfo would).
//
// Bounded: options.timeout (default 5 s) covers the whole lookup; expiry throws
// corio::timeout_error ("DNS lookup of 'example.com' timed out after 5s"). A name that does not
// exist, has no address, or whose servers fail throws net::dns_error naming the host and the
// resolver's reason. Cancel safety: a cancelled lookup is abandoned at once (its queries are
// destroyed); nothing is left registered on the loop.
// Thread-safety: call from a task; each lookup uses its own resolver channel.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "corio/net/endpoint.hpp"
#include "corio/net/errors.hpp"
#include "corio/task.hpp"

namespace corio::net {

/// Trivially copyable on purpose: g++ 12 copies aggregate temporaries that live across a
/// co_await bitwise, which breaks members such as std::string.
struct resolve_options {
    std::chrono::nanoseconds timeout = std::chrono::seconds(5);
    int family = AF_UNSPEC;  // AF_INET or AF_INET6 to restrict the answer
};

/// Resolves `host` to the endpoints of `port`.
task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port, resolve_options options = {});

/// Makes lookups started afterwards on this thread ask these DNS servers ("ip:port,ip:port")
/// instead of those of /etc/resolv.conf; an empty string restores the system's. Returns the
/// previous setting. For tests and deployments with their own resolver.
std::string set_dns_servers(std::string servers);

}  // namespace corio::net
