// bench/compare/corio_tasks.cpp — corio's task costs as the run script measures them, one
// measurement per process (so that each starts with fresh memory), single-threaded:
//
//   compare_corio_tasks --test spawn_await [--n 1000000]   spawn 1000 trivial tasks, co_await
//                       each handle, until n have run (after a warm-up of n/10)  -> ns per task
//   compare_corio_tasks --test spawn_alive [--n 1000000]   spawn n tasks, all alive at once,
//                       then co_await each; fresh memory (first touch included) -> ns per task
//   compare_corio_tasks --test await                       `co_await child()`, a child that
//                       returns at once                                          -> ns per await
//   compare_corio_tasks --test wait_for                    `co_await wait_for(child(), 10s)`
//                       minus the plain await, same child, same process         -> added ns
//   compare_corio_tasks --test memory [--n 100000]         n tasks sleeping an hour: growth of
//                       resident memory / n, coroutine frame included            -> bytes per task
// --min-seconds S (default 0.3): the await tests repeat until S of CPU time has passed.
// Times are the process's CPU time (the run script pins it to one CPU). Prints one JSON line:
// test, value, unit, n, backend (CORIO_BACKEND as given).
#include "common.hpp"

#include <corio/error.hpp>
#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>
#include <corio/task.hpp>
#include <corio/wait_for.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::task<> trivial() { co_return; }
corio::task<int> ready_value(int v) { co_return v; }
corio::task<> sleep_an_hour() { co_await corio::sleep(1h); }

volatile int sink = 0;  // keeps the awaited values alive

/// Spawns `batch` tasks at a time and awaits each, until `total` have run.
corio::task<> spawn_then_await(std::int64_t total, std::int64_t batch, std::vector<corio::join_handle<>>& handles) {
    for (std::int64_t started = 0; started < total; started += batch) {
        for (std::int64_t i = 0; i < batch; ++i) handles.push_back(corio::spawn(trivial()));
        for (auto& h : handles) co_await h;
        handles.clear();
    }
}

/// A vector with room for `n` handles, its pages touched (so only corio's cost is timed).
std::vector<corio::join_handle<>> handle_buffer(std::int64_t n) {
    std::vector<corio::join_handle<>> handles(static_cast<std::size_t>(n));
    handles.clear();
    return handles;
}

corio::task<double> spawn_await(std::int64_t n) {
    auto handles = handle_buffer(1000);
    co_await spawn_then_await(std::max<std::int64_t>(n / 10, 1000), 1000, handles);  // warm-up
    const double start = compare::process_cpu_precise();
    co_await spawn_then_await(n, 1000, handles);
    co_return (compare::process_cpu_precise() - start) / static_cast<double>(n) * 1e9;
}

corio::task<double> spawn_alive(std::int64_t n) {
    auto handles = handle_buffer(n);
    const double start = compare::process_cpu_precise();
    co_await spawn_then_await(n, n, handles);
    co_return (compare::process_cpu_precise() - start) / static_cast<double>(n) * 1e9;
}

/// ns per `co_await op(v)`, repeated in chunks until `min_seconds` of CPU time have passed.
template <class Op>
corio::task<double> per_await(Op op, double min_seconds) {
    int v = 0;
    for (int i = 0; i < 10'000; ++i) v = co_await op(v);  // warm-up
    std::int64_t done = 0;
    const double start = compare::process_cpu_precise();
    double elapsed = 0;
    while (elapsed < min_seconds) {
        for (int i = 0; i < 100'000; ++i) v = co_await op(v);
        done += 100'000;
        elapsed = compare::process_cpu_precise() - start;
    }
    sink = v;
    co_return elapsed / static_cast<double>(done) * 1e9;
}

corio::task<double> plain_await(double min_seconds) {
    co_return co_await per_await([](int v) { return ready_value(v + 1); }, min_seconds);
}

corio::task<double> wait_for_added(double min_seconds) {
    // Interleaved: plain, wait_for, plain, wait_for; the difference of the sums.
    double plain = 0, bounded = 0;
    for (int i = 0; i < 2; ++i) {
        plain += co_await per_await([](int v) { return ready_value(v + 1); }, min_seconds / 2);
        bounded += co_await per_await([](int v) { return corio::wait_for(ready_value(v + 1), 10s); }, min_seconds / 2);
    }
    co_return (bounded - plain) / 2;
}

corio::task<double> memory_per_sleeper(std::int64_t n) {
    auto tasks = handle_buffer(n + 1);
    tasks.push_back(corio::spawn(sleep_an_hour()));  // the first one gives the timer heap its storage
    co_await corio::yield();
    const std::size_t before = compare::resident_bytes();
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(corio::spawn(sleep_an_hour()));
    co_await corio::yield();  // all of them reach their sleep
    const std::size_t after = compare::resident_bytes();
    for (auto& t : tasks) t.cancel();
    for (auto& t : tasks)
        while (!t.done()) co_await corio::yield();
    co_return static_cast<double>(after - before) / static_cast<double>(n);
}

corio::task<double> measure(std::string test, std::int64_t n, double min_seconds) {
    if (test == "spawn_await") co_return co_await spawn_await(n > 0 ? n : 1'000'000);
    if (test == "spawn_alive") co_return co_await spawn_alive(n > 0 ? n : 1'000'000);
    if (test == "await") co_return co_await plain_await(min_seconds);
    if (test == "wait_for") co_return co_await wait_for_added(min_seconds);
    if (test == "memory") co_return co_await memory_per_sleeper(n > 0 ? n : 100'000);
    throw std::invalid_argument("unknown test " + test);
}

const char* unit_of(const std::string& test) {
    return test == "memory" ? "bytes" : "ns";
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
        const double value = corio::run(measure(test, n, min_seconds), {.handle_signals = false});
        compare::json_line()
            .str("test", test)
            .num("value", value)
            .str("unit", unit_of(test))
            .num("n", static_cast<double>(n))
            .str("backend", compare::backend_requested())
            .print();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio tasks: %s\n", e.what());
        return 1;
    }
    return 0;
}
