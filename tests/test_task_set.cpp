// task_set: background tasks, error reporting, join_all, graceful shutdown.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

corio::task<> work(std::chrono::nanoseconds d) { co_await corio::sleep(d); }

corio::task<> fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await corio::sleep(d);
    throw std::runtime_error(msg);
}

TEST(task_set, tracks_tasks_and_drops_them_when_finished) {
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        set.spawn(work(1s), "one");
        set.spawn(work(2s), "two");
        EXPECT_EQ(set.size(), 2u);
        co_await corio::sleep(1500ms);
        EXPECT_EQ(set.size(), 1u);
        co_await set.join_all();
        EXPECT_TRUE(set.empty());
    });
}

TEST(task_set, default_handler_logs_the_error_with_the_task_name) {
    std::string logged;
    auto previous = corio::set_error_logger([&](std::string_view m) { logged += m; });
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        set.spawn(fail_after(1s, "disk full"), "flush-cache");
        co_await set.join_all();
    });
    corio::set_error_logger(previous);
    EXPECT_NE(logged.find("flush-cache"), std::string::npos) << logged;
    EXPECT_NE(logged.find("disk full"), std::string::npos) << logged;
}

TEST(task_set, custom_handler_receives_every_failure_but_not_cancellations) {
    std::vector<std::string> failures;
    run_virtual([&failures]() -> corio::task<> {
        corio::task_set set([&failures](const std::string& name, std::exception_ptr e) {
            failures.push_back(name + ": " + corio::describe(e));
        });
        set.spawn(fail_after(1s, "a"), "first");
        set.spawn(fail_after(2s, "b"), "second");
        set.spawn(work(1h), "cancelled-one");
        co_await corio::sleep(3s);
        auto unfinished = co_await set.shutdown(1s);
        EXPECT_TRUE(unfinished.empty());
    });
    EXPECT_EQ(failures, (std::vector<std::string>{"first: a", "second: b"}));
}

TEST(task_set, shutdown_cancels_and_lets_cleanup_finish_within_grace) {
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        bool cleaned = false;
        // A named task: spawn(invoke(callable), name) (the callable form takes no name).
        set.spawn(corio::invoke([&cleaned]() -> corio::task<> {
            std::exception_ptr cancelled;
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                cancelled = std::current_exception();
            }
            co_await corio::uncancellable(corio::sleep(500ms));
            cleaned = true;
            std::rethrow_exception(cancelled);
        }), "graceful");
        co_await corio::yield();
        const auto start = corio::clock::now();
        auto unfinished = co_await set.shutdown(2s);
        EXPECT_TRUE(unfinished.empty());
        EXPECT_TRUE(cleaned);
        EXPECT_EQ(corio::clock::now() - start, 500ms);
    });
}

TEST(task_set, shutdown_reports_tasks_that_outlive_the_grace_period) {
    std::string logged;
    auto previous = corio::set_error_logger([&](std::string_view m) { logged += m; });
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        set.spawn(corio::uncancellable(corio::sleep(1h)), "stubborn");
        set.spawn(work(1h), "polite");
        co_await corio::yield();
        const auto start = corio::clock::now();
        auto unfinished = co_await set.shutdown(3s);
        EXPECT_EQ(corio::clock::now() - start, 3s);
        EXPECT_EQ(unfinished, (std::vector<std::string>{"stubborn"}));
    });
    corio::set_error_logger(previous);
    EXPECT_NE(logged.find("stubborn"), std::string::npos) << logged;
}

TEST(task_set, tasks_spawned_once_shutdown_began_start_cancelled) {
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        std::optional<corio::join_handle<void>> late;
        set.spawn(corio::invoke([&set, &late]() -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                late = set.spawn(work(1h), "late");  // cleanup adding work to a set shutting down
                throw;
            }
        }), "first");
        co_await corio::yield();
        const auto start = corio::clock::now();
        EXPECT_TRUE((co_await set.shutdown(10s)).empty());
        EXPECT_EQ(corio::clock::now() - start, 0s);  // not the late task's hour, nor the grace
        EXPECT_TRUE(late.has_value() && late->cancelled());
        auto after = set.spawn(work(1s), "after");  // still refused work once shut down
        EXPECT_THROW(co_await after, corio::cancelled_error);
    });
}

TEST(task_set, cancelling_join_all_leaves_the_tasks_running) {
    run_virtual([]() -> corio::task<> {
        corio::task_set set;
        auto bg = set.spawn(work(10s), "bg");
        EXPECT_THROW(co_await corio::wait_for(set.join_all(), 1s), corio::timeout_error);
        EXPECT_FALSE(bg.done());
        co_await set.join_all();
        EXPECT_TRUE(bg.done());
    });
}

}  // namespace
