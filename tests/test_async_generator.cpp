// async_generator: values, errors, early exit cleanup, cancellation, for_each.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::expect_cancel_propagates;
using corio_test::run_virtual;

namespace {

struct cleanup_flag {
    bool& flag;
    ~cleanup_flag() { flag = true; }
};

corio::async_generator<int> numbers(int count, bool& cleaned) {
    cleanup_flag guard{cleaned};
    for (int i = 0; i < count; ++i) {
        co_await corio::sleep(1s);
        co_yield i;
    }
}

corio::async_generator<std::string> failing_after(int count) {
    for (int i = 0; i < count; ++i) co_yield std::to_string(i);
    throw std::runtime_error("source broke");
}

TEST(async_generator, yields_every_value_then_ends) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        auto gen = numbers(3, cleaned);
        std::vector<int> got;
        while (auto v = co_await gen.next()) got.push_back(*v);
        EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
        EXPECT_TRUE(cleaned);
        EXPECT_FALSE(co_await gen.next()) << "an ended generator stays ended";
    });
}

TEST(async_generator, is_lazy) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        const auto start = corio::clock::now();
        auto gen = numbers(3, cleaned);
        EXPECT_EQ(corio::clock::now(), start);
        co_await gen.next();
        EXPECT_EQ(corio::clock::now() - start, 1s);
    });
}

TEST(async_generator, exception_propagates_to_the_consumer) {
    run_virtual([]() -> corio::task<> {
        auto gen = failing_after(2);
        EXPECT_EQ(*co_await gen.next(), "0");
        EXPECT_EQ(*co_await gen.next(), "1");
        EXPECT_THROW(co_await gen.next(), std::runtime_error);
        // Ended by an error, it never passes for a whole sequence: no quiet end of stream.
        EXPECT_THROW(co_await gen.next(), corio::generator_error);
        EXPECT_THROW(co_await gen.next(), corio::generator_error);
    });
}

TEST(async_generator, a_next_cut_by_wait_for_ends_a_plain_generator_loudly) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        auto gen = numbers(3, cleaned);
        EXPECT_THROW(co_await corio::wait_for(gen.next(), 500ms), corio::timeout_error);
        EXPECT_THROW(co_await gen.next(), corio::generator_error);  // not "end of stream"
    });
}

/// Like numbers(), but cancel-safe: a cancelled wait is handed to the consumer (yield_exception)
/// and the body resumes where it waited.
corio::async_generator<int> resumable_numbers(int count) {
    for (int i = 0; i < count;) {
        std::exception_ptr interrupted;
        try {
            co_await corio::sleep(1s);
        } catch (const corio::cancelled_error&) {
            interrupted = std::current_exception();
        }
        if (interrupted) {
            co_yield corio::yield_exception(std::move(interrupted));
            continue;
        }
        co_yield i++;
    }
}

TEST(async_generator, yield_exception_makes_next_cancel_safe) {
    run_virtual([]() -> corio::task<> {
        auto gen = resumable_numbers(2);
        EXPECT_THROW(co_await corio::wait_for(gen.next(), 500ms), corio::timeout_error);
        EXPECT_THROW(co_await corio::wait_for(gen.next(), 500ms), corio::timeout_error);
        EXPECT_EQ(co_await gen.next(), 0);  // the generator lives on
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_FALSE(co_await gen.next());
    });
}

TEST(async_generator, consumer_stopping_early_runs_the_generators_cleanup) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        {
            auto gen = numbers(100, cleaned);
            co_await gen.next();
            EXPECT_FALSE(cleaned);
        }
        EXPECT_TRUE(cleaned);
    });
}

TEST(async_generator, consumer_cancelled_mid_await_destroys_the_generator) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        auto consume = corio::invoke([&cleaned]() -> corio::task<> {
            auto gen = numbers(100, cleaned);
            while (co_await gen.next()) {
            }
        });
        co_await expect_cancel_propagates(std::move(consume), 2500ms);
        EXPECT_TRUE(cleaned);
    });
}

TEST(async_generator, wait_for_bounds_a_slow_next) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        auto gen = numbers(3, cleaned);
        EXPECT_THROW(co_await corio::wait_for(gen.next(), 500ms), corio::timeout_error);
    });
}

TEST(for_each, calls_plain_and_async_functions_in_order) {
    run_virtual([]() -> corio::task<> {
        bool cleaned = false;
        std::vector<int> seen;
        co_await corio::for_each(numbers(3, cleaned), [&seen](int v) { seen.push_back(v); });
        co_await corio::for_each(numbers(2, cleaned), [&seen](int v) -> corio::task<> {
            co_await corio::sleep(1ms);
            seen.push_back(10 + v);
        });
        EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 10, 11}));
    });
}

}  // namespace
