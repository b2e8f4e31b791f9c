// libFuzzer target for the multipart/form-data parser (src/http/multipart_parser.hpp).
//
// The first input byte is control: its low bit picks the limits (1: tiny ones, else the
// defaults) and the other 7 bits a split position. The rest is parsed with the boundary
// "XyZ" whole, split in two at that position and (when short) one byte at a time; every way
// must give the same transcript (each part's headers and body, then the end or the error's
// status), else we trap. A body piece must never hold the delimiter.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../src/http/multipart_parser.hpp"

namespace {

namespace http = corio::http;
using http::detail::multipart_parser;

struct transcript {
    std::vector<std::pair<http::headers, std::string>> parts;
    int status = 0;  // the form_error's, or 0 for a body that ended well
    // Equal parts matter only for a body that parsed: where an error stops depends on the
    // pieces (a limit crossed within one piece or across two).
    bool operator==(const transcript& other) const {
        if (status != other.status) return false;
        if (status != 0) return true;
        if (parts.size() != other.parts.size()) return false;
        for (std::size_t i = 0; i < parts.size(); ++i)
            if (parts[i].first.fields() != other.parts[i].first.fields() || parts[i].second != other.parts[i].second)
                return false;
        return true;
    }
};

transcript parse(std::string_view input, const std::vector<std::size_t>& cuts, const http::multipart_options& limits) {
    multipart_parser parser("XyZ", limits);
    transcript t;
    std::size_t at = 0;
    std::size_t next_cut = 0;
    try {
        for (;;) {
            const multipart_parser::event e = parser.next();
            if (e == multipart_parser::event::end) return t;
            if (e == multipart_parser::event::part_begin) t.parts.emplace_back(parser.part_headers(), "");
            if (e == multipart_parser::event::body) {
                if (parser.piece().find("\r\n--XyZ") != std::string_view::npos) __builtin_trap();
                t.parts.back().second.append(parser.piece());
            }
            if (e != multipart_parser::event::need_more) continue;
            if (at == input.size()) {
                parser.finish();
                return t;
            }
            const std::size_t end = next_cut < cuts.size() ? cuts[next_cut++] : input.size();
            parser.feed(input.substr(at, end - at));
            at = end;
        }
    } catch (const http::form_error& e) {
        t.status = e.status();
    }
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t control = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    http::multipart_options limits;
    if (control & 1) limits = {.max_parts = 3, .max_part_head_size = 64, .max_part_size = 32, .max_total_size = 64};
    const transcript reference = parse(input, {}, limits);
    if (reference.status != 0 && reference.status != 400 && reference.status != 413) __builtin_trap();
    const std::size_t cut = input.size() * (control >> 1) / 127;
    if (!(parse(input, {cut}, limits) == reference)) __builtin_trap();
    if (input.size() > 256) return 0;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    if (!(parse(input, every, limits) == reference)) __builtin_trap();
    return 0;
}
