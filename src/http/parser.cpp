// Implementation of corio/http/parser.hpp. See the header for the contract.
#include "corio/http/parser.hpp"

#include "corio/http/headers.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace corio::http {

namespace {

using code = parse_error_code;

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// Field-value / reason-phrase characters: HTAB, SP, VCHAR, obs-text.
bool is_text(unsigned char c) noexcept { return c == '\t' || (c >= 0x20 && c != 0x7f); }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Calls f(element) for each trimmed element of a comma-separated list, skipping empty ones.
template <class F>
void for_each_element(std::string_view list, F f) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto element = trim_ows(list.substr(0, comma));
        if (!element.empty()) f(element);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

// 1*DIGIT into 64 bits; nullopt if empty, non-digit, or overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

}  // namespace

std::string_view to_string(parse_error_code c) noexcept {
    switch (c) {
        case code::start_line_too_long: return "start line too long";
        case code::too_many_headers: return "too many header fields";
        case code::headers_too_large: return "header section too large";
        case code::body_too_large: return "body too large";
        case code::chunk_line_too_long: return "chunk-size line too long";
        case code::invalid_method: return "invalid method";
        case code::invalid_target: return "invalid request target";
        case code::invalid_version: return "invalid HTTP version";
        case code::invalid_status: return "invalid status code";
        case code::invalid_reason: return "invalid reason phrase";
        case code::invalid_header_name: return "invalid header name";
        case code::whitespace_before_colon: return "whitespace between header name and colon";
        case code::invalid_header_value: return "invalid header value";
        case code::obs_fold: return "obsolete line folding";
        case code::bare_cr: return "bare CR";
        case code::bare_lf: return "bare LF (line not ended by CRLF)";
        case code::nul_byte: return "NUL byte";
        case code::content_length_and_transfer_encoding:
            return "both Content-Length and Transfer-Encoding";
        case code::conflicting_content_length: return "conflicting Content-Length values";
        case code::invalid_content_length: return "invalid Content-Length";
        case code::invalid_transfer_encoding: return "invalid Transfer-Encoding";
        case code::unsupported_transfer_encoding: return "unsupported Transfer-Encoding";
        case code::unsupported_version: return "unsupported HTTP version";
        case code::duplicate_content_length: return "duplicate Content-Length";
        case code::invalid_chunk_size: return "invalid chunk size";
        case code::invalid_chunk_extension: return "invalid chunk extension";
        case code::missing_chunk_crlf: return "missing CRLF after chunk data";
        case code::unexpected_eof: return "connection closed mid-message";
    }
    return "unknown parse error";
}

parse_error::parse_error(parse_error_code c, std::uint64_t offset)
    : error("HTTP parse error: " + std::string(to_string(c)) + " at byte " +
            std::to_string(offset)),
      code_(c),
      offset_(offset) {}

std::optional<std::string_view> message_head::find(std::string_view name) const noexcept {
    for (const auto& f : headers)
        if (iequals(f.name, name)) return f.value;
    return std::nullopt;
}

template <class Head>
void basic_parser<Head>::fail(parse_error_code c, std::uint64_t local_offset) const {
    throw parse_error(c, consumed_ + local_offset);
}

template <class Head>
void basic_parser<Head>::limit_body(std::uint64_t max_body_size) {
    body_limit_ = max_body_size;
    if (body_total_ > max_body_size || head_.content_length.value_or(0) > max_body_size) fail(code::body_too_large, 0);
}

template <class Head>
void basic_parser<Head>::fail_scan(parse_error_code c, std::size_t scan_offset) const {
    fail(c, scan_base_ + scan_offset);
}

template <class Head>
parse_result basic_parser<Head>::parse(std::string_view data) {
    if (error_) throw *error_;
    // Empty lines before a request line are dropped; a lone CR may start one, so it waits.
    std::size_t skipped = 0;
    if (is_request && state_ == state::head && scan_ == 0) {
        while (data.substr(skipped, 2) == "\r\n") skipped += 2;
        if (data.substr(skipped) == "\r") return {parse_event::need_more, skipped, {}};
    }
    try {
        auto result = step(data.substr(skipped));
        consumed_ += result.consumed;
        result.consumed += skipped;
        if (result.event == parse_event::message_complete) reset_message();
        return result;
    } catch (const parse_error& e) {
        error_ = e;
        throw;
    }
}

template <class Head>
bool basic_parser<Head>::finish() {
    if (error_) throw *error_;
    if (state_ == state::until_close || state_ == state::complete) {
        reset_message();
        return true;
    }
    if (state_ == state::head && scan_ == 0) return false;
    error_ = parse_error(code::unexpected_eof, consumed_ + scan_);
    throw *error_;
}

template <class Head>
void basic_parser<Head>::start_scan() noexcept {
    scan_ = 0;
    scan_base_ = 0;
    line_start_ = 0;
    line_checked_ = 0;
    line_part_ = 0;
    spans_.clear();
}

template <class Head>
void basic_parser<Head>::reset_message() noexcept {
    if constexpr (!is_request) {
        if (head_.status >= 200) no_body_ = false;
    }
    state_ = state::head;
    consumed_ = 0;
    remaining_ = 0;
    body_total_ = 0;
    body_limit_ = limits_.max_body_size;
    start_scan();
}

template <class Head>
parse_result basic_parser<Head>::step(std::string_view data) {
    if (state_ != state::head) return body_step(data);
    if (!scan_lines(data, false)) return {};
    const std::size_t head_end = scan_;
    finish_head(data);
    choose_framing(head_end);
    start_scan();
    return {parse_event::headers, head_end, {}};
}

// Scans complete lines of the head or the trailers; true once the terminating empty line was
// scanned (scan_ is then the section's length). Each line is validated as soon as it is complete,
// so the outcome does not depend on how the bytes were split.
template <class Head>
bool basic_parser<Head>::scan_lines(std::string_view data, bool trailers) {
    for (;;) {
        // (memchr must not see the null pointer of an empty string_view.)
        const void* lf =
            scan_ < data.size() ? std::memchr(data.data() + scan_, '\n', data.size() - scan_)
                                : nullptr;
        const std::size_t end =
            lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data.data()) + 1
               : data.size();
        const bool start_line = !trailers && line_start_ == 0;
        if (is_request && start_line) scan_request_line(data, end);  // also partial lines
        check_line_limits(end, trailers);
        scan_ = end;
        if (!lf) return false;
        const std::size_t begin = line_start_;
        line_start_ = end;
        if (is_request && start_line) continue;  // checked and parsed by scan_request_line
        const auto line = data.substr(begin, end - begin);
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '\0') fail_scan(code::nul_byte, begin + i);
            if (line[i] == '\r' && i + 2 != line.size()) fail_scan(code::bare_cr, begin + i);
        }
        if (line.size() < 2 || line[line.size() - 2] != '\r') fail_scan(code::bare_lf, end - 1);
        const auto content = line.substr(0, line.size() - 2);
        if (start_line) {
            parse_status_line(content);
        } else if (content.empty()) {
            return true;
        } else {
            parse_field_line(content, begin);
        }
    }
}

// The first byte (relative to the scanned section) violating a size limit decides the error, so
// a partial line and the same line completed later report the same thing.
template <class Head>
void basic_parser<Head>::check_line_limits(std::size_t end, bool trailers) const {
    if (const auto [violation, c] = first_limit_violation(end, trailers); violation < end) fail_scan(c, violation);
}

// Where the bytes [0, end) of the scanned section first break a size limit (end if nowhere).
template <class Head>
auto basic_parser<Head>::first_limit_violation(std::size_t end, bool trailers) const
    -> std::pair<std::size_t, parse_error_code> {
    std::size_t violation = end;
    auto c = code::headers_too_large;
    if (!trailers && line_start_ == 0 && end > limits_.max_start_line) {
        violation = limits_.max_start_line;
        c = code::start_line_too_long;
    }
    if (end > limits_.max_header_bytes && limits_.max_header_bytes < violation) {
        violation = limits_.max_header_bytes;
        c = code::headers_too_large;
    }
    return {violation, c};
}

// Checks the request line in [line_checked_, end) as far as it has arrived: method SP target SP
// HTTP-version CRLF. The first offending byte decides the error, whichever way the line was
// split; bytes past a size limit are left to check_line_limits. A CR waits for its next byte.
template <class Head>
void basic_parser<Head>::scan_request_line(std::string_view data, std::size_t end) {
    end = std::min(end, first_limit_violation(end, false).first);
    std::size_t& i = line_checked_;
    for (; i < end; ++i) {
        // Fast path: bytes that are simply valid in the current part.
        constexpr std::string_view version_shape = "HTTP/0.0";  // '0': any digit
        if (line_part_ == 0) {
            while (i < end && is_token_char(static_cast<unsigned char>(data[i]))) ++i;
        } else if (line_part_ == 1) {
            while (i < end && data[i] > 0x20 && data[i] < 0x7f) ++i;
        } else {
            for (std::size_t k = i - start_spans_[3]; i < end && k < version_shape.size(); ++i, ++k) {
                const char c = data[i];
                if (version_shape[k] == '0' ? (c < '0' || c > '9') : c != version_shape[k]) break;
            }
        }
        if (i == end) return;
        const auto c = static_cast<unsigned char>(data[i]);
        if (c == '\0') fail(code::nul_byte, i);
        if (c == '\r') {
            if (i + 1 == end) return;  // is it followed by LF? wait and see
            if (data[i + 1] != '\n') fail(code::bare_cr, i);
            finish_request_line(data, i);
            i += 2;
            return;
        }
        if (c == '\n') fail(code::bare_lf, i);
        if (line_part_ == 0) {  // method: a token, ended by SP
            if (c != ' ' || i == 0) fail(code::invalid_method, i);
            start_spans_[0] = i;
            start_spans_[1] = i + 1;
            line_part_ = 1;
        } else if (line_part_ == 1) {  // target: visible ASCII, ended by SP
            if (c != ' ' || i == start_spans_[1]) fail(code::invalid_target, i);
            start_spans_[2] = i;
            start_spans_[3] = i + 1;
            line_part_ = 2;
        } else {  // version: "HTTP/" DIGIT "." DIGIT, and this byte does not fit it
            fail(code::invalid_version, start_spans_[3]);
        }
    }
}

// The request line's CRLF is at `cr`: every byte before it passed scan_request_line.
template <class Head>
void basic_parser<Head>::finish_request_line(std::string_view data, std::size_t cr) {
    if (line_part_ == 0) fail(code::invalid_method, cr);
    if (line_part_ == 1) fail(cr == start_spans_[1] ? code::invalid_target : code::invalid_version, cr);
    const std::size_t version = start_spans_[3];
    if (cr - version != 8) fail(code::invalid_version, version);
    if (data[version + 5] != '1') fail(code::unsupported_version, version);
    head_.version_minor = data[version + 7] == '0' ? 0 : 1;  // a later HTTP/1.x reads as 1.1
}

// HTTP-version SP 3DIGIT [SP reason-phrase] (responses; a missing SP after the code is tolerated).
template <class Head>
void basic_parser<Head>::parse_status_line(std::string_view line) {
    const auto version = line.substr(0, 8);
    if ((version != "HTTP/1.1" && version != "HTTP/1.0") || line.size() < 9 || line[8] != ' ')
        fail(code::invalid_version, 0);
    head_.version_minor = version.back() - '0';
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (i >= line.size() || line[i] < '0' || line[i] > '9') fail(code::invalid_status, i);
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100) fail(code::invalid_status, 9);
    if (line.size() > 12 && line[12] != ' ') fail(code::invalid_status, 12);
    const std::size_t reason_begin = std::min<std::size_t>(line.size(), 13);
    for (std::size_t i = reason_begin; i < line.size(); ++i)
        if (!is_text(static_cast<unsigned char>(line[i]))) fail(code::invalid_reason, i);
    if constexpr (!is_request) head_.status = status;
    start_spans_[0] = reason_begin;
    start_spans_[1] = line.size();
}

template <class Head>
void basic_parser<Head>::parse_field_line(std::string_view line, std::size_t offset) {
    if (is_ows(line.front())) fail_scan(code::obs_fold, offset);
    if (spans_.size() == limits_.max_header_count) fail_scan(code::too_many_headers, offset);
    std::size_t i = 0;
    for (; i < line.size() && line[i] != ':'; ++i) {
        if (is_ows(line[i])) fail_scan(code::whitespace_before_colon, offset + i);
        if (!is_token_char(static_cast<unsigned char>(line[i]))) fail_scan(code::invalid_header_name, offset + i);
    }
    if (i == 0 || i == line.size()) fail_scan(code::invalid_header_name, offset + i);
    std::size_t value_begin = i + 1;
    std::size_t value_end = line.size();
    while (value_begin < value_end && is_ows(line[value_begin])) ++value_begin;
    while (value_end > value_begin && is_ows(line[value_end - 1])) --value_end;
    for (std::size_t k = value_begin; k < value_end; ++k)
        if (!is_text(static_cast<unsigned char>(line[k])))
            fail_scan(code::invalid_header_value, offset + k);
    spans_.push_back({offset, offset + i, offset + value_begin, offset + value_end});
}

template <class Head>
void basic_parser<Head>::build_fields(std::string_view data, std::vector<header_field>& out) const {
    out.clear();
    out.reserve(spans_.size());
    for (const auto& s : spans_)
        out.push_back({data.substr(s.name_begin, s.name_end - s.name_begin),
                       data.substr(s.value_begin, s.value_end - s.value_begin)});
}

template <class Head>
void basic_parser<Head>::finish_head(std::string_view data) {
    build_fields(data, head_.headers);
    trailers_.clear();
    if constexpr (is_request) {
        head_.method = data.substr(0, start_spans_[0]);
        head_.target = data.substr(start_spans_[1], start_spans_[2] - start_spans_[1]);
        head_.expect_continue = false;
    } else {
        head_.reason = data.substr(start_spans_[0], start_spans_[1] - start_spans_[0]);
    }
    analyse_fields();
}

// Content-Length, Transfer-Encoding, Connection and Expect.
template <class Head>
void basic_parser<Head>::analyse_fields() {
    head_.content_length.reset();
    head_.chunked = false;
    bool has_te = false;
    bool close = false;
    bool keep_alive = false;
    for (std::size_t n = 0; n < head_.headers.size(); ++n) {
        const auto& [name, value] = head_.headers[n];
        if (iequals(name, "content-length")) {
            if (has_te) fail(code::content_length_and_transfer_encoding, spans_[n].name_begin);
            take_content_length(n);
        } else if (iequals(name, "transfer-encoding")) {
            if (head_.content_length) fail(code::content_length_and_transfer_encoding, spans_[n].name_begin);
            take_transfer_encoding(n, has_te);
            has_te = true;
        } else if (iequals(name, "connection")) {
            for_each_element(value, [&](std::string_view option) {
                close = close || iequals(option, "close");
                keep_alive = keep_alive || iequals(option, "keep-alive");
            });
        } else if constexpr (is_request) {
            if (iequals(name, "expect") && iequals(value, "100-continue") && head_.version_minor == 1)
                head_.expect_continue = true;
        }
    }
    head_.keep_alive = !close && (head_.version_minor == 1 || keep_alive);
}

// The n-th field is a Content-Length.
template <class Head>
void basic_parser<Head>::take_content_length(std::size_t n) {
    const auto value_offset = spans_[n].value_begin;
    const auto length = parse_decimal(head_.headers[n].value);
    if (!length) fail(code::invalid_content_length, value_offset);
    if (head_.content_length && *head_.content_length != *length) fail(code::conflicting_content_length, value_offset);
    if (is_request && head_.content_length) fail(code::duplicate_content_length, spans_[n].name_begin);
    head_.content_length = length;
}

// The n-th field is a Transfer-Encoding; `repeated`: an earlier one was seen.
template <class Head>
void basic_parser<Head>::take_transfer_encoding(std::size_t n, bool repeated) {
    const auto value = head_.headers[n].value;
    const auto value_offset = spans_[n].value_begin;
    if constexpr (is_request) {
        if (repeated || head_.version_minor == 0) fail(code::invalid_transfer_encoding, value_offset);
        if (!iequals(value, "chunked")) fail(code::unsupported_transfer_encoding, value_offset);
        head_.chunked = true;
    } else {
        for_each_element(value, [&](std::string_view coding) {
            if (head_.chunked) fail(code::invalid_transfer_encoding, value_offset);  // chunked must be last
            head_.chunked = iequals(coding, "chunked");
        });
    }
}

template <class Head>
void basic_parser<Head>::choose_framing(std::size_t head_end) {
    bool no_body = false;
    if constexpr (!is_request) {
        const int s = head_.status;
        no_body = no_body_ || s < 200 || s == 204 || s == 304;
    }
    if (no_body) {
        state_ = state::complete;
    } else if (head_.chunked) {
        state_ = state::chunk_size;
        chunk_line_ = 0;
        size_digits_ = false;
    } else if (head_.content_length) {
        if (*head_.content_length > body_limit_) fail(code::body_too_large, head_end);
        remaining_ = *head_.content_length;
        state_ = remaining_ == 0 ? state::complete : state::body_length;
    } else if (is_request) {
        state_ = state::complete;
    } else {
        state_ = state::until_close;
        head_.keep_alive = false;
    }
}

template <class Head>
parse_result basic_parser<Head>::body_step(std::string_view data) {
    std::size_t pos = 0;
    for (;;) {
        switch (state_) {
            case state::complete:
                return {parse_event::message_complete, pos, {}};
            case state::body_length:
            case state::chunk_data: {
                if (pos == data.size()) return {parse_event::need_more, pos, {}};
                const auto n = static_cast<std::size_t>(
                    std::min<std::uint64_t>(remaining_, data.size() - pos));
                remaining_ -= n;
                if (remaining_ == 0)
                    state_ = state_ == state::body_length ? state::complete : state::chunk_data_cr;
                return {parse_event::body, pos + n, data.substr(pos, n)};
            }
            case state::until_close: {
                if (pos == data.size()) return {parse_event::need_more, pos, {}};
                const auto n = data.size() - pos;
                if (n > body_limit_ - body_total_) fail(code::body_too_large, pos + (body_limit_ - body_total_));
                body_total_ += n;
                return {parse_event::body, pos + n, data.substr(pos)};
            }
            case state::trailers: {
                const auto rest = data.substr(pos);
                scan_base_ = pos;
                if (!scan_lines(rest, true)) return {parse_event::need_more, pos, {}};
                build_fields(rest, trailers_);
                return {parse_event::message_complete, pos + scan_, {}};
            }
            default:  // chunk framing (step() handles state::head)
                if (pos == data.size()) return {parse_event::need_more, pos, {}};
                chunk_byte(data[pos], pos);
                ++pos;
                break;
        }
    }
}

// One byte of chunk framing (size line or the CRLF after chunk data) at local offset `pos`.
template <class Head>
void basic_parser<Head>::chunk_byte(char c, std::size_t pos) {
    const bool size_line = state_ == state::chunk_size || state_ == state::chunk_size_ws ||
                           state_ == state::chunk_ext || state_ == state::chunk_size_lf;
    if (size_line && ++chunk_line_ > limits_.max_chunk_line) fail(code::chunk_line_too_long, pos);
    switch (state_) {
        case state::chunk_size:
            if (const int d = hex_value(c); d >= 0) {
                if (remaining_ > (std::numeric_limits<std::uint64_t>::max() >> 4))
                    fail(code::invalid_chunk_size, pos);
                remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(d);
                size_digits_ = true;
                return;
            }
            if (!size_digits_) fail(code::invalid_chunk_size, pos);
            [[fallthrough]];
        case state::chunk_size_ws:
            if (is_ows(c)) {
                state_ = state::chunk_size_ws;
            } else if (c == ';') {
                state_ = state::chunk_ext;
            } else if (c == '\r') {
                state_ = state::chunk_size_lf;
            } else if (c == '\n') {
                fail(code::bare_lf, pos);
            } else {
                fail(code::invalid_chunk_size, pos);
            }
            return;
        case state::chunk_ext:
            if (c == '\r') {
                state_ = state::chunk_size_lf;
            } else if (c == '\n') {
                fail(code::bare_lf, pos);
            } else if (c == '\0') {
                fail(code::nul_byte, pos);
            } else if (!is_text(static_cast<unsigned char>(c))) {
                fail(code::invalid_chunk_extension, pos);
            }
            return;
        case state::chunk_size_lf:
            if (c != '\n') fail(code::bare_cr, pos - 1);
            if (remaining_ > body_limit_ - body_total_) fail(code::body_too_large, pos);
            body_total_ += remaining_;
            if (remaining_ == 0) {
                state_ = state::trailers;
                start_scan();
            } else {
                state_ = state::chunk_data;
            }
            return;
        case state::chunk_data_cr:
            if (c != '\r') fail(code::missing_chunk_crlf, pos);
            state_ = state::chunk_data_lf;
            return;
        case state::chunk_data_lf:
            if (c != '\n') fail(code::missing_chunk_crlf, pos);
            state_ = state::chunk_size;
            chunk_line_ = 0;
            size_digits_ = false;
            return;
        default:
            return;
    }
}

template class basic_parser<request_head>;
template class basic_parser<response_head>;

}  // namespace corio::http
