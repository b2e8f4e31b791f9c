// fetch_cli.cpp — corio-fetch's engine: command line, workers, retries, output. See fetch_cli.hpp.
#include "fetch_cli.hpp"

#include <corio/error.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/content_decoder.hpp>
#include <corio/http/errors.hpp>
#include <corio/http/retry_after.hpp>
#include <corio/http/trace.hpp>
#include <corio/http/url.hpp>
#include <corio/log.hpp>
#include <corio/net/errors.hpp>
#include <corio/rate_limiter.hpp>
#include <corio/retry.hpp>
#include <corio/run.hpp>
#include <corio/sleep.hpp>
#include <corio/task_group.hpp>
#include <corio/version.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>

namespace corio_fetch {

namespace http = corio::http;
using corio::clock;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::seconds max_retry_after{60};  // a longer Retry-After is cut to this
constexpr auto initial_backoff = 500ms;  // the backoff cap before the first retry
constexpr auto max_backoff = 30s;        // no backoff cap grows beyond this

std::string_view trim(std::string_view s) noexcept {
    constexpr std::string_view blanks = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

long long to_ms(clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

/// Rounds up: a positive number of seconds never becomes a zero (disabled) limit.
clock::duration seconds_to_duration(double seconds) {
    return std::chrono::ceil<clock::duration>(std::chrono::duration<double>(seconds));
}

// ---- one request's outcome -------------------------------------------------------------------

/// The outcome of one URL (one page): a response, a failure, or both (a 5xx has a body).
class fetch_result {
public:
    fetch_result() noexcept {}  // user-provided: not an aggregate (g++ 12, see fetch_options)

    bool ok() const noexcept { return kind.empty(); }
    void fail(std::string_view failure_kind, std::string message) {
        kind = failure_kind;
        error = std::move(message);
    }

    std::string url;
    int page = 0;        // 1, 2, ... with --paginate; 0 otherwise
    int status = 0;      // 0: no response
    int attempts = 0;
    clock::duration elapsed{};
    std::string kind;    // the failure kind; empty iff the request succeeded
    std::string error;   // the failure's message; empty iff kind is
    std::string body;    // the (decoded) body, if a response arrived
    std::optional<nlohmann::ordered_json> json;  // the body parsed, when asked for and valid JSON
    std::string json_error;                   // why parsing failed, when asked for
};

/// Parses r.body into r.json (or explains in r.json_error), once.
void parse_body(fetch_result& r) {
    if (r.json || !r.json_error.empty()) return;
    try {
        r.json = nlohmann::ordered_json::parse(r.body);
    } catch (const nlohmann::json::parse_error& e) {
        r.json_error = e.what();
    }
}

/// --paginate: judges a page; false when it was the last (empty or missing array, or a failure,
/// which it records).
bool has_more_items(fetch_result& r, const std::string& field) {
    if (!r.ok()) return false;
    parse_body(r);
    if (!r.json) {
        r.fail("invalid_json", r.url + ": the page is not JSON: " + r.json_error);
        return false;
    }
    if (!r.json->is_object() || !r.json->contains(field)) return false;
    const auto& items = (*r.json)[field];
    if (!items.is_array()) {
        r.fail("invalid_json", r.url + ": \"" + field + "\" is not an array");
        return false;
    }
    return !items.empty();
}

// ---- output ----------------------------------------------------------------------------------

std::string dump(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // bodies may not be UTF-8
}

std::string json_line(fetch_result& r) {
    nlohmann::ordered_json line;
    line["url"] = r.url;
    if (r.page > 0) line["page"] = r.page;
    line["status"] = r.status > 0 ? nlohmann::ordered_json(r.status) : nlohmann::ordered_json();
    line["elapsed_ms"] = to_ms(r.elapsed);
    line["attempts"] = r.attempts;
    line["error_kind"] = r.ok() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.kind);
    line["error"] = r.ok() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.error);
    if (r.status > 0) {
        parse_body(r);
        if (r.json)
            line["json"] = *r.json;
        else
            line["body"] = r.body;
    }
    return dump(line);
}

std::string human_line(const fetch_result& r) {
    char head[64];
    const std::string status = r.status > 0 ? std::to_string(r.status) : "---";
    const std::string size = r.status > 0 ? std::to_string(r.body.size()) + " B" : "-";
    std::snprintf(head, sizeof head, "%-3s %10s %8lld ms  ", status.c_str(), size.c_str(), to_ms(r.elapsed));
    std::string line = head + r.url;
    if (r.attempts > 1) line += " (" + std::to_string(r.attempts) + " attempts)";
    if (!r.ok()) line += "  [" + r.kind + "] " + r.error;
    return line;
}

/// Writes result lines, draws the progress bar, counts outcomes, writes the summary.
class report {
public:
    report(std::ostream& out, std::ostream& err, const fetch_options& options)
        : out_(out), err_(err), json_(options.json), progress_(options.progress), urls_(options.urls.size()) {}

    void add(fetch_result& r) {
        clear_progress();
        out_ << (json_ ? json_line(r) : human_line(r)) << '\n';
        out_.flush();  // results stream out as they come, even into a pipe
        if (r.ok())
            ++succeeded_;
        else
            ++failures_[r.kind];
        draw_progress();
    }

    void url_done() {
        ++urls_done_;
        draw_progress();
    }

    void warn(const std::string& message) {
        clear_progress();
        err_ << "corio-fetch: " << message << '\n';
        draw_progress();
    }

    /// Writes the summary; returns the exit code.
    int finish(clock::duration elapsed) {
        clear_progress();
        std::size_t failed = 0;
        for (const auto& [kind, count] : failures_) failed += count;
        char total[32];
        std::snprintf(total, sizeof total, "%.2f s", std::chrono::duration<double>(elapsed).count());
        err_ << "corio-fetch: " << succeeded_ + failed << " results in " << total << ": " << succeeded_ << " ok, "
             << failed << " failed\n";
        row("ok", succeeded_);
        for (const auto& [kind, count] : failures_) row(kind, count);
        err_.flush();
        return failed == 0 ? 0 : 1;
    }

private:
    void row(std::string_view kind, std::size_t count) {
        char line[64];
        std::snprintf(line, sizeof line, "  %-14.*s %8zu\n", static_cast<int>(kind.size()), kind.data(), count);
        err_ << line;
    }

    void draw_progress() {
        if (!progress_) return;
        constexpr std::size_t width = 30;
        const std::size_t filled = urls_ == 0 ? width : width * urls_done_ / urls_;
        std::size_t failed = 0;
        for (const auto& [kind, count] : failures_) failed += count;
        err_ << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << urls_done_ << '/' << urls_
             << " URLs  " << succeeded_ << " ok  " << failed << " failed" << std::flush;
    }
    void clear_progress() {
        if (progress_) err_ << "\r\033[K";
    }

    std::ostream& out_;
    std::ostream& err_;
    bool json_;
    bool progress_;
    std::size_t urls_;            // URLs to fetch
    std::size_t urls_done_ = 0;   // URLs finished (every page)
    std::size_t succeeded_ = 0;   // successful result lines
    std::map<std::string, std::size_t> failures_;  // failed result lines by kind
};

// ---- fetching --------------------------------------------------------------------------------

/// A response with a failing status, thrown by an attempt so that corio::retry can judge it and
/// honour its Retry-After; it keeps the body for the report.
class failed_response : public http::status_error {
public:
    failed_response(const http::client_response& r, std::string url, std::string body)
        : status_error(r.status(), r.reason(), "GET", std::move(url), r.headers()), body_(std::move(body)) {}
    const std::string& body() const noexcept { return body_; }

private:
    std::string body_;
};

/// The status of a failed_response (or any status_error), else 0.
int status_of(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const http::status_error& s) {
        return s.status();
    } catch (...) {
        return 0;
    }
}

/// The result reported for `url` when its last attempt failed with `e`.
fetch_result failed_result(const std::string& url, const std::exception_ptr& e) {
    fetch_result r;
    r.url = url;
    try {
        std::rethrow_exception(e);
    } catch (const failed_response& f) {
        r.status = f.status();
        r.body = f.body();
        r.fail(status_kind(f.status()), std::to_string(f.status()) + " " + f.reason());
        return r;
    } catch (...) {
    }
    r.fail(error_kind(e), corio::describe(e));
    return r;
}

/// --trace: each request's events, kept until the request is over (its body read, or its
/// failure), then written to `err` as one block: concurrent requests do not interleave.
class trace_printer {
public:
    explicit trace_printer(std::ostream& err) : err_(err) {}
    trace_printer(const trace_printer&) = delete;
    ~trace_printer() {
        for (const auto& [request, lines] : pending_) err_ << lines;  // requests never finished
    }

    void add(const http::trace_event& e) {
        std::string& lines = pending_[e.request];
        if (lines.empty()) lines = "trace " + std::string(e.method) + " " + std::string(e.url) + "\n";
        char when[32];
        std::snprintf(when, sizeof when, "  %10.3f ms  ", std::chrono::duration<double, std::milli>(e.elapsed).count());
        lines += when;
        lines += http::to_string(e.kind);
        if (!e.detail.empty()) lines += "  " + std::string(e.detail);
        if (e.status != 0) lines += "  status " + std::to_string(e.status);
        if (e.bytes != 0) lines += "  " + std::to_string(e.bytes) + " B";
        lines += '\n';
        if (e.kind == http::trace_kind::response_end || e.kind == http::trace_kind::request_exception) {
            err_ << lines << std::flush;
            pending_.erase(e.request);
        }
    }

private:
    std::ostream& err_;
    std::map<std::uint64_t, std::string> pending_;  // by request number, until it is over
};

/// The session's settings from the command line (the trace printer aside).
http::session_options session_settings(const fetch_options& options) {
    http::session_options settings;
    settings.limit = options.concurrency;
    for (const auto& [name, value] : options.headers) settings.headers.add(name, value);
    settings.proxy = options.proxy;
    settings.no_proxy = options.no_proxy;  // both empty: the environment's, as curl reads them
    return settings;
}

http::client_session make_session(const fetch_options& options, std::ostream& err) {
    http::session_options settings = session_settings(options);
    if (options.trace) {
        auto printer = std::make_shared<trace_printer>(err);
        settings.trace = [printer](const http::trace_event& e) { printer->add(e); };
    }
    return http::client_session(std::move(settings));
}

/// Everything the workers share: the session, the rate limiter, the report, the jitter source.
class fetcher {
public:
    fetcher(const fetch_options& options, std::ostream& out, std::ostream& err)
        : options_(options), session_(make_session(options, err)), report_(out, err, options) {
        timeout_.total = options.timeout;
        timeout_.connect = options.connect_timeout;
        if (options.rate > 0) limiter_ = std::make_unique<corio::rate_limiter>(options.rate, 1);
    }

    /// Fetches one URL (every page of it) and reports the results. Throws only cancelled_error.
    corio::task<> fetch_url(std::string url) {
        if (options_.paginate.empty()) {
            fetch_result r = co_await fetch_with_retries(std::move(url));
            report_.add(r);
        } else {
            co_await fetch_pages(std::move(url));
        }
        report_.url_done();
    }

    int finish(clock::duration elapsed) {
        session_.close();
        return report_.finish(elapsed);
    }

private:
    corio::task<> fetch_pages(std::string url) {
        for (int page = 1;; ++page) {
            fetch_result r = co_await fetch_with_retries(with_page(url, page));
            r.page = page;
            const bool more = has_more_items(r, options_.paginate);
            report_.add(r);
            if (!more) co_return;
            if (page == options_.max_pages) {
                report_.warn(url + ": stopped after " + std::to_string(page) + " pages (--max-pages)");
                co_return;
            }
        }
    }

    /// Every attempt at `url` through corio::retry: transient failures are retried after a
    /// jittered backoff, or after the server's Retry-After.
    corio::task<fetch_result> fetch_with_retries(std::string url) {
        const auto start = clock::now();
        int attempts = 0;
        auto attempt = [this, &url, &attempts]() -> corio::task<fetch_result> {
            ++attempts;
            if (limiter_) co_await limiter_->acquire();
            co_return co_await fetch_once(url);
        };
        fetch_result r;
        try {
            r = co_await corio::retry(retry_policy(), std::move(attempt));
        } catch (const corio::cancelled_error&) {
            throw;
        } catch (const corio::retry_error& e) {
            r = failed_result(url, e.last_error());
        } catch (...) {
            r = failed_result(url, std::current_exception());
        }
        r.attempts = attempts;
        r.elapsed = clock::now() - start;
        co_return r;
    }

    corio::retry_policy retry_policy() const {
        corio::retry_policy policy;
        policy.max_attempts = options_.retries + 1;
        policy.initial_delay = initial_backoff;
        policy.max_delay = max_backoff;
        policy.retry_if = [](const std::exception_ptr& e) { return is_transient(error_kind(e), status_of(e)); };
        policy.delay_from_error = http::retry_after_delay(max_retry_after);
        return policy;
    }

    /// One attempt: the result of a response below 400; throws failed_response for the others
    /// and the request's own error for a failure.
    corio::task<fetch_result> fetch_once(std::string url) {
        http::request_options request;
        request.timeout(timeout_);
        auto response = co_await session_.get(url, std::move(request));
        std::string body = co_await response.text();
        if (response.status() >= 400) throw failed_response(response, std::move(url), std::move(body));
        fetch_result r;
        r.url = std::move(url);
        r.status = response.status();
        r.body = std::move(body);
        co_return r;
    }

    const fetch_options& options_;  // outlives the fetcher (fetch_all's frame)
    http::client_session session_;
    http::client_timeout timeout_;
    std::unique_ptr<corio::rate_limiter> limiter_;  // null without --rate
    report report_;
};

/// One worker: takes the next URL until none is left.
corio::task<> worker(fetcher& f, const std::vector<std::string>& urls, std::size_t& next) {
    while (next < urls.size()) co_await f.fetch_url(urls[next++]);
}

// ---- command line ----------------------------------------------------------------------------

std::string check_header(const std::string& header) {
    const auto colon = header.find(':');
    if (colon == std::string::npos || trim(std::string_view(header).substr(0, colon)).empty())
        return "expected \"Name: value\", got \"" + header + "\"";
    return {};
}

std::string format_number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

/// Accepts a finite number in [low, high] (CLI::Range lets "nan" through).
CLI::Validator number_in(double low, double high) {
    const std::string range = "[" + format_number(low) + ", " + format_number(high) + "]";
    auto check = [low, high, range](const std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !std::isfinite(value) || value < low || value > high)
            return "expected a number in " + range + ", got \"" + text + "\"";
        return {};
    };
    return CLI::Validator(check, "NUMBER in " + range);
}

std::pair<std::string, std::string> split_header(std::string_view header) {
    const auto colon = header.find(':');
    return {std::string(trim(header.substr(0, colon))), std::string(trim(header.substr(colon + 1)))};
}

}  // namespace

// ---- public pieces ---------------------------------------------------------------------------

std::string_view error_kind(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const corio::timeout_error&) {
        return "timeout";
    } catch (const corio::net::dns_error&) {
        return "dns";
    } catch (const corio::net::connect_error&) {
        return "connect";
    } catch (const corio::net::tls_error&) {
        return "tls";
    } catch (const corio::net::connection_reset_error&) {
        return "reset";
    } catch (const http::proxy_error&) {
        return "proxy";
    } catch (const http::protocol_error&) {
        return "protocol";
    } catch (const corio::connection_error&) {
        return "connection";
    } catch (const http::status_error& s) {
        return status_kind(s.status());
    } catch (const http::json_error&) {
        return "invalid_json";
    } catch (const http::too_many_redirects_error&) {
        return "redirects";
    } catch (const http::url_error&) {
        return "url";
    } catch (const http::decode_error&) {
        return "decode";
    } catch (...) {
        return "error";
    }
}

std::string_view status_kind(int status) noexcept {
    if (status >= 500) return "http_5xx";
    if (status >= 400) return "http_4xx";
    return "";
}

bool is_transient(std::string_view kind, int status) noexcept {
    if (kind == "http_4xx" || kind == "http_5xx") return status == 408 || status == 429 || status >= 500;
    return kind == "timeout" || kind == "connect" || kind == "reset" || kind == "protocol" || kind == "connection";
}

std::string with_page(std::string_view url, int page) {
    url = url.substr(0, url.find('#'));
    const auto question = url.find('?');
    std::string result(url.substr(0, question));
    std::string query;
    if (question != std::string_view::npos) {
        std::string_view rest = url.substr(question + 1);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            const auto part = rest.substr(0, amp);
            const auto key = part.substr(0, part.find('='));
            if (!part.empty() && key != "page") query.append(part).append("&");
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        }
    }
    return result + "?" + query + "page=" + std::to_string(page);
}

std::vector<std::string> read_url_list(std::istream& in) {
    std::vector<std::string> urls;
    std::string line;
    while (std::getline(in, line)) {
        const auto url = trim(line);
        if (!url.empty() && url.front() != '#') urls.emplace_back(url);
    }
    return urls;
}

namespace {

/// Why the proxy settings (--proxy, --noproxy, or the environment's) cannot be used; "" if they can.
std::string proxy_problem(const fetch_options& options) {
    try {
        const http::client_session probe(session_settings(options));
    } catch (const http::url_error& e) {
        return std::string("bad proxy: ") + e.what();
    }
    return {};
}

}  // namespace

std::optional<int> parse_fetch_args(int argc, const char* const* argv, std::istream& in, std::ostream& out,
                                    std::ostream& err, fetch_options& options) {
    CLI::App app("Fetches many URLs concurrently: retries with backoff, rate limits, pagination, JSON lines.\n"
                 "One result line per URL on stdout as each completes; a summary on stderr.\n"
                 "Exit code: 0 all succeeded, 1 some failed, 2 usage error.",
                 "corio-fetch");
    app.set_version_flag("--version", "corio-fetch " CORIO_VERSION_STRING);
    std::vector<std::string> urls;
    std::string input;
    double timeout = 30;
    double connect_timeout = 0;
    std::vector<std::string> headers;
    app.add_option("urls", urls, "URLs to fetch (GET)");
    app.add_option("-i,--input", input, "Also read URLs from FILE ('-': stdin), one per line; blank lines and # comments are skipped")
        ->type_name("FILE");
    app.add_option("-c,--concurrency", options.concurrency, "Requests in flight at once")
        ->type_name("N")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    app.add_option("-t,--timeout", timeout, "Time limit of each request attempt, body included (seconds)")
        ->type_name("SECONDS")
        ->check(number_in(0.001, 1e6))
        ->capture_default_str();
    app.add_option("--connect-timeout", connect_timeout, "Time limit of DNS + TCP + TLS connection setup (seconds)")
        ->type_name("SECONDS")
        ->check(number_in(0.001, 1e6));
    app.add_option("-r,--retries", options.retries,
                   "Retry transient failures (timeouts, connection errors, 408, 429, 5xx) up to N times, with "
                   "exponential backoff and full jitter, or after the server's Retry-After (at most 60 s)")
        ->type_name("N")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    app.add_option("--rate", options.rate, "At most R requests per second (attempts included)")
        ->type_name("R")
        ->check(number_in(0.001, 1e6));
    app.add_option("--paginate", options.paginate,
                   "Fetch ?page=1, 2, ... of each URL until the JSON array FIELD is empty or missing; one line per page")
        ->type_name("FIELD");
    app.add_option("--max-pages", options.max_pages, "With --paginate: at most N pages per URL")
        ->type_name("N")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("-H,--header", headers, "Send this header with every request (repeatable)")
        ->type_name("'NAME: VALUE'")
        ->allow_extra_args(false)  // one header per -H: a URL after it stays a URL
        ->check(CLI::Validator(check_header, ""));
    app.add_option("-x,--proxy", options.proxy,
                   "Use this HTTP proxy: http requests forwarded, https tunnelled with CONNECT "
                   "(default: http_proxy, https_proxy or all_proxy from the environment)")
        ->type_name("http://[USER:PASSWORD@]HOST[:PORT]");
    app.add_option("--noproxy", options.no_proxy, "Hosts to reach without the proxy, comma-separated (default: no_proxy)")
        ->type_name("LIST");
    app.add_flag("--json", options.json,
                 "Write JSON lines: {url, status, elapsed_ms, attempts, error_kind, error, json or body}");
    app.add_flag("--trace", options.trace,
                 "Print each request's timeline to stderr: connection, DNS, headers sent, first byte, body pieces");
    app.add_flag("--debug", options.debug,
                 "Debug mode: report blocked loops, unbounded calls, lost errors...; SIGUSR1 prints every live task");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e, out, err) == 0 ? 0 : 2;
    }

    options.urls = std::move(urls);
    if (!input.empty()) {
        if (input == "-") {
            auto more = read_url_list(in);
            options.urls.insert(options.urls.end(), more.begin(), more.end());
        } else {
            std::ifstream file(input);
            if (!file) {
                err << "corio-fetch: cannot read " << input << ": " << std::strerror(errno) << '\n';
                return 2;
            }
            auto more = read_url_list(file);
            options.urls.insert(options.urls.end(), more.begin(), more.end());
        }
    }
    if (options.urls.empty()) {
        err << "corio-fetch: no URLs given (as arguments or with --input)\nRun with --help for more information.\n";
        return 2;
    }
    if (const std::string problem = proxy_problem(options); !problem.empty()) {
        err << "corio-fetch: " << problem << '\n';
        return 2;
    }
    options.timeout = seconds_to_duration(timeout);
    options.connect_timeout = seconds_to_duration(connect_timeout);
    for (const auto& h : headers) options.headers.push_back(split_header(h));
    return std::nullopt;
}

corio::task<int> fetch_all(fetch_options options, std::ostream& out, std::ostream& err) {
    const auto start = clock::now();
    fetcher f(options, out, err);
    std::size_t next = 0;  // the next URL a worker takes
    const std::size_t workers = std::min(options.concurrency, options.urls.size());
    std::exception_ptr interrupted;
    try {
        co_await corio::with_task_group([&](corio::task_group& group) -> corio::task<> {
            for (std::size_t i = 0; i < workers; ++i) group.spawn(worker(f, options.urls, next), "corio-fetch worker");
            co_return;
        });
    } catch (const corio::cancelled_error&) {
        interrupted = std::current_exception();
    }
    const int code = f.finish(clock::now() - start);
    if (interrupted) std::rethrow_exception(interrupted);
    co_return code;
}

int run_fetch(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
              bool err_is_terminal) {
    fetch_options options;
    if (const auto code = parse_fetch_args(argc, argv, in, out, err, options)) return *code;
    options.progress = err_is_terminal && !options.trace;  // the trace goes to stderr too
    try {
        const bool debug = options.debug;
        return corio::run(fetch_all(std::move(options), out, err), {.debug = debug});
    } catch (const corio::cancelled_error&) {
        err << "corio-fetch: interrupted\n";
        return 130;
    } catch (const std::exception& e) {
        err << "corio-fetch: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace corio_fetch
