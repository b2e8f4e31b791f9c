// Implementation of response::sse (corio/http/server.hpp): server-sent events with heartbeats.
//
// The events come from the handler's generator through a one-slot queue filled by a pump task:
// the stream then waits on the queue (cancel-safe: a wait cut by the heartbeat loses nothing)
// rather than on the generator itself, whose next() may not be.
#include <memory>
#include <stdexcept>

#include "corio/http/server.hpp"
#include "corio/queue.hpp"
#include "corio/spawn.hpp"
#include "corio/wait_for.hpp"

namespace corio::http {
namespace {

/// What the pump hands over: an event, or the end (with the generator's error, if it failed).
struct pumped {
    std::optional<sse_event> event;
    std::exception_ptr error;
};

task<> pump(async_generator<sse_event> events, std::shared_ptr<queue<pumped>> out) {
    std::exception_ptr error;
    try {
        while (auto e = co_await events.next()) {
            pumped item{std::move(*e), nullptr};  // named: g++ 12 and aggregate temporaries (design notes)
            co_await out->push(std::move(item));
        }
    } catch (const cancelled_error&) {
        throw;  // the stream is gone
    } catch (...) {
        error = std::current_exception();
    }
    pumped end{std::nullopt, error};
    co_await out->push(std::move(end));
}

/// Cancels the pump when the stream ends, whichever way (the client left, the server stops).
struct cancel_on_exit {
    join_handle<void>& task;
    ~cancel_on_exit() { task.cancel(); }
};

/// `value` for an event's `what`; throws if it would end the event early.
std::string checked_field(const char* what, std::string value) {
    if (breaks_line(value))
        throw std::invalid_argument(std::string("http::sse_event: its ") + what +
                                    " holds a CR, LF or NUL, which would end the event early: \"" + value + "\"");
    return value;
}

/// One event in the text/event-stream format.
std::string format_sse_event(const sse_event& e) {
    std::string out;
    if (!e.type().empty()) out.append("event: ").append(e.type()).append("\n");
    if (!e.id().empty()) out.append("id: ").append(e.id()).append("\n");
    if (e.retry()) out.append("retry: ").append(std::to_string(e.retry()->count())).append("\n");
    // Every line of the data is a data: line (CRLF, CR and LF all end a line in the format).
    std::string_view data = e.data();
    for (;;) {
        const std::size_t end = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, end)).append("\n");
        if (end == std::string_view::npos) break;
        data.remove_prefix(end + (data.substr(end, 2) == "\r\n" ? 2 : 1));
    }
    out.append("\n");
    return out;
}

async_generator<std::string> sse_stream(async_generator<sse_event> events, sse_options options) {
    auto channel = std::make_shared<queue<pumped>>(1);
    auto producer = spawn(pump(std::move(events), channel), "http::response::sse events");
    const cancel_on_exit stop{producer};
    for (;;) {
        std::optional<pumped> item;
        bool quiet = false;  // no event within a heartbeat
        try {
            if (options.heartbeat > std::chrono::nanoseconds::zero())
                item = co_await wait_for(channel->pop(), options.heartbeat);
            else
                item = co_await channel->pop();
        } catch (const timeout_error&) {
            quiet = true;
        }
        if (quiet) {
            co_yield std::string(": keep-alive\n\n");  // a comment: clients ignore it, proxies see traffic
            continue;
        }
        if (item->error) std::rethrow_exception(item->error);
        if (!item->event) co_return;
        co_yield format_sse_event(*item->event);
    }
}

}  // namespace

sse_event& sse_event::type(std::string event_type) & {
    type_ = checked_field("type", std::move(event_type));
    return *this;
}

sse_event& sse_event::id(std::string event_id) & {
    id_ = checked_field("id", std::move(event_id));
    return *this;
}

sse_event& sse_event::retry(std::chrono::milliseconds delay) & {
    retry_ = delay;
    return *this;
}

response response::sse(async_generator<sse_event> events, sse_options options) {
    response r = stream(sse_stream(std::move(events), options), "text/event-stream; charset=utf-8");
    r.headers().add("Cache-Control", "no-cache");
    r.headers().add("X-Accel-Buffering", "no");  // a proxy in front must not hold events back
    return r;
}

}  // namespace corio::http
