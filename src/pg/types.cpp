#include "corio/pg/types.hpp"

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
