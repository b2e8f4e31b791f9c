// corio/pg/types.hpp — how C++ values travel to and from PostgreSQL.
//
// Values come back in PostgreSQL's text format and are read by pg::row::get<T>; parameters go
// out as text too, always separately from the statement (never spliced into the SQL), each with
// the type the server should read it as (0: let the server infer it from the context).
//
//  C++ type                          PostgreSQL                 parameter type sent
//  std::int16_t/int32_t/int64_t...   smallint, integer, bigint  int2/int4/int8 (by size)
//  double, float                     double precision, real     float8, float4 (NaN, ±Infinity)
//  bool                              boolean                    bool
//  std::string (std::string_view,    any type, as its text      unknown (the server infers;
//    const char* as parameters)      (numeric: exact digits)    text in `select $1`); a NUL
//                                                               byte throws (text cannot hold it)
//  pg::bytes                         bytea                      bytea
//  nlohmann::json                    json, jsonb                unknown
//  pg::timestamp                     timestamptz (UTC),         timestamptz
//                                    timestamp (as written)
//  pg::date                          date                       date
//  pg::uuid                          uuid                       uuid
//  std::optional<T>                  NULL <-> std::nullopt      T's (NULL when empty)
//  std::vector<T> (T: any above but  arrays ({1,2}, {{1},{2}}:  T's array type (int4[]...);
//    std::string_view; optional<T>   nested vectors; [lb:ub]=   unknown for text and JSON
//    for NULL elements)              bounds accepted, dropped)  elements (`= any($1)` infers)
//  std::nullptr_t, std::nullopt_t    NULL (parameters only)     unknown
// A value that does not fit the C++ type (out of range, not a number, NULL read without
// std::optional) throws pg::conversion_error naming the column, the type and the text.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/pg/errors.hpp"

namespace corio::pg {

using bytes = std::vector<std::byte>;
/// A point in time with PostgreSQL's resolution (microseconds), in UTC.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
using date = std::chrono::year_month_day;

/// A UUID (RFC 9562), as its 16 bytes.
struct uuid {
    std::array<std::uint8_t, 16> value{};
    /// Reads "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" (hyphens optional, either case).
    static uuid parse(std::string_view text);
    /// Lower case, with hyphens.
    std::string to_string() const;
    bool operator==(const uuid&) const = default;
};

/// One parameter as sent: its text (nullopt: NULL) and the type OID the server reads it as.
struct param {
    std::optional<std::string> text;
    unsigned oid = 0;  // 0: the server infers the type
};

namespace detail {
[[noreturn]] void throw_conversion(std::string_view type, std::string_view text, std::string_view why = {});
long long parse_integer(std::string_view text, long long min, long long max, std::string_view type);
double parse_double(std::string_view text);
bool parse_bool(std::string_view text);
bytes parse_bytea(std::string_view text);
std::string format_bytea(const bytes& value);
timestamp parse_timestamp(std::string_view text);
std::string format_timestamp(timestamp value);
date parse_date(std::string_view text);
std::string format_date(date value);
std::string format_double(double value);
nlohmann::json parse_json(std::string_view text);
/// `text` as a text parameter; a NUL byte (which PostgreSQL text cannot hold and libpq would cut
/// the value at) throws conversion_error.
std::string checked_text(std::string_view text);

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

/// An array as text: its elements (nullopt: NULL) in row-major order and the length of each
/// dimension (none for the empty array `{}`).
struct array_text {
    std::vector<std::size_t> dims;
    std::vector<std::optional<std::string>> elements;
};
/// PostgreSQL's array output (`{1,2}`, `{"a b",NULL}`, `{{1,2},{3,4}}`, `[0:1]={1,2}`), which must
/// have `dimensions` dimensions (or be empty); throws conversion_error for anything else.
array_text parse_array(std::string_view text, std::size_t dimensions);
/// An array literal with every element quoted (its text cannot change the array's structure).
std::string format_array(const array_text& array);
/// The array type of an element type (int4 -> int4[]...); 0 (let the server infer) for 0 and for
/// types without one here.
unsigned array_oid(unsigned element_oid);
/// The conversion_error for a NULL element read without std::optional.
[[noreturn]] void throw_null_element();
/// Records a vector of `length` at dimension `level` of an array being written: the first one
/// there gives that dimension's length, any other of another length throws conversion_error.
void add_length(array_text& array, std::size_t level, std::size_t length);
}  // namespace detail

/// How a C++ type is read from a value's text (from_text) and sent as a parameter (to_param).
/// Specialise it for your own types.
template <class T>
struct value_codec;

template <std::integral T>
    requires(!std::same_as<T, bool>)
struct value_codec<T> {
    static T from_text(std::string_view text) {
        const auto v = detail::parse_integer(text, static_cast<long long>(std::numeric_limits<T>::min()),
                                             std::is_signed_v<T> ? static_cast<long long>(std::numeric_limits<T>::max())
                                                                 : std::numeric_limits<long long>::max(),
                                             "an integer");
        if constexpr (std::is_unsigned_v<T>)
            if (static_cast<unsigned long long>(v) > std::numeric_limits<T>::max()) detail::throw_conversion("an integer", text, "out of range");
        return static_cast<T>(v);
    }
    static param to_param(T value) { return {std::to_string(value), sizeof(T) <= 2 ? 21u : sizeof(T) <= 4 ? 23u : 20u}; }
};

template <std::floating_point T>
struct value_codec<T> {
    static T from_text(std::string_view text) { return static_cast<T>(detail::parse_double(text)); }
    static param to_param(T value) { return {detail::format_double(value), sizeof(T) <= 4 ? 700u : 701u}; }
};

template <>
struct value_codec<bool> {
    static bool from_text(std::string_view text) { return detail::parse_bool(text); }
    static param to_param(bool value) { return {value ? "true" : "false", 16}; }
};

template <>
struct value_codec<std::string> {
    static std::string from_text(std::string_view text) { return std::string(text); }
    static param to_param(const std::string& value) { return {detail::checked_text(value), 0}; }
};

/// Reading a string_view: it points into the result, valid while the result (or a row of it) lives.
template <>
struct value_codec<std::string_view> {
    static std::string_view from_text(std::string_view text) { return text; }
    static param to_param(std::string_view value) { return {detail::checked_text(value), 0}; }
};

template <>
struct value_codec<const char*> {
    static param to_param(const char* value) { return value ? param{std::string(value), 0} : param{}; }
};

template <std::size_t N>
struct value_codec<char[N]> {
    static param to_param(const char (&value)[N]) { return {std::string(value), 0}; }
};

template <>
struct value_codec<bytes> {
    static bytes from_text(std::string_view text) { return detail::parse_bytea(text); }
    static param to_param(const bytes& value) { return {detail::format_bytea(value), 17}; }
};

template <>
struct value_codec<nlohmann::json> {
    static nlohmann::json from_text(std::string_view text) { return detail::parse_json(text); }
    static param to_param(const nlohmann::json& value) { return {value.dump(), 0}; }
};

template <>
struct value_codec<timestamp> {
    static timestamp from_text(std::string_view text) { return detail::parse_timestamp(text); }
    static param to_param(timestamp value) { return {detail::format_timestamp(value), 1184}; }
};

template <>
struct value_codec<date> {
    static date from_text(std::string_view text) { return detail::parse_date(text); }
    static param to_param(date value) { return {detail::format_date(value), 1082}; }
};

template <>
struct value_codec<uuid> {
    static uuid from_text(std::string_view text) { return uuid::parse(text); }
    static param to_param(const uuid& value) { return {value.to_string(), 2950}; }
};

template <class T>
struct value_codec<std::optional<T>> {
    static param to_param(const std::optional<T>& value) {
        if (!value) return {std::nullopt, value_codec<T>::to_param(T{}).oid};
        return value_codec<T>::to_param(*value);
    }
};

namespace detail {
/// How many dimensions a vector of T adds (0: T is an element; its codec is not an array's).
template <class T>
inline constexpr std::size_t array_dimensions_v = 0;
template <class T>
    requires requires { value_codec<T>::array_dimensions; }
inline constexpr std::size_t array_dimensions_v<T> = value_codec<T>::array_dimensions;
}  // namespace detail

/// PostgreSQL arrays: a std::vector of elements (std::optional elements for NULLs), nested
/// vectors for more dimensions. pg::bytes is not one (bytea, above).
template <class T>
struct value_codec<std::vector<T>> {
    static constexpr std::size_t array_dimensions = 1 + detail::array_dimensions_v<T>;

    static std::vector<T> from_text(std::string_view text) {
        const auto array = detail::parse_array(text, array_dimensions);
        std::size_t next = 0;
        return read_level(array, 0, next);
    }
    static param to_param(const std::vector<T>& value) {
        detail::array_text array;
        write_level(value, 0, array);
        return {detail::format_array(array), detail::array_oid(element_oid())};
    }

private:
    template <class>
    friend struct value_codec;

    /// The vector at dimension `level` whose first element is array.elements[next].
    static std::vector<T> read_level(const detail::array_text& array, std::size_t level, std::size_t& next) {
        std::vector<T> out;
        if (array.dims.empty()) return out;
        out.reserve(array.dims[level]);
        for (std::size_t i = 0; i < array.dims[level]; ++i) {
            if constexpr (detail::array_dimensions_v<T> > 0)
                out.push_back(value_codec<T>::read_level(array, level + 1, next));
            else
                out.push_back(read_element(array.elements[next++]));
        }
        return out;
    }
    static T read_element(const std::optional<std::string>& text) {
        if constexpr (detail::is_optional_v<T>) {
            if (!text) return std::nullopt;
            return value_codec<std::vector<typename T::value_type>>::read_element(text);
        } else {
            static_assert(!std::is_same_v<T, std::string_view>, "array elements are unescaped copies: read std::string");
            if (!text) detail::throw_null_element();
            return value_codec<T>::from_text(*text);
        }
    }
    static void write_level(const std::vector<T>& value, std::size_t level, detail::array_text& out) {
        detail::add_length(out, level, value.size());
        for (const auto& element : value) {
            if constexpr (detail::array_dimensions_v<T> > 0)
                value_codec<T>::write_level(element, level + 1, out);
            else
                out.elements.push_back(value_codec<T>::to_param(element).text);
        }
    }
    static unsigned element_oid() {
        if constexpr (detail::array_dimensions_v<T> > 0) return value_codec<T>::element_oid();
        else return value_codec<T>::to_param(T{}).oid;
    }
};

template <>
struct value_codec<std::nullptr_t> {
    static param to_param(std::nullptr_t) { return {}; }
};

template <>
struct value_codec<std::nullopt_t> {
    static param to_param(std::nullopt_t) { return {}; }
};

/// A value of one of the types above (or with a value_codec of your own) as a parameter.
template <class T>
param to_param(const T& value) {
    return value_codec<std::remove_cvref_t<T>>::to_param(value);
}

}  // namespace corio::pg
