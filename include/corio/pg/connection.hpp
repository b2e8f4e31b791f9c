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
//
// A statement with parameters is prepared on its first run and the prepared statement kept
// (connect_options::statement_cache_size, least recently used out first); if the server lost it
// or a schema change altered its rows, it is prepared again, once, unless that would abort an
// open transaction. run_batch() sends a pg::batch in one round trip (pg/batch.hpp). A
// connection destroyed while open is closed and reported through corio::log_error.
//
// LISTEN/NOTIFY: listen(channel), then notifications() yields each pg::notification in order
// (those that came during other queries too); notify(channel, payload) sends one. Waiting for the
// next notification is the one wait with no deadline of its own (it lasts as long as the caller
// wants one): bound it with wait_for/fail_after. While it waits, the connection runs nothing
// else, so a listening connection is best dedicated to listening (as asyncpg recommends).
// snippet: examples/database.cpp#notifications
//   co_await listener.listen("orders");
//   auto incoming = listener.notifications();  // the listener is dedicated to it from now on
//   co_await sender.notify("orders", "order 42 shipped");
//   std::optional<pg::notification> n = co_await corio::wait_for(incoming.next(), 5s);  // the caller bounds the wait
//
// COPY: copy_from(sql, chunks) streams a COPY ... FROM STDIN from an async_generator,
// copy_to(sql) yields a COPY ... TO STDOUT's data; query() and its kin refuse a COPY
// (std::logic_error naming these). A copy_to dropped mid-stream is cancelled by the next
// operation on the connection (see copy_to).
// snippet: examples/database.cpp#copy
//   std::uint64_t loaded = co_await conn.copy_from("copy items from stdin (format csv)", csv_items(1000));
//   auto out = conn.copy_to("copy (select * from items where id <= 3) to stdout (format csv)");
//   std::string exported;
//   while (std::optional<std::string> chunk = co_await out.next()) exported += *chunk;  // whole rows
// Throws: pg::connection_error (libpq's message; a password in it is removed), pg::query_error
// (SQLSTATE, message, detail, hint, statement), pg::conversion_error, timeout_error,
// cancelled_error; std::logic_error for a second operation at once or a COPY through query(),
// std::invalid_argument (a logic_error) for a bad channel name or a statement that is not the
// COPY asked for. Thread-safety: one loop's thread (the one that connected).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/pg/batch.hpp"
#include "corio/pg/errors.hpp"
#include "corio/pg/notification.hpp"
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

    /// LISTEN on `channel`: from now on its notifications reach notifications(). A channel name
    /// is 1 to 63 bytes without NUL (std::invalid_argument otherwise, thrown by the call), sent
    /// quoted as an identifier: whatever it holds, it names a channel and nothing else.
    task<> listen(std::string channel);
    /// UNLISTEN `channel` (a name as for listen()).
    task<> unlisten(std::string channel);
    /// pg_notify(channel, payload): every session listening on `channel` receives `payload`
    /// verbatim, once this session's transaction commits (at once outside one).
    task<> notify(std::string channel, std::string payload);
    /// The notifications this connection receives, in order: first those libpq already holds
    /// (they can arrive during other queries), then each the server sends, waiting as long as
    /// it takes: bound a wait with wait_for/fail_after. While a next() waits, the connection is
    /// busy (a query throws std::logic_error); between next() calls it is free. Cancel-safe: a
    /// next() cut by cancellation or wait_for loses nothing and the generator carries on.
    /// pg::connection_error (the connection broke; it is closed) ends it.
    async_generator<notification> notifications();

    /// Runs `sql`, a COPY ... FROM STDIN, and sends it each chunk `chunks` yields (data in the
    /// COPY's format, split anywhere); the rows copied. query_timeout bounds the whole copy, the
    /// source's waits included. If the source throws, or the copy is cancelled or times out,
    /// the server aborts the COPY (nothing of it stays), the connection is brought back to idle
    /// (within cancel_timeout, else closed), then the error propagates. A row the server
    /// refuses: pg::query_error (22P02...) once the data is sent, the connection idle. Another
    /// statement: std::invalid_argument (before anything is sent, when it does not start with
    /// COPY).
    task<std::uint64_t> copy_from(std::string sql, async_generator<std::string> chunks);
    /// Runs `sql`, a COPY ... TO STDOUT, and yields its data in chunks of whole rows (up to about
    /// 64 KiB each); ends once the COPY's result is read (pg::query_error if it failed). The
    /// connection is busy from the first next() until the generator ends or is destroyed; each
    /// next() waits at most query_timeout for the server. A next() cancelled or timed out
    /// cancels the COPY on the server, brings the connection back to idle (within
    /// cancel_timeout, else closes it), and ends the generator with that error. A generator
    /// dropped mid-stream cannot do that (a destructor cannot await): it leaves the connection
    /// mid-COPY, and the next operation on it first cancels the COPY and drops the rest of its
    /// data (within cancel_timeout, else the connection closes and the operation throws
    /// connection_error); until then the server keeps the COPY open (close() ends it at once).
    /// Another statement: std::invalid_argument, as for copy_from.
    async_generator<std::string> copy_to(std::string sql);
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
    struct state;  // defined in src/pg/connection_state.hpp

private:
    explicit connection(std::shared_ptr<state> s) noexcept;

    /// The query's coroutine holds the state, not the connection: moving the connection (or
    /// destroying it) while a query runs leaves the query intact.
    static task<result> run(std::shared_ptr<state> s, std::string sql, std::vector<param> params);
    static task<std::vector<result>> run_pipeline(std::shared_ptr<state> s, batch statements);
    static task<std::uint64_t> affected(task<result> pending);
    static task<row> only_row(task<result> pending);
    static task<> completed(task<result> pending);
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
