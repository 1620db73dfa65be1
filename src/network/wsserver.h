#pragma once

#include "wsnetworkglobal.h"

#include <QtCore/qobject.h>
#include <QtCore/qscopedpointer.h>
#include <QtNetwork/qabstractsocket.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qsslconfiguration.h>

#include <functional>

class WsSocket;
class WsServerPrivate;

// A client's opening handshake waiting for an answer. The server emits upgradeRequested()
// with it; a slot may accept() or reject() it at once, or defer() and answer later (after an
// asynchronous check), while the handshake timeout still runs. Not answered and not deferred
// when the signal returns, it is accepted with the server's default choices.
class WsUpgradeRequest : public QObject
{
    Q_OBJECT
public:
    const WsHandshakeRequest &request() const;
    QByteArray path() const { return request().path(); }
    QByteArray query() const { return request().query(); }
    QByteArray origin() const { return request().origin(); }
    QList<QByteArray> subprotocols() const { return request().subprotocols(); }
    QHostAddress peerAddress() const;
    WsSocket *socket() const { return m_socket; }
    // The subprotocol the server would choose by default (its first supported one the client
    // offers), or empty.
    QByteArray defaultSubprotocol() const { return m_defaultSubprotocol; }

    void accept(const QByteArray &subprotocol, const WsHttpHeaders &headers = WsHttpHeaders());
    void accept() { accept(m_defaultSubprotocol); }
    void reject(int status, const QByteArray &body = QByteArray(), const WsHttpHeaders &headers = WsHttpHeaders());
    void defer() { m_deferred = true; }
    bool isAnswered() const { return m_answered; }
    bool isDeferred() const { return m_deferred; }

private:
    friend class WsServerPrivate;
    explicit WsUpgradeRequest(WsSocket *socket, QByteArray defaultSubprotocol);
    void answer(std::function<void(WsSocket *)> fn);
    WsSocket *m_socket;
    WsServerPrivate *m_server = nullptr;
    quint64 m_serial = 0;
    QByteArray m_defaultSubprotocol;
    bool m_answered = false;
    bool m_deferred = false;
};

// Accepts WebSocket connections, plain or TLS. Each connection is a WsSocket (server side),
// a child of the server, handed out by nextPendingConnection() once its handshake is done.
class WsServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool listening READ isListening NOTIFY listeningChanged)
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY connectionCountChanged)

public:
    explicit WsServer(QObject *parent = nullptr);
    ~WsServer() override;

    // Connections inherit these settings.
    void setOptions(const WsSocketOptions &options);
    WsSocketOptions options() const;
    // With a configuration holding a certificate and key, connections are TLS (wss://).
    void setSslConfiguration(const QSslConfiguration &configuration);
    QSslConfiguration sslConfiguration() const;
    bool isSecure() const;
    // Subprotocols the server speaks, preferred first; the default choice is the first of
    // these the client offers.
    void setSupportedSubprotocols(const QList<QByteArray> &subprotocols);
    QList<QByteArray> supportedSubprotocols() const;
    // Origins allowed to connect (e.g. "https://app.example"); others get 403. Empty: any.
    void setAllowedOrigins(const QList<QByteArray> &origins);
    QList<QByteArray> allowedOrigins() const;
    // At most this many connections at once (handshakes included); more get 503. 0: no limit.
    void setMaxConnections(int max);
    int maxConnections() const;
    // At most this many upgraded connections waiting in nextPendingConnection(); more get 503.
    void setMaxPendingConnections(int max);
    int maxPendingConnections() const;
    // Answers plain HTTP requests (no Upgrade), e.g. a health check: fill the response and
    // return true; return false for the default 426.
    using HttpHandler = std::function<bool(const WsHandshakeRequest &, WsHandshakeResponse *)>;
    void setHttpHandler(HttpHandler handler);
    // Takes every new connection as soon as its handshake is done, in the thread that serves
    // it (a worker thread with setWorkerThreads()), instead of queueing it for
    // nextPendingConnection(): the socket is the handler's, newConnection() is not emitted.
    // The quickest way to serve connections from worker threads; the handler must be
    // thread-safe then.
    using ConnectionHandler = std::function<void(WsSocket *)>;
    void setConnectionHandler(ConnectionHandler handler);

    // Threads that serve the connections. 0 (the default): all of them live in the server's
    // thread. N > 0: each new connection goes to the least busy of N worker threads, each
    // with its own event loop, and lives there: its signals are emitted in that thread, so
    // slots connected with the socket as context run there, in parallel (see doc/design.md,
    // "Threading"). The server's own signals (upgradeRequested, newConnection, ...) still
    // come in the server's thread, and WsSocket's send/close/ping calls made from another
    // thread are queued to the socket's. The HttpHandler is called in the worker threads.
    // Set it before listen().
    void setWorkerThreads(int count);
    int workerThreads() const;

    bool listen(const QHostAddress &address = QHostAddress::Any, quint16 port = 0);
    bool isListening() const;
    QHostAddress serverAddress() const;
    quint16 serverPort() const;            // the chosen port after listen(..., 0)
    QString errorString() const;
    // Stops listening and closes every connection with 1001 Going Away; closed() follows once
    // all are gone (connections that do not answer within closeTimeoutMs are dropped).
    void close();

    bool hasPendingConnections() const;
    WsSocket *nextPendingConnection();
    QList<WsSocket *> connections() const; // every open connection, taken or not
    int connectionCount() const;

    // Sends one message to every open connection, encoding the frame once. Returns how many
    // connections it was queued on.
    int broadcastTextMessage(const QString &message);
    int broadcastBinaryMessage(const QByteArray &message);

Q_SIGNALS:
    void upgradeRequested(WsUpgradeRequest *request);
    void newConnection();
    void listeningChanged();
    void connectionCountChanged();
    void acceptError(QAbstractSocket::SocketError error);
    void closed();

private:
    friend class WsSocketPrivate;
    Q_DECLARE_PRIVATE(WsServer)
    QScopedPointer<WsServerPrivate> d_ptr;
};
