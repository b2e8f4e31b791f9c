// URL parsing, resolution and percent-encoding (RFC 3986). See include/corio/http/url.hpp.
#include <corio/http/url.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>

namespace corio::http {

namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) noexcept {
    if (is_digit(c)) return c - '0';
    return (c | 0x20) - 'a' + 10;
}
bool is_unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
bool is_scheme_char(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}
char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }
std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}
/// http and https (the schemes with a default port) need an authority with a non-empty host.
bool requires_host(std::string_view scheme) noexcept { return default_port(scheme).has_value(); }

/// Appends `u` as two upper-case hex digits.
void append_hex(std::string& out, unsigned char u) {
    out += hex_digits[u >> 4];
    out += hex_digits[u & 0xf];
}

/// True if `c` may appear unencoded in `where` (the character sets of RFC 3986 §3).
bool is_allowed_raw(char c, component where) noexcept {
    if (is_unreserved(c)) return true;
    switch (where) {
        case component::userinfo: return is_sub_delim(c);
        case component::path_segment: return is_sub_delim(c) || c == ':' || c == '@';
        case component::path: return is_sub_delim(c) || c == ':' || c == '@' || c == '/';
        case component::query:
        case component::fragment:
            return is_sub_delim(c) || c == ':' || c == '@' || c == '/' || c == '?';
        case component::query_param: return false;
    }
    return false;
}

/// `text` with every byte for which `needs_escape(byte)` holds written as "%XX".
template <class Pred>
std::string escape_if(std::string_view text, Pred needs_escape) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (needs_escape(c)) {
            out += '%';
            append_hex(out, static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out;
}

/// The input for an error message: non-printable bytes shown as \xNN.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            append_hex(out, u);
        } else {
            out += c;
        }
    }
    return out + '"';
}

/// Throws url_error for `what` at `offset` of `text`.
[[noreturn]] void fail(std::string_view kind, std::string_view text, std::size_t offset,
                       std::string_view what) {
    throw url_error("invalid " + std::string(kind) + " " + quoted(text) + ": " + std::string(what) +
                    " at offset " + std::to_string(offset));
}

/// The offset of the first invalid "%" escape in `text`, if any.
std::optional<std::size_t> bad_escape(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') continue;
        if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return i;
        i += 2;
    }
    return std::nullopt;
}

/// True if `s` is a dotted-quad of decimal octets 0..255 without leading zeros
/// (RFC 3986 IPv4address).
bool is_ipv4(std::string_view s) noexcept {
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
        std::size_t start = i;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
        std::size_t len = i - start;
        if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
        if (++parts < 4) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    return i == s.size();
}

/// RFC 3986 §5.2.4 remove_dot_segments.
std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.starts_with("../")) {
            in.remove_prefix(3);
        } else if (in.starts_with("./")) {
            in.remove_prefix(2);
        } else if (in.starts_with("/./")) {
            in.remove_prefix(2);
        } else if (in == "/.") {
            in = "/";
        } else if (in.starts_with("/../") || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            auto last = out.rfind('/');
            out.erase(last == std::string::npos ? 0 : last);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            auto next = in.find('/', 1);
            if (next == std::string_view::npos) next = in.size();
            out.append(in.substr(0, next));
            in.remove_prefix(next);
        }
    }
    return out;
}

}  // namespace

std::optional<std::uint16_t> default_port(std::string_view scheme) noexcept {
    if (scheme == "http") return 80;
    if (scheme == "https") return 443;
    return std::nullopt;
}

std::string percent_encode(std::string_view text, component where) {
    return escape_if(text, [where](char c) { return !is_allowed_raw(c, where); });
}

std::string escape_unsafe(std::string_view text) {
    return escape_if(text, [](char c) {
        auto u = static_cast<unsigned char>(c);
        constexpr std::string_view never_raw = "\"<>\\^`{|}";
        return u <= 0x20 || u >= 0x7f || never_raw.find(c) != std::string_view::npos;
    });
}

std::string percent_decode(std::string_view text) {
    if (text.find('%') == std::string_view::npos) return std::string(text);  // the common case
    if (auto at = bad_escape(text)) fail("percent-encoding", text, *at, "invalid percent-encoding");
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// query_params

query_params& query_params::add(std::string key, std::string value) {
    items_.emplace_back(std::move(key), std::move(value));
    return *this;
}

std::optional<std::string_view> query_params::get(std::string_view key) const noexcept {
    for (const auto& [k, v] : items_)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::string query_params::encode() const {
    std::string out;
    for (const auto& [k, v] : items_) {
        if (!out.empty()) out += '&';
        out += percent_encode(k, component::query_param);
        out += '=';
        out += percent_encode(v, component::query_param);
    }
    return out;
}

query_params query_params::parse(std::string_view query) {
    auto decode_form = [](std::string_view s) {
        std::string plus_as_space(s);
        std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
        return percent_decode(plus_as_space);
    };
    query_params out;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
        out.add(decode_form(part.substr(0, eq)), decode_form(value));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses an absolute URL, or (given the scheme of the base it will be resolved against) a
/// URI-reference (RFC 3986 §4.1), into a url; a relative reference yields an empty scheme_.
/// Also enforces that an http/https URL has a non-empty host.
class reference_parser {
public:
    /// `base_scheme`: nullopt to require an absolute URL, else the base's scheme.
    reference_parser(std::string_view text, std::optional<std::string_view> base_scheme)
        : text_(text), base_scheme_(base_scheme), kind_(base_scheme ? "URL reference" : "URL") {}

    url parse() {
        check_characters();
        std::size_t pos = parse_scheme();
        if (text_.substr(pos).starts_with("//"))
            pos = parse_authority(pos + 2);
        else if (requires_host(out_.scheme_))
            fail_at(pos, out_.scheme_ + " URL without \"//\" and a host");
        std::size_t end = text_.find_first_of("?#", pos);
        if (end == std::string_view::npos) end = text_.size();
        out_.path_ = checked(pos, end, component::path);
        check_first_segment(pos);
        pos = end;
        if (pos < text_.size() && text_[pos] == '?') {
            end = std::min(text_.find('#', pos), text_.size());
            out_.has_query_ = true;
            out_.query_ = checked(pos + 1, end, component::query);
            pos = end;
        }
        if (pos < text_.size()) {  // text_[pos] == '#'
            out_.has_fragment_ = true;
            out_.fragment_ = checked(pos + 1, text_.size(), component::fragment);
        }
        return std::move(out_);
    }

private:
    [[noreturn]] void fail_at(std::size_t offset, std::string_view what) const {
        fail(kind_, text_, offset, what);
    }

    void check_characters() const {
        for (std::size_t i = 0; i < text_.size(); ++i) {
            auto u = static_cast<unsigned char>(text_[i]);
            if (u >= 0x80) fail_at(i, "non-ASCII character");
            if (u <= 0x20 || u == 0x7f) fail_at(i, "space or control character");
        }
    }

    /// Returns the offset just past "scheme:", or 0 if there is no scheme. Non-strict mode
    /// (see resolve() in the header): the base's scheme without "//" is dropped.
    std::size_t parse_scheme() {
        std::size_t i = 0;
        if (!text_.empty() && is_alpha(text_[0]))
            while (i < text_.size() && is_scheme_char(text_[i])) ++i;
        if (i > 0 && i < text_.size() && text_[i] == ':') {
            std::string scheme = lower(text_.substr(0, i));
            bool non_strict = base_scheme_ && scheme == *base_scheme_ && requires_host(scheme) &&
                              !text_.substr(i + 1).starts_with("//");
            if (!non_strict) out_.scheme_ = std::move(scheme);
            return i + 1;
        }
        if (!base_scheme_) fail_at(0, "missing scheme");
        return 0;
    }

    /// The scheme the result will have: its own, else the base's.
    std::string_view effective_scheme() const {
        return out_.scheme_.empty() && base_scheme_ ? *base_scheme_ : out_.scheme_;
    }

    /// Parses the authority starting at `pos` (just after "//"); returns the offset past it.
    std::size_t parse_authority(std::size_t pos) {
        out_.has_authority_ = true;
        std::size_t end = std::min(text_.find_first_of("/?#", pos), text_.size());
        std::size_t at = text_.find('@', pos);
        if (at < end) {
            parse_userinfo(pos, at);
            pos = at + 1;
        }
        std::size_t host_end = pos < end && text_[pos] == '[' ? parse_ipv6(pos, end)
                                                              : parse_reg_name(pos, end);
        if (out_.host_.empty() && requires_host(effective_scheme()))
            fail_at(pos, std::string(effective_scheme()) + " URL with an empty host");
        if (host_end < end) parse_port(host_end + 1, end);  // text_[host_end] == ':'
        return end;
    }

    void parse_userinfo(std::size_t begin, std::size_t end) {
        out_.has_userinfo_ = true;
        std::size_t colon = std::min(text_.find(':', begin), end);
        out_.user_ = checked(begin, colon, component::userinfo);
        if (colon < end) {
            out_.has_password_ = true;
            out_.password_ = checked(colon + 1, end, component::userinfo, /*also=*/':');
        }
    }

    /// Parses "[...]" at `begin`; returns the offset past ']'.
    std::size_t parse_ipv6(std::size_t begin, std::size_t end) {
        std::size_t close = text_.find(']', begin);
        if (close >= end) fail_at(begin, "unterminated IPv6 literal (missing ']')");
        std::string_view literal = text_.substr(begin + 1, close - begin - 1);
        if (!literal.empty() && (literal[0] == 'v' || literal[0] == 'V'))
            fail_at(begin + 1, "IPvFuture literals are not supported");
        if (auto pct = literal.find('%'); pct != std::string_view::npos)
            fail_at(begin + 1 + pct, "IPv6 zone identifiers are not supported");
        std::array<unsigned char, 16> addr{};
        std::string text(literal);
        if (inet_pton(AF_INET6, text.c_str(), addr.data()) != 1)
            fail_at(begin + 1, "invalid IPv6 address");
        out_.host_ = lower(literal);
        out_.host_type_ = url::host_kind::ipv6;
        std::size_t after = close + 1;
        if (after < end && text_[after] != ':')
            fail_at(after, "unexpected character after IPv6 literal");
        return after;
    }

    /// Parses a reg-name or IPv4 host from `begin` up to ':' or `end`; returns where it stopped.
    std::size_t parse_reg_name(std::size_t begin, std::size_t end) {
        std::size_t stop = std::min(text_.find(':', begin), end);
        // A reg-name allows unreserved, sub-delims and escapes: exactly component::userinfo.
        std::string host = lower(checked(begin, stop, component::userinfo));
        bool numeric = !host.empty() &&
                       host.find_first_not_of("0123456789.") == std::string::npos;
        if (numeric && !is_ipv4(host)) fail_at(begin, "invalid IPv4 address");
        out_.host_type_ = numeric ? url::host_kind::ipv4 : url::host_kind::reg_name;
        out_.host_ = std::move(host);
        return stop;
    }

    void parse_port(std::size_t begin, std::size_t end) {
        if (begin == end) return;  // "host:" — an empty port means the default (RFC 3986 §3.2.3)
        std::uint32_t value = 0;
        for (std::size_t i = begin; i < end; ++i) {
            if (!is_digit(text_[i])) fail_at(i, "invalid port (not a decimal number)");
            value = value * 10 + static_cast<std::uint32_t>(text_[i] - '0');
            if (value > 65535) fail_at(begin, "port out of range (0-65535)");
        }
        out_.port_ = static_cast<std::uint16_t>(value);
    }

    /// A relative-path reference's first segment may not contain ':' (it would read as a scheme).
    void check_first_segment(std::size_t path_begin) const {
        if (!out_.scheme_.empty() || out_.has_authority_) return;
        std::size_t colon = out_.path_.find(':');
        if (colon != std::string::npos && colon < out_.path_.find('/'))
            fail_at(path_begin + colon, "':' in the first segment of a relative reference");
    }

    /// text_[begin, end) after checking that each character is allowed raw in `where` (or is
    /// `also`, or starts a valid escape).
    std::string checked(std::size_t begin, std::size_t end, component where,
                        char also = '\0') const {  // NUL never gets here
        for (std::size_t i = begin; i < end; ++i) {
            char c = text_[i];
            if (c != '%' && c != also && !is_allowed_raw(c, where))
                fail_at(i, std::string("character '") + c + "' not allowed here");
        }
        std::string_view part = text_.substr(begin, end - begin);
        if (auto at = bad_escape(part)) fail_at(begin + *at, "invalid percent-encoding");
        return std::string(part);
    }

    std::string_view text_;
    std::optional<std::string_view> base_scheme_;
    std::string_view kind_;  // "URL" or "URL reference", for messages
    url out_;
};

url url::parse(std::string_view text) {
    url u = reference_parser(text, std::nullopt).parse();
    u.normalise_empty_path();
    return u;
}

void url::normalise_empty_path() {
    if (requires_host(scheme_) && path_.empty()) path_ = "/";
}

// ---------------------------------------------------------------------------------------------
// Accessors and serialisation

std::uint16_t url::port() const noexcept {
    return port_ ? *port_ : default_port(scheme_).value_or(0);
}

std::string url::authority() const {
    std::string out;
    if (has_userinfo_) {
        out += user_;
        if (has_password_) out += ':' + password_;
        out += '@';
    }
    out += bracketed_host();
    if (port_) out += ':' + std::to_string(*port_);
    return out;
}

std::string url::bracketed_host() const {
    return host_type_ == host_kind::ipv6 ? '[' + host_ + ']' : host_;
}

std::string url::target() const {
    std::string out = path_.empty() ? "/" : path_;
    if (has_query_) out += '?' + query_;
    return out;
}

std::string url::host_header() const {
    std::string out = bracketed_host();
    if (port_ && port_ != default_port(scheme_)) out += ':' + std::to_string(*port_);
    return out;
}

std::string url::host_port() const { return bracketed_host() + ':' + std::to_string(port()); }

std::string url::to_string() const {
    std::string out = scheme_ + ':';
    if (has_authority_) out += "//" + authority();
    out += path_;
    if (has_query_) out += '?' + query_;
    if (has_fragment_) out += '#' + fragment_;
    return out;
}

url url::with_params(const query_params& params) const {
    url out = *this;
    if (params.empty()) return out;
    if (!out.query_.empty() && !out.query_.ends_with('&')) out.query_ += '&';
    out.query_ += params.encode();
    out.has_query_ = true;
    return out;
}

url url::without_fragment() const {
    url out = *this;
    out.has_fragment_ = false;
    out.fragment_.clear();
    return out;
}

url url::without_userinfo() const {
    url out = *this;
    out.has_userinfo_ = out.has_password_ = false;
    out.user_.clear();
    out.password_.clear();
    return out;
}

// ---------------------------------------------------------------------------------------------
// Resolution (RFC 3986 §5.2)

namespace {

/// The path of a relative-path reference `ref` against `base` (§5.2.3 merge + §5.2.4).
std::string merged_path(const url& base, const std::string& ref) {
    if (ref.starts_with('/')) return remove_dot_segments(ref);
    if (base.has_authority() && base.path().empty()) return remove_dot_segments('/' + ref);
    auto slash = base.path().rfind('/');
    std::string prefix = slash == std::string::npos ? "" : base.path().substr(0, slash + 1);
    return remove_dot_segments(prefix + ref);
}

}  // namespace

url resolve(const url& base, std::string_view reference) {
    url r = reference_parser(reference, std::string_view(base.scheme_)).parse();
    url t;
    if (!r.scheme_.empty() || r.has_authority_) {  // network-path or absolute reference
        if (r.scheme_.empty()) r.scheme_ = base.scheme_;
        t = std::move(r);
        t.path_ = remove_dot_segments(t.path_);
    } else {  // same authority as the base
        t = base;
        if (!r.path_.empty()) {
            t.path_ = merged_path(base, r.path_);
            t.has_query_ = r.has_query_;
            t.query_ = std::move(r.query_);
        } else if (r.has_query_) {
            t.has_query_ = true;
            t.query_ = std::move(r.query_);
        }
        t.has_fragment_ = r.has_fragment_;
        t.fragment_ = std::move(r.fragment_);
    }
    // A path starting "//" without an authority would read back as one (RFC 3986 §5.3 note):
    // "/." keeps it a path, as browsers do.
    if (!t.has_authority_ && t.path_.starts_with("//")) t.path_.insert(0, "/.");
    t.normalise_empty_path();
    return t;
}

}  // namespace corio::http
