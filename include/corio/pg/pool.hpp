// corio/pg/pool.hpp — pg::pool: a bounded pool of PostgreSQL connections (corio::resource_pool).
//
// snippet: examples/database.cpp#pool
//   auto db = co_await pg::pool::open(url, {.min_size = 2, .max_size = 10});
//   int users = co_await db.query_value<int>("select count(*)::int from users where team = $1", "dev");
//   {
//       auto conn = co_await db.acquire();  // one connection for several statements
//       co_await corio::async_with(pg::transaction::begin(*conn), [&](pg::transaction&) -> corio::task<> {
//           co_await conn->execute("update users set team = $1 where id = $2", "ops", 1);
//       });
//   }                                       // back to the pool
//
// query/execute/query_one/query_value/run_batch borrow a connection for one statement (or batch)
// and give it back. acquire() lends one for longer (a pool::lease: `*lease` / `lease->` is the
// pg::connection); it goes back when the lease ends.
// What the pool guarantees (on top of corio/resource_pool.hpp): at most max_size connections;
// acquire() waits in FIFO order for at most acquire_timeout (timeout_error naming the pool's
// state); a connection handed out is open, idle and not in a transaction, and its socket was
// checked for a server that went away (a restarted server's dead connections are dropped and
// replaced, with no round trip on the healthy path); a connection comes back only idle: one
// returned closed, mid-query, or inside a transaction (a lease dropped before COMMIT) is closed
// instead, so no transaction and no half-read result ever crosses from one user to the next.
// An interrupted query was already cancelled on the server and drained (pg/connection.hpp)
// before its connection returns.
// Cancel safety: as pg::connection's operations; an acquire() cancelled while waiting takes
// nothing. Throws: what pg::connection throws, timeout_error, corio::pool_closed_error.
// Thread-safety: one loop's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "corio/pg/connection.hpp"
#include "corio/resource_pool.hpp"

namespace corio::pg {

/// Trivially copyable: safe to write inline, even inside a co_await on g++ 12.
struct pool_options {
    std::size_t min_size = 1;  ///< opened by open(): a wrong address fails there, at start-up
    std::size_t max_size = 10;
    std::chrono::nanoseconds acquire_timeout = std::chrono::seconds(10);
    std::chrono::nanoseconds max_lifetime = std::chrono::minutes(30);  ///< 0: unlimited
    std::chrono::nanoseconds max_idle = std::chrono::minutes(5);       ///< 0: unlimited
    connect_options connection{};                                     ///< for every connection
};

class pool {
public:
    using lease = resource_pool<connection>::lease;

    /// A pool for `conninfo` (as pg::connect takes it) with min_size connections open.
    static task<pool> open(std::string conninfo, pool_options options = {});

    /// A connection of the pool, within acquire_timeout.
    task<lease> acquire() { return pool_->acquire(); }

    template <class... Params>
    task<result> query(std::string sql, const Params&... params) {
        return run_on(pool_, std::move(sql), {pg::to_param(params)...});
    }
    template <class... Params>
    task<std::uint64_t> execute(std::string sql, const Params&... params) {
        return connection::affected(run_on(pool_, std::move(sql), {pg::to_param(params)...}));
    }
    template <class... Params>
    task<row> query_one(std::string sql, const Params&... params) {
        return connection::only_row(run_on(pool_, std::move(sql), {pg::to_param(params)...}));
    }
    template <class T, class... Params>
    task<T> query_value(std::string sql, const Params&... params) {
        return connection::first_value<T>(connection::only_row(run_on(pool_, std::move(sql), {pg::to_param(params)...})));
    }
    task<std::vector<result>> run_batch(batch statements) { return batch_on(pool_, std::move(statements)); }

    pool_stats stats() const { return pool_->stats(); }
    /// Closes idle connections and refuses new work; lent ones close when they come back.
    void close() noexcept { pool_->close(); }
    task<> aclose() { return pool_->aclose(); }

private:
    explicit pool(std::shared_ptr<resource_pool<connection>> p) noexcept : pool_(std::move(p)) {}
    // The statement's coroutine holds the pool too: moving the pool object mid-query is safe.
    static task<result> run_on(std::shared_ptr<resource_pool<connection>> p, std::string sql, std::vector<param> params);
    static task<std::vector<result>> batch_on(std::shared_ptr<resource_pool<connection>> p, batch statements);

    std::shared_ptr<resource_pool<connection>> pool_;  // never null
};

}  // namespace corio::pg
