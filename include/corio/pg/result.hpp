// corio/pg/result.hpp — the rows a query returned.
//
// snippet: examples/database.cpp#result
//   pg::result rows = co_await conn.query("select id, name from users where id > $1", 1);
//   for (const pg::row& r : rows) names += r.get<std::optional<std::string>>("name").has_value() ? 1 : 0;
//
// A result owns the server's answer (shared: copies, and every row taken from it, share one
// buffer, freed when the last goes). Columns are read by index or by name (the first column of
// that name) as any type with a value_codec (pg/types.hpp); a NULL reads as std::nullopt into
// std::optional<T>, and throws pg::conversion_error into anything else.
// Throws: std::out_of_range for a row or column index past the end, pg::conversion_error for an
// unknown column name or a value the type cannot hold. Thread-safety: immutable; copies may be
// used on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corio/pg/types.hpp"

struct pg_result;  // libpq's PGresult

namespace corio::pg {

class row {
public:
    std::size_t size() const noexcept;  ///< the number of columns
    bool is_null(std::size_t column) const;
    bool is_null(std::string_view column) const { return is_null(index_of(column)); }
    /// The value's text as the server sent it (valid while the result lives); "" for NULL.
    std::string_view text(std::size_t column) const;
    std::size_t index_of(std::string_view column) const;
    std::string_view column_name(std::size_t column) const;

    template <class T>
    T get(std::size_t column) const {
        if constexpr (detail::is_optional_v<T>) {
            if (is_null(column)) return std::nullopt;
            return read<typename T::value_type>(column);
        } else {
            return read<T>(column);
        }
    }
    template <class T>
    T get(std::string_view column) const {
        return get<T>(index_of(column));
    }

private:
    friend class result;
    row(std::shared_ptr<const pg_result> res, int index) noexcept : res_(std::move(res)), index_(index) {}
    void check_column(std::size_t column) const;
    [[noreturn]] void rethrow_for(std::size_t column) const;

    template <class T>
    T read(std::size_t column) const {
        if (is_null(column)) rethrow_null(column);
        try {
            return value_codec<T>::from_text(text(column));
        } catch (const conversion_error&) {
            rethrow_for(column);
        }
    }
    [[noreturn]] void rethrow_null(std::size_t column) const;

    std::shared_ptr<const pg_result> res_;  // never null
    int index_;                             // < PQntuples
};

class result {
public:
    /// The rows (0 for a statement that returns none).
    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    std::size_t columns() const noexcept;
    std::string_view column_name(std::size_t column) const;
    row operator[](std::size_t i) const;
    /// Rows inserted, updated, deleted, selected... as the command tag says (0 when it says none).
    std::uint64_t affected_rows() const noexcept;
    /// The command tag: "SELECT 3", "INSERT 0 1".
    std::string_view command_tag() const noexcept;

    class iterator {
    public:
        using value_type = row;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        row operator*() const { return (*owner_)[i_]; }
        iterator& operator++() {
            ++i_;
            return *this;
        }
        iterator operator++(int) {
            auto copy = *this;
            ++i_;
            return copy;
        }
        bool operator==(const iterator& other) const noexcept { return i_ == other.i_; }

    private:
        friend class result;
        iterator(const result* owner, std::size_t i) : owner_(owner), i_(i) {}
        const result* owner_ = nullptr;
        std::size_t i_ = 0;
    };
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, size()}; }

    /// Takes ownership of a PGresult (PQclear when the last copy goes).
    explicit result(pg_result* res);

private:
    std::shared_ptr<const pg_result> res_;  // never null
};

}  // namespace corio::pg
