// The transport around WsSocket: HTTP CONNECT and SOCKS5 proxies (small ones the test runs),
// failure injection (a relay that cuts the connection at its n-th read, for n = 0, 1, 2, ...)
// and auto-reconnect with backoff.

#include "testutil.h"

#include <QtNetwork/qnetworkproxy.h>

namespace {

// Pipes two sockets together; the owner decides when to cut.
struct Pipe
{
    QTcpSocket *down = nullptr;  // towards the client
    QTcpSocket *up = nullptr;    // towards the server
};

void pipeBoth(QTcpSocket *a, QTcpSocket *b, const std::function<bool()> &beforeEachRead = {})
{
    const auto forward = [](QTcpSocket *from, QTcpSocket *to, std::function<bool()> check) {
        QObject::connect(from, &QTcpSocket::readyRead, to, [from, to, check] {
            if (check && !check())
                return;
            to->write(from->readAll());
        });
        QObject::connect(from, &QTcpSocket::disconnected, to, [to] { to->disconnectFromHost(); });
    };
    forward(a, b, beforeEachRead);
    forward(b, a, beforeEachRead);
}

// A minimal HTTP CONNECT proxy (RFC 7231 §4.3.6).
struct ConnectProxy
{
    QTcpServer tcp;
    QList<QByteArray> targets;
    bool refuse = false;

    ConnectProxy()
    {
        QObject::connect(&tcp, &QTcpServer::newConnection, &tcp, [this] {
            while (QTcpSocket *c = tcp.nextPendingConnection()) {
                auto *head = new QByteArray;
                QObject::connect(c, &QTcpSocket::readyRead, c, [this, c, head] {
                    if (!head)
                        return;
                    *head += c->readAll();
                    const qsizetype end = head->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QList<QByteArray> line = head->left(head->indexOf("\r\n")).split(' ');
                    QObject::disconnect(c, &QTcpSocket::readyRead, c, nullptr);
                    delete head;
                    if (refuse || line.size() < 2 || line[0] != "CONNECT") {
                        c->write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                        c->disconnectFromHost();
                        return;
                    }
                    targets.append(line[1]);
                    const qsizetype colon = line[1].lastIndexOf(':');
                    auto *up = new QTcpSocket(c);
                    QObject::connect(up, &QTcpSocket::connected, c, [c, up] {
                        c->write("HTTP/1.1 200 Connection established\r\n\r\n");
                        pipeBoth(c, up);
                    });
                    // "wskit.test" stands for this machine, so that a test can use a host name
                    // Qt does not exempt from proxying as it does loopback addresses.
                    QString host = QString::fromLatin1(line[1].left(colon));
                    if (host == QLatin1String("wskit.test"))
                        host = QStringLiteral("127.0.0.1");
                    up->connectToHost(host, quint16(line[1].mid(colon + 1).toUInt()));
                });
            }
        });
        tcp.listen(QHostAddress::LocalHost, 0);
    }
};

// A minimal SOCKS5 proxy (RFC 1928), no authentication, CONNECT to IPv4 or a domain name.
struct Socks5Proxy
{
    QTcpServer tcp;
    QList<QByteArray> targets;

    Socks5Proxy()
    {
        QObject::connect(&tcp, &QTcpServer::newConnection, &tcp, [this] {
            while (QTcpSocket *c = tcp.nextPendingConnection()) {
                auto stage = std::make_shared<int>(0);
                auto buffer = std::make_shared<QByteArray>();
                QObject::connect(c, &QTcpSocket::readyRead, c, [this, c, stage, buffer] {
                    if (*stage == 2)
                        return;
                    *buffer += c->readAll();
                    if (*stage == 0) {  // greeting: VER NMETHODS METHODS...
                        if (buffer->size() < 2 || buffer->size() < 2 + uchar(buffer->at(1)))
                            return;
                        buffer->remove(0, 2 + uchar(buffer->at(1)));
                        c->write(QByteArray("\x05\x00", 2));
                        *stage = 1;
                    }
                    if (*stage == 1) {  // VER CMD RSV ATYP DST.ADDR DST.PORT
                        if (buffer->size() < 5)
                            return;
                        const uchar atyp = uchar(buffer->at(3));
                        const int addrLen = atyp == 1 ? 4 : atyp == 3 ? 1 + uchar(buffer->at(4)) : 16;
                        if (buffer->size() < 4 + addrLen + 2)
                            return;
                        QString host;
                        if (atyp == 1)
                            host = QHostAddress(qFromBigEndian<quint32>(buffer->constData() + 4)).toString();
                        else if (atyp == 3)
                            host = QString::fromLatin1(buffer->mid(5, addrLen - 1));
                        const quint16 port = qFromBigEndian<quint16>(buffer->constData() + 4 + addrLen);
                        targets.append(host.toLatin1() + ':' + QByteArray::number(port));
                        *stage = 2;
                        QObject::disconnect(c, &QTcpSocket::readyRead, c, nullptr);
                        auto *up = new QTcpSocket(c);
                        QObject::connect(up, &QTcpSocket::connected, c, [c, up] {
                            c->write(QByteArray("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10));
                            pipeBoth(c, up);
                        });
                        up->connectToHost(host, port);
                    }
                });
            }
        });
        tcp.listen(QHostAddress::LocalHost, 0);
    }
};

// Relays a client to a server and cuts both sides at its n-th read (either direction).
struct CuttingRelay
{
    QTcpServer tcp;
    QHostAddress target;
    quint16 targetPort;
    int cutAt;
    int reads = 0;
    bool cut = false;

    CuttingRelay(quint16 port, int n) : target(QHostAddress::LocalHost), targetPort(port), cutAt(n)
    {
        QObject::connect(&tcp, &QTcpServer::newConnection, &tcp, [this] {
            QTcpSocket *down = tcp.nextPendingConnection();
            auto *up = new QTcpSocket(down);
            const auto check = [this, down, up] {
                if (cut)
                    return false;
                if (reads++ == cutAt) {
                    cut = true;
                    down->abort();
                    up->abort();
                    return false;
                }
                return true;
            };
            QObject::connect(up, &QTcpSocket::connected, down, [down, up, check] {
                pipeBoth(down, up, check);
                if (down->bytesAvailable())
                    emit down->readyRead();
            });
            up->connectToHost(target, targetPort);
        });
        tcp.listen(QHostAddress::LocalHost, 0);
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(tcp.serverPort())); }
};

} // namespace

class tst_WsTransport : public QObject
{
    Q_OBJECT
private slots:
    void httpConnectProxy();
    void socks5Proxy();
    void applicationProxyHonoured();
    void proxyRefusal();
    void failureInjection();
    void autoReconnectWithBackoff();
    void noReconnectAfterLocalClose();
};

static void exchangeThrough(const WsRequest &request)
{
    WsSocket client;
    QSignalSpy texts(&client, &WsSocket::textMessageReceived);
    client.open(request);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), WsSocket::State::Open, 5000);
    client.sendTextMessage(QStringLiteral("via proxy"));
    QTRY_COMPARE(texts.size(), 1);
    QCOMPARE(texts[0][0].toString(), QStringLiteral("via proxy"));
    QSignalSpy closed(&client, &WsSocket::closed);
    client.close();
    QVERIFY(closed.wait(5000));
    QVERIFY(closed[0][0].value<WsCloseStatus>().wasClean);
}

void tst_WsTransport::httpConnectProxy()
{
    EchoServer echo;
    ConnectProxy proxy;
    WsRequest r = fastRequest(echo.url());
    r.proxy = QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), proxy.tcp.serverPort());
    exchangeThrough(r);
    QCOMPARE(proxy.targets, QList<QByteArray>{"127.0.0.1:" + QByteArray::number(echo.server.serverPort())});
}

void tst_WsTransport::socks5Proxy()
{
    EchoServer echo;
    Socks5Proxy proxy;
    WsRequest r = fastRequest(echo.url());
    r.proxy = QNetworkProxy(QNetworkProxy::Socks5Proxy, QStringLiteral("127.0.0.1"), proxy.tcp.serverPort());
    exchangeThrough(r);
    QCOMPARE(proxy.targets, QList<QByteArray>{"127.0.0.1:" + QByteArray::number(echo.server.serverPort())});
}

void tst_WsTransport::applicationProxyHonoured()
{
    EchoServer echo;
    ConnectProxy proxy;
    QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), proxy.tcp.serverPort()));
    // Qt never proxies loopback addresses, so the client names a host only the proxy
    // resolves (to 127.0.0.1): nothing leaves this machine.
    QUrl url = echo.url();
    url.setHost(QStringLiteral("wskit.test"));
    exchangeThrough(fastRequest(url));
    QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::NoProxy));
    QCOMPARE(proxy.targets, QList<QByteArray>{"wskit.test:" + QByteArray::number(echo.server.serverPort())});
}

void tst_WsTransport::proxyRefusal()
{
    EchoServer echo;
    ConnectProxy proxy;
    proxy.refuse = true;
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    WsRequest r = fastRequest(echo.url());
    r.proxy = QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), proxy.tcp.serverPort());
    client.open(r);
    QVERIFY(closed.wait(5000));
    QVERIFY2(client.error() == WsError::ProxyError, qPrintable(client.errorString() + QLatin1String(" / ") + QLatin1String(wsErrorName(client.error()))));
    QVERIFY(!client.errorString().isEmpty());
}

void tst_WsTransport::failureInjection()
{
    // The connection is cut at every read in turn: during TCP setup, the handshake, the
    // messages and the close. Whatever the point, both sockets end in a defined state: one
    // closed() each, state Closed, and either a clean close or an error with code 1006.
    EchoServer echo;
    int n = 0;
    for (; n < 80; ++n) {
        CuttingRelay relay(echo.server.serverPort(), n);
        WsSocket client;
        QSignalSpy closed(&client, &WsSocket::closed);
        QSignalSpy states(&client, &WsSocket::stateChanged);
        QObject::connect(&client, &WsSocket::connected, &client, [&client] {
            client.sendTextMessage(QStringLiteral("one"));
            client.sendBinaryMessage(QByteArray(200 * 1024, 'b'));
            client.ping("p");
        });
        int echoes = 0;
        QObject::connect(&client, &WsSocket::binaryMessageReceived, &client, [&](const QByteArray &m) {
            QCOMPARE(m, QByteArray(200 * 1024, 'b'));  // never a truncated message
            if (++echoes == 1)
                client.close(1000, QStringLiteral("done"));
        });
        client.open(fastRequest(relay.url()));
        QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, 5000);
        QTest::qWait(20);
        QCOMPARE(closed.size(), 1);  // exactly once
        QCOMPARE(client.state(), WsSocket::State::Closed);
        QCOMPARE(states.last().at(0).value<WsSocket::State>(), WsSocket::State::Closed);
        const auto s = closed[0][0].value<WsCloseStatus>();
        if (relay.cut) {
            QVERIFY2(!s.wasClean || s.code == 1000, qPrintable(QStringLiteral("cut at %1").arg(n)));
            if (!s.wasClean) {
                QCOMPARE(s.code, quint16(WsCloseCode::Abnormal));
                QVERIFY(client.error() != WsError::NoError);
                QVERIFY(!client.errorString().isEmpty());
            }
        } else {
            QVERIFY(s.wasClean);
            QCOMPARE(s.code, quint16(1000));
            break;  // the whole conversation fits in fewer reads than n: done
        }
        // The server side of every attempt ends too.
        QTRY_COMPARE_WITH_TIMEOUT(echo.server.connectionCount(), 0, 5000);
    }
    QVERIFY2(n > 3 && n < 80, qPrintable(QStringLiteral("stopped after %1 cuts").arg(n)));
    qInfo("cut the connection at each of %d reads", n);
}

void tst_WsTransport::autoReconnectWithBackoff()
{
    // Nothing listens yet: attempts back off; once the server is up the client connects,
    // and after the server drops it, it comes back again.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();

    WsSocket client;
    QSignalSpy reconnecting(&client, &WsSocket::reconnecting);
    QSignalSpy connected(&client, &WsSocket::connected);
    WsRequest r = fastRequest(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port)));
    r.options.reconnect.enabled = true;
    r.options.reconnect.initialDelayMs = 40;
    r.options.reconnect.maxDelayMs = 200;
    r.options.reconnect.jitter = 0.1;
    client.open(r);
    QTRY_VERIFY_WITH_TIMEOUT(reconnecting.size() >= 4, 5000);
    QCOMPARE(reconnecting[0][0].toInt(), 1);
    QCOMPARE(reconnecting[3][0].toInt(), 4);
    const int d0 = reconnecting[0][1].toInt(), d1 = reconnecting[1][1].toInt(), d3 = reconnecting[3][1].toInt();
    QVERIFY2(d0 >= 36 && d0 <= 44, qPrintable(QString::number(d0)));
    QVERIFY2(d1 >= 72 && d1 <= 88, qPrintable(QString::number(d1)));
    QVERIFY2(d3 >= 180 && d3 <= 220, qPrintable(QString::number(d3)));  // capped at maxDelayMs
    QCOMPARE(client.reconnectAttempts(), reconnecting.size());

    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
    QVERIFY(connected.wait(5000));
    QCOMPARE(client.reconnectAttempts(), 0);
    QTRY_COMPARE(server.connectionCount(), 1);
    const int before = reconnecting.size();
    server.connections().first()->close(WsCloseCode::ServiceRestart);
    QTRY_VERIFY_WITH_TIMEOUT(connected.size() == 2, 5000);
    QCOMPARE(reconnecting.size(), before + 1);
    client.close();
    QTRY_COMPARE(client.state(), WsSocket::State::Closed);
}

void tst_WsTransport::noReconnectAfterLocalClose()
{
    EchoServer echo;
    WsSocket client;
    QSignalSpy reconnecting(&client, &WsSocket::reconnecting);
    WsRequest r = fastRequest(echo.url());
    r.options.reconnect.enabled = true;
    r.options.reconnect.initialDelayMs = 10;
    client.open(r);
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    client.close();
    QTRY_COMPARE(client.state(), WsSocket::State::Closed);
    QTest::qWait(100);
    QCOMPARE(reconnecting.size(), 0);
    QCOMPARE(client.state(), WsSocket::State::Closed);
}

QTEST_GUILESS_MAIN(tst_WsTransport)
#include "tst_wstransport.moc"
