// Timeouts as scopes: fail_after / fail_at / timeout_at, move_on_after / move_on_at, the
// timeout_scope a block can move, current_deadline(), and how nested deadlines report.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using corio::clock;
using corio_test::expect_throws;
using corio_test::run_virtual;

namespace {

corio::task<> two_calls(std::chrono::nanoseconds each) {
    co_await corio::sleep(each);
    co_await corio::sleep(each);
}

TEST(fail_after, bounds_a_block_of_calls) {
    run_virtual([]() -> corio::task<> {
        const auto start = clock::now();
        co_await expect_throws<corio::timeout_error>(corio::fail_after(10s, [] { return two_calls(6s); }),
                                                     "timed out after 10s");
        EXPECT_EQ(clock::now() - start, 10s);  // cut in the second call
        const int v = co_await corio::fail_after(10s, []() -> corio::task<int> {
            co_await two_calls(4s);
            co_return 7;
        });
        EXPECT_EQ(v, 7);
    });
}

TEST(fail_after, the_blocks_own_error_and_a_requested_cancellation_pass_unchanged) {
    run_virtual([]() -> corio::task<> {
        co_await expect_throws<std::runtime_error>(corio::fail_after(10s, []() -> corio::task<> {
                                                       co_await corio::sleep(1s);
                                                       throw std::runtime_error("own error");
                                                   }),
                                                   "own error");
        auto h = corio::spawn(corio::fail_after(10s, [] { return corio::sleep(1h); }));
        co_await corio::sleep(1s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);  // never reported as a timeout
    });
}

TEST(fail_at, and_timeout_at_take_a_deadline) {
    run_virtual([]() -> corio::task<> {
        const auto start = clock::now();
        co_await expect_throws<corio::timeout_error>(corio::fail_at(start + 3s, [] { return corio::sleep(1h); }), "3s");
        co_await expect_throws<corio::timeout_error>(corio::timeout_at(clock::now() + 2s, [] { return corio::sleep(1h); }), "2s");
        EXPECT_EQ(clock::now() - start, 5s);
    });
}

TEST(move_on_after, cuts_a_block_short_without_an_error) {
    run_virtual([]() -> corio::task<> {
        const auto start = clock::now();
        int done = 0;
        const bool cut = co_await corio::move_on_after(5s, [&done]() -> corio::task<> {
            for (;; ++done) co_await corio::sleep(2s);
        });
        EXPECT_TRUE(cut);
        EXPECT_EQ(done, 2);
        EXPECT_EQ(clock::now() - start, 5s);
        EXPECT_FALSE(co_await corio::move_on_after(5s, [] { return corio::sleep(1s); }));
        // A block with a value: nullopt when cut short.
        EXPECT_EQ(co_await corio::move_on_after(5s, [] { return corio_test::value_after(1s, 4); }), 4);
        EXPECT_EQ(co_await corio::move_on_after(5s, [] { return corio_test::value_after(9s, 4); }), std::nullopt);
        EXPECT_TRUE(co_await corio::move_on_at(clock::now() + 1s, [] { return corio::sleep(1h); }));
    });
}

TEST(timeout_scope, the_block_can_read_and_move_its_deadline) {
    run_virtual([]() -> corio::task<> {
        const auto start = clock::now();
        co_await corio::fail_after(5s, [start](corio::timeout_scope& scope) -> corio::task<> {
            EXPECT_EQ(scope.deadline(), start + 5s);
            co_await corio::sleep(4s);
            scope.reschedule(scope.deadline() + 10s);  // more time for the rest
            co_await corio::sleep(8s);                 // past the first deadline: fine now
            EXPECT_FALSE(scope.expired());
        });
        EXPECT_EQ(clock::now() - start, 12s);
        bool saw_expired = false;
        const bool cut = co_await corio::move_on_after(5s, [&saw_expired](corio::timeout_scope& scope) -> corio::task<> {
            scope.reschedule(clock::now() + 1s);  // earlier
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                saw_expired = scope.expired();
                throw;
            }
        });
        EXPECT_TRUE(cut);
        EXPECT_TRUE(saw_expired);
        EXPECT_EQ(clock::now() - start, 13s);
    });
}

TEST(current_deadline, is_the_nearest_deadline_in_force) {
    // Not run_virtual: its deadlock guard would be a deadline in force.
    corio::run([]() -> corio::task<> {
        EXPECT_EQ(corio::current_deadline(), std::nullopt);
        const auto start = clock::now();
        co_await corio::fail_after(10s, [start]() -> corio::task<> {
            EXPECT_EQ(corio::current_deadline(), start + 10s);
            co_await corio::fail_after(3s, [start]() -> corio::task<> {
                EXPECT_EQ(corio::current_deadline(), start + 3s);  // the nearer one
                auto inside_wait_for = corio::invoke([start]() -> corio::task<> {
                    EXPECT_EQ(corio::current_deadline(), start + 1s);  // wait_for's counts too
                    co_return;
                });
                co_await corio::wait_for(std::move(inside_wait_for), 1s);
                co_await corio::fail_after(1h, [start]() -> corio::task<> {
                    EXPECT_EQ(corio::current_deadline(), start + 3s);  // a later one changes nothing
                    co_return;
                });
            });
            co_await corio::uncancellable([]() -> corio::task<> {
                EXPECT_EQ(corio::current_deadline(), std::nullopt);  // a shield keeps outer deadlines out
                co_return;
            }());
        });
        EXPECT_EQ(corio::current_deadline(), std::nullopt);
    }(), {.virtual_time = true});
}

TEST(timeouts, nested_the_innermost_one_that_expired_reports) {
    run_virtual([]() -> corio::task<> {
        // The inner deadline passes first: it reports.
        co_await expect_throws<corio::timeout_error>(
            corio::fail_after(5s, [] { return corio::fail_after(2s, [] { return corio::sleep(1h); }); }),
            "timed out after 2s");
        // The outer one passes first: it reports.
        co_await expect_throws<corio::timeout_error>(
            corio::fail_after(2s, [] { return corio::fail_after(5s, [] { return corio::sleep(1h); }); }),
            "timed out after 2s");
        // Both at the same instant (3 s from now; the inner one, started 1 s later, allows 2 s):
        // the inner one reports.
        const auto t0 = clock::now();
        co_await expect_throws<corio::timeout_error>(corio::fail_at(t0 + 3s,
                                                                    []() -> corio::task<> {
                                                                        co_await corio::sleep(1s);
                                                                        co_await corio::fail_after(2s, [] { return corio::sleep(1h); });
                                                                    }),
                                                     "timed out after 2s");
        EXPECT_EQ(clock::now() - t0, 3s);
    });
}

TEST(move_on_after, an_inner_timeout_error_is_not_mistaken_for_its_own_cut) {
    run_virtual([]() -> corio::task<> {
        co_await expect_throws<corio::timeout_error>(
            corio::move_on_after(5s, [] { return corio::fail_after(1s, [] { return corio::sleep(1h); }); }),
            "timed out after 1s");
    });
}

}  // namespace
