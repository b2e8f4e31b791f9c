// bench/bench_http_client.cpp — corio's HTTP/1.1 client against a local nginx, beside wrk.
//
//   http_client_keepalive/64   64 tasks share ONE client_session (limit 64) and each does
//                              sequential GETs, reading every body with text(), until 20k
//                              requests per iteration are done               -> req_per_s
//                              its CPU time (user + kernel) per request      -> per_request
//                              the kernel's share of that CPU time           -> sys_share
//                              its CPU time / wall time (1: client-bound)    -> client_cpu_util
//                              wrk -t1 -c64 against the same nginx, in the same run
//                                                                            -> wrk_req_per_s
//                              wrk's CPU time per request                    -> wrk_per_request
//                              req_per_s / wrk_req_per_s                     -> ratio_to_wrk
//
// The server is a throwaway nginx (1 worker, access_log off, keepalive_requests 100000,
// `return 200 "Hello, World!"`) on a free 127.0.0.1 port, pinned to CPU 1; the client (this
// thread) and wrk are pinned to CPU 0 and never run at the same time, as in
// ../shared/baselines.md. wrk runs once per process (CORIO_BENCH_WRK_SECONDS, default 5), at
// the first call, right before corio's first measurement. Rates drift a lot between occasions
// on a shared VM (other load steals nginx's CPU): compare ratio_to_wrk, and per_request with
// wrk_per_request, rather than absolute rates. Without nginx or wrk, or with fewer than 2
// usable CPUs, the benchmark is skipped with an error message.
// nginx dies with this process (PR_SET_PDEATHSIG), is stopped at exit, and its temporary
// directory is removed as soon as nginx has started, so neither outlives a crash.
#include "await_workers.hpp"
#include "bench_util.hpp"
#include "nginx_process.hpp"

#include <corio/http/client_session.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using corio_test_support::find_program;
using corio_test_support::read_file;
using corio_test_support::start_process;
using corio_test_support::stop_process;

constexpr int client_cpu = 0;
constexpr int server_cpu = 1;
constexpr std::int64_t requests_per_iteration = 20'000;
constexpr std::string_view expected_body = "Hello, World!";

corio_test_support::nginx_server server;  // shared by every call; stopped at the end of main (or at exit)

/// Starts the server on first use; an error message, empty if it runs.
const std::string& server_failure() {
    static const std::string failure = [] {
        if (!bench::cpu_usable(client_cpu) || !bench::cpu_usable(server_cpu))
            return std::string("CPUs 0 and 1 must both be usable (the client and nginx each get one)");
        return server.start({.http = "    keepalive_requests 100000;\n    keepalive_timeout 65s;\n",
                             .server = "        location / { return 200 \"" + std::string(expected_body) + "\"; }\n",
                             .cpu = server_cpu});
    }();
    return failure;
}

// ---- wrk ----

struct wrk_result {
    double requests_per_second = 0;
    double cpu_per_request = 0;  // seconds, user + kernel
    std::string failure;         // empty on success
};

/// The number after `label` in wrk's output ("Requests/sec:  76820.12"); 0 if absent.
double number_after(const std::string& output, std::string_view label) {
    const auto at = output.find(label);
    return at == std::string::npos ? 0 : std::strtod(output.c_str() + at + label.size(), nullptr);
}

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; }

wrk_result run_wrk(int port) {
    const std::string wrk = find_program("wrk");
    if (wrk.empty()) return {0, 0, "wrk not found (apt-get install wrk): no reference rate to compare with"};
    const char* seconds = std::getenv("CORIO_BENCH_WRK_SECONDS");
    const std::string duration = std::string(seconds != nullptr ? seconds : "5") + "s";
    const auto run = corio_test_support::run_program(
        {wrk, "-t1", "-c64", "-d" + duration, "http://127.0.0.1:" + std::to_string(port) + "/"}, client_cpu);
    const double rate = number_after(run.output, "Requests/sec:");
    const double requests = corio_test_support::wrk_requests(run.output);
    if (!run.started || rate <= 0 || requests <= 0 || corio_test_support::wrk_saw_errors(run.output))
        return {rate, 0, "wrk failed or saw errors:\n" + run.output};
    return {rate, (seconds_of(run.usage.ru_utime) + seconds_of(run.usage.ru_stime)) / requests, {}};
}

const wrk_result& wrk_reference(int port) {
    static const wrk_result result = run_wrk(port);
    return result;
}

// ---- corio ----

/// CPU time of the calling thread so far, in seconds.
struct thread_cpu {
    double user = 0;
    double kernel = 0;

    static thread_cpu now() {
        rusage usage{};
        ::getrusage(RUSAGE_THREAD, &usage);
        return {seconds_of(usage.ru_utime), seconds_of(usage.ru_stime)};
    }
};

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Built outside any coroutine (see request_options on g++ 12 and aggregates).
corio::http::session_options session_options_for(std::size_t connections) {
    corio::http::session_options options;
    options.limit = connections;
    return options;
}

/// One of the concurrent clients: sequential GETs until `remaining` runs out.
corio::task<> get_loop(corio::http::client_session& session, const std::string& url, std::int64_t& remaining,
                       std::int64_t& bad_responses) {
    while (remaining > 0) {
        --remaining;
        auto response = co_await session.get(url);
        const std::string body = co_await response.text();
        if (response.status() != 200 || body != expected_body) ++bad_responses;
    }
}

/// `total` GETs by `tasks` concurrent tasks; returns the first failure's message, or "".
corio::task<std::string> get_all(corio::http::client_session& session, const std::string& url, std::int64_t total,
                                 std::int64_t tasks) {
    std::int64_t remaining = total;
    std::int64_t bad_responses = 0;
    std::vector<corio::join_handle<>> workers;
    for (std::int64_t i = 0; i < tasks; ++i) workers.push_back(corio::spawn(get_loop(session, url, remaining, bad_responses)));
    std::string failure = co_await bench::await_workers(workers);
    if (failure.empty() && bad_responses > 0)
        failure = std::to_string(bad_responses) + " responses were not 200 \"" + std::string(expected_body) + "\"";
    co_return failure;
}

corio::task<> http_client_main(benchmark::State& state, const wrk_result& wrk) {
    const std::int64_t tasks = state.range(0);
    corio::http::client_session session(session_options_for(static_cast<std::size_t>(tasks)));
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    std::string failure = co_await get_all(session, url, 4 * tasks, tasks);  // warm-up: connections open
    double wall = 0;
    thread_cpu cpu;
    for (auto _ : state) {
        if (!failure.empty()) break;  // reported below, before returning
        const double wall_start = wall_seconds();
        const thread_cpu cpu_start = thread_cpu::now();
        failure = co_await get_all(session, url, requests_per_iteration, tasks);
        const thread_cpu cpu_end = thread_cpu::now();
        cpu.user += cpu_end.user - cpu_start.user;
        cpu.kernel += cpu_end.kernel - cpu_start.kernel;
        wall += wall_seconds() - wall_start;
    }
    co_await session.aclose();
    if (!failure.empty()) {
        state.SkipWithError(("corio client failed: " + failure).c_str());
        co_return;
    }
    const double requests = static_cast<double>(requests_per_iteration) * static_cast<double>(state.iterations());
    const double cpu_seconds = cpu.user + cpu.kernel;
    state.counters["req_per_s"] = requests / wall;
    state.counters["per_request"] = cpu_seconds / requests;
    state.counters["sys_share"] = cpu.kernel / cpu_seconds;
    state.counters["client_cpu_util"] = cpu_seconds / wall;
    state.counters["wrk_req_per_s"] = wrk.requests_per_second;
    state.counters["wrk_per_request"] = wrk.cpu_per_request;
    state.counters["ratio_to_wrk"] = requests / wall / wrk.requests_per_second;
}

void http_client_keepalive(benchmark::State& state) {
    if (const std::string& failure = server_failure(); !failure.empty()) {
        state.SkipWithError(failure.c_str());
        return;
    }
    bench::pin_thread pin(client_cpu);
    const wrk_result& wrk = wrk_reference(server.port());
    if (!wrk.failure.empty()) {
        state.SkipWithError(wrk.failure.c_str());
        return;
    }
    try {
        bench::run_in_loop(state, [&](benchmark::State& s) { return http_client_main(s, wrk); });
    } catch (const std::exception& e) {
        state.SkipWithError(("corio client failed: " + std::string(e.what())).c_str());
    }
}
// At least 2 s per repetition: one 20k-request iteration is too short to average out the VM.
BENCHMARK(http_client_keepalive)->Arg(64)->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    server.stop();
    return 0;
}
