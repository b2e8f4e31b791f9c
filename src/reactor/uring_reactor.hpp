// src/reactor/uring_reactor.hpp — the io_uring reactor: one ring per loop.
//
// Readiness (watch) is a poll request on the ring: multishot for edge-triggered registrations,
// re-armed after each completion for level-triggered ones. Operations (the TCP layer's sends,
// receives and accepts: src/reactor/ring_socket.hpp) are submitted to the same ring and complete
// to a ring_completion. Nothing is submitted until the loop waits: one io_uring_enter per loop
// iteration submits every queued entry and reaps every completion.
//
// Lifetimes: a request names its ring_completion by address (user_data), so the completion must
// stay alive until its last CQE (one without IORING_CQE_F_MORE) has been delivered; cancel() asks
// the kernel to end a request early (it then completes, usually with -ECANCELED). An object whose
// owner is gone while its requests are in flight is adopt()ed: the reactor frees it when it says
// so (at its last completion) or, at the latest, with the ring.
// Thread-safety: the loop's thread only (the ring is set up single-issuer where the kernel can).
#pragma once

#include <liburing.h>

#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/intrusive_list.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/detail/timer_heap.hpp"
#include "reactor.hpp"

namespace corio::detail {

/// Where a ring request completes to (its user_data).
class ring_completion : public list_node {
public:
    virtual ~ring_completion() = default;
    /// `result` is the CQE's res (a byte count, a poll mask, an fd, or -errno); `flags` its flags.
    virtual void complete(int result, std::uint32_t flags) noexcept = 0;
};

/// The loop's provided buffers (one buffer ring, group 0): a multishot receive takes one per
/// completion, so an idle connection holds none. Untouched buffers cost no memory (mmap).
class provided_buffers {
public:
    static constexpr unsigned count = 512;   // a power of two
    static constexpr unsigned size = 8192;
    static constexpr unsigned short group = 0;

    explicit provided_buffers(io_uring& ring);  // throws corio::error naming the failed call
    ~provided_buffers();  // only after the ring has been torn down
    provided_buffers(const provided_buffers&) = delete;
    provided_buffers& operator=(const provided_buffers&) = delete;

    const char* data(unsigned id) const noexcept { return memory_ + static_cast<std::size_t>(id) * size; }
    /// A completion handed buffer `id` to the program.
    void taken() noexcept { --available_; }
    /// The program is done with buffer `id`: the kernel may fill it again.
    void give_back(unsigned id) noexcept;
    unsigned available() const noexcept { return available_; }

private:
    io_uring_buf_ring* entries_ = nullptr;  // shared with the kernel
    char* memory_ = nullptr;                // count * size bytes
    unsigned available_ = 0;                // invariant: buffers the kernel may fill
};

class uring_reactor final : public reactor {
public:
    /// Sets up a ring; throws corio::error saying why io_uring cannot be used here.
    uring_reactor(io_watcher& wake, int wake_fd);
    ~uring_reactor() override;
    uring_reactor(const uring_reactor&) = delete;
    uring_reactor& operator=(const uring_reactor&) = delete;

    io_backend backend() const noexcept override { return io_backend::io_uring; }
    void watch(int fd, std::uint32_t events, io_watcher& w, bool edge) override;
    void rewatch(int fd, std::uint32_t events, io_watcher& w, bool edge) override;
    void unwatch(int fd) noexcept override;
    void unwatch_closed(int fd) noexcept override { unwatch(fd); }  // the poll still holds the file: cancel it
    bool busy() const noexcept override;
    void wait(int timeout_ms) override;
    void quiesce() noexcept override;

    /// Queues `request` (filled by io_uring_prep_*) completing to `c`; counted in flight until
    /// `c` gets its last CQE.
    void submit(ring_completion& c, const io_uring_sqe& request) noexcept;
    /// Asks the kernel to end every request completing to `c`; each still completes.
    void cancel(ring_completion& c) noexcept;
    /// cancel(), submitted at once rather than at the loop's next wait: for a socket being
    /// closed, whose requests hold it open (a listener would go on accepting).
    void cancel_now(ring_completion& c) noexcept;
    /// Takes ownership of `c` (whose requests are in flight): freed by c itself at its last
    /// completion (unlink, then delete) or with the reactor.
    void adopt(ring_completion& c) noexcept { owned_.push_back(c); }
    /// The loop's provided buffers, set up on first use; null if the kernel refused them (then
    /// sockets read with recv and readiness polls).
    provided_buffers* buffers() noexcept;

private:
    class poll_registration;
    io_uring_sqe& next_sqe() noexcept;
    void arm(poll_registration& r) noexcept;
    void deliver(std::uint64_t user_data, int result, std::uint32_t flags) noexcept;
    void reap();

    io_uring ring_{};
    intrusive_list<ring_completion> owned_;       // poll registrations, and adopted objects until their last CQE
    std::vector<poll_registration*> by_fd_;        // fd -> its live registration, or null
    poll_registration* wake_ = nullptr;            // the wake-up eventfd's poll; set by the constructor, never null after
    std::size_t in_flight_ = 0;                    // requests whose last CQE has not been delivered
    std::unique_ptr<provided_buffers> buffers_;    // null until the first multishot receive
    bool buffers_refused_ = false;                 // setting them up failed: never tried again
};

/// One request awaited by a task: `co_await op` submits request() and yields the CQE's result.
/// A cancellation of the task, or the deadline, asks the kernel to cancel the request, but the
/// task resumes only once the request has completed: buffers it names (in the task's frame) are
/// never used after. After the await, cancelled() says the task was cancelled (the caller throws
/// cancelled_error), expired() that the deadline cut the request short; the result then is what
/// the request did before it ended (-ECANCELED: nothing).
class ring_operation final : ring_completion, timer_node, cancel_hook {
public:
    explicit ring_operation(uring_reactor& ring, clock::time_point deadline = clock::time_point::max()) noexcept
        : timer_node(&on_deadline), ring_(ring), deadline_(deadline) {}
    ring_operation(const ring_operation&) = delete;
    ring_operation& operator=(const ring_operation&) = delete;

    /// The request to submit, zeroed: fill it with io_uring_prep_*.
    io_uring_sqe& request() noexcept { return request_; }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept;
    int await_resume() const noexcept { return result_; }
    bool cancelled() const noexcept { return cancelled_; }
    bool expired() const noexcept { return expired_; }

private:
    void complete(int result, std::uint32_t flags) noexcept override;
    void on_cancel() noexcept override;
    std::string describe_wait() const override { return "waiting for an io_uring request"; }
    static void on_deadline(timer_node& node) noexcept;

    uring_reactor& ring_;
    clock::time_point deadline_;  // time_point::max(): none
    io_uring_sqe request_{};
    task_state* task_ = nullptr;  // the waiting task, once submitted
    int result_ = -ECANCELED;
    bool cancelled_ = false;      // the task was cancelled (before or during the request)
    bool expired_ = false;        // the deadline passed while the request was in flight
};

}  // namespace corio::detail
