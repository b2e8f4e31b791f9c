// Implementation of proxy.hpp.
#include "proxy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "read_buffer.hpp"
#include "corio/http/errors.hpp"

namespace corio::http::detail {
namespace {

/// The first of the environment variables `names` that is set and not empty.
std::string environment(std::initializer_list<const char*> names) {
    for (const char* name : names)
        if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
    return {};
}

/// A proxy from its URL ("http://user:password@p:3128", or "p:3128" for short).
proxy_route make_route(const std::string& text, const std::optional<auth>& credentials) {
    const url parsed = url::parse(text.find("://") == std::string::npos ? "http://" + text : text);
    if (parsed.scheme() != "http")
        throw url_error("unsupported proxy scheme '" + parsed.scheme() + "' in \"" + escape_unsafe(parsed.without_userinfo().to_string()) +
                        "\" (http:// proxies only)");
    if (parsed.host().empty() || (parsed.path() != "/" && !parsed.path().empty()) || parsed.has_query())
        throw url_error("a proxy is http://host[:port], not \"" + escape_unsafe(parsed.without_userinfo().to_string()) + "\"");
    std::string authorization;
    if (credentials)
        authorization = credentials->header_value();
    else if (parsed.has_userinfo())
        authorization = auth::basic(parsed.decoded_user(), parsed.decoded_password()).header_value();
    url address = parsed.without_userinfo();
    std::string origin = "http://" + address.host_header();
    return {std::move(address), std::move(authorization), std::move(origin)};
}

std::optional<proxy_route> route_from(const std::string& text, const std::optional<auth>& credentials) {
    if (text.empty()) return std::nullopt;
    return make_route(text, credentials);
}

/// `host` is inside `range` ("10.0.0.0/8"): both addresses of one family, prefixes equal.
bool in_range(std::string_view range, std::string_view host) {
    const auto slash = range.find('/');
    const std::string network(range.substr(0, slash));
    const std::string address(host);
    std::array<unsigned char, 16> net_bytes{}, host_bytes{};
    const int family = network.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (::inet_pton(family, network.c_str(), net_bytes.data()) != 1 || ::inet_pton(family, address.c_str(), host_bytes.data()) != 1)
        return false;
    const int width = family == AF_INET ? 32 : 128;
    int bits = width;
    if (slash != std::string_view::npos) {
        const std::string prefix(range.substr(slash + 1));
        char* end = nullptr;
        bits = static_cast<int>(std::strtol(prefix.c_str(), &end, 10));
        if (prefix.empty() || *end != '\0' || bits < 0 || bits > width) return false;
    }
    for (int i = 0; i < bits; ++i) {
        const unsigned mask = 0x80u >> (i % 8);
        if ((net_bytes[i / 8] & mask) != (host_bytes[i / 8] & mask)) return false;
    }
    return true;
}

bool matches(std::string_view entry, std::string_view host) {
    if (entry == "*") return true;
    if (in_range(entry, host)) return true;
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (host == entry) return true;
    return host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.';
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// "CONNECT h:443 HTTP/1.1" and its fields.
std::string connect_request(const proxy_route& proxy, const std::string& authority) {
    std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!proxy.authorization.empty()) request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
    return request + "\r\n";
}

}  // namespace

std::vector<std::string> parse_no_proxy(std::string_view value) {
    std::vector<std::string> entries;
    for (std::string_view element : list_elements(value)) {
        if (element.size() > 1 && element.front() == '[') {  // "[::1]" or "[::1]:8080"
            element = element.substr(1, element.find(']') - 1);
        } else if (std::count(element.begin(), element.end(), ':') == 1) {
            element = element.substr(0, element.find(':'));  // a port: every port matches
        }
        entries.push_back(lower(element));
    }
    return entries;
}

bool bypasses_proxy(const std::vector<std::string>& entries, std::string_view host) {
    const std::string name = lower(host);
    return std::any_of(entries.begin(), entries.end(), [&](const std::string& e) { return matches(e, name); });
}

proxy_settings::proxy_settings(const session_options& options) {
    std::string http_text = options.proxy, https_text = options.proxy, no_proxy = options.no_proxy;
    if (options.trust_env && options.proxy.empty()) {
        const bool cgi = std::getenv("REQUEST_METHOD") != nullptr;  // HTTP_PROXY may be a request header there
        http_text = cgi ? environment({"http_proxy"}) : environment({"http_proxy", "HTTP_PROXY"});
        https_text = environment({"https_proxy", "HTTPS_PROXY"});
        const std::string all = environment({"all_proxy", "ALL_PROXY"});
        if (http_text.empty()) http_text = all;
        if (https_text.empty()) https_text = all;
    }
    if (options.trust_env && no_proxy.empty()) no_proxy = environment({"no_proxy", "NO_PROXY"});
    http_ = route_from(http_text, options.proxy_auth);
    https_ = route_from(https_text, options.proxy_auth);
    bypass_ = parse_no_proxy(no_proxy);
}

const proxy_route* proxy_settings::route_for(const url& target) const noexcept {
    const std::optional<proxy_route>& route = target.scheme() == "https" ? https_ : http_;
    if (!route || bypasses_proxy(bypass_, target.host())) return nullptr;
    return &*route;
}

task<> open_tunnel(net::tcp_stream& tcp, const proxy_route& proxy, const url& target, clock::time_point deadline,
                   const parse_limits& limits) {
    const std::string authority = target.host_port();
    const std::string request = connect_request(proxy, authority);
    co_await tcp.write_all(request, deadline);
    response_parser parser(limits);
    parser.expect_no_body();  // a 2xx answer to CONNECT has none; for the others it is not read
    read_buffer buffer(1024);
    for (;;) {
        const parse_result r = parser.parse(buffer.unread());
        buffer.consume(r.consumed);
        if (r.event == parse_event::headers && parser.head().status >= 200) break;
        if (r.event != parse_event::need_more) continue;  // a 1xx answer
        tcp.options().read_timeout = std::max<std::chrono::nanoseconds>(deadline - clock::now(), std::chrono::nanoseconds(1));
        const std::size_t n = co_await tcp.read_some(buffer.prepare());
        if (n == 0) throw protocol_error("the proxy " + proxy.origin + " closed the connection instead of answering CONNECT " + authority);
        buffer.commit(n);
    }
    const response_head& head = parser.head();
    if (head.status / 100 != 2)
        throw proxy_error(head.status, "the proxy " + proxy.origin + " refused CONNECT " + authority + ": " +
                                           std::to_string(head.status) + " " + std::string(head.reason));
    if (!buffer.unread().empty())
        throw protocol_error("the proxy " + proxy.origin + " sent bytes after its answer to CONNECT " + authority);
}

}  // namespace corio::http::detail
