// nginx_server: a throwaway nginx for tests and benchmarks (a real peer, never a mock), and the
// small process helpers it needs. Linux only.
//
//   corio_test_support::nginx_server nginx;
//   if (auto failure = nginx.start({.server = "location / { return 200 \"hi\"; }"}); !failure.empty()) ...
//   ... http://127.0.0.1:<nginx.port()>/ ...
//
// The process gets SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG), is stopped
// (SIGTERM, then SIGKILL) on destruction, and its temporary directory is removed as soon as it
// listens, so neither outlives a crash. Run as root, nginx keeps running as root (`user root`).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "find_program.hpp"
#include "free_port.hpp"

namespace corio_test_support {

/// Starts `argv` pinned to `cpu` (-1: not pinned), its stdout and stderr to `output_fd` (-1: inherited). The
/// child gets SIGTERM when this thread dies, so it never outlives a crashed benchmark.
inline pid_t start_process(const std::vector<std::string>& argv, int cpu, int output_fd) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu >= 0) CPU_SET(cpu, &set);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;  // parent (or -1)
    // Child: async-signal-safe calls only until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    if (cpu >= 0) ::sched_setaffinity(0, sizeof set, &set);
    if (output_fd >= 0) {
        ::dup2(output_fd, STDOUT_FILENO);
        ::dup2(output_fd, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
}

/// What a finished program wrote (stdout and stderr) and the CPU time it used.
struct program_run {
    std::string output;
    rusage usage{};
    bool started = false;
};

/// Runs `argv` pinned to `cpu` (-1: not pinned) to completion, capturing its output.
inline program_run run_program(const std::vector<std::string>& argv, int cpu) {
    program_run run;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return run;
    const pid_t pid = start_process(argv, cpu, out[1]);
    ::close(out[1]);
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) != 0;) {
        if (n > 0)
            run.output.append(buffer, static_cast<std::size_t>(n));
        else if (errno != EINTR)
            break;
    }
    ::close(out[0]);
    run.started = pid > 0 && ::wait4(pid, nullptr, 0, &run.usage) == pid;
    return run;
}

/// From wrk's output: the number of requests it made ("  348920 requests in 5.00s, ..."), 0 if
/// none; and whether it saw errors (non-2xx answers, socket errors).
inline double wrk_requests(const std::string& output) {
    const auto line = output.rfind('\n', output.find(" requests in "));
    return line == std::string::npos ? 0 : std::strtod(output.c_str() + line + 1, nullptr);
}
inline bool wrk_saw_errors(const std::string& output) {
    return output.find("Non-2xx") != std::string::npos || output.find("Socket errors") != std::string::npos;
}

/// Waits up to `patience` for `pid` to exit; true if it did (and was reaped).
inline bool reaped_within(pid_t pid, std::chrono::milliseconds patience) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    do {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < give_up);
    return false;
}

/// Stops `pid` (SIGTERM, then SIGKILL after 2 s) and reaps it.
inline void stop_process(pid_t pid) {
    ::kill(pid, SIGTERM);
    if (!reaped_within(pid, std::chrono::seconds(2))) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

inline bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---- nginx ----

/// nginx.conf for a throwaway server on 127.0.0.1:`port` whose files live in `dir`; `server`
/// holds the directives of its server block (locations...), `http` extra ones for the http block.
inline std::string nginx_config(const std::string& dir, int port, const std::string& http, const std::string& server) {
    std::ostringstream c;
    c << "worker_processes 1;\n"
      << "daemon off;\n"
      << (::geteuid() == 0 ? "user root;\n" : "")
      << "pid " << dir << "/nginx.pid;\n"
      << "error_log " << dir << "/error.log warn;\n"
      << "events { worker_connections 1024; }\n"
      << "http {\n"
      << "    access_log off;\n"
      << "    client_body_temp_path " << dir << "/client_body;\n"
      << "    proxy_temp_path " << dir << "/proxy;\n"
      << "    fastcgi_temp_path " << dir << "/fastcgi;\n"
      << "    uwsgi_temp_path " << dir << "/uwsgi;\n"
      << "    scgi_temp_path " << dir << "/scgi;\n"
      << http
      << "    server {\n"
      << "        listen 127.0.0.1:" << port << ";\n"
      << "        default_type text/plain;\n"
      << server
      << "    }\n"
      << "}\n";
    return c.str();
}

/// A throwaway nginx (the real one, as a test peer and benchmark reference): its configuration
/// in a temporary directory removed once it has started, its process stopped on destruction.
class nginx_server {
public:
    struct options {
        std::string http;    // extra directives for the http block
        std::string server;  // directives of the server block (locations)
        int cpu = -1;        // pin the process to this CPU; -1: no pinning
    };

    nginx_server() = default;
    nginx_server(const nginx_server&) = delete;
    nginx_server& operator=(const nginx_server&) = delete;
    ~nginx_server() { stop(); }

    /// Starts nginx; returns an error message, empty on success.
    std::string start(const options& o) {
        options_ = o;
        const std::string nginx = find_program("nginx");
        if (nginx.empty()) return "nginx not found (apt-get install nginx)";
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
        char dir_template[] = "/tmp/corio-nginx-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) return "mkdtemp failed: cannot run nginx";
        dir_ = dir_template;
        port_ = free_port();
        std::ofstream(dir_ / "nginx.conf") << nginx_config(dir_, port_, options_.http, options_.server);
        pid_ = start_process({nginx, "-p", dir_.string() + "/", "-c", (dir_ / "nginx.conf").string(), "-e",
                              (dir_ / "error.log").string()},
                             options_.cpu, -1);
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

    options options_;
    pid_t pid_ = -1;             // the master process while running, else -1
    int port_ = -1;
    std::filesystem::path dir_;  // the configuration directory until nginx has started
};

}  // namespace corio_test_support
