// corio/pg/connection.hpp — one PostgreSQL connection on libpq's non-blocking API.
//
// snippet: examples/database.cpp#connection
//   auto conn = co_await pg::connect(url, {.connect_timeout = 5s});
//   auto users = co_await conn.query("select id, name from users where team = $1", team);
//   std::uint64_t moved = co_await conn.execute("update users set team = $1 where id = $2", "dev", 2);
//   int total = co_await conn.query_value<int>("select count(*)::int from users");
//
// connect() takes a conninfo string ("host=... port=... dbname=...") or a postgresql:// URL,
// anything libpq accepts (TCP or a Unix-socket directory as host, sslmode, ...). It is driven by
// the loop (PQconnectStart/PQconnectPoll): no blocking libpq call ever runs on the loop thread.
// Parameters are sent separately from the statement ($1, $2...; pg/types.hpp says how each C++
// type travels), so a value can never change what the SQL does.
//
// Limits (connect_options; none waits forever): connect_timeout (5 s) -> timeout_error naming
// the target; query_timeout (60 s) bounds every query; close_timeout (5 s) bounds aclose();
// cancel_timeout (5 s) bounds the clean-up after an interrupted query (below).
//
// Cancel safety: if the awaiting task is cancelled (or a wait_for, or query_timeout, expires)
// while a query runs, the connection sends the server a cancel request (PQcancel, on a worker
// thread: it blocks) and reads the query's remaining results, so the connection is idle again
// before cancelled_error / timeout_error propagates; if that does not finish within
// cancel_timeout, or the connection broke, it is closed instead. A connection is never left
// mid-query. One query at a time: a second while one runs throws std::logic_error.
// Throws: pg::connection_error (libpq's message; a password in it is removed), pg::query_error
// (SQLSTATE, message, detail, hint, statement), pg::conversion_error, timeout_error,
// cancelled_error. Thread-safety: one loop's thread (the one that connected).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "corio/pg/batch.hpp"
#include "corio/pg/errors.hpp"
#include "corio/pg/result.hpp"
#include "corio/pg/types.hpp"
#include "corio/task.hpp"

struct pg_conn;  // libpq's PGconn

namespace corio::pg {

/// Trivially copyable: safe to write inline, even inside a co_await on g++ 12.
struct connect_options {
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
    std::chrono::nanoseconds query_timeout = std::chrono::seconds(60);
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(5);
    std::chrono::nanoseconds cancel_timeout = std::chrono::seconds(5);
    /// Statements with parameters are prepared once per connection and kept (least recently
    /// used out first); 0 turns the cache off.
    std::size_t statement_cache_size = 256;
};

class connection {
public:
    connection() noexcept;
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    /// Closes the connection if it is still open, and reports that through corio::log_error:
    /// a connection should be closed by aclose() (or async_with), on every path.
    ~connection();

    /// Runs `sql` with `params` as $1, $2...; the rows it returned.
    template <class... Params>
    task<result> query(std::string sql, const Params&... params) {
        return run(state_, std::move(sql), {pg::to_param(params)...});
    }
    /// Runs `sql`; the rows it affected.
    template <class... Params>
    task<std::uint64_t> execute(std::string sql, const Params&... params) {
        return affected(run(state_, std::move(sql), {pg::to_param(params)...}));
    }
    /// The single row `sql` returns; pg::conversion_error if it returned none or several.
    template <class... Params>
    task<row> query_one(std::string sql, const Params&... params) {
        return only_row(run(state_, std::move(sql), {pg::to_param(params)...}));
    }
    /// The first column of the single row `sql` returns, as T.
    template <class T, class... Params>
    task<T> query_value(std::string sql, const Params&... params) {
        return first_value<T>(only_row(run(state_, std::move(sql), {pg::to_param(params)...})));
    }

    /// Runs every statement of `statements` in one round trip (pg/batch.hpp); their results, in
    /// order. The first that fails is thrown, after all the answers were read.
    task<std::vector<result>> run_batch(batch statements) { return run_pipeline(state_, std::move(statements)); }

    /// Closes the connection (terminating the session politely); idempotent, never suspends for
    /// long: bounded by close_timeout. For async_with.
    task<> aclose();
    /// Closes at once.
    void close() noexcept;
    bool is_open() const noexcept;
    /// A transaction is open (or failed and not yet rolled back) on this connection.
    bool in_transaction() const noexcept;
    /// The server's version as libpq reports it (150018 for 15.18).
    int server_version() const noexcept;
    /// The server process serving this connection (pg_stat_activity.pid).
    int backend_pid() const noexcept;
    /// What connect() was given, with any password removed.
    const std::string& target() const noexcept;

private:
    friend task<connection> connect(std::string conninfo, connect_options options);
    friend class pool;
public:
    struct state;  // defined in src/pg/connection.cpp

private:
    explicit connection(std::shared_ptr<state> s) noexcept;

    /// The query's coroutine holds the state, not the connection: moving the connection (or
    /// destroying it) while a query runs leaves the query intact.
    static task<result> run(std::shared_ptr<state> s, std::string sql, std::vector<param> params);
    static task<std::vector<result>> run_pipeline(std::shared_ptr<state> s, batch statements);
    static task<std::uint64_t> affected(task<result> pending);
    static task<row> only_row(task<result> pending);
    template <class T>
    static task<T> first_value(task<row> pending) {
        const row r = co_await std::move(pending);
        co_return r.get<T>(0);
    }

    std::shared_ptr<state> state_;  // null when default-constructed or moved from; a query holds it too
};

/// Connects within options.connect_timeout. Throws pg::connection_error, timeout_error.
task<connection> connect(std::string conninfo, connect_options options = {});

}  // namespace corio::pg
