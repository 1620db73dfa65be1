#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets to tests/fuzz/corpus/<target>/.

Each seed starts with the parameter bytes its target reads first (see the comment at the top
of each fuzz_*.cpp), then the bytes the target feeds to the connection. Run it again after
changing a target's input layout; the fuzzers find the rest themselves.
"""
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MASK = bytes.fromhex("37fa213d")  # RFC 6455 §5.7
WHOLE = bytes([0xFF] * 4)         # chunk sizes: 256 bytes at a time
SMALL = bytes([0, 2, 6, 12])      # chunk sizes 1, 3, 7, 13: splits headers and code points


def frame(opcode, payload=b"", fin=True, rsv1=False, mask=MASK):
    """One frame; masked (as a client sends it) unless mask is None."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    m = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def deflate(data, wbits=15):
    """RFC 7692 §7.2.1: raw deflate, sync flush, the 00 00 ff ff tail removed."""
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


# RFC 7692 §7.2.3 examples (payloads without the frame header).
HELLO = bytes.fromhex("f248cdc9c90700")            # "Hello"
HELLO_AGAIN = bytes.fromhex("f200110000")          # "Hello" again, sharing the window
HELLO_STORED = bytes.fromhex("0005 00faff 48656c6c6f 00".replace(" ", ""))
HELLO_BFINAL = bytes.fromhex("f348cdc9c9070000")

CLOSE_1000 = struct.pack(">H", 1000) + b"bye"
GREEK = "κόσμε".encode()  # RFC 6455 test texts use it too

BROWSER_REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Connection: Upgrade\r\n"
    b"Pragma: no-cache\r\n"
    b"Cache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
    b"Upgrade: websocket\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"\r\n"
)
MINIMAL_REQUEST = (
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)

SEEDS = {
    "fuzz_frames": {
        # [flags] [4 chunk sizes] [client frames]
        "rfc6455_masked_text": b"\x00" + WHOLE + frame(1, b"Hello"),
        "rfc6455_fragmented": b"\x00" + SMALL + frame(1, b"Hel", fin=False) + frame(0, b"lo"),
        "rfc6455_ping_pong": b"\x00" + WHOLE + frame(9, b"Hello") + frame(10, b"Hello"),
        "rfc6455_binary_256": b"\x00" + WHOLE + frame(2, bytes(range(256))),
        "rfc6455_unmasked": b"\x00" + WHOLE + frame(1, b"Hello", mask=None),
        "close_1000": b"\x00" + WHOLE + frame(1, b"Hi") + frame(8, CLOSE_1000),
        "ping_between_fragments": b"\x00" + SMALL + frame(1, GREEK[:3], fin=False)
            + frame(9, b"") + frame(0, GREEK[3:]) + frame(8, b""),
        "stream_text_split_code_point": b"\x02" + SMALL + frame(1, GREEK[:2], fin=False)
            + frame(0, GREEK[2:7], fin=False) + frame(0, GREEK[7:]),
        "invalid_utf8": b"\x00" + WHOLE + frame(1, b"\xce\xba\xed\xa0\x80"),
        "small_limits_too_big": b"\x10" + WHOLE + frame(2, bytes(1001)),
        "server_fragmented_remote_close": b"\x04" + WHOLE + frame(9, b"x") + frame(8, CLOSE_1000),
        "server_closes_first": b"\x08" + SMALL + frame(1, b"late") + frame(8, struct.pack(">H", 1001)),
        "server_sends": b"\x81" + WHOLE + frame(1, b"a") + frame(1, b"b"),
        # Boundaries (Autobahn 2.4/2.5, 7.3.x, 9.x): the largest control payloads allowed and
        # one more, close codes either side of the reserved ranges, the small limits exactly
        # met and just exceeded, a length in the 64-bit form though it would fit in 7 bits.
        "ping_125": b"\x00" + WHOLE + frame(9, b"p" * 125) + frame(1, b"after"),
        "ping_126": b"\x00" + WHOLE + frame(9, b"p" * 126),
        "close_125": b"\x00" + WHOLE + frame(8, struct.pack(">H", 1000) + b"r" * 123),
        "close_1003_split": b"\x00" + SMALL + frame(8, struct.pack(">H", 1003)),
        "close_1004": b"\x00" + WHOLE + frame(8, struct.pack(">H", 1004)),
        "close_2999": b"\x00" + WHOLE + frame(8, struct.pack(">H", 2999)),
        "close_4999": b"\x00" + WHOLE + frame(8, struct.pack(">H", 4999) + "é".encode()),
        "small_limits_8_fragments": b"\x10" + SMALL + frame(1, b"a", fin=False)
            + b"".join(frame(0, b"b", fin=False) for _ in range(6)) + frame(0, b"c"),
        "small_limits_9_fragments": b"\x10" + SMALL + frame(2, b"a", fin=False)
            + b"".join(frame(0, b"b", fin=False) for _ in range(7)) + frame(0, b"c"),
        "small_limits_exactly_1000": b"\x10" + WHOLE + frame(2, bytes(600), fin=False) + frame(0, bytes(400)),
        "length_64bit_form": b"\x00" + WHOLE + bytes([0x81, 0x80 | 127]) + struct.pack(">Q", 5) + MASK
            + bytes(c ^ MASK[i % 4] for i, c in enumerate(b"Hello")),
        "rfc7692_hello": b"\x01" + WHOLE + frame(1, HELLO, rsv1=True),
        "rfc7692_shared_window": b"\x01" + SMALL + frame(1, HELLO, rsv1=True) + frame(1, HELLO_AGAIN, rsv1=True),
        "rfc7692_stored": b"\x03" + WHOLE + frame(1, HELLO_STORED, rsv1=True),
        "rfc7692_bfinal": b"\x21" + WHOLE + frame(1, HELLO_BFINAL, rsv1=True) + frame(1, HELLO, rsv1=True),
        "rfc7692_fragmented": b"\x01" + SMALL + frame(1, HELLO[:3], fin=False, rsv1=True) + frame(0, HELLO[3:]),
        "rfc7692_rsv1_on_continuation": b"\x01" + WHOLE + frame(1, HELLO[:3], fin=False, rsv1=True)
            + frame(0, HELLO[3:], rsv1=True),
    },
    "fuzz_handshake_server": {
        # [flags] [decision] [status] [4 chunk sizes] [request]
        "browser_accept": b"\x01\x03\x00" + WHOLE + BROWSER_REQUEST,
        "browser_accept_frames": b"\x01\x07\x00" + SMALL + BROWSER_REQUEST + frame(1, b"Hello")
            + frame(1, HELLO, rsv1=True) + frame(8, CLOSE_1000),
        "browser_deferred_with_frames": b"\x09\x01\x00" + WHOLE + BROWSER_REQUEST + frame(9, b"early"),
        "browser_reject_403": b"\x00\x08\xcb" + SMALL + BROWSER_REQUEST,
        "minimal_accept": b"\x00\x01\x00" + WHOLE + MINIMAL_REQUEST,
        "plain_http_health": b"\x02\x01\x00" + WHOLE + b"GET /health HTTP/1.1\r\nHost: h\r\n\r\n",
        "plain_http_426": b"\x00\x01\x00" + WHOLE + b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "version_8": b"\x00\x01\x00" + WHOLE + MINIMAL_REQUEST.replace(b"Version: 13", b"Version: 8"),
        "post": b"\x00\x01\x00" + WHOLE + MINIMAL_REQUEST.replace(b"GET", b"POST"),
        "small_limits": b"\x04\x01\x00" + SMALL + BROWSER_REQUEST,
        "tls_client_hello": b"\x00\x01\x00" + WHOLE + bytes.fromhex("160301020001000200030300"),
    },
    "fuzz_handshake_client": {
        # [flags] [4 chunk sizes] [response]
        "valid_head_then_frames": b"\x04" + WHOLE + frame(1, b"Hello", mask=None)
            + frame(9, b"Hello", mask=None) + frame(8, CLOSE_1000, mask=None),
        "valid_head_deflate_chat": b"\x37" + SMALL + frame(1, HELLO, rsv1=True, mask=None)
            + frame(1, HELLO_AGAIN, rsv1=True, mask=None),
        "valid_head_more_headers": b"\x0e" + SMALL + b"Server: fuzz\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
            + frame(2, b"\x00\x01", mask=None),
        "valid_head_masked_frame": b"\x04" + WHOLE + frame(1, b"Hello"),
        "rfc6455_response_wrong_accept": b"\x03" + WHOLE
            + b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
        "redirect_302": b"\x00" + SMALL + b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 5\r\n\r\nmoved",
        "unauthorized_no_length": b"\x80" + WHOLE + b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n"
            + b"x" * 150,
        "no_content_204": b"\x00" + WHOLE + b"HTTP/1.1 204 No Content\r\n\r\n",
        "http10": b"\x00" + WHOLE + b"HTTP/1.0 101 Switching Protocols\r\n\r\n",
    },
    "fuzz_deflate": {
        # [flags] [4 chunk sizes] [frame size] [split] [compressed payload]
        "rfc7692_hello": b"\x00" + WHOLE + b"\x00\x00" + HELLO,
        "rfc7692_shared_window": b"\x40" + SMALL + b"\x00\x96" + HELLO + HELLO_AGAIN,
        "rfc7692_no_takeover": b"\x44" + WHOLE + b"\x00\x96" + HELLO + HELLO_AGAIN,
        "rfc7692_stored": b"\x02" + WHOLE + b"\x00\x00" + HELLO_STORED,
        "rfc7692_bfinal": b"\x40" + WHOLE + b"\x00\x89" + HELLO_BFINAL + HELLO,
        "fragmented_text": b"\x83" + SMALL + b"\x03\x00" + deflate(GREEK * 20),
        "stream_text": b"\x03" + SMALL + b"\x00\x00" + deflate(GREEK * 20),
        "bomb_200k_zeros": b"\x00" + WHOLE + b"\x00\x00" + deflate(bytes(200000)),
        "bomb_streamed": b"\x81" + WHOLE + b"\x3f\x00" + deflate(bytes(200000)),
        "far_reference_window_9": b"\x10" + WHOLE + b"\x00\x00"
            + deflate(bytes(range(256)) * 2 + b"\x00" * 600 + bytes(range(256)) * 2),
        "window_8": b"\x08" + WHOLE + b"\x00\x00" + deflate(b"abcabcabc" * 30, wbits=9),
        "invalid_block_type": b"\x00" + WHOLE + b"\x00\x00" + b"\xff\xff\xff",
    },
    "fuzz_utf8": {
        # [flags] [4 chunk sizes] [text]
        "ascii": b"\x00" + WHOLE + b"Hello, World",
        "greek": b"\x01" + SMALL + GREEK,
        "mixed_long": b"\x00" + SMALL + b"a" * 70 + "€𝄞é".encode() + b"b" * 20 + GREEK,
        "surrogate": b"\x00" + WHOLE + b"ab\xed\xa0\x80cd",
        "above_10ffff": b"\x00" + SMALL + b"\xf4\x90\x80\x80",
        "overlong": b"\x00" + WHOLE + b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",
        "truncated": b"\x00" + WHOLE + b"\xe2\x82",
        "invalid_after_ascii_run": b"\x00" + WHOLE + b"x" * 40 + b"\xff" + b"y" * 30,
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(CORPUS, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    total = sum(len(s) for seeds in SEEDS.values() for s in seeds.values())
    print(f"wrote {sum(len(s) for s in SEEDS.values())} seeds, {total} bytes, to {CORPUS}")


if __name__ == "__main__":
    main()
