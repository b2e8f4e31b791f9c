// LISTEN/NOTIFY on a pg::connection: listen, unlisten, notify, and the notifications generator.
#include "corio/pg/connection.hpp"

#include <stdexcept>

#include "connection_state.hpp"

namespace corio::pg {

namespace {

/// `channel` as an SQL identifier, double-quoted (a quote inside doubled): whatever it holds, it
/// stays one name. std::invalid_argument unless it is 1 to 63 bytes without NUL (the server
/// would cut a longer name, and pg_notify would refuse it).
std::string channel_identifier(const std::string& channel) {
    if (channel.empty() || channel.size() > 63 || channel.find('\0') != std::string::npos)
        throw std::invalid_argument("pg: a channel name is 1 to 63 bytes without NUL, not " + std::to_string(channel.size()) + " bytes" +
                                    (channel.find('\0') != std::string::npos ? " with a NUL" : ""));
    std::string quoted = "\"";
    for (const char c : channel) quoted += c == '"' ? "\"\"" : std::string(1, c);
    return quoted + "\"";
}

/// The next notification, the connection held while the wait lasts (see notifications()).
task<std::optional<notification>> wait_for_notification(std::shared_ptr<connection::state> s) {
    auto claimed = co_await claim(s, "a wait for notifications");
    co_return co_await s->recovering(s->next_notification());  // broken: recover() closes it
}

}  // namespace

task<notification> connection::state::next_notification() {
    for (;;) {
        if (PGnotify* raw = PQnotifies(conn)) {
            const std::unique_ptr<PGnotify, void (*)(void*)> owned(raw, PQfreemem);
            notification received{raw->relname, raw->extra != nullptr ? raw->extra : "", raw->be_pid};
            co_return std::move(received);
        }
        co_await input_ready(clock::time_point::max());  // the caller bounds it (wait_for...)
        consume_input("waiting for notifications");
    }
}

task<> connection::listen(std::string channel) { return completed(run(state_, "listen " + channel_identifier(channel), {})); }

task<> connection::unlisten(std::string channel) { return completed(run(state_, "unlisten " + channel_identifier(channel), {})); }

task<> connection::notify(std::string channel, std::string payload) {
    channel_identifier(channel);  // the same names as listen()
    return completed(run(state_, "select pg_notify($1, $2)", {pg::to_param(channel), pg::to_param(payload)}));
}

async_generator<notification> connection::notifications() {
    auto next = [s = state_] { return wait_for_notification(s); };
    return corio::detail::generate_from<notification>(std::move(next));
}

}  // namespace corio::pg
