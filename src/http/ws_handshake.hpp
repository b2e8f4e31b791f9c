// Private to the HTTP server: a WebSocket route's 101 answer carries the session to run once
// the answer is on the wire.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "corio/http/server.hpp"
#include "websocket_state.hpp"

namespace corio::http::detail {

/// A WebSocket route: its handler and options, shared by every upgrade it answers.
struct ws_route {
    websocket_handler handler;
    websocket_options options;
};

struct ws_upgrade {
    std::shared_ptr<const ws_route> route;
    ws_handshake_result handshake;

    /// Marks `answer` (a 101) as switching to this session.
    static void attach(response& answer, std::shared_ptr<const ws_upgrade> upgrade) { answer.upgrade_ = std::move(upgrade); }
};

/// After the 101 went out: runs the route's handler with a websocket over `stream` (whose next
/// bytes, `leftover`, were already read), then closes it (1000, 1011 if the handler threw, 1001
/// if it was cancelled: the server is shutting down). Cancellation propagates after the close.
task<> run_websocket_session(const ws_upgrade& upgrade, request& req, any_stream stream, std::string_view leftover);

}  // namespace corio::http::detail
