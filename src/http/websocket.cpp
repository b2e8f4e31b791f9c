// websocket.cpp — see corio/http/websocket.hpp.
#include "corio/http/websocket.hpp"

#include <stdexcept>

#include "corio/error.hpp"
#include "corio/log.hpp"
#include "corio/shield.hpp"
#include "corio/wait_for.hpp"
#include "websocket_state.hpp"

namespace corio::http {

std::string_view ws_message::text() const {
    if (!text_) throw std::logic_error("ws_message::text(): a binary message (use data())");
    return payload_;
}

namespace detail {

namespace {

constexpr std::chrono::hours no_heartbeat{24 * 365};  // heartbeat = 0: reads wait (practically) forever

}  // namespace

websocket_state::websocket_state(any_stream stream, std::string_view leftover, bool is_client, websocket_options options,
                                 std::string description, ws_handshake_result handshake)
    : protocol(std::move(handshake.protocol)),
      compressed(handshake.deflate.has_value()),
      stream_(std::move(stream)),
      buffer_(std::max<std::size_t>(4096, leftover.size())),
      is_client_(is_client),
      options_(std::move(options)),
      description_(std::move(description)),
      reader_(!is_client, compressed, options_.max_message_size),
      incoming_(std::max<std::size_t>(options_.max_queue, 1)) {
    if (handshake.deflate) deflater_.emplace(*handshake.deflate);
    const std::span<char> room = buffer_.prepare();
    std::copy(leftover.begin(), leftover.end(), room.begin());
    buffer_.commit(leftover.size());
    with_socket(stream_, [this](auto& s) { s.options().write_timeout = options_.write_timeout; });
}

void websocket_state::start(const std::shared_ptr<websocket_state>& self) {
    self->reading_ = spawn(read_loop(self), "websocket reader");
}

websocket_error websocket_state::failure() const {
    return websocket_error(close_code.value_or(ws_close::abnormal), description_ + ": " + close_reason);
}

void websocket_state::fail(int code, const std::string& why) noexcept {
    if (!failed_ && !close_code) {
        close_code = code;
        close_reason = why;
    }
    failed_ = true;
    incoming_.close();
    std::visit([](auto& s) { s.abort(); }, stream_);
}

void websocket_state::abandon() noexcept {
    if (!finished()) {
        reading_.cancel();
        fail(ws_close::abnormal, "the websocket was destroyed while open");
    }
    // The reading task holds this state until it ends; holding its handle back would make a
    // cycle that keeps both alive forever.
    reading_ = {};
}

task<> websocket_state::read_loop(std::shared_ptr<websocket_state> self) {
    int code = 0;
    std::string why;
    try {
        co_await self->read_frames();
        co_await self->finish_after_handshake();
        co_return;
    } catch (const ws_violation& v) {
        code = v.code;
        why = std::string("the peer broke the protocol: ") + v.what();
    } catch (const websocket_error& e) {
        code = e.code();
        why = e.what();
    } catch (const error& e) {
        code = ws_close::abnormal;
        why = e.what();
    }
    if (code != ws_close::abnormal && code != ws_close::internal_error && !self->close_sent_) {
        try {  // tell the peer why, and let it read that before the connection ends
            const std::string payload = ws_close_payload(code, {});
            co_await self->write_frame(ws_opcode::close, payload);
            with_socket(self->stream_, [](auto& s) { s.shutdown_write(); });
            co_await self->drain_until_end();
        } catch (const error&) {
        }
    }
    self->fail(code, why);
}

task<> websocket_state::read_frames() {
    for (;;) {
        const auto r = reader_.read(buffer_.unread());
        buffer_.consume(r.consumed);
        switch (r.what) {
            case ws_frame_reader::event::need_more: co_await fill(); break;
            case ws_frame_reader::event::message:
                if (incoming_.closed()) break;  // close() was called: dropped
                try {  // (named, not a temporary across the co_await: g++ 12 destroys those twice)
                    ws_message message(reader_.message_is_text(), std::move(reader_.message()));
                    co_await incoming_.push(std::move(message));
                } catch (const queue_closed_error&) {  // close() while it waited for room
                }
                break;
            case ws_frame_reader::event::ping:
                if (!close_sent_) co_await write_frame(ws_opcode::pong, reader_.control());
                break;
            case ws_frame_reader::event::pong: break;  // fill() already counted it as a sign of life
            case ws_frame_reader::event::close: {
                std::pair<int, std::string> closing = reader_.close_payload();
                close_code = closing.first;
                close_reason = std::move(closing.second);
                const std::string echo = closing.first == ws_close::no_status ? std::string() : ws_close_payload(closing.first, {});
                if (!close_sent_) co_await write_frame(ws_opcode::close, echo);
                co_return;
            }
        }
    }
}

task<> websocket_state::fill() {
    for (;;) {
        const auto wait = ping_outstanding_ ? options_.pong_timeout
                          : options_.heartbeat.count() > 0 ? options_.heartbeat
                                                           : std::chrono::nanoseconds(no_heartbeat);
        with_socket(stream_, [wait](auto& s) { s.options().read_timeout = wait; });
        std::size_t n = 0;
        bool silent = false;
        try {
            const std::span<char> room = buffer_.prepare();
            n = co_await std::visit([room](auto& s) { return s.read_some(room); }, stream_);
        } catch (const timeout_error&) {
            silent = true;
        }
        if (!silent) {
            if (n == 0) throw websocket_error(ws_close::abnormal, description_ + ": the connection closed without a close frame");
            buffer_.commit(n);
            ping_outstanding_ = false;
            co_return;
        }
        if (ping_outstanding_)
            throw websocket_error(ws_close::internal_error, description_ + ": no answer to a ping within " +
                                                                format_duration(options_.pong_timeout) + " (the peer is unresponsive)");
        ping_outstanding_ = true;
        co_await write_frame(ws_opcode::ping, "heartbeat");
    }
}

task<> websocket_state::finish_after_handshake() {
    // The server closes the TCP connection first; a client waits (briefly) for it to.
    if (is_client_) co_await drain_until_end();
    std::visit([](auto& s) { s.close(); }, stream_);
    incoming_.close();
}

task<> websocket_state::drain_until_end() {
    with_socket(stream_, [this](auto& s) { s.options().read_timeout = options_.close_timeout; });
    try {
        while (co_await std::visit([this](auto& s) { return s.read_some(buffer_.prepare()); }, stream_) > 0) {
        }
    } catch (const error&) {  // reset or timed out: the end either way
    }
}

task<std::optional<ws_message>> websocket_state::receive() {
    if (receiving_) throw std::logic_error(description_ + ": receive() while another receive() waits");
    receiving_ = true;
    const struct done_receiving {
        bool& flag;
        ~done_receiving() { flag = false; }
    } done{receiving_};
    std::optional<ws_message> message;
    try {
        message.emplace(co_await incoming_.pop());
    } catch (const queue_closed_error&) {
    }
    if (!message && failed_) throw failure();
    co_return message;
}

task<> websocket_state::send(ws_opcode opcode, std::string_view payload) {
    co_await write_frame(opcode, payload);
}

task<> websocket_state::write_frame(ws_opcode opcode, std::string_view payload) {
    auto lock = co_await write_mutex_.lock();
    if (failed_) throw failure();
    if (close_sent_) throw websocket_error(close_code.value_or(ws_close::normal), description_ + ": sending after the close frame");
    std::string transformed;
    bool deflated = false;
    if (deflater_ && (opcode == ws_opcode::text || opcode == ws_opcode::binary) && payload.size() >= 64) {
        transformed = deflater_->compress(payload);
        deflated = true;
    } else if (is_client_) {
        transformed.assign(payload);
    }
    if (deflated || is_client_) payload = transformed;
    const std::uint32_t mask = is_client_ ? ws_random_mask() : 0;
    if (is_client_) ws_apply_mask(transformed.data(), transformed.size(), mask);
    const std::string head = ws_frame_head(opcode, deflated, payload.size(), is_client_ ? &mask : nullptr);
    if (opcode == ws_opcode::close) close_sent_ = true;
    const std::string_view pieces[] = {head, payload};
    try {
        co_await std::visit([&pieces](auto& s) { return s.write_all(std::span<const std::string_view>(pieces)); }, stream_);
    } catch (const timeout_error&) {
        fail(ws_close::abnormal, "a send made no progress for " + format_duration(options_.write_timeout));
        throw;
    } catch (const error& e) {
        fail(ws_close::abnormal, e.what());
        throw;
    } catch (const cancelled_error&) {  // half a frame may be out: the stream cannot go on
        fail(ws_close::abnormal, "a send was cancelled in the middle of a frame");
        throw;
    }
}

task<> websocket_state::close(int code, std::string_view reason) {
    const std::string payload = ws_close_payload(code, reason);  // invalid arguments throw before anything
    if (close_called_) co_return;
    close_called_ = true;
    incoming_.close();  // the reader drops what arrives from now on
    if (!close_sent_ && !failed_) {
        try {
            co_await write_frame(ws_opcode::close, payload);
        } catch (const error&) {  // failed: recorded, nothing to wait for
        }
    }
    bool timed_out = false;
    try {
        co_await wait_for(reading_, options_.close_timeout);
    } catch (const timeout_error&) {
        timed_out = true;
    }
    if (timed_out) fail(ws_close::abnormal, "no close frame from the peer within " + format_duration(options_.close_timeout));
}

}  // namespace detail

websocket::websocket(std::shared_ptr<detail::websocket_state> state) noexcept : state_(std::move(state)) {}
websocket::websocket(websocket&&) noexcept = default;
websocket& websocket::operator=(websocket&& other) noexcept {
    if (this != &other) {
        if (state_) state_->abandon();
        state_ = std::move(other.state_);
    }
    return *this;
}
websocket::~websocket() {
    if (state_) state_->abandon();
}

namespace {

detail::websocket_state& usable(const std::shared_ptr<detail::websocket_state>& state) {
    if (!state) throw std::logic_error("http::websocket: used after being moved from");
    return *state;
}

task<> send_kept(std::shared_ptr<detail::websocket_state> state, detail::ws_opcode opcode, std::string_view payload) {
    co_await state->send(opcode, payload);  // the frame holds `state`: a handle moved away meanwhile is fine
}

}  // namespace

task<std::optional<ws_message>> websocket::receive() { return usable(state_).receive(); }

async_generator<ws_message> websocket::messages() {
    const std::shared_ptr<detail::websocket_state> state = state_;
    while (auto message = co_await usable(state).receive()) co_yield std::move(*message);
}

task<> websocket::send_text(std::string_view text) {
    if (!detail::is_utf8(text)) throw std::invalid_argument("websocket::send_text: the text is not UTF-8 (send it with send_binary)");
    return send_kept(state_, detail::ws_opcode::text, text);
}

task<> websocket::send_binary(std::span<const std::byte> bytes) {
    return send_kept(state_, detail::ws_opcode::binary, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

task<> websocket::send_binary(std::string_view bytes) { return send_kept(state_, detail::ws_opcode::binary, bytes); }

task<> websocket::ping(std::string_view payload) {
    if (payload.size() > 125) throw std::invalid_argument("websocket::ping: a ping's payload is at most 125 bytes");
    return send_kept(state_, detail::ws_opcode::ping, payload);
}

task<> websocket::close(int code, std::string_view reason) { return usable(state_).close(code, reason); }

std::optional<int> websocket::close_code() const noexcept {
    if (!closed()) return std::nullopt;
    return state_->close_code;
}

const std::string& websocket::close_reason() const noexcept { return state_->close_reason; }
bool websocket::closed() const noexcept { return state_ && state_->finished(); }
const std::string& websocket::protocol() const noexcept { return state_->protocol; }
bool websocket::compressed() const noexcept { return state_->compressed; }

}  // namespace corio::http
