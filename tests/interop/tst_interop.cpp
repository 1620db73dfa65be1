// Interoperability of WsSocket (client) and WsServer (server) with WebSocket implementations
// nobody here wrote, over loopback (127.0.0.1) only:
//   * Python `websockets` 10.4 (asyncio; Debian python3-websockets), server and client;
//   * `wsproto` 1.2 (sans-I/O, over the socket module; Debian python3-wsproto), server and
//     client; both run by /usr/bin/python3 as child processes (scripts in peers/);
//   * QtWebSockets (QWebSocketServer, QWebSocket; Debian qt6-websockets-dev), in-process.
// Every pairing exchanges the same messages both ways, each echo checked byte by byte (text
// with non-ASCII and NUL, empty text and binary, binary of 125 B to 8 MiB with a
// deterministic pattern), a ping each way with its pong, and a close handshake in both
// orders; plus a 403 rejection and subprotocol negotiation. peers/interop_common.py holds
// the same message list as interopMessages() below. A missing peer fails the test.

#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtTest/QtTest>
#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsockethandshakeoptions.h>
#include <QtWebSockets/qwebsocketserver.h>

#include "peerprocess.h"

#include <memory>
#include <vector>

namespace {

constexpr qint64 kMaxSize = 16 * 1024 * 1024;  // every side's message limit
constexpr int kStepMs = 15000;                 // bound of any single wait
constexpr int kCloseTimeoutMs = 5000;          // WsSocketOptions::closeTimeoutMs here

const QString kPyWebsockets = QStringLiteral("python-websockets");
const QString kWsproto = QStringLiteral("wsproto");
const QString kQt = QStringLiteral("qtwebsockets");

QString python() { return QStringLiteral(INTEROP_PYTHON); }
QString peersDir() { return QStringLiteral(INTEROP_PEERS_DIR); }

// --- The messages (the same as peers/interop_common.py) ----------------------------------

struct Msg
{
    bool text = false;
    QByteArray data;         // UTF-8 for text
    QList<QByteArray> parts; // if not empty: sent frame by frame (joined, they are data)
};

// A message sent in several frames; a text one may be cut inside a UTF-8 sequence.
Msg fragmented(bool text, const QList<QByteArray> &parts)
{
    Msg m{text, QByteArray(), parts};
    for (const QByteArray &p : parts)
        m.data += p;
    return m;
}

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

const QList<Msg> &interopMessages()
{
    static const QList<Msg> list = [] {
        const auto text = [](const QString &s) { return Msg{true, s.toUtf8(), {}}; };
        const auto binary = [](const QByteArray &b) { return Msg{false, b, {}}; };
        // Sent frame by frame by WsSocket (the Python clients cut them their own way, on code
        // points): "fragmented ☃ text 😀" cut inside the snowman (bytes 11-13) and ended by an
        // empty final frame; 100000 binary bytes with an empty frame in the middle. With
        // permessage-deflate the empty final frame must still end the compressed message
        // properly (RFC 7692 §7.2.1): the message after it is the check.
        const QByteArray fragText = QStringLiteral("fragmented ☃ text 😀").toUtf8();
        const QByteArray fragBinary = pattern(100000, 7);
        return QList<Msg>{
            text(QStringLiteral("hello")),
            text(QStringLiteral("héllo wörld ☃ 😀")),
            text(QString()),
            binary(QByteArray()),
            binary(pattern(125, 1)),
            binary(pattern(1024, 2)),
            Msg{true, QByteArray("nul\0inside", 10), {}},
            fragmented(true, {fragText.left(4), fragText.mid(4, 8), fragText.mid(12), QByteArray()}),
            fragmented(false, {fragBinary.left(1), QByteArray(), fragBinary.mid(1, 65536), fragBinary.mid(65537)}),
            binary(pattern(65535, 3)),
            binary(pattern(65536, 4)),
            text(QStringLiteral("ünïcødé ☃ 😀 ").repeated(20000)),
            binary(pattern(1024 * 1024, 5)),
            binary(pattern(8 * 1024 * 1024, 6)),
        };
    }();
    return list;
}

qint64 interopBytes()
{
    qint64 n = 0;
    for (const Msg &m : interopMessages())
        n += m.data.size();
    return n;
}

QString describe(const Msg &m)
{
    QString d = QStringLiteral("%1(%2)").arg(m.text ? QStringLiteral("text") : QStringLiteral("binary")).arg(m.data.size());
    if (!m.parts.isEmpty())
        d += QStringLiteral(" in %1 frames").arg(m.parts.size());
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

QByteArray extensionsText(const QList<WsExtensionOffer> &extensions)
{
    return extensions.isEmpty() ? QByteArrayLiteral("none") : wsFormatExtensions(extensions);
}

// QtWebSockets 6.4 fails a text message whose frame ends inside a UTF-8 sequence (1007
// "Invalid UTF-8 code encountered."), which RFC 6455 §5.6 allows ("a particular text frame
// might include a partial UTF-8 sequence"). For it, the cuts move back to code point starts.
QList<QByteArray> cutsOnCodePoints(const QList<QByteArray> &parts)
{
    QByteArray all;
    QList<qsizetype> cuts;
    for (const QByteArray &p : parts) {
        all += p;
        cuts.append(all.size());
    }
    QList<QByteArray> out;
    qsizetype from = 0;
    for (qsizetype cut : std::as_const(cuts)) {
        while (cut > from && cut < all.size() && (uchar(all.at(cut)) & 0xC0) == 0x80)
            --cut;
        out.append(all.mid(from, cut - from));
        from = cut;
    }
    return out;
}

WsSocketOptions interopOptions()
{
    WsSocketOptions o;
    o.limits.maxMessageSize = kMaxSize;
    o.handshakeTimeoutMs = 10000;
    o.closeTimeoutMs = kCloseTimeoutMs;
    o.pingIntervalMs = 0;  // the pings of this test are explicit
    return o;
}

// --- Python peers ----------------------------------------------------------------------

// Empty if /usr/bin/python3 can import the module, else what to install.
QString pythonModuleProblem(const QString &module, const QString &debianPackage)
{
    static QHash<QString, QString> cache;
    const auto it = cache.constFind(module);
    if (it != cache.constEnd())
        return *it;
    QString problem;
    if (!QFileInfo(python()).isExecutable()) {
        problem = QStringLiteral("%1 is missing: install the Debian packages python3 and %2").arg(python(), debianPackage);
    } else {
        QProcess p;
        p.start(python(), {QStringLiteral("-I"), QStringLiteral("-c"),
                           QStringLiteral("import %1; print(%1.__version__)").arg(module)});
        if (!p.waitForFinished(20000)) {
            p.kill();
            p.waitForFinished(3000);
            problem = QStringLiteral("%1 -c 'import %2' did not finish").arg(python(), module);
        } else if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            problem = QStringLiteral("%1 cannot import %2 (%3): install the Debian package %4 (apt-get install %4)")
                    .arg(python(), module, QString::fromLocal8Bit(p.readAllStandardError().trimmed()), debianPackage);
        } else {
            qInfo("peer: %s %s (%s)", qPrintable(module), p.readAllStandardOutput().trimmed().constData(),
                  qPrintable(python()));
        }
    }
    cache.insert(module, problem);
    return problem;
}

QString peerProblem(const QString &peer)
{
    if (peer == kPyWebsockets)
        return pythonModuleProblem(QStringLiteral("websockets"), QStringLiteral("python3-websockets"));
    if (peer == kWsproto)
        return pythonModuleProblem(QStringLiteral("wsproto"), QStringLiteral("python3-wsproto"));
    return QString();  // QtWebSockets is linked in
}

// A peer script run by /usr/bin/python3; its output is collected line by line.
// A Python peer: -I: no PYTHON* variables, no user site (only Debian's packages);
// -u: unbuffered; -B: no __pycache__ in the source tree.
std::unique_ptr<PeerProcess> pythonPeer(const QString &script, const QStringList &args)
{
    return std::make_unique<PeerProcess>(python(), QStringList{QStringLiteral("-I"), QStringLiteral("-u"), QStringLiteral("-B"),
                                                               peersDir() + u'/' + script} + args);
}

// --- QtWebSockets echo server (in-process) -------------------------------------------------

struct QtEchoServer
{
    QWebSocketServer server{QStringLiteral("wskit-interop"), QWebSocketServer::NonSecureMode};
    QPointer<QWebSocket> socket;
    int connections = 0;
    QList<Msg> received;
    QList<QByteArray> pongs;
    bool disconnected = false;
    int closeCode = 0;
    QString closeReason;
    QString subprotocol;
    int sendFailures = 0;

    QtEchoServer()
    {
        server.setSupportedSubprotocols({QStringLiteral("chat.v1")});
        QObject::connect(&server, &QWebSocketServer::newConnection, &server, [this] {
            while (QWebSocket *s = server.nextPendingConnection()) {
                s->setParent(&server);
                ++connections;
                socket = s;
                subprotocol = s->subprotocol();
                s->setMaxAllowedIncomingMessageSize(kMaxSize);
                s->setMaxAllowedIncomingFrameSize(kMaxSize);
                QObject::connect(s, &QWebSocket::textMessageReceived, &server, [this, s](const QString &m) {
                    if (m.startsWith(QLatin1String("close:"))) {
                        const QStringList parts = m.split(u':');
                        s->close(QWebSocketProtocol::CloseCode(parts.value(1).toInt()), parts.mid(2).join(u':'));
                        return;
                    }
                    received.append(Msg{true, m.toUtf8(), {}});
                    if (s->sendTextMessage(m) != m.toUtf8().size())
                        ++sendFailures;
                });
                QObject::connect(s, &QWebSocket::binaryMessageReceived, &server, [this, s](const QByteArray &m) {
                    received.append(Msg{false, m, {}});
                    if (s->sendBinaryMessage(m) != m.size())
                        ++sendFailures;
                });
                QObject::connect(s, &QWebSocket::pong, &server, [this](quint64, const QByteArray &p) { pongs.append(p); });
                QObject::connect(s, &QWebSocket::disconnected, &server, [this, s] {
                    disconnected = true;
                    closeCode = int(s->closeCode());
                    closeReason = s->closeReason();
                });
                s->ping(QByteArrayLiteral("srv-ping"));
            }
        });
    }
};

#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
constexpr auto qWebSocketErrorSignal = &QWebSocket::errorOccurred;
#else
constexpr auto qWebSocketErrorSignal = qOverload<QAbstractSocket::SocketError>(&QWebSocket::error);
#endif

} // namespace

class tst_Interop : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();

    void wsSocketToPeerServer_data();
    void wsSocketToPeerServer();
    void peerClientToWsServer_data();
    void peerClientToWsServer();
    void rejection_data();
    void rejection();

private:
    PeerProcess *startPeer(const QString &script, const QStringList &args)
    {
        m_peers.push_back(pythonPeer(script, args));
        return m_peers.back().get();
    }
    std::vector<std::unique_ptr<PeerProcess>> m_peers;
};

void tst_Interop::initTestCase()
{
    QVERIFY2(QFileInfo(peersDir() + QStringLiteral("/interop_common.py")).isFile(), qPrintable(peersDir()));
    qInfo("peer: QtWebSockets %s (built against %s)", qVersion(), QT_VERSION_STR);
}

void tst_Interop::cleanup()
{
    for (const auto &p : m_peers) {
        if (QTest::currentTestFailed())
            qWarning("%s", qPrintable(p->output()));
        p->stop();
    }
    m_peers.clear();
}

// WsSocket (client) against an echo server: Python websockets, wsproto or QWebSocketServer.
// The server pings "srv-ping" right after the handshake; "close:<code>:<reason>" makes it close.
void tst_Interop::wsSocketToPeerServer_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<bool>("wsSocketCloses");
    QTest::addColumn<QByteArray>("subprotocol");

    for (const QString &peer : {kPyWebsockets, kWsproto, kQt}) {
        const QString server = peer == kQt ? QStringLiteral("qwebsocketserver") : peer + QStringLiteral("-server");
        QTest::addRow("%s/wssocket-closes/chat.v1", qPrintable(server)) << peer << true << QByteArrayLiteral("chat.v1");
        QTest::addRow("%s/server-closes", qPrintable(server)) << peer << false << QByteArray();
    }
}

void tst_Interop::wsSocketToPeerServer()
{
    QFETCH(QString, peer);
    QFETCH(bool, wsSocketCloses);
    QFETCH(QByteArray, subprotocol);
    const QString problem = peerProblem(peer);
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));

    // The server.
    QUrl url;
    PeerProcess *py = nullptr;
    std::unique_ptr<QtEchoServer> qt;
    if (peer == kQt) {
        qt = std::make_unique<QtEchoServer>();
        QVERIFY2(qt->server.listen(QHostAddress::LocalHost, 0), qPrintable(qt->server.errorString()));
        url = QUrl(QStringLiteral("ws://127.0.0.1:%1/interop").arg(qt->server.serverPort()));
    } else {
        py = startPeer(peer == kPyWebsockets ? QStringLiteral("ws_echo_server.py") : QStringLiteral("wsproto_echo_server.py"), {});
        QTRY_VERIFY2_WITH_TIMEOUT(!py->line("PORT").isEmpty() || py->finished(), qPrintable(py->output()), kStepMs);
        const QByteArray portLine = py->line("PORT");
        QVERIFY2(!portLine.isEmpty(), qPrintable(QStringLiteral("the server printed no port") + py->output()));
        url = QUrl(QStringLiteral("ws://127.0.0.1:%1/interop").arg(QString::fromLatin1(portLine.mid(5).trimmed())));
    }

    // The client.
    WsSocket client;
    QObject context;
    QList<Msg> received;
    connect(&client, &WsSocket::textMessageReceived, &context, [&](const QString &m) { received.append(Msg{true, m.toUtf8(), {}}); });
    connect(&client, &WsSocket::binaryMessageReceived, &context, [&](const QByteArray &m) { received.append(Msg{false, m, {}}); });
    QSignalSpy connectedSpy(&client, &WsSocket::connected);
    QSignalSpy closedSpy(&client, &WsSocket::closed);
    QSignalSpy pingSpy(&client, &WsSocket::pingReceived);
    QSignalSpy pongSpy(&client, &WsSocket::pongReceived);
    WsRequest request;
    request.url = url;
    request.options = interopOptions();
    if (!subprotocol.isEmpty())
        request.subprotocols = {subprotocol};
    client.open(request);
    QTRY_VERIFY_WITH_TIMEOUT(!connectedSpy.isEmpty() || !closedSpy.isEmpty(), kStepMs);
    QVERIFY2(connectedSpy.size() == 1, qPrintable(QStringLiteral("not connected: ") + client.errorString()));
    QCOMPARE(client.state(), WsSocket::State::Open);
    QCOMPARE(client.subprotocol(), subprotocol);
    qInfo("WsSocket negotiated extensions: %s", extensionsText(client.extensions()).constData());
    if (py) {
        // Both ends agree on whether an extension (permessage-deflate) was negotiated.
        QTRY_VERIFY_WITH_TIMEOUT(!py->line("EXTENSIONS").isEmpty(), kStepMs);
        qInfo("server: %s", py->line("EXTENSIONS").trimmed().constData());
        QCOMPARE(client.extensions().isEmpty(), py->line("EXTENSIONS").trimmed() == QByteArrayLiteral("EXTENSIONS -"));
    }

    // The server's ping, answered by WsSocket itself; then ours, answered by the server.
    QTRY_COMPARE_WITH_TIMEOUT(pingSpy.size(), 1, kStepMs);
    QCOMPARE(pingSpy.at(0).at(0).toByteArray(), QByteArrayLiteral("srv-ping"));
    QVERIFY(client.ping(QByteArrayLiteral("wskit-ping")));
    QTRY_COMPARE_WITH_TIMEOUT(pongSpy.size(), 1, kStepMs);
    QCOMPARE(pongSpy.at(0).at(1).toByteArray(), QByteArrayLiteral("wskit-ping"));
    QVERIFY(pongSpy.at(0).at(0).toLongLong() >= 0);  // the round trip of a ping of ours

    // The messages, one at a time, each echo checked.
    const QList<Msg> &msgs = interopMessages();
    for (qsizetype i = 0; i < msgs.size(); ++i) {
        const Msg &m = msgs.at(i);
        qint64 queued = 0;
        if (m.parts.isEmpty()) {
            queued = m.text ? client.sendTextMessage(QString::fromUtf8(m.data)) : client.sendBinaryMessage(m.data);
        } else {
            const QList<QByteArray> parts = m.text && peer == kQt ? cutsOnCodePoints(m.parts) : m.parts;
            for (qsizetype k = 0; k < parts.size() && queued >= 0; ++k) {
                const qint64 n = client.sendFrame(k == 0 ? (m.text ? WsOpcode::Text : WsOpcode::Binary) : WsOpcode::Continuation,
                                                  parts.at(k), k == parts.size() - 1);
                queued = n < 0 ? n : queued + n;
            }
        }
        // At least a frame header is queued (the payload may be compressed: permessage-deflate).
        QVERIFY2(queued > 0, qPrintable(QStringLiteral("sending message %1 %2 returned %3 (error: %4)")
                                                    .arg(i).arg(describe(m)).arg(queued).arg(client.errorString())));
        QTRY_VERIFY2_WITH_TIMEOUT(received.size() > i || !closedSpy.isEmpty(),
                                  qPrintable(QStringLiteral("no echo of message %1 %2").arg(i).arg(describe(m))), kStepMs);
        QVERIFY2(received.size() == i + 1,
                 qPrintable(QStringLiteral("closed while waiting for the echo of message %1 %2: code %3 \"%4\" (%5)")
                            .arg(i).arg(describe(m)).arg(client.closeCode()).arg(client.closeReason(), client.errorString())));
        const QString diff = checkMessage(i, m, received.at(i));
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    // The server's view so far: its ping answered, the subprotocol, the messages.
    if (py) {
        QTRY_VERIFY_WITH_TIMEOUT(!py->line("PONG").isEmpty(), kStepMs);
        QCOMPARE(py->line("PONG").trimmed(), QByteArrayLiteral("PONG srv-ping"));
        QCOMPARE(py->line("SUBPROTOCOL").trimmed(),
                 QByteArrayLiteral("SUBPROTOCOL ") + (subprotocol.isEmpty() ? QByteArrayLiteral("-") : subprotocol));
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(qt->pongs.size(), 1, kStepMs);
        QCOMPARE(qt->pongs.at(0), QByteArrayLiteral("srv-ping"));
        QCOMPARE(qt->connections, 1);
        QCOMPARE(qt->subprotocol, QString::fromLatin1(subprotocol));
        QCOMPARE(qt->sendFailures, 0);
        QCOMPARE(qt->received.size(), msgs.size());
        for (qsizetype i = 0; i < msgs.size(); ++i) {
            const QString diff = checkMessage(i, msgs.at(i), qt->received.at(i));
            QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("QWebSocketServer received: ") + diff));
        }
    }

    // The close handshake, in the row's order.
    const quint16 code = wsSocketCloses ? 4000 : 4001;
    QElapsedTimer timer;
    timer.start();
    if (wsSocketCloses)
        client.close(4000, QStringLiteral("done"));
    else
        QVERIFY(client.sendTextMessage(QStringLiteral("close:4001:server bye")) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(closedSpy.size(), 1, kStepMs);
    const qint64 closeMs = timer.elapsed();
    const WsCloseStatus status = closedSpy.at(0).at(0).value<WsCloseStatus>();
    QCOMPARE(status.code, code);
    if (!wsSocketCloses)
        QCOMPARE(status.reason, QStringLiteral("server bye"));
    QVERIFY2(status.wasClean, qPrintable(client.errorString()));
    QCOMPARE(int(status.initiator), int(wsSocketCloses ? WsCloseInitiator::Local : WsCloseInitiator::Remote));
    QCOMPARE(status.sentCode, code);
    QCOMPARE(int(status.error), int(WsError::NoError));
    QCOMPARE(client.state(), WsSocket::State::Closed);
    QCOMPARE(client.closeCode(), code);
    // The server closes TCP right after the handshake: nothing waits for the close timeout.
    QVERIFY2(closeMs < kCloseTimeoutMs - 1000, qPrintable(QStringLiteral("closing took %1 ms").arg(closeMs)));

    // The server's view of the close.
    if (py) {
        QTRY_VERIFY_WITH_TIMEOUT(!py->line("CLOSED").isEmpty(), kStepMs);
        // "CLOSED <code> <count> <bytes> [<reason>]"
        const PeerNumbers c = parsePeerNumbers(py->value("CLOSED"), 3);
        QVERIFY2(c.valid, py->line("CLOSED").constData());
        QCOMPARE(c.numbers.at(0), qint64(code));
        if (wsSocketCloses)
            QCOMPARE(c.reason, QStringLiteral("done"));
        QCOMPARE(c.numbers.at(1), qint64(msgs.size()));
        QCOMPARE(c.numbers.at(2), interopBytes());
        QTRY_VERIFY_WITH_TIMEOUT(py->finished(), kStepMs);
        QVERIFY2(py->succeeded(), qPrintable(py->output()));
        QVERIFY2(py->line("ERROR").isEmpty(), qPrintable(py->output()));
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(qt->disconnected, kStepMs);
        if (wsSocketCloses) {
            QCOMPARE(qt->closeCode, 4000);
            QCOMPARE(qt->closeReason, QStringLiteral("done"));
        }
    }
}

// Clients nobody here wrote against a WsServer that echoes. The server pings "srv-ping" on
// each new connection and, in the wsserver-closes rows, closes with 4000 "done" after the last
// message has been echoed.
void tst_Interop::peerClientToWsServer_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<bool>("serverCloses");
    QTest::addColumn<QByteArray>("subprotocol");

    for (const QString &peer : {kPyWebsockets, kWsproto, kQt}) {
        const QString client = peer == kQt ? QStringLiteral("qwebsocket") : peer + QStringLiteral("-client");
        QTest::addRow("%s/client-closes/chat.v1", qPrintable(client)) << peer << false << QByteArrayLiteral("chat.v1");
        QTest::addRow("%s/wsserver-closes", qPrintable(client)) << peer << true << QByteArray();
    }
}

void tst_Interop::peerClientToWsServer()
{
    QFETCH(QString, peer);
    QFETCH(bool, serverCloses);
    QFETCH(QByteArray, subprotocol);
    const QString problem = peerProblem(peer);
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));

    const QList<Msg> &msgs = interopMessages();
    struct ServerSide
    {
        int connections = 0;
        QPointer<WsSocket> socket;
        QByteArray subprotocol;
        QByteArray extensions;
        QList<Msg> received;
        QList<QByteArray> pings;
        QList<QByteArray> pongs;
        int sendFailures = 0;
        bool closed = false;
        WsCloseStatus status;
    } side;
    QObject context;
    WsServer server;
    server.setOptions(interopOptions());
    server.setSupportedSubprotocols({QByteArrayLiteral("chat.v1")});
    connect(&server, &WsServer::newConnection, &context, [&] {
        while (WsSocket *s = server.nextPendingConnection()) {
            ++side.connections;
            side.socket = s;
            side.subprotocol = s->subprotocol();
            side.extensions = extensionsText(s->extensions());
            const auto echoed = [&, s] {
                if (serverCloses && side.received.size() == msgs.size())
                    s->close(4000, QStringLiteral("done"));
            };
            connect(s, &WsSocket::textMessageReceived, &context, [&, s, echoed](const QString &m) {
                side.received.append(Msg{true, m.toUtf8(), {}});
                if (s->sendTextMessage(m) < 0)
                    ++side.sendFailures;
                echoed();
            });
            connect(s, &WsSocket::binaryMessageReceived, &context, [&, s, echoed](const QByteArray &m) {
                side.received.append(Msg{false, m, {}});
                if (s->sendBinaryMessage(m) < 0)
                    ++side.sendFailures;
                echoed();
            });
            connect(s, &WsSocket::pingReceived, &context, [&](const QByteArray &p) { side.pings.append(p); });
            connect(s, &WsSocket::pongReceived, &context, [&](qint64, const QByteArray &p) { side.pongs.append(p); });
            connect(s, &WsSocket::closed, &context, [&](const WsCloseStatus &st) {
                side.closed = true;
                side.status = st;
            });
            QVERIFY(s->ping(QByteArrayLiteral("srv-ping")));
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/interop").arg(server.serverPort()));

    QByteArray clientPing;
    if (peer == kQt) {
        clientPing = QByteArrayLiteral("qt-ping");
        QWebSocket ws;
        ws.setMaxAllowedIncomingMessageSize(kMaxSize);
        ws.setMaxAllowedIncomingFrameSize(kMaxSize);
        QList<Msg> received;
        connect(&ws, &QWebSocket::textMessageReceived, &context, [&](const QString &m) { received.append(Msg{true, m.toUtf8(), {}}); });
        connect(&ws, &QWebSocket::binaryMessageReceived, &context, [&](const QByteArray &m) { received.append(Msg{false, m, {}}); });
        QSignalSpy connectedSpy(&ws, &QWebSocket::connected);
        QSignalSpy disconnectedSpy(&ws, &QWebSocket::disconnected);
        QSignalSpy pongSpy(&ws, &QWebSocket::pong);
        QWebSocketHandshakeOptions handshake;
        if (!subprotocol.isEmpty())
            handshake.setSubprotocols({QString::fromLatin1(subprotocol)});
        ws.open(url, handshake);
        QTRY_VERIFY_WITH_TIMEOUT(!connectedSpy.isEmpty() || !disconnectedSpy.isEmpty(), kStepMs);
        QVERIFY2(connectedSpy.size() == 1, qPrintable(QStringLiteral("QWebSocket not connected: ") + ws.errorString()));
        QCOMPARE(ws.subprotocol(), QString::fromLatin1(subprotocol));
        ws.ping(clientPing);
        QTRY_COMPARE_WITH_TIMEOUT(pongSpy.size(), 1, kStepMs);
        QCOMPARE(pongSpy.at(0).at(1).toByteArray(), clientPing);
        for (qsizetype i = 0; i < msgs.size(); ++i) {
            const Msg &m = msgs.at(i);
            const qint64 sent = m.text ? ws.sendTextMessage(QString::fromUtf8(m.data)) : ws.sendBinaryMessage(m.data);
            QCOMPARE(sent, qint64(m.data.size()));
            QTRY_VERIFY2_WITH_TIMEOUT(received.size() > i || !disconnectedSpy.isEmpty(),
                                      qPrintable(QStringLiteral("no echo of message %1 %2").arg(i).arg(describe(m))), kStepMs);
            QVERIFY2(received.size() == i + 1,
                     qPrintable(QStringLiteral("QWebSocket disconnected waiting for the echo of message %1 %2: %3 %4")
                                .arg(i).arg(describe(m)).arg(int(ws.closeCode())).arg(ws.closeReason())));
            const QString diff = checkMessage(i, m, received.at(i));
            QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("QWebSocket received: ") + diff));
        }
        if (!serverCloses)
            ws.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("bye"));
        QTRY_COMPARE_WITH_TIMEOUT(disconnectedSpy.size(), 1, kStepMs);
        if (serverCloses) {
            QCOMPARE(int(ws.closeCode()), 4000);
            QCOMPARE(ws.closeReason(), QStringLiteral("done"));
        }
    } else {
        clientPing = peer == kPyWebsockets ? QByteArrayLiteral("py-ping") : QByteArrayLiteral("wsproto-ping");
        QStringList args{url.toString(), serverCloses ? QStringLiteral("server-closes") : QStringLiteral("client-closes")};
        if (!subprotocol.isEmpty())
            args << QString::fromLatin1(subprotocol);
        PeerProcess *py = startPeer(peer == kPyWebsockets ? QStringLiteral("ws_client.py") : QStringLiteral("wsproto_client.py"), args);
        // The client checks every echo itself and exits 0 with "OK ..." or 1 with "ERROR ...".
        QTRY_VERIFY2_WITH_TIMEOUT(py->finished(), qPrintable(QStringLiteral("the client did not finish") + py->output()), 55000);
        QVERIFY2(py->succeeded(), qPrintable(py->output()));
        QVERIFY2(!py->line("OK").isEmpty(), qPrintable(py->output()));
        qInfo("%s", py->line("OK").trimmed().constData());
        // Both ends agree on whether an extension (permessage-deflate) was negotiated.
        QCOMPARE(side.extensions == QByteArrayLiteral("none"), py->line("OK").trimmed().endsWith("extensions none"));
    }

    qInfo("WsServer negotiated extensions: %s", side.extensions.constData());
    // What WsServer saw: every byte, the client's ping, the pong of its own, the close.
    QCOMPARE(side.connections, 1);
    QCOMPARE(side.subprotocol, subprotocol);
    QCOMPARE(side.sendFailures, 0);
    QCOMPARE(side.received.size(), msgs.size());
    for (qsizetype i = 0; i < msgs.size(); ++i) {
        const QString diff = checkMessage(i, msgs.at(i), side.received.at(i));
        QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("WsServer received: ") + diff));
    }
    QCOMPARE(side.pings, QList<QByteArray>{clientPing});
    QCOMPARE(side.pongs, QList<QByteArray>{QByteArrayLiteral("srv-ping")});
    QTRY_VERIFY_WITH_TIMEOUT(side.closed, kStepMs);
    const WsCloseStatus &status = side.status;
    QVERIFY(status.wasClean);
    QCOMPARE(int(status.error), int(WsError::NoError));
    if (serverCloses) {
        QCOMPARE(status.code, quint16(4000));  // the client echoes our code
        QCOMPARE(int(status.initiator), int(WsCloseInitiator::Local));
        QCOMPARE(status.sentCode, quint16(4000));
    } else {
        QCOMPARE(status.code, quint16(1000));
        QCOMPARE(status.reason, QStringLiteral("bye"));
        QCOMPARE(int(status.initiator), int(WsCloseInitiator::Remote));
        QCOMPARE(status.sentCode, quint16(1000));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 0, kStepMs);
}

// A WsServer that rejects every upgrade with 403 from upgradeRequested: the client reports
// the status at once instead of hanging.
void tst_Interop::rejection_data()
{
    QTest::addColumn<QString>("peer");
    QTest::newRow("python-websockets-client/403") << kPyWebsockets;
    QTest::newRow("wsproto-client/403") << kWsproto;
    QTest::newRow("qwebsocket/403") << kQt;
}

void tst_Interop::rejection()
{
    QFETCH(QString, peer);
    const QString problem = peerProblem(peer);
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));

    QObject context;
    WsServer server;
    server.setOptions(interopOptions());
    int upgrades = 0;
    connect(&server, &WsServer::upgradeRequested, &context, [&](WsUpgradeRequest *request) {
        ++upgrades;
        request->reject(403, QByteArrayLiteral("forbidden by tst_interop\n"));
    });
    QSignalSpy newConnectionSpy(&server, &WsServer::newConnection);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/interop").arg(server.serverPort()));

    QElapsedTimer timer;
    timer.start();
    if (peer == kQt) {
        QWebSocket ws;
        QSignalSpy connectedSpy(&ws, &QWebSocket::connected);
        QSignalSpy errorSpy(&ws, qWebSocketErrorSignal);
        ws.open(url);
        QTRY_VERIFY_WITH_TIMEOUT(!errorSpy.isEmpty(), kStepMs);
        QTRY_COMPARE_WITH_TIMEOUT(ws.state(), QAbstractSocket::UnconnectedState, kStepMs);
        QVERIFY(connectedSpy.isEmpty());
        qInfo("QWebSocket: %s", qPrintable(ws.errorString()));
    } else {
        PeerProcess *py = startPeer(peer == kPyWebsockets ? QStringLiteral("ws_client.py") : QStringLiteral("wsproto_client.py"),
                                    {url.toString(), QStringLiteral("reject403")});
        QTRY_VERIFY2_WITH_TIMEOUT(py->finished(), qPrintable(QStringLiteral("the client hangs") + py->output()), 20000);
        QVERIFY2(py->succeeded(), qPrintable(py->output()));
        QVERIFY2(!py->line("OK").isEmpty(), qPrintable(py->output()));
        qInfo("%s", py->line("OK").trimmed().constData());
    }
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QStringLiteral("the rejection took %1 ms").arg(timer.elapsed())));
    QCOMPARE(upgrades, 1);
    QCOMPARE(newConnectionSpy.size(), 0);
    QCOMPARE(server.connectionCount(), 0);
}

QTEST_GUILESS_MAIN(tst_Interop)
#include "tst_interop.moc"
