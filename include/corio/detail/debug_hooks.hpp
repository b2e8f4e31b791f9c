// corio/detail/debug_hooks.hpp — what the runtime records for debug mode (corio/debug.hpp).
//
// Every hook sits behind `debug_on`, a thread-local flag set while a debug loop runs on the
// thread, so release runs pay one well-predicted branch. The hooks that record a code address
// are out of line: their return address is the instruction in the caller (the co_await, the
// spawn, the suspension) that a report later symbolizes.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/frame_allocator.hpp"

namespace corio {
class event_loop;
}

namespace corio::detail {

class task_state;
class cancel_hook;
struct promise_base;

/// Set while a loop in debug mode runs on this thread.
inline thread_local constinit bool debug_on = false;

/// A place in the source, captured at a call by a defaulted parameter
/// (`source_site site = source_site::current()`). It is std::source_location's file and line,
/// built on the compiler builtins directly: clang 14 with libstdc++ 12 has no std::source_location.
struct source_site {
    const char* file = nullptr;
    unsigned line = 0;
    static constexpr source_site current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) noexcept {
        return {file, line};
    }
};

/// Where something was started: a source location when the API could take one, else the
/// return address of the call (symbolized when printed).
struct code_site {
    source_site location{};
    const void* address = nullptr;
    bool known() const noexcept { return location.line != 0 || address != nullptr; }
};

/// What debug mode knows about one spawned task (task_state::extras, debug loops only).
struct task_debug : pooled {
    std::uint64_t id = 0;                 // 1, 2, ... per loop, in spawn order
    std::uint64_t parent_id = 0;          // the task that spawned it (0: none)
    code_site spawn_site;
    clock::time_point created{};
    /// The task frames awaited below the root frame, outermost first: the async stack.
    struct awaited_frame {
        const promise_base* frame;
        const void* site;                 // the instruction after the co_await that awaits it
    };
    std::vector<awaited_frame> awaited;
    const promise_base* root = nullptr;   // the spawned frame
    const void* suspended_at = nullptr;   // the instruction after its last suspension
    clock::time_point cancel_requested_at{};  // when cancel() first reached it
    bool cancel_delivered = false;        // a cancelled_error was thrown into it after that
    bool slow_cancel_reported = false;
    std::uint32_t deadline_checks = 0;    // open deadline_check guards (operations inside one skip theirs)
    std::exception_ptr traced_error;      // the error error_trace belongs to
    std::vector<const void*> error_trace; // the frame it left (its code), then the await sites it passed, innermost first
};

[[gnu::noinline]] void debug_note_spawn(task_state& task, code_site site);
[[gnu::noinline]] void debug_note_suspend(task_state& task) noexcept;
[[gnu::noinline]] void debug_note_cancel_requested(task_state& task) noexcept;
[[gnu::noinline]] void debug_note_cancel_delivered(task_state& task) noexcept;
/// The running task is about to run `child`, the frame its current frame awaits.
[[gnu::noinline]] void debug_note_await(promise_base& child) noexcept;
/// `child` finished; its awaiter resumes.
void debug_note_frame_done(promise_base& child) noexcept;
/// `frame` is exiting by an exception: records the await chain it passes through.
void debug_note_exception(promise_base& frame) noexcept;
/// `task` completed: reports a cancellation it swallowed.
void debug_note_complete(task_state& task) noexcept;
/// `task` failed and is being destroyed without anyone having looked at `error`.
void debug_report_unretrieved(const task_state& task, const std::exception_ptr& error) noexcept;
/// Lists the tasks other than `main` still live on `loop` (run() is returning).
void debug_report_leaked(event_loop& loop, const task_state& main) noexcept;
/// Starts a deadline check (see deadline_check): the running task's record if this is its
/// outermost check (its count of open checks raised), else null.
task_debug* debug_check_deadline(const char* operation, const std::string& target, std::chrono::nanoseconds own_limit) noexcept;

/// Debug mode's "no deadline" detector, placed at the top of each external operation (TCP
/// connect/read/write, DNS, TLS handshake, HTTP request, database query): reports, once per call
/// site, an operation whose own limit and enclosing deadlines are all further than the limit.
/// Operations it runs inside (an HTTP request's connect and reads) are not checked again.
class deadline_check {
public:
    /// `target()` names what the operation talks to; it is called in debug mode only.
    template <class Target>
    deadline_check(const char* operation, std::chrono::nanoseconds own_limit, Target&& target) {
        if (debug_on) [[unlikely]] outermost_ = debug_check_deadline(operation, target(), own_limit);
    }
    ~deadline_check() {
        if (outermost_ != nullptr) --outermost_->deadline_checks;
    }
    deadline_check(const deadline_check&) = delete;
    deadline_check& operator=(const deadline_check&) = delete;

private:
    task_debug* outermost_ = nullptr;  // the task whose count this check raised
};

/// A task (frame `frame_address`) destroyed without ever running, by the caller's code.
[[gnu::noinline]] void debug_report_never_awaited(void* frame_address) noexcept;

}  // namespace corio::detail
