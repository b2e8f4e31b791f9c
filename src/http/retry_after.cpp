// Implementation of corio/http/retry_after.hpp.
#include "corio/http/retry_after.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>
#include <string>

#include "corio/error.hpp"
#include "corio/http/errors.hpp"

namespace corio::http {
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
    value = trim_ows(value);
    if (value.empty()) return std::nullopt;
    long long seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size())
        return seconds >= 0 ? std::optional(std::chrono::seconds(seconds)) : std::nullopt;
    if (ec == std::errc::result_out_of_range && end == value.data() + value.size() && value.front() != '-')
        return std::chrono::seconds(std::numeric_limits<std::chrono::seconds::rep>::max());
    const auto date = parse_http_date(value);
    if (!date) return std::nullopt;
    // In whole seconds (no overflow for any year): a date is a whole second, so rounding the
    // wait up is measuring from the second `now` is in.
    const long long wait = static_cast<long long>(*date) -
                           std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
    return std::chrono::seconds(std::max(wait, 0LL));
}

std::function<std::optional<clock::duration>(const std::exception_ptr&)> retry_after_delay(std::chrono::seconds cap) {
    return [cap](const std::exception_ptr& e) -> std::optional<clock::duration> {
        try {
            std::rethrow_exception(e);
        } catch (const status_error& s) {
            const auto value = s.headers().get("Retry-After");
            const auto asked = value ? parse_retry_after(*value, std::chrono::system_clock::now()) : std::nullopt;
            if (!asked) return std::nullopt;
            return std::chrono::duration_cast<clock::duration>(std::min(*asked, cap));  // seconds: no overflow
        } catch (...) {
            return std::nullopt;
        }
    };
}

}  // namespace corio::http
