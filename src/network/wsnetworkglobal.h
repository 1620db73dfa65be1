#pragma once

#include <wsconnection.h>
#include <wsdeflate.h>

#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qnetworkproxy.h>

// Settings shared by client sockets and the connections a WsServer accepts.
struct WsSocketOptions
{
    WsLimits limits;                 // protocol limits (message, frame, handshake sizes)
    int handshakeTimeoutMs = 10000;  // TCP + TLS + HTTP upgrade must finish within this
    int closeTimeoutMs = 5000;       // wait this long for the peer's close frame / TCP close
    // Keepalive, like Python websockets: a ping every pingIntervalMs; no pong within
    // pongTimeoutMs fails the connection with 1011. 0 disables either.
    int pingIntervalMs = 20000;
    int pongTimeoutMs = 20000;
    // Back-pressure. Sends fail (return -1, nothing queued) while more than this many bytes
    // wait to be written; writeBufferDrained() tells when to resume.
    qint64 maxWriteBufferSize = 16 * 1024 * 1024;
    // Bytes read from the OS per slice before events are delivered; with reading paused the
    // kernel's buffers fill and TCP flow control slows the peer down.
    qint64 readBufferSize = 256 * 1024;
    bool streamMessages = false;     // deliver partial messages (textFrameReceived etc.)
    // permessage-deflate (RFC 7692): offered by clients, accepted by servers. Messages
    // under deflate.threshold bytes go uncompressed; sends may opt out per message.
    bool compression = true;
    WsDeflateOptions deflate;
    // Client: reopen after a connection ends that the application did not close itself
    // (refused, dropped, closed by the server), with exponential backoff and jitter.
    struct Reconnect
    {
        bool enabled = false;
        int initialDelayMs = 500;
        int maxDelayMs = 30000;
        double multiplier = 2.0;
        double jitter = 0.2;         // each delay is randomized by +-20%
        int maxAttempts = 0;         // 0: no limit
    } reconnect;
    qint64 outgoingFrameSize = 0;    // split outgoing messages into frames of this size
    QList<std::shared_ptr<const WsExtensionFactory>> extensions;
};

// What a client asks for when opening a connection.
struct WsRequest
{
    QUrl url;                        // ws:// or wss://
    WsHttpHeaders headers;           // extra request headers
    QByteArray origin;               // Origin header, if any
    QList<QByteArray> subprotocols;  // offered, most preferred first
    int maxRedirects = 5;            // 3xx responses followed; 0: report them instead
    // HTTP CONNECT or SOCKS5 proxy; the default follows QNetworkProxy::applicationProxy().
    QNetworkProxy proxy = QNetworkProxy(QNetworkProxy::DefaultProxy);
    WsSocketOptions options;
};

// Traffic counters of one socket.
struct WsSocketStatistics
{
    qint64 messagesReceived = 0;
    qint64 messagesSent = 0;
    qint64 bytesReceived = 0;        // on the wire, handshake included
    qint64 bytesSent = 0;
    qint64 lastRoundTripMs = -1;     // from the latest answered ping
};

Q_DECLARE_METATYPE(WsError)
Q_DECLARE_METATYPE(WsCloseStatus)
Q_DECLARE_METATYPE(WsHandshakeResponse)
Q_DECLARE_METATYPE(WsFrameInfo)
