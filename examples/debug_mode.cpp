// Debug mode (corio/debug.hpp) catching each forbidden async pattern once, as it happens.
//
//   CORIO_DEBUG=1 build/examples/example_debug_mode
//
// Every pattern below compiles; debug mode names each one with the line that committed it. The
// README's "Debug mode" section shows this program's output (scripts/readme_snippets.py checks
// that it is still what the program prints). Run without CORIO_DEBUG=1, it reports nothing.
#include <corio/corio.hpp>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

corio::task<std::string> fetch_profile(int id) {
    if (id < 0) throw std::invalid_argument("no such user: " + std::to_string(id));
    co_await corio::sleep(1ms);
    co_return "user-" + std::to_string(id);
}

corio::task<int> count_retries() {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        co_return 0;  // swallowed: the canceller believes it stopped, the caller sees a value
    }
    co_return 1;
}

corio::task<> flush_forever() {
    bool cancelled = false;
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await corio::uncancellable(corio::sleep(300ms));  // a cleanup far longer than it should be
        throw corio::cancelled_error("flushed at last");
    }
}

corio::task<> greet(corio::net::tcp_listener listener) {
    auto peer = co_await listener.accept();
    co_await peer.write_all("hello");
    co_await peer.aclose();
}

corio::task<> forbidden_patterns() {
    auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
    const auto server = listener.local_endpoint();
    auto greeter = corio::spawn(greet(std::move(listener)), "greeter");

    // [snippet forbidden]
    // 1. Fire and forget: the failure has nobody to go to.
    (void)corio::spawn(fetch_profile(-1), "profile-refresh");
    // 2. A task made and dropped: its body never runs.
    (void)fetch_profile(7);
    // 3. A cancellation caught and turned into a value.
    auto retries = corio::spawn(count_retries(), "retry-counter");
    co_await corio::sleep(1ms);
    retries.cancel();
    co_await retries;
    // 4. A cancelled task that keeps on working.
    auto flusher = corio::spawn(flush_forever(), "flusher");
    co_await corio::sleep(1ms);
    flusher.cancel();
    // 5. A blocking call on the loop.
    std::this_thread::sleep_for(250ms);
    // 6. A read that may wait forever.
    auto stream = co_await corio::net::tcp_stream::connect(server, {.read_timeout = 24h});
    std::array<char, 5> greeting;
    co_await stream.read_some(greeting);
    // 7. A background task nobody stops before the program ends.
    (void)corio::spawn(corio::sleep(1h), "poller");
    // [end snippet]

    co_await stream.aclose();
    co_await greeter;
    try {
        co_await flusher;
    } catch (const corio::cancelled_error&) {  // the flusher's own cancellation, as requested
    }
}

int main() {
    const bool debug = corio::debug_requested_by_environment();
    if (!debug) std::puts("run with CORIO_DEBUG=1 to see debug mode's reports");
    corio::run(forbidden_patterns(), {.debug_settings = {.cancel_grace = 100ms}});
    const corio::debug_counts seen = corio::debug_stats();
    const bool each_once = seen.unretrieved_error == 1 && seen.never_awaited == 1 && seen.swallowed_cancellation == 1 &&
                           seen.slow_cancellation == 1 && seen.blocked_loop == 1 && seen.no_deadline == 1 &&
                           seen.leaked_task == 1;
    if (debug && !each_once) {
        std::fprintf(stderr, "example_debug_mode: expected each pattern reported once (got %llu reports)\n",
                     static_cast<unsigned long long>(seen.total()));
        return 1;
    }
    return 0;
}
