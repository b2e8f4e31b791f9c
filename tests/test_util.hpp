// tests/test_util.hpp — helpers shared by the test files.
#pragma once

#include <dirent.h>

#include <chrono>
#include <string>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>
#include <corio/testing/run_test.hpp>
#include <corio/wait_for.hpp>

#include "find_program.hpp"  // tests/support

/// GoogleTest's fatal ASSERT_* macros `return`, which a coroutine cannot: these co_return from
/// a task<> test body instead, after recording the failure.
#define CO_ASSERT_TRUE(condition)                                          \
    if (static_cast<bool>(condition)) {                                    \
    } else {                                                               \
        ADD_FAILURE() << "CO_ASSERT_TRUE(" #condition ") failed";          \
        co_return;                                                         \
    }
#define CO_ASSERT_FALSE(condition) CO_ASSERT_TRUE(!(condition))
#define CO_ASSERT_EQ(a, b)                                                                   \
    if ((a) == (b)) {                                                                        \
    } else {                                                                                 \
        ADD_FAILURE() << "CO_ASSERT_EQ(" #a ", " #b ") failed: " << ::testing::PrintToString(a) \
                      << " vs " << ::testing::PrintToString(b);                                \
        co_return;                                                                           \
    }

/// Skips the current test when an external program it drives is missing, with the reason:
/// "curl not found (apt-get install curl)". GTEST_SKIP() returns from the function it is in, so
/// this is a macro, for a test body or a fixture's SetUp() (not inside a coroutine or a helper).
#define CORIO_REQUIRE_PROGRAM(program, package)                                         \
    if (!::corio_test_support::find_program(program).empty()) {                         \
    } else                                                                              \
        GTEST_SKIP() << (program) << " not found (apt-get install " << (package) << ")"

namespace corio_test {

/// Awaits `op` and expects it to throw E (or a subclass) whose what() contains `part`.
template <class E, corio::awaitable A>
corio::task<> expect_throws(A op, std::string part = {}) {
    try {
        co_await std::move(op);
        ADD_FAILURE() << "no exception (expected one containing \"" << part << "\")";
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "\"" << part << "\" not in: " << e.what();
    }
}

/// Open file descriptors of this process (for "no fd leaked" checks).
inline std::size_t open_fd_count() {
    std::size_t count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (::readdir(dir) != nullptr) ++count;
        ::closedir(dir);
    }
    return count;
}

/// Runs a test body (a task<>, or a callable returning one) in virtual time: the public fixture
/// corio::testing::run_test with its defaults, deadlock guard included (a deadlock fails the
/// test with corio::testing::deadlock_error instead of hanging). While the body runs, the loop
/// has one pending timer of its own: the guard's.
template <class Body>
void run_virtual(Body body) {
    corio::testing::run_test(std::move(body));
}

/// Returns `v` after sleeping `d`.
inline corio::task<int> value_after(std::chrono::nanoseconds d, int v) {
    co_await corio::sleep(d);
    co_return v;
}

/// Spawns `op`, lets it run for `after`, cancels it, and expects its await to throw
/// cancelled_error (so cancellation propagated out of it, after its cleanup).
template <corio::awaitable A>
corio::task<> expect_cancel_propagates(A op, std::chrono::nanoseconds after) {
    auto h = corio::spawn(std::move(op));
    co_await corio::sleep(after);
    h.cancel();
    EXPECT_THROW(co_await h, corio::cancelled_error);
}

}  // namespace corio_test
