// corio/metrics.hpp — counters, gauges and histograms, and the Prometheus text format for them.
//
// snippet: examples/metrics.cpp#own_metrics
//   auto& jobs = corio::metrics::registry::global().counter("jobs_done_total", "Jobs finished", {{"queue", "mail"}});
//   auto& wait = corio::metrics::registry::global().histogram("job_wait_seconds", "Time a job waited",
//                                                             corio::metrics::latency_buckets());
//   jobs.add();
//   wait.observe(0.003);
//
// A registry holds series (a metric name with one set of label values); asking for a series
// again returns the same object, so code can look them up once and keep the reference (series
// live as long as their registry; the global one lives for the whole process). A collector is
// a function called at each scrape to report values kept elsewhere (it must not call the
// registry). corio registers its own: per running loop (label loop="N", numbered in the order
// loops were made) corio_loop_tasks_alive, corio_loop_steps_total and corio_loop_lag_seconds
// (how late timers fired: the loop was busy); for every client_session of the process together
// corio_http_client_connections{state="in_use"|"idle"}, corio_http_client_pool_waiters,
// corio_http_client_connections_opened_total and corio_http_client_connect_seconds (DNS, TCP,
// proxy and TLS of each new connection). An http::server's metrics("/metrics") route adds that
// server's corio_http_server_requests_total{status="200"}, corio_http_server_request_seconds and
// corio_http_server_open_connections.
//
// Format: the Prometheus text exposition format 0.0.4 (# HELP, # TYPE, samples; histograms as
// cumulative _bucket{le=...}, _sum, _count), families in the order they were first reported.
// Names and label names are checked when a series is made (std::invalid_argument), label
// values and help texts escaped when rendered: nothing a caller passes can break the format.
// Thread-safety: every operation of counter, gauge and histogram is lock-free and safe from
// any thread (relaxed atomics: a scrape sees each value as it was at some instant, not all at
// the same one). registry methods take a mutex; collectors run under it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::metrics {

/// Label names and values of one series: {{"method", "GET"}, {"route", "/users"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

/// A count that only goes up (name it ..._total).
class counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class gauge {
public:
    void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
    void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// Observations counted in buckets by upper bound, with their sum and count.
class histogram {
public:
    /// What a histogram holds at one moment; `cumulative[i]` counts observations <= bounds[i],
    /// and the last entry (one more than bounds) counts all of them (le="+Inf").
    struct snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;
        double sum = 0;
    };

    /// `upper_bounds`: finite and strictly increasing (std::invalid_argument otherwise); the
    /// +Inf bucket is implied.
    explicit histogram(std::vector<double> upper_bounds);
    histogram(const histogram&) = delete;

    void observe(double value) noexcept;
    snapshot read() const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; bounds_.size() + 1
    std::atomic<double> sum_{0};
};

/// Bucket bounds for durations in seconds: 100 us to 10 s, about three per decade.
std::vector<double> latency_buckets();

/// Where a collector (and the registry itself) reports samples while a scrape is rendered.
/// Samples of one family may come from several places; the output groups them.
class sample_writer {
public:
    void counter(std::string_view name, std::string_view help, const labels& series, double value);
    void gauge(std::string_view name, std::string_view help, const labels& series, double value);
    void histogram(std::string_view name, std::string_view help, const labels& series, const histogram::snapshot& value);

    /// The text format of everything written so far.
    std::string text() const;

private:
    struct family {
        std::string type;
        std::string help;
        std::string samples;  // rendered lines
    };
    family& family_of(std::string_view name, std::string_view type, std::string_view help);
    void line(family& f, std::string_view name, const labels& series, std::string_view value);

    std::vector<std::pair<std::string, family>> families_;  // in order of first appearance
};

/// Removes its collector from the registry when destroyed. Move-only.
class collector_handle {
public:
    collector_handle() noexcept = default;
    collector_handle(collector_handle&& other) noexcept;
    collector_handle& operator=(collector_handle&& other) noexcept;
    ~collector_handle();

private:
    friend class registry;
    collector_handle(class registry* owner, std::uint64_t id) noexcept : owner_(owner), id_(id) {}
    class registry* owner_ = nullptr;
    std::uint64_t id_ = 0;
};

class registry {
public:
    registry();
    registry(const registry&) = delete;
    ~registry();

    /// The process's registry: what http::server::metrics() serves, where corio's own metrics are.
    static registry& global();

    /// The series `name` with `series` labels, made on first use. Throws std::invalid_argument
    /// for an invalid name or label name, or a name already used for another kind of metric.
    metrics::counter& counter(const std::string& name, const std::string& help, const labels& series = {});
    metrics::gauge& gauge(const std::string& name, const std::string& help, const labels& series = {});
    /// As above; `upper_bounds` are used when the series is made (see histogram).
    metrics::histogram& histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                                  const labels& series = {});

    /// Calls `collect` at every scrape, until the handle is destroyed.
    [[nodiscard]] collector_handle add_collector(std::function<void(sample_writer&)> collect);

    /// Writes every series and runs every collector into `out`.
    void write(sample_writer& out) const;
    /// The Prometheus text format of everything in the registry.
    std::string text() const;

private:
    friend class collector_handle;
    struct series_entry;
    series_entry& entry(const std::string& name, const std::string& help, const labels& series, char kind,
                        const std::vector<double>* bounds);
    void remove_collector(std::uint64_t id) noexcept;

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, labels>, std::unique_ptr<series_entry>> series_;  // by name and labels
    std::map<std::string, char> kinds_;  // name -> 'c', 'g' or 'h'
    std::map<std::uint64_t, std::function<void(sample_writer&)>> collectors_;  // by id, in order made
    std::uint64_t next_id_ = 1;
};

/// Content-Type of the text format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace corio::metrics
