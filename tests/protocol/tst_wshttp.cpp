// RFC 7230 HTTP/1.1 message heads as the opening handshake uses them: header fields,
// tokens, the incremental head parser with its limits, and the RFC 6455 §9.1 /
// RFC 7692 Sec-WebSocket-Extensions grammar.

#include <wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearraylist.h>
#include <QtCore/qlist.h>
#include <QtTest/qtest.h>

#include "testutil.h"

#include <cstddef>

Q_DECLARE_METATYPE(WsError)
Q_DECLARE_METATYPE(WsExtensionOffer)

using Status = WsHttpHeadParser::Status;

char *toString(WsError error)
{
    return qstrdup(wsErrorName(error));
}

char *toString(WsHttpHeadParser::Status status)
{
    switch (status) {
    case Status::NeedMore:
        return qstrdup("NeedMore");
    case Status::Done:
        return qstrdup("Done");
    case Status::Error:
        return qstrdup("Error");
    }
    return qstrdup("<unknown Status>");
}

// name[;param][;param=value]... with quotes around values so that "p" and p="" differ.
char *toString(const WsExtensionOffer &offer)
{
    QByteArray s = offer.name;
    for (const WsExtensionOffer::Param &p : offer.params) {
        s += ';' + p.name;
        if (p.hasValue)
            s += "=<" + p.value + '>';
    }
    return qstrdup(s.constData());
}

namespace {

// Flattens headers into "Name: value" strings, for comparisons with readable failure output.
QByteArrayList linesOf(const WsHttpHeaders &headers)
{
    QByteArrayList out;
    for (const WsHttpHeaders::Field &f : headers.fields())
        out.append(f.first + ": " + f.second);
    return out;
}

WsExtensionOffer offer(const QByteArray &name, const QList<WsExtensionOffer::Param> &params = {})
{
    WsExtensionOffer o;
    o.name = name;
    o.params = params;
    return o;
}

WsExtensionOffer::Param flag(const QByteArray &name)
{
    WsExtensionOffer::Param p;
    p.name = name;
    return p;
}

WsExtensionOffer::Param param(const QByteArray &name, const QByteArray &value)
{
    WsExtensionOffer::Param p;
    p.name = name;
    p.value = value;
    p.hasValue = true;
    return p;
}

// One way of handing bytes to the parser.
struct Feeding
{
    QByteArray label;
    QByteArrayList chunks;
};

// The whole input in one call, one byte per call, and split in two at every offset
// (with an empty feed at the split, which must change nothing).
QList<Feeding> feedingsOf(const QByteArray &input)
{
    QList<Feeding> result;
    result.append({QByteArrayLiteral("whole"), {input}});
    Feeding bytewise{QByteArrayLiteral("byte-by-byte"), {}};
    for (char c : input)
        bytewise.chunks.append(QByteArray(1, c));
    result.append(bytewise);
    for (qsizetype k = 1; k < input.size(); ++k)
        result.append({"split@" + QByteArray::number(k), {input.left(k), QByteArray(), input.mid(k)}});
    return result;
}

struct FeedResult
{
    Status status = Status::NeedMore;
    WsError error = WsError::NoError;
    QByteArray startLine;
    WsHttpHeaders headers;
    qsizetype consumed = 0;      // bytes the parser took over all calls
    bool allTakenWhileNeedMore = true;  // every NeedMore call consumed its whole chunk
};

// Feeds the chunks in order until the parser leaves NeedMore.
FeedResult feedAll(WsHttpHeadParser &parser, const QByteArrayList &chunks)
{
    FeedResult r;
    for (const QByteArray &chunk : chunks) {
        qsizetype consumed = 0;
        r.status = parser.feed(chunk.constData(), chunk.size(), &consumed);
        r.consumed += consumed;
        if (r.status == Status::NeedMore && consumed != chunk.size())
            r.allTakenWhileNeedMore = false;
        if (r.status != Status::NeedMore)
            break;
    }
    r.error = parser.error();
    r.startLine = parser.startLine();
    r.headers = parser.headers();
    return r;
}

const char kRfcRequest[] =
        "GET /chat HTTP/1.1\r\n"
        "Host: server.example.com\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Origin: http://example.com\r\n"
        "Sec-WebSocket-Protocol: chat, superchat\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n";

const char kRfcResponse[] =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Protocol: chat\r\n"
        "\r\n";

} // namespace

class tst_WsHttp : public QObject
{
    Q_OBJECT

private slots:
    // WsHttpHeaders
    void headers_lookupIsCaseInsensitive();
    void headers_repeatedFields();
    void headers_setAndRemove();
    void headers_appendTo();
    void headers_tokens_data();
    void headers_tokens();
    void headers_hasToken_data();
    void headers_hasToken();

    // Character classes
    void isToken_data();
    void isToken();
    void isValidHeaderValue_data();
    void isValidHeaderValue();

    // WsHttpHeadParser
    void parser_valid_data();
    void parser_valid();
    void parser_invalid_data();
    void parser_invalid();
    void parser_sizeLimitBoundary_data();
    void parser_sizeLimitBoundary();
    void parser_neverTerminatedStopsAtLimit();
    void parser_floodFedWholeIsBounded();
    void parser_fieldCountBoundary();
    void parser_staysFinished();

    // Sec-WebSocket-Extensions
    void parseExtensions_data();
    void parseExtensions();
    void formatExtensions_data();
    void formatExtensions();
    void extensionsRoundTrip_data();
    void extensionsRoundTrip();
};

// ---- WsHttpHeaders --------------------------------------------------------------------------

void tst_WsHttp::headers_lookupIsCaseInsensitive()
{
    WsHttpHeaders h;
    h.add(QByteArrayLiteral("Host"), QByteArrayLiteral("example.com"));
    h.add(QByteArrayLiteral("sec-websocket-key"), QByteArrayLiteral("k"));

    for (const char *name : {"Host", "host", "HOST", "hOsT"}) {
        QVERIFY2(h.contains(name), name);
        QCOMPARE(h.count(name), 1);
        QCOMPARE(h.value(name), QByteArrayLiteral("example.com"));
    }
    QCOMPARE(h.value("Sec-WebSocket-Key"), QByteArrayLiteral("k"));
    QCOMPARE(h.value("SEC-WEBSOCKET-KEY"), QByteArrayLiteral("k"));
    // Names keep the spelling they were added with.
    QCOMPARE(h.fields().at(1).first, QByteArrayLiteral("sec-websocket-key"));

    // Near misses are different names.
    QVERIFY(!h.contains("Hos"));
    QVERIFY(!h.contains("Hostt"));
    QVERIFY(!h.contains("Host "));
    QCOMPARE(h.count("Origin"), 0);
    QVERIFY(h.value("Origin").isEmpty());
    QVERIFY(h.values("Origin").isEmpty());
    QVERIFY(h.combined("Origin").isEmpty());
    QVERIFY(h.tokens("Origin").isEmpty());
    QCOMPARE(h.size(), 2);
    QVERIFY(!h.isEmpty());
    QVERIFY(WsHttpHeaders().isEmpty());
}

void tst_WsHttp::headers_repeatedFields()
{
    WsHttpHeaders h = headersOf({
        QByteArrayLiteral("Sec-WebSocket-Protocol: chat"),
        QByteArrayLiteral("X-Other: 1"),
        QByteArrayLiteral("sec-websocket-protocol: superchat, v2"),
        QByteArrayLiteral("SEC-WEBSOCKET-PROTOCOL: "),
    });
    QCOMPARE(h.count("Sec-WebSocket-Protocol"), 3);
    // value() is the first field's value.
    QCOMPARE(h.value("sec-websocket-protocol"), QByteArrayLiteral("chat"));
    QCOMPARE(h.values("Sec-WebSocket-Protocol"),
             QByteArrayList({"chat", "superchat, v2", ""}));
    // RFC 7230 §3.2.2: combined as one comma-separated value, in order.
    QCOMPARE(h.combined("Sec-WebSocket-Protocol"), QByteArrayLiteral("chat, superchat, v2, "));
    QCOMPARE(h.combined("x-other"), QByteArrayLiteral("1"));
    QCOMPARE(h.tokens("Sec-WebSocket-Protocol"), QByteArrayList({"chat", "superchat", "v2"}));
}

void tst_WsHttp::headers_setAndRemove()
{
    WsHttpHeaders h = headersOf({
        QByteArrayLiteral("A: 1"),
        QByteArrayLiteral("B: 2"),
        QByteArrayLiteral("a: 3"),
        QByteArrayLiteral("C: 4"),
    });
    // set() replaces every field of that name (any case) with one field at the end.
    h.set(QByteArrayLiteral("A"), QByteArrayLiteral("9"));
    QCOMPARE(linesOf(h), QByteArrayList({"B: 2", "C: 4", "A: 9"}));
    h.set(QByteArrayLiteral("D"), QByteArrayLiteral("5"));
    QCOMPARE(linesOf(h), QByteArrayList({"B: 2", "C: 4", "A: 9", "D: 5"}));

    h.remove("c");
    QCOMPARE(linesOf(h), QByteArrayList({"B: 2", "A: 9", "D: 5"}));
    h.remove("Missing");
    QCOMPARE(h.size(), 3);

    h.add(QByteArrayLiteral("b"), QByteArrayLiteral("x"));
    h.remove("B");
    QCOMPARE(linesOf(h), QByteArrayList({"A: 9", "D: 5"}));

    // Equality is field by field, in order.
    QVERIFY(h == headersOf({QByteArrayLiteral("A: 9"), QByteArrayLiteral("D: 5")}));
    QVERIFY(!(h == headersOf({QByteArrayLiteral("D: 5"), QByteArrayLiteral("A: 9")})));
}

void tst_WsHttp::headers_appendTo()
{
    const WsHttpHeaders h = headersOf({
        QByteArrayLiteral("Upgrade: websocket"),
        QByteArrayLiteral("Connection: Upgrade"),
        QByteArrayLiteral("X-Empty: "),
    });
    QByteArray out = QByteArrayLiteral("prefix\r\n");
    h.appendTo(out);
    QCOMPARE(out, QByteArrayLiteral("prefix\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Empty: \r\n"));

    QByteArray none;
    WsHttpHeaders().appendTo(none);
    QCOMPARE(none, QByteArray());
}

void tst_WsHttp::headers_tokens_data()
{
    QTest::addColumn<QByteArrayList>("lines");
    QTest::addColumn<QByteArrayList>("expected");

    QTest::newRow("rfc7230-7/single") << QByteArrayList{"Connection: Upgrade"} << QByteArrayList{"Upgrade"};
    QTest::newRow("rfc7230-7/comma-space")
            << QByteArrayList{"Connection: keep-alive, Upgrade"} << QByteArrayList{"keep-alive", "Upgrade"};
    QTest::newRow("rfc7230-7/comma-no-space")
            << QByteArrayList{"Connection: keep-alive,Upgrade"} << QByteArrayList{"keep-alive", "Upgrade"};
    QTest::newRow("rfc7230-7/tabs-and-spaces")
            << QByteArrayList{"Connection: \t keep-alive \t,\tUpgrade\t"} << QByteArrayList{"keep-alive", "Upgrade"};
    QTest::newRow("rfc7230-3.2.2/several-fields")
            << QByteArrayList{"Connection: keep-alive", "X-Other: a, b", "connection: Upgrade, close"}
            << QByteArrayList{"keep-alive", "Upgrade", "close"};
    QTest::newRow("rfc7230-7/empty-elements-dropped")
            << QByteArrayList{"Connection: , ,a,, , b ,", "Connection: ,"} << QByteArrayList{"a", "b"};
    QTest::newRow("empty-value") << QByteArrayList{"Connection: "} << QByteArrayList{};
    QTest::newRow("no-such-field") << QByteArrayList{"Upgrade: websocket"} << QByteArrayList{};
    QTest::newRow("inner-space-kept") << QByteArrayList{"Connection: a b , c"} << QByteArrayList{"a b", "c"};
    QTest::newRow("case-kept") << QByteArrayList{"Connection: UpGrade"} << QByteArrayList{"UpGrade"};
}

void tst_WsHttp::headers_tokens()
{
    QFETCH(QByteArrayList, lines);
    QFETCH(QByteArrayList, expected);
    const WsHttpHeaders h = headersOf(lines);
    QCOMPARE(h.tokens("Connection"), expected);
    QCOMPARE(h.tokens("CONNECTION"), expected);
}

void tst_WsHttp::headers_hasToken_data()
{
    QTest::addColumn<QByteArrayList>("lines");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("expected");

    const QByteArrayList ka{"Connection: keep-alive, Upgrade"};
    QTest::newRow("rfc6455-4.2.1/keep-alive-Upgrade") << ka << QByteArray("Connection") << QByteArray("Upgrade") << true;
    QTest::newRow("rfc6455-4.2.1/token-lowercase") << ka << QByteArray("Connection") << QByteArray("upgrade") << true;
    QTest::newRow("rfc6455-4.2.1/token-uppercase") << ka << QByteArray("Connection") << QByteArray("UPGRADE") << true;
    QTest::newRow("rfc6455-4.2.1/name-lowercase") << ka << QByteArray("connection") << QByteArray("Upgrade") << true;
    QTest::newRow("first-token") << ka << QByteArray("Connection") << QByteArray("KEEP-ALIVE") << true;
    QTest::newRow("upgrade-websocket-mixed-case")
            << QByteArrayList{"UPGRADE: WebSocket"} << QByteArray("Upgrade") << QByteArray("websocket") << true;
    QTest::newRow("second-field")
            << QByteArrayList{"Connection: keep-alive", "Connection: upgrade"}
            << QByteArray("Connection") << QByteArray("Upgrade") << true;
    QTest::newRow("not-present")
            << QByteArrayList{"Connection: keep-alive"} << QByteArray("Connection") << QByteArray("Upgrade") << false;
    QTest::newRow("prefix-is-not-token")
            << QByteArrayList{"Connection: Upgraded"} << QByteArray("Connection") << QByteArray("Upgrade") << false;
    QTest::newRow("suffix-is-not-token")
            << QByteArrayList{"Connection: X-Upgrade"} << QByteArray("Connection") << QByteArray("Upgrade") << false;
    QTest::newRow("token-in-other-field")
            << QByteArrayList{"Connection: close", "Upgrade: Upgrade"}
            << QByteArray("Connection") << QByteArray("Upgrade") << false;
    QTest::newRow("whole-value-is-not-a-token")
            << ka << QByteArray("Connection") << QByteArray("keep-alive, Upgrade") << false;
    QTest::newRow("empty-token") << QByteArrayList{"Connection: a,,b"} << QByteArray("Connection") << QByteArray() << false;
    QTest::newRow("no-field") << QByteArrayList{} << QByteArray("Connection") << QByteArray("Upgrade") << false;
}

void tst_WsHttp::headers_hasToken()
{
    QFETCH(QByteArrayList, lines);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, token);
    QFETCH(bool, expected);
    QCOMPARE(headersOf(lines).hasToken(name, token), expected);
}

// ---- Character classes ----------------------------------------------------------------------

void tst_WsHttp::isToken_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("expected");

    QTest::newRow("rfc7230-3.2.6/websocket") << QByteArray("websocket") << true;
    QTest::newRow("rfc7230-3.2.6/permessage-deflate") << QByteArray("permessage-deflate") << true;
    QTest::newRow("rfc7230-3.2.6/all-tchar-symbols") << QByteArray("!#$%&'*+-.^_`|~") << true;
    QTest::newRow("rfc7230-3.2.6/digits-and-letters") << QByteArray("0123456789azAZ") << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("space") << QByteArray("a b") << false;
    QTest::newRow("tab") << QByteArray("a\tb") << false;
    QTest::newRow("nul") << bytes("a\0b") << false;
    QTest::newRow("del") << QByteArray("a\x7f") << false;
    QTest::newRow("obs-text") << QByteArray("caf\xc3\xa9") << false;
    QTest::newRow("high-byte-0xff") << QByteArray("\xff") << false;
    QTest::newRow("cr") << QByteArray("a\r") << false;
    // Every RFC 7230 §3.2.6 delimiter.
    const char delimiters[] = "\"(),/:;<=>?@[\\]{}";
    for (const char *d = delimiters; *d; ++d)
        QTest::addRow("delimiter-%c", *d) << (QByteArray("a") + *d + 'b') << false;
    QTest::newRow("at-sign-only") << QByteArray("@") << false;
    QTest::newRow("quoted") << QByteArray("\"a\"") << false;
}

void tst_WsHttp::isToken()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, expected);
    QCOMPARE(wsIsToken(input), expected);
    // A header name is a token.
    QCOMPARE(wsIsValidHeaderName(input), expected);
}

void tst_WsHttp::isValidHeaderValue_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("expected");

    QTest::newRow("empty") << QByteArray() << true;
    QTest::newRow("text") << QByteArray("text/plain; charset=utf-8") << true;
    QTest::newRow("spaces-tabs") << QByteArray(" \t a \t ") << true;
    QTest::newRow("quotes-and-delimiters") << QByteArray("a=\"b\", (c); <d>") << true;
    QTest::newRow("obs-text") << QByteArray("caf\xc3\xa9") << true;
    QTest::newRow("cr") << QByteArray("a\rb") << false;
    QTest::newRow("lf") << QByteArray("a\nb") << false;
    QTest::newRow("crlf-injection") << QByteArray("1\r\nSet-Cookie: x=y") << false;
    QTest::newRow("trailing-lf") << QByteArray("a\n") << false;
    QTest::newRow("leading-cr") << QByteArray("\ra") << false;
    QTest::newRow("nul") << bytes("a\0b") << false;
}

void tst_WsHttp::isValidHeaderValue()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, expected);
    QCOMPARE(wsIsValidHeaderValue(input), expected);
}

// ---- WsHttpHeadParser ----------------------------------------------------------------------

void tst_WsHttp::parser_valid_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("after");   // bytes that follow the head and must stay unconsumed
    QTest::addColumn<QByteArray>("startLine");
    QTest::addColumn<QByteArrayList>("headers");

    QTest::newRow("rfc6455-1.3/client-request")
            << QByteArray(kRfcRequest) << QByteArray()
            << QByteArray("GET /chat HTTP/1.1")
            << QByteArrayList{"Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: http://example.com",
                              "Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Version: 13"};
    QTest::newRow("rfc6455-1.3/server-response-then-frame")
            << QByteArray(kRfcResponse) << QByteArray("\x81\x05Hello")
            << QByteArray("HTTP/1.1 101 Switching Protocols")
            << QByteArrayList{"Upgrade: websocket", "Connection: Upgrade",
                              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                              "Sec-WebSocket-Protocol: chat"};
    QTest::newRow("rfc7230-3/start-line-only")
            << QByteArray("GET / HTTP/1.1\r\n\r\n") << QByteArray() << QByteArray("GET / HTTP/1.1") << QByteArrayList{};
    QTest::newRow("rfc7230-3.2.4/ows-trimmed")
            << QByteArray("GET / HTTP/1.1\r\nA:  x y \t\r\nB:\tz\r\nC:w\r\n\r\n") << QByteArray()
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"A: x y", "B: z", "C: w"};
    QTest::newRow("rfc7230-3.2/empty-value")
            << QByteArray("GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank:   \r\n\r\n") << QByteArray()
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"X-Empty: ", "X-Blank: "};
    QTest::newRow("rfc7230-3.2/colon-in-value")
            << QByteArray("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n") << QByteArray()
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"Host: example.com:8080"};
    QTest::newRow("rfc7230-3.2.2/repeated-fields-in-order")
            << QByteArray("GET / HTTP/1.1\r\nX: 1\r\nY: 2\r\nx: 3\r\n\r\n") << QByteArray()
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"X: 1", "Y: 2", "x: 3"};
    QTest::newRow("rfc7230-3.2.6/obs-text-value")
            << QByteArray("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n") << QByteArray()
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"X: caf\xc3\xa9"};
    QTest::newRow("pipelined-second-head-left")
            << QByteArray("GET /a HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
            << QByteArray("GET /a HTTP/1.1") << QByteArrayList{"Host: h"};
    QTest::newRow("crlf-after-head-left")
            << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("\r\n\r\n")
            << QByteArray("GET / HTTP/1.1") << QByteArrayList{"Host: h"};
    QTest::newRow("binary-after-head-left")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n") << bytes("\0\r\n")
            << QByteArray("HTTP/1.1 200 OK") << QByteArrayList{"Content-Length: 3"};
}

void tst_WsHttp::parser_valid()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, after);
    QFETCH(QByteArray, startLine);
    QFETCH(QByteArrayList, headers);

    for (const Feeding &f : feedingsOf(head + after)) {
        WsHttpHeadParser parser(16 * 1024, 100);
        const FeedResult r = feedAll(parser, f.chunks);
        [&] {
            QCOMPARE(r.status, Status::Done);
            QCOMPARE(r.error, WsError::NoError);
            QVERIFY(r.allTakenWhileNeedMore);
            // Exactly the head is consumed: the rest belongs to the next layer.
            QCOMPARE(r.consumed, head.size());
            QCOMPARE(r.startLine, startLine);
            QCOMPARE(linesOf(r.headers), headers);
        }();
        if (QTest::currentTestFailed()) {
            qWarning("feeding: %s", f.label.constData());
            return;
        }
    }
}

void tst_WsHttp::parser_invalid_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("maxSize");
    QTest::addColumn<int>("maxFields");
    QTest::addColumn<WsError>("error");

    const WsError malformed = WsError::HandshakeMalformedRequest;
    const WsError tooLarge = WsError::HandshakeHeaderTooLarge;
    const int big = 16 * 1024;

    QTest::newRow("rfc7230-3.2.4/obs-fold-space")
            << QByteArray("GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2.4/obs-fold-tab")
            << QByteArray("GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2.4/obs-fold-with-colon")
            << QByteArray("GET / HTTP/1.1\r\nX-A: 1\r\n X-B: 2\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2.4/first-field-folded")
            << QByteArray("GET / HTTP/1.1\r\n Host: h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2.4/space-before-colon")
            << QByteArray("GET / HTTP/1.1\r\nHost : h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2.4/tab-before-colon")
            << QByteArray("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2/missing-colon")
            << QByteArray("GET / HTTP/1.1\r\nHost h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2/empty-name")
            << QByteArray("GET / HTTP/1.1\r\n: h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.2/non-token-name")
            << QByteArray("GET / HTTP/1.1\r\nX(y): h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.5/bare-cr-in-value")
            << QByteArray("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.5/bare-cr-at-end-of-value")
            << QByteArray("GET / HTTP/1.1\r\nX: a\r\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.5/bare-cr-in-start-line")
            << QByteArray("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3.5/bare-lf-in-value")
            << QByteArray("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("nul-in-value")
            << bytes("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3/empty-start-line")
            << QByteArray("\r\nHost: h\r\n\r\n") << big << 100 << malformed;
    QTest::newRow("rfc7230-3/only-terminator") << QByteArray("\r\n\r\n") << big << 100 << malformed;

    // Limits: the size of the whole head (start line, fields and the empty line).
    QByteArray flood = "GET / HTTP/1.1\r\nX-Flood: " + QByteArray(300, 'a');
    QTest::newRow("limit/size-never-terminated") << flood << 64 << 100 << tooLarge;
    QTest::newRow("limit/size-terminator-too-late") << flood + "\r\n\r\n" << 64 << 100 << tooLarge;
    QTest::newRow("limit/size-many-small-fields")
            << ("GET / HTTP/1.1\r\n" + QByteArray("X: 1\r\n").repeated(20) + "\r\n") << 64 << 100 << tooLarge;
    QTest::newRow("limit/field-count")
            << QByteArray("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n") << big << 3 << tooLarge;
}

void tst_WsHttp::parser_invalid()
{
    QFETCH(QByteArray, input);
    QFETCH(int, maxSize);
    QFETCH(int, maxFields);
    QFETCH(WsError, error);

    for (const Feeding &f : feedingsOf(input)) {
        WsHttpHeadParser parser(maxSize, maxFields);
        const FeedResult r = feedAll(parser, f.chunks);
        [&] {
            QCOMPARE(r.status, Status::Error);
            QCOMPARE(r.error, error);
            QCOMPARE(parser.error(), error);
            QVERIFY(r.allTakenWhileNeedMore);
            // Bounded: never more than one byte past the limit is taken in.
            QVERIFY2(r.consumed <= qsizetype(maxSize) + 1, QByteArray::number(r.consumed).constData());
        }();
        if (QTest::currentTestFailed()) {
            qWarning("feeding: %s", f.label.constData());
            return;
        }
    }
}

void tst_WsHttp::parser_sizeLimitBoundary_data()
{
    QTest::addColumn<int>("padding");   // bytes added to make the head exactly limit + padding
    QTest::addColumn<bool>("accepted");

    QTest::newRow("rfc6585-5/exactly-at-limit") << 0 << true;
    QTest::newRow("rfc6585-5/one-under-limit") << -1 << true;
    QTest::newRow("rfc6585-5/one-over-limit") << 1 << false;
    QTest::newRow("rfc6585-5/two-over-limit") << 2 << false;
}

void tst_WsHttp::parser_sizeLimitBoundary()
{
    QFETCH(int, padding);
    QFETCH(bool, accepted);

    const int limit = 100;
    const QByteArray start = "GET / HTTP/1.1\r\nX: ";
    const QByteArray end = "\r\n\r\n";
    const QByteArray head = start + QByteArray(limit + padding - start.size() - end.size(), 'v') + end;
    QCOMPARE(head.size(), limit + padding);
    const QByteArray trailing = QByteArray(50, 'T');  // frames after the head do not count

    for (const Feeding &f : feedingsOf(head + trailing)) {
        WsHttpHeadParser parser(limit, 100);
        const FeedResult r = feedAll(parser, f.chunks);
        [&] {
            if (accepted) {
                QCOMPARE(r.status, Status::Done);
                QCOMPARE(r.consumed, head.size());
                QCOMPARE(r.headers.value("X"), QByteArray(limit + padding - start.size() - end.size(), 'v'));
            } else {
                QCOMPARE(r.status, Status::Error);
                QCOMPARE(r.error, WsError::HandshakeHeaderTooLarge);
            }
        }();
        if (QTest::currentTestFailed()) {
            qWarning("feeding: %s", f.label.constData());
            return;
        }
    }
}

void tst_WsHttp::parser_neverTerminatedStopsAtLimit()
{
    // One byte at a time: NeedMore up to the limit, the error as soon as it is passed.
    const int limit = 256;
    const QByteArray flood = "GET / HTTP/1.1\r\nX-Flood: " + QByteArray(1000, 'a');
    WsHttpHeadParser parser(limit, 100);
    for (int i = 0; i < limit; ++i) {
        qsizetype consumed = 0;
        const Status s = parser.feed(flood.constData() + i, 1, &consumed);
        if (s != Status::NeedMore)
            QFAIL(qPrintable(QStringLiteral("left NeedMore at byte %1").arg(i + 1)));
        QCOMPARE(consumed, qsizetype(1));
    }
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(flood.constData() + limit, 1, &consumed), Status::Error);
    QCOMPARE(parser.error(), WsError::HandshakeHeaderTooLarge);
}

void tst_WsHttp::parser_floodFedWholeIsBounded()
{
    // 1 MiB in one call: the parser takes at most limit + 1 bytes to decide.
    const int limit = 16 * 1024;
    const QByteArray flood = "GET / HTTP/1.1\r\nX-Flood: " + QByteArray(1 << 20, 'a');
    WsHttpHeadParser parser(limit, 100);
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(flood.constData(), flood.size(), &consumed), Status::Error);
    QCOMPARE(parser.error(), WsError::HandshakeHeaderTooLarge);
    QVERIFY2(consumed <= limit + 1, QByteArray::number(consumed).constData());

    // Same with a 1 MiB head that does end: the terminator comes too late.
    WsHttpHeadParser late(limit, 100);
    consumed = 0;
    const QByteArray lateHead = flood + "\r\n\r\n";
    QCOMPARE(late.feed(lateHead.constData(), lateHead.size(), &consumed), Status::Error);
    QCOMPARE(late.error(), WsError::HandshakeHeaderTooLarge);
    QVERIFY2(consumed <= limit + 1, QByteArray::number(consumed).constData());
}

void tst_WsHttp::parser_fieldCountBoundary()
{
    QByteArray head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 5; ++i)
        head += "X-" + QByteArray::number(i) + ": " + QByteArray::number(i) + "\r\n";
    head += "\r\n";

    for (int maxFields : {5, 6, 100}) {
        WsHttpHeadParser parser(16 * 1024, maxFields);
        qsizetype consumed = 0;
        QCOMPARE(parser.feed(head.constData(), head.size(), &consumed), Status::Done);
        QCOMPARE(parser.headers().size(), 5);
        QCOMPARE(parser.headers().value("x-4"), QByteArrayLiteral("4"));
    }
    for (int maxFields : {0, 1, 4}) {
        WsHttpHeadParser parser(16 * 1024, maxFields);
        qsizetype consumed = 0;
        QCOMPARE(parser.feed(head.constData(), head.size(), &consumed), Status::Error);
        QCOMPARE(parser.error(), WsError::HandshakeHeaderTooLarge);
    }
}

void tst_WsHttp::parser_staysFinished()
{
    // After Done or Error, feed() consumes nothing and reports the same outcome.
    const QByteArray head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    WsHttpHeadParser done(1024, 10);
    qsizetype consumed = 0;
    QCOMPARE(done.feed(head.constData(), head.size(), &consumed), Status::Done);
    QCOMPARE(consumed, head.size());
    consumed = 0;
    QCOMPARE(done.feed(head.constData(), head.size(), &consumed), Status::Done);
    QCOMPARE(consumed, qsizetype(0));
    QCOMPARE(done.startLine(), QByteArrayLiteral("GET / HTTP/1.1"));
    QCOMPARE(done.headers().size(), 1);

    const QByteArray bad = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
    WsHttpHeadParser failed(1024, 10);
    consumed = 0;
    QCOMPARE(failed.feed(bad.constData(), bad.size(), &consumed), Status::Error);
    consumed = 0;
    QCOMPARE(failed.feed(head.constData(), head.size(), &consumed), Status::Error);
    QCOMPARE(consumed, qsizetype(0));
    QCOMPARE(failed.error(), WsError::HandshakeMalformedRequest);
}

// ---- Sec-WebSocket-Extensions -------------------------------------------------------------

void tst_WsHttp::parseExtensions_data()
{
    QTest::addColumn<QByteArrayList>("values");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QList<WsExtensionOffer>>("expected");

    using Offers = QList<WsExtensionOffer>;
    const QByteArray pmd = "permessage-deflate";

    QTest::newRow("rfc7692-5/no-params") << QByteArrayList{"permessage-deflate"} << true << Offers{offer(pmd)};
    QTest::newRow("rfc7692-7.1.2.1/client_max_window_bits-without-value")
            << QByteArrayList{"permessage-deflate; client_max_window_bits"} << true
            << Offers{offer(pmd, {flag("client_max_window_bits")})};
    QTest::newRow("rfc7692-5.2/offer-with-fallback")
            << QByteArrayList{"permessage-deflate; server_max_window_bits=10, permessage-deflate"} << true
            << Offers{offer(pmd, {param("server_max_window_bits", "10")}), offer(pmd)};
    QTest::newRow("rfc7692-5.1/several-params")
            << QByteArrayList{"permessage-deflate; client_no_context_takeover; server_max_window_bits=15; "
                              "client_max_window_bits"}
            << true
            << Offers{offer(pmd, {flag("client_no_context_takeover"), param("server_max_window_bits", "15"),
                                  flag("client_max_window_bits")})};
    QTest::newRow("rfc6455-9.1/quoted-value-unquoted")
            << QByteArrayList{"permessage-deflate; x=\"10\""} << true << Offers{offer(pmd, {param("x", "10")})};
    QTest::newRow("rfc7230-3.2.6/quoted-pair-unescaped")
            << QByteArrayList{"a; x=\"1\\0\""} << true << Offers{offer("a", {param("x", "10")})};
    QTest::newRow("rfc7230-3.2.3/ows-around-separators")
            << QByteArrayList{" a ;b = 1 ;\tc\t, d "} << true
            << Offers{offer("a", {param("b", "1"), flag("c")}), offer("d")};
    QTest::newRow("no-space-at-all")
            << QByteArrayList{"a;b=1;c,d"} << true << Offers{offer("a", {param("b", "1"), flag("c")}), offer("d")};
    QTest::newRow("rfc7230-7/empty-elements-only") << QByteArrayList{", ,"} << true << Offers{};
    QTest::newRow("rfc7230-7/empty-elements-around")
            << QByteArrayList{", a , , b,"} << true << Offers{offer("a"), offer("b")};
    QTest::newRow("no-header") << QByteArrayList{} << true << Offers{};
    QTest::newRow("empty-header-value") << QByteArrayList{""} << true << Offers{};
    QTest::newRow("rfc7230-3.2.2/several-header-values")
            << QByteArrayList{"permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame, foo; bar=baz"}
            << true
            << Offers{offer(pmd, {flag("client_max_window_bits")}), offer("x-webkit-deflate-frame"),
                      offer("foo", {param("bar", "baz")})};
    QTest::newRow("case-kept") << QByteArrayList{"PerMessage-Deflate; X=Y"} << true
                               << Offers{offer("PerMessage-Deflate", {param("X", "Y")})};

    // Syntax errors.
    QTest::newRow("rfc6455-9.1/param-missing-after-semicolon") << QByteArrayList{"a;"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/value-on-extension-name") << QByteArrayList{"a=b"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/leading-semicolon") << QByteArrayList{";x"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/two-names-without-comma") << QByteArrayList{"a b"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/empty-param-name") << QByteArrayList{"a;=1"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/double-semicolon") << QByteArrayList{"a;;b"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/missing-value") << QByteArrayList{"a; x="} << false << Offers{};
    QTest::newRow("rfc6455-9.1/missing-value-before-comma") << QByteArrayList{"a; x=, b"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/quoted-non-token-value") << QByteArrayList{"a; x=\"1 0\""} << false << Offers{};
    QTest::newRow("rfc6455-9.1/quoted-empty-value") << QByteArrayList{"a; x=\"\""} << false << Offers{};
    QTest::newRow("rfc6455-9.1/quoted-comma-value") << QByteArrayList{"a; x=\"1,2\""} << false << Offers{};
    QTest::newRow("rfc7230-3.2.6/unterminated-quote") << QByteArrayList{"a; x=\"10"} << false << Offers{};
    QTest::newRow("rfc7230-3.2.6/escape-at-end") << QByteArrayList{"a; x=\"10\\"} << false << Offers{};
    QTest::newRow("text-after-quoted-value") << QByteArrayList{"a; x=\"1\"0"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/non-token-unquoted-value") << QByteArrayList{"a; x=@"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/two-equals") << QByteArrayList{"a; x=1=2"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/quoted-extension-name") << QByteArrayList{"\"a\""} << false << Offers{};
    QTest::newRow("rfc6455-9.1/param-after-comma") << QByteArrayList{"a, ;b"} << false << Offers{};
    QTest::newRow("rfc6455-9.1/non-token-name") << QByteArrayList{"a/b"} << false << Offers{};
    QTest::newRow("error-in-second-header-value") << QByteArrayList{"a", "b;"} << false << Offers{};
}

void tst_WsHttp::parseExtensions()
{
    QFETCH(QByteArrayList, values);
    QFETCH(bool, ok);
    QFETCH(QList<WsExtensionOffer>, expected);

    QList<WsExtensionOffer> out;
    QCOMPARE(wsParseExtensions(values, &out), ok);
    if (ok)
        QCOMPARE(out, expected);
}

void tst_WsHttp::formatExtensions_data()
{
    QTest::addColumn<QList<WsExtensionOffer>>("offers");
    QTest::addColumn<QByteArray>("expected");

    using Offers = QList<WsExtensionOffer>;
    const QByteArray pmd = "permessage-deflate";

    QTest::newRow("none") << Offers{} << QByteArray();
    QTest::newRow("rfc7692-5/name-only") << Offers{offer(pmd)} << QByteArray("permessage-deflate");
    QTest::newRow("rfc7692-7.1.2.1/flag-param")
            << Offers{offer(pmd, {flag("client_max_window_bits")})}
            << QByteArray("permessage-deflate; client_max_window_bits");
    QTest::newRow("rfc7692-5.2/offer-with-fallback")
            << Offers{offer(pmd, {param("server_max_window_bits", "10"), flag("client_max_window_bits")}), offer(pmd)}
            << QByteArray("permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate");
    QTest::newRow("rfc7230-3.2.6/non-token-value-quoted")
            << Offers{offer("x", {param("p", "a b")})} << QByteArray("x; p=\"a b\"");
    QTest::newRow("rfc7230-3.2.6/quote-and-backslash-escaped")
            << Offers{offer("x", {param("p", "a\"b\\c")})} << QByteArray("x; p=\"a\\\"b\\\\c\"");
    QTest::newRow("empty-value-quoted") << Offers{offer("x", {param("p", "")})} << QByteArray("x; p=\"\"");
}

void tst_WsHttp::formatExtensions()
{
    QFETCH(QList<WsExtensionOffer>, offers);
    QFETCH(QByteArray, expected);
    QCOMPARE(wsFormatExtensions(offers), expected);
    if (offers.size() == 1)
        QCOMPARE(offers.first().toHeaderValue(), expected);
}

void tst_WsHttp::extensionsRoundTrip_data()
{
    QTest::addColumn<QList<WsExtensionOffer>>("offers");

    using Offers = QList<WsExtensionOffer>;
    const QByteArray pmd = "permessage-deflate";
    QTest::newRow("empty") << Offers{};
    QTest::newRow("rfc7692/single") << Offers{offer(pmd)};
    QTest::newRow("rfc7692/full-offer")
            << Offers{offer(pmd, {flag("client_no_context_takeover"), flag("server_no_context_takeover"),
                                  param("server_max_window_bits", "10"), param("client_max_window_bits", "12")}),
                      offer(pmd, {flag("client_max_window_bits")}), offer(pmd)};
    QTest::newRow("several-extensions")
            << Offers{offer("a", {param("x", "1")}), offer("b"), offer("c", {flag("y"), param("z", "~!#")})};
}

void tst_WsHttp::extensionsRoundTrip()
{
    QFETCH(QList<WsExtensionOffer>, offers);
    const QByteArray header = wsFormatExtensions(offers);
    QList<WsExtensionOffer> parsed;
    QVERIFY(wsParseExtensions({header}, &parsed));
    QCOMPARE(parsed, offers);
    // And through a second header value: lists concatenate.
    QVERIFY(wsParseExtensions({header, header}, &parsed));
    QCOMPARE(parsed, offers + offers);
}

QTEST_APPLESS_MAIN(tst_WsHttp)

#include "tst_wshttp.moc"
