#include "corio/pg/transaction.hpp"

namespace corio::pg {

task<transaction> transaction::begin(connection& conn) {
    static thread_local unsigned long savepoints = 0;
    if (!conn.in_transaction()) {
        co_await conn.execute("begin");
        co_return transaction(conn, "");
    }
    std::string name = "corio_savepoint_" + std::to_string(++savepoints);
    co_await conn.execute("savepoint " + name);
    co_return transaction(conn, std::move(name));
}

task<> transaction::commit() {
    ended_ = true;
    if (!savepoint_.empty()) {
        co_await conn_->execute("release savepoint " + savepoint_);  // 25P02 if it had failed
        co_return;
    }
    const result done = co_await conn_->query("commit");
    // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error.
    if (done.command_tag() == "ROLLBACK")
        throw query_error({"25P02", "the transaction had failed, so COMMIT rolled it back", "", "", "commit"});
}

task<> transaction::rollback() {
    ended_ = true;
    if (!conn_->is_open()) co_return;  // the server rolled back when the connection went
    if (savepoint_.empty()) {
        co_await conn_->execute("rollback");
    } else {
        co_await conn_->execute("rollback to savepoint " + savepoint_);
        co_await conn_->execute("release savepoint " + savepoint_);
    }
}

task<> transaction::aclose(std::exception_ptr error) {
    if (ended_) co_return;
    if (error)
        co_await rollback();
    else
        co_await commit();
}

}  // namespace corio::pg
