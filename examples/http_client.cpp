// The HTTP client against the demo service (tests/support/demo_service.hpp) on 127.0.0.1: a session
// with a base URL, a response's body, header fields, and corio::retry waiting what a 503's
// Retry-After asks. The regions between snippet markers are the examples the headers in
// include/corio/http/ show (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "demo_service.hpp"

using namespace std::chrono_literals;
namespace http = corio::http;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> session_example(corio_test_support::demo_service& service) {
    // [snippet session]
    http::client_session session({.base_url = service.url("/"), .timeout = {.total = 10s}});
    // [snippet response]
    auto response = co_await session.get("items", http::request_options().param("page", "2"));
    response.raise_for_status();                      // status_error on 4xx/5xx
    nlohmann::json items = co_await response.json();  // the whole body (read once, then kept)
    // [end snippet]
    co_await session.aclose();
    // [end snippet]
    check(items["page"] == 2 && items["items"].size() == 4, "GET items?page=2 relative to the base URL");
    check(session.closed(), "aclose() closed the session");
}

corio::task<> retry_after_example(corio_test_support::demo_service& service) {
    http::client_session session;
    const std::string url = service.url("/flaky?key=example&fail=2&status=503&retry_after=0");
    // [snippet retry_after]
    corio::retry_policy policy{.max_attempts = 5};
    policy.retry_if = [](const std::exception_ptr& e) {  // the default: transient errors only
        return corio::is_transient_error(e) || corio::holds<http::status_error>(e);
    };
    policy.delay_from_error = http::retry_after_delay(std::chrono::seconds(60));  // at most 60 s
    auto response = co_await corio::retry(policy, [&] {
        return session.get(url, http::request_options().raise_for_status(true));
    });
    // [end snippet]
    const nlohmann::json answer = co_await response.json();
    check(response.status() == 200 && answer["attempts"] == 3, "two 503s with Retry-After: 0, then 200");
}

corio::task<> auth_example(corio_test_support::demo_service& service) {
    // [snippet auth]
    http::client_session api({.base_url = service.url("/"), .auth = http::auth::bearer("s3cr3t-token")});
    auto mine = co_await api.get("headers", http::request_options().auth(http::auth::basic("ann", "pw")));
    // [end snippet]
    const nlohmann::json basic = co_await mine.json();
    check(basic["headers"]["authorization"] == "Basic YW5uOnB3", "a request's basic credentials over the session's");
    auto theirs = co_await api.get("headers");
    const nlohmann::json bearer = co_await theirs.json();
    check(bearer["headers"]["authorization"] == "Bearer s3cr3t-token", "the session's bearer token");
    co_await api.aclose();
}

corio::task<> trace_example(corio_test_support::demo_service& service) {
    // [snippet trace]
    std::vector<std::string> timeline;
    http::client_session traced({.trace = [&timeline](const http::trace_event& e) {
        timeline.push_back(std::string(http::to_string(e.kind)) + " +" + std::to_string(e.elapsed.count() / 1000) + "us");
    }});
    // [end snippet]
    auto response = co_await traced.get(service.url("/users"));
    co_await response.text();
    check(timeline.front().starts_with("request_start +0us") && timeline.back().starts_with("response_end"),
          "a request's timeline, from request_start to response_end");
    co_await traced.aclose();
}

corio::task<> proxy_example(corio_test_support::demo_service& service) {
    // [snippet proxy]
    http::client_session proxied({.proxy = "http://user:pw@proxy.corp.example:3128",  // else http_proxy... if set
                                  .no_proxy = "localhost, 127.0.0.0/8, .corp.example"});
    // [end snippet]
    auto response = co_await proxied.get(service.url("/users"));  // 127.0.0.1: reached directly
    check(response.status() == 200, "no_proxy: a loopback service is reached without the proxy");
    co_await proxied.aclose();
}

void headers_example() {
    // [snippet headers]
    http::headers h{{"Accept", "application/json"}};
    h.set("X-Trace", "1");                                 // replaces every "x-trace"
    h.add("Cookie", "a=1");                                // keeps earlier ones (Set-Cookie, Via, ...)
    std::string accept(h.get("accept").value_or("*/*"));  // the first value; names in any case
    // [end snippet]
    check(accept == "application/json" && h.contains("x-trace"), "headers: case-insensitive names");
}

int main() {
    headers_example();
    corio::run([]() -> corio::task<> {
        co_await corio::async_with(corio_test_support::start_demo_service(), [](auto& service) -> corio::task<> {
            co_await session_example(*service);
            co_await retry_after_example(*service);
            co_await auth_example(*service);
            co_await trace_example(*service);
            co_await proxy_example(*service);
        });
    }());
}
