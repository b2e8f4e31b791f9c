// bench/bench_tasks.cpp — cost of spawning, joining and awaiting tasks, and of wait_for.
//
//   spawn_await_batches/1000   spawn 1000 trivial tasks, co_await each handle; 1M tasks per
//                              iteration                                        -> per_task
//   spawn_await_debug/1000     the same in debug mode (corio/debug.hpp): what spawn sites,
//                              task records and the watchdog's step counter cost -> per_task
//   spawn_alive/1000000        spawn 1M tasks (all alive at once), then co_await each; after
//                              an untimed warm-up round, so memory is reused    -> per_task
//   spawn_alive_cold/1000000   the same on a fresh thread after malloc_trim (empty frame pool,
//                              no free heap memory): includes the first touch of every page,
//                              as a program's first burst of tasks does        -> per_task
//   await_ready/N              `co_await child()` on a child that returns at once -> per_await
//   wait_for_ready/N           `co_await wait_for(child(), 10s)`, same child       -> per_await
// N = number of other pending timers (sleeping tasks) while awaiting: the timeout's heap insert
// and remove cost grows with it. The timeout overhead is wait_for_ready/N - await_ready/N.
#include "bench_util.hpp"

#include <corio/wait_for.hpp>

#include <time.h>

#include <chrono>
#include <cstdint>
#include <thread>

using namespace std::chrono_literals;

namespace {

constexpr std::int64_t tasks_per_iteration = 1'000'000;

corio::task<> trivial() { co_return; }

/// Spawns `batch` tasks at a time and awaits them, until `total` tasks have run.
corio::task<> spawn_then_await(std::int64_t total, std::int64_t batch,
                               std::vector<corio::join_handle<>>& handles) {
    for (std::int64_t started = 0; started < total; started += batch) {
        for (std::int64_t i = 0; i < batch; ++i) handles.push_back(corio::spawn(trivial()));
        for (auto& h : handles) co_await h;
        handles.clear();
    }
}

/// Handles for `batch` tasks, their pages already touched (so that only corio's cost is timed).
std::vector<corio::join_handle<>> handle_buffer(std::int64_t batch) {
    std::vector<corio::join_handle<>> handles(static_cast<std::size_t>(batch));
    handles.clear();
    return handles;
}

corio::task<> spawn_await_main(benchmark::State& state) {
    const std::int64_t batch = state.range(0);
    auto handles = handle_buffer(batch);
    co_await spawn_then_await(tasks_per_iteration, batch, handles);  // warm-up
    for (auto _ : state) co_await spawn_then_await(tasks_per_iteration, batch, handles);
    bench::report_time_per_op(state, "task", tasks_per_iteration);
}

void spawn_await_batches(benchmark::State& state) { bench::run_in_loop(state, spawn_await_main); }
BENCHMARK(spawn_await_batches)->Arg(1000)->Unit(benchmark::kMillisecond);

void spawn_await_debug(benchmark::State& state) { bench::run_in_loop(state, spawn_await_main, false, true); }
BENCHMARK(spawn_await_debug)->Arg(1000)->Unit(benchmark::kMillisecond);

void spawn_alive(benchmark::State& state) {
    bench::retain_freed_memory retain;
    bench::run_in_loop(state, spawn_await_main);
}
BENCHMARK(spawn_alive)->Arg(tasks_per_iteration)->Unit(benchmark::kMillisecond);

double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

corio::task<> timed_spawn_alive(std::int64_t count, double& seconds) {
    auto handles = handle_buffer(count);
    const double start = thread_cpu_seconds();
    co_await spawn_then_await(count, count, handles);
    seconds = thread_cpu_seconds() - start;
}

void spawn_alive_cold(benchmark::State& state) {
    for (auto _ : state) {
        bench::release_freed_memory();
        double seconds = 0;
        std::thread([&] {
            corio::run(timed_spawn_alive(state.range(0), seconds), {.handle_signals = false});
        }).join();
        state.SetIterationTime(seconds);  // CPU time of that thread (user + page faults)
    }
    bench::report_time_per_op(state, "task", static_cast<double>(state.range(0)));
}
BENCHMARK(spawn_alive_cold)->Arg(tasks_per_iteration)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Spawns `count` tasks sleeping for an hour and lets them reach their sleep.
corio::task<std::vector<corio::join_handle<>>> background_sleepers(std::int64_t count) {
    std::vector<corio::join_handle<>> sleepers;
    for (std::int64_t i = 0; i < count; ++i) sleepers.push_back(corio::spawn(bench::sleeper(1h)));
    co_await corio::yield();
    co_return sleepers;
}

/// Times `op(int) -> awaitable<int>` once per benchmark iteration, with state.range(0) other
/// timers pending.
template <class Op>
corio::task<> await_loop(benchmark::State& state, Op op) {
    auto sleepers = co_await background_sleepers(state.range(0));
    int v = 0;
    for (auto _ : state) {
        v = co_await op(v);
        benchmark::DoNotOptimize(v);
    }
    bench::report_time_per_op(state, "await", 1);
    co_await bench::cancel_and_drain(sleepers);
}

void await_ready(benchmark::State& state) {
    bench::run_in_loop(state, [](benchmark::State& s) {
        return await_loop(s, [](int v) { return bench::ready_value(v + 1); });
    });
}
BENCHMARK(await_ready)->Arg(0)->Arg(10'000);

void wait_for_ready(benchmark::State& state) {
    bench::run_in_loop(state, [](benchmark::State& s) {
        return await_loop(s, [](int v) { return corio::wait_for(bench::ready_value(v + 1), 10s); });
    });
}
BENCHMARK(wait_for_ready)->Arg(0)->Arg(10'000);

}  // namespace

BENCHMARK_MAIN();
