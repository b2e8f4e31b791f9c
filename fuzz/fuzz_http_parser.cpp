// libFuzzer target for corio/http/parser.hpp: the REQUEST parser (fuzz_http_response covers
// responses).
//
// The first input byte is control: its low 2 bits pick the limits (3: tiny limits, else the
// defaults) and the other 6 bits a split position. The rest is parsed whole, split in two at that
// position and (when short) one byte at a time; every way must produce the same transcript
// (events, heads, body bytes, trailers, error code and offset), else we trap. The whole-input run
// is also checked against the parser's documented contract (http_checks.hpp: views, framing,
// limits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http_checks.hpp"
#include "http_transcript.hpp"

namespace {

namespace http = corio::http;

void check(std::string_view input, std::size_t cut, http::parse_limits limits) {
    using http::testing::transcript;
    using Parser = http::request_parser;
    http::testing::check_messages<Parser>(input, false, limits);
    const auto reference = transcript<Parser>(input, {}, false, limits);
    if (transcript<Parser>(input, {cut}, false, limits) != reference) __builtin_trap();
    if (input.size() > 256) return;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    if (transcript<Parser>(input, every, false, limits) != reference) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t control = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = input.size() * (control >> 2) / 63;
    if ((control & 3) == 3) {
        check(input, cut, http::testing::tiny_limits());
    } else {
        check(input, cut, {});
    }
    return 0;
}
