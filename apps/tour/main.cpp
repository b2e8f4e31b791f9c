// corio-tour: every asyncio pattern of the seed document, natively in C++, with readable output.
//
// Each section runs one pattern against the demo service over real HTTP (remote_service.hpp) and checks
// that it behaved as the text says; the tour exits non-zero if any check fails, so it doubles as
// an end-to-end test (ctest runs it).
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <corio/corio.hpp>
#include <corio/queue.hpp>
#include <corio/rate_limiter.hpp>
#include <corio/retry.hpp>
#include <corio/semaphore.hpp>
#include <corio/to_thread.hpp>

#include "demo_service.hpp"
#include "pg_cluster.hpp"
#include "remote_service.hpp"

using namespace std::chrono_literals;
using tour::fetch_data;

namespace {

const corio::clock::time_point tour_start = corio::clock::steady_now();
int failed_checks = 0;

void heading(const char* title) { std::printf("\n== %s\n", title); }

/// Prints one line, prefixed with the time since the tour started.
[[gnu::format(printf, 1, 2)]] void say(const char* format, ...) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(corio::clock::steady_now() - tour_start);
    std::printf("  [%5lld ms] ", static_cast<long long>(ms.count()));
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
    std::printf("\n");
}

void check(bool ok, const char* claim) {
    if (ok) return;
    ++failed_checks;
    std::printf("  !! check failed: %s\n", claim);
}

std::string error_text(const std::exception_ptr& e) { return corio::describe(e); }

// ---------------------------------------------------------------------------------------------
corio::task<> concurrent_fetch_with_gather_settled() {
    heading("gather_settled: fetch many things at once; a failure becomes an empty result");
    const std::vector<std::string> paths = {"/users", "/orders", "/broken", "/invalid-json", "/missing"};
    std::vector<corio::task<std::string>> calls;
    for (const auto& p : paths) calls.push_back(fetch_data(p, 500ms));
    const auto started = corio::clock::now();
    auto outcomes = co_await corio::gather_settled(std::move(calls));
    int ok = 0;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (outcomes[i].has_value()) {
            ++ok;
            say("%-14s -> %s", paths[i].c_str(), outcomes[i].value().c_str());
        } else {
            say("%-14s -> empty result (%s)", paths[i].c_str(), error_text(outcomes[i].error()).c_str());
        }
    }
    const auto took = corio::clock::now() - started;
    say("5 calls took %lld ms in all: they ran concurrently",
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    check(ok == 2, "two calls succeed, three fail");
    check(took < 200ms, "the calls overlap instead of running one after another");
}

corio::task<> fail_fast_gather() {
    heading("gather (fail-fast): the first error cancels the others and is rethrown");
    const auto started = corio::clock::now();
    try {
        co_await corio::gather(fetch_data("/users", 1s), fetch_data("/broken", 1s), fetch_data("/slow", 10s));
        check(false, "gather throws");
    } catch (const corio::connection_error& e) {
        say("gather threw connection_error: %s", e.what());
    }
    const auto took = corio::clock::now() - started;
    say("it returned after %lld ms: /slow (5 s) was cancelled, not awaited to the end",
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    check(took < 1s, "the slow call was cancelled");
}

corio::task<> worker(std::string name, std::string path, std::chrono::milliseconds timeout) {
    try {
        const std::string body = co_await fetch_data(path, timeout);
        say("%s finished: %s", name.c_str(), body.c_str());
    } catch (const corio::cancelled_error&) {
        say("%s was cancelled: cleaning up, then re-raising", name.c_str());
        throw;
    }
}

corio::task<> structured_concurrency_with_task_group() {
    heading("task_group: one child fails, its siblings are cancelled, errors are grouped");
    try {
        co_await corio::with_task_group([](corio::task_group& tg) -> corio::task<> {
            tg.spawn(worker("users-worker", "/users", 1s));
            tg.spawn(worker("slow-worker", "/slow", 10s));
            tg.spawn(worker("error-worker", "/error", 1s));
            co_return;
        });
        check(false, "the group throws");
    } catch (const corio::exception_group& group) {
        say("exception_group: %s", group.what());
        check(group.size() == 1 && group.contains<corio::connection_error>(), "one connection_error in the group");
    }
}

corio::task<> timeout_with_wait_for() {
    heading("wait_for: every external call is bounded");
    try {
        co_await fetch_data("/slow", 100ms);
        check(false, "the slow call times out");
    } catch (const corio::timeout_error& e) {
        say("timeout_error: %s", e.what());
    }
}

corio::task<> process_items(int& processed, bool& progress_saved) {
    std::exception_ptr cancelled;
    try {
        for (;; ++processed) co_await corio::sleep(10ms);
    } catch (const corio::cancelled_error&) {
        cancelled = std::current_exception();
    }
    // C++ does not allow co_await inside a catch block: clean up here, shielded and bounded.
    say("worker cancelled after %d items; saving progress before re-raising", processed);
    co_await corio::uncancellable(corio::wait_for(corio::sleep(20ms), 1s));
    progress_saved = true;
    std::rethrow_exception(cancelled);
}

corio::task<> cancellation_with_cleanup() {
    heading("cancellation: a task cancelled mid-work cleans up, then re-raises");
    int processed = 0;
    bool saved = false;
    auto job = corio::spawn(process_items(processed, saved), "item-processor");
    co_await corio::sleep(55ms);
    job.cancel();
    try {
        co_await job;
    } catch (const corio::cancelled_error&) {
        say("job.cancelled() = %s, progress saved = %s", job.cancelled() ? "true" : "false", saved ? "true" : "false");
    }
    check(job.cancelled() && saved && processed > 0, "the job cleaned up and ended cancelled");
}

corio::async_generator<std::string> all_items(corio::rate_limiter& limiter) {
    for (int page = 1;; ++page) {
        co_await limiter.acquire();
        auto items = co_await tour::fetch_page(page, 1s);
        say("fetched page %d (%zu items)", page, items.size());
        if (items.empty()) co_return;
        for (auto& item : items) co_yield std::move(item);
    }
}

corio::task<> pagination_with_rate_limit() {
    heading("async generator: paginate lazily, at most 20 pages/s");
    corio::rate_limiter limiter(20.0, 1);
    int count = 0;
    const auto started = corio::clock::now();
    co_await corio::for_each(all_items(limiter), [&count](const std::string&) { ++count; });
    const auto took = corio::clock::now() - started;
    say("%d items from 4 page requests in %lld ms (the limiter spaced the requests 50 ms apart)", count,
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    check(count == 12, "12 items");
    check(took >= 150ms, "4 requests at 20/s take at least 150 ms");
}

long blocking_checksum(int rounds) {
    long sum = 0;
    for (int i = 0; i < rounds; ++i) {
        std::this_thread::sleep_for(20ms);  // stands in for disk I/O or a C library call
        sum += i * 31;
    }
    return sum;
}

corio::task<> blocking_work_on_a_thread() {
    heading("to_thread: blocking work runs on a worker thread; the loop stays responsive");
    int ticks = 0;
    auto ticker = corio::spawn([&ticks]() -> corio::task<> {
        for (;;) {
            co_await corio::sleep(20ms);
            ++ticks;
        }
    });
    const long sum = co_await corio::to_thread(blocking_checksum, 5);
    ticker.cancel();
    say("checksum %ld computed off the loop; meanwhile the loop ticked %d times", sum, ticks);
    check(ticks >= 2, "the loop kept running during the blocking call");
}

corio::task<> heartbeat(int& beats) {
    for (;;) {
        co_await corio::sleep(20ms);
        ++beats;
    }
}

corio::task<> refresh_cache() {
    co_await corio::sleep(30ms);
    throw corio::connection_error("cache backend unavailable");
}

corio::task<> flush_on_shutdown() {
    std::exception_ptr cancelled;
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        cancelled = std::current_exception();
    }
    co_await corio::uncancellable(corio::sleep(30ms));
    say("flusher wrote its buffer before exiting");
    std::rethrow_exception(cancelled);
}

corio::task<> background_jobs_with_task_set() {
    heading("task_set: background jobs; errors are reported, shutdown is graceful");
    int beats = 0;
    std::vector<std::string> reported;
    corio::task_set background([&reported](const std::string& name, std::exception_ptr e) {
        say("background task '%s' failed: %s", name.c_str(), corio::describe(e).c_str());
        reported.push_back(name);
    });
    background.spawn(heartbeat(beats), "heartbeat");
    background.spawn(refresh_cache(), "refresh-cache");
    background.spawn(flush_on_shutdown(), "flusher");
    background.spawn(corio::uncancellable(corio::sleep(400ms)), "stuck-job");  // ignores cancel for a while
    co_await corio::sleep(100ms);
    say("shutting down %zu background tasks (grace 200 ms)", background.size());
    const auto unfinished = co_await background.shutdown(200ms);
    for (const auto& name : unfinished) say("still running after the grace period: %s", name.c_str());
    check(beats >= 3, "the heartbeat ran");
    check(reported == std::vector<std::string>{"refresh-cache"}, "the failure was reported");
    check(unfinished == std::vector<std::string>{"stuck-job"}, "only the stuck job outlived the grace period");
}

struct database_connection {
    std::string name;
    corio::task<> query(std::string sql) {
        co_await corio::sleep(10ms);
        if (sql.find("DROP") != std::string::npos) throw corio::error("permission denied for " + sql);
        say("%s: ran '%s'", name.c_str(), sql.c_str());
    }
    corio::task<> aclose() {
        co_await corio::sleep(5ms);
        say("%s: closed", name.c_str());
    }
};

corio::task<database_connection> connect_database(std::string name) {
    co_await corio::sleep(10ms);
    co_return database_connection{std::move(name)};
}

corio::task<> async_resource_cleanup() {
    heading("async_with: the resource is closed on every path");
    co_await corio::async_with(connect_database("db-1"), [](database_connection& db) -> corio::task<> {
        co_await db.query("SELECT 1");
    });
    try {
        co_await corio::async_with(connect_database("db-2"), [](database_connection& db) -> corio::task<> {
            co_await db.query("DROP TABLE users");
        });
    } catch (const corio::error& e) {
        say("the body's error propagated after the close: %s", e.what());
    }
    try {
        co_await corio::wait_for(corio::async_with(connect_database("db-3"),
                                                   [](database_connection& db) -> corio::task<> {
                                                       co_await corio::sleep(1h);
                                                       co_await db.query("never");
                                                   }),
                                 50ms);
    } catch (const corio::timeout_error& e) {
        say("timed out and still closed: %s", e.what());
    }
}

corio::task<> retry_with_backoff() {
    heading("retry: exponential backoff with full jitter for transient errors");
    int attempts = 0;
    corio::retry_policy policy;
    policy.max_attempts = 4;
    policy.initial_delay = 20ms;
    const std::string body = co_await corio::retry(policy, [&attempts]() -> corio::task<std::string> {
        ++attempts;
        say("attempt %d", attempts);
        co_return co_await fetch_data(attempts < 3 ? "/broken" : "/users", 500ms);
    });
    say("succeeded on attempt %d: %s", attempts, body.c_str());
    check(attempts == 3, "third attempt succeeds");
    try {
        co_await corio::retry(policy, []() { return fetch_data("/error", 500ms); });
    } catch (const corio::retry_error& e) {
        say("gave up: %s", e.what());
    }
}

corio::task<> producer(corio::queue<int>& q) {
    for (int i = 1; i <= 6; ++i) co_await q.push(i);
    q.close();
}

corio::task<> pipeline_with_queue_and_semaphore() {
    heading("queue + semaphore: a bounded pipeline with at most 2 concurrent jobs");
    corio::queue<int> jobs(2);
    corio::semaphore slots(2);
    int running = 0, peak = 0, done = 0;
    co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
        tg.spawn(producer(jobs));
        for (;;) {
            int job = 0;
            try {
                job = co_await jobs.pop();
            } catch (const corio::queue_closed_error&) {
                break;
            }
            auto slot = co_await slots.acquire();
            tg.spawn([&running, &peak, &done](int id, [[maybe_unused]] corio::semaphore::guard held) -> corio::task<> {
                peak = std::max(peak, ++running);
                co_await corio::sleep(20ms);
                --running;
                ++done;
                say("job %d done", id);
            }, job, std::move(slot));
        }
    });
    say("%d jobs done, at most %d at a time", done, peak);
    check(done == 6 && peak == 2, "six jobs, two at a time");
}

corio::task<std::string> body_of(corio::http::client_session& session, std::string url) {
    co_return co_await (co_await session.get(std::move(url))).text();
}

corio::task<> server_deadlines_and_graceful_shutdown() {
    heading("http::server: a handler past its deadline is cancelled (503); stop() finishes requests in flight");
    corio::http::server app({.handler_timeout = 100ms});
    app.get("/report", [](corio::http::request&) -> corio::task<corio::http::response> {
        co_await corio::sleep(5s);  // far slower than the handler deadline
        co_return corio::http::response::text("never sent");
    });
    int working = 0;
    corio::event three_working;  // set when three /work handlers run at once
    app.get("/work", [&working, &three_working](corio::http::request&) -> corio::task<corio::http::response> {
        if (++working == 3) three_working.set();
        co_await corio::sleep(80ms);
        co_return corio::http::response::text("finished");
    });
    const std::string base = "http://" + (co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0))).to_string();
    corio::http::client_session session;
    auto slow = co_await session.get(base + "/report");
    say("GET /report -> %d %s (the handler was cancelled at its 100 ms deadline)", slow.status(), slow.reason().c_str());
    check(slow.status() == 503, "the slow handler was cancelled and answered 503");
    std::vector<corio::task<std::string>> calls;
    for (int i = 0; i < 3; ++i) calls.push_back(body_of(session, base + "/work"));
    auto in_flight = corio::spawn(corio::gather(std::move(calls)));
    co_await three_working.wait();
    app.stop(2s);
    say("stop() called while 3 requests were in flight");
    const auto bodies = co_await in_flight;
    co_await app.wait_closed();
    say("the server stopped after answering them: %s, %s, %s", bodies[0].c_str(), bodies[1].c_str(), bodies[2].c_str());
    check(std::count(bodies.begin(), bodies.end(), "finished") == 3, "every request in flight was answered");
}

corio::async_generator<corio::http::sse_event> progress_events() {
    for (int percent = 25; percent <= 100; percent += 25) {
        co_await corio::sleep(20ms);
        co_yield corio::http::sse_event(std::to_string(percent) + "%").type("progress");
    }
}

corio::task<> middleware_request_ids_and_live_events() {
    heading("http::server middleware: an access log, a request id that follows the request onward, live events");
    corio::http::server app({.accept_request_id = true});  // a proxy in front assigns ids
    std::vector<std::string> access;
    app.use(corio::http::access_log({.text_format = "{method} {path} {status} {bytes}B request_id={request_id}",
                                     .sink = [&access](std::string_view line) { access.emplace_back(line); }}));
    std::string seen_downstream;
    app.get("/inventory", [&seen_downstream](corio::http::request& req) -> corio::task<corio::http::response> {
        seen_downstream = std::string(req.headers().get("X-Request-Id").value_or("none"));
        co_return corio::http::response::json({{"in_stock", 7}});
    });
    app.get("/order", [](corio::http::request& req) -> corio::task<corio::http::response> {
        corio::http::client_session onward({.send_request_id = true});  // passes corio::request_id on
        const std::string stock = co_await body_of(onward, "http://" + std::string(req.headers().get("Host").value_or("")) + "/inventory");
        co_await onward.aclose();
        co_return corio::http::response::text("ordered; stock " + stock + "\n");
    });
    app.get("/progress", [](corio::http::request&) -> corio::task<corio::http::response> {
        co_return corio::http::response::sse(progress_events());
    });
    const std::string base = "http://" + (co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0))).to_string();
    corio::http::client_session session;
    auto order = co_await session.get(base + "/order", corio::http::request_options().header("X-Request-Id", "tour-42"));
    const std::string answer = co_await order.text();
    say("GET /order -> %d, X-Request-Id %s; the handler's own call carried %s", order.status(),
        std::string(order.headers().get("X-Request-Id").value_or("")).c_str(), seen_downstream.c_str());
    const std::string events = co_await body_of(session, base + "/progress");
    const auto event_count = std::count(events.begin(), events.end(), '\n') / 3;  // event, data, blank line
    const std::size_t last = events.rfind("data: ") + 6;
    say("GET /progress streamed %d server-sent events, the last: %s", static_cast<int>(event_count),
        events.substr(last, events.find('\n', last) - last).c_str());
    co_await session.aclose();
    app.stop(1s);
    co_await app.wait_closed();
    for (const auto& line : access) say("access log: %s", line.c_str());
    check(seen_downstream == "tour-42", "the onward call carried the request id");
    check(event_count == 4 && access.size() == 3, "four events, three requests logged");
}

corio::task<std::string> backend_state(corio::pg::connection& observer, int pid) {
    co_return co_await observer.query_value<std::string>("select coalesce((select state from pg_stat_activity where pid = $1), 'gone')", pid);
}

corio::task<> database_behind_a_handler(std::string database_url) {
    heading("PostgreSQL: handlers query through a pool; a cancelled query stops on the server");
    if (database_url.empty()) {
        say("PostgreSQL is not installed: skipped (apt-get install postgresql)");
        co_return;
    }
    const std::string devs = co_await fetch_data("/db/users?team=dev", 2s);
    say("GET /db/users?team=dev -> %s", devs.c_str());
    check(devs.find("grace") != std::string::npos && devs.find("ada") == std::string::npos, "the handler's query filtered by team");
    try {
        co_await fetch_data("/db/sleep?ms=30000", 5s);
        check(false, "a 30 s query answered within 5 s");
    } catch (const corio::connection_error& e) {
        say("GET /db/sleep?ms=30000 -> %s", e.what());
    }
    co_await corio::async_with(corio::pg::connect(database_url), [&](corio::pg::connection& conn) -> corio::task<> {
        co_await corio::async_with(corio::pg::connect(database_url), [&](corio::pg::connection& observer) -> corio::task<> {
            try {
                co_await corio::wait_for(conn.query("select pg_sleep(30)"), 50ms);
            } catch (const corio::timeout_error& e) {
                say("wait_for(conn.query(\"select pg_sleep(30)\"), 50ms): %s", e.what());
            }
            const std::string state = co_await backend_state(observer, conn.backend_pid());
            say("the server's pg_stat_activity says backend %d is: %s", conn.backend_pid(), state.c_str());
            check(state == "idle", "the cancelled query stopped on the server");
            check(co_await conn.query_value<int>("select 1") == 1, "the same connection runs the next query");
        });
    });
}

// ---------------------------------------------------------------------------------------------

corio::task<int> swallow_cancellation() {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        co_return -1;  // the mistake: the canceller thinks it stopped, the caller sees a value
    }
    co_return 0;
}

/// Two mistakes that compile: a swallowed cancellation and a blocking call on the loop.
corio::task<> careless_code() {
    auto stubborn = corio::spawn(swallow_cancellation(), "stubborn");
    co_await corio::sleep(1ms);
    stubborn.cancel();
    co_await stubborn;
    std::this_thread::sleep_for(250ms);  // a blocking call in a coroutine (well past the 100 ms threshold)
}

corio::task<> debug_mode_catches_mistakes() {
    heading("debug mode: mistakes that compile are reported as they happen, with their line");
    const corio::debug_counts before = corio::debug_stats();
    // A second loop, in debug mode, on a worker thread (CORIO_DEBUG=1 does the same for a program).
    co_await corio::to_thread([] { corio::run(careless_code(), {.handle_signals = false, .debug = true}); });
    const corio::debug_counts after = corio::debug_stats();
    say("debug mode reported %llu swallowed cancellation and %llu blocked loop (the reports are on stderr)",
        static_cast<unsigned long long>(after.swallowed_cancellation - before.swallowed_cancellation),
        static_cast<unsigned long long>(after.blocked_loop - before.blocked_loop));
    check(after.swallowed_cancellation == before.swallowed_cancellation + 1 && after.blocked_loop == before.blocked_loop + 1,
          "each mistake was reported once");
}

corio::task<> all_sections(std::string database_url) {
    co_await concurrent_fetch_with_gather_settled();
    co_await fail_fast_gather();
    co_await structured_concurrency_with_task_group();
    co_await timeout_with_wait_for();
    co_await cancellation_with_cleanup();
    co_await pagination_with_rate_limit();
    co_await blocking_work_on_a_thread();
    co_await background_jobs_with_task_set();
    co_await async_resource_cleanup();
    co_await retry_with_backoff();
    co_await pipeline_with_queue_and_semaphore();
    co_await server_deadlines_and_graceful_shutdown();
    co_await middleware_request_ids_and_live_events();
    co_await database_behind_a_handler(std::move(database_url));
    co_await debug_mode_catches_mistakes();
}

/// A throwaway PostgreSQL cluster for the database section (initdb blocks: on a worker thread),
/// or null if PostgreSQL is not installed.
corio::task<std::unique_ptr<corio_test_support::pg_cluster>> start_database() {
    if (!corio_test_support::pg_cluster::available()) co_return nullptr;
    co_return co_await corio::to_thread([] { return corio_test_support::pg_cluster::start(); });
}

corio::task<int> run_tour() {
    std::printf("corio tour: asyncio's patterns as native C++ coroutines\n");
    const auto database = co_await start_database();
    const std::string database_url = database ? database->url() : "";
    co_await corio::async_with(corio_test_support::start_demo_service(0, database_url), [&](auto& service) -> corio::task<> {
        std::printf("(the remote calls are real HTTP requests to the demo service, corio's own http::server, at %s%s)\n",
                    service->url("/").c_str(), database ? ", backed by a throwaway PostgreSQL cluster" : "");
        tour::connect(service->url("/"));
        co_await all_sections(database_url);
        co_await tour::disconnect();
    });
    std::printf("\n%s\n", failed_checks == 0 ? "tour complete: every pattern behaved as described"
                                             : "tour complete, but some checks failed");
    co_return failed_checks == 0 ? 0 : 1;
}

}  // namespace

int main() { return corio::run(run_tour()); }
