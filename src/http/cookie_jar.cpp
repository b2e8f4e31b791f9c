// Cookie storage and retrieval (RFC 6265 §5). See include/corio/http/cookie_jar.hpp.
#include <corio/http/cookie_jar.hpp>
#include <corio/http/headers.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <stdexcept>

namespace corio::http {

namespace {

using time_point = cookie_jar::time_point;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

bool is_ctl(char c) noexcept { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

/// A value that can be sent back verbatim in a Cookie header (';' would split it).
bool is_valid_value(std::string_view v) noexcept {
    return std::none_of(v.begin(), v.end(), [](char c) { return is_ctl(c) || c == ';'; });
}

bool is_acceptable(std::string_view name, std::string_view value) noexcept {
    return is_token(name) && is_valid_value(value) &&
           name.size() + value.size() <= cookie_jar::max_cookie_size;
}

bool is_ip(const url& u) noexcept { return u.host_type() != url::host_kind::reg_name; }

/// RFC 6265 §5.1.3, with `domain` stored without its leading dot.
bool domain_matches(const url& u, std::string_view domain) noexcept {
    const std::string& host = u.host();
    if (host == domain) return true;
    return !is_ip(u) && host.size() > domain.size() && host.ends_with(domain) &&
           host[host.size() - domain.size() - 1] == '.';
}

/// RFC 6265 §5.1.4 path-match.
bool path_matches(std::string_view request_path, std::string_view cookie_path) noexcept {
    if (!request_path.starts_with(cookie_path)) return false;
    return request_path.size() == cookie_path.size() || cookie_path.ends_with('/') ||
           request_path[cookie_path.size()] == '/';
}

/// The request path for cookie purposes: "/" unless the URL path is absolute.
std::string_view request_path(const url& u) noexcept {
    const std::string& p = u.path();
    return p.starts_with('/') ? std::string_view(p) : std::string_view("/");
}

/// RFC 6265 §5.1.4 default-path: up to, not including, the last '/' ("/" if that is the first).
std::string default_path(const url& origin) {
    const std::string_view p = request_path(origin);
    const auto last = p.rfind('/');
    return last == 0 ? std::string("/") : std::string(p.substr(0, last));
}

bool is_secure_scheme(const url& u) noexcept {
    return u.scheme() == "https" || u.scheme() == "wss";
}

/// `seconds` since the epoch as a time_point, clamped to the representable range.
time_point from_unix_seconds(std::int64_t unix_seconds) noexcept {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    constexpr auto lo = duration_cast<seconds>(time_point::min().time_since_epoch()).count();
    constexpr auto hi = duration_cast<seconds>(time_point::max().time_since_epoch()).count();
    if (unix_seconds <= lo) return time_point::min();
    if (unix_seconds >= hi) return time_point::max();
    return time_point(duration_cast<time_point::duration>(seconds(unix_seconds)));
}

// --- RFC 6265 §5.1.1 cookie-date ------------------------------------------------------------

bool is_date_delimiter(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x09 || (u >= 0x20 && u <= 0x2f) || (u >= 0x3b && u <= 0x40) ||
           (u >= 0x5b && u <= 0x60) || (u >= 0x7b && u <= 0x7e);
}

/// Reads 1..max_digits digits at `pos` into `out`; the digits must not be followed by another
/// digit (the grammar's "( non-digit *OCTET )"). Advances `pos` past the digits.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t min_digits,
                 std::size_t max_digits, int& out) noexcept {
    std::size_t n = 0;
    out = 0;
    while (pos < s.size() && is_digit(s[pos])) {
        if (++n > max_digits) return false;
        out = out * 10 + (s[pos++] - '0');
    }
    return n >= min_digits;
}

/// read_digits() at the start of `token`.
bool leading_number(std::string_view token, std::size_t min_digits, std::size_t max_digits,
                    int& out) noexcept {
    std::size_t pos = 0;
    return read_digits(token, pos, min_digits, max_digits, out);
}

/// hms-time = time-field ":" time-field ":" time-field, time-field = 1*2DIGIT.
bool parse_time(std::string_view token, int& h, int& m, int& s) noexcept {
    std::size_t pos = 0;
    return read_digits(token, pos, 1, 2, h) && pos < token.size() && token[pos++] == ':' &&
           read_digits(token, pos, 1, 2, m) && pos < token.size() && token[pos++] == ':' &&
           read_digits(token, pos, 1, 2, s);
}

bool parse_month(std::string_view token, int& month) noexcept {
    constexpr std::array<std::string_view, 12> names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    if (token.size() < 3) return false;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (iequals(token.substr(0, 3), names[i])) {
            month = static_cast<int>(i) + 1;
            return true;
        }
    }
    return false;
}

/// Parses a cookie-date with the §5.1.1 algorithm; nullopt if it fails.
std::optional<time_point> parse_cookie_date(std::string_view text) noexcept {
    int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
    bool found_time = false, found_day = false, found_month = false, found_year = false;
    std::size_t i = 0;
    while (i < text.size()) {
        if (is_date_delimiter(text[i])) {
            ++i;
            continue;
        }
        const std::size_t begin = i;
        while (i < text.size() && !is_date_delimiter(text[i])) ++i;
        const std::string_view token = text.substr(begin, i - begin);
        if (!found_time && parse_time(token, hour, minute, second)) {
            found_time = true;
        } else if (!found_day && leading_number(token, 1, 2, day)) {
            found_day = true;
        } else if (!found_month && parse_month(token, month)) {
            found_month = true;
        } else if (!found_year && leading_number(token, 2, 4, year)) {
            found_year = true;
        }
    }
    if (!(found_time && found_day && found_month && found_year)) return std::nullopt;
    if (year >= 70 && year <= 99) year += 1900;
    if (year >= 0 && year <= 69) year += 2000;
    if (year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;  // also rejects day 0 and "Feb 30"
    const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
    return from_unix_seconds(days * 86400 + hour * 3600 + minute * 60 + second);
}

/// Max-Age: an optional '-' then 1*DIGIT. nullopt if malformed (the attribute is then ignored).
std::optional<time_point> parse_max_age(std::string_view text, time_point now) noexcept {
    const bool negative = text.starts_with('-');
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
    if (negative || digits.find_first_not_of('0') == std::string_view::npos) {
        return time_point::min();  // "the earliest representable date and time"
    }
    const std::int64_t now_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t room = std::numeric_limits<std::int64_t>::max() - now_seconds;
    std::int64_t delta = 0;
    for (char c : digits) {
        if (delta > (room - (c - '0')) / 10) return time_point::max();
        delta = delta * 10 + (c - '0');
    }
    return from_unix_seconds(now_seconds + delta);
}

/// The parts of a Set-Cookie value that §5.3 consumes.
struct set_cookie_line {
    std::string_view name, value;
    std::optional<time_point> expires, max_age;
    std::optional<std::string_view> domain, path;  // path: only a value starting with '/'
    bool secure = false, http_only = false;
};

/// RFC 6265 §5.2; nullopt if the line must be ignored.
std::optional<set_cookie_line> parse_set_cookie(std::string_view text, time_point now) {
    const std::size_t semi = text.find(';');
    const std::string_view pair = text.substr(0, semi);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    set_cookie_line line;
    line.name = trim_ows(pair.substr(0, eq));
    line.value = trim_ows(pair.substr(eq + 1));
    if (!is_acceptable(line.name, line.value)) return std::nullopt;
    std::string_view rest =
        semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    while (!rest.empty()) {
        const std::size_t next = rest.find(';');
        const std::string_view av = rest.substr(0, next);
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
        const std::size_t av_eq = av.find('=');
        const std::string_view key = trim_ows(av.substr(0, av_eq));
        const std::string_view value =
            av_eq == std::string_view::npos ? std::string_view() : trim_ows(av.substr(av_eq + 1));
        if (iequals(key, "expires")) {
            if (auto t = parse_cookie_date(value)) line.expires = t;
        } else if (iequals(key, "max-age")) {
            if (auto t = parse_max_age(value, now)) line.max_age = t;
        } else if (iequals(key, "domain")) {
            // "Domain=" and "Domain=." are ignored: the cookie stays host-only.
            const std::string_view domain = value.starts_with('.') ? value.substr(1) : value;
            line.domain = domain.empty() ? std::nullopt : std::optional(domain);
        } else if (iequals(key, "path")) {
            line.path = value.starts_with('/') ? std::optional(value) : std::nullopt;
        } else if (iequals(key, "secure")) {
            line.secure = true;
        } else if (iequals(key, "httponly")) {
            line.http_only = true;
        }
    }
    return line;
}

}  // namespace

void cookie_jar::update(const url& origin, std::string_view set_cookie, time_point now) {
    const auto line = parse_set_cookie(set_cookie, now);
    if (!line) return;
    cookie c{.name = std::string(line->name),
             .value = std::string(line->value),
             .domain = origin.host(),
             .path = line->path ? std::string(*line->path) : default_path(origin),
             .expiry = line->max_age.value_or(line->expires.value_or(time_point::max())),
             .created = 0,
             .host_only = true,
             .secure = line->secure,
             .http_only = line->http_only};
    if (line->domain) {
        std::string domain = lower(*line->domain);
        if (!domain_matches(origin, domain)) return;
        // A single-label Domain ("com") stands in for a public-suffix list, and an IP host never
        // widens to other hosts: both are allowed only as the request host itself, host-only.
        const bool narrow = is_ip(origin) || domain.find('.') == std::string::npos;
        if (narrow && domain != origin.host()) return;
        c.host_only = narrow;
        c.domain = std::move(domain);
    }
    store(std::move(c), now);
}

void cookie_jar::set(const url& origin, std::string name, std::string value) {
    if (!is_acceptable(name, value)) {
        throw std::invalid_argument("invalid cookie \"" + name +
                                    "\": the name must be a token, the value free of control "
                                    "characters and ';', and both together at most 4096 bytes");
    }
    store(cookie{.name = std::move(name),
                 .value = std::move(value),
                 .domain = origin.host(),
                 .path = "/",
                 .expiry = time_point::max(),
                 .created = 0,
                 .host_only = true,
                 .secure = false,
                 .http_only = false},
          std::chrono::system_clock::now());
}

void cookie_jar::store(cookie c, time_point now) {
    const auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const cookie& old) {
        return old.name == c.name && old.domain == c.domain && old.path == c.path;
    });
    const bool expired = c.expiry <= now;
    if (same != cookies_.end()) {
        if (expired) {
            cookies_.erase(same);
        } else {
            c.created = same->created;  // §5.3 step 11.3
            *same = std::move(c);
        }
        return;
    }
    if (expired) return;
    make_room(c.domain, now);
    c.created = next_created_++;
    cookies_.push_back(std::move(c));
}

void cookie_jar::make_room(const std::string& domain, time_point now) {
    const auto in_domain = [&](const cookie& c) { return c.domain == domain; };
    const auto anywhere = [](const cookie&) { return true; };
    // Frees one slot among the cookies `in_scope` selects if they fill `cap`: expired ones
    // first, else the oldest-created one.
    const auto evict = [&](auto in_scope, std::size_t cap) {
        const auto full = [&] {
            return static_cast<std::size_t>(
                       std::count_if(cookies_.begin(), cookies_.end(), in_scope)) >= cap;
        };
        if (!full()) return;
        std::erase_if(cookies_, [&](const cookie& c) { return in_scope(c) && c.expiry <= now; });
        if (!full()) return;
        auto oldest = cookies_.end();
        for (auto it = cookies_.begin(); it != cookies_.end(); ++it) {
            if (in_scope(*it) && (oldest == cookies_.end() || it->created < oldest->created)) {
                oldest = it;
            }
        }
        cookies_.erase(oldest);
    };
    evict(in_domain, max_cookies_per_domain);
    evict(anywhere, max_cookies);
}

std::string cookie_jar::header_for(const url& target, time_point now) {
    std::erase_if(cookies_, [&](const cookie& c) { return c.expiry <= now; });
    const std::string_view path = request_path(target);
    const bool secure = is_secure_scheme(target);
    std::vector<const cookie*> matching;
    for (const cookie& c : cookies_) {
        const bool host_ok =
            c.host_only ? target.host() == c.domain : domain_matches(target, c.domain);
        if (host_ok && path_matches(path, c.path) && (secure || !c.secure)) matching.push_back(&c);
    }
    std::sort(matching.begin(), matching.end(), [](const cookie* a, const cookie* b) {
        if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
        return a->created < b->created;
    });
    std::string header;
    for (const cookie* c : matching) {
        if (!header.empty()) header += "; ";
        header += c->name;
        header += '=';
        header += c->value;
    }
    return header;
}

}  // namespace corio::http
