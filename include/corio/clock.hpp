// corio/clock.hpp — the monotonic clock that every corio deadline is measured on.
//
// corio::clock::now() reads the running loop's clock: real monotonic time, or virtual time when
// the loop runs with run_options::virtual_time (then it only moves when the loop is idle and jumps
// to the next timer, or while the loop blocks on I/O). Outside a loop it reads std::chrono::steady_clock.
//
// deadline_after(from, d) is `from + d` for deadlines, saturated at time_point::max() (the end of
// time: I/O waits read it as "no deadline"), so a duration::max() limit never wraps around into a
// deadline in the past that would fire at once.
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

/// `from + d`, or time_point::max() (no deadline) when that is too far to represent.
constexpr clock::time_point deadline_after(clock::time_point from, clock::duration d) noexcept {
    return d > clock::duration::zero() && from > clock::time_point::max() - d ? clock::time_point::max() : from + d;
}

}  // namespace corio
