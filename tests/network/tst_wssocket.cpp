// WsSocket and WsServer over real loopback sockets (127.0.0.1 and ::1, port 0): signals,
// properties, close handshakes, timeouts, redirects, rejections, limits, back-pressure, TLS.

#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qsslkey.h>
#include <QtTest/QtTest>

#include "testutil.h"

class tst_WsSocket : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void echo_data();
    void echo();
    void signalsAndProperties();
    void clientInitiatedClose();
    void serverInitiatedClose();
    void serverShutdownSendsGoingAway();
    void rejectWithStatusHeadersBody();
    void deferredAccept();
    void deferredAcceptTimesOut();
    void originAllowList();
    void subprotocolNegotiation();
    void messageLimitClosesWith1009();
    void handshakeTimeoutDropsSilentClients();
    void closeTimeoutDropsUnresponsivePeer();
    void keepalivePingTimeout();
    void keepaliveMeasuresRoundTrip();
    void redirectFollowed();
    void redirectDropsCredentialsAcrossOrigins();
    void tooManyRedirects();
    void connectionRefused();
    void invalidUrl();
    void plainHttpGets426();
    void httpHandlerAnswersHealthCheck();
    void maxConnectionsGives503();
    void broadcast();
    void backPressureBoundsMemoryAndLosesNothing();
    void sendFailsWhenNotOpen();
    void streamingSignals();
    void tlsEcho();
    void tlsClientCertificate();
    void pingTextStreamingAndWriteSignals();
    void compressionNegotiatedByDefault();
    void frameTransferredSignal();
    void noRedirectFromTlsToPlainText();

private:
    QTemporaryDir m_tmp;
    QString m_cert, m_key;
};

void tst_WsSocket::initTestCase()
{
    // A self-signed certificate made now with the openssl CLI (no key is committed).
    QVERIFY(m_tmp.isValid());
    m_cert = m_tmp.filePath(QStringLiteral("cert.pem"));
    m_key = m_tmp.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                                              QStringLiteral("-nodes"), QStringLiteral("-keyout"), m_key, QStringLiteral("-out"), m_cert,
                                              QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost"),
                                              QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1")});
    QVERIFY(openssl.waitForFinished(30000));
    QCOMPARE(openssl.exitCode(), 0);
}

void tst_WsSocket::echo_data()
{
    QTest::addColumn<QString>("address");
    QTest::newRow("ipv4/127.0.0.1") << QStringLiteral("127.0.0.1");
    QTest::newRow("ipv6/::1") << QStringLiteral("::1");
}

void tst_WsSocket::echo()
{
    QFETCH(QString, address);
    EchoServer echo{QHostAddress(address)};
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    QSignalSpy texts(&client, &WsSocket::textMessageReceived);
    QSignalSpy binaries(&client, &WsSocket::binaryMessageReceived);
    client.open(fastRequest(echo.url(QStringLiteral("/echo"))));
    QVERIFY(connected.wait(5000));
    QCOMPARE(client.peerAddress(), QHostAddress(address));
    QCOMPARE(client.peerPort(), echo.server.serverPort());
    QVERIFY(client.localPort() != 0);
    QCOMPARE(client.handshakeRequest().target, QByteArray("/echo"));

    // Incompressible, so that the sizes on the wire can be checked with compression on.
    QByteArray big(3 * 1024 * 1024 / 4, Qt::Uninitialized);
    QRandomGenerator(42).fillRange(reinterpret_cast<quint32 *>(big.data()), big.size() / 4);
    QCOMPARE(client.sendTextMessage(QStringLiteral("h\u00e9llo \U0001F600")) > 0, true);
    QVERIFY(client.sendBinaryMessage(big) > big.size());
    QVERIFY(client.sendBinaryMessage(QByteArray()) > 0);
    QTRY_COMPARE(texts.size(), 1);
    QTRY_COMPARE(binaries.size(), 2);
    QCOMPARE(texts[0][0].toString(), QStringLiteral("h\u00e9llo \U0001F600"));
    QCOMPARE(binaries[0][0].toByteArray(), big);  // every byte
    QCOMPARE(binaries[1][0].toByteArray(), QByteArray());
    const WsSocketStatistics s = client.statistics();
    QCOMPARE(s.messagesSent, qint64(3));
    QCOMPARE(s.messagesReceived, qint64(3));
    QVERIFY(s.bytesSent > big.size());
    QVERIFY(s.bytesReceived > big.size());
}

void tst_WsSocket::signalsAndProperties()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy states(&client, &WsSocket::stateChanged);
    QSignalSpy responses(&client, &WsSocket::handshakeResponseReceived);
    QSignalSpy closed(&client, &WsSocket::closed);
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    QCOMPARE(client.state(), WsSocket::State::Unconnected);
    WsRequest r = fastRequest(echo.url());
    r.headers.add("X-Test", "1");
    client.open(r);
    QCOMPARE(client.state(), WsSocket::State::Connecting);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses[0][0].value<WsHandshakeResponse>().status, 101);
    QCOMPARE(client.requestUrl(), r.url);
    QCOMPARE(client.handshakeRequest().headers.value("X-Test"), QByteArray("1"));
    client.close(4001, QStringLiteral("done"));
    QCOMPARE(client.state(), WsSocket::State::Closing);
    QVERIFY(closed.wait(5000));
    QCOMPARE(client.state(), WsSocket::State::Closed);
    QCOMPARE(states.size(), 4);
    QCOMPARE(states[0][0].value<WsSocket::State>(), WsSocket::State::Connecting);
    QCOMPARE(states[1][0].value<WsSocket::State>(), WsSocket::State::Open);
    QCOMPARE(states[2][0].value<WsSocket::State>(), WsSocket::State::Closing);
    QCOMPARE(states[3][0].value<WsSocket::State>(), WsSocket::State::Closed);
    QCOMPARE(errors.size(), 0);
    QCOMPARE(client.closeCode(), quint16(4001));
    QCOMPARE(client.error(), WsError::NoError);
}

void tst_WsSocket::clientInitiatedClose()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QTRY_COMPARE(echo.sockets.size(), 1);
    QSignalSpy serverClosed(echo.sockets[0].data(), &WsSocket::closed);
    client.close(WsCloseCode::Normal, QStringLiteral("bye"));
    QVERIFY(closed.wait(5000));
    const auto s = closed[0][0].value<WsCloseStatus>();
    QCOMPARE(s.code, quint16(1000));
    QVERIFY(s.wasClean);
    QCOMPARE(s.initiator, WsCloseInitiator::Local);
    QTRY_COMPARE(serverClosed.size(), 1);
    const auto ss = serverClosed[0][0].value<WsCloseStatus>();
    QCOMPARE(ss.code, quint16(1000));
    QCOMPARE(ss.reason, QStringLiteral("bye"));
    QCOMPARE(ss.initiator, WsCloseInitiator::Remote);
    QVERIFY(ss.wasClean);
}

void tst_WsSocket::serverInitiatedClose()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(echo.sockets.size(), 1);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    echo.sockets[0]->close(4321, QStringLiteral("server says bye"));
    QVERIFY(closed.wait(5000));
    const auto s = closed[0][0].value<WsCloseStatus>();
    QCOMPARE(s.code, quint16(4321));
    QCOMPARE(s.reason, QStringLiteral("server says bye"));
    QCOMPARE(s.initiator, WsCloseInitiator::Remote);
    QVERIFY(s.wasClean);
}

void tst_WsSocket::serverShutdownSendsGoingAway()
{
    auto *echo = new EchoServer;
    WsSocket a, b;
    QSignalSpy aClosed(&a, &WsSocket::closed), bClosed(&b, &WsSocket::closed);
    a.open(fastRequest(echo->url()));
    b.open(fastRequest(echo->url()));
    QTRY_COMPARE(echo->server.connectionCount(), 2);
    QSignalSpy serverClosed(&echo->server, &WsServer::closed);
    echo->server.close();
    QVERIFY(!echo->server.isListening());
    QVERIFY(serverClosed.wait(5000));
    QTRY_COMPARE(aClosed.size(), 1);
    QTRY_COMPARE(bClosed.size(), 1);
    QCOMPARE(aClosed[0][0].value<WsCloseStatus>().code, quint16(1001));
    QCOMPARE(bClosed[0][0].value<WsCloseStatus>().code, quint16(1001));
    QVERIFY(aClosed[0][0].value<WsCloseStatus>().wasClean);
    delete echo;
}

void tst_WsSocket::rejectWithStatusHeadersBody()
{
    EchoServer echo;
    QObject::connect(&echo.server, &WsServer::upgradeRequested, [](WsUpgradeRequest *r) {
        if (r->path() == "/private") {
            WsHttpHeaders h;
            h.add("WWW-Authenticate", "Bearer");
            r->reject(401, "token required\n", h);
        }
    });
    WsSocket client;
    QSignalSpy responses(&client, &WsSocket::handshakeResponseReceived);
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(echo.url(QStringLiteral("/private"))));
    QVERIFY(closed.wait(5000));
    QCOMPARE(responses.size(), 1);
    const auto r = responses[0][0].value<WsHandshakeResponse>();
    QCOMPARE(r.status, 401);
    QCOMPARE(r.headers.value("WWW-Authenticate"), QByteArray("Bearer"));
    QCOMPARE(r.body, QByteArray("token required\n"));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(client.error(), WsError::HandshakeUnexpectedStatus);
    QVERIFY(client.errorString().contains(QStringLiteral("401")));
    QCOMPARE(client.closeCode(), quint16(1006));
}

void tst_WsSocket::deferredAccept()
{
    EchoServer echo;
    QObject::connect(&echo.server, &WsServer::upgradeRequested, [](WsUpgradeRequest *r) {
        r->defer();
        // An asynchronous token check, answered later.
        QTimer::singleShot(150, r, [r] {
            WsHttpHeaders h;
            h.add("X-Checked", "yes");
            r->accept(QByteArray(), h);
        });
    });
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    QElapsedTimer t;
    t.start();
    client.open(fastRequest(echo.url()));
    QVERIFY(connected.wait(5000));
    QVERIFY(t.elapsed() >= 100);
    QCOMPARE(client.handshakeResponse().headers.value("X-Checked"), QByteArray("yes"));
}

void tst_WsSocket::deferredAcceptTimesOut()
{
    WsSocketOptions o = EchoServer::fastOptions();
    o.handshakeTimeoutMs = 200;
    EchoServer echo(QHostAddress::LocalHost, o);
    QObject::connect(&echo.server, &WsServer::upgradeRequested, [](WsUpgradeRequest *r) { r->defer(); });
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(echo.url()));
    QVERIFY(closed.wait(5000));
    QVERIFY(client.error() != WsError::NoError);
    QTRY_COMPARE(echo.server.connectionCount(), 0);
}

void tst_WsSocket::originAllowList()
{
    EchoServer echo;
    echo.server.setAllowedOrigins({"https://app.example"});
    WsSocket good, bad;
    QSignalSpy goodConnected(&good, &WsSocket::connected);
    QSignalSpy badResponses(&bad, &WsSocket::handshakeResponseReceived);
    WsRequest r = fastRequest(echo.url());
    r.origin = "https://app.example";
    good.open(r);
    r.origin = "https://evil.example";
    bad.open(r);
    QVERIFY(goodConnected.wait(5000));
    QTRY_COMPARE(badResponses.size(), 1);
    QCOMPARE(badResponses[0][0].value<WsHandshakeResponse>().status, 403);
}

void tst_WsSocket::subprotocolNegotiation()
{
    EchoServer echo;
    echo.server.setSupportedSubprotocols({"v2.chat", "v1.chat"});
    WsSocket client;
    WsRequest r = fastRequest(echo.url());
    r.subprotocols = {"v1.chat", "v2.chat"};
    client.open(r);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QCOMPARE(client.subprotocol(), QByteArray("v2.chat"));  // the server's preference
    QTRY_COMPARE(echo.sockets.size(), 1);
    QCOMPARE(echo.sockets[0]->subprotocol(), QByteArray("v2.chat"));
}

void tst_WsSocket::messageLimitClosesWith1009()
{
    WsSocketOptions o = EchoServer::fastOptions();
    o.limits.maxMessageSize = 1000;
    EchoServer echo(QHostAddress::LocalHost, o);
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QSignalSpy echoed(&client, &WsSocket::binaryMessageReceived);
    client.sendBinaryMessage(QByteArray(1000, 'a'));
    QVERIFY(echoed.wait(5000));
    client.sendBinaryMessage(QByteArray(1001, 'b'));
    QVERIFY(closed.wait(5000));
    QCOMPARE(closed[0][0].value<WsCloseStatus>().code, quint16(1009));
    QCOMPARE(client.statistics().messagesReceived, qint64(1));
}

void tst_WsSocket::handshakeTimeoutDropsSilentClients()
{
    // Slowloris: clients that connect and send nothing (or a trickle) are dropped, while a
    // normal client still connects at once.
    WsSocketOptions o = EchoServer::fastOptions();
    o.handshakeTimeoutMs = 300;
    EchoServer echo(QHostAddress::LocalHost, o);
    QList<QTcpSocket *> silent;
    for (int i = 0; i < 20; ++i) {
        auto *s = new QTcpSocket(this);
        s->connectToHost(QHostAddress::LocalHost, echo.server.serverPort());
        silent.append(s);
    }
    QTRY_VERIFY(std::all_of(silent.begin(), silent.end(), [](QTcpSocket *s) { return s->state() == QAbstractSocket::ConnectedState; }));
    silent[0]->write("GET / HTTP/1.1\r\nHost: x\r\n");  // and never finishes
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    client.open(fastRequest(echo.url()));
    QVERIFY(connected.wait(2000));
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(silent.begin(), silent.end(), [](QTcpSocket *s) { return s->state() == QAbstractSocket::UnconnectedState; }), 3000);
    QCOMPARE(echo.server.connectionCount(), 1);
    qDeleteAll(silent);
}

void tst_WsSocket::closeTimeoutDropsUnresponsivePeer()
{
    RawServer raw;
    raw.onData = RawServer::accept101;  // then ignores the close frame
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    WsRequest r = fastRequest(raw.url());
    r.options.closeTimeoutMs = 300;
    client.open(r);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QElapsedTimer t;
    t.start();
    client.close();
    QVERIFY(closed.wait(3000));
    QVERIFY(t.elapsed() >= 250);
    const auto s = closed[0][0].value<WsCloseStatus>();
    QVERIFY(!s.wasClean);
    QCOMPARE(s.code, quint16(1006));
    QCOMPARE(client.error(), WsError::CloseTimeout);
}

void tst_WsSocket::keepalivePingTimeout()
{
    RawServer raw;
    QByteArray received;
    raw.onData = [&](QTcpSocket *c, const QByteArray &d) {
        if (d.startsWith("GET "))
            RawServer::accept101(c, d);
        else
            received += d;  // pings pile up unanswered
    };
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    WsRequest r = fastRequest(raw.url());
    r.options.pingIntervalMs = 100;
    r.options.pongTimeoutMs = 200;
    r.options.closeTimeoutMs = 300;
    client.open(r);
    QVERIFY(closed.wait(5000));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(client.error(), WsError::PingTimeout);
    QCOMPARE(closed[0][0].value<WsCloseStatus>().sentCode, quint16(1011));
    QVERIFY(received.size() >= 6);
    QCOMPARE(uchar(received[0]), uchar(0x89));  // a masked ping came first
}

void tst_WsSocket::keepaliveMeasuresRoundTrip()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy pongs(&client, &WsSocket::pongReceived);
    WsRequest r = fastRequest(echo.url());
    r.options.pingIntervalMs = 50;
    client.open(r);
    QVERIFY(pongs.wait(3000));
    QVERIFY(pongs[0][0].toLongLong() >= 0);
    QVERIFY(client.statistics().lastRoundTripMs >= 0);
    QVERIFY(client.ping("manual"));
    QTRY_VERIFY(std::any_of(pongs.begin(), pongs.end(), [](const QList<QVariant> &a) { return a[1].toByteArray() == "manual"; }));
    QCOMPARE(client.state(), WsSocket::State::Open);
}

void tst_WsSocket::redirectFollowed()
{
    EchoServer echo;
    RawServer raw;
    raw.onData = [&](QTcpSocket *c, const QByteArray &) {
        c->write("HTTP/1.1 302 Found\r\nLocation: " + echo.url(QStringLiteral("/moved")).toEncoded()
                 + "\r\nContent-Length: 0\r\n\r\n");
    };
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(raw.url()));
    QVERIFY(connected.wait(5000));
    QCOMPARE(closed.size(), 0);
    QCOMPARE(client.requestUrl().path(), QStringLiteral("/moved"));
    QCOMPARE(client.handshakeRequest().target, QByteArray("/moved"));
}

void tst_WsSocket::redirectDropsCredentialsAcrossOrigins()
{
    EchoServer echo;
    QByteArray seenAuthorization = "unset";
    QObject::connect(&echo.server, &WsServer::upgradeRequested, [&](WsUpgradeRequest *r) {
        seenAuthorization = r->request().headers.value("Authorization");
    });
    RawServer raw;  // 127.0.0.1:<raw port> redirects to another origin (another port)
    raw.onData = [&](QTcpSocket *c, const QByteArray &) {
        c->write("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + echo.url().toEncoded() + "\r\nContent-Length: 0\r\n\r\n");
    };
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    WsRequest r = fastRequest(raw.url());
    r.headers.add("Authorization", "Bearer secret");
    r.headers.add("X-Keep", "kept");
    client.open(r);
    QVERIFY(connected.wait(5000));
    QCOMPARE(seenAuthorization, QByteArray());
    QCOMPARE(client.handshakeRequest().headers.value("X-Keep"), QByteArray("kept"));
}

void tst_WsSocket::tooManyRedirects()
{
    RawServer raw;
    raw.onData = [&](QTcpSocket *c, const QByteArray &) {
        c->write("HTTP/1.1 302 Found\r\nLocation: " + raw.url().toEncoded() + "\r\nContent-Length: 0\r\n\r\n");
    };
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    WsRequest r = fastRequest(raw.url());
    r.maxRedirects = 3;
    client.open(r);
    QVERIFY(closed.wait(5000));
    QCOMPARE(client.error(), WsError::TooManyRedirects);
    QCOMPARE(client.handshakeResponse().status, 302);
}

void tst_WsSocket::connectionRefused()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    client.open(fastRequest(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port))));
    QVERIFY(closed.wait(5000));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(client.error(), WsError::ConnectionRefused);
    QVERIFY(!client.errorString().isEmpty());
}

void tst_WsSocket::invalidUrl()
{
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(QUrl(QStringLiteral("ftp://example.com/")));
    QCOMPARE(closed.size(), 1);
    QCOMPARE(client.error(), WsError::InvalidArgument);
    QCOMPARE(client.state(), WsSocket::State::Closed);
}

static QByteArray rawHttp(quint16 port, const QByteArray &request)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(3000))
        return "no connection";
    s.write(request);
    QByteArray response;
    QElapsedTimer t;
    t.start();
    while (s.state() == QAbstractSocket::ConnectedState && t.elapsed() < 3000) {
        s.waitForReadyRead(100);
        response += s.readAll();
    }
    return response + s.readAll();
}

void tst_WsSocket::plainHttpGets426()
{
    EchoServer echo;
    QByteArray response;
    QTimer::singleShot(0, [&] {});
    QThread *t = QThread::create([&] { response = rawHttp(echo.server.serverPort(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); });
    t->start();
    QTRY_VERIFY_WITH_TIMEOUT(t->isFinished(), 5000);
    delete t;
    QVERIFY2(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response.constData());
    QVERIFY(response.contains("Sec-WebSocket-Version: 13\r\n"));
}

void tst_WsSocket::httpHandlerAnswersHealthCheck()
{
    EchoServer echo;
    echo.server.setHttpHandler([](const WsHandshakeRequest &r, WsHandshakeResponse *out) {
        if (r.path() != "/health")
            return false;
        out->status = 200;
        out->body = "ok\n";
        return true;
    });
    QByteArray health, other;
    QThread *t = QThread::create([&] {
        health = rawHttp(echo.server.serverPort(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        other = rawHttp(echo.server.serverPort(), "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    t->start();
    QTRY_VERIFY_WITH_TIMEOUT(t->isFinished(), 8000);
    delete t;
    QVERIFY2(health.startsWith("HTTP/1.1 200 OK\r\n"), health.constData());
    QVERIFY(health.endsWith("\r\n\r\nok\n"));
    QVERIFY2(other.startsWith("HTTP/1.1 426"), other.constData());
    // WebSocket clients are unaffected.
    WsSocket client;
    QSignalSpy connected(&client, &WsSocket::connected);
    client.open(fastRequest(echo.url()));
    QVERIFY(connected.wait(5000));
}

void tst_WsSocket::maxConnectionsGives503()
{
    EchoServer echo;
    echo.server.setMaxConnections(2);
    WsSocket a, b, c;
    a.open(fastRequest(echo.url()));
    b.open(fastRequest(echo.url()));
    QTRY_COMPARE(echo.server.connectionCount(), 2);
    QSignalSpy responses(&c, &WsSocket::handshakeResponseReceived);
    QSignalSpy closed(&c, &WsSocket::closed);
    c.open(fastRequest(echo.url()));
    QVERIFY(closed.wait(5000));
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses[0][0].value<WsHandshakeResponse>().status, 503);
}

void tst_WsSocket::broadcast()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort()));
    WsSocket clients[3];
    QList<QSignalSpy *> spies;
    for (WsSocket &c : clients) {
        spies.append(new QSignalSpy(&c, &WsSocket::textMessageReceived));
        c.open(fastRequest(url));
    }
    QTRY_COMPARE(server.connectionCount(), 3);
    QTRY_VERIFY(std::all_of(std::begin(clients), std::end(clients), [](const WsSocket &c) { return c.state() == WsSocket::State::Open; }));
    QCOMPARE(server.broadcastTextMessage(QStringLiteral("to all")), 3);
    for (QSignalSpy *s : spies) {
        QTRY_COMPARE(s->size(), 1);
        QCOMPARE(s->at(0).at(0).toString(), QStringLiteral("to all"));
    }
    qDeleteAll(spies);
}

void tst_WsSocket::backPressureBoundsMemoryAndLosesNothing()
{
    // The server stops reading; the client keeps sending 64 KiB messages. Its sends start
    // failing at the write buffer limit (nothing queued beyond it), and once the server
    // reads again every accepted message arrives, in order.
    WsServer server;
    WsSocketOptions so = EchoServer::fastOptions();
    so.readBufferSize = 64 * 1024;
    so.limits.maxMessageSize = 1 << 20;
    server.setOptions(so);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<WsSocket> serverSide;
    QList<QByteArray> got;
    QObject::connect(&server, &WsServer::newConnection, &server, [&] {
        serverSide = server.nextPendingConnection();
        serverSide->pauseReading();
        QObject::connect(serverSide, &WsSocket::binaryMessageReceived, serverSide, [&](const QByteArray &m) { got.append(m); });
    });
    WsSocket client;
    WsRequest r = fastRequest(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort())));
    r.options.maxWriteBufferSize = 512 * 1024;
    r.options.compression = false;  // the messages are runs of one letter
    client.open(r);
    QTRY_VERIFY(serverSide && client.state() == WsSocket::State::Open);
    int accepted = 0, refused = 0;
    QElapsedTimer t;
    t.start();
    while (refused == 0 && t.elapsed() < 10000 && accepted < 2000) {
        QByteArray m(64 * 1024, char('a' + accepted % 26));
        if (client.sendBinaryMessage(m) > 0)
            ++accepted;
        else
            ++refused;
        QCoreApplication::processEvents();
    }
    QVERIFY2(refused > 0, "the write buffer limit never refused a send");
    QVERIFY(client.bufferedAmount() <= 512 * 1024 + 70 * 1024);
    QCOMPARE(client.errorString(), wsErrorDescription(WsError::WriteBufferFull));
    QCOMPARE(client.state(), WsSocket::State::Open);
    QSignalSpy drained(&client, &WsSocket::writeBufferDrained);
    serverSide->resumeReading();
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), accepted, 10000);
    for (int i = 0; i < accepted; ++i)
        QCOMPARE(got[i], QByteArray(64 * 1024, char('a' + i % 26)));
    QTRY_VERIFY(drained.size() > 0);
}

void tst_WsSocket::sendFailsWhenNotOpen()
{
    WsSocket client;
    QCOMPARE(client.sendTextMessage(QStringLiteral("x")), qint64(-1));
    EchoServer echo;
    client.open(fastRequest(echo.url()));
    QCOMPARE(client.sendTextMessage(QStringLiteral("too early")), qint64(-1));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QVERIFY(!client.ping(QByteArray(126, 'x')));
    client.close();
    QCOMPARE(client.sendTextMessage(QStringLiteral("too late")), qint64(-1));
    QCOMPARE(client.errorString(), wsErrorDescription(WsError::NotOpen));
}

void tst_WsSocket::streamingSignals()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy pieces(&client, &WsSocket::binaryFrameReceived);
    WsRequest r = fastRequest(echo.url());
    r.options.streamMessages = true;
    client.open(r);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    const QByteArray big(4 * 1024 * 1024 / 8, 'q');
    client.sendBinaryMessage(big);
    QTRY_VERIFY(!pieces.isEmpty() && pieces.last().at(1).toBool());
    QByteArray assembled;
    for (const auto &p : pieces)
        assembled += p.at(0).toByteArray();
    QCOMPARE(assembled, big);
}

void tst_WsSocket::tlsEcho()
{
    QFile certFile(m_cert), keyFile(m_key);
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
    const QSslCertificate cert(certFile.readAll(), QSsl::Pem);
    QSslConfiguration serverTls = QSslConfiguration::defaultConfiguration();
    serverTls.setLocalCertificate(cert);
    serverTls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem));
    serverTls.setPeerVerifyMode(QSslSocket::VerifyNone);
    EchoServer echo;
    echo.server.close();
    echo.server.setSslConfiguration(serverTls);
    QVERIFY(echo.server.isSecure());
    QVERIFY(echo.server.listen(QHostAddress::LocalHost, 0));

    // Trusting the generated certificate as a CA: verified TLS.
    WsSocket client;
    QSslConfiguration clientTls = QSslConfiguration::defaultConfiguration();
    clientTls.setCaCertificates({cert});
    client.setSslConfiguration(clientTls);
    QSignalSpy texts(&client, &WsSocket::textMessageReceived);
    QSignalSpy sslErrors(&client, &WsSocket::sslErrors);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QCOMPARE(client.requestUrl().scheme(), QStringLiteral("wss"));
    client.sendTextMessage(QStringLiteral("over TLS"));
    QTRY_COMPARE(texts.size(), 1);
    QCOMPARE(texts[0][0].toString(), QStringLiteral("over TLS"));
    QCOMPARE(sslErrors.size(), 0);

    // Without trusting it: sslErrors, and the connection fails unless they are ignored.
    WsSocket strict;
    QSignalSpy strictClosed(&strict, &WsSocket::closed);
    QSignalSpy strictErrors(&strict, &WsSocket::sslErrors);
    strict.open(fastRequest(echo.url()));
    QVERIFY(strictClosed.wait(5000));
    QVERIFY(strictErrors.size() >= 1);
    QCOMPARE(strict.error(), WsError::TlsError);

    WsSocket lenient;
    QObject::connect(&lenient, &WsSocket::sslErrors, &lenient, [&] { lenient.ignoreSslErrors(); });
    lenient.open(fastRequest(echo.url()));
    QTRY_COMPARE(lenient.state(), WsSocket::State::Open);
}

void tst_WsSocket::tlsClientCertificate()
{
    // The server requires a client certificate and trusts only ours (the same generated
    // pair, used as its own CA).
    QFile certFile(m_cert), keyFile(m_key);
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
    const QSslCertificate cert(certFile.readAll(), QSsl::Pem);
    const QSslKey key(keyFile.readAll(), QSsl::Rsa, QSsl::Pem);
    QSslConfiguration serverTls = QSslConfiguration::defaultConfiguration();
    serverTls.setLocalCertificate(cert);
    serverTls.setPrivateKey(key);
    serverTls.setCaCertificates({cert});
    serverTls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setSslConfiguration(serverTls);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(QStringLiteral("wss://127.0.0.1:%1/").arg(server.serverPort()));

    QSslConfiguration clientTls = QSslConfiguration::defaultConfiguration();
    clientTls.setCaCertificates({cert});
    WsSocket anonymous;
    anonymous.setSslConfiguration(clientTls);
    QSignalSpy anonymousClosed(&anonymous, &WsSocket::closed);
    anonymous.open(fastRequest(url));
    QVERIFY(anonymousClosed.wait(5000));
    QVERIFY(anonymous.error() != WsError::NoError);

    clientTls.setLocalCertificate(cert);
    clientTls.setPrivateKey(key);
    WsSocket identified;
    identified.setSslConfiguration(clientTls);
    QSignalSpy connected(&identified, &WsSocket::connected);
    identified.open(fastRequest(url));
    QVERIFY(connected.wait(5000));
}

void tst_WsSocket::pingTextStreamingAndWriteSignals()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy written(&client, &WsSocket::bytesWritten);
    QSignalSpy pieces(&client, &WsSocket::textFrameReceived);
    WsRequest r = fastRequest(echo.url());
    r.options.streamMessages = true;
    client.open(r);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QTRY_COMPARE(echo.sockets.size(), 1);
    QSignalSpy pings(echo.sockets[0].data(), &WsSocket::pingReceived);
    QVERIFY(client.ping("hello?"));
    QTRY_COMPARE(pings.size(), 1);
    QCOMPARE(pings[0][0].toByteArray(), QByteArray("hello?"));
    const QString text = QString(300000, QChar(0x20ac));  // 900 KB of 3-byte characters
    QVERIFY(client.sendTextMessage(text) > 0);
    QTRY_VERIFY(!pieces.isEmpty() && pieces.last().at(1).toBool());
    QString assembled;
    for (const auto &p : pieces)
        assembled += p.at(0).toString();
    QCOMPARE(assembled, text);
    QVERIFY(!written.isEmpty());
    qint64 total = 0;
    for (const auto &w : written)
        total += w.at(0).toLongLong();
    QCOMPARE(total, client.statistics().bytesSent);
    QCOMPARE(client.bufferedAmount(), qint64(0));
}

void tst_WsSocket::compressionNegotiatedByDefault()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy texts(&client, &WsSocket::textMessageReceived);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QCOMPARE(client.extensions().size(), 1);
    QCOMPARE(client.extensions().first().name, QByteArray("permessage-deflate"));
    QString json;
    for (int i = 0; i < 2000; ++i)
        json += QStringLiteral("{\"id\":%1,\"name\":\"user%2\",\"active\":true},").arg(i).arg(i % 50);
    const qint64 before = client.statistics().bytesSent;
    client.sendTextMessage(json);
    QTRY_COMPARE(texts.size(), 1);
    QCOMPARE(texts[0][0].toString(), json);
    const qint64 onWire = client.statistics().bytesSent - before;
    QVERIFY2(onWire * 4 < json.size(), qPrintable(QStringLiteral("%1 bytes for %2").arg(onWire).arg(json.size())));
    // Opting out for one message.
    const qint64 plain = client.sendMessage(WsOpcode::Text, json.toUtf8(), /*compress=*/false);
    QVERIFY(plain > json.size());
    QTRY_COMPARE(texts.size(), 2);
    QCOMPARE(texts[1][0].toString(), json);

    WsSocket uncompressed;
    WsRequest r = fastRequest(echo.url());
    r.options.compression = false;
    uncompressed.open(r);
    QTRY_COMPARE(uncompressed.state(), WsSocket::State::Open);
    QVERIFY(uncompressed.extensions().isEmpty());
}

void tst_WsSocket::frameTransferredSignal()
{
    EchoServer echo;
    WsSocket client;
    QList<WsFrameInfo> frames;
    QObject::connect(&client, &WsSocket::frameTransferred, &client, [&](const WsFrameInfo &f) { frames.append(f); });
    QSignalSpy texts(&client, &WsSocket::textMessageReceived);
    client.open(fastRequest(echo.url()));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    const QString json = QString(5000, QLatin1Char('j'));
    client.sendTextMessage(json);
    QTRY_COMPARE(texts.size(), 1);
    QTRY_COMPARE(frames.size(), 2);
    QCOMPARE(frames[0].direction, WsFrameInfo::Outgoing);
    QCOMPARE(frames[0].messageSize, qint64(5000));
    QVERIFY(frames[0].wireSize < 100);  // compressed
    QCOMPARE(frames[0].rsv, quint8(WsRsv::Rsv1));
    QCOMPARE(frames[1].direction, WsFrameInfo::Incoming);
    QCOMPARE(frames[1].payload, json.toUtf8());
}

void tst_WsSocket::noRedirectFromTlsToPlainText()
{
    // A wss:// server redirecting to ws:// would strip TLS: reported, not followed.
    QFile certFile(m_cert), keyFile(m_key);
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(QSslCertificate(certFile.readAll(), QSsl::Pem));
    tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    EchoServer plain;
    WsServer secure;
    secure.setOptions(EchoServer::fastOptions());
    secure.setSslConfiguration(tls);
    QVERIFY(secure.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&secure, &WsServer::upgradeRequested, &secure, [&](WsUpgradeRequest *r) {
        WsHttpHeaders h;
        h.add("Location", plain.url().toEncoded());
        r->reject(302, QByteArray(), h);
    });
    WsSocket client;
    QObject::connect(&client, &WsSocket::sslErrors, &client, [&] { client.ignoreSslErrors(); });
    QSignalSpy closed(&client, &WsSocket::closed);
    client.open(fastRequest(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(secure.serverPort()))));
    QVERIFY(closed.wait(5000));
    QCOMPARE(client.handshakeResponse().status, 302);
    QCOMPARE(client.error(), WsError::HandshakeUnexpectedStatus);
    QCOMPARE(plain.server.connectionCount(), 0);
    QCOMPARE(client.requestUrl().scheme(), QStringLiteral("wss"));
}

QTEST_GUILESS_MAIN(tst_WsSocket)
#include "tst_wssocket.moc"
