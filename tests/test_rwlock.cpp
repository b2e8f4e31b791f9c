// corio::rwlock: try_lock/try_lock_shared and guards, readers sharing, a writer alone, writer
// preference, FIFO service with consecutive readers admitted together, cancellation of a
// waiting writer letting the readers behind it in, timeouts, result-wins after a hand-over,
// release when a granted frame is destroyed, exclusion under load.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/rwlock.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

/// Takes the lock (shared or not), records `id`, holds it until `hold` has passed.
corio::task<> lock_and_record(corio::rwlock& l, bool exclusive, std::vector<std::string>& log, std::string id,
                              std::chrono::nanoseconds hold = 0ms) {
    corio::rwlock::guard g;
    if (exclusive)
        g = co_await l.lock();
    else
        g = co_await l.lock_shared();
    log.push_back(id);
    co_await corio::sleep(hold);
}

TEST(rwlock, try_lock_and_try_lock_shared) {
    corio::rwlock l;
    auto r1 = l.try_lock_shared();
    auto r2 = l.try_lock_shared();
    EXPECT_TRUE(r1.owns_lock());
    EXPECT_FALSE(r1.exclusive());
    EXPECT_EQ(l.readers(), 2u);
    EXPECT_FALSE(l.try_lock());  // readers hold it
    r1.unlock();
    EXPECT_FALSE(r1);
    EXPECT_FALSE(l.try_lock());
    {
        corio::rwlock::guard moved = std::move(r2);
        EXPECT_EQ(l.readers(), 1u);
    }
    EXPECT_EQ(l.readers(), 0u);
    auto w = l.try_lock();
    EXPECT_TRUE(w.exclusive());
    EXPECT_TRUE(l.locked());
    EXPECT_FALSE(l.try_lock());
    EXPECT_FALSE(l.try_lock_shared());
    w.unlock();
    w.unlock();  // no-op on an empty guard
    EXPECT_FALSE(l.locked());
    EXPECT_TRUE(l.try_lock());
}

TEST(rwlock, readers_share_and_a_writer_waits_until_the_last_one_leaves) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        std::vector<std::string> log;
        auto r1 = co_await l.lock_shared();
        auto r2 = co_await l.lock_shared();  // no suspension: shared
        auto writer = corio::spawn(lock_and_record(l, true, log, "w"));
        co_await corio::sleep(1s);
        EXPECT_TRUE(log.empty());
        r1.unlock();
        co_await corio::sleep(1s);
        EXPECT_TRUE(log.empty());  // one reader left
        r2.unlock();                // hands the lock to the writer at once
        EXPECT_TRUE(l.locked());
        co_await writer;
        EXPECT_EQ(log, std::vector<std::string>{"w"});
        EXPECT_FALSE(l.locked());
    }());
}

TEST(rwlock, a_waiting_writer_holds_back_readers_that_arrive_after_it) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        std::vector<std::string> log;
        auto r1 = co_await l.lock_shared();
        auto writer = corio::spawn(lock_and_record(l, true, log, "w", 1s));
        co_await corio::yield();
        EXPECT_FALSE(l.try_lock_shared());  // writer-preferring: no new reader while it waits
        auto reader = corio::spawn(lock_and_record(l, false, log, "r2"));
        co_await corio::sleep(1s);
        EXPECT_TRUE(log.empty());  // r2 queued behind the writer
        r1.unlock();
        co_await writer;
        co_await reader;
        EXPECT_EQ(log, (std::vector<std::string>{"w", "r2"}));
    }());
}

TEST(rwlock, waiters_are_served_fifo_with_consecutive_readers_together) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        std::vector<std::string> log;
        auto w0 = co_await l.lock();
        std::vector<corio::join_handle<>> hs;
        const std::vector<std::pair<bool, std::string>> arrivals = {
            {false, "r1"}, {false, "r2"}, {true, "w1"}, {false, "r3"}, {false, "r4"}, {true, "w2"}};
        for (const auto& [exclusive, id] : arrivals) {
            hs.push_back(corio::spawn(lock_and_record(l, exclusive, log, id, 1s)));
            co_await corio::yield();
        }
        const auto start = corio::clock::now();
        w0.unlock();                 // r1 and r2 get in together...
        EXPECT_EQ(l.readers(), 2u);  // (handed over in this step)
        co_await corio::sleep(500ms);
        EXPECT_EQ(log, (std::vector<std::string>{"r1", "r2"}));  // ...w1 waits for both
        for (auto& h : hs) co_await h;
        EXPECT_EQ(log, (std::vector<std::string>{"r1", "r2", "w1", "r3", "r4", "w2"}));
        EXPECT_EQ(corio::clock::now() - start, 4s);  // four phases of 1s: {r1 r2} w1 {r3 r4} w2
    }());
}

TEST(rwlock, a_cancelled_waiting_writer_lets_the_readers_behind_it_in) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        std::vector<std::string> log;
        auto r1 = co_await l.lock_shared();
        auto writer = corio::spawn(lock_and_record(l, true, log, "w"));
        co_await corio::yield();
        auto reader = corio::spawn(lock_and_record(l, false, log, "r2", 1s));
        co_await corio::yield();
        EXPECT_EQ(l.readers(), 1u);
        writer.cancel();             // leaves the queue at once...
        EXPECT_EQ(l.readers(), 2u);  // ...and the reader behind it gets in, in the same step
        EXPECT_THROW(co_await writer, corio::cancelled_error);
        co_await reader;
        EXPECT_EQ(log, std::vector<std::string>{"r2"});
        r1.unlock();
        EXPECT_TRUE(l.try_lock());  // nothing leaked
    }());
}

TEST(rwlock, lock_timeout_leaves_the_queue_and_the_lock_stays_usable) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        auto w = co_await l.lock();
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(l.lock_shared(), 1s), corio::timeout_error);
        EXPECT_THROW(co_await corio::wait_for(l.lock(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 2s);
        w.unlock();
        auto r = co_await corio::wait_for(l.lock_shared(), 1s);  // no ghost waiter holds it back
        EXPECT_TRUE(r.owns_lock());
        EXPECT_EQ(corio::clock::now() - start, 2s);
    }());
}

TEST(rwlock, lock_granted_then_cancelled_returns_the_guard_and_releases_it) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        bool got_guard = false;
        auto held = co_await l.lock_shared();
        auto waiter = corio::spawn([&]() -> corio::task<> {
            auto g = co_await l.lock();  // handed over, then cancelled: the result wins
            got_guard = g.exclusive();
            co_await corio::yield();  // level-triggered: throws here
            ADD_FAILURE() << "cancellation was lost";
        });
        co_await corio::yield();
        held.unlock();
        waiter.cancel();
        EXPECT_TRUE(l.locked());
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_TRUE(got_guard);
        EXPECT_FALSE(l.locked());
        EXPECT_TRUE(l.try_lock_shared());
    }());
}

// The loop ends with the readers scheduled but never resumed: destroying their frames releases
// the lock they were handed.
TEST(rwlock, frames_destroyed_after_hand_over_release_the_lock) {
    corio::rwlock l;  // outlives the loop
    {
        corio::event_loop loop({.virtual_time = true});
        auto reader = [](corio::rwlock& l) -> corio::task<> { auto g = co_await l.lock_shared(); };
        auto main = [](corio::rwlock& l, auto reader) -> corio::task<> {
            auto held = l.try_lock();
            corio::spawn(reader(l));
            corio::spawn(reader(l));
            co_await corio::yield();  // both queue
            held.unlock();            // handed to both; they are scheduled but never resume
        };
        auto h = corio::spawn(main(l, reader));
        loop.run_until_done(h.state());
        EXPECT_EQ(l.readers(), 2u);
    }
    EXPECT_EQ(l.readers(), 0u);
    EXPECT_TRUE(l.try_lock());
}

TEST(rwlock, readers_and_writers_under_load_never_overlap) {
    run_virtual([]() -> corio::task<> {
        corio::rwlock l;
        int readers_in = 0;
        int writers_in = 0;
        int max_readers = 0;
        int overlaps = 0;
        int done = 0;
        auto worker = [&](int id) -> corio::task<> {
            for (int round = 0; round < 5; ++round) {
                const bool writes = (id + round) % 4 == 0;
                corio::rwlock::guard g;
                if (writes)
                    g = co_await l.lock();
                else
                    g = co_await l.lock_shared();
                if (writes ? (writers_in > 0 || readers_in > 0) : writers_in > 0) ++overlaps;
                ++(writes ? writers_in : readers_in);
                max_readers = std::max(max_readers, readers_in);
                co_await corio::sleep(std::chrono::milliseconds(1 + (id * 7 + round) % 5));
                --(writes ? writers_in : readers_in);
            }
            ++done;
        };
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 20; ++id) hs.push_back(corio::spawn(worker(id)));
        for (auto& h : hs) co_await h;
        EXPECT_EQ(done, 20);
        EXPECT_EQ(overlaps, 0);
        EXPECT_GT(max_readers, 1);
        EXPECT_TRUE(l.try_lock());
    }());
}

}  // namespace
