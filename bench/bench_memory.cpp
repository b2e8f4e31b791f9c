// bench/bench_memory.cpp — memory held by a sleeping task.
//
//   sleeping_task_memory/N   spawn N tasks that `co_await corio::sleep(1h)`, let them all
//                            suspend, and measure the growth of the process's resident memory
//                            (/proc/self/statm), divided by N.
// Counters (bytes): rss_per_task (the goal metric: what the OS had to provide, pages actually
// touched), heap_per_task (bytes malloc handed out per task, from a counting operator new),
// frame_bytes and task_state_bytes (the two allocations of one such task, as rounded by corio's
// frame pool), sizeof_task_state.
//
// Each measurement runs on a fresh thread, after malloc_trim: corio's per-thread frame pool
// starts empty and the malloc arena holds no free memory, so nothing freed by an earlier
// measurement is reused and hides the cost.
#include "bench_util.hpp"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>

using namespace std::chrono_literals;

// ---- counting global allocator: live heap bytes, and the sizes requested while recording ----

namespace {

std::atomic<std::size_t> live_heap_bytes{0};
thread_local std::vector<std::size_t>* recorded_sizes = nullptr;  // non-null while recording

void* counted_alloc(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    live_heap_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
    if (auto* sizes = std::exchange(recorded_sizes, nullptr)) {  // no recursion while recording
        sizes->push_back(size);
        recorded_sizes = sizes;
    }
    return p;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    live_heap_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
    std::free(p);
}

}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size); }
void* operator new[](std::size_t size) { return counted_alloc(size); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace {

std::size_t resident_bytes() {
    long pages_total = 0, pages_resident = 0;
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    const int n = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    std::fclose(f);
    return n == 2 ? static_cast<std::size_t>(pages_resident) * ::sysconf(_SC_PAGESIZE) : 0;
}

struct memory_sample {
    double rss_per_task = 0;
    double heap_per_task = 0;
    std::vector<std::size_t> first_task_allocations;  // sizes allocated by spawning one task
};

corio::task<> sleep_an_hour() { co_await corio::sleep(1h); }

/// Spawns one probe task (recording its allocations), then `count` more, and measures the
/// growth once they all sleep.
corio::task<> measure_sleepers(std::size_t count, memory_sample& out) {
    std::vector<corio::join_handle<>> tasks(count + 1);  // touched now, not counted below
    std::vector<std::size_t> sizes;
    sizes.reserve(8);
    recorded_sizes = &sizes;
    tasks[0] = corio::spawn(sleep_an_hour());
    recorded_sizes = nullptr;
    co_await corio::yield();  // the probe reaches its sleep (the timer heap gets storage)

    const std::size_t rss_before = resident_bytes();
    const std::size_t heap_before = live_heap_bytes.load();
    for (std::size_t i = 1; i <= count; ++i) tasks[i] = corio::spawn(sleep_an_hour());
    co_await corio::yield();  // all of them suspend on their timers
    const std::size_t rss_after = resident_bytes();
    const std::size_t heap_after = live_heap_bytes.load();

    out.rss_per_task = static_cast<double>(rss_after - rss_before) / static_cast<double>(count);
    out.heap_per_task = (static_cast<double>(heap_after) - static_cast<double>(heap_before)) /
                        static_cast<double>(count);
    out.first_task_allocations = std::move(sizes);
    co_await bench::cancel_and_drain(tasks);
}

void sleeping_task_memory(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    memory_sample sample;
    for (auto _ : state) {
        bench::release_freed_memory();
        std::thread([&] {
            corio::run(measure_sleepers(count, sample),
                       {.virtual_time = true, .handle_signals = false});
        }).join();
    }
    state.counters["rss_per_task"] = sample.rss_per_task;
    state.counters["heap_per_task"] = sample.heap_per_task;
    // spawn(f()) allocates f's frame, then the task_state (through corio's frame pool).
    const auto& sizes = sample.first_task_allocations;
    if (sizes.size() != 2) {
        state.SkipWithError("spawning a task did not make exactly two allocations");
        return;
    }
    state.counters["frame_bytes"] = static_cast<double>(sizes[0]);
    state.counters["task_state_bytes"] = static_cast<double>(sizes[1]);
    state.counters["sizeof_task_state"] = sizeof(corio::detail::task_state);
}
BENCHMARK(sleeping_task_memory)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
