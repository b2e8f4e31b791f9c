// bench/compare/peers/asio_tasks.cpp — Boost.Asio's C++20 coroutines measured as
// compare_corio_tasks measures corio, one measurement per process, single-threaded
// (io_context with concurrency hint 1):
//
//   --test spawn_await [--n 1000000]  co_spawn 1000 trivial coroutines and wait for all of
//                       them, until n have run (after a warm-up of n/10)     -> ns per task
//                       Asio has no join handle: each co_spawn's completion handler counts down,
//                       the last one wakes the spawner (which waits on a timer it cancels). This
//                       is the cheapest way found: experimental::use_promise, a join handle per
//                       task awaited one by one, costs about 1.7x as much.
//   --test spawn_alive [--n 1000000]  the same with all n alive at once, fresh memory
//   --test await                      `co_await child()`, an awaitable that returns at once
//   --test wait_for                   `co_await (child() || timer.async_wait())` with a 10 s
//                       steady_timer (awaitable_operators), minus the plain await -> added ns
//   --test memory [--n 100000]        n detached coroutines each waiting an hour on a
//                       steady_timer: growth of resident memory / n         -> bytes per task
// --min-seconds S (default 0.3): the await tests repeat until S of CPU time has passed.
// Prints one JSON line: test, value, unit, n.
#include "../common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

asio::awaitable<void> trivial() { co_return; }
asio::awaitable<int> ready_value(int v) { co_return v; }
asio::awaitable<void> sleep_an_hour() {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    co_await timer.async_wait(asio::use_awaitable);
}

volatile int sink = 0;

/// Spawns `batch` coroutines at a time and waits until all have finished, until `total` have run.
asio::awaitable<void> spawn_then_await(std::int64_t total, std::int64_t batch) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer all_done(ex);
    for (std::int64_t started = 0; started < total; started += batch) {
        std::int64_t pending = batch;
        all_done.expires_at(asio::steady_timer::time_point::max());
        for (std::int64_t i = 0; i < batch; ++i)
            asio::co_spawn(ex, trivial(), [&](std::exception_ptr) {
                if (--pending == 0) all_done.cancel();
            });
        boost::system::error_code cancelled;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    }
}

asio::awaitable<double> spawn_await(std::int64_t n) {
    co_await spawn_then_await(std::max<std::int64_t>(n / 10, 1000), 1000);  // warm-up
    const double start = compare::process_cpu_precise();
    co_await spawn_then_await(n, 1000);
    co_return (compare::process_cpu_precise() - start) / static_cast<double>(n) * 1e9;
}

asio::awaitable<double> spawn_alive(std::int64_t n) {
    const double start = compare::process_cpu_precise();
    co_await spawn_then_await(n, n);
    co_return (compare::process_cpu_precise() - start) / static_cast<double>(n) * 1e9;
}

template <class Op>
asio::awaitable<double> per_await(Op op, double min_seconds) {
    int v = 0;
    for (int i = 0; i < 1'000; ++i) v = co_await op(v);  // warm-up
    std::int64_t done = 0;
    const double start = compare::process_cpu_precise();
    double elapsed = 0;
    while (elapsed < min_seconds) {
        for (int i = 0; i < 1'000; ++i) v = co_await op(v);
        done += 1'000;
        elapsed = compare::process_cpu_precise() - start;
    }
    sink = v;
    co_return elapsed / static_cast<double>(done) * 1e9;
}

asio::awaitable<int> bounded(int v) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 10s);
    auto r = co_await (ready_value(v + 1) || timer.async_wait(asio::use_awaitable));
    co_return r.index() == 0 ? std::get<0>(r) : -1;
}

asio::awaitable<double> wait_for_added(double min_seconds) {
    double a = 0, b = 0;
    for (int i = 0; i < 2; ++i) {
        a += co_await per_await([](int v) { return ready_value(v + 1); }, min_seconds / 2);
        b += co_await per_await(bounded, min_seconds / 2);
    }
    co_return (b - a) / 2;
}

double memory_per_sleeper(std::int64_t n) {
    asio::io_context ioc{1};
    asio::co_spawn(ioc, sleep_an_hour(), asio::detached);  // the timer queue gets its storage
    ioc.poll();
    const std::size_t before = compare::resident_bytes();
    for (std::int64_t i = 0; i < n; ++i) asio::co_spawn(ioc, sleep_an_hour(), asio::detached);
    ioc.poll();  // every coroutine starts and waits on its timer
    const std::size_t after = compare::resident_bytes();
    ioc.stop();
    return static_cast<double>(after - before) / static_cast<double>(n);
}

double measure(const std::string& test, std::int64_t n, double min_seconds) {
    if (test == "memory") return memory_per_sleeper(n > 0 ? n : 100'000);
    asio::io_context ioc{1};
    double value = 0;
    std::exception_ptr failure;
    auto body = [&]() -> asio::awaitable<double> {
        if (test == "spawn_await") co_return co_await spawn_await(n > 0 ? n : 1'000'000);
        if (test == "spawn_alive") co_return co_await spawn_alive(n > 0 ? n : 1'000'000);
        if (test == "await") co_return co_await per_await([](int v) { return ready_value(v + 1); }, min_seconds);
        if (test == "wait_for") co_return co_await wait_for_added(min_seconds);
        throw std::invalid_argument("unknown test " + test);
    };
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e, double v) {
        failure = e;
        value = v;
    });
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string test = compare::arg(argc, argv, "test", "");
    const auto n = static_cast<std::int64_t>(compare::arg_number(argc, argv, "n", 0));
    const double min_seconds = compare::arg_number(argc, argv, "min-seconds", 0.3);
    if (test.empty()) {
        std::fprintf(stderr, "usage: %s --test spawn_await|spawn_alive|await|wait_for|memory [--n N] [--min-seconds S]\n",
                     argv[0]);
        return 2;
    }
    try {
        const double value = measure(test, n, min_seconds);
        compare::json_line()
            .str("test", test)
            .num("value", value)
            .str("unit", test == "memory" ? "bytes" : "ns")
            .num("n", static_cast<double>(n))
            .print();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio tasks: %s\n", e.what());
        return 1;
    }
    return 0;
}
