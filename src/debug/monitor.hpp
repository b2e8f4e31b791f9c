// src/debug/monitor.hpp — a debug loop's watchdog, cancellation-grace checks and reports.
//
// One per event loop in debug mode (event_loop owns it). The loop tells it when each step begins
// and when it blocks in its reactor (epoll or io_uring); a watchdog thread samples that and, when one step has run past the
// threshold, stops the loop thread with a signal just long enough to unwind its stack, then
// reports from its own thread while the loop is still blocked.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <pthread.h>

#include "corio/debug.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"
#include "report_text.hpp"

namespace corio {
class event_loop;
}

namespace corio::detail {

enum class debug_kind { blocked_loop, swallowed_cancellation, slow_cancellation, no_deadline,
                        unretrieved_error, leaked_task, never_awaited };

/// Counts a report (`count` times: it may list several tasks) and logs "corio debug: <kind>:
/// <headline>" then `detail` (lines already indented): from the debug monitor's thread when
/// called on a debug loop's thread (in order), else at once.
void debug_report(debug_kind kind, report_text headline, report_text detail, std::uint64_t count = 1);

class debug_monitor : timer_node {
public:
    debug_monitor(event_loop& loop, debug_options options);
    ~debug_monitor();
    debug_monitor(const debug_monitor&) = delete;
    debug_monitor& operator=(const debug_monitor&) = delete;

    const debug_options& options() const noexcept { return options_; }

    // ---- called by the loop ----
    /// A new step begins (a task step, a batch of callbacks, I/O dispatch). The loop thread is
    /// the only writer: a plain increment, no locked instruction.
    void step_begins() noexcept { steps_.store(steps_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
    /// The loop blocks in its reactor (true) or returns from it (false).
    void polling(bool blocked) noexcept {
        polling_.store(blocked, std::memory_order_relaxed);
        step_begins();
    }
    /// The next task id of this loop (1, 2, ...).
    std::uint64_t next_task_id() noexcept { return ++last_task_id_; }

    /// Has the monitor's thread symbolize and log `report` (in the order posted).
    void post(report_text report);

    // ---- cancellation grace ----
    /// `task` was just asked to cancel: check on it after the grace period.
    void watch_cancellation(task_state& task);

private:
    void watchdog_main();
    void reporter_main();
    void report_blocked_loop(std::chrono::nanoseconds blocked_for);
    static void on_grace_timer(timer_node& node) noexcept;
    void check_cancellations() noexcept;

    event_loop& loop_;
    debug_options options_;
    pthread_t loop_thread_;
    std::atomic<std::uint64_t> steps_{0};  // bumped at every step: unchanged means one step runs on
    std::atomic<bool> polling_{false};     // the loop is blocked in its reactor (not a blocked loop)
    std::uint64_t last_task_id_ = 0;       // loop thread only
    std::mutex mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;                // guarded by mutex_
    std::deque<report_text> posted_;       // guarded by mutex_: reports to write, oldest first
    std::condition_variable posted_cv_;
    std::thread watchdog_;                 // samples the loop's progress
    std::thread reporter_;                 // symbolizes and writes posted reports
    struct cancelled_task {
        task_state* task;                  // holds a reference until checked
        clock::time_point check_at;
    };
    std::deque<cancelled_task> cancelled_;  // in check_at order (the grace is constant)
};

}  // namespace corio::detail
