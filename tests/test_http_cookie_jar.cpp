// http::cookie_jar: Set-Cookie parsing, domain and path matching, expiry, replacement, ordering,
// caps and the malformed lines that must be ignored (RFC 6265 §5).
#include <gtest/gtest.h>

#include <corio/http/cookie_jar.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

using corio::http::cookie_jar;
using corio::http::url;
using namespace std::chrono_literals;

namespace {

// 2026-01-01T00:00:00Z: a fixed "now" keeps expiry deterministic.
const cookie_jar::time_point t0 = std::chrono::sys_days(std::chrono::year(2026) / 1 / 1);

url u(std::string_view text) { return url::parse(text); }

/// A jar holding one Set-Cookie line from `origin`.
cookie_jar jar_with(std::string_view origin, std::string_view set_cookie) {
    cookie_jar jar;
    jar.update(u(origin), set_cookie, t0);
    return jar;
}

std::string header(cookie_jar& jar, std::string_view target, cookie_jar::time_point now = t0) {
    return jar.header_for(u(target), now);
}

// ---------------------------------------------------------------------------------------------
// Round trip and parsing

TEST(cookie_jar, empty_jar_sends_nothing) {
    cookie_jar jar;
    EXPECT_EQ(header(jar, "http://example.com/"), "");
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, stores_and_sends_back) {
    cookie_jar jar;
    jar.update(u("http://example.com/"), "a=1", t0);
    jar.update(u("http://example.com/"), " b = two words ; Path=/", t0);
    EXPECT_EQ(jar.size(), 2u);
    EXPECT_EQ(header(jar, "http://example.com/"), "a=1; b=two words");
    EXPECT_EQ(header(jar, "http://example.com:8080/x?q=1"), "a=1; b=two words");  // ports ignored
}

TEST(cookie_jar, keeps_quotes_and_empty_values) {
    cookie_jar jar;
    jar.update(u("http://example.com/"), "q=\"x y\"", t0);
    jar.update(u("http://example.com/"), "e=", t0);
    EXPECT_EQ(header(jar, "http://example.com/"), "q=\"x y\"; e=");
}

TEST(cookie_jar, ignores_malformed_lines) {
    cookie_jar jar;
    const url origin = u("http://example.com/");
    for (std::string_view line : {"", "novalue", "=v", " =v", ";a=1", "a b=1", "a(=1", "a\x01=1",
                                  "a=b\x01", "a=b\x7f", "a,b=1", "\xc3\xa9=1"}) {
        jar.update(origin, line, t0);
        EXPECT_EQ(jar.size(), 0u) << line;
    }
}

TEST(cookie_jar, skips_bad_attributes) {
    cookie_jar jar = jar_with("https://example.com/a/b",
                              "a=1; Max-Age=abc; Expires=junk; Path; Domain=; Unknown=1; secure;");
    ASSERT_EQ(jar.size(), 1u);
    EXPECT_EQ(header(jar, "https://example.com/a/x", t0 + 24h * 10000), "a=1");  // session, /a
    EXPECT_EQ(header(jar, "https://example.com/"), "");
    EXPECT_EQ(header(jar, "https://www.example.com/a/x"), "");  // still host-only
    EXPECT_EQ(header(jar, "http://example.com/a/x"), "");       // Secure was recognised
}

TEST(cookie_jar, size_limit) {
    const std::string name = "n";
    cookie_jar jar;
    jar.update(u("http://example.com/"), name + "=" + std::string(4095, 'v'), t0);
    EXPECT_EQ(jar.size(), 1u);
    jar.update(u("http://example.com/"), "m=" + std::string(4096, 'v'), t0);
    EXPECT_EQ(jar.size(), 1u);
    EXPECT_EQ(header(jar, "http://example.com/").size(), 4096u + 1);
}

// ---------------------------------------------------------------------------------------------
// Domain

TEST(cookie_jar, host_only_cookie_only_for_that_host) {
    cookie_jar jar = jar_with("http://example.com/", "a=1");
    EXPECT_EQ(header(jar, "http://example.com/"), "a=1");
    EXPECT_EQ(header(jar, "https://EXAMPLE.com/"), "a=1");
    EXPECT_EQ(header(jar, "http://www.example.com/"), "");
    EXPECT_EQ(header(jar, "http://other.com/"), "");
}

TEST(cookie_jar, domain_cookie_matches_subdomains) {
    for (std::string_view line : {"a=1; Domain=example.com", "a=1; domain=.Example.COM"}) {
        cookie_jar jar = jar_with("http://www.example.com/", line);
        EXPECT_EQ(header(jar, "http://example.com/"), "a=1") << line;
        EXPECT_EQ(header(jar, "http://www.example.com/"), "a=1") << line;
        EXPECT_EQ(header(jar, "http://a.b.example.com/"), "a=1") << line;
        EXPECT_EQ(header(jar, "http://notexample.com/"), "") << line;
        EXPECT_EQ(header(jar, "http://example.org/"), "") << line;
    }
}

TEST(cookie_jar, domain_equal_to_host_also_matches_subdomains) {
    cookie_jar jar = jar_with("http://example.com/", "a=1; Domain=example.com");
    EXPECT_EQ(header(jar, "http://sub.example.com/"), "a=1");
}

TEST(cookie_jar, rejects_domain_not_matching_the_host) {
    cookie_jar jar;
    const url origin = u("http://www.example.com/");
    for (std::string_view line : {"a=1; Domain=other.com", "a=1; Domain=sub.www.example.com",
                                  "a=1; Domain=ample.com", "a=1; Domain=example.com.",
                                  "a=1; Domain=com", "a=1; Domain=.com"}) {
        jar.update(origin, line, t0);
        EXPECT_EQ(jar.size(), 0u) << line;
    }
}

TEST(cookie_jar, single_label_domain_only_as_the_host_itself) {
    cookie_jar jar = jar_with("http://localhost/", "a=1; Domain=localhost");
    EXPECT_EQ(header(jar, "http://localhost/"), "a=1");
    EXPECT_EQ(header(jar, "http://a.localhost/"), "");  // stored host-only
}

TEST(cookie_jar, ip_hosts) {
    cookie_jar jar;
    jar.update(u("http://127.0.0.1/"), "a=1", t0);
    jar.update(u("http://127.0.0.1/"), "b=2; Domain=127.0.0.1", t0);  // host-only, as browsers
    jar.update(u("http://127.0.0.1/"), "c=3; Domain=0.0.1", t0);       // rejected
    jar.update(u("http://[::1]:8080/"), "d=4; Domain=::1", t0);
    EXPECT_EQ(jar.size(), 3u);
    EXPECT_EQ(header(jar, "http://127.0.0.1/"), "a=1; b=2");
    EXPECT_EQ(header(jar, "http://127.0.0.2/"), "");
    EXPECT_EQ(header(jar, "http://[::1]/"), "d=4");
}

// ---------------------------------------------------------------------------------------------
// Path

TEST(cookie_jar, default_path_is_the_directory_of_the_origin) {
    cookie_jar jar = jar_with("http://h.com/a/b/c?x=/y", "a=1");
    EXPECT_EQ(header(jar, "http://h.com/a/b"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/a/b/"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/a/b/d/e"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/a"), "");
    EXPECT_EQ(header(jar, "http://h.com/a/bc"), "");
    EXPECT_EQ(header(jar, "http://h.com/"), "");
}

TEST(cookie_jar, default_path_of_top_level_origins) {
    for (std::string_view origin : {"http://h.com/", "http://h.com/file", "http://h.com"}) {
        cookie_jar jar = jar_with(origin, "a=1");
        EXPECT_EQ(header(jar, "http://h.com/"), "a=1") << origin;
        EXPECT_EQ(header(jar, "http://h.com/x/y"), "a=1") << origin;
    }
    cookie_jar jar = jar_with("http://h.com/dir/", "a=1");  // "/dir/" -> "/dir"
    EXPECT_EQ(header(jar, "http://h.com/dir"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/"), "");
}

TEST(cookie_jar, path_attribute) {
    cookie_jar jar = jar_with("http://h.com/", "a=1; Path=/docs");
    EXPECT_EQ(header(jar, "http://h.com/docs"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/docs/"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/docs/web"), "a=1");
    EXPECT_EQ(header(jar, "http://h.com/doc"), "");
    EXPECT_EQ(header(jar, "http://h.com/docsx"), "");
    EXPECT_EQ(header(jar, "http://h.com/"), "");

    cookie_jar slash = jar_with("http://h.com/", "a=1; Path=/docs/");
    EXPECT_EQ(header(slash, "http://h.com/docs/x"), "a=1");
    EXPECT_EQ(header(slash, "http://h.com/docs"), "");
}

TEST(cookie_jar, invalid_path_attribute_means_default_path) {
    for (std::string_view line : {"a=1; Path=relative", "a=1; Path=", "a=1; Path=/x; Path=y"}) {
        cookie_jar jar = jar_with("http://h.com/a/b", line);
        EXPECT_EQ(header(jar, "http://h.com/a/z"), "a=1") << line;
        EXPECT_EQ(header(jar, "http://h.com/x"), "") << line;
    }
}

// ---------------------------------------------------------------------------------------------
// Secure

TEST(cookie_jar, secure_cookies_only_over_https) {
    cookie_jar jar;
    jar.update(u("https://h.com/"), "s=1; Secure", t0);
    jar.update(u("https://h.com/"), "p=2", t0);
    EXPECT_EQ(header(jar, "https://h.com/"), "s=1; p=2");
    EXPECT_EQ(header(jar, "wss://h.com/"), "s=1; p=2");
    EXPECT_EQ(header(jar, "http://h.com/"), "p=2");
    EXPECT_EQ(header(jar, "ws://h.com/"), "p=2");
}

TEST(cookie_jar, http_only_changes_nothing) {
    cookie_jar jar = jar_with("http://h.com/", "a=1; HttpOnly");
    EXPECT_EQ(header(jar, "http://h.com/"), "a=1");
}

// ---------------------------------------------------------------------------------------------
// Expiry

TEST(cookie_jar, max_age_zero_or_negative_deletes) {
    for (std::string_view del : {"a=x; Max-Age=0", "a=x; Max-Age=-1", "a=x; max-age=000"}) {
        cookie_jar jar = jar_with("http://h.com/", "a=1");
        jar.update(u("http://h.com/"), del, t0);
        EXPECT_EQ(jar.size(), 0u) << del;
        EXPECT_EQ(header(jar, "http://h.com/"), "") << del;
    }
    cookie_jar jar;
    jar.update(u("http://h.com/"), "new=1; Max-Age=0", t0);  // never stored
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, deletion_needs_the_same_domain_and_path) {
    cookie_jar jar = jar_with("http://h.com/", "a=1; Path=/x");
    jar.update(u("http://h.com/"), "a=1; Max-Age=0", t0);  // path "/" : another cookie
    EXPECT_EQ(jar.size(), 1u);
    jar.update(u("http://h.com/"), "a=1; Path=/x; Max-Age=0", t0);
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, expires_in_the_past_deletes) {
    cookie_jar jar = jar_with("http://h.com/", "a=1");
    jar.update(u("http://h.com/"), "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT", t0);
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, max_age_beats_expires_in_any_order) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    jar.update(origin, "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=100", t0);
    jar.update(origin, "b=2; Max-Age=100; Expires=Sun, 06 Nov 1994 08:49:37 GMT", t0);
    jar.update(origin, "c=3; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT", t0);
    EXPECT_EQ(header(jar, "http://h.com/"), "a=1; b=2");
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 100s), "");
}

TEST(cookie_jar, expires_over_time) {
    cookie_jar jar;
    jar.update(u("http://h.com/"), "short=1; Max-Age=60", t0);
    jar.update(u("http://h.com/"), "session=2", t0);
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 59s), "short=1; session=2");
    EXPECT_EQ(jar.size(), 2u);
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 60s), "session=2");
    EXPECT_EQ(jar.size(), 1u);  // purged when met
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 24h * 365 * 100), "session=2");
}

TEST(cookie_jar, expired_cookies_are_purged_by_any_request) {
    cookie_jar jar = jar_with("http://h.com/", "a=1; Max-Age=1");
    EXPECT_EQ(jar.size(), 1u);  // expired but not purged yet
    EXPECT_EQ(header(jar, "http://other.com/", t0 + 2s), "");
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, expires_date_formats) {
    // Sun, 06 Nov 1994 08:49:37 GMT in the three formats of RFC 9110 §5.6.7, and oddities the
    // RFC 6265 algorithm tolerates.
    const auto date = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 37s;
    for (std::string_view expires :
         {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
          "Sun Nov  6 08:49:37 1994", "6 november 1994 8:49:37", "1994-Nov-06 08:49:37 UTC"}) {
        cookie_jar jar;
        jar.update(u("http://h.com/"), "a=1; Expires=" + std::string(expires), date - 1s);
        EXPECT_EQ(header(jar, "http://h.com/", date - 1s), "a=1") << expires;
        EXPECT_EQ(header(jar, "http://h.com/", date), "") << expires;
    }
}

TEST(cookie_jar, two_digit_years) {
    cookie_jar jar;
    jar.update(u("http://h.com/"), "a=1; Expires=Thu, 01-Jan-69 00:00:00 GMT", t0);  // 2069
    jar.update(u("http://h.com/"), "b=2; Expires=Thu, 01-Jan-70 00:00:00 GMT", t0);  // 1970
    EXPECT_EQ(header(jar, "http://h.com/"), "a=1");
}

TEST(cookie_jar, unparsable_expires_is_ignored) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    for (std::string_view line :
         {"a=1; Expires=Mon, 30 Feb 1994 08:49:37 GMT", "b=2; Expires=06 Nov 1994 24:00:00",
          "c=3; Expires=06 Nov 1600 08:49:37", "d=4; Expires=Sun, 06 Nov 1994",
          "e=5; Expires=06 Nov 1994 08:49:37 123 GMT x", "f=6; Expires="}) {
        jar.update(origin, line, t0);
    }
    // "e": the 3-digit token is not a year but "1994" already is; the date is valid and past.
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 24h * 365 * 100), "a=1; b=2; c=3; d=4; f=6");
}

TEST(cookie_jar, far_future_expiry_does_not_overflow) {
    cookie_jar jar;
    jar.update(u("http://h.com/"), "a=1; Max-Age=99999999999999999999999", t0);
    jar.update(u("http://h.com/"), "b=2; Expires=Fri, 31 Dec 9999 23:59:59 GMT", t0);
    jar.update(u("http://h.com/"), "c=3; Max-Age=9223372036854775807", t0);
    EXPECT_EQ(header(jar, "http://h.com/", cookie_jar::time_point::max() - 1s), "a=1; b=2; c=3");
}

// ---------------------------------------------------------------------------------------------
// Replacement and ordering

TEST(cookie_jar, same_name_domain_and_path_replaces) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    jar.update(origin, "a=1", t0);
    jar.update(origin, "b=1", t0);
    jar.update(origin, "a=2; Max-Age=100", t0);  // replaces, keeps its place (creation time)
    EXPECT_EQ(jar.size(), 2u);
    EXPECT_EQ(header(jar, "http://h.com/"), "a=2; b=1");
    EXPECT_EQ(header(jar, "http://h.com/", t0 + 100s), "b=1");  // the new expiry applies
}

TEST(cookie_jar, host_only_and_domain_cookie_share_the_key) {
    cookie_jar jar = jar_with("http://h.com/", "a=1");
    jar.update(u("http://h.com/"), "a=2; Domain=h.com", t0);
    EXPECT_EQ(jar.size(), 1u);
    EXPECT_EQ(header(jar, "http://sub.h.com/"), "a=2");
}

TEST(cookie_jar, different_path_or_domain_are_different_cookies) {
    cookie_jar jar;
    jar.update(u("http://www.h.com/"), "a=1", t0);
    jar.update(u("http://www.h.com/"), "a=2; Path=/x", t0);
    jar.update(u("http://www.h.com/"), "a=3; Domain=h.com", t0);
    EXPECT_EQ(jar.size(), 3u);
    EXPECT_EQ(header(jar, "http://www.h.com/x"), "a=2; a=1; a=3");
}

TEST(cookie_jar, longer_paths_first_then_older) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    jar.update(origin, "root1=1; Path=/", t0);
    jar.update(origin, "deep=1; Path=/a/b", t0);
    jar.update(origin, "mid1=1; Path=/a", t0);
    jar.update(origin, "root2=1; Path=/", t0);
    jar.update(origin, "mid2=1; Path=/a/", t0);
    EXPECT_EQ(header(jar, "http://h.com/a/b/c"), "deep=1; mid2=1; mid1=1; root1=1; root2=1");
    EXPECT_EQ(header(jar, "http://h.com/a"), "mid1=1; root1=1; root2=1");
}

// ---------------------------------------------------------------------------------------------
// Caps

TEST(cookie_jar, per_domain_cap_evicts_the_oldest) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    for (int i = 0; i <= 50; ++i) jar.update(origin, "c" + std::to_string(i) + "=1", t0);
    jar.update(u("http://other.com/"), "o=1", t0);
    EXPECT_EQ(jar.size(), 51u);
    const std::string sent = header(jar, "http://h.com/");
    EXPECT_EQ(sent.find("c0="), std::string::npos);
    EXPECT_TRUE(sent.starts_with("c1=1; c2=1")) << sent;
    EXPECT_TRUE(sent.ends_with("c50=1")) << sent;
    EXPECT_EQ(header(jar, "http://other.com/"), "o=1");
}

TEST(cookie_jar, per_domain_cap_evicts_expired_first) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    jar.update(origin, "old=1", t0);
    jar.update(origin, "brief=1; Max-Age=10", t0);
    for (int i = 0; i < 48; ++i) jar.update(origin, "c" + std::to_string(i) + "=1", t0);
    jar.update(origin, "late=1", t0 + 20s);
    EXPECT_EQ(jar.size(), 50u);
    const std::string sent = header(jar, "http://h.com/", t0 + 20s);
    EXPECT_TRUE(sent.starts_with("old=1; c0=1")) << sent;
    EXPECT_TRUE(sent.ends_with("late=1")) << sent;
}

TEST(cookie_jar, domain_cookies_count_for_their_domain) {
    cookie_jar jar;
    for (int i = 0; i < 60; ++i) {
        const std::string n = std::to_string(i);
        jar.update(u("http://s" + n + ".h.com/"), "c" + n + "=1; Domain=h.com", t0);
    }
    EXPECT_EQ(jar.size(), 50u);
}

TEST(cookie_jar, total_cap_evicts_the_oldest) {
    cookie_jar jar;
    for (int d = 0; d < 60; ++d) {
        const url origin = u("http://d" + std::to_string(d) + ".com/");
        for (int i = 0; i < 50; ++i) jar.update(origin, "c" + std::to_string(i) + "=1", t0);
    }
    EXPECT_EQ(jar.size(), cookie_jar::max_cookies);
    jar.update(u("http://new.com/"), "n=1", t0);
    EXPECT_EQ(jar.size(), cookie_jar::max_cookies);
    EXPECT_EQ(header(jar, "http://new.com/"), "n=1");
    EXPECT_TRUE(header(jar, "http://d0.com/").starts_with("c1=1;"));  // d0's c0 went
    EXPECT_TRUE(header(jar, "http://d1.com/").starts_with("c0=1;"));
}

// ---------------------------------------------------------------------------------------------
// set() and clear()

TEST(cookie_jar, set_stores_a_host_only_session_cookie_on_root) {
    cookie_jar jar;
    jar.set(u("https://h.com/some/path"), "token", "abc");
    EXPECT_EQ(header(jar, "http://h.com/other"), "token=abc");
    EXPECT_EQ(header(jar, "http://sub.h.com/"), "");
    jar.set(u("https://h.com/"), "token", "def");
    EXPECT_EQ(jar.size(), 1u);
    EXPECT_EQ(header(jar, "http://h.com/"), "token=def");
}

TEST(cookie_jar, set_rejects_what_cannot_be_sent) {
    cookie_jar jar;
    const url origin = u("http://h.com/");
    EXPECT_THROW(jar.set(origin, "", "v"), std::invalid_argument);
    EXPECT_THROW(jar.set(origin, "a b", "v"), std::invalid_argument);
    EXPECT_THROW(jar.set(origin, "a", "x;y"), std::invalid_argument);
    EXPECT_THROW(jar.set(origin, "a", "x\r\ny"), std::invalid_argument);
    EXPECT_THROW(jar.set(origin, "a", std::string(4096, 'v')), std::invalid_argument);
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, clear) {
    cookie_jar jar = jar_with("http://h.com/", "a=1");
    jar.clear();
    EXPECT_EQ(jar.size(), 0u);
    EXPECT_EQ(header(jar, "http://h.com/"), "");
}

}  // namespace
