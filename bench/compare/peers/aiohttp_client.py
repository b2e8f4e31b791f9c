#!/usr/bin/python3
"""bench/compare/peers/aiohttp_client.py — aiohttp's ClientSession as a load generator beside
corio's client: `connections` tasks share one session (TCPConnector(limit=connections),
keep-alive), each doing sequential GETs and reading the whole body, for `seconds` after a
warm-up that is not counted. With --uvloop the loop is uvloop's.

    /usr/bin/python3 aiohttp_client.py --url URL [--connections 64] [--seconds 5] [--warmup 1] [--uvloop]

Prints one JSON line as compare_corio_client does: requests, seconds, cpu_seconds (this process,
user + kernel, over the measured part), p50_ms, p99_ms, errors.
"""
import argparse
import asyncio
import json
import resource
import sys
import time

import aiohttp

EXPECTED = b"Hello, World!"


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def phase(session, url, tasks, deadline, latencies):
    errors = 0

    async def loop():
        nonlocal errors
        while time.monotonic() < deadline:
            start = time.monotonic()
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200 or body != EXPECTED:
                    errors += 1
            if latencies is not None:
                latencies.append(time.monotonic() - start)

    await asyncio.gather(*(loop() for _ in range(tasks)))
    return errors


async def run(args):
    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await phase(session, args.url, args.connections, time.monotonic() + args.warmup, None)
        latencies = []
        start = time.monotonic()
        cpu_start = cpu_seconds()
        errors = await phase(session, args.url, args.connections, start + args.seconds, latencies)
        wall = time.monotonic() - start
        cpu = cpu_seconds() - cpu_start
    latencies.sort()

    def q(p):
        return latencies[int(p * (len(latencies) - 1) + 0.5)] * 1e3 if latencies else 0

    print(json.dumps({"requests": len(latencies), "seconds": wall, "cpu_seconds": cpu,
                      "p50_ms": q(0.50), "p99_ms": q(0.99), "errors": errors}), flush=True)
    return 1 if errors else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        sys.exit(asyncio.run(run(args)))
    except aiohttp.ClientError as e:
        print(f"aiohttp client: {e!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
