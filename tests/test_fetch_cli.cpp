// Tests of corio-fetch (apps/fetch/fetch_cli.hpp): the command line end to end against the demo
// service, and the pieces (error classification, Retry-After, pagination URLs, URL lists).
//
// The demo service runs on its own thread and loop (demo_thread); run_fetch runs its own loop on
// the test thread, as the program does. Both use real time (loopback sockets and virtual time do
// not mix), so the delays involved are kept small.
#include <corio/corio.hpp>
#include <corio/http/content_decoder.hpp>
#include <corio/net/errors.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "demo_service.hpp"
#include "fetch_cli.hpp"

using namespace std::chrono_literals;
using corio_fetch::run_fetch;

namespace {

/// The demo service on a thread of its own, stopped (cleanly, through its loop) on destruction.
class demo_thread {
public:
    demo_thread() {
        auto base = ready_.get_future();
        thread_ = std::thread([this] {
            try {
                corio::run(serve(), {.handle_signals = false});
            } catch (...) {
                if (!started_) ready_.set_exception(std::current_exception());  // the test sees it
                else ADD_FAILURE() << "the demo service failed: " << corio::describe(std::current_exception());
            }
        });
        base_ = base.get();
    }
    demo_thread(const demo_thread&) = delete;
    demo_thread& operator=(const demo_thread&) = delete;
    ~demo_thread() {
        corio::post(loop_, [this] { stop_.set(); });
        thread_.join();
    }

    /// "http://127.0.0.1:PORT" + path.
    std::string url(std::string_view path) const { return base_ + std::string(path); }

private:
    corio::task<> serve() {
        co_await corio::async_with(corio_test_support::start_demo_service(), [this](auto& service) -> corio::task<> {
            loop_ = corio::current_loop_handle();  // before the test thread can read it
            started_ = true;
            ready_.set_value(service->url(""));
            co_await stop_.wait();
        });
    }

    std::promise<std::string> ready_;  // the service's base URL, once it listens
    bool started_ = false;             // ready_ was set (service thread only)
    corio::event stop_;                // set on the service's loop (posted) to stop it
    corio::loop_handle loop_;          // the service's loop; written before ready_ is set
    std::string base_;
    std::thread thread_;      // last: starts after the fields above exist
};

/// What one run_fetch call gave.
struct fetch_run {
    int code = -1;
    std::string out;
    std::string err;
    std::chrono::steady_clock::duration wall{};

    /// The stdout lines parsed as JSON.
    std::vector<nlohmann::json> json_lines() const {
        std::vector<nlohmann::json> lines;
        std::istringstream in(out);
        std::string line;
        while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
        return lines;
    }
    /// The JSON lines by URL (each URL fetched once).
    std::map<std::string, nlohmann::json> by_url() const {
        std::map<std::string, nlohmann::json> lines;
        for (auto& line : json_lines()) lines[line["url"].get<std::string>()] = line;
        return lines;
    }
};

fetch_run fetch(std::vector<std::string> args, const std::string& input = "", bool terminal = false) {
    args.insert(args.begin(), "corio-fetch");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    fetch_run run;
    const auto start = std::chrono::steady_clock::now();
    run.code = run_fetch(static_cast<int>(argv.size()), argv.data(), in, out, err, terminal);
    run.wall = std::chrono::steady_clock::now() - start;
    run.out = out.str();
    run.err = err.str();
    return run;
}

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

// ---- end to end ------------------------------------------------------------------------------

TEST(fetch_cli, success_lines_summary_and_exit_zero) {
    demo_thread demo;
    const auto run = fetch({demo.url("/users"), demo.url("/orders")});
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(count_lines(run.out), 2u) << run.out;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_EQ(line.rfind("200", 0), 0u) << line;
        EXPECT_TRUE(contains(line, " B ")) << line;
        EXPECT_TRUE(contains(line, " ms  ")) << line;
        EXPECT_FALSE(contains(line, "[")) << line;  // no failure kind
    }
    EXPECT_TRUE(contains(run.out, demo.url("/users")));
    EXPECT_TRUE(contains(run.out, demo.url("/orders")));
    EXPECT_TRUE(contains(run.err, "2 results")) << run.err;
    EXPECT_TRUE(contains(run.err, "2 ok, 0 failed")) << run.err;
}

TEST(fetch_cli, json_lines_carry_parsed_json_or_text) {
    demo_thread demo;
    const auto run = fetch({"--json", demo.url("/users"), demo.url("/invalid-json")});
    EXPECT_EQ(run.code, 0) << run.err;
    auto lines = run.by_url();
    ASSERT_EQ(lines.size(), 2u) << run.out;
    const auto& users = lines[demo.url("/users")];
    EXPECT_EQ(users["status"], 200);
    EXPECT_EQ(users["attempts"], 1);
    EXPECT_TRUE(users["error_kind"].is_null());
    EXPECT_TRUE(users["error"].is_null());
    EXPECT_GE(users["elapsed_ms"].get<long long>(), 40);  // the service answers after 40 ms
    EXPECT_EQ(users["json"]["users"], nlohmann::json({"ada", "grace", "linus"}));
    EXPECT_FALSE(users.contains("body"));
    const auto& html = lines[demo.url("/invalid-json")];
    EXPECT_EQ(html["body"], "<html>oops</html>");  // not JSON: the text, and no failure
    EXPECT_FALSE(html.contains("json"));
    EXPECT_TRUE(html["error_kind"].is_null());
}

TEST(fetch_cli, failures_have_their_kind_and_exit_one) {
    demo_thread demo;
    const auto refused = std::string("http://127.0.0.1:1/");
    const auto run = fetch({"--json", demo.url("/users"), demo.url("/error"), demo.url("/missing"), demo.url("/broken"),
                            refused, "not a url"});
    EXPECT_EQ(run.code, 1);
    auto lines = run.by_url();
    ASSERT_EQ(lines.size(), 6u) << run.out;
    EXPECT_TRUE(lines[demo.url("/users")]["error_kind"].is_null());
    EXPECT_EQ(lines[demo.url("/error")]["error_kind"], "http_5xx");
    EXPECT_EQ(lines[demo.url("/error")]["status"], 500);
    EXPECT_EQ(lines[demo.url("/error")]["json"]["error"], "internal");  // a failed response's body is kept
    EXPECT_EQ(lines[demo.url("/missing")]["error_kind"], "http_4xx");
    EXPECT_EQ(lines[demo.url("/missing")]["error"], "404 Not Found");
    EXPECT_EQ(lines[demo.url("/broken")]["error_kind"], "reset");
    EXPECT_EQ(lines[refused]["error_kind"], "connect");
    EXPECT_TRUE(lines[refused]["status"].is_null());
    EXPECT_FALSE(lines[refused].contains("body"));
    EXPECT_TRUE(contains(lines[refused]["error"].get<std::string>(), "127.0.0.1:1"));
    EXPECT_EQ(lines["not a url"]["error_kind"], "url");
    EXPECT_TRUE(contains(run.err, "1 ok, 5 failed")) << run.err;
    for (const char* kind : {"http_5xx", "http_4xx", "reset", "connect", "url"}) EXPECT_TRUE(contains(run.err, kind)) << kind;
}

TEST(fetch_cli, human_output_names_the_failure) {
    demo_thread demo;
    const auto run = fetch({demo.url("/error")});
    EXPECT_EQ(run.code, 1);
    EXPECT_EQ(run.out.rfind("500", 0), 0u) << run.out;
    EXPECT_TRUE(contains(run.out, "[http_5xx] 500 Internal Server Error")) << run.out;
}

TEST(fetch_cli, timeout_gives_kind_timeout) {
    demo_thread demo;
    const auto run = fetch({"--json", "--timeout", "0.2", demo.url("/slow?ms=2000"), demo.url("/users")});
    EXPECT_EQ(run.code, 1);
    auto lines = run.by_url();
    const auto& slow = lines[demo.url("/slow?ms=2000")];
    EXPECT_EQ(slow["error_kind"], "timeout");
    EXPECT_TRUE(contains(slow["error"].get<std::string>(), "200ms")) << slow["error"];
    EXPECT_GE(slow["elapsed_ms"].get<long long>(), 200);
    EXPECT_TRUE(lines[demo.url("/users")]["error_kind"].is_null());  // the other URL is unaffected
}

TEST(fetch_cli, retries_honour_retry_after_then_succeed) {
    demo_thread demo;
    const auto url = demo.url("/flaky?key=ra&fail=1&retry_after=1");
    const auto run = fetch({"--json", "--retries", "2", url});
    EXPECT_EQ(run.code, 0) << run.out << run.err;
    auto lines = run.by_url();
    EXPECT_EQ(lines[url]["status"], 200);
    EXPECT_EQ(lines[url]["attempts"], 2);
    EXPECT_EQ(lines[url]["json"]["attempts"], 2);  // the service saw two requests
    EXPECT_GE(lines[url]["elapsed_ms"].get<long long>(), 1000);  // waited the Retry-After
    EXPECT_GE(run.wall, 1s);
}

TEST(fetch_cli, retry_after_on_429_too) {
    demo_thread demo;
    const auto url = demo.url("/flaky?key=tm&fail=1&status=429&retry_after=1");
    const auto run = fetch({"--json", "--retries", "1", url});
    EXPECT_EQ(run.code, 0) << run.out;
    EXPECT_EQ(run.by_url()[url]["attempts"], 2);
    EXPECT_GE(run.by_url()[url]["elapsed_ms"].get<long long>(), 1000);
}

TEST(fetch_cli, retries_run_out) {
    demo_thread demo;
    // Without Retry-After the backoff is jittered below 0.5 s.
    const auto url = demo.url("/flaky?key=out&fail=5");
    const auto run = fetch({"--json", "--retries", "1", url});
    EXPECT_EQ(run.code, 1);
    auto lines = run.by_url();
    EXPECT_EQ(lines[url]["status"], 503);
    EXPECT_EQ(lines[url]["attempts"], 2);
    EXPECT_EQ(lines[url]["json"]["error"], "flaky");
    EXPECT_EQ(lines[url]["error_kind"], "http_5xx");
}

TEST(fetch_cli, no_retries_by_default_and_none_for_permanent_failures) {
    demo_thread demo;
    const auto flaky = demo.url("/flaky?key=once&fail=1");
    const auto missing = demo.url("/missing");
    const auto run = fetch({"--json", flaky});
    EXPECT_EQ(run.code, 1);
    EXPECT_EQ(run.by_url()[flaky]["attempts"], 1);
    const auto retried = fetch({"--json", "--retries", "3", missing});
    EXPECT_EQ(retried.code, 1);
    EXPECT_EQ(retried.by_url()[missing]["attempts"], 1);  // a 404 is not transient
}

TEST(fetch_cli, paginate_collects_every_page) {
    demo_thread demo;
    const auto run = fetch({"--json", "--paginate", "items", demo.url("/items?page=7&x=1")});
    EXPECT_EQ(run.code, 0) << run.err;
    const auto lines = run.json_lines();
    ASSERT_EQ(lines.size(), 4u) << run.out;  // pages 1-3 with items, then the empty one
    std::vector<std::string> items;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["page"], i + 1);
        EXPECT_EQ(lines[i]["url"], demo.url("/items?x=1&page=" + std::to_string(i + 1)));
        EXPECT_EQ(lines[i]["json"]["page"], i + 1);
        for (const auto& item : lines[i]["json"]["items"]) items.push_back(item.get<std::string>());
    }
    EXPECT_TRUE(lines[3]["json"]["items"].empty());
    ASSERT_EQ(items.size(), 12u);
    EXPECT_EQ(items.front(), "item-1");
    EXPECT_EQ(items.back(), "item-12");
}

TEST(fetch_cli, paginate_stops_at_a_missing_field_or_max_pages) {
    demo_thread demo;
    const auto missing = fetch({"--json", "--paginate", "nothing", demo.url("/items")});
    EXPECT_EQ(missing.code, 0);
    EXPECT_EQ(missing.json_lines().size(), 1u);
    const auto capped = fetch({"--json", "--paginate", "items", "--max-pages", "2", demo.url("/items")});
    EXPECT_EQ(capped.code, 0);
    EXPECT_EQ(capped.json_lines().size(), 2u);
    EXPECT_TRUE(contains(capped.err, "stopped after 2 pages")) << capped.err;
}

TEST(fetch_cli, paginate_needs_json_with_an_array) {
    demo_thread demo;
    const auto html = fetch({"--json", "--paginate", "items", demo.url("/invalid-json")});
    EXPECT_EQ(html.code, 1);
    ASSERT_EQ(html.json_lines().size(), 1u);
    EXPECT_EQ(html.json_lines()[0]["error_kind"], "invalid_json");
    const auto scalar = fetch({"--json", "--paginate", "page", demo.url("/items")});
    EXPECT_EQ(scalar.code, 1);
    ASSERT_EQ(scalar.json_lines().size(), 1u);
    EXPECT_EQ(scalar.json_lines()[0]["error_kind"], "invalid_json");
    EXPECT_TRUE(contains(scalar.json_lines()[0]["error"].get<std::string>(), "\"page\" is not an array"));
}

TEST(fetch_cli, rate_spaces_the_requests) {
    demo_thread demo;
    std::vector<std::string> args = {"--json", "--rate", "10"};
    for (int i = 1; i <= 4; ++i) args.push_back(demo.url("/items?page=" + std::to_string(i)));
    const auto run = fetch(args);
    EXPECT_EQ(run.code, 0);
    std::vector<long long> elapsed;
    for (const auto& line : run.json_lines()) elapsed.push_back(line["elapsed_ms"].get<long long>());
    ASSERT_EQ(elapsed.size(), 4u);
    std::sort(elapsed.begin(), elapsed.end());
    // One token at once, then one every 100 ms: the k-th request waited about k * 100 ms (all
    // four started together; elapsed_ms includes the wait for a token, truncated to ms).
    for (std::size_t k = 1; k < elapsed.size(); ++k) EXPECT_GE(elapsed[k], static_cast<long long>(k) * 100 - 5) << k;
    EXPECT_GE(run.wall, 300ms);
}

TEST(fetch_cli, headers_are_sent) {
    demo_thread demo;
    const auto run = fetch({"--json", "-H", "X-Token: abc 123", "--header", "Accept:text/plain", demo.url("/headers")});
    EXPECT_EQ(run.code, 0);
    const auto headers = run.json_lines().at(0)["json"]["headers"];
    EXPECT_EQ(headers["x-token"], "abc 123");
    EXPECT_EQ(headers["accept"], "text/plain");
}

TEST(fetch_cli, trace_prints_each_requests_timeline) {
    demo_thread demo;
    const auto run = fetch({"--trace", demo.url("/users")}, "", true);
    EXPECT_EQ(run.code, 0) << run.err;
    const std::size_t block = run.err.find("trace GET " + demo.url("/users") + "\n");
    ASSERT_NE(block, std::string::npos) << run.err;
    std::size_t at = block;
    for (const char* kind : {"request_start", "connection_create_start", "dns_start", "connection_create_end",
                             "request_headers_sent", "response_first_byte", "request_end  status 200", "response_end"}) {
        const std::size_t next = run.err.find(kind, at);
        EXPECT_NE(next, std::string::npos) << kind << " not after the previous event in:\n" << run.err;
        if (next != std::string::npos) at = next;
    }
    EXPECT_FALSE(contains(run.err, "\r")) << "no progress bar with --trace";
}

TEST(fetch_cli, progress_bar_only_on_a_terminal) {
    demo_thread demo;
    const auto plain = fetch({demo.url("/users"), demo.url("/orders")});
    EXPECT_FALSE(contains(plain.err, "\r")) << plain.err;
    const auto terminal = fetch({demo.url("/users"), demo.url("/orders")}, "", true);
    EXPECT_EQ(terminal.code, 0);
    EXPECT_TRUE(contains(terminal.err, "] 2/2 URLs  2 ok  0 failed")) << terminal.err;
    EXPECT_TRUE(contains(terminal.err, "\r\033[K")) << terminal.err;  // cleared before the summary
    EXPECT_FALSE(contains(terminal.out, "\r")) << terminal.out;       // stdout stays clean
}

TEST(fetch_cli, urls_from_input_with_comments_and_arguments) {
    demo_thread demo;
    const std::string input = "# the users\n" + demo.url("/users") + "\n\n   \n  " + demo.url("/orders") +
                              "  \r\n#" + demo.url("/error") + "\n";
    const auto run = fetch({"--json", "--input", "-", demo.url("/items")}, input);
    EXPECT_EQ(run.code, 0) << run.out;  // the commented-out /error was not fetched
    auto lines = run.by_url();
    EXPECT_EQ(lines.size(), 3u);
    EXPECT_TRUE(lines.count(demo.url("/users")));
    EXPECT_TRUE(lines.count(demo.url("/orders")));
    EXPECT_TRUE(lines.count(demo.url("/items")));
}

TEST(fetch_cli, concurrency_one_keeps_the_input_order) {
    demo_thread demo;
    // /users takes 40 ms, /items none: one worker fetches them in order anyway.
    const auto run = fetch({"--json", "-c", "1", demo.url("/users"), demo.url("/items")});
    const auto lines = run.json_lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["url"], demo.url("/users"));
    EXPECT_EQ(lines[1]["url"], demo.url("/items"));
}

TEST(fetch_cli, usage_errors_exit_two) {
    EXPECT_EQ(fetch({}).code, 2);
    EXPECT_EQ(fetch({"--input", "-"}, "# only comments\n\n").code, 2);
    EXPECT_EQ(fetch({"--concurrency", "0", "http://127.0.0.1/"}).code, 2);
    EXPECT_EQ(fetch({"--timeout", "nan", "http://127.0.0.1/"}).code, 2);
    EXPECT_EQ(fetch({"--timeout", "0", "http://127.0.0.1/"}).code, 2);
    EXPECT_EQ(fetch({"--rate", "-1", "http://127.0.0.1/"}).code, 2);
    EXPECT_EQ(fetch({"--retries", "x", "http://127.0.0.1/"}).code, 2);
    EXPECT_EQ(fetch({"--no-such-option", "http://127.0.0.1/"}).code, 2);
    const auto header = fetch({"-H", "no colon", "http://127.0.0.1/"});
    EXPECT_EQ(header.code, 2);
    EXPECT_TRUE(contains(header.err, "Name: value")) << header.err;
    const auto file = fetch({"--input", "/nonexistent/urls.txt"});
    EXPECT_EQ(file.code, 2);
    EXPECT_TRUE(contains(file.err, "/nonexistent/urls.txt")) << file.err;
    EXPECT_TRUE(file.out.empty());
}

TEST(fetch_cli, proxy_option_is_used_and_checked) {
    demo_thread demo;
    const auto through = fetch({"--json", "--proxy", "http://127.0.0.1:1", demo.url("/users")});
    EXPECT_EQ(through.code, 1);
    auto line = through.by_url()[demo.url("/users")];
    EXPECT_EQ(line["error_kind"], "connect");
    EXPECT_TRUE(contains(line["error"].get<std::string>(), "connect to the proxy 127.0.0.1:1 failed")) << line["error"];
    const auto bypassed = fetch({"--proxy", "http://127.0.0.1:1", "--noproxy", "127.0.0.1", demo.url("/users")});
    EXPECT_EQ(bypassed.code, 0) << bypassed.out;
    const auto bad = fetch({"--proxy", "socks5://127.0.0.1:1080", demo.url("/users")});
    EXPECT_EQ(bad.code, 2);
    EXPECT_TRUE(contains(bad.err, "bad proxy: unsupported proxy scheme 'socks5'")) << bad.err;
}

TEST(fetch_cli, help_exits_zero) {
    const auto run = fetch({"--help"});
    EXPECT_EQ(run.code, 0);
    EXPECT_TRUE(contains(run.out, "Usage: corio-fetch")) << run.out;
    EXPECT_TRUE(contains(run.out, "--paginate"));
}

TEST(fetch_cli, parse_fills_the_options) {
    const char* argv[] = {"corio-fetch", "-c", "3", "-t", "1.5", "--connect-timeout", "0.25", "-r", "4", "--rate", "2.5",
                          "--paginate", "data", "-H", " X-A :  b ", "--json", "http://h/"};
    std::istringstream in;
    std::ostringstream out, err;
    corio_fetch::fetch_options options;
    EXPECT_FALSE(corio_fetch::parse_fetch_args(static_cast<int>(std::size(argv)), argv, in, out, err, options));
    EXPECT_EQ(options.concurrency, 3u);
    EXPECT_EQ(options.timeout, 1500ms);
    EXPECT_EQ(options.connect_timeout, 250ms);
    EXPECT_EQ(options.retries, 4);
    EXPECT_DOUBLE_EQ(options.rate, 2.5);
    EXPECT_EQ(options.paginate, "data");
    EXPECT_TRUE(options.json);
    ASSERT_EQ(options.headers.size(), 1u);
    EXPECT_EQ(options.headers[0].first, "X-A");
    EXPECT_EQ(options.headers[0].second, "b");
    EXPECT_EQ(options.urls, std::vector<std::string>{"http://h/"});
}

// ---- pieces ----------------------------------------------------------------------------------

TEST(fetch_cli_pieces, error_kind_classifies_the_exception_types) {
    using corio_fetch::error_kind;
    const auto kind = [](auto e) { return std::string(error_kind(std::make_exception_ptr(e))); };
    EXPECT_EQ(kind(corio::timeout_error("t")), "timeout");
    EXPECT_EQ(kind(corio::net::dns_error("d")), "dns");
    EXPECT_EQ(kind(corio::net::connect_error("c")), "connect");
    EXPECT_EQ(kind(corio::net::tls_error("t")), "tls");
    EXPECT_EQ(kind(corio::net::connection_reset_error("r")), "reset");
    EXPECT_EQ(kind(corio::http::protocol_error("p")), "protocol");
    EXPECT_EQ(kind(corio::connection_error("c")), "connection");
    EXPECT_EQ(kind(corio::http::json_error("j", 3)), "invalid_json");
    EXPECT_EQ(kind(corio::http::too_many_redirects_error("r")), "redirects");
    EXPECT_EQ(kind(corio::http::url_error("u")), "url");
    EXPECT_EQ(kind(corio::http::decode_error("d")), "decode");
    EXPECT_EQ(kind(corio::http::status_error(503, "Service Unavailable", "GET", "http://h/", {})), "http_5xx");
    EXPECT_EQ(kind(corio::http::status_error(404, "Not Found", "GET", "http://h/", {})), "http_4xx");
    EXPECT_EQ(kind(std::runtime_error("x")), "error");
    EXPECT_EQ(kind(42), "error");
}

TEST(fetch_cli_pieces, transient_failures) {
    using corio_fetch::is_transient;
    for (const char* kind : {"timeout", "connect", "reset", "protocol", "connection"}) EXPECT_TRUE(is_transient(kind, 0)) << kind;
    for (const char* kind : {"dns", "tls", "url", "redirects", "invalid_json", "decode", "error"})
        EXPECT_FALSE(is_transient(kind, 0)) << kind;
    EXPECT_TRUE(is_transient("http_4xx", 429));
    EXPECT_TRUE(is_transient("http_4xx", 408));
    EXPECT_FALSE(is_transient("http_4xx", 404));
    EXPECT_TRUE(is_transient("http_5xx", 500));
    EXPECT_TRUE(is_transient("http_5xx", 503));
    EXPECT_EQ(corio_fetch::status_kind(200), "");
    EXPECT_EQ(corio_fetch::status_kind(399), "");
    EXPECT_EQ(corio_fetch::status_kind(400), "http_4xx");
    EXPECT_EQ(corio_fetch::status_kind(599), "http_5xx");
}


TEST(fetch_cli_pieces, with_page_sets_the_page_parameter) {
    using corio_fetch::with_page;
    EXPECT_EQ(with_page("http://h/x", 1), "http://h/x?page=1");
    EXPECT_EQ(with_page("http://h/x?", 2), "http://h/x?page=2");
    EXPECT_EQ(with_page("http://h/x?a=1", 2), "http://h/x?a=1&page=2");
    EXPECT_EQ(with_page("http://h/x?page=9&a=%20b&pages=3#frag", 3), "http://h/x?a=%20b&pages=3&page=3");
    EXPECT_EQ(with_page("http://h/x?page&&page=2&b", 4), "http://h/x?b&page=4");
}

TEST(fetch_cli_pieces, url_list_skips_blanks_and_comments) {
    std::istringstream in("a\n\n  # c\n#d\n\tb \r\n   \nc");
    EXPECT_EQ(corio_fetch::read_url_list(in), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(fetch_cli, debug_mode_finds_nothing_wrong_in_a_fetch_with_retries) {
    demo_thread demo;
    const auto before = corio::debug_stats();
    const auto run = fetch({"--debug", "--retries", "2", "--json", demo.url("/users"),
                            demo.url("/flaky?key=debug&fail=1&status=503&retry_after=0")});
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(corio::debug_stats().total(), before.total()) << run.err;
    EXPECT_FALSE(contains(run.err, "corio debug")) << run.err;
}
