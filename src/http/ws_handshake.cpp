// ws_handshake.cpp — the server's side of the WebSocket opening handshake (RFC 6455 §4.2) and
// the session that follows it.
#include "ws_handshake.hpp"

#include "corio/log.hpp"
#include "corio/shield.hpp"

namespace corio::http::detail {

namespace {

bool has_token(const http::headers& fields, std::string_view name, std::string_view token) {
    for (const std::string_view value : fields.get_all(name))
        for (const std::string_view element : list_elements(value))
            if (iequals(element, token)) return true;
    return false;
}

/// A Sec-WebSocket-Key is 16 bytes in base64: 22 characters and "==".
bool valid_key(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") return false;
    return std::all_of(key.begin(), key.begin() + 22, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    });
}

response upgrade_required(std::string why) {
    response r(426, std::move(why) + "\n");
    r.headers().set("Upgrade", "websocket");
    r.headers().set("Sec-WebSocket-Version", "13");
    return r;
}

std::string joined(const http::headers& fields, std::string_view name) {
    std::string all;
    for (const std::string_view value : fields.get_all(name)) all.append(all.empty() ? "" : ", ").append(value);
    return all;
}

/// The first subprotocol the client offers that the route speaks, or "".
std::string choose_protocol(const http::headers& fields, const std::vector<std::string>& ours) {
    for (const std::string_view value : fields.get_all("Sec-WebSocket-Protocol"))
        for (const std::string_view offered : list_elements(value))
            if (std::find(ours.begin(), ours.end(), offered) != ours.end()) return std::string(offered);
    return {};
}

response answer(const request& req, const std::shared_ptr<const ws_route>& route) {
    const http::headers& fields = req.headers();
    if (req.method() != "GET" || req.version_minor() < 1 || !has_token(fields, "Upgrade", "websocket") ||
        !has_token(fields, "Connection", "upgrade"))
        return upgrade_required("this endpoint speaks WebSocket: send GET with HTTP/1.1, Upgrade: websocket and Connection: Upgrade");
    if (fields.get("Sec-WebSocket-Version") != std::optional<std::string_view>("13"))
        return upgrade_required("unsupported Sec-WebSocket-Version (13 is spoken)");
    const auto key = fields.get("Sec-WebSocket-Key");
    if (!key || !valid_key(*key)) return response(400, "a WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64\n");
    auto upgrade = std::make_shared<ws_upgrade>();
    upgrade->route = route;
    response r(101, {}, {});
    r.headers().erase("Content-Type");
    r.headers().set("Upgrade", "websocket");
    r.headers().set("Sec-WebSocket-Accept", ws_accept_key(*key));
    if (route->options.compression) {
        auto [extension, params] = ws_accept_deflate(joined(fields, "Sec-WebSocket-Extensions"));
        if (!extension.empty()) {
            r.headers().set("Sec-WebSocket-Extensions", std::move(extension));
            upgrade->handshake.deflate = params;
        }
    }
    upgrade->handshake.protocol = choose_protocol(fields, route->options.protocols);
    if (!upgrade->handshake.protocol.empty()) r.headers().set("Sec-WebSocket-Protocol", upgrade->handshake.protocol);
    ws_upgrade::attach(r, std::move(upgrade));
    return r;
}

task<response> answer_task(request& req, std::shared_ptr<const ws_route> route) { co_return answer(req, route); }

}  // namespace

handler websocket_route(websocket_handler h, websocket_options options) {
    if (!h) throw std::invalid_argument("server::websocket: the handler is empty");
    auto route = std::make_shared<const ws_route>(ws_route{std::move(h), std::move(options)});
    return [route](request& req) { return answer_task(req, route); };
}

task<> run_websocket_session(const ws_upgrade& upgrade, request& req, any_stream stream, std::string_view leftover) {
    auto state = std::make_shared<websocket_state>(std::move(stream), leftover, false, upgrade.route->options,
                                                   "WebSocket " + req.path() + " from " + req.peer().to_string(), upgrade.handshake);
    websocket_state::start(state);
    websocket ws(state);
    int code = ws_close::normal;
    std::exception_ptr cancelled;
    try {
        co_await upgrade.route->handler(req, ws);
    } catch (const cancelled_error&) {
        code = ws_close::going_away;
        cancelled = std::current_exception();
    } catch (const websocket_error&) {  // the connection failed: the handler only saw it first
    } catch (...) {
        code = ws_close::internal_error;
        log_error("http::server: WebSocket " + req.path() + ": the handler failed: " + describe(std::current_exception()));
    }
    co_await uncancellable(ws.close(code));  // bounded by close_timeout
    if (cancelled) std::rethrow_exception(cancelled);
}

}  // namespace corio::http::detail
