#!/usr/bin/python3
"""Self-test of wskit-loadgen against servers nobody here wrote (Python websockets) that
misbehave on purpose: the load generator must pass on correct echoes (also fragmented, with
pings in between) and fail loudly (exit status 2) on every kind of wrong echo.

    /usr/bin/python3 bench/loadgen_selftest.py [build/bench/wskit-loadgen]

Needs python3-websockets (Debian). Takes a few seconds.
"""

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time

import websockets

LOADGEN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build", "bench",
                                                               "wskit-loadgen")


def flip(data):
    if isinstance(data, str):
        return data[:-1] + ("x" if data[-1] != "x" else "y")
    return data[:-1] + bytes([data[-1] ^ 1])


# Each behaviour: an async handler(ws, message) that answers one message.
async def good(ws, m):
    await ws.send(m)


async def fragmented(ws, m):
    n = max(1, len(m) // 3)
    await ws.send([m[i:i + n] for i in range(0, len(m), n)])


async def with_ping(ws, m):
    await ws.ping(os.urandom(8))  # unique: websockets refuses two pings with the same data
    await ws.send(m)


async def corrupt(ws, m):
    await ws.send(flip(m))


async def wrong_type(ws, m):
    await ws.send(m.encode() if isinstance(m, str) else m.decode("latin-1"))


async def truncated(ws, m):
    await ws.send(m[:-1])


async def longer(ws, m):
    await ws.send(m + m[:1])


async def duplicated(ws, m):
    await ws.send(m)
    await ws.send(m)


state = {"count": 0}


async def close_early(ws, m):
    state["count"] += 1
    if state["count"] > 50:
        await ws.close(1001, "going away")
        return
    await ws.send(m)


BEHAVIOURS = {f.__name__: f for f in (good, fragmented, with_ping, corrupt, wrong_type, truncated, longer,
                                      duplicated, close_early)}


def serve(behaviour, ready):
    async def handler(ws, *_):
        try:
            async for m in ws:
                await BEHAVIOURS[behaviour](ws, m)
        except websockets.ConnectionClosed:
            pass

    async def main():
        async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
            ready.append(server.sockets[0].getsockname()[1])
            await asyncio.sleep(3600)

    asyncio.run(main())


class RawServer:
    """A raw TCP echo that corrupts one byte of the stream when asked to."""

    def __init__(self, corrupt_at):
        self.corrupt_at = corrupt_at

    def start(self, ready):
        async def handle(reader, writer):
            seen = 0
            while True:
                try:
                    data = await reader.read(65536)
                except ConnectionResetError:  # the load generator gave up after a wrong echo
                    break
                if not data:
                    break
                if seen <= self.corrupt_at < seen + len(data):
                    i = self.corrupt_at - seen
                    data = data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]
                seen += len(data)
                writer.write(data)
                await writer.drain()
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            ready.append(server.sockets[0].getsockname()[1])
            await asyncio.sleep(3600)

        asyncio.run(main())


def run_case(name, target, args, expect_ok):
    ready = []
    threading.Thread(target=target, args=(ready,), daemon=True).start()
    while not ready:
        time.sleep(0.01)
    cmd = [LOADGEN, "--port", str(ready[0]), "--timeout", "5"] + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    ok = r.returncode == 0
    verdict = "ok" if ok == expect_ok else "WRONG"
    detail = r.stdout.strip().splitlines()[-1][:90] if ok else r.stderr.strip().splitlines()[-1][:140]
    print(f"{verdict:5s} {name:34s} exit {r.returncode}: {detail}")
    return ok == expect_ok


def main():
    logging.basicConfig(level=logging.CRITICAL)  # the misbehaving servers' own complaints
    if not os.access(LOADGEN, os.X_OK):
        sys.exit(f"no load generator at {LOADGEN}")
    echo = ["--mode", "echo", "--conns", "4", "--inflight", "4", "--messages", "400"]
    cases = []
    for size in ("5", "200", "70000"):
        for kind in ("--text", "--binary"):
            for b in ("good", "fragmented", "with_ping"):
                cases.append((f"{b} {kind[2:]} {size} B", b, echo + ["--size", size, kind], True))
    for b in ("corrupt", "wrong_type", "truncated", "longer", "duplicated", "close_early"):
        for kind in ("--text", "--binary"):
            cases.append((f"{b} {kind[2:]} 200 B", b, echo + ["--size", "200", kind], False))
    cases.append(("good connrate", "good", ["--mode", "connrate", "--total", "200", "--concurrency", "20"], True))
    cases.append(("close_early connrate", "close_early", ["--mode", "connrate", "--total", "200",
                                                          "--concurrency", "20"], False))
    cases.append(("good idle", "good", ["--mode", "idle", "--conns", "50", "--hold", "0.2"], True))
    all_ok = True
    for name, b, args, expect in cases:
        state["count"] = 0
        all_ok &= run_case(name, lambda ready, b=b: serve(b, ready), args, expect)
    raw = ["--raw", "--mode", "echo", "--conns", "2", "--inflight", "3", "--messages", "300", "--size", "1000"]
    all_ok &= run_case("raw good", RawServer(-1).start, raw, True)
    all_ok &= run_case("raw corrupt byte 12345", RawServer(12345).start, raw, False)
    all_ok &= run_case("raw corrupt stamp byte 3", RawServer(3).start, raw, False)
    print("all cases behaved as expected" if all_ok else "SOME CASES DID NOT BEHAVE AS EXPECTED")
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
