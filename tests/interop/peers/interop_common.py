"""Shared by the interop peers: the messages every pairing exchanges, and the watchdogs.

The C++ side (tst_interop.cpp, interopMessages()) builds the same list; keep both in sync.
"""
import os
import signal
import sys
import threading

HARD_TIMEOUT_S = 60          # no peer process lives longer than this
MAX_SIZE = 16 * 1024 * 1024  # message size limit given to every peer


def pattern(size, seed):
    """size bytes: byte i = ((i & 0xFF) + (i >> 8) * 7 + (i >> 16) * 13 + seed) & 0xFF."""
    base = bytes(range(256)) * 2
    out = bytearray()
    for k in range((size + 255) // 256):
        s = (k * 7 + (k >> 8) * 13 + seed) & 0xFF
        out += base[s:s + 256]
    del out[size:]
    return bytes(out)


LONG_TEXT = "ünïcødé ☃ 😀 " * 20000


class Fragmented:
    """A message sent as several frames (continuation frames); its echo is the whole message."""

    def __init__(self, parts):
        self.parts = parts
        self.joined = "".join(parts) if isinstance(parts[0], str) else b"".join(parts)


_FRAG_BINARY = pattern(100000, 7)


def messages():
    """In the order they are sent: str for text, bytes for binary, or Fragmented (of either)."""
    return [
        "hello",
        "héllo wörld ☃ 😀",
        "",
        b"",
        pattern(125, 1),
        pattern(1024, 2),
        "nul\x00inside",
        Fragmented(["frag", "mented ☃", " text 😀", ""]),
        Fragmented([_FRAG_BINARY[:1], b"", _FRAG_BINARY[1:65537], _FRAG_BINARY[65537:]]),
        pattern(65535, 3),
        pattern(65536, 4),
        LONG_TEXT,
        pattern(1024 * 1024, 5),
        pattern(8 * 1024 * 1024, 6),
    ]


def whole(msg):
    """The message as received: a Fragmented one joined."""
    return msg.joined if isinstance(msg, Fragmented) else msg


def describe(msg):
    if isinstance(msg, Fragmented):
        return "fragmented %s in %d frames" % (describe(msg.joined), len(msg.parts))
    kind = "text" if isinstance(msg, str) else "binary"
    return "%s(%d)" % (kind, len(msg.encode("utf-8") if isinstance(msg, str) else msg))


def check_echo(index, sent, got):
    """None if got is an exact echo of sent (same type, same bytes), else an error text."""
    what = describe(sent)
    sent = whole(sent)
    if type(got) is not type(sent) and not (isinstance(sent, bytes) and isinstance(got, (bytes, bytearray))):
        return "message %d: sent %s, got a %s" % (index, what, type(got).__name__)
    if got != sent:
        a = sent.encode("utf-8") if isinstance(sent, str) else bytes(sent)
        b = got.encode("utf-8") if isinstance(got, str) else bytes(got)
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        return "message %d: sent %s, echo differs (echo %d bytes, first difference at byte %d)" % (
            index, what, len(b), first)
    return None


def arm_watchdog(exit_on_stdin_eof=False):
    """Kill this process after HARD_TIMEOUT_S; servers also exit when stdin closes (test gone)."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel ends us, whatever Python is doing
    signal.alarm(HARD_TIMEOUT_S)
    if exit_on_stdin_eof:
        def watch():
            try:
                while os.read(0, 4096):  # raw fd: no buffered-reader lock at shutdown
                    pass
            except Exception:
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()


class PeerError(Exception):
    """A mismatch or a protocol failure: main() prints "ERROR <text>" and exits 1."""


def fail(text):
    raise PeerError(text)


def run_main(main):
    """Runs main(); prints "ERROR ..." and exits 1 on any exception, "OK" lines are main's."""
    try:
        main()
    except PeerError as e:
        print("ERROR %s" % e, flush=True)
        sys.exit(1)
    except SystemExit:
        raise
    except BaseException as e:
        print("ERROR %s: %s" % (type(e).__name__, e), flush=True)
        sys.exit(1)
