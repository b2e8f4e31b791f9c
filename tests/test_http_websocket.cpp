// http::websocket (server routes and client_session::ws_connect) on real sockets: corio against
// itself, against hand-made frames that break the rules, and against Debian's python3-websockets
// as the independent client and server.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>
#include <corio/http/websocket.hpp>

#include "../src/http/ws_frame.hpp"
#include "serve_app.hpp"
#include "tls_test_pki.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::server;
using corio::http::websocket;
using corio::http::websocket_error;
using corio::http::websocket_options;
using corio::http::ws_message;
using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;
namespace ws_close = corio::http::ws_close;
namespace detail = corio::http::detail;

namespace {

const std::string debian_python = "/usr/bin/python3";  // python3-websockets is Debian's package
const std::string peer_script = std::string(CORIO_TESTS_DIR) + "/support/ws_peer.py";

bool python_websockets_installed() { return std::system((debian_python + " -c 'import websockets' 2>/dev/null").c_str()) == 0; }

std::string ws_url(const server& app, const std::string& path) { return "ws://" + app.local_endpoint()->to_string() + path; }

corio::task<> echo(corio::http::request&, websocket& ws) {
    while (auto message = co_await ws.receive()) {
        if (message->is_text())
            co_await ws.send_text(message->text());
        else
            co_await ws.send_binary(message->data());
    }
}

/// The handler's view of how its websocket ended: the error's close code, or the close code.
struct ending {
    int code = 0;
    bool done = false;
};

void add_echo(server& app) { app.websocket("/echo", echo); }

// ---- hand-made frames, for what no well-behaved peer sends ----

/// A client frame: FIN and `opcode` in the first byte (or `first` itself), masked unless told.
std::string client_frame(std::uint8_t first, std::string_view payload, bool masked = true) {
    std::string frame{static_cast<char>(first)};
    frame.push_back(static_cast<char>((masked ? 0x80 : 0) | payload.size()));  // payloads < 126 here
    const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
    if (masked) frame.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
    return frame;
}

/// A raw TCP connection that has done the opening handshake on `path`.
corio::task<corio::net::tcp_stream> raw_upgrade(const server& app, const std::string& path) {
    auto tcp = co_await corio::net::tcp_stream::connect(*app.local_endpoint());
    co_await tcp.write_all("GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    std::string head;
    char c = 0;
    while (!head.ends_with("\r\n\r\n")) {  // byte by byte: what follows the head is the test's to read
        const std::size_t n = co_await tcp.read_some(std::span<char>(&c, 1));
        if (n == 0) break;
        head.push_back(c);
    }
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;  // RFC 6455's example
    co_return tcp;
}

/// Everything the server sends until it closes (frames are unmasked: readable as they are).
corio::task<std::string> read_to_end(corio::net::tcp_stream& tcp) {
    std::string all;
    std::array<char, 4096> chunk;
    tcp.options().read_timeout = 5s;
    try {
        while (const std::size_t n = co_await tcp.read_some(chunk)) all.append(chunk.data(), n);
    } catch (const corio::connection_error&) {  // a reset after the close frame: what came is enough
    }
    co_return all;
}

/// The close code of a close frame at the end of `frames`.
int close_code_in(const std::string& frames) {
    const std::size_t at = frames.rfind("\x88\x02", std::string::npos);
    if (at == std::string::npos || at + 4 > frames.size()) return 0;
    return (static_cast<unsigned char>(frames[at + 2]) << 8) | static_cast<unsigned char>(frames[at + 3]);
}

corio::task<int> server_close_code_after(const server& app, std::string frames) {
    auto tcp = co_await raw_upgrade(app, "/echo");
    co_await tcp.write_all(frames);
    const std::string answer = co_await read_to_end(tcp);
    co_return close_code_in(answer);
}

}  // namespace

TEST(http_websocket, corio_client_and_server_exchange_text_binary_and_a_large_compressed_message) {
    server app;
    add_echo(app);
    with_app(app, [](server& a) -> corio::task<> {
        client_session session;
        websocket ws = co_await session.ws_connect(ws_url(a, "/echo"));
        EXPECT_TRUE(ws.compressed());
        co_await ws.send_text("héllo");
        auto text = co_await ws.receive();
        CO_ASSERT_TRUE(text.has_value());
        EXPECT_TRUE(text->is_text());
        EXPECT_EQ(text->text(), "héllo");
        const std::string bytes("\x00\x01\xfe\xff", 4);
        co_await ws.send_binary(bytes);
        auto binary = co_await ws.receive();
        CO_ASSERT_TRUE(binary.has_value());
        EXPECT_TRUE(binary->is_binary());
        EXPECT_EQ(std::move(*binary).take_payload(), bytes);
        EXPECT_THROW((void)ws_message(false, "x").text(), std::logic_error);
        std::string large;
        for (int i = 0; large.size() < 1'000'000; ++i) large += "line " + std::to_string(i) + "\n";
        co_await ws.send_text(large);
        auto back = co_await ws.receive();
        CO_ASSERT_TRUE(back.has_value());
        EXPECT_EQ(back->text(), large);
        co_await ws.close();
        EXPECT_TRUE(ws.closed());
        EXPECT_EQ(ws.close_code(), ws_close::normal);
        co_await corio_test::expect_throws<websocket_error>(ws.send_text("late"), "after the close frame");
    });
}

TEST(http_websocket, the_server_handler_sees_the_client_close_and_its_code) {
    server app;
    auto seen = std::make_shared<ending>();
    app.websocket("/watch", [seen](corio::http::request&, websocket& ws) -> corio::task<> {
        while (co_await ws.receive()) {
        }
        seen->code = ws.close_code().value_or(-1);
        seen->done = true;
    });
    with_app(app, [seen](server& a) -> corio::task<> {
        client_session session;
        const websocket_options uncompressed{.compression = false};
        websocket ws = co_await session.ws_connect(ws_url(a, "/watch"), uncompressed);
        EXPECT_FALSE(ws.compressed());
        co_await ws.close(4003, "finished");
        for (int i = 0; i < 100 && !seen->done; ++i) co_await corio::sleep(10ms);
    });
    EXPECT_TRUE(seen->done);
    EXPECT_EQ(seen->code, 4003);
}

TEST(http_websocket, messages_is_an_async_generator_until_the_close) {
    server app;
    app.websocket("/count", [](corio::http::request&, websocket& ws) -> corio::task<> {
        for (int i = 1; i <= 3; ++i) co_await ws.send_text(std::to_string(i));
        co_await ws.close(ws_close::normal, "done");
    });
    with_app(app, [](server& a) -> corio::task<> {
        client_session session;
        websocket ws = co_await session.ws_connect(ws_url(a, "/count"));
        std::string got;
        auto all = ws.messages();
        while (auto m = co_await all.next()) got += m->text();
        EXPECT_EQ(got, "123");
        EXPECT_EQ(ws.close_code(), ws_close::normal);
        EXPECT_EQ(ws.close_reason(), "done");
        const auto after = co_await ws.receive();
        EXPECT_FALSE(after.has_value());  // stays empty
    });
}

TEST(http_websocket, subprotocols_are_negotiated_and_a_second_receive_at_once_is_refused) {
    server app;
    app.websocket("/chat", echo, websocket_options{.protocols = {"chat.v2", "chat.v1"}});
    with_app(app, [](server& a) -> corio::task<> {
        client_session session;
        const websocket_options offer{.protocols = {"chat.v1"}};
        websocket ws = co_await session.ws_connect(ws_url(a, "/chat"), offer);
        EXPECT_EQ(ws.protocol(), "chat.v1");
        auto first = corio::spawn([&ws]() -> corio::task<> { co_await ws.receive(); });
        co_await corio::sleep(10ms);
        co_await corio_test::expect_throws<std::logic_error>(ws.receive(), "another receive()");
        co_await ws.send_text("wake");
        co_await first;
        co_await ws.close();
    });
}

TEST(http_websocket, the_handshake_is_checked_and_middleware_can_refuse_it) {
    server app;
    add_echo(app);
    app.use([](corio::http::request& req, corio::http::next_handler next) -> corio::task<corio::http::response> {
        if (req.path() == "/guarded" && !req.headers().contains("Authorization")) co_return corio::http::response(401, "token?\n");
        co_return co_await next(req);
    });
    app.websocket("/guarded", echo);
    with_app(app, [](server& a) -> corio::task<> {
        client_session session;
        auto plain = co_await session.get(base_url(a) + "/echo");
        EXPECT_EQ(plain.status(), 426);
        EXPECT_EQ(plain.headers().get("Upgrade"), std::optional<std::string_view>("websocket"));
        corio::http::request_options old_version;
        old_version.headers({{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "8"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
        auto version = co_await session.get(base_url(a) + "/echo", std::move(old_version));
        EXPECT_EQ(version.status(), 426);
        EXPECT_EQ(version.headers().get("Sec-WebSocket-Version"), std::optional<std::string_view>("13"));
        corio::http::request_options bad_key;
        bad_key.headers({{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"},
                         {"Sec-WebSocket-Key", "short"}});
        auto key = co_await session.get(base_url(a) + "/echo", std::move(bad_key));
        EXPECT_EQ(key.status(), 400);
        try {
            co_await session.ws_connect(ws_url(a, "/guarded"));
            ADD_FAILURE() << "the middleware's 401 should fail ws_connect";
        } catch (const corio::http::websocket_handshake_error& e) {
            EXPECT_EQ(e.status(), 401);
            EXPECT_NE(std::string(e.what()).find("WebSocket ws://127.0.0.1:"), std::string::npos) << e.what();
        }
        client_session with_token({.auth = corio::http::auth::bearer("t")});
        websocket ws = co_await with_token.ws_connect(ws_url(a, "/guarded"));
        co_await ws.close();
    });
}

TEST(http_websocket, frames_that_break_the_rules_close_with_the_code_that_says_why) {
    server app;
    app.websocket("/echo", echo, websocket_options{.max_message_size = 100});
    with_app(app, [](server& a) -> corio::task<> {
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x81, "unmasked", false)), ws_close::protocol_error);
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x81, "\xc3\x28")), ws_close::invalid_payload);  // not UTF-8
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x83, "reserved")), ws_close::protocol_error);   // opcode 3
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0xc1, "rsv1")), ws_close::protocol_error);       // no deflate agreed
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x80, "continue")), ws_close::protocol_error);    // nothing to continue
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x09, "frag ping")), ws_close::protocol_error);  // fragmented control
        const std::string big(101, 'b');
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x01, big.substr(0, 60)) + client_frame(0x80, big.substr(60))),
                  ws_close::message_too_big);
        EXPECT_EQ(co_await server_close_code_after(a, client_frame(0x88, std::string("\x03\xed", 2))), ws_close::protocol_error);  // 1005 sent
    });
}

TEST(http_websocket, a_fragmented_message_with_a_ping_inside_arrives_whole_and_the_ping_is_answered) {
    server app;
    add_echo(app);
    with_app(app, [](server& a) -> corio::task<> {
        auto tcp = co_await raw_upgrade(a, "/echo");
        co_await tcp.write_all(client_frame(0x01, "Hel") + client_frame(0x89, "p!") + client_frame(0x80, "lo"));
        std::string answer;
        std::array<char, 64> chunk;
        while (answer.size() < 11) {
            const std::size_t n = co_await tcp.read_some(chunk);
            if (n == 0) break;
            answer.append(chunk.data(), n);
        }
        co_await tcp.write_all(client_frame(0x88, std::string("\x03\xe8", 2)));  // after the echo: it cannot race the close
        answer += co_await read_to_end(tcp);
        EXPECT_EQ(answer.substr(0, 4), std::string("\x8a\x02p!", 4));                // the pong, first
        EXPECT_EQ(answer.substr(4, 7), std::string("\x81\x05Hello", 7));             // then the whole message
        EXPECT_EQ(answer.substr(11), std::string("\x88\x02\x03\xe8", 4));            // the close, echoed
    });
}

TEST(http_websocket, a_silent_peer_gets_a_ping_and_then_is_cut_and_an_abrupt_close_is_an_error) {
    server app;
    auto seen = std::make_shared<std::vector<int>>();
    const auto record = [seen](corio::http::request&, websocket& ws) -> corio::task<> {
        try {
            while (co_await ws.receive()) {
            }
            seen->push_back(0);
        } catch (const websocket_error& e) {
            seen->push_back(e.code());
        }
    };
    app.websocket("/watch", record, websocket_options{.heartbeat = 50ms, .pong_timeout = 50ms});
    with_app(app, [seen](server& a) -> corio::task<> {
        auto silent = co_await raw_upgrade(a, "/watch");  // never answers the ping
        std::array<char, 64> ping{};
        silent.options().read_timeout = 5s;
        const std::size_t n = co_await silent.read_some(ping);
        EXPECT_GE(n, 2u);
        EXPECT_EQ(ping[0], '\x89');  // a ping came
        for (int i = 0; i < 200 && seen->empty(); ++i) co_await corio::sleep(5ms);
        auto abrupt = co_await raw_upgrade(a, "/watch");
        abrupt.close();  // no close frame
        for (int i = 0; i < 200 && seen->size() < 2; ++i) co_await corio::sleep(5ms);
    });
    EXPECT_EQ(*seen, (std::vector<int>{ws_close::internal_error, ws_close::abnormal}));
}

TEST(http_websocket, a_server_shutting_down_closes_its_websockets_with_going_away) {
    server app;
    add_echo(app);
    corio::run(corio::invoke([&app]() -> corio::task<> {
        co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        client_session session;
        websocket ws = co_await session.ws_connect(ws_url(app, "/echo"));
        app.stop(50ms);  // the handler waits in receive(): cancelled after the grace
        const auto none = co_await ws.receive();
        EXPECT_FALSE(none.has_value());
        EXPECT_EQ(ws.close_code(), ws_close::going_away);
        co_await app.wait_closed();
    }));
}

TEST(http_websocket, wss_over_tls_with_the_sessions_ca) {
    const auto pki = corio_test::test_pki::create();
    server app;
    add_echo(app);
    corio::run(corio::invoke([&app, &pki]() -> corio::task<> {
        auto tls = corio::net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
        const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0), std::move(tls));
        client_session session({.ca_file = pki.ca_file});
        websocket ws = co_await session.ws_connect("wss://localhost:" + std::to_string(where.port()) + "/echo");
        co_await ws.send_text("secret");
        auto back = co_await ws.receive();
        EXPECT_TRUE(back.has_value() && back->text() == "secret");
        co_await ws.close();
        app.stop(1s);
        co_await app.wait_closed();
    }));
}

TEST(http_websocket, frame_reader_gives_the_same_messages_however_the_bytes_are_split) {
    const std::uint32_t mask = 0x44332211;
    std::string wire = detail::ws_frame_head(detail::ws_opcode::text, false, 5, &mask) + "Hello";
    detail::ws_apply_mask(wire.data() + 6, 5, mask);
    wire += detail::ws_frame_head(detail::ws_opcode::ping, false, 0, &mask);
    for (const std::size_t step : {wire.size(), std::size_t{1}, std::size_t{3}}) {
        detail::ws_frame_reader reader(true, false, 1000);
        std::string buffered;
        std::vector<std::string> events;
        for (std::size_t at = 0; at < wire.size(); at += step) {
            buffered += wire.substr(at, step);
            for (;;) {
                const auto r = reader.read(buffered);
                buffered.erase(0, r.consumed);
                if (r.what == detail::ws_frame_reader::event::need_more) break;
                events.push_back(r.what == detail::ws_frame_reader::event::message ? reader.message() : "ping");
            }
        }
        EXPECT_EQ(events, (std::vector<std::string>{"Hello", "ping"})) << "step " << step;
    }
    EXPECT_TRUE(detail::is_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
    EXPECT_FALSE(detail::is_utf8("\xed\xa0\x80"));      // a surrogate
    EXPECT_FALSE(detail::is_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(detail::is_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(detail::is_utf8("\xe2\x82"));          // cut short
}

TEST(http_websocket, permessage_deflate_offers_are_answered_with_what_both_sides_will_do) {
    const auto accept = [](std::string_view offers) { return detail::ws_accept_deflate(offers).first; };
    EXPECT_EQ(accept("permessage-deflate; client_max_window_bits"), "permessage-deflate");
    EXPECT_EQ(accept("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    EXPECT_EQ(accept("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=\"10\""),
              "permessage-deflate; server_max_window_bits=10");  // zlib cannot do 8: the next offer
    EXPECT_EQ(accept("x-webkit-deflate-frame"), "");
    EXPECT_EQ(accept("permessage-deflate; mystery=1"), "");
    EXPECT_EQ(accept("permessage-deflate; server_no_context_takeover; server_no_context_takeover"), "");
    const auto mine = detail::ws_client_deflate("permessage-deflate; client_no_context_takeover; client_max_window_bits=11");
    EXPECT_TRUE(mine.own_no_context_takeover);
    EXPECT_EQ(mine.own_window_bits, 11);
    EXPECT_THROW(detail::ws_client_deflate("permessage-deflate; client_max_window_bits=8"), detail::ws_violation);
    EXPECT_THROW(detail::ws_client_deflate("another-extension"), detail::ws_violation);
}

TEST(http_websocket, python_websockets_client_against_the_corio_server) {
    if (!python_websockets_installed()) GTEST_SKIP() << "python3-websockets not installed (apt-get install python3-websockets)";
    server app;
    add_echo(app);
    app.websocket("/closer", [](corio::http::request&, websocket& ws) -> corio::task<> {
        co_await ws.receive();
        co_await ws.close(4001, "bye");
    });
    app.websocket("/small", echo, websocket_options{.max_message_size = 1000});
    auto abrupt = std::make_shared<ending>();
    app.websocket("/abrupt", [abrupt](corio::http::request&, websocket& ws) -> corio::task<> {
        try {
            while (co_await ws.receive()) {
            }
        } catch (const websocket_error& e) {
            abrupt->code = e.code();
        }
        abrupt->done = true;
    });
    std::string output;
    with_app(app, [&output, abrupt](server& a) -> corio::task<> {
        const std::string command = debian_python + " " + peer_script + " client ws://" + a.local_endpoint()->to_string() + " 2>&1";
        const auto run_peer = [command] { return output_of(command); };  // named before the co_await (g++ 12)
        output = co_await corio::to_thread(run_peer);
        for (int i = 0; i < 200 && !abrupt->done; ++i) co_await corio::sleep(5ms);
    });
    for (const char* line : {"text=hello\n", "binary=0001ff\n", "fragmented=frag-ment-ed\n", "big=True\n",
                             "extensions=permessage-deflate\n", "pong=ok\n", "echo_close=1000\n", "uncompressed=plain\n",
                             "closer=4001 bye\n", "oversize=1009\n",
                             "no_context_takeover=True True\n"})
        EXPECT_NE(output.find(line), std::string::npos) << line << "in:\n" << output;
    EXPECT_TRUE(abrupt->done);
    EXPECT_EQ(abrupt->code, ws_close::abnormal);
}

TEST(http_websocket, corio_client_against_a_python_websockets_server) {
    if (!python_websockets_installed()) GTEST_SKIP() << "python3-websockets not installed (apt-get install python3-websockets)";
    FILE* peer = ::popen((debian_python + " " + peer_script + " server").c_str(), "r");
    ASSERT_NE(peer, nullptr);
    char line[32] = {};
    ASSERT_NE(std::fgets(line, sizeof line, peer), nullptr);
    const std::string base = "ws://127.0.0.1:" + std::string(line, std::strcspn(line, "\n"));
    corio::run(corio::invoke([&base]() -> corio::task<> {
        client_session session;
        websocket echo_ws = co_await session.ws_connect(base + "/echo");
        EXPECT_TRUE(echo_ws.compressed());
        co_await corio::sleep(1s);  // the server pings every 0.2 s: the reader answers while nobody receives
        const std::string big(300'000, 'q');
        co_await echo_ws.send_text(big);
        auto back = co_await echo_ws.receive();
        EXPECT_TRUE(back.has_value() && back->text() == big);
        co_await echo_ws.close();

        websocket fragments = co_await session.ws_connect(base + "/fragments");
        auto whole = co_await fragments.receive();
        EXPECT_TRUE(whole.has_value() && whole->text() == "frag-ment-ed");
        co_await fragments.close();

        websocket closing = co_await session.ws_connect(base + "/close");
        const auto none = co_await closing.receive();
        EXPECT_FALSE(none.has_value());
        EXPECT_EQ(closing.close_code(), 4000);
        EXPECT_EQ(closing.close_reason(), "done");

        const websocket_options small{.max_message_size = 1'000'000};
        websocket big_ws = co_await session.ws_connect(base + "/big", small);
        co_await corio_test::expect_throws<websocket_error>(big_ws.receive(), "limit");
        EXPECT_EQ(big_ws.close_code(), ws_close::message_too_big);

        websocket quit = co_await session.ws_connect(base + "/quit");
        co_await quit.close();
    }));
    EXPECT_EQ(::pclose(peer), 0);
}
