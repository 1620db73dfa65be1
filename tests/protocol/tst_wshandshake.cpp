// RFC 6455 §1.3, §4: the opening handshake, as request/response checks and through
// WsConnection on both sides (server: request -> Request event -> accept/reject; client:
// startHandshake -> response -> Open, Rejected or Error).

#include <wsconnection.h>
#include <wshandshake.h>
#include <wshttp.h>
#include <wsrandom.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearraylist.h>
#include <QtCore/qlist.h>
#include <QtTest/qtest.h>

#include "testutil.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

Q_DECLARE_METATYPE(WsError)

char *toString(WsError error)
{
    return qstrdup(wsErrorName(error));
}

char *toString(WsState state)
{
    return qstrdup(wsStateName(state));
}

namespace {

// RFC 6455 §1.3 / §4.1: the sample nonce, its base64 form and the matching accept value.
const char kNonce[] = "the sample nonce";
const QByteArray kKey = QByteArrayLiteral("dGhlIHNhbXBsZSBub25jZQ==");
const QByteArray kAccept = QByteArrayLiteral("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

// The lines without those of the given header name (case-insensitive).
QByteArrayList without(const QByteArrayList &lines, const QByteArray &name)
{
    QByteArrayList out;
    for (const QByteArray &line : lines)
        if (!line.toLower().startsWith(name.toLower() + ':'))
            out.append(line);
    return out;
}

// The lines with those of the given header name replaced by `replacements` (at the end).
QByteArrayList replaced(const QByteArrayList &lines, const QByteArray &name, const QByteArrayList &replacements)
{
    return without(lines, name) + replacements;
}

QByteArray head(const QByteArray &startLine, const QByteArrayList &lines)
{
    QByteArray out = startLine + "\r\n";
    for (const QByteArray &line : lines)
        out += line + "\r\n";
    return out + "\r\n";
}

// A Chrome-like request (RFC 6455 §1.2 values).
const QByteArray kRequestLine = QByteArrayLiteral("GET /chat?room=1&x=y HTTP/1.1");
const QByteArrayList kRequestLines = {
    "Host: server.example.com",
    "Connection: Upgrade",
    "Pragma: no-cache",
    "Cache-Control: no-cache",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Upgrade: websocket",
    "Origin: http://example.com",
    "Sec-WebSocket-Version: 13",
    "Accept-Encoding: gzip, deflate, br",
    "Accept-Language: en-US,en;q=0.9",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Protocol: chat, superchat",
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
};

QByteArray browserRequest()
{
    return head(kRequestLine, kRequestLines);
}

// RFC 6455 §5.7: a masked "Hello" from the client, and an unmasked one from the server.
const QByteArray kMaskedHello = QByteArray::fromHex("818537fa213d7f9f4d5158");
const QByteArray kServerHello = QByteArray::fromHex("810548656c6c6f");

// A 101 response for kKey; lines follow the status line.
const QByteArrayList k101Lines = {
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
};

QByteArray response101(const QByteArrayList &lines)
{
    return head(QByteArrayLiteral("HTTP/1.1 101 Switching Protocols"), lines);
}

// A TLS 1.2/1.3 ClientHello record, as a TLS client opening on a plain-text port sends.
QByteArray tlsClientHello()
{
    auto u16 = [](int v) { return QByteArray(1, char(v >> 8)) + char(v & 0xff); };
    auto u24 = [](int v) { return QByteArray(1, char(v >> 16)) + char((v >> 8) & 0xff) + char(v & 0xff); };
    auto ext = [&](int type, const QByteArray &data) { return u16(type) + u16(int(data.size())) + data; };

    const QByteArray host = QByteArrayLiteral("server.example.com");
    QByteArray extensions;
    extensions += ext(0x0000, u16(int(host.size()) + 3) + char(0) + u16(int(host.size())) + host);  // server_name
    extensions += ext(0x000a, QByteArray::fromHex("0004001d0017"));                        // supported_groups
    extensions += ext(0x000d, QByteArray::fromHex("000604030804 0401"));                   // signature_algorithms
    extensions += ext(0x002b, QByteArray::fromHex("0403040303"));                          // supported_versions
    extensions += ext(0x0010, QByteArray::fromHex("000c02683208687474702f312e31"));         // ALPN h2, http/1.1

    QByteArray random;
    for (int i = 0; i < 32; ++i)
        random += char(i * 7 + 1);
    QByteArray body = QByteArray::fromHex("0303") + random;
    body += char(32) + QByteArray(32, '\x5a');                          // session id
    body += u16(8) + QByteArray::fromHex("130113021303c02f");          // cipher suites
    body += QByteArray::fromHex("0100");                               // compression: null
    body += u16(int(extensions.size())) + extensions;
    const QByteArray handshake = QByteArray(1, '\x01') + u24(int(body.size())) + body;
    return QByteArray::fromHex("160301") + u16(int(handshake.size())) + handshake;
}

// One way of handing bytes to a connection.
struct Feeding
{
    QByteArray label;
    QByteArrayList chunks;
};

// Whole, one byte per call, and split in two at every offset.
QList<Feeding> feedingsOf(const QByteArray &input)
{
    QList<Feeding> result;
    result.append({QByteArrayLiteral("whole"), {input}});
    Feeding bytewise{QByteArrayLiteral("byte-by-byte"), {}};
    for (char c : input)
        bytewise.chunks.append(QByteArray(1, c));
    result.append(bytewise);
    for (qsizetype k = 1; k < input.size(); ++k)
        result.append({"split@" + QByteArray::number(k), {input.left(k), input.mid(k)}});
    return result;
}

void feed(WsConnection &conn, const QByteArrayList &chunks)
{
    for (const QByteArray &chunk : chunks)
        conn.receiveData(chunk);
}

QByteArrayList eventNames(const std::vector<WsEvent> &events)
{
    QByteArrayList names;
    for (const WsEvent &e : events)
        names.append(wsEventName(e.type));
    return names;
}

// An HTTP message as written by the connection, split by the test itself.
struct HttpMessage
{
    bool complete = false;
    QByteArray startLine;
    WsHttpHeaders headers;
    QByteArray body;
};

HttpMessage splitHttp(const QByteArray &message)
{
    HttpMessage m;
    const qsizetype end = message.indexOf("\r\n\r\n");
    if (end < 0)
        return m;
    m.complete = true;
    m.body = message.mid(end + 4);
    const QByteArray headPart = message.left(end);
    qsizetype pos = 0;
    bool first = true;
    while (pos <= headPart.size()) {
        qsizetype eol = headPart.indexOf("\r\n", pos);
        if (eol < 0)
            eol = headPart.size();
        const QByteArray line = headPart.mid(pos, eol - pos);
        pos = eol + 2;
        if (first) {
            m.startLine = line;
            first = false;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        m.headers.add(line.left(colon), line.mid(colon + 1).trimmed());
    }
    return m;
}

// A client whose key is kKey, offering subprotocols "a" and "b", with its request taken.
struct Client
{
    explicit Client(const QByteArrayList &subprotocols = {"a", "b"}, const WsConnectionOptions &options = {})
        : random(reinterpret_cast<const unsigned char *>(kNonce), 16),
          conn(WsRole::Client, options, &random)
    {
        WsClientHandshake hs;
        hs.host = QByteArrayLiteral("server.example.com");
        hs.target = QByteArrayLiteral("/chat");
        hs.subprotocols = subprotocols;
        started = conn.startHandshake(hs);
        request = conn.takeOutgoing();
    }

    WsFixedRandom random;
    WsConnection conn;
    WsError started = WsError::InternalError;
    QByteArray request;
};

// Reports which feeding failed, after a check in a loop body failed.
#define CHECK_FEEDING(feeding, ...)                                              \
    do {                                                                        \
        [&] { __VA_ARGS__ }();                                                  \
        if (QTest::currentTestFailed()) {                                       \
            qWarning("feeding: %s", (feeding).label.constData());               \
            return;                                                             \
        }                                                                       \
    } while (false)

} // namespace

class tst_WsHandshake : public QObject
{
    Q_OBJECT

private slots:
    // Keys
    void acceptKey_data();
    void acceptKey();
    void generateKey_data();
    void generateKey();

    // WsHandshakeRequest
    void parseRequest_data();
    void parseRequest();
    void parseRequest_values();
    void requestPathQuery_data();
    void requestPathQuery();

    // Server side through WsConnection
    void server_requestEvent();
    void server_framesBeforeAccept();
    void server_accept_data();
    void server_accept();
    void server_acceptInvalid_data();
    void server_acceptInvalid();
    void server_wrongState();
    void server_reject();
    void server_rejectInvalid_data();
    void server_rejectInvalid();
    void server_badRequest_data();
    void server_badRequest();
    void server_headerFlood_data();
    void server_headerFlood();
    void server_sizeLimitBoundary_data();
    void server_sizeLimitBoundary();
    void server_tlsClientHello();
    void server_pipelinedDataLimit_data();
    void server_pipelinedDataLimit();

    // Client side through WsConnection
    void client_startHandshake_data();
    void client_startHandshake();
    void client_startHandshakeInvalid_data();
    void client_startHandshakeInvalid();
    void client_open_data();
    void client_open();
    void client_framesAfter101();
    void client_responseRejected_data();
    void client_responseRejected();
    void client_subprotocolWhenNoneOffered();
    void client_nonSwitchingStatus_data();
    void client_nonSwitchingStatus();
    void client_bodyUntilTransportClosed_data();
    void client_bodyUntilTransportClosed();
    void client_rejectionBodyLimit();
    void client_transportClosedDuringHandshake();
};

// ---- Keys -----------------------------------------------------------------------------------

void tst_WsHandshake::acceptKey_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("accept");

    QTest::newRow("rfc6455-1.3/sample") << kKey << kAccept;
    // Values computed independently (SHA-1 + base64 outside Qt).
    QTest::newRow("x3JJHMbDL1EzLkh9GBhXDw") << QByteArray("x3JJHMbDL1EzLkh9GBhXDw==")
                                            << QByteArray("HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    QTest::newRow("bytes-00-0f") << QByteArray("AAECAwQFBgcICQoLDA0ODw==")
                                 << QByteArray("Bz3qJYTGdOe8gUSpLosEdiLKDrk=");
}

void tst_WsHandshake::acceptKey()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, accept);
    QCOMPARE(wsAcceptKey(key), accept);
}

void tst_WsHandshake::generateKey_data()
{
    QTest::addColumn<QByteArray>("randomBytes");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("rfc6455-4.1/sample-nonce") << QByteArray(kNonce) << kKey;
    QTest::newRow("bytes-00-0f") << QByteArray::fromHex("000102030405060708090a0b0c0d0e0f")
                                 << QByteArray("AAECAwQFBgcICQoLDA0ODw==");
    QTest::newRow("all-ff") << QByteArray(16, '\xff') << QByteArray("/////////////////////w==");
    // A shorter fixed sequence repeats: 37 fa 21 3d four times.
    QTest::newRow("rfc6455-5.7-mask-repeated") << QByteArray::fromHex("37fa213d")
                                               << QByteArray("N/ohPTf6IT03+iE9N/ohPQ==");
}

void tst_WsHandshake::generateKey()
{
    QFETCH(QByteArray, randomBytes);
    QFETCH(QByteArray, expected);

    WsFixedRandom random(reinterpret_cast<const unsigned char *>(randomBytes.constData()),
                         std::size_t(randomBytes.size()));
    const QByteArray key = wsGenerateKey(random);
    QCOMPARE(key, expected);
    QCOMPARE(key.size(), qsizetype(24));
    QCOMPARE(QByteArray::fromBase64(key).size(), qsizetype(16));
}

// ---- WsHandshakeRequest::parse ------------------------------------------------------------

void tst_WsHandshake::parseRequest_data()
{
    QTest::addColumn<QByteArray>("startLine");
    QTest::addColumn<QByteArrayList>("lines");
    QTest::addColumn<WsError>("error");
    QTest::addColumn<int>("status");

    const QByteArray get = kRequestLine;
    const QByteArrayList ok = kRequestLines;

    QTest::newRow("rfc6455-1.2/browser-request") << get << ok << WsError::NoError << 0;

    // Request line.
    QTest::newRow("rfc6455-4.2.1/method-post") << QByteArray("POST /chat HTTP/1.1") << ok
                                               << WsError::HandshakeMethodNotAllowed << 405;
    QTest::newRow("rfc7230-3.1.1/method-case-sensitive") << QByteArray("get /chat HTTP/1.1") << ok
                                                         << WsError::HandshakeMethodNotAllowed << 405;
    QTest::newRow("rfc6455-4.2.1/http-1.0") << QByteArray("GET /chat HTTP/1.0") << ok
                                            << WsError::HandshakeBadHttpVersion << 400;
    QTest::newRow("rfc6455-4.2.1/http-0.9") << QByteArray("GET /chat HTTP/0.9") << ok
                                            << WsError::HandshakeBadHttpVersion << 400;
    QTest::newRow("rfc6455-4.2.1/http-1.2-is-higher") << QByteArray("GET /chat HTTP/1.2") << ok
                                                      << WsError::NoError << 0;
    QTest::newRow("rfc7230-3.1.1/two-parts") << QByteArray("GET /chat") << ok
                                             << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc7230-3.1.1/double-space") << QByteArray("GET  /chat HTTP/1.1") << ok
                                                << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc7230-2.6/bad-version-name") << QByteArray("GET /chat HTTPS/1.1") << ok
                                                  << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc7230-2.6/version-without-minor") << QByteArray("GET /chat HTTP/1") << ok
                                                       << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc7230-5.3/relative-target") << QByteArray("GET chat HTTP/1.1") << ok
                                                 << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc6455-3/absolute-target") << QByteArray("GET ws://server.example.com/chat HTTP/1.1") << ok
                                               << WsError::NoError << 0;

    // Host.
    QTest::newRow("rfc6455-4.2.1/missing-host") << get << without(ok, "Host")
                                                << WsError::HandshakeMissingHost << 400;
    QTest::newRow("rfc6455-4.2.1/two-host") << get << (ok + QByteArrayList{"Host: other.example.com"})
                                            << WsError::HandshakeMissingHost << 400;
    QTest::newRow("rfc6455-4.2.1/empty-host") << get << replaced(ok, "Host", {"Host: "})
                                              << WsError::HandshakeMissingHost << 400;

    // Upgrade.
    QTest::newRow("rfc6455-4.2.1/missing-upgrade") << get << without(ok, "Upgrade")
                                                   << WsError::HandshakeNotUpgrade << 426;
    QTest::newRow("rfc6455-4.2.1/upgrade-h2c") << get << replaced(ok, "Upgrade", {"Upgrade: h2c"})
                                               << WsError::HandshakeNotUpgrade << 426;
    QTest::newRow("rfc6455-4.2.1/upgrade-websocket-prefix") << get << replaced(ok, "Upgrade", {"Upgrade: websockets"})
                                                            << WsError::HandshakeNotUpgrade << 426;
    QTest::newRow("rfc6455-4.2.1/upgrade-case-insensitive") << get << replaced(ok, "Upgrade", {"UPGRADE: WebSocket"})
                                                            << WsError::NoError << 0;
    QTest::newRow("rfc7230-6.7/upgrade-list") << get << replaced(ok, "Upgrade", {"Upgrade: h2c, websocket"})
                                              << WsError::NoError << 0;

    // Connection.
    QTest::newRow("rfc6455-4.2.1/missing-connection") << get << without(ok, "Connection")
                                                      << WsError::HandshakeMissingConnectionUpgrade << 400;
    QTest::newRow("rfc6455-4.2.1/connection-without-upgrade")
            << get << replaced(ok, "Connection", {"Connection: keep-alive"})
            << WsError::HandshakeMissingConnectionUpgrade << 400;
    QTest::newRow("rfc6455-4.2.1/connection-upgraded-is-not-upgrade")
            << get << replaced(ok, "Connection", {"Connection: upgraded"})
            << WsError::HandshakeMissingConnectionUpgrade << 400;
    QTest::newRow("rfc6455-4.2.1/connection-keep-alive-Upgrade")
            << get << replaced(ok, "Connection", {"Connection: keep-alive, Upgrade"}) << WsError::NoError << 0;
    QTest::newRow("rfc6455-4.2.1/connection-case-insensitive")
            << get << replaced(ok, "Connection", {"CONNECTION: UPGRADE"}) << WsError::NoError << 0;
    QTest::newRow("rfc7230-3.2.2/connection-two-fields")
            << get << replaced(ok, "Connection", {"Connection: keep-alive", "Connection: upgrade"})
            << WsError::NoError << 0;

    // Sec-WebSocket-Key.
    QTest::newRow("rfc6455-4.2.1/missing-key") << get << without(ok, "Sec-WebSocket-Key")
                                               << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/key-15-bytes")
            << get << replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O"})
            << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/key-17-bytes")
            << get << replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA="})
            << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/key-not-base64")
            << get << replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!A=="})
            << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/key-unpadded")
            << get << replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"})
            << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/key-empty")
            << get << replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: "}) << WsError::HandshakeBadKey << 400;
    QTest::newRow("rfc6455-4.2.1/two-keys")
            << get << (ok + QByteArrayList{"Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw=="})
            << WsError::HandshakeBadKey << 400;

    // Sec-WebSocket-Version.
    QTest::newRow("rfc6455-4.2.1/version-8")
            << get << replaced(ok, "Sec-WebSocket-Version", {"Sec-WebSocket-Version: 8"})
            << WsError::HandshakeUnsupportedVersion << 426;
    QTest::newRow("rfc6455-4.2.1/version-14")
            << get << replaced(ok, "Sec-WebSocket-Version", {"Sec-WebSocket-Version: 14"})
            << WsError::HandshakeUnsupportedVersion << 426;
    QTest::newRow("rfc6455-4.2.1/missing-version") << get << without(ok, "Sec-WebSocket-Version")
                                                   << WsError::HandshakeUnsupportedVersion << 426;

    // Sec-WebSocket-Extensions and Sec-WebSocket-Protocol grammar.
    QTest::newRow("rfc6455-9.1/malformed-extensions")
            << get << replaced(ok, "Sec-WebSocket-Extensions", {"Sec-WebSocket-Extensions: permessage-deflate;"})
            << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc6455-9.1/extension-quoted-non-token")
            << get << replaced(ok, "Sec-WebSocket-Extensions",
                               {"Sec-WebSocket-Extensions: permessage-deflate; x=\"a b\""})
            << WsError::HandshakeMalformedRequest << 400;
    QTest::newRow("rfc6455-9.1/no-extensions") << get << without(ok, "Sec-WebSocket-Extensions")
                                               << WsError::NoError << 0;
    QTest::newRow("rfc6455-4.1/subprotocol-not-token")
            << get << replaced(ok, "Sec-WebSocket-Protocol", {"Sec-WebSocket-Protocol: chat, a/b"})
            << WsError::HandshakeMalformedRequest << 400;
}

void tst_WsHandshake::parseRequest()
{
    QFETCH(QByteArray, startLine);
    QFETCH(QByteArrayList, lines);
    QFETCH(WsError, error);
    QFETCH(int, status);

    WsHandshakeRequest request;
    QCOMPARE(WsHandshakeRequest::parse(startLine, headersOf(lines), &request), error);
    QCOMPARE(wsHttpStatusFor(error), status);
}

void tst_WsHandshake::parseRequest_values()
{
    WsHandshakeRequest r;
    QCOMPARE(WsHandshakeRequest::parse(kRequestLine, headersOf(kRequestLines), &r), WsError::NoError);
    QCOMPARE(r.method, QByteArrayLiteral("GET"));
    QCOMPARE(r.target, QByteArrayLiteral("/chat?room=1&x=y"));
    QCOMPARE(r.httpVersion, QByteArrayLiteral("HTTP/1.1"));
    QCOMPARE(r.path(), QByteArrayLiteral("/chat"));
    QCOMPARE(r.query(), QByteArrayLiteral("room=1&x=y"));
    QCOMPARE(r.host(), QByteArrayLiteral("server.example.com"));
    QCOMPARE(r.origin(), QByteArrayLiteral("http://example.com"));
    QCOMPARE(r.key(), kKey);
    QCOMPARE(r.subprotocols(), QByteArrayList({"chat", "superchat"}));
    const QList<WsExtensionOffer> ext = r.extensions();
    QCOMPARE(ext.size(), qsizetype(1));
    QCOMPARE(ext.at(0).name, QByteArrayLiteral("permessage-deflate"));
    QCOMPARE(ext.at(0).params.size(), qsizetype(1));
    QCOMPARE(ext.at(0).params.at(0).name, QByteArrayLiteral("client_max_window_bits"));
    QVERIFY(!ext.at(0).params.at(0).hasValue);
    QCOMPARE(r.headers.size(), kRequestLines.size());
    QCOMPARE(r.headers.value("user-agent"),
             QByteArrayLiteral("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                               "Chrome/120.0 Safari/537.36"));

    // The request serializes back to the same head.
    QCOMPARE(r.toBytes(), browserRequest());
}

void tst_WsHandshake::requestPathQuery_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("query");

    QTest::newRow("root") << QByteArray("/") << QByteArray("/") << QByteArray();
    QTest::newRow("path-only") << QByteArray("/a/b") << QByteArray("/a/b") << QByteArray();
    QTest::newRow("rfc3986-3.4/query") << QByteArray("/a?x=1&y=2") << QByteArray("/a") << QByteArray("x=1&y=2");
    QTest::newRow("rfc3986-3.4/empty-query") << QByteArray("/a?") << QByteArray("/a") << QByteArray();
    QTest::newRow("rfc3986-3.4/question-mark-in-query") << QByteArray("/a?b?c") << QByteArray("/a")
                                                        << QByteArray("b?c");
}

void tst_WsHandshake::requestPathQuery()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, query);
    WsHandshakeRequest r;
    r.target = target;
    QCOMPARE(r.path(), path);
    QCOMPARE(r.query(), query);
}

// ---- Server --------------------------------------------------------------------------------

void tst_WsHandshake::server_requestEvent()
{
    for (const Feeding &f : feedingsOf(browserRequest())) {
        WsConnection server(WsRole::Server);
        feed(server, f.chunks);
        const std::vector<WsEvent> events = server.takeEvents();
        CHECK_FEEDING(f, {
            QCOMPARE(eventNames(events), QByteArrayList{"Request"});
            QCOMPARE(server.state(), WsState::Connecting);
            QVERIFY(!server.shouldCloseTransport());
            QCOMPARE(server.takeOutgoing(), QByteArray());
            QCOMPARE(server.request().method, QByteArrayLiteral("GET"));
            QCOMPARE(server.request().path(), QByteArrayLiteral("/chat"));
            QCOMPARE(server.request().query(), QByteArrayLiteral("room=1&x=y"));
            QCOMPARE(server.request().host(), QByteArrayLiteral("server.example.com"));
            QCOMPARE(server.request().origin(), QByteArrayLiteral("http://example.com"));
            QCOMPARE(server.request().key(), kKey);
            QCOMPARE(server.request().subprotocols(), QByteArrayList({"chat", "superchat"}));
            QCOMPARE(wsFormatExtensions(server.request().extensions()),
                     QByteArrayLiteral("permessage-deflate; client_max_window_bits"));
        });
    }
}

void tst_WsHandshake::server_framesBeforeAccept()
{
    // A client frame pipelined right behind the request is kept and delivered after accept().
    for (const Feeding &f : feedingsOf(browserRequest() + kMaskedHello)) {
        WsConnection server(WsRole::Server);
        feed(server, f.chunks);
        const std::vector<WsEvent> before = server.takeEvents();
        CHECK_FEEDING(f, {
            QCOMPARE(eventNames(before), QByteArrayList{"Request"});
            QCOMPARE(server.accept(), WsError::NoError);
            const std::vector<WsEvent> after = server.takeEvents();
            QCOMPARE(eventNames(after), QByteArrayList({"Open", "Message"}));
            QCOMPARE(after[1].opcode, WsOpcode::Text);
            QCOMPARE(after[1].data, QByteArrayLiteral("Hello"));
            QCOMPARE(server.state(), WsState::Open);
        });
    }
}

void tst_WsHandshake::server_accept_data()
{
    QTest::addColumn<QByteArray>("subprotocol");
    QTest::addColumn<QByteArrayList>("extraLines");

    QTest::newRow("rfc6455-4.2.2/subprotocol-chat-with-extra-headers")
            << QByteArray("chat") << QByteArrayList{"X-Extra: 1", "Set-Cookie: id=42; HttpOnly"};
    QTest::newRow("rfc6455-4.2.2/second-offer") << QByteArray("superchat") << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.2/no-subprotocol") << QByteArray() << QByteArrayList{"Server: WsKit"};
}

void tst_WsHandshake::server_accept()
{
    QFETCH(QByteArray, subprotocol);
    QFETCH(QByteArrayList, extraLines);

    WsConnection server(WsRole::Server);
    server.receiveData(browserRequest());
    QCOMPARE(eventNames(server.takeEvents()), QByteArrayList{"Request"});

    WsAcceptOptions options;
    options.subprotocol = subprotocol;
    options.headers = headersOf(extraLines);
    QCOMPARE(server.accept(options), WsError::NoError);

    QCOMPARE(eventNames(server.takeEvents()), QByteArrayList{"Open"});
    QCOMPARE(server.state(), WsState::Open);
    QVERIFY(!server.shouldCloseTransport());
    QCOMPARE(server.subprotocol(), subprotocol);
    QCOMPARE(server.response().status, 101);

    const HttpMessage m = splitHttp(server.takeOutgoing());
    QVERIFY(m.complete);
    QCOMPARE(m.startLine, QByteArrayLiteral("HTTP/1.1 101 Switching Protocols"));
    QCOMPARE(m.body, QByteArray());   // nothing after the head: no body, no frame
    const WsHttpHeaders &h = m.headers;
    QCOMPARE(h.count("Upgrade"), 1);
    QCOMPARE(h.value("Upgrade"), QByteArrayLiteral("websocket"));
    QCOMPARE(h.count("Connection"), 1);
    QCOMPARE(h.value("Connection"), QByteArrayLiteral("Upgrade"));
    QCOMPARE(h.count("Sec-WebSocket-Accept"), 1);
    QCOMPARE(h.value("Sec-WebSocket-Accept"), kAccept);
    // No extension factory is configured: the permessage-deflate offer is declined.
    QVERIFY(!h.contains("Sec-WebSocket-Extensions"));
    if (subprotocol.isEmpty()) {
        QVERIFY(!h.contains("Sec-WebSocket-Protocol"));
    } else {
        QCOMPARE(h.count("Sec-WebSocket-Protocol"), 1);
        QCOMPARE(h.value("Sec-WebSocket-Protocol"), subprotocol);
    }
    const WsHttpHeaders extra = headersOf(extraLines);
    for (const WsHttpHeaders::Field &f : extra.fields())
        QCOMPARE(h.value(f.first), f.second);
    QCOMPARE(h.size(), 3 + (subprotocol.isEmpty() ? 0 : 1) + extra.size());

    // Open for real: a server frame is unmasked.
    QCOMPARE(server.sendText(QByteArrayView("Hello")), WsError::NoError);
    QCOMPARE(server.takeOutgoing(), kServerHello);
}

void tst_WsHandshake::server_acceptInvalid_data()
{
    QTest::addColumn<QByteArray>("subprotocol");
    QTest::addColumn<QByteArrayList>("extraLines");

    QTest::newRow("rfc6455-4.2.2/subprotocol-not-offered") << QByteArray("mqtt") << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.2/subprotocol-whole-list") << QByteArray("chat, superchat") << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.2/subprotocol-prefix") << QByteArray("cha") << QByteArrayList{};
    QTest::newRow("rfc7230-3.2/extra-value-crlf") << QByteArray() << QByteArrayList{"X-A: 1\r\nEvil: 2"};
    QTest::newRow("rfc7230-3.2/extra-value-lf") << QByteArray() << QByteArrayList{"X-A: 1\nEvil: 2"};
    QTest::newRow("rfc7230-3.2/extra-name-not-token") << QByteArray() << QByteArrayList{"X A: 1"};
    QTest::newRow("reserved/Sec-WebSocket-Accept") << QByteArray() << QByteArrayList{"Sec-WebSocket-Accept: x"};
    QTest::newRow("reserved/upgrade-lowercase") << QByteArray() << QByteArrayList{"upgrade: h2c"};
    QTest::newRow("reserved/Sec-WebSocket-Protocol") << QByteArray() << QByteArrayList{"Sec-WebSocket-Protocol: chat"};
}

void tst_WsHandshake::server_acceptInvalid()
{
    QFETCH(QByteArray, subprotocol);
    QFETCH(QByteArrayList, extraLines);

    WsConnection server(WsRole::Server);
    server.receiveData(browserRequest());
    QCOMPARE(eventNames(server.takeEvents()), QByteArrayList{"Request"});

    WsAcceptOptions options;
    options.subprotocol = subprotocol;
    options.headers = headersOf(extraLines);
    QCOMPARE(server.accept(options), WsError::InvalidArgument);
    // Nothing sent, nothing changed: the application may still answer.
    QCOMPARE(server.takeOutgoing(), QByteArray());
    QVERIFY(server.takeEvents().empty());
    QCOMPARE(server.state(), WsState::Connecting);
    QCOMPARE(server.subprotocol(), QByteArray());

    QCOMPARE(server.accept(), WsError::NoError);
    QVERIFY(server.takeOutgoing().startsWith("HTTP/1.1 101 "));
    QCOMPARE(server.state(), WsState::Open);
}

void tst_WsHandshake::server_wrongState()
{
    // Before any request.
    {
        WsConnection server(WsRole::Server);
        QCOMPARE(server.accept(), WsError::InvalidState);
        QCOMPARE(server.reject(403), WsError::InvalidState);
        server.receiveData(browserRequest().left(40));  // part of a request
        QCOMPARE(server.accept(), WsError::InvalidState);
        QCOMPARE(server.takeOutgoing(), QByteArray());
        QCOMPARE(server.state(), WsState::Connecting);
    }
    // Twice.
    {
        WsConnection server(WsRole::Server);
        server.receiveData(browserRequest());
        QCOMPARE(server.accept(), WsError::NoError);
        server.takeOutgoing();
        QCOMPARE(server.accept(), WsError::InvalidState);
        QCOMPARE(server.reject(403), WsError::InvalidState);
        QCOMPARE(server.takeOutgoing(), QByteArray());
        QCOMPARE(server.state(), WsState::Open);
    }
    // Client-side calls on a server and server-side calls on a client.
    {
        WsConnection server(WsRole::Server);
        WsClientHandshake hs;
        hs.host = QByteArrayLiteral("h");
        QCOMPARE(server.startHandshake(hs), WsError::InvalidState);
        Client client;
        QCOMPARE(client.started, WsError::NoError);
        QCOMPARE(client.conn.accept(), WsError::InvalidState);
        QCOMPARE(client.conn.reject(403), WsError::InvalidState);
    }
}

void tst_WsHandshake::server_reject()
{
    WsConnection server(WsRole::Server);
    server.receiveData(browserRequest());
    QCOMPARE(eventNames(server.takeEvents()), QByteArrayList{"Request"});

    QCOMPARE(server.reject(403, QByteArrayLiteral("nope")), WsError::NoError);

    const HttpMessage m = splitHttp(server.takeOutgoing());
    QVERIFY(m.complete);
    QCOMPARE(m.startLine, QByteArrayLiteral("HTTP/1.1 403 Forbidden"));
    QCOMPARE(m.headers.count("Content-Length"), 1);
    QCOMPARE(m.headers.value("Content-Length"), QByteArrayLiteral("4"));
    QCOMPARE(m.headers.count("Connection"), 1);
    QCOMPARE(m.headers.value("Connection"), QByteArrayLiteral("close"));
    QVERIFY(!m.headers.contains("Sec-WebSocket-Accept"));
    QVERIFY(!m.headers.contains("Upgrade"));
    QCOMPARE(m.body, QByteArrayLiteral("nope"));

    const std::vector<WsEvent> events = server.takeEvents();
    QCOMPARE(eventNames(events), QByteArrayList{"Closed"});
    QCOMPARE(events[0].close.error, WsError::HandshakeRejected);
    QCOMPARE(server.state(), WsState::Closed);
    QVERIFY(server.shouldCloseTransport());
    QCOMPARE(server.response().status, 403);

    // Over: more bytes and calls change nothing.
    server.receiveData(kMaskedHello);
    server.transportClosed();
    QVERIFY(server.takeEvents().empty());
    QCOMPARE(server.takeOutgoing(), QByteArray());
    QCOMPARE(server.accept(), WsError::InvalidState);
    QCOMPARE(server.state(), WsState::Closed);
}

void tst_WsHandshake::server_rejectInvalid_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArrayList>("extraLines");

    QTest::newRow("status-101") << 101 << QByteArrayList{};
    QTest::newRow("status-199") << 199 << QByteArrayList{};
    QTest::newRow("status-600") << 600 << QByteArrayList{};
    QTest::newRow("status-0") << 0 << QByteArrayList{};
    QTest::newRow("rfc7230-3.2/header-value-crlf") << 401 << QByteArrayList{"WWW-Authenticate: x\r\nEvil: 1"};
    QTest::newRow("rfc7230-3.2/header-name-not-token") << 401 << QByteArrayList{"WWW Authenticate: x"};
}

void tst_WsHandshake::server_rejectInvalid()
{
    QFETCH(int, status);
    QFETCH(QByteArrayList, extraLines);

    WsConnection server(WsRole::Server);
    server.receiveData(browserRequest());
    server.takeEvents();
    QCOMPARE(server.reject(status, QByteArrayLiteral("x"), headersOf(extraLines)), WsError::InvalidArgument);
    QCOMPARE(server.takeOutgoing(), QByteArray());
    QVERIFY(server.takeEvents().empty());
    QCOMPARE(server.state(), WsState::Connecting);

    // Still answerable, and extra headers make it into a valid rejection.
    WsHttpHeaders h;
    h.add(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Basic realm=\"ws\""));
    QCOMPARE(server.reject(401, QByteArray(), h), WsError::NoError);
    const HttpMessage m = splitHttp(server.takeOutgoing());
    QCOMPARE(m.startLine, QByteArrayLiteral("HTTP/1.1 401 Unauthorized"));
    QCOMPARE(m.headers.value("WWW-Authenticate"), QByteArrayLiteral("Basic realm=\"ws\""));
    QCOMPARE(m.headers.value("Content-Length"), QByteArray::number(m.body.size()));
    QCOMPARE(server.state(), WsState::Closed);
}

void tst_WsHandshake::server_badRequest_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<WsError>("error");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArrayList>("expectedLines");   // must be in the response

    const QByteArray get = kRequestLine;
    const QByteArrayList ok = kRequestLines;

    QTest::newRow("rfc6455-4.4/version-8")
            << head(get, replaced(ok, "Sec-WebSocket-Version", {"Sec-WebSocket-Version: 8"}))
            << WsError::HandshakeUnsupportedVersion << 426 << QByteArrayList{"Sec-WebSocket-Version: 13"};
    QTest::newRow("rfc6455-4.4/missing-version")
            << head(get, without(ok, "Sec-WebSocket-Version"))
            << WsError::HandshakeUnsupportedVersion << 426 << QByteArrayList{"Sec-WebSocket-Version: 13"};
    QTest::newRow("rfc6455-4.2.1/plain-http-get")
            << QByteArray("GET /index.html HTTP/1.1\r\nHost: server.example.com\r\nAccept: */*\r\n\r\n")
            << WsError::HandshakeNotUpgrade << 426 << QByteArrayList{"Sec-WebSocket-Version: 13"};
    QTest::newRow("rfc6455-4.2.1/post") << head("POST /chat HTTP/1.1", ok)
                                        << WsError::HandshakeMethodNotAllowed << 405 << QByteArrayList{"Allow: GET"};
    QTest::newRow("rfc6455-4.2.1/http-1.0") << head("GET /chat HTTP/1.0", ok)
                                            << WsError::HandshakeBadHttpVersion << 400 << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.1/missing-host") << head(get, without(ok, "Host"))
                                                << WsError::HandshakeMissingHost << 400 << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.1/missing-connection-upgrade")
            << head(get, replaced(ok, "Connection", {"Connection: keep-alive"}))
            << WsError::HandshakeMissingConnectionUpgrade << 400 << QByteArrayList{};
    QTest::newRow("rfc6455-4.2.1/key-15-bytes")
            << head(get, replaced(ok, "Sec-WebSocket-Key", {"Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O"}))
            << WsError::HandshakeBadKey << 400 << QByteArrayList{};
    QTest::newRow("rfc6455-9.1/malformed-extensions")
            << head(get, replaced(ok, "Sec-WebSocket-Extensions", {"Sec-WebSocket-Extensions: ;x"}))
            << WsError::HandshakeMalformedRequest << 400 << QByteArrayList{};
    QTest::newRow("rfc7230-3.2.4/obs-fold")
            << head(get, ok + QByteArrayList{"X-A: 1", " continued"})
            << WsError::HandshakeMalformedRequest << 400 << QByteArrayList{};
    QTest::newRow("rfc7230-3.2.4/space-before-colon")
            << head(get, replaced(ok, "Host", {"Host : server.example.com"}))
            << WsError::HandshakeMalformedRequest << 400 << QByteArrayList{};
    QByteArrayList many = ok;
    for (qsizetype i = many.size(); i <= WsLimits().maxHeaderCount; ++i)
        many.append("X-Field-" + QByteArray::number(i) + ": v");
    QTest::newRow("rfc6585-5/too-many-fields") << head(get, many)
                                               << WsError::HandshakeHeaderTooLarge << 431 << QByteArrayList{};
    QTest::newRow("tls-clienthello-then-crlfcrlf") << tlsClientHello() + "\r\n\r\n"
                                                   << WsError::HandshakeMalformedRequest << 400 << QByteArrayList{};
}

void tst_WsHandshake::server_badRequest()
{
    QFETCH(QByteArray, request);
    QFETCH(WsError, error);
    QFETCH(int, status);
    QFETCH(QByteArrayList, expectedLines);

    for (const Feeding &f : feedingsOf(request)) {
        WsConnection server(WsRole::Server);
        feed(server, f.chunks);
        server.receiveData(kMaskedHello);  // ignored once failed
        const std::vector<WsEvent> events = server.takeEvents();
        const QByteArray out = server.takeOutgoing();
        CHECK_FEEDING(f, {
            QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
            QCOMPARE(events[0].error, error);
            QCOMPARE(events[1].close.error, error);
            QCOMPARE(server.error(), error);
            QCOMPARE(server.state(), WsState::Failed);
            QVERIFY(server.shouldCloseTransport());
            QCOMPARE(server.response().status, status);

            const HttpMessage m = splitHttp(out);
            QVERIFY(m.complete);
            QVERIFY2(m.startLine.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), m.startLine.constData());
            QCOMPARE(m.headers.value("Connection"), QByteArrayLiteral("close"));
            QVERIFY(!m.headers.contains("Sec-WebSocket-Accept"));
            QVERIFY(!m.body.isEmpty());
            QCOMPARE(m.headers.value("Content-Length"), QByteArray::number(m.body.size()));
            const WsHttpHeaders expected = headersOf(expectedLines);
            for (const WsHttpHeaders::Field &field : expected.fields())
                QCOMPARE(m.headers.value(field.first), field.second);
        });
    }
}

void tst_WsHandshake::server_headerFlood_data()
{
    QTest::addColumn<QByteArray>("flood");

    QTest::newRow("rfc6585-5/one-huge-field")
            << ("GET / HTTP/1.1\r\nHost: h\r\nX-Flood: " + QByteArray(1 << 20, 'a'));
    QTest::newRow("rfc6585-5/many-small-fields")
            << ("GET / HTTP/1.1\r\nHost: h\r\n" + QByteArray("X-Flood: a\r\n").repeated((1 << 20) / 12));
    QTest::newRow("rfc6585-5/no-line-break") << QByteArray(1 << 20, 'G');
}

void tst_WsHandshake::server_headerFlood()
{
    QFETCH(QByteArray, flood);
    QVERIFY(flood.size() >= (1 << 20));

    const qsizetype limit = WsLimits().maxHandshakeSize;
    const qsizetype chunk = 4096;

    // In chunks, as from a socket: the connection fails as soon as the limit is passed.
    {
        WsConnection server(WsRole::Server);
        qsizetype fed = 0;
        while (fed < flood.size() && server.state() == WsState::Connecting) {
            const qsizetype n = std::min(chunk, flood.size() - fed);
            server.receiveData(flood.constData() + fed, n);
            fed += n;
        }
        QCOMPARE(server.state(), WsState::Failed);
        QVERIFY2(fed <= limit + chunk, QByteArray::number(fed).constData());
        QVERIFY(fed < flood.size());
        const std::vector<WsEvent> events = server.takeEvents();
        QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
        QCOMPARE(events[0].error, WsError::HandshakeHeaderTooLarge);
        QVERIFY(server.shouldCloseTransport());
        const HttpMessage m = splitHttp(server.takeOutgoing());
        QVERIFY(m.startLine.startsWith("HTTP/1.1 431 "));
        QCOMPARE(m.headers.value("Connection"), QByteArrayLiteral("close"));
    }
    // All of it in one call.
    {
        WsConnection server(WsRole::Server);
        server.receiveData(flood);
        QCOMPARE(server.state(), WsState::Failed);
        QCOMPARE(server.error(), WsError::HandshakeHeaderTooLarge);
        QVERIFY(server.takeOutgoing().startsWith("HTTP/1.1 431 "));
    }
}

void tst_WsHandshake::server_sizeLimitBoundary_data()
{
    QTest::addColumn<int>("extra");   // request size minus the limit
    QTest::addColumn<bool>("accepted");

    QTest::newRow("rfc6585-5/exactly-at-limit") << 0 << true;
    QTest::newRow("rfc6585-5/one-under-limit") << -1 << true;
    QTest::newRow("rfc6585-5/one-over-limit") << 1 << false;
}

void tst_WsHandshake::server_sizeLimitBoundary()
{
    QFETCH(int, extra);
    QFETCH(bool, accepted);

    const int limit = 300;
    WsConnectionOptions options;
    options.limits.maxHandshakeSize = limit;

    const QByteArray start = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Pad: ";
    const QByteArray end = "\r\n\r\n";
    const QByteArray request = start + QByteArray(limit + extra - start.size() - end.size(), 'p') + end;
    QCOMPARE(request.size(), limit + extra);

    for (const Feeding &f : feedingsOf(request)) {
        WsConnection server(WsRole::Server, options);
        qsizetype fed = 0;
        bool failedEarly = false;
        for (const QByteArray &c : f.chunks) {
            if (server.state() != WsState::Connecting)
                failedEarly = true;
            server.receiveData(c);
            fed += c.size();
        }
        const std::vector<WsEvent> events = server.takeEvents();
        CHECK_FEEDING(f, {
            QVERIFY(!failedEarly);
            if (accepted) {
                QCOMPARE(eventNames(events), QByteArrayList{"Request"});
            } else {
                QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
                QCOMPARE(events[0].error, WsError::HandshakeHeaderTooLarge);
                QVERIFY(server.takeOutgoing().startsWith("HTTP/1.1 431 "));
            }
        });
    }

    // A head that never ends fails with the byte after the limit, not later.
    if (!accepted) {
        const QByteArray endless = start + QByteArray(limit, 'p');
        WsConnection server(WsRole::Server, options);
        for (qsizetype i = 0; i < limit; ++i)
            server.receiveData(endless.constData() + i, 1);
        QCOMPARE(server.state(), WsState::Connecting);
        server.receiveData(endless.constData() + limit, 1);
        QCOMPARE(server.state(), WsState::Failed);
        QCOMPARE(server.error(), WsError::HandshakeHeaderTooLarge);
    }
}

void tst_WsHandshake::server_tlsClientHello()
{
    // A TLS client connecting to the plain-text port: the bytes cannot be an HTTP request
    // (the first one is 0x16, not a method character), so the server should answer 400 at once.
    const QByteArray hello = tlsClientHello();
    QVERIFY(hello.startsWith("\x16\x03\x01"));
    QVERIFY(!hello.contains("\r\n\r\n"));   // a real ClientHello has no HTTP head terminator

    WsConnection server(WsRole::Server);
    server.receiveData(hello);
    const std::vector<WsEvent> events = server.takeEvents();
    // The control bytes fail the head parser at once: no waiting for a blank line.
    QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
    QCOMPARE(events[0].error, WsError::HandshakeMalformedRequest);
    QCOMPARE(server.state(), WsState::Failed);
    QVERIFY(server.shouldCloseTransport());
    QVERIFY(server.takeOutgoing().startsWith("HTTP/1.1 400 "));
}

void tst_WsHandshake::server_pipelinedDataLimit_data()
{
    QTest::addColumn<int>("payloadSize");   // of one masked binary frame sent right after the request
    QTest::addColumn<bool>("sameCall");     // request and frame in one receiveData() call
    QTest::addColumn<bool>("fails");

    // Up to maxHandshakeSize bytes are kept for accept(); more fail the handshake (400).
    QTest::newRow("rfc6455-4.1/under-limit/same-call") << 1000 << true << false;
    QTest::newRow("rfc6455-4.1/under-limit/separate-call") << 1000 << false << false;
    QTest::newRow("rfc6455-4.1/over-limit/separate-call") << 20000 << false << true;
    QTest::newRow("rfc6455-4.1/over-limit/same-call") << 20000 << true << true;
}

void tst_WsHandshake::server_pipelinedDataLimit()
{
    QFETCH(int, payloadSize);
    QFETCH(bool, sameCall);
    QFETCH(bool, fails);

    // Masked with the all-zero key, so the payload is readable as is.
    QByteArray frame = QByteArray::fromHex("82fe") + char(payloadSize >> 8) + char(payloadSize & 0xff)
            + QByteArray(4, '\0') + QByteArray(payloadSize, 'p');

    WsConnection server(WsRole::Server);
    if (sameCall) {
        server.receiveData(browserRequest() + frame);
    } else {
        server.receiveData(browserRequest());
        server.receiveData(frame);
    }
    const std::vector<WsEvent> events = server.takeEvents();
    if (fails) {
        // The bound on data received before accept() holds however the bytes are split.
        QCOMPARE(server.state(), WsState::Failed);
        QCOMPARE(eventNames(events), QByteArrayList({"Request", "Error", "Closed"}));
        QCOMPARE(events[1].error, WsError::HandshakeMalformedRequest);
        QVERIFY(server.takeOutgoing().startsWith("HTTP/1.1 400 "));
        QCOMPARE(server.accept(), WsError::InvalidState);
    } else {
        QCOMPARE(server.state(), WsState::Connecting);
        QCOMPARE(eventNames(events), QByteArrayList{"Request"});
        QCOMPARE(server.accept(), WsError::NoError);
        const std::vector<WsEvent> after = server.takeEvents();
        QCOMPARE(eventNames(after), QByteArrayList({"Open", "Message"}));
        QCOMPARE(after[1].data, QByteArray(payloadSize, 'p'));
    }
}

// ---- Client --------------------------------------------------------------------------------

void tst_WsHandshake::client_startHandshake_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArrayList>("subprotocols");
    QTest::addColumn<QByteArrayList>("extraLines");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("rfc6455-4.1/full")
            << QByteArray("server.example.com:8080") << QByteArray("/chat?x=1") << QByteArray("http://example.com")
            << QByteArrayList{"a", "b"} << QByteArrayList{"X-Extra: 1"}
            << QByteArray("GET /chat?x=1 HTTP/1.1\r\n"
                          "Host: server.example.com:8080\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Origin: http://example.com\r\n"
                          "Sec-WebSocket-Protocol: a, b\r\n"
                          "X-Extra: 1\r\n"
                          "\r\n");
    QTest::newRow("rfc6455-4.1/minimal")
            << QByteArray("example.com") << QByteArray("/") << QByteArray() << QByteArrayList{} << QByteArrayList{}
            << QByteArray("GET / HTTP/1.1\r\n"
                          "Host: example.com\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "\r\n");
    QTest::newRow("rfc6455-4.1/one-subprotocol-two-extras")
            << QByteArray("[::1]:9000") << QByteArray("/ws") << QByteArray()
            << QByteArrayList{"graphql-ws"} << QByteArrayList{"Authorization: Bearer t0k3n", "Cookie: a=b; c=d"}
            << QByteArray("GET /ws HTTP/1.1\r\n"
                          "Host: [::1]:9000\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Protocol: graphql-ws\r\n"
                          "Authorization: Bearer t0k3n\r\n"
                          "Cookie: a=b; c=d\r\n"
                          "\r\n");
}

void tst_WsHandshake::client_startHandshake()
{
    QFETCH(QByteArray, host);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, origin);
    QFETCH(QByteArrayList, subprotocols);
    QFETCH(QByteArrayList, extraLines);
    QFETCH(QByteArray, expected);

    WsFixedRandom random(reinterpret_cast<const unsigned char *>(kNonce), 16);
    WsConnection client(WsRole::Client, {}, &random);
    WsClientHandshake hs;
    hs.host = host;
    hs.target = target;
    hs.origin = origin;
    hs.subprotocols = subprotocols;
    hs.headers = headersOf(extraLines);
    QCOMPARE(client.startHandshake(hs), WsError::NoError);
    QCOMPARE(client.takeOutgoing(), expected);
    QCOMPARE(client.request().key(), kKey);
    QCOMPARE(client.state(), WsState::Connecting);
    QVERIFY(client.takeEvents().empty());
    QVERIFY(!client.shouldCloseTransport());

    // Once only.
    QCOMPARE(client.startHandshake(hs), WsError::InvalidState);
    QCOMPARE(client.takeOutgoing(), QByteArray());
}

void tst_WsHandshake::client_startHandshakeInvalid_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArrayList>("subprotocols");
    QTest::addColumn<QByteArrayList>("extraLines");

    const QByteArray h = "example.com";
    const QByteArray t = "/";
    auto extra = [&](const char *tag, const QByteArray &line) {
        QTest::newRow(tag) << h << t << QByteArray() << QByteArrayList{} << QByteArrayList{line};
    };
    extra("reserved/Sec-WebSocket-Key", "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==");
    extra("reserved/sec-websocket-key-lowercase", "sec-websocket-key: AAECAwQFBgcICQoLDA0ODw==");
    extra("reserved/Host", "Host: evil.example.com");
    extra("reserved/Upgrade", "Upgrade: h2c");
    extra("reserved/Connection", "Connection: close");
    extra("reserved/Sec-WebSocket-Version", "Sec-WebSocket-Version: 8");
    extra("reserved/Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: x");
    extra("reserved/Sec-WebSocket-Extensions", "Sec-WebSocket-Extensions: permessage-deflate");
    extra("reserved/Content-Length", "Content-Length: 5");
    extra("rfc7230-3.2/value-cr", "X-A: 1\r2");
    extra("rfc7230-3.2/value-lf", "X-A: 1\n2");
    extra("rfc7230-3.2/value-crlf-injection", "X-A: 1\r\nSec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==");
    extra("rfc7230-3.2/name-not-token", "X A: 1");

    QTest::newRow("host-empty") << QByteArray() << t << QByteArray() << QByteArrayList{} << QByteArrayList{};
    QTest::newRow("host-crlf") << QByteArray("example.com\r\nX: 1") << t << QByteArray() << QByteArrayList{}
                               << QByteArrayList{};
    QTest::newRow("origin-lf") << h << t << QByteArray("http://a\nX: 1") << QByteArrayList{} << QByteArrayList{};
    QTest::newRow("rfc6455-3/target-relative") << h << QByteArray("chat") << QByteArray() << QByteArrayList{}
                                               << QByteArrayList{};
    QTest::newRow("target-space") << h << QByteArray("/a b") << QByteArray() << QByteArrayList{} << QByteArrayList{};
    QTest::newRow("target-crlf") << h << QByteArray("/a\r\nX: 1") << QByteArray() << QByteArrayList{}
                                 << QByteArrayList{};
    QTest::newRow("rfc6455-4.1/subprotocol-not-token") << h << t << QByteArray() << QByteArrayList{"a b"}
                                                       << QByteArrayList{};
    QTest::newRow("rfc6455-4.1/subprotocol-with-comma") << h << t << QByteArray() << QByteArrayList{"a,b"}
                                                        << QByteArrayList{};
    QTest::newRow("rfc6455-4.1/subprotocol-empty") << h << t << QByteArray() << QByteArrayList{"a", ""}
                                                   << QByteArrayList{};
}

void tst_WsHandshake::client_startHandshakeInvalid()
{
    QFETCH(QByteArray, host);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, origin);
    QFETCH(QByteArrayList, subprotocols);
    QFETCH(QByteArrayList, extraLines);

    WsFixedRandom random(reinterpret_cast<const unsigned char *>(kNonce), 16);
    WsConnection client(WsRole::Client, {}, &random);
    WsClientHandshake hs;
    hs.host = host;
    hs.target = target;
    hs.origin = origin;
    hs.subprotocols = subprotocols;
    hs.headers = headersOf(extraLines);
    QCOMPARE(client.startHandshake(hs), WsError::InvalidArgument);
    QCOMPARE(client.takeOutgoing(), QByteArray());
    QVERIFY(client.takeEvents().empty());
    QCOMPARE(client.state(), WsState::Connecting);

    // A failed call does not use up the handshake.
    WsClientHandshake good;
    good.host = QByteArrayLiteral("example.com");
    QCOMPARE(client.startHandshake(good), WsError::NoError);
    QVERIFY(client.takeOutgoing().startsWith("GET / HTTP/1.1\r\nHost: example.com\r\n"));
}

void tst_WsHandshake::client_open_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QByteArray>("subprotocol");

    QTest::newRow("rfc6455-4.1/101-with-subprotocol")
            << response101(k101Lines + QByteArrayList{"Sec-WebSocket-Protocol: b"}) << QByteArray("b");
    QTest::newRow("rfc6455-4.1/101-without-subprotocol") << response101(k101Lines) << QByteArray();
    QTest::newRow("rfc6455-4.1/header-case-insensitive")
            << response101({"UPGRADE: WebSocket", "connection: keep-alive, upgrade",
                            "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "SEC-WEBSOCKET-PROTOCOL: a"})
            << QByteArray("a");
    QTest::newRow("rfc7230-3.1.2/other-reason-phrase")
            << head("HTTP/1.1 101 Web Socket Protocol Handshake", k101Lines) << QByteArray();
    QTest::newRow("other-headers")
            << response101(QByteArrayList{"Server: test", "Date: Thu, 01 Jan 2026 00:00:00 GMT"} + k101Lines)
            << QByteArray();
}

void tst_WsHandshake::client_open()
{
    QFETCH(QByteArray, response);
    QFETCH(QByteArray, subprotocol);

    for (const Feeding &f : feedingsOf(response)) {
        Client c;
        feed(c.conn, f.chunks);
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QCOMPARE(c.started, WsError::NoError);
            QCOMPARE(eventNames(events), QByteArrayList{"Open"});
            QCOMPARE(c.conn.state(), WsState::Open);
            QCOMPARE(c.conn.subprotocol(), subprotocol);
            QCOMPARE(c.conn.response().status, 101);
            QVERIFY(!c.conn.shouldCloseTransport());
            QCOMPARE(c.conn.takeOutgoing(), QByteArray());
            QCOMPARE(c.conn.error(), WsError::NoError);
        });
    }
    // The expected accept value is the one wsAcceptKey derives from the key sent.
    Client c;
    QVERIFY(c.request.contains("\r\nSec-WebSocket-Key: " + kKey + "\r\n"));
    QCOMPARE(wsAcceptKey(kKey), kAccept);
}

void tst_WsHandshake::client_framesAfter101()
{
    // The server may send frames right after its 101 (RFC 6455 §4.2.2): they share the buffer.
    const QByteArray input = response101(k101Lines + QByteArrayList{"Sec-WebSocket-Protocol: a"})
            + kServerHello + QByteArray::fromHex("8203010203");
    for (const Feeding &f : feedingsOf(input)) {
        Client c;
        feed(c.conn, f.chunks);
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QCOMPARE(eventNames(events), QByteArrayList({"Open", "Message", "Message"}));
            QCOMPARE(events[1].opcode, WsOpcode::Text);
            QCOMPARE(events[1].data, QByteArrayLiteral("Hello"));
            QCOMPARE(events[2].opcode, WsOpcode::Binary);
            QCOMPARE(events[2].data, QByteArray::fromHex("010203"));
            QCOMPARE(c.conn.state(), WsState::Open);
            QCOMPARE(c.conn.subprotocol(), QByteArrayLiteral("a"));
        });
    }
}

void tst_WsHandshake::client_responseRejected_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<WsError>("error");

    const QByteArrayList ok = k101Lines;
    QTest::newRow("rfc6455-4.1/wrong-accept")
            << response101(replaced(ok, "Sec-WebSocket-Accept", {"Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk="}))
            << WsError::HandshakeBadAccept;
    QTest::newRow("rfc6455-4.1/accept-is-the-key")
            << response101(replaced(ok, "Sec-WebSocket-Accept", {"Sec-WebSocket-Accept: " + kKey}))
            << WsError::HandshakeBadAccept;
    QTest::newRow("rfc6455-4.1/accept-wrong-case")
            << response101(replaced(ok, "Sec-WebSocket-Accept", {"Sec-WebSocket-Accept: " + kAccept.toLower()}))
            << WsError::HandshakeBadAccept;
    QTest::newRow("rfc6455-4.1/missing-accept") << response101(without(ok, "Sec-WebSocket-Accept"))
                                                << WsError::HandshakeBadAccept;
    QTest::newRow("rfc6455-4.1/two-accept")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Accept: " + kAccept}) << WsError::HandshakeBadAccept;
    QTest::newRow("rfc6455-4.1/missing-upgrade") << response101(without(ok, "Upgrade"))
                                                 << WsError::HandshakeBadUpgradeHeader;
    QTest::newRow("rfc6455-4.1/upgrade-h2c") << response101(replaced(ok, "Upgrade", {"Upgrade: h2c"}))
                                             << WsError::HandshakeBadUpgradeHeader;
    QTest::newRow("rfc6455-4.1/missing-connection") << response101(without(ok, "Connection"))
                                                    << WsError::HandshakeBadConnectionHeader;
    QTest::newRow("rfc6455-4.1/connection-close")
            << response101(replaced(ok, "Connection", {"Connection: close"})) << WsError::HandshakeBadConnectionHeader;
    QTest::newRow("rfc6455-4.1/subprotocol-not-offered")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Protocol: c"}) << WsError::HandshakeUnexpectedSubprotocol;
    QTest::newRow("rfc6455-4.1/subprotocol-list")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Protocol: a, b"})
            << WsError::HandshakeUnexpectedSubprotocol;
    QTest::newRow("rfc6455-4.1/two-subprotocol-fields")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: b"})
            << WsError::HandshakeUnexpectedSubprotocol;
    QTest::newRow("rfc6455-4.1/extension-not-offered")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate"})
            << WsError::HandshakeUnexpectedExtension;
    QTest::newRow("rfc6455-4.1/extension-malformed")
            << response101(ok + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate;"})
            << WsError::HandshakeUnexpectedExtension;
    QTest::newRow("rfc7230-3.1.2/status-not-a-number") << head("HTTP/1.1 OK", ok)
                                                       << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.1.2/status-four-digits") << head("HTTP/1.1 1010 Switching Protocols", ok)
                                                      << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.1.2/status-two-digits") << head("HTTP/1.1 10 Switching Protocols", ok)
                                                     << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.1.2/not-http") << head("ICY 101 Switching Protocols", ok)
                                            << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.1.2/http-2") << head("HTTP/2.0 101 Switching Protocols", ok)
                                          << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.1.2/empty-status-line") << head("", ok) << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.2.4/space-before-colon")
            << response101(replaced(ok, "Upgrade", {"Upgrade : websocket"})) << WsError::HandshakeMalformedResponse;
    QTest::newRow("rfc7230-3.2.4/obs-fold")
            << response101(ok + QByteArrayList{"X-A: 1", "\tmore"}) << WsError::HandshakeMalformedResponse;
}

void tst_WsHandshake::client_responseRejected()
{
    QFETCH(QByteArray, response);
    QFETCH(WsError, error);

    for (const Feeding &f : feedingsOf(response)) {
        Client c;
        feed(c.conn, f.chunks);
        c.conn.receiveData(kServerHello);   // ignored once failed
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
            QCOMPARE(events[0].error, error);
            QCOMPARE(events[1].close.error, error);
            QCOMPARE(c.conn.error(), error);
            QCOMPARE(c.conn.state(), WsState::Failed);
            QVERIFY(c.conn.shouldCloseTransport());
            QCOMPARE(c.conn.subprotocol(), QByteArray());
            QCOMPARE(c.conn.takeOutgoing(), QByteArray());  // a client answers nothing
        });
    }
}

void tst_WsHandshake::client_subprotocolWhenNoneOffered()
{
    // RFC 6455 §4.1: a subprotocol in the response when none was requested fails the connection.
    const QByteArray response = response101(k101Lines + QByteArrayList{"Sec-WebSocket-Protocol: a"});
    for (const Feeding &f : feedingsOf(response)) {
        Client c(QByteArrayList{});
        feed(c.conn, f.chunks);
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QVERIFY(!c.request.contains("Sec-WebSocket-Protocol"));
            QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
            QCOMPARE(events[0].error, WsError::HandshakeUnexpectedSubprotocol);
            QCOMPARE(c.conn.state(), WsState::Failed);
            QVERIFY(c.conn.shouldCloseTransport());
        });
    }
}

void tst_WsHandshake::client_nonSwitchingStatus_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("body");        // what the Rejected event carries
    QTest::addColumn<QByteArray>("after");       // bytes after the body, ignored
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("headerName");  // a header the application reads
    QTest::addColumn<QByteArray>("headerValue");

    QTest::newRow("rfc7231-6.4.3/302-location-and-body")
            << QByteArray("HTTP/1.1 302 Found\r\nLocation: https://example.com/new\r\nContent-Length: 5\r\n\r\n")
            << QByteArray("moved") << QByteArray() << 302 << QByteArray("Location")
            << QByteArray("https://example.com/new");
    QTest::newRow("rfc7230-3.3.3/bytes-after-content-length-ignored")
            << QByteArray("HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 5\r\n\r\n")
            << QByteArray("moved") << kServerHello << 302 << QByteArray("location") << QByteArray("/other");
    QTest::newRow("rfc7230-3.3.3/content-length-0")
            << QByteArray("HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")
            << QByteArray() << QByteArray("junk") << 307 << QByteArray("Location") << QByteArray("/x");
    QTest::newRow("rfc7230-3.3.3/204-has-no-body")
            << QByteArray("HTTP/1.1 204 No Content\r\nX-Why: because\r\n\r\n")
            << QByteArray() << QByteArray("junk") << 204 << QByteArray("X-Why") << QByteArray("because");
    QTest::newRow("rfc6455-4.1/403-with-body")
            << QByteArray("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n")
            << QByteArray("go away\r\n\r\n!") << QByteArray() << 403 << QByteArray("Content-Type")
            << QByteArray("text/plain");
}

void tst_WsHandshake::client_nonSwitchingStatus()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, after);
    QFETCH(int, status);
    QFETCH(QByteArray, headerName);
    QFETCH(QByteArray, headerValue);

    const qsizetype needed = head.size() + body.size();
    for (const Feeding &f : feedingsOf(head + body + after)) {
        Client c;
        qsizetype fed = 0;
        bool early = false;
        for (const QByteArray &chunk : f.chunks) {
            c.conn.receiveData(chunk);
            fed += chunk.size();
            // Nothing is reported before the whole body is in.
            if (fed < needed && c.conn.hasEvents())
                early = true;
        }
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QVERIFY(!early);
            QCOMPARE(eventNames(events), QByteArrayList({"Rejected", "Error", "Closed"}));
            QCOMPARE(events[0].data, body);
            QCOMPARE(events[1].error, WsError::HandshakeUnexpectedStatus);
            QCOMPARE(events[2].close.error, WsError::HandshakeUnexpectedStatus);
            QCOMPARE(c.conn.response().status, status);
            QCOMPARE(c.conn.response().headers.value(headerName), headerValue);
            QCOMPARE(c.conn.response().body, body);
            QCOMPARE(c.conn.state(), WsState::Failed);
            QVERIFY(c.conn.shouldCloseTransport());
            QCOMPARE(c.conn.takeOutgoing(), QByteArray());
        });
    }
}

void tst_WsHandshake::client_bodyUntilTransportClosed_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("body");

    QTest::newRow("rfc7230-3.3.3/401-body-until-close")
            << QByteArray("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\n\r\n")
            << QByteArray("authentication required\r\n\r\nplease");
    QTest::newRow("rfc7230-3.3.3/401-empty-body-until-close")
            << QByteArray("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\n\r\n")
            << QByteArray();
}

void tst_WsHandshake::client_bodyUntilTransportClosed()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, body);

    for (const Feeding &f : feedingsOf(head + body)) {
        Client c;
        feed(c.conn, f.chunks);
        const bool eventsBeforeClose = c.conn.hasEvents();
        const WsState stateBeforeClose = c.conn.state();
        c.conn.transportClosed();
        const std::vector<WsEvent> events = c.conn.takeEvents();
        CHECK_FEEDING(f, {
            QVERIFY(!eventsBeforeClose);
            QCOMPARE(stateBeforeClose, WsState::Connecting);
            QCOMPARE(eventNames(events), QByteArrayList({"Rejected", "Error", "Closed"}));
            QCOMPARE(events[0].data, body);
            QCOMPARE(events[1].error, WsError::HandshakeUnexpectedStatus);
            QCOMPARE(c.conn.response().status, 401);
            QCOMPARE(c.conn.response().headers.value("WWW-Authenticate"), QByteArrayLiteral("Basic realm=\"ws\""));
            QCOMPARE(c.conn.state(), WsState::Failed);
            QVERIFY(c.conn.shouldCloseTransport());
        });
    }
}

void tst_WsHandshake::client_rejectionBodyLimit()
{
    // The body kept for the application is bounded, with or without Content-Length.
    WsConnectionOptions options;
    options.limits.maxRejectionBodySize = 4;
    const QByteArray withLength = "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\n0123456789";
    const QByteArray withoutLength = "HTTP/1.1 403 Forbidden\r\n\r\n0123456789";
    for (const QByteArray &response : {withLength, withoutLength}) {
        for (const Feeding &f : feedingsOf(response)) {
            Client c({"a", "b"}, options);
            feed(c.conn, f.chunks);
            const std::vector<WsEvent> events = c.conn.takeEvents();
            CHECK_FEEDING(f, {
                QCOMPARE(eventNames(events), QByteArrayList({"Rejected", "Error", "Closed"}));
                QCOMPARE(events[0].data, QByteArrayLiteral("0123"));
                QCOMPARE(c.conn.state(), WsState::Failed);
            });
        }
    }
}

void tst_WsHandshake::client_transportClosedDuringHandshake()
{
    const QByteArray partial = response101(k101Lines).left(30);
    for (const QByteArray &received : {QByteArray(), partial}) {
        Client c;
        c.conn.receiveData(received);
        QVERIFY(!c.conn.hasEvents());
        c.conn.transportClosed();
        const std::vector<WsEvent> events = c.conn.takeEvents();
        QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
        QCOMPARE(events[0].error, WsError::AbnormalClosure);
        QCOMPARE(c.conn.state(), WsState::Failed);
        QVERIFY(c.conn.shouldCloseTransport());
        c.conn.transportClosed();   // once only
        QVERIFY(!c.conn.hasEvents());
    }

    // Bytes before the request was even sent are not a response.
    WsConnection early(WsRole::Client);
    early.receiveData(response101(k101Lines));
    const std::vector<WsEvent> events = early.takeEvents();
    QCOMPARE(eventNames(events), QByteArrayList({"Error", "Closed"}));
    QCOMPARE(events[0].error, WsError::HandshakeMalformedResponse);
}

QTEST_APPLESS_MAIN(tst_WsHandshake)

#include "tst_wshandshake.moc"
