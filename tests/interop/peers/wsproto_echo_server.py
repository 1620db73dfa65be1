"""`wsproto` echo server (sans-I/O wsproto + a plain blocking socket) on 127.0.0.1, port 0.

Prints "PORT <n>" once listening, then for the (single) connection:
  "SUBPROTOCOL <name or ->"          after the handshake (an offer of "chat.v1" is accepted),
  "EXTENSIONS <negotiated or ->"      (an offer of permessage-deflate is accepted),
  "PONG <payload>"                    when the client answered the server's ping "srv-ping",
  "CLOSED <code> <count> <bytes> <reason>"  when the close handshake is done (code/reason
                                      received from the client).
Echoes every complete message with its type; a text "close:<code>:<reason>" makes the
server start the close handshake instead. Exits after one connection, when stdin closes,
or after 60 s; every socket operation has a timeout.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as common  # noqa: E402

try:
    from wsproto import ConnectionType, WSConnection
    from wsproto.connection import ConnectionState
    from wsproto.extensions import PerMessageDeflate
    from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping,
                                Pong, Request, TextMessage)
except ImportError as e:
    print("ERROR cannot import wsproto (%s): apt-get install python3-wsproto" % e, flush=True)
    sys.exit(3)


def serve(conn):
    ws = WSConnection(ConnectionType.SERVER)
    parts = []
    count = 0
    size = 0
    closed = None
    while closed is None:
        data = conn.recv(1 << 20)
        ws.receive_data(data or None)
        out = b""
        for event in ws.events():
            if isinstance(event, Request):
                sub = "chat.v1" if "chat.v1" in event.subprotocols else None
                deflate = PerMessageDeflate()  # used if the client offers it
                out += ws.send(AcceptConnection(subprotocol=sub, extensions=[deflate]))
                out += ws.send(Ping(payload=b"srv-ping"))
                print("SUBPROTOCOL %s" % (sub or "-"), flush=True)
                print("EXTENSIONS %s" % (repr(deflate) if deflate.enabled() else "-"), flush=True)
            elif isinstance(event, (TextMessage, BytesMessage)):
                parts.append(event.data)
                if event.message_finished:
                    msg = "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)
                    parts = []
                    if isinstance(msg, str) and msg.startswith("close:"):
                        _, code, reason = msg.split(":", 2)
                        out += ws.send(CloseConnection(code=int(code), reason=reason))
                    elif ws.state == ConnectionState.OPEN:
                        count += 1
                        size += len(msg.encode("utf-8") if isinstance(msg, str) else msg)
                        out += ws.send(Message(data=msg))
            elif isinstance(event, Ping):
                out += ws.send(event.response())
            elif isinstance(event, Pong):
                print("PONG %s" % bytes(event.payload).decode("ascii", "replace"), flush=True)
            elif isinstance(event, CloseConnection):
                if ws.state == ConnectionState.REMOTE_CLOSING:
                    out += ws.send(event.response())
                elif ws.state == ConnectionState.OPEN:
                    # wsproto found a violation in what it received (ParseFailed): fail the
                    # connection with its code and say so.
                    print("ERROR wsproto failed the connection: %d %s" % (event.code, event.reason), flush=True)
                    out += ws.send(CloseConnection(code=event.code, reason=event.reason))
                closed = event
        if out:
            conn.sendall(out)
        if not data and closed is None:
            common.fail("the client closed TCP without a close handshake")
    print("CLOSED %d %d %d %s" % (closed.code, count, size, closed.reason or ""), flush=True)
    # The server closes the TCP connection first (RFC 6455 7.1.1).
    conn.shutdown(socket.SHUT_WR)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(30)
    print("PORT %d" % listener.getsockname()[1], flush=True)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        common.fail("no client within 30 s")
    conn.settimeout(20)
    serve(conn)


if __name__ == "__main__":
    common.arm_watchdog(exit_on_stdin_eof=True)
    common.run_main(main)
