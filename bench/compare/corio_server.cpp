// bench/compare/corio_server.cpp — corio's http::server as the run script measures it: GET /
// answers the 13-byte "Hello, World!" (text/plain), keep-alive, no access log (the default).
//
//   compare_corio_server --port P [--threads N]
//
// One loop on the calling thread (--threads 1: the run script pins the process to one CPU), or
// N loops on N threads, each with its own SO_REUSEPORT listener (http::server::run). Runs until
// SIGTERM/SIGINT. Prints where it listens, and the CORIO_BACKEND it was started with, to stderr.
#include "common.hpp"

#include <corio/error.hpp>
#include <corio/http/server.hpp>

#include <cstdio>
#include <exception>
#include <string>

namespace http = corio::http;

namespace {

corio::task<http::response> hello(http::request&) { co_return http::response::text("Hello, World!"); }

}  // namespace

int main(int argc, char** argv) {
    const int port = static_cast<int>(compare::arg_number(argc, argv, "port", 0));
    const int threads = static_cast<int>(compare::arg_number(argc, argv, "threads", 1));
    if (port <= 0 || port > 65535 || threads < 1) {
        std::fprintf(stderr, "usage: %s --port P [--threads N]\n", argv[0]);
        return 2;
    }
    try {
        http::server app;
        app.get("/", hello);
        std::fprintf(stderr, "corio server: port %d, %d thread(s), CORIO_BACKEND=%s\n", port, threads,
                     compare::backend_requested().c_str());
        app.run(corio::net::endpoint::parse("127.0.0.1", static_cast<std::uint16_t>(port)), threads);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio server: %s\n", e.what());
        return 1;
    } catch (const corio::cancelled_error&) {  // SIGTERM while starting: not a std::exception
    }
    return 0;
}
