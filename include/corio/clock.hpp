// corio/clock.hpp — the monotonic clock that every corio deadline is measured on.
//
// corio::clock::now() reads the running loop's clock: real monotonic time, or virtual time when
// the loop runs with run_options::virtual_time (then it only moves when the loop is idle and jumps
// to the next timer, or while the loop blocks on I/O). Outside a loop it reads std::chrono::steady_clock.
//
// Thread-safety: now() may be called from any thread; off the loop thread it reads steady_clock.
#pragma once

#include <chrono>

namespace corio {

struct clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<clock, duration>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept;

    /// The raw monotonic reading, ignoring virtual time.
    static time_point steady_now() noexcept {
        return time_point(std::chrono::duration_cast<duration>(
            std::chrono::steady_clock::now().time_since_epoch()));
    }
};

}  // namespace corio
