"""`wsproto` client (sans-I/O wsproto + a plain blocking socket): wsproto_client.py URL MODE [SUBPROTOCOL]

Offers permessage-deflate (used if the server accepts it).
MODE client-closes: exchange the messages of interop_common (each echo checked byte by
  byte), ping "wsproto-ping" and require its pong, answer the server's pings, close with
  1000 "bye", require the server's close reply and then its TCP close.
MODE server-closes: the same exchange, then wait for the server's close 4000 "done", answer
  it, require the TCP close.
MODE reject403: the handshake must be rejected with HTTP 403.
Prints "OK ..." and exits 0, or "ERROR ..." and exits non-zero. Every socket operation has
a timeout and the process ends within 60 s.
"""
import os
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as common  # noqa: E402

try:
    import wsproto
    from wsproto import ConnectionType, WSConnection
    from wsproto.connection import ConnectionState
    from wsproto.extensions import PerMessageDeflate
    from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping,
                                Pong, RejectConnection, RejectData, Request, TextMessage)
except ImportError as e:
    print("ERROR cannot import wsproto (%s): apt-get install python3-wsproto" % e, flush=True)
    sys.exit(3)


class Client:
    def __init__(self, url, subprotocol):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=15)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending = []          # events not consumed yet
        self.parts = []
        self.pings_answered = 0
        self.eof = False
        target = (u.path or "/") + ("?" + u.query if u.query else "")
        self.send(Request(host="%s:%d" % (u.hostname, u.port), target=target,
                          subprotocols=[subprotocol] if subprotocol else [],
                          extensions=[PerMessageDeflate()]))

    def send(self, event):
        self.sock.sendall(self.ws.send(event))

    def next_event(self):
        """The next event that matters: whole messages, pongs, close, handshake answers.
        Pings are answered here; message pieces are joined."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, Ping):
                    if self.ws.state == ConnectionState.OPEN:
                        self.send(event.response())
                        self.pings_answered += 1
                    continue
                if isinstance(event, (TextMessage, BytesMessage)):
                    self.parts.append(event.data)
                    if not event.message_finished:
                        continue
                    data = "".join(self.parts) if isinstance(event, TextMessage) else b"".join(self.parts)
                    self.parts = []
                    return Message(data=data)
                if isinstance(event, CloseConnection) and self.ws.state == ConnectionState.OPEN:
                    # wsproto found a violation in what it received (ParseFailed).
                    self.send(CloseConnection(code=event.code, reason=event.reason))
                    common.fail("wsproto failed the connection: %d %s" % (event.code, event.reason))
                return event
            if self.eof:
                return None
            data = self.sock.recv(1 << 20)
            if not data:
                self.eof = True
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())

    def expect_eof(self):
        while not self.eof:
            if self.sock.recv(65536) == b"":
                self.eof = True


def run(url, mode, subprotocol):
    c = Client(url, subprotocol)
    event = c.next_event()
    if mode == "reject403":
        if not isinstance(event, RejectConnection):
            common.fail("expected a rejection, got %r" % (event,))
        if event.status_code != 403:
            common.fail("rejected with %d, expected 403" % event.status_code)
        print("OK wsproto %s: rejected with %d" % (wsproto.__version__, event.status_code), flush=True)
        return
    if not isinstance(event, AcceptConnection):
        common.fail("expected the handshake to succeed, got %r" % (event,))
    if (event.subprotocol or None) != (subprotocol or None):
        common.fail("subprotocol %r, expected %r" % (event.subprotocol, subprotocol))
    extensions = ", ".join(repr(e) for e in event.extensions) or "none"

    c.send(Ping(payload=b"wsproto-ping"))
    event = c.next_event()
    if not isinstance(event, Pong) or bytes(event.payload) != b"wsproto-ping":
        common.fail("expected the pong of 'wsproto-ping', got %r" % (event,))

    msgs = common.messages()
    for i, msg in enumerate(msgs):
        if isinstance(msg, common.Fragmented):
            for k, part in enumerate(msg.parts):
                c.send(Message(data=part, message_finished=k == len(msg.parts) - 1))
        else:
            c.send(Message(data=msg))
        event = c.next_event()
        if not isinstance(event, Message):
            common.fail("message %d: expected its echo, got %r" % (i, event))
        err = common.check_echo(i, msg, event.data)
        if err:
            common.fail(err)

    if mode == "client-closes":
        c.send(CloseConnection(code=1000, reason="bye"))
        event = c.next_event()
        if not isinstance(event, CloseConnection):
            common.fail("expected the server's close reply, got %r" % (event,))
        if event.code != 1000:
            common.fail("the server answered our 1000 with %d %r" % (event.code, event.reason))
    elif mode == "server-closes":
        event = c.next_event()
        if not isinstance(event, CloseConnection):
            common.fail("expected the server's close, got %r" % (event,))
        if event.code != 4000 or event.reason != "done":
            common.fail("server closed with %d %r, expected 4000 'done'" % (event.code, event.reason))
        c.send(event.response())
    else:
        common.fail("unknown mode " + mode)
    if c.ws.state != ConnectionState.CLOSED:
        common.fail("wsproto state %s after the close handshake" % c.ws.state)
    c.expect_eof()  # the server closes TCP first
    print("OK wsproto %s: %d messages echoed, pong received, %d server ping(s) answered, closed %d %r, "
          "extensions %s" % (wsproto.__version__, len(msgs), c.pings_answered, event.code, event.reason, extensions),
          flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print("ERROR usage: wsproto_client.py URL MODE [SUBPROTOCOL]", flush=True)
        sys.exit(2)
    common.arm_watchdog()
    common.run_main(lambda: run(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
