// bench/compare/peers/beast_server.cpp — the Boost.Beast peer of corio's server: C++20
// coroutines (asio::co_spawn, asio::awaitable), GET / answers the 13-byte "Hello, World!"
// (text/plain), keep-alive, nothing logged. Written for this comparison in the style of Beast's
// own coroutine examples: one coroutine per connection, a request<string_body> read and a
// response<string_body> written per request.
//
//   compare_beast_server --port P [--threads N]
//
// One io_context run by N threads (concurrency hint N; with 1 the run script pins the process
// to one CPU). Runs until SIGTERM/SIGINT.
#include "../common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

asio::awaitable<void> serve_connection(tcp::socket socket) {
    beast::flat_buffer buffer;
    try {
        for (;;) {
            http::request<http::string_body> request;
            co_await http::async_read(socket, buffer, request, asio::use_awaitable);
            http::response<http::string_body> response{http::status::ok, request.version()};
            response.set(http::field::server, "beast");
            response.set(http::field::content_type, "text/plain");
            response.keep_alive(request.keep_alive());
            response.body() = "Hello, World!";
            response.prepare_payload();
            co_await http::async_write(socket, response, asio::use_awaitable);
            if (!response.keep_alive()) break;
        }
    } catch (const std::exception&) {  // end of stream, reset: the connection is over
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor) {
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int port = static_cast<int>(compare::arg_number(argc, argv, "port", 0));
    const int threads = static_cast<int>(compare::arg_number(argc, argv, "threads", 1));
    if (port <= 0 || port > 65535 || threads < 1) {
        std::fprintf(stderr, "usage: %s --port P [--threads N]\n", argv[0]);
        return 2;
    }
    try {
        asio::io_context ioc{threads};
        const tcp::endpoint where{asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
        tcp::acceptor acceptor{ioc, where};  // SO_REUSEADDR, listen()
        asio::co_spawn(ioc, accept_loop(std::move(acceptor)), asio::detached);
        asio::signal_set signals{ioc, SIGINT, SIGTERM};
        signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
        std::vector<std::thread> others;
        for (int i = 1; i < threads; ++i) others.emplace_back([&] { ioc.run(); });
        ioc.run();
        for (auto& t : others) t.join();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "beast server: %s\n", e.what());
        return 1;
    }
    return 0;
}
