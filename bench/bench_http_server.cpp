// bench/bench_http_server.cpp — corio's http::server against nginx, both loaded by wrk.
//
//   http_server/hello/1   GET /hello -> 13-byte "Hello, World!" (text/plain)
//   http_server/json/1    GET /json  -> a 1,039-byte JSON document built once at startup and
//                         returned as a prebuilt string (response(200, body, "application/json"):
//                         no serialisation per request, as nginx's `return` does not either)
//   .../1                 corio: one loop (server.run(endpoint, 1)) on a thread pinned to CPU 0;
//                         nginx: 1 worker pinned to CPU 0
//   .../2                 corio: server.run(endpoint, 2), two SO_REUSEPORT loops, not pinned;
//                         nginx: 2 workers, not pinned (wrk still pinned to CPU 1)
//
// Each iteration starts both servers, then runs `wrk -t1 -c64 -d<N/2>s --latency` (pinned to CPU
// 1, as in ../shared/baselines.md) four times, in the order nginx, corio, corio, nginx (so that
// load from elsewhere drifting linearly affects both alike), and averages each server's two runs:
//   req_per_s, p50_ms, p99_ms, cpu_per_req_us      corio
//   nginx_req_per_s, nginx_p50_ms, nginx_p99_ms, nginx_cpu_per_req_us
//                                                  nginx, same workload, same occasion
//   ratio_req_per_s   corio / nginx (goal: >= 1)   ratio_p99   corio / nginx (goal: <= 1)
//   ratio_cpu_per_req corio / nginx: the server's own CPU time (user + kernel) per request,
//                     which other load on the machine disturbs far less than rates and tails
// N is CORIO_BENCH_WRK_SECONDS (default 10, as in the baselines). Rates drift a lot between
// occasions on a shared VM: compare the ratios, and use --benchmark_repetitions (medians) rather
// than one run. Both servers run with access logs off and keep-alive; a wrk error (non-2xx,
// socket errors) fails the benchmark with wrk's output. Without nginx or wrk, or with fewer than
// 2 usable CPUs, the benchmark is skipped with an error message. nginx dies with this process
// (PR_SET_PDEATHSIG) and is stopped at the end of each iteration, as is corio's server.
#include "bench_util.hpp"
#include "nginx_process.hpp"

#include <corio/http/server.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace {

namespace http = corio::http;

using corio_test_support::find_program;
using corio_test_support::start_process;

constexpr int server_cpu = 0;
constexpr int wrk_cpu = 1;
constexpr std::string_view hello_body = "Hello, World!";

/// About 1 KB of JSON without `$`, `\` or `'` (it is also quoted in nginx.conf), built once.
const std::string& json_body() {
    static const std::string body = [] {
        nlohmann::json items = nlohmann::json::array();
        for (int i = 0; i < 18; ++i)
            items.push_back(
                {{"id", i}, {"name", "item-" + std::to_string(i)}, {"price", 9.5 + i}, {"tags", {"a", "b"}}});
        return nlohmann::json{{"items", items}, {"count", 18}, {"next", nullptr}}.dump();  // 1,039 bytes
    }();
    return body;
}

struct workload {
    std::string path;  // "/hello" or "/json"
};

// ---- wrk ----

struct wrk_result {
    double requests_per_second = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double requests = 0;
    std::string failure;  // empty on success
};

/// "580.00us", "1.29ms", "1.02s" -> milliseconds; negative if there is no such figure.
double milliseconds_at(const char* text) {
    char* end = nullptr;
    const double x = std::strtod(text, &end);
    if (end == text) return -1;
    const std::string_view unit = std::string_view(end).substr(0, 2);
    if (unit == "us") return x / 1e3;
    if (unit == "ms") return x;
    if (!unit.empty() && unit[0] == 's') return x * 1e3;
    return -1;
}

/// The latency of percentile line `label` ("50%") of wrk's "Latency Distribution", in ms.
double percentile_ms(const std::string& output, std::string_view label) {
    const auto table = output.find("Latency Distribution");
    if (table == std::string::npos) return -1;
    const auto at = output.find(label, table);
    return at == std::string::npos ? -1 : milliseconds_at(output.c_str() + at + label.size());
}

wrk_result run_wrk(int port, const std::string& path) {
    const std::string wrk = find_program("wrk");
    if (wrk.empty()) return {0, 0, 0, 0, "wrk not found (apt-get install wrk)"};
    const char* seconds = std::getenv("CORIO_BENCH_WRK_SECONDS");  // per server; wrk runs twice, half as long
    const int half = std::atoi(seconds != nullptr ? seconds : "10") / 2;  // wrk takes whole seconds
    const std::string duration = std::to_string(std::max(1, half)) + "s";
    const auto run = corio_test_support::run_program({wrk, "-t1", "-c64", "-d" + duration, "--latency",
                                                      "http://127.0.0.1:" + std::to_string(port) + path},
                                                     wrk_cpu);
    const std::string& output = run.output;
    const auto rate_at = output.find("Requests/sec:");
    wrk_result r{rate_at == std::string::npos ? 0 : std::strtod(output.c_str() + rate_at + 13, nullptr),
                 percentile_ms(output, "50%"), percentile_ms(output, "99%"),
                 corio_test_support::wrk_requests(output), {}};
    if (!run.started || r.requests_per_second <= 0 || r.requests <= 0 || r.p50_ms < 0 || r.p99_ms < 0 ||
        corio_test_support::wrk_saw_errors(output))
        r.failure = "wrk failed or saw errors:\n" + output;
    return r;
}

// ---- nginx ----

/// CPU time (user + kernel) of process `pid` so far, in seconds; 0 if it is gone.
double process_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto after_name = line.rfind(')');  // the name may hold spaces
    if (after_name == std::string::npos) return 0;
    std::istringstream fields(line.substr(after_name + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
    double user = 0, kernel = 0;
    fields >> user >> kernel;
    return (user + kernel) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// nginx serving /hello and /json with `workers` workers: one is pinned to CPU 0, several are
/// not. (corio_test_support::nginx_server has one worker and hides its pid, so this writes the
/// same configuration through the same helpers.)
class nginx_under_test {
public:
    ~nginx_under_test() { stop(); }

    std::string start(int workers) {
        const std::string nginx = find_program("nginx");
        if (nginx.empty()) return "nginx not found (apt-get install nginx)";
        char dir_template[] = "/tmp/corio-nginx-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) return "mkdtemp failed: cannot run nginx";
        const std::filesystem::path dir = dir_template;
        const std::string locations = "        location = /hello { return 200 \"" + std::string(hello_body) +
                                      "\"; }\n        location = /json { default_type application/json; return 200 '" +
                                      json_body() + "'; }\n";
        port_ = corio_test_support::free_port();
        std::string config = corio_test_support::nginx_config(
            dir, port_, "    keepalive_requests 1000000;\n    keepalive_timeout 65s;\n", locations);
        config.replace(config.find("worker_processes 1;"), 19, "worker_processes " + std::to_string(workers) + ";");
        std::ofstream(dir / "nginx.conf") << config;
        pid_ = start_process({nginx, "-p", dir.string() + "/", "-c", (dir / "nginx.conf").string(), "-e",
                              (dir / "error.log").string()},
                             workers == 1 ? server_cpu : -1, -1);
        std::string failure = "nginx did not listen within 5 s: " + corio_test_support::read_file(dir / "error.log");
        for (int i = 0; i < 500 && pid_ > 0; ++i) {
            if (corio_test_support::accepts_connections(port_)) {
                failure.clear();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (!failure.empty()) stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);  // nginx has read its configuration, opened its logs
        return failure;
    }

    int port() const noexcept { return port_; }

    /// CPU time of the master and its workers so far, in seconds.
    double cpu_seconds() const {
        double total = process_cpu_seconds(pid_);
        std::ifstream children("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
        for (pid_t child; children >> child;) total += process_cpu_seconds(child);
        return total;
    }

    void stop() noexcept {
        if (pid_ > 0) corio_test_support::stop_process(std::exchange(pid_, -1));
    }

private:
    pid_t pid_ = -1;  // the master while running, else -1
    int port_ = -1;
};

// ---- corio ----

corio::task<http::response> hello(http::request&) { co_return http::response::text(std::string(hello_body)); }

corio::task<http::response> json(http::request&) { co_return http::response(200, json_body(), "application/json"); }

/// corio's server on its own thread(s) while alive: `threads` == 1 pins its loop to CPU 0.
class corio_under_test {
public:
    explicit corio_under_test(int threads) : threads_(threads) {
        server_.get("/hello", hello).get("/json", json);
    }
    ~corio_under_test() { stop(); }

    std::string start() {
        const int port = threads_ == 1 ? 0 : corio_test_support::free_port();
        thread_ = std::thread([this, port] {
            std::optional<bench::pin_thread> pin;  // for the whole life of the server thread
            if (threads_ == 1) pin.emplace(server_cpu);
            try {
                server_.run(corio::net::endpoint::parse("127.0.0.1", static_cast<std::uint16_t>(port)), threads_);
            } catch (const std::exception& e) {
                failure_ = e.what();
            } catch (const corio::cancelled_error&) {  // SIGINT/SIGTERM (not a std::exception)
                failure_ = "interrupted";
            }
            done_ = true;
        });
        for (int i = 0; i < 500 && !done_; ++i) {
            if (const auto local = server_.local_endpoint()) {
                port_ = local->port();
                if (corio_test_support::accepts_connections(port_)) return {};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        return "corio's server did not start: " + failure_;
    }

    int port() const noexcept { return port_; }

    /// CPU time of this process so far (its server threads; the benchmark thread only waits).
    static double cpu_seconds() {
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        const auto seconds = [](const timeval& t) {
            return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
        };
        return seconds(usage.ru_utime) + seconds(usage.ru_stime);
    }

    void stop() {
        if (!thread_.joinable()) return;
        server_.stop(std::chrono::seconds(1));
        thread_.join();
    }

private:
    int threads_;
    http::server server_;
    std::thread thread_;
    std::atomic<bool> done_{false};
    std::string failure_;  // written by the server thread before done_
    int port_ = -1;
};

// ---- the benchmark ----

/// One server's figures over its two wrk runs (see the ABBA order below).
struct measured {
    wrk_result a, b;
    double cpu_seconds = 0;  // the server's CPU time during both

    double rate() const { return (a.requests_per_second + b.requests_per_second) / 2; }
    double p50_ms() const { return (a.p50_ms + b.p50_ms) / 2; }
    double p99_ms() const { return (a.p99_ms + b.p99_ms) / 2; }
    double cpu_per_request_us() const { return cpu_seconds / (a.requests + b.requests) * 1e6; }
};

void report(benchmark::State& state, const measured& corio, const measured& nginx) {
    state.counters["req_per_s"] = corio.rate();
    state.counters["p50_ms"] = corio.p50_ms();
    state.counters["p99_ms"] = corio.p99_ms();
    state.counters["cpu_per_req_us"] = corio.cpu_per_request_us();
    state.counters["nginx_req_per_s"] = nginx.rate();
    state.counters["nginx_p50_ms"] = nginx.p50_ms();
    state.counters["nginx_p99_ms"] = nginx.p99_ms();
    state.counters["nginx_cpu_per_req_us"] = nginx.cpu_per_request_us();
    state.counters["ratio_req_per_s"] = corio.rate() / nginx.rate();
    state.counters["ratio_p99"] = corio.p99_ms() / nginx.p99_ms();
    state.counters["ratio_cpu_per_req"] = corio.cpu_per_request_us() / nginx.cpu_per_request_us();
}

void http_server(benchmark::State& state, const workload& w) {
    const int threads = static_cast<int>(state.range(0));
    if (!bench::cpu_usable(server_cpu) || !bench::cpu_usable(wrk_cpu)) {
        state.SkipWithError("CPUs 0 and 1 must both be usable (the server and wrk each get one)");
        return;
    }
    for (auto _ : state) {
        nginx_under_test nginx;  // both run throughout; the idle one costs nothing
        corio_under_test corio(threads);
        std::string failure = nginx.start(threads);
        if (failure.empty()) failure = corio.start();
        if (!failure.empty()) {
            state.SkipWithError(failure.c_str());
            return;
        }
        // nginx, corio, corio, nginx: load from elsewhere that drifts linearly affects both alike.
        measured on_nginx, on_corio;
        const auto run = [&](bool is_nginx, wrk_result& into) {
            const double cpu_before = is_nginx ? nginx.cpu_seconds() : corio_under_test::cpu_seconds();
            into = run_wrk(is_nginx ? nginx.port() : corio.port(), w.path);
            (is_nginx ? on_nginx : on_corio).cpu_seconds +=
                (is_nginx ? nginx.cpu_seconds() : corio_under_test::cpu_seconds()) - cpu_before;
            if (!into.failure.empty()) failure = (is_nginx ? "nginx: " : "corio: ") + into.failure;
            return into.failure.empty();
        };
        if (!run(true, on_nginx.a) || !run(false, on_corio.a) || !run(false, on_corio.b) || !run(true, on_nginx.b)) {
            state.SkipWithError(failure.c_str());
            return;
        }
        report(state, on_corio, on_nginx);
    }
}

BENCHMARK_CAPTURE(http_server, hello, workload{"/hello"})->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(http_server, json, workload{"/json"})->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
