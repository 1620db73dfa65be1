#pragma once

#include "wsserver.h"

#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>

class WsSocket;

// Hands out raw descriptors so that the server can wrap them in QSslSocket or QTcpSocket.
class WsTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;
Q_SIGNALS:
    void descriptorReady(qintptr descriptor);
protected:
    void incomingConnection(qintptr descriptor) override { emit descriptorReady(descriptor); }
};

class WsServerPrivate
{
    Q_DECLARE_PUBLIC(WsServer)
public:
    explicit WsServerPrivate(WsServer *q) : q_ptr(q) {}
    static WsServerPrivate *get(WsServer *server) { return server->d_func(); }

    void onDescriptor(qintptr descriptor);
    void handleUpgrade(WsSocket *socket);
    void onConnected(WsSocket *socket);
    void onSocketClosed(WsSocket *socket);
    void checkClosed();
    int broadcast(const WsPreparedMessage &message);

    WsServer *q_ptr;
    WsTcpServer tcp;
    WsSocketOptions options;
    QSslConfiguration sslConfiguration;
    bool secure = false;
    QList<QByteArray> subprotocols;
    QList<QByteArray> allowedOrigins;
    int maxConnections = 0;
    int maxPending = 30;
    WsServer::HttpHandler httpHandler;
    QList<WsSocket *> all;             // every live socket, handshaking or open
    QList<QPointer<WsSocket>> pending; // upgraded, not yet taken
    bool closing = false;
    QTimer closeTimer;
};
