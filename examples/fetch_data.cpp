// The seed's central example in corio: fetch_data(url, timeout) with every failure mapped to a
// precise error, then fetch_multiple_urls with gather_settled and a fail-fast variant. Runs
// against the embedded demo service (tests/support/demo_service.hpp) on 127.0.0.1.
#include <corio/corio.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "demo_service.hpp"

using namespace std::chrono_literals;
namespace http = corio::http;

// [snippet fetch_data]
/// GETs `url` and parses its JSON body, all within `timeout`.
/// Throws corio::timeout_error (too slow), corio::connection_error (unreachable, reset, or a
/// 4xx/5xx answer), http::json_error (the body is not JSON). Each message names the URL.
corio::task<nlohmann::json> fetch_data(http::client_session& session, std::string url,
                                       std::chrono::milliseconds timeout = 10s) {
    auto response = co_await session.get(url, http::request_options().timeout({.total = timeout}));
    try {
        response.raise_for_status();
    } catch (const http::status_error& e) {
        throw corio::connection_error(std::string("failed to fetch: ") + e.what());
    }
    co_return co_await response.json();
}
// [end snippet]

// [snippet fetch_multiple_urls]
/// Fetches every URL concurrently; a failed one yields std::nullopt (and is reported) instead
/// of failing the rest: asyncio.gather(..., return_exceptions=True).
corio::task<std::vector<std::optional<nlohmann::json>>> fetch_multiple_urls(http::client_session& session,
                                                                             std::vector<std::string> urls) {
    std::vector<corio::task<nlohmann::json>> fetches;
    for (const auto& url : urls) fetches.push_back(fetch_data(session, url, 500ms));
    auto outcomes = co_await corio::gather_settled(std::move(fetches));
    std::vector<std::optional<nlohmann::json>> results;
    for (auto& outcome : outcomes) {
        if (outcome.has_value()) {
            results.emplace_back(std::move(outcome).value());
        } else {
            std::printf("  error: %s\n", corio::describe(outcome.error()).c_str());
            results.emplace_back(std::nullopt);
        }
    }
    co_return results;
}

/// Fail-fast: the first error cancels the other fetches and propagates.
corio::task<std::vector<nlohmann::json>> fetch_multiple_strict(http::client_session& session,
                                                               std::vector<std::string> urls) {
    std::vector<corio::task<nlohmann::json>> fetches;
    for (const auto& url : urls) fetches.push_back(fetch_data(session, url, 500ms));
    co_return co_await corio::gather(std::move(fetches));
}
// [end snippet]

corio::task<> demo(corio_test_support::demo_service& service) {
    http::client_session session;  // one session (one connection pool) for every request
    const std::vector<std::string> urls = {service.url("/users"), service.url("/error"), service.url("/slow"),
                                           service.url("/invalid-json"), service.url("/missing"), service.url("/broken")};
    std::printf("fetch_multiple_urls:\n");
    const auto results = co_await fetch_multiple_urls(session, urls);
    std::size_t ok = 0;
    for (const auto& r : results) ok += r.has_value();
    std::printf("  %zu of %zu succeeded\n", ok, results.size());
    if (ok != 1 || !results[0] || (*results[0])["users"].size() != 3) throw std::runtime_error("unexpected results");

    std::printf("fetch_multiple_strict:\n");
    try {
        std::vector<std::string> strict_urls = {service.url("/users"), service.url("/slow"), service.url("/error")};
        co_await fetch_multiple_strict(session, std::move(strict_urls));
        throw std::runtime_error("the strict variant should have failed");
    } catch (const corio::connection_error& e) {
        std::printf("  failed fast: %s\n", e.what());
    }
    co_await session.aclose();
}

int main() {
    corio::run([]() -> corio::task<> {
        co_await corio::async_with(corio_test_support::start_demo_service(),
                                   [](auto& service) -> corio::task<> { co_await demo(*service); });
    }());
}
