// COPY on a pg::connection: copy_from streams a COPY ... FROM STDIN from an async_generator,
// copy_to yields a COPY ... TO STDOUT's data; the state's COPY steps, which drain() uses too.
#include "corio/pg/connection.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "connection_state.hpp"

namespace corio::pg {

namespace {

/// The most data one CopyData message carries, and about the most a copy_to chunk holds: libpq
/// counts sizes in int, and its buffers stay small.
constexpr std::size_t copy_piece = 64 * 1024;

/// `sql` after any white space and comments it starts with (block comments nest in SQL).
std::string_view skip_space_and_comments(std::string_view sql) {
    for (;;) {
        const auto start = sql.find_first_not_of(" \t\r\n\f\v");
        if (start == std::string_view::npos) return {};
        sql.remove_prefix(start);
        if (sql.starts_with("--")) {
            const auto end = sql.find('\n');
            sql.remove_prefix(end == std::string_view::npos ? sql.size() : end);
        } else if (sql.starts_with("/*")) {
            std::size_t at = 2;
            for (int depth = 1; depth > 0 && at < sql.size();) {
                const auto pair = sql.substr(at, 2);
                depth += pair == "/*" ? 1 : pair == "*/" ? -1 : 0;
                at += pair == "/*" || pair == "*/" ? 2 : 1;
            }
            sql.remove_prefix(std::min(at, sql.size()));
        } else {
            return sql;
        }
    }
}

/// std::invalid_argument, before anything is sent, unless `sql` starts with the word COPY.
void require_copy(const std::string& sql, std::optional<ExecStatusType> wanted) {
    const std::string_view start = skip_space_and_comments(sql);
    const bool word_ends = start.size() == 4 || (start.size() > 4 && !std::isalnum(static_cast<unsigned char>(start[4])) && start[4] != '_');
    const bool copy = start.size() >= 4 && word_ends &&
                      std::equal(start.begin(), start.begin() + 4, "copy", [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (!copy) throw std::invalid_argument(copy_misuse(wanted, sql));
}

/// The source's next chunk, within the COPY's deadline (then timeout_error naming the COPY).
task<std::optional<std::string>> next_chunk(connection::state& s, async_generator<std::string>& chunks, clock::time_point deadline,
                                            const std::string& sql) {
    try {
        co_return co_await wait_until(chunks.next(), deadline);
    } catch (const timeout_error&) {
        if (clock::now() < deadline) throw;  // the source's own
    }
    s.throw_timeout("COPY", s.options.query_timeout, sql);
}

/// Queues `data` in CopyData messages and sends it.
task<> put_copy_data(connection::state& s, std::string_view data, clock::time_point deadline, const std::string& sql) {
    while (!data.empty()) {
        const auto piece = data.substr(0, copy_piece);
        const int queued = PQputCopyData(s.conn, piece.data(), static_cast<int>(piece.size()));
        if (queued < 0) s.fail("sending COPY data");
        if (queued == 0) throw std::bad_alloc();  // libpq's buffer is flushed each time: it could not grow
        co_await s.flush(deadline, sql);
        data.remove_prefix(piece.size());
    }
}

/// Once the COPY FROM STDIN has started: every chunk sent, then the COPY's result.
task<result> send_chunks(connection::state& s, async_generator<std::string>& chunks, const std::string& sql) {
    const auto deadline = deadline_after(clock::now(), s.options.query_timeout);
    co_await s.flush(deadline, sql);
    co_await s.collect(deadline, sql, PGRES_COPY_IN);
    for (;;) {
        const std::optional<std::string> chunk = co_await next_chunk(s, chunks, deadline, sql);
        if (!chunk) break;
        co_await put_copy_data(s, *chunk, deadline, sql);
    }
    co_await s.end_copy_in(nullptr, deadline, sql);
    co_return co_await s.collect(deadline, sql);
}

task<std::uint64_t> copy_in(std::shared_ptr<connection::state> s, std::string sql, async_generator<std::string> chunks) {
    require_copy(sql, PGRES_COPY_IN);
    auto claimed = co_await claim(s, "a COPY FROM");
    s->send(sql);
    const result done = co_await s->recovering(send_chunks(*s, chunks, sql));
    co_return done.affected_rows();
}

async_generator<std::string> copy_out(std::shared_ptr<connection::state> s, std::string sql) {
    require_copy(sql, PGRES_COPY_OUT);
    auto claimed = co_await claim(s, "a COPY TO");  // destroyed mid-stream: the next claim() recovers
    s->send(sql);
    co_await s->recovering(s->results(sql, PGRES_COPY_OUT));
    for (bool more = true; more;) {
        std::string chunk;
        const auto budget = s->options.query_timeout;
        more = co_await s->recovering(s->copy_data(chunk, deadline_after(clock::now(), budget), budget, sql));
        if (!chunk.empty()) co_yield std::move(chunk);
    }
    co_await s->recovering(s->results(sql));  // the COPY's result: query_error if it failed
}

}  // namespace

task<> connection::state::end_copy_in(const char* error, clock::time_point deadline, const std::string& sql) {
    if (PQputCopyEnd(conn, error) != 1) fail("ending a COPY");
    co_await flush(deadline, sql);
}

task<bool> connection::state::copy_data(std::string& out, clock::time_point deadline, std::chrono::nanoseconds budget, const std::string& sql) {
    for (;;) {
        char* buffer = nullptr;
        const int size = PQgetCopyData(conn, &buffer, 1);  // async: 0 while no whole row is here
        const std::unique_ptr<char, void (*)(void*)> owned(buffer, PQfreemem);
        if (size == -1) co_return false;
        if (size == -2) fail("reading COPY data");
        if (size > 0) out.append(buffer, static_cast<std::size_t>(size));
        if (size > 0 && out.size() < copy_piece) continue;
        if (!out.empty()) co_return true;
        const bool ready = co_await input_ready(deadline);  // named, as in read_more
        if (!ready) throw_timeout("COPY", budget, sql);
        consume_input("reading COPY data");
    }
}

task<> connection::state::skip_copy_out(clock::time_point deadline) {
    for (bool more = true; more;) {
        std::string dropped;
        more = co_await copy_data(dropped, deadline, options.cancel_timeout, {});
    }
}

task<std::uint64_t> connection::copy_from(std::string sql, async_generator<std::string> chunks) {
    return copy_in(state_, std::move(sql), std::move(chunks));
}

async_generator<std::string> connection::copy_to(std::string sql) { return copy_out(state_, std::move(sql)); }

}  // namespace corio::pg
