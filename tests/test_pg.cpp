// corio pg against a real PostgreSQL server: a throwaway cluster (tests/support/pg_cluster.hpp)
// started once for this program, on a private port and socket directory, removed afterwards.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/net/tcp.hpp>
#include <corio/pg.hpp>

#include "pg_cluster.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

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

TEST(pg, array_parameters_quote_every_element_and_carry_the_array_type) {
    // No server needed: the literal and the type OID sent.
    const std::vector<std::optional<std::string>> words = {"a,b", std::nullopt, "NULL", "say \"hi\"\\", ""};
    EXPECT_EQ(pg::to_param(words).text, R"({"a,b",NULL,"NULL","say \"hi\"\\",""})");
    EXPECT_EQ(pg::to_param(std::vector<int>{}).text, "{}");
    const std::vector<std::vector<int>> grid = {{1, 2}, {3, 4}};
    EXPECT_EQ(pg::to_param(grid).text, R"({{"1","2"},{"3","4"}})");
    EXPECT_EQ(pg::to_param(grid).oid, 1007u);
    EXPECT_EQ(pg::to_param(std::vector<std::int16_t>{}).oid, 1005u);
    EXPECT_EQ(pg::to_param(std::vector<int>{}).oid, 1007u);
    EXPECT_EQ(pg::to_param(std::vector<std::optional<int>>{}).oid, 1007u);
    EXPECT_EQ(pg::to_param(std::vector<std::int64_t>{}).oid, 1016u);
    EXPECT_EQ(pg::to_param(std::vector<float>{}).oid, 1021u);
    EXPECT_EQ(pg::to_param(std::vector<double>{}).oid, 1022u);
    EXPECT_EQ(pg::to_param(std::vector<bool>{}).oid, 1000u);
    EXPECT_EQ(pg::to_param(std::vector<pg::bytes>{}).oid, 1001u);
    EXPECT_EQ(pg::to_param(std::vector<pg::date>{}).oid, 1182u);
    EXPECT_EQ(pg::to_param(std::vector<pg::timestamp>{}).oid, 1185u);
    EXPECT_EQ(pg::to_param(std::vector<pg::uuid>{}).oid, 2951u);
    EXPECT_EQ(pg::to_param(std::vector<std::string>{}).oid, 0u);  // like a string: the server infers
    EXPECT_EQ(pg::to_param(std::vector<nlohmann::json>{}).oid, 0u);
    EXPECT_EQ(pg::to_param(pg::bytes{}).oid, 17u);  // pg::bytes stays bytea, not an array
    EXPECT_EQ(pg::detail::array_oid(0), 0u);
    EXPECT_EQ(pg::detail::array_oid(25), 1009u);
    EXPECT_EQ(pg::detail::array_oid(3802), 3807u);
    const std::vector<std::vector<int>> jagged = {{1, 2}, {3}};
    EXPECT_THROW((void)pg::to_param(jagged), pg::conversion_error);
    const std::vector<std::string> with_nul = {std::string("a\0b", 3)};
    EXPECT_THROW((void)pg::to_param(with_nul), pg::conversion_error);
}

TEST(pg, arrays_round_trip) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        const std::vector<int> ints = {1, -2, 2147483647};
        const std::vector<std::int16_t> smalls = {-32768, 7};
        const std::vector<std::int64_t> bigs = {9'007'199'254'740'993, -1};
        const std::vector<double> doubles = {2.5, -0.125, 1e300, HUGE_VAL};
        const std::vector<float> floats = {1.5f, -3.0f};
        const std::vector<bool> flags = {true, false, true};
        const std::vector<std::string> words = {"plain", "two words", ""};
        const std::vector<pg::uuid> ids = {pg::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), pg::uuid{}};
        const std::vector<pg::date> days = {std::chrono::year(1999) / 12 / 31, std::chrono::year(2024) / 2 / 29};
        const std::vector<pg::timestamp> times = {
            std::chrono::sys_days(std::chrono::year(2024) / 2 / 29) + 13h + 5min + 7s + 123456us,
            std::chrono::sys_days(std::chrono::year(1970) / 1 / 1) + 0s};
        const std::vector<nlohmann::json> docs = {nlohmann::json{{"a", "b \"c\""}}, nlohmann::json::array({1, 2}),
                                                  nullptr};
        const std::vector<pg::bytes> blobs = {pg::bytes{std::byte{0}, std::byte{0xff}}, pg::bytes{}};
        const std::vector<int> none;
        EXPECT_EQ(co_await conn.query_value<std::vector<int>>("select $1::int[]", ints), ints);
        EXPECT_EQ(co_await conn.query_value<std::vector<int>>("select $1", ints), ints);  // typed int4[] by itself
        EXPECT_EQ(co_await conn.query_value<std::vector<std::int16_t>>("select $1::int2[]", smalls), smalls);
        EXPECT_EQ(co_await conn.query_value<std::vector<std::int64_t>>("select $1::int8[]", bigs), bigs);
        EXPECT_EQ(co_await conn.query_value<std::vector<double>>("select $1::float8[]", doubles), doubles);
        EXPECT_EQ(co_await conn.query_value<std::vector<float>>("select $1::float4[]", floats), floats);
        EXPECT_EQ(co_await conn.query_value<std::vector<bool>>("select $1::bool[]", flags), flags);
        EXPECT_EQ(co_await conn.query_value<std::vector<std::string>>("select $1::text[]", words), words);
        EXPECT_EQ(co_await conn.query_value<std::vector<pg::uuid>>("select $1::uuid[]", ids), ids);
        EXPECT_EQ(co_await conn.query_value<std::vector<pg::date>>("select $1::date[]", days), days);
        EXPECT_EQ(co_await conn.query_value<std::vector<pg::timestamp>>("select $1::timestamptz[]", times), times);
        EXPECT_EQ(co_await conn.query_value<std::vector<nlohmann::json>>("select $1::jsonb[]", docs), docs);
        EXPECT_EQ(co_await conn.query_value<std::vector<pg::bytes>>("select $1::bytea[]", blobs), blobs);
        EXPECT_EQ(co_await conn.query_value<std::vector<int>>("select $1::int[]", none), none);
        EXPECT_EQ(co_await conn.query_value<std::string>("select $1::int[]::text", none), "{}");
        const std::vector<std::string> no_words;
        EXPECT_EQ(co_await conn.query_value<std::vector<std::string>>("select '{}'::text[]"), no_words);
        // NaN != NaN: checked apart
        const std::vector<double> nan = {std::nan("")};
        const auto back = co_await conn.query_value<std::vector<double>>("select $1::float8[]", nan);
        CO_ASSERT_EQ(back.size(), 1u);
        EXPECT_TRUE(std::isnan(back[0]));
        // pg::bytes is still bytea, both ways
        const pg::bytes blob = {std::byte{1}, std::byte{2}};
        EXPECT_EQ(co_await conn.query_value<pg::bytes>("select '\\x0102'::bytea"), blob);
        EXPECT_EQ(co_await conn.query_value<std::string>("select pg_typeof($1)::text", blob), "bytea");
        EXPECT_EQ(co_await conn.query_value<std::string>("select pg_typeof($1)::text", ints), "integer[]");
        co_await conn.aclose();
    }());
}

TEST(pg, array_null_elements) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        const auto r = co_await conn.query_one("select array[1, null, 3] as holes, array['NULL', null] as words");
        const std::vector<std::optional<int>> holes = {1, std::nullopt, 3};
        EXPECT_EQ(r.get<std::vector<std::optional<int>>>("holes"), holes);
        try {
            (void)r.get<std::vector<int>>("holes");
            ADD_FAILURE() << "no exception";
        } catch (const pg::conversion_error& e) {
            EXPECT_NE(std::string(e.what()).find("holes"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("std::optional"), std::string::npos) << e.what();
        }
        const std::vector<std::optional<std::string>> words = {"NULL", std::nullopt};  // only unquoted NULL is NULL
        EXPECT_EQ(r.get<std::vector<std::optional<std::string>>>("words"), words);
        // and as parameters: the string "NULL" stays a string, nullopt is NULL
        const auto sent = co_await conn.query_one(
            "select ($1::text[])[1] is null as first, ($1::text[])[2] is null as second, ($2::int[])[2] is null as hole",
            words, holes);
        EXPECT_FALSE(sent.get<bool>("first"));
        EXPECT_TRUE(sent.get<bool>("second"));
        EXPECT_TRUE(sent.get<bool>("hole"));
        EXPECT_EQ(co_await conn.query_value<std::vector<std::optional<int>>>("select $1::int[]", holes), holes);
        co_await conn.aclose();
    }());
}

TEST(pg, array_strings_travel_verbatim) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        // Each would change the array's structure if it were not quoted and escaped.
        const std::vector<std::string> nasty = {
            "a,b", "{x}", "{", "}", "\"quoted\"", "back\\slash", "trailing\\", "\\\"", " spaces ", "", "NULL", "null",
            "ünïcode ✓", "tab\there", "new\nline", "[1:2]={3}", "a\"},{\"b", "\"},NULL,{\"",
            "'); drop table tags; --"};
        co_await conn.execute("create temp table tags (id int, names text[])");
        EXPECT_EQ(co_await conn.execute("insert into tags values (1, $1)", nasty), 1u);
        const auto r =
            co_await conn.query_one("select names, cardinality(names) as n, array_ndims(names) as dims from tags");
        EXPECT_EQ(r.get<std::vector<std::string>>("names"), nasty);
        EXPECT_EQ(r.get<std::size_t>("n"), nasty.size());  // no element split or merged
        EXPECT_EQ(r.get<int>("dims"), 1);
        // the server holds each element verbatim
        const auto rows =
            co_await conn.query("select e, i from tags, unnest(names) with ordinality as u(e, i) order by i");
        CO_ASSERT_EQ(rows.size(), nasty.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            EXPECT_EQ(rows[i].get<std::string>("e"), nasty[i]);
            EXPECT_FALSE(rows[i].is_null("e"));
        }
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from tags"), 1);  // the table survived
        co_await conn.aclose();
    }());
}

TEST(pg, arrays_with_any) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        co_await conn.execute("create temp table items (id int, big bigint, name text)");
        co_await conn.execute("insert into items select g, g, 'item ' || g from generate_series(1, 10) g");
        const std::vector<int> ids = {2, 4, 99};
        const std::vector<std::string> names = {"item 3", "item 5", "item 7", "item, 9", "item 1,item 2", "NULL"};
        const std::vector<int> none;
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from items where id = any($1)", ids), 2);
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from items where big = any($1)", ids), 2);
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from items where name = any($1)", names), 3);
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from items where id = any($1)", none), 0);
        EXPECT_EQ(co_await conn.query_value<std::int64_t>("select count(*) from items where id <> all($1)", ids), 8);
        const auto picked = co_await conn.query_value<std::vector<std::string>>(
            "select array_agg(name order by id) from items where id = any($1)", ids);
        EXPECT_EQ(picked, (std::vector<std::string>{"item 2", "item 4"}));
        co_await conn.aclose();
    }());
}

TEST(pg, two_dimensional_arrays) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        const std::vector<std::vector<int>> grid = {{1, 2, 3}, {4, 5, 6}};
        const auto r = co_await conn.query_one(
            "select $1::int[] as grid, array_dims($1::int[]) as dims, ($1::int[])[2][1] as cell", grid);
        EXPECT_EQ(r.get<std::vector<std::vector<int>>>("grid"), grid);
        EXPECT_EQ(r.get<std::string>("dims"), "[1:2][1:3]");
        EXPECT_EQ(r.get<int>("cell"), 4);
        EXPECT_THROW((void)r.get<std::vector<int>>("grid"), pg::conversion_error);  // 2 dimensions into 1
        using grid_of_words = std::vector<std::vector<std::optional<std::string>>>;
        const grid_of_words words = {{"{a}", "b,c"}, {std::nullopt, ""}};
        EXPECT_EQ(co_await conn.query_value<std::string>("select array_dims($1::text[])", words), "[1:2][1:2]");
        EXPECT_EQ(co_await conn.query_value<grid_of_words>("select $1::text[]", words), words);
        const std::vector<int> line = {1, 2};
        const auto one_dim = co_await conn.query_one("select $1::int[] as line", line);
        EXPECT_THROW((void)one_dim.get<std::vector<std::vector<int>>>("line"), pg::conversion_error);  // 1 dimension into 2
        const std::vector<std::vector<int>> empty_rows = {{}, {}};
        EXPECT_EQ(co_await conn.query_value<std::string>("select $1::int[]::text", empty_rows), "{}");
        // lower bounds other than 1 come back decorated; the elements are read in order
        const auto shifted = co_await conn.query_one(
            "select '[0:2]={1,2,3}'::int[] as line, '[0:1][-1:0]={{1,2},{3,4}}'::int[] as grid");
        EXPECT_EQ(shifted.text(0), "[0:2]={1,2,3}");
        EXPECT_EQ(shifted.get<std::vector<int>>("line"), (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(shifted.get<std::vector<std::vector<int>>>("grid"), (std::vector<std::vector<int>>{{1, 2}, {3, 4}}));
        co_await conn.aclose();
    }());
}

TEST(pg, array_text_is_read_as_array_in_reads_it) {
    CORIO_REQUIRE_CLUSTER();
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo());
        // Forms the server never prints but array_in accepts: ours must agree with the server's reading.
        const std::string accepted[] = {" { 1 , 2 } ",      "{ a b , \"c\" , NULL, \"NULL\", nUlL }", "{a\\ b\\ ,\\ c}",
                                        "{ }",              "  [1:2] = {x,y}",                        "[3]={1,2,3}",
                                        "[+1:2]={1,2}",     "{{ 1 },{2 }}",                           "{\"\\q\\\\\"}",
                                        "{\t\n\"a\"\r\n}"};
        for (const std::string& text : accepted) {
            const auto r = co_await conn.query_one("select $1::text as raw, $1::text[] as parsed", text);
            const auto canonical = r.get<std::string>("parsed");
            const bool two_dims = canonical.starts_with("{{");
            if (two_dims)
                EXPECT_EQ(r.get<std::vector<std::vector<std::optional<std::string>>>>("raw"),
                          r.get<std::vector<std::vector<std::optional<std::string>>>>("parsed"))
                    << text;
            else
                EXPECT_EQ(r.get<std::vector<std::optional<std::string>>>("raw"),
                          r.get<std::vector<std::optional<std::string>>>("parsed"))
                    << text;
        }
        const auto spaced = co_await conn.query_one("select $1::text", accepted[1]);
        const std::vector<std::optional<std::string>> expected = {"a b", "c", std::nullopt, "NULL", std::nullopt};
        EXPECT_EQ(spaced.get<std::vector<std::optional<std::string>>>(0), expected);

        // Malformed: the server refuses each as an array, and so do we (naming the column).
        const std::string malformed[] = {"{1,2",       "1,2}",        "{1,,2}",    "{1,}",        "{,1}",
                                         "{\"a\"b}",   "{1} x",       "{{1,2},{3}}", "{{1},2}",   "{1,{2}}",
                                         "{{}}",       "{a\\}",       "{\"abc}",   "[1:2]={1}",   "[2:1]={1}",
                                         "{{{{{{{1}}}}}}}", "",       "{a{b}",     "{a\"b}",      "[1:3]{1,2,3}",
                                         "[1:1={1}",   "[x]={1}",     "{}}",       "{{1}}}"};
        for (const std::string& text : malformed) {
            bool server_refused = false;
            try {
                co_await conn.query("select $1::text[]", text);
            } catch (const pg::query_error&) {
                server_refused = true;
            }
            EXPECT_TRUE(server_refused) << text;
            const auto r = co_await conn.query_one("select $1::text as bad", text);
            try {
                (void)r.get<std::vector<std::string>>("bad");
                ADD_FAILURE() << "read: " << text;
            } catch (const pg::conversion_error& e) {
                EXPECT_NE(std::string(e.what()).find("bad"), std::string::npos) << e.what();
            }
        }
        // an element that is not a number fails as the element type does
        const auto words = co_await conn.query_one("select '{1,two}'::text as a");
        EXPECT_THROW((void)words.get<std::vector<int>>("a"), pg::conversion_error);
        EXPECT_THROW((void)words.get<std::vector<std::vector<int>>>("a"), pg::conversion_error);
        co_await conn.aclose();
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
        co_await listener.aclose();
        co_await notifier.aclose();
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
        co_await listener.aclose();
        co_await notifier.aclose();
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
        co_await listener.aclose();
        co_await notifier.aclose();
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
        co_await listener.aclose();
        co_await notifier.aclose();
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
        co_await listener.aclose();
        co_await killer.aclose();
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
        co_await listener.aclose();
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
        co_await conn.aclose();
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
        co_await conn.aclose();
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
        co_await conn.aclose();
        co_await observer.aclose();
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
        co_await conn.aclose();
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
        co_await conn.aclose();
        co_await observer.aclose();
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
        co_await conn.aclose();
        co_await observer.aclose();
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
        for (int round = 0; round < 2; ++round) {  // statements with parameters are prepared once, in the pipeline
            pg::batch reads;
            reads.add("select balance from accounts where id = $1", 1).add("select balance from accounts where id = $1", 2);
            const auto balances = co_await conn.run_batch(std::move(reads));
            CO_ASSERT_EQ(balances.size(), 2u);
            EXPECT_EQ(balances[0][0].get<int>(0) + balances[1][0].get<int>(0), 100);
        }
        EXPECT_EQ(co_await prepared_count(conn), 3);  // the two updates and the read
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

TEST(pg, tls_connections_read_large_results_in_full) {
    CORIO_REQUIRE_CLUSTER();
    CORIO_REQUIRE_PROGRAM("openssl", "openssl");
    static const bool tls_on = [] {
        cluster()->enable_tls();
        return true;
    }();
    (void)tls_on;
    corio::run([]() -> corio::task<> {
        auto conn = co_await pg::connect(cluster()->tcp_conninfo() + " sslmode=require");
        EXPECT_TRUE(co_await conn.query_value<bool>("select ssl from pg_stat_ssl where pid = pg_backend_pid()"));
        for (int round = 0; round < 3; ++round) {  // many TLS records per result: OpenSSL holds some while the socket is empty
            const auto rows = co_await conn.query("select i, repeat('x', 100) as filler from generate_series(1, $1::int) as i", 20000);
            CO_ASSERT_EQ(rows.size(), 20000u);
            EXPECT_EQ(rows[19999].get<int>("i"), 20000);
        }
        pg::batch several;
        for (int i = 0; i < 20; ++i) several.add("select repeat('y', 5000)");
        EXPECT_EQ((co_await conn.run_batch(std::move(several))).size(), 20u);
        co_await conn.aclose();
    }());
}
