// raw_exchange: the raw client side of the server tests. Sends bytes exactly as given (malformed,
// pipelined, cut short) and returns everything the server answers until it closes.
#pragma once

#include <corio/net/tcp.hpp>
#include <corio/task.hpp>

#include <array>
#include <chrono>
#include <string>

namespace corio_test_support {

/// Connects to `server`, writes `bytes` and reads until the server closes the connection.
/// "<timeout>" is appended when it has not closed after `limit` without a byte; a reset after
/// the answer ends the read like a close (what arrived still counts).
inline corio::task<std::string> raw_exchange(corio::net::endpoint server, std::string bytes,
                                             std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    auto stream = co_await corio::net::tcp_stream::connect(server, {.read_timeout = limit});
    co_await stream.write_all(bytes);
    std::string reply;
    std::array<char, 16384> buffer;
    try {
        while (const auto n = co_await stream.read_some(buffer)) reply.append(buffer.data(), n);
    } catch (const corio::timeout_error&) {
        reply += "<timeout>";
    } catch (const corio::connection_error&) {
    }
    co_return reply;
}

}  // namespace corio_test_support
