// libFuzzer target for corio/http/cookie_jar.hpp.
//
// The input is split into lines at '\n'. The first byte of a line is control, the rest its
// payload:
//   bits 0-2  which of 8 fixed origin URLs the line comes from (http/https/wss, subdomains,
//             IPv4 and IPv6 hosts, a single-label host);
//   bits 3-5  how far the clock moves forward first (0 s .. 80 years; it starts in 2024), so that
//             stored cookies expire;
//   bits 6-7  0, 1: update(origin, payload) — the payload is a Set-Cookie value;
//             2: set(origin, name, value) with the payload split at its first '=';
//             3: bulk: update() 60 times from the origin with the payload prefixed by the name
//                prefix "b<i>" (past the per-domain cap); with origin bits 7, instead, the jar is
//                replaced by one filled to its total cap of 3000 cookies from 3600 hosts (built
//                once; see full_jar()), so that later lines run into the total cap.
// Invariants (trap otherwise):
// - size() <= 3000 (max_cookies) after every operation;
// - after bulk operations, every 8th line (while the jar holds at most 64 cookies) and at the end
//   of the input, every header_for() value for a fixed set of targets: no CR, LF or NUL;
//   "; "-separated name=value pairs with a token name, a value without control characters or
//   ';', and name + value <= 4096 bytes (max_cookie_size); at most 50 (max_cookies_per_domain)
//   pairs per cookie domain the target host can match (1 for example.com, 2 for
//   sub.example.com, ...);
// - the pairs sent to an http (ws) target are a subsequence of those sent to the https (wss)
//   target with the same host and path (Secure only removes cookies; the order is kept);
// - hosts no origin can set a cookie for get none: notexample.com (suffix without a dot),
//   x.127.0.0.1 (IP hosts never widen), a.localhost and com (single-label Domain), other.test;
// - update() is idempotent: applying a line twice leaves the jar as applying it once (same size,
//   same header for the origin), as a cookie replaces the stored one with the same (name, domain,
//   path); checked while the jar holds fewer than 64 cookies (it copies the jar);
// - after a successful set(), the origin's host on path "/" is sent that name=value.
#include <corio/http/cookie_jar.hpp>
#include <corio/http/headers.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace http = corio::http;
using http::cookie_jar;
using http::url;
using time_point = cookie_jar::time_point;

const std::array<url, 8>& origins() {
    static const std::array<url, 8> list = {
        url::parse("http://example.com/"),
        url::parse("https://example.com/a/b/c"),
        url::parse("http://sub.example.com/dir/page"),
        url::parse("https://a.sub.example.com/"),
        url::parse("http://127.0.0.1:8080/x/y"),
        url::parse("http://[::1]/"),
        url::parse("http://localhost/p/"),
        url::parse("wss://example.org/chat/room"),
    };
    return list;
}

/// (insecure, secure) targets with the same host and path, and how many cookie domains their
/// host can match.
struct target_pair {
    url insecure, secure;
    std::size_t domains;
};

const std::vector<target_pair>& target_pairs() {
    static const std::vector<target_pair> list = [] {
        std::vector<target_pair> out;
        auto add = [&](std::string_view plain, std::string_view secure, std::size_t domains) {
            out.push_back({url::parse(plain), url::parse(secure), domains});
        };
        add("http://example.com/", "https://example.com/", 1);
        add("http://example.com/a/b/c/d", "https://example.com/a/b/c/d", 1);
        add("http://sub.example.com/dir/page", "https://sub.example.com/dir/page", 2);
        add("http://a.sub.example.com/", "https://a.sub.example.com/", 3);
        add("http://127.0.0.1:8080/x/y", "https://127.0.0.1/x/y", 1);
        add("http://[::1]/", "https://[::1]/", 1);
        add("http://localhost/p/q", "https://localhost/p/q", 1);
        add("ws://example.org/chat/room", "wss://example.org/chat/room", 1);
        add("http://example.org/", "https://example.org/", 1);
        return out;
    }();
    return list;
}

const std::vector<url>& foreign_targets() {
    static const std::vector<url> list = {
        url::parse("https://notexample.com/"), url::parse("https://x.127.0.0.1/x/y"),
        url::parse("https://a.localhost/p/q"), url::parse("https://com/"),
        url::parse("https://other.test/"),
    };
    return list;
}

constexpr std::size_t domain_bulk_count = 60;  // > max_cookies_per_domain

/// A jar filled past its total cap, built once (3600 updates take a third of a second here: the
/// jar scans linearly): cookie b<i>=<i> from http://h<i>.example.com/d/p for i < 3600, every
/// third with Max-Age=3600 (so moving the clock an hour expires them), every seventh with
/// Domain=example.com (the per-domain cap applies), at the fuzz clock's start.
const cookie_jar& full_jar(time_point start) {
    static const cookie_jar jar = [&] {
        cookie_jar out;
        for (std::size_t i = 0; i < 3600; ++i) {
            const url origin = url::parse("http://h" + std::to_string(i) + ".example.com/d/p");
            std::string line = "b" + std::to_string(i) + "=" + std::to_string(i);
            if (i % 3 == 0) line += "; Max-Age=3600";
            if (i % 7 == 0) line += "; Domain=example.com";
            out.update(origin, line, start);
            if (out.size() > cookie_jar::max_cookies) __builtin_trap();
        }
        if (out.size() != cookie_jar::max_cookies) __builtin_trap();  // full, not beyond
        return out;
    }();
    return jar;
}

/// The name=value pairs of a Cookie header value, checked for well-formedness.
std::vector<std::string_view> pairs_of(std::string_view header) {
    std::vector<std::string_view> out;
    if (header.empty()) return out;
    for (char c : header)
        if (c == '\r' || c == '\n' || c == '\0') __builtin_trap();
    for (;;) {
        const std::size_t semi = header.find(';');
        const std::string_view pair = header.substr(0, semi);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) __builtin_trap();
        const std::string_view name = pair.substr(0, eq), value = pair.substr(eq + 1);
        if (!http::is_token(name)) __builtin_trap();
        for (char ch : value) {
            const auto c = static_cast<unsigned char>(ch);
            if (c < 0x20 || c == 0x7f) __builtin_trap();
        }
        if (name.size() + value.size() > cookie_jar::max_cookie_size) __builtin_trap();
        out.push_back(pair);
        if (semi == std::string_view::npos) return out;
        if (semi + 1 >= header.size() || header[semi + 1] != ' ') __builtin_trap();  // "; "
        header.remove_prefix(semi + 2);
    }
}

bool is_subsequence(const std::vector<std::string_view>& small,
                    const std::vector<std::string_view>& big) {
    std::size_t j = 0;
    for (std::string_view s : small) {
        while (j < big.size() && big[j] != s) ++j;
        if (j == big.size()) return false;
        ++j;
    }
    return true;
}

/// Checks the invariants on every target.
void check_jar(cookie_jar& jar, time_point now) {
    if (jar.size() > cookie_jar::max_cookies) __builtin_trap();
    for (const auto& t : target_pairs()) {
        const std::string plain = jar.header_for(t.insecure, now);
        const std::string secure = jar.header_for(t.secure, now);
        const auto plain_pairs = pairs_of(plain);
        const auto secure_pairs = pairs_of(secure);
        if (secure_pairs.size() > cookie_jar::max_cookies_per_domain * t.domains) __builtin_trap();
        if (!is_subsequence(plain_pairs, secure_pairs)) __builtin_trap();
    }
    for (const url& t : foreign_targets())
        if (!jar.header_for(t, now).empty()) __builtin_trap();
    if (jar.size() > cookie_jar::max_cookies) __builtin_trap();
}

std::string root_of(const url& origin) {
    return origin.scheme() + "://" + origin.authority() + "/";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr std::array<std::int64_t, 8> advance = {
        0, 1, 59, 3600, 86400, 30 * 86400, 5 * 365 * 86400, std::int64_t{80} * 365 * 86400};
    using std::chrono::seconds;
    const time_point start{seconds(1704067200)};  // 2024-01-01T00:00:00Z
    const time_point latest{seconds(7258118400)};  // 2200-01-01: keeps clock arithmetic in range
    time_point now = start;
    cookie_jar jar;
    std::size_t lines = 0;

    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty()) {
        const std::size_t nl = input.find('\n');
        std::string_view line = input.substr(0, nl);
        input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
        if (line.empty()) continue;
        const auto control = static_cast<std::uint8_t>(line[0]);
        line.remove_prefix(1);
        const url& origin = origins()[control & 7];
        const seconds step(advance[(control >> 3) & 7]);
        now = latest - now < step ? latest : now + step;
        const unsigned op = control >> 6;

        if (op == 2) {
            const std::size_t eq = line.find('=');
            const std::string name(line.substr(0, eq));
            const std::string value(eq == std::string_view::npos ? std::string_view()
                                                                 : line.substr(eq + 1));
            try {
                jar.set(origin, name, value);
            } catch (const std::invalid_argument&) {
                continue;
            }
            const std::string expected = name + "=" + value;
            const std::string header = jar.header_for(url::parse(root_of(origin)), now);
            bool found = false;
            for (std::string_view pair : pairs_of(header)) found = found || pair == expected;
            if (!found) __builtin_trap();
        } else if (op == 3 && (control & 7) == 7) {
            jar = full_jar(start);
        } else if (op == 3) {
            for (std::size_t i = 0; i < domain_bulk_count; ++i) {
                jar.update(origin, "b" + std::to_string(i) + std::string(line), now);
                if (jar.size() > cookie_jar::max_cookies) __builtin_trap();
            }
        } else if (jar.size() < 64) {
            cookie_jar twice = jar;
            jar.update(origin, line, now);
            twice.update(origin, line, now);
            twice.update(origin, line, now);
            if (twice.size() != jar.size()) __builtin_trap();
            if (twice.header_for(origin, now) != jar.header_for(origin, now)) __builtin_trap();
        } else {
            jar.update(origin, line, now);
        }
        if (jar.size() > cookie_jar::max_cookies) __builtin_trap();
        // The full check (23 header_for calls, each a scan of the jar) after every line would
        // slow the target down several times; stored cookies persist, so checking after bulk
        // operations, every 8th line of a small jar and at the end sees nearly all of them.
        if (op == 3 || (++lines % 8 == 0 && jar.size() <= 64)) check_jar(jar, now);
    }
    check_jar(jar, now);
    return 0;
}
