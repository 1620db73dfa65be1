#pragma once

#include "wssocket.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qpointer.h>
#include <QtCore/qbasictimer.h>

#include <memory>
#include <optional>

class WsServer;

class WsSocketPrivate
{
    Q_DECLARE_PUBLIC(WsSocket)
public:
    explicit WsSocketPrivate(WsSocket *q);

    void startClient(const WsRequest &request, int redirectsLeft);
    void startServer(QTcpSocket *transport, const WsSocketOptions &options, WsServer *server,
                     bool deliverPlainHttp);
    void attachTransport(QTcpSocket *transport);
    void detachTransport();
    void onTransportReady();
    void onReadyRead();
    void onTransportGone();
    void onSocketError(QAbstractSocket::SocketError error);
    void onBytesWritten(qint64 bytes);
    bool processEvents(bool flushAfter = true);  // false if the socket was deleted meanwhile
    bool feed(QByteArrayView data);  // to the core event by event; false if deleted
    QByteArray unread;               // read, not yet fed: reading was paused meanwhile
    int eventDepth = 0;              // inside processEvents(): sends are written at its end
    void flush();
    void writeOut(const QByteArray &out);
    bool directWrites = false;       // plain TCP, no proxy: writes may bypass QTcpSocket's queue
    void setState(WsSocket::State state);
    void setError(WsError error, const QString &text);
    void failLocally(WsError error, quint16 code, const QString &reason);
    void finish();
    bool followRedirect();
    void sendKeepalivePing();
    bool canQueue();
    qint64 afterSend(WsError error, qint64 before);
    static WsConnectionOptions connectionOptions(const WsSocketOptions &options);

    WsSocket *q_ptr;
    WsRole role = WsRole::Client;
    WsSocket::State state = WsSocket::State::Unconnected;
    WsSocketOptions options;         // for open(QUrl)
    WsRequest request;
    // Only when set: a default QSslConfiguration loads the TLS backend and costs memory.
    std::optional<QSslConfiguration> sslConfiguration;
    QTcpSocket *transport = nullptr;
    std::unique_ptr<WsConnection> connection;
    QPointer<WsServer> server;
    int redirectsLeft = 0;

    QBasicTimer handshakeTimer;
    QBasicTimer closeTimer;
    QBasicTimer pingTimer;
    QBasicTimer pongTimer;
    QElapsedTimer clock;
    QByteArray keepalivePing;        // payload of the keepalive ping awaiting its pong
    QList<QPair<QByteArray, qint64>> pendingPings;  // payload, sent at (clock ms)
    quint32 pingCounter = 0;

    WsSocketStatistics stats;
    WsError error = WsError::NoError;
    QString errorString;
    WsCloseStatus closeStatus;
    bool coreClosed = false;         // the core reported Closed
    bool finished = false;           // closed() emitted
    bool aborting = false;
    bool readingPaused = false;
    bool closeRequested = false;     // the application called close() or abort()
    int reconnectAttempts = 0;
    QBasicTimer reconnectTimer;
    void scheduleReconnect();
    void installObserver();
    void emitFrames();
    bool captureFrames = false;
    std::vector<WsFrameInfo> observedFrames;

    // A server connection served by a worker thread waits in the server's pending queue
    // "held": nothing is read and no event is delivered until the application has taken it
    // and connected its slots (WsServer::nextPendingConnection() releases it).
    bool held = false;
    bool goneWhileHeld = false;
    std::vector<WsEvent> heldEvents;
    void release();
};
