// Private to the HTTP client: which proxy a request goes through, and CONNECT tunnels.
//
// A session's proxies come from session_options (proxy, proxy_auth, no_proxy) or, with
// trust_env (the default), from the environment as curl, Python and Go read it: http_proxy, https_proxy and
// all_proxy (lower case first, then upper case; HTTP_PROXY is ignored when REQUEST_METHOD is
// set, since a CGI program gets its request's "Proxy:" header there: the "httpoxy" hole) and
// no_proxy. Only http:// proxies are supported. Plain http requests are forwarded to the proxy
// in absolute form; https and WebSocket connections go through a CONNECT tunnel.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/clock.hpp"
#include "corio/http/client_session.hpp"
#include "corio/http/url.hpp"
#include "corio/net/tcp.hpp"
#include "corio/task.hpp"

namespace corio::http::detail {

/// One proxy server: where to connect, and the Proxy-Authorization value ("" = none).
struct proxy_route {
    url address;
    std::string authorization;
    std::string origin;  // "http://p:3128", for pool keys and messages
};

/// The proxies of one session, fixed when the session is made.
class proxy_settings {
public:
    /// Throws url_error for a proxy URL that is not http://host[:port].
    explicit proxy_settings(const session_options& options);

    /// The proxy for `target`, or null when it is reached directly.
    const proxy_route* route_for(const url& target) const noexcept;

private:
    std::optional<proxy_route> http_;   // for http:// targets
    std::optional<proxy_route> https_;  // for https:// targets
    std::vector<std::string> bypass_;   // no_proxy entries, lower case; "*" = every host
};

/// Whether `host` (no brackets) matches a no_proxy list: "*", a host name or domain suffix
/// ("example.com" and ".example.com" both match "api.example.com"), an address, or an
/// address range ("10.0.0.0/8", "fd00::/8").
bool bypasses_proxy(const std::vector<std::string>& entries, std::string_view host);
/// The entries of a no_proxy value ("a.example, .b.example ,10.0.0.0/8"), lower case.
std::vector<std::string> parse_no_proxy(std::string_view value);

/// Asks the proxy connected on `tcp` for a tunnel to `target`'s host and port (CONNECT), within
/// `deadline`. Throws http::proxy_error when the proxy refuses (its status), protocol_error for
/// an answer that is not HTTP, timeout_error, and the stream's errors.
task<> open_tunnel(net::tcp_stream& tcp, const proxy_route& proxy, const url& target, clock::time_point deadline,
                   const parse_limits& limits);

}  // namespace corio::http::detail
