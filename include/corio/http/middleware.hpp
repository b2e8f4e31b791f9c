// corio/http/middleware.hpp — built-in middleware for http::server: an access log, CORS, and
// gzip compression of responses.
//
// snippet: examples/http_middleware.cpp#builtins
//   app.use(http::access_log({.format = http::access_log_options::json_lines,
//                             .sink = [&access](std::string_view line) { access.emplace_back(line); }}));
//   app.use(http::cors({.allow_origins = {"https://app.example"}}));
//   app.use(http::compress());
//
// Each returns an http::middleware (server.hpp) to add with server::use() or route_group::use().
// The first added runs outermost: put access_log() first so it sees what the others did.
// Throws: std::invalid_argument from the factories for options that make no sense (an unknown
// access-log field, CORS credentials with every origin allowed). Thread-safety: a middleware
// may serve several loops at once (server::run with threads > 1): they hold no mutable state.
// Cancel safety: they add no suspension points of their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/server.hpp"

namespace corio::http {

struct access_log_options {
    enum style { text, json_lines };
    /// text: `format` with its {fields} filled in; json_lines: one JSON object per request
    /// with every field.
    style format = text;
    /// Fields: {peer} {method} {target} {path} {version} {status} {bytes} {duration_ms}
    /// {request_id}. Request values are escaped (no control character reaches the log).
    std::string text_format = R"({peer} "{method} {target} HTTP/1.{version}" {status} {bytes} {duration_ms}ms request_id={request_id})";
    /// Where the lines go (without their newline); default: stderr, one write per line.
    std::function<void(std::string_view line)> sink{};
};

/// Logs each request once its response has been written (http::request::after_response): the
/// status and body bytes that went on the wire, a response cut short included. Requests refused
/// before routing (malformed, oversized heads) are not logged here.
middleware access_log(access_log_options options = {});

struct cors_options {
    /// Origins allowed to read responses ("https://app.example"), or "*" for any.
    std::vector<std::string> allow_origins{"*"};
    std::vector<std::string> allow_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    /// Request headers a preflight may ask for beyond the CORS-safelisted ones (compared
    /// without case); "*" allows any.
    std::vector<std::string> allow_headers{"Content-Type", "Authorization", "X-Request-Id"};
    std::vector<std::string> expose_headers{"X-Request-Id"};  ///< response headers a page may read
    bool allow_credentials = false;  ///< cookies and auth; needs explicit origins
    std::chrono::seconds max_age{600};  ///< how long a browser may cache a preflight answer
};

/// Cross-origin resource sharing: answers preflight requests (OPTIONS with
/// Access-Control-Request-Method) itself — 204 with the allowed methods and headers, or 403
/// naming what is not allowed — and adds Access-Control-Allow-Origin (and Vary: Origin) to the
/// responses of allowed origins. Requests without Origin pass untouched.
middleware cors(cors_options options = {});

struct compress_options {
    std::size_t min_size = 1024;  ///< smaller bodies are sent as they are
    int level = 6;                ///< zlib level, 1 (fast) to 9 (small)
};

/// gzip-compresses response bodies of textual types (text/*, JSON, JavaScript, XML, SVG) of at
/// least min_size bytes when the request accepts gzip (Accept-Encoding, q-values honoured),
/// sets Content-Encoding and Vary: Accept-Encoding. Streamed responses, responses that already
/// have a Content-Encoding and bodiless statuses pass untouched.
middleware compress(compress_options options = {});

}  // namespace corio::http
