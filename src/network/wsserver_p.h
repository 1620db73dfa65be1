#pragma once

#include "wsserver.h"

#include <QtCore/qhash.h>
#include <QtCore/qmutex.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>

#include <functional>
#include <optional>
#include <vector>

class QThread;

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

// Lives in one worker thread and parents the connections served there.
class WsServerWorker : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    QAtomicInt load;   // connections assigned to this worker
};

// Threading: with workerCount == 0 every connection lives in the server's thread, as any
// QObject would. With N workers each connection lives in one worker thread (round robin),
// so its slots run there, in parallel with the other workers. The bookkeeping below is shared
// by the server's thread and the workers: it is guarded by `mutex`, and a socket pointer in
// it stays valid while the mutex is held (a socket leaves the lists, under the mutex, before
// its memory goes).
class WsServerPrivate
{
    Q_DECLARE_PUBLIC(WsServer)
public:
    explicit WsServerPrivate(WsServer *q) : q_ptr(q) {}
    static WsServerPrivate *get(WsServer *server) { return server->d_func(); }

    void onDescriptor(qintptr descriptor);
    void createConnection(qintptr descriptor, QObject *owner);
    void handleUpgrade(WsSocket *socket);
    void onConnected(WsSocket *socket);
    void onSocketClosed(WsSocket *socket);
    void onSocketDestroyed(WsSocket *socket);
    bool dropHeld(WsSocket *socket);
    static void acceptOn(WsSocket *socket, const QByteArray &subprotocol, const WsHttpHeaders &headers);
    static void rejectOn(WsSocket *socket, int status, const QByteArray &body, const WsHttpHeaders &headers);
    static bool sendPreparedOn(WsSocket *socket, const WsPreparedMessage &message);  // false if the application took it
    void checkClosed();
    void emitUpgradeRequested(WsUpgradeRequest *request, WsSocket *socket, quint64 serial);
    int broadcast(const WsPreparedMessage &message);
    void startWorkers();
    void stopWorkers();
    bool threaded() const { return !workers.empty(); }
    // Runs fn in the server's thread: at once when called there, else queued.
    void inServerThread(std::function<void()> fn);
    // Runs fn in the socket's thread, at once or queued; call with the mutex held.
    static void inSocketThread(WsSocket *socket, std::function<void()> fn);

    WsServer *q_ptr;
    WsTcpServer tcp;
    WsSocketOptions options;
    std::optional<QSslConfiguration> sslConfiguration;  // only when set: the TLS backend is costly
    bool secure = false;
    QList<QByteArray> subprotocols;
    QList<QByteArray> allowedOrigins;
    int maxConnections = 0;
    int maxPending = 30;
    WsServer::HttpHandler httpHandler;
    bool closing = false;
    QTimer closeTimer;

    int workerCount = 0;                     // the setting
    std::vector<QThread *> threads;
    std::vector<WsServerWorker *> workers;

    mutable QRecursiveMutex mutex;
    QList<WsSocket *> all;                   // every live socket, handshaking or open
    QList<WsSocket *> pending;               // upgraded, not yet taken
    QSet<WsSocket *> open;                   // handshake done, not closed
    QSet<WsSocket *> taken;                  // handed to the application
    QHash<WsSocket *, quint64> serials;      // tells a socket from a later one at its address
    QHash<WsSocket *, WsServerWorker *> workerOf;
    quint64 nextSerial = 0;
    int incoming = 0;                        // descriptors on their way to a worker
    int unannounced = 0;                     // pending, newConnection() not yet emitted
    WsServer::ConnectionHandler connectionHandler;
};
