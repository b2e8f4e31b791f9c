// to_thread, the worker pool and post(): results, errors, concurrency, cancellation, virtual time,
// loop teardown, process exit.
#include <gtest/gtest.h>

#include <corio/post.hpp>
#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/spawn.hpp>
#include <corio/to_thread.hpp>
#include <corio/wait_for.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr auto patience = 10s;  // real time a blocked helper waits before giving up (a failure)

/// A one-shot signal between threads; wait() gives up after `patience` and then returns false.
class gate {
public:
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    bool is_open() const {
        std::lock_guard lock(mutex_);
        return open_;
    }
    bool wait() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, patience, [this] { return open_; });
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

/// `count` threads meet: arrive_and_wait() returns true once all have arrived (false after
/// `patience`). Proves that `count` jobs run at the same time.
class rendezvous {
public:
    explicit rendezvous(std::size_t count) : count_(count) {}
    bool arrive_and_wait() {
        std::unique_lock lock(mutex_);
        ++arrived_;
        cv_.notify_all();
        return cv_.wait_for(lock, patience, [this] { return arrived_ >= count_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t arrived_ = 0;
    const std::size_t count_;
};

std::size_t pool_size() { return corio::detail::thread_pool::shared().max_workers(); }

/// Occupies every pool worker at once, so each has finished whatever it took before.
corio::task<> drain_pool() {
    rendezvous all(pool_size());
    std::vector<corio::join_handle<bool>> jobs;
    for (std::size_t i = 0; i < pool_size(); ++i)
        jobs.push_back(corio::spawn(corio::to_thread([&all] { return all.arrive_and_wait(); })));
    for (auto& j : jobs) EXPECT_TRUE(co_await j);
}

/// Yields until pred() holds (or `patience` of real time has passed).
template <class Pred>
corio::task<> spin_until(Pred pred) {
    const auto give_up = corio::clock::steady_now() + patience;
    while (!pred() && corio::clock::steady_now() < give_up) co_await corio::yield();
    EXPECT_TRUE(pred());
}

/// Runs `on_timeout` on the loop if still armed after 30s of real time: turns a hang (virtual time
/// frozen by leaked external work) into a test failure.
class watchdog {
public:
    watchdog(corio::loop_handle loop, std::function<void()> on_timeout)
        : action_(std::make_shared<std::function<void()>>(std::move(on_timeout))),
          thread_([this, loop] {
              std::unique_lock lock(mutex_);
              if (cv_.wait_for(lock, 30s, [this] { return disarmed_; })) return;
              corio::post(loop, [action = action_] {
                  if (*action) (*action)();
              });
          }) {}
    ~watchdog() {
        {
            std::lock_guard lock(mutex_);
            disarmed_ = true;
        }
        cv_.notify_one();
        thread_.join();
        *action_ = nullptr;  // on the loop thread, like the posted call that may still be queued
    }

private:
    std::shared_ptr<std::function<void()>> action_;  // touched on the loop thread only
    std::mutex mutex_;
    std::condition_variable cv_;
    bool disarmed_ = false;
    std::thread thread_;  // last: starts after the fields above exist
};

/// Runs body under virtual time; a watchdog cancels it (failing the test) if it hangs.
void run_virtual(corio::task<> body) {
    corio::run(corio::invoke(
                   [](corio::task<> body) -> corio::task<> {
                       auto h = corio::spawn(std::move(body), "body");
                       watchdog dog(corio::current_loop_handle(), [&h] { h.cancel(); });
                       co_await h;
                   },
                   std::move(body)),
               {.virtual_time = true});
}

TEST(to_thread, returns_the_value_computed_on_a_worker) {
    corio::run([]() -> corio::task<> {
        const auto loop_thread = std::this_thread::get_id();
        const auto [sum, worker] = co_await corio::to_thread(
            [](int a, int b) { return std::pair(a + b, std::this_thread::get_id()); }, 2, 3);
        EXPECT_EQ(sum, 5);
        EXPECT_NE(worker, loop_thread);
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);  // resumed on its own loop
    }());
}

TEST(to_thread, void_result_and_side_effects_are_visible_after_the_await) {
    corio::run([]() -> corio::task<> {
        int written = 0;
        co_await corio::to_thread([&written] { written = 42; });
        EXPECT_EQ(written, 42);
    }());
}

TEST(to_thread, exceptions_cross_back_unchanged) {
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::to_thread([]() -> int { throw std::runtime_error("disk on fire"); });
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "disk on fire");
        }
        EXPECT_THROW(co_await corio::to_thread([] { throw 7; }), int);
        // The loop is fine afterwards.
        EXPECT_EQ(co_await corio::to_thread([] { return 1; }), 1);
    }());
}

TEST(to_thread, callable_and_arguments_are_decay_copied_at_the_call) {
    corio::run([]() -> corio::task<> {
        std::string s = "before";
        auto pending = corio::to_thread([](std::string v) { return v + "!"; }, s);
        s = "after";
        EXPECT_EQ(co_await std::move(pending), "before!");

        // An argument whose original dies before the await: the job has its own copy.
        auto dangling_if_referenced = [] {
            std::string local = "local";
            return corio::to_thread([](const std::string& v) { return v.size(); }, local);
        }();
        EXPECT_EQ(co_await std::move(dangling_if_referenced), 5u);

        struct counter {
            int calls = 0;
            int operator()() { return ++calls; }
        };
        counter c;
        EXPECT_EQ(co_await corio::to_thread(c), 1);
        EXPECT_EQ(co_await corio::to_thread(c), 1);  // each job counts on its own copy
        EXPECT_EQ(c.calls, 0);
    }());
}

TEST(to_thread, move_only_arguments_and_results) {
    corio::run([]() -> corio::task<> {
        auto p = std::make_unique<int>(20);
        auto q = co_await corio::to_thread(
            [](std::unique_ptr<int> v) {
                *v += 1;
                return v;
            },
            std::move(p));
        EXPECT_EQ(q != nullptr ? *q : 0, 21);
    }());
}

TEST(to_thread, the_loop_runs_other_tasks_while_a_job_blocks) {
    corio::run([]() -> corio::task<> {
        gate released;
        int ticks = 0;
        auto ticker = [](gate& g, int& n) -> corio::task<> {
            for (; n < 3; ++n) co_await corio::yield();
            g.open();
        };
        auto h = corio::spawn(ticker(released, ticks));
        // Only the ticker, on the loop, can release the job: this needs the loop to keep going.
        EXPECT_TRUE(co_await corio::to_thread([&released] { return released.wait(); }));
        EXPECT_EQ(ticks, 3);
        co_await h;
    }());
}

TEST(to_thread, pool_runs_max_workers_jobs_at_once) {
    EXPECT_GE(pool_size(), 4u);
    EXPECT_GE(pool_size(), std::thread::hardware_concurrency() + 4u);
    corio::run(drain_pool());  // a rendezvous of pool_size() jobs: all run at the same time
    EXPECT_EQ(corio::detail::thread_pool::shared().workers(), pool_size());
}

TEST(to_thread, more_jobs_than_workers_all_complete) {
    corio::run([]() -> corio::task<> {
        const std::size_t count = 4 * pool_size() + 3;
        std::vector<corio::join_handle<std::size_t>> jobs;
        for (std::size_t i = 0; i < count; ++i)
            jobs.push_back(corio::spawn(corio::to_thread([](std::size_t v) { return v * v; }, i)));
        std::size_t sum = 0;
        for (auto& j : jobs) sum += co_await j;
        EXPECT_EQ(sum, (count - 1) * count * (2 * count - 1) / 6);
        EXPECT_LE(corio::detail::thread_pool::shared().workers(), pool_size());
    }());
}

TEST(to_thread, a_cancelled_await_waits_for_its_running_job) {
    run_virtual([]() -> corio::task<> {
        gate started, release;
        bool job_done_before_return = false;
        auto waiter = [](gate& s, gate& r, bool& done_first) -> corio::task<> {
            int local = 0;  // the job uses the awaiting frame's local by reference: safe
            try {
                co_await corio::to_thread([&s, &r, &local] {
                    s.open();
                    r.wait();
                    local = 42;
                });
            } catch (const corio::cancelled_error&) {
                done_first = local == 42;  // the job had finished before the await gave up
                throw;
            }
        };
        auto h = corio::spawn(waiter(started, release, job_done_before_return));
        co_await spin_until([&] { return started.is_open(); });
        h.cancel();
        co_await corio::yield();
        EXPECT_FALSE(h.done());  // still waiting for the running job
        release.open();
        EXPECT_THROW(co_await h, corio::cancelled_error);  // cancellation is not lost
        EXPECT_TRUE(h.cancelled());
        EXPECT_TRUE(job_done_before_return);
    }());
}

TEST(to_thread, abandon_on_cancel_returns_at_once_and_the_running_job_finishes_later) {
    run_virtual([]() -> corio::task<> {
        gate started, release;
        std::atomic<bool> finished{false};
        auto waiter = [](gate& s, gate& r, std::atomic<bool>& f) -> corio::task<> {
            co_await corio::to_thread(corio::abandon_on_cancel, [&s, &r, &f] {
                s.open();
                r.wait();
                f = true;
            });
        };
        auto h = corio::spawn(waiter(started, release, finished));
        co_await spin_until([&] { return started.is_open(); });
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_TRUE(h.cancelled());
        EXPECT_FALSE(finished);  // the await gave up while the job still runs
        release.open();
        // The discarded completion still reaches the loop and releases virtual time.
        const auto t0 = corio::clock::now();
        co_await corio::sleep(1h);
        EXPECT_TRUE(finished);
        EXPECT_GE(corio::clock::now() - t0, 1h);
    }());
}

TEST(to_thread, cancelled_job_that_has_not_started_is_skipped) {
    run_virtual([]() -> corio::task<> {
        gate release;
        std::atomic<bool> ran{false};
        std::vector<corio::join_handle<bool>> blockers;  // one per worker: the next job must queue
        auto block = [&release] { return release.wait(); };
        for (std::size_t i = 0; i < pool_size(); ++i)
            blockers.push_back(corio::spawn(corio::to_thread(block)));
        auto skipped = corio::spawn(corio::to_thread([&ran] { ran = true; }));
        co_await corio::yield();  // every job above is submitted
        skipped.cancel();
        EXPECT_THROW(co_await skipped, corio::cancelled_error);
        release.open();
        for (auto& b : blockers) EXPECT_TRUE(co_await b);
        co_await drain_pool();  // every worker is past the skipped job
        EXPECT_FALSE(ran);
        const auto t0 = corio::clock::now();
        co_await corio::sleep(1h);  // the skipped job holds no virtual time
        EXPECT_EQ(corio::clock::now() - t0, 1h);
    }());
}

TEST(to_thread, awaiting_with_cancellation_pending_submits_nothing) {
    run_virtual([]() -> corio::task<> {
        std::atomic<bool> ran{false};
        auto child = [](std::atomic<bool>& r) -> corio::task<> {
            corio::detail::current_task->cancel();
            co_await corio::to_thread([&r] { r = true; });
        };
        auto h = corio::spawn(child(ran));
        EXPECT_THROW(co_await h, corio::cancelled_error);
        co_await drain_pool();
        EXPECT_FALSE(ran);
        const auto t0 = corio::clock::now();
        co_await corio::sleep(1h);
        EXPECT_EQ(corio::clock::now() - t0, 1h);
    }());
}

TEST(to_thread, virtual_time_does_not_jump_past_a_job_in_flight) {
    run_virtual([]() -> corio::task<> {
        bool sleeper_woke = false;
        auto sleeper = [](bool& woke) -> corio::task<> {
            co_await corio::sleep(1h);
            woke = true;
        };
        auto s = corio::spawn(sleeper(sleeper_woke));
        const auto t0 = corio::clock::now();
        const int v = co_await corio::wait_for(corio::to_thread([] {
                                                   std::this_thread::sleep_for(50ms);
                                                   return 7;
                                               }),
                                               10s);
        EXPECT_EQ(v, 7);  // no timeout: the clock only moved by the real time spent waiting
        EXPECT_LT(corio::clock::now() - t0, 10s);
        EXPECT_FALSE(sleeper_woke);
        co_await s;  // with the job done, virtual time jumps again
        EXPECT_TRUE(sleeper_woke);
        EXPECT_GE(corio::clock::now() - t0, 1h);
    }());
}

TEST(to_thread, a_job_outliving_its_loop_is_dropped_safely) {
    gate started, release;
    corio::run(corio::invoke([&started, &release]() -> corio::task<> {
        auto background = corio::invoke([&started, &release]() -> corio::task<> {
            co_await corio::to_thread(corio::abandon_on_cancel, [&started, &release] {
                started.open();
                release.wait();
                return std::make_unique<int>(1);  // discarded with the job: no leak
            });
        });
        corio::spawn(std::move(background), "background");
        EXPECT_TRUE(co_await corio::to_thread([&started] { return started.wait(); }));
        // run() now cancels the background task and ends the loop while its job still runs.
    }));
    release.open();  // the job returns and posts to a closed loop
    corio::run(drain_pool());
}

TEST(to_thread, process_exit_waits_for_a_running_job) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            static gate started;
            corio::run([]() -> corio::task<> {
                auto background = []() -> corio::task<> {
                    co_await corio::to_thread([] {
                        started.open();
                        std::this_thread::sleep_for(100ms);
                        std::fputs("job finished\n", stderr);
                    });
                };
                corio::spawn(background(), "background");
                co_await spin_until([] { return started.is_open(); });
                // run() now abandons the awaiter of the running job.
            }());
            std::exit(0);  // the pool's static destructor waits for the job
        },
        testing::ExitedWithCode(0), "job finished");
}

// ---- the pool itself ----

struct test_job final : corio::detail::pool_job {
    explicit test_job(std::function<void()> fn, std::atomic<int>* destroyed = nullptr)
        : body(std::move(fn)), destroyed_count(destroyed) {}
    ~test_job() {
        if (destroyed_count != nullptr) ++*destroyed_count;
    }
    void run() noexcept override { body(); }

    std::function<void()> body;
    std::atomic<int>* destroyed_count;
};

TEST(thread_pool, starts_workers_lazily_up_to_its_limit) {
    gate release;
    std::atomic<int> done{0};
    {
        corio::detail::thread_pool pool(2);
        EXPECT_EQ(pool.max_workers(), 2u);
        EXPECT_EQ(pool.workers(), 0u);
        pool.submit(std::make_shared<test_job>([&] {
            release.wait();
            ++done;
        }));
        EXPECT_EQ(pool.workers(), 1u);
        for (int i = 0; i < 4; ++i) {
            pool.submit(std::make_shared<test_job>([&] {
                release.wait();
                ++done;
            }));
        }
        EXPECT_EQ(pool.workers(), 2u);
        release.open();
        const auto give_up = std::chrono::steady_clock::now() + patience;
        while (done < 5 && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(done, 5);
}

TEST(thread_pool, shutdown_waits_for_running_jobs_and_discards_queued_ones) {
    std::atomic<int> destroyed{0};
    std::atomic<bool> first_finished{false}, second_ran{false};
    gate started;
    auto pool = std::make_unique<corio::detail::thread_pool>(1);
    pool->submit(std::make_shared<test_job>(
        [&] {
            started.open();
            // Hold on until shutdown has discarded the queued job (or give up).
            const auto give_up = std::chrono::steady_clock::now() + patience;
            while (destroyed == 0 && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(1ms);
            first_finished = true;
        },
        &destroyed));
    pool->submit(std::make_shared<test_job>([&] { second_ran = true; }, &destroyed));
    ASSERT_TRUE(started.wait());
    pool.reset();  // returns only after the running job did
    EXPECT_TRUE(first_finished);
    EXPECT_FALSE(second_ran);
    EXPECT_EQ(destroyed, 2);
}

// ---- post ----

TEST(post, runs_the_function_on_the_loop_thread) {
    corio::run([]() -> corio::task<> {
        bool ran = false;
        std::thread::id ran_on;
        bool accepted = false;
        auto loop = corio::current_loop_handle();
        std::thread poster([loop, r = &ran, on = &ran_on, &accepted] {
            accepted = corio::post(loop, [r, on] {
                *on = std::this_thread::get_id();
                *r = true;
            });
        });
        co_await spin_until([&] { return ran; });
        poster.join();
        EXPECT_TRUE(accepted);
        EXPECT_EQ(ran_on, std::this_thread::get_id());
    }());
}

TEST(post, after_the_loop_has_ended_returns_false) {
    corio::loop_handle loop;
    corio::run(corio::invoke([&loop]() -> corio::task<> {
        loop = corio::current_loop_handle();
        EXPECT_TRUE(loop);
        co_return;
    }));
    bool ran = false;
    EXPECT_FALSE(corio::post(loop, [&ran] { ran = true; }));
    bool accepted = true;
    std::thread([&] { accepted = corio::post(loop, [&ran] { ran = true; }); }).join();
    EXPECT_FALSE(accepted);
    EXPECT_FALSE(ran);
    EXPECT_FALSE(corio::post(corio::loop_handle{}, [] {}));
}

TEST(post, current_loop_handle_outside_a_loop_throws) {
    EXPECT_THROW(corio::current_loop_handle(), corio::error);
}

}  // namespace
