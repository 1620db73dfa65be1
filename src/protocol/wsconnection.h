#pragma once

#include "wserror.h"
#include "wsextension.h"
#include "wsframe.h"
#include "wshandshake.h"
#include "wshttp.h"
#include "wsutf8.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

#include <functional>
#include <memory>
#include <vector>

class WsRandomSource;

enum class WsRole { Client, Server };

// RFC 6455 connection states. Local- and remote-initiated closing are kept apart.
enum class WsState {
    Connecting,     // opening handshake in progress
    Open,           // data flows both ways
    LocalClosing,   // we sent a close frame and wait for the peer's
    RemoteClosing,  // the peer sent a close frame; our reply waits for the message we are
                    // sending frame by frame to end (RFC 6455 §5.5.1), or for close()
    Closed,         // the close handshake completed, or the connection never opened
    Failed,         // a violation failed the connection (RFC 6455 §7.1.7)
};
const char *wsStateName(WsState state) noexcept;

enum class WsCloseInitiator { None, Local, Remote };

// How a connection ended.
struct WsCloseStatus
{
    // RFC 6455 §7.1.5: the code and reason of the close frame received, 1005 for a close
    // frame without a code, 1006 when none was received.
    quint16 code = WsCloseCode::Abnormal;
    QString reason;
    // Whether both close frames were exchanged (RFC 6455 §7.1.4 "cleanly").
    bool wasClean = false;
    WsCloseInitiator initiator = WsCloseInitiator::None;
    // The code of the close frame we sent, 0 if none (e.g. 1002 when we failed the connection).
    quint16 sentCode = 0;
    // The error that ended the connection, if any.
    WsError error = WsError::NoError;
};

// Limits on what a peer may make the connection hold. Nothing is allocated from a declared
// length: memory grows only with bytes that actually arrived, up to these limits.
struct WsLimits
{
    // Largest message, after decoding by extensions (-> 1009). 1 MiB, like Python websockets.
    qint64 maxMessageSize = 1 << 20;
    // Largest frame payload on the wire (-> 1009). 0: maxMessageSize (with some slack for
    // compressed frames when an extension is negotiated).
    qint64 maxFrameSize = 0;
    // Most frames in one message (-> 1009); bounds the cost of floods of tiny fragments.
    int maxFragments = 1 << 17;
    // Largest handshake head (request line/status line and headers) (-> HTTP 431).
    qint64 maxHandshakeSize = 16 * 1024;
    int maxHeaderCount = 100;
    // Largest body of a non-101 handshake response kept for the application.
    qint64 maxRejectionBodySize = 64 * 1024;
};

struct WsConnectionOptions
{
    WsLimits limits;
    // Deliver data as Fragment events as it arrives instead of whole Message events, so
    // large messages need not be held in memory. maxMessageSize still applies.
    bool streamMessages = false;
    // Split outgoing messages into frames of at most this many payload bytes (0: never).
    qint64 outgoingFrameSize = 0;
    // Server: deliver valid HTTP requests without an Upgrade as Request events too (see
    // isPlainHttpRequest()), for the application to answer with reject(200, ...), e.g. a
    // health check. Otherwise the core answers them with 426.
    bool deliverPlainHttp = false;
    // Extensions to offer (client) or accept (server), most preferred first.
    QList<std::shared_ptr<const WsExtensionFactory>> extensions;
};

// What the client asks for in its opening handshake (RFC 6455 §4.1).
struct WsClientHandshake
{
    QByteArray host;               // Host header: host, and ":port" if not the default
    QByteArray target = "/";       // path and query
    QByteArray origin;             // empty: no Origin header
    QList<QByteArray> subprotocols;
    WsHttpHeaders headers;         // extra headers (not the ones the handshake sets itself)
};

// The server's answer to an acceptable request.
struct WsAcceptOptions
{
    QByteArray subprotocol;        // one of the client's offers, or empty
    WsHttpHeaders headers;         // extra response headers
};

struct WsEvent
{
    enum Type {
        Request,     // server: a valid handshake request; call accept() or reject()
        Open,        // the handshake completed
        Rejected,    // client: the server answered with another status than 101
        Message,     // a complete message (opcode Text or Binary, data)
        Fragment,    // streaming: a piece of a message (opcode, data, first, last)
        Ping,        // data: payload (already answered with a pong)
        Pong,        // data: payload
        CloseFrame,  // the peer's close frame (close.code, close.reason)
        Error,       // error, errorString: the peer's violation or a failed handshake
        Closed,      // the end, exactly once per connection (close holds the status)
        ExtensionFrame, // a frame with a reserved opcode an extension claims (opcode, data)
    };

    Type type = Error;
    WsOpcode opcode = WsOpcode::Binary;
    QByteArray data;
    bool first = true;
    bool last = true;
    WsError error = WsError::NoError;
    QString errorString;
    WsCloseStatus close;

    QString text() const { return wsDecodeUtf8(data); }
};
const char *wsEventName(WsEvent::Type type) noexcept;

// One frame as it crossed the wire, for traffic inspection (see setFrameObserver()).
struct WsFrameInfo
{
    enum Direction { Incoming, Outgoing };
    Direction direction = Incoming;
    quint8 opcode = 0;             // raw: 0 for continuations
    WsOpcode messageType = WsOpcode::Binary;  // Text/Binary for data frames, else the opcode
    bool fin = true;
    quint8 rsv = 0;
    bool masked = false;
    qint64 wireSize = 0;           // payload bytes on the wire (compressed, if it was)
    // On the last frame of a message: the whole message after decoding (decompression),
    // and its size; -1 and empty otherwise. For control frames: their payload.
    qint64 messageSize = -1;
    QByteArray payload;
    quint16 closeCode = 0;         // close frames: the code (1005 when none)
};

// A message encoded once for many connections (a server's broadcast): the unmasked frame
// every server connection without a transforming extension can send as it is.
struct WsPreparedMessage
{
    WsOpcode opcode = WsOpcode::Binary;
    QByteArray payload;
    QByteArray serverFrame;
};

// The sans-I/O WebSocket connection (RFC 6455), client or server side, handshake included.
//
// Contract (no sockets, no timers, never blocks, never throws):
//   conn.receiveData(bytes);              // bytes read from the transport
//   for (const WsEvent &e : conn.takeEvents()) handle(e);
//   transport.write(conn.takeOutgoing()); // includes automatic pongs and close replies
//   if (conn.shouldCloseTransport()) ...  // after writing what is outgoing
//   conn.transportClosed();               // when the transport is gone
// Timers (handshake, close, keepalive) belong to the I/O layer.
class WsConnection
{
public:
    // random: source for masks and keys; nullptr means the system CSPRNG. Not owned.
    explicit WsConnection(WsRole role, const WsConnectionOptions &options = {},
                          WsRandomSource *random = nullptr);
    ~WsConnection();
    WsConnection(const WsConnection &) = delete;
    WsConnection &operator=(const WsConnection &) = delete;

    WsRole role() const noexcept { return m_role; }
    WsState state() const noexcept { return m_state; }
    const WsConnectionOptions &options() const noexcept { return m_options; }

    // Client: queues the handshake request. Fails with InvalidArgument for headers that the
    // handshake sets itself or that would break the request (CR/LF).
    WsError startHandshake(const WsClientHandshake &handshake);
    // Server: answers a Request event.
    WsError accept(const WsAcceptOptions &options = {});
    WsError reject(int status, const QByteArray &body = QByteArray(),
                   const WsHttpHeaders &headers = WsHttpHeaders());

    // The handshake as sent/received; the response is the client's view, or the server's own.
    const WsHandshakeRequest &request() const noexcept { return m_request; }
    const WsHandshakeResponse &response() const noexcept { return m_response; }
    QByteArray subprotocol() const { return m_subprotocol; }
    // Server: the delivered request is plain HTTP (no upgrade); only reject() may answer it.
    bool isPlainHttpRequest() const noexcept { return m_plainHttp; }
    // "name; params" of each negotiated extension.
    QList<WsExtensionOffer> extensions() const { return m_extensionParams; }

    // Bytes from the transport. Ignored after the connection has ended.
    void receiveData(QByteArrayView data);
    // Like receiveData(), but stops once the bytes produced an event and returns how many it
    // consumed; the caller handles the events, then feeds the rest. What the application sends
    // in answer to a message (an echo) then goes out before what later bytes cause (a close
    // reply, a failure's close frame), as when the bytes arrive one read at a time.
    qsizetype receiveSome(QByteArrayView data);
    // Bytes receiveSome() accepted but has not parsed yet (they came with the handshake
    // response): call receiveSome() again, even with no new data, until this is false.
    bool hasDeferredInput() const noexcept { return !m_deferred.isEmpty(); }
    void receiveData(const char *data, qsizetype size) { receiveData(QByteArrayView(data, size)); }
    // The transport closed (peer EOF, error, or we closed it). Ends the connection.
    void transportClosed();

    // Sending. Each returns NoError or a local error, leaving the connection as it was.
    WsError sendText(QStringView text, bool allowCompression = true);
    WsError sendText(QByteArrayView utf8, bool allowCompression = true);  // validated
    WsError sendBinary(QByteArrayView data, bool allowCompression = true);
    // Frame-level sending: opcode Text or Binary starts a message, Continuation continues it;
    // fin ends it. Control frames may be sent between the pieces.
    WsError sendFrame(WsOpcode opcode, QByteArrayView data, bool fin, bool allowCompression = true);
    // Sends a prepared message: its frame as is where possible (server role, no transforming
    // extension, no outgoing fragmentation), else encoded for this connection.
    WsError sendPrepared(const WsPreparedMessage &message, bool allowCompression = true);
    static WsPreparedMessage prepareMessage(WsOpcode opcode, const QByteArray &payload);
    WsError ping(QByteArrayView payload = {});
    WsError pong(QByteArrayView payload = {});   // unsolicited pong (RFC 6455 §5.5.3)
    // A single frame with a reserved opcode that the negotiated extension claims.
    WsError sendExtensionFrame(quint8 opcode, QByteArrayView payload);
    // Starts (or, in RemoteClosing, answers) the close handshake. code 1005 sends a close
    // frame without a code. The reason is cut on a UTF-8 boundary to fit 123 bytes (§5.5.1).
    WsError close(quint16 code = WsCloseCode::Normal, const QString &reason = QString());
    // Fails the connection from our side, e.g. on a keepalive timeout: sends a close frame
    // with code (when the handshake is done) and ends the connection.
    void fail(WsError error, quint16 code, const QString &reason = QString());

    // Called for every frame received or sent, as it is processed; for inspectors. Costs
    // nothing when unset.
    void setFrameObserver(std::function<void(const WsFrameInfo &)> observer) { m_frameObserver = std::move(observer); }

    std::vector<WsEvent> takeEvents();
    bool hasEvents() const noexcept { return !m_events.empty(); }
    QByteArray takeOutgoing();
    qsizetype outgoingSize() const noexcept { return m_outgoing.size(); }
    // Whether the I/O layer should close the transport once the outgoing bytes are written.
    // A server closes first (RFC 6455 §7.1.1); a client after a clean close waits for the
    // server to close, then closes itself after a timeout of its choosing.
    bool shouldCloseTransport() const noexcept;

    const WsCloseStatus &closeStatus() const noexcept { return m_close; }
    WsError error() const noexcept { return m_close.error; }

private:
    void setState(WsState state);
    void receiveHandshake(QByteArrayView data);
    qsizetype receiveFrames(QByteArrayView data);
    bool m_stopAtEvent = false;
    QByteArray m_deferred;
    void receiveHandshakeOrIgnore(QByteArrayView data);
    void finishClientHandshake();
    void finishRejection();
    void open();
    bool onFrameHeader(const WsFrameHeader &header);
    bool onPayload(const WsFrameReader::Item &item);
    bool onDataPiece(QByteArrayView piece, bool last);
    bool onControlFrame();
    bool isExtensionOpcode(quint8 opcode) const noexcept;
    void failConnection(WsError error, const QString &detail = QString());
    void failHandshake(WsError error, const QString &detail = QString());
    void emitError(WsError error, const QString &detail);
    void emitClosed();
    void queueFrame(bool fin, quint8 rsv, WsOpcode opcode, QByteArrayView payload);
    void queueClose(quint16 code, QByteArrayView reasonUtf8);
    WsError sendMessage(WsOpcode opcode, QByteArrayView data, bool allowCompression);
    WsError queueMessage(WsOpcode opcode, QByteArrayView data, quint8 rsv);
    WsError checkCanSendData() const;
    void configureReader();
    void observeIncoming();

    WsRole m_role;
    WsState m_state = WsState::Connecting;
    WsConnectionOptions m_options;
    WsRandomSource *m_random;
    std::vector<WsEvent> m_events;
    QByteArray m_outgoing;
    WsCloseStatus m_close;

    // Handshake
    std::unique_ptr<WsHttpHeadParser> m_headParser;
    WsHandshakeRequest m_request;
    WsHandshakeResponse m_response;
    QByteArray m_key;
    QByteArray m_subprotocol;
    QByteArray m_pending;             // bytes received before the handshake finished
    bool m_handshakeStarted = false;
    bool m_requestDelivered = false;
    bool m_plainHttp = false;
    bool m_readingRejectionBody = false;
    qint64 m_rejectionBodyLeft = -1;  // -1: until the transport closes
    std::unique_ptr<WsExtension> m_extension;
    QList<WsExtensionOffer> m_extensionParams;

    // Incoming frames and messages
    WsFrameReader m_reader;
    WsFrameHeader m_frame;            // the frame being received
    QByteArray m_control;             // payload of the control frame being received
    bool m_inMessage = false;         // a data message is being received
    WsOpcode m_messageOpcode = WsOpcode::Binary;
    bool m_messageTransformed = false;
    bool m_fragmentFirst = true;
    qint64 m_messageSize = 0;         // decoded bytes received in the current message
    qint64 m_messageWireSize = 0;     // payload bytes on the wire in the current message
    int m_messageFrames = 0;
    QByteArray m_message;
    QByteArray m_scratch;             // unmasked payload before decoding by the extension
    QByteArray m_utf8Tail;            // streaming text: an incomplete UTF-8 sequence held back
    WsUtf8Validator m_utf8;
    qint64 m_wireLimit = 0;           // payload bytes a transformed message may take on the wire

    // Outgoing messages sent frame by frame
    bool m_sendingFragmented = false;
    WsOpcode m_sendingOpcode = WsOpcode::Binary;
    quint8 m_sendingRsv = 0;
    WsUtf8Validator m_sendUtf8;

    std::function<void(const WsFrameInfo &)> m_frameObserver;
    QByteArray m_observedMessage;     // the last message delivered, for the observer
    QByteArray m_outMessage;          // the message being sent, for the observer
};
