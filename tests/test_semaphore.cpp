// corio::semaphore: counting, guards, concurrency limit, FIFO hand-off, cancellation while
// waiting, result-wins after a hand-over, detach + release() for counting use.
// corio::bounded_semaphore: release() beyond the initial value throws; FIFO and cancellation.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/bounded_semaphore.hpp>
#include <corio/corio.hpp>
#include <corio/semaphore.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

corio::task<> acquire_and_record(corio::semaphore& s, std::vector<int>& order, int id) {
    auto unit = co_await s.acquire();
    order.push_back(id);
}

TEST(semaphore, try_acquire_guard_and_release) {
    corio::semaphore s(2);
    EXPECT_EQ(s.available(), 2u);
    auto a = s.try_acquire();
    auto b = s.try_acquire();
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
    EXPECT_EQ(s.available(), 0u);
    EXPECT_FALSE(s.try_acquire());
    a.release();
    EXPECT_FALSE(a);
    EXPECT_EQ(s.available(), 1u);
    a.release();  // no-op on an empty guard
    EXPECT_EQ(s.available(), 1u);
    {
        corio::semaphore::guard moved = std::move(b);
        EXPECT_EQ(s.available(), 1u);
    }
    EXPECT_EQ(s.available(), 2u);
    s.release();  // not bounded by the initial count
    EXPECT_EQ(s.available(), 3u);
}

TEST(semaphore, detach_keeps_the_unit_until_release) {
    corio::semaphore s(1);
    {
        auto g = s.try_acquire();
        g.detach();
        EXPECT_FALSE(g);
    }
    EXPECT_EQ(s.available(), 0u);
    s.release();
    EXPECT_EQ(s.available(), 1u);
}

TEST(semaphore, limits_concurrency_of_a_hundred_tasks_to_three) {
    run_virtual([]() -> corio::task<> {
        corio::semaphore s(3);
        int holders = 0;
        int max_holders = 0;
        int done = 0;
        auto worker = [](corio::semaphore& s, int& holders, int& max_holders,
                         int& done) -> corio::task<> {
            auto unit = co_await s.acquire();
            max_holders = std::max(max_holders, ++holders);
            co_await corio::sleep(10ms);
            --holders;
            ++done;
        };
        const auto start = corio::clock::now();
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 100; ++i) hs.push_back(corio::spawn(worker(s, holders, max_holders, done)));
        for (auto& h : hs) co_await h;
        EXPECT_EQ(max_holders, 3);
        EXPECT_EQ(done, 100);
        EXPECT_EQ(corio::clock::now() - start, 34 * 10ms);  // ceil(100 / 3) rounds
        EXPECT_EQ(s.available(), 3u);
    }());
}

TEST(semaphore, waiters_are_served_fifo_without_barging) {
    run_virtual([]() -> corio::task<> {
        corio::semaphore s(2);
        std::vector<int> order;
        auto a = co_await s.acquire();
        auto b = co_await s.acquire();
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 5; ++id) {
            hs.push_back(corio::spawn(acquire_and_record(s, order, id)));
            co_await corio::yield();
        }
        a.release();
        EXPECT_EQ(s.available(), 0u);   // handed to waiter 0, not counted as free
        EXPECT_FALSE(s.try_acquire());  // so nobody can take it ahead of the queue
        s.release();                    // a raw release also goes to the next waiter (1)
        EXPECT_EQ(s.available(), 0u);
        for (auto& h : hs) co_await h;
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
        EXPECT_EQ(s.available(), 2u);  // the two released units came back; b still held
        b.release();
        EXPECT_EQ(s.available(), 3u);
    }());
}

TEST(semaphore, cancelled_waiter_is_removed_and_next_waiter_gets_the_unit) {
    run_virtual([]() -> corio::task<> {
        corio::semaphore s(1);
        std::vector<int> order;
        auto held = co_await s.acquire();
        auto first = corio::spawn(acquire_and_record(s, order, 1));
        co_await corio::yield();
        auto second = corio::spawn(acquire_and_record(s, order, 2));
        co_await corio::yield();
        const auto start = corio::clock::now();  // a timed-out waiter leaves
        EXPECT_THROW(co_await corio::wait_for(s.acquire(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);

        first.cancel();   // leaves the queue at once...
        held.release();   // ...so in the same step the unit goes to `second`
        EXPECT_THROW(co_await first, corio::cancelled_error);
        co_await second;
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_EQ(s.available(), 1u);  // the unit did not leak to a departed waiter
    }());
}

TEST(semaphore, unit_granted_then_cancelled_is_returned_and_released_later) {
    run_virtual([]() -> corio::task<> {
        corio::semaphore s(1);
        bool got_unit = false;
        auto held = co_await s.acquire();
        auto h = corio::spawn([&s, &got_unit]() -> corio::task<> {
            auto unit = co_await s.acquire();  // handed over, then cancelled: result wins
            got_unit = static_cast<bool>(unit);
            co_await corio::yield();  // throws: cancellation is still pending
        });
        co_await corio::yield();
        held.release();
        h.cancel();
        EXPECT_EQ(s.available(), 0u);
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(got_unit);
        EXPECT_EQ(s.available(), 1u);
    }());
}

TEST(semaphore, counting_hand_over_between_tasks) {
    run_virtual([]() -> corio::task<> {
        corio::semaphore items(0);
        int consumed = 0;
        auto consumer = corio::spawn([&items, &consumed]() -> corio::task<> {
            for (int i = 0; i < 5; ++i) {
                (co_await items.acquire()).detach();  // take a unit for good
                ++consumed;
            }
        });
        for (int i = 0; i < 5; ++i) {
            co_await corio::sleep(1s);
            items.release();
        }
        co_await consumer;
        EXPECT_EQ(consumed, 5);
        EXPECT_EQ(items.available(), 0u);
    }());
}

TEST(bounded_semaphore, release_beyond_the_initial_value_throws_and_changes_nothing) {
    corio::bounded_semaphore s(2);
    EXPECT_EQ(s.initial(), 2u);
    try {
        s.release();
        ADD_FAILURE() << "release() on a full bounded_semaphore did not throw";
    } catch (const corio::semaphore_overflow_error& e) {
        const corio::error& base = e;  // a corio error naming what failed
        EXPECT_NE(std::string(base.what()).find("beyond the initial value of 2"), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.available(), 2u);
    auto held = s.try_acquire();
    EXPECT_THROW(s.release(), corio::semaphore_overflow_error);  // that unit comes back via its guard
    EXPECT_EQ(s.available(), 1u);
    auto detached = s.try_acquire();
    detached.detach();
    EXPECT_FALSE(detached);
    detached.detach();  // no-op on an empty guard: counts nothing
    EXPECT_EQ(s.available(), 0u);
    s.release();  // the detached unit
    EXPECT_EQ(s.available(), 1u);
    EXPECT_THROW(s.release(), corio::semaphore_overflow_error);
    held.release();
    EXPECT_EQ(s.available(), 2u);
    EXPECT_THROW(s.release(), corio::semaphore_overflow_error);
    EXPECT_EQ(s.available(), 2u);
}

TEST(bounded_semaphore, waiters_are_served_fifo_and_a_cancelled_one_takes_nothing) {
    run_virtual([]() -> corio::task<> {
        corio::bounded_semaphore s(1);
        std::vector<int> order;
        auto waiter = [&](int id) -> corio::task<> {
            auto unit = co_await s.acquire();
            order.push_back(id);
            co_await corio::sleep(1s);
        };
        (co_await s.acquire()).detach();
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 4; ++id) {
            hs.push_back(corio::spawn(waiter(id)));
            co_await corio::yield();
        }
        hs[1].cancel();  // leaves the queue at once
        s.release();     // the detached unit goes straight to waiter 0
        EXPECT_EQ(s.available(), 0u);
        EXPECT_FALSE(s.try_acquire());
        EXPECT_THROW(co_await hs[1], corio::cancelled_error);
        for (auto& h : hs)
            if (&h != &hs[1]) co_await h;
        EXPECT_EQ(order, (std::vector<int>{0, 2, 3}));
        EXPECT_EQ(s.available(), 1u);  // nothing leaked to the departed waiter
        EXPECT_THROW(s.release(), corio::semaphore_overflow_error);
    }());
}

TEST(bounded_semaphore, unit_granted_then_cancelled_is_returned_then_released) {
    run_virtual([]() -> corio::task<> {
        corio::bounded_semaphore s(1);
        bool got_unit = false;
        auto held = co_await s.acquire();
        auto h = corio::spawn([&]() -> corio::task<> {
            auto unit = co_await s.acquire();  // handed over, then cancelled: result wins
            got_unit = static_cast<bool>(unit);
            co_await corio::yield();
        });
        co_await corio::yield();
        held.release();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(got_unit);
        EXPECT_EQ(s.available(), 1u);
    }());
}

}  // namespace
