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

struct connection::state {
    PGconn* conn = nullptr;                     // null once closed
    std::unique_ptr<corio::detail::fd_watch> watch;    // PQsocket(conn), borrowed; null while libpq may replace it
    connect_options options;
    target_description target;
    bool busy = false;                          // a query runs (one at a time)
    bool closing = false;                       // close() came while a query ran: it finishes the close

    ~state() { finish(); }  // no query runs: each holds the state

    /// Closes now, or, while a query runs, wakes it to close once it has stopped (its waits
    /// must not outlive the watch).
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

    /// Reads until libpq holds a whole result (PQisBusy false).
    task<> read_more(clock::time_point deadline, std::chrono::nanoseconds budget, const std::string& sql) {
        for (;;) {
            check_not_closing();
            const bool ok = PQconsumeInput(conn) == 1;
            sync_watch();
            if (!ok || !watch) fail("reading a result");
            if (PQisBusy(conn) == 0) co_return;
            if (socket_has_data(watch->fd())) continue;  // libpq stopped before the socket ran dry
            watch->not_readable();
            if (!co_await watch->readable(deadline)) throw_timeout("query", budget, sql);
        }
    }

    /// Every result of the query sent; the last one, or the first error once all are read.
    task<result> collect(clock::time_point deadline, const std::string& sql) {
        std::optional<result> last;
        std::exception_ptr failed;
        for (;;) {
            while (PQisBusy(conn) == 0) {
                PGresult* raw = PQgetResult(conn);
                if (raw == nullptr) {
                    if (failed) std::rethrow_exception(failed);
                    if (!last) fail("reading a result");
                    co_return std::move(*last);
                }
                result owned(raw);
                const auto status = PQresultStatus(raw);
                if (status == PGRES_FATAL_ERROR) {
                    if (!failed) failed = std::make_exception_ptr(query_error({error_field(raw, PG_DIAG_SQLSTATE), error_field(raw, PG_DIAG_MESSAGE_PRIMARY),
                                                                               error_field(raw, PG_DIAG_MESSAGE_DETAIL), error_field(raw, PG_DIAG_MESSAGE_HINT), sql}));
                } else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                    throw std::logic_error("pg::connection::query: COPY needs the COPY API, not query()");
                } else {
                    last = std::move(owned);
                }
            }
            co_await read_more(deadline, options.query_timeout, sql);
        }
    }

    /// After an interrupted query: a cancel request, then the remaining results read and dropped,
    /// so the connection is idle; if that fails or takes longer than cancel_timeout, it closes.
    task<> recover() {
        bool idle = false;
        try {
            if (!closing && conn != nullptr && PQstatus(conn) == CONNECTION_OK && watch) {
                co_await send_cancel();
                co_await drain(clock::now() + options.cancel_timeout);
                idle = PQtransactionStatus(conn) != PQTRANS_UNKNOWN;
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

    task<> drain(clock::time_point deadline) {
        for (;;) {
            while (PQisBusy(conn) == 0) {
                PGresult* raw = PQgetResult(conn);
                if (raw == nullptr) co_return;
                const auto status = PQresultStatus(raw);
                PQclear(raw);
                if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH)
                    throw connection_error("pg: a COPY cannot be drained");  // the caller closes
            }
            co_await read_more(deadline, options.cancel_timeout, {});
        }
    }
};

}  // namespace corio::pg
