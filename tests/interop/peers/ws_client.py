"""Python `websockets` client: ws_client.py URL MODE [SUBPROTOCOL]

MODE client-closes: exchange the messages of interop_common (each echo checked byte by
  byte), ping and wait for the pong, close with 1000 "bye" and expect the server's 1000.
MODE server-closes: the same exchange, then wait for the server to close with 4000 "done".
MODE reject403: the handshake must fail with HTTP 403.
Offers permessage-deflate (websockets' default). With SUBPROTOCOL, offer it and require the server to select it. Prints "OK ..." and exits
0, or prints "ERROR ..." and exits non-zero. Everything is bounded (60 s in all).
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as common  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError as e:
    print("ERROR cannot import websockets (%s): apt-get install python3-websockets" % e, flush=True)
    sys.exit(3)

STEP_TIMEOUT = 15


def rejected_status(exc):
    """The HTTP status of a failed handshake exception, for websockets 10 to 14+."""
    if hasattr(exc, "status_code"):                      # InvalidStatusCode (<= 13)
        return exc.status_code
    response = getattr(exc, "response", None)            # InvalidStatus (>= 14)
    return getattr(response, "status_code", None)


async def run(url, mode, subprotocol):
    kwargs = dict(max_size=common.MAX_SIZE, ping_interval=None, open_timeout=10, close_timeout=5)
    if subprotocol:
        kwargs["subprotocols"] = [subprotocol]
    if mode == "reject403":
        try:
            ws = await websockets.connect(url, **kwargs)
        except (getattr(websockets.exceptions, "InvalidStatusCode", ()),
                getattr(websockets.exceptions, "InvalidStatus", ())) as e:
            status = rejected_status(e)
            if status != 403:
                common.fail("rejected with %r, expected 403" % status)
            print("OK rejected with %d (%s)" % (status, type(e).__name__), flush=True)
            return
        await ws.close()
        common.fail("the handshake succeeded, expected 403")

    ws = await websockets.connect(url, **kwargs)
    if subprotocol and ws.subprotocol != subprotocol:
        common.fail("subprotocol %r, expected %r" % (ws.subprotocol, subprotocol))
    if not subprotocol and ws.subprotocol is not None:
        common.fail("subprotocol %r although none was offered" % ws.subprotocol)

    waiter = await ws.ping(b"py-ping")
    await asyncio.wait_for(waiter, STEP_TIMEOUT)

    msgs = common.messages()
    for i, msg in enumerate(msgs):
        # websockets sends an iterable as one message in several frames.
        await ws.send(msg.parts if isinstance(msg, common.Fragmented) else msg)
        got = await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)
        err = common.check_echo(i, msg, got)
        if err:
            common.fail(err)

    if mode == "client-closes":
        await asyncio.wait_for(ws.close(1000, "bye"), STEP_TIMEOUT)
        if ws.close_code != 1000:
            common.fail("after closing with 1000: the server answered %r %r" % (ws.close_code, ws.close_reason))
    elif mode == "server-closes":
        try:
            extra = await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)
            common.fail("expected the server's close, got a message %r" % (extra[:40],))
        except websockets.exceptions.ConnectionClosed as e:
            # websockets calls every code but 1000/1001 ConnectionClosedError: what matters is
            # that the server's close came first and ours answered it.
            if e.rcvd is None or e.sent is None or not e.rcvd_then_sent:
                common.fail("the server's close handshake did not complete: %r" % e)
        await asyncio.wait_for(ws.wait_closed(), STEP_TIMEOUT)
        if ws.close_code != 4000 or ws.close_reason != "done":
            common.fail("server closed with %r %r, expected 4000 'done'" % (ws.close_code, ws.close_reason))
    else:
        common.fail("unknown mode " + mode)
    print("OK websockets %s: %d messages echoed, ping answered, subprotocol %s, closed %d %r, extensions %s" % (
        websockets.__version__, len(msgs), ws.subprotocol, ws.close_code, ws.close_reason,
        ws.response_headers.get("Sec-WebSocket-Extensions", "none")), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print("ERROR usage: ws_client.py URL MODE [SUBPROTOCOL]", flush=True)
        sys.exit(2)
    common.arm_watchdog()
    args = (sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    common.run_main(lambda: asyncio.run(asyncio.wait_for(run(*args), common.HARD_TIMEOUT_S - 5)))
