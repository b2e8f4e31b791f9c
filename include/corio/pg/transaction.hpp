// corio/pg/transaction.hpp — a transaction that commits when its block succeeds and rolls back
// when it fails or is cancelled.
//
// snippet: examples/database.cpp#transaction
//   co_await corio::async_with(pg::transaction::begin(conn), [&](pg::transaction&) -> corio::task<> {
//       co_await conn.execute("update accounts set balance = balance - $1 where id = $2", amount, from);
//       co_await conn.execute("update accounts set balance = balance + $1 where id = $2", amount, to);
//   });  // committed; an error or a cancellation in the block rolled both back
//
// begin() starts a transaction on the connection, or a savepoint when one is already open
// (nesting: an inner block that fails rolls back to its savepoint, and the outer one goes on).
// Under async_with the end is decided by how the block ended (aclose(error)): commit (or release
// the savepoint) on success; rollback otherwise. async_with runs that shielded from cancellation
// and bounded by its close_timeout. commit() and rollback() may also be called in the block; the
// end then does nothing more. If the connection broke or was closed (a cancelled query that
// could not be drained), there is nothing to roll back: the server already did.
// Throws: what the connection's queries throw (pg::query_error when a COMMIT fails, e.g. a
// serialization failure, "40001"). Cancel safety: see above. Thread-safety: the connection's.
#pragma once

#include <exception>
#include <string>

#include "corio/pg/connection.hpp"
#include "corio/task.hpp"

namespace corio::pg {

class transaction {
public:
    /// Begins a transaction on `conn` (a savepoint inside an open one). `conn` must outlive it.
    static task<transaction> begin(connection& conn);

    task<> commit();
    task<> rollback();
    /// Commits when `error` is null (the block succeeded), rolls back otherwise; for async_with.
    task<> aclose(std::exception_ptr error);
    /// The savepoint's name, "" for a top-level transaction.
    const std::string& savepoint() const noexcept { return savepoint_; }

private:
    transaction(connection& conn, std::string savepoint) noexcept : conn_(&conn), savepoint_(std::move(savepoint)) {}

    connection* conn_;
    std::string savepoint_;  // "" for the outermost transaction
    bool ended_ = false;     // committed or rolled back
};

}  // namespace corio::pg
