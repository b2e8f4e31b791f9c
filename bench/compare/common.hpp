// bench/compare/common.hpp — small helpers shared by the corio programs of bench/compare (and
// the Beast/Asio peers, which must not depend on corio): argument parsing, clocks, CPU time,
// resident memory, percentiles, and the one-line JSON results the run script reads.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace compare {

/// The value of `--name=value` or `--name value` among argv, or `fallback`.
inline std::string arg(int argc, char** argv, std::string_view name, std::string fallback) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a.size() > name.size() + 2 && a.substr(0, 2) == "--" && a.substr(2, name.size()) == name &&
            a[2 + name.size()] == '=')
            return std::string(a.substr(3 + name.size()));
        if (a.size() == name.size() + 2 && a.substr(0, 2) == "--" && a.substr(2) == name && i + 1 < argc)
            return argv[i + 1];
    }
    return fallback;
}

inline double arg_number(int argc, char** argv, std::string_view name, double fallback) {
    const std::string v = arg(argc, argv, name, "");
    return v.empty() ? fallback : std::strtod(v.c_str(), nullptr);
}

/// CORIO_BACKEND as given ("" if unset): the run script runs each corio program under
/// CORIO_BACKEND=epoll and =io_uring; corio has no way to tell which one it uses (yet).
inline std::string backend_requested() {
    const char* b = std::getenv("CORIO_BACKEND");
    return b != nullptr ? b : "";
}

/// Wall-clock seconds (monotonic).
inline double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU time (user + kernel) of the whole process, all threads, in seconds.
inline double process_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

/// CPU time of the process with nanosecond resolution (for short task measurements).
inline double process_cpu_precise() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Resident memory of this process, bytes.
inline std::size_t resident_bytes() {
    long total = 0, resident = 0;
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    const int n = std::fscanf(f, "%ld %ld", &total, &resident);
    std::fclose(f);
    return n == 2 ? static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

/// The q-quantile (0..1) of `v` (sorted in place), in the unit of its elements; 0 if empty.
inline double quantile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

/// Builds `{"k": v, ...}` on one line: the last line a program prints is its result.
class json_line {
public:
    json_line& num(std::string_view key, double v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v);
        return raw(key, buf);
    }
    json_line& str(std::string_view key, std::string_view v) {
        std::string q = "\"";
        for (char c : v) {
            if (c == '"' || c == '\\') q += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) q += c;
        }
        return raw(key, q + "\"");
    }
    void print() const { std::printf("{%s}\n", body_.c_str()), std::fflush(stdout); }

private:
    json_line& raw(std::string_view key, std::string_view v) {
        if (!body_.empty()) body_ += ", ";
        body_ += '"';
        body_ += key;
        body_ += "\": ";
        body_ += v;
        return *this;
    }
    std::string body_;
};

}  // namespace compare
