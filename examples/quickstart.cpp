// Quick start: a bounded call, concurrent calls, and error mapping (the seed's fetch pattern).
// The "remote" call is simulated with a sleep; the corio HTTP client replaces it later.
#include <corio/corio.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// [snippet fetch]
// A stand-in for a network call: slow for "/slow", failing for "/down".
corio::task<std::string> remote_call(std::string path) {
    co_await corio::sleep(path == "/slow" ? 10s : 20ms);
    if (path == "/down") throw corio::connection_error("connection refused");
    co_return "data from " + path;
}

// Every external call gets a deadline; every failure names what failed.
corio::task<std::string> fetch(std::string path, std::chrono::milliseconds timeout) {
    try {
        co_return co_await corio::wait_for(remote_call(path), timeout);
    } catch (const corio::timeout_error&) {
        throw corio::timeout_error("request to " + path + " timed out after " + corio::format_duration(timeout));
    }
}
// [end snippet]

corio::task<int> quickstart() {
    // [snippet gather_settled]
    std::vector<std::string> paths = {"/a", "/down", "/slow", "/b"};
    std::vector<corio::task<std::string>> calls;
    for (const auto& p : paths) calls.push_back(fetch(p, 100ms));

    // Like asyncio.gather(..., return_exceptions=True): every outcome, in input order.
    std::vector<corio::outcome<std::string>> results = co_await corio::gather_settled(std::move(calls));
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].has_value())
            std::printf("%-6s ok: %s\n", paths[i].c_str(), results[i].value().c_str());
        else
            std::printf("%-6s failed: %s\n", paths[i].c_str(), corio::describe(results[i].error()).c_str());
    }
    // [end snippet]

    // [snippet gather]
    // Fail-fast: the first error cancels the other calls, waits for their cleanup, and is rethrown.
    try {
        auto [a, b] = co_await corio::gather(fetch("/a", 1s), fetch("/down", 1s));
        std::printf("unexpected: %s %s\n", a.c_str(), b.c_str());
    } catch (const corio::connection_error& e) {
        std::printf("gather failed fast: %s\n", e.what());
    }
    // [end snippet]
    co_return results[0].has_value() && !results[1].has_value() && !results[2].has_value() ? 0 : 1;
}

// [snippet run]
int main() { return corio::run(quickstart()); }
// [end snippet]
