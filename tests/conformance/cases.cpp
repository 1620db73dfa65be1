// The case families of Autobahn|Testsuite (1.x-10.x, 12.x, 13.x), written from the public
// case descriptions. Every case is role-agnostic: Session masks, answers pings and closes
// as its role requires. Where the numbering or the content differs from Autobahn, see
// doc/conformance.md.

#include "fuzzer.h"

#include <cstdio>

namespace {

struct Builder
{
    std::vector<Case> cases;
    Case &add(const std::string &id, const std::string &description, std::function<void(Session &)> run,
              int timeoutMs = 10000)
    {
        Case c;
        c.id = id;
        c.description = description;
        c.run = std::move(run);
        c.timeoutMs = timeoutMs;
        cases.push_back(std::move(c));
        return cases.back();
    }
};

Bytes repeatTo(const Bytes &unit, size_t n)
{
    Bytes s;
    s.reserve(n);
    while (s.size() < n)
        s += unit;
    s.resize(n);
    return s;
}

Bytes binaryPattern(size_t n)
{
    Bytes s(n, '\0');
    for (size_t i = 0; i < n; ++i)
        s[i] = char((i * 7 + (i >> 8)) & 0xff);
    return s;
}

Bytes hex(const std::string &h)
{
    Bytes out;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(char(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

std::string num(size_t n) { return std::to_string(n); }

struct Rng
{
    uint32_t s;
    explicit Rng(uint32_t seed) : s(seed ? seed : 1) {}
    uint32_t next()
    {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
};

// Payload kinds for the permessage-deflate sections.
Bytes deflatePayload(int kind, size_t n, uint32_t seed)
{
    static const char *const words[] = {"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing",
                                        "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore"};
    static const char *const greek[] = {"κόσμε", "λόγος", "ἀρχή", "Ωμέγα", "😀", "€", "ß", "日本語"};
    Rng r(seed * 2654435761u + uint32_t(kind) * 97u + uint32_t(n));
    Bytes s;
    s.reserve(n + 16);
    switch (kind) {
    case 0:  // compressible text
        while (s.size() < n) {
            s += words[r.next() % 15];
            s += ' ';
        }
        break;
    case 1:  // random printable ASCII
        while (s.size() < n)
            s.push_back(char(0x20 + r.next() % 95));
        break;
    case 2:  // multi-byte UTF-8
        while (s.size() < n) {
            s += greek[r.next() % 8];
            s += ' ';
        }
        break;
    case 3:  // random binary (incompressible)
        while (s.size() < n)
            s.push_back(char(r.next() & 0xff));
        break;
    default:  // compressible binary
        while (s.size() < n) {
            const uint32_t v = r.next();
            s.append(size_t(4 + v % 12), char((v >> 8) & 0x1f));
        }
        break;
    }
    if (kind == 0 || kind == 1 || kind == 3 || kind == 4) {
        s.resize(n);
    } else {
        // Cut at a code point boundary.
        size_t cut = std::min(n, s.size());
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            --cut;
        s.resize(cut);
    }
    return s;
}

// Sends pieces (complete frames, or chops of one frame when midFrame); the byte that makes
// the text invalid is in pieces[bad]. RFC 6455 §8.1: the peer must fail the connection as
// soon as it sees that byte; we wait before sending the rest to see whether it does.
void sendFailFast(Session &s, const std::vector<Bytes> &pieces, size_t bad, bool midFrame, int waitMs = 500)
{
    s.setMidFrame(midFrame);
    for (size_t i = 0; i <= bad && i < pieces.size(); ++i)
        s.sendRaw(pieces[i]);
    if (bad + 1 < pieces.size()) {
        if (!s.waitCloseFrame(waitMs)) {
            s.nonStrict("the peer did not fail fast on invalid UTF-8 (only after the message ended)");
            for (size_t i = bad + 1; i < pieces.size(); ++i) {
                if (i + 1 == pieces.size())
                    s.setMidFrame(false);
                s.sendRaw(pieces[i]);
            }
        }
    }
    s.setMidFrame(false);
    s.endFail();
}

// A text message, one frame per byte.
std::vector<Bytes> octetFrames(Session &s, const Bytes &payload)
{
    std::vector<Bytes> frames;
    for (size_t i = 0; i < payload.size(); ++i)
        frames.push_back(s.frame(i == 0 ? OpText : OpCont, payload.substr(i, 1), i + 1 == payload.size()));
    return frames;
}

void utf8Vector(Builder &b, const std::string &id, const std::string &what, const Bytes &v)
{
    const bool valid = utf8ErrorOffset(v) < 0;
    b.add(id, std::string(valid ? "valid" : "invalid") + " UTF-8 in one frame: " + what, [v, valid](Session &s) {
        if (valid) {
            s.expectEcho({textEvent(v)});
            s.sendFrame(OpText, v);
            s.endNormal();
        } else {
            s.expectFail(1007);
            s.sendFrame(OpText, v);
            s.endFail();
        }
    });
}

void utf8Fragmented(Builder &b, const std::string &id, const std::string &what, const Bytes &v)
{
    const long bad = utf8ErrorOffset(v);
    b.add(id, std::string(bad < 0 ? "valid" : "invalid") + " UTF-8, one frame per octet (fail fast): " + what,
          [v, bad](Session &s) {
              if (v.empty()) {
                  s.expectEcho({textEvent(v)});
                  s.sendFrame(OpText, v);
                  s.endNormal();
                  return;
              }
              const std::vector<Bytes> frames = octetFrames(s, v);
              if (bad < 0) {
                  s.expectEcho({textEvent(v)});
                  for (const Bytes &f : frames)
                      s.sendRaw(f);
                  s.endNormal();
              } else {
                  s.expectFail(1007);
                  sendFailFast(s, frames, std::min(size_t(bad), frames.size() - 1), false);
              }
          });
}

struct Vector
{
    std::string id;
    std::string what;
    Bytes bytes;
};

std::vector<Vector> utf8Vectors()
{
    std::vector<Vector> v;
    const Bytes kosme = hex("cebae1bdb9cf83cebcceb5");
    v.push_back({"6.5.1", "κόσμε", kosme});
    v.push_back({"6.5.2", "Hello-µ@ßöäüàá-UTF-8!!", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"});
    v.push_back({"6.5.3", "U+1F600 among ASCII", "smile \xf0\x9f\x98\x80 please"});
    v.push_back({"6.5.4", "mixed scripts", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xd0\xbf\xd1\x80\xd0\xb8 \xce\xb1\xce\xb2 \xe2\x82\xac"});
    v.push_back({"6.5.5", "1000 x κόσμε", repeatTo(kosme, 11000)});
    for (size_t i = 1; i <= kosme.size(); ++i)
        v.push_back({"6.6." + num(i), "first " + num(i) + " octets of κόσμε", kosme.substr(0, i)});
    const char *const first[] = {"00", "c280", "e0a080", "f0908080"};
    for (int i = 0; i < 4; ++i)
        v.push_back({"6.7." + num(i + 1), "first possible sequence of length " + num(i + 1), hex(first[i])});
    v.push_back({"6.8.1", "first possible sequence of length 5", hex("f888808080")});
    v.push_back({"6.8.2", "first possible sequence of length 6", hex("fc8480808080")});
    const char *const last[] = {"7f", "dfbf", "efbfbf", "f48fbfbf"};
    for (int i = 0; i < 4; ++i)
        v.push_back({"6.9." + num(i + 1), "last possible sequence of length " + num(i + 1), hex(last[i])});
    v.push_back({"6.10.1", "F7 BF BF BF (> U+10FFFF)", hex("f7bfbfbf")});
    v.push_back({"6.10.2", "last possible sequence of length 5", hex("fbbfbfbfbf")});
    v.push_back({"6.10.3", "last possible sequence of length 6", hex("fdbfbfbfbfbf")});
    const char *const boundary[] = {"ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080"};
    const char *const boundaryWhat[] = {"U+D7FF", "U+E000", "U+FFFD", "U+10FFFF", "U+110000"};
    for (int i = 0; i < 5; ++i)
        v.push_back({"6.11." + num(i + 1), boundaryWhat[i], hex(boundary[i])});
    const char *const cont[] = {"80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf"};
    for (int i = 0; i < 7; ++i)
        v.push_back({"6.12." + num(i + 1), "unexpected continuation bytes " + std::string(cont[i]), hex(cont[i])});
    Bytes allCont;
    for (int c = 0x80; c <= 0xbf; ++c)
        allCont.push_back(char(c));
    v.push_back({"6.12.8", "all 64 continuation bytes", allCont});
    const int lonely[5][2] = {{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}};
    for (int i = 0; i < 5; ++i) {
        Bytes s;
        for (int c = lonely[i][0]; c <= lonely[i][1]; ++c) {
            s.push_back(char(c));
            s.push_back(' ');
        }
        v.push_back({"6.13." + num(i + 1), "lonely start bytes followed by a space", s});
    }
    const char *const missing[] = {"c0", "e080", "f08080", "f8808080", "fc80808080",
                                   "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf"};
    Bytes concat;
    for (int i = 0; i < 10; ++i) {
        v.push_back({"6.14." + num(i + 1), "sequence with the last continuation byte missing: " + std::string(missing[i]), hex(missing[i])});
        concat += hex(missing[i]);
    }
    v.push_back({"6.15.1", "concatenation of incomplete sequences", concat});
    v.push_back({"6.16.1", "impossible byte FE", hex("fe")});
    v.push_back({"6.16.2", "impossible byte FF", hex("ff")});
    v.push_back({"6.16.3", "FE FE FF FF", hex("fefeffff")});
    const char *const overSlash[] = {"c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"};
    const char *const overMax[] = {"c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"};
    const char *const overNul[] = {"c080", "e08080", "f0808080", "f880808080", "fc8080808080"};
    for (int i = 0; i < 5; ++i) {
        v.push_back({"6.17." + num(i + 1), "overlong '/' in " + num(i + 2) + " bytes", hex(overSlash[i])});
        v.push_back({"6.18." + num(i + 1), "maximum overlong sequence of " + num(i + 2) + " bytes", hex(overMax[i])});
        v.push_back({"6.19." + num(i + 1), "overlong NUL in " + num(i + 2) + " bytes", hex(overNul[i])});
    }
    const char *const single[] = {"eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"};
    for (int i = 0; i < 7; ++i)
        v.push_back({"6.20." + num(i + 1), "single UTF-16 surrogate " + std::string(single[i]), hex(single[i])});
    const char *const paired[] = {"eda080edb080", "eda080edbfbf", "edadbfedb080", "edadbfedbfbf",
                                  "edae80edb080", "edae80edbfbf", "edafbfedb080", "edafbfedbfbf"};
    for (int i = 0; i < 8; ++i)
        v.push_back({"6.21." + num(i + 1), "paired UTF-16 surrogates " + std::string(paired[i]), hex(paired[i])});
    // Noncharacters are valid UTF-8 and must pass (RFC 3629 has no exception for them).
    int n22 = 0;
    const auto utf8Of = [](uint32_t cp) {
        Bytes s;
        if (cp < 0x10000) {
            s.push_back(char(0xe0 | (cp >> 12)));
            s.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
            s.push_back(char(0x80 | (cp & 0x3f)));
        } else {
            s.push_back(char(0xf0 | (cp >> 18)));
            s.push_back(char(0x80 | ((cp >> 12) & 0x3f)));
            s.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
            s.push_back(char(0x80 | (cp & 0x3f)));
        }
        return s;
    };
    for (uint32_t plane = 0; plane <= 16; ++plane) {
        for (uint32_t low : {0xfffeu, 0xffffu}) {
            char name[32];
            std::snprintf(name, sizeof name, "noncharacter U+%04X", unsigned(plane * 0x10000 + low));
            v.push_back({"6.22." + num(size_t(++n22)), name, utf8Of(plane * 0x10000 + low)});
        }
    }
    v.push_back({"6.23.1", "U+FFFD replacement character", hex("efbfbd")});
    v.push_back({"6.23.2", "U+FEFF byte order mark", hex("efbbbf")});
    v.push_back({"6.23.3", "U+0000 inside text", Bytes("a\0b", 3)});
    v.push_back({"6.23.4", "noncharacter U+FDD0", utf8Of(0xfdd0)});
    v.push_back({"6.23.5", "noncharacter U+FDEF", utf8Of(0xfdef)});
    v.push_back({"6.23.6", "text ending in U+FFFD", Bytes("ab") + hex("efbfbd")});
    v.push_back({"6.23.7", "κόσμε then CESU-8 encoded U+10000", kosme + hex("eda080edb080")});
    return v;
}

void section1(Builder &b)
{
    const size_t sizes[] = {0, 125, 126, 127, 128, 65535, 65536};
    for (int bin = 0; bin < 2; ++bin) {
        const std::string sec = bin ? "1.2." : "1.1.";
        const int op = bin ? OpBinary : OpText;
        for (size_t i = 0; i < 7; ++i) {
            const size_t n = sizes[i];
            b.add(sec + num(i + 1), std::string(bin ? "binary" : "text") + " message, payload " + num(n), [=](Session &s) {
                const Bytes p(n, bin ? '\xfe' : '*');
                s.expectEcho({bin ? binaryEvent(p) : textEvent(p)});
                s.sendFrame(op, p);
                s.endNormal();
            });
        }
        b.add(sec + "8", std::string(bin ? "binary" : "text") + " message, payload 65535, written in chops of 997 octets", [=](Session &s) {
            const Bytes p(65535, bin ? '\xfe' : '*');
            s.expectEcho({bin ? binaryEvent(p) : textEvent(p)});
            s.sendFrame(op, p, true, 0, 997);
            s.endNormal();
        });
    }
}

void section2(Builder &b)
{
    const Bytes hello = "Hello, world!";
    const Bytes bin8 = hex("0000fffefdfcfb00ff");
    b.add("2.1", "ping without payload", [](Session &s) {
        s.expectEcho({pongEvent("")});
        s.sendFrame(OpPing, "");
        s.endNormal();
    });
    b.add("2.2", "ping with a small text payload", [hello](Session &s) {
        s.expectEcho({pongEvent(hello)});
        s.sendFrame(OpPing, hello);
        s.endNormal();
    });
    b.add("2.3", "ping with a small binary payload", [bin8](Session &s) {
        s.expectEcho({pongEvent(bin8)});
        s.sendFrame(OpPing, bin8);
        s.endNormal();
    });
    b.add("2.4", "ping with a 125-octet binary payload", [](Session &s) {
        const Bytes p(125, '\xfe');
        s.expectEcho({pongEvent(p)});
        s.sendFrame(OpPing, p);
        s.endNormal();
    });
    b.add("2.5", "ping with a 126-octet payload: control frame too long", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpPing, Bytes(126, '\xfe'));
        s.endFail();
    });
    b.add("2.6", "ping with a 125-octet payload, written octet by octet", [](Session &s) {
        const Bytes p(125, '\xfe');
        s.expectEcho({pongEvent(p)});
        s.sendFrame(OpPing, p, true, 0, 1);
        s.endNormal();
    });
    b.add("2.7", "unsolicited pong without payload: ignored", [](Session &s) {
        s.expectEcho({});
        s.sendFrame(OpPong, "");
        s.endNormal();
    });
    b.add("2.8", "unsolicited pong with payload: ignored", [](Session &s) {
        s.expectEcho({});
        s.sendFrame(OpPong, "unsolicited pong payload");
        s.endNormal();
    });
    b.add("2.9", "unsolicited pong, then a ping", [](Session &s) {
        s.expectEcho({pongEvent("ping payload")});
        s.sendFrame(OpPong, "unsolicited pong payload");
        s.sendFrame(OpPing, "ping payload");
        s.endNormal();
    });
    for (int chop = 0; chop < 2; ++chop) {
        b.add(chop ? "2.11" : "2.10", std::string("10 pings with payloads") + (chop ? ", written octet by octet" : ""), [chop](Session &s) {
            std::vector<Event> pongs;
            for (int i = 0; i < 10; ++i)
                pongs.push_back(pongEvent("payload-" + std::to_string(i)));
            s.expectEcho(pongs);
            for (int i = 0; i < 10; ++i)
                s.sendFrame(OpPing, "payload-" + std::to_string(i), true, 0, chop ? 1 : 0);
            s.endNormal();
        });
    }
    // Every ping payload length (not in Autobahn: 2.12.N sends payload length N-1).
    for (size_t n = 0; n <= 125; n += 5) {
        b.add("2.12." + num(n / 5 + 1), "ping with a payload of " + num(n) + " octets", [n](Session &s) {
            Bytes p(n, '\0');
            for (size_t i = 0; i < n; ++i)
                p[i] = char(i * 13 + 1);
            s.expectEcho({pongEvent(p)});
            s.sendFrame(OpPing, p);
            s.endNormal();
        });
    }
}

void section3(Builder &b)
{
    b.add("3.1", "text message with RSV = 1", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpText, "Hello", true, 1);
        s.endFail();
    });
    struct R { const char *id; int rsv; bool sync; size_t chop; int op; };
    const R rows[] = {{"3.2", 2, false, 0, OpText}, {"3.3", 3, true, 0, OpText}, {"3.4", 4, true, 1, OpText}};
    for (const R &r : rows) {
        b.add(r.id, "small text message, then one with RSV = " + num(size_t(r.rsv)) + ", then a ping" + (r.sync ? " (waiting for the echo first)" : "") + (r.chop ? ", octet-wise" : ""),
              [r](Session &s) {
                  s.expectFail(1002, {textEvent("Hello")}, {{textEvent("Hello"), pongEvent("Hello")}});
                  s.sendFrame(OpText, "Hello", true, 0, r.chop);
                  if (r.sync)
                      s.waitEvents(1, 3000);
                  s.sendFrame(OpText, "Hello", true, r.rsv, r.chop);
                  s.sendFrame(OpPing, "Hello", true, 0, r.chop);
                  s.endFail();
              });
    }
    b.add("3.5", "binary message with RSV = 5", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpBinary, binaryPattern(256), true, 5);
        s.endFail();
    });
    b.add("3.6", "ping with RSV = 6", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpPing, "Hello", true, 6);
        s.endFail();
    });
    b.add("3.7", "close with RSV = 7", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpClose, closePayload(1000), true, 7);
        s.endFail();
    });
}

void section4(Builder &b)
{
    for (int group = 1; group <= 2; ++group) {
        for (int i = 0; i < 5; ++i) {
            const int op = group == 1 ? 3 + i : 11 + i;
            const std::string id = "4." + num(size_t(group)) + "." + num(size_t(i + 1));
            const std::string what = "reserved " + std::string(group == 1 ? "non-control" : "control") + " opcode " + num(size_t(op));
            if (i < 2) {
                b.add(id, what + (i ? " with payload" : ""), [op, i](Session &s) {
                    s.expectFail(1002);
                    s.sendFrame(op, i ? Bytes("reserved opcode payload") : Bytes());
                    s.endFail();
                });
            } else {
                b.add(id, "small text message, then " + what + ", then a ping" + (i == 4 ? ", octet-wise" : ""), [op, i](Session &s) {
                    const size_t chop = i == 4 ? 1 : 0;
                    s.expectFail(1002, {textEvent("Hello")}, {{textEvent("Hello"), pongEvent("Hello")}});
                    s.sendFrame(OpText, "Hello", true, 0, chop);
                    s.sendFrame(op, i == 2 ? Bytes() : Bytes("reserved opcode payload"), true, 0, chop);
                    s.sendFrame(OpPing, "Hello", true, 0, chop);
                    s.endFail();
                });
            }
        }
    }
}

void section5(Builder &b)
{
    b.add("5.1", "ping fragmented into 2 frames", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpPing, "fragment1", false);
        s.sendFrame(OpCont, "fragment2", true);
        s.endFail();
    });
    b.add("5.2", "pong fragmented into 2 frames", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpPong, "fragment1", false);
        s.sendFrame(OpCont, "fragment2", true);
        s.endFail();
    });
    // 5.3-5.5: one chop, one write per frame with a pause, octet-wise.
    for (int mode = 0; mode < 3; ++mode) {
        b.add("5." + num(size_t(3 + mode)), "text message in 2 fragments" + std::string(mode == 1 ? ", frames written apart" : mode == 2 ? ", octet-wise" : ""), [mode](Session &s) {
            s.expectEcho({textEvent("fragment1fragment2")});
            const Bytes f = s.frame(OpText, "fragment1", false) + s.frame(OpCont, "fragment2", true);
            if (mode == 0) {
                s.sendRaw(f);
            } else if (mode == 1) {
                s.sendFrame(OpText, "fragment1", false);
                s.sleepPump(10);
                s.sendFrame(OpCont, "fragment2", true);
            } else {
                s.sendRaw(f, 1);
            }
            s.endNormal();
        });
    }
    for (int mode = 0; mode < 3; ++mode) {
        b.add("5." + num(size_t(6 + mode)), "text message in 2 fragments with a ping in between" + std::string(mode == 1 ? ", frames written apart" : mode == 2 ? ", octet-wise" : ""), [mode](Session &s) {
            s.expectEcho({pongEvent("ping payload"), textEvent("fragment1fragment2")});
            const Bytes f1 = s.frame(OpText, "fragment1", false), p = s.frame(OpPing, "ping payload"), f2 = s.frame(OpCont, "fragment2", true);
            if (mode == 1) {
                s.sendRaw(f1);
                s.sleepPump(10);
                s.sendRaw(p);
                s.sleepPump(10);
                s.sendRaw(f2);
            } else {
                s.sendRaw(f1 + p + f2, mode == 2 ? 1 : 0);
            }
            s.endNormal();
        });
    }
    // 5.9-5.14: a continuation frame with nothing to continue.
    for (int fin = 1; fin >= 0; --fin) {
        for (int mode = 0; mode < 3; ++mode) {
            const size_t n = size_t(9 + (1 - fin) * 3 + mode);
            b.add("5." + num(n), "continuation frame (FIN = " + num(size_t(fin)) + ") with nothing to continue, then a text message" + (mode == 1 ? ", frames written apart" : mode == 2 ? ", octet-wise" : ""), [fin, mode](Session &s) {
                s.expectFail(1002);
                const Bytes c = s.frame(OpCont, "non-continuation payload", fin), t = s.frame(OpText, "Hello, world!");
                if (mode == 1) {
                    s.sendRaw(c);
                    s.sleepPump(10);
                    s.sendRaw(t);
                } else {
                    s.sendRaw(c + t, mode == 2 ? 1 : 0);
                }
                s.endFail();
            });
        }
    }
    b.add("5.15", "text message in 2 fragments, then a continuation with nothing to continue, then a text message", [](Session &s) {
        s.expectFail(1002, {textEvent("fragment1fragment2")});
        s.sendRaw(s.frame(OpText, "fragment1", false) + s.frame(OpCont, "fragment2", true) + s.frame(OpCont, "fragment3", false) +
                  s.frame(OpText, "fragment4", true));
        s.endFail();
    });
    for (int fin = 0; fin < 2; ++fin) {
        b.add(fin ? "5.17" : "5.16", "twice: continuation (FIN = " + num(size_t(fin)) + ") with nothing to continue, then a text message in 2 fragments", [fin](Session &s) {
            s.expectFail(1002);
            Bytes all;
            for (int i = 0; i < 2; ++i)
                all += s.frame(OpCont, "fragment1", fin) + s.frame(OpText, "fragment2", false) + s.frame(OpCont, "fragment3", true);
            s.sendRaw(all);
            s.endFail();
        });
    }
    b.add("5.18", "text message in 2 fragments, both with the text opcode", [](Session &s) {
        s.expectFail(1002);
        s.sendRaw(s.frame(OpText, "fragment1", false) + s.frame(OpText, "fragment2", true));
        s.endFail();
    });
    for (int sync = 0; sync < 2; ++sync) {
        b.add(sync ? "5.20" : "5.19", "text message in 5 fragments with 2 pings in between and a pause" + std::string(sync ? ", frames written apart" : ""), [sync](Session &s) {
            s.expectEcho({pongEvent("pongme 1!"), pongEvent("pongme 2!"), textEvent("fragment1fragment2fragment3fragment4fragment5")});
            const int gap = sync ? 10 : 0;
            s.sendFrame(OpText, "fragment1", false);
            s.sleepPump(gap);
            s.sendFrame(OpCont, "fragment2", false);
            s.sleepPump(gap);
            s.sendFrame(OpPing, "pongme 1!");
            s.waitEvents(1, 2000);
            s.sleepPump(200);
            s.sendFrame(OpCont, "fragment3", false);
            s.sleepPump(gap);
            s.sendFrame(OpCont, "fragment4", false);
            s.sleepPump(gap);
            s.sendFrame(OpPing, "pongme 2!");
            s.sleepPump(gap);
            s.sendFrame(OpCont, "fragment5", true);
            s.endNormal();
        });
    }
    // Not in Autobahn.
    b.add("5.21", "binary message in 3 fragments", [](Session &s) {
        const Bytes p = binaryPattern(300);
        s.expectEcho({binaryEvent(p)});
        s.sendRaw(s.frame(OpBinary, p.substr(0, 100), false) + s.frame(OpCont, p.substr(100, 100), false) + s.frame(OpCont, p.substr(200), true));
        s.endNormal();
    });
    b.add("5.22", "binary message in 3 fragments with a ping and a pong in between", [](Session &s) {
        const Bytes p = binaryPattern(300);
        s.expectEcho({pongEvent("in between"), binaryEvent(p)});
        s.sendRaw(s.frame(OpBinary, p.substr(0, 100), false) + s.frame(OpPing, "in between") + s.frame(OpCont, p.substr(100, 100), false) +
                  s.frame(OpPong, "unsolicited") + s.frame(OpCont, p.substr(200), true));
        s.endNormal();
    });
    b.add("5.23", "binary fragment, then a new binary message inside it", [](Session &s) {
        s.expectFail(1002);
        s.sendRaw(s.frame(OpBinary, "fragment1", false) + s.frame(OpBinary, "fragment2", true));
        s.endFail();
    });
    b.add("5.24", "text fragment, then a binary message inside it", [](Session &s) {
        s.expectFail(1002);
        s.sendRaw(s.frame(OpText, "fragment1", false) + s.frame(OpBinary, "fragment2", true));
        s.endFail();
    });
    b.add("5.25", "close frame fragmented into 2 frames", [](Session &s) {
        s.expectFail(1002);
        s.sendRaw(s.frame(OpClose, closePayload(1000), false) + s.frame(OpCont, "", true));
        s.endFail();
    });
    b.add("5.26", "text message in 100 fragments, some empty", [](Session &s) {
        Bytes all, expect;
        for (int i = 0; i < 100; ++i) {
            const Bytes piece = i % 3 == 0 ? Bytes() : "f" + std::to_string(i);
            expect += piece;
            all += s.frame(i == 0 ? OpText : OpCont, piece, i == 99);
        }
        s.expectEcho({textEvent(expect)});
        s.sendRaw(all);
        s.endNormal();
    });
    b.add("5.27", "binary message in 3 empty fragments", [](Session &s) {
        s.expectEcho({binaryEvent("")});
        s.sendRaw(s.frame(OpBinary, "", false) + s.frame(OpCont, "", false) + s.frame(OpCont, "", true));
        s.endNormal();
    });
}

void section6(Builder &b)
{
    b.add("6.1.1", "empty text message", [](Session &s) {
        s.expectEcho({textEvent("")});
        s.sendFrame(OpText, "");
        s.endNormal();
    });
    b.add("6.1.2", "empty text message in 3 empty fragments", [](Session &s) {
        s.expectEcho({textEvent("")});
        s.sendRaw(s.frame(OpText, "", false) + s.frame(OpCont, "", false) + s.frame(OpCont, "", true));
        s.endNormal();
    });
    b.add("6.1.3", "text message in 3 fragments, first and last empty", [](Session &s) {
        s.expectEcho({textEvent("middle frame payload")});
        s.sendRaw(s.frame(OpText, "", false) + s.frame(OpCont, "middle frame payload", false) + s.frame(OpCont, "", true));
        s.endNormal();
    });
    const Bytes hello = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
    const Bytes kosme = hex("cebae1bdb9cf83cebcceb5");
    b.add("6.2.1", "valid UTF-8 text in one frame", [hello](Session &s) {
        s.expectEcho({textEvent(hello)});
        s.sendFrame(OpText, hello);
        s.endNormal();
    });
    b.add("6.2.2", "valid UTF-8 text in 2 fragments split on a code point boundary", [hello](Session &s) {
        s.expectEcho({textEvent(hello)});
        s.sendRaw(s.frame(OpText, hello.substr(0, 14), false) + s.frame(OpCont, hello.substr(14), true));
        s.endNormal();
    });
    b.add("6.2.3", "valid UTF-8 text, one frame per octet (code points split across frames)", [hello](Session &s) {
        s.expectEcho({textEvent(hello)});
        for (const Bytes &f : octetFrames(s, hello))
            s.sendRaw(f);
        s.endNormal();
    });
    b.add("6.2.4", "κόσμε, one frame per octet", [kosme](Session &s) {
        s.expectEcho({textEvent(kosme)});
        for (const Bytes &f : octetFrames(s, kosme))
            s.sendRaw(f);
        s.endNormal();
    });
    const Bytes invalid = kosme + hex("eda080") + "edited";
    b.add("6.3.1", "invalid UTF-8 (a surrogate) in one frame", [invalid](Session &s) {
        s.expectFail(1007);
        s.sendFrame(OpText, invalid);
        s.endFail();
    });
    b.add("6.3.2", "invalid UTF-8 (a surrogate), one frame per octet", [invalid](Session &s) {
        s.expectFail(1007);
        sendFailFast(s, octetFrames(s, invalid), size_t(utf8ErrorOffset(invalid)), false);
    });
    // 6.4.x: fail fast. Parts 1 and 3 are valid; the peer must close before part 3 is sent.
    const Bytes a1 = kosme, a2 = hex("f4908080"), a3 = "edited";
    const Bytes b1 = kosme + hex("f4"), b2 = hex("90"), b3 = hex("8080") + "edited";
    for (int chops = 0; chops < 2; ++chops) {
        for (int variant = 0; variant < 2; ++variant) {
            const Bytes p1 = variant ? b1 : a1, p2 = variant ? b2 : a2, p3 = variant ? b3 : a3;
            const std::string id = "6.4." + num(size_t(chops * 2 + variant + 1));
            b.add(id, std::string("invalid UTF-8 (> U+10FFFF) in 3 ") + (chops ? "chops of one frame" : "frames") + (variant ? ", part 2 ends at the invalid octet" : "") + ": fail fast",
                  [=](Session &s) {
                      s.expectFail(1007);
                      if (!chops) {
                          sendFailFast(s, {s.frame(OpText, p1, false), s.frame(OpCont, p2, false), s.frame(OpCont, p3, true)}, 1, false);
                      } else {
                          const Bytes f = s.frame(OpText, p1 + p2 + p3);
                          const size_t head = f.size() - p1.size() - p2.size() - p3.size();
                          sendFailFast(s, {f.substr(0, head + p1.size()), f.substr(head + p1.size(), p2.size()), f.substr(head + p1.size() + p2.size())}, 1, true);
                      }
                  },
                  6000);
        }
    }
    const std::vector<Vector> vectors = utf8Vectors();
    for (const Vector &v : vectors)
        utf8Vector(b, v.id, v.what, v.bytes);
    // Not in Autobahn: every vector again, one frame per octet, with the fail-fast check.
    int n = 0;
    for (const Vector &v : vectors)
        utf8Fragmented(b, "6.24." + num(size_t(++n)), v.what + " (as " + v.id + ")", v.bytes);
}

void section7(Builder &b)
{
    b.add("7.1.1", "text message, then a close frame", [](Session &s) {
        s.expectEcho({textEvent("Hello World!")});
        s.sendFrame(OpText, "Hello World!");
        s.sendClose(1000);
        s.waitClosed(3000);
    });
    b.add("7.1.2", "two close frames", [](Session &s) {
        s.expectEcho({});
        s.sendClose(1000);
        s.sendFrame(OpClose, closePayload(1000));
        s.waitClosed(3000);
    });
    b.add("7.1.3", "close frame, then a ping: no pong", [](Session &s) {
        s.expectEcho({});
        s.sendClose(1000);
        s.sendFrame(OpPing, "Hello World!");
        s.waitClosed(3000);
    });
    b.add("7.1.4", "close frame, then a text message: ignored", [](Session &s) {
        s.expectEcho({});
        s.sendClose(1000);
        s.sendFrame(OpText, "Hello World!");
        s.waitClosed(3000);
    });
    b.add("7.1.5", "first fragment, close frame, last fragment: ignored", [](Session &s) {
        s.expectEcho({});
        s.sendFrame(OpText, "fragment1", false);
        s.sendClose(1000);
        s.sendFrame(OpCont, "fragment2", true);
        s.waitClosed(3000);
    });
    b.add("7.1.6", "256 KiB text message, close frame, ping", [](Session &s) {
        const Bytes p = repeatTo("BAsd7&jh23", 256 * 1024);
        s.expect({textEvent(p)}, {{}});
        s.expectClose(true, {1000}, true);
        s.sendFrame(OpText, p);
        s.sendClose(1000);
        s.sendFrame(OpPing, "Hello World!");
        s.waitClosed(5000);
    });
    // Not in Autobahn: the peer must not answer a ping sent after it saw our close, and a
    // peer-initiated close gets our reply (exercised by every failing case already).
    b.add("7.1.7", "close frame written octet by octet", [](Session &s) {
        s.expectEcho({});
        s.sendClosePayload(closePayload(1000, "bye"), 1);
        s.waitClosed(3000);
    });
    const auto closeCase = [&b](const std::string &id, const std::string &what, Bytes payload, std::vector<int> codes, bool clean) {
        b.add(id, what, [payload, codes, clean](Session &s) {
            s.expect({});
            s.expectClose(true, codes, clean);
            s.sendClosePayload(payload);
            s.waitClosed(3000);
        });
    };
    closeCase("7.3.1", "close frame without payload", Bytes(), {1000}, true);
    closeCase("7.3.2", "close frame with a 1-octet payload", "a", {1002}, false);
    closeCase("7.3.3", "close frame with code 1000", closePayload(1000), {1000}, true);
    closeCase("7.3.4", "close frame with code 1000 and a reason", closePayload(1000, "Hello World!"), {1000}, true);
    closeCase("7.3.5", "close frame with a 123-octet reason (payload 125)", closePayload(1000, Bytes(123, '*')), {1000}, true);
    closeCase("7.3.6", "close frame with a 124-octet reason (payload 126: too long)", closePayload(1000, Bytes(124, '*')), {1002}, false);
    closeCase("7.5.1", "close frame with a reason that is not UTF-8", closePayload(1000, hex("cebae1bdb9cf83cebcceb5eda080656469746564")), {1007}, false);
    const int valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999, 1012, 1013, 1014};
    int i = 0;
    for (int code : valid)
        closeCase("7.7." + num(size_t(++i)), "close frame with valid code " + std::to_string(code), closePayload(code), {code, 1000}, true);
    const int invalidCodes[] = {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015};
    i = 0;
    for (int code : invalidCodes)
        closeCase("7.9." + num(size_t(++i)), "close frame with invalid code " + std::to_string(code), closePayload(code), {1002}, false);
    closeCase("7.13.1", "close frame with code 5000", closePayload(5000), {1002}, false);
    closeCase("7.13.2", "close frame with code 65535", closePayload(65535), {1002}, false);
}

void section9(Builder &b)
{
    const size_t big[] = {64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20};
    const size_t frags[] = {64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20};
    const size_t chops[] = {64, 128, 256, 512, 1024, 2048, 4096};
    const size_t small[] = {0, 16, 64, 256, 1024, 4096};
    for (int bin = 0; bin < 2; ++bin) {
        const int op = bin ? OpBinary : OpText;
        const auto payload = [bin](size_t n) { return bin ? binaryPattern(n) : repeatTo("BAsd7&jh23", n); };
        const auto event = [bin](const Bytes &p) { return bin ? binaryEvent(p) : textEvent(p); };
        const std::string kind = bin ? "binary" : "text";
        for (size_t i = 0; i < 6; ++i) {
            const size_t n = big[i];
            b.add(std::string("9.") + (bin ? "2." : "1.") + num(i + 1), kind + " message of " + num(n) + " octets", [=](Session &s) {
                const Bytes p = payload(n);
                s.expectEcho({event(p)});
                s.sendFrame(op, p);
                s.endNormal();
            }, 40000);
        }
        for (size_t i = 0; i < 9; ++i) {
            const size_t f = frags[i];
            b.add(std::string("9.") + (bin ? "4." : "3.") + num(i + 1), kind + " message of 4 MiB in fragments of " + num(f) + " octets", [=](Session &s) {
                const Bytes p = payload(4 << 20);
                s.expectEcho({event(p)});
                s.sendMessage(op, p, f, false);
                s.endNormal();
            }, 40000);
        }
        for (size_t i = 0; i < 7; ++i) {
            const size_t c = chops[i];
            b.add(std::string("9.") + (bin ? "6." : "5.") + num(i + 1), kind + " message of 1 MiB written in chops of " + num(c) + " octets", [=](Session &s) {
                const Bytes p = payload(1 << 20);
                s.expectEcho({event(p)});
                s.sendFrame(op, p, true, 0, c);
                s.endNormal();
            }, 40000);
        }
        b.add(std::string("9.") + (bin ? "6.8" : "5.8"), kind + " message of 64 KiB written octet by octet", [=](Session &s) {
            const Bytes p = payload(64 << 10);
            s.expectEcho({event(p)});
            s.sendFrame(op, p, true, 0, 1);
            s.endNormal();
        }, 40000);
        for (size_t i = 0; i < 6; ++i) {
            const size_t n = small[i];
            b.add(std::string("9.") + (bin ? "8." : "7.") + num(i + 1), "1000 " + kind + " messages of " + num(n) + " octets, one round trip each", [=](Session &s) {
                std::vector<Event> expected;
                for (int k = 0; k < 1000; ++k)
                    expected.push_back(event(payload(n)));
                s.expectEcho(expected);
                const Bytes p = payload(n);
                for (size_t k = 0; k < 1000; ++k) {
                    s.sendFrame(op, p);
                    if (!s.waitEvents(k + 1, 5000))
                        break;
                }
                s.endNormal();
            }, 30000);
        }
    }
}

void section10(Builder &b)
{
    for (int bin = 0; bin < 2; ++bin) {
        b.add(bin ? "10.1.2" : "10.1.1", std::string(bin ? "binary" : "text") + " message of 65536 octets in frames of 1300 octets", [bin](Session &s) {
            const Bytes p = bin ? binaryPattern(65536) : repeatTo("*", 65536);
            s.expectEcho({bin ? binaryEvent(p) : textEvent(p)});
            s.sendMessage(bin ? OpBinary : OpText, p, 1300, false);
            s.endNormal();
        });
    }
}

void deflateEcho(Session &s, const std::vector<std::pair<int, Bytes>> &messages, size_t fragmentSize)
{
    std::vector<Event> expected;
    for (const auto &m : messages)
        expected.push_back(m.first == OpBinary ? binaryEvent(m.second) : textEvent(m.second));
    s.expectEcho(expected);
    size_t k = 0;
    for (const auto &m : messages)
        s.sendMessage(m.first, m.second, (k++ % 2) ? fragmentSize : 0);
    s.endNormal();
}

void section12(Builder &b)
{
    const size_t sizes[] = {16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072};
    const char *const kinds[] = {"compressible text", "random ASCII text", "multi-byte UTF-8 text", "random binary", "compressible binary"};
    for (int kind = 0; kind < 5; ++kind) {
        for (size_t i = 0; i < 10; ++i) {
            const size_t n = sizes[i];
            Case &c = b.add("12." + num(size_t(kind + 1)) + "." + num(i + 1),
                            "permessage-deflate, default offer: 10 messages of " + num(n) + " octets, " + kinds[kind] + ", every other one fragmented",
                            [kind, n](Session &s) {
                                std::vector<std::pair<int, Bytes>> m;
                                for (uint32_t k = 0; k < 10; ++k)
                                    m.push_back({kind >= 3 ? OpBinary : OpText, deflatePayload(kind, n, k + 1)});
                                deflateEcho(s, m, 1300);
                            },
                            20000);
            c.deflate.enabled = true;
            c.deflate.clientMaxWindowBits = -1;
        }
    }
    // Not in Autobahn: RFC 7692 §6.1, RSV1 only on the first frame of a data message.
    const size_t first = b.cases.size();
    b.add("12.6.1", "permessage-deflate: compressed message with RSV1 also on its continuation frame", [](Session &s) {
        s.expectFail(1002);
        const Bytes part = deflatePayload(0, 2000, 1);
        s.sendRaw(s.frame(OpText, part.substr(0, 1000), false) + s.frame(OpCont, part.substr(1000), true, 4));
        s.endFail();
    });
    b.add("12.6.2", "permessage-deflate: ping with RSV1", [](Session &s) {
        s.expectFail(1002);
        s.sendFrame(OpPing, "compressed?", true, 4);
        s.endFail();
    });
    for (size_t i = first; i < b.cases.size(); ++i) {
        b.cases[i].deflate.enabled = true;
        b.cases[i].deflate.clientMaxWindowBits = -1;
    }
}

void section13(Builder &b)
{
    const int bits[] = {0, 9, 10, 11, 12, 13, 14, 15};
    for (int g = 0; g < 4; ++g) {
        const bool cnct = g & 2, snct = g & 1;
        size_t i = 0;
        for (int sb : bits) {
            for (int cb : bits) {
                std::string params;
                if (cnct)
                    params += " client_no_context_takeover";
                if (snct)
                    params += " server_no_context_takeover";
                if (sb)
                    params += " server_max_window_bits=" + std::to_string(sb);
                if (cb)
                    params += " client_max_window_bits=" + std::to_string(cb);
                Case &c = b.add("13." + num(size_t(g + 1)) + "." + num(++i), "permessage-deflate with" + (params.empty() ? std::string(" no parameters") : params) + ": echo 7 messages",
                                [](Session &s) {
                                    std::vector<std::pair<int, Bytes>> m;
                                    const size_t sizes[] = {16, 200, 4000, 70000, 1000};
                                    for (uint32_t k = 0; k < 5; ++k)
                                        m.push_back({OpText, deflatePayload(k == 4 ? 2 : 0, sizes[k], k + 7)});
                                    m.push_back({OpBinary, deflatePayload(4, 20000, 3)});
                                    m.push_back({OpBinary, deflatePayload(3, 3000, 4)});
                                    deflateEcho(s, m, 4096);
                                },
                                15000);
                c.deflate.enabled = true;
                c.deflate.clientNoContextTakeover = cnct;
                c.deflate.serverNoContextTakeover = snct;
                c.deflate.serverMaxWindowBits = sb;
                c.deflate.clientMaxWindowBits = cb;
            }
        }
    }
}

}  // namespace

std::vector<Case> buildCases()
{
    Builder b;
    section1(b);
    section2(b);
    section3(b);
    section4(b);
    section5(b);
    section6(b);
    section7(b);
    section9(b);
    section10(b);
    section12(b);
    section13(b);
    return b.cases;
}

bool utf8SelfTest(std::string *error)
{
    // Spot checks of the fuzzer's own validator against the well-known classification.
    struct T { const char *hex; long expected; };
    const T tests[] = {{"cebae1bdb9cf83cebcceb5", -1}, {"f48fbfbf", -1}, {"efbfbe", -1}, {"00", -1},
                       {"eda080", 1}, {"c080", 0}, {"f4908080", 1}, {"e080af", 1}, {"df", 1},
                       {"cebae1bdb9cf83cebcceb5f4908080", 12}, {"fe", 0}, {"80", 0}, {"f0908080", -1}};
    for (const T &t : tests) {
        const long got = utf8ErrorOffset(hex(t.hex));
        if (got != t.expected) {
            *error = std::string("utf8 self-test failed for ") + t.hex + ": " + std::to_string(got);
            return false;
        }
    }
    return true;
}
