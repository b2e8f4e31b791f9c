// tests/test_debug.cpp — debug mode (corio/debug.hpp): each detector fires on the mistake it is
// for, with the culprit's name and file:line, and stays quiet on the correct form.
#include <array>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <corio/debug.hpp>
#include <corio/log.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/server.hpp>
#include <corio/net/tcp.hpp>
#include <corio/shield.hpp>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

/// Collects what corio logs (from any thread) while it lives.
class captured_log {
public:
    captured_log() : previous_(corio::set_error_logger([this](std::string_view m) { add(m); })) {}
    ~captured_log() { corio::set_error_logger(previous_); }
    std::string text() const {
        std::lock_guard lock(mutex_);
        return text_;
    }

private:
    void add(std::string_view m) {
        std::lock_guard lock(mutex_);
        text_.append(m).append("\n");
    }
    mutable std::mutex mutex_;
    std::string text_;
    corio::error_logger previous_;
};

/// "tests/test_debug.cpp:<line>", how reports name a place in this file.
std::string here(int line) { return "tests/test_debug.cpp:" + std::to_string(line); }

constexpr corio::run_options debug_virtual{.virtual_time = true, .handle_signals = false, .debug = true};

corio::task<int> fail_after_sleep(std::chrono::nanoseconds d) {
    co_await corio::sleep(d);
    throw std::runtime_error("disk on fire");
}

corio::task<int> value_now(int v) { co_return v; }

corio::task<int> value_later(int v) {
    co_await corio::sleep(1ms);
    co_return v;
}

}  // namespace

TEST(debug_mode, is_off_by_default_and_reports_nothing) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        EXPECT_FALSE(corio::debug_enabled());
        (void)corio::spawn(corio::sleep(1h), "leaked-quietly");
        co_return;
    }(), {.virtual_time = true, .handle_signals = false});
    EXPECT_EQ(corio::debug_stats().total(), before.total());
    EXPECT_EQ(log.text(), "");
}

TEST(debug_mode, corio_debug_in_the_environment_turns_it_on) {
    ::setenv("CORIO_DEBUG", "1", 1);
    const bool on = corio::run([]() -> corio::task<bool> { co_return corio::debug_enabled(); }(),
                               {.virtual_time = true, .handle_signals = false});
    ::unsetenv("CORIO_DEBUG");
    EXPECT_TRUE(on);
}

TEST(debug_mode, an_unretrieved_error_names_the_task_and_its_spawn_site) {
    captured_log log;
    const auto before = corio::debug_stats();
    int line = 0;
    corio::run([](int& line) -> corio::task<> {
        line = __LINE__ + 1;
        (void)corio::spawn(fail_after_sleep(1ms), "doomed");
        co_await corio::sleep(10ms);
    }(line), debug_virtual);
    EXPECT_EQ(corio::debug_stats().unretrieved_error, before.unretrieved_error + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: unretrieved error: task #"), std::string::npos) << text;
    EXPECT_NE(text.find("'doomed' failed and nobody retrieved its error: disk on fire"), std::string::npos) << text;
    EXPECT_NE(text.find("spawned at " + here(line)), std::string::npos) << text;
    EXPECT_NE(text.find("fail_after_sleep"), std::string::npos) << text;  // where the error came from
}

TEST(debug_mode, a_retrieved_error_is_not_reported) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(fail_after_sleep(1ms), "handled");
        co_await corio_test::expect_throws<std::runtime_error>(h, "disk on fire");
    }(), debug_virtual);
    EXPECT_EQ(corio::debug_stats().total(), before.total());
    EXPECT_EQ(log.text(), "");
}

namespace {

corio::task<int> swallows_cancellation() {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        co_return -1;  // the mistake: cancellation caught and turned into a value
    }
    co_return 0;
}

corio::task<int> cleans_up_and_rethrows() {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        throw;
    }
    co_return 0;
}

}  // namespace

TEST(debug_mode, a_swallowed_cancellation_is_reported_with_its_spawn_site) {
    captured_log log;
    const auto before = corio::debug_stats();
    int line = 0;
    corio::run([](int& line) -> corio::task<> {
        line = __LINE__ + 1;
        auto h = corio::spawn(swallows_cancellation(), "stubborn");
        co_await corio::sleep(1ms);
        h.cancel();
        EXPECT_EQ(co_await h, -1);
    }(line), debug_virtual);
    EXPECT_EQ(corio::debug_stats().swallowed_cancellation, before.swallowed_cancellation + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: swallowed cancellation: task #"), std::string::npos) << text;
    EXPECT_NE(text.find("'stubborn' was cancelled, caught cancelled_error and completed normally"), std::string::npos) << text;
    EXPECT_NE(text.find("spawned at " + here(line)), std::string::npos) << text;
}

TEST(debug_mode, a_cancellation_that_propagates_is_not_reported) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(cleans_up_and_rethrows(), "polite");
        co_await corio::sleep(1ms);
        h.cancel();
        co_await corio_test::expect_throws<corio::cancelled_error>(h);
        // Cancelled before reaching any suspension point: completing normally is fine.
        auto quick = corio::spawn(value_now(1), "quick");
        quick.cancel();
        co_await corio::sleep(2s);
    }(), debug_virtual);
    EXPECT_EQ(corio::debug_stats().total(), before.total());
    EXPECT_EQ(log.text(), "");
}

namespace {
corio::task<> keeps_going_after_cancel() {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
    }
    co_await corio::uncancellable(corio::sleep(5s));  // still suspending long after the request
    throw corio::cancelled_error("finally");
}
}  // namespace

TEST(debug_mode, a_cancelled_task_still_running_after_the_grace_is_reported) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(keeps_going_after_cancel(), "slow-to-stop");
        co_await corio::sleep(1ms);
        h.cancel();
        co_await corio_test::expect_throws<corio::cancelled_error>(h);
    }(), debug_virtual);
    EXPECT_EQ(corio::debug_stats().slow_cancellation, before.slow_cancellation + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: slow cancellation: task #"), std::string::npos) << text;
    EXPECT_NE(text.find("'slow-to-stop' is still running 1s after it was cancelled (sleeping"), std::string::npos) << text;
    EXPECT_NE(text.find("keeps_going_after_cancel"), std::string::npos) << text;  // its async stack
}

TEST(debug_mode, tasks_pending_when_run_returns_are_listed_as_leaked) {
    captured_log log;
    const auto before = corio::debug_stats();
    int line = 0;
    corio::run([](int& line) -> corio::task<> {
        line = __LINE__ + 1;
        (void)corio::spawn(corio::sleep(1h), "forgotten");
        co_await corio::sleep(5ms);
    }(line), debug_virtual);
    EXPECT_EQ(corio::debug_stats().leaked_task, before.leaked_task + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: leaked task: 1 task was still pending when run() returned; cancelling it"), std::string::npos) << text;
    EXPECT_NE(text.find("'forgotten'"), std::string::npos) << text;
    EXPECT_NE(text.find("sleeping, wakes in"), std::string::npos) << text;
    EXPECT_NE(text.find("age 5ms"), std::string::npos) << text;
    EXPECT_NE(text.find("spawned at " + here(line)), std::string::npos) << text;
}

TEST(debug_mode, a_task_never_awaited_is_reported_with_the_line_that_dropped_it) {
    captured_log log;
    const auto before = corio::debug_stats();
    int line = 0;
    corio::run([](int& line) -> corio::task<> {
        line = __LINE__ + 1;
        (void)value_later(7);
        EXPECT_EQ(co_await value_later(8), 8);  // awaited: fine
        auto spawned = corio::spawn(value_later(9));  // spawned: fine
        EXPECT_EQ(co_await spawned, 9);
    }(line), debug_virtual);
    EXPECT_EQ(corio::debug_stats().never_awaited, before.never_awaited + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: never awaited: a task of value_later"), std::string::npos) << text;
    EXPECT_NE(text.find("was created and never awaited or spawned\n    dropped at "), std::string::npos) << text;
    EXPECT_NE(text.find(here(line)), std::string::npos) << text;
}

namespace {
int blocking_line = 0;
corio::task<> blocks_the_loop() {
    co_await corio::sleep(1ms);
    blocking_line = __LINE__ + 1;
    std::this_thread::sleep_for(400ms);
}
}  // namespace

TEST(debug_mode, a_blocked_loop_is_reported_with_the_blocking_line) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        co_await corio::spawn(blocks_the_loop(), "blocker");
    }(), {.handle_signals = false, .debug = true});
    EXPECT_EQ(corio::debug_stats().blocked_loop, before.blocked_loop + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: blocked loop: one step has run for"), std::string::npos) << text;
    EXPECT_NE(text.find("'blocker', spawned at tests/test_debug.cpp:"), std::string::npos) << text;
    EXPECT_NE(text.find("blocks_the_loop"), std::string::npos) << text;
    EXPECT_NE(text.find(" at " + here(blocking_line)), std::string::npos) << text;
}

TEST(debug_mode, a_loop_that_awaits_its_sleeps_is_not_reported_as_blocked) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run([]() -> corio::task<> {
        co_await corio::sleep(400ms);
        for (int i = 0; i < 20; ++i) {
            std::this_thread::sleep_for(5ms);  // short steps are fine
            co_await corio::yield();
        }
    }(), {.handle_signals = false, .debug = true});
    EXPECT_EQ(corio::debug_stats().total(), before.total());
    EXPECT_EQ(log.text(), "");
}

namespace {
constexpr int leaf_line = __LINE__ + 1;
corio::task<> leaf_sleeper() { co_await corio::sleep(1h); }
constexpr int middle_line = __LINE__ + 1;
corio::task<> middle() { co_await leaf_sleeper(); }

/// dump_tasks() while a task 'worker' sleeps in middle() -> leaf_sleeper(), 3 ms after its spawn.
std::string dump_while_a_worker_sleeps(corio::run_options options) {
    std::string dump;
    corio::run([](std::string& dump) -> corio::task<> {
        auto worker = corio::spawn(middle(), "worker");
        co_await corio::sleep(3ms);
        std::ostringstream out;
        corio::dump_tasks(out);
        dump = out.str();
        worker.cancel();
        co_await corio_test::expect_throws<corio::cancelled_error>(worker);
    }(dump), options);
    return dump;
}
}  // namespace

TEST(debug_mode, dump_tasks_prints_the_tree_with_states_and_async_stacks) {
    const std::string dump = dump_while_a_worker_sleeps(debug_virtual);
    EXPECT_NE(dump.find("corio: 2 live tasks on this loop"), std::string::npos) << dump;
    EXPECT_NE(dump.find("task #"), std::string::npos) << dump;
    EXPECT_NE(dump.find("'main'\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("    task #"), std::string::npos) << dump;  // the child, under main
    EXPECT_NE(dump.find("'worker'"), std::string::npos) << dump;
    EXPECT_NE(dump.find("sleeping, wakes in"), std::string::npos) << dump;
    EXPECT_NE(dump.find("age 3ms"), std::string::npos) << dump;
    const auto leaf = dump.find(" at " + here(leaf_line));
    const auto mid = dump.find(" at " + here(middle_line));
    EXPECT_NE(leaf, std::string::npos) << dump;
    EXPECT_NE(mid, std::string::npos) << dump;
    EXPECT_LT(leaf, mid) << dump;  // innermost first
}

namespace {

/// Accepts connections and answers each with "hello" twice, then closes them.
corio::task<> say_hello(corio::net::tcp_listener listener, int connections) {
    for (int i = 0; i < connections; ++i) {
        auto peer = co_await listener.accept();
        co_await peer.write_all("hello");
        co_await corio::sleep(1ms);
        co_await peer.write_all("hello");
        co_await peer.aclose();
    }
}

int unbounded_read_line = 0;

/// Reads twice from one call site (with whatever deadline the caller set).
corio::task<> read_twice(corio::net::tcp_stream& stream) {
    std::array<char, 5> buffer;
    for (int i = 0; i < 2; ++i) {
        unbounded_read_line = __LINE__ + 1;
        CO_ASSERT_EQ(co_await stream.read_some(buffer), 5u);
    }
}

corio::task<> connect_and_read(corio::net::endpoint server, corio::net::tcp_options options, bool bounded) {
    auto stream = co_await corio::wait_for(corio::net::tcp_stream::connect(server, options), 5s);
    if (bounded)
        co_await corio::wait_for(read_twice(stream), 5s);
    else
        co_await read_twice(stream);
    co_await stream.aclose();
}

corio::task<> unbounded_and_bounded_reads() {
    auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
    const auto server = listener.local_endpoint();
    auto serving = corio::spawn(say_hello(std::move(listener), 3));
    co_await connect_and_read(server, {.read_timeout = 24h}, false);  // reported once, for two reads
    co_await connect_and_read(server, {.read_timeout = 24h}, true);   // a wait_for bounds it
    co_await connect_and_read(server, {}, false);                      // its own 60 s limit bounds it
    co_await serving;
}

}  // namespace

TEST(debug_mode, an_external_call_without_a_deadline_is_reported_once_per_call_site) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run(unbounded_and_bounded_reads(), {.handle_signals = false, .debug = true});
    EXPECT_EQ(corio::debug_stats().no_deadline, before.no_deadline + 1);
    const std::string text = log.text();
    EXPECT_NE(text.find("corio debug: no deadline: TCP read from 127.0.0.1:"), std::string::npos) << text;
    EXPECT_NE(text.find("has no deadline within 300s"), std::string::npos) << text;
    EXPECT_NE(text.find(" at " + here(unbounded_read_line)), std::string::npos) << text;
    EXPECT_NE(text.find("its own limit: 86400s; the nearest enclosing deadline: none"), std::string::npos) << text;
    EXPECT_EQ(corio::debug_stats().total(), before.total() + 1) << text;
}

TEST(debug_mode, sigusr1_prints_the_task_dump_to_stderr) {
    testing::internal::CaptureStderr();
    corio::run([]() -> corio::task<> {
        auto worker = corio::spawn(middle(), "worker");
        co_await corio::sleep(1ms);
        ::raise(SIGUSR1);
        co_await corio::sleep(1ms);  // the loop takes the signal between steps
        worker.cancel();
        co_await corio_test::expect_throws<corio::cancelled_error>(worker);
    }(), {.virtual_time = true, .debug = true});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("corio: 2 live tasks on this loop"), std::string::npos) << err;
    EXPECT_NE(err.find("'worker'"), std::string::npos) << err;
    EXPECT_NE(err.find(" at " + here(leaf_line)), std::string::npos) << err;
}

TEST(debug_mode, without_debug_mode_the_dump_still_names_each_task_and_its_state) {
    const std::string dump = dump_while_a_worker_sleeps({.virtual_time = true, .handle_signals = false});
    EXPECT_NE(dump.find("corio: 2 live tasks on this loop"), std::string::npos) << dump;
    EXPECT_NE(dump.find("task 'worker'\n      sleeping, wakes in 3599s"), std::string::npos) << dump;
    EXPECT_NE(dump.find("task 'main'\n      running"), std::string::npos) << dump;
}

namespace {

int handler_sleep_line = 0;

corio::task<corio::http::response> blocking_handler(corio::http::request&) {
    handler_sleep_line = __LINE__ + 1;
    std::this_thread::sleep_for(300ms);  // the mistake: a blocking call in a handler
    co_return corio::http::response::text("done");
}

corio::task<> call_a_blocking_handler() {
    corio::http::server app;
    app.get("/report", blocking_handler);
    co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
    corio::http::client_session session;
    auto r = co_await session.get("http://" + app.local_endpoint()->to_string() + "/report");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(co_await r.text(), "done");
    co_await session.aclose();
    app.stop(1s);
    co_await app.wait_closed();
}

}  // namespace

TEST(debug_mode, sleep_for_in_an_http_handler_is_reported_with_its_line_and_nothing_else_is) {
    captured_log log;
    const auto before = corio::debug_stats();
    corio::run(call_a_blocking_handler(), {.handle_signals = false, .debug = true});
    const std::string text = log.text();
    EXPECT_EQ(corio::debug_stats().blocked_loop, before.blocked_loop + 1) << text;
    EXPECT_NE(text.find("corio debug: blocked loop: one step has run for"), std::string::npos) << text;
    EXPECT_NE(text.find("blocking_handler"), std::string::npos) << text;
    EXPECT_NE(text.find(" at " + here(handler_sleep_line)), std::string::npos) << text;
    // The HTTP client and server themselves commit none of the mistakes.
    EXPECT_EQ(corio::debug_stats().total(), before.total() + 1) << text;
}
