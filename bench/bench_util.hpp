// bench/bench_util.hpp — helpers shared by corio's runtime benchmarks.
//
// Conventions of every bench_*.cpp:
//  - A benchmark's loop runs inside ONE corio::run (the loop is created once, outside the timed
//    region), so the numbers are the per-operation cost of the real public API path.
//  - The per-operation cost is reported as a counter named "per_<op>": CPU time of the thread
//    per operation, in seconds (the console shows e.g. "per_task=42.1ns"; the JSON output holds
//    4.21e-08). scripts/bench_table.py reads these counters.
#pragma once

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sched.h>

#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>
#include <corio/task.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

/// True if this process may run on `cpu` (benchmarks that pin need two CPUs).
inline bool cpu_usable(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    return ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(cpu, &set);
}

/// Pins the calling thread to one CPU while alive, then restores its affinity.
class pin_thread {
public:
    explicit pin_thread(int cpu) noexcept {
        ::sched_getaffinity(0, sizeof saved_, &saved_);
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        ::sched_setaffinity(0, sizeof set, &set);
    }
    ~pin_thread() { ::sched_setaffinity(0, sizeof saved_, &saved_); }
    pin_thread(const pin_thread&) = delete;
    pin_thread& operator=(const pin_thread&) = delete;

private:
    cpu_set_t saved_;
};

/// Runs make_main(state) as corio's main task, without signal handling (a benchmark binary is
/// not a service). The caller's benchmark loop runs inside that task.
template <class MakeMain>
void run_in_loop(benchmark::State& state, MakeMain make_main, bool virtual_time = false, bool debug = false) {
    corio::run(make_main(state), {.virtual_time = virtual_time, .handle_signals = false, .debug = debug});
}

/// While alive, glibc keeps freed heap memory instead of returning the top of the heap to the OS
/// (whether it does otherwise depends on what else happens to sit on the heap). Benchmarks that
/// free a million tasks between rounds use it so that every round measures memory reuse, not
/// first-touch page faults (those are measured on purpose by the "cold" benchmarks).
class retain_freed_memory {
public:
    retain_freed_memory() noexcept { ::mallopt(M_TRIM_THRESHOLD, 1 << 30); }
    ~retain_freed_memory() { ::mallopt(M_TRIM_THRESHOLD, 128 * 1024); }  // glibc's default
    retain_freed_memory(const retain_freed_memory&) = delete;
    retain_freed_memory& operator=(const retain_freed_memory&) = delete;
};

/// Returns every free page of every malloc arena to the OS, so that the next allocations touch
/// fresh pages (for the "cold" and memory benchmarks, which run on a new thread: glibc may hand
/// it an arena that an earlier thread used).
inline void release_freed_memory() noexcept { ::malloc_trim(0); }

/// Reports the time per operation as counter `per_<op>` (seconds) when every benchmark
/// iteration performs `ops_per_iteration` operations.
inline void report_time_per_op(benchmark::State& state, const std::string& op,
                               double ops_per_iteration) {
    state.counters["per_" + op] = benchmark::Counter(
        ops_per_iteration,
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// A task that completes at once.
inline corio::task<int> ready_value(int v) { co_return v; }

/// A task that sleeps for `d` (or until it is cancelled).
inline corio::task<> sleeper(corio::clock::duration d) { co_await corio::sleep(d); }

/// Cancels every task and waits until all have finished, without rethrowing their
/// cancelled_error (which `co_await handle` would do once per task).
inline corio::task<> cancel_and_drain(std::vector<corio::join_handle<>>& tasks) {
    for (auto& t : tasks) t.cancel();
    for (auto& t : tasks) {
        while (!t.done()) co_await corio::yield();  // one yield normally suffices for all
    }
}

}  // namespace bench
