// corio/http/headers.hpp — http::headers: an ordered, case-insensitive multi-map of header fields.
//
// snippet: examples/http_client.cpp#headers
//   http::headers h{{"Accept", "application/json"}};
//   h.set("X-Trace", "1");                                 // replaces every "x-trace"
//   h.add("Cookie", "a=1");                                // keeps earlier ones (Set-Cookie, Via, ...)
//   std::string accept(h.get("accept").value_or("*/*"));  // the first value; names in any case
//
// Names compare ASCII case-insensitively; the spelling of the first insertion is kept and sent.
// Fields keep their insertion order, duplicates included. Values are stored as given: the HTTP
// layer rejects names and values that could not go on the wire (CR, LF, NUL) when a request is
// built, naming the field.
// Thread-safety: a value type. Throws: std::bad_alloc only. Cancel safety: nothing suspends.
#pragma once

#include <cstddef>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// ASCII case-insensitive equality, for header names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// `s` without leading and trailing spaces and tabs (RFC 9110's OWS).
std::string_view trim_ows(std::string_view s) noexcept;
/// The non-empty elements of a comma-separated field value ("gzip, br;q=0"), each trimmed.
std::vector<std::string_view> list_elements(std::string_view value);
/// A field value without its ';' parameters, trimmed: "multipart/form-data; boundary=x" ->
/// "multipart/form-data" (Content-Type, Content-Disposition).
std::string_view value_without_parameters(std::string_view value) noexcept;
/// The parameter `name` (case-insensitive) of such a value: "text/html; charset=utf-8" gives
/// "utf-8" for "charset"; a quoted-string is unquoted ("name=\"a\\\"b\"" gives a"b). nullopt if
/// the value has no such parameter, or its parameters are malformed before it.
std::optional<std::string> field_parameter(std::string_view value, std::string_view name);

namespace detail {
/// RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (a table: parsers look up every byte).
inline constexpr auto token_chars = [] {
    struct table {
        bool allowed[256] = {};
    } t;
    for (int c = '0'; c <= '9'; ++c) t.allowed[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t.allowed[c] = t.allowed[c - 'a' + 'A'] = true;
    for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t.allowed[static_cast<unsigned char>(c)] = true;
    return t;
}();
}  // namespace detail

/// RFC 9110 tchar: a character allowed in a token (method, header name, cookie name).
inline bool is_token_char(unsigned char c) noexcept { return detail::token_chars.allowed[c]; }
/// A non-empty string of tchars.
bool is_token(std::string_view s) noexcept;
/// True if `value` holds CR, LF or NUL: bytes that would end a header (or event) line early
/// and let the rest forge another.
inline bool breaks_line(std::string_view value) noexcept {
    return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// An HTTP-date (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t t);
/// The time an IMF-fixdate names; nullopt if `text` is not one.
std::optional<std::time_t> parse_http_date(std::string_view text);

class headers {
public:
    using field = std::pair<std::string, std::string>;  ///< name, value

    headers() = default;
    headers(std::initializer_list<field> fields) : fields_(fields) {}

    /// Appends a field, keeping any with the same name.
    headers& add(std::string name, std::string value);
    /// Replaces every field named `name` with one (at the first one's place, else at the end).
    headers& set(std::string_view name, std::string value);
    /// Removes every field named `name`; returns how many there were.
    std::size_t erase(std::string_view name) noexcept;

    /// The first value of `name`.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    /// Adds every field of `defaults` whose name is not present here (session default headers).
    void merge_missing(const headers& defaults);
    /// Room for `count` fields in all, so adding that many allocates once.
    void reserve(std::size_t count) { fields_.reserve(count); }

    const std::vector<field>& fields() const noexcept { return fields_; }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }

private:
    std::vector<field> fields_;  // arrival order; duplicates allowed
};

}  // namespace corio::http
