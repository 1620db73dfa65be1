#pragma once

#include "wserror.h"
#include "wshttp.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

class WsRandomSource;

// RFC 6455 §1.3/§4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
QByteArray wsAcceptKey(QByteArrayView key);
// RFC 6455 §4.1: a base64-encoded random 16-byte nonce.
QByteArray wsGenerateKey(WsRandomSource &random);

// The client's opening handshake request (RFC 6455 §4.1): built by a client, parsed and
// validated by a server, which the application then inspects to accept or reject it.
struct WsHandshakeRequest
{
    QByteArray method = "GET";
    QByteArray target = "/";          // request-target: path and query as sent
    QByteArray httpVersion = "HTTP/1.1";
    WsHttpHeaders headers;

    QByteArray path() const;          // target up to '?'
    QByteArray query() const;         // after '?', without it
    QByteArray host() const { return headers.value("Host"); }
    QByteArray origin() const { return headers.value("Origin"); }
    QByteArray key() const { return headers.value("Sec-WebSocket-Key"); }
    QList<QByteArray> subprotocols() const { return headers.tokens("Sec-WebSocket-Protocol"); }
    // The offered extensions; empty when the header is absent or malformed.
    QList<WsExtensionOffer> extensions() const;

    QByteArray toBytes() const;

    // Server side: parses a received head and checks it against RFC 6455 §4.2.1. Returns
    // NoError or the handshake error to answer with (see wsHttpStatusFor()).
    static WsError parse(const QByteArray &startLine, const WsHttpHeaders &headers,
                         WsHandshakeRequest *out);
};

// The server's handshake response (RFC 6455 §4.2.2), or an HTTP rejection.
struct WsHandshakeResponse
{
    int status = 0;
    QByteArray reason;
    QByteArray httpVersion = "HTTP/1.1";
    WsHttpHeaders headers;
    QByteArray body;

    QByteArray toBytes() const;       // head and body; Content-Length added for a body

    // Client side: parses a status line and headers. Returns false if malformed.
    static bool parse(const QByteArray &statusLine, const WsHttpHeaders &headers,
                      WsHandshakeResponse *out);
};

// The standard reason phrase for an HTTP status, e.g. "Upgrade Required".
QByteArray wsHttpReasonPhrase(int status);

// A complete HTTP error response for a failed or refused handshake: Connection: close,
// a text/plain body, and Sec-WebSocket-Version: 13 with a 426 (RFC 6455 §4.4).
WsHandshakeResponse wsHandshakeRejection(int status, const QByteArray &body = QByteArray(),
                                         const WsHttpHeaders &extraHeaders = WsHttpHeaders());
