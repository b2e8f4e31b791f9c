// multipart_parser.cpp — see multipart_parser.hpp. The body is scanned for CRLF "--" boundary
// (RFC 2046 §5.1.1); a CRLF is put in front of the input so that a body opening with its first
// boundary line (no preamble) is found by the same search.
#include "multipart_parser.hpp"

#include <algorithm>
#include <optional>

#include "corio/http/url.hpp"

namespace corio::http::detail {

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::size_t max_boundary_line = 256;  // a boundary line's padding before its CRLF

bool is_boundary_char(char c) {
    const bool alphanumeric = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return alphanumeric || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

[[noreturn]] void malformed(const std::string& what) { throw form_error(400, "malformed multipart body: " + what); }

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
    if (!iequals(value_without_parameters(content_type), "multipart/form-data"))
        throw form_error(415, "the request body is not multipart/form-data (Content-Type: \"" + escape_unsafe(content_type) + "\")");
    std::optional<std::string> boundary = field_parameter(content_type, "boundary");
    const bool valid = boundary && !boundary->empty() && boundary->size() <= 70 && boundary->back() != ' ' &&
                       std::all_of(boundary->begin(), boundary->end(), is_boundary_char);
    if (!valid) throw form_error(400, "the multipart/form-data Content-Type has no valid boundary parameter");
    return std::move(*boundary);
}

multipart_parser::multipart_parser(std::string_view boundary, const multipart_options& limits)
    : delimiter_(std::string(crlf) + "--" + std::string(boundary)), limits_(limits), buffer_(crlf) {}

void multipart_parser::feed(std::string_view bytes) {
    if (state_ == state::done) return;  // the epilogue: ignored
    buffer_.erase(0, pos_);
    pos_ = 0;
    buffer_.append(bytes);
}

void multipart_parser::finish() const {
    if (state_ != state::done) malformed("it ended before its closing boundary");
}

multipart_parser::event multipart_parser::next() {
    switch (state_) {
        case state::preamble: return in_preamble();
        case state::after_delimiter: return after_delimiter();
        case state::head: return in_head();
        case state::body: return in_body();
        case state::done: break;
    }
    return event::end;
}

multipart_parser::event multipart_parser::in_preamble() {
    const std::size_t at = unread().find(delimiter_);
    if (at == std::string_view::npos) {  // keep what could begin the delimiter
        pos_ = std::max(pos_, buffer_.size() - std::min(buffer_.size(), delimiter_.size() - 1));
        return event::need_more;
    }
    pos_ += at + delimiter_.size();
    state_ = state::after_delimiter;
    return after_delimiter();
}

multipart_parser::event multipart_parser::after_delimiter() {
    const std::string_view rest = unread();
    if (rest.size() < 2) return event::need_more;
    if (rest.starts_with("--")) {  // the closing boundary
        state_ = state::done;
        return event::end;
    }
    const std::size_t end = rest.find(crlf);
    // Where the CRLF starts, or the first place it still could (the same verdict for any pieces).
    if (std::min(end, rest.size() - 1) > max_boundary_line) malformed("a boundary line does not end");
    if (end == std::string_view::npos) return event::need_more;
    if (rest.substr(0, end).find_first_not_of(" \t") != std::string_view::npos)
        malformed("a boundary is followed by other characters on its line");
    if (++parts_ > limits_.max_parts)
        throw form_error(413, "the multipart body has more than " + std::to_string(limits_.max_parts) + " parts");
    pos_ += end + crlf.size();
    state_ = state::head;
    return in_head();
}

multipart_parser::event multipart_parser::in_head() {
    const std::string_view rest = unread();
    // The head's lines, each ending in CRLF, then an empty line; a part may have no header lines.
    const std::size_t end = rest.starts_with(crlf) ? 0 : rest.find("\r\n\r\n");
    // The head's size, or the least it can be once its blank line comes (the same verdict for
    // any pieces).
    const std::size_t head_size = end == std::string_view::npos ? rest.size() - std::min<std::size_t>(rest.size(), 3) : end;
    if (head_size > limits_.max_part_head_size)
        throw form_error(413, "a multipart part's head is larger than " + std::to_string(limits_.max_part_head_size) + " bytes");
    if (end == std::string_view::npos) return event::need_more;
    const std::size_t lines = end == 0 ? 0 : end + crlf.size();
    parse_head(rest.substr(0, lines));
    pos_ += lines + crlf.size();
    state_ = state::body;
    part_bytes_ = 0;
    return event::part_begin;
}

void multipart_parser::parse_head(std::string_view lines) {
    headers_ = {};
    while (!lines.empty()) {
        const std::size_t end = lines.find(crlf);
        const std::string_view line = lines.substr(0, end);
        lines.remove_prefix(end + crlf.size());
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
            malformed("a part's header line is not \"name: value\"");
        const std::string_view value = trim_ows(line.substr(colon + 1));
        const bool control = std::any_of(value.begin(), value.end(), [](char c) {
            return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        });
        if (control) malformed("a part's header value holds a control character");
        headers_.add(std::string(line.substr(0, colon)), std::string(value));
    }
}

multipart_parser::event multipart_parser::in_body() {
    const std::string_view rest = unread();
    const std::size_t at = rest.find(delimiter_);
    if (at == 0) {
        pos_ += delimiter_.size();
        state_ = state::after_delimiter;
        return event::part_end;
    }
    // Without the delimiter, its first bytes may be at the end: keep those for the next look.
    const std::size_t n = at != std::string_view::npos ? at : rest.size() - std::min(rest.size(), delimiter_.size() - 1);
    if (n == 0) return event::need_more;
    part_bytes_ += n;
    total_bytes_ += n;
    if (part_bytes_ > limits_.max_part_size)
        throw form_error(413, "a multipart part is larger than " + std::to_string(limits_.max_part_size) + " bytes");
    if (total_bytes_ > limits_.max_total_size)
        throw form_error(413, "the multipart parts are larger than " + std::to_string(limits_.max_total_size) + " bytes together");
    piece_ = rest.substr(0, n);
    pos_ += n;
    return event::body;
}

}  // namespace corio::http::detail
