// Combinators: gather in its three forms, wait_any, as_completed, retry, and run_threads (one
// loop per thread). The regions between snippet markers are the examples the headers in
// include/corio/ show (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// A stand-in for a network call: slow for "/slow", failing for "/down".
corio::task<std::string> fetch(std::string path) {
    co_await corio::sleep(path == "/slow" ? 50ms : 5ms);
    if (path == "/down") throw corio::connection_error(path + ": connection refused");
    co_return "data from " + path;
}

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> gather_example() {
    std::vector<corio::task<std::string>> calls;
    calls.push_back(fetch("/a"));
    calls.push_back(fetch("/b"));
    // [snippet gather]
    auto [a, b] = co_await corio::gather(fetch("/a"), fetch("/b"));          // fail-fast; a tuple
    std::vector<std::string> all = co_await corio::gather(std::move(calls));  // fail-fast; in input order
    auto [ok, down] = co_await corio::gather_settled(fetch("/a"), fetch("/down"));  // an outcome<T> each
    // [end snippet]
    check(a == "data from /a" && b == "data from /b" && all.size() == 2, "gather: values in input order");
    check(ok.has_value() && !down.has_value(), "gather_settled: one outcome per operation");
}

corio::task<> wait_any_example() {
    std::vector<corio::task<std::string>> mirrors;
    mirrors.push_back(fetch("/slow"));
    mirrors.push_back(fetch("/b"));
    // [snippet wait_any]
    auto first = co_await corio::wait_any(fetch("/slow"), fetch("/a"));  // the other one is cancelled
    std::printf("operation %zu finished first\n", first.index());      // std::get<I>(first): its value
    auto [index, value] = co_await corio::wait_any(std::move(mirrors));  // same-typed tasks
    // [end snippet]
    check(first.index() == 1 && std::get<1>(first) == "data from /a", "wait_any: the first to finish");
    check(index == 1 && value == "data from /b", "wait_any over a vector: its index and value");
}

corio::task<> as_completed_example() {
    std::vector<corio::task<std::string>> calls;
    calls.push_back(fetch("/slow"));
    calls.push_back(fetch("/down"));
    calls.push_back(fetch("/a"));
    std::vector<std::string> finished;
    // [snippet as_completed]
    auto results = corio::as_completed(std::move(calls));
    while (auto o = co_await results.next()) {  // outcome<T>s in the order the tasks finish
        if (o->has_value()) finished.push_back(o->value());
        else std::printf("failed: %s\n", corio::describe(o->error()).c_str());
    }
    // [end snippet]
    check(finished == std::vector<std::string>{"data from /a", "data from /slow"}, "as_completed: completion order");
}

// Fails twice, then answers: a service that is briefly unreachable.
corio::task<std::string> get_status(int& attempts) {
    co_await corio::sleep(1ms);
    if (++attempts < 3) throw corio::connection_error("/status: connection reset");
    co_return "up";
}

corio::task<> retry_example() {
    int attempts = 0;
    // [snippet retry]
    corio::retry_policy policy{.max_attempts = 5, .initial_delay = 10ms, .attempt_timeout = 2s};
    auto reply = co_await corio::retry(policy, [&] { return get_status(attempts); });
    // [end snippet]
    check(reply == "up" && attempts == 3, "retry: two transient failures, then the answer");
}

// One shard of a thread-per-core program: its own loop, its own state.
corio::task<> serve_shard(int index, std::atomic<int>& shards_done) {
    co_await corio::sleep(std::chrono::milliseconds(5 * (index + 1)));
    ++shards_done;
}

corio::task<> combinators() {
    co_await gather_example();
    co_await wait_any_example();
    co_await as_completed_example();
    co_await retry_example();
}

int main() {
    corio::run(combinators());
    // [snippet run_threads]
    std::atomic<int> shards_done{0};
    corio::run_threads(2, [&](int index) { return serve_shard(index, shards_done); });
    // [end snippet]
    check(shards_done == 2, "run_threads: every loop ran its shard");
}
