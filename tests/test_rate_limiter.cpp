// rate_limiter: burst then steady rate, refill cap, FIFO, cancellation (no token consumed, no
// delay for others, result wins), argument validation, teardown.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/rate_limiter.hpp>
#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>
#include <corio/wait_for.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using corio::clock;

using corio_test::run_virtual;

namespace {

/// Acquires once, then records its id and the time it got the token.
corio::task<> take_one(corio::rate_limiter& limit, int id, std::vector<int>& order,
                       std::vector<clock::time_point>& at) {
    co_await limit.acquire();
    order.push_back(id);
    at.push_back(clock::now());
}

/// Timers pending besides run_virtual's own deadlock guard.
std::size_t pending_timers() { return corio::current_loop("test").pending_timers() - 1; }

TEST(rate_limiter, burst_is_immediate_then_the_rate_is_steady) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(10.0, 5);
        const auto start = clock::now();
        for (int i = 0; i < 25; ++i) {
            co_await limit.acquire();
            const auto expected = i < 5 ? 0ms : (i - 4) * 100ms;  // (N - burst) / rate
            EXPECT_EQ(clock::now() - start, expected) << "acquire " << i;
        }
        EXPECT_EQ(clock::now() - start, 2s);
    });
}

TEST(rate_limiter, fractional_intervals_do_not_drift) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(3.0, 1);
        const auto start = clock::now();
        for (int i = 0; i < 31; ++i) co_await limit.acquire();
        // 30 tokens at 3/s: 10s, up to a nanosecond of rounding per token.
        const auto elapsed = clock::now() - start;
        EXPECT_GE(elapsed, 10s);
        EXPECT_LE(elapsed, 10s + 30ns);
    });
}

TEST(rate_limiter, refills_at_most_to_the_burst) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(10.0, 3);
        for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.try_acquire());
        EXPECT_FALSE(limit.try_acquire());
        co_await corio::sleep(1h);
        for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.try_acquire());
        EXPECT_FALSE(limit.try_acquire());
        const auto start = clock::now();
        co_await limit.acquire();
        EXPECT_EQ(clock::now() - start, 100ms);
        co_await corio::sleep(50ms);
        EXPECT_FALSE(limit.try_acquire());  // half a token
        co_await corio::sleep(50ms);
        EXPECT_TRUE(limit.try_acquire());
    });
}

TEST(rate_limiter, waiters_are_served_in_fifo_order) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(10.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        const auto start = clock::now();
        std::vector<int> order;
        std::vector<clock::time_point> at;
        std::vector<corio::join_handle<>> tasks;
        for (int i = 0; i < 5; ++i) tasks.push_back(corio::spawn(take_one(limit, i, order, at)));
        co_await corio::sleep(150ms);  // task 0 got its token at 100ms; 1..4 still wait
        EXPECT_FALSE(limit.try_acquire());
        co_await corio::sleep(60ms);   // at 210ms a token has accrued, yet task 1 got it
        EXPECT_FALSE(limit.try_acquire());
        co_await take_one(limit, 99, order, at);  // a late caller queues behind the rest
        for (auto& t : tasks) co_await t;
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 99}));
        EXPECT_EQ(at.size(), 6u);
        for (std::size_t i = 0; i < at.size(); ++i)
            EXPECT_EQ(at[i] - start, static_cast<int>(i + 1) * 100ms) << "waiter " << i;
    });
}

TEST(rate_limiter, cancelled_head_gives_its_turn_to_the_next) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(1.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        const auto start = clock::now();
        std::vector<int> order;
        std::vector<clock::time_point> at;
        auto first = corio::spawn(take_one(limit, 1, order, at));
        auto second = corio::spawn(take_one(limit, 2, order, at));
        co_await corio::sleep(500ms);
        first.cancel();
        EXPECT_THROW(co_await first, corio::cancelled_error);
        co_await second;
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_EQ(at.at(0) - start, 1s);  // the time the cancelled head would have had it
    });
}

TEST(rate_limiter, cancelled_middle_waiter_does_not_delay_the_others) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(1.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        const auto start = clock::now();
        std::vector<int> order;
        std::vector<clock::time_point> at;
        auto a = corio::spawn(take_one(limit, 1, order, at));
        auto b = corio::spawn(take_one(limit, 2, order, at));
        auto c = corio::spawn(take_one(limit, 3, order, at));
        co_await corio::yield();
        b.cancel();
        co_await a;
        co_await c;
        EXPECT_THROW(co_await b, corio::cancelled_error);
        EXPECT_EQ(order, (std::vector<int>{1, 3}));
        EXPECT_EQ(at.at(0) - start, 1s);
        EXPECT_EQ(at.at(1) - start, 2s);
    });
}

TEST(rate_limiter, a_timed_out_acquire_consumes_no_token) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(1.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        const auto start = clock::now();
        EXPECT_THROW(co_await corio::wait_for(limit.acquire(), 500ms), corio::timeout_error);
        EXPECT_EQ(pending_timers(), 0u);  // nobody waits: the limiter's timer is gone
        co_await limit.acquire();
        EXPECT_EQ(clock::now() - start, 1s);  // not 2s: the abandoned wait reserved nothing
        EXPECT_FALSE(limit.try_acquire());
    });
}

TEST(rate_limiter, granted_token_wins_over_a_later_cancellation) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(1.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        bool got = false;
        auto waiter = [](corio::rate_limiter& l, bool& got) -> corio::task<> {
            co_await l.acquire();
            got = true;
            co_await corio::yield();  // the next suspension point throws
        };
        auto h = corio::spawn(waiter(limit, got));
        co_await corio::sleep(1s);  // woken in the same instant the token is granted
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(got);
        EXPECT_FALSE(limit.try_acquire());  // the token went to the cancelled task
    });
}

TEST(rate_limiter, acquire_with_cancellation_pending_does_not_queue) {
    run_virtual([]() -> corio::task<> {
        corio::rate_limiter limit(1.0, 1);
        EXPECT_TRUE(limit.try_acquire());
        auto child = [](corio::rate_limiter& l) -> corio::task<> {
            corio::detail::current_task->cancel();
            co_await l.acquire();
        };
        EXPECT_THROW(co_await corio::spawn(child(limit)), corio::cancelled_error);
        EXPECT_EQ(pending_timers(), 0u);
        co_await corio::sleep(1s);
        EXPECT_TRUE(limit.try_acquire());
    });
}

TEST(rate_limiter, waiters_abandoned_by_the_end_of_the_loop_leave_cleanly) {
    corio::rate_limiter limit(1.0, 1);
    run_virtual([&]() -> corio::task<> {
        EXPECT_TRUE(limit.try_acquire());
        corio::spawn(limit.acquire(), "abandoned");
        co_await corio::yield();  // it waits; run() cancels it on the way out
    });
    run_virtual([&]() -> corio::task<> {  // a new loop; the limiter is as good as new
        co_await limit.acquire();
        EXPECT_FALSE(limit.try_acquire());
    });
}

TEST(rate_limiter, invalid_arguments_throw_invalid_argument) {
    EXPECT_THROW(corio::rate_limiter(0.0, 1), std::invalid_argument);
    EXPECT_THROW(corio::rate_limiter(-1.0, 1), std::invalid_argument);
    EXPECT_THROW(corio::rate_limiter(std::nan(""), 1), std::invalid_argument);
    EXPECT_THROW(corio::rate_limiter(std::numeric_limits<double>::infinity(), 1),
                 std::invalid_argument);
    EXPECT_THROW(corio::rate_limiter(1.0, 0), std::invalid_argument);
    corio::rate_limiter ok(0.5, 2);
    EXPECT_EQ(ok.rate(), 0.5);
    EXPECT_EQ(ok.burst(), 2u);
}

}  // namespace
