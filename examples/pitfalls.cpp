// The classic C++ coroutine mistakes, each as the line that breaks (BAD, in a comment: it
// compiles) and the form corio makes safe (GOOD, run here). The README's "Pitfalls" section is
// copied from the regions between snippet markers.
#include <corio/corio.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;

corio::task<std::size_t> upload(std::string name) {
    co_await corio::sleep(1ms);
    co_return name.size();
}

corio::task<bool> capturing_lambdas() {
    const std::string name = "report.csv";
    std::size_t sent = 0;
    // [snippet lambda]
    // BAD: the lambda is called in place; its closure (holding the captures) is a temporary
    // that dies at the `;`, while the child still runs and reads `name` and `sent` through it.
    //     tg.spawn([&]() -> corio::task<> { sent += co_await upload(name); }());
    // GOOD: pass the lambda itself. spawn keeps it (and its captures) alive until the child ends.
    co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
        tg.spawn([&]() -> corio::task<> { sent += co_await upload(name); });
        tg.spawn([&sent](std::string other) -> corio::task<> { sent += co_await upload(other); }, "b.csv");
        co_return;
    });
    // [end snippet]
    co_return sent == name.size() + 5;
}

// [snippet reference_parameter]
// BAD: a coroutine keeps references, not copies: `spawn(count_words(line + "\n"))` hands it a
// temporary that dies at the `;`, before the task reads it.
//     corio::task<std::size_t> count_words(const std::string& text);
// GOOD: a coroutine that may outlive its caller's statement takes its inputs by value.
corio::task<std::size_t> count_words(std::string text) {
    co_await corio::sleep(1ms);
    co_return static_cast<std::size_t>(std::count(text.begin(), text.end(), ' ')) + 1;
}
// [end snippet]

corio::task<bool> reference_parameters() {
    const std::string line = "three short words";
    auto counting = corio::spawn(count_words(line + "\n"));
    co_return co_await counting == 3;
}

corio::task<bool> blocking_calls() {
    // [snippet to_thread]
    // BAD: std::this_thread::sleep_for(50ms), or any blocking call, stalls every task on the loop.
    // GOOD: blocking work goes to a worker thread. If the await is cancelled, to_thread waits for
    // a job that has started, so the job may use this frame's locals by reference.
    std::string report;
    co_await corio::to_thread([&report] {
        std::this_thread::sleep_for(5ms);  // a blocking library call
        report = "computed";
    });
    // to_thread(corio::abandon_on_cancel, fn) returns at once when cancelled and leaves the job
    // running alone: only for a job that owns everything it touches (captures by value).
    // [end snippet]
    co_return report == "computed";
}

corio::task<bool> queue_items() {
    corio::queue<std::string> jobs(1);
    // [snippet queue]
    // GOOD: push takes the item by value, so a push that waits in a spawned task owns it:
    auto pushing = corio::spawn(jobs.push(std::string("job-1")));  // safe: the item moved in
    std::string next = "job-2";
    // push_from(next) refers to a named object and moves from it only when accepted: if the
    // push is cancelled or times out, `next` is left intact to retry.
    auto pushing_next = corio::spawn(jobs.push_from(next));
    // [end snippet]
    const std::string first = co_await jobs.pop();
    co_await pushing;
    const std::string second = co_await jobs.pop();
    co_await pushing_next;
    co_return first == "job-1" && second == "job-2";
}

corio::task<bool> swallowed_cancellation() {
    auto worker = corio::spawn([]() -> corio::task<> {
        // [snippet catch_all]
        // BAD: `catch (...) {}` around an await also eats the cancellation of this task.
        // GOOD: catch what you handle. corio::cancelled_error is not a std::exception, so
        // `catch (const std::exception&)` lets it through.
        try {
            co_await corio::sleep(1h);
        } catch (const std::exception& e) {
            std::printf("handled: %s\n", e.what());
        }
        // [end snippet]
    });
    co_await corio::sleep(1ms);
    worker.cancel();
    try {
        co_await worker;
    } catch (const corio::cancelled_error&) {
        co_return true;
    }
    co_return false;
}

corio::task<bool> option_structs() {
    int attempts = 0;
    // [snippet named_options]
    // BAD on g++ 12 (fine on clang): an option struct holding a std::function or std::string,
    // written inline inside a co_await, is copied bitwise and freed twice:
    //     co_await corio::retry({.max_attempts = 5, .retry_if = is_busy}, op);
    // GOOD: name it in a statement of its own first.
    corio::retry_policy policy{.max_attempts = 5, .initial_delay = 1ms};
    const int value = co_await corio::retry(policy, [&]() -> corio::task<int> {
        if (++attempts < 3) throw corio::connection_error("busy");
        co_return attempts;
    });
    // [end snippet]
    co_return value == 3;
}

corio::task<int> pitfalls() {
    const bool ok = co_await capturing_lambdas() && co_await reference_parameters() &&
                    co_await blocking_calls() && co_await queue_items() &&
                    co_await swallowed_cancellation() && co_await option_structs();
    std::printf("pitfalls: %s\n", ok ? "every GOOD form works" : "FAILED");
    co_return ok ? 0 : 1;
}

int main() { return corio::run(pitfalls()); }
