// libFuzzer target for corio/http/parser.hpp: the RESPONSE parser and chunked decoding.
//
// The first input byte is control: its low 2 bits pick the mode, the other 6 bits a split
// position within the fuzzed bytes:
//   0  chunked body: the rest follows a fixed head "HTTP/1.1 200 OK" + "Transfer-Encoding:
//      chunked", so every input exercises the chunked decoder (sizes, extensions, CRLFs, trailers,
//      then whatever follows as the next response);
//   1  responses (default limits);
//   2  responses answering HEAD requests (expect_no_body() before each);
//   3  responses with tiny limits.
// Invariants (trap otherwise):
// - split invariance: the transcript (events, heads, decoded body bytes, trailers, error code and
//   offset) is the same fed whole, split in two at the chosen position and (when short) one byte
//   at a time (http_transcript.hpp);
// - the documented contract of one run (http_checks.hpp: views, head well-formedness, framing,
//   limits);
// - chunked mode: when the bytes start with a well-formed chunked body (RFC 9112 §7.1: hex sizes,
//   optional whitespace and extensions, CRLFs, no trailer fields), decoded by a reference decoder
//   written from the RFC, the parser must report exactly that body for the first response, as it
//   does for the same body sent as one chunk.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_checks.hpp"
#include "http_transcript.hpp"

namespace {

namespace http = corio::http;
using http::testing::transcript;

constexpr std::string_view chunked_head =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

void check(std::string_view input, std::size_t cut, bool head_request, http::parse_limits limits) {
    using Parser = http::response_parser;
    http::testing::check_messages<Parser>(input, head_request, limits);
    const auto reference = transcript<Parser>(input, {}, head_request, limits);
    if (transcript<Parser>(input, {cut}, head_request, limits) != reference) __builtin_trap();
    if (input.size() > 320) return;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    if (transcript<Parser>(input, every, head_request, limits) != reference) __builtin_trap();
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// RFC 9112 §7.1 chunked-body at the start of `in`, without trailer fields: the decoded body, or
/// nullopt if `in` does not start with one. chunk-ext is accepted as ';' followed by any
/// field-value characters (HTAB, SP, VCHAR, obs-text), like the parser's lenient extension skip.
/// Chunk-size lines longer than the default max_chunk_line are left out (the parser rejects them).
std::optional<std::string> reference_chunked(std::string_view in) {
    const std::size_t max_line = http::parse_limits{}.max_chunk_line;
    std::string body;
    std::size_t i = 0;
    auto crlf = [&] {
        if (i + 1 >= in.size() || in[i] != '\r' || in[i + 1] != '\n') return false;
        i += 2;
        return true;
    };
    for (;;) {
        const std::size_t line_start = i;
        std::uint64_t size = 0;
        bool digits = false;
        for (int d; i < in.size() && (d = hex_digit(in[i])) >= 0; ++i) {
            if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) return std::nullopt;
            size = size * 16 + static_cast<std::uint64_t>(d);
            digits = true;
        }
        if (!digits) return std::nullopt;
        while (i < in.size() && (in[i] == ' ' || in[i] == '\t')) ++i;
        if (i < in.size() && in[i] == ';') {
            for (++i; i < in.size(); ++i) {
                const auto c = static_cast<unsigned char>(in[i]);
                if (!(c == '\t' || (c >= 0x20 && c != 0x7f))) break;
            }
        }
        if (!crlf() || i - line_start > max_line) return std::nullopt;
        if (size == 0) break;
        if (size > in.size() - i) return std::nullopt;
        body.append(in.substr(i, static_cast<std::size_t>(size)));
        i += static_cast<std::size_t>(size);
        if (!crlf()) return std::nullopt;
    }
    if (!crlf()) return std::nullopt;  // no trailer fields: the empty line ends the message
    return body;
}

std::string hex(std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    do {
        out.insert(out.begin(), digits[n % 16]);
        n /= 16;
    } while (n != 0);
    return out;
}

void check_chunked(std::string_view fuzzed, unsigned split) {
    const std::string input = std::string(chunked_head) + std::string(fuzzed);
    check(input, chunked_head.size() + fuzzed.size() * split / 63, false, {});
    const auto body = reference_chunked(fuzzed);
    if (!body) return;
    // The same body as a single chunk: its transcript (minus the final "EOF") must begin the
    // transcript of the fuzzed input (whatever follows the first response is another matter).
    std::string canonical = std::string(chunked_head);
    if (!body->empty()) canonical += hex(body->size()) + "\r\n" + *body + "\r\n";
    canonical += "0\r\n\r\n";
    std::string expected = transcript<http::response_parser>(canonical, {});
    constexpr std::string_view eof = "EOF\n";
    if (!std::string_view(expected).ends_with(eof)) __builtin_trap();
    expected.resize(expected.size() - eof.size());
    if (!transcript<http::response_parser>(input, {}).starts_with(expected)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t control = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const unsigned split = control >> 2;
    const std::size_t cut = input.size() * split / 63;
    switch (control & 3) {
        case 0: check_chunked(input, split); break;
        case 1: check(input, cut, false, {}); break;
        case 2: check(input, cut, true, {}); break;
        default: check(input, cut, false, http::testing::tiny_limits());
    }
    return 0;
}
