// Private to the WebSocket code: frames (RFC 6455 §5) and permessage-deflate (RFC 7692)
// without I/O, so that the fuzzer drives exactly what a connection runs.
//
// ws_frame_reader is a push parser: read(data) looks at the unconsumed bytes and returns one
// event and how many bytes it consumed. It assembles fragmented messages, unmasks, inflates,
// checks UTF-8 and every framing rule; a violation throws ws_violation with the close code to
// send (1002 protocol, 1007 invalid payload, 1009 too big). Splitting the input anywhere gives
// the same events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct z_stream_s;

namespace corio::http::detail {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// A frame the peer got wrong; `code` is the close code that says so.
struct ws_violation : std::runtime_error {
    ws_violation(int code, const std::string& what) : std::runtime_error(what), code(code) {}
    int code;
};

/// True if `text` is well-formed UTF-8 (no overlong forms, surrogates, or code points past U+10FFFF).
bool is_utf8(std::string_view text) noexcept;

/// The negotiated permessage-deflate parameters, from one side's point of view.
struct ws_deflate_params {
    bool own_no_context_takeover = false;   // we reset our compressor after each message
    bool peer_no_context_takeover = false;  // the peer resets its own (nothing for us to do)
    int own_window_bits = 15;               // our compressor's window (9-15)
};

/// One direction of permessage-deflate.
class ws_deflater {
public:
    explicit ws_deflater(const ws_deflate_params& params);
    ~ws_deflater();
    ws_deflater(const ws_deflater&) = delete;
    /// The compressed form of one message (the trailing 00 00 ff ff removed).
    std::string compress(std::string_view message);

private:
    struct deleter {
        void operator()(z_stream_s* z) const noexcept;
    };
    std::unique_ptr<z_stream_s, deleter> z_;
    bool reset_each_message_;
};

class ws_inflater {
public:
    ws_inflater();
    ~ws_inflater();
    ws_inflater(const ws_inflater&) = delete;
    /// Inflates one message; more than `limit` bytes out throws ws_violation(1009).
    std::string decompress(std::string_view compressed, std::size_t limit);

private:
    struct deleter {
        void operator()(z_stream_s* z) const noexcept;
    };
    std::unique_ptr<z_stream_s, deleter> z_;
};

class ws_frame_reader {
public:
    enum class event : std::uint8_t { need_more, message, ping, pong, close };
    struct result {
        event what = event::need_more;
        std::size_t consumed = 0;
    };
    /// `from_client`: frames must be masked (the server's reader) or must not be (the client's).
    /// `deflate`: RSV1 marks compressed messages; without it RSV1 is a violation.
    ws_frame_reader(bool from_client, bool deflate, std::size_t max_message_size);

    result read(std::string_view data);

    /// After event::message: the message (text or binary), valid until the next read().
    bool message_is_text() const noexcept { return message_text_; }
    std::string& message() noexcept { return message_; }
    /// After event::ping / pong / close: the control frame's payload.
    const std::string& control() const noexcept { return control_; }
    /// After event::close: its code (1005 if none) and reason; throws ws_violation for an
    /// invalid code or a reason that is not UTF-8.
    std::pair<int, std::string> close_payload() const;

private:
    result take_head(std::string_view data);
    void start_frame();
    result finish_frame(std::size_t consumed);

    // Frame being read: set by take_head, payload_left counts down.
    bool in_frame_ = false;
    bool fin_ = false;
    ws_opcode opcode_{};
    std::uint32_t mask_ = 0;
    bool masked_ = false;
    std::uint64_t payload_left_ = 0;
    std::uint64_t mask_offset_ = 0;  // payload bytes unmasked so far (the key rotates with it)
    // Message being assembled (data frames); invariant: message_started_ iff a non-final data
    // frame came and its final continuation has not.
    bool message_started_ = false;
    bool message_text_ = false;
    bool message_compressed_ = false;
    std::string message_;
    std::string control_;
    const bool from_client_;
    const std::size_t max_message_size_;
    std::optional<ws_inflater> inflater_;  // iff deflate was negotiated
};

/// The head of a frame (FIN set): 2-14 bytes; `mask` is written when the client sends.
std::string ws_frame_head(ws_opcode opcode, bool compressed, std::uint64_t length, const std::uint32_t* mask);
/// XORs `bytes` with the 4-byte key, starting at key position `offset`.
void ws_apply_mask(char* bytes, std::size_t n, std::uint32_t mask, std::uint64_t offset = 0) noexcept;
/// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string ws_accept_key(std::string_view key);
/// A random Sec-WebSocket-Key (16 random bytes, base64).
std::string ws_new_key();
/// A random masking key.
std::uint32_t ws_random_mask();
/// A close frame's payload: the code (big-endian) and reason. Throws std::invalid_argument for
/// a code one may not send or a reason that is not UTF-8 or longer than 123 bytes.
std::string ws_close_payload(int code, std::string_view reason);

/// The server's answer to a client's Sec-WebSocket-Extensions offers: the response value
/// ("" declines) and the parameters it sets (for the server's side).
std::pair<std::string, ws_deflate_params> ws_accept_deflate(std::string_view offers);
/// What the client offers.
inline constexpr std::string_view ws_deflate_offer = "permessage-deflate; client_max_window_bits";
/// The client reads the server's response value; throws ws_violation if it is not an answer
/// to the offer (an unknown extension or parameter).
ws_deflate_params ws_client_deflate(std::string_view response);

}  // namespace corio::http::detail
