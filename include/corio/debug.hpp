// corio/debug.hpp — debug mode: the forbidden async patterns caught as they happen, and a dump of
// every live task with its async stack.
//
// Turn it on with run_options{.debug = true} (also run_threads and http::server::run) or with
// CORIO_DEBUG=1 in the environment. Each report goes through corio's logger (corio/log.hpp,
// stderr by default) as one line starting "corio debug: <kind>:" plus an indented detail block,
// and is counted in debug_stats(). The detectors:
//  - blocked loop: a task step (or callback) ran longer than blocked_loop_threshold. A watchdog
//    thread reports it while it is still blocked, with the loop thread's stack (file:line) and
//    the running task's name and spawn site.
//  - swallowed cancellation: a cancelled task caught cancelled_error and completed with a value.
//  - slow cancellation: a cancelled task still running cancel_grace after the request.
//  - no deadline: a TCP connect/read/write, DNS lookup, TLS handshake, HTTP request or database
//    query started with no deadline nearer than deadline_limit (once per call site).
//  - unretrieved error: a spawned task failed and nobody looked (logged in release builds too;
//    debug mode adds its spawn site and the await chain the error left through).
//  - leaked task: a task still pending when run() returns (then it is cancelled).
//  - never awaited: a task created and destroyed without being awaited or spawned.
// Spawn sites come from a source-location parameter defaulted on every spawn() (file and line,
// as std::source_location, which clang 14 with libstdc++ 12 lacks); release builds pay two words
// of copying for them. Addresses are symbolized (llvm-symbolizer, else addr2line) only when
// a report is printed; a build without debug info shows function names without file:line.
//
// dump_tasks(out) prints every live task of the calling thread's loop as a tree (children under
// the task that spawned them): id, name, state (ready, sleeping, waiting on fd N, on a lock, on a
// task...), age, spawn site and async stack. With debug on, SIGUSR1 prints it to stderr.
//
// Thread-safety: debug_stats() from any thread; dump_tasks() on a loop's thread.
// Cost: with debug off, a thread-local flag test on spawn, await and suspension; see README.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>

namespace corio {

/// Thresholds of debug mode (run_options::debug_settings).
struct debug_options {
    /// A loop step running longer than this is reported as a blocked loop.
    std::chrono::nanoseconds blocked_loop_threshold = std::chrono::milliseconds(100);
    /// A cancelled task still running this long after the request is reported.
    std::chrono::nanoseconds cancel_grace = std::chrono::seconds(1);
    /// An external operation whose nearest deadline is further away than this is unbounded.
    std::chrono::nanoseconds deadline_limit = std::chrono::minutes(5);
};

/// How many reports of each kind debug mode has made in this process.
struct debug_counts {
    std::uint64_t blocked_loop = 0;
    std::uint64_t swallowed_cancellation = 0;
    std::uint64_t slow_cancellation = 0;
    std::uint64_t no_deadline = 0;
    std::uint64_t unretrieved_error = 0;
    std::uint64_t leaked_task = 0;
    std::uint64_t never_awaited = 0;
    std::uint64_t total() const noexcept {
        return blocked_loop + swallowed_cancellation + slow_cancellation + no_deadline +
               unretrieved_error + leaked_task + never_awaited;
    }
};

/// The counts so far (process-wide).
debug_counts debug_stats() noexcept;

/// True when CORIO_DEBUG is set to something other than "" or "0".
bool debug_requested_by_environment() noexcept;

/// True when the calling thread's loop runs in debug mode.
bool debug_enabled() noexcept;

/// Prints every live task of the calling thread's loop (nothing outside a loop). Ids, spawn
/// sites, ages and async stacks need debug mode; names and states are always there.
void dump_tasks(std::ostream& out);

}  // namespace corio
