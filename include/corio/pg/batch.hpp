// corio/pg/batch.hpp — statements sent to the server together, answered in one round trip.
//
// snippet: examples/database.cpp#batch
//   pg::batch moves;
//   moves.add("update accounts set balance = balance - $1 where id = $2", 5, 1)
//        .add("update accounts set balance = balance + $1 where id = $2", 5, 2);
//   std::vector<pg::result> done = co_await conn.run_batch(std::move(moves));  // one round trip
//
// connection::run_batch sends every statement without waiting for the answers (libpq's pipeline
// mode), so N statements cost one network round trip instead of N. Outside a transaction the
// statements run as one implicit transaction: if one fails, none of them took effect, and
// run_batch throws that statement's pg::query_error. Inside a transaction they are part of it.
// Parameters are encoded when add() is called (pg/types.hpp), sent apart from the SQL.
// Thread-safety: a value type.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "corio/pg/types.hpp"

namespace corio::pg {

class batch {
public:
    struct statement {
        std::string sql;
        std::vector<param> params;
    };

    /// Appends `sql` with `params` as $1, $2...
    template <class... Params>
    batch& add(std::string sql, const Params&... params) {
        statements_.push_back(statement{std::move(sql), {pg::to_param(params)...}});
        return *this;
    }
    std::size_t size() const noexcept { return statements_.size(); }
    bool empty() const noexcept { return statements_.empty(); }
    const std::vector<statement>& statements() const noexcept { return statements_; }

private:
    std::vector<statement> statements_;
};

}  // namespace corio::pg
