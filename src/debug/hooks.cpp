// The runtime's debug hooks (corio/detail/debug_hooks.hpp): what a debug loop records as tasks
// spawn, await, suspend, get cancelled and finish, and the reports made from it.
#include <atomic>
#include <mutex>
#include <unordered_set>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/log.hpp"
#include "corio/task.hpp"
#include "corio/timeout_scope.hpp"
#include "monitor.hpp"
#include "symbolize.hpp"
#include "task_info.hpp"

namespace corio::detail {

namespace {

task_debug* running_task_debug() noexcept {
    return current_task != nullptr ? current_task->debug_info() : nullptr;
}
}  // namespace

void debug_note_spawn(task_state& task, code_site site) {
    debug_monitor* monitor = task.loop().debug_monitor();
    if (monitor == nullptr) return;  // a loop without debug mode inside a debug one's thread
    task_debug& d = task.ensure_debug_info();
    d.id = monitor->next_task_id();
    d.spawn_site = site;
    d.created = task.loop().now();
    d.root = &task.promise();
    if (const task_debug* parent = running_task_debug()) d.parent_id = parent->id;
}

void debug_note_suspend(task_state& task) noexcept {
    if (task_debug* d = task.debug_info()) d->suspended_at = __builtin_return_address(0);
}

void debug_note_cancel_requested(task_state& task) noexcept {
    task_debug* d = task.debug_info();
    if (d == nullptr || task.done() || d->cancel_requested_at != clock::time_point{}) return;
    d->cancel_requested_at = task.loop().refresh_now();
    if (debug_monitor* m = task.loop().debug_monitor()) {
        try {
            m->watch_cancellation(task);
        } catch (...) {  // out of memory: this task goes unwatched
        }
    }
}

void debug_note_cancel_delivered(task_state& task) noexcept {
    task_debug* d = task.debug_info();
    if (d != nullptr && task.cancel_requested()) d->cancel_delivered = true;
}

void debug_note_await(promise_base& child) noexcept {
    const void* site = __builtin_return_address(0);
    if (task_debug* d = running_task_debug()) {
        try {
            d->awaited.push_back({&child, site});
        } catch (...) {  // out of memory: this frame is missing from its async stack
        }
    }
}

void debug_note_frame_done(promise_base& child) noexcept {
    if (task_debug* d = running_task_debug(); d != nullptr && !d->awaited.empty() && d->awaited.back().frame == &child)
        d->awaited.pop_back();
}

void debug_note_exception(promise_base& frame) noexcept {
    task_debug* d = running_task_debug();
    if (d == nullptr || d->traced_error == frame.error) return;  // already traced lower down
    try {
        d->traced_error = frame.error;
        d->error_trace.clear();
        d->error_trace.push_back(frame_code(frame));
        bool below = true;  // frames below `frame` (already finished) are not on the error's way
        for (auto it = d->awaited.rbegin(); it != d->awaited.rend(); ++it) {
            below = below && it->frame != &frame;
            if (!below) d->error_trace.push_back(it->site);
        }
    } catch (...) {  // out of memory: no trace
    }
}

void debug_note_complete(task_state& task) noexcept {
    const task_debug* d = task.debug_info();
    if (d == nullptr || !d->cancel_delivered || task.promise().error) return;
    try {
        debug_report(debug_kind::swallowed_cancellation,
                     task_label(task) + " was cancelled, caught cancelled_error and completed normally",
                     report_text("    catch cancelled_error only to clean up, then rethrow (`throw;`)\n").append(task_details(task, "    ")));
    } catch (...) {
    }
}

void debug_report_unretrieved(const task_state& task, const std::exception_ptr& error) noexcept {
    try {
        report_text detail = task_details(task, "    ");
        if (const task_debug* d = task.debug_info(); d != nullptr && d->traced_error == error)
            detail.append(error_trace_text(*d, "    "));
        debug_report(debug_kind::unretrieved_error,
                     task_label(task) + " failed and nobody retrieved its error: " + describe(error), detail);
    } catch (...) {
    }
}

task_debug* debug_check_deadline(const char* operation, const std::string& target, std::chrono::nanoseconds own_limit) noexcept {
    task_debug* d = running_task_debug();
    if (d == nullptr || d->deadline_checks != 0) return nullptr;
    ++d->deadline_checks;
    const debug_monitor* monitor = current_task->loop().debug_monitor();
    if (monitor == nullptr) return d;
    const auto limit = monitor->options().deadline_limit;
    const auto now = current_task->loop().now();
    const auto deadline = current_deadline();
    if (own_limit <= limit || (deadline && *deadline - now <= limit)) return d;
    const void* site = d->awaited.empty() ? nullptr : d->awaited.back().site;
    static std::mutex mutex;
    static std::unordered_set<const void*> reported;  // call sites already reported
    {
        std::lock_guard lock(mutex);
        if (!reported.insert(site).second) return d;
    }
    try {
        const std::string own = own_limit >= std::chrono::hours(24 * 365) ? "none" : rounded_duration(own_limit);
        report_text detail = "    called at ";
        if (site != nullptr) detail.call_site(site); else detail.add("an unknown place");
        detail.add(" in " + task_label(*current_task) + "\n");
        detail += "    its own limit: " + own + "; the nearest enclosing deadline: " +
                  (deadline ? "in " + rounded_duration(*deadline - now) : std::string("none")) + "\n";
        detail += "    bound it: co_await corio::wait_for(op, 10s), a fail_after block, or the operation's own timeout\n";
        debug_report(debug_kind::no_deadline,
                     std::string(operation) + " " + target + " has no deadline within " + rounded_duration(limit), detail);
    } catch (...) {
    }
    return d;
}

void debug_report_never_awaited(void* frame_address) noexcept {
    const void* dropped = __builtin_return_address(0);
    try {
        // Where the task object died: for the usual `make_task();`, the line that made it.
        report_text detail = "    dropped at ";
        detail.call_site(dropped).add("\n");
        detail += "    co_await it, or corio::spawn() it to run it in the background\n";
        debug_report(debug_kind::never_awaited,
                     report_text("a task of ").function(frame_code(frame_address)).add(" was created and never awaited or spawned"),
                     detail);
    } catch (...) {
    }
}

void debug_report_leaked(event_loop& loop, const task_state& main) noexcept {
    try {
        report_text detail;
        std::size_t leaked = 0;
        loop.for_each_task([&](task_state& t) {
            if (&t == &main) return;
            ++leaked;
            detail.add("    " + task_label(t) + "\n").append(task_details(t, "      "));
        });
        if (leaked == 0) return;
        debug_report(debug_kind::leaked_task,
                     std::to_string(leaked) + (leaked == 1 ? " task was" : " tasks were") +
                         " still pending when run() returned; cancelling " + (leaked == 1 ? "it" : "them"),
                     detail, leaked);
    } catch (...) {
    }
}

}  // namespace corio::detail
