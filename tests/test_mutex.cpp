// corio::mutex: try_lock/guards, FIFO hand-off without barging, mutual exclusion, cancellation
// while waiting, result-wins after a hand-over, release when a granted frame is destroyed.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/mutex.hpp>

#include <algorithm>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

TEST(mutex, try_lock_and_guard_ownership) {
    corio::mutex m;
    EXPECT_FALSE(m.locked());
    {
        auto g = m.try_lock();
        EXPECT_TRUE(g.owns_lock());
        EXPECT_TRUE(m.locked());
        auto second = m.try_lock();
        EXPECT_FALSE(second);
        EXPECT_FALSE(second.owns_lock());

        corio::mutex::guard moved = std::move(g);
        EXPECT_FALSE(g.owns_lock());  // NOLINT(bugprone-use-after-move): moved-from is empty
        EXPECT_TRUE(moved.owns_lock());
        EXPECT_TRUE(m.locked());
        moved.unlock();
        EXPECT_FALSE(moved.owns_lock());
        EXPECT_FALSE(m.locked());
        moved.unlock();  // unlocking an empty guard is a no-op
        EXPECT_FALSE(m.locked());

        g = m.try_lock();
        EXPECT_TRUE(m.locked());
        g = corio::mutex::guard();  // assigning over an owning guard unlocks
        EXPECT_FALSE(m.locked());
        g = m.try_lock();
    }  // destructor unlocks
    EXPECT_FALSE(m.locked());
}

TEST(mutex, lock_on_free_mutex_does_not_suspend) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        bool other_ran = false;
        corio::spawn([&other_ran]() -> corio::task<> {
            other_ran = true;
            co_return;
        });
        auto g = co_await m.lock();
        EXPECT_TRUE(g.owns_lock());
        EXPECT_FALSE(other_ran);  // no suspension happened: the spawned task has not run yet
        co_await corio::yield();
        EXPECT_TRUE(other_ran);
    }());
}

// Each worker locks `rounds` times and records its id while holding the lock; it unlocks and at
// once asks again. With strict hand-off it must queue behind everyone already waiting.
corio::task<> record_rounds(corio::mutex& m, std::vector<int>& order, int id, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        auto g = co_await m.lock();
        order.push_back(id);
    }
}

TEST(mutex, fifo_hand_off_without_barging) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        std::vector<int> order;
        auto held = co_await m.lock();
        std::vector<corio::join_handle<>> workers;
        for (int id = 1; id <= 3; ++id) {
            workers.push_back(corio::spawn(record_rounds(m, order, id, 2)));
            co_await corio::yield();  // let it queue: arrival order is 1, 2, 3
        }
        EXPECT_TRUE(order.empty());
        held.unlock();
        EXPECT_TRUE(m.locked());                // handed to worker 1, never free in between
        EXPECT_FALSE(m.try_lock().owns_lock());  // so the releasing task cannot barge in
        auto again = co_await m.lock();          // it queues behind 1, 2, 3
        order.push_back(0);
        again.unlock();
        for (auto& w : workers) co_await w;
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 0, 1, 2, 3}));
        EXPECT_FALSE(m.locked());
    }());
}

TEST(mutex, mutual_exclusion_across_many_tasks_with_sleeps_inside) {
    run_virtual([]() -> corio::task<> {
        constexpr int tasks = 20;
        constexpr int rounds = 3;
        corio::mutex m;
        int inside = 0;
        int max_inside = 0;
        int entries = 0;
        auto worker = [](corio::mutex& m, int& inside, int& max_inside,
                         int& entries) -> corio::task<> {
            for (int r = 0; r < rounds; ++r) {
                auto g = co_await m.lock();
                ++inside;
                ++entries;
                max_inside = std::max(max_inside, inside);
                co_await corio::sleep(5ms);  // other tasks run meanwhile, but not in here
                co_await corio::yield();
                --inside;
            }
        };
        const auto start = corio::clock::now();
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < tasks; ++i) hs.push_back(corio::spawn(worker(m, inside, max_inside, entries)));
        for (auto& h : hs) co_await h;
        EXPECT_EQ(max_inside, 1);
        EXPECT_EQ(entries, tasks * rounds);
        EXPECT_EQ(corio::clock::now() - start, tasks * rounds * 5ms);  // fully serialised
        EXPECT_FALSE(m.locked());
    }());
}

TEST(mutex, cancelled_waiter_is_removed_and_next_waiter_gets_the_lock) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        std::vector<int> order;
        bool first_cancelled = false;
        auto held = co_await m.lock();
        auto first = corio::spawn([&m, &order, &first_cancelled]() -> corio::task<> {
            try {
                auto g = co_await m.lock();
                order.push_back(1);
            } catch (const corio::cancelled_error&) {
                first_cancelled = true;
                throw;
            }
        });
        co_await corio::yield();
        auto second = corio::spawn(record_rounds(m, order, 2, 1));
        co_await corio::yield();

        first.cancel();  // leaves the queue at once...
        held.unlock();   // ...so in the same step the lock goes to `second`
        EXPECT_THROW(co_await first, corio::cancelled_error);
        EXPECT_TRUE(first_cancelled);
        co_await second;
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_FALSE(m.locked());
    }());
}

TEST(mutex, wait_for_lock_times_out_and_mutex_stays_usable) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        auto held = co_await m.lock();
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(m.lock(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);
        EXPECT_TRUE(m.locked());
        held.unlock();
        EXPECT_FALSE(m.locked());  // nobody (no ghost waiter) took it over

        auto g = co_await corio::wait_for(m.lock(), 1s);  // free: succeeds at once
        EXPECT_TRUE(g.owns_lock());
        EXPECT_EQ(corio::clock::now() - start, 1s);
    }());
}

TEST(mutex, lock_granted_then_cancelled_returns_guard_and_releases_it) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        bool got_guard = false;
        bool locked_while_held = false;
        bool next_suspension_threw = false;
        auto held = co_await m.lock();
        auto waiter = corio::spawn([&m, &got_guard, &locked_while_held, &next_suspension_threw]() -> corio::task<> {
            auto g = co_await m.lock();  // handed over, then cancelled: the result wins
            got_guard = g.owns_lock();
            locked_while_held = m.locked();
            try {
                co_await corio::yield();  // level-triggered: the next suspension point throws
            } catch (const corio::cancelled_error&) {
                next_suspension_threw = true;
                throw;
            }
        });
        co_await corio::yield();

        held.unlock();    // hand-over to the waiter...
        waiter.cancel();  // ...cancelled before it resumes
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_TRUE(got_guard);
        EXPECT_TRUE(locked_while_held);
        EXPECT_TRUE(next_suspension_threw);
        EXPECT_FALSE(m.locked());  // released when the guard died during unwinding
        EXPECT_TRUE(m.try_lock().owns_lock());
    }());
}

TEST(mutex, cancellation_pending_before_waiting_throws_without_queueing) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        auto held = co_await m.lock();
        auto h = corio::spawn([&m]() -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            auto g = co_await m.lock();  // cancellation still pending: throws, never queues
            ADD_FAILURE() << "lock() should have thrown";
        });
        co_await corio::yield();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        held.unlock();
        EXPECT_FALSE(m.locked());  // not handed to the cancelled task
    }());
}

// The loop ends with the waiter scheduled but never resumed: destroying its frame releases the
// lock it was handed (and reads nothing of the destroyed frame: clean under ASan).
TEST(mutex, frame_destroyed_after_hand_over_releases_the_lock) {
    corio::mutex m;  // outlives the loop
    bool resumed = false;
    {
        corio::event_loop loop({.virtual_time = true});
        auto waiter = [](corio::mutex& m, bool& resumed) -> corio::task<> {
            auto g = co_await m.lock();
            resumed = true;
        };
        auto main = [](corio::mutex& m, bool& resumed, auto waiter) -> corio::task<> {
            auto held = m.try_lock();
            corio::spawn(waiter(m, resumed));
            co_await corio::yield();  // the waiter queues
            held.unlock();            // handed over; the waiter is scheduled but never resumes
            EXPECT_TRUE(m.locked());
        };
        auto h = corio::spawn(main(m, resumed, waiter));
        loop.run_until_done(h.state());
        EXPECT_TRUE(m.locked());
    }  // the loop destroys the unfinished waiter's frame, and with it the handed-over lock
    EXPECT_FALSE(resumed);
    EXPECT_FALSE(m.locked());
}

}  // namespace
