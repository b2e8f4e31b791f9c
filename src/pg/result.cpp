#include "corio/pg/result.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <stdexcept>

namespace corio::pg {

std::string statement_excerpt(const std::string& sql) {
    constexpr std::size_t shown = 200;
    return " (statement: " + sql.substr(0, shown) + (sql.size() > shown ? "...)" : ")");
}

query_error::query_error(fields f)
    : corio::error("pg query failed [" + f.sqlstate + "]: " + f.message + (f.detail.empty() ? "" : " (" + f.detail + ")") +
                   statement_excerpt(f.statement)),
      fields_(std::move(f)) {}

result::result(pg_result* res) : res_(res, [](const pg_result* r) { PQclear(const_cast<pg_result*>(r)); }) {}

std::size_t result::size() const noexcept { return static_cast<std::size_t>(PQntuples(res_.get())); }

std::size_t result::columns() const noexcept { return static_cast<std::size_t>(PQnfields(res_.get())); }

std::string_view result::column_name(std::size_t column) const {
    if (column >= columns()) throw std::out_of_range("pg::result: no column " + std::to_string(column));
    return PQfname(res_.get(), static_cast<int>(column));
}

row result::operator[](std::size_t i) const {
    if (i >= size()) throw std::out_of_range("pg::result: row " + std::to_string(i) + " of " + std::to_string(size()));
    return row(res_, static_cast<int>(i));
}

std::uint64_t result::affected_rows() const noexcept {
    const char* tuples = PQcmdTuples(const_cast<pg_result*>(res_.get()));
    return tuples[0] == '\0' ? 0 : std::strtoull(tuples, nullptr, 10);
}

std::string_view result::command_tag() const noexcept { return PQcmdStatus(const_cast<pg_result*>(res_.get())); }

std::size_t row::size() const noexcept { return static_cast<std::size_t>(PQnfields(res_.get())); }

void row::check_column(std::size_t column) const {
    if (column >= size()) throw std::out_of_range("pg::row: no column " + std::to_string(column) + " (it has " + std::to_string(size()) + ")");
}

bool row::is_null(std::size_t column) const {
    check_column(column);
    return PQgetisnull(res_.get(), index_, static_cast<int>(column)) == 1;
}

std::string_view row::text(std::size_t column) const {
    check_column(column);
    const int c = static_cast<int>(column);
    return {PQgetvalue(res_.get(), index_, c), static_cast<std::size_t>(PQgetlength(res_.get(), index_, c))};
}

std::size_t row::index_of(std::string_view column) const {
    for (std::size_t i = 0; i < size(); ++i)
        if (column_name(i) == column) return i;
    throw conversion_error("pg::row: no column named \"" + std::string(column) + "\"");
}

std::string_view row::column_name(std::size_t column) const {
    check_column(column);
    return PQfname(res_.get(), static_cast<int>(column));
}

void row::rethrow_for(std::size_t column) const {
    try {
        throw;
    } catch (const conversion_error& e) {
        throw conversion_error("column \"" + std::string(column_name(column)) + "\": " + e.what());
    }
}

void row::rethrow_null(std::size_t column) const {
    throw conversion_error("column \"" + std::string(column_name(column)) + "\" is NULL: read it as std::optional");
}

}  // namespace corio::pg
