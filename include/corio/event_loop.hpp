// corio/event_loop.hpp — the single-threaded event loop that runs tasks.
//
// One loop per thread; a task is always resumed on the loop that owns it. The loop runs ready
// tasks in FIFO batches, fires due timers, runs call_soon callbacks (and call_later/call_at ones
// when they come due: timer_handle below), takes work posted from other threads, and blocks in
// its reactor only when nothing is runnable: epoll, or io_uring where the kernel allows it
// (io_backend; CORIO_BACKEND=epoll|io_uring forces one). Most programs never touch the loop
// directly: corio::run creates one, and the free functions (spawn, sleep, ...) find the running
// loop of the calling thread.
//
// Callbacks at a time (asyncio's call_later / call_at), each with a timer_handle to cancel it:
//
// snippet: examples/signals.cpp#call_later
//   corio::event_loop& loop = corio::current_loop("service");
//   // An operator's `kill -HUP <pid>`, twice, then `kill -TERM <pid>`, in 10 ms steps.
//   loop.call_later(10ms, [] { ::kill(::getpid(), SIGHUP); });  // dropping the handle does not cancel
//   loop.call_later(20ms, [] { ::kill(::getpid(), SIGHUP); });
//   corio::timer_handle stop = loop.call_later(30ms, [] { ::kill(::getpid(), SIGTERM); });
//   corio::timer_handle forgotten = loop.call_at(loop.now() + 1h, [&never_ran] { never_ran = false; });
//   const bool was_pending = forgotten.cancel();  // true: it had not run yet; it never will
//
// Virtual time (options::virtual_time): the clock stands still while tasks run; when nothing is
// runnable and no I/O or thread work is pending, it jumps to the next timer. While the loop
// blocks on I/O it advances by the real time spent blocked. Tests with long sleeps thus run
// instantly and deterministically.
//
// Metrics (corio/metrics.hpp): each loop reports its live tasks, the task steps it ran and how
// late its timers fired (corio_loop_lag_seconds: the loop was busy) to the global registry.
//
// Thread-safety: only loop_handle::post (and live_tasks()) may be called from other threads;
// everything else belongs to the loop's own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/clock.hpp"
#include "corio/debug.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"
#include "corio/metrics.hpp"

namespace corio {

namespace detail {
class remote_queue;
class debug_monitor;
class reactor;
class scheduled_call;  // src/timer_handle.cpp
class signal_stream;   // corio/signals.hpp

/// Something waiting for readiness of a file descriptor registered with the loop's reactor.
class io_watcher {
public:
    virtual void on_io_events(std::uint32_t epoll_events) noexcept = 0;

protected:
    ~io_watcher() = default;
};
}  // namespace detail

/// A thread-safe, copyable reference for posting work to a loop from any thread.
class loop_handle {
public:
    loop_handle() = default;
    explicit loop_handle(std::shared_ptr<detail::remote_queue> q) noexcept : queue_(std::move(q)) {}
    /// Runs fn on the loop's thread soon. Returns false (and drops fn) if the loop has ended.
    bool post(std::function<void()> fn) const;
    explicit operator bool() const noexcept { return static_cast<bool>(queue_); }

private:
    std::shared_ptr<detail::remote_queue> queue_;
};

/// A callback scheduled with event_loop::call_later or call_at (asyncio.TimerHandle). Dropping
/// the handle does not cancel the call; a default-constructed handle refers to none. Like the
/// loop, it is used on the loop's thread only (post a cancel() from other threads).
class timer_handle {
public:
    timer_handle() noexcept = default;
    explicit timer_handle(std::shared_ptr<detail::scheduled_call> call) noexcept : call_(std::move(call)) {}
    /// Stops the call if it has not run yet and releases the callback (and its captures).
    /// Returns whether it was still pending: false once it ran, was cancelled, or its loop ended.
    bool cancel() noexcept;
    /// True once cancel() stopped the call.
    bool cancelled() const noexcept;
    /// When the call is (or was) due, on corio::clock.
    clock::time_point when() const noexcept;

private:
    std::shared_ptr<detail::scheduled_call> call_;
};

/// What a loop blocks in and does its I/O through.
enum class io_backend {
    automatic,  ///< CORIO_BACKEND=epoll|io_uring if set, else io_uring when the kernel allows it, else epoll
    epoll,      ///< readiness through epoll; each read and write is its own syscall
    io_uring,   ///< one io_uring_enter per iteration submits the loop's I/O and reaps its completions
};

/// "epoll" or "io_uring" ("automatic" for io_backend::automatic).
std::string_view to_string(io_backend backend) noexcept;

/// How a loop runs (see the header comment for virtual time).
struct loop_options {
    bool virtual_time = false;
    /// Debug mode (corio/debug.hpp): the detectors run and tasks record their spawn sites.
    bool debug = false;
    debug_options debug_settings{};
    /// When this loop owns signals: SIGUSR1 prints dump_tasks() to stderr (always on in debug mode).
    bool dump_tasks_on_sigusr1 = false;
    /// io_backend::automatic follows CORIO_BACKEND; constructing a loop throws corio::error when
    /// the backend asked for (here or there) cannot be had, saying why.
    io_backend backend = io_backend::automatic;
};

class event_loop : private detail::io_watcher {
public:
    using options = loop_options;

    explicit event_loop(options opts = {});
    ~event_loop();  // destroys the frames of tasks that never finished
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    /// The loop running on this thread, or null.
    static event_loop* current() noexcept { return running; }

    // ---- time ----
    /// The loop's time, refreshed once per iteration (cheap; use for deadlines).
    clock::time_point now() const noexcept { return now_; }
    /// Re-reads the clock (in virtual time: returns the virtual time).
    clock::time_point refresh_now() noexcept;
    bool virtual_time() const noexcept { return opts_.virtual_time; }
    /// The backend this loop runs on (never io_backend::automatic).
    io_backend backend() const noexcept;
    /// The loop's reactor (src/reactor/): for the I/O layers.
    detail::reactor& reactor() noexcept { return *reactor_; }
    /// The debug monitor, in debug mode; else null.
    detail::debug_monitor* debug_monitor() const noexcept { return debug_.get(); }
    void add_timer(detail::timer_node& node, clock::time_point deadline) {
        timers_.insert(node, deadline, now_);
    }
    void remove_timer(detail::timer_node& node) noexcept { timers_.remove(node); }
    std::size_t pending_timers() const noexcept { return timers_.size(); }

    // ---- tasks ----
    /// Makes a task runnable (FIFO). A task already queued stays queued once.
    void schedule(detail::task_state& t) noexcept {
        if (t.queued_) return;
        t.queued_ = true;
        t.next_ready_ = nullptr;
        if (ready_tail_ != nullptr)
            ready_tail_->next_ready_ = &t;
        else
            ready_head_ = &t;
        ready_tail_ = &t;
        ++ready_count_;
    }
    /// Registers a new task as live and schedules its first step.
    void start(detail::task_state& t) noexcept {
        live_.push_back(t);
        live_count_.store(live_tasks() + 1, std::memory_order_relaxed);  // one writer: no read-modify-write
        schedule(t);
    }
    /// Called by a task as it completes.
    void forget(detail::task_state& t) noexcept {
        static_cast<detail::live_hook&>(t).unlink();
        live_count_.store(live_tasks() - 1, std::memory_order_relaxed);
    }
    std::size_t live_tasks() const noexcept { return live_count_.load(std::memory_order_relaxed); }
    /// Calls fn(task_state&) for each live (unfinished) task.
    template <class F>
    void for_each_task(F&& fn) {
        live_.for_each(fn);
    }

    /// Runs fn on the loop soon, after the current batch of ready tasks.
    void call_soon(std::function<void()> fn) { soon_.push_back(std::move(fn)); }
    /// Runs fn on the loop once corio::clock reaches `when` (asyncio's loop.call_at; virtual time
    /// jumps to it like to a sleep's deadline): with the call_soon callbacks of the iteration
    /// whose timers include it, after calls due earlier (ties in call order). An exception from
    /// fn is logged, as call_soon's are. The loop keeps the call until it runs, is cancelled or
    /// the loop ends: dropping the handle does not cancel it.
    timer_handle call_at(clock::time_point when, std::function<void()> fn);
    /// call_at(now() + d, fn) (asyncio's loop.call_later).
    timer_handle call_later(clock::duration d, std::function<void()> fn) { return call_at(deadline_after(now_, d), std::move(fn)); }

    // ---- running ----
    /// Runs until `main` is done.
    void run_until_done(const detail::task_state& main);
    /// Cancels every live task and runs until none is left.
    void cancel_all_and_drain();

    // ---- work outside the loop (I/O, threads), for virtual time and liveness ----
    void begin_external_work() noexcept { ++external_work_; }
    void end_external_work() noexcept { --external_work_; }
    loop_handle handle() const noexcept { return loop_handle(remote_); }

    // ---- reactor ----
    /// Registers fd for edge-triggered (or, with edge = false, level-triggered) events; the
    /// watcher must outlive the registration.
    void watch(int fd, std::uint32_t epoll_events, detail::io_watcher& w, bool edge = true);
    /// Changes the events a registered fd is watched for.
    void rewatch(int fd, std::uint32_t epoll_events, detail::io_watcher& w, bool edge = true);
    void unwatch(int fd) noexcept;
    /// A registered fd was closed by its owner before unwatch(): forgets its registration.
    void unwatch_closed(int fd) noexcept;

    // ---- signals ----
    /// Until this loop ends, SIGINT/SIGTERM call on_signal(signo) on the loop thread (and SIGUSR1
    /// dumps the tasks, if the options ask for it), except while a signal_receiver holds them
    /// (signals.hpp): then they go to it. Returns false (and does nothing) if another loop in the
    /// process handles them already. Thread-safe against other loops: one owner at a time; when
    /// it ends, the dispositions found before come back (once no receiver holds them either).
    bool try_handle_signals(std::function<void(int)> on_signal);

private:
    friend class detail::scheduled_call;  // keeps scheduled_calls_
    friend class detail::signal_stream;   // keeps signal_streams_, hears signals on wake_fd_
    void run_once();
    bool finished() const noexcept;  // what the current run_* call waits for has happened
    void run_ready_batch();
    void run_soon_callbacks();
    void poll(int timeout_ms);
    int poll_timeout_ms();
    void drain_remote();
    void abandon_live_tasks() noexcept;
    void drop_scheduled_calls() noexcept;   // src/timer_handle.cpp: the loop ends before they run
    void deliver_signals() noexcept;        // src/signals.cpp: hands the handler's counts to signal_streams_
    void detach_signal_streams() noexcept;  // src/signals.cpp: the loop ends; their signals go back
    void report_metrics(metrics::sample_writer& out, const metrics::labels& loop) const;
    void on_io_events(std::uint32_t epoll_events) noexcept override;  // the wake-up eventfd

    options opts_;
    clock::time_point now_;  // this iteration's time; in virtual mode the virtual clock itself
    detail::timer_heap timers_;
    detail::task_state* ready_head_ = nullptr;  // FIFO of queued tasks linked by next_ready_
    detail::task_state* ready_tail_ = nullptr;
    std::size_t ready_count_ = 0;               // invariant: length of that list
    detail::intrusive_list<detail::task_state, detail::live_hook> live_;  // every started, unfinished task
    std::atomic<std::size_t> live_count_{0};  // its length; atomic for the metrics scrape, written by this thread only
    std::atomic<std::uint64_t> steps_{0};      // task steps run; likewise
    metrics::histogram lag_{metrics::latency_buckets()};  // how late the earliest due timer fired, per iteration
    std::vector<std::function<void()>> soon_;
    std::vector<std::function<void()>> soon_running_;
    std::size_t external_work_ = 0;         // pending I/O waits and thread jobs
    int wake_fd_ = -1;                      // eventfd written by posts and, when this loop owns them, signals
    std::unique_ptr<detail::reactor> reactor_;  // epoll or io_uring; hears wake_fd_
    std::shared_ptr<detail::remote_queue> remote_;  // cross-thread posts + the eventfd wake-up
    std::function<void(int)> on_signal_;
    detail::intrusive_list<detail::scheduled_call> scheduled_calls_;  // call_at calls not yet run nor cancelled
    detail::intrusive_list<detail::signal_stream> signal_streams_;    // the signal_receivers opened on this loop
    const detail::task_state* stop_when_done_ = nullptr;  // set during run_until_done
    event_loop* previous_ = nullptr;        // the thread's current loop before this one
    bool previous_debug_on_ = false;        // the thread's debug flag before this loop
    std::unique_ptr<detail::debug_monitor> debug_;  // debug mode only; its watchdog reads the loop's progress
    metrics::collector_handle metrics_;  // last: removed from the registry before what it reads is destroyed

    static inline thread_local event_loop* running = nullptr;  // this thread's loop
};

namespace detail {
[[noreturn]] void throw_no_loop(const char* caller);

/// Counts as external work of a loop while it lives (begin_external_work/end_external_work):
/// virtual time does not jump past it. Empty (counting nothing) when default-made or moved from.
class external_work {
public:
    external_work() noexcept = default;
    explicit external_work(event_loop& loop) noexcept : loop_(&loop) { loop.begin_external_work(); }
    external_work(external_work&& other) noexcept : loop_(std::exchange(other.loop_, nullptr)) {}
    external_work& operator=(external_work&& other) noexcept {
        end();
        loop_ = std::exchange(other.loop_, nullptr);
        return *this;
    }
    ~external_work() { end(); }
    /// Stops counting (if it did).
    void end() noexcept {
        if (loop_ != nullptr) std::exchange(loop_, nullptr)->end_external_work();
    }

private:
    event_loop* loop_ = nullptr;  // the loop counting this work; null: none
};
}  // namespace detail

/// The event loop of the calling thread; throws corio::error naming `caller` if none is running.
inline event_loop& current_loop(const char* caller) {
    if (event_loop* loop = event_loop::current()) return *loop;
    detail::throw_no_loop(caller);
}

inline void detail::task_state::wake() noexcept {
    hook_ = nullptr;
    loop_->schedule(*this);
}

}  // namespace corio
