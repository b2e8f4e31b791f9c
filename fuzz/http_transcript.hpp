// fuzz/http_transcript.hpp — feeds a byte string to an http parser in pieces and renders every
// event (heads, body bytes, trailers, completion, EOF, error with offset) as text, so that
// different splits of the same input can be compared. Shared by the fuzz target and the tests.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "corio/http/parser.hpp"

namespace corio::http::testing {

inline void render_fields(std::string& out, const std::vector<header_field>& fields) {
    for (const auto& f : fields) {
        out.append(f.name).append(": ").append(f.value).append("\n");
    }
}

inline void render_head(std::string& out, const request_head& h) {
    out.append("REQ ").append(h.method).append(" ").append(h.target);
    if (h.expect_continue) out.append(" expect-continue");
}

inline void render_head(std::string& out, const response_head& h) {
    out.append("RES ").append(std::to_string(h.status)).append(" ").append(h.reason);
}

/// Parses `input` fed in pieces ending at each of `cuts` (ascending) and then at input.size(),
/// then signals EOF. Returns the transcript; a parse_error ends it with "ERROR <what>".
/// `head_request`: the responses answer HEAD requests (response_parser only).
template <class Parser>
std::string transcript(std::string_view input, const std::vector<std::size_t>& cuts,
                       bool head_request = false, parse_limits limits = {}) {
    Parser parser(limits);
    std::string buffer;  // unconsumed bytes; erase() moves them, as a compacting connection would
    std::string out;
    std::string body;
    auto prepare = [&] {
        if constexpr (std::is_same_v<Parser, response_parser>) {
            if (head_request) parser.expect_no_body();
        }
    };
    auto complete = [&] {
        out.append("BODY[").append(body).append("]\n");
        render_fields(out, parser.trailers());
        out.append("COMPLETE\n");
        body.clear();
        prepare();
    };
    auto drain = [&] {
        for (;;) {
            const auto r = parser.parse(buffer);
            switch (r.event) {
                case parse_event::need_more: buffer.erase(0, r.consumed); return;
                case parse_event::headers: {
                    const auto& h = parser.head();
                    render_head(out, h);
                    out.append(" HTTP/1.").append(std::to_string(h.version_minor));
                    out.append(h.keep_alive ? " keep-alive" : " close");
                    if (h.chunked) out.append(" chunked");
                    if (h.content_length) out.append(" length=" + std::to_string(*h.content_length));
                    out.append("\n");
                    render_fields(out, h.headers);
                    break;
                }
                case parse_event::body: body.append(r.body); break;
                case parse_event::message_complete: complete(); break;
            }
            buffer.erase(0, r.consumed);
        }
    };
    try {
        prepare();
        std::size_t fed = 0;
        auto feed_until = [&](std::size_t end) {
            buffer.append(input.substr(fed, end - fed));
            fed = end;
            drain();
        };
        for (auto cut : cuts) feed_until(cut);
        feed_until(input.size());
        if (parser.finish()) complete();
        out.append("EOF\n");
    } catch (const parse_error& e) {
        out.append("ERROR ").append(e.what()).append("\n");
    }
    return out;
}

}  // namespace corio::http::testing
