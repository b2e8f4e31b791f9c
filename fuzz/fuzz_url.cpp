// libFuzzer target for corio/http/url.hpp: parsing, serialisation, reference resolution,
// percent-encoding and query parameters, all on the whole input.
//
// Invariants (trap otherwise; url_error for invalid input is expected):
// - url::parse(input), when it succeeds, yields a url that keeps the header's invariants (scheme
//   lower-case and well-formed; absent components empty; password implies userinfo; no authority
//   means no host, userinfo or port; host lower-case; http/https: an authority with a non-empty
//   host and a path starting with '/'; with an authority the path is empty or starts with '/';
//   every component's percent-encoding is valid, so the decoded_*() helpers never throw; no space,
//   control or non-ASCII byte in to_string(); no '#' in target()), and
//   url::parse(u.to_string()) == u, as do u.without_fragment() and u.with_params(...);
// - resolve(base, input) against a few fixed bases, when it succeeds: the same url invariants and
//   round trip, no "//" path without an authority, and resolving the result's to_string() again
//   gives the result (an absolute reference without dot segments resolves to itself);
// - percent_decode(percent_encode(input, c)) == input for every component c, and the encoded text
//   is accepted verbatim by parse() in that component (query_param: only unreserved and "%XX");
// - escape_unsafe() leaves no space, control, non-ASCII or `"<>\^`{|}` byte, and decodes back to
//   the input when the input has no '%';
// - query_params: parse(input) -> encode() -> parse() gives the same params and the same
//   encoding; any (key, value) pair survives encode() -> parse().
#include <corio/http/url.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace {

namespace http = corio::http;
using http::component;
using http::url;

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool has_upper(std::string_view s) noexcept {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return true;
    return false;
}
bool is_unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_http(const url& u) { return u.scheme() == "http" || u.scheme() == "https"; }

/// Parses `text`, which must succeed (a url_error escapes and fails the run loudly).
url must_parse(const std::string& text) {
    try {
        return url::parse(text);
    } catch (const http::url_error&) {
        __builtin_trap();
    }
}

void check_valid_escapes(const std::string& component_text) {
    try {
        (void)http::percent_decode(component_text);
    } catch (const http::url_error&) {
        __builtin_trap();
    }
}

/// The url invariants and the to_string() round trip.
void check_url(const url& u) {
    const std::string& scheme = u.scheme();
    if (scheme.empty() || !is_alpha(scheme[0]) || has_upper(scheme)) __builtin_trap();
    for (char c : scheme)
        if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) __builtin_trap();
    if (u.has_password() && !u.has_userinfo()) __builtin_trap();
    if (!u.has_userinfo() && !u.user().empty()) __builtin_trap();
    if (!u.has_password() && !u.password().empty()) __builtin_trap();
    if (!u.has_query() && !u.query().empty()) __builtin_trap();
    if (!u.has_fragment() && !u.fragment().empty()) __builtin_trap();
    if (!u.has_authority() &&
        (u.has_userinfo() || !u.host().empty() || u.has_explicit_port()))
        __builtin_trap();
    if (u.has_authority() && !u.path().empty() && u.path()[0] != '/') __builtin_trap();
    if (!u.has_authority() && u.path().starts_with("//")) __builtin_trap();
    if (has_upper(u.host())) __builtin_trap();
    if (is_http(u) && (!u.has_authority() || u.host().empty() || !u.path().starts_with('/')))
        __builtin_trap();
    if (u.host_type() == url::host_kind::ipv4) {
        if (u.host().find_first_not_of("0123456789.") != std::string::npos) __builtin_trap();
    }
    if (!u.has_explicit_port()) {
        const auto def = http::default_port(scheme);
        if (u.port() != (def ? *def : 0)) __builtin_trap();
    }
    for (const std::string* part : {&u.user(), &u.password(), &u.host(), &u.path(), &u.query(),
                                    &u.fragment()})
        check_valid_escapes(*part);

    const std::string text = u.to_string();
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) __builtin_trap();
    }
    if (u.target().find('#') != std::string::npos) __builtin_trap();
    const url again = must_parse(text);
    if (!(again == u) || again.to_string() != text) __builtin_trap();

    const url bare = u.without_fragment();
    if (bare.has_fragment() || !(must_parse(bare.to_string()) == bare)) __builtin_trap();
}

void check_with_params(const url& u, std::string_view input) {
    http::query_params params;
    params.add(std::string(input.substr(0, input.size() / 2)),
               std::string(input.substr(input.size() / 2)));
    const url with = u.with_params(params);
    if (!with.has_query()) __builtin_trap();
    check_url(with);
    if (!(u.with_params({}) == u)) __builtin_trap();
}

void check_resolve(std::string_view input) {
    static const url bases[] = {
        url::parse("http://a/b/c/d;p?q"),  // RFC 3986 §5.4
        url::parse("https://user:pw@[::1]:8443/x/y/?z#f"),
        url::parse("foo:bar/baz"),      // no authority
        url::parse("file:///tmp/dir/"),  // an authority with an empty host
    };
    for (const url& base : bases) {
        try {
            const url t = resolve(base, input);
            check_url(t);
            for (const url& other : bases) {
                try {
                    if (!(resolve(other, t.to_string()) == t)) __builtin_trap();
                } catch (const http::url_error&) {
                    __builtin_trap();
                }
            }
        } catch (const http::url_error&) {
        }
    }
}

void check_encoding(const std::string& input) {
    for (component c : {component::userinfo, component::path, component::path_segment,
                        component::query, component::query_param, component::fragment}) {
        const std::string enc = http::percent_encode(input, c);
        if (http::percent_decode(enc) != input) __builtin_trap();
        switch (c) {
            case component::userinfo: {
                const url u = must_parse("http://" + enc + ":" + enc + "@h/");
                if (u.user() != enc || u.password() != enc) __builtin_trap();
                break;
            }
            case component::path_segment:
                if (enc.find('/') != std::string::npos) __builtin_trap();
                [[fallthrough]];
            case component::path:
                if (must_parse("http://h/" + enc).path() != "/" + enc) __builtin_trap();
                break;
            case component::query:
                if (must_parse("http://h/?" + enc).query() != enc) __builtin_trap();
                break;
            case component::fragment:
                if (must_parse("http://h/#" + enc).fragment() != enc) __builtin_trap();
                break;
            case component::query_param:
                for (std::size_t i = 0; i < enc.size(); ++i) {
                    if (enc[i] == '%') {
                        i += 2;  // percent_decode above validated the escape
                    } else if (!is_unreserved(enc[i])) {
                        __builtin_trap();
                    }
                }
                break;
        }
    }

    const std::string escaped = http::escape_unsafe(input);
    for (char ch : escaped) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || std::string_view("\"<>\\^`{|}").find(ch) != std::string_view::npos)
            __builtin_trap();
    }
    if (input.find('%') == std::string::npos && http::percent_decode(escaped) != input)
        __builtin_trap();
}

void check_query_params(const std::string& input) {
    try {
        const auto params = http::query_params::parse(input);
        const std::string encoded = params.encode();
        const auto again = http::query_params::parse(encoded);
        if (!(again == params) || again.encode() != encoded) __builtin_trap();
    } catch (const http::url_error&) {
    }
    const std::size_t half = input.size() / 2;
    const http::query_params pair{{input.substr(0, half), input.substr(half)}};
    if (!(http::query_params::parse(pair.encode()) == pair)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    try {
        const url u = url::parse(input);
        check_url(u);
        check_with_params(u, input);
    } catch (const http::url_error&) {
    }
    check_resolve(input);
    check_encoding(input);
    check_query_params(input);
    return 0;
}
