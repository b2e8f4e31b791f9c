// bench/bench_timers.cpp — cost of timers: the loop's heap alone, and sleeping tasks.
//
//   timer_heap_insert/1000000        insert 1M timers (random deadlines)        -> per_op
//   timer_heap_remove/1000000        remove 1M timers in random order           -> per_op
//   timer_heap_fire/1000000          fire 1M due timers (fire_expired)          -> per_op
//   timer_lane_insert_remove/1000000 insert 1M timers all set 60 s ahead as time advances (a
//                                    server's fixed timeouts: one lane), remove them in random
//                                    order                                      -> per_op (a pair)
//   sleepers_start_cancel/N          spawn N tasks sleeping 1h, let them start, cancel them
//                                    all, wait until they have finished         -> per_sleeper
//   sleepers_fire/1000000            spawn 1M tasks sleeping 0-999 ms (virtual time), await
//                                    them all as they fire (after an untimed warm-up round)
//                                                                               -> per_sleeper
// sleepers_start_cancel includes the spawn and two cancelled_error throws per task (the sleep
// throws, and completing the task rethrows its error to classify it); sleepers_fire includes the
// spawn and the join.
#include "bench_util.hpp"

#include <corio/detail/timer_heap.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>

using namespace std::chrono_literals;

namespace {

using corio::clock;
using corio::detail::timer_heap;
using corio::detail::timer_node;

struct counted_timer : timer_node {
    counted_timer() noexcept : timer_node(&fire) {}
    static void fire(timer_node&) noexcept { ++fired; }
    static inline std::size_t fired = 0;
};

/// n timers with deadlines spread over an hour, plus a random removal order; built once so that
/// the timed region only touches the heap.
struct timer_set {
    explicit timer_set(std::size_t n) : nodes(new counted_timer[n]), deadlines(n), order(n) {
        std::mt19937_64 rng(42);
        std::uniform_int_distribution<clock::rep> spread(0, clock::duration(1h).count());
        for (auto& d : deadlines) d = clock::time_point(clock::duration(spread(rng)));
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::shuffle(order.begin(), order.end(), rng);
    }
    void insert_all(timer_heap& heap) {  // random deadlines: the heap
        for (std::size_t i = 0; i < deadlines.size(); ++i) heap.insert(nodes[i], deadlines[i], clock::time_point{});
    }
    void insert_all_60s_ahead(timer_heap& heap) {  // one fixed duration as time advances: a lane
        for (std::size_t i = 0; i < deadlines.size(); ++i) {
            const auto now = clock::time_point(std::chrono::microseconds(i));
            heap.insert(nodes[i], now + 60s, now);
        }
    }
    void remove_all(timer_heap& heap) {
        for (std::size_t i : order) heap.remove(nodes[i]);
    }

    std::unique_ptr<counted_timer[]> nodes;
    std::vector<clock::time_point> deadlines;
    std::vector<std::size_t> order;
};

void timer_heap_insert(benchmark::State& state) {
    timer_set timers(static_cast<std::size_t>(state.range(0)));
    timer_heap heap;
    for (auto _ : state) {
        timers.insert_all(heap);
        state.PauseTiming();
        timers.remove_all(heap);
        state.ResumeTiming();
    }
    bench::report_time_per_op(state, "op", static_cast<double>(state.range(0)));
}
BENCHMARK(timer_heap_insert)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void timer_heap_remove(benchmark::State& state) {
    timer_set timers(static_cast<std::size_t>(state.range(0)));
    timer_heap heap;
    for (auto _ : state) {
        state.PauseTiming();
        timers.insert_all(heap);
        state.ResumeTiming();
        timers.remove_all(heap);
    }
    bench::report_time_per_op(state, "op", static_cast<double>(state.range(0)));
}
BENCHMARK(timer_heap_remove)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void timer_heap_fire(benchmark::State& state) {
    timer_set timers(static_cast<std::size_t>(state.range(0)));
    timer_heap heap;
    for (auto _ : state) {
        state.PauseTiming();
        timers.insert_all(heap);
        state.ResumeTiming();
        counted_timer::fired = 0;
        heap.fire_expired(clock::time_point::max());
        benchmark::DoNotOptimize(counted_timer::fired);
    }
    if (counted_timer::fired != static_cast<std::size_t>(state.range(0)))
        state.SkipWithError("not every timer fired");
    bench::report_time_per_op(state, "op", static_cast<double>(state.range(0)));
}
BENCHMARK(timer_heap_fire)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void timer_lane_insert_remove(benchmark::State& state) {
    timer_set timers(static_cast<std::size_t>(state.range(0)));
    timer_heap heap;
    for (auto _ : state) {
        timers.insert_all_60s_ahead(heap);
        timers.remove_all(heap);
    }
    if (!heap.empty()) state.SkipWithError("timers left behind");
    bench::report_time_per_op(state, "op", static_cast<double>(state.range(0)));
}
BENCHMARK(timer_lane_insert_remove)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

corio::task<> start_cancel_main(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    std::vector<corio::join_handle<>> sleepers;
    sleepers.reserve(count);
    for (auto _ : state) {
        for (std::size_t i = 0; i < count; ++i) sleepers.push_back(corio::spawn(bench::sleeper(1h)));
        co_await corio::yield();  // every sleeper runs up to its sleep
        co_await bench::cancel_and_drain(sleepers);
        for (auto& s : sleepers) {
            if (!s.cancelled()) state.SkipWithError("a sleeper was not cancelled");
        }
        sleepers.clear();
    }
    bench::report_time_per_op(state, "sleeper", static_cast<double>(count));
}

void sleepers_start_cancel(benchmark::State& state) {
    bench::run_in_loop(state, start_cancel_main, /*virtual_time=*/true);
}
BENCHMARK(sleepers_start_cancel)->Arg(10'000)->Unit(benchmark::kMillisecond);

corio::task<> fire_main(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> ms(0, 999);
    std::vector<clock::duration> delays(count);
    for (auto& d : delays) d = std::chrono::milliseconds(ms(rng));
    std::vector<corio::join_handle<>> sleepers;
    sleepers.reserve(count);
    auto round = [&]() -> corio::task<> {
        const auto start = clock::now();
        for (auto d : delays) sleepers.push_back(corio::spawn(bench::sleeper(d)));
        for (auto& s : sleepers) co_await s;
        if (clock::now() - start != 999ms) state.SkipWithError("virtual clock did not reach 999ms");
        sleepers.clear();
    };
    co_await round();  // warm-up: memory is reused afterwards, first-touch faults are not timed
    for (auto _ : state) co_await round();
    bench::report_time_per_op(state, "sleeper", static_cast<double>(count));
}

void sleepers_fire(benchmark::State& state) {
    bench::retain_freed_memory retain;
    bench::run_in_loop(state, fire_main, /*virtual_time=*/true);
}
BENCHMARK(sleepers_fire)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
