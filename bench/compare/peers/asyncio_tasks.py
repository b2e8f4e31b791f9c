#!/usr/bin/python3
"""bench/compare/peers/asyncio_tasks.py — asyncio's tasks (or uvloop's, with --uvloop) measured
as compare_corio_tasks measures corio's, one measurement per process:

    --test spawn_await [--n N]  create_task 1000 trivial coroutines, await each task, until N
                                have run (after a warm-up of N/10)                -> ns per task
    --test spawn_alive [--n N]  the same with all N alive at once (fresh memory)
    --test await                `await child()`, a coroutine that returns at once -> ns per await
    --test wait_for             `await asyncio.wait_for(child(), 10)` minus the plain await
    --test memory [--n N]       N tasks in asyncio.sleep(3600): growth of resident memory / N
                                                                                  -> bytes per task
--min-seconds S (default 0.3): the await tests repeat until S of CPU time has passed. N defaults
to 1,000,000 (100,000 for memory); the run script passes smaller counts to keep Python's runs
short. Times are the process's CPU time. Prints one JSON line: test, value, unit, n.
"""
import argparse
import asyncio
import json
import os
import time


async def trivial():
    return None


async def ready_value(v):
    return v


async def sleep_an_hour():
    await asyncio.sleep(3600)


async def spawn_then_await(total, batch):
    for _ in range(0, total, batch):
        tasks = [asyncio.create_task(trivial()) for _ in range(batch)]
        for t in tasks:
            await t


async def spawn_await(n):
    await spawn_then_await(max(n // 10, 1000), 1000)  # warm-up
    start = time.process_time()
    await spawn_then_await(n, 1000)
    return (time.process_time() - start) / n * 1e9


async def spawn_alive(n):
    start = time.process_time()
    await spawn_then_await(n, n)
    return (time.process_time() - start) / n * 1e9


async def per_await(op, min_seconds):
    v = 0
    for _ in range(1000):  # warm-up
        v = await op(v)
    done = 0
    start = time.process_time()
    elapsed = 0.0
    while elapsed < min_seconds:
        for _ in range(1000):
            v = await op(v)
        done += 1000
        elapsed = time.process_time() - start
    return elapsed / done * 1e9




async def wait_for_added(min_seconds):
    a = b = 0.0
    for _ in range(2):
        a += await per_await(lambda v: ready_value(v + 1), min_seconds / 2)
        b += await per_await(lambda v: asyncio.wait_for(ready_value(v + 1), 10), min_seconds / 2)
    return (b - a) / 2


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


async def memory_per_sleeper(n):
    tasks = [None] * (n + 1)
    tasks[0] = asyncio.create_task(sleep_an_hour())  # the timer heap gets its storage
    await asyncio.sleep(0)
    before = resident_bytes()
    for i in range(1, n + 1):
        tasks[i] = asyncio.create_task(sleep_an_hour())
    await asyncio.sleep(0)  # every task reaches its sleep
    after = resident_bytes()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return (after - before) / n


async def measure(test, n, min_seconds):
    if test == "spawn_await":
        return await spawn_await(n or 1_000_000)
    if test == "spawn_alive":
        return await spawn_alive(n or 1_000_000)
    if test == "await":
        return await per_await(lambda v: ready_value(v + 1), min_seconds)
    if test == "wait_for":
        return await wait_for_added(min_seconds)
    if test == "memory":
        return await memory_per_sleeper(n or 100_000)
    raise SystemExit(f"unknown test {test}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--min-seconds", type=float, default=0.3)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    value = asyncio.run(measure(args.test, args.n, args.min_seconds))
    print(json.dumps({"test": args.test, "value": value,
                      "unit": "bytes" if args.test == "memory" else "ns", "n": args.n}), flush=True)


if __name__ == "__main__":
    main()
