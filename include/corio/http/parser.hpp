// corio/http/parser.hpp — incremental, zero-copy HTTP/1.1 request and response parser (no I/O).
//
// The caller owns one contiguous buffer per connection and calls parse(data) where `data` is every
// byte of that buffer not yet consumed (the first byte is the first unconsumed one). Each call
// returns ONE event plus `consumed`, the number of leading bytes of `data` the caller must now drop
// before the next call (bytes the parser has not consumed must be passed again, followed by any
// newly received bytes; they may have moved: the parser keeps offsets, never pointers):
//   need_more         feed more bytes (after dropping `consumed` framing bytes, e.g. chunk sizes)
//   headers           head() is complete; `consumed` covers the whole head
//   body              `body` is the next piece of the decoded body (a view into `data`)
//   message_complete  the message ended; trailers() holds chunked trailers. The next call
//                     starts the next (pipelined) message in the remaining bytes.
// Splitting the input anywhere (down to one byte per call) yields the same events, head, body
// bytes and errors as feeding it at once.
//
// Validity of views (zero-copy): every string_view in head() (method, target, reason, header names
// and values) points into the `data` of the call that returned `headers`; trailers() into the
// `data` of the call that returned `message_complete`; `body` into the `data` of its call. They stay
// valid as long as the caller leaves those bytes where they are, i.e. until it compacts, overwrites
// or frees that part of its buffer. A connection reuses one buffer by advancing a read index on
// `consumed` and compacting (moving unconsumed bytes to the front) only once it is done with the
// views of the current head. head() itself is overwritten when the next head completes.
//
// Strictness (request-smuggling defence): rejected with a specific parse_error_code: both
// Content-Length and Transfer-Encoding; differing duplicate Content-Length; in a REQUEST any second
// Content-Length field, even an identical one (nginx does the same; a response may repeat an
// identical value, which every hop reads alike); Content-Length that is not 1*DIGIT or overflows
// 64 bits; in a request, a second Transfer-Encoding field or one in an HTTP/1.0 request
// (invalid_transfer_encoding, 400) and any value other than exactly `chunked` — `gzip, chunked`,
// `chunked,`, an empty value (unsupported_transfer_encoding, answered 501); in a response,
// `chunked` anywhere but last (a response whose final coding is not chunked is read until close,
// as RFC 9112 §6.3 says); obs-fold; bare CR; bare LF (every line must end in CRLF, like strict
// servers; no tolerance for LF-only clients); whitespace between a header name and its colon;
// non-token characters in methods and header names; control characters in targets, values and
// reasons; NUL anywhere; invalid chunk sizes (non-hex, overflow, junk after the size) and a chunk
// not followed by CRLF. Versions: a request line must end in `HTTP/` DIGIT `.` DIGIT; HTTP/1.0
// and 1.1 are parsed, a later 1.x is read as 1.1 (RFC 9112 §2.3), another major version is
// unsupported_version (505); responses must be HTTP/1.0 or 1.1.
// A request line is checked byte by byte as it arrives, so bytes that cannot start one (a TLS
// ClientHello, binary noise) are rejected at once, not after a timeout. Empty lines (CRLF) before
// a request line are skipped (RFC 9112 §2.2), so a stray CRLF after a body is harmless; they are
// not part of the message (offsets start after them). `Expect: 100-continue` counts only in an
// HTTP/1.1 request (an HTTP/1.0 one MUST be ignored).
//
// Framing: requests have a body only with Content-Length or chunked. Responses to HEAD (announce
// with expect_no_body()), 1xx, 204 and 304 have no body; without Content-Length or chunked a
// response body runs until the connection closes (call finish() at EOF). After a 101 response the
// remaining bytes belong to the new protocol: stop parsing.
//
// Errors: parse() and finish() throw http::parse_error (a corio::error) naming the problem and the
// byte offset within the message; the parser then stays failed (parse() rethrows it).
// Thread-safety: none; one parser per connection. Cancel safety: no I/O, nothing to cancel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/error.hpp"

namespace corio::http {

/// Why a message was rejected. Limits map to statuses: start_line_too_long → 414,
/// too_many_headers / headers_too_large → 431, body_too_large → 413,
/// unsupported_transfer_encoding → 501, unsupported_version → 505, the rest → 400.
enum class parse_error_code : std::uint8_t {
    start_line_too_long,
    too_many_headers,
    headers_too_large,
    body_too_large,
    chunk_line_too_long,
    invalid_method,
    invalid_target,
    invalid_version,
    invalid_status,
    invalid_reason,
    invalid_header_name,
    whitespace_before_colon,
    invalid_header_value,
    obs_fold,
    bare_cr,
    bare_lf,
    nul_byte,
    content_length_and_transfer_encoding,
    conflicting_content_length,
    invalid_content_length,
    invalid_transfer_encoding,
    unsupported_transfer_encoding,
    unsupported_version,
    duplicate_content_length,
    invalid_chunk_size,
    invalid_chunk_extension,
    missing_chunk_crlf,
    unexpected_eof,
};

/// A short description, e.g. "bare CR".
std::string_view to_string(parse_error_code code) noexcept;

/// A malformed or over-limit message. what(): "HTTP parse error: <problem> at byte <offset>".
class parse_error : public error {
public:
    /// `offset`: position of the offending byte counted from the first byte of the message.
    parse_error(parse_error_code code, std::uint64_t offset);
    parse_error_code code() const noexcept { return code_; }
    std::uint64_t offset() const noexcept { return offset_; }

private:
    parse_error_code code_;
    std::uint64_t offset_;
};

/// Bounds on what one message may use. Line and head sizes include their CRLFs.
struct parse_limits {
    std::size_t max_start_line = 8 * 1024;         ///< request/status line (414)
    std::size_t max_header_count = 100;            ///< fields in the head, and in the trailers
    std::size_t max_header_bytes = 64 * 1024;      ///< whole head (431); also the trailer section
    std::uint64_t max_body_size = 64ull << 20;     ///< decoded body bytes (413); raise for downloads
    std::size_t max_chunk_line = 1024;             ///< chunk-size line with its extensions
};

/// One header field; the value is trimmed of surrounding spaces and tabs.
struct header_field {
    std::string_view name;
    std::string_view value;
};

/// What requests and responses share.
struct message_head {
    int version_minor = 1;             ///< HTTP/1.<version_minor>: 0 or 1
    std::vector<header_field> headers;  ///< in arrival order, duplicates kept
    std::optional<std::uint64_t> content_length;  ///< set iff a valid Content-Length was sent
    bool chunked = false;     ///< body uses chunked transfer-coding
    bool keep_alive = true;   ///< the connection may carry another message after this one

    /// Value of the first field named `name` (ASCII case-insensitive), if any.
    std::optional<std::string_view> find(std::string_view name) const noexcept;
};

struct request_head : message_head {
    std::string_view method;
    std::string_view target;
    bool expect_continue = false;  ///< HTTP/1.1 `Expect: 100-continue`: answer 100 before reading the body
};

struct response_head : message_head {
    int status = 0;
    std::string_view reason;
};

enum class parse_event : std::uint8_t { need_more, headers, body, message_complete };

struct parse_result {
    parse_event event = parse_event::need_more;
    std::size_t consumed = 0;  ///< leading bytes of `data` the caller must drop now
    std::string_view body;     ///< the body piece, for parse_event::body
};

/// The parser; use request_parser or response_parser.
template <class Head>
class basic_parser {
    static_assert(std::is_same_v<Head, request_head> || std::is_same_v<Head, response_head>);
    static constexpr bool is_request = std::is_same_v<Head, request_head>;

public:
    explicit basic_parser(parse_limits limits = {}) : limits_(limits), body_limit_(limits.max_body_size) {}

    /// Advances over `data` (all unconsumed bytes) and reports one event; see the header comment.
    /// Throws parse_error.
    parse_result parse(std::string_view data);

    /// The peer closed the connection; call after parse() returned need_more on all bytes.
    /// Returns true if that completed a message (a response body delimited by the close, or a
    /// message whose message_complete was not collected yet), false if the close fell between
    /// messages. Throws parse_error(unexpected_eof) mid-message.
    bool finish();

    /// The next response answers a HEAD request: it has no body whatever its headers say.
    /// Applies until a final (non-1xx) response completes.
    void expect_no_body() noexcept
        requires(!is_request)
    {
        no_body_ = true;
    }

    /// Sets the body limit of the message being parsed, after its head (a server route's own
    /// limit); throws parse_error(body_too_large) if the body is already known to exceed it.
    /// The next message starts from the limit the parser was made with again.
    void limit_body(std::uint64_t max_body_size);

    const Head& head() const noexcept { return head_; }
    const std::vector<header_field>& trailers() const noexcept { return trailers_; }

private:
    enum class state : std::uint8_t {
        head,            // scanning head lines
        body_length,     // Content-Length body; remaining_ bytes left
        chunk_size,      // hex digits of a chunk-size line
        chunk_size_ws,   // spaces after the size: only more spaces, ';', or CR may follow
        chunk_ext,       // ignored chunk extension, up to CR
        chunk_size_lf,   // after the CR of a chunk-size line
        chunk_data,      // remaining_ bytes of chunk data left
        chunk_data_cr,   // CR expected after chunk data
        chunk_data_lf,   // LF expected after chunk data
        trailers,        // scanning trailer lines
        until_close,     // response body delimited by the connection close
        complete,        // next parse() reports message_complete
    };
    // Offsets of one field relative to the start of the scanned region.
    struct field_span {
        std::size_t name_begin, name_end, value_begin, value_end;
    };

    parse_result step(std::string_view data);
    void scan_request_line(std::string_view data, std::size_t end);
    void finish_request_line(std::string_view data, std::size_t cr);
    parse_result body_step(std::string_view data);
    void chunk_byte(char c, std::size_t pos);
    bool scan_lines(std::string_view data, bool trailers);
    void check_line_limits(std::size_t end, bool trailers) const;
    std::pair<std::size_t, parse_error_code> first_limit_violation(std::size_t end, bool trailers) const;
    void parse_status_line(std::string_view line);
    void parse_field_line(std::string_view line, std::size_t offset);
    void finish_head(std::string_view data);
    void analyse_fields();
    void take_content_length(std::size_t n);
    void take_transfer_encoding(std::size_t n, bool repeated);
    void choose_framing(std::size_t head_end);
    void build_fields(std::string_view data, std::vector<header_field>& out) const;
    void start_scan() noexcept;
    void reset_message() noexcept;
    [[noreturn]] void fail(parse_error_code code, std::uint64_t local_offset) const;
    [[noreturn]] void fail_scan(parse_error_code code, std::size_t scan_offset) const;

    parse_limits limits_;
    state state_ = state::head;
    std::optional<parse_error> error_;  // set once parsing failed; parse() rethrows it
    bool no_body_ = false;              // response to HEAD pending (responses only)

    // Offset base: bytes of the current message already consumed by the caller. Error offsets
    // and the `data` of the next call are relative to it.
    std::uint64_t consumed_ = 0;

    // Line scanner (head and trailers). Offsets are relative to the first byte of `data`, which
    // stays the head (or trailer) start until the scan completes, because nothing is consumed
    // before. Invariant: [0, scan_) was scanned, [line_start_, scan_) is the current partial line.
    std::size_t scan_ = 0;
    std::size_t line_start_ = 0;
    std::size_t scan_base_ = 0;  // offset of the scanned section within this call's `data`
    std::vector<field_span> spans_;
    std::size_t start_spans_[4] = {};  // request: method end, target begin/end, version begin; response: reason
    // Request line, checked as it arrives: [0, line_checked_) is valid so far and lies in part
    // line_part_ (0 method, 1 target, 2 version); start_spans_ marks the parts already ended.
    std::size_t line_checked_ = 0;
    std::uint8_t line_part_ = 0;

    // Body framing. remaining_: bytes left of a Content-Length body or of the current chunk (or
    // the chunk size being read). body_total_: decoded body bytes so far, <= body_limit_, the
    // current message's limit (limits_.max_body_size unless limit_body() changed it).
    std::uint64_t remaining_ = 0;
    std::uint64_t body_total_ = 0;
    std::uint64_t body_limit_;
    std::size_t chunk_line_ = 0;  // bytes of the current chunk-size line, <= max_chunk_line
    bool size_digits_ = false;    // the chunk-size line has at least one hex digit

    Head head_;
    std::vector<header_field> trailers_;
};

extern template class basic_parser<request_head>;
extern template class basic_parser<response_head>;

using request_parser = basic_parser<request_head>;
using response_parser = basic_parser<response_head>;

}  // namespace corio::http
