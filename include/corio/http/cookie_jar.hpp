// corio/http/cookie_jar.hpp — the cookie store of an HTTP client session (RFC 6265, the part a
// non-browser client needs; what aiohttp's CookieJar does).
//
// update() stores the cookie of one Set-Cookie header value received from a URL; header_for()
// builds the Cookie header value to send to a URL. Guarantees (RFC 6265 §5.2–§5.4):
// - Set-Cookie parsing is lenient like browsers: attributes with unknown names or invalid values
//   are skipped; the last occurrence of an attribute wins. A cookie that must be rejected is
//   ignored silently: no '=' in the name-value pair, a name that is not an RFC 6265 token, a
//   control character in the value, name + value longer than 4096 bytes, a Domain that the
//   request host does not domain-match (Domain is compared without its leading dot), a Domain
//   with a single label ("com", "localhost": our stand-in for a public-suffix list) unless it is
//   the request host itself, the cookie then being host-only.
// - A valid Domain ("example.com", also from the host example.com itself) makes the cookie
//   match that host and its subdomains; without Domain it is host-only (that exact host).
// - IP hosts: a Domain attribute must then equal the host exactly and the cookie is stored
//   host-only (as browsers do; suffix matching never applies to an IP address).
// - Expiry: Max-Age (delta seconds; <= 0 means "already expired") wins over Expires, whatever
//   their order. Expires is parsed with RFC 6265's §5.1.1 algorithm, so IMF-fixdate
//   ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
//   ("Sun Nov  6 08:49:37 1994") all work; an unparsable Expires is ignored. Without either the
//   cookie lives as long as the jar (a session cookie).
// - A cookie replaces a stored one with the same (name, domain, path) and keeps its creation
//   order; an already-expired cookie deletes the stored one and is not stored.
// - Default path: RFC 6265 §5.1.4 (the origin path up to, not including, its last '/').
// - header_for() sends a cookie when the host matches (exactly for a host-only cookie, else the
//   domain or a subdomain of it), the path path-matches (§5.1.4), it has not expired, and, for a
//   Secure cookie, the scheme is https or wss. Order: longer paths first, then earlier created.
//   HttpOnly is recorded but changes nothing (there is no script API here). A Secure cookie
//   received over plain http is stored (RFC 6265, aiohttp; RFC 6265bis browsers drop it).
// - Bounded memory: at most 50 cookies per domain and 3000 in all; storing beyond that first
//   drops expired cookies, then the oldest-created ones (of the domain, or of the whole jar).
// - Expired cookies are removed lazily: all of them by every header_for(), and those in the way
//   by update() when a cap is reached. size() therefore may count expired cookies.
//
// Thread-safety: none; a jar belongs to one session, used from one event loop.
// Throws: std::bad_alloc; set() also throws std::invalid_argument for an invalid name or value.
// Cancel safety: nothing here suspends.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/url.hpp"

namespace corio::http {

class cookie_jar {
public:
    using time_point = std::chrono::system_clock::time_point;

    static constexpr std::size_t max_cookies = 3000;           ///< in the whole jar
    static constexpr std::size_t max_cookies_per_domain = 50;  ///< per cookie domain
    static constexpr std::size_t max_cookie_size = 4096;       ///< name + value bytes

    /// Stores the cookie of one Set-Cookie header value received in the response to `origin`
    /// (the request URL), or deletes a stored one if it is already expired at `now`. Invalid or
    /// rejected cookies are ignored (see the header comment).
    void update(const url& origin, std::string_view set_cookie,
                time_point now = std::chrono::system_clock::now());

    /// The Cookie header value for a request to `target` ("a=1; b=2"), "" if no cookie applies.
    /// Removes every cookie expired at `now`.
    std::string header_for(const url& target, time_point now = std::chrono::system_clock::now());

    /// Stored cookies, possibly including expired ones not purged yet.
    std::size_t size() const noexcept { return cookies_.size(); }
    void clear() noexcept { cookies_.clear(); }

    /// Stores a session cookie for `origin`'s host only, on path "/" (like aiohttp's
    /// update_cookies), replacing one with the same name there. Throws std::invalid_argument
    /// if `name` is not a token, `value` holds a control character or ';', or they are too long.
    void set(const url& origin, std::string name, std::string value);

private:
    struct cookie {
        std::string name;
        std::string value;
        std::string domain;  // lower-case, no leading dot; the exact host if host_only
        std::string path;    // starts with '/'
        time_point expiry;   // time_point::max() for a session cookie
        std::uint64_t created;  // creation order (next_created_ at the time); kept on replace
        bool host_only;
        bool secure;
        bool http_only;
    };

    void store(cookie c, time_point now);
    void make_room(const std::string& domain, time_point now);

    // Invariants: no two cookies share (name, domain, path); at most max_cookies_per_domain per
    // domain and max_cookies in all; every name is a token and name + value fit max_cookie_size.
    // Unordered: header_for() sorts what it sends.
    std::vector<cookie> cookies_;
    std::uint64_t next_created_ = 0;  // strictly increasing creation counter
};

}  // namespace corio::http
