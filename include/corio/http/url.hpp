// corio/http/url.hpp — URLs for the HTTP client: parsing (RFC 3986), reference resolution
// (base_url joining, redirect Location), percent-encoding and query building.
//
// `url` is a plain value type holding the components of an absolute URI. Guarantees:
// - parse() accepts exactly RFC 3986 `absolute-URI [ "#" fragment ]` (any scheme) and throws
//   `http::url_error` otherwise; the message names the problem, quotes the input and gives the
//   byte offset of the offending character.
// - Percent-encoded octets are validated (`%` + two hex digits) and KEPT ENCODED in every
//   component accessor; use the decoded_*() helpers or percent_decode() to decode.
// - Normalisation done by parse(): the scheme and a reg-name/IPv6 host are lower-cased; the port
//   is kept as a number (leading zeros dropped, an empty port ":" means "no port"); the empty
//   path of an http/https URL becomes "/" (RFC 3986 §6.2.3). Nothing else is rewritten (no
//   dot-segment removal in parse, no re-encoding), so to_string() reproduces the input modulo
//   those normalisations and parse(u.to_string()) == u.
// - Stricter than browsers, by design: spaces, control characters and non-ASCII bytes are
//   rejected (encode them first, e.g. with percent_encode()); so are characters RFC 3986 does
//   not allow in a component (`"<>\^`{|}`, `[` `]` outside an IPv6 literal, `#` in a fragment).
//   An http/https URL must have a non-empty host. A host made only of digits and dots must be a
//   valid dotted-quad IPv4 address without leading zeros (no "1.2.3", "01.2.3.4" or "256.0.0.1").
//   IPv6 zone identifiers ("[fe80::1%25eth0]") and IPvFuture literals are rejected.
//
// Thread-safety: value type; const member functions may be called concurrently.
// Throws: url_error (a corio::error) for invalid input; std::bad_alloc.
// Cancel safety: nothing here suspends.
#pragma once

#include <corio/error.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// An invalid URL, reference or percent-encoding. The message names the problem, the input and
/// the byte offset, e.g. `invalid URL "http://a:99999/": port out of range at offset 9`.
class url_error : public corio::error {
public:
    using error::error;
};

/// Which part of a URL a string is destined for; decides which characters percent_encode()
/// leaves alone (always the RFC 3986 unreserved ones: ALPHA DIGIT - . _ ~).
enum class component {
    userinfo,      ///< a user name or a password: also keeps sub-delims (!$&'()*+,;=), encodes ':'
    path,          ///< a whole path: keeps sub-delims, ':', '@' and '/'
    path_segment,  ///< one path segment: like path but encodes '/'
    query,         ///< a whole query: like path plus '?'
    query_param,   ///< a key or value inside a query: keeps ONLY unreserved ('&', '=', '+' encoded)
    fragment,      ///< a fragment: like query
};

/// Percent-encodes every byte of `text` not allowed raw in `where` as "%XX" (upper-case hex).
/// A space becomes "%20" (never '+'). '%' itself is always encoded, so the result decodes back to
/// `text` exactly.
std::string percent_encode(std::string_view text, component where);

/// Decodes every "%XX" in `text`. Throws url_error if a '%' is not followed by two hex digits.
/// '+' is left as '+' (RFC 3986 semantics; see query_params::parse for form semantics).
std::string percent_decode(std::string_view text);

/// Percent-encodes only the bytes that may never appear raw in a URI — controls, space,
/// non-ASCII, and `"<>\^`{|}` — leaving everything else (existing escapes, '/', '?', '#', ...)
/// alone. What browsers do to a Location header before resolving it: servers do send raw spaces
/// and UTF-8 there, which parse() and resolve() reject.
std::string escape_unsafe(std::string_view text);

/// The default port of a scheme: 80 for http, 443 for https, none for any other scheme.
std::optional<std::uint16_t> default_port(std::string_view scheme) noexcept;

/// An ordered list of query parameters (duplicates allowed, order preserved).
class query_params {
public:
    using value_type = std::pair<std::string, std::string>;  ///< decoded key and value

    query_params() = default;
    query_params(std::initializer_list<value_type> items) : items_(items) {}

    /// Appends a (decoded) key/value pair; returns *this for chaining.
    query_params& add(std::string key, std::string value);

    /// The first value for `key`, if any.
    std::optional<std::string_view> get(std::string_view key) const noexcept;

    const std::vector<value_type>& items() const noexcept { return items_; }
    bool empty() const noexcept { return items_.empty(); }

    /// "k1=v1&k2=v2" with keys and values encoded as component::query_param (space -> "%20").
    std::string encode() const;

    /// Splits an (encoded) query on '&' and the first '=' of each part and decodes both sides.
    /// Form semantics: '+' decodes to a space. A part without '=' has an empty value; empty parts
    /// ("a=1&&b=2") are skipped. Throws url_error on an invalid percent-encoding.
    static query_params parse(std::string_view query);

    friend bool operator==(const query_params&, const query_params&) = default;

private:
    std::vector<value_type> items_;
};

/// An absolute URL. See the header comment for what parse() accepts and normalises.
class url {
public:
    enum class host_kind { reg_name, ipv4, ipv6 };

    /// Parses an absolute URL. Throws url_error.
    static url parse(std::string_view text);

    // Copyable and movable; there is no public default constructor (every url is valid).
    // Equality is component-wise, not RFC equivalence: "http://h:80/" != "http://h/".

    const std::string& scheme() const noexcept { return scheme_; }

    bool has_authority() const noexcept { return has_authority_; }
    bool has_userinfo() const noexcept { return has_userinfo_; }
    const std::string& user() const noexcept { return user_; }          ///< still encoded
    bool has_password() const noexcept { return has_password_; }
    const std::string& password() const noexcept { return password_; }  ///< still encoded
    std::string decoded_user() const { return percent_decode(user_); }
    std::string decoded_password() const { return percent_decode(password_); }

    /// The host without brackets: "example.com", "127.0.0.1", "::1". Empty if none. A reg-name
    /// is lower-cased but, like every component, kept percent-encoded (rare in practice).
    const std::string& host() const noexcept { return host_; }
    host_kind host_type() const noexcept { return host_type_; }

    /// The explicit port, else the scheme's default, else 0 (a scheme without default port).
    std::uint16_t port() const noexcept;
    bool has_explicit_port() const noexcept { return port_.has_value(); }

    const std::string& path() const noexcept { return path_; }  ///< still encoded
    std::string decoded_path() const { return percent_decode(path_); }

    /// has_query() distinguishes "http://a/?" (empty query) from "http://a/" (no query).
    bool has_query() const noexcept { return has_query_; }
    const std::string& query() const noexcept { return query_; }  ///< still encoded, no '?'
    bool has_fragment() const noexcept { return has_fragment_; }
    const std::string& fragment() const noexcept { return fragment_; }  ///< encoded, no '#'

    /// [userinfo "@"] host [":" port]; an IPv6 host in brackets; the port only if explicit.
    std::string authority() const;
    /// What goes in the request line: path ("/" if empty) + ("?" query). Never the fragment.
    std::string target() const;
    /// The Host header: host (IPv6 in brackets) + ":port" only if the port is not the default.
    std::string host_header() const;
    /// host + ":" + port(), the port always (a CONNECT request's target): "h:443", "[::1]:8080".
    std::string host_port() const;
    /// The whole URL; url::parse(u.to_string()) == u.
    std::string to_string() const;

    /// A copy with `params` appended to the query ("?a=1" + {b: 2} -> "?a=1&b=2"; a missing or
    /// empty query is replaced; no "&&" if the query ends with '&'). An empty `params` returns
    /// an unchanged copy.
    url with_params(const query_params& params) const;
    /// A copy without its fragment (what a request is sent for).
    url without_fragment() const;
    /// A copy without its user and password (what a request names in messages and logs).
    url without_userinfo() const;

    friend bool operator==(const url&, const url&) = default;

private:
    url() = default;  // the empty url the parser and resolve() fill in
    std::string bracketed_host() const;  // host_, in brackets if IPv6
    void normalise_empty_path();         // http(s): "" -> "/"
    friend class reference_parser;
    friend url resolve(const url& base, std::string_view reference);

    // Invariants: scheme_ is non-empty and lower-case. The has_* flags say whether a component
    // was present at all (an empty string is then a present-but-empty component); the string of
    // an absent component is empty. host_type_ describes host_, which is lower-case. If
    // scheme_ is http/https: has_authority_ and !host_.empty(), and path_ is empty or starts '/'.
    // If has_authority_, path_ is empty or starts with '/'.
    std::string scheme_;
    bool has_authority_ = false;
    bool has_userinfo_ = false;
    bool has_password_ = false;  // implies has_userinfo_
    std::string user_;
    std::string password_;
    std::string host_;
    host_kind host_type_ = host_kind::reg_name;
    std::optional<std::uint16_t> port_;  // only an explicit port
    std::string path_;
    bool has_query_ = false;
    std::string query_;
    bool has_fragment_ = false;
    std::string fragment_;
};

/// Resolves `reference` (absolute or relative: "g", "../g", "/g", "//h/g", "?q", "#f") against
/// `base` per RFC 3986 §5.2, removing dot segments. One deliberate deviation (RFC 3986 §5.2.2's
/// permitted "non-strict" mode, as browsers do): a reference with the base's scheme and no
/// authority, like "http:g" against an http base, is resolved as the relative "g", because the
/// strict result "http:g" is not a usable http URL. A result without authority whose path starts
/// with "//" gets a "/." prefix so that it does not read back as an authority (as browsers do);
/// an http/https result's empty path becomes "/". Throws url_error if `reference` is invalid
/// or the result would be (e.g. "https:g" against an http base: no host).
url resolve(const url& base, std::string_view reference);

}  // namespace corio::http
