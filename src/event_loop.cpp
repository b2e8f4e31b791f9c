#include "corio/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <utility>

#include "corio/error.hpp"
#include "corio/log.hpp"
#include "debug/monitor.hpp"
#include "reactor/reactor.hpp"
#include "signal_delivery.hpp"

namespace corio {

namespace detail {

/// Work posted to a loop from other threads. Shared with loop_handles, so it outlives the loop;
/// once closed (the loop ended) posts are refused.
class remote_queue {
public:
    explicit remote_queue(int wake_fd) noexcept : wake_fd_(wake_fd) {}

    bool post(std::function<void()> fn) {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        items_.push_back(std::move(fn));
        if (!pending_.exchange(true, std::memory_order_acq_rel)) wake();
        return true;
    }

    bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }

    std::vector<std::function<void()>> take() {
        std::lock_guard lock(mutex_);
        pending_.store(false, std::memory_order_release);
        return std::exchange(items_, {});
    }

    std::vector<std::function<void()>> close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        return std::exchange(items_, {});
    }

    void wake() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }

private:
    std::mutex mutex_;
    std::vector<std::function<void()>> items_;  // guarded by mutex_
    bool closed_ = false;                        // guarded by mutex_
    std::atomic<bool> pending_{false};           // items_ non-empty since the last take()
    int wake_fd_;                                // owned by the loop; not written once closed_
};

}  // namespace detail

bool loop_handle::post(std::function<void()> fn) const {
    return queue_ && queue_->post(std::move(fn));
}

namespace {


// Signal ownership. At most one loop at a time owns SIGINT/SIGTERM; ownership is claimed and
// given back atomically, so two loops starting at once cannot both take them. The handler and
// the dispositions are signal_delivery's (src/signal_delivery.hpp): a signal_receiver holding
// one of these signals gets it instead. Before the owner closes its eventfd it waits for
// handlers already running to finish, so a late handler can never write into a reused fd number.
std::atomic<event_loop*> signal_owner{nullptr};  // the loop handling signals, if any

/// Calls fn(signo) for each signal the owner takes (signal_delivery::owner_signals).
void for_each_owned_signal(void (*fn)(int)) {
    const std::uint64_t owned = detail::signal_delivery::owner_signals.load();
    for (const int signo : {SIGINT, SIGTERM, SIGUSR1})
        if (owned & detail::signal_delivery::signal_bit(signo)) fn(signo);
}

/// The owner gives signals up: previous dispositions back, then no handler can still hold its fd.
void release_signals() noexcept {
    using namespace detail::signal_delivery;
    for_each_owned_signal([](int signo) { unclaim(signo); });
    owner_signals.store(0);
    owner_wake_fd.store(-1);
    wait_for_handlers();
    signal_owner.store(nullptr);  // last: another loop may claim signals from here on
}

[[noreturn]] void throw_system(const char* what) {
    throw error(std::string("event loop: ") + what + ": " + std::strerror(errno));
}

void run_guarded(std::function<void()>& fn, const char* where) noexcept {
    try {
        fn();
    } catch (const cancelled_error&) {
        log_error(std::string(where) + " raised cancelled_error; ignored");
    } catch (...) {
        log_error(std::string(where) + " threw: " + describe(std::current_exception()));
    }
}

}  // namespace

clock::time_point clock::now() noexcept {
    if (event_loop* loop = event_loop::current()) return loop->refresh_now();
    return steady_now();
}

event_loop::event_loop(options opts) : opts_(opts), now_(clock::steady_now()) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw_system("eventfd");
    try {
        reactor_ = detail::make_reactor(opts_.backend, *this, wake_fd_);
    } catch (...) {
        ::close(wake_fd_);
        throw;
    }
    remote_ = std::make_shared<detail::remote_queue>(wake_fd_);
    previous_ = running;
    running = this;
    previous_debug_on_ = detail::debug_on;
    detail::debug_on = opts_.debug;
    if (opts_.debug) debug_ = std::make_unique<detail::debug_monitor>(*this, opts_.debug_settings);
    static std::atomic<std::uint64_t> loops_made{0};
    const metrics::labels loop{{"loop", std::to_string(loops_made.fetch_add(1) + 1)}};
    metrics_ = metrics::registry::global().add_collector([this, loop](metrics::sample_writer& out) { report_metrics(out, loop); });
}

void event_loop::report_metrics(metrics::sample_writer& out, const metrics::labels& loop) const {
    out.gauge("corio_loop_tasks_alive", "Tasks started and not finished", loop, static_cast<double>(live_tasks()));
    out.counter("corio_loop_steps_total", "Task steps run (resumptions)", loop, static_cast<double>(steps_.load(std::memory_order_relaxed)));
    out.histogram("corio_loop_lag_seconds", "How late the loop fired its earliest due timer, per iteration", loop, lag_.read());
}

event_loop::~event_loop() {
    reactor_->quiesce();  // the kernel stops using the frames about to be freed
    abandon_live_tasks();
    debug_.reset();
    detail::debug_on = previous_debug_on_;
    auto dropped = remote_->close();
    dropped.clear();
    drop_scheduled_calls();
    detach_signal_streams();                               // before wake_fd_ closes
    if (signal_owner.load() == this) release_signals();  // likewise
    reactor_.reset();
    ::close(wake_fd_);
    running = previous_;
}

clock::time_point event_loop::refresh_now() noexcept {
    if (!opts_.virtual_time) now_ = clock::steady_now();
    return now_;
}

io_backend event_loop::backend() const noexcept { return reactor_->backend(); }

void event_loop::watch(int fd, std::uint32_t epoll_events, detail::io_watcher& w, bool edge) {
    reactor_->watch(fd, epoll_events, w, edge);
}

void event_loop::rewatch(int fd, std::uint32_t epoll_events, detail::io_watcher& w, bool edge) {
    reactor_->rewatch(fd, epoll_events, w, edge);
}

void event_loop::unwatch(int fd) noexcept { reactor_->unwatch(fd); }

void event_loop::unwatch_closed(int fd) noexcept { reactor_->unwatch_closed(fd); }

bool event_loop::try_handle_signals(std::function<void(int)> on_signal) {
    event_loop* unowned = nullptr;
    if (!signal_owner.compare_exchange_strong(unowned, this)) return false;
    using namespace detail::signal_delivery;
    on_signal_ = std::move(on_signal);
    const bool take_sigusr1 = opts_.debug || opts_.dump_tasks_on_sigusr1;
    owner_pending.store(0);
    owner_wake_fd.store(wake_fd_);
    owner_signals.store(signal_bit(SIGINT) | signal_bit(SIGTERM) | (take_sigusr1 ? signal_bit(SIGUSR1) : 0));
    for_each_owned_signal([](int signo) { claim(signo); });  // cannot fail: these signals are catchable
    return true;
}

void event_loop::run_until_done(const detail::task_state& main) {
    stop_when_done_ = &main;
    while (!main.done()) run_once();
    stop_when_done_ = nullptr;
}

void event_loop::cancel_all_and_drain() {
    while (live_tasks() > 0) {
        live_.for_each([](detail::task_state& t) { t.cancel(); });
        run_once();
    }
}

bool event_loop::finished() const noexcept {
    return stop_when_done_ != nullptr ? stop_when_done_->done() : live_tasks() == 0;
}

void event_loop::run_once() {
    if (debug_) debug_->step_begins();
    refresh_now();
    if (!timers_.empty() && timers_.next_deadline() < now_)
        lag_.observe(std::chrono::duration<double>(now_ - timers_.next_deadline()).count());
    timers_.fire_expired(now_);
    run_ready_batch();
    run_soon_callbacks();
    if (remote_->pending()) drain_remote();
    if (signal_owner.load(std::memory_order_relaxed) == this) {
        if (const int signo = detail::signal_delivery::owner_pending.exchange(0); signo == SIGUSR1) {
            dump_tasks(std::cerr);
        } else if (signo != 0 && on_signal_) {
            on_signal_(signo);
        }
    }
    if (!signal_streams_.empty()) deliver_signals();
    if (!finished()) poll(poll_timeout_ms());
}

void event_loop::run_ready_batch() {
    // Only the tasks queued before the batch starts: a task that keeps rescheduling itself
    // cannot starve timers and I/O.
    steps_.store(steps_.load(std::memory_order_relaxed) + ready_count_, std::memory_order_relaxed);
    for (std::size_t n = ready_count_; n > 0; --n) {
        detail::task_state* t = ready_head_;
        ready_head_ = t->next_ready_;
        if (ready_head_ == nullptr) ready_tail_ = nullptr;
        --ready_count_;
        t->queued_ = false;
        if (debug_) debug_->step_begins();
        t->run_step();
    }
    detail::current_task = nullptr;
}

void event_loop::run_soon_callbacks() {
    if (soon_.empty()) return;
    soon_running_.swap(soon_);
    for (auto& fn : soon_running_) run_guarded(fn, "call_soon callback");
    soon_running_.clear();
}

void event_loop::drain_remote() {
    for (auto& fn : remote_->take()) run_guarded(fn, "posted function");
}

int event_loop::poll_timeout_ms() {
    if (ready_count_ > 0 || !soon_.empty() || remote_->pending()) return 0;
    if (timers_.empty()) return -1;
    if (opts_.virtual_time && external_work_ == 0) {
        now_ = timers_.next_deadline();  // idle: jump straight to the next timer
        return 0;
    }
    const auto wait = timers_.next_deadline() - refresh_now();
    if (wait <= clock::duration::zero()) return 0;
    // Round up so that a sub-millisecond wait does not spin.
    const auto ms = (wait + std::chrono::milliseconds(1) - clock::duration(1)) /
                    std::chrono::milliseconds(1);
    return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

void event_loop::poll(int timeout_ms) {
    if (timeout_ms == 0 && !reactor_->busy()) return;  // nothing to learn without a syscall
    const auto blocked_from = opts_.virtual_time ? clock::steady_now() : clock::time_point{};
    if (debug_) debug_->polling(true);
    reactor_->wait(timeout_ms);
    if (debug_) debug_->polling(false);
    if (opts_.virtual_time && timeout_ms != 0) now_ += clock::steady_now() - blocked_from;
}

void event_loop::abandon_live_tasks() noexcept {
    while (!live_.empty()) live_.front().abandon();  // abandon() calls forget()
}

void event_loop::on_io_events(std::uint32_t) noexcept {
    // The wake-up eventfd: drain it; the loop checks the remote queue and signals anyway.
    std::uint64_t value;
    while (::read(wake_fd_, &value, sizeof value) > 0) {
    }
}

}  // namespace corio

namespace corio {

void detail::throw_no_loop(const char* caller) {
    throw error(std::string("corio::") + caller + ": no event loop is running on this thread");
}

}  // namespace corio
