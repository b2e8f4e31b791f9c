// corio/http/content_decoder.hpp — streaming decoding of an HTTP Content-Encoding (zlib).
//
// A content_decoder turns the pieces of a compressed body into the decoded body, piece by piece,
// without ever holding the whole compressed body. Codings (case-insensitive, RFC 9110 §8.4.1):
//   gzip, x-gzip   gzip (RFC 1952); several concatenated members decode to their concatenation
//   deflate        the zlib format (RFC 1950) as specified, or raw deflate (RFC 1951) when the
//                  first two bytes are not a zlib header, as some servers send and browsers accept
//   identity, ""   pass-through (identity() is true: the caller may skip the decoder)
// A list with one coding besides "identity" elements ("identity, gzip") is that coding; stacked
// codings ("gzip, gzip", "deflate, gzip") and unknown ones ("br", "zstd") throw decode_error.
//
// Guarantees:
// - Splitting the input anywhere, down to one byte per feed(), yields the same output and errors.
// - The total output never exceeds max_output (zip-bomb defence): feed() throws as soon as one
//   more byte would be produced, having allocated at most about max_output bytes in `out`.
// - Strict end: finish() throws if the stream is truncated (an unfinished deflate stream or gzip
//   member). Bytes after the end of a deflate stream throw; after a gzip member they must form
//   another member (so trailing garbage throws too). An empty body (no byte fed at all) decodes to
//   an empty body: servers send "Content-Encoding: gzip" with "Content-Length: 0".
// - After a decode_error the decoder is failed: feed() and finish() throw it again.
// - feed() leaves `out` as it was on entry if it throws (strong guarantee on `out`).
//
// Thread-safety: none; one decoder per response body.
// Throws: decode_error (a corio::error); std::bad_alloc.
// Cancel safety: nothing here suspends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corio/error.hpp"

struct z_stream_s;  // zlib's z_stream; kept out of this header

namespace corio::http {

/// A body that cannot be decoded. what(): "invalid gzip body: incorrect header check",
/// "decoded body exceeds 64 MiB", "unsupported Content-Encoding \"br\"", ...
class decode_error : public corio::error {
public:
    using error::error;
};

class content_decoder {
public:
    /// A decoder for a Content-Encoding header value (see the header comment). Throws
    /// decode_error for an unknown or stacked coding.
    explicit content_decoder(std::string_view content_encoding,
                             std::uint64_t max_output = 64ull << 20);

    // Move-only (owns the zlib stream). A moved-from decoder may only be destroyed or assigned.
    content_decoder(content_decoder&&) noexcept = default;
    content_decoder& operator=(content_decoder&&) noexcept = default;
    ~content_decoder() = default;

    /// Pass-through: feed() only appends its input.
    bool identity() const noexcept { return coding_ == coding::identity; }

    /// Decodes the next piece of the body and appends the result to `out`. Throws decode_error on
    /// corrupt data, on data after the end of the stream, or when the total output would exceed
    /// max_output.
    void feed(std::string_view input, std::string& out);

    /// The body ended. Throws decode_error if the compressed stream is unfinished.
    void finish();

private:
    enum class coding : std::uint8_t { identity, gzip, deflate };
    struct stream_deleter {
        void operator()(z_stream_s* z) const noexcept;  // inflateEnd + delete
    };

    static coding parse_coding(std::string_view content_encoding);
    static std::unique_ptr<z_stream_s, stream_deleter> make_stream(int window_bits);
    std::string_view name() const noexcept;  // "gzip" or "deflate", for messages
    [[noreturn]] void fail(std::string message);
    void inflate_into(std::string_view input, std::string& out);
    void account(std::uint64_t produced);

    coding coding_;
    std::uint64_t max_output_;
    std::uint64_t total_out_ = 0;  // bytes produced so far; <= max_output_
    bool any_input_ = false;       // a byte was fed (an empty body is a valid empty body)
    // Set once inflate() reported the end of the stream (gzip: of the current member), cleared
    // when a further gzip member starts.
    bool stream_end_ = false;
    // deflate only: the first bytes, kept until there are two to tell zlib from raw deflate.
    // Empty once stream_ exists.
    std::string header_;
    // The inflate state; heap-allocated because zlib's state points back to it (a z_stream must
    // not move). Null for identity and for deflate until its first two bytes arrived.
    std::unique_ptr<z_stream_s, stream_deleter> stream_;
    std::string error_;  // non-empty once failed: the message every later call throws
};

}  // namespace corio::http
