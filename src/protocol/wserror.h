#pragma once

#include <QtCore/qglobal.h>
#include <QtCore/qstring.h>

// Every reason a WebSocket connection or call can fail, one value per violation.
//
// Three kinds (see wsErrorKind()):
//  - Local: the application misused the API (sending after close, ...). The call fails and
//    returns the error; the connection is not affected.
//  - Handshake: the opening handshake failed. On the server these map to an HTTP status
//    (wsHttpStatusFor()); on the client they fail the connection attempt.
//  - Protocol: the peer violated RFC 6455 after the handshake. The connection is failed with
//    the close code from wsCloseCodeFor().
enum class WsError {
    NoError = 0,

    // Local (API misuse)
    NotOpen,                  // send/ping/close when the connection is not Open
    AlreadyClosing,           // close() called twice
    MessageInProgress,        // a new message while a fragmented one is being sent
    NoMessageInProgress,      // continuation without a started fragmented message
    InvalidCloseCodeToSend,   // close code not allowed on the wire
    ControlPayloadTooLarge,   // ping/pong payload > 125 bytes
    InvalidUtf8ToSend,        // text message that is not UTF-8
    InvalidState,             // accept/reject/initiate at the wrong time
    InvalidArgument,          // e.g. a header with CR/LF, a subprotocol the client did not offer
    WriteBufferFull,          // a send while the write buffer is over its limit (back-pressure)

    // Handshake, server side (request from the client)
    HandshakeMalformedRequest,     // not parseable as an HTTP/1.1 request
    HandshakeMethodNotAllowed,     // not GET
    HandshakeBadHttpVersion,       // not HTTP/1.1 or higher
    HandshakeHeaderTooLarge,       // request head over the size or count limit
    HandshakeMissingHost,
    HandshakeNotUpgrade,           // no "Upgrade: websocket" (a plain HTTP request)
    HandshakeMissingConnectionUpgrade,
    HandshakeBadKey,               // missing, repeated or not 16 base64 bytes
    HandshakeUnsupportedVersion,   // Sec-WebSocket-Version is not 13
    HandshakeRejected,             // the application rejected the request

    // Handshake, client side (response from the server)
    HandshakeMalformedResponse,
    HandshakeUnexpectedStatus,     // not 101: redirect, auth or error, surfaced with status
    HandshakeBadUpgradeHeader,
    HandshakeBadConnectionHeader,
    HandshakeBadAccept,            // Sec-WebSocket-Accept missing or wrong
    HandshakeUnexpectedSubprotocol,
    HandshakeUnexpectedExtension,
    HandshakeTimeout,              // reported by the I/O layer

    // Protocol violations by the peer (after the handshake)
    ReservedOpcode,
    ReservedBitsSet,               // RSV bit set that no negotiated extension claims
    UnmaskedClientFrame,           // server received an unmasked frame
    MaskedServerFrame,             // client received a masked frame
    InvalidLength,              // 64-bit length with MSB set
    ControlFrameTooLarge,          // control payload > 125
    FragmentedControlFrame,
    UnexpectedContinuation,        // continuation without a started message
    ExpectedContinuation,          // new data frame while a fragmented message is open
    InvalidClosePayload,           // close payload of 1 byte
    InvalidCloseCode,              // close code not allowed on the wire
    InvalidUtf8,                   // text message or close reason not UTF-8
    FrameTooLarge,                 // frame payload over the limit
    MessageTooLarge,               // message over the limit (also after decompression)
    TooManyFragments,
    ExtensionError,                // an extension rejected its data (e.g. invalid deflate data)

    // Transport (reported by the I/O layer)
    AbnormalClosure,               // transport closed without a close handshake
    ConnectionRefused,
    HostNotFound,
    NetworkError,                  // any other socket error
    TlsError,                      // TLS handshake or certificate failure
    ProxyError,
    TooManyRedirects,
    CloseTimeout,                  // the peer did not finish the close handshake in time
    PingTimeout,                   // keepalive: no pong in time
    InternalError,
};

enum class WsErrorKind { None, Local, Handshake, Protocol, Transport };

WsErrorKind wsErrorKind(WsError error) noexcept;

// RFC 6455 §7.4.1 close codes.
namespace WsCloseCode {
enum : quint16 {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    NoStatus = 1005,        // never on the wire: a close frame without a code
    Abnormal = 1006,        // never on the wire: the transport closed without a close frame
    InvalidPayload = 1007,
    PolicyViolation = 1008,
    MessageTooBig = 1009,
    MandatoryExtension = 1010,
    InternalError = 1011,
    ServiceRestart = 1012,
    TryAgainLater = 1013,
    BadGateway = 1014,
    TlsHandshake = 1015,    // never on the wire
};
}

// The close code a protocol violation fails the connection with (RFC 6455 §7.4.1):
// 1002 for framing violations, 1007 for invalid data, 1009 for limits, 1011 otherwise.
quint16 wsCloseCodeFor(WsError error) noexcept;

// The HTTP status a server answers a failed handshake with: 400, 405, 426 (with
// Sec-WebSocket-Version: 13), 431; 0 for errors that are not server-side handshake errors.
int wsHttpStatusFor(WsError error) noexcept;

// Whether a close code may be sent or received in a close frame (RFC 6455 §7.4).
// 1000-1003, 1007-1014 and 3000-4999 are valid; 1004-1006, 1015 and everything else is not.
bool wsIsValidCloseCode(quint16 code) noexcept;

// A short English description of a close code, e.g. "Going away"; empty if unknown.
QString wsCloseCodeName(quint16 code);

// A human-readable description of an error, for errorString().
QString wsErrorDescription(WsError error);

// A string naming the enum value, e.g. "ReservedOpcode", for logs and tests.
const char *wsErrorName(WsError error) noexcept;
