// The deadlock guard of run_test (corio/testing/run_test.hpp).
#include "corio/testing/run_test.hpp"

#include <sstream>
#include <string>

#include "corio/debug.hpp"
#include "corio/sleep.hpp"

namespace corio::testing::detail {

namespace {
/// "720h" for whole hours (the default limit), else as every corio message says durations.
std::string describe(std::chrono::nanoseconds limit) {
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(limit);
    return hours == limit ? std::to_string(hours.count()) + "h" : format_duration(limit);
}
}  // namespace

task<> deadlock_watchdog(std::chrono::nanoseconds limit, bool virtual_time) {
    co_await sleep(limit);
    // Taken now, while the body is still stuck: what every task waits on is the diagnosis.
    std::ostringstream tasks;
    dump_tasks(tasks);
    throw deadlock_error("corio::testing::run_test: the test did not finish within " + describe(limit) +
                         (virtual_time ? " of virtual time" : "") +
                         " (deadlocked: every task waits for something nothing will do, or the test runs longer "
                         "than run_test_options::deadlock_after); the tasks alive then:\n" + tasks.str());
}

}  // namespace corio::testing::detail
