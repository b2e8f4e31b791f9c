// wait_for / wait_until: expiry, races with completion and with outer cancellation, nesting.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <string>

using namespace std::chrono_literals;

using corio_test::value_after;

namespace {

TEST(wait_for, returns_the_value_when_in_time) {
    EXPECT_EQ(corio::run(
                  []() -> corio::task<int> { co_return co_await corio::wait_for(value_after(1s, 7), 2s); }(),
                  {.virtual_time = true}),
              7);
}

TEST(wait_for, expiry_cancels_the_operation_and_names_the_duration) {
    bool inner_cleaned = false;
    corio::run([&]() -> corio::task<> {
        const auto start = corio::clock::now();
        try {
            auto op = corio::invoke([&inner_cleaned]() -> corio::task<> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    inner_cleaned = true;
                    throw;
                }
            });
            co_await corio::wait_for(std::move(op), 1500ms);
            ADD_FAILURE() << "no timeout";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("1.5s"), std::string::npos) << e.what();
        }
        EXPECT_EQ(corio::clock::now() - start, 1500ms);
    }(), {.virtual_time = true});
    EXPECT_TRUE(inner_cleaned);
}

TEST(wait_for, the_operations_own_error_wins) {
    corio::run([]() -> corio::task<> {
        EXPECT_THROW(co_await corio::wait_for([]() -> corio::task<> {
                         co_await corio::sleep(1ms);
                         throw std::invalid_argument("own");
                     }(), 1s),
                     std::invalid_argument);
    }(), {.virtual_time = true});
}

TEST(wait_for, an_operation_that_finishes_after_the_deadline_fired_keeps_its_result) {
    // The operation shields itself, so the deadline cannot interrupt it: its result wins.
    corio::run([]() -> corio::task<> {
        const int v = co_await corio::wait_for(corio::uncancellable(value_after(2s, 5)), 1s);
        EXPECT_EQ(v, 5);
    }(), {.virtual_time = true});
}

// An operation that, once cancelled, needs `cleanup` of shielded time before it unwinds.
corio::task<> slow_to_cancel(std::chrono::nanoseconds cleanup) {
    std::exception_ptr cancelled;
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        cancelled = std::current_exception();
    }
    co_await corio::uncancellable(corio::sleep(cleanup));
    std::rethrow_exception(cancelled);
}

// The victim runs wait_for(op, 1s); the canceller cancels it `cancel_at` after the start.
void expect_outer_cancel_wins(std::chrono::nanoseconds cancel_at, std::chrono::nanoseconds cleanup) {
    corio::run(corio::invoke([cancel_at, cleanup]() -> corio::task<> {
        bool saw_timeout = false;
        corio::join_handle<> victim;
        auto canceller = corio::spawn([&victim, cancel_at]() -> corio::task<> {
            co_await corio::sleep(cancel_at);
            EXPECT_TRUE(victim.cancel()) << "the victim must still be running";
        });
        victim = corio::spawn([&saw_timeout, cleanup]() -> corio::task<> {
            try {
                co_await corio::wait_for(slow_to_cancel(cleanup), 1s);
            } catch (const corio::timeout_error&) {
                saw_timeout = true;
            }
        });
        co_await canceller;
        EXPECT_THROW(co_await victim, corio::cancelled_error);
        EXPECT_FALSE(saw_timeout);
    }), {.virtual_time = true});
}

TEST(wait_for, outer_cancel_in_the_same_instant_as_the_deadline_stays_a_cancel) {
    // Both timers are due at 1s; the canceller's was armed first, so it fires first.
    expect_outer_cancel_wins(1s, 0s);
}

TEST(wait_for, outer_cancel_after_the_deadline_fired_but_before_cleanup_ended_stays_a_cancel) {
    // cpython#86296: the deadline has fired and the operation is still unwinding when the
    // outer cancel arrives; wait_for must not turn that into a timeout.
    expect_outer_cancel_wins(1s + 1ms, 5ms);
}

TEST(wait_for, nested_timeouts_report_the_one_that_expired) {
    corio::run([]() -> corio::task<> {
        // (expect_throws fails the test if nothing is thrown.)
        co_await corio_test::expect_throws<corio::timeout_error>(
            corio::wait_for(corio::wait_for(corio::sleep(1h), 5s), 2s), "timed out after 2s");
        co_await corio_test::expect_throws<corio::timeout_error>(
            corio::wait_for(corio::wait_for(corio::sleep(1h), 2s), 5s), "timed out after 2s");
    }(), {.virtual_time = true});
}

TEST(wait_for, on_a_join_handle_cancels_the_task_on_expiry) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(value_after(1h, 1));
        EXPECT_THROW(co_await corio::wait_for(h, 1s), corio::timeout_error);
        EXPECT_TRUE(h.done());
        EXPECT_TRUE(h.cancelled());
    }(), {.virtual_time = true});
}

TEST(wait_for, removes_its_timer_on_every_path) {
    corio::run([]() -> corio::task<> {
        auto& loop = corio::current_loop("test");
        co_await corio::wait_for(value_after(1ms, 1), 1h);
        EXPECT_EQ(loop.pending_timers(), 0u);
        try {
            co_await corio::wait_for([]() -> corio::task<> {
                throw std::runtime_error("x");
                co_return;
            }(), 1h);
        } catch (const std::runtime_error&) {
        }
        EXPECT_EQ(loop.pending_timers(), 0u);
    }(), {.virtual_time = true});
}

TEST(wait_until, expires_at_the_deadline) {
    corio::run([]() -> corio::task<> {
        const auto deadline = corio::clock::now() + 3s;
        EXPECT_THROW(co_await corio::wait_until(corio::sleep(1h), deadline), corio::timeout_error);
        EXPECT_EQ(corio::clock::now(), deadline);
    }(), {.virtual_time = true});
}

TEST(wait_for, can_be_spawned_and_gathered) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(corio::wait_for(value_after(1s, 4), 2s));
        EXPECT_EQ(co_await h, 4);
    }(), {.virtual_time = true});
}

}  // namespace
