// bench/compare/corio_client.cpp — corio's http::client_session as a load generator, as the run
// script measures it: `connections` tasks share ONE session (limit = connections, keep-alive)
// and each does sequential GETs of `url`, reading every body with text(), for `seconds`.
//
//   compare_corio_client --url http://127.0.0.1:P/ [--connections 64] [--seconds 5] [--warmup 1]
//
// A warm-up (`--warmup` seconds; connections opened) is not counted. Prints one JSON line:
// requests, seconds (wall), cpu_seconds (this process, user + kernel, over the measured part),
// p50_ms/p99_ms (each request's latency as its task saw it), errors, backend (CORIO_BACKEND as
// given). Exits 1 with the first failure's message if a request failed.
#include "common.hpp"
#include "../await_workers.hpp"

#include <corio/error.hpp>
#include <corio/http/client_session.hpp>
#include <corio/run.hpp>
#include <corio/spawn.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace http = corio::http;

namespace {

constexpr std::string_view expected_body = "Hello, World!";

struct load {
    double deadline = 0;           // now_seconds() at which the tasks stop starting requests
    bool record = false;           // keep latencies (the measured part)
    std::vector<double> latencies; // seconds
    std::int64_t requests = 0;
    std::int64_t errors = 0;
};

/// Built outside any coroutine (g++ 12 and aggregates across co_await: see request_options).
http::session_options options_for(std::size_t connections) {
    http::session_options o;
    o.limit = connections;
    o.trust_env = false;  // loopback: never through a proxy from the environment
    return o;
}

corio::task<> get_loop(http::client_session& session, const std::string& url, load& l) {
    while (compare::now_seconds() < l.deadline) {
        const double start = compare::now_seconds();
        auto response = co_await session.get(url);
        const std::string body = co_await response.text();
        if (response.status() != 200 || body != expected_body) ++l.errors;
        if (l.record) {
            l.latencies.push_back(compare::now_seconds() - start);
            ++l.requests;
        }
    }
}

/// `tasks` concurrent loops until `l.deadline`; the first failure's message, or "".
corio::task<std::string> run_load(http::client_session& session, const std::string& url, int tasks, load& l) {
    std::vector<corio::join_handle<>> workers;
    for (int i = 0; i < tasks; ++i) workers.push_back(corio::spawn(get_loop(session, url, l)));
    co_return co_await bench::await_workers(workers);
}

corio::task<int> client_main(std::string url, int connections, double seconds, double warmup) {
    http::client_session session(options_for(static_cast<std::size_t>(connections)));
    load l;
    l.latencies.reserve(static_cast<std::size_t>(seconds * 150'000));
    l.deadline = compare::now_seconds() + warmup;
    std::string failure = co_await run_load(session, url, connections, l);
    const double wall_start = compare::now_seconds();
    const double cpu_start = compare::process_cpu_seconds();
    if (failure.empty()) {
        l.record = true;
        l.deadline = wall_start + seconds;
        failure = co_await run_load(session, url, connections, l);
    }
    const double wall = compare::now_seconds() - wall_start;
    const double cpu = compare::process_cpu_seconds() - cpu_start;
    co_await session.aclose();
    if (!failure.empty()) {
        std::fprintf(stderr, "corio client: %s\n", failure.c_str());
        co_return 1;
    }
    compare::json_line()
        .num("requests", static_cast<double>(l.requests))
        .num("seconds", wall)
        .num("cpu_seconds", cpu)
        .num("p50_ms", compare::quantile(l.latencies, 0.50) * 1e3)
        .num("p99_ms", compare::quantile(l.latencies, 0.99) * 1e3)
        .num("errors", static_cast<double>(l.errors))
        .str("backend", compare::backend_requested())
        .print();
    co_return l.errors > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string url = compare::arg(argc, argv, "url", "");
    const int connections = static_cast<int>(compare::arg_number(argc, argv, "connections", 64));
    const double seconds = compare::arg_number(argc, argv, "seconds", 5);
    const double warmup = compare::arg_number(argc, argv, "warmup", 1);
    if (url.empty() || connections < 1 || seconds <= 0) {
        std::fprintf(stderr, "usage: %s --url URL [--connections 64] [--seconds 5] [--warmup 1]\n", argv[0]);
        return 2;
    }
    try {
        return corio::run(client_main(url, connections, seconds, warmup), {.handle_signals = false});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio client: %s\n", e.what());
        return 1;
    }
}
