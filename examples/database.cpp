// The seed's async database connection, made real with corio pg: connect within 5 s, query with
// parameters, and the connection closed on every path. Runs against a throwaway PostgreSQL
// cluster (tests/support/pg_cluster.hpp); the regions between snippet markers are what the
// README and the pg headers show.
#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_cluster.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace pg = corio::pg;

// [snippet database_connection]
/// A user's name, or nullopt if there is no such user. Throws corio::timeout_error (the
/// database is too slow), corio::connection_error (pg::connection_error: unreachable, refused,
/// broken) or pg::query_error; the connection is closed on every path, cancellation included.
corio::task<std::optional<std::string>> user_name(std::string database_url, int id) {
    co_return co_await corio::async_with(
        pg::connect(database_url, {.connect_timeout = 5s}),
        [id](pg::connection& db) -> corio::task<std::optional<std::string>> {
            auto rows = co_await db.query("select name from users where id = $1", id);
            if (rows.empty()) co_return std::nullopt;
            co_return rows[0].get<std::string>("name");
        });
}
// [end snippet]

corio::task<bool> queries(std::string url) {
    const std::string team = "ops";
    // [snippet connection]
    auto conn = co_await pg::connect(url, {.connect_timeout = 5s});
    auto users = co_await conn.query("select id, name from users where team = $1", team);
    std::uint64_t moved = co_await conn.execute("update users set team = $1 where id = $2", "dev", 2);
    int total = co_await conn.query_value<int>("select count(*)::int from users");
    // [end snippet]
    int names = 0;
    // [snippet result]
    pg::result rows = co_await conn.query("select id, name from users where id > $1", 1);
    for (const pg::row& r : rows) names += r.get<std::optional<std::string>>("name").has_value() ? 1 : 0;
    // [end snippet]
    std::printf("%zu in ops, %llu moved, %d users, %d named after the first\n", users.size(),
                static_cast<unsigned long long>(moved), total, names);
    co_await conn.aclose();
    co_return users.size() == 2 && moved == 1 && total == 3 && names == 1;
}

corio::task<bool> transfer(pg::connection& conn, int from, int to, int amount) {
    // [snippet transaction]
    co_await corio::async_with(pg::transaction::begin(conn), [&](pg::transaction&) -> corio::task<> {
        co_await conn.execute("update accounts set balance = balance - $1 where id = $2", amount, from);
        co_await conn.execute("update accounts set balance = balance + $1 where id = $2", amount, to);
    });  // committed; an error or a cancellation in the block rolled both back
    // [end snippet]
    co_return co_await conn.query_value<int>("select sum(balance)::int from accounts") == 100;
}

corio::task<bool> transactions(std::string url) {
    auto conn = co_await pg::connect(url);
    co_await conn.execute("create table accounts (id int primary key, balance int check (balance >= 0))");
    co_await conn.execute("insert into accounts values (1, 60), (2, 40)");
    const bool moved = co_await transfer(conn, 1, 2, 50);
    bool refused = false;
    try {
        co_await transfer(conn, 1, 2, 50);  // only 10 left: the check fails, nothing moves
    } catch (const pg::query_error& e) {
        refused = e.sqlstate() == "23514";
    }
    const int left = co_await conn.query_value<int>("select balance from accounts where id = 1");
    std::printf("transfer: %s, overdraft refused: %s, account 1 holds %d\n", moved ? "yes" : "no", refused ? "yes" : "no", left);
    // [snippet batch]
    pg::batch moves;
    moves.add("update accounts set balance = balance - $1 where id = $2", 5, 1)
         .add("update accounts set balance = balance + $1 where id = $2", 5, 2);
    std::vector<pg::result> done = co_await conn.run_batch(std::move(moves));  // one round trip
    // [end snippet]
    const int after_batch = co_await conn.query_value<int>("select balance from accounts where id = 1");
    co_await conn.aclose();
    co_return moved && refused && left == 10 && done.size() == 2 && after_batch == 5;
}

corio::task<bool> pooled(std::string url) {
    // [snippet pool]
    auto db = co_await pg::pool::open(url, {.min_size = 2, .max_size = 10});
    int users = co_await db.query_value<int>("select count(*)::int from users where team = $1", "dev");
    {
        auto conn = co_await db.acquire();  // one connection for several statements
        co_await corio::async_with(pg::transaction::begin(*conn), [&](pg::transaction&) -> corio::task<> {
            co_await conn->execute("update users set team = $1 where id = $2", "ops", 1);
        });
    }                                       // back to the pool
    // [end snippet]
    const auto stats = db.stats();
    std::printf("pool: %d in dev, %zu connections open, %llu lent\n", users, stats.size, static_cast<unsigned long long>(stats.acquired));
    co_await db.aclose();
    co_return users == 2 && stats.size == 2 && stats.acquired == 2;
}

corio::task<bool> notifications(std::string url) {
    auto listener = co_await pg::connect(url);
    auto sender = co_await pg::connect(url);
    // [snippet notifications]
    co_await listener.listen("orders");
    auto incoming = listener.notifications();  // the listener is dedicated to it from now on
    co_await sender.notify("orders", "order 42 shipped");
    std::optional<pg::notification> n = co_await corio::wait_for(incoming.next(), 5s);  // the caller bounds the wait
    // [end snippet]
    std::printf("notification on %s: %s\n", n ? n->channel.c_str() : "?", n ? n->payload.c_str() : "none");
    co_await sender.aclose();
    co_await listener.aclose();
    co_return n && n->payload == "order 42 shipped";
}

/// Items 1..count as CSV lines, produced lazily (a file or a socket would do as well).
corio::async_generator<std::string> csv_items(int count) {
    for (int i = 1; i <= count; ++i) co_yield std::to_string(i) + ",item " + std::to_string(i) + "\n";
}

corio::task<bool> copies(std::string url) {
    auto conn = co_await pg::connect(url);
    co_await conn.execute("create table items (id int primary key, name text)");
    // [snippet copy]
    std::uint64_t loaded = co_await conn.copy_from("copy items from stdin (format csv)", csv_items(1000));
    auto out = conn.copy_to("copy (select * from items where id <= 3) to stdout (format csv)");
    std::string exported;
    while (std::optional<std::string> chunk = co_await out.next()) exported += *chunk;  // whole rows
    // [end snippet]
    std::printf("copied in %llu rows, out: %s", static_cast<unsigned long long>(loaded), exported.c_str());
    co_await conn.aclose();
    co_return loaded == 1000 && exported == "1,item 1\n2,item 2\n3,item 3\n";
}

corio::task<bool> database_example(std::string url) {
    auto setup = co_await pg::connect(url);
    co_await setup.execute("create table users (id int primary key, name text, team text)");
    co_await setup.execute("insert into users values (1, 'ada', 'ops'), (2, 'grace', 'ops'), (3, null, 'dev')");
    co_await setup.aclose();
    const auto ada = co_await user_name(url, 1);
    const auto nobody = co_await user_name(url, 42);
    std::printf("user 1: %s, user 42: %s\n", ada.value_or("?").c_str(), nobody ? nobody->c_str() : "none");
    bool refused = false;
    try {
        co_await user_name("host=127.0.0.1 port=1 dbname=x", 1);  // nothing listens there
    } catch (const corio::connection_error& e) {
        refused = true;
        std::printf("unreachable database: %s\n", e.what());
    }
    co_return ada == "ada" && !nobody && refused && co_await queries(url) && co_await transactions(url) && co_await pooled(url) &&
              co_await notifications(url) && co_await copies(url);
}

int main() {
    if (!corio_test_support::pg_cluster::available()) {
        std::printf("PostgreSQL is not installed: skipped\n");
        return 0;
    }
    const auto cluster = corio_test_support::pg_cluster::start();
    const bool ok = corio::run(database_example(cluster->url()));
    std::printf("database: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
