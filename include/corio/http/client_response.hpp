// corio/http/client_response.hpp — http::client_response: the answer to a client_session request.
//
// snippet: examples/http_client.cpp#response
//   auto response = co_await session.get("items", http::request_options().param("page", "2"));
//   response.raise_for_status();                      // status_error on 4xx/5xx
//   nlohmann::json items = co_await response.json();  // the whole body (read once, then kept)
//
// A response arrives with its status line and headers; its body is read on demand: whole with
// text()/bytes()/json() (read once, then kept, so text() then json() reads the network once), or
// piece by piece with chunks(). Content-Encoding gzip/deflate is decoded (unless the session
// turned auto_decompress off). Once the body has been read to its end, the connection goes back
// to the session's pool for reuse; a response destroyed or closed before that closes its
// connection instead (it is never returned with unread bytes).
//
// Bounded: every body read is limited by the request's total deadline and, between bytes, by
// its sock_read timeout. Expiry throws timeout_error naming the method, URL and which limit
// expired "while reading the body". A body cut short by the server throws http::protocol_error;
// an undecodable one http::decode_error; an over-limit one (session option max_body_size)
// http::parse_error; an invalid JSON one http::json_error with the byte position.
// Cancel safety: a cancelled body read (a wait_for around chunks().next() or text() that expires)
// loses nothing: it can only be cut while it waits for bytes, and the next read carries on
// where it stopped (text()/json() keep what they read). A response dropped instead closes its
// connection; nothing leaks. Any other failure closes the connection: later reads throw.
// Thread-safety: one task at a time; belongs to the session's loop. Move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/async_generator.hpp"
#include "corio/http/errors.hpp"
#include "corio/http/headers.hpp"
#include "corio/task.hpp"

namespace corio::http {

namespace detail {
class body_reader;
}

class client_response {
public:
    client_response(client_response&&) noexcept;
    client_response& operator=(client_response&&) noexcept;
    ~client_response();

    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const http::headers& headers() const noexcept { return headers_; }
    /// "HTTP/1.1" minor version (0 or 1).
    int version_minor() const noexcept { return version_minor_; }
    const std::string& method() const noexcept { return method_; }
    /// The final URL, after redirects.
    const std::string& url() const noexcept { return url_; }
    /// URLs that answered with a redirect on the way here, in order.
    const std::vector<std::string>& history() const noexcept { return history_; }
    /// True for status < 400.
    bool ok() const noexcept { return status_ < 400; }
    /// Content-Length as sent by the server, if any (before decoding).
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }

    /// Throws status_error (status, reason, URL, headers) if status >= 400.
    void raise_for_status() const;

    /// The whole (decoded) body as bytes in a string.
    task<std::string> text();
    /// The whole body as bytes.
    task<std::vector<std::byte>> bytes();
    /// The whole body parsed as JSON; throws json_error (with the byte position) if invalid.
    task<nlohmann::json> json();
    /// The body in (decoded) pieces as they arrive; each view is valid until the next one is
    /// requested. For bodies too large to hold, or long-lived streams (use sock_read there).
    /// Cannot be combined with text()/bytes()/json() on the same response.
    async_generator<std::string_view> chunks();

    /// Closes the connection now unless the body was read to its end (then it is already back
    /// in the pool); idempotent.
    void close() noexcept;
    /// close(), for async_with.
    task<> aclose();

private:
    friend class client_session;
    client_response() = default;
    std::string describe_request() const;  // "GET http://..."
    task<> read_body();                    // fills body_ once

    int status_ = 0;
    int version_minor_ = 1;
    std::string reason_;
    http::headers headers_;
    std::string method_;
    std::string url_;
    std::vector<std::string> history_;
    std::optional<std::uint64_t> content_length_;

    // Invariants: reader_ is non-null until the body has been read to its end or the response
    // was closed; body_ holds the whole body iff body_read_.
    std::unique_ptr<detail::body_reader> reader_;
    std::string body_;
    bool body_read_ = false;
};

}  // namespace corio::http
