// corio/http/multipart.hpp — multipart/form-data (RFC 7578) both ways: the parts of a request a
// server handler reads as they arrive (request::multipart()), and http::form_data, a form with
// fields and files that client_session streams as a request body.
//
// snippet: examples/http_uploads.cpp#receive
//   auto parts = req.multipart();
//   while (std::optional<http::multipart_part> part = co_await parts.next()) {
//       if (!part->is_file()) continue;  // a plain field: co_await part->text() reads it
//       auto body = part->body_stream();
//       while (std::optional<std::string_view> piece = co_await body.next()) size += piece->size();
//   }
// snippet: examples/http_uploads.cpp#send
//   http::form_data form;
//   form.field("title", "holiday").file("photo", photo_path, "image/jpeg");
//   auto response = co_await session.post("upload", http::request_options().form(std::move(form)));
//
// Reading (server): the body is parsed as it streams in — on a route with stream_body nothing
// is held but the part being read — within multipart_options: at most max_parts parts, each
// with a head of at most max_part_head_size bytes and a body of at most max_part_size, and
// max_total_size for the bodies together. Over a limit: form_error with status 413; a body that
// is not multipart, has no boundary or breaks the format (a part head without its blank line,
// a body cut short before the closing boundary): form_error 400 or 415. A handler that lets a
// form_error escape answers with that status, its message naming what was wrong.
// A part's filename() is only the last component of what the client sent, stripped of control
// characters: "../../etc/passwd" arrives as "passwd", so it cannot name a path outside a
// directory it is joined to (check it is not empty).
// A part is read before the next one: moving on (parts.next()) skips what is left of it, and a
// part kept from before then throws std::logic_error when read — never bytes of another part.
//
// Sending (client): fields and in-memory files are copied into the form; files named by path
// are opened (on a worker thread) when the request is sent and streamed from disk with
// sendfile, so a large upload never sits in memory. The body has a Content-Length (servers
// that refuse chunked uploads accept it). Names, filenames and content types holding CR, LF or
// NUL are refused with std::invalid_argument when added (no forged part headers).
//
// Cancel safety: reading a part is as cancel-safe as request::body_stream(): a next() cut
// short loses nothing. Thread-safety: a request's parts belong to its handler's task;
// form_data is a value type.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/error.hpp"
#include "corio/http/headers.hpp"
#include "corio/task.hpp"

namespace corio::http {

/// A request body that is not the form it should be: a status to answer (400 malformed, 413
/// over a limit, 415 not a form) and a message naming what was wrong.
class form_error : public error {
public:
    form_error(int status, const std::string& message) : error(message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

/// Limits of one multipart body (request::multipart, request::form); the route's
/// max_body_size still bounds the bytes on the wire.
struct multipart_options {
    std::size_t max_parts = 128;
    std::size_t max_part_head_size = 8 * 1024;   ///< a part's header lines together
    std::uint64_t max_part_size = 16ull << 20;   ///< one part's body
    std::uint64_t max_total_size = 64ull << 20;  ///< every part's body together
};

namespace detail {
class multipart_stream;
}

/// One part of a multipart/form-data request, with its headers; its body is read with
/// body_stream() or text() before the next part is asked for.
class multipart_part {
public:
    const http::headers& headers() const noexcept { return headers_; }
    /// The form field's name (Content-Disposition's name).
    const std::string& name() const noexcept { return name_; }
    /// True if the part is a file (Content-Disposition has a filename, even an empty one).
    bool is_file() const noexcept { return is_file_; }
    /// The file's name as a single safe component (see the header comment); "" if none.
    const std::string& filename() const noexcept { return filename_; }
    /// The part's Content-Type; "text/plain" if it has none (RFC 7578).
    const std::string& content_type() const noexcept { return content_type_; }
    /// The body in pieces as it arrives, each valid until the next. Throws std::logic_error
    /// if the reader has moved past this part; form_error on a malformed or oversized body.
    async_generator<std::string_view> body_stream();
    /// The whole body (at most multipart_options::max_part_size bytes).
    task<std::string> text();

private:
    friend class detail::multipart_stream;
    std::shared_ptr<detail::multipart_stream> stream_;
    std::size_t index_ = 0;  // which part of the body this is (stream_ knows the current one)
    http::headers headers_;
    std::string name_;
    std::string filename_;
    std::string content_type_;
    bool is_file_ = false;
};

/// A multipart/form-data body for client_session (request_options::form). Chainable:
///   http::form_data().field("a", "1").file("upload", "/tmp/report.pdf", "application/pdf")
class form_data {
public:
    form_data();  ///< picks a random boundary

    form_data& field(std::string name, std::string value) &;
    /// A file read from `path` when the request is sent; its filename is the path's last
    /// component. Throws std::invalid_argument for a path without a file name.
    form_data& file(std::string name, std::string path, std::string content_type = "application/octet-stream") &;
    /// A file whose content is given here.
    form_data& file_content(std::string name, std::string filename, std::string content,
                            std::string content_type = "application/octet-stream") &;

    form_data&& field(std::string n, std::string v) && { return std::move(field(std::move(n), std::move(v))); }
    form_data&& file(std::string n, std::string p, std::string t = "application/octet-stream") && {
        return std::move(file(std::move(n), std::move(p), std::move(t)));
    }
    form_data&& file_content(std::string n, std::string f, std::string c, std::string t = "application/octet-stream") && {
        return std::move(file_content(std::move(n), std::move(f), std::move(c), std::move(t)));
    }

    /// One piece of the encoded body: bytes, or a file to send (exactly one is non-empty).
    struct segment {
        std::string bytes;
        std::string path;
    };
    /// The body as pieces (the closing boundary included) and its Content-Type.
    std::vector<segment> encode() const;
    const std::string& content_type() const noexcept { return content_type_; }

private:
    struct part {
        std::string head;  // the boundary line and the part's header lines
        std::string content;
        std::string path;  // a file sent from disk instead of `content`
    };
    std::string boundary_;      // random; chosen at construction
    std::string content_type_;  // multipart/form-data; boundary=...
    std::vector<part> parts_;
};

}  // namespace corio::http
