// Streaming gzip/deflate decoding with zlib. See include/corio/http/content_decoder.hpp.
#include <corio/http/content_decoder.hpp>

#include <zlib.h>

#include <algorithm>
#include <new>

#include "corio/http/headers.hpp"

namespace corio::http {

namespace {

constexpr std::size_t min_room = 1024;          // smallest output window of one inflate() call
constexpr std::size_t max_room = 1024 * 1024;   // largest one
constexpr std::size_t max_slice = 1u << 30;     // input per inflate_into(): fits zlib's uInt

/// "64 MiB", "3 KiB" or "1000 bytes".
std::string format_size(std::uint64_t bytes) {
    if (bytes != 0 && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes != 0 && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

/// RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7 (window <= 32K), and FCHECK makes the 16-bit
/// big-endian header a multiple of 31.
bool is_zlib_header(unsigned char cmf, unsigned char flg) noexcept {
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

Bytef* bytes(char* p) noexcept { return reinterpret_cast<Bytef*>(p); }

}  // namespace

void content_decoder::stream_deleter::operator()(z_stream_s* z) const noexcept {
    inflateEnd(z);
    delete z;
}

content_decoder::coding content_decoder::parse_coding(std::string_view content_encoding) {
    coding result = coding::identity;
    std::string_view rest = content_encoding;
    while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view element = trim_ows(rest.substr(0, comma));
        if (!element.empty() && !iequals(element, "identity")) {
            if (result != coding::identity) {
                throw decode_error("stacked Content-Encoding \"" + std::string(content_encoding) +
                                   "\" is not supported");
            }
            if (iequals(element, "gzip") || iequals(element, "x-gzip")) {
                result = coding::gzip;
            } else if (iequals(element, "deflate")) {
                result = coding::deflate;
            } else {
                throw decode_error("unsupported Content-Encoding \"" + std::string(element) + "\"");
            }
        }
        if (comma == std::string_view::npos) return result;
        rest.remove_prefix(comma + 1);
    }
}

content_decoder::content_decoder(std::string_view content_encoding, std::uint64_t max_output)
    : coding_(parse_coding(content_encoding)), max_output_(max_output) {
    if (coding_ == coding::gzip) {
        stream_ = make_stream(16 + MAX_WBITS);  // +16: gzip wrapper only
    }
}

std::unique_ptr<z_stream_s, content_decoder::stream_deleter> content_decoder::make_stream(
    int window_bits) {
    auto z = std::make_unique<z_stream_s>();  // value-initialised: zalloc, zfree, opaque null
    const int rc = inflateInit2(z.get(), window_bits);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK) throw decode_error(std::string("zlib initialisation failed: ") + zError(rc));
    return std::unique_ptr<z_stream_s, stream_deleter>(z.release());
}

std::string_view content_decoder::name() const noexcept {
    return coding_ == coding::gzip ? "gzip" : "deflate";
}

void content_decoder::fail(std::string message) {
    error_ = std::move(message);
    throw decode_error(error_);
}

void content_decoder::account(std::uint64_t produced) {
    total_out_ += produced;
    if (total_out_ > max_output_) fail("decoded body exceeds " + format_size(max_output_));
}

void content_decoder::feed(std::string_view input, std::string& out) {
    if (!error_.empty()) throw decode_error(error_);
    if (input.empty()) return;
    any_input_ = true;
    const std::size_t original = out.size();
    try {
        if (identity()) {
            account(input.size());
            out.append(input);
            return;
        }
        if (!stream_) {  // deflate: wait for two bytes to tell zlib from raw deflate
            const std::size_t take = std::min(2 - header_.size(), input.size());
            header_.append(input.substr(0, take));
            input.remove_prefix(take);
            if (header_.size() < 2) return;
            const auto cmf = static_cast<unsigned char>(header_[0]);
            const auto flg = static_cast<unsigned char>(header_[1]);
            stream_ = make_stream(is_zlib_header(cmf, flg) ? MAX_WBITS : -MAX_WBITS);
            const std::string header = std::move(header_);
            header_.clear();
            inflate_into(header, out);
        }
        for (std::size_t at = 0; at < input.size(); at += max_slice) {
            inflate_into(input.substr(at, max_slice), out);
        }
    } catch (...) {
        out.resize(original);
        // The stream may have consumed input whose output was just dropped: no way back.
        if (error_.empty()) error_ = "content decoder unusable after an earlier failure";
        throw;
    }
}

void content_decoder::inflate_into(std::string_view input, std::string& out) {
    z_stream_s& z = *stream_;
    z.next_in = bytes(const_cast<char*>(input.data()));  // zlib does not write through next_in
    z.avail_in = static_cast<uInt>(input.size());
    std::size_t room = std::clamp(input.size() * 4, min_room, max_room);
    while (z.avail_in != 0 || !stream_end_) {
        if (stream_end_) {  // more input after the end of the stream
            if (coding_ != coding::gzip) {
                fail("invalid deflate body: data after the end of the stream");
            }
            inflateReset(&z);  // the next gzip member
            stream_end_ = false;
        }
        // One byte beyond the budget is enough to prove the limit is exceeded.
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(room, max_output_ - total_out_ + 1));
        const std::size_t old = out.size();
        out.resize(old + n);
        z.next_out = bytes(out.data() + old);
        z.avail_out = static_cast<uInt>(n);
        const int rc = inflate(&z, Z_NO_FLUSH);
        const std::size_t produced = n - z.avail_out;
        out.resize(old + produced);
        account(produced);
        if (rc == Z_STREAM_END) {
            stream_end_ = true;
        } else if (rc == Z_MEM_ERROR) {
            throw std::bad_alloc();
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            fail("invalid " + std::string(name()) +
                 " body: " + (z.msg != nullptr ? z.msg : zError(rc)));
        } else if (z.avail_out != 0) {
            return;  // inflate() stops with room left only once it has used all the input
        }
        room = std::min(room * 2, max_room);
    }
}

void content_decoder::finish() {
    if (!error_.empty()) throw decode_error(error_);
    if (identity() || !any_input_ || stream_end_) return;
    fail("invalid " + std::string(name()) + " body: unexpected end of the compressed stream");
}

}  // namespace corio::http
