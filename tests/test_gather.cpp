// gather, gather_settled, wait_any, as_completed.
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

corio::task<int> fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await corio::sleep(d);
    throw std::runtime_error(msg);
}

// Sleeps `d`; records in `cleaned` whether it was cancelled and cleaned up.
corio::task<int> cancellable_work(std::chrono::nanoseconds d, bool& cleaned) {
    try {
        co_await corio::sleep(d);
    } catch (const corio::cancelled_error&) {
        cleaned = true;
        throw;
    }
    co_return 0;
}

TEST(gather, tuple_results_in_input_order_run_concurrently) {
    run_virtual([]() -> corio::task<> {
        const auto start = corio::clock::now();
        auto [a, b, c] = co_await corio::gather(value_after(3s, 1), value_after(1s, 2),
                                                []() -> corio::task<> { co_return; }());
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, 2);
        EXPECT_EQ(c, std::monostate{});
        EXPECT_EQ(corio::clock::now() - start, 3s) << "concurrent, not sequential";
    });
}

TEST(gather, vector_of_zero_and_of_100k_tasks) {
    run_virtual([]() -> corio::task<> {
        auto none = co_await corio::gather(std::vector<corio::task<int>>{});
        EXPECT_TRUE(none.empty());
        std::vector<corio::task<int>> tasks;
        for (int i = 0; i < 100'000; ++i) tasks.push_back(value_after(std::chrono::milliseconds(i % 7), i));
        auto values = co_await corio::gather(std::move(tasks));
        EXPECT_EQ(values.size(), 100'000u);
        for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], static_cast<int>(i));
    });
}

TEST(gather, first_error_cancels_the_rest_waits_for_them_and_is_rethrown) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        const auto start = corio::clock::now();
        try {
            co_await corio::gather(cancellable_work(1h, cleaned), fail_after(1s, "first"), fail_after(2s, "second"));
            ADD_FAILURE() << "no error";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "first");
        }
        EXPECT_TRUE(cleaned) << "the sibling's cleanup ran before gather returned";
        EXPECT_EQ(corio::clock::now() - start, 1s);
    });
}

TEST(gather, cancelling_the_gather_cancels_children_and_propagates_as_cancel) {
    run_virtual([]() -> corio::task<> {
        bool a = false, b = false;
        co_await expect_cancel_propagates(corio::gather(cancellable_work(1h, a), cancellable_work(1h, b)), 1s);
        EXPECT_TRUE(a);
        EXPECT_TRUE(b);
    });
}

TEST(gather_settled, reports_every_outcome_in_order) {
    run_virtual([]() -> corio::task<> {
        auto [ok, bad, done] = co_await corio::gather_settled(
            value_after(2s, 5), fail_after(1s, "nope"), []() -> corio::task<> { co_return; }());
        EXPECT_TRUE(ok.has_value());
        EXPECT_EQ(ok.value(), 5);
        EXPECT_FALSE(bad.has_value());
        EXPECT_THROW(bad.value(), std::runtime_error);
        EXPECT_NE(bad.error(), nullptr);
        EXPECT_TRUE(done.has_value());

        std::vector<corio::task<int>> tasks;
        tasks.push_back(fail_after(1s, "x"));
        tasks.push_back(value_after(1s, 2));
        auto outcomes = co_await corio::gather_settled(std::move(tasks));
        EXPECT_EQ(outcomes.size(), 2u);
        if (outcomes.size() != 2u) co_return;
        EXPECT_FALSE(outcomes[0]);
        EXPECT_EQ(outcomes[1].value(), 2);
    });
}

TEST(gather_settled, outer_cancellation_is_never_turned_into_an_outcome) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        co_await expect_cancel_propagates(corio::gather_settled(cancellable_work(1h, cleaned), value_after(1s, 1)), 2s);
        EXPECT_TRUE(cleaned);
    });
}

TEST(wait_any, first_to_finish_wins_and_the_others_are_cancelled) {
    run_virtual([]() -> corio::task<> {
        bool loser_cleaned = false;
        const auto start = corio::clock::now();
        auto first = co_await corio::wait_any(cancellable_work(1h, loser_cleaned), value_after(2s, 9));
        EXPECT_EQ(first.index(), 1u);
        EXPECT_EQ(std::get<1>(first), 9);
        EXPECT_TRUE(loser_cleaned);
        EXPECT_EQ(corio::clock::now() - start, 2s);
    });
}

TEST(wait_any, a_failing_winner_rethrows_after_cleanup) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        EXPECT_THROW(co_await corio::wait_any(cancellable_work(1h, cleaned), fail_after(1s, "bad")),
                     std::runtime_error);
        EXPECT_TRUE(cleaned);
    });
}

TEST(wait_any, vector_form_returns_index_and_value) {
    run_virtual([]() -> corio::task<> {
        std::vector<corio::task<int>> tasks;
        tasks.push_back(value_after(3s, 30));
        tasks.push_back(value_after(1s, 10));
        tasks.push_back(value_after(2s, 20));
        auto [index, value] = co_await corio::wait_any(std::move(tasks));
        EXPECT_EQ(index, 1u);
        EXPECT_EQ(value, 10);
        EXPECT_THROW(co_await corio::wait_any(std::vector<corio::task<int>>{}), corio::error);
    });
}

TEST(as_completed, yields_outcomes_in_completion_order) {
    run_virtual([]() -> corio::task<> {
        std::vector<corio::task<int>> tasks;
        tasks.push_back(value_after(3s, 3));
        tasks.push_back(fail_after(1s, "one"));
        tasks.push_back(value_after(2s, 2));
        auto results = corio::as_completed(std::move(tasks));
        std::vector<std::string> seen;
        while (auto o = co_await results.next())
            seen.push_back(o->has_value() ? std::to_string(o->value()) : "error");
        EXPECT_EQ(seen, (std::vector<std::string>{"error", "2", "3"}));
    });
}

TEST(as_completed, a_next_cut_short_by_a_timeout_loses_nothing) {
    run_virtual([]() -> corio::task<> {
        std::vector<corio::task<int>> tasks;
        tasks.push_back(value_after(10ms, 1));
        tasks.push_back(value_after(20ms, 2));
        auto results = corio::as_completed(std::move(tasks));
        EXPECT_THROW(co_await corio::wait_for(results.next(), 5ms), corio::timeout_error);
        std::vector<int> seen;
        while (auto o = co_await results.next()) seen.push_back(o->value());
        EXPECT_EQ(seen, (std::vector<int>{1, 2}));
        // Completions that queued up while nobody asked are reported too.
        std::vector<corio::task<int>> more;
        more.push_back(value_after(1ms, 3));
        more.push_back(value_after(2ms, 4));
        more.push_back(value_after(1h, 5));
        auto later = corio::as_completed(std::move(more));
        EXPECT_THROW(co_await corio::wait_for(later.next(), 0ms), corio::timeout_error);
        co_await corio::sleep(10ms);
        EXPECT_EQ((co_await later.next())->value(), 3);
        EXPECT_EQ((co_await later.next())->value(), 4);
        EXPECT_THROW(co_await corio::wait_for(later.next(), 1s), corio::timeout_error);
    });
}

TEST(as_completed, abandoning_it_cancels_the_unreported_tasks) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        {
            std::vector<corio::task<int>> tasks;
            tasks.push_back(value_after(1s, 1));
            tasks.push_back(cancellable_work(1h, cleaned));
            auto results = corio::as_completed(std::move(tasks));
            auto first = co_await results.next();
            EXPECT_EQ(first->value(), 1);
        }  // generator destroyed with one task still running
        co_await corio::yield();
        co_await corio::yield();
        EXPECT_TRUE(cleaned);
    });
}

}  // namespace
