// Timeouts as scopes: a deadline over a block of calls (fail_after), a best-effort block
// (move_on_after), a block that moves its own deadline, and current_deadline().
#include <corio/corio.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// Stand-ins for network calls.
corio::task<std::string> fetch_user(int id) {
    co_await corio::sleep(5ms);
    co_return "user-" + std::to_string(id);
}
corio::task<> save(const std::string&) { co_await corio::sleep(5ms); }
corio::task<> refresh_cache() { co_await corio::sleep(1h); }
corio::task<> connect() { co_await corio::sleep(30ms); }
corio::task<> handshake() { co_await corio::sleep(30ms); }

corio::task<bool> blocks() {
    const int id = 7;
    // [snippet fail_after]
    co_await corio::fail_after(10s, [&]() -> corio::task<> {  // timeout_error after 10 s
        auto user = co_await fetch_user(id);
        co_await save(user);                                  // both within the 10 s
    });
    const bool gave_up = co_await corio::move_on_after(20ms, [&]() -> corio::task<> {
        co_await refresh_cache();                             // best effort: cut at 20 ms
    });
    // [end snippet]
    std::printf("the cache refresh was %s\n", gave_up ? "cut short" : "done");
    // [snippet reschedule]
    co_await corio::fail_after(50ms, [&](corio::timeout_scope& scope) -> corio::task<> {
        co_await connect();
        scope.reschedule(scope.deadline() + 50ms);  // the handshake earned more time
        co_await handshake();
    });
    // [end snippet]
    bool nearest_seen = false;
    co_await corio::fail_after(1s, [&]() -> corio::task<> {
        // A callee can ask how long it has left, and size its own limits to fit.
        nearest_seen = corio::current_deadline().has_value();
        co_return;
    });
    co_return gave_up && nearest_seen;
}

int main() {
    const bool ok = corio::run(blocks());
    std::printf("timeouts: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
