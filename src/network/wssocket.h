#pragma once

#include "wsnetworkglobal.h"

#include <QtCore/qobject.h>
#include <QtCore/qscopedpointer.h>
#include <QtNetwork/qabstractsocket.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslerror.h>

class QTcpSocket;
class WsServer;
class WsSocketPrivate;

// A WebSocket connection over QTcpSocket/QSslSocket: a client opened with open(), or the
// server side of a connection accepted by WsServer. All protocol rules are the core's
// (WsConnection); this class moves bytes, owns the timers and turns events into signals.
class WsSocket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QUrl requestUrl READ requestUrl NOTIFY stateChanged)
    Q_PROPERTY(QByteArray subprotocol READ subprotocol NOTIFY connected)
    Q_PROPERTY(quint16 closeCode READ closeCode NOTIFY closed)
    Q_PROPERTY(QString closeReason READ closeReason NOTIFY closed)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorOccurred)
    Q_PROPERTY(qint64 bufferedAmount READ bufferedAmount NOTIFY bytesWritten)
    Q_PROPERTY(int reconnectAttempts READ reconnectAttempts NOTIFY reconnecting)

public:
    enum class State { Unconnected, Connecting, Open, Closing, Closed };
    Q_ENUM(State)

    explicit WsSocket(QObject *parent = nullptr);
    ~WsSocket() override;

    // Client. Settings for open(QUrl); open(WsRequest) carries its own.
    void setOptions(const WsSocketOptions &options);
    WsSocketOptions options() const;
    void setSslConfiguration(const QSslConfiguration &configuration);
    QSslConfiguration sslConfiguration() const;
    // The TLS session of the current connection (protocol, cipher, peer certificates); a null
    // configuration when the connection is not encrypted.
    QSslConfiguration sessionSslConfiguration() const;
    void open(const QUrl &url);
    void open(const WsRequest &request);

    // Sending. Each returns the bytes queued for the transport, or -1 when the socket is not
    // open, the call is invalid (see error()), or the write buffer is over its limit.
    qint64 sendTextMessage(const QString &message);
    qint64 sendBinaryMessage(const QByteArray &message);
    // Either type, with a per-message choice about compression (permessage-deflate).
    qint64 sendMessage(WsOpcode type, const QByteArray &payload, bool compress = true);
    // Frame-level: WsOpcode::Text/Binary starts a message, Continuation continues it.
    qint64 sendFrame(WsOpcode opcode, const QByteArray &data, bool last);
    bool ping(const QByteArray &payload = QByteArray());
    // Starts the close handshake; the peer has closeTimeoutMs to answer before the
    // connection is dropped.
    void close(quint16 code = WsCloseCode::Normal, const QString &reason = QString());
    // Drops the transport at once, without a close handshake.
    void abort();
    void ignoreSslErrors();
    void ignoreSslErrors(const QList<QSslError> &errors);

    State state() const;
    QUrl requestUrl() const;
    WsRequest request() const;
    QByteArray subprotocol() const;
    QList<WsExtensionOffer> extensions() const;
    const WsHandshakeRequest &handshakeRequest() const;
    const WsHandshakeResponse &handshakeResponse() const;
    QHostAddress peerAddress() const;
    quint16 peerPort() const;
    QHostAddress localAddress() const;
    quint16 localPort() const;
    WsCloseStatus closeStatus() const;
    quint16 closeCode() const;
    QString closeReason() const;
    WsError error() const;
    QString errorString() const;
    qint64 bufferedAmount() const;     // bytes waiting to be written
    WsSocketStatistics statistics() const;
    // Pauses reading from the transport (the kernel buffers then fill and TCP slows the
    // peer down); resumeReading() delivers what arrived meanwhile.
    void pauseReading();
    void resumeReading();
    bool isReadingPaused() const;
    // Reconnect attempts since the last successful open.
    int reconnectAttempts() const;

Q_SIGNALS:
    void stateChanged(WsSocket::State state);
    void connected();
    void handshakeResponseReceived(const WsHandshakeResponse &response);
    void textMessageReceived(const QString &message);
    void binaryMessageReceived(const QByteArray &message);
    // With options.streamMessages: pieces of messages as they arrive.
    void textFrameReceived(const QString &piece, bool isLast);
    void binaryFrameReceived(const QByteArray &piece, bool isLast);
    void pingReceived(const QByteArray &payload);
    void pongReceived(qint64 roundTripMs, const QByteArray &payload);
    // A frame with a reserved opcode claimed by the negotiated extension.
    void extensionFrameReceived(int opcode, const QByteArray &payload);
    void closed(const WsCloseStatus &status);
    void errorOccurred(WsError error);
    void sslErrors(const QList<QSslError> &errors);
    void bytesWritten(qint64 bytes);
    void writeBufferDrained();
    // Every frame sent or received (for inspectors), emitted only while something is
    // connected to it: before the message signals of the same data.
    void frameTransferred(const WsFrameInfo &frame);
    // Auto-reconnect (options.reconnect): attempt n starts in delayMs.
    void reconnecting(int attempt, int delayMs);

protected:
    void connectNotify(const QMetaMethod &signal) override;
    void timerEvent(QTimerEvent *event) override;

private:
    friend class WsServer;
    friend class WsServerPrivate;
    friend class WsUpgradeRequest;
    Q_DECLARE_PRIVATE(WsSocket)
    QScopedPointer<WsSocketPrivate> d_ptr;
};
