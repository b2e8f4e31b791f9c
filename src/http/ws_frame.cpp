// ws_frame.cpp — see ws_frame.hpp.
#include "ws_frame.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "base64.hpp"
#include "corio/http/headers.hpp"

namespace corio::http::detail {

namespace {

constexpr std::string_view deflate_tail{"\x00\x00\xff\xff", 4};  // what a sync flush ends with

bool is_control(ws_opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool known_opcode(std::uint8_t op) noexcept { return op <= 2 || (op >= 8 && op <= 10); }

/// A close code an endpoint may put in a close frame (RFC 6455 §7.4; 1004-1006 and 1015 are
/// reserved for reporting, never sent).
bool sendable_close_code(int code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

void random_bytes(unsigned char* out, int n) {
    if (::RAND_bytes(out, n) != 1) throw std::runtime_error("WebSocket: the system random generator failed");
}

/// A window-bits parameter value: 8-15, or nullopt for anything else.
std::optional<int> window_bits(std::string_view value) {
    if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') return 10 + (value[1] - '0');
    if (value.size() == 1 && (value[0] == '8' || value[0] == '9')) return value[0] - '0';
    return std::nullopt;
}

struct extension_param {
    std::string_view name;
    std::optional<std::string_view> value;
};

/// "permessage-deflate; a; b=9" -> its name and parameters (values unquoted); nullopt if malformed.
std::optional<std::pair<std::string_view, std::vector<extension_param>>> parse_extension(std::string_view offer) {
    std::vector<extension_param> params;
    std::size_t semicolon = offer.find(';');
    const std::string_view name = trim_ows(offer.substr(0, semicolon));
    while (semicolon != std::string_view::npos) {
        offer.remove_prefix(semicolon + 1);
        semicolon = offer.find(';');
        const std::string_view item = trim_ows(offer.substr(0, semicolon));
        const std::size_t eq = item.find('=');
        extension_param p{trim_ows(item.substr(0, eq)), std::nullopt};
        if (eq != std::string_view::npos) {
            std::string_view v = trim_ows(item.substr(eq + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            p.value = v;
        }
        if (!is_token(p.name)) return std::nullopt;
        for (const extension_param& seen : params)
            if (iequals(seen.name, p.name)) return std::nullopt;  // a parameter given twice
        params.push_back(p);
    }
    if (!is_token(name)) return std::nullopt;
    return std::pair{name, std::move(params)};
}

/// The server's reading of one offer: the response value and its parameters, or nullopt to decline.
std::optional<std::pair<std::string, ws_deflate_params>> accept_offer(std::string_view offer) {
    const auto parsed = parse_extension(offer);
    if (!parsed || !iequals(parsed->first, "permessage-deflate")) return std::nullopt;
    std::string answer = "permessage-deflate";
    ws_deflate_params params;
    for (const extension_param& p : parsed->second) {
        if (iequals(p.name, "server_no_context_takeover") && !p.value) {
            params.own_no_context_takeover = true;
            answer += "; server_no_context_takeover";
        } else if (iequals(p.name, "client_no_context_takeover") && !p.value) {
            params.peer_no_context_takeover = true;
            answer += "; client_no_context_takeover";
        } else if (iequals(p.name, "server_max_window_bits") && p.value) {
            const auto bits = window_bits(*p.value);
            if (!bits || *bits < 9) return std::nullopt;  // zlib cannot compress with a 256-byte window
            params.own_window_bits = *bits;
            answer += "; server_max_window_bits=" + std::to_string(*bits);
        } else if (iequals(p.name, "client_max_window_bits")) {
            if (p.value && !window_bits(*p.value)) return std::nullopt;  // we inflate with any window
        } else {
            return std::nullopt;
        }
    }
    return std::pair{std::move(answer), params};
}

}  // namespace

bool is_utf8(std::string_view text) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t extra = 0;
        std::uint32_t cp = 0, min = 0;
        if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= extra) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += extra + 1;
    }
    return true;
}

// ---- permessage-deflate ----

void ws_deflater::deleter::operator()(z_stream_s* z) const noexcept {
    ::deflateEnd(z);
    delete z;
}

ws_deflater::ws_deflater(const ws_deflate_params& params)
    : z_(new z_stream_s{}), reset_each_message_(params.own_no_context_takeover) {
    if (::deflateInit2(z_.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -params.own_window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        delete z_.release();
        throw std::runtime_error("WebSocket: zlib could not start a compressor");
    }
}

ws_deflater::~ws_deflater() = default;

std::string ws_deflater::compress(std::string_view message) {
    z_stream_s& z = *z_;
    std::string out(::deflateBound(&z, message.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z.avail_in = static_cast<uInt>(message.size());
    std::size_t used = 0;
    for (;;) {
        if (used == out.size()) out.resize(out.size() * 2);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(out.size() - used);
        ::deflate(&z, Z_SYNC_FLUSH);  // cannot fail with a valid stream and room to write
        used = out.size() - z.avail_out;
        if (z.avail_out != 0) break;  // all input taken and flushed
    }
    out.resize(used);
    if (out.size() >= deflate_tail.size() && std::string_view(out).substr(out.size() - 4) == deflate_tail)
        out.resize(out.size() - 4);
    if (reset_each_message_) ::deflateReset(&z);
    return out;
}

void ws_inflater::deleter::operator()(z_stream_s* z) const noexcept {
    ::inflateEnd(z);
    delete z;
}

ws_inflater::ws_inflater() : z_(new z_stream_s{}) {
    if (::inflateInit2(z_.get(), -15) != Z_OK) {
        delete z_.release();
        throw std::runtime_error("WebSocket: zlib could not start a decompressor");
    }
}

ws_inflater::~ws_inflater() = default;

std::string ws_inflater::decompress(std::string_view compressed, std::size_t limit) {
    z_stream_s& z = *z_;
    std::string out;
    std::size_t used = 0;
    const auto feed = [&](std::string_view input) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        z.avail_in = static_cast<uInt>(input.size());
        for (;;) {
            if (out.size() - used < 16 * 1024) out.resize(std::max<std::size_t>(out.size() * 2, used + 16 * 1024));
            z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z.avail_out = static_cast<uInt>(out.size() - used);
            const int rc = ::inflate(&z, Z_SYNC_FLUSH);
            used = out.size() - z.avail_out;
            if (used > limit) throw ws_violation(1009, "a compressed message inflates past the size limit");
            if (rc == Z_STREAM_END) {
                ::inflateReset(&z);  // the sender ended its stream: the next message starts a new one
                if (z.avail_in == 0) return;
            } else if (rc == Z_BUF_ERROR || (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)) {
                return;  // all input used
            } else if (rc != Z_OK) {
                ::inflateReset(&z);
                throw ws_violation(1007, "a compressed message is not valid deflate data");
            }
        }
    };
    feed(compressed);
    feed(deflate_tail);
    out.resize(used);
    return out;
}

// ---- frames ----

ws_frame_reader::ws_frame_reader(bool from_client, bool deflate, std::size_t max_message_size)
    : from_client_(from_client), max_message_size_(max_message_size) {
    if (deflate) inflater_.emplace();
}

ws_frame_reader::result ws_frame_reader::read(std::string_view data) {
    std::size_t pos = 0;
    for (;;) {
        if (!in_frame_) {
            const result head = take_head(data.substr(pos));
            if (head.consumed == 0) return {event::need_more, pos};
            pos += head.consumed;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, data.size() - pos));
        std::string& into = is_control(opcode_) ? control_ : message_;
        const std::size_t start = into.size();
        into.append(data.substr(pos, n));
        if (masked_) ws_apply_mask(into.data() + start, n, mask_, mask_offset_);
        mask_offset_ += n;
        payload_left_ -= n;
        pos += n;
        if (payload_left_ > 0) return {event::need_more, pos};
        in_frame_ = false;
        const result r = finish_frame(pos);
        if (r.what != event::need_more) return r;
    }
}

ws_frame_reader::result ws_frame_reader::take_head(std::string_view data) {
    if (data.size() < 2) return {};
    const auto b0 = static_cast<unsigned char>(data[0]), b1 = static_cast<unsigned char>(data[1]);
    std::size_t size = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126) size += 2;
    if (length == 127) size += 8;
    const bool masked = (b1 & 0x80) != 0;
    if (masked) size += 4;
    if (data.size() < size) return {};
    if (length >= 126) {
        length = 0;
        const std::size_t bytes = (b1 & 0x7f) == 126 ? 2 : 8;
        for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | static_cast<unsigned char>(data[2 + i]);
        if (length >> 63) throw ws_violation(1002, "a frame length with its most significant bit set");
    }
    fin_ = (b0 & 0x80) != 0;
    const bool rsv1 = (b0 & 0x40) != 0;
    if ((b0 & 0x30) != 0) throw ws_violation(1002, "a frame with RSV2 or RSV3 set (no extension defines them)");
    if (!known_opcode(b0 & 0x0f)) throw ws_violation(1002, "a frame with the reserved opcode " + std::to_string(b0 & 0x0f));
    opcode_ = static_cast<ws_opcode>(b0 & 0x0f);
    if (masked != from_client_)
        throw ws_violation(1002, from_client_ ? "an unmasked frame from the client" : "a masked frame from the server");
    masked_ = masked;
    if (masked) std::memcpy(&mask_, data.data() + size - 4, 4);
    payload_left_ = length;
    mask_offset_ = 0;
    if (is_control(opcode_)) {
        if (!fin_) throw ws_violation(1002, "a fragmented control frame");
        if (length > 125) throw ws_violation(1002, "a control frame longer than 125 bytes");
        if (rsv1) throw ws_violation(1002, "a control frame with RSV1 set");
        control_.clear();
    } else {
        start_frame();
        if (rsv1 && (opcode_ == ws_opcode::continuation || !inflater_))
            throw ws_violation(1002, opcode_ == ws_opcode::continuation ? "a continuation frame with RSV1 set"
                                                                       : "a compressed frame without permessage-deflate");
        if (rsv1) message_compressed_ = true;
        if (message_.size() + length > max_message_size_)
            throw ws_violation(1009, "a message larger than the limit of " + std::to_string(max_message_size_) + " bytes");
    }
    in_frame_ = true;
    return {event::need_more, size};
}

void ws_frame_reader::start_frame() {
    if (opcode_ == ws_opcode::continuation) {
        if (!message_started_) throw ws_violation(1002, "a continuation frame with no message to continue");
        return;
    }
    if (message_started_) throw ws_violation(1002, "a new message before the fragmented one ended");
    message_started_ = true;
    message_text_ = opcode_ == ws_opcode::text;
    message_compressed_ = false;
    message_.clear();
}

ws_frame_reader::result ws_frame_reader::finish_frame(std::size_t consumed) {
    switch (opcode_) {
        case ws_opcode::ping: return {event::ping, consumed};
        case ws_opcode::pong: return {event::pong, consumed};
        case ws_opcode::close: return {event::close, consumed};
        default: break;
    }
    if (!fin_) return {event::need_more, consumed};  // more fragments follow: keep reading
    message_started_ = false;
    if (message_compressed_) message_ = inflater_->decompress(message_, max_message_size_);
    if (message_text_ && !is_utf8(message_)) throw ws_violation(1007, "a text message that is not UTF-8");
    return {event::message, consumed};
}

std::pair<int, std::string> ws_frame_reader::close_payload() const {
    if (control_.empty()) return {1005, {}};
    if (control_.size() == 1) throw ws_violation(1002, "a close frame with a 1-byte payload");
    const int code = (static_cast<unsigned char>(control_[0]) << 8) | static_cast<unsigned char>(control_[1]);
    if (!sendable_close_code(code)) throw ws_violation(1002, "a close frame with the invalid code " + std::to_string(code));
    std::string reason = control_.substr(2);
    if (!is_utf8(reason)) throw ws_violation(1007, "a close frame whose reason is not UTF-8");
    return {code, std::move(reason)};
}

std::string ws_frame_head(ws_opcode opcode, bool compressed, std::uint64_t length, const std::uint32_t* mask) {
    std::string head;
    head.reserve(14);
    head.push_back(static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<std::uint8_t>(opcode)));
    const char mask_bit = mask != nullptr ? '\x80' : '\0';
    if (length < 126) {
        head.push_back(static_cast<char>(mask_bit | static_cast<char>(length)));
    } else {
        const int bytes = length <= 0xffff ? 2 : 8;
        head.push_back(static_cast<char>(mask_bit | (bytes == 2 ? 126 : 127)));
        for (int i = bytes - 1; i >= 0; --i) head.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    }
    if (mask != nullptr) head.append(reinterpret_cast<const char*>(mask), 4);
    return head;
}

void ws_apply_mask(char* bytes, std::size_t n, std::uint32_t mask, std::uint64_t offset) noexcept {
    unsigned char key[4];
    std::memcpy(key, &mask, 4);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(bytes[i] ^ key[(offset + i) & 3]);
}

std::string ws_accept_key(std::string_view key) {
    const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (::EVP_Digest(input.data(), input.size(), digest, &size, ::EVP_sha1(), nullptr) != 1)
        throw std::runtime_error("WebSocket: SHA-1 failed");
    return base64(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string ws_new_key() {
    unsigned char bytes[16];
    random_bytes(bytes, sizeof bytes);
    return base64(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::uint32_t ws_random_mask() {
    std::uint32_t mask = 0;
    random_bytes(reinterpret_cast<unsigned char*>(&mask), 4);
    return mask;
}

std::string ws_close_payload(int code, std::string_view reason) {
    if (!sendable_close_code(code))
        throw std::invalid_argument("websocket::close: " + std::to_string(code) + " is not a close code one may send");
    if (reason.size() > 123 || !is_utf8(reason))
        throw std::invalid_argument("websocket::close: the reason must be UTF-8 of at most 123 bytes");
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    payload.append(reason);
    return payload;
}

std::pair<std::string, ws_deflate_params> ws_accept_deflate(std::string_view offers) {
    for (const std::string_view offer : list_elements(offers))
        if (auto accepted = accept_offer(offer)) return std::move(*accepted);
    return {};
}

ws_deflate_params ws_client_deflate(std::string_view response) {
    const auto parsed = parse_extension(trim_ows(response));
    if (!parsed || !iequals(parsed->first, "permessage-deflate"))
        throw ws_violation(1002, "the server accepted an extension that was not offered: \"" + std::string(response) + "\"");
    ws_deflate_params params;
    for (const extension_param& p : parsed->second) {
        if (iequals(p.name, "server_no_context_takeover") && !p.value) {
            params.peer_no_context_takeover = true;
        } else if (iequals(p.name, "client_no_context_takeover") && !p.value) {
            params.own_no_context_takeover = true;
        } else if (iequals(p.name, "server_max_window_bits") && p.value && window_bits(*p.value)) {
        } else if (iequals(p.name, "client_max_window_bits") && p.value && window_bits(*p.value).value_or(0) >= 9) {
            params.own_window_bits = *window_bits(*p.value);
        } else {
            throw ws_violation(1002, "the server's permessage-deflate parameter '" + std::string(p.name) + "' is not one we can use");
        }
    }
    return params;
}

}  // namespace corio::http::detail
