// WebSockets with corio: an echo endpoint and a broadcast room on the server, a client that
// talks to both, and a heartbeat that keeps a quiet connection honest.
#include <corio/corio.hpp>

#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace http = corio::http;

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

void add_echo(http::server& app) {
    // [snippet server]
    app.websocket("/echo", [](http::request&, http::websocket& ws) -> corio::task<> {
        while (auto message = co_await ws.receive()) {  // empty once the peer closed
            if (message->is_text()) co_await ws.send_text("echo: " + std::string(message->text()));
        }
    });
    // [end snippet]
}

using room = std::set<http::websocket*>;  // the members' websockets, while their handlers run

/// Sends `text` to everyone still in the room. A member may leave while we wait on a send: the
/// set is copied, and each member is looked up again just before its send (a send keeps what it
/// needs alive once started). One member's broken connection does not stop the others'.
corio::task<> tell_everyone(std::shared_ptr<room> members, std::string text) {
    const std::vector<http::websocket*> everyone(members->begin(), members->end());
    for (http::websocket* member : everyone) {
        if (!members->contains(member)) continue;
        try {
            co_await member->send_text(text);
        } catch (const http::websocket_error&) {  // that member is leaving: its handler removes it
        }
    }
}

/// Everyone in the room gets what anyone says. A member's websocket is used by its own handler
/// (receiving) and by the others' (sending): sends from several tasks go out whole, in turn.
void add_room(http::server& app) {
    auto members = std::make_shared<room>();
    app.websocket("/room", [members](http::request&, http::websocket& ws) -> corio::task<> {
        members->insert(&ws);
        const struct leave_on_exit {  // however the handler ends: cancelled at shutdown too
            room& members;
            http::websocket* ws;
            ~leave_on_exit() { members.erase(ws); }
        } leave{*members, &ws};
        try {
            auto incoming = ws.messages();
            while (auto message = co_await incoming.next()) co_await tell_everyone(members, std::string(message->text()));
        } catch (const http::websocket_error&) {  // this member vanished
        }
    });
}

corio::task<> talk_to_echo(const std::string& base) {
    http::client_session session;
    const std::string url = base + "/echo";
    // [snippet client]
    http::websocket ws = co_await session.ws_connect(url);
    co_await ws.send_text("hello");
    auto reply = co_await ws.receive();
    co_await ws.close();
    // [end snippet]
    expect(reply && reply->text() == "echo: hello", "the echo endpoint answered");
    expect(ws.close_code() == http::ws_close::normal, "closed with 1000 after the handshake");
}

corio::task<> talk_in_room(const std::string& base) {
    http::client_session session;
    const http::websocket_options quick_heartbeat{.heartbeat = 50ms, .pong_timeout = 1s};
    http::websocket ann = co_await session.ws_connect(base + "/room", quick_heartbeat);
    http::websocket bob = co_await session.ws_connect(base + "/room");
    co_await corio::sleep(200ms);  // quiet: ann's side pings, the server answers, nothing is cut
    co_await ann.send_text("hi all");
    auto heard = co_await bob.receive();
    expect(heard && heard->text() == "hi all", "bob heard ann through the room");
    auto own = co_await ann.receive();
    expect(own && own->text() == "hi all", "ann heard herself");
    co_await ann.close();
    co_await bob.close(http::ws_close::going_away, "bye");
}

int main() {
    http::server app;
    add_echo(app);
    add_room(app);
    try {
        corio::run(corio::invoke([&app]() -> corio::task<> {
            const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
            const std::string base = "ws://" + where.to_string();
            co_await talk_to_echo(base);
            co_await talk_in_room(base);
            app.stop(1s);
            co_await app.wait_closed();
        }));
    } catch (const std::exception& e) {
        std::printf("failed: %s\n", e.what());
        return 1;
    }
    return 0;
}
