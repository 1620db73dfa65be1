// Loopback peers shared by the network tests: an echo WsServer, and a raw TCP server whose
// answers the test scripts (for peers that misbehave).
#pragma once

#include <wsserver.h>
#include <wssocket.h>

#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/QtTest>

#include <functional>

namespace wstest {

// An echo server on loopback for the tests.
struct EchoServer
{
    WsServer server;
    QList<QPointer<WsSocket>> sockets;

    explicit EchoServer(const QHostAddress &address = QHostAddress::LocalHost, WsSocketOptions options = fastOptions())
    {
        server.setOptions(options);
        QObject::connect(&server, &WsServer::newConnection, &server, [this] {
            while (WsSocket *s = server.nextPendingConnection()) {
                sockets.append(s);
                QObject::connect(s, &WsSocket::textMessageReceived, s, [s](const QString &m) { s->sendTextMessage(m); });
                QObject::connect(s, &WsSocket::binaryMessageReceived, s, [s](const QByteArray &m) { s->sendBinaryMessage(m); });
            }
        });
        if (!server.listen(address, 0))
            qFatal("cannot listen: %s", qPrintable(server.errorString()));
    }
    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        QUrl u;
        u.setScheme(server.isSecure() ? QStringLiteral("wss") : QStringLiteral("ws"));
        u.setHost(server.serverAddress().toString());
        u.setPort(server.serverPort());
        u.setPath(path);
        return u;
    }
    static WsSocketOptions fastOptions()
    {
        WsSocketOptions o;
        o.handshakeTimeoutMs = 2000;
        o.closeTimeoutMs = 1000;
        o.pingIntervalMs = 0;
        return o;
    }
};

// A TCP server of the test's own that answers with whatever the test scripts: for peers
// that misbehave (never answer a close, ignore pings, redirect).
struct RawServer
{
    QTcpServer tcp;
    QList<QTcpSocket *> clients;
    std::function<void(QTcpSocket *, const QByteArray &)> onData;

    RawServer()
    {
        QObject::connect(&tcp, &QTcpServer::newConnection, &tcp, [this] {
            while (QTcpSocket *c = tcp.nextPendingConnection()) {
                clients.append(c);
                QObject::connect(c, &QTcpSocket::readyRead, c, [this, c] {
                    const QByteArray data = c->readAll();
                    if (onData)
                        onData(c, data);
                });
            }
        });
        tcp.listen(QHostAddress::LocalHost, 0);
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(tcp.serverPort())); }

    // Answers any handshake request with a valid 101, then stays silent.
    static void accept101(QTcpSocket *c, const QByteArray &data)
    {
        const qsizetype k = data.indexOf("Sec-WebSocket-Key: ");
        if (k < 0)
            return;
        const QByteArray key = data.mid(k + 19, 24);
        c->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: " + wsAcceptKey(key) + "\r\n\r\n");
    }
};

inline WsRequest fastRequest(const QUrl &url)
{
    WsRequest r;
    r.url = url;
    r.options = EchoServer::fastOptions();
    return r;
}

} // namespace wstest

using namespace wstest;
