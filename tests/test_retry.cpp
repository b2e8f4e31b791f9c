// retry(): success after failures, full-jitter backoff bounds, giving up, error filtering,
// per-attempt and total timeouts, cancellation, policy validation, ownership of fn.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/retry.hpp>
#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>

#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::clock;

using corio_test::run_virtual;

namespace {

/// What an operation saw: how often it was called and when each attempt started.
struct attempt_log {
    int calls = 0;
    int cancelled = 0;  // attempts that ended by cancellation
    std::vector<clock::time_point> starts;
    std::vector<clock::duration> gaps() const {
        std::vector<clock::duration> out;
        for (std::size_t i = 1; i < starts.size(); ++i) out.push_back(starts[i] - starts[i - 1]);
        return out;
    }
};

/// An operation whose first `failures` attempts throw connection_error("refused #n").
auto flaky(attempt_log& log, int failures) {
    return [&log, failures]() -> corio::task<int> {
        log.starts.push_back(clock::now());
        if (++log.calls <= failures)
            throw corio::connection_error("refused #" + std::to_string(log.calls));
        co_return 42;
    };
}

/// An operation whose first `hangs` attempts sleep for an hour; later ones return 7.
auto hanging(attempt_log& log, int hangs) {
    return [&log, hangs]() -> corio::task<int> {
        log.starts.push_back(clock::now());
        if (++log.calls <= hangs) {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                ++log.cancelled;
                throw;
            }
        }
        co_return 7;
    };
}

TEST(retry, succeeds_on_the_third_attempt) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        EXPECT_EQ(co_await corio::retry({}, flaky(log, 2)), 42);
    });
    EXPECT_EQ(log.calls, 3);
}

TEST(retry, backoff_delays_stay_within_full_jitter_bounds) {
    const corio::retry_policy policy{
        .max_attempts = 6, .initial_delay = 100ms, .multiplier = 2.0, .max_delay = 500ms};
    const std::vector<clock::duration> caps{100ms, 200ms, 400ms, 500ms, 500ms};
    int below_half = 0, above_half = 0;
    for (int run = 0; run < 20; ++run) {
        attempt_log log;
        run_virtual([&]() -> corio::task<> {
            EXPECT_THROW(co_await corio::retry(policy, flaky(log, 100)), corio::retry_error);
        });
        const auto gaps = log.gaps();
        ASSERT_EQ(gaps.size(), caps.size());
        for (std::size_t i = 0; i < caps.size(); ++i) {
            EXPECT_GE(gaps[i], clock::duration::zero());
            EXPECT_LE(gaps[i], caps[i]) << "retry " << i;
            (gaps[i] * 2 < caps[i] ? below_half : above_half) += 1;
        }
    }
    // Full jitter spreads delays over the whole range (fails with probability 2^-99).
    EXPECT_GT(below_half, 0);
    EXPECT_GT(above_half, 0);
}

TEST(retry, settable_random_gives_exact_delays) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const corio::retry_policy policy{.max_attempts = 6,
                                         .initial_delay = 100ms,
                                         .multiplier = 2.0,
                                         .max_delay = 500ms,
                                         .random = [] { return 0.5; }};
        EXPECT_THROW(co_await corio::retry(policy, flaky(log, 100)), corio::retry_error);
    });
    const std::vector<clock::duration> expected{50ms, 100ms, 200ms, 250ms, 250ms};
    EXPECT_EQ(log.gaps(), expected);
}

TEST(retry, out_of_range_random_is_clamped) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const corio::retry_policy policy{.max_attempts = 3, .random = [] { return 7.0; }};
        EXPECT_THROW(co_await corio::retry(policy, flaky(log, 100)), corio::retry_error);
    });
    const std::vector<clock::duration> expected{100ms, 200ms};
    EXPECT_EQ(log.gaps(), expected);
}

TEST(retry, delay_from_error_replaces_the_backoff_when_it_answers) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        corio::retry_policy policy{.max_attempts = 4, .initial_delay = 100ms, .random = [] { return 0.5; }};
        // "refused #1" asks for 7 s (beyond max_delay: not capped), "refused #2" for nothing.
        policy.delay_from_error = [](const std::exception_ptr& e) -> std::optional<clock::duration> {
            try {
                std::rethrow_exception(e);
            } catch (const corio::connection_error& c) {
                if (std::string(c.what()) == "refused #1") return 7s;
            }
            return std::nullopt;
        };
        EXPECT_EQ(co_await corio::retry(policy, flaky(log, 3)), 42);
    });
    // 7 s chosen by the error, then the backoff as if it had run all along (cap 200 ms, 400 ms).
    const std::vector<clock::duration> expected{7s, 100ms, 200ms};
    EXPECT_EQ(log.gaps(), expected);
}

TEST(retry, a_chosen_delay_that_reaches_the_total_timeout_gives_up) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        corio::retry_policy policy{.max_attempts = 5, .total_timeout = 5s};
        policy.delay_from_error = [](const std::exception_ptr&) -> std::optional<clock::duration> { return 1h; };
        const auto start = clock::now();
        EXPECT_THROW(co_await corio::retry(policy, flaky(log, 100)), corio::timeout_error);
        EXPECT_EQ(clock::now() - start, 0s);  // gave up at once instead of sleeping an hour
    });
    EXPECT_EQ(log.calls, 1);
}

TEST(retry, exhausted_attempts_throw_retry_error_with_count_and_last_error) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        try {
            co_await corio::retry({}, flaky(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::retry_error& e) {
            EXPECT_EQ(e.attempts(), 3);
            EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts: refused #3"),
                      std::string::npos)
                << e.what();
            EXPECT_THROW(std::rethrow_exception(e.last_error()), corio::connection_error);
        }
    });
    EXPECT_EQ(log.calls, 3);
}

TEST(retry, a_single_attempt_is_never_retried) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        try {
            co_await corio::retry({.max_attempts = 1}, flaky(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::retry_error& e) {
            EXPECT_EQ(e.attempts(), 1);
            EXPECT_NE(std::string(e.what()).find("gave up after 1 attempt: refused #1"),
                      std::string::npos)
                << e.what();
        }
    });
    EXPECT_EQ(log.calls, 1);
}

TEST(retry, non_retryable_error_propagates_at_once_unchanged) {
    struct bug {
        int id;
    };
    int calls = 0;
    std::exception_ptr thrown;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        try {
            co_await corio::retry({}, [&]() -> corio::task<> {
                ++calls;
                thrown = std::make_exception_ptr(bug{17});
                std::rethrow_exception(thrown);
                co_return;
            });
            ADD_FAILURE() << "no exception";
        } catch (const bug& caught) {
            const bug* original = nullptr;
            try {
                std::rethrow_exception(thrown);
            } catch (const bug& b) {
                original = &b;
            }
            EXPECT_EQ(&caught, original);  // the very same exception object
        }
        EXPECT_EQ(clock::now(), start);
        // A corio::error that is neither a timeout nor a connection error is not retried either.
        EXPECT_THROW(co_await corio::retry({}, [&]() -> corio::task<> {
                         ++calls;
                         throw corio::error("bad request");
                         co_return;
                     }),
                     corio::error);
    });
    EXPECT_EQ(calls, 2);
}

TEST(retry, retry_if_decides_what_is_retried) {
    int calls = 0;
    run_virtual([&]() -> corio::task<> {
        const corio::retry_policy retry_logic_errors{.retry_if = [](const std::exception_ptr& e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::logic_error&) {
                return true;
            } catch (...) {
                return false;
            }
        }};
        const int v = co_await corio::retry(retry_logic_errors, [&]() -> corio::task<int> {
            if (++calls < 3) throw std::logic_error("flaky");
            co_return 5;
        });
        EXPECT_EQ(v, 5);
        EXPECT_EQ(calls, 3);
        // ... and a connection_error is now not retryable.
        attempt_log log;
        EXPECT_THROW(co_await corio::retry(retry_logic_errors, flaky(log, 100)),
                     corio::connection_error);
        EXPECT_EQ(log.calls, 1);
    });
    EXPECT_TRUE(corio::is_transient_error(std::make_exception_ptr(corio::timeout_error("t"))));
    EXPECT_TRUE(corio::is_transient_error(std::make_exception_ptr(corio::connection_error("c"))));
    EXPECT_FALSE(corio::is_transient_error(std::make_exception_ptr(corio::error("e"))));
    EXPECT_FALSE(corio::is_transient_error(std::make_exception_ptr(corio::cancelled_error())));
}

TEST(retry, attempt_timeout_cancels_the_attempt_and_retries) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        const corio::retry_policy policy{.attempt_timeout = 1s, .random = [] { return 0.0; }};
        EXPECT_EQ(co_await corio::retry(policy, hanging(log, 2)), 7);
        EXPECT_EQ(clock::now() - start, 2s);
    });
    EXPECT_EQ(log.calls, 3);
    EXPECT_EQ(log.cancelled, 2);
}

TEST(retry, attempts_that_all_time_out_give_up_with_the_timeout_as_last_error) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const corio::retry_policy policy{.attempt_timeout = 1s};
        try {
            co_await corio::retry(policy, hanging(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::retry_error& e) {
            EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts: timed out after 1s"),
                      std::string::npos)
                << e.what();
            EXPECT_THROW(std::rethrow_exception(e.last_error()), corio::timeout_error);
        }
    });
    EXPECT_EQ(log.cancelled, 3);
}

TEST(retry, total_timeout_cuts_a_hanging_attempt) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        try {
            co_await corio::retry({.max_attempts = 10, .total_timeout = 5s}, hanging(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("total timeout of 5s exceeded after 1 attempt"),
                      std::string::npos)
                << e.what();
        }
        EXPECT_EQ(clock::now() - start, 5s);
    });
    EXPECT_EQ(log.calls, 1);
    EXPECT_EQ(log.cancelled, 1);
}

TEST(retry, total_timeout_bounds_the_last_attempt) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        const corio::retry_policy policy{.max_attempts = 10,
                                         .attempt_timeout = 2s,
                                         .total_timeout = 5s,
                                         .random = [] { return 0.0; }};
        try {
            co_await corio::retry(policy, hanging(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("total timeout of 5s exceeded after 3 attempts"),
                      std::string::npos)
                << e.what();
        }
        EXPECT_EQ(clock::now() - start, 5s);  // attempts at 0s, 2s, 4s; the third is cut at 5s
    });
    EXPECT_EQ(log.calls, 3);
}

TEST(retry, total_timeout_gives_up_instead_of_a_backoff_that_reaches_it) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        const corio::retry_policy policy{.max_attempts = 10,
                                         .initial_delay = 1s,
                                         .total_timeout = 4s,
                                         .random = [] { return 0.75; }};
        try {
            co_await corio::retry(policy, flaky(log, 100));
            ADD_FAILURE() << "no exception";
        } catch (const corio::timeout_error& e) {
            EXPECT_NE(std::string(e.what()).find("after 3 attempts; last error: refused #3"),
                      std::string::npos)
                << e.what();
        }
        // Attempts at 0, 0.75s, 2.25s; the next backoff (3s) would pass the deadline.
        EXPECT_EQ(clock::now() - start, 2250ms);
    });
    EXPECT_EQ(log.calls, 3);
}

TEST(retry, cancellation_during_the_backoff_sleep_propagates) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        const auto start = clock::now();
        const corio::retry_policy slow{
            .initial_delay = 1h, .max_delay = 1h, .random = [] { return 0.5; }};
        auto h = corio::spawn(corio::retry(slow, flaky(log, 100)));  // backs off for 30min
        co_await corio::sleep(1min);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_EQ(clock::now() - start, 1min);
    });
    EXPECT_EQ(log.calls, 1);
}

TEST(retry, cancellation_during_an_attempt_is_not_retried) {
    attempt_log log;
    run_virtual([&]() -> corio::task<> {
        auto h = corio::spawn(corio::retry({.attempt_timeout = 1h}, hanging(log, 100)));
        co_await corio::sleep(1min);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    });
    EXPECT_EQ(log.calls, 1);
    EXPECT_EQ(log.cancelled, 1);
}

TEST(retry, invalid_policy_is_rejected_at_the_call) {
    auto op = []() -> corio::task<> { co_return; };
    EXPECT_THROW((void)corio::retry({.max_attempts = 0}, op), std::invalid_argument);
    EXPECT_THROW((void)corio::retry({.initial_delay = -1ms}, op), std::invalid_argument);
    EXPECT_THROW((void)corio::retry({.multiplier = 0.5}, op), std::invalid_argument);
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_THROW((void)corio::retry({.multiplier = inf}, op), std::invalid_argument);
    EXPECT_THROW((void)corio::retry({.max_delay = -1s}, op), std::invalid_argument);
    EXPECT_THROW((void)corio::retry({.attempt_timeout = 0s}, op), std::invalid_argument);
    EXPECT_THROW((void)corio::retry({.total_timeout = -1s}, op), std::invalid_argument);
    EXPECT_NO_THROW((void)corio::retry({.initial_delay = 0s, .max_delay = 0s}, op));
}

TEST(retry, fn_is_owned_by_the_operation) {
    run_virtual([]() -> corio::task<> {
        // The callable and its captured state die here, before the operation is awaited.
        auto op = [] {
            auto counter = std::make_unique<int>(0);
            auto fn = [state = std::move(counter)]() -> corio::task<int> {
                if (++*state < 2) throw corio::timeout_error("slow");
                co_return *state;
            };
            return corio::retry({.random = [] { return 0.0; }}, std::move(fn));
        }();
        EXPECT_EQ(co_await std::move(op), 2);
    });
}

TEST(retry, void_results_and_other_awaitables) {
    int calls = 0;
    run_virtual([&]() -> corio::task<> {
        co_await corio::retry({}, [&]() -> corio::task<> {
            if (++calls == 1) throw corio::connection_error("reset");
            co_return;
        });
        const auto start = clock::now();
        co_await corio::retry({}, [] { return corio::sleep(3s); });  // a plain awaitable
        EXPECT_EQ(clock::now() - start, 3s);
    });
    EXPECT_EQ(calls, 2);
}

}  // namespace
