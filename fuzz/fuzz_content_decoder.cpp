// libFuzzer target for corio/http/content_decoder.hpp (gzip / deflate Content-Encoding).
//
// Input: three control bytes c0 c1 c2, then the payload. c0's low 2 bits pick the mode:
//   0  decode the payload as is: coding (c0 bits 2-4) gzip, deflate, X-Gzip, "identity, deflate",
//      identity, "" (identity), br (unsupported), "gzip, deflate" (stacked: rejected); output cap
//      (c0 bits 5-6) 64 MiB, 1 MiB, 4096 or 0 bytes;
//   1  round trip: compress the payload with zlib's deflateInit2 — format (c0 bits 2-3) gzip, zlib,
//      raw deflate or two gzip members; level (bits 4-5) 0, 1, 6, 9; strategy (bits 6-7) default,
//      filtered, huffman-only, fixed; window (c2 bits 0-2) 2^9..2^15 — then decode it with
//      "gzip" / "deflate"; the output cap (c2 bits 3-4) is the payload size, one less, or 64 MiB;
//   2  a valid gzip member of the first c1/255 of the payload, followed by the rest as is (a
//      second member, garbage, a truncated member...); split at c2/255 of the body;
//   3  the payload zlib-compressed, then byte c1 % size XORed with c2 (corruption), as "deflate".
// c1 picks where the body is split in two for the split run.
//
// Invariants (trap otherwise; decode_error is expected for bad input):
// - split invariance: fed whole, in two pieces at the chosen position and (up to 256 bytes) one
//   byte at a time, the result is the same: the same output, or a decode_error with the same
//   message;
// - feed() only appends to `out`, and leaves it as it was on entry when it throws; the total
//   output never exceeds the cap;
// - after a decode_error, feed() and finish() throw decode_error again;
// - round trip: what zlib compressed decodes to exactly the payload when the cap allows it (cap
//   >= size), and fails with decode_error when it does not (cap < size); the same stream with its
//   last byte cut off, or followed by one more byte, is rejected (strict end).
#include <corio/http/content_decoder.hpp>

#include <zlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = corio::http;

constexpr std::uint64_t default_cap = 64ull << 20;

struct result {
    bool ok = false;
    std::string output;  // when ok
    std::string error;   // decode_error::what() otherwise
    friend bool operator==(const result&, const result&) = default;
};

/// Decodes `body` with a decoder for `coding`, fed in pieces ending at each of `cuts` (ascending)
/// and then at body.size(), and checks the per-call guarantees on the way.
result decode(std::string_view coding, std::string_view body, std::uint64_t cap,
              const std::vector<std::size_t>& cuts) {
    constexpr std::string_view marker = "earlier bytes|";  // `out` is appended to, not replaced
    std::string out(marker);
    try {
        http::content_decoder decoder(coding, cap);
        std::size_t fed = 0;
        auto feed_until = [&](std::size_t end) {
            const std::size_t before = out.size();
            try {
                decoder.feed(body.substr(fed, end - fed), out);
            } catch (const http::decode_error&) {
                if (out.size() != before || !out.starts_with(marker)) __builtin_trap();
                try {  // failed for good
                    decoder.feed("x", out);
                    __builtin_trap();
                } catch (const http::decode_error&) {
                }
                try {
                    decoder.finish();
                    __builtin_trap();
                } catch (const http::decode_error&) {
                }
                if (out.size() != before) __builtin_trap();
                throw;
            }
            if (out.size() < before || !out.starts_with(marker)) __builtin_trap();
            if (out.size() - marker.size() > cap) __builtin_trap();
            fed = end;
        };
        for (std::size_t cut : cuts) feed_until(cut);
        feed_until(body.size());
        try {
            decoder.finish();
        } catch (const http::decode_error&) {
            try {
                decoder.finish();
                __builtin_trap();
            } catch (const http::decode_error&) {
            }
            throw;
        }
        return {true, out.substr(marker.size()), {}};
    } catch (const http::decode_error& e) {
        return {false, {}, e.what()};
    }
}

/// Decodes whole, split at `cut` and byte by byte (when short); all must agree.
result decode_checked(std::string_view coding, std::string_view body, std::uint64_t cap,
                      std::size_t cut) {
    const result whole = decode(coding, body, cap, {});
    if (!(decode(coding, body, cap, {cut}) == whole)) __builtin_trap();
    if (body.size() <= 256) {
        std::vector<std::size_t> every;
        for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
        if (!(decode(coding, body, cap, every) == whole)) __builtin_trap();
    }
    return whole;
}

/// zlib's deflate of `in` in one go: window_bits as for deflateInit2 (negative: raw, +16: gzip).
std::string compress(std::string_view in, int window_bits, int level, int strategy) {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, strategy) != Z_OK) __builtin_trap();
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) __builtin_trap();
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::size_t scaled(std::size_t size, std::uint8_t by) { return size * by / 255; }

void round_trip(std::uint8_t c0, std::uint8_t c1, std::uint8_t c2, std::string_view payload) {
    static constexpr std::array<int, 4> levels = {0, 1, 6, 9};
    static constexpr std::array<int, 4> strategies = {Z_DEFAULT_STRATEGY, Z_FILTERED,
                                                      Z_HUFFMAN_ONLY, Z_FIXED};
    const unsigned format = (c0 >> 2) & 3;  // gzip, zlib, raw, two gzip members
    const int level = levels[(c0 >> 4) & 3];
    const int strategy = strategies[(c0 >> 6) & 3];
    const int window = 9 + (c2 & 7) % 7;
    std::string body;
    switch (format) {
        case 0: body = compress(payload, window + 16, level, strategy); break;
        case 1: body = compress(payload, window, level, strategy); break;
        case 2: body = compress(payload, -window, level, strategy); break;
        default: {
            const std::size_t half = payload.size() / 2;
            body = compress(payload.substr(0, half), window + 16, level, strategy) +
                   compress(payload.substr(half), window + 16, level, strategy);
        }
    }
    const std::string_view coding = format == 0 || format == 3 ? "gzip" : "deflate";
    std::uint64_t cap = default_cap;
    switch ((c2 >> 3) & 3) {
        case 0: cap = payload.size(); break;
        case 1: cap = payload.empty() ? 0 : payload.size() - 1; break;
        default: break;
    }
    const result r = decode_checked(coding, body, cap, scaled(body.size(), c1));
    if (payload.size() <= cap) {
        if (!r.ok || r.output != payload) __builtin_trap();
    } else if (r.ok) {
        __builtin_trap();
    }
    // Strict end: the stream cut short, or followed by another byte, is rejected.
    if (format != 2) {  // (raw deflate has no trailer: its last byte may be padding-free)
        if (decode(coding, std::string_view(body).substr(0, body.size() - 1), default_cap, {}).ok)
            __builtin_trap();
    }
    if (decode(coding, body + static_cast<char>(c2), default_cap, {}).ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::uint8_t c0 = data[0], c1 = data[1], c2 = data[2];
    const std::string_view payload(reinterpret_cast<const char*>(data + 3), size - 3);
    switch (c0 & 3) {
        case 0: {
            static constexpr std::array<std::string_view, 8> codings = {
                "gzip", "deflate", "X-Gzip", "identity, deflate", "identity", "", "br",
                "gzip, deflate"};
            static constexpr std::array<std::uint64_t, 4> caps = {default_cap, 1u << 20, 4096, 0};
            const std::string_view coding = codings[(c0 >> 2) & 7];
            const std::uint64_t cap = caps[(c0 >> 5) & 3];
            const result r = decode_checked(coding, payload, cap, scaled(payload.size(), c1));
            if ((coding == "identity" || coding.empty()) &&
                (r.ok != (payload.size() <= cap) || (r.ok && r.output != payload)))
                __builtin_trap();
            break;
        }
        case 1: round_trip(c0, c1, c2, payload); break;
        case 2: {
            const std::size_t k = scaled(payload.size(), c1);
            const std::string body = compress(payload.substr(0, k), 31, 6, Z_DEFAULT_STRATEGY) +
                                     std::string(payload.substr(k));
            const result r = decode_checked("gzip", body, default_cap, scaled(body.size(), c2));
            if (r.ok && !r.output.starts_with(payload.substr(0, k))) __builtin_trap();
            if (k == payload.size() && (!r.ok || r.output != payload)) __builtin_trap();
            break;
        }
        default: {
            std::string body = compress(payload, 15, 6, Z_DEFAULT_STRATEGY);
            body[c1 % body.size()] = static_cast<char>(body[c1 % body.size()] ^ c2);
            decode_checked("deflate", body, default_cap, scaled(body.size(), c1));
        }
    }
    return 0;
}
