// loopback_server: a small HTTP/1.1 server on 127.0.0.1 built on corio's net layer and parser,
// for the client tests, the examples and the tour (the full http::server comes later).
//
// Each accepted connection is served by its own task: requests are parsed with
// http::request_parser and handed to the responder, which writes whatever bytes it wants to
// the stream (well-formed replies via reply(), or broken ones on purpose: tests need those),
// may sleep, and may close the stream. The server keeps serving the connection while the
// stream is open. Use it through async_with so it is always stopped:
//   co_await corio::async_with(loopback_server::start(responder), [&](auto& server) -> corio::task<> {...});
#pragma once

#include <corio/corio.hpp>
#include <corio/http/parser.hpp>
#include <corio/http/headers.hpp>
#include <corio/http/server.hpp>
#include <corio/net/tcp.hpp>
#include <corio/net/tls.hpp>

#include <array>
#include <functional>
#include <memory>
#include <string>

namespace corio_test_support {

struct received_request {
    std::string method;
    std::string target;
    corio::http::headers headers;
    std::string body;
    std::size_t connection = 0;  // which accepted connection (1, 2, ...) carried it
};

/// Writes a complete response with Content-Length.
inline corio::task<> reply(corio::net::tcp_stream& out, int status, std::string_view body,
                           std::string_view extra_headers = "") {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(corio::http::reason_phrase(status)) +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n";
    co_await out.write_all(head + std::string(body));
}

class loopback_server {
public:
    using responder = std::function<corio::task<>(received_request&, corio::net::tcp_stream&)>;

    /// Listens on 127.0.0.1:`port` (0: any free port, see port()). A port in use makes the await
    /// throw corio::connection_error ("listen on 127.0.0.1:8080 failed: ...").
    static corio::task<std::unique_ptr<loopback_server>> start(responder r, std::uint16_t port = 0) {
        auto server = std::unique_ptr<loopback_server>(new loopback_server(std::move(r), port));
        server->tasks_.spawn(server->accept_loop(), "loopback_server.accept");
        co_return server;
    }

    std::string url(std::string_view path = "/") const {
        return "http://127.0.0.1:" + std::to_string(listener_.local_endpoint().port()) + std::string(path);
    }
    std::uint16_t port() const { return listener_.local_endpoint().port(); }
    std::size_t connections() const noexcept { return connections_; }
    std::size_t requests() const noexcept { return requests_; }
    std::size_t open_connections() const noexcept { return open_; }
    std::size_t max_open_connections() const noexcept { return max_open_; }

    corio::task<> aclose() {
        listener_.close();
        co_await tasks_.shutdown(std::chrono::seconds(1));
    }

private:
    loopback_server(responder r, std::uint16_t port)
        : responder_(std::move(r)), listener_(corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", port))) {}

    corio::task<> accept_loop() {
        for (;;) {
            auto stream = co_await listener_.accept();
            tasks_.spawn(serve(std::move(stream), ++connections_), "loopback_server.connection");
        }
    }

    corio::task<> serve(corio::net::tcp_stream stream, std::size_t id) {
        ++open_;
        max_open_ = std::max(max_open_, open_);
        struct on_exit {
            std::size_t& open;
            ~on_exit() { --open; }
        } guard{open_};
        corio::http::request_parser parser;
        std::string buffer;
        std::array<char, 16384> chunk;
        received_request request;
        for (;;) {
            const auto r = parser.parse(buffer);
            if (r.event == corio::http::parse_event::headers) {
                request.method = parser.head().method;
                request.target = parser.head().target;
                request.headers = {};
                request.body.clear();
                request.connection = id;
                for (const auto& f : parser.head().headers) request.headers.add(std::string(f.name), std::string(f.value));
            } else if (r.event == corio::http::parse_event::body) {
                request.body.append(r.body);
            }
            buffer.erase(0, r.consumed);  // after copying: the parser's views point into it
            if (r.event == corio::http::parse_event::message_complete) {
                ++requests_;
                co_await responder_(request, stream);
                if (!stream.is_open()) co_return;
            } else if (r.event == corio::http::parse_event::need_more) {
                const std::size_t n = co_await stream.read_some(chunk);
                if (n == 0) co_return;
                buffer.append(chunk.data(), n);
            }
        }
    }

    responder responder_;
    corio::net::tcp_listener listener_;
    corio::task_set tasks_{[](const std::string&, std::exception_ptr) {}};  // peers that vanish are no errors
    std::size_t connections_ = 0;
    std::size_t requests_ = 0;
    std::size_t open_ = 0;
    std::size_t max_open_ = 0;
};

}  // namespace corio_test_support
