// event_loop::call_later / call_at and timer_handle, in virtual time: order, the time a call
// runs at, cancel before and after it ran, when(), dropped handles, errors, the loop's end.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

TEST(call_later, runs_in_deadline_order_then_call_order) {
    std::vector<int> order;
    run_virtual([&]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        loop.call_later(30ms, [&] { order.push_back(1); });
        loop.call_later(10ms, [&] { order.push_back(2); });
        loop.call_at(loop.now() + 20ms, [&] { order.push_back(3); });
        loop.call_later(10ms, [&] { order.push_back(4); });
        co_await corio::sleep(1s);
    });
    EXPECT_EQ(order, (std::vector<int>{2, 4, 3, 1}));
}

TEST(call_later, runs_when_the_virtual_clock_reaches_its_time) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        const auto start = loop.now();
        corio::event done;
        auto ran_at = corio::clock::time_point{};
        // Nothing else is due: the idle loop jumps straight to the call's time.
        loop.call_later(1h, [&] {
            ran_at = corio::clock::now();
            done.set();
        });
        co_await done.wait();
        EXPECT_EQ(ran_at - start, 1h);
        EXPECT_EQ(corio::clock::now() - start, 1h);
    });
}

TEST(call_later, when_is_the_time_it_is_due) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        co_await corio::sleep(5s);
        const auto now = loop.now();
        corio::timer_handle later = loop.call_later(250ms, [] {});
        corio::timer_handle at = loop.call_at(now + 2h, [] {});
        EXPECT_EQ(later.when(), now + 250ms);
        EXPECT_EQ(at.when(), now + 2h);
        co_await corio::sleep(1s);
        EXPECT_EQ(later.when(), now + 250ms);  // unchanged once it ran
        EXPECT_TRUE(at.cancel());
        EXPECT_EQ(corio::timer_handle{}.when(), corio::clock::time_point{});
    });
}

TEST(call_later, cancel_before_it_runs_stops_it_and_releases_the_callback) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        bool ran = false;
        auto capture = std::make_shared<int>(7);
        const std::size_t timers_before = loop.pending_timers();
        corio::timer_handle h = loop.call_later(10ms, [&ran, capture] { ran = true; });
        EXPECT_EQ(capture.use_count(), 2);
        EXPECT_EQ(loop.pending_timers(), timers_before + 1);
        EXPECT_FALSE(h.cancelled());
        EXPECT_TRUE(h.cancel());
        EXPECT_TRUE(h.cancelled());
        EXPECT_EQ(loop.pending_timers(), timers_before);  // its timer left at once
        EXPECT_EQ(capture.use_count(), 1);     // and its captures with it
        EXPECT_FALSE(h.cancel());              // cancelled already
        co_await corio::sleep(1s);
        EXPECT_FALSE(ran);
    });
}

TEST(call_later, cancel_after_it_ran_returns_false) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        int runs = 0;
        corio::timer_handle h = loop.call_later(10ms, [&] { ++runs; });
        co_await corio::sleep(20ms);
        EXPECT_EQ(runs, 1);
        EXPECT_FALSE(h.cancel());
        EXPECT_FALSE(h.cancelled());
        EXPECT_FALSE(corio::timer_handle{}.cancel());  // an empty handle refers to no call
    });
}

TEST(call_later, cancel_by_an_earlier_call_due_in_the_same_iteration) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        bool second_ran = false;
        bool cancelled = false;
        corio::timer_handle second;
        loop.call_later(10ms, [&] { cancelled = second.cancel(); });
        second = loop.call_later(10ms, [&] { second_ran = true; });  // its timer fires with the first
        co_await corio::sleep(1s);
        EXPECT_TRUE(cancelled);  // it was due but had not run: still pending
        EXPECT_FALSE(second_ran);
        EXPECT_TRUE(second.cancelled());
    });
}

TEST(call_later, dropping_the_handle_does_not_cancel) {
    bool ran = false;
    run_virtual([&]() -> corio::task<> {
        corio::current_loop("test").call_later(10ms, [&] { ran = true; });  // handle dropped at once
        co_await corio::sleep(1s);
    });
    EXPECT_TRUE(ran);
}

TEST(call_later, a_callback_may_schedule_another) {
    std::vector<corio::clock::duration> times;
    run_virtual([&]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        const auto start = loop.now();
        loop.call_later(10ms, [&loop, &times, start] {
            times.push_back(loop.now() - start);
            loop.call_later(0ms, [&loop, &times, start] { times.push_back(loop.now() - start); });
        });
        co_await corio::sleep(1s);
    });
    EXPECT_EQ(times, (std::vector<corio::clock::duration>{10ms, 10ms}));
}

TEST(call_later, an_exception_from_the_callback_is_logged_and_the_loop_goes_on) {
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    bool later_ran = false;
    run_virtual([&]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        loop.call_later(10ms, [] { throw corio::error("reload failed: config.toml"); });
        loop.call_later(20ms, [&] { later_ran = true; });
        co_await corio::sleep(1s);
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_NE(logged[0].find("call_later/call_at callback threw: reload failed: config.toml"), std::string::npos) << logged[0];
    EXPECT_TRUE(later_ran);
}

TEST(call_later, a_call_pending_when_the_loop_ends_never_runs) {
    corio::timer_handle h;
    bool ran = false;
    auto capture = std::make_shared<int>(1);
    run_virtual([&]() -> corio::task<> {
        h = corio::current_loop("test").call_later(1h, [&ran, capture] { ran = true; });
        co_return;
    });
    EXPECT_FALSE(ran);
    EXPECT_EQ(capture.use_count(), 1);  // released with the loop
    EXPECT_FALSE(h.cancel());           // the loop ended: nothing pending
    EXPECT_FALSE(h.cancelled());
}

TEST(call_later, cancel_from_within_its_own_callback_returns_false) {
    run_virtual([]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        auto self = std::make_shared<corio::timer_handle>();
        int runs = 0;
        bool cancelled_inside = true;
        *self = loop.call_later(10ms, [&runs, &cancelled_inside, self] {  // (a cycle the run breaks)
            ++runs;
            cancelled_inside = self->cancel();
        });
        co_await corio::sleep(1s);
        EXPECT_EQ(runs, 1);
        EXPECT_FALSE(cancelled_inside);  // it was running: no longer pending
        EXPECT_FALSE(self->cancelled());
        EXPECT_EQ(self.use_count(), 1);  // the callback and its captures were released
    });
}

/// Cancels a call when destroyed (a capture of another call's callback).
struct cancels_when_destroyed {
    corio::timer_handle* other;
    ~cancels_when_destroyed() { other->cancel(); }
};

TEST(call_later, a_callback_dropped_at_the_loop_end_may_cancel_another_call) {
    corio::timer_handle first;
    corio::timer_handle second;
    run_virtual([&]() -> corio::task<> {
        corio::event_loop& loop = corio::current_loop("test");
        auto canceller = std::make_shared<cancels_when_destroyed>(cancels_when_destroyed{&second});
        first = loop.call_later(1h, [canceller] {});
        second = loop.call_later(2h, [] {});
        co_return;  // both pending when the loop ends: dropping the first cancels the second
    });
    EXPECT_FALSE(first.cancel());
    EXPECT_TRUE(second.cancelled());
    EXPECT_FALSE(second.cancel());
}

}  // namespace
