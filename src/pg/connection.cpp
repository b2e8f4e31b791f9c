#include "corio/pg/connection.hpp"

#include <sys/socket.h>

#include "connection_state.hpp"
#include "corio/log.hpp"

namespace corio::pg {

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

std::string error_field(const PGresult* r, int code) {
    const char* value = PQresultErrorField(r, code);
    return value != nullptr ? value : "";
}

std::string copy_misuse(std::optional<ExecStatusType> wanted, const std::string& sql) {
    std::string message;
    if (wanted == PGRES_COPY_IN)
        message = "pg::connection::copy_from: the statement is not a COPY ... FROM STDIN (copy_to() runs a COPY ... TO STDOUT)";
    else if (wanted == PGRES_COPY_OUT)
        message = "pg::connection::copy_to: the statement is not a COPY ... TO STDOUT (copy_from() runs a COPY ... FROM STDIN)";
    else
        message = "pg::connection::query: a COPY ... FROM STDIN runs with copy_from(), a COPY ... TO STDOUT with copy_to()";
    return message + statement_excerpt(sql);
}

task<operation> claim(std::shared_ptr<connection::state> s, const char* what) {
    if (!s || s->conn == nullptr)
        throw connection_error(std::string("pg::connection: ") + what + " on a closed connection" + (s ? " (" + s->target.text + ")" : std::string()));
    if (s->busy)
        throw std::logic_error("pg::connection: another query is running on this connection (" + s->target.text + "; running: " + s->busy +
                               ", refused: " + what + ")");
    operation claimed(*s, what);
    if (!s->is_idle()) {  // an operation stopped mid-way: a COPY TO dropped mid-stream, or a broken connection
        co_await uncancellable(s->recover());
        if (s->conn == nullptr)
            throw connection_error("pg::connection (" + s->target.text + "): closed, as what an earlier operation left unfinished could not be cleared");
    }
    co_return std::move(claimed);
}

connection::connection() noexcept = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() {
    if (!is_open()) return;
    log_error("pg connection (" + state_->target.text + ") was never closed; closed by its destructor. Close it with aclose() or "
              "async_with, on every path (was an exception or an early return in the way?)");
    state_->close();
}
connection::connection(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

task<connection> connect(std::string conninfo, connect_options options) {
    const corio::detail::deadline_check check("PostgreSQL connect to", options.connect_timeout, [&] { return describe(conninfo).text; });
    auto s = std::make_shared<connection::state>();
    s->options = options;
    s->statements = statement_cache(options.statement_cache_size);
    s->target = describe(conninfo);
    const char* keys[] = {"dbname", "client_encoding", nullptr};
    const char* values[] = {conninfo.c_str(), "UTF8", nullptr};
    s->conn = PQconnectStartParams(keys, values, 1);
    if (s->conn == nullptr) throw std::bad_alloc();
    if (PQstatus(s->conn) == CONNECTION_BAD) s->fail("connect");
    const auto deadline = deadline_after(clock::now(), options.connect_timeout);
    for (auto status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK;) {
        if (status == PGRES_POLLING_FAILED) s->fail("connect");
        const bool ready = co_await s->wait_connecting(status == PGRES_POLLING_READING, deadline);  // named: g++ 12 (design notes)
        if (!ready) s->throw_timeout("connect", options.connect_timeout, {});
        s->watch.reset();  // libpq may close or replace its socket in the next step
        status = PQconnectPoll(s->conn);
    }
    if (PQsetnonblocking(s->conn, 1) != 0) s->fail("connect");
    s->watch_notices();
    s->sync_watch();
    co_return connection(std::move(s));
}

task<result> connection::run(std::shared_ptr<state> s, std::string sql, std::vector<param> params) {
    const corio::detail::deadline_check check("PostgreSQL query on", s->options.query_timeout, [&] { return s->target.text; });
    auto claimed = co_await claim(s, "a query");
    co_return co_await s->recovering(s->execute(sql, params, deadline_after(clock::now(), s->options.query_timeout)));
}

task<std::vector<result>> connection::run_pipeline(std::shared_ptr<state> s, batch statements) {
    const corio::detail::deadline_check check("PostgreSQL batch on", s->options.query_timeout, [&] { return s->target.text; });
    auto claimed = co_await claim(s, "a batch");
    if (statements.empty()) co_return std::vector<result>{};
    co_return co_await s->recovering(s->pipeline(statements.statements(), deadline_after(clock::now(), s->options.query_timeout)));
}

task<std::uint64_t> connection::affected(task<result> pending) {
    const result r = co_await std::move(pending);
    co_return r.affected_rows();
}

task<> connection::completed(task<result> pending) { co_await std::move(pending); }

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
