// libFuzzer target for corio/http/parser.hpp.
//
// The first input byte is control: its low 2 bits pick the parser (request, response, response to
// HEAD, request with tiny limits) and the other 6 bits a split position. The rest is parsed whole,
// split in two at that position and (when short) one byte at a time; every way must produce the
// same transcript (events, heads, body bytes, trailers, error code and offset), else we trap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http_transcript.hpp"

namespace {

namespace http = corio::http;

template <class Parser>
void check(std::string_view input, std::size_t cut, bool head_request, http::parse_limits limits) {
    using http::testing::transcript;
    const auto reference = transcript<Parser>(input, {}, head_request, limits);
    if (transcript<Parser>(input, {cut}, head_request, limits) != reference) __builtin_trap();
    if (input.size() > 256) return;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    if (transcript<Parser>(input, every, head_request, limits) != reference) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t control = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = input.size() * (control >> 2) / 63;
    switch (control & 3) {
        case 0: check<http::request_parser>(input, cut, false, {}); break;
        case 1: check<http::response_parser>(input, cut, false, {}); break;
        case 2: check<http::response_parser>(input, cut, true, {}); break;
        default: {
            http::parse_limits tiny;
            tiny.max_start_line = 32;
            tiny.max_header_count = 3;
            tiny.max_header_bytes = 96;
            tiny.max_body_size = 16;
            tiny.max_chunk_line = 8;
            check<http::request_parser>(input, cut, false, tiny);
        }
    }
    return 0;
}
