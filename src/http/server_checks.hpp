// Private to the HTTP server: the checks at its two trust boundaries.
// 1. What a parsed request head must satisfy before it is routed, and the values the server makes
//    of its bytes. Every place where request bytes become values a handler sees (the path, its
//    segments, the query) goes through check_request(), so a malformed escape or target is a 400
//    here and can never escape past the refusal path.
// 2. What a handler's response must satisfy before its head is written (response_problem()): the
//    server never puts bytes on the wire that would let a header value forge another header or a
//    second response (response splitting).
//
// Request rules (RFC 9112 §3.2, RFC 9110 §7.2), each a 400 unless noted:
// - Host: an HTTP/1.1 request has exactly one Host field; a Host field (in any version) is empty
//   or `uri-host [":" port]` (a reg-name, an IPv4 address or a bracketed IPv6 literal).
// - Target: origin-form ("/path?query") or absolute-form ("http://host/path?query", routed by its
//   path; its authority wins over Host for nothing here: routing uses only the path); `*` only
//   with OPTIONS; authority-form ("host:port") only with CONNECT, which corio does not implement
//   (501). Anything else, e.g. "%2F..." or "x/y", is refused. A '#' is refused.
// - Percent-escapes: every '%' is followed by two hex digits, in path and query; a path that
//   decodes to a NUL is refused. The path is split into segments BEFORE decoding, so "%2F" stays
//   inside its segment (a route parameter may hold "a/b"; it never adds a segment).
// Response rules: a status in 200..999 (1xx would break the framing); header names are tokens;
// values hold only HTAB, SP, visible ASCII and obs-text (no CR, LF, NUL or other controls); no
// Content-Length or Transfer-Encoding (the server frames the body itself).
// Thread-safety: pure functions. Throws request_rejected only.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/headers.hpp"
#include "corio/http/parser.hpp"
#include "corio/http/url.hpp"

namespace corio::http::detail {

/// A request refused before it reached a handler: answered with `status`, then the
/// connection closes.
struct request_rejected {
    int status;
};

/// The routable values of a valid request target.
struct checked_target {
    std::string path;                   ///< decoded; "*" for `OPTIONS *`
    std::vector<std::string> segments;  ///< the path's segments, each decoded on its own
    query_params query;                 ///< decoded with form semantics ('+' is a space)
    bool asterisk = false;              ///< `OPTIONS *`: about the server, not a resource
};

/// Checks Host and the target of `head` and decodes the target. Throws request_rejected.
checked_target check_request(const request_head& head);

/// Calls fn(segment) for each segment of an absolute path after its leading '/' ("/a/b" -> "a",
/// "b"; "/" -> ""), in order.
template <class F>
void for_each_segment(std::string_view path, F fn) {
    for (std::size_t start = 1; start <= path.size();) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        fn(path.substr(start, end - start));
        start = end + 1;
    }
}
/// The segments for_each_segment() visits, as a vector.
std::vector<std::string_view> split_segments(std::string_view path);

/// True if `value` is a valid Host field value: empty, or uri-host [":" port].
bool is_valid_host(std::string_view value) noexcept;

/// True if a client's X-Request-Id may be taken as the request's id: 1-128 characters, each a
/// letter, digit or one of "-_.:+/=" (nothing a log line or a header could be confused by).
bool is_valid_request_id(std::string_view value) noexcept;

/// What makes a handler's response unfit for the wire ("its header 'X-A' has a CR, LF or
/// another control character in its value"), or "" if nothing does.
std::string response_problem(int status, const headers& fields);

}  // namespace corio::http::detail
