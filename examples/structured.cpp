// Structured concurrency and lifecycles: task_group, task_set, cancellation with cleanup.
#include <corio/corio.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

corio::task<int> download(std::string name, std::chrono::milliseconds takes, bool fails = false) {
    co_await corio::sleep(takes);
    if (fails) throw corio::connection_error(name + ": connection reset");
    co_return static_cast<int>(name.size());
}

corio::task<bool> task_group_example() {
    // [snippet task_group]
    // Like asyncio.TaskGroup: no child outlives the block; the first error cancels the rest.
    try {
        // [snippet with_task_group]
        co_await corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
            tg.spawn(download("a.txt", 50ms));
            tg.spawn(download("b.txt", 10ms, /*fails=*/true));
            tg.spawn(download("huge.iso", 1h));  // cancelled when b.txt fails
            co_return;
        });
        // [end snippet]
    } catch (const corio::exception_group& errors) {
        std::printf("%s\n", errors.what());  // 1 error in task group: [1] b.txt: connection reset
    }
    // [end snippet]
    co_return true;
}

// [snippet cleanup]
corio::task<> worker(int& saved) {
    std::exception_ptr cancelled;
    try {
        for (;;) co_await corio::sleep(10ms);  // the work
    } catch (const corio::cancelled_error&) {  // not a std::exception: catch (std::exception&) can't eat it
        cancelled = std::current_exception();
    }
    // C++ forbids co_await inside a catch block, so clean up here: shielded, and bounded.
    co_await corio::uncancellable(corio::wait_for(corio::sleep(5ms), 1s));
    saved = 1;
    std::rethrow_exception(cancelled);  // cleanup done; cancellation propagates
}
// [end snippet]

corio::task<bool> cancellation_example() {
    int saved = 0;
    // [snippet cancel]
    auto job = corio::spawn(worker(saved), "worker");
    co_await corio::sleep(35ms);
    job.cancel();  // its next (or current) suspension point throws corio::cancelled_error
    try {
        co_await job;
    } catch (const corio::cancelled_error&) {
        std::printf("worker cancelled: %s\n", job.cancelled() ? "yes" : "no");
    }
    // [end snippet]
    co_return saved == 1 && job.cancelled();
}

corio::task<bool> owning_spawn_example() {
    // [snippet owning_spawn]
    int total = 0;
    const std::string base = "page-";
    // Pass the lambda itself (no call parentheses): spawn keeps it, and its captures, alive.
    auto counting = corio::spawn([&total, base](int pages) -> corio::task<> {
        for (int page = 1; page <= pages; ++page) total += co_await download(base + std::to_string(page), 1ms);
    }, 3);
    co_await counting;
    // [end snippet]
    co_return total == 18;
}

corio::task<bool> task_set_example() {
    // [snippet task_set]
    corio::task_set background;  // errors go to a handler (default: logged with the task's name)
    background.spawn(download("refresh-cache", 20ms), "refresh-cache");
    background.spawn(corio::sleep(1h), "poller");
    co_await corio::sleep(30ms);
    // Cancel everything, give cleanup up to 1 s, and learn who did not finish.
    std::vector<std::string> stuck = co_await background.shutdown(1s);
    std::printf("shutdown: %zu tasks still running\n", stuck.size());
    // [end snippet]
    co_return stuck.empty();
}

corio::task<int> structured() {
    const bool ok = co_await task_group_example() && co_await cancellation_example() &&
                    co_await owning_spawn_example() && co_await task_set_example();
    co_return ok ? 0 : 1;
}

int main() { return corio::run(structured()); }
