// Metrics: your own counters and histograms beside corio's (loop, HTTP client, server), served
// by http::server::metrics("/metrics") in the Prometheus text format and scraped once here.
#include <corio/corio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "serve_app.hpp"

namespace http = corio::http;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

int main() {
    http::server app;
    app.get("/work", [](http::request&) -> corio::task<http::response> {
        // [snippet own_metrics]
        auto& jobs = corio::metrics::registry::global().counter("jobs_done_total", "Jobs finished", {{"queue", "mail"}});
        auto& wait = corio::metrics::registry::global().histogram("job_wait_seconds", "Time a job waited",
                                                                  corio::metrics::latency_buckets());
        jobs.add();
        wait.observe(0.003);
        // [end snippet]
        co_return http::response::text("done\n");
    });
    // [snippet serve]
    app.metrics("/metrics");  // Prometheus scrapes http://host:port/metrics
    // [end snippet]
    corio_test_support::with_app(app, [](http::server& app) -> corio::task<> {
        http::client_session session;
        auto work = co_await session.get(corio_test_support::base_url(app) + "/work");
        co_await work.text();
        auto scrape = co_await session.get(corio_test_support::base_url(app) + "/metrics");
        const std::string text = co_await scrape.text();
        check(text.find("jobs_done_total{queue=\"mail\"} 1\n") != std::string::npos, "your counter");
        check(text.find("corio_http_server_requests_total{status=\"200\"} 1\n") != std::string::npos, "the server's requests by status");
        check(text.find("# TYPE corio_loop_lag_seconds histogram\n") != std::string::npos, "the loop's lag histogram");
        check(text.find("corio_http_client_connections{state=\"in_use\"} 1\n") != std::string::npos, "the client's pool");
        co_await session.aclose();
    });
}
