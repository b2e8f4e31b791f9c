// bench/compare/peers/beast_client.cpp — the bare Boost.Beast load loop the run script puts
// beside corio's client: `connections` keep-alive connections opened up front, one coroutine
// per connection writing GET `target` and reading the response<string_body>, for `seconds`.
// No pool, no URL parsing, no redirects: the least a client can do, as a reference.
//
//   compare_beast_client --port P [--target /] [--connections 64] [--seconds 5] [--warmup 1]
//
// Single-threaded (io_context with concurrency hint 1). The warm-up is not counted. Prints one
// JSON line as compare_corio_client does: requests, seconds, cpu_seconds, p50_ms, p99_ms, errors.
#include "../common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct load {
    double deadline = 0;
    bool record = false;
    std::vector<double> latencies;  // seconds
    std::int64_t requests = 0;
    std::int64_t errors = 0;
    std::string failure;
};

struct connection {
    explicit connection(asio::io_context& ioc) : socket(ioc) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
};

asio::awaitable<void> get_loop(connection& c, const http::request<http::empty_body>& request, load& l) {
    try {
        while (compare::now_seconds() < l.deadline) {
            const double start = compare::now_seconds();
            co_await http::async_write(c.socket, request, asio::use_awaitable);
            http::response<http::string_body> response;
            co_await http::async_read(c.socket, c.buffer, response, asio::use_awaitable);
            if (response.result() != http::status::ok || response.body() != "Hello, World!") ++l.errors;
            if (l.record) {
                l.latencies.push_back(compare::now_seconds() - start);
                ++l.requests;
            }
        }
    } catch (const std::exception& e) {
        if (l.failure.empty()) l.failure = e.what();
    }
}

/// Runs one phase: every connection's loop until `deadline`.
void run_phase(asio::io_context& ioc, std::vector<connection>& connections,
               const http::request<http::empty_body>& request, load& l, double deadline) {
    l.deadline = deadline;
    for (auto& c : connections) asio::co_spawn(ioc, get_loop(c, request, l), asio::detached);
    ioc.restart();
    ioc.run();
}

}  // namespace

int main(int argc, char** argv) {
    const int port = static_cast<int>(compare::arg_number(argc, argv, "port", 0));
    const std::string target = compare::arg(argc, argv, "target", "/");
    const int count = static_cast<int>(compare::arg_number(argc, argv, "connections", 64));
    const double seconds = compare::arg_number(argc, argv, "seconds", 5);
    const double warmup = compare::arg_number(argc, argv, "warmup", 1);
    if (port <= 0 || port > 65535 || count < 1 || seconds <= 0) {
        std::fprintf(stderr, "usage: %s --port P [--target /] [--connections 64] [--seconds 5] [--warmup 1]\n",
                     argv[0]);
        return 2;
    }
    try {
        asio::io_context ioc{1};
        const tcp::endpoint where{asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
        std::vector<connection> connections;
        connections.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            connections.emplace_back(ioc);
            connections.back().socket.connect(where);
            connections.back().socket.set_option(tcp::no_delay(true));
        }
        http::request<http::empty_body> request{http::verb::get, target, 11};
        request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
        request.set(http::field::user_agent, "beast");

        load l;
        l.latencies.reserve(static_cast<std::size_t>(seconds * 150'000));
        run_phase(ioc, connections, request, l, compare::now_seconds() + warmup);
        const double wall_start = compare::now_seconds();
        const double cpu_start = compare::process_cpu_seconds();
        if (l.failure.empty()) {
            l.record = true;
            run_phase(ioc, connections, request, l, wall_start + seconds);
        }
        const double wall = compare::now_seconds() - wall_start;
        const double cpu = compare::process_cpu_seconds() - cpu_start;
        if (!l.failure.empty()) {
            std::fprintf(stderr, "beast client: %s\n", l.failure.c_str());
            return 1;
        }
        compare::json_line()
            .num("requests", static_cast<double>(l.requests))
            .num("seconds", wall)
            .num("cpu_seconds", cpu)
            .num("p50_ms", compare::quantile(l.latencies, 0.50) * 1e3)
            .num("p99_ms", compare::quantile(l.latencies, 0.99) * 1e3)
            .num("errors", static_cast<double>(l.errors))
            .print();
        return l.errors > 0 ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "beast client: %s\n", e.what());
        return 1;
    }
}
