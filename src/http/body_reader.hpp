// Private to the HTTP client: per-request deadlines, and reading a response body off its
// connection (transfer framing by the parser, then Content-Encoding decoding).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connection_pool.hpp"
#include "corio/clock.hpp"
#include "corio/http/client_session.hpp"
#include "corio/http/content_decoder.hpp"
#include "corio/http/parser.hpp"
#include "corio/http/trace.hpp"
#include "corio/task.hpp"

namespace corio::http::detail {

/// Where a request's trace events go (session_options::trace): no hook, no events.
struct trace_context {
    const trace_hook* hook = nullptr;  // the session's (it outlives every request and response)
    std::uint64_t request = 0;         // the request's number in its session
    clock::time_point start{};         // its request_start
};

/// The limits of one request, the message its timeouts throw, and its trace.
class request_clock {
public:
    request_clock(std::string description, const client_timeout& timeout);

    const std::string& description() const noexcept { return description_; }  // "GET http://h/x"
    const client_timeout& timeout() const noexcept { return timeout_; }
    /// When the total limit runs out (time_point::max() without one).
    clock::time_point deadline() const noexcept { return deadline_; }

    /// How long the next wait may take: `limit` (a phase's own timeout, 0 = none) capped by
    /// what is left of the total. Remembers which of them binds, for throw_timeout().
    std::chrono::nanoseconds budget(std::chrono::nanoseconds limit, const char* limit_name);
    /// timeout_error("GET http://h/x: sock_read timeout (1s) expired while reading the body").
    [[noreturn]] void throw_timeout(const char* phase) const;

    void set_trace(const trace_context& trace) noexcept { trace_ = trace; }
    const trace_context& tracing() const noexcept { return trace_; }
    bool tracing_on() const noexcept { return trace_.hook != nullptr; }
    /// Reports an event of this request to the session's trace hook, if it has one.
    void trace(trace_kind kind, std::string_view detail = {}, int status = 0, std::uint64_t bytes = 0) const {
        if (trace_.hook != nullptr) report(kind, detail, status, bytes);
    }

private:
    void report(trace_kind kind, std::string_view detail, int status, std::uint64_t bytes) const;

    std::string description_;
    client_timeout timeout_;
    clock::time_point deadline_;  // start + total; time_point::max() without a total
    const char* bound_by_ = "total";  // the limit behind the last budget()
    std::chrono::nanoseconds bound_value_{};
    trace_context trace_;
};

/// Inside a catch block: rethrows the exception being handled with `description` ("GET url")
/// prefixed to its message, keeping its type (parse_error becomes protocol_error). Timeouts,
/// cancellation and unknown types pass unchanged.
[[noreturn]] void rethrow_naming(const std::string& description);

/// Reads one response body. Owns the connection until the body ends, then gives it back to
/// the pool if the server keeps it alive; any failure or cancellation closes it instead.
class body_reader {
public:
    body_reader(std::shared_ptr<const void> session, std::unique_ptr<pooled_connection> connection,
                response_parser parser, request_clock clock, std::string_view content_encoding,
                std::uint64_t max_body_size);

    /// The next decoded piece (valid until the next call), or nullopt at the end of the body.
    /// Throws protocol_error (malformed or truncated), decode_error, timeout_error,
    /// connection_error; after a throw the connection is closed and every call throws.
    task<std::optional<std::string_view>> next();
    /// Completes the body at once if the response has none (`has_no_body`: an answer to HEAD,
    /// 204, 304, Content-Length: 0), giving the connection back before anyone reads.
    void finish_if_empty(bool has_no_body);
    bool done() const noexcept { return done_; }
    const request_clock& clock() const noexcept { return clock_; }

private:
    /// Counts and traces what next() returns.
    std::optional<std::string_view> handed_out(std::optional<std::string_view> piece);
    task<std::optional<std::string_view>> next_framed();
    std::optional<std::string_view> step();  // parses buffered bytes; nullopt: need more
    void complete(bool reusable) noexcept;
    task<bool> receive();  // false at end of stream

    std::shared_ptr<const void> session_;  // keeps the pool alive; declared first, freed last
    std::unique_ptr<pooled_connection> connection_;  // null once done or failed
    response_parser parser_;
    request_clock clock_;
    content_decoder decoder_;
    std::string decoded_;  // the last decoded piece
    bool done_ = false;    // the body ended (connection_ released or closed)
    std::uint64_t received_ = 0;  // decoded body bytes handed out so far (response_end reports them)
    bool end_reported_ = false;   // response_end went to the trace
    bool ended_ = false;   // step() saw message_complete
};

}  // namespace corio::http::detail
