// Timers: sleep ordering, virtual time, yield fairness, a million pending timers.
#include <gtest/gtest.h>

#include <corio/corio.hpp>
#include <corio/detail/timer_heap.hpp>

#include <algorithm>
#include <random>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(sleep, virtual_time_jumps_exactly) {
    corio::run([]() -> corio::task<> {
        const auto start = corio::clock::now();
        co_await corio::sleep(10h);
        EXPECT_EQ(corio::clock::now() - start, 10h);
        co_await corio::sleep_until(start + 11h);
        EXPECT_EQ(corio::clock::now() - start, 11h);
    }(), {.virtual_time = true});
}

TEST(sleep, real_time_sleep_waits_at_least_the_duration) {
    corio::run([]() -> corio::task<> {
        const auto start = corio::clock::steady_now();
        co_await corio::sleep(5ms);
        EXPECT_GE(corio::clock::steady_now() - start, 5ms);
    }());
}

TEST(sleep, wakes_in_deadline_order_then_insertion_order) {
    std::vector<int> order;
    corio::run([&]() -> corio::task<> {
        auto sleeper = [](std::vector<int>& out, int id, std::chrono::milliseconds d) -> corio::task<> {
            co_await corio::sleep(d);
            out.push_back(id);
        };
        std::vector<corio::task<>> tasks;
        tasks.push_back(sleeper(order, 1, 30ms));
        tasks.push_back(sleeper(order, 2, 10ms));
        tasks.push_back(sleeper(order, 3, 20ms));
        tasks.push_back(sleeper(order, 4, 10ms));
        co_await corio::gather(std::move(tasks));
    }(), {.virtual_time = true});
    EXPECT_EQ(order, (std::vector<int>{2, 4, 3, 1}));
}

TEST(sleep, yield_lets_other_ready_tasks_run) {
    std::vector<int> trace;
    corio::run([&]() -> corio::task<> {
        auto worker = [](std::vector<int>& out, int id) -> corio::task<> {
            for (int i = 0; i < 3; ++i) {
                out.push_back(id);
                co_await corio::yield();
            }
        };
        co_await corio::gather(worker(trace, 1), worker(trace, 2));
    }());
    EXPECT_EQ(trace, (std::vector<int>{1, 2, 1, 2, 1, 2}));
}

TEST(sleep, a_million_pending_timers) {
    constexpr int n = 1'000'000;
    int woken = 0;
    corio::run([&]() -> corio::task<> {
        auto sleeper = [](int& count, int i) -> corio::task<> {
            co_await corio::sleep(std::chrono::milliseconds(1 + i % 1000));
            ++count;
        };
        std::vector<corio::task<>> tasks;
        tasks.reserve(n);
        for (int i = 0; i < n; ++i) tasks.push_back(sleeper(woken, i));
        auto all = corio::spawn(corio::gather(std::move(tasks)));
        co_await corio::yield();
        co_await corio::yield();
        EXPECT_EQ(corio::current_loop("test").pending_timers(), static_cast<std::size_t>(n));
        co_await all;
        EXPECT_EQ(corio::current_loop("test").pending_timers(), 0u);
    }(), {.virtual_time = true});
    EXPECT_EQ(woken, n);
}

TEST(sleep, cancelled_sleep_removes_its_timer) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); });
        co_await corio::yield();
        EXPECT_EQ(corio::current_loop("test").pending_timers(), 1u);
        h.cancel();
        EXPECT_EQ(corio::current_loop("test").pending_timers(), 0u);
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }(), {.virtual_time = true});
}

TEST(sleep, a_sleep_made_early_counts_from_when_it_is_awaited_and_can_be_moved) {
    corio::run([]() -> corio::task<> {
        const auto start = corio::clock::now();
        auto nap = corio::sleep(10ms);  // made now, awaited after 5 ms: still 10 ms long
        co_await corio::sleep(5ms);
        auto moved = std::move(nap);
        co_await std::move(moved);
        EXPECT_EQ(corio::clock::now() - start, 15ms);
        auto until = corio::sleep_until(start + 20ms);
        co_await corio::sleep(1ms);
        co_await std::move(until);  // an absolute deadline does not move with the await
        EXPECT_EQ(corio::clock::now() - start, 20ms);
        // Handed to a combinator (moved into its frame), and cut short there.
        EXPECT_THROW(co_await corio::wait_for(corio::sleep(1h), 3ms), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 23ms);
        EXPECT_EQ(corio::current_loop("test").pending_timers(), 0u);
    }(), {.virtual_time = true});
}

TEST(sleep, a_sleep_cancelled_before_it_suspends_throws_and_leaves_no_timer) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); });
        h.cancel();  // before its first step: the sleep is never reached
        EXPECT_THROW(co_await h, corio::cancelled_error);
        auto started = corio::spawn([]() -> corio::task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            try {
                co_await corio::sleep(1h);  // cancellation is still pending: no suspension
            } catch (const corio::cancelled_error&) {
                co_return corio::current_loop("test").pending_timers() == 0 ? 1 : 2;
            }
            co_return 0;
        });
        co_await corio::yield();
        started.cancel();
        EXPECT_EQ(co_await started, 1);
    }(), {.virtual_time = true});
}

// A sleep holds its delay where its deadline goes once awaited; a second await must not read
// that deadline as a delay (it would sleep for decades). g++ 12 awaits a named or moved sleep on
// a moved copy, clang in place: both must refuse the second await.
TEST(sleep, a_sleep_awaited_a_second_time_throws_instead_of_sleeping) {
    corio::run([]() -> corio::task<> {
        const auto start = corio::clock::now();
        auto nap = corio::sleep(10ms);
        co_await std::move(nap);
        EXPECT_EQ(corio::clock::now() - start, 10ms);
        try {
            co_await std::move(nap);
            ADD_FAILURE() << "awaited twice";
        } catch (const corio::error& e) {
            EXPECT_STREQ(e.what(), "corio: a sleep is awaited once, and this one was awaited or moved from before (make a new sleep() for another wait)");
        }
        auto by_name = corio::sleep_until(start + 12ms);
        co_await by_name;
        EXPECT_THROW(co_await by_name, corio::error);
        EXPECT_EQ(corio::clock::now() - start, 12ms);
        auto cut_short = corio::sleep(1h);
        auto await_cut_short = [&]() -> corio::task<> { co_await std::move(cut_short); };
        const bool timed_out = co_await corio::move_on_after(5ms, await_cut_short);
        EXPECT_TRUE(timed_out);
        EXPECT_THROW(co_await std::move(cut_short), corio::error);  // cancelled once: spent too
        EXPECT_EQ(corio::clock::now() - start, 17ms);
        EXPECT_EQ(corio::current_loop("test").pending_timers(), 0u);
    }(), {.virtual_time = true});
}

TEST(clock, deadline_after_saturates_at_the_end_of_time) {
    using corio::clock;
    constexpr clock::time_point start(1h);
    static_assert(corio::deadline_after(start, 2h) == clock::time_point(3h));
    static_assert(corio::deadline_after(start, -30min) == clock::time_point(30min));
    static_assert(corio::deadline_after(start, clock::duration::max()) == clock::time_point::max());
    static_assert(corio::deadline_after(clock::time_point::max(), 1ns) == clock::time_point::max());
    EXPECT_EQ(corio::deadline_after(start, clock::duration::max() - 1h + 1ns), clock::time_point::max());
}

// `now + duration::max()` used to wrap around into the past: each of these then fired at once.
TEST(sleep, the_longest_limits_never_fire_early) {
    corio::run([]() -> corio::task<> {
        constexpr auto forever = corio::clock::duration::max();
        auto sleeper = corio::spawn([]() -> corio::task<> { co_await corio::sleep(corio::clock::duration::max()); });
        bool called = false;
        corio::timer_handle call = corio::current_loop("test").call_later(forever, [&called] { called = true; });
        const int v = co_await corio::fail_after(forever, []() -> corio::task<int> {
            co_await corio::sleep(1s);
            co_return 7;
        });
        EXPECT_EQ(v, 7);
        EXPECT_FALSE(sleeper.done());
        EXPECT_FALSE(called);
        EXPECT_TRUE(call.cancel());
        sleeper.cancel();
        EXPECT_THROW(co_await sleeper, corio::cancelled_error);
    }(), {.virtual_time = true});
}

TEST(clock, outside_a_loop_reads_steady_clock) {
    const auto a = corio::clock::now();
    const auto b = corio::clock::now();
    EXPECT_LE(a, b);
}

}  // namespace

namespace {

/// A timer that records its id in `log` when it fires.
struct logged_timer : corio::detail::timer_node {
    logged_timer() noexcept : timer_node(&fire) {}
    static void fire(timer_node& node) noexcept {
        auto& self = static_cast<logged_timer&>(node);
        self.log->push_back(self.id);
    }
    int id = 0;
    std::vector<int>* log = nullptr;
};

}  // namespace

TEST(timer_heap, lanes_and_heap_fire_in_deadline_then_insertion_order) {
    // Timers set a few fixed durations ahead as time advances (lanes), others at random (heap),
    // a third of them removed again: what fires, and in which order, must be what one sorted
    // list of (deadline, insertion) says.
    using corio::clock;
    constexpr int n = 3000;
    std::vector<logged_timer> timers(n);
    std::vector<int> fired;
    corio::detail::timer_heap heap;
    std::mt19937 rng(7);
    struct expected {
        clock::time_point deadline;
        int id;
    };
    std::vector<expected> reference;
    const clock::duration fixed[] = {std::chrono::seconds(5), std::chrono::seconds(60), std::chrono::milliseconds(250)};
    for (int i = 0; i < n; ++i) {
        timers[static_cast<std::size_t>(i)].id = i;
        timers[static_cast<std::size_t>(i)].log = &fired;
        const auto now = clock::time_point(std::chrono::milliseconds(i / 3));  // time advances, with ties
        const auto deadline = rng() % 4 == 0 ? now + std::chrono::milliseconds(rng() % 70'000) : now + fixed[rng() % 3];
        heap.insert(timers[static_cast<std::size_t>(i)], deadline, now);
        reference.push_back({deadline, i});
    }
    for (int i = 0; i < n; i += 3) heap.remove(timers[static_cast<std::size_t>(i)]);  // firsts of lanes among them
    EXPECT_EQ(heap.size(), static_cast<std::size_t>(n - n / 3));
    std::erase_if(reference, [](const expected& e) { return e.id % 3 == 0; });
    std::stable_sort(reference.begin(), reference.end(), [](const expected& a, const expected& b) { return a.deadline < b.deadline; });
    // Fire in steps, as a loop would, so that proxies come due early and re-key themselves.
    for (auto t = clock::time_point(); !heap.empty(); t += std::chrono::milliseconds(997)) heap.fire_expired(t);
    std::vector<int> expected_order;
    for (const auto& e : reference) expected_order.push_back(e.id);
    EXPECT_EQ(fired, expected_order);
    for (const auto& t : timers) EXPECT_FALSE(t.queued());
}

TEST(timer_heap, a_lane_that_empties_leaves_nothing_queued) {
    using corio::clock;
    corio::detail::timer_heap heap;
    logged_timer a, b;
    std::vector<int> fired;
    a.log = b.log = &fired;
    const auto now = clock::time_point(std::chrono::seconds(1));
    heap.insert(a, now + std::chrono::seconds(60), now);
    heap.insert(b, now + std::chrono::seconds(60), now);  // same lane
    heap.remove(a);
    EXPECT_EQ(heap.size(), 1u);
    heap.remove(b);
    EXPECT_TRUE(heap.empty());
    EXPECT_EQ(heap.fire_expired(clock::time_point::max()), 0u);
    EXPECT_TRUE(fired.empty());
}
