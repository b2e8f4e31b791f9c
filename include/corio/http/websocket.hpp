// corio/http/websocket.hpp — http::websocket: a WebSocket connection (RFC 6455), client or server.
//
// snippet: examples/http_websocket.cpp#server
//   app.websocket("/echo", [](http::request&, http::websocket& ws) -> corio::task<> {
//       while (auto message = co_await ws.receive()) {  // empty once the peer closed
//           if (message->is_text()) co_await ws.send_text("echo: " + std::string(message->text()));
//       }
//   });
// snippet: examples/http_websocket.cpp#client
//   http::websocket ws = co_await session.ws_connect(url);
//   co_await ws.send_text("hello");
//   auto reply = co_await ws.receive();
//   co_await ws.close();
//
// A websocket reads in a task of its own from the moment it is open: it answers pings, runs the
// heartbeat and the close handshake whether or not anyone is in receive(), and queues up to
// options.max_queue whole messages for receive() (then it stops reading: backpressure to the
// peer). Messages may arrive in fragments; receive() always gives whole ones. Text is checked to
// be UTF-8. permessage-deflate (RFC 7692) is offered by clients and accepted by servers unless
// options.compression is false; both sides keep their compression context across messages
// unless the peer asks otherwise.
//
// Every wait is bounded: a peer silent for options.heartbeat gets a ping, and one that does not
// answer (with any frame) within pong_timeout is cut (websocket_error, code 1011); each write makes
// progress within write_timeout; close() waits at most close_timeout for the peer's close frame.
// heartbeat = 0 turns pings off (a silent peer is then waited for without limit: your choice).
//
// Errors: receive() returns empty after a close handshake (close_code() tells which) and throws
// websocket_error when the connection failed: the peer broke the protocol (the close frame we sent
// says why: 1002 protocol, 1007 invalid UTF-8, 1009 too big), closed without a close frame (1006),
// or stopped answering (1011). Sending after close() or after a failure throws websocket_error.
// Messages name the peer and the URL or path ("WebSocket ws://127.0.0.1:8080/ws: ...").
//
// Cancel safety: receive() — no message is lost (a cancelled receive took nothing). send_text /
// send_binary / ping — cancelled while waiting for an earlier send, nothing was sent; cancelled
// mid-frame, the connection is aborted (half a frame cannot be taken back) and later calls throw.
// close() — cancelled while waiting for the peer's close frame, the connection is aborted.
// Destroying an open websocket aborts its connection (the peer sees 1006): close() it first.
// Thread-safety: one loop; one receive() at a time (a second concurrent one throws
// std::logic_error); sends may come from several tasks (they go out whole, one after another).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/error.hpp"
#include "corio/http/headers.hpp"
#include "corio/task.hpp"

namespace corio::http {

namespace detail {
class websocket_state;
}

/// How a WebSocket behaves; every wait has a finite default.
struct websocket_options {
    std::size_t max_message_size = 4u << 20;  ///< a bigger message (after inflating) closes with 1009
    std::size_t max_queue = 16;               ///< whole messages read ahead of receive()
    std::chrono::nanoseconds heartbeat = std::chrono::seconds(20);     ///< silent this long: send a ping (0: never)
    std::chrono::nanoseconds pong_timeout = std::chrono::seconds(20);  ///< then nothing back for this long: 1011
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(5);  ///< close(): wait for the peer's close frame
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(30); ///< a send that makes no progress
    bool compression = true;               ///< offer / accept permessage-deflate
    std::vector<std::string> protocols{};  ///< subprotocols: the client offers them in order, the server picks the first it shares
    http::headers headers{};               ///< client: extra handshake headers (server: use the response of your route)
};

/// Close codes (RFC 6455 §7.4.1).
namespace ws_close {
inline constexpr int normal = 1000;
inline constexpr int going_away = 1001;
inline constexpr int protocol_error = 1002;
inline constexpr int unsupported_data = 1003;
inline constexpr int no_status = 1005;  ///< received: the close frame had no code (never sent)
inline constexpr int abnormal = 1006;   ///< the connection ended without a close frame (never sent)
inline constexpr int invalid_payload = 1007;
inline constexpr int policy_violation = 1008;
inline constexpr int message_too_big = 1009;
inline constexpr int internal_error = 1011;
}  // namespace ws_close

/// The WebSocket failed (see the header comment); code() is the close code that describes it.
class websocket_error : public connection_error {
public:
    websocket_error(int code, const std::string& message) : connection_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// ws_connect(): the server did not switch protocols; status() is its answer (0 if it answered
/// 101 with a wrong Sec-WebSocket-Accept, extension or subprotocol).
class websocket_handshake_error : public websocket_error {
public:
    websocket_handshake_error(int status, const std::string& message)
        : websocket_error(ws_close::abnormal, message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

/// One whole message.
class ws_message {
public:
    ws_message(bool text, std::string payload) noexcept : text_(text), payload_(std::move(payload)) {}

    bool is_text() const noexcept { return text_; }
    bool is_binary() const noexcept { return !text_; }
    /// A text message's UTF-8 text. Throws std::logic_error for a binary message.
    std::string_view text() const;
    /// The payload bytes, of either kind.
    std::span<const std::byte> data() const noexcept {
        return std::as_bytes(std::span<const char>(payload_.data(), payload_.size()));
    }
    std::size_t size() const noexcept { return payload_.size(); }
    /// Moves the payload out (text or bytes).
    std::string take_payload() && noexcept { return std::move(payload_); }

private:
    bool text_;
    std::string payload_;
};

class websocket {
public:
    websocket(websocket&&) noexcept;
    websocket& operator=(websocket&&) noexcept;
    ~websocket();

    /// The next whole message; empty once the close handshake is done (see close_code()).
    /// Throws websocket_error if the connection failed.
    task<std::optional<ws_message>> receive();
    /// Every message until the close (async_generator; throws as receive() does).
    async_generator<ws_message> messages();
    /// Sends a text message. Throws std::invalid_argument if `text` is not UTF-8.
    task<> send_text(std::string_view text);
    /// Sends a binary message.
    task<> send_binary(std::span<const std::byte> bytes);
    task<> send_binary(std::string_view bytes);
    /// Sends a ping (payload at most 125 bytes); its pong is not waited for.
    task<> ping(std::string_view payload = {});
    /// The close handshake: sends a close frame with `code` (1000-1003, 1007-1014, 3000-4999)
    /// and `reason` (UTF-8, at most 123 bytes), waits up to close_timeout for the peer's, then
    /// closes the connection. Messages that arrive meanwhile are dropped. Idempotent.
    task<> close(int code = ws_close::normal, std::string_view reason = {});

    /// The close code: the peer's (or 1005 without one) after a handshake the peer started or
    /// answered; the failure's code after one; empty while open.
    std::optional<int> close_code() const noexcept;
    const std::string& close_reason() const noexcept;
    /// True once the close handshake is done or the connection failed.
    bool closed() const noexcept;
    /// The subprotocol both sides agreed on ("" if none).
    const std::string& protocol() const noexcept;
    /// True if permessage-deflate was negotiated.
    bool compressed() const noexcept;

    explicit websocket(std::shared_ptr<detail::websocket_state> state) noexcept;

private:
    std::shared_ptr<detail::websocket_state> state_;  // shared with the reading task; null once moved from
};

}  // namespace corio::http
