// http::url: components, normalisation, every rejection, RFC 3986 §5.4 resolution,
// percent-encoding and query building.
#include <gtest/gtest.h>

#include <corio/http/url.hpp>

#include <string>
#include <string_view>
#include <vector>

using corio::http::component;
using corio::http::escape_unsafe;
using corio::http::percent_decode;
using corio::http::percent_encode;
using corio::http::query_params;
using corio::http::resolve;
using corio::http::url;
using corio::http::url_error;

namespace {

/// The url_error message thrown by `f`, or a failure if it does not throw one.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const url_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no url_error thrown";
    return {};
}

std::string parse_error(std::string_view text) {
    return error_of([&] { (void)url::parse(text); });
}

// ---------------------------------------------------------------------------------------------
// Components

TEST(http_url, minimal_http_url_gets_defaults) {
    url u = url::parse("http://example.com");
    EXPECT_EQ(u.scheme(), "http");
    EXPECT_TRUE(u.has_authority());
    EXPECT_FALSE(u.has_userinfo());
    EXPECT_EQ(u.host(), "example.com");
    EXPECT_EQ(u.host_type(), url::host_kind::reg_name);
    EXPECT_EQ(u.port(), 80);
    EXPECT_FALSE(u.has_explicit_port());
    EXPECT_EQ(u.path(), "/");  // empty http path normalised
    EXPECT_FALSE(u.has_query());
    EXPECT_FALSE(u.has_fragment());
    EXPECT_EQ(u.target(), "/");
    EXPECT_EQ(u.host_header(), "example.com");
    EXPECT_EQ(u.host_port(), "example.com:80");  // the default port, spelled out
    EXPECT_EQ(u.authority(), "example.com");
    EXPECT_EQ(u.to_string(), "http://example.com/");
}

TEST(http_url, full_url_with_every_component) {
    url u = url::parse("HTTPS://User:Pa%20ss@Example.COM:8443/a/b%2Fc?x=1&y=%7E#Frag");
    EXPECT_EQ(u.scheme(), "https");
    EXPECT_TRUE(u.has_userinfo());
    EXPECT_EQ(u.user(), "User");  // userinfo is case-sensitive: not lowered
    EXPECT_TRUE(u.has_password());
    EXPECT_EQ(u.password(), "Pa%20ss");
    EXPECT_EQ(u.decoded_password(), "Pa ss");
    EXPECT_EQ(u.host(), "example.com");
    EXPECT_EQ(u.port(), 8443);
    EXPECT_TRUE(u.has_explicit_port());
    EXPECT_EQ(u.path(), "/a/b%2Fc");
    EXPECT_EQ(u.decoded_path(), "/a/b/c");
    EXPECT_EQ(u.query(), "x=1&y=%7E");
    EXPECT_EQ(u.fragment(), "Frag");
    EXPECT_EQ(u.authority(), "User:Pa%20ss@example.com:8443");
    EXPECT_EQ(u.target(), "/a/b%2Fc?x=1&y=%7E");
    EXPECT_EQ(u.host_header(), "example.com:8443");
    EXPECT_EQ(u.to_string(), "https://User:Pa%20ss@example.com:8443/a/b%2Fc?x=1&y=%7E#Frag");
}

TEST(http_url, userinfo_variants) {
    url only_user = url::parse("http://alice@h/");
    EXPECT_TRUE(only_user.has_userinfo());
    EXPECT_EQ(only_user.user(), "alice");
    EXPECT_FALSE(only_user.has_password());

    url empty_password = url::parse("http://alice:@h/");
    EXPECT_TRUE(empty_password.has_password());
    EXPECT_EQ(empty_password.password(), "");
    EXPECT_EQ(empty_password.to_string(), "http://alice:@h/");

    url colon_in_password = url::parse("http://a:b:c@h/");
    EXPECT_EQ(colon_in_password.user(), "a");
    EXPECT_EQ(colon_in_password.password(), "b:c");

    url empty_userinfo = url::parse("http://@h/");
    EXPECT_TRUE(empty_userinfo.has_userinfo());
    EXPECT_EQ(empty_userinfo.user(), "");
    EXPECT_EQ(empty_userinfo.to_string(), "http://@h/");
}

TEST(http_url, ipv6_literals) {
    url loopback = url::parse("http://[::1]:8080/x");
    EXPECT_EQ(loopback.host(), "::1");
    EXPECT_EQ(loopback.host_type(), url::host_kind::ipv6);
    EXPECT_EQ(loopback.port(), 8080);
    EXPECT_EQ(loopback.authority(), "[::1]:8080");
    EXPECT_EQ(loopback.host_header(), "[::1]:8080");
    EXPECT_EQ(loopback.host_port(), "[::1]:8080");
    EXPECT_EQ(loopback.to_string(), "http://[::1]:8080/x");

    url upper = url::parse("https://[2001:DB8::A]");
    EXPECT_EQ(upper.host(), "2001:db8::a");
    EXPECT_EQ(upper.host_header(), "[2001:db8::a]");
    EXPECT_EQ(upper.port(), 443);
    EXPECT_EQ(upper.path(), "/");

    EXPECT_EQ(url::parse("http://[::ffff:192.0.2.1]/").host(), "::ffff:192.0.2.1");
    EXPECT_EQ(url::parse("http://[1:2:3:4:5:6:7:8]/").host(), "1:2:3:4:5:6:7:8");
}

TEST(http_url, ipv4_and_reg_name_hosts) {
    url v4 = url::parse("http://127.0.0.1:8000/");
    EXPECT_EQ(v4.host(), "127.0.0.1");
    EXPECT_EQ(v4.host_type(), url::host_kind::ipv4);
    EXPECT_EQ(v4.host_header(), "127.0.0.1:8000");
    EXPECT_EQ(url::parse("http://255.255.255.255/").host_type(), url::host_kind::ipv4);
    EXPECT_EQ(url::parse("http://0.0.0.0/").host_type(), url::host_kind::ipv4);

    // Digits mixed with letters are a reg-name.
    EXPECT_EQ(url::parse("http://1.2.3.4a/").host_type(), url::host_kind::reg_name);
    EXPECT_EQ(url::parse("http://xn--nxasmq6b.COM/").host(), "xn--nxasmq6b.com");
    EXPECT_EQ(url::parse("http://a-b_c~d.e!f$/").host(), "a-b_c~d.e!f$");
}

TEST(http_url, ports_default_and_explicit) {
    url default_explicit = url::parse("https://example.com:443/");
    EXPECT_TRUE(default_explicit.has_explicit_port());
    EXPECT_EQ(default_explicit.port(), 443);
    EXPECT_EQ(default_explicit.host_header(), "example.com");  // default port omitted
    EXPECT_EQ(default_explicit.to_string(), "https://example.com:443/");

    url other_default = url::parse("http://example.com:443/");  // 443 is not http's default
    EXPECT_EQ(other_default.host_header(), "example.com:443");

    url leading_zero = url::parse("http://h:0080/");
    EXPECT_EQ(leading_zero.port(), 80);
    EXPECT_EQ(leading_zero.to_string(), "http://h:80/");

    url empty_port = url::parse("http://h:/p");
    EXPECT_FALSE(empty_port.has_explicit_port());
    EXPECT_EQ(empty_port.port(), 80);
    EXPECT_EQ(empty_port.to_string(), "http://h/p");

    EXPECT_EQ(url::parse("http://h:65535/").port(), 65535);
    EXPECT_EQ(url::parse("http://h:0/").port(), 0);
    EXPECT_EQ(url::parse("foo://h/").port(), 0);  // no default for an unknown scheme
    EXPECT_EQ(url::parse("foo://h:7/").port(), 7);
}

TEST(http_url, empty_query_and_fragment_are_kept_distinct_from_absent_ones) {
    url q = url::parse("http://a/?");
    EXPECT_TRUE(q.has_query());
    EXPECT_EQ(q.query(), "");
    EXPECT_EQ(q.target(), "/?");
    EXPECT_EQ(q.to_string(), "http://a/?");

    url f = url::parse("http://a/#");
    EXPECT_FALSE(f.has_query());
    EXPECT_TRUE(f.has_fragment());
    EXPECT_EQ(f.to_string(), "http://a/#");

    EXPECT_NE(url::parse("http://a/?"), url::parse("http://a/"));
    EXPECT_NE(url::parse("http://a/#"), url::parse("http://a/"));
}

TEST(http_url, query_and_fragment_may_hold_slash_and_question_mark) {
    url u = url::parse("http://a?q=a/b?c#f/g?h");  // empty path before '?'
    EXPECT_EQ(u.path(), "/");
    EXPECT_EQ(u.query(), "q=a/b?c");
    EXPECT_EQ(u.fragment(), "f/g?h");
    EXPECT_EQ(u.target(), "/?q=a/b?c");  // no fragment in the request target
    EXPECT_EQ(u.without_fragment().to_string(), "http://a/?q=a/b?c");
}

TEST(http_url, percent_encoding_is_kept_encoded_and_decodable) {
    url u = url::parse("http://a/%7euser/%E2%82%AC?k=%26%3D");
    EXPECT_EQ(u.path(), "/%7euser/%E2%82%AC");
    EXPECT_EQ(u.decoded_path(), "/~user/\xE2\x82\xAC");
    EXPECT_EQ(u.query(), "k=%26%3D");
    EXPECT_EQ(query_params::parse(u.query()).get("k"), "&=");
    EXPECT_EQ(url::parse("http://us%65r:p%40ss@h/").decoded_user(), "user");
    EXPECT_EQ(url::parse("http://us%65r:p%40ss@h/").decoded_password(), "p@ss");
}

TEST(http_url, non_http_schemes) {
    url mail = url::parse("mailto:someone@example.com");
    EXPECT_EQ(mail.scheme(), "mailto");
    EXPECT_FALSE(mail.has_authority());
    EXPECT_EQ(mail.path(), "someone@example.com");
    EXPECT_EQ(mail.port(), 0);
    EXPECT_EQ(mail.to_string(), "mailto:someone@example.com");

    url file = url::parse("file:///etc/hosts");
    EXPECT_TRUE(file.has_authority());
    EXPECT_EQ(file.host(), "");  // an empty host is fine outside http(s)
    EXPECT_EQ(file.path(), "/etc/hosts");
    EXPECT_EQ(file.to_string(), "file:///etc/hosts");

    url urn = url::parse("urn:isbn:0451450523");
    EXPECT_EQ(urn.path(), "isbn:0451450523");

    url odd = url::parse("Svn+SSH.v2://h");
    EXPECT_EQ(odd.scheme(), "svn+ssh.v2");
    EXPECT_EQ(odd.path(), "");  // only http(s) get the "/" normalisation
}

TEST(http_url, to_string_round_trips) {
    const std::vector<std::string> urls = {
        "http://example.com/",
        "https://u:p@h.example:1/a/b;c=d/?e=f&g#h",
        "http://[::1]/",
        "http://[fe80::1:2]:65535/%20?%20#%20",
        "http://1.2.3.4:80/path/",
        "http://a/?",
        "http://a/#",
        "http://a/b/../c/./d",  // parse() does not remove dot segments
        "http://a/!$&'()*+,;=:@/?!$&'()*+,;=:@/?",
        "mailto:x@y",
        "file:///",
        "foo:",
    };
    for (const auto& text : urls) {
        url u = url::parse(text);
        EXPECT_EQ(u.to_string(), text);
        EXPECT_EQ(url::parse(u.to_string()), u) << text;
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections: each names the problem, quotes the input and gives the offset.

TEST(http_url, error_message_names_problem_input_and_offset) {
    EXPECT_EQ(parse_error("http://a:8x/"),
              "invalid URL \"http://a:8x/\": invalid port (not a decimal number) at offset 10");
    // Control characters are shown escaped, never raw.
    EXPECT_EQ(parse_error("http://a/\n"),
              "invalid URL \"http://a/\\x0A\": space or control character at offset 9");
}

TEST(http_url, url_error_is_a_corio_error) {
    try {
        (void)url::parse("nope");
        FAIL();
    } catch (const corio::error& e) {
        EXPECT_NE(std::string(e.what()).find("missing scheme"), std::string::npos);
    }
}

struct rejection {
    std::string input;
    std::string problem;
    std::size_t offset;
};

TEST(http_url, rejects_invalid_urls) {
    const std::vector<rejection> cases = {
        // Missing scheme.
        {"", "missing scheme", 0},
        {"example.com/path", "missing scheme", 0},
        {"//example.com/", "missing scheme", 0},
        {"1http://a/", "missing scheme", 0},
        {"/just/a/path", "missing scheme", 0},
        {":foo", "missing scheme", 0},
        // Spaces, control characters, non-ASCII.
        {"http://a b/", "space or control character", 8},
        {" http://a/", "space or control character", 0},
        {"http://a/\t", "space or control character", 9},
        {"http://a/\x7f", "space or control character", 9},
        {std::string("http://a/\0", 10), "space or control character", 9},
        {"http://a/p\xC3\xA4th", "non-ASCII character", 10},
        // Ports.
        {"http://a:8x/", "invalid port", 10},
        {"http://a:-1/", "invalid port", 9},
        {"http://a:+1/", "invalid port", 9},
        {"http://a:65536/", "port out of range", 9},
        {"http://a:99999999999999999999999/", "port out of range", 9},
        {"http://a:1:2/", "invalid port", 10},
        // Empty or missing host for http(s).
        {"http:///path", "http URL with an empty host", 7},
        {"https://", "https URL with an empty host", 8},
        {"http://:80/", "http URL with an empty host", 7},
        {"http://user@/", "http URL with an empty host", 12},
        {"http:/path", "http URL without \"//\" and a host", 5},
        {"https:", "https URL without \"//\" and a host", 6},
        // IPv6 literals.
        {"http://[::1/", "unterminated IPv6 literal", 7},
        {"http://[::1", "unterminated IPv6 literal", 7},
        {"http://[::1]x/", "unexpected character after IPv6 literal", 12},
        {"http://[::g]/", "invalid IPv6 address", 8},
        {"http://[1:2:3:4:5:6:7:8:9]/", "invalid IPv6 address", 8},
        {"http://[1::2::3]/", "invalid IPv6 address", 8},
        {"http://[127.0.0.1]/", "invalid IPv6 address", 8},
        {"http://[]/", "invalid IPv6 address", 8},
        {"http://[fe80::1%25eth0]/", "IPv6 zone identifiers are not supported", 15},
        {"http://[v1.fe]/", "IPvFuture literals are not supported", 8},
        {"http://a[::1]/", "character '[' not allowed here", 8},
        // Numeric hosts that are not dotted-quad IPv4.
        {"http://256.0.0.1/", "invalid IPv4 address", 7},
        {"http://1.2.3/", "invalid IPv4 address", 7},
        {"http://1.2.3.4.5/", "invalid IPv4 address", 7},
        {"http://01.2.3.4/", "invalid IPv4 address", 7},
        {"http://1..2.3/", "invalid IPv4 address", 7},
        {"http://1234/", "invalid IPv4 address", 7},
        // Percent-encoding.
        {"http://a/%zz", "invalid percent-encoding", 9},
        {"http://a/%4", "invalid percent-encoding", 9},
        {"http://a/%", "invalid percent-encoding", 9},
        {"http://a/?q=%g0", "invalid percent-encoding", 12},
        {"http://a/#%%", "invalid percent-encoding", 10},
        {"http://u%x@h/", "invalid percent-encoding", 8},
        {"http://u:p%@h/", "invalid percent-encoding", 10},
        {"http://h%2/", "invalid percent-encoding", 8},
        // Characters RFC 3986 does not allow in the component.
        {"http://a/<b>", "character '<' not allowed here", 9},
        {"http://a/{x}", "character '{' not allowed here", 9},
        {"http://a/?a|b", "character '|' not allowed here", 11},
        {"http://a/b#c#d", "character '#' not allowed here", 12},
        {"http://a/\"", "character '\"' not allowed here", 9},
        {"http://a/[", "character '[' not allowed here", 9},
        {"http://a\\b/", "character '\\' not allowed here", 8},
    };
    for (const auto& c : cases) {
        std::string message = parse_error(c.input);
        EXPECT_NE(message.find(c.problem), std::string::npos) << c.input << " -> " << message;
        EXPECT_NE(message.find(" at offset " + std::to_string(c.offset)), std::string::npos)
            << c.input << " -> " << message;
    }
    // '@' after the authority belongs to the path, so this one is valid.
    EXPECT_EQ(url::parse("http://u/v@h/").path(), "/v@h/");
}

// ---------------------------------------------------------------------------------------------
// resolve(): RFC 3986 §5.4, every example, base "http://a/b/c/d;p?q".

struct resolution {
    const char* reference;
    const char* expected;
};

void expect_resolutions(const std::vector<resolution>& cases) {
    const url base = url::parse("http://a/b/c/d;p?q");
    for (const auto& c : cases) {
        url result = resolve(base, c.reference);
        EXPECT_EQ(result.to_string(), c.expected) << "reference \"" << c.reference << '"';
        EXPECT_EQ(result, url::parse(c.expected)) << "reference \"" << c.reference << '"';
    }
}

TEST(http_url_resolve, rfc3986_normal_examples) {
    expect_resolutions({
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g/"},  // RFC: "http://g"; ours normalises the empty http path to "/"
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
    });
}

TEST(http_url_resolve, rfc3986_abnormal_examples) {
    expect_resolutions({
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        // RFC 3986 lists "http:g" -> "http:g" (strict) or "http://a/b/c/g" (backward compatible);
        // we take the latter, as browsers do, since "http:g" has no host.
        {"http:g", "http://a/b/c/g"},
        {"HTTP:g", "http://a/b/c/g"},
    });
}

TEST(http_url_resolve, base_url_joining_and_redirect_locations) {
    const url api = url::parse("http://api.example.com/v1/");
    EXPECT_EQ(resolve(api, "users?id=1").to_string(), "http://api.example.com/v1/users?id=1");
    EXPECT_EQ(resolve(api, "/health").to_string(), "http://api.example.com/health");
    EXPECT_EQ(resolve(api, "https://other.example/x").to_string(), "https://other.example/x");
    EXPECT_EQ(resolve(api, "//cdn.example.com:8080").to_string(), "http://cdn.example.com:8080/");
    EXPECT_EQ(resolve(api, "//[::1]/x").host(), "::1");

    // Without a trailing slash the last segment is replaced (RFC merge semantics).
    EXPECT_EQ(resolve(url::parse("http://h/v1"), "users").to_string(), "http://h/users");
    // A base with an empty path (non-http scheme keeps it empty) merges under "/".
    EXPECT_EQ(resolve(url::parse("foo://h"), "x").to_string(), "foo://h/x");
    // The base's fragment never leaks into the result.
    EXPECT_EQ(resolve(url::parse("http://h/a#frag"), "b").to_string(), "http://h/b");
    EXPECT_EQ(resolve(url::parse("http://h/a#frag"), "").to_string(), "http://h/a");
    // A result path starting "//" without authority is kept a path, so to_string round-trips.
    url no_authority = resolve(url::parse("foo:/a/b"), "..//x");
    EXPECT_FALSE(no_authority.has_authority());
    EXPECT_EQ(no_authority.to_string(), "foo:/.//x");
    EXPECT_EQ(url::parse(no_authority.to_string()), no_authority);
    // The result is a normal url: host_header and target work on it.
    url moved = resolve(url::parse("https://h/a/b"), "../c?d=1#e");
    EXPECT_EQ(moved.target(), "/c?d=1");
    EXPECT_EQ(moved.host_header(), "h");
    EXPECT_EQ(moved.port(), 443);
}

TEST(http_url_resolve, escape_unsafe_makes_a_sloppy_location_resolvable) {
    const std::string location = "/a b/\xC3\xA9?q=\"x\"&r={1|2}#f<g>";
    EXPECT_THROW((void)resolve(url::parse("http://h/"), location), url_error);
    std::string escaped = escape_unsafe(location);
    EXPECT_EQ(escaped, "/a%20b/%C3%A9?q=%22x%22&r=%7B1%7C2%7D#f%3Cg%3E");
    url u = resolve(url::parse("http://h/"), escaped);
    EXPECT_EQ(u.target(), "/a%20b/%C3%A9?q=%22x%22&r=%7B1%7C2%7D");
    EXPECT_EQ(u.decoded_path(), "/a b/\xC3\xA9");
    // Already-valid text, existing escapes included, is left exactly as it was.
    EXPECT_EQ(escape_unsafe("http://u@h:1/p%20q?a=b&c#d"), "http://u@h:1/p%20q?a=b&c#d");
    EXPECT_EQ(escape_unsafe(std::string("\0\x7f\\^`", 5)), "%00%7F%5C%5E%60");
}

TEST(http_url_resolve, rejects_invalid_references) {
    const url base = url::parse("http://a/b");
    auto resolve_error = [&](std::string_view ref) {
        return error_of([&] { (void)resolve(base, ref); });
    };
    auto mentions = [](const std::string& message, std::string_view part) {
        return message.find(part) != std::string::npos;
    };
    EXPECT_TRUE(mentions(resolve_error("https:g"), "https URL without \"//\" and a host"));
    EXPECT_TRUE(mentions(resolve_error("//"), "http URL with an empty host"));
    EXPECT_TRUE(mentions(resolve_error("http://"), "http URL with an empty host"));
    EXPECT_EQ(resolve_error("g h"),
              "invalid URL reference \"g h\": space or control character at offset 1");
    EXPECT_TRUE(mentions(resolve_error("1a:b"),
                         "':' in the first segment of a relative reference at offset 2"));
    EXPECT_TRUE(mentions(resolve_error("%zz"), "invalid percent-encoding at offset 0"));
    EXPECT_TRUE(mentions(resolve_error("//[::1"), "unterminated IPv6 literal"));
    // A colon after the first segment is fine.
    EXPECT_EQ(resolve(base, "./1a:b").to_string(), "http://a/1a:b");
    EXPECT_EQ(resolve(base, "x/1a:b").to_string(), "http://a/x/1a:b");
}

// ---------------------------------------------------------------------------------------------
// Percent-encoding

TEST(http_url_encoding, encodes_per_component) {
    EXPECT_EQ(percent_encode("a b&c=d+e/f?g#h%", component::query_param),
              "a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25");
    EXPECT_EQ(percent_encode("a b/c:d@e?f", component::path), "a%20b/c:d@e%3Ff");
    EXPECT_EQ(percent_encode("a b/c:d@e", component::path_segment), "a%20b%2Fc:d@e");
    EXPECT_EQ(percent_encode("a=b&c/d?e#f", component::query), "a=b&c/d?e%23f");
    EXPECT_EQ(percent_encode("f/g?h#i", component::fragment), "f/g?h%23i");
    EXPECT_EQ(percent_encode("us:er@x!", component::userinfo), "us%3Aer%40x!");
    EXPECT_EQ(percent_encode("Az09-._~", component::query_param), "Az09-._~");
    EXPECT_EQ(percent_encode("\xE2\x82\xAC", component::path), "%E2%82%AC");  // upper-case hex
    EXPECT_EQ(percent_encode("", component::path), "");
}

TEST(http_url_encoding, decodes_and_rejects_bad_escapes) {
    EXPECT_EQ(percent_decode("%41%4a%4A+x%20"), "AJJ+x ");
    EXPECT_EQ(percent_decode("%00"), std::string("\0", 1));
    EXPECT_EQ(percent_decode("no escapes"), "no escapes");
    for (std::string_view bad : {"%", "%4", "%g1", "%1g", "a%"}) {
        std::string message = error_of([&] { (void)percent_decode(bad); });
        EXPECT_NE(message.find("invalid percent-encoding"), std::string::npos) << bad;
    }
}

TEST(http_url_encoding, every_byte_round_trips_through_every_component) {
    std::string all_bytes;
    for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
    for (component where : {component::userinfo, component::path, component::path_segment,
                            component::query, component::query_param, component::fragment}) {
        EXPECT_EQ(percent_decode(percent_encode(all_bytes, where)), all_bytes);
    }
    // And the encoded forms are accepted by the parser in their component.
    url u = url::parse("http://" + percent_encode(all_bytes, component::userinfo) + "@h/" +
                       percent_encode(all_bytes, component::path) + "?" +
                       percent_encode(all_bytes, component::query) + "#" +
                       percent_encode(all_bytes, component::fragment));
    EXPECT_EQ(u.decoded_user(), all_bytes);
    EXPECT_EQ(u.decoded_path(), "/" + all_bytes);
    EXPECT_EQ(percent_decode(u.query()), all_bytes);
    EXPECT_EQ(percent_decode(u.fragment()), all_bytes);
}

// ---------------------------------------------------------------------------------------------
// Query building

TEST(http_url_query, encodes_in_order_with_spaces_as_percent_20) {
    query_params p{{"a", "1"}, {"b", "x y"}};
    EXPECT_EQ(p.encode(), "a=1&b=x%20y");
    p.add("a", "2").add("k&=", "v+#");
    EXPECT_EQ(p.encode(), "a=1&b=x%20y&a=2&k%26%3D=v%2B%23");
    EXPECT_EQ(p.get("a"), "1");  // the first value
    EXPECT_EQ(p.get("missing"), std::nullopt);
    EXPECT_EQ((query_params{{"empty", ""}}.encode()), "empty=");
    EXPECT_EQ(query_params{}.encode(), "");
    EXPECT_TRUE(query_params{}.empty());
}

TEST(http_url_query, parse_decodes_with_form_semantics) {
    query_params p = query_params::parse("a=1&b=x%20y&c=+plus+&flag&&d=e=f&=v");
    const std::vector<query_params::value_type> expected = {
        {"a", "1"}, {"b", "x y"}, {"c", " plus "}, {"flag", ""}, {"d", "e=f"}, {"", "v"}};
    EXPECT_EQ(p.items(), expected);
    EXPECT_TRUE(query_params::parse("").empty());
    EXPECT_NE(error_of([] { (void)query_params::parse("a=%zz"); }).find("invalid percent-encoding"),
              std::string::npos);
}

TEST(http_url_query, encode_then_parse_round_trips) {
    query_params p{{"sp ace", "a+b"}, {"amp&", "eq="}, {"utf8", "\xC3\xA9"}, {"a", ""}, {"a", "%"}};
    EXPECT_EQ(query_params::parse(p.encode()), p);
}

TEST(http_url_query, with_params_appends_to_the_query) {
    query_params p{{"page", "2"}, {"q", "a b"}};
    EXPECT_EQ(url::parse("http://h/items").with_params(p).to_string(),
              "http://h/items?page=2&q=a%20b");
    EXPECT_EQ(url::parse("http://h/items?sort=asc").with_params(p).to_string(),
              "http://h/items?sort=asc&page=2&q=a%20b");
    EXPECT_EQ(url::parse("http://h/items?").with_params(p).to_string(),
              "http://h/items?page=2&q=a%20b");
    EXPECT_EQ(url::parse("http://h/items#top").with_params(p).to_string(),
              "http://h/items?page=2&q=a%20b#top");
    EXPECT_EQ(url::parse("http://h/items?x").with_params({}).to_string(), "http://h/items?x");
    EXPECT_EQ(url::parse("http://h/items?x=1&").with_params(p).query(), "x=1&page=2&q=a%20b");
    EXPECT_FALSE(url::parse("http://h/").with_params({}).has_query());
    url with = url::parse("http://h/items").with_params(p);
    EXPECT_EQ(with.target(), "/items?page=2&q=a%20b");
    EXPECT_EQ(url::parse(with.to_string()), with);
}

}  // namespace
