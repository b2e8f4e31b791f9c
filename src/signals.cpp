// Implementation of corio/signals.hpp and of the process's signal handler (signal_delivery.hpp).
#include "corio/signals.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "signal_delivery.hpp"

namespace corio::detail::signal_delivery {

std::atomic<int> owner_wake_fd{-1};
std::atomic<std::uint64_t> owner_signals{0};
std::atomic<int> owner_pending{0};

namespace {

// What the handler reads and writes, per signal number (index: signo).
struct receiver_fds {
    receiver_fds() noexcept {
        for (auto& fd : fds) fd.store(-1);
    }
    std::atomic<int>& operator[](int signo) noexcept { return fds[signo]; }
    std::array<std::atomic<int>, NSIG> fds;
} receiver_fd;  // the receiving loop's eventfd, or -1
std::array<std::atomic<std::uint32_t>, NSIG> received{};  // deliveries to the receiver not yet queued by its loop
std::atomic<int> handlers_running{0};                      // handlers between entry and exit

// Dispositions and receivers, per signal number; guarded by registry_mutex.
struct registration {
    int users = 0;                  // claim()s not yet unclaim()ed
    bool has_receiver = false;      // a signal_stream holds the signal
    struct sigaction original {};   // the disposition the first claim replaced; valid while users > 0
};
std::mutex registry_mutex;
std::array<registration, NSIG> registry;  // guarded by registry_mutex

void wake(int fd) noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

extern "C" void on_signal(int signo) {
    const int saved_errno = errno;
    handlers_running.fetch_add(1);
    if (const int fd = receiver_fd[signo].load(); fd >= 0) {
        received[signo].fetch_add(1);
        wake(fd);
    } else if (owner_signals.load() & signal_bit(signo)) {
        owner_pending.store(signo);
        if (const int owner_fd = owner_wake_fd.load(); owner_fd >= 0) wake(owner_fd);
    }
    handlers_running.fetch_sub(1);
    errno = saved_errno;
}

std::string signal_name(int signo) {
    const char* abbrev = (signo > 0 && signo < NSIG) ? ::sigabbrev_np(signo) : nullptr;
    return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signo);
}

/// claim(), with registry_mutex held.
void claim_locked(int signo) {
    registration& r = registry[signo];
    if (r.users == 0) {
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (::sigaction(signo, &sa, &r.original) != 0) {
            const int err = errno;  // before signal_name() allocates
            throw signal_error("corio: cannot catch " + signal_name(signo) + ": sigaction: " + std::strerror(err));
        }
    }
    ++r.users;
}

/// unclaim(), with registry_mutex held.
void unclaim_locked(int signo) noexcept {
    registration& r = registry[signo];
    if (--r.users == 0) ::sigaction(signo, &r.original, nullptr);
}

/// Gives back signals a receiver took, with registry_mutex held.
void give_back_locked(std::span<const int> signals) noexcept {
    for (const int signo : signals) {
        unclaim_locked(signo);  // first: a signal arriving meanwhile meets its previous disposition
        receiver_fd[signo].store(-1);
        registry[signo].has_receiver = false;
    }
    wait_for_handlers();
}

/// Routes `signals` (valid, distinct) to the eventfd `fd` and claims them, all or none.
void take_for_receiver(const std::vector<int>& signals, int fd) {
    std::lock_guard lock(registry_mutex);
    for (const int signo : signals)
        if (registry[signo].has_receiver)
            throw signal_error("corio::open_signals: " + signal_name(signo) + " is already received by another signal_receiver");
    std::size_t taken = 0;
    try {
        for (; taken < signals.size(); ++taken) {
            const int signo = signals[taken];
            received[signo].store(0);
            receiver_fd[signo].store(fd);  // route first: a signal caught from now on is counted
            claim_locked(signo);
            registry[signo].has_receiver = true;
        }
    } catch (...) {
        receiver_fd[signals[taken]].store(-1);  // routed, not claimed
        give_back_locked(std::span(signals).first(taken));
        throw;
    }
}

/// Gives back what take_for_receiver took.
void give_back_from_receiver(const std::vector<int>& signals) noexcept {
    std::lock_guard lock(registry_mutex);
    give_back_locked(signals);
}

/// Deliveries of `signo` since the last call.
std::uint32_t take_received(int signo) noexcept {
    return received[signo].load(std::memory_order_relaxed) == 0 ? 0 : received[signo].exchange(0);
}

}  // namespace

void claim(int signo) {
    std::lock_guard lock(registry_mutex);
    claim_locked(signo);
}

void unclaim(int signo) noexcept {
    std::lock_guard lock(registry_mutex);
    unclaim_locked(signo);
}

void wait_for_handlers() noexcept {
    while (handlers_running.load() != 0) std::this_thread::yield();  // a write takes microseconds
}

}  // namespace corio::detail::signal_delivery

namespace corio::detail {

namespace {

std::vector<int> checked_signals(std::vector<int> signals) {
    if (signals.empty()) throw signal_error("corio::open_signals: no signals given");
    std::sort(signals.begin(), signals.end());
    signals.erase(std::unique(signals.begin(), signals.end()), signals.end());
    for (const int signo : signals) {
        if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
            throw signal_error("corio::open_signals: " + signal_delivery::signal_name(signo) + " cannot be caught");
        // A fault's handler returns to the faulting instruction, which faults again forever.
        if (signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL)
            throw signal_error("corio::open_signals: " + signal_delivery::signal_name(signo) +
                               " reports a fault in the faulting thread; it cannot be received later");
    }
    return signals;
}

}  // namespace

signal_stream::signal_stream(event_loop& loop, std::vector<int> signals)
    : loop_(&loop), signals_(checked_signals(std::move(signals))), queued_(signals_.size(), 0) {
    signal_delivery::take_for_receiver(signals_, loop.wake_fd_);
    loop.signal_streams_.push_back(*this);
}

signal_stream::~signal_stream() { detach(); }

void signal_stream::detach() noexcept {
    if (loop_ == nullptr) return;
    unlink();
    signal_delivery::give_back_from_receiver(signals_);
    waiters_.refuse_all();  // their next() throws; they do not touch this stream again
    loop_ = nullptr;
}

void signal_stream::deliver() noexcept {
    for (std::size_t i = 0; i < signals_.size(); ++i) {
        const std::uint32_t room = signal_receiver::max_pending - queued_[i];
        const std::uint32_t n = std::min(signal_delivery::take_received(signals_[i]), room);
        pending_.insert(pending_.end(), n, signals_[i]);
        queued_[i] += n;
    }
    while (!pending_.empty()) {
        next_waiter* w = waiters_.front();
        if (w == nullptr) break;
        w->signo = take();
        waiters_.grant(*w);
    }
}

int signal_stream::take() noexcept {
    const int signo = pending_.front();
    pending_.pop_front();
    --queued_[std::lower_bound(signals_.begin(), signals_.end(), signo) - signals_.begin()];
    return signo;
}

bool signal_stream::next_awaiter::await_ready() {
    if (stream.loop_ == nullptr) throw error("corio::signal_receiver::next: its event loop has ended");
    if (event_loop::current() != stream.loop_)
        throw error("corio::signal_receiver::next: awaited outside the loop that opened the receiver");
    if (stream.pending_.empty()) return false;
    signo = stream.take();
    settle(status::granted);
    return true;
}

int signal_stream::next_awaiter::await_resume() const {
    throw_if_cancelled("cancelled while waiting for a signal");
    if (!granted()) throw error("corio::signal_receiver::next: the receiver was destroyed while a task waited in next()");
    return signo;
}

std::string signal_stream::next_awaiter::describe_wait() const {
    std::string names;
    for (const int signo : stream.signals_) names += (names.empty() ? "" : ", ") + signal_delivery::signal_name(signo);
    return "waiting for a signal: " + names;
}

}  // namespace corio::detail

namespace corio {

void event_loop::deliver_signals() noexcept {
    signal_streams_.for_each([](detail::signal_stream& s) { s.deliver(); });
}

void event_loop::detach_signal_streams() noexcept {
    signal_streams_.for_each([](detail::signal_stream& s) { s.detach(); });
}

detail::signal_stream& signal_receiver::stream(const char* caller) const {
    if (!stream_) throw error(std::string("corio::signal_receiver::") + caller + ": the receiver was moved from");
    return *stream_;
}

signal_receiver open_signals(std::vector<int> signals) {
    event_loop& loop = current_loop("open_signals");
    return signal_receiver(std::make_unique<detail::signal_stream>(loop, std::move(signals)));
}

}  // namespace corio
