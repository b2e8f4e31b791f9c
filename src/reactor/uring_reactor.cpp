#include "uring_reactor.hpp"

#include <sys/epoll.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "corio/error.hpp"

namespace corio::detail {

namespace {

constexpr unsigned submission_entries = 512;
constexpr unsigned completion_entries = 4096;  // multishot requests complete many times per entry

[[noreturn]] void throw_uring(const char* call, int negative_errno) {
    throw error(std::string("event loop (io_uring): ") + call + ": " + std::strerror(-negative_errno));
}

/// The ring with the cheapest settings this kernel takes that still report every completion
/// by the loop's next wait: completions run as task work when the loop's thread next enters the
/// kernel (COOP_TASKRUN), on a ring only that thread submits to (SINGLE_ISSUER). Not
/// DEFER_TASKRUN: it runs a bounded batch of completions per io_uring_enter, so an arrival (a
/// pooled connection's server gone away) could go unreported past a wait.
int set_up_ring(io_uring& ring) {
    const unsigned preferred[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -EINVAL;
    for (const unsigned flags : preferred) {
        io_uring_params params{};
        params.flags = flags | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
        params.cq_entries = completion_entries;
        rc = io_uring_queue_init_params(submission_entries, &ring, &params);
        if (rc != -EINVAL) return rc;
    }
    return rc;
}

}  // namespace

/// One watch(): a poll request on the ring for `fd`, re-armed until unwatch() detaches it.
class uring_reactor::poll_registration final : public ring_completion {
public:
    poll_registration(uring_reactor& owner, int fd, std::uint32_t events, io_watcher& watcher, bool edge) noexcept
        : owner_(owner), fd_(fd), events_(events), watcher_(&watcher), edge_(edge) {}

    int fd() const noexcept { return fd_; }
    std::uint32_t events() const noexcept { return events_; }
    bool edge() const noexcept { return edge_; }
    bool armed() const noexcept { return armed_; }
    void set_armed() noexcept { armed_ = true; }
    /// From now on the watcher hears nothing; the registration dies with its last completion.
    void detach() noexcept { watcher_ = nullptr; }

    void complete(int result, std::uint32_t flags) noexcept override {
        // The watcher may unwatch (even destroy itself) in there: still armed, this registration
        // is then only detached, and freed below.
        if (watcher_ != nullptr) watcher_->on_io_events(result >= 0 ? static_cast<std::uint32_t>(result) : EPOLLERR);
        if ((flags & IORING_CQE_F_MORE) != 0) return;
        armed_ = false;
        if (watcher_ == nullptr) {
            unlink();
            delete this;
        } else if (result >= 0) {
            owner_.arm(*this);  // level-triggered, or a multishot poll the kernel ended: poll again
        }  // an error (the fd is gone): stays unarmed until unwatch()
    }

private:
    uring_reactor& owner_;
    int fd_;
    std::uint32_t events_;
    io_watcher* watcher_;  // null once detached
    bool edge_;
    bool armed_ = false;   // a poll request is in flight (its last completion has not come)
};

uring_reactor::uring_reactor(io_watcher& wake, int wake_fd) {
    if (const int rc = set_up_ring(ring_); rc < 0) throw_uring("io_uring_queue_init", rc);
    // The loop's thread enters the ring by index, without a file lookup per io_uring_enter
    // (kernel >= 5.18); without it, by fd as before.
    (void)io_uring_register_ring_fd(&ring_);
    wake_ = new poll_registration(*this, wake_fd, EPOLLIN, wake, true);
    adopt(*wake_);
    arm(*wake_);
}

uring_reactor::~uring_reactor() {
    io_uring_queue_exit(&ring_);  // the kernel ends every request: no completion is delivered any more
    buffers_.reset();             // after: no request can still be filling one
    while (!owned_.empty()) {
        ring_completion& c = owned_.front();
        c.unlink();
        delete &c;
    }
}

void uring_reactor::quiesce() noexcept {
    io_uring_sqe& sqe = next_sqe();
    io_uring_prep_cancel64(&sqe, 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(&sqe, 0);
    // Bounded: a request the kernel cannot cancel at once is left to the ring's teardown.
    for (int round = 0; round < 100 && in_flight_ > 0; ++round) {
        try {
            wait(10);
        } catch (const error&) {
            return;
        }
    }
}

provided_buffers* uring_reactor::buffers() noexcept {
    if (!buffers_ && !buffers_refused_) {
        try {
            buffers_ = std::make_unique<provided_buffers>(ring_);
        } catch (const std::exception&) {
            buffers_refused_ = true;
        }
    }
    return buffers_.get();
}

io_uring_sqe& uring_reactor::next_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {  // the queue is full: hand it to the kernel now
        io_uring_submit(&ring_);
        sqe = io_uring_get_sqe(&ring_);
    }
    return *sqe;
}

void uring_reactor::submit(ring_completion& c, const io_uring_sqe& request) noexcept {
    io_uring_sqe& sqe = next_sqe();
    sqe = request;
    io_uring_sqe_set_data(&sqe, &c);
    ++in_flight_;
}

void uring_reactor::cancel(ring_completion& c) noexcept {
    io_uring_sqe& sqe = next_sqe();
    io_uring_prep_cancel(&sqe, &c, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(&sqe, 0);  // the cancel's own completion goes nowhere
}

void uring_reactor::cancel_now(ring_completion& c) noexcept {
    cancel(c);
    io_uring_submit(&ring_);
}

void uring_reactor::arm(poll_registration& r) noexcept {
    io_uring_sqe request{};
    if (r.edge())
        io_uring_prep_poll_multishot(&request, r.fd(), r.events());
    else
        io_uring_prep_poll_add(&request, r.fd(), r.events());
    submit(r, request);
    r.set_armed();
}

void uring_reactor::watch(int fd, std::uint32_t events, io_watcher& w, bool edge) {
    if (fd < 0) throw error("event loop (io_uring): watch: invalid fd " + std::to_string(fd));
    if (static_cast<std::size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<std::size_t>(fd) * 2 + 16, nullptr);
    unwatch(fd);  // a registration left by an fd closed without unwatch_closed(): its poll holds the old file
    auto* r = new poll_registration(*this, fd, events, w, edge);
    adopt(*r);
    by_fd_[static_cast<std::size_t>(fd)] = r;
    arm(*r);
}

void uring_reactor::rewatch(int fd, std::uint32_t events, io_watcher& w, bool edge) {
    watch(fd, events, w, edge);  // replaces the registration
}

void uring_reactor::unwatch(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) return;
    poll_registration* r = std::exchange(by_fd_[static_cast<std::size_t>(fd)], nullptr);
    if (r == nullptr) return;
    r->detach();
    if (r->armed()) {
        cancel_now(*r);  // the poll holds the file open: a socket closed next closes now; r is freed at its last completion
    } else {
        r->unlink();
        delete r;
    }
}

bool uring_reactor::busy() const noexcept {
    const std::size_t wake_poll = wake_->armed() ? 1 : 0;
    return in_flight_ > wake_poll || io_uring_sq_ready(&ring_) > 0;
}

void uring_reactor::wait(int timeout_ms) {
    int rc;
    if (timeout_ms == 0) {
        rc = io_uring_submit_and_get_events(&ring_);
    } else if (timeout_ms < 0) {
        rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
        __kernel_timespec timeout{timeout_ms / 1000, static_cast<long long>(timeout_ms % 1000) * 1'000'000};
        io_uring_cqe* first = nullptr;
        rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &timeout, nullptr);
    }
    if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY) throw_uring("io_uring_enter", rc);
    reap();
}

void uring_reactor::reap() {
    constexpr unsigned batch = 64;
    for (;;) {
        io_uring_cqe* cqes[batch];
        const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, batch);
        // Copied out and released first: a completion may submit (and so enter the ring).
        struct copied_cqe {
            std::uint64_t user_data;
            int result;
            std::uint32_t flags;
        } copied[batch];
        for (unsigned i = 0; i < n; ++i) copied[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
        io_uring_cq_advance(&ring_, n);
        for (unsigned i = 0; i < n; ++i) deliver(copied[i].user_data, copied[i].result, copied[i].flags);
        if (n < batch) return;
    }
}

void uring_reactor::deliver(std::uint64_t user_data, int result, std::uint32_t flags) noexcept {
    if (user_data == 0) return;  // a cancel request's own completion
    if ((flags & IORING_CQE_F_MORE) == 0) --in_flight_;
    reinterpret_cast<ring_completion*>(user_data)->complete(result, flags);
}

provided_buffers::provided_buffers(io_uring& ring) {
    const std::size_t entries_bytes = count * sizeof(io_uring_buf);
    void* entries = ::mmap(nullptr, entries_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (entries == MAP_FAILED) throw_uring("mmap (buffer ring)", -errno);
    void* memory = ::mmap(nullptr, std::size_t{count} * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        const int failure = errno;
        ::munmap(entries, entries_bytes);
        throw_uring("mmap (buffers)", -failure);
    }
    entries_ = static_cast<io_uring_buf_ring*>(entries);
    memory_ = static_cast<char*>(memory);
    io_uring_buf_ring_init(entries_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uintptr_t>(entries_);
    registration.ring_entries = count;
    registration.bgid = group;
    if (const int rc = io_uring_register_buf_ring(&ring, &registration, 0); rc < 0) {
        ::munmap(memory_, std::size_t{count} * size);
        ::munmap(entries_, entries_bytes);
        throw_uring("io_uring_register_buf_ring", rc);
    }
    for (unsigned id = 0; id < count; ++id) give_back(id);
}

provided_buffers::~provided_buffers() {  // the ring is gone by now, and its registration with it
    ::munmap(memory_, std::size_t{count} * size);
    ::munmap(entries_, count * sizeof(io_uring_buf));
}

void provided_buffers::give_back(unsigned id) noexcept {
    io_uring_buf_ring_add(entries_, memory_ + static_cast<std::size_t>(id) * size, size, static_cast<unsigned short>(id),
                          io_uring_buf_ring_mask(count), 0);
    io_uring_buf_ring_advance(entries_, 1);
    ++available_;
}

bool ring_operation::await_suspend(std::coroutine_handle<> h) noexcept {
    task_ = current_task;
    if (!task_->suspend(h, this)) {  // cancelled already: nothing was submitted
        cancelled_ = true;
        return false;
    }
    ring_.submit(*this, request_);
    if (deadline_ != clock::time_point::max()) task_->loop().add_timer(*this, deadline_);
    task_->loop().begin_external_work();
    return true;
}

void ring_operation::complete(int result, std::uint32_t) noexcept {
    result_ = result;
    task_->loop().remove_timer(*this);
    task_->loop().end_external_work();
    task_->wake();
}

void ring_operation::on_cancel() noexcept {
    cancelled_ = true;
    task_->loop().remove_timer(*this);
    ring_.cancel(*this);  // the task wakes when the request has ended
}

void ring_operation::on_deadline(timer_node& node) noexcept {
    auto& self = static_cast<ring_operation&>(node);
    self.expired_ = true;
    self.ring_.cancel(self);
}

}  // namespace corio::detail
