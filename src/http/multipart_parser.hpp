// multipart_parser.hpp (private) — an incremental multipart/form-data parser: bytes are fed as
// they arrive and taken back as events (a part's head, pieces of its body, its end, the end of
// the body). No coroutines and no I/O, so the fuzzer drives it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "corio/http/headers.hpp"
#include "corio/http/multipart.hpp"

namespace corio::http::detail {

/// The boundary of a multipart Content-Type; throws form_error (415 not multipart/form-data,
/// 400 without a valid boundary).
std::string multipart_boundary(std::string_view content_type);

class multipart_parser {
public:
    enum class event { need_more, part_begin, body, part_end, end };

    multipart_parser(std::string_view boundary, const multipart_options& limits);

    /// Appends input; the body piece of the last event stays valid only until then.
    void feed(std::string_view bytes);
    /// The next event of what was fed: need_more when more input is needed to say. Throws
    /// form_error on malformed input or a limit passed.
    event next();
    /// After need_more when no more input will come: throws form_error unless the body had
    /// ended (event::end was returned).
    void finish() const;

    /// The part's headers (valid from part_begin until the next one).
    const http::headers& part_headers() const noexcept { return headers_; }
    /// The body piece of the last event::body.
    std::string_view piece() const noexcept { return piece_; }

private:
    enum class state { preamble, after_delimiter, head, body, done };
    event in_preamble();
    event after_delimiter();
    event in_head();
    event in_body();
    void parse_head(std::string_view lines);
    std::string_view unread() const noexcept { return std::string_view(buffer_).substr(pos_); }

    std::string delimiter_;  // CRLF "--" boundary: what ends a part's body
    multipart_options limits_;
    std::string buffer_;     // input not yet taken; buffer_[0, pos_) is taken, dropped by feed()
    std::size_t pos_ = 0;
    state state_ = state::preamble;
    http::headers headers_;
    std::string_view piece_;
    std::size_t parts_ = 0;          // <= limits_.max_parts
    std::uint64_t part_bytes_ = 0;   // this part's body so far, <= limits_.max_part_size
    std::uint64_t total_bytes_ = 0;  // every part's body so far, <= limits_.max_total_size
};

}  // namespace corio::http::detail
