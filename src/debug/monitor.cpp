// Implementation of src/debug/monitor.hpp: reports, counters, the blocked-loop watchdog and the
// cancellation-grace checks.
#include "monitor.hpp"

#include <execinfo.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/log.hpp"
#include "corio/log.hpp"
#include "symbolize.hpp"
#include "task_info.hpp"

namespace corio::detail {

namespace {

constexpr std::array<const char*, 7> kind_names = {
    "blocked loop", "swallowed cancellation", "slow cancellation", "no deadline",
    "unretrieved error", "leaked task", "never awaited"};
std::array<std::atomic<std::uint64_t>, 7> counts{};

// ---- stack capture of a blocked loop thread ----
// The watchdog asks for one capture at a time (capture_mutex); the signal handler, running on the
// loop thread, fills the capture with async-signal-safe operations only (backtrace() was warmed
// up beforehand, so it does not load libgcc inside the handler).
struct stack_capture {
    std::atomic<bool> done{false};
    void* frames[64];
    int depth = 0;
    char task_name[96];
    bool in_task = false;
    std::uint64_t task_id = 0;
    code_site spawn_site;
};
std::mutex capture_mutex;
stack_capture capture;
std::atomic<stack_capture*> capture_request{nullptr};

int capture_signal() noexcept { return SIGRTMIN + 4; }

extern "C" void on_capture_signal(int) {
    stack_capture* c = capture_request.exchange(nullptr);
    if (c == nullptr) return;
    c->depth = ::backtrace(c->frames, 64);
    c->in_task = current_task != nullptr;
    if (c->in_task) {
        const std::string& name = current_task->name();
        const std::size_t n = name.size() < sizeof c->task_name - 1 ? name.size() : sizeof c->task_name - 1;
        std::memcpy(c->task_name, name.data(), n);
        c->task_name[n] = '\0';
        if (const task_debug* d = current_task->debug_info()) {
            c->task_id = d->id;
            c->spawn_site = d->spawn_site;
        }
    }
    c->done.store(true, std::memory_order_release);
}

void install_capture_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        void* warm[2];
        ::backtrace(warm, 2);
        struct sigaction sa {};
        sa.sa_handler = on_capture_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        ::sigaction(capture_signal(), &sa, nullptr);
    });
}

/// The captured thread stack, from the interrupted instruction up to the loop's dispatch.
report_text thread_stack_text(const stack_capture& c, const std::string& indent) {
    // frames[0] is the handler, frames[1] the signal trampoline.
    std::vector<const void*> frames(c.frames + (c.depth > 2 ? 2 : c.depth), c.frames + c.depth);
    return report_text().thread_stack(indent, std::move(frames));
}

report_text captured_task_text(const stack_capture& c) {
    if (!c.in_task) return "outside any task (a callback)";
    std::string out = "task";
    if (c.task_id != 0) out += " #" + std::to_string(c.task_id);
    out += c.task_name[0] != '\0' ? std::string(" '") + c.task_name + "'" : std::string(" (unnamed)");
    if (!c.spawn_site.known()) return out;
    return report_text(out + ", spawned at ").append(site_text(c.spawn_site));
}

void log_report(const report_text& report) {
    std::string message = report.resolve();
    if (!message.empty() && message.back() == '\n') message.pop_back();
    log_error(message);
}

}  // namespace

namespace {
/// Counts a report and puts its text together.
report_text counted_report(debug_kind kind, const report_text& headline, const report_text& detail, std::uint64_t count) {
    counts[static_cast<std::size_t>(kind)].fetch_add(count, std::memory_order_relaxed);
    report_text report = std::string("corio debug: ") + kind_names[static_cast<std::size_t>(kind)] + ": ";
    report.append(headline).add("\n").append(detail);
    return report;
}
}  // namespace

void debug_report(debug_kind kind, report_text headline, report_text detail, std::uint64_t count) {
    report_text report = counted_report(kind, headline, detail, count);
    event_loop* loop = event_loop::current();
    if (debug_monitor* monitor = loop != nullptr ? loop->debug_monitor() : nullptr) {
        monitor->post(std::move(report));
    } else {
        log_report(report);
    }
}

void debug_monitor::post(report_text report) {
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(std::move(report));
    }
    posted_cv_.notify_one();
}

void debug_monitor::reporter_main() {
    std::unique_lock lock(mutex_);
    for (;;) {
        posted_cv_.wait(lock, [this] { return stopping_ || !posted_.empty(); });
        if (posted_.empty()) return;  // stopping, and everything written
        report_text next = std::move(posted_.front());
        posted_.pop_front();
        lock.unlock();
        log_report(next);
        lock.lock();
    }
}

debug_monitor::debug_monitor(event_loop& loop, debug_options options)
    : timer_node(&on_grace_timer), loop_(loop), options_(options), loop_thread_(::pthread_self()) {
    install_capture_handler();
    watchdog_ = std::thread([this] { watchdog_main(); });
    reporter_ = std::thread([this] { reporter_main(); });
}

debug_monitor::~debug_monitor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    posted_cv_.notify_all();
    watchdog_.join();
    reporter_.join();
    if (queued()) loop_.remove_timer(*this);
    for (auto& c : cancelled_) c.task->release();
}

void debug_monitor::watchdog_main() {
    using namespace std::chrono;
    const auto threshold = options_.blocked_loop_threshold;
    const auto period = std::clamp<nanoseconds>(threshold / 4, milliseconds(1), milliseconds(50));
    std::uint64_t seen = steps_.load(std::memory_order_relaxed);
    auto since = steady_clock::now();
    bool reported = false;
    // Samples every period; once a step has been seen running, the wake-up that would report it
    // comes exactly at since + threshold, so wake-up delays under load do not add up over the
    // periods before it (a step is reported once it has run threshold + at most one period).
    const auto next_wait = [&] {
        return reported ? period : std::clamp<nanoseconds>(since + threshold - steady_clock::now(), nanoseconds(0), period);
    };
    std::unique_lock lock(mutex_);
    while (!stop_cv_.wait_for(lock, next_wait(), [this] { return stopping_; })) {
        const auto now = steady_clock::now();
        const std::uint64_t steps = steps_.load(std::memory_order_relaxed);
        if (steps != seen || polling_.load(std::memory_order_relaxed)) {
            seen = steps;
            since = now;
            reported = false;
            continue;
        }
        if (reported || now - since < threshold) continue;
        reported = true;
        lock.unlock();
        report_blocked_loop(duration_cast<nanoseconds>(now - since));
        lock.lock();
    }
}

void debug_monitor::report_blocked_loop(std::chrono::nanoseconds blocked_for) {
    std::lock_guard one_at_a_time(capture_mutex);
    capture.done.store(false);
    capture.depth = 0;
    capture.task_name[0] = '\0';
    capture.in_task = false;
    capture.task_id = 0;
    capture.spawn_site = {};
    capture_request.store(&capture);
    ::pthread_kill(loop_thread_, capture_signal());
    for (int i = 0; i < 1000 && !capture.done.load(std::memory_order_acquire); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    capture_request.store(nullptr);
    if (!capture.done.load(std::memory_order_acquire)) {
        post(counted_report(debug_kind::blocked_loop, "one step has run for " + rounded_duration(blocked_for) + " (its stack could not be captured)", {}, 1));
        return;
    }
    // Posted like the loop thread's reports, so that they all come out in the order they happened.
    post(counted_report(debug_kind::blocked_loop,
                        report_text("one step has run for " + rounded_duration(blocked_for) + " without returning to the loop, in ")
                            .append(captured_task_text(capture)),
                        report_text("    the loop thread is at:\n").append(thread_stack_text(capture, "      ")), 1));
}

void debug_monitor::watch_cancellation(task_state& task) {
    task.add_ref();
    const auto check_at = deadline_after(loop_.now(), options_.cancel_grace);
    cancelled_.push_back({&task, check_at});
    if (!queued()) loop_.add_timer(*this, check_at);
}

void debug_monitor::on_grace_timer(timer_node& node) noexcept {
    static_cast<debug_monitor&>(node).check_cancellations();
}

void debug_monitor::check_cancellations() noexcept {
    const auto now = loop_.now();
    while (!cancelled_.empty() && cancelled_.front().check_at <= now) {
        task_state& task = *cancelled_.front().task;
        cancelled_.pop_front();
        if (task.queued()) {  // it has not run since: give it its turn first
            cancelled_.push_back({&task, now + options_.cancel_grace});
            continue;
        }
        task_debug* d = task.debug_info();
        if (!task.done() && d != nullptr && !d->slow_cancel_reported) {
            d->slow_cancel_reported = true;
            debug_report(debug_kind::slow_cancellation,
                         task_label(task) + " is still running " + rounded_duration(now - d->cancel_requested_at) +
                             " after it was cancelled (" + task_activity(task) + ")",
                         task_details(task, "    "));
        }
        task.release();
    }
    if (!cancelled_.empty()) {
        try {
            loop_.add_timer(*this, cancelled_.front().check_at);
        } catch (...) {  // no memory for the heap: the remaining checks are dropped
        }
    }
}

}  // namespace corio::detail

namespace corio {

debug_counts debug_stats() noexcept {
    using detail::counts;
    auto at = [](detail::debug_kind k) { return counts[static_cast<std::size_t>(k)].load(std::memory_order_relaxed); };
    using k = detail::debug_kind;
    return {at(k::blocked_loop), at(k::swallowed_cancellation), at(k::slow_cancellation), at(k::no_deadline),
            at(k::unretrieved_error), at(k::leaked_task), at(k::never_awaited)};
}

bool debug_requested_by_environment() noexcept {
    const char* v = std::getenv("CORIO_DEBUG");
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace corio
