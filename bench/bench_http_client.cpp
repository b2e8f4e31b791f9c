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
#include "bench_util.hpp"

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

constexpr int client_cpu = 0;
constexpr int server_cpu = 1;
constexpr std::int64_t requests_per_iteration = 20'000;
constexpr std::string_view expected_body = "Hello, World!";

// ---- processes ----

/// The absolute path of `name` in $PATH or the sbin directories (nginx lives in /usr/sbin,
/// often not in a user's PATH); empty if not found.
std::string find_program(const std::string& name) {
    std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
    std::istringstream in(dirs);
    for (std::string dir; std::getline(in, dir, ':');) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
}

bool cpu_usable(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    return ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(cpu, &set);
}

cpu_set_t only_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return set;
}

/// Pins the calling thread to one CPU while alive, then restores its affinity.
class pin_thread {
public:
    explicit pin_thread(int cpu) noexcept {
        ::sched_getaffinity(0, sizeof saved_, &saved_);
        const cpu_set_t set = only_cpu(cpu);
        ::sched_setaffinity(0, sizeof set, &set);
    }
    ~pin_thread() { ::sched_setaffinity(0, sizeof saved_, &saved_); }
    pin_thread(const pin_thread&) = delete;
    pin_thread& operator=(const pin_thread&) = delete;

private:
    cpu_set_t saved_;
};

/// Starts `argv` pinned to `cpu`, its stdout and stderr to `output_fd` (-1: inherited). The
/// child gets SIGTERM when this thread dies, so it never outlives a crashed benchmark.
pid_t start_process(const std::vector<std::string>& argv, int cpu, int output_fd) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const cpu_set_t set = only_cpu(cpu);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;  // parent (or -1)
    // Child: async-signal-safe calls only until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    ::sched_setaffinity(0, sizeof set, &set);
    if (output_fd >= 0) {
        ::dup2(output_fd, STDOUT_FILENO);
        ::dup2(output_fd, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
}

/// Waits up to `patience` for `pid` to exit; true if it did (and was reaped).
bool reaped_within(pid_t pid, std::chrono::milliseconds patience) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    do {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < give_up);
    return false;
}

/// Stops `pid` (SIGTERM, then SIGKILL after 2 s) and reaps it.
void stop_process(pid_t pid) {
    ::kill(pid, SIGTERM);
    if (!reaped_within(pid, std::chrono::seconds(2))) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

/// A 127.0.0.1 port nobody listens on right now.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
    ::close(fd);
    return ok ? ntohs(addr.sin_port) : -1;
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---- nginx ----

std::string nginx_config(const std::string& dir, int port) {
    std::ostringstream c;
    c << "worker_processes 1;\n"
      << "daemon off;\n"
      << "pid " << dir << "/nginx.pid;\n"
      << "error_log " << dir << "/error.log warn;\n"
      << "events { worker_connections 1024; }\n"
      << "http {\n"
      << "    access_log off;\n"
      << "    keepalive_requests 100000;\n"
      << "    keepalive_timeout 65s;\n"
      << "    client_body_temp_path " << dir << "/client_body;\n"
      << "    proxy_temp_path " << dir << "/proxy;\n"
      << "    fastcgi_temp_path " << dir << "/fastcgi;\n"
      << "    uwsgi_temp_path " << dir << "/uwsgi;\n"
      << "    scgi_temp_path " << dir << "/scgi;\n"
      << "    server {\n"
      << "        listen 127.0.0.1:" << port << ";\n"
      << "        default_type text/plain;\n"
      << "        location / { return 200 \"" << expected_body << "\"; }\n"
      << "    }\n"
      << "}\n";
    return c.str();
}

/// A throwaway nginx pinned to server_cpu. Stopped on destruction.
class nginx_server {
public:
    nginx_server() = default;
    nginx_server(const nginx_server&) = delete;
    nginx_server& operator=(const nginx_server&) = delete;
    ~nginx_server() { stop(); }

    /// Starts nginx; returns an error message, empty on success.
    std::string start() {
        const std::string nginx = find_program("nginx");
        if (nginx.empty()) return "nginx not found (apt-get install nginx-light): cannot run the HTTP client benchmark";
        std::string failure;
        for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
            failure = start_once(nginx);
            if (failure.empty()) return {};
        }
        return failure;
    }

    void stop() noexcept {
        if (pid_ > 0) stop_process(std::exchange(pid_, -1));
        remove_dir();
    }

    int port() const noexcept { return port_; }

private:
    std::string start_once(const std::string& nginx) {
        char dir_template[] = "/tmp/corio-bench-nginx-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) return "mkdtemp failed: cannot run nginx";
        dir_ = dir_template;
        port_ = free_port();
        std::ofstream(dir_ / "nginx.conf") << nginx_config(dir_, port_);
        pid_ = start_process({nginx, "-p", dir_.string() + "/", "-c", (dir_ / "nginx.conf").string(), "-e",
                              (dir_ / "error.log").string()},
                             server_cpu, -1);
        std::string failure = pid_ < 0 ? "fork failed" : wait_until_listening();
        if (!failure.empty()) stop();
        remove_dir();  // nginx has read its configuration and opened its logs
        return failure;
    }

    std::string wait_until_listening() {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < give_up) {
            if (accepts_connections(port_)) return {};
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return "nginx exited at startup: " + read_file(dir_ / "error.log");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return "nginx did not listen on port " + std::to_string(port_) + " within 5 s: " + read_file(dir_ / "error.log");
    }

    void remove_dir() noexcept {
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(std::exchange(dir_, {}), ignored);
    }

    pid_t pid_ = -1;             // the master process while running, else -1
    int port_ = -1;
    std::filesystem::path dir_;  // the configuration directory until nginx has started
};

nginx_server server;  // shared by every call; stopped at the end of main (or at exit)

/// Starts the server on first use; an error message, empty if it runs.
const std::string& server_failure() {
    static const std::string failure = [] {
        if (!cpu_usable(client_cpu) || !cpu_usable(server_cpu))
            return std::string("CPUs 0 and 1 must both be usable (the client and nginx each get one)");
        return server.start();
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
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return {0, 0, "pipe failed"};
    const pid_t pid = start_process({wrk, "-t1", "-c64", "-d" + duration, "http://127.0.0.1:" + std::to_string(port) + "/"},
                                    client_cpu, out[1]);
    ::close(out[1]);
    std::string output;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) != 0;) {
        if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
        else if (errno != EINTR) break;
    }
    ::close(out[0]);
    rusage usage{};
    if (pid > 0) ::wait4(pid, nullptr, 0, &usage);
    const double rate = number_after(output, "Requests/sec:");
    // "  348920 requests in 5.00s, ..." : the number at the start of that line.
    const auto line = output.rfind('\n', output.find(" requests in "));
    const double requests = line == std::string::npos ? 0 : std::strtod(output.c_str() + line + 1, nullptr);
    if (rate <= 0 || requests <= 0 || output.find("Non-2xx") != std::string::npos ||
        output.find("Socket errors") != std::string::npos)
        return {rate, 0, "wrk failed or saw errors:\n" + output};
    return {rate, (seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime)) / requests, {}};
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
    std::string failure;
    for (auto& w : workers) {
        try {
            co_await w;
        } catch (const std::exception& e) {
            if (failure.empty()) failure = e.what();
        }
    }
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
    pin_thread pin(client_cpu);
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
BENCHMARK(http_client_keepalive)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    server.stop();
    return 0;
}
