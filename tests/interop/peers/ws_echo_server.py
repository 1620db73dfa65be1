"""Python `websockets` echo server on 127.0.0.1, port chosen by the OS.

Prints "PORT <n>" once listening, then for the (single) connection:
  "SUBPROTOCOL <name or ->"          after the handshake (offers of "chat.v1" are accepted),
  "EXTENSIONS <negotiated or ->"      (permessage-deflate, websockets' default, if offered),
  "PONG <payload>"                    when the client answered the server's ping "srv-ping",
  "CLOSED <code> <count> <bytes> <reason>"  when the connection ended (code/reason received).
Echoes every message with its type; a text "close:<code>:<reason>" makes the server close
instead. Exits after one connection, when stdin closes, or after 60 s.
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as common  # noqa: E402

try:
    import websockets
except ImportError as e:
    print("ERROR cannot import websockets (%s): apt-get install python3-websockets" % e, flush=True)
    sys.exit(3)


async def handler(ws, done):
    try:
        await serve(ws)
    except Exception as e:
        print("ERROR handler: %s: %s" % (type(e).__name__, e), flush=True)
    finally:
        if not done.done():
            done.set_result(None)


async def serve(ws):
    print("SUBPROTOCOL %s" % (ws.subprotocol or "-"), flush=True)
    print("EXTENSIONS %s" % ws.response_headers.get("Sec-WebSocket-Extensions", "-"), flush=True)
    count = 0
    size = 0

    async def ping():
        try:
            waiter = await ws.ping(b"srv-ping")
            await asyncio.wait_for(waiter, 10)
            print("PONG srv-ping", flush=True)
        except Exception as e:  # reported; the test requires the PONG line
            print("ERROR no pong: %r" % e, flush=True)

    pinger = asyncio.ensure_future(ping())
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("close:"):
                _, code, reason = msg.split(":", 2)
                await ws.close(int(code), reason)
                break
            count += 1
            size += len(msg.encode("utf-8") if isinstance(msg, str) else msg)
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    await asyncio.wait_for(ws.wait_closed(), 10)
    pinger.cancel()
    if ws.close_rcvd is None and ws.close_sent is not None:
        # websockets failed the connection (e.g. a protocol error in what it received).
        print("ERROR websockets failed the connection: sent %d %s" % (ws.close_sent.code, ws.close_sent.reason),
              flush=True)
    print("CLOSED %s %d %d %s" % (ws.close_code, count, size, ws.close_reason), flush=True)


async def main():
    done = asyncio.get_running_loop().create_future()
    async with websockets.serve(lambda ws: handler(ws, done), "127.0.0.1", 0,
                                subprotocols=["chat.v1"], max_size=common.MAX_SIZE,
                                ping_interval=None, close_timeout=5) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await done
        await asyncio.sleep(0.2)  # let the server close the TCP connection


if __name__ == "__main__":
    common.arm_watchdog(exit_on_stdin_eof=True)
    common.run_main(lambda: asyncio.run(asyncio.wait_for(main(), common.HARD_TIMEOUT_S - 5)))
