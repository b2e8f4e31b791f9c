#!/usr/bin/env python3
"""Prints corio's benchmark table (Markdown) from Google Benchmark JSON files.

    scripts/bench_table.py RESULT.json [RESULT.json ...]

Reads the per-operation counters that bench/bench_*.cpp report (per_task, per_await, ...,
seconds per operation; rss_per_task, bytes) and prints one row per known workload with corio's
figure, corio's goal and the peers measured on this machine (../shared/baselines.md,
2026-11-25). HTTP rates drift between occasions, so the HTTP client rows also show wrk, measured
against the same nginx in the same run, and corio's ratio to it; the HTTP server rows show nginx
serving the same workload in the same run, and corio's ratios to it. With
--benchmark_repetitions the median aggregate is used; otherwise the median of the runs found.
Rows whose benchmark did not run (filtered out, failed) are left out.
"""

import json
import statistics
import sys

PEERS = ("asyncio", "uvloop", "Boost.Asio", "Go")

NS = 1e9  # counter in seconds per operation -> nanoseconds
US = 1e6  # counter in seconds per operation -> microseconds
BYTES = 1.0
RATE = 1.0
PERCENT = 100.0  # ratio -> percent


class AtLeast(float):
    """A goal that is a lower bound (rates, ratios); a plain number is an upper bound."""


def value(name, counter, scale):
    """The workload's figure: one counter of one benchmark, scaled."""
    return lambda results: counter_of(results, name, counter) * scale


def difference(minuend, subtrahend):
    return lambda results: minuend(results) - subtrahend(results)


AWAIT = value("await_ready/0", "per_await", NS)
AWAIT_10K = value("await_ready/10000", "per_await", NS)
WAIT_FOR = value("wait_for_ready/0", "per_await", NS)
WAIT_FOR_10K = value("wait_for_ready/10000", "per_await", NS)
HTTP_CLIENT = "http_client_keepalive/64"
MS_TO_US = 1e3  # counter in milliseconds -> microseconds


def server_rows(bench, label, peer_rates=None, peer_p99s=None, goals=True):
    """Rows for one http_server/<path>/<threads> run: corio beside nginx measured in the same run.
    Goals (the issue's, for one core): req/s at least nginx's, p99 no worse (the project's: 1.2x
    nginx's rate). With two threads wrk shares the two CPUs with the servers: no goal there."""
    rate_goal, p99_goal = (AtLeast(100), 100) if goals else (None, None)
    return [
        (f"HTTP server {label}, req/s", value(bench, "req_per_s", RATE), None, peer_rates),
        ("same, nginx (same run, same CPUs), req/s", value(bench, "nginx_req_per_s", RATE), None, None),
        ("same, corio's req/s as % of nginx's", value(bench, "ratio_req_per_s", PERCENT), rate_goal, None),
        ("same, p99 latency, µs", value(bench, "p99_ms", MS_TO_US), None, peer_p99s),
        ("same, nginx's p99 latency, µs", value(bench, "nginx_p99_ms", MS_TO_US), None, None),
        ("same, corio's p99 as % of nginx's", value(bench, "ratio_p99", PERCENT), p99_goal, None),
        # The server's own CPU time per request: far less disturbed by other load than the above.
        ("same, server CPU per request, µs", value(bench, "cpu_per_req_us", RATE), None, None),
        ("same, corio's CPU per request as % of nginx's", value(bench, "ratio_cpu_per_req", PERCENT), None, None),
    ]


def pg_rows(bench, label, with_asyncpg):
    """Rows for one pg/<mode>/<connections> run: corio beside pgbench (and asyncpg) in the same
    run against the same server. Goals (the issue's): >= 0.9x pgbench, >= 1.5x asyncpg."""
    rows = [
        (f"PostgreSQL {label}, queries/s", value(bench, "qps", RATE), None, None),
        ("same, pgbench (same run, same server), queries/s", value(bench, "pgbench_qps", RATE), None, None),
        ("same, corio's rate as % of pgbench's", value(bench, "ratio_pgbench", PERCENT), AtLeast(90), None),
    ]
    if with_asyncpg:
        rows += [
            ("same, asyncpg (same run, same server), queries/s", value(bench, "asyncpg_qps", RATE), None, None),
            ("same, corio's rate as % of asyncpg's", value(bench, "ratio_asyncpg", PERCENT), AtLeast(150), None),
        ]
    rows += [
        ("same, client CPU per query: corio, µs", value(bench, "cpu_per_query_us", RATE), None, None),
        ("same, client CPU per query: pgbench, µs", value(bench, "pgbench_cpu_per_query_us", RATE), None, None),
    ]
    if with_asyncpg:
        rows.append(("same, client CPU per query: asyncpg, µs", value(bench, "asyncpg_cpu_per_query_us", RATE), None, None))
    return rows


# (workload, figure, goal (upper bound, or AtLeast) or None, peers in PEERS order or None)
ROWS = [
    ("spawn+await 1M tasks in batches of 1k, ns/task",
     value("spawn_await_batches/1000", "per_task", NS), 50, ("5,882", "5,002", "361", "225")),
    ("same, in debug mode (spawn sites, task records, watchdog), ns/task",
     value("spawn_await_debug/1000", "per_task", NS), None, None),
    ("spawn 1M tasks alive at once (fresh memory), ns/task",
     value("spawn_alive_cold/1000000", "per_task", NS), None,
     ("18,042", "18,195", "3,166", "1,196")),
    ("spawn 1M tasks alive at once (memory reused), ns/task",
     value("spawn_alive/1000000", "per_task", NS), None, None),
    ("memory per sleeping task (100k sleepers), bytes RSS, frame included",
     value("sleeping_task_memory/100000", "rss_per_task", BYTES), None,
     ("1,487", "1,800", "1,274", "2,053")),
    # The goal: under 256 bytes per sleeping trivial task beyond its coroutine frame.
    ("memory per sleeping task (1M sleepers) beyond its frame, bytes RSS",
     difference(value("sleeping_task_memory/1000000", "rss_per_task", BYTES),
                value("sleeping_task_memory/1000000", "frame_bytes", BYTES)), 256, None),
    ("plain sequential await, ns", AWAIT, None, ("83", "84", "13.7", "—")),
    ("added cost of a 10 s timeout on a call that completes, ns",
     difference(WAIT_FOR, AWAIT), 50, ("+21,800", "+13,900", "+8,300", "—")),
    ("same, with 10k other timers pending, ns",
     difference(WAIT_FOR_10K, AWAIT_10K), 50, None),
    ("timer heap insert (1M timers), ns/op",
     value("timer_heap_insert/1000000", "per_op", NS), None, None),
    ("timer heap remove, random order (1M timers), ns/op",
     value("timer_heap_remove/1000000", "per_op", NS), None, None),
    ("timer heap fire (1M due timers), ns/op",
     value("timer_heap_fire/1000000", "per_op", NS), None, None),
    ("sleeping task: spawn, start, cancel (10k), ns/task",
     value("sleepers_start_cancel/10000", "per_sleeper", NS), None, None),
    ("1M sleeping tasks: spawn, fire, join (virtual time), ns/task",
     value("sleepers_fire/1000000", "per_sleeper", NS), None, None),
    # Client on CPU 0, nginx on CPU 1; peers: aiohttp, aiohttp + uvloop, Beast, net/http.
    ("HTTP client req/s vs nginx (64 in flight, keep-alive)",
     value(HTTP_CLIENT, "req_per_s", RATE), None, ("3,953", "6,069", "74,434", "32,310")),
    ("same, wrk -t1 -c64 (reference measured in the same run), req/s",
     value(HTTP_CLIENT, "wrk_req_per_s", RATE), None, None),
    # The goal: at least 0.8x wrk's rate on one core (the project's: 0.95x).
    ("same, corio's rate as % of wrk's", value(HTTP_CLIENT, "ratio_to_wrk", PERCENT), AtLeast(80), None),
    ("same, client CPU per request, µs", value(HTTP_CLIENT, "per_request", US), None, None),
    ("same, wrk CPU per request, µs", value(HTTP_CLIENT, "wrk_per_request", US), None, None),
    # Server (and nginx, 1 worker) pinned to CPU 0, wrk -t1 -c64 --latency pinned to CPU 1; peers:
    # aiohttp, aiohttp + uvloop, Beast, net/http (13-byte body only).
    *server_rows("http_server/hello/1", "1 core, GET /hello (13 B)",
                 ("14,086", "22,477", "57,375", "35,996"), ("7,490", "4,460", "1,390", "4,190")),
    *server_rows("http_server/json/1", "1 core, GET /json (1 KB prebuilt)"),
    # Two loops (SO_REUSEPORT) vs nginx with 2 workers, neither pinned; wrk still on CPU 1.
    *server_rows("http_server/hello/2", "2 threads, GET /hello (13 B)", goals=False),
    *server_rows("http_server/json/2", "2 threads, GET /json (1 KB prebuilt)", goals=False),
    # Client and server share the 2 CPUs; pgbench -M prepared -j 1, asyncpg on Debian's python3.
    *pg_rows("pg/select/1", "1 connection, select by key", True),
    *pg_rows("pg/select/16", "16 connections, select by key", True),
    *pg_rows("pg/pipeline/1", "1 connection, pipelines of 10 selects", False),
    *pg_rows("pg/pipeline/16", "16 connections, pipelines of 10 selects", False),
]


def short_name(run_name):
    """'sleeping_task_memory/100000/iterations:1/real_time' -> 'sleeping_task_memory/100000'."""
    parts = run_name.split("/")
    return "/".join(p for p in parts if ":" not in p and p not in ("real_time", "manual_time"))


def load(paths):
    """Maps short benchmark name -> {counter: value} (median over repetitions)."""
    medians, runs = {}, {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for bench in data.get("benchmarks", []):
            if bench.get("error_occurred"):
                continue
            name = short_name(bench.get("run_name", bench["name"]))
            if bench.get("run_type") == "aggregate":
                if bench.get("aggregate_name") == "median":
                    medians[name] = bench
            else:
                runs.setdefault(name, []).append(bench)
    results = dict(medians)
    for name, entries in runs.items():
        if name not in results:
            keys = set.intersection(*(set(e) for e in entries))
            results[name] = {k: statistics.median(e[k] for e in entries)
                             for k in keys if isinstance(entries[0][k], (int, float))}
    return results


def counter_of(results, name, counter):
    return float(results[name][counter])  # KeyError: the benchmark did not run


def fmt(x):
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def main(paths):
    results = load(paths)
    lines = ["| benchmark | corio | goal | " + " | ".join(PEERS) + " |",
             "|---|---|---|" + "---|" * len(PEERS)]
    for workload, figure, goal, peers in ROWS:
        try:
            x = figure(results)
        except KeyError:
            continue
        if goal is None:
            goal_cell = ""
        elif isinstance(goal, AtLeast):
            goal_cell = f"≥ {goal:g} ({'met' if x >= goal else '**missed**'})"
        else:
            goal_cell = f"≤ {goal} ({'met' if x <= goal else '**missed**'})"
        peer_cells = peers if peers is not None else ("",) * len(PEERS)
        lines.append(f"| {workload} | {fmt(x)} | {goal_cell} | " + " | ".join(peer_cells) + " |")
    if len(lines) == 2:
        print("bench_table: no known benchmark in the results", file=sys.stderr)
        return 0
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
