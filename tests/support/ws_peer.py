"""An independent WebSocket peer for corio's tests: Debian's python3-websockets.

  ws_peer.py client BASE   runs the client scenarios against a corio server at ws://BASE and
                           prints one "name=value" line per check
  ws_peer.py server        serves the scenarios below on 127.0.0.1, prints its port, and stops
                           after a connection to /quit (or 60 s)
"""
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


async def client(base):
    out = []
    try:
        await client_checks(base, out)
    finally:
        print("\n".join(out), flush=True)  # what passed, also when a check fails


async def client_checks(base, out):
    async with websockets.connect(base + "/echo", max_size=None) as ws:  # permessage-deflate offered
        await ws.send("hello")
        out.append("text=" + await ws.recv())
        await ws.send(b"\x00\x01\xff")
        out.append("binary=" + (await ws.recv()).hex())
        await ws.send(["frag-", "ment-", "ed"])  # one message in three frames
        out.append("fragmented=" + await ws.recv())
        big = "y" * 300000
        await ws.send(big)
        out.append("big=" + str(await ws.recv() == big))
        out.append("extensions=" + ",".join(e.name for e in ws.extensions))
        pong = await ws.ping(b"abc")
        await asyncio.wait_for(pong, 5)
        out.append("pong=ok")
    out.append("echo_close=" + str(ws.close_code))
    async with websockets.connect(base + "/echo", compression=None) as ws:
        await ws.send("plain")
        out.append("uncompressed=" + await ws.recv())
    # Both compressors reset after each message, and the server's window is 1 KiB.
    resetting = ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                               server_max_window_bits=10)
    async with websockets.connect(base + "/echo", extensions=[resetting]) as ws:
        replies = []
        for text in ("abc" * 500, "abc" * 600):
            await ws.send(text)
            replies.append(await ws.recv() == text)
        out.append(f"no_context_takeover={all(replies)} {ws.extensions[0].remote_no_context_takeover}")
    async with websockets.connect(base + "/closer") as ws:
        await ws.send("x")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            out.append(f"closer={e.rcvd.code} {e.rcvd.reason}")
    async with websockets.connect(base + "/small") as ws:
        await ws.send("z" * 2000)
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            out.append(f"oversize={e.rcvd.code if e.rcvd else None}")
    ws = await websockets.connect(base + "/abrupt")
    await ws.send("before")
    await asyncio.sleep(0.1)
    ws.transport.abort()  # no close frame


async def serve():
    stop = asyncio.get_running_loop().create_future()

    async def handler(ws, path):
        if path == "/quit":
            stop.set_result(None)
        elif path == "/echo":
            async for message in ws:
                await ws.send(message)
        elif path == "/fragments":
            await ws.send(["frag-", "ment-", "ed"])
            await ws.wait_closed()
        elif path == "/close":
            await ws.close(4000, "done")
        elif path == "/big":
            await ws.send("x" * 2_000_000)
            await ws.wait_closed()

    # Pings every 0.2 s, the connection dropped if a pong takes over 0.5 s: corio must answer
    # them while nobody receives.
    async with websockets.serve(handler, "127.0.0.1", 0, ping_interval=0.2, ping_timeout=0.5, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.wait_for(stop, 60)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2]))
    else:
        asyncio.run(serve())
