#include "corio/detail/thread_pool.hpp"

#include <algorithm>
#include <utility>

#include "corio/error.hpp"

namespace corio::detail {

thread_pool::thread_pool(std::size_t max_workers)
    : max_workers_(std::max<std::size_t>(max_workers, 1)) {}

thread_pool::~thread_pool() {
    std::deque<std::shared_ptr<pool_job>> discarded;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        discarded.swap(queue_);
        threads.swap(threads_);
    }
    wakeup_.notify_all();
    discarded.clear();  // outside the lock: a job's destructor may do anything
    for (std::thread& t : threads) {
        // exit() called from inside a job runs this destructor on a worker: it cannot join itself.
        if (t.get_id() == std::this_thread::get_id())
            t.detach();
        else
            t.join();
    }
}

thread_pool& thread_pool::shared() {
    static thread_pool pool(std::max(4u, std::thread::hardware_concurrency() + 4u));
    return pool;
}

void thread_pool::submit(std::shared_ptr<pool_job> job) {
    std::lock_guard lock(mutex_);
    if (stopping_) throw error("corio::to_thread: the thread pool has shut down");
    if (queue_.size() >= waiting_ && threads_.size() < max_workers_)
        threads_.emplace_back([this] { work(); });
    queue_.push_back(std::move(job));
    wakeup_.notify_one();
}

std::size_t thread_pool::workers() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

void thread_pool::work() noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (!queue_.empty()) {
            std::shared_ptr<pool_job> job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            job->run();
            job.reset();  // may destroy the job: not under the lock
            lock.lock();
        } else if (stopping_) {
            return;
        } else {
            ++waiting_;
            wakeup_.wait(lock);
            --waiting_;
        }
    }
}

}  // namespace corio::detail
