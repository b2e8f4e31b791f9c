// src/pg/connection_state.hpp — what a pg::connection holds, shared by the connection and every
// operation running on it (internal to src/pg).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/clock.hpp"
#include "corio/detail/fd_watch.hpp"
#include "corio/pg/connection.hpp"
#include "corio/shield.hpp"
#include "corio/to_thread.hpp"
#include "corio/wait_for.hpp"

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

struct connection::state {
    PGconn* conn = nullptr;                     // null once closed
    std::unique_ptr<corio::detail::fd_watch> watch;    // PQsocket(conn), borrowed; null while libpq may replace it
    connect_options options;
    target_description target;
    const char* busy = nullptr;                 // what runs ("a query"...), null when idle (one at a time)
    bool closing = false;                       // close() came while an operation ran: it finishes the close

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

    /// Waits until the socket holds bytes libpq has not read; false if `deadline` passed first.
    task<bool> input_ready(clock::time_point deadline) {
        check_not_closing();  // close() ended the registration: nothing would wake us
        if (socket_has_data(watch->fd())) co_return true;
        watch->not_readable();
        co_return co_await watch->readable(deadline);
    }

    /// Reads until libpq holds a whole result (PQisBusy false).
    task<> read_more(clock::time_point deadline, std::chrono::nanoseconds budget, const std::string& sql) {
        for (;;) {
            consume_input("reading a result");
            if (PQisBusy(conn) == 0) co_return;
            const bool ready = co_await input_ready(deadline);  // named: in the if's condition, g++ 12 miscompiled this loop
            if (!ready) throw_timeout("query", budget, sql);
        }
    }

    /// Sends `sql` with `params` (libpq queues it; flush() sends it).
    void send(const std::string& sql, const std::vector<param>& params = {}) {
        std::vector<const char*> values;
        std::vector<Oid> types;
        for (const auto& p : params) {
            values.push_back(p.text ? p.text->c_str() : nullptr);
            types.push_back(p.oid);
        }
        if (PQsendQueryParams(conn, sql.c_str(), static_cast<int>(params.size()), types.data(), values.data(), nullptr, nullptr, 0) == 0)
            fail("sending a query");
    }

    /// flush() then collect() what was sent, within query_timeout.
    task<result> results(const std::string& sql, std::optional<ExecStatusType> copy = {}) {
        const auto deadline = clock::now() + options.query_timeout;
        co_await flush(deadline, sql);
        co_return co_await collect(deadline, sql, copy);
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
                co_await drain(clock::now() + options.cancel_timeout);
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
