// libFuzzer target for the WebSocket frame reader and permessage-deflate (src/http/ws_frame.hpp).
//
// The first input byte is control: bit 0 picks the side (1: frames from a client, which must
// be masked), bit 1 whether permessage-deflate was agreed, the other 6 bits a split position.
// The rest is read whole, split in two at that position and (when short) one byte at a time;
// every way must give the same transcript (each message, ping, pong and close, then the close
// code of the violation that stopped it), else we trap. Every message must respect the size
// limit, every text message must be UTF-8, and each message must come back unchanged from our
// own compressor through a fresh decompressor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../src/http/ws_frame.hpp"

namespace {

namespace detail = corio::http::detail;
using event = detail::ws_frame_reader::event;

constexpr std::size_t max_message = 64 * 1024;

struct transcript {
    std::vector<std::string> events;
    int violation = 0;
    bool operator==(const transcript&) const = default;
};

void check_message(detail::ws_frame_reader& reader) {
    const std::string& message = reader.message();
    if (message.size() > max_message) __builtin_trap();
    if (reader.message_is_text() && !detail::is_utf8(message)) __builtin_trap();
    detail::ws_deflater deflater(detail::ws_deflate_params{});
    detail::ws_inflater inflater;
    if (inflater.decompress(deflater.compress(message), max_message) != message) __builtin_trap();
}

std::string describe(detail::ws_frame_reader& reader, event what) {
    switch (what) {
        case event::message: check_message(reader); return (reader.message_is_text() ? "text:" : "binary:") + reader.message();
        case event::ping: return "ping:" + reader.control();
        case event::pong: return "pong:" + reader.control();
        case event::close: {
            const auto [code, reason] = reader.close_payload();
            return "close:" + std::to_string(code) + ":" + reason;
        }
        default: return "?";
    }
}

/// Feeds `pieces` in order, as a connection's reads would bring them.
transcript read_pieces(const std::vector<std::string_view>& pieces, bool from_client, bool deflate) {
    transcript t;
    detail::ws_frame_reader reader(from_client, deflate, max_message);
    std::string buffered;
    try {
        for (const std::string_view piece : pieces) {
            buffered.append(piece);
            for (;;) {
                const auto r = reader.read(buffered);
                buffered.erase(0, r.consumed);
                if (r.what == event::need_more) break;
                t.events.push_back(describe(reader, r.what));
            }
        }
    } catch (const detail::ws_violation& v) {
        if (v.code != 1002 && v.code != 1007 && v.code != 1009) __builtin_trap();
        t.violation = v.code;
    }
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const bool from_client = (data[0] & 1) != 0;
    const bool deflate = (data[0] & 2) != 0;
    const std::size_t split = data[0] >> 2;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const transcript whole = read_pieces({input}, from_client, deflate);
    if (split > 0 && split < input.size() &&
        !(read_pieces({input.substr(0, split), input.substr(split)}, from_client, deflate) == whole))
        __builtin_trap();
    if (input.size() <= 4096) {
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
        if (!(read_pieces(bytes, from_client, deflate) == whole)) __builtin_trap();
    }
    return 0;
}
