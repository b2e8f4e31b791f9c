// corio::event: set/clear/is_set, wait on a set event, waking many waiters, cancellation of
// waiters (explicit and by timeout), result-wins after set().
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/event.hpp>

#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

corio::task<> wait_and_record(corio::event& e, std::vector<int>& woken, int id) {
    co_await e.wait();
    woken.push_back(id);
}

TEST(event, set_clear_is_set) {
    corio::event e;
    EXPECT_FALSE(e.is_set());
    e.set();
    EXPECT_TRUE(e.is_set());
    e.set();  // idempotent
    EXPECT_TRUE(e.is_set());
    e.clear();
    EXPECT_FALSE(e.is_set());
}

TEST(event, wait_on_set_event_returns_without_suspending) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        e.set();
        bool other_ran = false;
        corio::spawn([&other_ran]() -> corio::task<> {
            other_ran = true;
            co_return;
        });
        const auto start = corio::clock::now();
        co_await e.wait();
        EXPECT_FALSE(other_ran);  // no suspension: the spawned task has not had a turn
        EXPECT_EQ(corio::clock::now(), start);
        co_await corio::yield();
        EXPECT_TRUE(other_ran);
    }());
}

TEST(event, set_wakes_every_waiter_in_arrival_order) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        std::vector<int> woken;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 50; ++i) hs.push_back(corio::spawn(wait_and_record(e, woken, i)));
        co_await corio::sleep(1s);
        EXPECT_TRUE(woken.empty());  // nobody passes an unset event
        const auto set_at = corio::clock::now();
        e.set();
        for (auto& h : hs) co_await h;
        std::vector<int> expected;
        for (int i = 0; i < 50; ++i) expected.push_back(i);
        EXPECT_EQ(woken, expected);
        EXPECT_EQ(corio::clock::now(), set_at);  // woken at once, not by a timer
    }());
}

TEST(event, clear_makes_later_waits_block_again) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        e.set();
        co_await e.wait();
        e.clear();
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(e.wait(), 2s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 2s);

        corio::spawn([&e]() -> corio::task<> {
            co_await corio::sleep(3s);
            e.set();
        });
        co_await e.wait();
        EXPECT_EQ(corio::clock::now() - start, 5s);
    }());
}

TEST(event, waiters_woken_by_set_return_even_if_cleared_before_they_run) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        std::vector<int> woken;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 3; ++i) hs.push_back(corio::spawn(wait_and_record(e, woken, i)));
        co_await corio::yield();
        e.set();
        e.clear();  // the three were already released by set()
        for (auto& h : hs) co_await h;
        EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
        EXPECT_FALSE(e.is_set());
    }());
}

TEST(event, cancelled_waiters_are_removed_and_others_still_woken) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        std::vector<int> woken;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 6; ++i) hs.push_back(corio::spawn(wait_and_record(e, woken, i)));
        co_await corio::yield();

        // A waiter that times out leaves (ASan would flag a dangling node on set()).
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(e.wait(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);

        hs[1].cancel();  // they leave at once, so the set() in the same step skips them
        hs[4].cancel();
        e.set();
        EXPECT_THROW(co_await hs[1], corio::cancelled_error);
        EXPECT_THROW(co_await hs[4], corio::cancelled_error);
        for (int i : {0, 2, 3, 5}) co_await hs[static_cast<std::size_t>(i)];
        EXPECT_EQ(woken, (std::vector<int>{0, 2, 3, 5}));
    }());
}

TEST(event, set_then_cancel_before_resuming_returns_normally) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        bool returned = false;
        bool next_suspension_threw = false;
        auto h = corio::spawn([&e, &returned, &next_suspension_threw]() -> corio::task<> {
            co_await e.wait();  // set, then cancelled before resuming: returns (result wins)
            returned = true;
            try {
                co_await corio::yield();
            } catch (const corio::cancelled_error&) {
                next_suspension_threw = true;
                throw;
            }
        });
        co_await corio::yield();
        e.set();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(returned);
        EXPECT_TRUE(next_suspension_threw);
    }());
}

TEST(event, cancellation_pending_before_waiting_throws) {
    run_virtual([]() -> corio::task<> {
        corio::event e;
        auto h = corio::spawn([&e]() -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            co_await e.wait();  // still cancelled: throws instead of waiting
            ADD_FAILURE() << "wait() should have thrown";
        });
        co_await corio::yield();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        e.set();  // no waiter left behind
    }());
}

}  // namespace
