// Timers: sleep ordering, virtual time, yield fairness, a million pending timers.
#include <gtest/gtest.h>

#include <corio/corio.hpp>

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

TEST(clock, outside_a_loop_reads_steady_clock) {
    const auto a = corio::clock::now();
    const auto b = corio::clock::now();
    EXPECT_LE(a, b);
}

}  // namespace
