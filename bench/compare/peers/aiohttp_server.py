#!/usr/bin/python3
"""bench/compare/peers/aiohttp_server.py — the aiohttp peer of corio's server.

GET / answers the 13-byte "Hello, World!" (text/plain), keep-alive (aiohttp's default), access
log off. With --uvloop the loop is uvloop's. With --workers N > 1, N processes share the port
(SO_REUSEPORT), as nginx's workers do: Python runs one loop per process. Runs until SIGTERM.

    /usr/bin/python3 aiohttp_server.py --port P [--workers N] [--uvloop]

Debian's python3-aiohttp (and python3-uvloop): run with /usr/bin/python3.
"""
import argparse
import asyncio
import ctypes
import os
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


def serve(port, use_uvloop):
    if use_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, reuse_port=True)


def die_with_parent():
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    print(f"aiohttp server: port {args.port}, {args.workers} process(es), "
          f"loop {'uvloop' if args.uvloop else 'asyncio'}", file=sys.stderr)
    children = []
    for _ in range(args.workers - 1):
        pid = os.fork()
        if pid == 0:
            die_with_parent()
            serve(args.port, args.uvloop)
            os._exit(0)
        children.append(pid)
    try:
        serve(args.port, args.uvloop)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass


if __name__ == "__main__":
    main()
