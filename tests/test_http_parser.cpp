#include "corio/http/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../fuzz/http_transcript.hpp"

namespace http = corio::http;
using http::parse_error_code;
using http::parse_event;
using http::testing::transcript;

namespace {

template <class Parser = http::request_parser>
std::string whole(std::string_view input, http::parse_limits limits = {}) {
    return transcript<Parser>(input, {}, false, limits);
}

// Parses `input` at once and expects the given error code at the given offset.
template <class Parser = http::request_parser>
void expect_error(std::string_view input, parse_error_code code, std::uint64_t offset,
                  http::parse_limits limits = {}) {
    Parser parser(limits);
    try {
        std::string buffer(input);
        for (;;) {
            const auto r = parser.parse(buffer);
            buffer.erase(0, r.consumed);
            if (r.event == parse_event::need_more) break;
        }
        parser.finish();
        ADD_FAILURE() << "no error for: " << input;
    } catch (const http::parse_error& e) {
        EXPECT_EQ(e.code(), code) << e.what() << "\n  for: " << input;
        EXPECT_EQ(e.offset(), offset) << e.what() << "\n  for: " << input;
        EXPECT_NE(std::string(e.what()).find(std::string(http::to_string(code))), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("at byte " + std::to_string(offset)), std::string::npos);
    }
}

// Every two-piece split and byte-at-a-time feeding must match the one-shot transcript.
template <class Parser = http::request_parser>
void expect_split_invariant(std::string_view input, bool head_request = false) {
    const auto reference = transcript<Parser>(input, {}, head_request);
    for (std::size_t cut = 0; cut <= input.size(); ++cut)
        ASSERT_EQ(transcript<Parser>(input, {cut}, head_request), reference)
            << "split at " << cut << " of: " << input;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    ASSERT_EQ(transcript<Parser>(input, every, head_request), reference)
        << "byte at a time: " << input;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Requests

TEST(http_request_parser, simple_get_views_into_the_callers_buffer) {
    const std::string buffer =
        "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Spaced: \t value \t\r\n\r\n";
    http::request_parser parser;
    const auto r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::headers);
    EXPECT_EQ(r.consumed, buffer.size());
    const auto& h = parser.head();
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/path?q=1");
    EXPECT_EQ(h.version_minor, 1);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_FALSE(h.content_length);
    ASSERT_EQ(h.headers.size(), 2u);
    // Zero-copy: the views point into the buffer.
    EXPECT_EQ(h.method.data(), buffer.data());
    EXPECT_EQ(h.headers[0].name.data(), buffer.data() + 24);
    EXPECT_EQ(h.find("x-spaced"), "value");
    EXPECT_EQ(h.find("HOST"), "example.com");
    EXPECT_FALSE(h.find("missing"));
    const auto done = parser.parse(std::string_view(buffer).substr(r.consumed));
    EXPECT_EQ(done.event, parse_event::message_complete);
    EXPECT_EQ(done.consumed, 0u);
    EXPECT_FALSE(parser.finish());  // clean close between messages
}

TEST(http_request_parser, nothing_is_consumed_until_the_head_is_complete) {
    http::request_parser parser;
    std::string buffer = "GET / HTTP/1.1\r\nHost: a";
    auto r = parser.parse(buffer);
    EXPECT_EQ(r.event, parse_event::need_more);
    EXPECT_EQ(r.consumed, 0u);
    // The caller may move its bytes between calls (offsets, not pointers, are kept).
    std::string moved = buffer + "\r\n\r\n";
    buffer.assign(buffer.size(), 'X');
    r = parser.parse(moved);
    ASSERT_EQ(r.event, parse_event::headers);
    EXPECT_EQ(parser.head().find("host"), "a");
    EXPECT_EQ(parser.head().method.data(), moved.data());
}

TEST(http_request_parser, empty_input_needs_more) {
    http::request_parser parser;
    EXPECT_EQ(parser.parse(std::string_view{}).event, parse_event::need_more);
    EXPECT_FALSE(parser.finish());
    ASSERT_EQ(parser.parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").event,
              parse_event::headers);
    const auto r = parser.parse(std::string_view{});
    EXPECT_EQ(r.event, parse_event::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(http_request_parser, content_length_body_arrives_in_pieces) {
    http::request_parser parser;
    std::string buffer = "POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123";
    auto r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::headers);
    EXPECT_EQ(parser.head().content_length, 10u);
    buffer.erase(0, r.consumed);
    r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::body);
    EXPECT_EQ(r.body, "0123");
    EXPECT_EQ(r.body.data(), buffer.data());
    buffer.erase(0, r.consumed);
    EXPECT_EQ(parser.parse(buffer).event, parse_event::need_more);
    buffer += "456789GET";  // the rest of the body, then the start of a pipelined request
    r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::body);
    EXPECT_EQ(r.body, "456789");
    buffer.erase(0, r.consumed);
    r = parser.parse(buffer);
    EXPECT_EQ(r.event, parse_event::message_complete);
    EXPECT_EQ(buffer, "GET");
    EXPECT_EQ(parser.parse(buffer).event, parse_event::need_more);
    EXPECT_THROW(parser.finish(), http::parse_error);  // EOF inside the next head
}

TEST(http_request_parser, chunked_body_with_extensions_and_trailers) {
    const std::string input =
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;name=value\r\nhello\r\n"
        "6 ; ext\r\n world\r\n"
        "A\r\n0123456789\r\n"
        "0\r\nChecksum: abc\r\nX-T:  t \r\n\r\n";
    EXPECT_EQ(whole(input),
              "REQ POST /c HTTP/1.1 keep-alive chunked\n"
              "Transfer-Encoding: chunked\n"
              "BODY[hello world0123456789]\n"
              "Checksum: abc\nX-T: t\n"
              "COMPLETE\nEOF\n");
    expect_split_invariant(input);
}

TEST(http_request_parser, chunked_body_pieces_are_views_and_framing_is_consumed) {
    http::request_parser parser;
    std::string buffer = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    auto r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::headers);
    buffer.erase(0, r.consumed);
    r = parser.parse(buffer);
    ASSERT_EQ(r.event, parse_event::body);
    EXPECT_EQ(r.body, "abc");
    EXPECT_EQ(r.body.data(), buffer.data() + 3);  // after "3\r\n"
    EXPECT_EQ(r.consumed, 6u);
    buffer.erase(0, r.consumed);
    r = parser.parse(buffer);
    EXPECT_EQ(r.event, parse_event::message_complete);
    EXPECT_EQ(r.consumed, buffer.size());
    EXPECT_TRUE(parser.trailers().empty());
}

TEST(http_request_parser, keep_alive_decision) {
    auto keep_alive = [](std::string_view head) {
        http::request_parser parser;
        const auto r = parser.parse(head);
        EXPECT_EQ(r.event, parse_event::headers) << head;
        return parser.head().keep_alive;
    };
    EXPECT_TRUE(keep_alive("GET / HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(keep_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST(http_request_parser, expect_continue_flag) {
    http::request_parser parser;
    ASSERT_EQ(parser.parse("PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
                  .event,
              parse_event::headers);
    EXPECT_TRUE(parser.head().expect_continue);
    http::request_parser other;
    ASSERT_EQ(other.parse("PUT /x HTTP/1.1\r\nContent-Length: 1\r\n\r\n").event,
              parse_event::headers);
    EXPECT_FALSE(other.head().expect_continue);
    http::request_parser old;  // HTTP/1.0 must ignore the expectation (RFC 9110 §10.1.1)
    ASSERT_EQ(old.parse("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").event,
              parse_event::headers);
    EXPECT_FALSE(old.head().expect_continue);
}

TEST(http_request_parser, pipelined_requests) {
    const std::string input =
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
        "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        "GET /d HTTP/1.0\r\n\r\n";
    EXPECT_EQ(whole(input),
              "REQ GET /a HTTP/1.1 keep-alive\nHost: h\nBODY[]\nCOMPLETE\n"
              "REQ POST /b HTTP/1.1 keep-alive length=3\nContent-Length: 3\nBODY[xyz]\nCOMPLETE\n"
              "REQ PUT /c HTTP/1.1 keep-alive chunked\nTransfer-Encoding: chunked\nBODY[ok]\n"
              "COMPLETE\n"
              "REQ GET /d HTTP/1.0 close\nBODY[]\nCOMPLETE\nEOF\n");
    expect_split_invariant(input);
}

// A server reuses one parser per connection and lowers the limit for a route with a smaller
// one: the next request on that connection starts from the parser's own limit again.
TEST(http_request_parser, a_body_limit_set_for_one_message_ends_with_it) {
    http::parse_limits limits;
    limits.max_body_size = 100;
    http::request_parser p(limits);
    std::string input =
        "POST /small HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"
        "POST /large HTTP/1.1\r\nContent-Length: 50\r\n\r\n" + std::string(50, 'x');
    std::string_view rest = input;
    auto step = [&] {
        const auto r = p.parse(rest);
        rest.remove_prefix(r.consumed);
        return r;
    };
    ASSERT_EQ(step().event, parse_event::headers);
    p.limit_body(10);
    ASSERT_EQ(step().event, parse_event::body);
    ASSERT_EQ(step().event, parse_event::message_complete);
    ASSERT_EQ(step().event, parse_event::headers);  // 50 > 10: refused here if the limit stayed
    EXPECT_EQ(p.head().target, "/large");
    const auto body = step();
    ASSERT_EQ(body.event, parse_event::body);
    EXPECT_EQ(body.body.size(), 50u);
    EXPECT_EQ(step().event, parse_event::message_complete);
}

TEST(http_request_parser, split_equivalence_over_valid_and_invalid_messages) {
    const char* inputs[] = {
        "GET / HTTP/1.1\r\nA: 1\r\nB:2\r\nC:\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n",  // truncated
        "GET / HTTP/1.1\r\nA: 1\rB: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 1\n\r\n",
        "GET / HTTP/1.1\r\n folded\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\nbad trailer\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
    };
    for (const char* input : inputs) expect_split_invariant(input);
}

TEST(http_request_parser, identical_duplicate_content_length_is_rejected_in_requests_only) {
    // nginx answers 400 to a repeated Content-Length; so does corio's server.
    expect_error("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab",
                 parse_error_code::duplicate_content_length, 36);
    // A response repeating an identical value is read alike by every hop: accepted.
    EXPECT_EQ(whole<http::response_parser>("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
              "RES 200 OK HTTP/1.1 keep-alive length=2\nContent-Length: 2\nContent-Length: 2\n"
              "BODY[ab]\nCOMPLETE\nEOF\n");
}

TEST(http_request_parser, empty_lines_before_a_request_line_are_skipped) {
    const std::string expected = "REQ GET /a HTTP/1.1 keep-alive\nBODY[]\nCOMPLETE\n";
    EXPECT_EQ(whole("\r\n\r\nGET /a HTTP/1.1\r\n\r\n"), expected + "EOF\n");
    expect_split_invariant("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
    // The stray CRLF a client sends after a POST body, then the next request.
    const std::string stray = "POST /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET /a HTTP/1.1\r\n\r\n";
    EXPECT_NE(whole(stray).find("BODY[x]\nCOMPLETE\n" + expected + "EOF"), std::string::npos) << whole(stray);
    expect_split_invariant(stray);
    // A stray CRLF and then the end of the connection is a clean close; offsets start after it.
    EXPECT_EQ(whole("\r\n"), "EOF\n");
    EXPECT_EQ(whole("\r"), "EOF\n");
    expect_error("\r\nG(T / HTTP/1.1\r\n\r\n", parse_error_code::invalid_method, 1);
    expect_error("\r\n\n", parse_error_code::bare_lf, 0);
}

TEST(http_request_parser, the_request_line_is_checked_as_it_arrives) {
    // A TLS ClientHello (or any binary) cannot start a request line: rejected at the first byte,
    // without waiting for a line end that may never come.
    expect_error(std::string("\x16\x03\x01\x02\x00\x01", 6), parse_error_code::invalid_method, 0);
    expect_error("GET /a\x01", parse_error_code::invalid_target, 6);
    expect_error("GET / HTTQ", parse_error_code::invalid_version, 6);
    expect_error("GET / HTTP/1.10", parse_error_code::invalid_version, 6);
    expect_split_invariant("GET /x\x16 HTTP/1.1\r\n\r\n");
    expect_split_invariant("G\x16T / HTTP/1.1\0\r\n\r\n");
    // A partial line that is still plausible waits for more.
    EXPECT_EQ(whole("GET /abc HT"), "ERROR HTTP parse error: connection closed mid-message at byte 11\n");
}

TEST(http_request_parser, later_minor_versions_read_as_http11) {
    EXPECT_EQ(whole("GET / HTTP/1.2\r\n\r\n"), "REQ GET / HTTP/1.1 keep-alive\nBODY[]\nCOMPLETE\nEOF\n");
    EXPECT_EQ(whole("GET / HTTP/1.9\r\nConnection: close\r\n\r\n"),
              "REQ GET / HTTP/1.1 close\nConnection: close\nBODY[]\nCOMPLETE\nEOF\n");
}

TEST(http_request_parser, eof_mid_body_is_an_error) {
    expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", parse_error_code::unexpected_eof,
                 41);
}

// ---------------------------------------------------------------------------------------------
// Rejections: every smuggling shape and syntax error, with its code and offset.

TEST(http_request_parser_rejects, content_length_and_transfer_encoding) {
    expect_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                 parse_error_code::content_length_and_transfer_encoding, 36);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                 parse_error_code::content_length_and_transfer_encoding, 45);
}

TEST(http_request_parser_rejects, differing_duplicate_content_length) {
    expect_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                 parse_error_code::conflicting_content_length, 52);
}

TEST(http_request_parser_rejects, invalid_content_length) {
    for (const char* value : {"+3", "-3", "3a", "0x10", "", "1 2", "3,3",
                              "18446744073709551616", "99999999999999999999999"}) {
        expect_error("POST / HTTP/1.1\r\nContent-Length: " + std::string(value) + "\r\n\r\n",
                     parse_error_code::invalid_content_length, 33);
    }
    // The largest 64-bit value parses (and is then over the body limit).
    expect_error("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
                 parse_error_code::body_too_large, 57);
}

TEST(http_request_parser_rejects, transfer_encoding_other_than_chunked) {
    // Anything but exactly "chunked" is a coding corio does not implement: 501, as nginx.
    for (const char* value : {"gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked",
                              "identity", "xchunked", "", "chunked,", ",chunked"}) {
        expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: " + std::string(value) + "\r\n\r\n",
                     parse_error_code::unsupported_transfer_encoding, 36);
    }
    // A second field, even an empty one, and Transfer-Encoding in HTTP/1.0: 400.
    expect_error(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        parse_error_code::invalid_transfer_encoding, 64);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n",
                 parse_error_code::invalid_transfer_encoding, 63);
    expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                 parse_error_code::invalid_transfer_encoding, 36);
    // Case-insensitive coding name is fine.
    EXPECT_NE(whole("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")
                  .find("COMPLETE"),
              std::string::npos);
}

TEST(http_request_parser_rejects, obs_fold) {
    expect_error("GET / HTTP/1.1\r\nA: 1\r\n continued\r\n\r\n", parse_error_code::obs_fold, 22);
    expect_error("GET / HTTP/1.1\r\n\tA: 1\r\n\r\n", parse_error_code::obs_fold, 16);
}

TEST(http_request_parser_rejects, bare_cr_and_bare_lf) {
    expect_error("GET / HTTP/1.1\r\nA: 1\rX\r\n\r\n", parse_error_code::bare_cr, 20);
    expect_error("GET / HT\rTP/1.1\r\n\r\n", parse_error_code::bare_cr, 8);
    expect_error("GET / HTTP/1.1\nA: 1\r\n\r\n", parse_error_code::bare_lf, 14);
    expect_error("GET / HTTP/1.1\r\nA: 1\r\n\n", parse_error_code::bare_lf, 22);
    expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n",
                 parse_error_code::bare_lf, 47);
    expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\rx\r\n",
                 parse_error_code::bare_cr, 47);
}

TEST(http_request_parser_rejects, whitespace_before_colon) {
    expect_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n", parse_error_code::whitespace_before_colon,
                 20);
    expect_error("GET / HTTP/1.1\r\nContent-Length\t: 1\r\n\r\n",
                 parse_error_code::whitespace_before_colon, 30);
}

TEST(http_request_parser_rejects, invalid_tokens) {
    expect_error("G(T / HTTP/1.1\r\n\r\n", parse_error_code::invalid_method, 1);
    expect_error(" GET / HTTP/1.1\r\n\r\n", parse_error_code::invalid_method, 0);
    expect_error("GET\t/ HTTP/1.1\r\n\r\n", parse_error_code::invalid_method, 3);
    expect_error("GET /a\x7f HTTP/1.1\r\n\r\n", parse_error_code::invalid_target, 6);
    expect_error("GET  / HTTP/1.1\r\n\r\n", parse_error_code::invalid_target, 4);
    expect_error("GET / HTTP/1.1\r\nA@b: 1\r\n\r\n", parse_error_code::invalid_header_name, 17);
    expect_error("GET / HTTP/1.1\r\n: 1\r\n\r\n", parse_error_code::invalid_header_name, 16);
    expect_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", parse_error_code::invalid_header_name, 23);
    expect_error("GET / HTTP/1.1\r\nA: 1\x01\r\n\r\n", parse_error_code::invalid_header_value,
                 20);
    expect_error("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", parse_error_code::invalid_header_value, 19);
}

TEST(http_request_parser_rejects, invalid_version) {
    for (const char* line : {"GET / http/1.1", "GET / HTTP/1.1 ", "GET / HTTP/11", "GET / HTTP/1.",
                             "GET / HTTP/1.x", "GET / HTTP/2"})
        expect_error(std::string(line) + "\r\n\r\n", parse_error_code::invalid_version, 6);
    expect_error("GET /\r\n\r\n", parse_error_code::invalid_version, 5);
    // Well-formed, but not HTTP/1.x: 505.
    for (const char* line : {"GET / HTTP/2.0", "GET / HTTP/0.9", "PRI * HTTP/2.0"})
        expect_error(std::string(line) + "\r\n\r\n", parse_error_code::unsupported_version,
                     std::string_view(line).find("HTTP"));
}

TEST(http_request_parser_rejects, nul_bytes) {
    using namespace std::string_literals;
    expect_error("GET /\0 HTTP/1.1\r\n\r\n"s, parse_error_code::nul_byte, 5);
    expect_error("GET / HTTP/1.1\r\nA: \0\r\n\r\n"s, parse_error_code::nul_byte, 19);
    expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;\0\r\n"s,
                 parse_error_code::nul_byte, 48);
}

TEST(http_request_parser_rejects, invalid_chunks) {
    const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";  // 47 bytes
    expect_error(head + "g\r\n", parse_error_code::invalid_chunk_size, 47);
    expect_error(head + "\r\n", parse_error_code::invalid_chunk_size, 47);
    expect_error(head + ";x\r\n", parse_error_code::invalid_chunk_size, 47);
    expect_error(head + "-1\r\n", parse_error_code::invalid_chunk_size, 47);
    expect_error(head + "0x5\r\n", parse_error_code::invalid_chunk_size, 48);
    expect_error(head + "5 6\r\n", parse_error_code::invalid_chunk_size, 49);
    expect_error(head + "10000000000000000\r\n", parse_error_code::invalid_chunk_size, 63);
    expect_error(head + "3\r\nabcX\r\n", parse_error_code::missing_chunk_crlf, 53);
    expect_error(head + "3\r\nabc\rX", parse_error_code::missing_chunk_crlf, 54);
    expect_error(head + "1;a\x01\r\n", parse_error_code::invalid_chunk_extension, 50);
    expect_error(head + "0\r\nT : 1\r\n\r\n", parse_error_code::whitespace_before_colon, 51);
    expect_error(head + "0\r\n folded\r\n\r\n", parse_error_code::obs_fold, 50);
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST(http_parser_limits, start_line_too_long) {
    http::parse_limits limits;
    limits.max_start_line = 20;
    expect_error("GET /0123456789012345 HTTP/1.1\r\n\r\n", parse_error_code::start_line_too_long,
                 20, limits);
    // Detected before the line is complete.
    expect_error("GET /01234567890123456789", parse_error_code::start_line_too_long, 20, limits);
    EXPECT_NE(whole("GET /0123 HTTP/1.1\r\n\r\n", limits).find("COMPLETE"), std::string::npos);
}

TEST(http_parser_limits, header_count_and_bytes) {
    http::parse_limits limits;
    limits.max_header_count = 2;
    expect_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", parse_error_code::too_many_headers,
                 28, limits);
    EXPECT_NE(whole("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", limits).find("COMPLETE"),
              std::string::npos);
    limits = {};
    limits.max_header_bytes = 30;
    expect_error("GET / HTTP/1.1\r\nA: 1\r\nB: 22\r\n\r\n", parse_error_code::headers_too_large, 30,
                 limits);
    expect_error("GET / HTTP/1.1\r\nA: 0123456789012345", parse_error_code::headers_too_large, 30,
                 limits);
    EXPECT_NE(whole("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n" /* 30 bytes */, limits).find("COMPLETE"),
              std::string::npos);
}

TEST(http_parser_limits, trailers_are_bounded) {
    http::parse_limits limits;
    limits.max_header_bytes = 60;  // the head (45 bytes) fits; trailers are bounded separately
    const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_error(head + "0\r\nT: " + std::string(60, 'x') + "\r\n\r\n",
                 parse_error_code::headers_too_large, 50 + 60, limits);
    limits = {};
    limits.max_header_count = 1;
    expect_error(head + "0\r\nA: 1\r\nB: 2\r\n\r\n", parse_error_code::too_many_headers, 56, limits);
}

TEST(http_parser_limits, body_size) {
    http::parse_limits limits;
    limits.max_body_size = 4;
    expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", parse_error_code::body_too_large,
                 38, limits);
    EXPECT_NE(whole("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", limits).find("BODY[abcd]"),
              std::string::npos);
    const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_error(head + "3\r\nabc\r\n2\r\n", parse_error_code::body_too_large, 57, limits);
    expect_error<http::response_parser>("HTTP/1.1 200 OK\r\n\r\nabcde",
                                        parse_error_code::body_too_large, 23, limits);
}

TEST(http_parser_limits, chunk_line) {
    http::parse_limits limits;
    limits.max_chunk_line = 8;
    const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_error(head + "1;abcdefgh\r\n", parse_error_code::chunk_line_too_long, 47 + 8, limits);
    EXPECT_NE(whole(head + "1;abcd\r\nx\r\n0\r\n\r\n", limits).find("BODY[x]"), std::string::npos);
}

TEST(http_parser_errors, parser_stays_failed) {
    http::request_parser parser;
    EXPECT_THROW(parser.parse("GET / HTTP/9.9\r\n\r\n"), http::parse_error);
    try {
        parser.parse("GET / HTTP/1.1\r\n\r\n");
        ADD_FAILURE();
    } catch (const http::parse_error& e) {
        EXPECT_EQ(e.code(), parse_error_code::unsupported_version);
    }
    EXPECT_THROW(parser.finish(), http::parse_error);
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(http_response_parser, content_length_and_chunked) {
    const std::string input =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
    EXPECT_EQ(whole<http::response_parser>(input),
              "RES 200 OK HTTP/1.1 keep-alive length=2\nContent-Length: 2\nBODY[hi]\nCOMPLETE\n"
              "RES 404 Not Found HTTP/1.1 keep-alive chunked\nTransfer-Encoding: gzip, chunked\n"
              "BODY[x]\nCOMPLETE\nEOF\n");
    expect_split_invariant<http::response_parser>(input);
}

TEST(http_response_parser, body_until_close_without_length) {
    const std::string input = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\n";
    EXPECT_EQ(whole<http::response_parser>(input),
              "RES 200 OK HTTP/1.1 close\nContent-Type: text/plain\nBODY[all of this\r\n]\n"
              "COMPLETE\nEOF\n");
    expect_split_invariant<http::response_parser>(input);
    // A final coding other than chunked also means "until close".
    EXPECT_NE(whole<http::response_parser>("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz")
                  .find("close\n"),
              std::string::npos);
}

TEST(http_response_parser, no_body_statuses_and_head) {
    const std::string input =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok";
    EXPECT_EQ(whole<http::response_parser>(input),
              "RES 100 Continue HTTP/1.1 keep-alive\nBODY[]\nCOMPLETE\n"
              "RES 204 No Content HTTP/1.1 keep-alive length=5\nContent-Length: 5\nBODY[]\n"
              "COMPLETE\n"
              "RES 304 Not Modified HTTP/1.1 keep-alive chunked\nTransfer-Encoding: chunked\n"
              "BODY[]\nCOMPLETE\n"
              "RES 200  HTTP/1.1 keep-alive length=2\nContent-Length: 2\nBODY[ok]\nCOMPLETE\nEOF\n");
    expect_split_invariant<http::response_parser>(input);
    // Responses to HEAD have no body whatever they announce; the rest is the next response.
    const std::string head_input =
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    EXPECT_EQ(transcript<http::response_parser>(head_input, {}, true),
              "RES 200 OK HTTP/1.1 keep-alive length=100\nContent-Length: 100\nBODY[]\nCOMPLETE\n"
              "RES 200 OK HTTP/1.1 keep-alive\nBODY[]\nCOMPLETE\nEOF\n");
    expect_split_invariant<http::response_parser>(head_input, true);
}

TEST(http_response_parser, expect_no_body_survives_interim_responses) {
    http::response_parser parser;
    parser.expect_no_body();
    std::string buffer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    std::vector<parse_event> events;
    std::string body;
    for (;;) {
        const auto r = parser.parse(buffer);
        if (r.event == parse_event::need_more) break;
        events.push_back(r.event);
        body.append(r.body);
        buffer.erase(0, r.consumed);
    }
    EXPECT_EQ(events, (std::vector<parse_event>{
                          parse_event::headers, parse_event::message_complete,  // 100
                          parse_event::headers, parse_event::message_complete,  // HEAD's 200
                          parse_event::headers, parse_event::body, parse_event::message_complete}));
    EXPECT_EQ(body, "abc");
}

TEST(http_response_parser, keep_alive) {
    EXPECT_NE(whole<http::response_parser>("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
                  .find("HTTP/1.0 close"),
              std::string::npos);
    EXPECT_NE(whole<http::response_parser>(
                  "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
                  .find("HTTP/1.0 keep-alive"),
              std::string::npos);
    EXPECT_NE(whole<http::response_parser>(
                  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                  .find("HTTP/1.1 close"),
              std::string::npos);
}

TEST(http_response_parser_rejects, status_line_and_smuggling) {
    using P = http::response_parser;
    expect_error<P>("HTTP/1.1 20 OK\r\n\r\n", parse_error_code::invalid_status, 11);
    expect_error<P>("HTTP/1.1 099 X\r\n\r\n", parse_error_code::invalid_status, 9);
    expect_error<P>("HTTP/1.1 2000 OK\r\n\r\n", parse_error_code::invalid_status, 12);
    expect_error<P>("HTTP/1.1 200 O\x01K\r\n\r\n", parse_error_code::invalid_reason, 14);
    expect_error<P>("HTTP/2 200 OK\r\n\r\n", parse_error_code::invalid_version, 0);
    expect_error<P>("HTTP/1.1  200 OK\r\n\r\n", parse_error_code::invalid_status, 9);
    expect_error<P>("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    parse_error_code::content_length_and_transfer_encoding, 36);
    expect_error<P>("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                    parse_error_code::conflicting_content_length, 52);
    expect_error<P>("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                    parse_error_code::invalid_transfer_encoding, 36);
    expect_error<P>("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
                    parse_error_code::unexpected_eof, 40);
    expect_error<P>("HTTP/1.1 200 OK\r\nA: 1\r\n", parse_error_code::unexpected_eof, 23);
}
