#include "corio/pg/types.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace corio::pg {

namespace detail {

void throw_conversion(std::string_view type, std::string_view text, std::string_view why) {
    std::string message = "cannot read \"" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "...\"" : "\"") +
                          " as " + std::string(type);
    if (!why.empty()) message += ": " + std::string(why);
    throw conversion_error(message);
}

long long parse_integer(std::string_view text, long long min, long long max, std::string_view type) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) throw_conversion(type, text, "out of range");
    if (ec != std::errc() || end != text.data() + text.size()) throw_conversion(type, text);
    if (value < min || value > max) throw_conversion(type, text, "out of range");
    return value;
}

double parse_double(std::string_view text) {
    if (text == "NaN") return std::nan("");
    if (text == "Infinity") return HUGE_VAL;
    if (text == "-Infinity") return -HUGE_VAL;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) throw_conversion("a floating-point number", text);
    return value;
}

std::string format_double(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, end);
}

bool parse_bool(std::string_view text) {
    if (text == "t") return true;
    if (text == "f") return false;
    throw_conversion("bool", text);
}

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The digits of text[at, at + count) as a number; -1 if any is not a digit.
int digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) return -1;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/// "YYYY-MM-DD" at the start of `text`.
std::optional<date> read_date(std::string_view text) {
    const int y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
    if (y < 0 || m < 0 || d < 0 || text[4] != '-' || text[7] != '-') return std::nullopt;
    const date value{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                     std::chrono::day(static_cast<unsigned>(d))};
    if (!value.ok()) return std::nullopt;
    return value;
}
}  // namespace

bytes parse_bytea(std::string_view text) {
    if (!text.starts_with("\\x") || text.size() % 2 != 0) throw_conversion("bytea (hex format)", text);
    bytes out;
    out.reserve(text.size() / 2 - 1);
    for (std::size_t i = 2; i < text.size(); i += 2) {
        const int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) throw_conversion("bytea (hex format)", text);
        out.push_back(static_cast<std::byte>(hi * 16 + lo));
    }
    return out;
}

std::string format_bytea(const bytes& value) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\\x";
    out.reserve(2 + value.size() * 2);
    for (std::byte b : value) {
        out += hex[std::to_integer<unsigned>(b) >> 4];
        out += hex[std::to_integer<unsigned>(b) & 15];
    }
    return out;
}

timestamp parse_timestamp(std::string_view text) {
    // ISO DateStyle: "2024-03-01 12:34:56[.123456][+01[:30[:15]]]" (the offset: timestamptz).
    const auto day = read_date(text);
    const int hh = digits(text, 11, 2), mm = digits(text, 14, 2), ss = digits(text, 17, 2);
    if (!day || text.size() < 19 || text[10] != ' ' || hh < 0 || mm < 0 || ss < 0)
        throw_conversion("a timestamp", text, "expected ISO format (DateStyle ISO)");
    std::chrono::microseconds since_midnight = std::chrono::hours(hh) + std::chrono::minutes(mm) + std::chrono::seconds(ss);
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        std::int64_t fraction = 0;
        int places = 0;
        for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++places)
            if (places < 6) fraction = fraction * 10 + (text[at] - '0');
        for (; places < 6; ++places) fraction *= 10;
        since_midnight += std::chrono::microseconds(fraction);
    }
    std::chrono::seconds offset{0};
    if (at < text.size()) {
        const int sign = text[at] == '-' ? -1 : text[at] == '+' ? 1 : 0;
        const int oh = digits(text, at + 1, 2);
        if (sign == 0 || oh < 0) throw_conversion("a timestamp", text);
        int om = 0, os = 0;
        at += 3;
        if (at < text.size() && text[at] == ':') om = digits(text, at + 1, 2), at += 3;
        if (at < text.size() && text[at] == ':') os = digits(text, at + 1, 2), at += 3;
        if (om < 0 || os < 0 || at != text.size()) throw_conversion("a timestamp", text);
        offset = sign * (std::chrono::hours(oh) + std::chrono::minutes(om) + std::chrono::seconds(os));
    }
    return std::chrono::sys_days(*day) + since_midnight - offset;
}

std::string format_timestamp(timestamp value) {
    const auto day = std::chrono::floor<std::chrono::days>(value);
    const date ymd(day);
    const std::chrono::hh_mm_ss<std::chrono::microseconds> time(value - day);
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02d:%02d:%02d.%06lld+00", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                  static_cast<long long>(time.subseconds().count()));
    return buffer;
}

date parse_date(std::string_view text) {
    const auto value = read_date(text);
    if (!value || text.size() != 10) throw_conversion("a date", text, "expected YYYY-MM-DD (DateStyle ISO)");
    return *value;
}

std::string format_date(date value) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(value.year()), static_cast<unsigned>(value.month()),
                  static_cast<unsigned>(value.day()));
    return buffer;
}

nlohmann::json parse_json(std::string_view text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw_conversion("JSON", text, e.what());
    }
}

std::string checked_text(std::string_view text) {
    if (text.find('\0') != std::string_view::npos)
        throw conversion_error("a text parameter cannot hold a NUL byte (PostgreSQL text cannot): send it as pg::bytes");
    return std::string(text);
}

namespace {
constexpr std::size_t max_array_dimensions = 6;  // PostgreSQL's MAXDIM

/// "NULL" in any case (array_in's unquoted NULL).
bool is_null_word(std::string_view word) {
    constexpr std::string_view null = "null";
    return word.size() == null.size() &&
           std::equal(word.begin(), word.end(), null.begin(), [](char a, char b) { return (a | 0x20) == b; });
}

/// PostgreSQL's array_in whitespace.
bool array_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/// Reads PostgreSQL's array syntax (see array_in): an optional `[lb:ub]...=` decoration, then
/// nested braces around comma-separated elements, quoted ("...", \ escapes anything) or not
/// (trimmed, \ escapes, NULL in any case is NULL).
class array_parser {
public:
    explicit array_parser(std::string_view text) : text_(text) {}

    array_text parse() {
        const auto bounds = read_bounds();
        expect('{');
        read_group(0);
        skip_space();
        if (at_ < text_.size()) fail("junk after the closing brace");
        if (!bounds.empty() && bounds != out_.dims) fail("the [lower:upper] bounds do not match the contents");
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(std::string_view why) const { throw_conversion("an array", text_, why); }
    bool at_end() const { return at_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[at_]; }
    void skip_space() {
        while (!at_end() && array_space(text_[at_])) ++at_;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(at_end() ? "unexpected end" : "expected '" + std::string(1, c) + "'");
        ++at_;
    }

    /// The lengths the `[lb:ub][lb:ub]=` decoration gives, if there is one (`[ub]`: lb is 1).
    std::vector<std::size_t> read_bounds() {
        std::vector<std::size_t> lengths;
        for (skip_space(); peek() == '['; skip_space()) {
            ++at_;
            long long lower = 1, upper = read_bound();
            skip_space();
            if (peek() == ':') {
                ++at_;
                lower = upper;
                upper = read_bound();
            }
            expect(']');
            if (upper < lower) fail("an upper bound below its lower bound");
            if (lengths.size() == max_array_dimensions) fail("more than 6 dimensions");
            lengths.push_back(static_cast<std::size_t>(upper - lower + 1));
        }
        if (!lengths.empty()) expect('=');
        return lengths;
    }
    long long read_bound() {
        skip_space();
        if (peek() == '+' && text_.substr(at_ + 1, 1) != "-") ++at_;  // strtol's sign, as array_in reads it
        long long value = 0;
        const auto [end, ec] = std::from_chars(text_.data() + at_, text_.data() + text_.size(), value);
        if (ec != std::errc() || value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
            fail("a bad [lower:upper] bound");
        at_ = static_cast<std::size_t>(end - text_.data());
        return value;
    }

    /// The contents of braces at depth `level` (the '{' read): sub-arrays or elements, not both,
    /// as many as every other group at this depth has.
    void read_group(std::size_t level) {
        if (level == max_array_dimensions) fail("more than 6 dimensions");
        skip_space();
        if (peek() == '}') {
            if (level > 0) fail("an empty sub-array");
            ++at_;  // {}: the empty array, no dimensions
            return;
        }
        std::size_t count = 0;
        for (char next = ','; next == ','; ++count) {
            skip_space();
            if (peek() == '{') {
                if (depth_ != 0 && depth_ <= level + 1) fail("elements and sub-arrays mixed");
                ++at_;
                read_group(level + 1);
            } else {
                read_element(level);
            }
            skip_space();
            if (at_end()) fail("unexpected end");
            next = text_[at_++];
            if (next != ',' && next != '}') fail("expected ',' or '}' after an element");
        }
        if (out_.dims.size() <= level) out_.dims.resize(level + 1, unset);
        if (out_.dims[level] == unset) out_.dims[level] = count;
        if (out_.dims[level] != count) fail("sub-arrays of different lengths");
    }

    void read_element(std::size_t level) {
        if (depth_ == 0) depth_ = level + 1;
        if (depth_ != level + 1) fail("elements and sub-arrays mixed");
        out_.elements.push_back(peek() == '"' ? read_quoted() : read_unquoted());
    }
    std::string read_quoted() {
        std::string value;
        for (++at_; peek() != '"'; ++at_) {
            if (peek() == '\\') ++at_;
            if (at_end()) fail("unexpected end");
            value += text_[at_];
        }
        ++at_;
        return value;
    }
    std::optional<std::string> read_unquoted() {
        std::string value;
        std::size_t kept = 0;  // value's length up to its last character that is not trailing space
        bool escaped = false;
        for (; !at_end() && peek() != ',' && peek() != '}'; ++at_) {
            if (peek() == '{' || peek() == '"') fail("unexpected '" + std::string(1, peek()) + "' in an unquoted element");
            if (peek() == '\\') {
                if (++at_ == text_.size()) fail("unexpected end");
                escaped = true;
            } else if (array_space(peek())) {
                value += peek();
                continue;
            }
            value += text_[at_];
            kept = value.size();
        }
        value.resize(kept);
        if (value.empty()) fail(at_end() ? "unexpected end" : "an empty unquoted element");
        if (!escaped && is_null_word(value)) return std::nullopt;
        return value;
    }

    std::string_view text_;
    std::size_t at_ = 0;
    std::size_t depth_ = 0;  // the dimensions, once the first element is read
    static constexpr std::size_t unset = std::numeric_limits<std::size_t>::max();  // a length not yet seen
    array_text out_;
};

void format_level(const array_text& array, std::size_t level, std::size_t& next, std::string& out) {
    out += '{';
    for (std::size_t i = 0; i < array.dims[level]; ++i) {
        if (i > 0) out += ',';
        if (level + 1 < array.dims.size()) {
            format_level(array, level + 1, next, out);
            continue;
        }
        const auto& element = array.elements[next++];
        if (!element) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *element) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
}
}  // namespace

array_text parse_array(std::string_view text, std::size_t dimensions) {
    auto array = array_parser(text).parse();
    if (!array.dims.empty() && array.dims.size() != dimensions)
        throw_conversion("an array", text,
                         std::to_string(array.dims.size()) + " dimensions, read as " + std::to_string(dimensions) +
                             " (one std::vector per dimension: std::vector<std::vector<T>> for 2)");
    return array;
}

std::string format_array(const array_text& array) {
    if (array.elements.empty()) return "{}";
    std::string out;
    std::size_t next = 0;
    format_level(array, 0, next, out);
    return out;
}

unsigned array_oid(unsigned element_oid) {
    switch (element_oid) {
    case 16: return 1000;    // bool
    case 17: return 1001;    // bytea
    case 20: return 1016;    // int8
    case 21: return 1005;    // int2
    case 23: return 1007;    // int4
    case 25: return 1009;    // text
    case 700: return 1021;   // float4
    case 701: return 1022;   // float8
    case 1082: return 1182;  // date
    case 1114: return 1115;  // timestamp
    case 1184: return 1185;  // timestamptz
    case 2950: return 2951;  // uuid
    case 3802: return 3807;  // jsonb
    default: return 0;       // unknown (text, JSON): the server infers the array type
    }
}

void throw_null_element() {
    throw conversion_error("an array holds a NULL element: read it as std::vector<std::optional<T>>");
}

void add_length(array_text& array, std::size_t level, std::size_t length) {
    if (array.dims.size() == level) array.dims.push_back(length);
    else if (array.dims[level] != length)
        throw conversion_error("a multi-dimensional array parameter must be rectangular (sub-vectors of one length)");
}

}  // namespace detail

uuid uuid::parse(std::string_view text) {
    uuid out;
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-') continue;
        const int hi = detail::hex_digit(text[i]);
        const int lo = i + 1 < text.size() ? detail::hex_digit(text[i + 1]) : -1;
        if (hi < 0 || lo < 0 || n == 16) detail::throw_conversion("a uuid", text);
        out.value[n++] = static_cast<std::uint8_t>(hi * 16 + lo);
        ++i;
    }
    if (n != 16) detail::throw_conversion("a uuid", text);
    return out;
}

std::string uuid::to_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += hex[value[i] >> 4];
        out += hex[value[i] & 15];
    }
    return out;
}

}  // namespace corio::pg
