// corio/metrics.hpp: counters, gauges, histograms and their text format; the loop's, the HTTP
// client's and the server's own metrics; http::server::metrics() scraped and read back by an
// independent parser (python3-prometheus-client).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/server.hpp>
#include <corio/metrics.hpp>

#include "serve_app.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace std::chrono_literals;
namespace metrics = corio::metrics;
using corio::http::client_session;
using corio::http::request;
using corio::http::response;
using corio::http::server;
using corio_test_support::base_url;
using corio_test_support::with_app;

TEST(metrics, the_text_format_of_each_kind) {
    metrics::registry r;
    r.counter("jobs_total", "Jobs done", {{"queue", "mail"}}).add(3);
    r.gauge("temperature", "Degrees").set(-1.5);
    auto& wait = r.histogram("wait_seconds", "Waits", {0.1, 1});
    wait.observe(0.1);  // bounds are inclusive (le)
    wait.observe(0.5);
    wait.observe(7);
    EXPECT_EQ(r.text(),
              "# HELP jobs_total Jobs done\n# TYPE jobs_total counter\njobs_total{queue=\"mail\"} 3\n"
              "# HELP temperature Degrees\n# TYPE temperature gauge\ntemperature -1.5\n"
              "# HELP wait_seconds Waits\n# TYPE wait_seconds histogram\n"
              "wait_seconds_bucket{le=\"0.10000000000000001\"} 1\nwait_seconds_bucket{le=\"1\"} 2\n"
              "wait_seconds_bucket{le=\"+Inf\"} 3\nwait_seconds_sum 7.5999999999999996\nwait_seconds_count 3\n");
}

TEST(metrics, a_series_is_made_once_and_names_are_checked) {
    metrics::registry r;
    auto& a = r.counter("hits_total", "Hits", {{"path", "/a"}});
    EXPECT_EQ(&a, &r.counter("hits_total", "Hits", {{"path", "/a"}}));
    EXPECT_NE(&a, &r.counter("hits_total", "Hits", {{"path", "/b"}}));
    EXPECT_THROW(r.gauge("hits_total", "Hits"), std::invalid_argument);  // another kind
    EXPECT_THROW(r.counter("9lives", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("a b", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("ok", "x", {{"bad-label", "v"}}), std::invalid_argument);
    EXPECT_THROW(r.counter("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
    EXPECT_THROW(r.counter("ok", "x", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
    EXPECT_THROW(r.histogram("h", "x", {1}, {{"le", "1"}}), std::invalid_argument);
    EXPECT_THROW(r.histogram("h", "x", {2, 1}), std::invalid_argument);
    EXPECT_THROW(metrics::histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
}

TEST(metrics, label_values_and_help_cannot_break_the_format) {
    metrics::registry r;
    r.counter("odd_total", "Line one\nline two \\ end", {{"v", "quote \" backslash \\ newline \n done"}}).add();
    EXPECT_EQ(r.text(),
              "# HELP odd_total Line one\\nline two \\\\ end\n# TYPE odd_total counter\n"
              "odd_total{v=\"quote \\\" backslash \\\\ newline \\n done\"} 1\n");
}

TEST(metrics, collectors_report_at_each_scrape_until_their_handle_goes) {
    metrics::registry r;
    int scrapes = 0;
    {
        auto handle = r.add_collector([&scrapes](metrics::sample_writer& out) { out.gauge("scrapes", "Scrapes", {}, ++scrapes); });
        EXPECT_NE(r.text().find("scrapes 1\n"), std::string::npos);
        EXPECT_NE(r.text().find("scrapes 2\n"), std::string::npos);
    }
    EXPECT_EQ(r.text(), "");
}

TEST(metrics, counters_are_safe_from_many_threads) {
    metrics::registry r;
    auto& c = r.counter("n_total", "N");
    auto& h = r.histogram("h", "H", {0.5});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10'000; ++i) {
                c.add();
                h.observe(1);
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(c.value(), 40'000u);
    const auto snapshot = h.read();
    EXPECT_EQ(snapshot.cumulative.back(), 40'000u);
    EXPECT_EQ(snapshot.sum, 40'000);
}

namespace {

/// The loop's series for one loop from the global registry's text: "name{loop=\"N\"} value".
double loop_sample(const std::string& text, const std::string& sample) {
    const auto at = text.rfind(sample + "{loop=\"");  // the newest loop is the last reported
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(text.find("} ", at) + 2));
}

const std::string debian_python = "/usr/bin/python3";  // python3-prometheus-client is Debian's package

/// `text` parsed by python3-prometheus-client (tests/support/prometheus_parse.py).
nlohmann::json parsed_by_prometheus_client(const std::string& text) {
    const auto file = std::filesystem::temp_directory_path() / ("corio-metrics-" + std::to_string(::getpid()) + ".txt");
    std::ofstream(file) << text;
    const std::string json =
        corio_test_support::output_of(debian_python + " " CORIO_TESTS_DIR "/support/prometheus_parse.py " + file.string() + " 2>&1");
    std::filesystem::remove(file);
    try {
        return nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception&) {
        ADD_FAILURE() << "prometheus_client could not parse the exposition: " << json << "\n" << text;
        return {};
    }
}

/// The value of the sample `name` with exactly `labels` in a parsed family, or -1.
double value_of(const nlohmann::json& families, const std::string& family, const std::string& name, const nlohmann::json& labels) {
    if (!families.contains(family)) return -1;
    for (const auto& s : families[family]["samples"])
        if (s[0] == name && s[1] == labels) return s[2].get<double>();
    return -1;
}

}  // namespace

TEST(metrics, a_loop_reports_its_tasks_steps_and_lag) {
    corio::run(corio::invoke([]() -> corio::task<> {
        auto sleeper = corio::spawn(corio::sleep(1ms));
        co_await corio::yield();  // the sleeper's timer is set
        const auto text_before = metrics::registry::global().text();
        EXPECT_GE(loop_sample(text_before, "corio_loop_tasks_alive"), 2);  // this task and the sleeper
        const double lag_before = loop_sample(text_before, "corio_loop_lag_seconds_sum");
        const auto busy_until = std::chrono::steady_clock::now() + 30ms;
        while (std::chrono::steady_clock::now() < busy_until) {
        }  // blocks the loop while the sleeper's timer is due
        co_await sleeper;
        const auto text = metrics::registry::global().text();
        EXPECT_GE(loop_sample(text, "corio_loop_lag_seconds_sum") - lag_before, 0.025) << text;
        EXPECT_GE(loop_sample(text, "corio_loop_steps_total"), 3);
    }));
}

TEST(metrics, the_server_serves_them_and_prometheus_client_reads_them) {
    if (::access("/usr/lib/python3/dist-packages/prometheus_client", F_OK) != 0)
        GTEST_SKIP() << "python3-prometheus-client not installed (apt-get install python3-prometheus-client)";
    server app;
    app.get("/ok", [](request&) -> corio::task<response> { co_return response::text("ok"); });
    app.get("/fail", [](request&) -> corio::task<response> { co_return response::text("no", 503); });
    app.metrics("/metrics");
    metrics::registry::global().counter("test_orders_total", "Orders", {{"shop", "quote \" and \\ and \n"}}).add(2);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        for (const char* path : {"/ok", "/ok", "/ok", "/fail", "/missing"}) {
            auto answer = co_await session.get(base_url(app) + path);
            co_await answer.text();
        }
        auto scrape = co_await session.get(base_url(app) + "/metrics");
        EXPECT_EQ(scrape.headers().get("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
        const std::string text = co_await scrape.text();
        const auto parse = [text] { return parsed_by_prometheus_client(text); };
        const nlohmann::json families = co_await corio::to_thread(parse);
        const auto requests = [&](const char* status) {
            return value_of(families, "corio_http_server_requests", "corio_http_server_requests_total", {{"status", status}});
        };
        EXPECT_EQ(requests("200"), 3);
        EXPECT_EQ(requests("503"), 1);
        EXPECT_EQ(requests("404"), 1);
        EXPECT_EQ(value_of(families, "corio_http_server_request_seconds", "corio_http_server_request_seconds_count", nlohmann::json::object()), 5);
        EXPECT_EQ(value_of(families, "corio_http_server_open_connections", "corio_http_server_open_connections", nlohmann::json::object()), 1);
        EXPECT_EQ(value_of(families, "corio_http_client_connections", "corio_http_client_connections", {{"state", "in_use"}}), 1);
        EXPECT_GE(value_of(families, "corio_http_client_connections_opened", "corio_http_client_connections_opened_total",
                           nlohmann::json::object()), 1);
        EXPECT_GE(value_of(families, "corio_http_client_connect_seconds", "corio_http_client_connect_seconds_count",
                           nlohmann::json::object()), 1);
        EXPECT_TRUE(families.contains("corio_loop_tasks_alive"));
        EXPECT_EQ(families.value("corio_loop_lag_seconds", nlohmann::json::object()).value("type", ""), "histogram");
        EXPECT_EQ(value_of(families, "test_orders", "test_orders_total", {{"shop", "quote \" and \\ and \n"}}), 2);  // escaped both ways
        co_await session.aclose();
    });
}
