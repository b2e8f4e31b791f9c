// src/pg/connection_state.hpp — what a pg::connection holds, shared by the connection and every
// operation running on it (internal to src/pg).
#pragma once

#include <libpq-fe.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/fd_watch.hpp"
#include "corio/pg/connection.hpp"
#include "corio/shield.hpp"
#include "corio/to_thread.hpp"
#include "corio/wait_for.hpp"
#include "statement_cache.hpp"

namespace corio::pg {

/// What a conninfo string names, for messages (no password), and the password to scrub.
struct target_description {
    std::string text;
    std::string password;
};

/// libpq's message on one line, any password in it masked.
std::string scrubbed(std::string message, const std::string& password);
/// Parses a conninfo string or URL for messages; connection_error if libpq cannot read it.
target_description describe(const std::string& conninfo);
/// The socket holds bytes libpq has not read yet.
bool socket_has_data(int fd);
/// " (statement: <the first 200 characters of sql>)", for messages.
std::string statement_excerpt(const std::string& sql);
/// One field of an error result ("" when absent).
std::string error_field(const PGresult* r, int code);
/// Why a COPY result surprised the caller: `wanted` is the COPY it runs (PGRES_COPY_IN for
/// copy_from, PGRES_COPY_OUT for copy_to), none for query() and its kin; names the right call.
std::string copy_misuse(std::optional<ExecStatusType> wanted, const std::string& sql);

/// Parameters as libpq takes them: pointers into `params`, which must outlive this.
struct bound_params {
    std::vector<const char*> values;
    std::vector<Oid> types;
    explicit bound_params(const std::vector<param>& params) {
        for (const auto& p : params) {
            values.push_back(p.text ? p.text->c_str() : nullptr);
            types.push_back(p.oid);
        }
    }
    int count() const noexcept { return static_cast<int>(values.size()); }
};

/// A cached statement the server no longer has, or whose result shape changed under it.
inline bool is_stale_statement(const query_error& e) {
    return e.sqlstate() == "26000" || (e.sqlstate() == "0A000" && e.message().find("cached plan") != std::string::npos);
}

struct connection::state {
    PGconn* conn = nullptr;                     // null once closed
    std::unique_ptr<corio::detail::fd_watch> watch;    // PQsocket(conn), borrowed; null while libpq may replace it
    connect_options options;
    target_description target;
    const char* busy = nullptr;                 // what runs ("a query"...), null when idle (one at a time)
    bool closing = false;                       // close() came while an operation ran: it finishes the close
    statement_cache statements;                 // what the server has prepared for this connection
    bool server_leaving = false;                // the server sent a FATAL message: it is closing the session
    PQnoticeReceiver previous_receiver = nullptr;  // libpq's default (prints notices; ignores its argument)

    ~state() { finish(); }  // no operation runs: each holds the state

    /// Closes now, or, while an operation runs, wakes it to close once it has stopped (its waits
    /// must not outlive the watch; see operation).
    void close() noexcept {
        if (busy && watch) {
            closing = true;
            watch->close();  // deregisters (libpq's socket stays libpq's) and wakes the query
            return;
        }
        finish();
    }

    void finish() noexcept {
        watch.reset();  // deregister before libpq closes the socket
        if (conn != nullptr) PQfinish(conn);
        conn = nullptr;
    }

    /// Connected, and every result of what was sent has been read (in a transaction or not):
    /// nothing is left mid-way, so the connection can take a new statement.
    bool is_idle() const noexcept {
        const auto status = PQtransactionStatus(conn);  // PQTRANS_ACTIVE: results are still due
        return status == PQTRANS_IDLE || status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
    }

    /// Open, no operation running, no transaction: fit to be lent to someone else.
    bool lendable() const noexcept {
        return conn != nullptr && !busy && !server_leaving && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    }

    /// lendable(), and the server has not gone away since (a closed socket, or a farewell message
    /// followed by one), found without a round trip: when the loop saw the socket become
    /// readable since the last query ended, one recv(MSG_PEEK) (and what it found is read).
    bool still_usable() {
        if (lendable() && watch && !watch->maybe_readable()) return true;  // nothing arrived since the last query ended
        for (int looks = 0; looks < 2 && lendable(); ++looks) {
            char byte;
            const auto n = ::recv(PQsocket(conn), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing to read: alive
            if (n == 0) return false;                                   // the server closed it
            const bool read = PQconsumeInput(conn) == 1;                // a notice, or why it closes
            sync_watch();
            if (!read) return false;
            (void)PQisBusy(conn);  // parses what was read: on_notice sees a FATAL
        }
        return lendable();
    }

    /// Watches what the server says outside any query: a FATAL one (an administrator's
    /// shutdown, pg_terminate_backend) means the connection is going, before its socket closes.
    void watch_notices() {
        previous_receiver = PQsetNoticeReceiver(conn, &state::on_notice, this);
    }
    static void on_notice(void* self, const PGresult* message) {
        auto* s = static_cast<state*>(self);
        const char* severity = PQresultErrorField(message, PG_DIAG_SEVERITY_NONLOCALIZED);
        const std::string_view level = severity != nullptr ? severity : "";
        if (level == "FATAL" || level == "PANIC")
            s->server_leaving = true;  // handled: the next use reports the closed connection
        else if (s->previous_receiver != nullptr)
            s->previous_receiver(nullptr, message);
    }

    void check_not_closing() const {
        if (closing) throw connection_error("pg connection (" + target.text + ") closed while a query ran");
    }

    std::string last_error() const { return scrubbed(conn != nullptr ? PQerrorMessage(conn) : "closed", target.password); }

    [[noreturn]] void fail(const std::string& doing) const {
        throw connection_error("pg " + doing + " (" + target.text + "): " + last_error());
    }

    /// After a libpq call that may have dropped the connection: a closed socket is forgotten
    /// (its owner closed it; the kernel ended the registration), a first one registered.
    void sync_watch() {
        const int fd = conn != nullptr ? PQsocket(conn) : -1;
        if (watch && watch->fd() != fd) {
            watch->closed_by_owner();
            watch.reset();
        }
        if (!watch && fd >= 0) watch = std::make_unique<corio::detail::fd_watch>(fd, corio::detail::fd_watch::borrowed);
    }

    [[noreturn]] void throw_timeout(std::string_view what, std::chrono::nanoseconds budget, const std::string& sql) const {
        std::string message = "pg " + std::string(what) + " (" + target.text + ") timed out after " + format_duration(budget);
        if (!sql.empty()) message += statement_excerpt(sql);
        throw timeout_error(message);
    }

    /// Waits for the socket during connect, on a fresh registration (libpq may have replaced it).
    task<bool> wait_connecting(bool for_read, clock::time_point deadline) {
        watch.reset();  // one registration per fd
        watch = std::make_unique<corio::detail::fd_watch>(PQsocket(conn), corio::detail::fd_watch::borrowed);
        if (for_read) {
            watch->not_readable();
            co_return co_await watch->readable(deadline);
        }
        watch->not_writable();
        co_return co_await watch->writable(deadline);
    }

    task<> flush(clock::time_point deadline, const std::string& sql) {
        for (;;) {
            check_not_closing();
            const int pending = PQflush(conn);
            sync_watch();
            if (pending == 0) co_return;
            if (pending < 0 || !watch) fail("sending a query");
            watch->not_writable();
            if (!co_await watch->writable(deadline)) throw_timeout("query", options.query_timeout, sql);
        }
    }

    /// Hands libpq what the socket holds (PQconsumeInput); connection_error if the connection
    /// broke or close() came.
    void consume_input(const char* doing) {
        check_not_closing();
        const bool ok = PQconsumeInput(conn) == 1;
        sync_watch();
        if (!ok || !watch) fail(doing);
    }

    /// With TLS, OpenSSL may hold decrypted bytes that libpq has not taken yet while the socket
    /// is empty: no readiness edge would ever announce them.
    bool tls_has_data() const {
        if (PQsslInUse(conn) == 0) return false;
        auto* tls = static_cast<SSL*>(PQsslStruct(conn, "OpenSSL"));
        return tls != nullptr && SSL_pending(tls) > 0;
    }

    /// Waits until the socket (or OpenSSL) holds bytes libpq has not read: at once if the loop
    /// saw the socket become readable and it still holds some (a peek: the socket is
    /// edge-triggered, and libpq reads once per call, so bytes already there get no new edge);
    /// false if `deadline` passed first.
    task<bool> input_ready(clock::time_point deadline) {
        check_not_closing();  // close() ended the registration: nothing would wake us
        if (tls_has_data() || (watch->maybe_readable() && socket_has_data(watch->fd()))) co_return true;
        watch->not_readable();
        co_return co_await watch->readable(deadline);
    }

    /// Reads until libpq holds a whole result (PQisBusy false). The socket is read when the loop
    /// saw it become readable since it was last found empty: one recv per arrival, as a
    /// blocking client would, and none right after sending.
    task<> read_more(clock::time_point deadline, std::chrono::nanoseconds budget, const std::string& sql) {
        for (;;) {
            if (watch && (watch->maybe_readable() || tls_has_data())) {
                consume_input("reading a result");
                if (PQisBusy(conn) == 0) co_return;
            }
            const bool ready = co_await input_ready(deadline);  // named: in the if's condition, g++ 12 miscompiled this loop
            if (!ready) throw_timeout("query", budget, sql);
        }
    }

    /// Sends `sql` with `params`, unprepared (libpq queues it; flush() sends it).
    void send(const std::string& sql, const std::vector<param>& params = {}) {
        const bound_params bound(params);
        if (PQsendQueryParams(conn, sql.c_str(), bound.count(), bound.types.data(), bound.values.data(), nullptr, nullptr, 0) == 0)
            fail("sending a query");
    }

    /// flush() then collect() what was sent, by `deadline`.
    task<result> round_trip(clock::time_point deadline, const std::string& sql, std::optional<ExecStatusType> copy = {}) {
        co_await flush(deadline, sql);
        co_return co_await collect(deadline, sql, copy);
    }

    /// round_trip() within query_timeout.
    task<result> results(const std::string& sql, std::optional<ExecStatusType> copy = {}) {
        return round_trip(deadline_after(clock::now(), options.query_timeout), sql, copy);
    }

    /// Every result of the query sent; the last one, or the first error once all are read.
    /// With `copy` (PGRES_COPY_IN or PGRES_COPY_OUT), the statement must start that COPY: its
    /// result is returned as it starts (the caller moves the data); anything else is
    /// std::invalid_argument (like a COPY without `copy`), once the connection is idle or by
    /// the caller's recover().
    task<result> collect(clock::time_point deadline, const std::string& sql, std::optional<ExecStatusType> copy = {}) {
        std::optional<result> last;
        std::exception_ptr failed;
        for (;;) {
            while (PQisBusy(conn) == 0) {
                PGresult* raw = PQgetResult(conn);
                if (raw == nullptr) {
                    if (watch && PQpipelineStatus(conn) == PQ_PIPELINE_OFF) watch->not_readable();  // all read: a later edge is news
                    if (failed) std::rethrow_exception(failed);
                    if (copy) throw std::invalid_argument(copy_misuse(copy, sql));  // it ran, but no COPY started
                    if (!last) fail("reading a result");
                    co_return std::move(*last);
                }
                result owned(raw);
                const auto status = PQresultStatus(raw);
                if (status == PGRES_FATAL_ERROR) {
                    if (!failed) failed = std::make_exception_ptr(query_error({error_field(raw, PG_DIAG_SQLSTATE), error_field(raw, PG_DIAG_MESSAGE_PRIMARY),
                                                                               error_field(raw, PG_DIAG_MESSAGE_DETAIL), error_field(raw, PG_DIAG_MESSAGE_HINT), sql}));
                } else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                    if (status != copy) throw std::invalid_argument(copy_misuse(copy, sql));
                    co_return std::move(owned);
                } else {
                    last = std::move(owned);
                }
            }
            co_await read_more(deadline, options.query_timeout, sql);
        }
    }

    /// Runs one statement. One with parameters is prepared once and then only executed (the
    /// cache holds it); a statement the server lost or must re-plan is prepared again, once,
    /// when no transaction would be aborted by the failed attempt.
    task<result> execute(const std::string& sql, const std::vector<param>& params, clock::time_point deadline) {
        if (params.empty() || !statements.enabled()) {
            send(sql, params);
            co_return co_await round_trip(deadline, sql);
        }
        const bound_params bound(params);
        const std::string key = statement_cache::key(sql, bound.types);
        const std::string* cached = statements.find(key);
        const bool was_cached = cached != nullptr;
        std::string name;
        if (was_cached)
            name = *cached;
        else
            name = co_await prepare(key, sql, bound, deadline);
        std::optional<result> out;
        try {
            out = co_await run_prepared(name, sql, bound, deadline);
        } catch (const query_error& e) {
            if (!was_cached || !is_stale_statement(e)) throw;
            statements.forget(key);
            if (PQtransactionStatus(conn) != PQTRANS_IDLE) throw;
        }
        if (out) co_return std::move(*out);
        name = co_await prepare(key, sql, bound, deadline);
        co_return co_await run_prepared(name, sql, bound, deadline);
    }

    /// Prepares `sql` on the server and caches it; deallocates the statement that pushed out.
    task<std::string> prepare(const std::string& key, const std::string& sql, const bound_params& bound, clock::time_point deadline) {
        std::string name = statements.fresh_name();
        if (PQsendPrepare(conn, name.c_str(), sql.c_str(), bound.count(), bound.types.data()) == 0) fail("preparing a statement");
        co_await round_trip(deadline, sql);
        std::vector<std::string> evicted;  // named: g++ 12 miscompiles a braced temporary in co_await
        if (auto pushed_out = statements.add(key, name)) evicted.push_back(std::move(*pushed_out));
        if (!evicted.empty() && PQtransactionStatus(conn) != PQTRANS_INERROR)  // else it waits for the connection's end
            co_await deallocate(evicted, deadline);
        co_return name;
    }

    task<result> run_prepared(const std::string& name, const std::string& sql, const bound_params& bound, clock::time_point deadline) {
        if (PQsendQueryPrepared(conn, name.c_str(), bound.count(), bound.values.data(), nullptr, nullptr, 0) == 0) fail("sending a query");
        co_return co_await round_trip(deadline, sql);
    }

    /// One statement of a pipeline as sent: its prepared statement's name and cache key, and
    /// whether the pipeline prepares it first ("" name: sent unprepared).
    struct pipelined {
        std::string name, key;
        bool prepared_here = false;
    };

    /// Sends one statement of a pipeline: prepared (and cached) as execute() would, the
    /// Prepare itself pipelined ahead of the first use.
    pipelined send_pipelined(const batch::statement& st, std::unordered_map<std::string, std::string>& prepared_in_batch) {
        const bound_params bound(st.params);
        pipelined sent;
        if (!st.params.empty() && statements.enabled()) {
            sent.key = statement_cache::key(st.sql, bound.types);
            if (const std::string* cached = statements.find(sent.key)) {
                sent.name = *cached;
            } else if (const auto earlier = prepared_in_batch.find(sent.key); earlier != prepared_in_batch.end()) {
                sent.name = earlier->second;
            } else {
                sent.name = prepared_in_batch[sent.key] = statements.fresh_name();
                sent.prepared_here = true;
                if (PQsendPrepare(conn, sent.name.c_str(), st.sql.c_str(), bound.count(), bound.types.data()) == 0) fail("sending a batch");
            }
        }
        const bool queued = sent.name.empty()
                                ? PQsendQueryParams(conn, st.sql.c_str(), bound.count(), bound.types.data(), bound.values.data(), nullptr, nullptr, 0)
                                : PQsendQueryPrepared(conn, sent.name.c_str(), bound.count(), bound.values.data(), nullptr, nullptr, 0);
        if (!queued) fail("sending a batch");
        return sent;
    }

    /// Sends every statement, then reads each one's results (pipeline mode); the first error is
    /// thrown once the pipeline is read to its end. Statements pushed out of the cache meanwhile
    /// are deallocated after it.
    task<std::vector<result>> pipeline(const std::vector<batch::statement>& list, clock::time_point deadline) {
        if (PQenterPipelineMode(conn) == 0) fail("entering pipeline mode");
        std::unordered_map<std::string, std::string> prepared_in_batch;
        std::vector<pipelined> sent;
        sent.reserve(list.size());
        for (const auto& st : list) sent.push_back(send_pipelined(st, prepared_in_batch));
        if (PQpipelineSync(conn) == 0) fail("sending a batch");
        const std::string& first = list.front().sql;
        co_await flush(deadline, first);
        std::vector<result> out;
        out.reserve(list.size());
        std::vector<std::string> evicted;
        std::exception_ptr failed;
        for (std::size_t i = 0; i < list.size(); ++i) {
            try {
                if (sent[i].prepared_here) {
                    co_await collect(deadline, list[i].sql);
                    if (auto pushed_out = statements.add(sent[i].key, sent[i].name)) evicted.push_back(std::move(*pushed_out));
                }
                out.push_back(co_await collect(deadline, list[i].sql));
            } catch (const query_error& e) {
                if (is_stale_statement(e)) statements.forget(sent[i].key);
                if (!failed) failed = std::current_exception();
            }
        }
        co_await drain_pipeline(deadline, first);
        if (!evicted.empty() && PQtransactionStatus(conn) != PQTRANS_INERROR) co_await deallocate(evicted, deadline);
        if (failed) std::rethrow_exception(failed);
        co_return out;
    }

    task<> deallocate(const std::vector<std::string>& names, clock::time_point deadline) {
        std::string sql;
        for (const auto& name : names) sql += "deallocate " + name + ";";
        if (PQsendQuery(conn, sql.c_str()) == 0) fail("deallocating statements");
        co_await round_trip(deadline, sql);
    }

    /// Reads to the end of the pipeline (its sync point, dropping any result before it) and
    /// leaves pipeline mode.
    task<> drain_pipeline(clock::time_point deadline, const std::string& sql) {
        bool between = false;  // a statement's results just ended
        for (;;) {
            while (PQisBusy(conn) == 0) {
                PGresult* raw = PQgetResult(conn);
                if (raw == nullptr && between) fail("reading a batch");  // nothing pending, no sync point
                between = raw == nullptr;
                if (raw == nullptr) continue;
                const auto status = PQresultStatus(raw);
                PQclear(raw);
                if (status != PGRES_PIPELINE_SYNC) continue;
                if (PQexitPipelineMode(conn) == 0) fail("leaving pipeline mode");
                watch->not_readable();  // all read: a later edge is news
                co_return;
            }
            co_await read_more(deadline, options.query_timeout, sql);
        }
    }

    /// Awaits `work`, an exchange with the server; if it throws, the connection is brought back
    /// to idle first (recover(), shielded from cancellation), then the error propagates.
    template <class T>
    task<T> recovering(task<T> work) {
        std::exception_ptr interrupted;
        try {
            co_return co_await std::move(work);
        } catch (...) {
            interrupted = std::current_exception();
        }
        co_await uncancellable(recover());
        std::rethrow_exception(interrupted);
    }

    /// After an operation stopped mid-way (interrupted, abandoned, or the connection broke): a
    /// cancel request, then the remaining results (and COPY data) read and dropped, so the
    /// connection is idle; if that fails or takes longer than cancel_timeout, it closes.
    /// Nothing when it is idle already (every result was read, as after a query_error).
    task<> recover() {
        if (is_idle()) co_return;
        bool idle = false;
        try {
            if (!closing && PQstatus(conn) == CONNECTION_OK && watch) {
                co_await send_cancel();
                co_await drain(deadline_after(clock::now(), options.cancel_timeout));
                idle = is_idle();
            }
        } catch (...) {
            idle = false;
        }
        if (!idle) finish();
    }

    task<> send_cancel() {
        std::shared_ptr<PGcancel> request(PQgetCancel(conn), [](PGcancel* c) { PQfreeCancel(c); });
        if (!request) fail("cancelling a query");
        auto job = [request] {
            char why[256] = {};
            if (PQcancel(request.get(), why, sizeof why) == 0) throw corio::connection_error(std::string("pg cancel request failed: ") + why);
        };
        auto sending = to_thread(abandon_on_cancel, std::move(job));  // PQcancel blocks: never on the loop
        co_await wait_for(std::move(sending), options.cancel_timeout);
    }

    /// Reads every remaining result and drops it: a COPY FROM STDIN is ended with an error
    /// (the server rolls it back), the data of a COPY TO STDOUT read and dropped.
    task<> drain(clock::time_point deadline) {
        if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
            co_await drain_pipeline(deadline, {});
            co_return;
        }
        for (;;) {
            while (PQisBusy(conn) == 0) {
                PGresult* raw = PQgetResult(conn);
                if (raw == nullptr) co_return;
                const auto status = PQresultStatus(raw);
                PQclear(raw);
                if (status == PGRES_COPY_IN) co_await end_copy_in("abandoned by the client", deadline, {});
                if (status == PGRES_COPY_OUT) co_await skip_copy_out(deadline);
                if (status == PGRES_COPY_BOTH) throw connection_error("pg: a replication COPY cannot be drained");  // the caller closes
            }
            co_await read_more(deadline, options.cancel_timeout, {});
        }
    }

    // COPY (src/pg/copy.cpp).
    /// Ends a COPY FROM STDIN: done (error null) or failed with `error` as the reason.
    task<> end_copy_in(const char* error, clock::time_point deadline, const std::string& sql);
    /// Appends the data of a COPY TO STDOUT that libpq holds, or else the next the server
    /// sends, to `out` (whole rows, up to about 64 KiB); false once the data has ended (the
    /// COPY's result follows). timeout_error naming `sql` and `budget` after `deadline`.
    task<bool> copy_data(std::string& out, clock::time_point deadline, std::chrono::nanoseconds budget, const std::string& sql);
    task<> skip_copy_out(clock::time_point deadline);

    // LISTEN/NOTIFY (src/pg/notifications.cpp).
    /// The next notification libpq holds or the server sends; waits as long as it takes.
    task<notification> next_notification();
};

/// One operation's hold on a connection (claim()): while it lives the connection is busy; when
/// it goes, however its coroutine ends, the connection is free again, and a close() that came
/// meanwhile is finished. An operation that stopped mid-way leaves the connection not idle:
/// the next claim() recovers it.
class operation {
public:
    operation(connection::state& s, const char* what) noexcept : s_(&s) { s.busy = what; }
    operation(operation&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    operation& operator=(operation&&) = delete;
    ~operation() {
        if (s_ == nullptr) return;
        s_->busy = nullptr;
        if (s_->closing) s_->finish();
    }

private:
    connection::state* s_;
};

/// Starts `what` ("a query"...) on `s`: connection_error if it is closed (or null: a
/// moved-from connection), std::logic_error if another operation runs. What an earlier
/// operation left mid-way (a COPY TO dropped mid-stream) is recovered first, bounded by
/// cancel_timeout: connection_error if that closed the connection.
task<operation> claim(std::shared_ptr<connection::state> s, const char* what);

}  // namespace corio::pg
