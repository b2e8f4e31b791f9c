// corio::resource_pool: the bound on resources, FIFO waiters, the acquire timeout naming the
// pool's state, checks discarding broken resources, expiry by idle time and lifetime, close,
// and the promise that every opened resource is closed exactly once (virtual time).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/resource_pool.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio_test::expect_throws;
using corio_test::run_virtual;

namespace {

/// Resources are numbers; the ledger records what was opened and closed.
struct ledger {
    int opened = 0;
    std::vector<int> closed;
    std::set<int> broken;  // check() says no to these

    corio::pool_callbacks<int> callbacks() {
        return {.open = [this]() -> corio::task<int> {
                    co_await corio::sleep(1ms);  // connecting takes a while
                    co_return ++opened;
                },
                .close = [this](int& id) { closed.push_back(id); },
                .check = [this](int& id) -> corio::task<bool> { co_return !broken.contains(id); },
                .reusable = {}};
    }
    /// Every resource opened was closed exactly once.
    void expect_all_closed_once() const {
        std::vector<int> sorted = closed;
        std::sort(sorted.begin(), sorted.end());
        std::vector<int> all(static_cast<std::size_t>(opened));
        for (int i = 0; i < opened; ++i) all[static_cast<std::size_t>(i)] = i + 1;
        EXPECT_EQ(sorted, all);
    }
};

TEST(resource_pool, a_hundred_tasks_share_at_most_max_size_resources) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 4}, "numbers");
        int out = 0, most_out = 0;
        auto worker = [](corio::resource_pool<int>& pool, int& out, int& most_out) -> corio::task<> {
            auto lease = co_await pool.acquire();
            most_out = std::max(most_out, ++out);
            co_await corio::sleep(10ms);
            --out;
        };
        std::vector<corio::join_handle<>> workers;
        for (int i = 0; i < 100; ++i) workers.push_back(corio::spawn(worker(pool, out, most_out)));
        for (auto& w : workers) co_await w;
        EXPECT_EQ(most_out, 4);
        EXPECT_EQ(book.opened, 4);  // reused, never more than max_size
        const auto stats = pool.stats();
        EXPECT_EQ(stats.acquired, 100u);
        EXPECT_EQ(stats.idle, 4u);
        EXPECT_EQ(stats.in_use, 0u);
        co_await pool.aclose();
        book.expect_all_closed_once();
    }());
}

corio::task<> take_and_note(corio::resource_pool<int>& pool, std::vector<int>& order, int who) {
    auto lease = co_await pool.acquire();
    order.push_back(who);
    co_await corio::sleep(1ms);
}

TEST(resource_pool, waiters_are_served_in_arrival_order) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 1});
        auto held = co_await pool.acquire();
        std::vector<int> order;
        std::vector<corio::join_handle<>> waiters;
        for (int who = 0; who < 5; ++who) {
            waiters.push_back(corio::spawn(take_and_note(pool, order, who)));
            co_await corio::yield();
        }
        EXPECT_EQ(pool.stats().waiting, 5u);
        held.release();
        for (auto& w : waiters) co_await w;
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
        EXPECT_EQ(book.opened, 1);
    }());
}

TEST(resource_pool, acquire_timeout_names_the_pool_state) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 2, .acquire_timeout = 50ms}, "db");
        auto a = co_await pool.acquire();
        auto b = co_await pool.acquire();
        const auto start = corio::clock::now();
        try {
            co_await pool.acquire();
            ADD_FAILURE() << "no timeout";
        } catch (const corio::timeout_error& e) {
            EXPECT_STREQ(e.what(), "pool 'db': no resource within 50ms (2 of 2 in use, 0 idle, 0 opening, 1 waiting)");
        }
        EXPECT_EQ(corio::clock::now() - start, 50ms);
        EXPECT_EQ(pool.stats().timeouts, 1u);
        EXPECT_EQ(pool.stats().waiting, 0u);
        a.release();
        auto c = co_await pool.acquire();  // the timed-out waiter took nothing
        EXPECT_EQ(*c, 1);
    }());
}

TEST(resource_pool, a_broken_resource_is_discarded_and_replaced) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 2});
        {
            auto a = co_await pool.acquire();
            auto b = co_await pool.acquire();
        }
        book.broken = {1, 2};  // both idle ones fail their check
        auto fresh = co_await pool.acquire();
        EXPECT_EQ(*fresh, 3);
        EXPECT_EQ(pool.stats().discarded, 2u);
        fresh.discard();  // the user saw it break
        fresh.release();
        EXPECT_EQ(pool.stats().idle, 0u);
        EXPECT_EQ(book.closed, (std::vector<int>{1, 2, 3}));  // 1 was returned last: tried first
    }());
}

TEST(resource_pool, reusable_false_closes_instead_of_returning) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        auto callbacks = book.callbacks();
        callbacks.reusable = [](const int& id) { return id % 2 == 0; };
        corio::resource_pool<int> pool(std::move(callbacks), {.max_size = 1});
        { auto one = co_await pool.acquire(); }
        { auto two = co_await pool.acquire(); }
        { auto again = co_await pool.acquire(); EXPECT_EQ(*again, 2); }
        EXPECT_EQ(book.closed, (std::vector<int>{1}));
        EXPECT_EQ(pool.stats().discarded, 1u);
    }());
}

TEST(resource_pool, idle_and_old_resources_expire) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 2, .max_lifetime = 1s, .max_idle = 100ms});
        { auto a = co_await pool.acquire(); }
        co_await corio::sleep(50ms);
        { auto a = co_await pool.acquire(); EXPECT_EQ(*a, 1); }  // idle 50 ms: still fine
        co_await corio::sleep(150ms);
        { auto b = co_await pool.acquire(); EXPECT_EQ(*b, 2); }  // idle 150 ms: closed, replaced
        EXPECT_EQ(book.closed, (std::vector<int>{1}));
        for (int i = 0; i < 13; ++i) {  // kept busy, never idle 100 ms, but 2 grows older than 1 s
            auto c = co_await pool.acquire();
            co_await corio::sleep(90ms);
        }
        EXPECT_EQ(book.closed, (std::vector<int>{1, 2}));
        EXPECT_EQ(book.opened, 3);
    }());
}

TEST(resource_pool, fill_opens_min_size) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.min_size = 3, .max_size = 5});
        co_await pool.fill();
        EXPECT_EQ(pool.stats().idle, 3u);
        EXPECT_EQ(book.opened, 3);
        auto lease = co_await pool.acquire();
        EXPECT_EQ(*lease, 3);  // the most recently opened first
    }());
}

TEST(resource_pool, close_refuses_waiters_and_closes_leases_when_they_end) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int> pool(book.callbacks(), {.max_size = 1});
        auto held = co_await pool.acquire();
        auto waiter = corio::spawn(pool.acquire());
        co_await corio::yield();
        pool.close();
        co_await expect_throws<corio::pool_closed_error>(std::move(waiter), "closed");
        EXPECT_TRUE(book.closed.empty());  // the lease is still in use
        held.release();
        EXPECT_EQ(book.closed, (std::vector<int>{1}));
        co_await expect_throws<corio::pool_closed_error>(pool.acquire(), "pool 'pool' is closed");
        book.expect_all_closed_once();
    }());
}

TEST(resource_pool, cancelled_while_opening_or_checking_takes_nothing) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        auto callbacks = book.callbacks();
        callbacks.check = [](int&) -> corio::task<bool> {
            co_await corio::sleep(1s);  // a slow ping
            co_return true;
        };
        corio::resource_pool<int> pool(std::move(callbacks), {.max_size = 1});
        co_await expect_throws<corio::timeout_error>(corio::wait_for(pool.acquire(), 500us));  // while opening
        EXPECT_EQ(book.opened, 0);
        { auto a = co_await pool.acquire(); }
        co_await expect_throws<corio::timeout_error>(corio::wait_for(pool.acquire(), 10ms));  // while checking
        EXPECT_EQ(book.closed, (std::vector<int>{1}));
        const auto stats = pool.stats();
        EXPECT_EQ(stats.size, 0u);
        EXPECT_EQ(stats.waiting, 0u);
        EXPECT_EQ(stats.opening, 0u);
    }());
}

TEST(resource_pool, the_pool_may_go_before_its_leases) {
    run_virtual([]() -> corio::task<> {
        ledger book;
        corio::resource_pool<int>::lease kept;
        {
            corio::resource_pool<int> pool(book.callbacks(), {.max_size = 1});
            kept = co_await pool.acquire();
        }
        EXPECT_TRUE(book.closed.empty());
        kept.release();
        EXPECT_EQ(book.closed, (std::vector<int>{1}));
    }());
}

TEST(resource_pool, refuses_options_it_cannot_honour) {
    ledger book;
    EXPECT_THROW(corio::resource_pool<int>(book.callbacks(), {.max_size = 0}), std::invalid_argument);
    EXPECT_THROW(corio::resource_pool<int>(book.callbacks(), {.min_size = 3, .max_size = 2}), std::invalid_argument);
    EXPECT_THROW(corio::resource_pool<int>(book.callbacks(), {.acquire_timeout = 0s}), std::invalid_argument);
    EXPECT_THROW(corio::resource_pool<int>({}, {}), std::invalid_argument);
}

}  // namespace
