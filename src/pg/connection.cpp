#include "corio/pg/connection.hpp"

#include <libpq-fe.h>
#include <sys/socket.h>

#include <optional>
#include <stdexcept>

#include "corio/clock.hpp"
#include "corio/detail/fd_watch.hpp"
#include "corio/shield.hpp"
#include "corio/to_thread.hpp"
#include "corio/wait_for.hpp"

namespace corio::pg {

namespace {

/// What a conninfo string names, for messages (no password), and the password to scrub.
struct target_description {
    std::string text;
    std::string password;
};

/// libpq's message on one line, any password in it masked.
std::string scrubbed(std::string message, const std::string& password) {
    for (auto at = message.find('\n'); at != std::string::npos; at = message.find('\n', at)) {
        auto end = message.find_first_not_of("\n\t ", at);
        if (end == std::string::npos) end = message.size();
        message.replace(at, end - at, end == message.size() ? "" : " ");
    }
    if (!password.empty())
        for (auto at = message.find(password); at != std::string::npos; at = message.find(password, at))
            message.replace(at, password.size(), "********");
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return message;
}

target_description describe(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        std::string why = error != nullptr ? error : "out of memory";
        PQfreemem(error);
        throw connection_error("pg connect: invalid connection string: " + scrubbed(why, ""));
    }
    std::string host, port, dbname, user, password;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        const std::string_view key = o->keyword;
        if (key == "host" || key == "hostaddr") host = host.empty() ? o->val : host;
        if (key == "port") port = o->val;
        if (key == "dbname") dbname = o->val;
        if (key == "user") user = o->val;
        if (key == "password") password = o->val;
    }
    PQconninfoFree(options);
    std::string text = (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port);
    if (!dbname.empty()) text += "/" + dbname;
    if (!user.empty()) text += " as " + user;
    return {scrubbed(text, password), password};
}

bool socket_has_data(int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

std::string field(const PGresult* r, int code) {
    const char* value = PQresultErrorField(r, code);
    return value != nullptr ? value : "";
}

}  // namespace

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
        if (!sql.empty()) message += " (statement: " + sql.substr(0, 200) + ")";
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
                    if (!failed) failed = std::make_exception_ptr(query_error({field(raw, PG_DIAG_SQLSTATE), field(raw, PG_DIAG_MESSAGE_PRIMARY),
                                                                               field(raw, PG_DIAG_MESSAGE_DETAIL), field(raw, PG_DIAG_MESSAGE_HINT), sql}));
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

namespace {
/// Marks the connection idle again when the query's coroutine ends, however it ends.
struct busy_guard {
    std::shared_ptr<connection::state>& s;
    ~busy_guard() { s->busy = false; }
};
}  // namespace

connection::connection() noexcept = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;
connection::connection(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

task<connection> connect(std::string conninfo, connect_options options) {
    auto s = std::make_shared<connection::state>();
    s->options = options;
    s->target = describe(conninfo);
    const char* keys[] = {"dbname", "client_encoding", nullptr};
    const char* values[] = {conninfo.c_str(), "UTF8", nullptr};
    s->conn = PQconnectStartParams(keys, values, 1);
    if (s->conn == nullptr) throw std::bad_alloc();
    if (PQstatus(s->conn) == CONNECTION_BAD) s->fail("connect");
    const auto deadline = clock::now() + options.connect_timeout;
    for (auto status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK;) {
        if (status == PGRES_POLLING_FAILED) s->fail("connect");
        if (!co_await s->wait_connecting(status == PGRES_POLLING_READING, deadline))
            s->throw_timeout("connect", options.connect_timeout, {});
        s->watch.reset();  // libpq may close or replace its socket in the next step
        status = PQconnectPoll(s->conn);
    }
    if (PQsetnonblocking(s->conn, 1) != 0) s->fail("connect");
    s->sync_watch();
    co_return connection(std::move(s));
}

task<result> connection::run(std::shared_ptr<state> s, std::string sql, std::vector<param> params) {
    if (!s || s->conn == nullptr) throw connection_error("pg query on a closed connection" + (s ? " (" + s->target.text + ")" : std::string()));
    if (s->busy) throw std::logic_error("pg::connection: another query is running on this connection (" + s->target.text + ")");
    s->busy = true;
    busy_guard idle_again{s};
    std::vector<const char*> values;
    std::vector<Oid> types;
    for (const auto& p : params) {
        values.push_back(p.text ? p.text->c_str() : nullptr);
        types.push_back(p.oid);
    }
    if (PQsendQueryParams(s->conn, sql.c_str(), static_cast<int>(params.size()), types.data(), values.data(), nullptr, nullptr, 0) == 0)
        s->fail("sending a query");
    const auto deadline = clock::now() + s->options.query_timeout;
    std::optional<result> out;
    std::exception_ptr interrupted;
    try {
        co_await s->flush(deadline, sql);
        out = co_await s->collect(deadline, sql);
    } catch (const query_error&) {
        throw;  // every result was read: the connection is idle
    } catch (...) {
        interrupted = std::current_exception();  // cancelled, timed out or broken mid-query
    }
    if (interrupted) {
        co_await uncancellable(s->recover());
        std::rethrow_exception(interrupted);
    }
    co_return std::move(*out);
}

task<std::uint64_t> connection::affected(task<result> pending) {
    const result r = co_await std::move(pending);
    co_return r.affected_rows();
}

task<row> connection::only_row(task<result> pending) {
    const result r = co_await std::move(pending);
    if (r.size() != 1) throw conversion_error("pg query_one: expected one row, got " + std::to_string(r.size()));
    co_return r[0];
}

task<> connection::aclose() {
    close();
    co_return;
}

void connection::close() noexcept {
    if (state_) state_->close();
}

bool connection::is_open() const noexcept { return state_ && state_->conn != nullptr; }

bool connection::in_transaction() const noexcept {
    if (!is_open()) return false;
    const auto status = PQtransactionStatus(state_->conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

int connection::server_version() const noexcept { return is_open() ? PQserverVersion(state_->conn) : 0; }

int connection::backend_pid() const noexcept { return is_open() ? PQbackendPID(state_->conn) : 0; }

const std::string& connection::target() const noexcept {
    static const std::string none;
    return state_ ? state_->target.text : none;
}

}  // namespace corio::pg
