// serve_app: the server tests' harness: serve an http::server on loopback around a test body,
// and run an outside program (curl) for its output.
#pragma once

#include <corio/http/server.hpp>
#include <corio/invoke.hpp>
#include <corio/run.hpp>
#include <corio/testing/test_server.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace corio_test_support {

/// "http://127.0.0.1:PORT" of a serving app.
inline std::string base_url(const corio::http::server& app) { return "http://" + app.local_endpoint()->to_string(); }

/// Serves `app` on 127.0.0.1 (port 0: corio::testing::test_server) while `body(app)` runs, then
/// stops it gracefully.
template <class Body>
void with_app(corio::http::server& app, Body body) {
    corio::run(corio::invoke(
        [&app](Body body) -> corio::task<> {
            auto served = co_await corio::testing::test_server::start(app);
            co_await body(app);
            co_await served.close();
        },
        std::move(body)));
}

/// Runs a shell command (blocking: call it through to_thread) and returns its standard output.
inline std::string output_of(const std::string& command) {
    std::string text;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        std::array<char, 256> chunk;
        while (const auto n = std::fread(chunk.data(), 1, chunk.size(), p)) text.append(chunk.data(), n);
        ::pclose(p);
    }
    return text;
}

}  // namespace corio_test_support
