// run_threads and what several loops share: the process's signal handlers and cross-thread
// posts. These tests also run in the ThreadSanitizer build (./run.sh tsan).
#include <gtest/gtest.h>

#include <corio/corio.hpp>
#include <corio/run_threads.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

TEST(run_threads, runs_one_loop_per_thread_and_rethrows_the_first_error) {
    std::mutex mutex;
    std::set<std::thread::id> threads;
    std::set<int> indices;
    corio::run_threads(4, [&](int index) -> corio::task<> {
        co_await corio::sleep(1ms);
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        indices.insert(index);
    });
    EXPECT_EQ(threads.size(), 4u);
    EXPECT_EQ(indices, (std::set<int>{0, 1, 2, 3}));
    std::atomic<int> finished{0};
    EXPECT_THROW(corio::run_threads(3,
                                    [&finished](int index) -> corio::task<> {
                                        co_await corio::sleep(std::chrono::milliseconds(10 * index));
                                        finished.fetch_add(1);
                                        if (index == 0) throw std::runtime_error("loop 0 failed");
                                    }),
                 std::runtime_error);
    EXPECT_EQ(finished.load(), 3);  // the others ran to their end first
}

std::atomic<int> sentinel_signals{0};
extern "C" void sentinel_handler(int) { sentinel_signals.fetch_add(1); }

/// The handler currently installed for `signo`.
void (*installed_handler(int signo))(int) {
    struct sigaction current {};
    ::sigaction(signo, nullptr, &current);
    return current.sa_handler;
}

TEST(run_threads, loops_starting_and_ending_at_once_restore_the_signal_handlers) {
    struct sigaction sentinel {}, saved_int{}, saved_term{};
    sentinel.sa_handler = sentinel_handler;
    sigemptyset(&sentinel.sa_mask);
    ::sigaction(SIGINT, &sentinel, &saved_int);
    ::sigaction(SIGTERM, &sentinel, &saved_term);
    // Two loops claiming signals at once could both install corio's handler, one saving the
    // other's as "previous" and putting it back at the end: Ctrl-C swallowed for good.
    for (int round = 0; round < 300; ++round)
        corio::run_threads(8, [](int) -> corio::task<> { co_return; });
    EXPECT_EQ(installed_handler(SIGINT), &sentinel_handler);
    EXPECT_EQ(installed_handler(SIGTERM), &sentinel_handler);
    std::raise(SIGINT);
    EXPECT_EQ(sentinel_signals.load(), 1);
    ::sigaction(SIGINT, &saved_int, nullptr);
    ::sigaction(SIGTERM, &saved_term, nullptr);
}

TEST(run_threads, one_loop_owns_the_signals) {
    std::atomic<int> cancelled{0};
    std::atomic<int> started{0};
    // Once every loop runs (so one of them has claimed the signals), SIGINT the process.
    std::thread raiser([&started] {
        while (started.load() < 4) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(20ms);
        ::kill(::getpid(), SIGINT);
    });
    EXPECT_THROW(corio::run_threads(4,
                                    [&](int) -> corio::task<> {
                                        started.fetch_add(1);
                                        try {
                                            co_await corio::sleep(500ms);
                                        } catch (const corio::cancelled_error&) {
                                            cancelled.fetch_add(1);
                                            throw;
                                        }
                                    }),
                 corio::cancelled_error);
    raiser.join();
    EXPECT_EQ(cancelled.load(), 1);  // only the owner's main task was cancelled
}

TEST(loop_handle, posts_from_many_threads_all_run_on_the_loop) {
    constexpr int posters = 8, posts_each = 2000;
    std::size_t ran = 0;  // touched on the loop thread only
    corio::run(corio::invoke([&ran]() -> corio::task<> {
        const corio::loop_handle loop = corio::event_loop::current()->handle();
        const auto loop_thread = std::this_thread::get_id();
        std::atomic<int> wrong_thread{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < posters; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < posts_each; ++i)
                    loop.post([&] {
                        if (std::this_thread::get_id() != loop_thread) wrong_thread.fetch_add(1);
                        ++ran;
                    });
            });
        while (ran < static_cast<std::size_t>(posters * posts_each)) co_await corio::sleep(1ms);
        for (auto& t : threads) t.join();
        EXPECT_EQ(wrong_thread.load(), 0);
    }));
    EXPECT_EQ(ran, static_cast<std::size_t>(posters * posts_each));
}

}  // namespace
