// Cancellation semantics: level-triggered cancel, cleanup, shield, uncancellable, propagation.
#include <gtest/gtest.h>

#include <corio/corio.hpp>

#include <csignal>

using namespace std::chrono_literals;

namespace {

corio::task<> sleep_forever() { co_await corio::sleep(24h); }

TEST(cancellation, cancel_before_first_resume_skips_the_body) {
    bool body_ran = false;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&body_ran]() -> corio::task<> {
            body_ran = true;
            co_return;
        });
        EXPECT_TRUE(h.cancel());
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(h.cancelled());
        EXPECT_FALSE(h.cancel());  // already finished
    }());
    EXPECT_FALSE(body_ran);
}

TEST(cancellation, cancelled_error_is_not_a_std_exception) {
    EXPECT_FALSE((std::is_base_of_v<std::exception, corio::cancelled_error>));
    bool swallowed_by_std_catch = false;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&swallowed_by_std_catch]() -> corio::task<> {
            try {
                co_await sleep_forever();
            } catch (const std::exception&) {
                swallowed_by_std_catch = true;
            }
        });
        co_await corio::yield();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }());
    EXPECT_FALSE(swallowed_by_std_catch);
}

TEST(cancellation, is_level_triggered_every_later_suspension_throws) {
    int throws_seen = 0;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&throws_seen]() -> corio::task<> {
            for (int i = 0; i < 3; ++i) {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    ++throws_seen;  // swallowed on purpose: the next await must throw again
                }
            }
        });
        co_await corio::yield();
        h.cancel();
        co_await h;  // it swallowed every cancellation and returned normally
        EXPECT_FALSE(h.cancelled()) << "a task that returns normally is not marked cancelled";
    }(), {.virtual_time = true});
    EXPECT_EQ(throws_seen, 3);
}

TEST(cancellation, double_cancel_is_harmless) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(sleep_forever());
        co_await corio::yield();
        EXPECT_TRUE(h.cancel());
        EXPECT_TRUE(h.cancel());
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(h.cancelled());
    }());
}

TEST(cancellation, cleanup_during_cancellation_needs_uncancellable_to_await) {
    bool plain_await_threw = false;
    bool shielded_cleanup_done = false;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&plain_await_threw, &shielded_cleanup_done]() -> corio::task<> {
            std::exception_ptr cancelled;  // C++ cannot co_await inside a catch handler
            try {
                co_await sleep_forever();
            } catch (const corio::cancelled_error&) {
                cancelled = std::current_exception();
            }
            try {
                co_await corio::sleep(1ms);  // still cancelled: throws at once
            } catch (const corio::cancelled_error&) {
                plain_await_threw = true;
            }
            co_await corio::uncancellable(corio::sleep(1s));  // cleanup that must finish
            shielded_cleanup_done = true;
            std::rethrow_exception(cancelled);
        });
        co_await corio::yield();
        const auto before = corio::clock::now();
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_EQ(corio::clock::now() - before, 1s);
    }(), {.virtual_time = true});
    EXPECT_TRUE(plain_await_threw);
    EXPECT_TRUE(shielded_cleanup_done);
}

TEST(cancellation, cancelling_an_awaiter_cancels_the_awaited_task_and_waits_for_it) {
    bool inner_cleaned = false;
    corio::run([&]() -> corio::task<> {
        auto inner = corio::spawn([&inner_cleaned]() -> corio::task<> {
            std::exception_ptr cancelled;
            try {
                co_await sleep_forever();
            } catch (const corio::cancelled_error&) {
                cancelled = std::current_exception();
            }
            co_await corio::uncancellable(corio::sleep(5ms));
            inner_cleaned = true;
            std::rethrow_exception(cancelled);
        });
        auto outer = corio::spawn([](corio::join_handle<> target) -> corio::task<> {
            co_await target;
        }, inner);
        co_await corio::yield();
        outer.cancel();
        EXPECT_THROW(co_await outer, corio::cancelled_error);
        EXPECT_TRUE(inner.cancelled());
        EXPECT_TRUE(inner_cleaned) << "the awaiter finished only after the awaited task's cleanup";
    }(), {.virtual_time = true});
}

TEST(cancellation, completed_work_wins_over_a_late_cancel) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<int> {
            co_await corio::sleep(1ms);
            co_return 42;  // finishes before it resumes at another suspension point
        });
        co_await corio::sleep(1ms);  // h's timer fired in the same tick: h is queued to resume
        h.cancel();
        EXPECT_EQ(co_await h, 42);
        EXPECT_FALSE(h.cancelled());
    }(), {.virtual_time = true});
}

TEST(shield, keeps_the_operation_running_when_the_awaiter_is_cancelled) {
    bool finished = false;
    corio::run([&]() -> corio::task<> {
        auto waiter = corio::spawn([&finished]() -> corio::task<> {
            // Owned by its task (invoke): it runs on after the waiter, and the waiter's frame, are gone.
            auto work = corio::invoke([&finished]() -> corio::task<> {
                co_await corio::sleep(10ms);
                finished = true;
            });
            co_await corio::shield(std::move(work));
        });
        co_await corio::sleep(1ms);
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_FALSE(finished);
        co_await corio::sleep(20ms);
        EXPECT_TRUE(finished);
    }(), {.virtual_time = true});
}

TEST(shield, passes_value_and_error_through) {
    corio::run([]() -> corio::task<> {
        EXPECT_EQ(co_await corio::shield([]() -> corio::task<int> { co_return 3; }()), 3);
        EXPECT_THROW(co_await corio::shield([]() -> corio::task<> {
                         throw std::runtime_error("x");
                         co_return;
                     }()),
                     std::runtime_error);
    }());
}

TEST(uncancellable, a_deadline_inside_still_applies) {
    corio::run([]() -> corio::task<> {
        EXPECT_THROW(co_await corio::uncancellable(corio::wait_for(sleep_forever(), 1s)),
                     corio::timeout_error);
    }(), {.virtual_time = true});
}

TEST(run, signal_cancels_the_main_task) {
    bool saw_cancel = false;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     std::raise(SIGINT);
                     try {
                         co_await sleep_forever();
                     } catch (const corio::cancelled_error&) {
                         saw_cancel = true;
                         throw;
                     }
                 }()),
                 corio::cancelled_error);
    EXPECT_TRUE(saw_cancel);
}

}  // namespace
