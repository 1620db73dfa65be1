#!/usr/bin/python3
"""Writes doc/conformance.md from the results of a conformance run.

    /usr/bin/python3 tests/conformance/report.py build/tests/conformance/conformance-results.json doc/conformance.md
"""
import json
import sys
from collections import defaultdict

SECTIONS = {
    "1": "Framing (text/binary payload lengths, chopped writes)",
    "2": "Pings and pongs",
    "3": "Reserved bits",
    "4": "Reserved opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 handling",
    "7": "Close handling",
    "9": "Limits and performance",
    "10": "Miscellaneous (auto-fragmentation)",
    "12": "permessage-deflate: payloads",
    "13": "permessage-deflate: parameter combinations",
}

RESULTS = ("OK", "NON-STRICT", "FAILED")

HEADER = """# Conformance (Autobahn|Testsuite-style)

`tests/conformance/` holds a conformance runner of our own, `wskit-conformance`, that
reproduces the public case families of [Autobahn|Testsuite](https://github.com/crossbario/autobahn-testsuite)
in **both roles**:

* **client role**: the runner is the fuzzing *client*; the peer is `wskit-echoserver`
  (`WsServer` + `WsSocket`), started with `--port 0 --quiet` (port read from its
  `listening on ws://HOST:PORT` line).
* **server role**: the runner is the fuzzing *server* on 127.0.0.1; the peer is
  `conformance_echoclient`, a small Qt program that opens a `WsSocket` to
  `ws://127.0.0.1:PORT/case/N` for each case and echoes every message (text as text, binary
  as binary) until the connection ends.

The fuzzer side is independent of WsKit: POSIX sockets with `poll()` (every wait has a
timeout, every loop a bound, loopback only), frames built by hand, its own UTF-8 validator
(RFC 3629), and zlib raw deflate (`-windowBits`) for permessage-deflate, inflating with
exactly the negotiated window and resetting exactly when no context takeover was agreed,
so a peer that uses a larger window or keeps context it promised to drop fails the case.

## Running it

```sh
cmake --build build --target wskit-conformance conformance_echoclient wskit-echoserver
ctest --test-dir build -R conformance --output-on-failure
# one role, some sections, every case printed:
build/tests/conformance/wskit-conformance --echoserver build/examples/echoserver/wskit-echoserver \\
    --echoclient build/tests/conformance/conformance_echoclient --role client --cases 6.4,7 -v
# regenerate this page from the last ctest run:
/usr/bin/python3 tests/conformance/report.py build/tests/conformance/conformance-results.json doc/conformance.md
```

The ctest test `conformance` fails if any case is FAILED (NON-STRICT is allowed and
reported), except the cases listed in `KNOWN_FAILURES` (`tests/conformance/main.cpp`),
which are WsKit bugs already reported; they are shown as FAILED (KNOWN). Per-case results
(id, role, result, reason, duration) are written to
`build/tests/conformance/conformance-results.json`.

## Verdicts

As in Autobahn, each case has an expected behaviour (the messages and pongs the peer sends
back, in order) and an expected close (who closes first, the acceptable close codes,
whether the closing handshake must be clean):

* **OK**: exactly the strict expectation.
* **NON-STRICT**: correct but not the strictest behaviour: Autobahn's non-strict
  alternative (e.g. a pong answered after a frame that should have failed the connection),
  failing on invalid UTF-8 only after the message ended instead of at the offending octet,
  a close frame without a code or a dropped TCP connection where a close code was expected,
  a server that leaves closing TCP to the client.
* **FAILED**: anything else: wrong or missing echo, wrong close code, no failure where one
  is required, an unclean close where a clean one is required, or any protocol violation
  by the peer (unmasked/masked frames in the wrong direction, invalid UTF-8 sent, bad
  compressed data, frames after its close frame, ...).

Instead of Autobahn's fixed one-second wait before closing, the runner waits for the
expected echoes, then sends a ping with a marker payload and waits for its pong (everything
the peer sends before it is then in), then closes.
"""

NUMBERING = """## Differences from Autobahn numbering and content

The case ids follow Autobahn where the case is the same; these differ:

* **2.12.1-2.12.26** (new): pings with payload lengths 0, 5, ..., 125.
* **5.21-5.27** (new): fragmented binary messages (with a ping and a pong interleaved),
  a new binary message or a binary frame inside a fragmented message (1002), a fragmented
  close frame (1002), 100 fragments with empty ones, a message of empty fragments.
* **5.19/5.20**: the pause between the fragments is 200 ms instead of 1 s.
* **6.4.x**: the runner waits 500 ms (not 1 s) after the invalid octet for the close
  before it sends the rest of the message.
* **6.5.x** and **6.23.x** are our own vectors (κόσμε, mixed scripts, U+1F600, U+FEFF,
  U+0000, U+FDD0/U+FDEF, CESU-8); 6.6-6.22 follow Markus Kuhn's test file as Autobahn does.
* **6.24.1-6.24.N** (new): every vector of 6.5-6.23 again, sent one frame per octet, with
  the fail-fast check at the exact offending octet (the case's description names the
  original id).
* **7.1.7** (new): a close frame written octet by octet.
* **7.7.14-7.7.16** (new): close codes 1012, 1013, 1014 (valid, IANA registry).
* **7.9.10** (new): close code 1015 (never sent on the wire: 1002). Autobahn's 7.9.x
  covers 0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999 (7.9.1-7.9.9, the same here).
* **7.13.1/7.13.2**: codes 5000 and 65535 must fail with 1002 here (Autobahn: informational).
* **9.5.7/9.6.7** (new): 1 MiB written in chops of 4096 octets; **9.5.8/9.6.8** (new):
  64 KiB written octet by octet.
* **9.7.x/9.8.x**: 1000 round trips each, as in Autobahn (1000 messages, one at a time).
* **10.1.2** (new): the binary twin of 10.1.1.
* **12.x**: five payload kinds (compressible text, random ASCII, multi-byte UTF-8, random
  binary, compressible binary) x ten sizes (16 B-128 KiB), 10 messages per case (Autobahn:
  1000), every other message fragmented into 1300-octet frames; default offer
  `permessage-deflate; client_max_window_bits` (client role) / plain `permessage-deflate`
  answer (server role).
* **12.6.1/12.6.2** (new): RSV1 on a continuation frame and on a ping with
  permessage-deflate negotiated (RFC 7692 §6.1: 1002).
* **13.x**: all 256 combinations of client_no_context_takeover x server_no_context_takeover
  (13.1: neither, 13.2: server, 13.3: client, 13.4: both) x server_max_window_bits
  (absent, 9-15) x client_max_window_bits (absent, 9-15), 7 messages each (16 B-70 KB,
  text and binary, some fragmented). In the client role they are our offer, in the server
  role our answer to WsSocket's offer. Autobahn's 13.1-13.7 use a handful of offers (with
  window 8, which zlib cannot produce) and 18 message sizes each.
* Autobahn's sections 11 (never defined), 12.x/13.x large-count variants and the
  performance timings are not reproduced.
"""


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS.json OUTPUT.md")
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    cases = data["cases"]
    counts = defaultdict(lambda: {r: 0 for r in RESULTS})
    roles = ["client", "server"]
    for c in cases:
        counts[(c["section"], c["role"])][c["result"]] += 1

    out = [HEADER, "## Results\n"]
    total = {role: {r: 0 for r in RESULTS} for role in roles}
    for c in cases:
        total[c["role"]][c["result"]] += 1
    out.append("Last run: %d cases in %.1f s (both roles).\n" % (len(cases), data.get("runtimeMs", 0) / 1000.0))
    out.append("| section | | client OK | client NON-STRICT | client FAILED | server OK | server NON-STRICT | server FAILED |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for sec in sorted({c["section"] for c in cases}, key=int):
        row = ["%s" % sec, SECTIONS.get(sec, "")]
        for role in roles:
            row += [str(counts[(sec, role)][r]) for r in RESULTS]
        out.append("| " + " | ".join(row) + " |")
    row = ["**all**", ""]
    for role in roles:
        row += ["**%d**" % total[role][r] for r in RESULTS]
    out.append("| " + " | ".join(row) + " |")
    out.append("")

    failed = [c for c in cases if c["result"] == "FAILED"]
    known = [c for c in failed if c.get("known")]
    unexpected = [c for c in failed if not c.get("known")]
    out.append("FAILED counts include the KNOWN_FAILURES below: %d of the %d FAILED cases are known WsKit bugs, "
               "%d are unexpected.\n" % (len(known), len(failed), len(unexpected)))
    out.append("## WsKit bugs this runner found (all fixed)\n")
    out.append(
        "* **An echo lost to what followed it in the same read.** The core parsed every frame of a\n"
        "  read before the application saw the first message, so when a close frame or a protocol\n"
        "  violation followed a data message in one TCP read, the connection was already closed or\n"
        "  failed when the slot echoed the message (3.2, 4.1.3-4.1.5, 4.2.3-4.2.5, 5.15, 7.1.1,\n"
        "  7.1.6 NON-STRICT). Fixed by `WsConnection::receiveSome()`: the network layer now feeds\n"
        "  the core event by event, so an answer precedes what later bytes cause.\n"
        "* **A leading U+FEFF dropped from text.** `QString::fromUtf8()` skips a byte order mark;\n"
        "  `wsDecodeUtf8()` keeps it, for messages and close reasons (6.23.2, 6.24.127).\n"
        "* **RSV1 accepted on control frames with permessage-deflate.** RFC 7692 §6.1: the\n"
        "  connection now fails with 1002 (12.6.2).\n"
    )
    if known:
        out.append("Failed in the last run: " + ", ".join("%s (%s)" % (c["id"], c["role"]) for c in known) + ".\n")
    if unexpected:
        out.append("## Unexpected failures\n")
        for c in unexpected:
            out.append("* **%s** (%s role) %s: %s" % (c["id"], c["role"], c["description"], c["reason"]))
        out.append("")
    nonstrict = [c for c in cases if c["result"] == "NON-STRICT"]
    out.append("## NON-STRICT cases\n")
    if nonstrict:
        for c in nonstrict:
            out.append("* **%s** (%s role) %s: %s" % (c["id"], c["role"], c["description"], c["reason"]))
    else:
        out.append("None.")
    out.append("")
    out.append(NUMBERING)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
