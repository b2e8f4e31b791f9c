// Implementation of server_checks.hpp.
#include "server_checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "corio/http/headers.hpp"

namespace corio::http::detail {
namespace {

bool is_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

/// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims (also covers IPv4 addresses).
bool is_reg_name(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 2;
        } else if (!is_alnum(c) && std::string_view("-._~!$&'()*+,;=").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

/// `text` with control and non-ASCII bytes shown as \xNN, for a log line.
std::string escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            constexpr std::string_view hex = "0123456789abcdef";
            out.append("\\x").append(1, hex[u >> 4]).append(1, hex[u & 0xf]);
        }
    }
    return out;
}

/// An empty port, or up to 65535.
bool is_port(std::string_view s) noexcept {
    if (s.empty()) return true;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc() && end == s.data() + s.size() && s.size() <= 5 && value <= 65535;
}

/// "[" IPv6address "]".
bool is_ipv6_literal(std::string_view s) noexcept {
    if (s.size() < 3 || s.size() > 2 + INET6_ADDRSTRLEN || s.front() != '[' || s.back() != ']') return false;
    char text[INET6_ADDRSTRLEN + 1] = {};
    std::copy(s.begin() + 1, s.end() - 1, text);
    in6_addr address{};
    return ::inet_pton(AF_INET6, text, &address) == 1;
}

void check_host(const request_head& head) {
    int hosts = 0;
    for (const header_field& f : head.headers) {
        if (!iequals(f.name, "host")) continue;
        if (++hosts > 1 || !is_valid_host(f.value)) throw request_rejected{400};
    }
    if (hosts == 0 && head.version_minor == 1) throw request_rejected{400};
}

/// The path's segments, each percent-decoded.
std::vector<std::string> decoded_segments(std::string_view path) {
    std::vector<std::string> segments;
    segments.reserve(static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')));  // one allocation
    for_each_segment(path, [&segments](std::string_view segment) { segments.push_back(percent_decode(segment)); });
    return segments;
}

/// Decodes an origin-form path ("/...") and query. Throws url_error on a bad escape.
checked_target decode(std::string_view path, std::string_view query) {
    checked_target out;
    out.path = percent_decode(path);
    if (out.path.find('\0') != std::string::npos) throw request_rejected{400};
    out.segments = decoded_segments(path);
    out.query = query_params::parse(query);
    return out;
}

/// scheme ":" ... (absolute-form), as opposed to an authority "host:port".
bool looks_absolute(std::string_view target) noexcept {
    const auto colon = target.find(':');
    if (colon == std::string_view::npos || colon == 0 || target.substr(colon + 1, 2) != "//") return false;
    return std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(colon),
                       [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; });
}

checked_target check_target(std::string_view method, std::string_view target) {
    if (method == "CONNECT") {  // authority-form only, and no tunnels here
        throw request_rejected{target.front() != '/' && !looks_absolute(target) && is_valid_host(target) ? 501 : 400};
    }
    if (target == "*") {
        if (method != "OPTIONS") throw request_rejected{400};
        checked_target out;
        out.path = "*";
        out.asterisk = true;
        return out;
    }
    if (target.find('#') != std::string_view::npos) throw request_rejected{400};
    if (target.front() == '/') {
        const auto question = target.find('?');
        return decode(target.substr(0, question),
                      question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
    }
    if (!looks_absolute(target)) throw request_rejected{400};
    const url u = url::parse(target);
    if ((u.scheme() != "http" && u.scheme() != "https") || u.has_userinfo()) throw request_rejected{400};
    return decode(u.path(), u.query());
}

}  // namespace

std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> segments;
    for_each_segment(path, [&segments](std::string_view segment) { segments.push_back(segment); });
    return segments;
}

bool is_valid_host(std::string_view value) noexcept {
    if (value.empty()) return true;
    std::string_view host = value;
    std::string_view port;
    if (value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string_view::npos) return false;
        host = value.substr(0, close + 1);
        const auto rest = value.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return false;
        if (!rest.empty()) port = rest.substr(1);
        return is_ipv6_literal(host) && is_port(port);
    }
    if (const auto colon = value.find(':'); colon != std::string_view::npos) {
        host = value.substr(0, colon);
        port = value.substr(colon + 1);
    }
    return !host.empty() && is_reg_name(host) && is_port(port);
}

bool is_valid_request_id(std::string_view value) noexcept {
    const auto allowed = [](char c) {
        const char lower = static_cast<char>(c | 0x20);
        return (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'z') || std::string_view("-_.:+/=").find(c) != std::string_view::npos;
    };
    return !value.empty() && value.size() <= 128 && std::all_of(value.begin(), value.end(), allowed);
}

std::string response_problem(int status, const headers& fields) {
    if (status < 200 || status > 999) return "its status " + std::to_string(status) + " is not in 200-999";
    for (const auto& [name, value] : fields) {
        if (!is_token(name)) return "a header name is not a token: \"" + escaped(name) + "\"";
        const bool text = std::none_of(value.begin(), value.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return (u < 0x20 && u != '\t') || u == 0x7f;
        });
        if (!text) return "its header '" + name + "' has a CR, LF, NUL or another control character in its value";
        const bool framing = (name.size() == 14 && iequals(name, "content-length")) ||
                             (name.size() == 17 && iequals(name, "transfer-encoding"));
        if (framing) return "it sets '" + name + "' (the server frames the body itself)";
    }
    return {};
}

checked_target check_request(const request_head& head) {
    check_host(head);
    try {
        return check_target(head.method, head.target);
    } catch (const url_error&) {  // an invalid escape or absolute URL
        throw request_rejected{400};
    }
}

}  // namespace corio::http::detail
