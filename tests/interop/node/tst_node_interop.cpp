// Interoperability of WsKit's permessage-deflate (RFC 7692) with Node's `ws` 8.x, an
// implementation nobody here wrote, over loopback (127.0.0.1) only. The peers are the scripts
// of this directory, run by `node` as child processes, with the `ws` of package-lock.json
// installed into node_modules/ (npm ci --prefix tests/interop/node --no-audit --no-fund):
//   * node_echo_server.js: a ws WebSocketServer with perMessageDeflate { threshold: 0 } (it
//     compresses every message) that echoes, reports the extension it negotiated, a digest of
//     each message it received, the close it saw and its socket's byte counts;
//   * node_client.js: a ws client offering perMessageDeflate that sends the messages,
//     checks every echo byte by byte, then closes with 1000 "bye".
// Rows: WsSocket -> node server with WsKit's default deflate options, with parameters
// (no context takeover and 10-bit windows both ways), with messages cut into 16 KiB frames,
// with 8-bit windows (WsKit then never compresses; zlib, so ws, compresses with 9 bits), with
// a server imposing parameters WsSocket did not ask for, and with one refusing those it did
// (so it accepts WsSocket's fallback offer);
// node client -> WsServer echo with the default options, with a server that requests
// client_no_context_takeover, with one that also limits both windows to 10 bits, and with
// 8-bit windows, the default and 8-bit rows also echoing through WsServer's broadcast.
// The messages: empty, 10 B, small non-ASCII, 100 B, 1 KiB, 64 KiB compressible text and
// binary, 64 KiB sent uncompressed (per-message opt-out), 4 MiB compressible text, 1 MiB
// random binary, 300 KB non-ASCII text, 100 KB non-ASCII text in 5 frames (cut inside UTF-8
// sequences, an empty frame in the middle and at the end; WsSocket pings between two of
// them), a small text after them all.
// Each row checks that permessage-deflate was negotiated with the expected parameters on both
// sides, every byte of every message both ways (interop_messages.js holds the same list as
// nodeMessages() below), that each message was compressed (RSV1) when it should be and is
// smaller on the wire, that WsSocket::statistics() agrees with Node's socket byte counts,
// and a clean close with the expected code on both sides. A missing node, npm or ws module
// fails the test, never skips it.

#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qendian.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstandardpaths.h>
#include <QtTest/QtTest>

#include "../peerprocess.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace {

constexpr qint64 kMaxSize = 16 * 1024 * 1024;  // WsKit's message limit here (ws: 100 MiB)
constexpr int kStepMs = 15000;                 // bound of any single wait
constexpr int kCloseTimeoutMs = 5000;          // WsSocketOptions::closeTimeoutMs here
constexpr int kNodeThreshold = 1024;           // ws' default perMessageDeflate threshold

QString nodeDir() { return QStringLiteral(NODE_PEERS_DIR); }

// --- The messages (the same as interop_messages.js) --------------------------------------

struct Msg
{
    bool text = false;
    QByteArray data;        // UTF-8 for text
    bool compress = true;   // false: sent without permessage-deflate (a per-message opt-out)
    bool random = false;    // deflate cannot shrink it
    QList<qsizetype> cuts;  // if not empty: sent frame by frame, cut there (and empty at the end)

    QList<QByteArray> parts() const
    {
        QList<qsizetype> bounds{0};
        bounds += cuts;
        bounds << data.size() << data.size();
        QList<QByteArray> out;
        for (qsizetype i = 0; i + 1 < bounds.size(); ++i)
            out.append(data.mid(bounds.at(i), bounds.at(i + 1) - bounds.at(i)));
        return out;
    }
};

// byte i = ((i & 0xFF) + (i >> 8) * 7 + (i >> 16) * 13 + seed) & 0xFF
QByteArray pattern(qsizetype size, int seed)
{
    QByteArray out(size, Qt::Uninitialized);
    char *p = out.data();
    for (qsizetype i = 0; i < size; ++i) {
        const quint64 u = quint64(i);
        p[i] = char(((u & 0xFF) + (u >> 8) * 7 + (u >> 16) * 13 + quint64(seed)) & 0xFF);
    }
    return out;
}

quint32 xorshift32(quint32 x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

// size bytes (a multiple of 4): xorshift32 outputs, little-endian.
QByteArray randomBytes(qsizetype size, quint32 seed)
{
    QByteArray out(size, Qt::Uninitialized);
    quint32 x = seed;
    for (qsizetype i = 0; i + 4 <= size; i += 4) {
        x = xorshift32(x);
        qToLittleEndian<quint32>(x, out.data() + i);
    }
    return out;
}

// Numbered lines "<seed>:<n> the quick brown fox jumps over the lazy dog\n", cut at size.
QByteArray compressibleText(qsizetype size, int seed)
{
    QByteArray out;
    out.reserve(size + 128);
    for (qint64 n = 0; out.size() < size; ++n)
        out += QByteArray::number(seed) + ':' + QByteArray::number(n) + " the quick brown fox jumps over the lazy dog\n";
    out.truncate(size);
    return out;
}

// Words drawn by xorshift32 from a vocabulary, each followed by a space, until minSize bytes.
QByteArray nonAsciiText(qsizetype minSize, quint32 seed)
{
    const QStringList vocabulary{
        QStringLiteral("ünïcødé"), QStringLiteral("☃"), QStringLiteral("😀"), QStringLiteral("Ελληνικά"),
        QStringLiteral("日本語のテキスト"), QStringLiteral("кириллица"), QStringLiteral("עברית"),
        QStringLiteral("🚀🌍"), QStringLiteral("naïve"), QStringLiteral("é"), QStringLiteral("ﬁ"),
        QStringLiteral("𝄞 music"), QStringLiteral("ASCII")};
    QList<QByteArray> words;
    for (const QString &w : vocabulary)
        words.append(w.toUtf8() + ' ');
    QByteArray out;
    quint32 x = seed;
    while (out.size() < minSize) {
        x = xorshift32(x);
        out += words.at(qsizetype(x % quint32(words.size())));
    }
    return out;
}

const QList<Msg> &nodeMessages()
{
    static const QList<Msg> list = [] {
        const auto text = [](const QByteArray &utf8) { return Msg{true, utf8, true, false, {}}; };
        const auto binary = [](const QByteArray &b) { return Msg{false, b, true, false, {}}; };
        return QList<Msg>{
            text(QByteArray()),
            binary(QByteArray()),
            text(QByteArrayLiteral("ten bytes!")),
            binary(pattern(10, 1)),
            text(QStringLiteral("héllo wörld ☃ 😀").toUtf8()),
            text(compressibleText(100, 2)),
            binary(pattern(1024, 3)),
            text(compressibleText(64 * 1024, 4)),
            binary(pattern(64 * 1024, 5)),
            Msg{false, pattern(64 * 1024, 9), false, false, {}},
            text(compressibleText(4 * 1024 * 1024, 6)),
            Msg{false, randomBytes(1024 * 1024, 0x9e3779b9u), true, true, {}},
            text(nonAsciiText(300000, 12345)),
            // 5 frames: 3000 bytes, 67001 bytes, empty, the rest, an empty final one; both
            // cuts fall inside a UTF-8 sequence.
            Msg{true, nonAsciiText(100000, 777), true, false, {3000, 70001, 70001}},
            text(QStringLiteral("the end ☃").toUtf8()),
        };
    }();
    return list;
}

// The message sent frame by frame.
qsizetype fragmentedIndex(const QList<Msg> &msgs)
{
    for (qsizetype i = 0; i < msgs.size(); ++i)
        if (!msgs.at(i).cuts.isEmpty())
            return i;
    return -1;
}

qint64 totalBytes(const QList<Msg> &msgs)
{
    qint64 n = 0;
    for (const Msg &m : msgs)
        n += m.data.size();
    return n;
}

QString describe(const Msg &m)
{
    QString d = QStringLiteral("%1(%2)").arg(m.text ? QStringLiteral("text") : QStringLiteral("binary")).arg(m.data.size());
    if (!m.cuts.isEmpty())
        d += QStringLiteral(" in %1 frames").arg(m.cuts.size() + 2);
    return d;
}

// Empty if got is exactly expected (type and bytes), else what differs.
QString checkMessage(qsizetype index, const Msg &expected, const Msg &got)
{
    if (got.text != expected.text)
        return QStringLiteral("message %1: sent %2, received %3").arg(index).arg(describe(expected), describe(got));
    if (got.data != expected.data) {
        const qsizetype n = std::min(got.data.size(), expected.data.size());
        qsizetype first = 0;
        while (first < n && got.data.at(first) == expected.data.at(first))
            ++first;
        return QStringLiteral("message %1: sent %2, received %3, first difference at byte %4")
                .arg(index).arg(describe(expected), describe(got)).arg(first);
    }
    return QString();
}

// "permessage-deflate; a; b=1" with the parameters sorted, to compare negotiations.
QByteArray canonical(const WsExtensionOffer &offer)
{
    QList<QByteArray> params;
    for (const WsExtensionOffer::Param &p : offer.params)
        params.append(p.hasValue ? p.name + '=' + p.value : p.name);
    std::sort(params.begin(), params.end());
    QByteArray out = offer.name;
    for (const QByteArray &p : std::as_const(params))
        out += "; " + p;
    return out;
}

// The only extension negotiated, canonical; or what else there was.
QByteArray canonical(const QList<WsExtensionOffer> &extensions)
{
    if (extensions.size() != 1)
        return "(" + QByteArray::number(extensions.size()) + " extensions: " + wsFormatExtensions(extensions) + ')';
    return canonical(extensions.constFirst());
}

// A Sec-WebSocket-Extensions value as reported by a Node peer, canonical.
QByteArray canonicalHeader(const QByteArray &value)
{
    QList<WsExtensionOffer> parsed;
    if (!wsParseExtensions({value}, &parsed))
        return "(unparsable: " + value + ')';
    return canonical(parsed);
}

// --- What crossed the wire, per message (WsSocket::frameTransferred) -----------------------

struct WireMessage
{
    bool text = false;
    quint8 rsv = 0;          // of the first frame
    int frames = 0;
    qint64 wireSize = 0;     // payload bytes on the wire, all frames
    qint64 size = -1;        // after decoding
};

struct WireLog
{
    QList<WireMessage> in, out;
    WireMessage partialIn, partialOut;

    void add(const WsFrameInfo &f)
    {
        if (f.messageType != WsOpcode::Text && f.messageType != WsOpcode::Binary)
            return;  // control frames
        const bool incoming = f.direction == WsFrameInfo::Incoming;
        WireMessage &m = incoming ? partialIn : partialOut;
        if (f.opcode != 0)
            m = WireMessage{f.messageType == WsOpcode::Text, f.rsv, 0, 0, -1};
        ++m.frames;
        m.wireSize += f.wireSize;
        if (f.fin) {
            m.size = f.messageSize;
            (incoming ? in : out).append(m);
        }
    }
};

// Empty if every message of `wire` is what `msgs` says was sent, compressed (RSV1) exactly
// when `compressed(i)` says so (-1: either way) and, compressed, really smaller.
template<typename Rule>
QString checkWire(const char *direction, const QList<Msg> &msgs, const QList<WireMessage> &wire, Rule compressed)
{
    if (wire.size() != msgs.size())
        return QStringLiteral("%1: %2 messages on the wire, expected %3").arg(QLatin1String(direction)).arg(wire.size()).arg(msgs.size());
    QString err;
    for (qsizetype i = 0; i < msgs.size() && err.isEmpty(); ++i) {
        const Msg &m = msgs.at(i);
        const WireMessage &w = wire.at(i);
        const auto fail = [&](const QString &what) {
            err = QStringLiteral("%1: message %2 %3 (%4 frames, %5 wire bytes, rsv %6): %7")
                    .arg(QLatin1String(direction)).arg(i).arg(describe(m)).arg(w.frames).arg(w.wireSize).arg(w.rsv).arg(what);
        };
        const bool rsv1 = (w.rsv & WsRsv::Rsv1) != 0;
        const int expected = compressed(i);
        if (w.text != m.text || w.size != m.data.size())
            fail(QStringLiteral("decoded to %1(%2)").arg(w.text ? QStringLiteral("text") : QStringLiteral("binary")).arg(w.size));
        else if (expected >= 0 && rsv1 != (expected > 0))
            fail(expected > 0 ? QStringLiteral("not compressed") : QStringLiteral("compressed, although it should not be"));
        else if (!rsv1 && w.wireSize != m.data.size())
            fail(QStringLiteral("uncompressed, yet not of its size"));
        else if (rsv1 && m.random && w.wireSize > m.data.size() + m.data.size() / 100 + 64)
            fail(QStringLiteral("incompressible data grew by more than 1%"));
        else if (rsv1 && !m.random && m.data.size() >= 1024 && w.wireSize * 2 > m.data.size())
            fail(QStringLiteral("compressible data did not shrink to a half"));
        else if (rsv1 && !m.random && m.data.size() >= 64 * 1024 && w.wireSize * 4 > m.data.size())
            fail(QStringLiteral("compressible data did not shrink to a quarter"));
    }
    return err;
}

// What the messages may take on the wire in one direction at most, compressed: incompressible
// and uncompressed ones at their size (plus 1%), compressible ones at a quarter, plus room
// for the handshake and the frame headers.
qint64 maxWireBytes(const QList<Msg> &msgs)
{
    qint64 n = 16 * 1024;
    for (const Msg &m : msgs)
        n += m.random ? m.data.size() + m.data.size() / 100 : !m.compress ? m.data.size() : m.data.size() / 4 + 64;
    return n;
}

// Empty if `bytes` on the wire in one direction fit what the messages take: compressed, less
// than maxWireBytes(); else at least their size.
QString checkWireTotal(const char *direction, qint64 bytes, const QList<Msg> &msgs, bool compressed)
{
    if (compressed ? bytes < maxWireBytes(msgs) : bytes > totalBytes(msgs))
        return QString();
    return QStringLiteral("%1: %2 bytes on the wire for %3 bytes of messages, expected %4 %5")
            .arg(QLatin1String(direction)).arg(bytes).arg(totalBytes(msgs))
            .arg(compressed ? QStringLiteral("less than") : QStringLiteral("more than"))
            .arg(compressed ? maxWireBytes(msgs) : totalBytes(msgs));
}

// --- Node peers ----------------------------------------------------------------------------

QString nodeExecutable() { return QStandardPaths::findExecutable(QStringLiteral("node")); }

QString installHint()
{
    return QStringLiteral("npm ci --prefix %1 --no-audit --no-fund").arg(nodeDir());
}

// Empty if node, npm and the ws module of package-lock.json are installed, else what to run.
QString nodeProblem()
{
    static const QString problem = [] {
        const QString node = nodeExecutable();
        if (node.isEmpty())
            return QStringLiteral("node is not installed: run apt-get install nodejs npm, then %1").arg(installHint());
        if (QStandardPaths::findExecutable(QStringLiteral("npm")).isEmpty())
            return QStringLiteral("npm is not installed (needed for the ws module): run apt-get install npm, then %1").arg(installHint());
        if (!QFileInfo(nodeDir() + QStringLiteral("/node_modules/ws/package.json")).isFile())
            return QStringLiteral("the ws module is not installed in %1/node_modules: run %2").arg(nodeDir(), installHint());
        QProcess p;
        p.setWorkingDirectory(nodeDir());
        p.start(node, {QStringLiteral("-e"),
                       QStringLiteral("require('ws'); process.stdout.write(process.versions.node + ' ' + "
                                      "require('ws/package.json').version)")});
        if (!p.waitForFinished(20000)) {
            p.kill();
            p.waitForFinished(3000);
            return QStringLiteral("%1 -e \"require('ws')\" did not finish").arg(node);
        }
        if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
            return QStringLiteral("%1 cannot load ws (%2): run %3")
                    .arg(node, QString::fromLocal8Bit(p.readAllStandardError().trimmed()), installHint());
        const QList<QByteArray> versions = p.readAllStandardOutput().trimmed().split(' ');
        if (versions.size() != 2 || !versions.at(1).startsWith("8."))
            return QStringLiteral("expected ws 8.x in %1/node_modules, found \"%2\": run %3")
                    .arg(nodeDir(), QString::fromLatin1(versions.join(' ')), installHint());
        qInfo("peer: node %s (%s), ws %s", versions.at(0).constData(), qPrintable(node), versions.at(1).constData());
        return QString();
    }();
    return problem;
}

// A script of this directory run by node; its output is collected line by line.
std::unique_ptr<PeerProcess> nodePeer(const QString &script, const QStringList &args)
{
    return std::make_unique<PeerProcess>(nodeExecutable(), QStringList{nodeDir() + u'/' + script} + args, nodeDir());
}

WsSocketOptions baseOptions()
{
    WsSocketOptions o;
    o.limits.maxMessageSize = kMaxSize;
    o.handshakeTimeoutMs = 10000;
    o.closeTimeoutMs = kCloseTimeoutMs;
    o.pingIntervalMs = 0;
    o.compression = true;  // the default, said out loud
    return o;
}

// The deflate options of the rows: "default"; "params": no context takeover and 10-bit
// windows for both compressors, ours and the peer's; "window-bits-8": 8-bit windows for both;
// "request-client-no-context-takeover".
WsDeflateOptions deflateOptions(const QString &which)
{
    WsDeflateOptions d;
    if (which == QLatin1String("params")) {
        d.noContextTakeover = true;
        d.maxWindowBits = 10;
        d.requestPeerNoContextTakeover = true;
        d.requestPeerMaxWindowBits = 10;
    } else if (which == QLatin1String("window-bits-8")) {
        // 8 bits: WsKit does not compress at all (zlib's raw deflate has no 256-byte
        // window); zlib (so Node) compresses with 9 bits instead, which WsKit must inflate.
        d.maxWindowBits = 8;
        d.requestPeerMaxWindowBits = 8;
    } else if (which == QLatin1String("request-client-no-context-takeover")) {
        d.requestPeerNoContextTakeover = true;
    } else {
        Q_ASSERT(which == QLatin1String("default"));
    }
    return d;
}

} // namespace

class tst_NodeInterop : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();

    void wsSocketToNodeServer_data();
    void wsSocketToNodeServer();
    void nodeClientToWsServer_data();
    void nodeClientToWsServer();

private:
    PeerProcess *startNode(const QString &script, const QStringList &args)
    {
        m_peers.push_back(nodePeer(script, args));
        return m_peers.back().get();
    }
    std::vector<std::unique_ptr<PeerProcess>> m_peers;
};

void tst_NodeInterop::initTestCase()
{
    QVERIFY2(QFileInfo(nodeDir() + QStringLiteral("/interop_messages.js")).isFile(), qPrintable(nodeDir()));
}

void tst_NodeInterop::cleanup()
{
    for (const auto &p : m_peers) {
        if (QTest::currentTestFailed())
            qWarning("%s", qPrintable(p->output()));
        p->stop();
    }
    m_peers.clear();
}

// WsSocket (client) against node_echo_server.js. "close:<code>:<reason>" makes it close.
void tst_NodeInterop::wsSocketToNodeServer_data()
{
    QTest::addColumn<QString>("deflate");
    QTest::addColumn<qint64>("frameSize");      // WsSocketOptions::outgoingFrameSize
    QTest::addColumn<bool>("wsSocketCloses");   // else the server closes with 4001
    QTest::addColumn<QByteArray>("expected");   // the negotiated extension, canonical
    QTest::addColumn<QString>("serverOptions"); // more perMessageDeflate options of the ws server (JSON)

    QTest::newRow("wssocket->node-server/default")
            << QStringLiteral("default") << qint64(0) << true << QByteArrayLiteral("permessage-deflate") << QString();
    QTest::newRow("wssocket->node-server/no-context-takeover+window-bits-10")
            << QStringLiteral("params") << qint64(0) << false
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=10; client_no_context_takeover; "
                                 "server_max_window_bits=10; server_no_context_takeover") << QString();
    QTest::newRow("wssocket->node-server/default/16k-frames")
            << QStringLiteral("default") << qint64(16 * 1024) << true << QByteArrayLiteral("permessage-deflate") << QString();
    QTest::newRow("wssocket->node-server/window-bits-8")
            << QStringLiteral("window-bits-8") << qint64(0) << true
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=8; server_max_window_bits=8") << QString();
    // The server imposes parameters WsSocket did not ask for (RFC 7692 §7.1.1.1, §7.1.2.1,
    // §7.1.2.2: client_max_window_bits only because WsSocket offers it without a value).
    QTest::newRow("wssocket->node-server/default/server-imposes-parameters")
            << QStringLiteral("default") << qint64(0) << true
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=11; client_no_context_takeover; "
                                 "server_max_window_bits=9; server_no_context_takeover")
            << QStringLiteral(R"({"serverNoContextTakeover":true,"clientNoContextTakeover":true,)"
                              R"("serverMaxWindowBits":9,"clientMaxWindowBits":11})");
    // The server refuses what WsSocket asks of its compressor: it accepts WsSocket's
    // fallback offer, with only WsSocket's own parameters.
    QTest::newRow("wssocket->node-server/no-context-takeover+window-bits-10/server-refuses")
            << QStringLiteral("params") << qint64(0) << true
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=10; client_no_context_takeover")
            << QStringLiteral(R"({"serverNoContextTakeover":false,"serverMaxWindowBits":false})");
}

void tst_NodeInterop::wsSocketToNodeServer()
{
    QFETCH(QString, deflate);
    QFETCH(qint64, frameSize);
    QFETCH(bool, wsSocketCloses);
    QFETCH(QByteArray, expected);
    QFETCH(QString, serverOptions);
    const QString problem = nodeProblem();
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));
    QElapsedTimer rowTimer;
    rowTimer.start();

    const quint16 closeCode = wsSocketCloses ? 1000 : 4001;
    const QString closeReason = wsSocketCloses ? QStringLiteral("bye") : QStringLiteral("server bye");
    QStringList args{QString::number(closeCode)};
    if (!serverOptions.isEmpty())
        args << serverOptions;
    PeerProcess *node = startNode(QStringLiteral("node_echo_server.js"), args);
    QTRY_VERIFY2_WITH_TIMEOUT(node->has("PORT") || node->finished(), qPrintable(node->output()), kStepMs);
    const QByteArray port = node->value("PORT");
    QVERIFY2(!port.isEmpty(), qPrintable(QStringLiteral("the server printed no port") + node->output()));
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/node-interop").arg(QString::fromLatin1(port.trimmed())));

    WsSocket client;
    QObject context;
    QList<Msg> received;
    WireLog wire;
    connect(&client, &WsSocket::textMessageReceived, &context, [&](const QString &m) { received.append(Msg{true, m.toUtf8(), true, false, {}}); });
    connect(&client, &WsSocket::binaryMessageReceived, &context, [&](const QByteArray &m) { received.append(Msg{false, m, true, false, {}}); });
    connect(&client, &WsSocket::frameTransferred, &context, [&](const WsFrameInfo &f) { wire.add(f); });
    QSignalSpy connectedSpy(&client, &WsSocket::connected);
    QSignalSpy closedSpy(&client, &WsSocket::closed);
    QSignalSpy pongSpy(&client, &WsSocket::pongReceived);
    WsRequest request;
    request.url = url;
    request.options = baseOptions();
    request.options.deflate = deflateOptions(deflate);
    request.options.outgoingFrameSize = frameSize;
    client.open(request);
    QTRY_VERIFY_WITH_TIMEOUT(!connectedSpy.isEmpty() || !closedSpy.isEmpty(), kStepMs);
    QVERIFY2(connectedSpy.size() == 1, qPrintable(QStringLiteral("not connected: ") + client.errorString()));

    // permessage-deflate, with the same parameters on both sides.
    qInfo("WsSocket offered:      %s", client.handshakeRequest().headers.combined("Sec-WebSocket-Extensions").constData());
    qInfo("WsSocket negotiated:   %s", wsFormatExtensions(client.extensions()).constData());
    QCOMPARE(canonical(client.extensions()), expected);
    QTRY_VERIFY_WITH_TIMEOUT(node->has("NEGOTIATED") || node->finished(), kStepMs);
    qInfo("node server received:  %s", node->value("OFFER").constData());
    qInfo("node server answered:  %s (ws.extensions \"%s\")", node->value("EXTENSIONS").constData(), node->value("NEGOTIATED").constData());
    QCOMPARE(node->value("NEGOTIATED"), QByteArrayLiteral("permessage-deflate"));
    QCOMPARE(canonicalHeader(node->value("EXTENSIONS")), expected);

    // The messages, one at a time, each echo checked.
    const QList<Msg> &msgs = nodeMessages();
    for (qsizetype i = 0; i < msgs.size(); ++i) {
        const Msg &m = msgs.at(i);
        qint64 queued = 0;
        if (!m.cuts.isEmpty()) {
            // Frame by frame, with a ping between the second and the third frame: a control
            // frame inside a compressed message.
            const QList<QByteArray> parts = m.parts();
            for (qsizetype k = 0; k < parts.size() && queued >= 0; ++k) {
                const qint64 n = client.sendFrame(k == 0 ? (m.text ? WsOpcode::Text : WsOpcode::Binary) : WsOpcode::Continuation,
                                                  parts.at(k), k == parts.size() - 1);
                queued = n < 0 ? n : queued + n;
                if (k == 1)
                    QVERIFY(client.ping(QByteArrayLiteral("mid-message")));
            }
        } else if (!m.compress)
            queued = client.sendMessage(m.text ? WsOpcode::Text : WsOpcode::Binary, m.data, false);
        else if (m.text)
            queued = client.sendTextMessage(QString::fromUtf8(m.data));
        else
            queued = client.sendBinaryMessage(m.data);
        QVERIFY2(queued > 0, qPrintable(QStringLiteral("sending message %1 %2 returned %3 (error: %4)")
                                                    .arg(i).arg(describe(m)).arg(queued).arg(client.errorString())));
        QTRY_VERIFY2_WITH_TIMEOUT(received.size() > i || !closedSpy.isEmpty() || node->finished(),
                                  qPrintable(QStringLiteral("no echo of message %1 %2").arg(i).arg(describe(m))), kStepMs);
        QVERIFY2(received.size() == i + 1,
                 qPrintable(QStringLiteral("closed while waiting for the echo of message %1 %2: code %3 \"%4\" (%5)")
                            .arg(i).arg(describe(m)).arg(client.closeCode()).arg(client.closeReason(), client.errorString())));
        const QString diff = checkMessage(i, m, received.at(i));
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    QCOMPARE(pongSpy.size(), 1);
    QCOMPARE(pongSpy.at(0).at(1).toByteArray(), QByteArrayLiteral("mid-message"));

    // What the server received: each message's type, size and SHA-256.
    const QList<QByteArray> msgLines = node->lines("MSG");
    QCOMPARE(msgLines.size(), msgs.size());
    for (qsizetype i = 0; i < msgs.size(); ++i) {
        const Msg &m = msgs.at(i);
        const QByteArray want = QByteArray::number(i) + (m.text ? " text " : " binary ") + QByteArray::number(m.data.size())
                + ' ' + QCryptographicHash::hash(m.data, QCryptographicHash::Sha256).toHex();
        QVERIFY2(msgLines.at(i) == "MSG " + want, qPrintable(QStringLiteral("node server received \"%1\", expected \"%2\"")
                                                        .arg(QString::fromLatin1(msgLines.at(i)), QString::fromLatin1(want))));
    }

    // The close handshake.
    QElapsedTimer closeTimer;
    closeTimer.start();
    if (wsSocketCloses)
        client.close(closeCode, closeReason);
    else
        QVERIFY(client.sendTextMessage(QStringLiteral("close:%1:%2").arg(closeCode).arg(closeReason)) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(closedSpy.size(), 1, kStepMs);
    const qint64 closeMs = closeTimer.elapsed();
    const WsCloseStatus status = closedSpy.at(0).at(0).value<WsCloseStatus>();
    QVERIFY2(status.wasClean, qPrintable(client.errorString()));
    QCOMPARE(status.code, closeCode);
    if (!wsSocketCloses)
        QCOMPARE(status.reason, closeReason);
    QCOMPARE(int(status.initiator), int(wsSocketCloses ? WsCloseInitiator::Local : WsCloseInitiator::Remote));
    QCOMPARE(status.sentCode, closeCode);
    QCOMPARE(int(status.error), int(WsError::NoError));
    QCOMPARE(client.state(), WsSocket::State::Closed);
    QVERIFY2(closeMs < kCloseTimeoutMs - 1000, qPrintable(QStringLiteral("closing took %1 ms").arg(closeMs)));

    // The server's view of the close, and of the bytes on the wire.
    QTRY_VERIFY_WITH_TIMEOUT(node->finished(), kStepMs);
    QVERIFY2(node->succeeded(), qPrintable(node->output()));
    QVERIFY2(!node->has("ERROR"), qPrintable(node->output()));
    const PeerNumbers c = parsePeerNumbers(node->value("CLOSED"), 5);
    QVERIFY2(c.valid, qPrintable(node->output()));
    QCOMPARE(c.numbers.at(0), qint64(closeCode));
    if (wsSocketCloses)
        QCOMPARE(c.reason, closeReason);
    QCOMPARE(c.numbers.at(1), qint64(msgs.size()));
    QCOMPARE(c.numbers.at(2), totalBytes(msgs));

    const WsSocketStatistics stats = client.statistics();
    qInfo("wire: WsSocket sent %lld bytes, received %lld; node server read %lld, wrote %lld; payload %lld bytes each way",
          stats.bytesSent, stats.bytesReceived, c.numbers.at(3), c.numbers.at(4), totalBytes(msgs));
    QCOMPARE(stats.bytesSent, c.numbers.at(3));
    QCOMPARE(stats.bytesReceived, c.numbers.at(4));
    QCOMPARE(stats.messagesSent, qint64(msgs.size() + (wsSocketCloses ? 0 : 1)));
    QCOMPARE(stats.messagesReceived, qint64(msgs.size()));

    // Each message: WsKit compresses what reaches its threshold unless told not to (or its
    // window is 8 bits); the ws server (threshold 0) compresses everything. Compressed, it is
    // smaller on the wire.
    const qint64 threshold = request.options.deflate.threshold;
    const bool wsKitCompresses = request.options.deflate.maxWindowBits > 8;
    QString err = checkWireTotal("WsSocket -> node", stats.bytesSent, msgs, wsKitCompresses);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkWireTotal("node -> WsSocket", stats.bytesReceived, msgs, true);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QTRY_COMPARE_WITH_TIMEOUT(wire.in.size(), msgs.size(), kStepMs);
    QCOMPARE(wire.out.size(), msgs.size() + (wsSocketCloses ? 0 : 1));  // + "close:..."
    err = checkWire("WsSocket -> node", msgs, wire.out.mid(0, msgs.size()), [&](qsizetype i) {
        const Msg &m = msgs.at(i);
        return int(wsKitCompresses && m.compress && (m.data.size() >= threshold || !m.cuts.isEmpty()));
    });
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkWire("node -> WsSocket", msgs, wire.in, [](qsizetype) { return 1; });
    QVERIFY2(err.isEmpty(), qPrintable(err));
    const qsizetype frag = fragmentedIndex(msgs);
    QVERIFY(frag >= 0);
    if (frameSize == 0) {
        QCOMPARE(wire.out.at(frag).frames, int(msgs.at(frag).cuts.size() + 2));
    } else {
        for (qsizetype i = 0; i < msgs.size(); ++i)
            QVERIFY2(wire.out.at(i).frames >= 1 && wire.out.at(i).wireSize <= wire.out.at(i).frames * frameSize,
                     qPrintable(QStringLiteral("message %1: %2 wire bytes in %3 frames").arg(i).arg(wire.out.at(i).wireSize).arg(wire.out.at(i).frames)));
        QVERIFY(wire.out.at(10).frames > 1);  // 4 MiB of text, compressed to more than 16 KiB
        QVERIFY(wire.out.at(11).frames > 1);  // 1 MiB that deflate cannot shrink
    }
    qInfo("row took %lld ms", rowTimer.elapsed());
}

// node_client.js against a WsServer that echoes.
void tst_NodeInterop::nodeClientToWsServer_data()
{
    QTest::addColumn<QString>("deflate");
    QTest::addColumn<QByteArray>("expected");   // the negotiated extension, canonical
    QTest::addColumn<bool>("broadcast");        // echo with WsServer::broadcast*Message()

    QTest::newRow("node-client->wsserver/default") << QStringLiteral("default") << QByteArrayLiteral("permessage-deflate") << false;
    QTest::newRow("node-client->wsserver/request-client-no-context-takeover")
            << QStringLiteral("request-client-no-context-takeover")
            << QByteArrayLiteral("permessage-deflate; client_no_context_takeover") << false;
    QTest::newRow("node-client->wsserver/no-context-takeover+window-bits-10")
            << QStringLiteral("params")
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=10; client_no_context_takeover; "
                                 "server_max_window_bits=10; server_no_context_takeover") << false;
    QTest::newRow("node-client->wsserver/window-bits-8")
            << QStringLiteral("window-bits-8")
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=8; server_max_window_bits=8") << false;
    // The same through the broadcast path: a frame encoded once, then compressed for the
    // connection, or (8-bit windows: WsKit does not compress) sent as it is.
    QTest::newRow("node-client->wsserver/default/broadcast-echo")
            << QStringLiteral("default") << QByteArrayLiteral("permessage-deflate") << true;
    QTest::newRow("node-client->wsserver/window-bits-8/broadcast-echo")
            << QStringLiteral("window-bits-8")
            << QByteArrayLiteral("permessage-deflate; client_max_window_bits=8; server_max_window_bits=8") << true;
}

void tst_NodeInterop::nodeClientToWsServer()
{
    QFETCH(QString, deflate);
    QFETCH(QByteArray, expected);
    QFETCH(bool, broadcast);
    const QString problem = nodeProblem();
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));
    QElapsedTimer rowTimer;
    rowTimer.start();

    const QList<Msg> &msgs = nodeMessages();
    struct ServerSide
    {
        int connections = 0;
        QPointer<WsSocket> socket;
        QByteArray offer;
        QList<WsExtensionOffer> extensions;
        QList<Msg> received;
        WireLog wire;
        int sendFailures = 0;
        bool closed = false;
        WsCloseStatus status;
        WsSocketStatistics stats;
    } side;
    QObject context;
    WsServer server;
    WsSocketOptions options = baseOptions();
    options.deflate = deflateOptions(deflate);
    server.setOptions(options);
    connect(&server, &WsServer::newConnection, &context, [&] {
        while (WsSocket *s = server.nextPendingConnection()) {
            ++side.connections;
            side.socket = s;
            side.offer = s->handshakeRequest().headers.combined("Sec-WebSocket-Extensions");
            side.extensions = s->extensions();
            connect(s, &WsSocket::frameTransferred, &context, [&](const WsFrameInfo &f) { side.wire.add(f); });
            connect(s, &WsSocket::textMessageReceived, &context, [&, s](const QString &m) {
                side.received.append(Msg{true, m.toUtf8(), true, false, {}});
                if (broadcast ? server.broadcastTextMessage(m) != 1 : s->sendTextMessage(m) < 0)
                    ++side.sendFailures;
            });
            connect(s, &WsSocket::binaryMessageReceived, &context, [&, s](const QByteArray &m) {
                side.received.append(Msg{false, m, true, false, {}});
                if (broadcast ? server.broadcastBinaryMessage(m) != 1 : s->sendBinaryMessage(m) < 0)
                    ++side.sendFailures;
            });
            connect(s, &WsSocket::closed, &context, [&, s](const WsCloseStatus &st) {
                side.closed = true;
                side.status = st;
                side.stats = s->statistics();
            });
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/node-interop").arg(server.serverPort()));

    // The client checks every echo itself and exits 0 with "OK ..." or 1 with "ERROR ...".
    PeerProcess *node = startNode(QStringLiteral("node_client.js"), {url.toString()});
    QTRY_VERIFY2_WITH_TIMEOUT(node->finished(), qPrintable(QStringLiteral("the client did not finish") + node->output()), 55000);
    QVERIFY2(node->succeeded(), qPrintable(node->output()));
    QVERIFY2(node->has("OK") && !node->has("ERROR"), qPrintable(node->output()));
    qInfo("%s", node->value("OK").constData());

    // permessage-deflate, with the same parameters on both sides.
    QCOMPARE(side.connections, 1);
    qInfo("WsServer received:     %s", side.offer.constData());
    qInfo("WsServer answered:     %s", wsFormatExtensions(side.extensions).constData());
    qInfo("node client received:  %s", node->value("EXTENSIONS").constData());
    QVERIFY2(side.offer.startsWith("permessage-deflate"), side.offer.constData());
    QCOMPARE(canonical(side.extensions), expected);
    QCOMPARE(canonicalHeader(node->value("EXTENSIONS")), expected);

    // What WsServer received: every byte.
    QCOMPARE(side.sendFailures, 0);
    QCOMPARE(side.received.size(), msgs.size());
    for (qsizetype i = 0; i < msgs.size(); ++i) {
        const QString diff = checkMessage(i, msgs.at(i), side.received.at(i));
        QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("WsServer received: ") + diff));
    }

    // The close: the client's 1000 "bye", answered with 1000.
    QTRY_VERIFY_WITH_TIMEOUT(side.closed, kStepMs);
    const WsCloseStatus &status = side.status;
    QVERIFY(status.wasClean);
    QCOMPARE(int(status.error), int(WsError::NoError));
    QCOMPARE(status.code, quint16(1000));
    QCOMPARE(status.reason, QStringLiteral("bye"));
    QCOMPARE(int(status.initiator), int(WsCloseInitiator::Remote));
    QCOMPARE(status.sentCode, quint16(1000));
    const PeerNumbers c = parsePeerNumbers(node->value("CLOSED"), 3);
    QVERIFY2(c.valid, qPrintable(node->output()));
    QCOMPARE(c.numbers.at(0), qint64(1000));
    QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 0, kStepMs);

    // The bytes on the wire: what each side counted, and less than the payload.
    if (side.socket)  // still there: its final counters
        side.stats = side.socket->statistics();
    const WsSocketStatistics &stats = side.stats;
    qInfo("wire: WsServer's socket sent %lld bytes, received %lld; node client read %lld, wrote %lld; payload %lld bytes each way",
          stats.bytesSent, stats.bytesReceived, c.numbers.at(1), c.numbers.at(2), totalBytes(msgs));
    QCOMPARE(stats.bytesSent, c.numbers.at(1));
    QCOMPARE(stats.bytesReceived, c.numbers.at(2));
    QCOMPARE(stats.messagesSent, qint64(msgs.size()));
    QCOMPARE(stats.messagesReceived, qint64(msgs.size()));

    // Each message: WsKit compresses every echo that reaches its threshold (unless its window
    // is 8 bits); ws compresses what reaches its own (1024 bytes; below it, whether it does
    // depends on its context takeover) unless told not to. Compressed, it is smaller on the
    // wire.
    const qint64 threshold = options.deflate.threshold;
    const bool wsKitCompresses = options.deflate.maxWindowBits > 8;
    QString err = checkWireTotal("WsServer -> node", stats.bytesSent, msgs, wsKitCompresses);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkWireTotal("node -> WsServer", stats.bytesReceived, msgs, true);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(side.wire.out.size(), msgs.size());
    err = checkWire("WsServer -> node", msgs, side.wire.out, [&](qsizetype i) {
        return int(wsKitCompresses && msgs.at(i).data.size() >= threshold);
    });
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkWire("node -> WsServer", msgs, side.wire.in, [&](qsizetype i) {
        const Msg &m = msgs.at(i);
        return !m.compress ? 0 : m.data.size() >= kNodeThreshold ? 1 : -1;
    });
    QVERIFY2(err.isEmpty(), qPrintable(err));
    // ws sent the fragmented message in its frames (fin: false), compressed.
    const qsizetype frag = fragmentedIndex(msgs);
    QVERIFY(frag >= 0);
    QCOMPARE(side.wire.in.at(frag).frames, int(msgs.at(frag).cuts.size() + 2));
    QCOMPARE(side.wire.in.at(frag).rsv, quint8(WsRsv::Rsv1));
    qInfo("row took %lld ms", rowTimer.elapsed());
}

QTEST_GUILESS_MAIN(tst_NodeInterop)
#include "tst_node_interop.moc"
