// task_group: structured concurrency, error aggregation, cancellation.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::expect_cancel_propagates;
using corio_test::run_virtual;
using corio_test::value_after;

namespace {

corio::task<> fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await corio::sleep(d);
    throw std::runtime_error(msg);
}

corio::task<> record_cancel(std::chrono::nanoseconds d, bool& cancelled) {
    try {
        co_await corio::sleep(d);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
        throw;
    }
}

TEST(task_group, waits_for_every_child_and_returns_the_body_value) {
    run_virtual([]() -> corio::task<> {
        const auto start = corio::clock::now();
        int sum = 0;
        const int r = co_await corio::with_task_group([&sum](corio::task_group& tg) -> corio::task<int> {
            auto a = tg.spawn(value_after(2s, 1));
            auto b = tg.spawn(value_after(3s, 2));
            EXPECT_EQ(tg.size(), 2u);
            sum = co_await a + co_await b;
            co_return 7;
        });
        EXPECT_EQ(r, 7);
        EXPECT_EQ(sum, 3);
        EXPECT_EQ(corio::clock::now() - start, 3s);
    });
}

TEST(task_group, body_returning_early_still_waits_for_children) {
    run_virtual([]() -> corio::task<> {
        const auto start = corio::clock::now();
        co_await corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
            tg.spawn(value_after(5s, 1));
            co_return;
        });
        EXPECT_EQ(corio::clock::now() - start, 5s);
    });
}

TEST(task_group, first_child_error_cancels_siblings_and_body) {
    run_virtual([]() -> corio::task<> {
        bool sibling_cancelled = false, body_cancelled = false;
        const auto start = corio::clock::now();
        try {
            co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
                tg.spawn(record_cancel(1h, sibling_cancelled));
                tg.spawn(fail_after(1s, "child failed"), "failing-child");
                co_await record_cancel(1h, body_cancelled);
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(g.size(), 1u);
            EXPECT_TRUE(g.contains<std::runtime_error>());
            EXPECT_NE(std::string(g.what()).find("child failed"), std::string::npos) << g.what();
        }
        EXPECT_TRUE(sibling_cancelled);
        EXPECT_TRUE(body_cancelled);
        EXPECT_EQ(corio::clock::now() - start, 1s);
    });
}

TEST(task_group, collects_every_error_in_order_of_occurrence) {
    run_virtual([]() -> corio::task<> {
        try {
            co_await corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
                // Both fail in their cleanup after the first error cancels them.
                tg.spawn(fail_after(2s, "second"));
                tg.spawn(fail_after(1s, "first"));
                tg.spawn([]() -> corio::task<> {
                    try {
                        co_await corio::sleep(1h);
                    } catch (const corio::cancelled_error&) {
                    }
                    throw std::logic_error("third, during cancellation");
                });
                co_return;
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(g.size(), 2u) << g.what();
            if (g.size() != 2u) co_return;
            EXPECT_EQ(corio::describe(g.errors()[0]), "first");
            EXPECT_EQ(corio::describe(g.errors()[1]), "third, during cancellation");
            EXPECT_EQ(corio::describe(g.first()), "first");
        }
    });
}

TEST(task_group, body_error_is_included_and_cancels_children) {
    run_virtual([]() -> corio::task<> {
        bool child_cancelled = false;
        try {
            co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
                tg.spawn(record_cancel(1h, child_cancelled));
                co_await corio::sleep(1s);
                throw std::invalid_argument("body failed");
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(g.size(), 1u);
            EXPECT_TRUE(g.contains<std::invalid_argument>());
        }
        EXPECT_TRUE(child_cancelled);
    });
}

TEST(task_group, outer_cancellation_propagates_as_cancel_not_as_group) {
    run_virtual([]() -> corio::task<> {
        bool child_cancelled = false;
        co_await expect_cancel_propagates(corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
                                              tg.spawn(record_cancel(1h, child_cancelled));
                                              co_await corio::sleep(1h);
                                          }),
                                          1s);
        EXPECT_TRUE(child_cancelled);
    });
}

TEST(task_group, wait_for_around_a_group_times_out_cleanly) {
    run_virtual([]() -> corio::task<> {
        bool child_cancelled = false;
        EXPECT_THROW(co_await corio::wait_for(corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
                                                  tg.spawn(record_cancel(1h, child_cancelled));
                                                  co_return;
                                              }),
                                              2s),
                     corio::timeout_error);
        EXPECT_TRUE(child_cancelled);
    });
}

TEST(task_group, children_may_spawn_more_children_and_the_group_waits_for_them) {
    run_virtual([]() -> corio::task<> {
        int finished = 0;
        co_await corio::with_task_group([&finished](corio::task_group& tg) -> corio::task<> {
            tg.spawn([&tg, &finished]() -> corio::task<> {
                co_await corio::sleep(1s);
                tg.spawn([&finished]() -> corio::task<> {
                    co_await corio::sleep(1s);
                    ++finished;
                });
                ++finished;
            });
            co_return;
        });
        EXPECT_EQ(finished, 2);
    });
}

TEST(task_group, a_child_spawned_by_the_bodys_cleanup_starts_cancelled) {
    run_virtual([]() -> corio::task<> {
        const auto start = corio::clock::now();
        bool late_child_ran = false;
        try {
            co_await corio::with_task_group([&late_child_ran](corio::task_group& tg) -> corio::task<> {
                tg.spawn(fail_after(10ms, "child failed"));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    // Cleanup that adds work to a failing group: it must not keep the group alive.
                    tg.spawn([&late_child_ran]() -> corio::task<> {
                        late_child_ran = true;
                        co_await corio::sleep(1h);
                    });
                    throw;
                }
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(g.errors().size(), 1u);
        }
        EXPECT_EQ(corio::clock::now() - start, 10ms);  // not an hour
        EXPECT_FALSE(late_child_ran);                   // cancelled before it started
    });
}

TEST(task_group, a_grandchild_spawned_during_cancellation_starts_cancelled) {
    run_virtual([]() -> corio::task<> {
        auto group = corio::spawn(corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
            tg.spawn([&tg]() -> corio::task<> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    tg.spawn(corio::sleep(1h));  // a child's cleanup spawns into the group
                    throw;
                }
            });
            co_return;  // the body ends; the group waits for its child
        }));
        co_await corio::sleep(10ms);
        const auto cancelled_at = corio::clock::now();
        group.cancel();  // the outer task is cancelled while the group waits
        EXPECT_THROW(co_await group, corio::cancelled_error);
        EXPECT_EQ(corio::clock::now() - cancelled_at, 0s);
    });
}

TEST(exception_group, message_lists_every_error) {
    std::vector<std::exception_ptr> errors{std::make_exception_ptr(std::runtime_error("a")),
                                           std::make_exception_ptr(std::logic_error("b"))};
    corio::exception_group g(errors);
    EXPECT_STREQ(g.what(), "2 errors in task group: [1] a; [2] b");
}

}  // namespace
