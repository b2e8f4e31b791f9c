// http::content_decoder: gzip / deflate (zlib and raw) / identity round trips fed whole and in
// small pieces, coding names, corrupt, truncated and trailing data, concatenated gzip members,
// the output limit (zip bombs) and moves.
#include <gtest/gtest.h>

#include <corio/http/content_decoder.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using corio::http::content_decoder;
using corio::http::decode_error;

namespace {

constexpr int gzip_bits = 16 + MAX_WBITS;
constexpr int zlib_bits = MAX_WBITS;
constexpr int raw_bits = -MAX_WBITS;

/// Compresses `size` bytes produced by `chunk(i)` (called for consecutive chunks) with zlib's
/// deflate; `window_bits` picks the format as for deflateInit2.
template <class Chunk>
std::string compress_stream(std::uint64_t size, int window_bits, Chunk chunk) {
    z_stream z{};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        ADD_FAILURE() << "deflateInit2 failed";
        return {};
    }
    std::string out;
    char buffer[64 * 1024];
    std::uint64_t done = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        std::string_view in;
        if (done < size) {
            in = chunk(done);
            in = in.substr(0, static_cast<std::size_t>(
                                  std::min<std::uint64_t>(in.size(), size - done)));
            done += in.size();
        }
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        const int flush = done < size ? Z_NO_FLUSH : Z_FINISH;
        do {
            z.next_out = reinterpret_cast<Bytef*>(buffer);
            z.avail_out = sizeof buffer;
            rc = deflate(&z, flush);
            out.append(buffer, sizeof buffer - z.avail_out);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    return out;
}

std::string compress(std::string_view data, int window_bits) {
    return compress_stream(data.size(), window_bits, [&](std::uint64_t at) {
        return data.substr(static_cast<std::size_t>(at));
    });
}

/// Text-like, compressible but not trivially (pseudo-random words).
std::string sample(std::size_t size) {
    static constexpr std::string_view words[] = {"corio ", "gzip ", "deflate ", "cookie ",
                                                 "the ", "stream\n", "0123 ", "body, "};
    std::string s;
    s.reserve(size + 16);
    std::uint32_t state = 12345;
    while (s.size() < size) {
        state = state * 1103515245u + 12345u;
        s += words[(state >> 16) % 8];
        if ((state >> 8) % 5 == 0) s += static_cast<char>(state >> 24);  // any byte value
    }
    s.resize(size);
    return s;
}

/// Decodes `body` fed in pieces of `piece` bytes (0: all at once), then calls finish().
std::string decode(std::string_view coding, std::string_view body, std::size_t piece = 0,
                   std::uint64_t max_output = 64ull << 20) {
    content_decoder decoder(coding, max_output);
    std::string out;
    if (piece == 0) piece = std::max<std::size_t>(body.size(), 1);
    for (std::size_t at = 0; at < body.size(); at += piece) {
        decoder.feed(body.substr(at, piece), out);
    }
    decoder.finish();
    return out;
}

/// The decode_error message of decode(...), or "" with a failure if none is thrown.
std::string decode_failure(std::string_view coding, std::string_view body, std::size_t piece = 0,
                           std::uint64_t max_output = 64ull << 20) {
    try {
        decode(coding, body, piece, max_output);
    } catch (const decode_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no decode_error";
    return {};
}

// ---------------------------------------------------------------------------------------------
// Coding names

TEST(content_decoder, identity_passes_through) {
    for (std::string_view coding : {"", "identity", " Identity ", "identity, identity", " , "}) {
        content_decoder decoder(coding);
        EXPECT_TRUE(decoder.identity()) << coding;
        std::string out = "x";
        decoder.feed("abc", out);
        decoder.feed("", out);
        decoder.feed("def", out);
        decoder.finish();
        EXPECT_EQ(out, "xabcdef") << coding;
    }
}

TEST(content_decoder, coding_names_are_case_insensitive) {
    const std::string data = "hello, hello, hello";
    for (std::string_view coding : {"gzip", "GZIP", "x-gzip", " X-Gzip\t", "identity, gzip"}) {
        EXPECT_FALSE(content_decoder(coding).identity()) << coding;
        EXPECT_EQ(decode(coding, compress(data, gzip_bits)), data) << coding;
    }
    for (std::string_view coding : {"deflate", "Deflate", "deflate, identity"}) {
        EXPECT_EQ(decode(coding, compress(data, zlib_bits)), data) << coding;
    }
}

TEST(content_decoder, unknown_coding_throws) {
    for (std::string_view coding : {"br", "zstd", "compress", "gzip2", "gzip;q=1"}) {
        try {
            content_decoder decoder(coding);
            ADD_FAILURE() << "accepted " << coding;
        } catch (const decode_error& e) {
            EXPECT_NE(std::string(e.what()).find(coding), std::string::npos) << e.what();
        }
    }
}

TEST(content_decoder, stacked_codings_are_rejected) {
    for (std::string_view coding : {"gzip, gzip", "deflate,gzip", "gzip, br"}) {
        EXPECT_THROW(content_decoder{coding}, decode_error) << coding;
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips

struct round_trip_case {
    const char* coding;
    int window_bits;
};

class round_trip : public ::testing::TestWithParam<round_trip_case> {};

TEST_P(round_trip, whole_and_in_pieces_give_the_same_output) {
    const auto [coding, bits] = GetParam();
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{300}, std::size_t{5} << 20}) {
        const std::string data = sample(size);
        const std::string body = compress(data, bits);
        EXPECT_EQ(decode(coding, body), data) << size;
        EXPECT_EQ(decode(coding, body, 7), data) << size;
        if (size < 1000) {
            EXPECT_EQ(decode(coding, body, 1), data) << size;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    codings, round_trip,
    ::testing::Values(round_trip_case{"gzip", gzip_bits}, round_trip_case{"gzip", 16 + 9},
                      round_trip_case{"deflate", zlib_bits}, round_trip_case{"deflate", 9},
                      round_trip_case{"deflate", raw_bits}, round_trip_case{"deflate", -9}),
    [](const auto& info) {
        const int bits = info.param.window_bits;
        return std::string(info.param.coding) + (bits < 0 ? "_raw" : "_") +
               std::to_string(bits < 0 ? -bits : bits);
    });

TEST(content_decoder, identity_round_trip_in_pieces) {
    const std::string data = sample(100000);
    EXPECT_EQ(decode("identity", data, 7), data);
}

TEST(content_decoder, appends_to_existing_output) {
    content_decoder decoder("gzip");
    std::string out = "prefix:";
    decoder.feed(compress("data", gzip_bits), out);
    decoder.finish();
    EXPECT_EQ(out, "prefix:data");
}

TEST(content_decoder, empty_body_is_an_empty_body) {
    for (std::string_view coding : {"gzip", "deflate"}) {
        content_decoder decoder(coding);
        std::string out;
        decoder.feed("", out);
        EXPECT_NO_THROW(decoder.finish()) << coding;
        EXPECT_EQ(out, "");
    }
}

TEST(content_decoder, concatenated_gzip_members) {
    const std::string body = compress("hello ", gzip_bits) + compress("", gzip_bits) +
                             compress(sample(100000), gzip_bits);
    const std::string expected = "hello " + sample(100000);
    EXPECT_EQ(decode("gzip", body), expected);
    EXPECT_EQ(decode("gzip", body, 1), expected);
    EXPECT_EQ(decode("gzip", body, 7), expected);
}

// ---------------------------------------------------------------------------------------------
// Broken bodies

TEST(content_decoder, not_compressed_at_all) {
    const std::string message = decode_failure("gzip", "plain text, not gzip");
    EXPECT_TRUE(message.starts_with("invalid gzip body: ")) << message;
    EXPECT_NE(decode_failure("deflate", "plain text, not deflate").find("invalid deflate body: "),
              std::string::npos);
}

// Only the checksummed formats: a flipped byte in raw deflate may decode to other bytes.
TEST(content_decoder, corrupt_data_throws_whatever_the_split) {
    const std::string data = sample(200000);
    for (auto [coding, bits] : {std::pair{"gzip", gzip_bits}, std::pair{"deflate", zlib_bits}}) {
        std::string body = compress(data, bits);
        for (std::size_t at : {body.size() / 3, body.size() / 2, body.size() - 3}) {
            std::string broken = body;
            broken[at] = static_cast<char>(broken[at] ^ 0x55);
            const std::string whole = decode_failure(coding, broken);
            EXPECT_EQ(decode_failure(coding, broken, 7), whole) << coding << " " << at;
            EXPECT_EQ(decode_failure(coding, broken, 1000), whole) << coding << " " << at;
        }
    }
}

TEST(content_decoder, checksum_mismatch) {
    std::string body = compress("hello world", gzip_bits);
    body[body.size() - 8] = static_cast<char>(body[body.size() - 8] ^ 1);  // CRC32 of the trailer
    EXPECT_EQ(decode_failure("gzip", body), "invalid gzip body: incorrect data check");
}

TEST(content_decoder, failed_decoder_stays_failed_and_out_is_restored) {
    content_decoder decoder("gzip");
    std::string out = "kept";
    const std::string body = compress(sample(50000), gzip_bits);
    std::string broken = body;
    broken[broken.size() / 2] = static_cast<char>(broken[broken.size() / 2] ^ 0xff);
    EXPECT_THROW(decoder.feed(broken, out), decode_error);
    EXPECT_EQ(out, "kept");
    EXPECT_THROW(decoder.feed(body, out), decode_error);
    EXPECT_THROW(decoder.finish(), decode_error);
    EXPECT_EQ(out, "kept");
}

TEST(content_decoder, truncated_stream_fails_at_finish) {
    const std::string data = sample(100000);
    for (auto [coding, bits] : {std::pair{"gzip", gzip_bits}, std::pair{"deflate", zlib_bits},
                                std::pair{"deflate", raw_bits}}) {
        const std::string body = compress(data, bits);
        for (std::size_t cut : {std::size_t{1}, std::size_t{2}, std::size_t{10}, body.size() / 2,
                                body.size() - 1}) {
            content_decoder decoder(coding);
            std::string out;
            EXPECT_NO_THROW(decoder.feed(std::string_view(body).substr(0, cut), out));
            try {
                decoder.finish();
                ADD_FAILURE() << coding << " cut at " << cut;
            } catch (const decode_error& e) {
                EXPECT_EQ(std::string(e.what()),
                          "invalid " + std::string(coding) +
                              " body: unexpected end of the compressed stream");
            }
            EXPECT_LE(out.size(), data.size());
            EXPECT_EQ(out, data.substr(0, out.size()));  // what was decoded is right
        }
    }
}

TEST(content_decoder, truncated_second_gzip_member) {
    const std::string second = compress("world", gzip_bits);
    const std::string body = compress("hello", gzip_bits) + second.substr(0, second.size() - 4);
    EXPECT_NE(decode_failure("gzip", body).find("unexpected end"), std::string::npos);
}

TEST(content_decoder, trailing_garbage_throws) {
    EXPECT_EQ(decode_failure("deflate", compress("abc", zlib_bits) + "x"),
              "invalid deflate body: data after the end of the stream");
    EXPECT_EQ(decode_failure("deflate", compress("abc", raw_bits) + "xyz", 1),
              "invalid deflate body: data after the end of the stream");
    EXPECT_TRUE(decode_failure("gzip", compress("abc", gzip_bits) + "garbage!")
                    .starts_with("invalid gzip body: "));
}

// ---------------------------------------------------------------------------------------------
// Output limit

TEST(content_decoder, output_limit_is_inclusive) {
    const std::string data = sample(1000);
    for (auto [coding, bits] : {std::pair{"gzip", gzip_bits}, std::pair{"deflate", raw_bits}}) {
        const std::string body = compress(data, bits);
        EXPECT_EQ(decode(coding, body, 0, 1000), data);
        EXPECT_EQ(decode(coding, body, 3, 1000), data);
        EXPECT_EQ(decode_failure(coding, body, 0, 999), "decoded body exceeds 999 bytes");
        EXPECT_EQ(decode_failure(coding, body, 3, 999), "decoded body exceeds 999 bytes");
    }
    EXPECT_EQ(decode("identity", data, 0, 1000), data);
    EXPECT_EQ(decode_failure("identity", data, 0, 999), "decoded body exceeds 999 bytes");
}

TEST(content_decoder, zip_bomb_stops_at_the_limit_without_allocating_its_output) {
    const std::string zeros(1 << 20, '\0');
    const std::string bomb = compress_stream(100ull << 20, gzip_bits, [&](std::uint64_t) {
        return std::string_view(zeros);
    });
    ASSERT_LT(bomb.size(), 200u * 1024);  // 100 MiB of zeros compress to ~100 KiB
    for (std::size_t piece : {bomb.size(), std::size_t{7}}) {
        content_decoder decoder("gzip", 1 << 20);
        std::string out;
        try {
            for (std::size_t at = 0; at < bomb.size(); at += piece) {
                decoder.feed(std::string_view(bomb).substr(at, piece), out);
            }
            ADD_FAILURE() << "no decode_error";
        } catch (const decode_error& e) {
            EXPECT_EQ(std::string(e.what()), "decoded body exceeds 1 MiB");
        }
        EXPECT_LE(out.size(), std::size_t{1} << 20);
        EXPECT_LE(out.capacity(), std::size_t{3} << 20);  // never near 100 MiB
    }
}

// ---------------------------------------------------------------------------------------------
// Moves

TEST(content_decoder, moved_decoder_continues_the_stream) {
    const std::string data = sample(300000);
    const std::string body = compress(data, zlib_bits);
    const std::size_t half = body.size() / 2;
    content_decoder first("deflate");
    std::string out;
    first.feed(std::string_view(body).substr(0, 1), out);  // header byte pending
    content_decoder second(std::move(first));
    second.feed(std::string_view(body).substr(1, half - 1), out);
    content_decoder third("gzip");
    third = std::move(second);
    third.feed(std::string_view(body).substr(half), out);
    third.finish();
    EXPECT_EQ(out, data);

    std::vector<content_decoder> many;  // vector growth moves the decoders
    for (int i = 0; i < 20; ++i) many.emplace_back("gzip");
    const std::string gz = compress("moved", gzip_bits);
    std::string moved_out;
    many.front().feed(gz, moved_out);
    many.front().finish();
    EXPECT_EQ(moved_out, "moved");
}

}  // namespace
