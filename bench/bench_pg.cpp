// bench/bench_pg.cpp — corio pg against pgbench (C, libpq) and asyncpg (Python), same server,
// same workload, same run.
//
//   pg/select/C            pgbench's select-only transaction (`select abalance from
//                          pgbench_accounts where aid = $1`, a random aid of 100,000 rows) from C
//                          connections, each one query at a time: corio through a pg::pool of C
//                          with C tasks, each query borrowing a connection; `pgbench -S -M
//                          prepared -c C -j 1`; asyncpg with C tasks each holding one connection
//                          of its pool (its fastest path: pool.fetchval would add a reset round
//                          trip per query) (Debian's python3-asyncpg, /usr/bin/python3)
//   pg/pipeline/C          the same query 10 at a time in pipeline mode: corio's run_batch of 10;
//                          pgbench with \startpipeline ... \endpipeline (asyncpg has no pipeline)
//
// Counters: qps (corio), pgbench_qps, asyncpg_qps, ratio_pgbench and ratio_asyncpg (corio / peer;
// goals >= 0.9 and >= 1.5), and each client's own CPU time per query in µs (cpu_per_query_us,
// pgbench_cpu_per_query_us, asyncpg_cpu_per_query_us), which the server's share of the 2 CPUs
// disturbs less than the rates. Each client runs CORIO_BENCH_PG_SECONDS (default 5) seconds,
// after its connections are open. The cluster is a throwaway one (tests/support/pg_cluster.hpp),
// initialised with `pgbench -i -s 1`. Without PostgreSQL or python3-asyncpg the benchmark (or
// the asyncpg counters) is skipped with a message.
#include "bench_util.hpp"
#include "find_program.hpp"
#include "pg_cluster.hpp"

#include <corio/pg.hpp>
#include <corio/run.hpp>
#include <corio/spawn.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace pg = corio::pg;
using corio_test_support::pg_cluster;

constexpr int accounts = 100'000;  // pgbench -s 1
constexpr int pipeline_depth = 10;
const char* const select_sql = "select abalance from pgbench_accounts where aid = $1";

double seconds_per_client() {
    const char* s = std::getenv("CORIO_BENCH_PG_SECONDS");
    return s != nullptr ? std::atof(s) : 5.0;
}

/// CPU time (user + system) of this process (who = RUSAGE_SELF) or of its waited-for children.
double cpu_seconds(int who) {
    rusage usage{};
    ::getrusage(who, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

pg_cluster* cluster() {
    static std::unique_ptr<pg_cluster> running = [] {
        if (!pg_cluster::available()) return std::unique_ptr<pg_cluster>();
        auto c = pg_cluster::start();
        c->run_program({"pgbench", "-i", "-s", "1", "-q", c->tcp_conninfo()});
        return c;
    }();
    return running.get();
}

struct measured {
    double qps = 0;
    double cpu_per_query_us = 0;
};

// ---- corio ----

struct load {
    int queries = 0;
    std::chrono::steady_clock::time_point stop;
};

corio::task<> select_client(pg::pool& db, load& done, int depth, unsigned seed) {
    std::minstd_rand random(seed);
    std::uniform_int_distribution<int> aid(1, accounts);
    while (std::chrono::steady_clock::now() < done.stop) {
        if (depth == 1) {
            (void)co_await db.query_value<int>(select_sql, aid(random));
        } else {
            pg::batch several;
            for (int i = 0; i < depth; ++i) several.add(select_sql, aid(random));
            (void)co_await db.run_batch(std::move(several));
        }
        done.queries += depth;
    }
}

corio::task<measured> corio_clients(int connections, int depth, double seconds) {
    auto db = co_await pg::pool::open(cluster()->tcp_conninfo(), {.min_size = static_cast<std::size_t>(connections),
                                                                  .max_size = static_cast<std::size_t>(connections)});
    load done;
    const double cpu_before = cpu_seconds(RUSAGE_SELF);
    const auto start = std::chrono::steady_clock::now();
    done.stop = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<corio::join_handle<>> clients;
    for (int c = 0; c < connections; ++c) clients.push_back(corio::spawn(select_client(db, done, depth, static_cast<unsigned>(c + 1))));
    for (auto& c : clients) co_await c;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds(RUSAGE_SELF) - cpu_before;
    co_await db.aclose();
    co_return measured{done.queries / elapsed, cpu / done.queries * 1e6};
}

// ---- pgbench ----

/// The tps pgbench printed ("tps = 12345.678 (without initial connection time)").
double pgbench_tps(const std::string& output) {
    const auto at = output.find("tps = ");
    if (at == std::string::npos) throw std::runtime_error("pgbench printed no tps:\n" + output);
    return std::atof(output.c_str() + at + 6);
}

measured pgbench_clients(int connections, int depth, double seconds) {
    std::vector<std::string> argv = {"pgbench", "-n", "-M", "prepared", "-c", std::to_string(connections), "-j", "1",
                                     "-T", std::to_string(static_cast<int>(seconds))};
    if (depth == 1) {
        argv.push_back("-S");
    } else {
        std::ostringstream script;  // pgbench reads a script file: one in the cluster's directory
        for (int i = 0; i < depth; ++i) script << "\\set aid" << i << " random(1, " << accounts << ")\n";  // a key each, as corio's
        script << "\\startpipeline\n";
        for (int i = 0; i < depth; ++i) script << "select abalance from pgbench_accounts where aid = :aid" << i << ";\n";
        script << "\\endpipeline\n";
        const std::string path = cluster()->dir() + "/pipeline.sql";
        std::ofstream(path) << script.str();
        argv.insert(argv.end(), {"-f", path});
    }
    argv.push_back(cluster()->tcp_conninfo());
    const double cpu_before = cpu_seconds(RUSAGE_CHILDREN);
    const double tps = pgbench_tps(cluster()->run_program(argv));
    const double cpu = cpu_seconds(RUSAGE_CHILDREN) - cpu_before;
    const double qps = tps * depth;
    return {qps, cpu / (qps * seconds) * 1e6};
}

// ---- asyncpg ----

const char* const asyncpg_script = R"(
import asyncio, random, resource, sys, time
import asyncpg

async def main(dsn, connections, seconds):
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    done = 0
    stop = time.monotonic() + seconds
    async def client():
        nonlocal done
        async with pool.acquire() as conn:
            while time.monotonic() < stop:
                await conn.fetchval("select abalance from pgbench_accounts where aid = $1", random.randint(1, 100000))
                done += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    await pool.close()
    print(done / elapsed, cpu / done * 1e6)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
)";

std::optional<measured> asyncpg_clients(int connections, double seconds) {
    if (corio_test_support::find_program("python3").empty()) return std::nullopt;
    try {
        std::istringstream out(cluster()->run_program(
            {"/usr/bin/python3", "-c", asyncpg_script, cluster()->url(), std::to_string(connections), std::to_string(seconds)}));
        measured m;
        out >> m.qps >> m.cpu_per_query_us;
        if (!out) return std::nullopt;
        return m;
    } catch (const std::exception&) {
        return std::nullopt;  // no python3-asyncpg
    }
}

void pg_benchmark(benchmark::State& state, int depth) {
    if (cluster() == nullptr) {
        state.SkipWithError("PostgreSQL not found (apt-get install postgresql)");
        return;
    }
    const int connections = static_cast<int>(state.range(0));
    const double seconds = seconds_per_client();
    measured corio, pgbench;
    std::optional<measured> asyncpg;
    for (auto _ : state) {
        corio = corio::run(corio_clients(connections, depth, seconds), {.handle_signals = false});
        pgbench = pgbench_clients(connections, depth, seconds);
        if (depth == 1) asyncpg = asyncpg_clients(connections, seconds);
    }
    state.counters["qps"] = corio.qps;
    state.counters["cpu_per_query_us"] = corio.cpu_per_query_us;
    state.counters["pgbench_qps"] = pgbench.qps;
    state.counters["pgbench_cpu_per_query_us"] = pgbench.cpu_per_query_us;
    state.counters["ratio_pgbench"] = corio.qps / pgbench.qps;
    if (asyncpg) {
        state.counters["asyncpg_qps"] = asyncpg->qps;
        state.counters["asyncpg_cpu_per_query_us"] = asyncpg->cpu_per_query_us;
        state.counters["ratio_asyncpg"] = corio.qps / asyncpg->qps;
    }
}

void select_benchmark(benchmark::State& state) { pg_benchmark(state, 1); }
void pipeline_benchmark(benchmark::State& state) { pg_benchmark(state, pipeline_depth); }

BENCHMARK(select_benchmark)->Name("pg/select")->Arg(1)->Arg(16)->Iterations(1)->Unit(benchmark::kSecond);
BENCHMARK(pipeline_benchmark)->Name("pg/pipeline")->Arg(1)->Arg(16)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
