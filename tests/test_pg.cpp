// corio pg against a real PostgreSQL server: a throwaway cluster (tests/support/pg_cluster.hpp)
// started once for this program, on a private port and socket directory, removed afterwards.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/net/tcp.hpp>
#include <corio/pg.hpp>

#include "pg_cluster.hpp"

#include <chrono>
#include <memory>
#include <set>
#include <vector>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace pg = corio::pg;
using corio_test_support::pg_cluster;

/// The cluster every test here shares (started by the first test that needs it).
pg_cluster* cluster() {
    static std::unique_ptr<pg_cluster> running = pg_cluster::available() ? pg_cluster::start() : nullptr;
    return running.get();
}

#define CORIO_REQUIRE_CLUSTER()                                                                   \
    if (cluster() == nullptr) GTEST_SKIP() << "PostgreSQL not found (apt-get install postgresql)"

TEST(pg, connects_over_tcp_and_a_unix_socket) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        for (const std::string& where : {cluster()->tcp_conninfo(), cluster()->socket_conninfo(), cluster()->url()}) {
            auto conn = co_await pg::connect(where);
            EXPECT_TRUE(conn.is_open());
            EXPECT_GE(conn.server_version(), 150000);
            EXPECT_EQ(co_await conn.query_value<int>("select 1 + 1"), 2);
            EXPECT_EQ(conn.target().find(cluster()->password()), std::string::npos) << conn.target();
            co_await conn.aclose();
            EXPECT_FALSE(conn.is_open());
        }
    }());
}

TEST(pg, every_mapped_type_round_trips) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        const pg::bytes blob = {std::byte{0}, std::byte{0xff}, std::byte{'\n'}, std::byte{'\''}};
        const nlohmann::json doc = {{"name", "ünïcode \"quoted\""}, {"list", {1, 2, 3}}};
        const pg::timestamp when = std::chrono::sys_days(std::chrono::year(2024) / 2 / 29) + 13h + 5min + 7s + 123456us;
        const pg::date day = std::chrono::year(1999) / 12 / 31;
        const auto id = pg::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        const std::int64_t big = 9'007'199'254'740'993;
        const auto r = co_await conn.query_one(
            "select $1::int2 as small, $2::int4 as medium, $3::int8 as big, $4::float8 as real, $5::bool as flag, "
            "$6::text as words, $7::bytea as blob, $8::jsonb as doc, $9::timestamptz as at, $10::date as day, "
            "$11::uuid as id, 12345678901234567890.123456789::numeric as exact, null::int as nothing, $12::text as absent",
            std::int16_t{-7}, 123456, big, 2.5, true, std::string("it's \"text\""), blob, doc, when, day, id,
            std::optional<std::string>{});
        EXPECT_EQ(r.get<std::int16_t>("small"), -7);
        EXPECT_EQ(r.get<int>("medium"), 123456);
        EXPECT_EQ(r.get<std::int64_t>("big"), big);
        EXPECT_EQ(r.get<double>("real"), 2.5);
        EXPECT_TRUE(r.get<bool>("flag"));
        EXPECT_EQ(r.get<std::string>("words"), "it's \"text\"");
        EXPECT_EQ(r.get<pg::bytes>("blob"), blob);
        EXPECT_EQ(r.get<nlohmann::json>("doc"), doc);
        EXPECT_EQ(r.get<pg::timestamp>("at"), when);
        EXPECT_EQ(r.get<pg::date>("day"), day);
        EXPECT_EQ(r.get<pg::uuid>("id"), id);
        EXPECT_EQ(r.get<std::string>("exact"), "12345678901234567890.123456789");
        EXPECT_EQ(r.get<std::optional<int>>("nothing"), std::nullopt);
        EXPECT_TRUE(r.is_null("absent"));
        EXPECT_THROW((void)r.get<int>("nothing"), pg::conversion_error);
        EXPECT_THROW((void)r.get<std::int16_t>("medium"), pg::conversion_error);  // out of range
        EXPECT_THROW((void)r.get<int>("words"), pg::conversion_error);
        EXPECT_THROW((void)r.get<int>("no_such_column"), pg::conversion_error);
        // timestamptz in another session time zone is still the same instant
        co_await conn.execute("set time zone 'Asia/Kolkata'");
        EXPECT_EQ(co_await conn.query_value<pg::timestamp>("select $1::timestamptz", when), when);
        co_await conn.aclose();
    }());
}

TEST(pg, parameters_are_never_part_of_the_sql) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table notes (body text)");
        const std::string attacks[] = {"'); drop table notes; --", "\\' or 1=1 --", "$1", "'' ; select pg_sleep(10)", "\\x00"};
        for (const auto& attack : attacks) EXPECT_EQ(co_await conn.execute("insert into notes values ($1)", attack), 1u);
        const auto rows = co_await conn.query("select body from notes order by ctid");
        CO_ASSERT_EQ(rows.size(), std::size(attacks));
        for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].get<std::string>(0), attacks[i]);  // verbatim
        // A NUL cannot be in PostgreSQL text: refused, not silently cut.
        EXPECT_THROW((void)conn.execute("insert into notes values ($1)", std::string("a\0b", 3)), pg::conversion_error);
        co_await conn.aclose();
    }());
}

TEST(pg, server_errors_name_the_sqlstate_and_statement) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        try {
            co_await conn.query("select * from no_such_table");
            ADD_FAILURE() << "no error";
        } catch (const pg::query_error& e) {
            EXPECT_EQ(e.sqlstate(), "42P01");
            EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
            EXPECT_EQ(e.statement(), "select * from no_such_table");
        }
        co_await conn.execute("create temp table uniq (k int primary key)");
        co_await conn.execute("insert into uniq values (1)");
        try {
            co_await conn.execute("insert into uniq values ($1)", 1);
            ADD_FAILURE() << "no error";
        } catch (const pg::query_error& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
            EXPECT_NE(e.detail().find("(k)=(1)"), std::string::npos) << e.detail();
        }
        EXPECT_EQ(co_await conn.query_value<int>("select count(*)::int from uniq"), 1);  // still usable
        co_await conn.aclose();
    }());
}

TEST(pg, connect_times_out_against_a_server_that_never_answers) {
    corio::run([]() -> corio::task<> {
        auto silent = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const auto port = silent.local_endpoint().port();
        auto accepting = corio::spawn(silent.accept());  // accepts, then says nothing
        const auto started = std::chrono::steady_clock::now();
        co_await corio_test::expect_throws<corio::timeout_error>(
            pg::connect("host=127.0.0.1 port=" + std::to_string(port) + " user=x dbname=y sslmode=disable",
                        {.connect_timeout = 300ms}),
            "timed out after 300ms");
        EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
        accepting.cancel();
    }());
}

TEST(pg, a_wrong_password_is_a_connection_error_without_the_password) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(cluster()->port()) +
                                     " user=corio dbname=postgres password=Wr0ngSecret";
        try {
            co_await pg::connect(conninfo);
            ADD_FAILURE() << "connected";
        } catch (const pg::connection_error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
            EXPECT_EQ(what.find("Wr0ngSecret"), std::string::npos) << what;
        }
        co_await corio_test::expect_throws<pg::connection_error>(pg::connect("host=127.0.0.1 port=1 connect_timeout=2"),
                                                                 "127.0.0.1:1");
    }());
}

/// The state of `pid`'s backend as pg_stat_activity shows it, polled until it is `wanted` (or 1 s).
corio::task<std::string> backend_state(pg::connection& observer, int pid, std::string wanted) {
    std::string state;
    for (int i = 0; i < 100 && state != wanted; ++i) {
        state = co_await observer.query_value<std::string>(
            "select coalesce((select state from pg_stat_activity where pid = $1), 'gone')", pid);
        if (state != wanted) co_await corio::sleep(10ms);
    }
    co_return state;
}

TEST(pg, a_query_cut_by_wait_for_is_cancelled_on_the_server) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        const auto started = std::chrono::steady_clock::now();
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(conn.query("select pg_sleep(30)"), 50ms),
                                                                 "timed out");
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "idle"), "idle");
        EXPECT_TRUE(conn.is_open());  // drained back to idle, not closed
        EXPECT_EQ(co_await conn.query_value<int>("select 42"), 42);
        co_await conn.aclose();
        co_await observer.aclose();
    }());
}

TEST(pg, a_cancelled_task_cancels_its_query_and_leaves_the_connection_idle) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        auto sleeping = corio::spawn(conn.query("select pg_sleep(30)"));
        co_await corio::sleep(50ms);
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "active"), "active");
        sleeping.cancel();
        EXPECT_THROW(co_await sleeping, corio::cancelled_error);
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "idle"), "idle");
        EXPECT_EQ(co_await conn.query_value<std::string>("select 'next'"), "next");
        co_await conn.aclose();
        co_await observer.aclose();
    }());
}

TEST(pg, query_timeout_bounds_every_query) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo(), {.query_timeout = 100ms});
        co_await corio_test::expect_throws<corio::timeout_error>(conn.query("select pg_sleep(5)"),
                                                                 "timed out after 100ms (statement: select pg_sleep(5))");
        EXPECT_EQ(co_await conn.query_value<int>("select 7"), 7);
        co_await conn.aclose();
    }());
}

TEST(pg, one_query_at_a_time) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto first = corio::spawn(conn.query("select pg_sleep(0.1)"));
        co_await corio::sleep(10ms);
        co_await corio_test::expect_throws<std::logic_error>(conn.query("select 1"), "another query is running");
        co_await first;
        co_await conn.aclose();
    }());
}

TEST(pg, async_with_closes_the_connection_on_every_path) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        int pid = 0;
        try {
            co_await corio::async_with(pg::connect(cluster()->tcp_conninfo()), [&pid](pg::connection& conn) -> corio::task<> {
                pid = conn.backend_pid();
                co_await conn.query("select 1/0");
            });
        } catch (const pg::query_error& e) {
            EXPECT_EQ(e.sqlstate(), "22012");  // division_by_zero
        }
        EXPECT_EQ(co_await backend_state(observer, pid, "gone"), "gone");
        co_await observer.aclose();
    }());
}

TEST(pg, query_execute_query_one) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table items (id int, name text)");
        EXPECT_EQ(co_await conn.execute("insert into items select g, 'item ' || g from generate_series(1, 50) g"), 50u);
        const auto rows = co_await conn.query("select id, name from items where id > $1 order by id", 45);
        CO_ASSERT_EQ(rows.size(), 5u);
        EXPECT_EQ(rows.columns(), 2u);
        EXPECT_EQ(rows.column_name(1), "name");
        int sum = 0;
        for (const pg::row& r : rows) sum += r.get<int>(0);
        EXPECT_EQ(sum, 46 + 47 + 48 + 49 + 50);
        EXPECT_EQ(rows[0].get<std::string>("name"), "item 46");
        EXPECT_THROW((void)rows[5], std::out_of_range);
        co_await corio_test::expect_throws<pg::conversion_error>(conn.query_one("select id from items"), "got 50");
        EXPECT_EQ(co_await conn.execute("delete from items where id <= $1", 10), 10u);
        co_await conn.aclose();
    }());
}

TEST(pg, a_server_restart_breaks_the_connection_with_a_connection_error) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await corio::to_thread([] { cluster()->restart(); });
        co_await corio_test::expect_throws<pg::connection_error>(conn.query("select 1"), "");
        EXPECT_FALSE(conn.is_open());  // never reused after it broke
        auto again = co_await pg::connect(cluster()->tcp_conninfo());
        EXPECT_EQ(co_await again.query_value<int>("select 3"), 3);
        co_await conn.aclose();
        co_await again.aclose();
    }());
}

/// The rows of the scratch table `ledger`.
corio::task<std::int64_t> ledger_rows(pg::connection& conn) {
    co_return co_await conn.query_value<std::int64_t>("select count(*) from ledger");
}

TEST(pg, a_transaction_commits_on_success_and_rolls_back_on_error) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table ledger (n int)");
        co_await corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction& tx) -> corio::task<> {
            EXPECT_EQ(tx.savepoint(), "");
            EXPECT_TRUE(conn.in_transaction());
            co_await conn.execute("insert into ledger values (1)");
        });
        EXPECT_FALSE(conn.in_transaction());
        EXPECT_EQ(co_await ledger_rows(conn), 1);
        co_await corio_test::expect_throws<std::runtime_error>(
            corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction&) -> corio::task<> {
                co_await conn.execute("insert into ledger values (2)");
                throw std::runtime_error("the block failed");
            }),
            "the block failed");
        EXPECT_FALSE(conn.in_transaction());
        EXPECT_EQ(co_await ledger_rows(conn), 1);
        co_await conn.aclose();
    }());
}

TEST(pg, a_cancelled_transaction_rolls_back) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table ledger (n int)");
        auto block = corio::spawn([&conn]() -> corio::task<> {
            co_await corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction&) -> corio::task<> {
                co_await conn.execute("insert into ledger values (3)");
                co_await conn.query("select pg_sleep(30)");
            });
        });
        co_await corio::sleep(100ms);
        block.cancel();
        EXPECT_THROW(co_await block, corio::cancelled_error);
        CO_ASSERT_TRUE(conn.is_open());  // drained, then rolled back
        EXPECT_FALSE(conn.in_transaction());
        EXPECT_EQ(co_await ledger_rows(conn), 0);
        co_await conn.aclose();
    }());
}

TEST(pg, a_nested_transaction_is_a_savepoint) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table ledger (n int)");
        co_await corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction&) -> corio::task<> {
            co_await conn.execute("insert into ledger values (10)");
            try {
                co_await corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction& inner) -> corio::task<> {
                    EXPECT_NE(inner.savepoint(), "");
                    co_await conn.execute("insert into ledger values (11)");
                    co_await conn.execute("insert into ledger values ('not a number')");  // fails
                });
            } catch (const pg::query_error& e) {
                EXPECT_EQ(e.sqlstate(), "22P02");
            }
            co_await conn.execute("insert into ledger values (12)");  // the outer one goes on
        });
        const auto rows = co_await conn.query("select n from ledger order by n");
        CO_ASSERT_EQ(rows.size(), 2u);
        EXPECT_EQ(rows[0].get<int>(0), 10);
        EXPECT_EQ(rows[1].get<int>(0), 12);
        co_await conn.aclose();
    }());
}

TEST(pg, committing_a_failed_transaction_is_an_error_not_a_silent_rollback) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table ledger (n int)");
        try {
            co_await corio::async_with(pg::transaction::begin(conn), [&conn](pg::transaction&) -> corio::task<> {
                co_await conn.execute("insert into ledger values (1)");
                try {
                    co_await conn.execute("select 1/0");
                } catch (const pg::query_error&) {  // swallowed: the block "succeeds"
                }
            });
            ADD_FAILURE() << "committed";
        } catch (const pg::query_error& e) {
            EXPECT_EQ(e.sqlstate(), "25P02");
        }
        EXPECT_FALSE(conn.in_transaction());
        EXPECT_EQ(co_await ledger_rows(conn), 0);
        co_await conn.aclose();
    }());
}

TEST(pg, closing_while_a_query_runs_ends_the_query_with_a_connection_error) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto running = corio::spawn(conn.query("select pg_sleep(30)"));
        co_await corio::sleep(50ms);
        conn.close();
        co_await corio_test::expect_throws<pg::connection_error>(std::move(running), "closed while a query ran");
        EXPECT_FALSE(conn.is_open());
        co_await corio_test::expect_throws<pg::connection_error>(conn.query("select 1"), "closed connection");
        co_await conn.aclose();
    }());
}

}  // namespace

corio::task<int> prepared_count(pg::connection& conn) {
    co_return co_await conn.query_value<int>("select count(*)::int from pg_prepared_statements");
}

TEST(pg, a_statement_with_parameters_is_prepared_once_and_reused) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo(), {.statement_cache_size = 2});
        for (int i = 0; i < 5; ++i) EXPECT_EQ(co_await conn.query_value<int>("select $1::int + 1", i), i + 1);
        EXPECT_EQ(co_await prepared_count(conn), 1);
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select $1::int8 + 1", std::int64_t{1}), 2);  // other types: another
        EXPECT_EQ(co_await conn.query_value<std::string>("select $1::text", "x"), "x");                 // third: the oldest goes
        EXPECT_EQ(co_await prepared_count(conn), 2);
        co_await conn.aclose();
        auto uncached = co_await pg::connect(cluster()->tcp_conninfo(), {.statement_cache_size = 0});
        EXPECT_EQ(co_await uncached.query_value<int>("select $1::int", 7), 7);
        EXPECT_EQ(co_await prepared_count(uncached), 0);
        co_await uncached.aclose();
    }());
}

TEST(pg, a_cached_statement_survives_schema_changes_and_deallocate_all) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table shapes (id int)");
        co_await conn.execute("insert into shapes values (1)");
        EXPECT_EQ((co_await conn.query("select * from shapes where id = $1", 1)).columns(), 1u);
        co_await conn.execute("alter table shapes add column name text default 'circle'");  // the cached plan's rows change shape
        const auto wider = co_await conn.query("select * from shapes where id = $1", 1);
        CO_ASSERT_EQ(wider.columns(), 2u);
        EXPECT_EQ(wider[0].get<std::string>("name"), "circle");
        co_await conn.execute("deallocate all");  // the server forgets every prepared statement
        EXPECT_EQ((co_await conn.query("select * from shapes where id = $1", 1)).size(), 1u);
        co_await conn.aclose();
    }());
}

TEST(pg, a_batch_is_one_round_trip_and_all_or_nothing) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table accounts (id int primary key, balance int check (balance >= 0))");
        co_await conn.execute("insert into accounts values (1, 100), (2, 0)");
        pg::batch moves;
        moves.add("update accounts set balance = balance - $1 where id = $2", 30, 1)
            .add("update accounts set balance = balance + $1 where id = $2", 30, 2)
            .add("select sum(balance)::int from accounts");
        const auto done = co_await conn.run_batch(std::move(moves));
        CO_ASSERT_EQ(done.size(), 3u);
        EXPECT_EQ(done[0].affected_rows(), 1u);
        EXPECT_EQ(done[2][0].get<int>(0), 100);
        pg::batch overdraw;
        overdraw.add("update accounts set balance = balance + $1 where id = $2", 500, 2)
            .add("update accounts set balance = balance - $1 where id = $2", 500, 1)  // violates the check
            .add("select 1");
        co_await corio_test::expect_throws<pg::query_error>(conn.run_batch(std::move(overdraw)), "accounts_balance_check");
        EXPECT_EQ(co_await conn.query_value<int>("select balance from accounts where id = 2"), 30);  // the first took no effect
        EXPECT_TRUE((co_await conn.run_batch(pg::batch{})).empty());
        co_await conn.aclose();
    }());
}

TEST(pg, a_batch_cut_by_wait_for_leaves_the_connection_idle) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        pg::batch slow;
        slow.add("select 1").add("select pg_sleep(30)").add("select 2");
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(conn.run_batch(std::move(slow)), 50ms));
        EXPECT_TRUE(conn.is_open());
        EXPECT_FALSE(conn.in_transaction());
        EXPECT_EQ(co_await conn.query_value<int>("select $1::int", 5), 5);
        co_await conn.aclose();
    }());
}

TEST(pg, a_connection_never_closed_is_reported) {
    CORIO_REQUIRE_CLUSTER();
    std::vector<std::string> reports;
    auto previous = corio::set_error_logger([&](std::string_view m) { reports.emplace_back(m); });
    corio::run([]() -> corio::task<> {
        auto forgotten = co_await pg::connect(cluster()->tcp_conninfo());
        EXPECT_EQ(co_await forgotten.query_value<int>("select 1"), 1);
    }());  // leaves without aclose()
    corio::set_error_logger(std::move(previous));
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("was never closed"), std::string::npos) << reports[0];
    EXPECT_EQ(reports[0].find(cluster()->password()), std::string::npos);
}

TEST(pg, a_thousand_queries_from_a_hundred_tasks_through_a_pool_of_ten) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto db = co_await pg::pool::open(cluster()->tcp_conninfo(), {.min_size = 2, .max_size = 10});
        EXPECT_EQ(db.stats().idle, 2u);
        std::set<int> backends;
        int answered = 0;
        auto client = [](pg::pool& db, std::set<int>& backends, int& answered, int id) -> corio::task<> {
            for (int i = 0; i < 10; ++i) {
                const auto r = co_await db.query_one("select $1::int * 10 + $2::int as n, pg_backend_pid() as pid", id, i);
                EXPECT_EQ(r.get<int>("n"), id * 10 + i);
                backends.insert(r.get<int>("pid"));
                ++answered;
            }
        };
        std::vector<corio::join_handle<>> clients;
        for (int id = 0; id < 100; ++id) clients.push_back(corio::spawn(client(db, backends, answered, id)));
        for (auto& c : clients) co_await c;
        EXPECT_EQ(answered, 1000);
        EXPECT_LE(backends.size(), 10u);
        const auto stats = db.stats();
        EXPECT_LE(stats.opened, 10u);
        EXPECT_EQ(stats.in_use, 0u);
        EXPECT_EQ(stats.acquired, 1000u);
        co_await db.aclose();
        EXPECT_EQ(db.stats().size, 0u);
    }());
}

TEST(pg, a_query_cancelled_through_the_pool_stops_on_the_server_and_the_connection_is_reused) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto db = co_await pg::pool::open(cluster()->tcp_conninfo(), {.max_size = 1});
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        const int pid = co_await db.query_value<int>("select pg_backend_pid()");
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(db.query("select pg_sleep(30)"), 50ms));
        EXPECT_EQ(co_await backend_state(observer, pid, "idle"), "idle");
        EXPECT_EQ(co_await db.query_value<int>("select pg_backend_pid()"), pid);  // the same connection, idle again
        EXPECT_EQ(db.stats().discarded, 0u);
        co_await observer.aclose();
        co_await db.aclose();
    }());
}

TEST(pg, the_pool_recovers_after_a_server_restart) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto db = co_await pg::pool::open(cluster()->tcp_conninfo(), {.min_size = 3, .max_size = 3});
        EXPECT_EQ(co_await db.query_value<int>("select 1"), 1);
        co_await corio::to_thread([] { cluster()->restart(); });
        for (int i = 0; i < 5; ++i) EXPECT_EQ(co_await db.query_value<int>("select $1::int", i), i);  // no error reaches the user
        EXPECT_EQ(db.stats().discarded, 3u);  // the three dead ones were dropped on acquire
        co_await db.aclose();
    }());
}

TEST(pg, the_pool_never_lends_a_connection_in_a_transaction_or_a_dead_one) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto db = co_await pg::pool::open(cluster()->tcp_conninfo(), {.max_size = 1, .acquire_timeout = 100ms});
        auto killer = co_await pg::connect(cluster()->socket_conninfo());
        {
            auto conn = co_await db.acquire();
            co_await conn->execute("begin");
            co_await conn->execute("create temp table half_done (x int)");
        }  // dropped before COMMIT: closed, not returned
        EXPECT_EQ(db.stats().discarded, 1u);
        EXPECT_EQ(co_await db.query_value<int>("select count(*)::int from pg_tables where tablename = 'half_done'"), 0);
        const int pid = co_await db.query_value<int>("select pg_backend_pid()");
        co_await killer.execute("select pg_terminate_backend($1)", pid);
        EXPECT_EQ(co_await backend_state(killer, pid, "gone"), "gone");  // terminate only sends the signal
        EXPECT_NE(co_await db.query_value<int>("select pg_backend_pid()"), pid);  // replaced
        {
            auto held = co_await db.acquire();
            co_await corio_test::expect_throws<corio::timeout_error>(db.query("select 1"), "1 of 1 in use, 0 idle, 0 opening, 1 waiting");
        }
        co_await killer.aclose();
        co_await db.aclose();
        co_await corio_test::expect_throws<corio::pool_closed_error>(db.query("select 1"), "is closed");
    }());
}
