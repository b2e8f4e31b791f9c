// fuzz/http_checks.hpp — semantic checks of an http parser run, shared by the request and response
// fuzz targets (http_transcript.hpp checks split invariance; this checks what one run reports).
//
// check_messages() feeds `input` at once (as a connection that has it all would), follows the
// events to the end or the first parse_error, and traps when the parser breaks its documented
// contract:
// - `consumed` never exceeds the bytes passed; need_more is the only event that may consume
//   nothing (a headers event consumes the head, a body event its bytes);
// - zero-copy views: every string_view of head() and trailers() lies in the `data` of the call that
//   reported them, `body` too;
// - the head is well-formed: HTTP/1.0 or 1.1, a status 100..999, a token method, a target without
//   space or control characters, token header names, values trimmed and free of CR, LF and NUL,
//   at most max_header_count fields (head and trailers), never both chunked and Content-Length;
// - framing: a message completes with exactly Content-Length body bytes; without body (responses
//   to HEAD, 1xx, 204, 304; requests without Content-Length or chunked) with none; a response
//   without Content-Length or chunked only at finish() (read until close) and not keep-alive;
//   never more than max_body_size decoded body bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "corio/http/headers.hpp"
#include "corio/http/parser.hpp"

namespace corio::http::testing {

/// Limits small enough for a fuzzer to reach every one of them.
inline parse_limits tiny_limits() noexcept {
    parse_limits tiny;
    tiny.max_start_line = 32;
    tiny.max_header_count = 3;
    tiny.max_header_bytes = 96;
    tiny.max_body_size = 16;
    tiny.max_chunk_line = 8;
    return tiny;
}

inline bool inside(std::string_view part, std::string_view whole) noexcept {
    if (part.empty()) return true;  // an empty view may point anywhere (or nowhere)
    const auto* b = whole.data();
    return part.data() >= b && part.data() + part.size() <= b + whole.size();
}

inline bool has_ctl(std::string_view s, bool allow_tab) noexcept {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f) return true;
    }
    return false;
}

inline void check_fields(const std::vector<header_field>& fields, std::string_view data,
                         const parse_limits& limits) {
    if (fields.size() > limits.max_header_count) __builtin_trap();
    for (const auto& f : fields) {
        if (!inside(f.name, data) || !inside(f.value, data)) __builtin_trap();
        if (!is_token(f.name)) __builtin_trap();
        if (has_ctl(f.value, /*allow_tab=*/true)) __builtin_trap();
        if (!f.value.empty()) {
            const char first = f.value.front(), last = f.value.back();
            if (first == ' ' || first == '\t' || last == ' ' || last == '\t') __builtin_trap();
        }
    }
}

/// See the header comment. `head_request`: every response answers a HEAD request.
template <class Parser>
void check_messages(std::string_view input, bool head_request, parse_limits limits) {
    constexpr bool is_response = std::is_same_v<Parser, response_parser>;
    Parser parser(limits);
    std::size_t pos = 0;         // first unconsumed byte of input
    std::uint64_t body = 0;      // body bytes of the current message
    bool in_message = false;     // a head was reported, its message did not complete yet
    bool no_body = false;        // the current message may have no body
    bool until_close = false;    // the current response is delimited by the close
    std::optional<std::uint64_t> content_length;
    auto expect_head_answer = [&] {
        if constexpr (is_response) {
            if (head_request) parser.expect_no_body();
        }
    };
    auto complete = [&](bool at_eof) {
        if (!in_message) return;  // finish() between messages, or an empty message
        if (no_body && body != 0) __builtin_trap();
        if (!no_body && content_length && body != *content_length) __builtin_trap();
        if (until_close && !at_eof) __builtin_trap();
        in_message = false;
        body = 0;
        expect_head_answer();
    };
    try {
        expect_head_answer();
        for (;;) {
            const std::string_view data = input.substr(pos);
            const parse_result r = parser.parse(data);
            if (r.consumed > data.size()) __builtin_trap();
            if (r.event == parse_event::need_more) {
                pos += r.consumed;
                // Dropping the framing bytes is all it asks for: calling again must not find more.
                if (r.consumed == 0) break;
                continue;
            }
            switch (r.event) {
                case parse_event::headers: {
                    if (r.consumed == 0 || in_message) __builtin_trap();
                    const auto& h = parser.head();
                    if (h.version_minor != 0 && h.version_minor != 1) __builtin_trap();
                    if (h.chunked && h.content_length) __builtin_trap();
                    check_fields(h.headers, data.substr(0, r.consumed), limits);
                    if constexpr (is_response) {
                        if (h.status < 100 || h.status > 999) __builtin_trap();
                        if (!inside(h.reason, data.substr(0, r.consumed))) __builtin_trap();
                        if (has_ctl(h.reason, true)) __builtin_trap();
                        no_body = head_request || h.status < 200 || h.status == 204 ||
                                  h.status == 304;
                        until_close = !no_body && !h.chunked && !h.content_length;
                        if (until_close && h.keep_alive) __builtin_trap();
                    } else {
                        const auto head = data.substr(0, r.consumed);
                        if (!inside(h.method, head) || !inside(h.target, head)) __builtin_trap();
                        if (!is_token(h.method) || h.target.empty()) __builtin_trap();
                        for (char ch : h.target) {
                            const auto c = static_cast<unsigned char>(ch);
                            if (c <= 0x20 || c >= 0x7f) __builtin_trap();
                        }
                        no_body = !h.chunked && !h.content_length;
                        until_close = false;
                    }
                    content_length = h.content_length;
                    in_message = true;
                    break;
                }
                case parse_event::body:
                    if (!in_message || no_body) __builtin_trap();
                    if (!inside(r.body, data.substr(0, r.consumed))) __builtin_trap();
                    body += r.body.size();
                    if (body > limits.max_body_size) __builtin_trap();
                    if (content_length && body > *content_length) __builtin_trap();
                    break;
                case parse_event::message_complete:
                    if (!in_message) __builtin_trap();
                    check_fields(parser.trailers(), data.substr(0, r.consumed), limits);
                    complete(false);
                    break;
                case parse_event::need_more: break;
            }
            pos += r.consumed;
        }
        if (parser.finish()) {
            if (!in_message) __builtin_trap();
            complete(true);
        } else if (in_message) {
            __builtin_trap();  // a message was cut off by the close without an error
        }
    } catch (const parse_error&) {
        // Rejected: fine; the split-invariance check compares errors.
    }
}

}  // namespace corio::http::testing
