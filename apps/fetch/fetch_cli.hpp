// fetch_cli: the engine of corio-fetch, a concurrent HTTP fetcher for the jobs people do today with
// `xargs -P curl` loops or small Python scripts.
//
//   corio-fetch [OPTIONS] [URL...]        (URLs also from --input FILE, '-' = stdin)
//
// Every URL is fetched with GET by one of `--concurrency` workers sharing one connection pool;
// each result is written as soon as it is known, one line per URL (per page with --paginate), in
// completion order: human-readable by default, JSON lines with --json. A live progress bar goes
// to stderr when stderr is a terminal; a summary table (successes, failures by kind) always goes
// to stderr at the end; --trace writes each request's timeline (connection, DNS, headers sent,
// first byte, body pieces, with times) to stderr as the request ends. Exit code: 0 if every
// request succeeded, 1 if any failed, 2 for a usage error, 130 if interrupted (SIGINT/SIGTERM).
//
// A request fails with one of these kinds (error_kind()): timeout, dns, connect, tls, reset,
// protocol, proxy (a proxy refused CONNECT), connection, redirects, url, decode, http_4xx,
// http_5xx, invalid_json (--paginate only: a page that is not JSON, or whose FIELD is not an
// array), error (anything else). --proxy (or http_proxy, https_proxy, all_proxy and no_proxy
// from the environment, as curl reads them) sends the requests through an HTTP proxy.
// --retries N retries transient failures — timeout, connect, reset, protocol, connection, and
// the statuses 408, 429 and 5xx — with corio::retry: after a backoff with full jitter (uniform
// in [0, min(30 s, 0.5 s * 2^n)) before retry n), or after the server's Retry-After (seconds or
// an HTTP-date, capped at 60 s: http::retry_after_delay). Each attempt takes a --rate token.
// elapsed covers all attempts and the waits between them.
//
// Thread-safety: run_fetch() runs its own event loop on the calling thread (corio::run);
// fetch_all() runs on the caller's loop. The other functions are pure.
#pragma once

#include <corio/clock.hpp>
#include <corio/task.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio_fetch {

/// What corio-fetch was asked to do. Not an aggregate on purpose (g++ 12 miscompiles aggregate
/// temporaries with strings across co_await): default-construct, then set fields.
class fetch_options {
public:
    fetch_options() noexcept {}

    std::vector<std::string> urls;
    std::size_t concurrency = 8;                                        ///< workers; >= 1
    corio::clock::duration timeout = std::chrono::seconds(30);         ///< per attempt; > 0
    corio::clock::duration connect_timeout{0};                          ///< 0: only `timeout`
    int retries = 0;                                                    ///< extra attempts
    double rate = 0;                                                    ///< requests/s; 0: unlimited
    std::string paginate;                                               ///< JSON array field; "": off
    int max_pages = 1000;                                               ///< per URL with paginate
    std::vector<std::pair<std::string, std::string>> headers;          ///< sent with every request
    bool json = false;                                                  ///< JSON lines output
    bool debug = false;                                                 ///< corio debug mode; SIGUSR1 dumps the tasks
    bool trace = false;                                                 ///< each request's timeline on stderr (http/trace.hpp)
    std::string proxy;     ///< --proxy (else http_proxy/https_proxy/all_proxy from the environment, as curl)
    std::string no_proxy;  ///< --noproxy (else no_proxy from the environment)
    bool progress = false;                                              ///< progress bar on stderr
};

/// Parses the command line (and reads --input, from `in` for '-'). Returns nullopt when
/// `options` is ready to run, else the exit code to leave with: 0 after --help/--version
/// (printed to `out`), 2 after a usage error (explained on `err`).
std::optional<int> parse_fetch_args(int argc, const char* const* argv, std::istream& in, std::ostream& out,
                                    std::ostream& err, fetch_options& options);

/// Fetches everything as `options` say, writing results to `out` and the progress bar and
/// summary to `err`; returns the exit code (0 or 1). Throws cancelled_error if cancelled (after
/// writing the summary of what finished).
corio::task<int> fetch_all(fetch_options options, std::ostream& out, std::ostream& err);

/// The whole program: parse_fetch_args, then fetch_all on a new event loop. `err_is_terminal`
/// enables the progress bar.
int run_fetch(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
              bool err_is_terminal = false);

// ---- Pieces, exposed for tests -------------------------------------------------------------

/// The failure kind of an exception thrown by a request (see the header comment).
std::string_view error_kind(const std::exception_ptr& e) noexcept;
/// "http_4xx" / "http_5xx" for a failed status, "" for status < 400.
std::string_view status_kind(int status) noexcept;
/// Whether a failure of this kind (and status, for http_*) is worth another attempt.
bool is_transient(std::string_view kind, int status) noexcept;

/// `url` with its `page` query parameter set to `page` (replacing any, keeping the rest and
/// dropping a fragment): with_page("http://h/x?a=1&page=9#f", 2) == "http://h/x?a=1&page=2".
std::string with_page(std::string_view url, int page);

/// The URLs in a list: one per line, surrounding blanks trimmed; blank lines and lines starting
/// with '#' skipped.
std::vector<std::string> read_url_list(std::istream& in);

}  // namespace corio_fetch
