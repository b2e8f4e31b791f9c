// corio/detail/thread_pool.hpp — the bounded pool of worker threads behind corio::to_thread.
//
// Jobs run in FIFO order on at most max_workers() threads. Threads are started lazily, one when a
// job is queued and no idle worker is left to take it; idle workers then linger, waiting for the
// next job (like asyncio's default executor).
//
// Shutdown (the destructor; for shared(), at process exit during static destruction): jobs still
// queued are discarded (destroyed without running), jobs already running are waited for, then
// every worker is joined. A job that never returns therefore blocks process exit; a job running
// at exit must not use static objects constructed after the pool (i.e. after the first
// to_thread call).
//
// Thread-safety: submit() may be called from any thread. Throws: submit() throws
// std::system_error if a worker thread cannot be started (then nothing was queued).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace corio::detail {

/// A unit of work for the pool.
class pool_job {
public:
    /// Called at most once, on a worker thread.
    virtual void run() noexcept = 0;

protected:
    ~pool_job() = default;
};

class thread_pool {
public:
    explicit thread_pool(std::size_t max_workers);
    ~thread_pool();
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// The process-wide pool used by to_thread: max(4, hardware_concurrency + 4) workers.
    static thread_pool& shared();

    /// Queues a job; it runs on a worker as soon as one is free.
    void submit(std::shared_ptr<pool_job> job);

    std::size_t max_workers() const noexcept { return max_workers_; }
    /// How many worker threads have been started so far.
    std::size_t workers() const;

private:
    void work() noexcept;

    const std::size_t max_workers_;  // invariant: >= 1
    mutable std::mutex mutex_;
    std::condition_variable wakeup_;                 // signalled when a job is queued or on stop
    std::deque<std::shared_ptr<pool_job>> queue_;    // guarded by mutex_; jobs not yet taken
    std::vector<std::thread> threads_;               // guarded by mutex_; size() <= max_workers_
    std::size_t waiting_ = 0;  // guarded by mutex_: workers blocked in wakeup_.wait. A new thread
                               // is started when queue_.size() exceeds it (nobody idle to take
                               // the new job) and the limit allows.
    bool stopping_ = false;    // guarded by mutex_; set once, by the destructor
};

}  // namespace corio::detail
