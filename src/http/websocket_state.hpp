// Private to the HTTP code: the shared state behind an http::websocket, made by the server
// after its 101 answer and by client_session::ws_connect after the server's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connection_pool.hpp"
#include "corio/http/websocket.hpp"
#include "corio/mutex.hpp"
#include "corio/queue.hpp"
#include "corio/spawn.hpp"
#include "read_buffer.hpp"
#include "ws_frame.hpp"

namespace corio::http::detail {

/// What the handshake settled.
struct ws_handshake_result {
    std::string protocol;                     // the agreed subprotocol, or ""
    std::optional<ws_deflate_params> deflate;  // set iff permessage-deflate was negotiated
};

/// Owned by the websocket handle and by its reading task (which keeps it alive until it ends).
class websocket_state {
public:
    /// `leftover`: bytes that arrived after the handshake's head (the first frames).
    websocket_state(any_stream stream, std::string_view leftover, bool is_client, websocket_options options,
                    std::string description, ws_handshake_result handshake);
    websocket_state(const websocket_state&) = delete;

    /// Starts the reading task; call once, right after construction.
    static void start(const std::shared_ptr<websocket_state>& self);

    task<std::optional<ws_message>> receive();
    task<> send(ws_opcode opcode, std::string_view payload);
    task<> close(int code, std::string_view reason);
    /// The handle went away: stop reading and drop the connection.
    void abandon() noexcept;
    /// The close handshake is done or the connection failed: nothing more will be read.
    bool finished() const noexcept { return failed_ || (reading_ && reading_.done()); }

    std::optional<int> close_code;  // set when the handshake completed or the connection failed
    std::string close_reason;
    const std::string protocol;
    const bool compressed;

private:
    static task<> read_loop(std::shared_ptr<websocket_state> self);
    task<> read_frames();
    task<> fill();
    task<> write_frame(ws_opcode opcode, std::string_view payload);
    /// The connection failed: record why (first failure wins), release receive(), drop the stream.
    void fail(int code, const std::string& why) noexcept;
    task<> finish_after_handshake();
    /// Reads and drops until the peer closes (at most close_timeout).
    task<> drain_until_end();
    websocket_error failure() const;

    any_stream stream_;
    read_buffer buffer_;
    const bool is_client_;
    const websocket_options options_;
    const std::string description_;  // "WebSocket ws://host/path" or "WebSocket /path from 1.2.3.4:5"
    ws_frame_reader reader_;
    std::optional<ws_deflater> deflater_;  // iff permessage-deflate
    corio::mutex write_mutex_;             // one frame at a time on the wire
    corio::queue<ws_message> incoming_;    // closed at the close handshake, a failure, or close()
    join_handle<void> reading_;  // the reading task; dropped by abandon() (the task holds this state)
    // Invariants: close_sent_ once our close frame went out (nothing else may follow it);
    // failed_ once the connection is unusable (close_code says why); receiving_ while a
    // receive() waits (one at a time).
    bool close_sent_ = false;
    bool close_called_ = false;
    bool failed_ = false;
    bool receiving_ = false;
    bool ping_outstanding_ = false;  // a heartbeat ping went out and nothing came back yet
};

}  // namespace corio::http::detail
