// corio::queue<T>: capacity, try_push/try_pop, ordering with many items, blocking push/pop,
// hand-off, close() with waiting pushers and poppers, cancellation that loses nothing,
// timeouts (virtual time), move-only items.
// corio::lifo_queue and corio::priority_queue: their order (newest first; smallest first,
// stable), the hand-off to waiting pushers and poppers, close and cancellation.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/lifo_queue.hpp>
#include <corio/priority_queue.hpp>
#include <corio/queue.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <new>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

TEST(queue, capacity_zero_is_rejected) {
    EXPECT_THROW(corio::queue<int>(0), std::invalid_argument);
}

TEST(queue, queue_closed_is_a_corio_error) {
    static_assert(std::is_same_v<corio::queue_closed, corio::queue_closed_error>);  // the older name
    const corio::queue_closed_error e;
    const corio::error& base = e;
    EXPECT_NE(std::string(base.what()).find("closed"), std::string::npos);
}

TEST(queue, try_push_and_try_pop) {
    corio::queue<std::unique_ptr<int>> q(2);
    EXPECT_EQ(q.capacity(), 2u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.try_pop().has_value());

    auto one = std::make_unique<int>(1);
    auto two = std::make_unique<int>(2);
    auto three = std::make_unique<int>(3);
    EXPECT_TRUE(q.try_push(std::move(one)));
    EXPECT_TRUE(q.try_push(std::move(two)));
    EXPECT_EQ(one, nullptr);  // accepted: moved from
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.size(), 2u);
    EXPECT_FALSE(q.try_push(std::move(three)));
    ASSERT_NE(three, nullptr);  // refused: the caller keeps it
    EXPECT_EQ(*three, 3);

    auto first = q.try_pop();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(**first, 1);
    EXPECT_EQ(**q.try_pop(), 2);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.try_pop().has_value());
}

TEST(queue, push_of_an_lvalue_copies) {
    run_virtual([]() -> corio::task<> {
        corio::queue<std::string> q(2);
        std::string s = "kept";
        co_await q.push(s);
        EXPECT_TRUE(q.try_push(s));
        EXPECT_EQ(s, "kept");
        EXPECT_EQ(co_await q.pop(), "kept");
        EXPECT_EQ(co_await q.pop(), "kept");
    }());
}

TEST(queue, producer_consumer_with_small_capacity_keeps_order) {
    run_virtual([]() -> corio::task<> {
        constexpr int items = 1000;
        corio::queue<int> q(3);
        std::vector<int> received;
        std::size_t max_size = 0;
        auto producer = corio::spawn([&q, &max_size]() -> corio::task<> {
            for (int i = 0; i < items; ++i) {
                co_await q.push(int{i});
                max_size = std::max(max_size, q.size());
                if (i % 7 == 0) co_await corio::sleep(1ms);  // vary the pace
            }
        });
        auto consumer = corio::spawn([&q, &received]() -> corio::task<> {
            for (int i = 0; i < items; ++i) {
                received.push_back(co_await q.pop());
                if (i % 5 == 0) co_await corio::sleep(1ms);
            }
        });
        co_await producer;
        co_await consumer;
        std::vector<int> expected;
        for (int i = 0; i < items; ++i) expected.push_back(i);
        EXPECT_EQ(received, expected);
        EXPECT_LE(max_size, 3u);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, many_producers_and_consumers_keep_per_producer_order) {
    run_virtual([]() -> corio::task<> {
        constexpr int producers = 4;
        constexpr int per_producer = 200;
        corio::queue<std::pair<int, int>> q(2);
        std::vector<std::vector<int>> seen(producers);
        std::vector<corio::join_handle<>> hs;
        for (int p = 0; p < producers; ++p) {
            hs.push_back(corio::spawn([&q, p]() -> corio::task<> {
                for (int i = 0; i < per_producer; ++i) co_await q.push(std::pair{p, i});
            }));
        }
        std::vector<corio::join_handle<>> consumers;
        for (int c = 0; c < 3; ++c) {
            consumers.push_back(corio::spawn([&q, &seen]() -> corio::task<> {
                try {
                    for (;;) {
                        auto [p, i] = co_await q.pop();
                        seen[static_cast<std::size_t>(p)].push_back(i);
                        co_await corio::yield();
                    }
                } catch (const corio::queue_closed_error&) {
                }
            }));
        }
        for (auto& h : hs) co_await h;
        q.close();
        for (auto& c : consumers) co_await c;
        std::vector<int> expected;
        for (int i = 0; i < per_producer; ++i) expected.push_back(i);
        for (const auto& s : seen) EXPECT_EQ(s, expected);
    }());
}

TEST(queue, push_blocks_while_full_and_a_pop_moves_the_waiting_item_in) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(1);
        co_await q.push(1);
        bool pushed = false;
        auto pusher = corio::spawn([&q, &pushed]() -> corio::task<> {
            co_await q.push(2);
            pushed = true;
        });
        co_await corio::sleep(1s);
        EXPECT_FALSE(pushed);  // still blocked after a (virtual) second
        EXPECT_EQ(q.size(), 1u);

        EXPECT_EQ(co_await q.pop(), 1);
        EXPECT_EQ(q.size(), 1u);  // hand-off: the waiting item moved in as the slot freed
        EXPECT_FALSE(q.try_push(3));  // so the freed slot was not up for grabs
        co_await pusher;
        EXPECT_TRUE(pushed);
        EXPECT_EQ(co_await q.pop(), 2);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, pop_blocks_while_empty_and_a_push_hands_the_item_over) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(4);
        std::vector<int> got;
        auto popper = corio::spawn([&q, &got]() -> corio::task<> {
            got.push_back(co_await q.pop());
            got.push_back(co_await q.pop());
        });
        co_await corio::sleep(1s);
        EXPECT_TRUE(got.empty());

        EXPECT_TRUE(q.try_push(10));
        EXPECT_TRUE(q.empty());  // handed straight to the waiting popper, not queued
        co_await q.push(20);     // the popper has not run yet: this one is queued
        EXPECT_EQ(q.size(), 1u);
        co_await popper;
        EXPECT_EQ(got, (std::vector<int>{10, 20}));
    }());
}

/// A first-in, first-out Store whose push throws std::bad_alloc while *refuse is true.
struct refusing_store {
    bool* refuse;
    std::deque<int> items;
    void push(int&& item) {
        if (*refuse) throw std::bad_alloc();
        items.push_back(item);
    }
    int take() {
        const int first = items.front();
        items.pop_front();
        return first;
    }
    std::size_t size() const noexcept { return items.size(); }
};

TEST(queue, a_store_refusing_a_waiting_pushers_item_fails_that_push_and_loses_no_item) {
    run_virtual([]() -> corio::task<> {
        bool refuse = false;
        corio::basic_queue<int, refusing_store> q(1, refusing_store{&refuse, {}});
        co_await q.push(1);
        int waiting = 2;
        auto pusher = corio::spawn([&q, &waiting]() -> corio::task<> { co_await q.push_from(waiting); });
        co_await corio::sleep(1s);
        refuse = true;
        EXPECT_EQ(co_await q.pop(), 1);  // the taken item still goes out
        EXPECT_THROW(co_await pusher, std::bad_alloc);
        EXPECT_EQ(waiting, 2);           // still the caller's, to push again
        EXPECT_TRUE(q.empty());
        refuse = false;
        co_await q.push_from(waiting);
        EXPECT_EQ(co_await q.pop(), 2);
    }());
}

TEST(queue, waiting_poppers_are_served_fifo) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<std::pair<int, int>> got;  // (popper, item)
        std::vector<corio::join_handle<>> hs;
        for (int id = 0; id < 3; ++id) {
            hs.push_back(corio::spawn([&q, &got, id]() -> corio::task<> {
                got.emplace_back(id, co_await q.pop());
            }));
            co_await corio::yield();
        }
        for (int item = 100; item < 103; ++item) co_await q.push(int{item});
        for (auto& h : hs) co_await h;
        EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 100}, {1, 101}, {2, 102}}));
    }());
}

TEST(queue, close_wakes_waiting_pushers_and_remaining_items_are_still_popped) {
    run_virtual([]() -> corio::task<> {
        corio::queue<std::string> q(1);
        co_await q.push(std::string("stored"));
        std::vector<std::string> kept;  // what the refused pushers still hold afterwards
        auto pusher = [](corio::queue<std::string>& q, std::string item,
                         std::vector<std::string>& kept) -> corio::task<> {
            try {
                co_await q.push_from(item);
                ADD_FAILURE() << "push into a closed queue succeeded";
            } catch (const corio::queue_closed_error&) {
                kept.push_back(item);
            }
        };
        auto p1 = corio::spawn(pusher(q, "first", kept));
        auto p2 = corio::spawn(pusher(q, "second", kept));
        co_await corio::yield();
        q.close();
        EXPECT_TRUE(q.closed());
        co_await p1;
        co_await p2;
        EXPECT_EQ(kept, (std::vector<std::string>{"first", "second"}));  // nothing was lost

        EXPECT_EQ(q.size(), 1u);  // refused pushers enqueued nothing
        EXPECT_THROW(co_await q.push(std::string("late")), corio::queue_closed_error);
        EXPECT_THROW(q.try_push(std::string("late")), corio::queue_closed_error);
        EXPECT_EQ(co_await q.pop(), "stored");  // remaining items are still delivered
        EXPECT_THROW(co_await q.pop(), corio::queue_closed_error);
        EXPECT_THROW(q.try_pop(), corio::queue_closed_error);
        q.close();  // idempotent
    }());
}

TEST(queue, close_wakes_waiting_poppers) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(2);
        int refused = 0;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 3; ++i) {
            hs.push_back(corio::spawn([&q, &refused]() -> corio::task<> {
                try {
                    co_await q.pop();
                } catch (const corio::queue_closed_error&) {
                    ++refused;
                }
            }));
        }
        co_await corio::sleep(1s);
        const auto closed_at = corio::clock::now();
        q.close();
        for (auto& h : hs) co_await h;
        EXPECT_EQ(refused, 3);
        EXPECT_EQ(corio::clock::now(), closed_at);
    }());
}

TEST(queue, cancelled_pop_takes_no_item) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(2);
        auto popper = corio::spawn([&q]() -> corio::task<int> {
            co_return co_await q.pop();
        });
        co_await corio::yield();
        popper.cancel();     // leaves the waiters at once...
        co_await q.push(7);  // ...so this push, in the same step, is not handed to it
        EXPECT_EQ(q.size(), 1u);
        EXPECT_THROW(co_await popper, corio::cancelled_error);
        EXPECT_EQ(q.size(), 1u);
        EXPECT_EQ(q.try_pop(), std::optional<int>(7));
    }());
}

TEST(queue, item_handed_to_a_popper_then_cancelled_is_still_returned) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(2);
        int got = 0;
        auto popper = corio::spawn([&q, &got]() -> corio::task<> {
            got = co_await q.pop();  // handed 42, then cancelled: the result wins
            co_await corio::yield();  // level-triggered: throws here
            ADD_FAILURE() << "cancellation was lost";
        });
        co_await corio::yield();
        co_await q.push(42);
        popper.cancel();
        EXPECT_THROW(co_await popper, corio::cancelled_error);
        EXPECT_EQ(got, 42);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, push_owns_its_item_so_a_stored_or_spawned_push_is_safe) {
    run_virtual([]() -> corio::task<> {
        corio::queue<std::string> q(1);
        co_await q.push(std::string(64, 'a'));
        // The temporary string dies at the end of this statement; the request owns a copy of it.
        auto pending = corio::spawn(q.push(std::string(64, 'b')));
        co_await corio::sleep(1s);
        EXPECT_FALSE(pending.done());  // full: still waiting
        EXPECT_EQ(co_await q.pop(), std::string(64, 'a'));
        co_await pending;
        EXPECT_EQ(co_await q.pop(), std::string(64, 'b'));
        // A request can be made now and awaited later.
        auto later = q.push(std::string("c"));
        co_await std::move(later);
        EXPECT_EQ(co_await q.pop(), "c");
    }());
}

TEST(queue, cancelled_push_does_not_enqueue_and_keeps_the_callers_item) {
    run_virtual([]() -> corio::task<> {
        corio::queue<std::unique_ptr<int>> q(1);
        co_await q.push(std::make_unique<int>(1));
        bool still_owned = false;
        auto pusher = corio::spawn([&q, &still_owned]() -> corio::task<> {
            auto item = std::make_unique<int>(2);
            try {
                co_await q.push_from(item);
            } catch (const corio::cancelled_error&) {
                still_owned = item != nullptr && *item == 2;
                throw;
            }
        });
        co_await corio::yield();
        pusher.cancel();                  // leaves the waiters at once...
        EXPECT_EQ(*co_await q.pop(), 1);  // ...so the freed slot is not filled with its item
        EXPECT_TRUE(q.empty());
        EXPECT_THROW(co_await pusher, corio::cancelled_error);
        EXPECT_TRUE(still_owned);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, push_accepted_then_cancelled_returns_normally) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(1);
        co_await q.push(1);
        bool returned = false;
        auto pusher = corio::spawn([&q, &returned]() -> corio::task<> {
            co_await q.push(2);  // accepted, then cancelled before resuming: returns
            returned = true;
            co_await corio::yield();
        });
        co_await corio::yield();
        EXPECT_EQ(co_await q.pop(), 1);  // moves the pusher's item in
        pusher.cancel();
        EXPECT_THROW(co_await pusher, corio::cancelled_error);
        EXPECT_TRUE(returned);
        EXPECT_EQ(q.try_pop(), std::optional<int>(2));
    }());
}

TEST(queue, pop_timeout_on_empty_queue_is_clean_and_queue_stays_usable) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(2);
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(q.pop(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);

        EXPECT_TRUE(q.try_push(5));  // no ghost popper swallows it
        EXPECT_EQ(q.size(), 1u);
        EXPECT_EQ(co_await corio::wait_for(q.pop(), 1s), 5);
        EXPECT_EQ(corio::clock::now() - start, 1s);  // available: no waiting

        corio::spawn([&q]() -> corio::task<> {
            co_await corio::sleep(300ms);
            co_await q.push(6);
        });
        EXPECT_EQ(co_await corio::wait_for(q.pop(), 1s), 6);
        EXPECT_EQ(corio::clock::now() - start, 1300ms);
    }());
}

TEST(queue, pop_timing_out_in_the_instant_of_a_push_loses_nothing) {
    run_virtual([]() -> corio::task<> {
        corio::queue<int> q(1);
        auto pusher = corio::spawn([&q]() -> corio::task<> {
            co_await corio::sleep(1s);  // due at the same instant as the pop's deadline
            co_await q.push(9);
        });
        std::optional<int> got;
        try {
            got = co_await corio::wait_for(q.pop(), 1s);
        } catch (const corio::timeout_error&) {
        }
        co_await pusher;
        if (got) {  // either the pop got the item...
            EXPECT_EQ(*got, 9);
            EXPECT_TRUE(q.empty());
        } else {    // ...or it timed out and the item is still in the queue
            EXPECT_EQ(q.try_pop(), std::optional<int>(9));
        }
    }());
}

TEST(queue, push_timeout_on_full_queue_keeps_the_item) {
    run_virtual([]() -> corio::task<> {
        corio::queue<std::string> q(1);
        co_await q.push(std::string("a"));
        std::string item = "b";
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(q.push_from(item), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);
        EXPECT_EQ(item, "b");  // not accepted, not moved from
        EXPECT_EQ(q.size(), 1u);
        EXPECT_EQ(co_await q.pop(), "a");
        co_await corio::wait_for(q.push_from(item), 1s);  // retry succeeds
        EXPECT_EQ(co_await q.pop(), "b");
    }());
}

template <class Q>
corio::task<std::vector<int>> pop_all(Q& q) {
    std::vector<int> out;
    while (auto item = q.try_pop()) out.push_back(*item);
    co_return out;
}

TEST(lifo_queue, pops_the_newest_item_first) {
    run_virtual([]() -> corio::task<> {
        corio::lifo_queue<int> q(8);
        for (int i = 1; i <= 5; ++i) co_await q.push(i);
        EXPECT_EQ(co_await q.pop(), 5);
        EXPECT_TRUE(q.try_push(6));
        const std::vector<int> rest = co_await pop_all(q);
        EXPECT_EQ(rest, (std::vector<int>{6, 4, 3, 2, 1}));
    }());
}

TEST(lifo_queue, a_pop_takes_the_top_then_moves_the_waiting_pushers_in_fifo) {
    run_virtual([]() -> corio::task<> {
        corio::lifo_queue<int> q(2);
        co_await q.push(1);
        co_await q.push(2);
        auto p3 = corio::spawn(q.push(3));
        co_await corio::yield();
        auto p4 = corio::spawn(q.push(4));
        co_await corio::yield();
        EXPECT_EQ(co_await q.pop(), 2);  // the top; then 3 (the longest-waiting pusher) goes in
        co_await p3;
        EXPECT_FALSE(p4.done());
        EXPECT_EQ(co_await q.pop(), 3);  // then 4 goes in
        co_await p4;
        const std::vector<int> rest = co_await pop_all(q);
        EXPECT_EQ(rest, (std::vector<int>{4, 1}));
    }());
}

TEST(lifo_queue, waiting_poppers_are_served_fifo_and_close_wakes_them) {
    run_virtual([]() -> corio::task<> {
        corio::lifo_queue<int> q(2);
        std::vector<int> got;
        auto popper = [&]() -> corio::task<> {
            try {
                got.push_back(co_await q.pop());
            } catch (const corio::queue_closed_error&) {
                got.push_back(-1);
            }
        };
        auto a = corio::spawn(popper());
        co_await corio::yield();
        auto b = corio::spawn(popper());
        co_await corio::yield();
        auto c = corio::spawn(popper());
        co_await corio::yield();
        co_await q.push(10);  // to a
        co_await q.push(20);  // to b
        q.close();            // c: closed while empty
        co_await a;
        co_await b;
        co_await c;
        EXPECT_EQ(got, (std::vector<int>{10, 20, -1}));
        EXPECT_THROW(q.try_push(1), corio::queue_closed_error);
    }());
}

TEST(lifo_queue, cancelled_pop_takes_no_item) {
    run_virtual([]() -> corio::task<> {
        corio::lifo_queue<int> q(2);
        auto popper = corio::spawn(q.pop());
        co_await corio::yield();
        popper.cancel();
        co_await q.push(7);
        EXPECT_THROW(co_await popper, corio::cancelled_error);
        EXPECT_EQ(q.try_pop(), std::optional<int>(7));
    }());
}

TEST(priority_queue, pops_the_smallest_item_first) {
    run_virtual([]() -> corio::task<> {
        corio::priority_queue<int> q(16);
        const std::vector<int> items = {5, 1, 4, 1, 3, 9, 2, 6};
        for (int i : items) co_await q.push(i);
        EXPECT_EQ(co_await q.pop(), 1);
        const std::vector<int> rest = co_await pop_all(q);
        EXPECT_EQ(rest, (std::vector<int>{1, 2, 3, 4, 5, 6, 9}));
    }());
}

TEST(priority_queue, std_greater_pops_the_largest_first) {
    corio::priority_queue<int, std::greater<int>> q(16);
    for (int i : {5, 1, 4, 3}) EXPECT_TRUE(q.try_push(i));
    std::vector<int> out;
    while (auto item = q.try_pop()) out.push_back(*item);
    EXPECT_EQ(out, (std::vector<int>{5, 4, 3, 1}));
}

TEST(priority_queue, equal_priorities_come_out_in_push_order) {
    struct by_priority {
        bool operator()(const std::pair<int, int>& a, const std::pair<int, int>& b) const { return a.first < b.first; }
    };
    corio::priority_queue<std::pair<int, int>, by_priority> q(1000);
    std::vector<std::pair<int, int>> pushed;
    unsigned seed = 12345;
    for (int i = 0; i < 1000; ++i) {
        seed = seed * 1103515245u + 12345u;
        pushed.emplace_back(static_cast<int>((seed >> 16) % 5), i);  // 5 priorities, many ties
        EXPECT_TRUE(q.try_push(pushed.back()));
    }
    std::stable_sort(pushed.begin(), pushed.end(), by_priority{});
    std::vector<std::pair<int, int>> popped;
    while (auto item = q.try_pop()) popped.push_back(*item);
    EXPECT_EQ(popped, pushed);
}

TEST(priority_queue, a_waiting_popper_takes_the_next_item_and_a_pop_takes_the_smallest_already_queued) {
    run_virtual([]() -> corio::task<> {
        corio::priority_queue<int> q(2);
        auto popper = corio::spawn(q.pop());
        co_await corio::yield();
        co_await q.push(8);  // handed straight to the waiting popper, whatever its priority
        EXPECT_EQ(co_await popper, 8);
        co_await q.push(5);
        co_await q.push(3);
        auto pusher = corio::spawn(q.push(1));
        co_await corio::yield();
        EXPECT_EQ(co_await q.pop(), 3);  // the smallest queued; then the waiting 1 goes in
        co_await pusher;
        const std::vector<int> rest = co_await pop_all(q);
        EXPECT_EQ(rest, (std::vector<int>{1, 5}));
    }());
}

TEST(priority_queue, a_timed_out_push_keeps_the_callers_item_and_close_refuses_pushes) {
    run_virtual([]() -> corio::task<> {
        corio::priority_queue<std::string> q(1);
        co_await q.push(std::string("b"));
        std::string item = "a";
        EXPECT_THROW(co_await corio::wait_for(q.push_from(item), 1s), corio::timeout_error);
        EXPECT_EQ(item, "a");
        q.close();
        EXPECT_THROW(co_await q.push(std::string("c")), corio::queue_closed_error);
        EXPECT_EQ(co_await q.pop(), "b");  // what is left still comes out
        EXPECT_THROW(co_await q.pop(), corio::queue_closed_error);
    }());
}

}  // namespace
