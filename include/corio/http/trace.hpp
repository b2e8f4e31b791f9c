// corio/http/trace.hpp — http::trace_event: what a client_session reports about each request
// as it happens, with timestamps (aiohttp's TraceConfig), to log timings or export them.
//
// snippet: examples/http_client.cpp#trace
//   std::vector<std::string> timeline;
//   http::client_session traced({.trace = [&timeline](const http::trace_event& e) {
//       timeline.push_back(std::string(http::to_string(e.kind)) + " +" + std::to_string(e.elapsed.count() / 1000) + "us");
//   }});
//
// A request reports, in order: request_start; then per attempt (a redirect starts another)
// connection_queued_start/end if it waited for a pool slot, connection_reuse or
// connection_create_start, dns_cache_hit or dns_start/dns_end, connection_create_end;
// request_headers_sent, response_first_byte; request_redirect (status, new URL) or request_end
// (status: the head arrived); then, as the body is read, response_chunk_received per piece and
// response_end. A failure anywhere reports request_exception (its message) instead of the rest.
// Events of one request share `request` (numbered per session from 1).
// The hook runs inline on the session's loop, at the moment of the event: keep it short. It
// must not throw; an exception it throws is logged (corio::log_error) and dropped. The views in
// an event are valid during the call only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "corio/clock.hpp"

namespace corio::http {

enum class trace_kind {
    request_start,
    connection_queued_start,
    connection_queued_end,
    connection_reuse,
    connection_create_start,
    dns_cache_hit,
    dns_start,
    dns_end,
    connection_create_end,
    request_headers_sent,
    response_first_byte,
    request_redirect,
    request_end,
    response_chunk_received,
    response_end,
    request_exception,
};

/// "request_start", "dns_end", ...
std::string_view to_string(trace_kind kind) noexcept;

struct trace_event {
    trace_kind kind;
    std::uint64_t request = 0;          ///< which request of the session (from 1)
    std::string_view method;
    std::string_view url;               ///< the URL of this attempt (a redirect's target after it)
    clock::time_point at;               ///< when (corio's clock: virtual under virtual time)
    std::chrono::nanoseconds elapsed{};  ///< since the request's request_start
    int status = 0;                     ///< request_redirect, request_end
    std::uint64_t bytes = 0;            ///< request_headers_sent (request bytes), response_chunk_received, response_end (body bytes)
    /// dns_*: the host; connection_*: the origin (through a proxy: "https://h via CONNECT
    /// http://p:3128", "http://h via http://p:3128"); request_redirect: the new URL;
    /// request_exception: the error's message.
    std::string_view detail;
};

using trace_hook = std::function<void(const trace_event&)>;

}  // namespace corio::http
