// async_with: aclose() on every path, shielded and bounded; error precedence.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using corio_test::expect_cancel_propagates;
using corio_test::run_virtual;

namespace {

struct connection {
    int* closes;
    std::chrono::nanoseconds close_takes = 0ns;
    bool close_fails = false;

    corio::task<> aclose() {
        co_await corio::sleep(close_takes);
        ++*closes;
        if (close_fails) throw corio::connection_error("close failed");
    }
};

corio::task<connection> open(int& closes, std::chrono::nanoseconds close_takes = 0ns, bool close_fails = false) {
    co_await corio::sleep(1ms);
    co_return connection{&closes, close_takes, close_fails};
}

/// A resource that learns how the block ended, as Python's __aexit__ does.
struct outcome_recorder {
    std::vector<std::string>* ends;
    corio::task<> aclose(std::exception_ptr error) {
        ends->push_back(error ? corio::describe(error) : "success");
        co_return;
    }
};

TEST(async_with, hands_the_block_error_to_an_aclose_that_takes_it) {
    run_virtual([]() -> corio::task<> {
        std::vector<std::string> ends;
        auto open_recorder = [&ends]() -> corio::task<outcome_recorder> { co_return outcome_recorder{&ends}; };
        co_await corio::async_with(open_recorder(), [](outcome_recorder&) -> corio::task<> { co_return; });
        try {
            co_await corio::async_with(open_recorder(), [](outcome_recorder&) -> corio::task<> {
                throw corio::connection_error("lost");
                co_return;
            });
        } catch (const corio::connection_error&) {
        }
        CO_ASSERT_EQ(ends.size(), 2u);
        EXPECT_EQ(ends[0], "success");
        EXPECT_NE(ends[1].find("lost"), std::string::npos) << ends[1];
    });
}

TEST(async_with, closes_after_success_and_returns_the_body_value) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        const int v = co_await corio::async_with(open(closes), [](connection&) -> corio::task<int> { co_return 5; });
        EXPECT_EQ(v, 5);
        EXPECT_EQ(closes, 1);
    });
}

TEST(async_with, closes_after_an_error_and_rethrows_it) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        EXPECT_THROW(co_await corio::async_with(open(closes), [](connection&) -> corio::task<> {
                         throw std::invalid_argument("body");
                         co_return;
                     }),
                     std::invalid_argument);
        EXPECT_EQ(closes, 1);
    });
}

TEST(async_with, closes_after_cancellation_even_when_closing_takes_time) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        co_await expect_cancel_propagates(corio::async_with(open(closes, 2s), [](connection&) -> corio::task<> {
                                              co_await corio::sleep(1h);
                                          }),
                                          1s);
        EXPECT_EQ(closes, 1) << "the close ran to completion despite the cancellation";
    });
}

TEST(async_with, closes_when_a_timeout_cancels_the_body) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        EXPECT_THROW(co_await corio::wait_for(corio::async_with(open(closes), [](connection&) -> corio::task<> {
                                                  co_await corio::sleep(1h);
                                              }),
                                              1s),
                     corio::timeout_error);
        EXPECT_EQ(closes, 1);
    });
}

TEST(async_with, a_hanging_close_is_bounded_by_the_close_timeout) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::async_with(open(closes, 1h), [](connection&) -> corio::task<> { co_return; },
                                                {.close_timeout = 3s}),
                     corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 3s + 1ms);
        EXPECT_EQ(closes, 0);
    });
}

TEST(async_with, close_error_never_replaces_the_body_error) {
    std::string logged;
    auto previous = corio::set_error_logger([&](std::string_view m) { logged += m; });
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        EXPECT_THROW(co_await corio::async_with(open(closes, 0ns, true), [](connection&) -> corio::task<> {
                         throw std::invalid_argument("body");
                         co_return;
                     }),
                     std::invalid_argument);
        EXPECT_EQ(closes, 1);
    });
    corio::set_error_logger(previous);
    EXPECT_NE(logged.find("close failed"), std::string::npos) << logged;
}

TEST(async_with, close_error_after_a_successful_body_propagates) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        EXPECT_THROW(co_await corio::async_with(open(closes, 0ns, true), [](connection&) -> corio::task<> { co_return; }),
                     corio::connection_error);
    });
}

TEST(async_with, failed_open_closes_nothing) {
    run_virtual([]() -> corio::task<> {
        bool body_ran = false;
        EXPECT_THROW(co_await corio::async_with([]() -> corio::task<connection> {
                         throw corio::connection_error("refused");
                         co_return connection{};
                     }(), [&body_ran](connection&) -> corio::task<> {
                         body_ran = true;
                         co_return;
                     }),
                     corio::connection_error);
        EXPECT_FALSE(body_ran);
    });
}

TEST(async_with, works_with_pointer_like_resources) {
    run_virtual([]() -> corio::task<> {
        int closes = 0;
        auto open_pointer = corio::invoke([&closes]() -> corio::task<std::unique_ptr<connection>> {
            co_return std::make_unique<connection>(connection{&closes});
        });
        co_await corio::async_with(std::move(open_pointer), [](std::unique_ptr<connection>&) -> corio::task<> { co_return; });
        EXPECT_EQ(closes, 1);
    });
}

}  // namespace
