// libFuzzer target for the server's request checks (src/http/server_checks.hpp): the one path by
// which request bytes (method, target, Host) become the values a handler sees.
//
// The input is split at its first two '\n' into a method, a target and Host values (more '\n'
// separate several Host fields); the request line is parsed by the real request parser, so only
// targets the parser lets through reach the checks, as in the server. Invariants (trap
// otherwise):
// - check_request() either returns or throws detail::request_rejected with a status of 400 or
//   501 — never anything else (a url_error escaping here was the dropped-connection bug);
// - an accepted path is "*" (OPTIONS only) or starts with '/', holds no NUL, and equals "/" +
//   its segments joined with '/' (segments are decoded one by one, so that holds exactly);
// - an HTTP/1.1 request is accepted only with exactly one Host field, and only if
//   is_valid_host() accepts its value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../src/http/server_checks.hpp"

namespace {

namespace http = corio::http;
namespace detail = corio::http::detail;

std::string joined(const std::vector<std::string>& segments) {
    std::string out;
    for (const auto& s : segments) out.append("/").append(s);
    return out;
}

void check(std::string_view method, std::string_view target, std::string_view hosts) {
    std::string raw = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
    int host_fields = 0;
    std::string_view only_host;
    while (!hosts.empty()) {
        const auto end = std::min(hosts.find('\n'), hosts.size());
        raw.append("Host: ").append(hosts.substr(0, end)).append("\r\n");
        only_host = hosts.substr(0, end);
        ++host_fields;
        hosts.remove_prefix(std::min(end + 1, hosts.size()));
    }
    raw.append("\r\n");
    http::request_parser parser;
    try {
        if (parser.parse(raw).event != http::parse_event::headers) return;
    } catch (const http::parse_error&) {
        return;  // the server refuses it before the checks
    }
    const http::request_head& head = parser.head();
    try {
        const detail::checked_target t = detail::check_request(head);
        if (host_fields != 1) __builtin_trap();
        if (!detail::is_valid_host(head.find("host").value_or(only_host))) __builtin_trap();
        if (t.asterisk) {
            if (t.path != "*" || head.method != "OPTIONS") __builtin_trap();
            return;
        }
        if (t.path.empty() || t.path.front() != '/' || t.path.find('\0') != std::string::npos) __builtin_trap();
        if (joined(t.segments) != t.path) __builtin_trap();
    } catch (const detail::request_rejected& r) {
        if (r.status != 400 && r.status != 501) __builtin_trap();
    }
    // Anything else escaping check_request() ends the run as an uncaught exception: a finding.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto first = input.find('\n');
    if (first == std::string_view::npos) return 0;
    const auto second = input.find('\n', first + 1);
    const auto target = input.substr(first + 1, (second == std::string_view::npos ? input.size() : second) - first - 1);
    const auto hosts = second == std::string_view::npos ? std::string_view() : input.substr(second + 1);
    check(input.substr(0, first), target, hosts);
    return 0;
}
