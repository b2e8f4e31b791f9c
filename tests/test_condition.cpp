// corio::condition: the mutex released while waiting and held again on return, FIFO wake order
// (notify_one, notify_all), lost notifications, wait with a predicate, cancellation and timeout
// while waiting (the mutex held again before the error, the next waiter still notified),
// result-wins after a notification, a guard of another mutex rejected.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/condition.hpp>
#include <corio/corio.hpp>

#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

corio::task<> wait_and_record(corio::mutex& m, corio::condition& cv, std::vector<int>& order, int id) {
    auto lock = co_await m.lock();
    co_await cv.wait(lock);
    EXPECT_TRUE(lock.owns_lock(m));
    order.push_back(id);
}

TEST(condition, wait_releases_the_mutex_and_holds_it_again_on_return) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        bool held_after_wait = false;
        auto waiter = corio::spawn([&]() -> corio::task<> {
            auto lock = co_await m.lock();
            co_await cv.wait(lock);
            held_after_wait = lock.owns_lock(m) && m.locked();
        });
        co_await corio::yield();
        EXPECT_FALSE(m.locked());  // released while waiting
        {
            auto lock = co_await m.lock();
            cv.notify_one();
            co_await corio::sleep(1s);  // the notified waiter needs the mutex: it waits for it
            EXPECT_FALSE(waiter.done());
        }
        co_await waiter;
        EXPECT_TRUE(held_after_wait);
        EXPECT_FALSE(m.locked());  // the waiter's guard unlocked it when it ended
    }());
}

TEST(condition, notify_one_wakes_waiters_in_the_order_they_began_waiting) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        std::vector<int> order;
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 4; ++id) {
            hs.push_back(corio::spawn(wait_and_record(m, cv, order, id)));
            co_await corio::yield();
        }
        for (int expected = 1; expected <= 4; ++expected) {
            cv.notify_one();
            co_await corio::sleep(1ms);
            EXPECT_EQ(order.size(), static_cast<std::size_t>(expected));
        }
        for (auto& h : hs) co_await h;
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    }());
}

TEST(condition, notify_all_wakes_every_current_waiter_in_order) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        std::vector<int> order;
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 5; ++id) {
            hs.push_back(corio::spawn(wait_and_record(m, cv, order, id)));
            co_await corio::yield();
        }
        {
            auto lock = co_await m.lock();  // notifying under the mutex: they queue for it in order
            cv.notify_all();
        }
        for (auto& h : hs) co_await h;
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
        auto late = corio::spawn(wait_and_record(m, cv, order, 5));  // only current waiters woke
        co_await corio::sleep(1s);
        EXPECT_FALSE(late.done());
        cv.notify_all();
        co_await late;
    }());
}

TEST(condition, a_notification_with_nobody_waiting_is_lost) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        cv.notify_one();
        cv.notify_all();
        auto lock = co_await m.lock();
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(cv.wait(lock), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);
        EXPECT_TRUE(lock.owns_lock(m));  // held again after the timeout
    }());
}

TEST(condition, wait_with_a_predicate_checks_it_first_and_after_each_notification) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        int value = 0;
        int checks = 0;
        auto ready_now = [&] {
            ++checks;
            return true;
        };
        {
            auto lock = co_await m.lock();
            co_await cv.wait(lock, ready_now);  // true at once: no notification needed
            EXPECT_EQ(checks, 1);
            EXPECT_TRUE(lock.owns_lock(m));
        }
        checks = 0;
        bool saw_three = false;
        auto waiter = corio::spawn([&]() -> corio::task<> {
            auto at_three = [&] {
                ++checks;
                EXPECT_TRUE(m.locked());  // called under the mutex
                return value == 3;
            };
            auto lock = co_await m.lock();
            co_await cv.wait(lock, at_three);
            saw_three = value == 3 && lock.owns_lock(m);
        });
        for (int i = 1; i <= 3; ++i) {
            co_await corio::sleep(1s);
            auto lock = co_await m.lock();
            value = i;
            cv.notify_all();
        }
        co_await waiter;
        EXPECT_TRUE(saw_three);
        EXPECT_EQ(checks, 4);  // before waiting, then once per notification
    }());
}

TEST(condition, cancelled_waiter_holds_the_mutex_again_before_throwing_and_the_next_is_notified) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        bool held_when_cancelled = false;
        auto cancelled_at = corio::clock::now();
        auto first = corio::spawn([&]() -> corio::task<> {
            auto lock = co_await m.lock();
            try {
                co_await cv.wait(lock);
            } catch (const corio::cancelled_error&) {
                held_when_cancelled = lock.owns_lock(m) && m.locked();
                cancelled_at = corio::clock::now();
                throw;
            }
        });
        co_await corio::yield();
        std::vector<int> order;
        auto second = corio::spawn(wait_and_record(m, cv, order, 2));
        co_await corio::yield();

        const auto start = corio::clock::now();
        {
            auto lock = co_await m.lock();
            first.cancel();  // it must wait for the mutex, which this task holds for 1s
            co_await corio::sleep(1s);
            EXPECT_FALSE(first.done());
            cv.notify_one();  // goes to `second`: `first` left the waiters at once
        }
        EXPECT_THROW(co_await first, corio::cancelled_error);
        EXPECT_TRUE(held_when_cancelled);
        EXPECT_EQ(cancelled_at - start, 1s);
        co_await second;
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_FALSE(m.locked());
    }());
}

TEST(condition, cancellation_pending_before_waiting_still_leaves_the_mutex_held) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        bool held_after = false;
        auto h = corio::spawn([&]() -> corio::task<> {
            auto lock = co_await m.lock();
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            try {
                co_await cv.wait(lock);  // cancellation still pending: throws without waiting
            } catch (const corio::cancelled_error&) {
                held_after = lock.owns_lock(m);
                throw;
            }
        });
        co_await corio::yield();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(held_after);
        EXPECT_FALSE(m.locked());
    }());
}

TEST(condition, notified_then_cancelled_returns_normally_and_the_next_suspension_throws) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        bool returned = false;
        auto waiter = corio::spawn([&]() -> corio::task<> {
            auto lock = co_await m.lock();
            co_await cv.wait(lock);  // notified, then cancelled before resuming: the result wins
            returned = lock.owns_lock(m);
            co_await corio::yield();  // throws: cancellation is level-triggered
            ADD_FAILURE() << "cancellation was lost";
        });
        co_await corio::yield();
        cv.notify_one();
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_TRUE(returned);
        EXPECT_FALSE(m.locked());
    }());
}

TEST(condition, timeout_returns_only_once_the_mutex_is_held_again) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::condition cv(m);
        bool held_after_timeout = false;
        auto waiter = corio::spawn([&]() -> corio::task<> {
            auto lock = co_await m.lock();
            EXPECT_THROW(co_await corio::wait_for(cv.wait(lock), 1s), corio::timeout_error);
            held_after_timeout = lock.owns_lock(m);
        });
        co_await corio::yield();
        const auto start = corio::clock::now();
        auto lock = co_await m.lock();
        co_await corio::sleep(3s);  // holds the mutex past the waiter's deadline
        lock.unlock();
        co_await waiter;
        EXPECT_TRUE(held_after_timeout);
        EXPECT_EQ(corio::clock::now() - start, 3s);
    }());
}

TEST(condition, a_guard_that_does_not_hold_its_mutex_is_rejected) {
    run_virtual([]() -> corio::task<> {
        corio::mutex m;
        corio::mutex other;
        corio::condition cv(m);
        auto wrong = co_await other.lock();
        co_await corio_test::expect_throws<std::invalid_argument>(cv.wait(wrong), "does not hold");
        EXPECT_TRUE(wrong.owns_lock(other));  // untouched
        corio::mutex::guard empty;
        co_await corio_test::expect_throws<std::invalid_argument>(cv.wait(empty, [] { return true; }),
                                                                  "does not hold");
        EXPECT_FALSE(m.locked());
    }());
}

}  // namespace
