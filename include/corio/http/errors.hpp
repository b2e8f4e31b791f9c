// corio/http/errors.hpp — what the HTTP client throws, beyond the network's own errors.
//
//   corio::error
//     ├─ http::status_error              raise_for_status() on a 4xx/5xx response
//     ├─ http::json_error                json() on a body that is not valid JSON
//     ├─ http::too_many_redirects_error  more redirects than the request allows
//     ├─ http::session_closed_error      a request on a closed client_session
//     ├─ http::stream_consumed_error     a streamed request body needed again (a 307 redirect)
//     └─ corio::connection_error
//          ├─ http::protocol_error       the server broke HTTP: a malformed response, or a body cut
//          │                             short by the connection closing (retryable like a reset)
//          └─ http::proxy_error          the proxy refused to open a tunnel (its status: 407 wants
//                                        credentials)
// Also: timeout_error (which phase expired, and the URL), net::dns_error, net::connect_error,
// net::tls_error, net::connection_reset_error, http::url_error, http::decode_error.
// Every message names the method and URL. Thread-safety: value types.
#pragma once

#include <cstddef>
#include <string>

#include "corio/error.hpp"
#include "corio/http/headers.hpp"

namespace corio::http {

/// A response with status >= 400, raised by client_response::raise_for_status().
/// what(): "GET http://host/x: 404 Not Found".
class status_error : public error {
public:
    status_error(int status, std::string reason, const std::string& method, std::string url,
                 http::headers response_headers);
    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& url() const noexcept { return url_; }
    const http::headers& headers() const noexcept { return headers_; }

private:
    int status_;
    std::string reason_;
    std::string url_;
    http::headers headers_;
};

/// The body is not valid JSON. what() names the URL, the parser's reason and the byte position.
class json_error : public error {
public:
    json_error(const std::string& message, std::size_t position) : error(message), position_(position) {}
    /// From a JSON parser's count of bytes read when it failed (nlohmann's parse_error::byte:
    /// 1-based, so the offending byte is at offset bytes_read - 1; the body's size for a body
    /// cut short).
    static json_error from_bytes_read(const std::string& message, std::size_t bytes_read) {
        return json_error(message, bytes_read > 0 ? bytes_read - 1 : 0);
    }
    /// 0-based byte offset in the (decoded) body where parsing failed.
    std::size_t position() const noexcept { return position_; }

private:
    std::size_t position_;
};

class too_many_redirects_error : public error {
public:
    using error::error;
};
using too_many_redirects = too_many_redirects_error;  ///< the name before every error ended in _error

class session_closed_error : public error {
public:
    using error::error;
};

/// A request whose body was an async_generator, already sent, needed it again: a 307/308
/// redirect (send bytes or a file to follow those).
class stream_consumed_error : public error {
public:
    using error::error;
};

class protocol_error : public connection_error {
public:
    using connection_error::connection_error;
};

/// A proxy answered CONNECT with something other than 2xx: status() is its answer (407: it
/// wants credentials, session_options::proxy_auth). what(): "GET https://h/x: the proxy
/// http://p:3128 refused CONNECT h:443: 403 Forbidden".
class proxy_error : public connection_error {
public:
    proxy_error(int status, const std::string& message) : connection_error(message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

}  // namespace corio::http
