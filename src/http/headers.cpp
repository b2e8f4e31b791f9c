// Implementation of corio/http/headers.hpp.
#include "corio/http/headers.hpp"

#include <algorithm>
#include <ctime>

namespace corio::http {
namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
}

headers& headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
    return *this;
}

headers& headers::set(std::string_view name, std::string value) {
    auto first = std::find_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); });
    if (first == fields_.end()) return add(std::string(name), std::move(value));
    first->second = std::move(value);
    fields_.erase(std::remove_if(std::next(first), fields_.end(), [&](const field& f) { return iequals(f.first, name); }),
                  fields_.end());
    return *this;
}

std::size_t headers::erase(std::string_view name) noexcept {
    return std::erase_if(fields_, [&](const field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
    for (const field& f : fields_)
        if (iequals(f.first, name)) return f.second;
    return std::nullopt;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const field& f : fields_)
        if (iequals(f.first, name)) values.push_back(f.second);
    return values;
}

void headers::merge_missing(const headers& defaults) {
    const auto own_end = static_cast<std::ptrdiff_t>(fields_.size());  // defaults may repeat a name
    for (const field& d : defaults.fields_) {
        const auto own = fields_.begin() + own_end;
        if (std::none_of(fields_.begin(), own, [&](const field& f) { return iequals(f.first, d.first); }))
            fields_.push_back(d);
    }
}

std::string_view trim_ows(std::string_view s) noexcept {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string_view> list_elements(std::string_view value) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0; at <= value.size();) {
        const std::size_t comma = std::min(value.find(',', at), value.size());
        if (const std::string_view item = trim_ows(value.substr(at, comma - at)); !item.empty()) out.push_back(item);
        at = comma + 1;
    }
    return out;
}

std::string_view value_without_parameters(std::string_view value) noexcept {
    return trim_ows(value.substr(0, value.find(';')));
}

namespace {

/// The quoted-string at the start of `text` (which begins with '"'), unescaped; `text` is left
/// after its closing quote. nullopt if it has none.
std::optional<std::string> take_quoted(std::string_view& text) {
    std::string out;
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (text[i] == '"') {
            text.remove_prefix(i + 1);
            return out;
        }
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        out += text[i];
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> field_parameter(std::string_view value, std::string_view name) {
    std::size_t semicolon = value.find(';');
    while (semicolon != std::string_view::npos) {
        value.remove_prefix(semicolon + 1);
        value = trim_ows(value);
        const std::size_t equals = value.find('=');
        if (equals == std::string_view::npos) return std::nullopt;
        const std::string_view key = trim_ows(value.substr(0, equals));
        value = trim_ows(value.substr(equals + 1));
        std::optional<std::string> parameter;
        if (value.starts_with('"')) {
            parameter = take_quoted(value);
            if (!parameter) return std::nullopt;
        } else {
            parameter = std::string(trim_ows(value.substr(0, value.find(';'))));
        }
        if (iequals(key, name)) return parameter;
        semicolon = value.find(';');
    }
    return std::nullopt;
}

std::string format_http_date(std::time_t t) {
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[40];
    const std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return std::string(text, n);
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    std::tm tm{};
    const std::string copy(text);
    const char* parsed = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (parsed == nullptr || *parsed != '\0') return std::nullopt;
    return ::timegm(&tm);
}

}  // namespace corio::http
