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
    }());
}

TEST(pg, query_timeout_bounds_every_query) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo(), {.query_timeout = 100ms});
        co_await corio_test::expect_throws<corio::timeout_error>(conn.query("select pg_sleep(5)"),
                                                                 "timed out after 100ms (statement: select pg_sleep(5))");
        EXPECT_EQ(co_await conn.query_value<int>("select 7"), 7);
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
    }());
}

// ---------------------------------------------------------------------------------------------
// LISTEN/NOTIFY

TEST(pg, notifications_arrive_in_order_with_their_payload_verbatim) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        auto notifier = co_await pg::connect(cluster()->socket_conninfo());
        co_await listener.listen("events");
        auto incoming = listener.notifications();
        const std::string payloads[] = {"first", "it's \"quoted\"; select 1; --", "ünïcode ✓ 日本", "", std::string(7000, 'p')};
        for (const auto& payload : payloads) co_await notifier.notify("events", payload);
        co_await notifier.execute("select pg_notify($1, $2)", std::string("events"), std::string("by hand"));
        for (const auto& payload : payloads) {
            const auto n = co_await corio::wait_for(incoming.next(), 5s);
            CO_ASSERT_TRUE(n.has_value());
            EXPECT_EQ(n->channel, "events");
            EXPECT_EQ(n->payload, payload);
            EXPECT_EQ(n->backend_pid, notifier.backend_pid());
        }
        const auto by_hand = co_await corio::wait_for(incoming.next(), 5s);
        CO_ASSERT_TRUE(by_hand.has_value());
        EXPECT_EQ(by_hand->payload, "by hand");
        // After UNLISTEN nothing more comes.
        co_await listener.unlisten("events");
        co_await notifier.notify("events", "unheard");
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(incoming.next(), 200ms), "timed out");
    }());
}

TEST(pg, notifications_that_came_during_queries_are_not_lost) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        auto notifier = co_await pg::connect(cluster()->socket_conninfo());
        co_await listener.listen("jobs");
        auto sleeping = corio::spawn(listener.query("select pg_sleep(0.2)"));
        co_await corio::sleep(50ms);
        co_await notifier.notify("jobs", "sent while the listener ran a query");
        co_await sleeping;
        co_await listener.execute("select pg_notify('jobs', 'sent by the listener itself')");
        EXPECT_EQ(co_await listener.query_value<int>("select 1"), 1);  // libpq reads and keeps what came meanwhile
        auto incoming = listener.notifications();
        const auto first = co_await corio::wait_for(incoming.next(), 5s);
        const auto second = co_await corio::wait_for(incoming.next(), 5s);
        CO_ASSERT_TRUE(first.has_value() && second.has_value());
        EXPECT_EQ(first->payload, "sent while the listener ran a query");
        EXPECT_EQ(second->payload, "sent by the listener itself");
        EXPECT_EQ(second->backend_pid, listener.backend_pid());
    }());
}

TEST(pg, a_wait_for_notifications_holds_the_connection_and_a_timeout_loses_nothing) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        auto notifier = co_await pg::connect(cluster()->socket_conninfo());
        co_await listener.listen("ticks");
        auto incoming = listener.notifications();
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(incoming.next(), 50ms), "timed out");
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(incoming.next(), 50ms), "timed out");
        EXPECT_EQ(co_await listener.query_value<int>("select 5"), 5);  // free between next() calls
        auto waiting = corio::spawn(incoming.next());
        co_await corio::sleep(20ms);
        co_await corio_test::expect_throws<std::logic_error>(listener.query("select 1"), "wait for notifications");
        co_await notifier.notify("ticks", "later");
        const auto n = co_await corio::wait_for(std::move(waiting), 5s);  // the generator carried on
        CO_ASSERT_TRUE(n.has_value());
        EXPECT_EQ(n->payload, "later");
        {
            auto dropped = listener.notifications();
            co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(dropped.next(), 20ms), "timed out");
        }
        EXPECT_EQ(co_await listener.query_value<int>("select 6"), 6);
    }());
}

TEST(pg, a_hostile_channel_name_is_one_quoted_name) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        auto notifier = co_await pg::connect(cluster()->socket_conninfo());
        co_await listener.execute("create temp table victims (n int)");
        const std::string hostile = "x\"; drop table victims; --";
        co_await listener.listen(hostile);
        EXPECT_EQ(co_await listener.query_value<std::string>("select pg_listening_channels()"), hostile);
        EXPECT_EQ(co_await listener.query_value<std::int64_t>("select count(*) from victims"), 0);  // still there
        auto incoming = listener.notifications();
        co_await notifier.notify(hostile, "payload");
        const auto n = co_await corio::wait_for(incoming.next(), 5s);
        CO_ASSERT_TRUE(n.has_value());
        EXPECT_EQ(n->channel, hostile);
        // Names the server would cut or cannot hold are refused before anything is sent.
        EXPECT_THROW((void)listener.listen(std::string(64, 'x')), std::invalid_argument);
        EXPECT_THROW((void)listener.listen(std::string("a\0b", 3)), std::invalid_argument);
        EXPECT_THROW((void)listener.listen(""), std::invalid_argument);
        EXPECT_THROW((void)notifier.notify(std::string(64, 'x'), "p"), std::invalid_argument);
        co_await listener.listen(std::string(63, 'y'));
        co_await listener.unlisten(hostile);
        EXPECT_EQ(co_await listener.query_value<std::string>("select pg_listening_channels()"), std::string(63, 'y'));
    }());
}

TEST(pg, terminating_the_listening_backend_ends_notifications_with_a_connection_error) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        auto killer = co_await pg::connect(cluster()->socket_conninfo());
        co_await listener.listen("doomed");
        auto incoming = listener.notifications();
        auto waiting = corio::spawn(incoming.next());
        co_await corio::sleep(50ms);
        EXPECT_TRUE(co_await killer.query_value<bool>("select pg_terminate_backend($1)", listener.backend_pid()));
        co_await corio_test::expect_throws<pg::connection_error>(corio::wait_for(std::move(waiting), 5s), "waiting for notifications");
        EXPECT_FALSE(listener.is_open());  // never reused after it broke
        co_await corio_test::expect_throws<corio::generator_error>(incoming.next(), "ended");
    }());
}

TEST(pg, closing_a_listening_connection_ends_its_wait) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto listener = co_await pg::connect(cluster()->tcp_conninfo());
        co_await listener.listen("closing");
        auto incoming = listener.notifications();
        auto waiting = corio::spawn(incoming.next());
        co_await corio::sleep(20ms);
        listener.close();
        co_await corio_test::expect_throws<pg::connection_error>(corio::wait_for(std::move(waiting), 5s), "closed while");
        EXPECT_FALSE(listener.is_open());
    }());
}

// ---------------------------------------------------------------------------------------------
// COPY

/// `text` in slices of `size` bytes (cut anywhere, rows included), one per next().
corio::async_generator<std::string> slices(std::string text, std::size_t size) {
    for (std::size_t at = 0; at < text.size(); at += size) co_yield text.substr(at, size);
}

/// Rows `first`..`last` of the scratch table items (id int, name text) in COPY's text format.
std::string item_rows(int first, int last) {
    std::string rows;
    for (int i = first; i <= last; ++i) rows += std::to_string(i) + "\titem " + std::to_string(i) + (i % 1000 == 0 ? " ünïcode \"q\" it's" : "") + "\n";
    return rows;
}

corio::task<std::int64_t> item_count(pg::connection& conn) {
    co_return co_await conn.query_value<std::int64_t>("select count(*) from items");
}

TEST(pg, copy_from_streams_rows_in_and_copy_to_streams_them_out) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table items (id int primary key, name text)");
        const std::string rows = item_rows(1, 10000);
        EXPECT_EQ(co_await conn.copy_from(" /* a comment */ COPY items (id, name) from stdin", slices(rows, 7919)), 10000u);
        EXPECT_EQ(co_await item_count(conn), 10000);
        EXPECT_EQ(co_await conn.query_value<std::string>("select name from items where id = 3000"), "item 3000 ünïcode \"q\" it's");
        std::string back;
        std::size_t chunks = 0;
        auto out = conn.copy_to("copy (select id, name from items order by id) to stdout");
        while (auto chunk = co_await out.next()) {
            EXPECT_EQ(chunk->back(), '\n');  // whole rows
            back += *chunk;
            ++chunks;
        }
        EXPECT_EQ(back, rows);
        EXPECT_GE(chunks, 2u);
        EXPECT_FALSE(co_await out.next());
        EXPECT_EQ(co_await conn.query_value<int>("select 1"), 1);
    }());
}

TEST(pg, a_bad_row_mid_copy_is_a_query_error_and_nothing_is_copied) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table items (id int primary key, name text)");
        const std::string rows = item_rows(1, 500) + "oops\tnot a number\n" + item_rows(501, 1000);
        try {
            co_await conn.copy_from("copy items from stdin", slices(rows, 1000));
            ADD_FAILURE() << "copied";
        } catch (const pg::query_error& e) {
            EXPECT_EQ(e.sqlstate(), "22P02");
            EXPECT_NE(std::string(e.what()).find("oops"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(conn.is_open());
        EXPECT_EQ(co_await conn.query_value<int>("select 1"), 1);
        EXPECT_EQ(co_await item_count(conn), 0);
        co_await corio_test::expect_throws<pg::query_error>(conn.copy_from("copy no_such_table from stdin", slices("1\n", 1)), "no_such_table");
        auto missing = conn.copy_to("copy no_such_table to stdout");
        co_await corio_test::expect_throws<pg::query_error>(missing.next(), "no_such_table");
        EXPECT_EQ(co_await conn.query_value<int>("select 2"), 2);
    }());
}

/// Yields `rows`, then throws.
corio::async_generator<std::string> breaking_source(std::string rows) {
    co_yield std::move(rows);
    throw std::runtime_error("the source broke");
}

/// Yields `rows`, then waits (for a minute) before the rest.
corio::async_generator<std::string> stalling_source(std::string rows) {
    co_yield std::move(rows);
    co_await corio::sleep(60s);
    co_yield std::string("99999\tnever\n");
}

TEST(pg, a_failing_copy_source_aborts_the_copy) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        co_await conn.execute("create temp table items (id int primary key, name text)");
        co_await corio_test::expect_throws<std::runtime_error>(conn.copy_from("copy items from stdin", breaking_source(item_rows(1, 100))),
                                                               "the source broke");
        EXPECT_TRUE(conn.is_open());
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "idle"), "idle");
        EXPECT_EQ(co_await item_count(conn), 0);
    }());
}

TEST(pg, a_copy_from_cut_by_wait_for_or_query_timeout_is_aborted) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo(), {.query_timeout = 300ms});
        co_await conn.execute("create temp table items (id int primary key, name text)");
        const auto started = std::chrono::steady_clock::now();
        co_await corio_test::expect_throws<corio::timeout_error>(
            corio::wait_for(conn.copy_from("copy items from stdin", stalling_source(item_rows(1, 100))), 100ms), "timed out after 100ms");
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
        CO_ASSERT_TRUE(conn.is_open());
        EXPECT_EQ(co_await item_count(conn), 0);
        // query_timeout bounds the whole COPY, the source's waits included.
        co_await corio_test::expect_throws<corio::timeout_error>(conn.copy_from("copy items from stdin", stalling_source(item_rows(1, 100))),
                                                                 "pg COPY");
        CO_ASSERT_TRUE(conn.is_open());
        EXPECT_EQ(co_await item_count(conn), 0);
    }());
}

TEST(pg, a_copy_to_dropped_mid_stream_is_cancelled_before_the_next_query) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        {
            auto out = conn.copy_to("copy (select generate_series(1, 100000000), repeat('x', 100)) to stdout");
            const auto first = co_await out.next();
            CO_ASSERT_TRUE(first.has_value());
            EXPECT_EQ(first->substr(0, 2), "1\t");
        }  // dropped: the server is still in the COPY
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "active"), "active");
        const auto started = std::chrono::steady_clock::now();
        EXPECT_EQ(co_await conn.query_value<int>("select 1"), 1);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // cancelled, not read to its end
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "idle"), "idle");
    }());
}

TEST(pg, a_copy_to_cut_by_wait_for_is_cancelled_on_the_server) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        auto observer = co_await pg::connect(cluster()->socket_conninfo());
        auto out = conn.copy_to("copy (select 1 from pg_sleep(30)) to stdout");
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(out.next(), 100ms), "timed out");
        EXPECT_EQ(co_await backend_state(observer, conn.backend_pid(), "idle"), "idle");
        co_await corio_test::expect_throws<corio::generator_error>(out.next(), "ended");
        EXPECT_EQ(co_await conn.query_value<int>("select 3"), 3);
    }());
}

TEST(pg, a_copy_needs_the_copy_api_and_the_copy_api_a_copy) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table items (id int primary key, name text)");
        co_await corio_test::expect_throws<std::logic_error>(conn.query("copy items to stdout"), "copy_to()");
        co_await corio_test::expect_throws<std::logic_error>(conn.execute("copy items from stdin"), "copy_from()");
        CO_ASSERT_TRUE(conn.is_open());  // the COPY was ended, not the connection
        EXPECT_EQ(co_await conn.query_value<int>("select 1"), 1);
        // Not a COPY: refused before anything is sent.
        co_await corio_test::expect_throws<std::invalid_argument>(conn.copy_from("insert into items values (1, 'x')", slices("", 1)),
                                                                  "not a COPY ... FROM STDIN");
        auto selected = conn.copy_to("copyright");
        co_await corio_test::expect_throws<std::invalid_argument>(selected.next(), "not a COPY ... TO STDOUT");
        // A COPY the other way round: refused once the server says so, the connection idle.
        co_await corio_test::expect_throws<std::invalid_argument>(conn.copy_from("copy items to stdout", slices("", 1)), "copy_to()");
        auto backwards = conn.copy_to("copy items from stdin");
        co_await corio_test::expect_throws<std::invalid_argument>(backwards.next(), "copy_from()");
        EXPECT_EQ(co_await item_count(conn), 0);
        EXPECT_EQ(co_await conn.query_value<int>("select 2"), 2);
    }());
}

}  // namespace
