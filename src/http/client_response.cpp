// Implementation of corio/http/client_response.hpp and of body_reader.hpp.
#include "corio/http/client_response.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "body_reader.hpp"
#include "corio/log.hpp"

namespace corio::http {
namespace detail {

// ---- request_clock ----

request_clock::request_clock(std::string description, const client_timeout& timeout)
    : description_(std::move(description)),
      timeout_(timeout),
      deadline_(timeout.total.count() > 0 ? deadline_after(clock::now(), timeout.total) : clock::time_point::max()) {}

std::chrono::nanoseconds request_clock::budget(std::chrono::nanoseconds limit, const char* limit_name) {
    constexpr std::chrono::nanoseconds fallback = std::chrono::seconds(60);  // neither limit set (writes)
    const bool has_total = deadline_ != clock::time_point::max();
    const auto remaining = has_total ? std::max(deadline_ - clock::now(), clock::duration::zero()) : fallback;
    if (limit.count() > 0 && (!has_total || limit <= remaining)) {
        bound_by_ = limit_name;
        bound_value_ = limit;
        return limit;
    }
    bound_by_ = has_total ? "total" : limit_name;
    bound_value_ = has_total ? timeout_.total : fallback;
    return remaining;
}

void request_clock::throw_timeout(const char* phase) const {
    throw timeout_error(description_ + ": " + bound_by_ + " timeout (" + format_duration(bound_value_) +
                        ") expired while " + phase);
}

void request_clock::report(trace_kind kind, std::string_view detail, int status, std::uint64_t bytes) const {
    const std::string_view description = description_;
    const std::size_t space = description.find(' ');
    // request_start is the instant the request's clock starts: its elapsed is 0 by definition
    const clock::time_point now = kind == trace_kind::request_start ? trace_.start : clock::now();
    trace_event event{kind, trace_.request, description.substr(0, space), description.substr(space + 1), now,
                      now - trace_.start, status, bytes, detail};
    try {
        (*trace_.hook)(event);
    } catch (...) {
        log_error("http::client_session: the trace hook threw at " + std::string(to_string(kind)) + " (ignored): " +
                  describe(std::current_exception()));
    }
}

void rethrow_naming(const std::string& description) {
    const auto named = [&](const std::exception& e) { return description + ": " + e.what(); };
    try {
        throw;
    } catch (const net::dns_error& e) {
        throw net::dns_error(named(e));
    } catch (const net::connect_error& e) {
        throw net::connect_error(named(e));
    } catch (const net::tls_error& e) {
        throw net::tls_error(named(e));
    } catch (const net::connection_reset_error& e) {
        throw net::connection_reset_error(named(e));
    } catch (const protocol_error& e) {
        throw protocol_error(named(e));
    } catch (const proxy_error& e) {
        throw proxy_error(e.status(), named(e));
    } catch (const parse_error& e) {
        throw protocol_error(description + ": invalid response: " + e.what());
    } catch (const decode_error& e) {
        throw decode_error(named(e));
    } catch (const connection_error& e) {
        throw connection_error(named(e));
    }
}

// ---- body_reader ----

body_reader::body_reader(std::shared_ptr<const void> session, std::unique_ptr<pooled_connection> connection,
                         response_parser parser, request_clock clock, std::string_view content_encoding,
                         std::uint64_t max_body_size)
    : session_(std::move(session)),
      connection_(std::move(connection)),
      parser_(std::move(parser)),
      clock_(std::move(clock)),
      decoder_(content_encoding, max_body_size) {}

void body_reader::finish_if_empty(bool has_no_body) {
    if (!has_no_body || connection_ == nullptr || done_) return;
    if (!step() && ended_) complete(true);  // a bodiless message completes without more input
}

std::optional<std::string_view> body_reader::step() {
    const parse_result r = parser_.parse(connection_->unread());
    connection_->consume(r.consumed);
    if (r.event == parse_event::body) return r.body;
    if (r.event == parse_event::message_complete) ended_ = true;
    return std::nullopt;
}

task<bool> body_reader::receive() {
    connection_->set_read_timeout(clock_.budget(clock_.timeout().sock_read, "sock_read"));
    std::size_t n = 0;
    try {
        n = co_await connection_->fill();
    } catch (const timeout_error&) {
        clock_.throw_timeout("reading the body");
    }
    co_return n > 0;
}

task<std::optional<std::string_view>> body_reader::next_framed() {
    for (;;) {
        if (auto piece = step()) co_return piece;
        if (ended_) {
            complete(true);
            co_return std::nullopt;
        }
        const bool received = co_await receive();  // named: g++ 12 (design notes)
        if (received) continue;
        bool ended_by_close = false;
        try {
            ended_by_close = parser_.finish();
        } catch (const parse_error& e) {
            if (e.code() != parse_error_code::unexpected_eof) throw;
        }
        if (!ended_by_close) throw protocol_error("the server closed the connection before the response ended");
        complete(false);  // the body ran until the close
        co_return std::nullopt;
    }
}

std::optional<std::string_view> body_reader::handed_out(std::optional<std::string_view> piece) {
    if (piece) {
        received_ += piece->size();
        clock_.trace(trace_kind::response_chunk_received, {}, 0, piece->size());
    } else if (!end_reported_) {
        end_reported_ = true;
        clock_.trace(trace_kind::response_end, {}, 0, received_);
    }
    return piece;
}

task<std::optional<std::string_view>> body_reader::next() {
    if (done_) co_return handed_out(std::nullopt);
    if (connection_ == nullptr)
        throw connection_error(clock_.description() + ": the response body can no longer be read (closed or failed)");
    std::exception_ptr failure;
    try {
        for (;;) {
            // Cancellation can only strike while next_framed() waits for bytes, which consumes
            // nothing: the body can be read on afterwards (cancel-safe), so it passes untouched.
            const auto piece = co_await next_framed();
            if (!piece) {
                decoder_.finish();
                co_return handed_out(std::nullopt);
            }
            if (decoder_.identity()) co_return handed_out(piece);
            decoded_.clear();
            decoder_.feed(*piece, decoded_);
            if (!decoded_.empty()) co_return handed_out(std::string_view(decoded_));
        }
    } catch (const cancelled_error&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    const bool session_closed = connection_ && connection_->pool().closed();  // why the read failed
    connection_.reset();  // never reused after a failure
    if (session_closed)
        throw session_closed_error(clock_.description() + ": the client session was closed while the body was read");
    try {
        std::rethrow_exception(failure);
    } catch (...) {
        rethrow_naming(clock_.description());
    }
}

void body_reader::complete(bool reusable) noexcept {
    done_ = true;
    if (!reusable || !parser_.head().keep_alive) {
        connection_.reset();
        return;
    }
    pooled_connection* c = connection_.get();
    c->pool().release(std::move(connection_));
}

}  // namespace detail

client_response::client_response(client_response&&) noexcept = default;
client_response& client_response::operator=(client_response&&) noexcept = default;
client_response::~client_response() = default;

std::string client_response::describe_request() const { return method_ + " " + url_; }

void client_response::raise_for_status() const {
    if (status_ >= 400) throw status_error(status_, reason_, method_, url_, headers_);
}

task<> client_response::read_body() {
    if (body_read_) co_return;
    if (!reader_) throw connection_error(describe_request() + ": the response was closed before its body was read");
    if (content_length_) body_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*content_length_, 16u << 20)));
    while (const auto piece = co_await reader_->next()) body_.append(*piece);
    body_read_ = true;
    reader_.reset();
}

task<std::string> client_response::text() {
    co_await read_body();
    co_return body_;
}

task<std::vector<std::byte>> client_response::bytes() {
    co_await read_body();
    std::vector<std::byte> out(body_.size());
    std::memcpy(out.data(), body_.data(), body_.size());
    co_return out;
}

task<nlohmann::json> client_response::json() {
    co_await read_body();
    try {
        co_return nlohmann::json::parse(body_);
    } catch (const nlohmann::json::parse_error& e) {
        throw json_error::from_bytes_read(describe_request() + ": the body is not valid JSON: " + e.what(), e.byte);
    }
}

async_generator<std::string_view> client_response::chunks() {
    return corio::detail::generate_from<std::string_view>(
        [this, whole_body_sent = false]() mutable -> task<std::optional<std::string_view>> {
            if (body_read_) {  // text() or json() read it already: it comes in one piece
                if (whole_body_sent || body_.empty()) co_return std::nullopt;
                whole_body_sent = true;
                co_return std::string_view(body_);
            }
            if (!reader_) throw connection_error(describe_request() + ": the response was closed before its body was read");
            co_return co_await reader_->next();
        });
}

void client_response::close() noexcept { reader_.reset(); }

task<> client_response::aclose() {
    close();
    co_return;
}

}  // namespace corio::http
