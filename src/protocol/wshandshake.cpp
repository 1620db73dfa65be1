#include "wshandshake.h"

#include "wsrandom.h"

#include <QtCore/qcryptographichash.h>

static const char kWebSocketGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

QByteArray wsAcceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(QByteArrayView(kWebSocketGuid));
    return sha1.result().toBase64();
}

QByteArray wsGenerateKey(WsRandomSource &random)
{
    char nonce[16];
    random.fill(nonce, sizeof nonce);
    return QByteArray(nonce, sizeof nonce).toBase64();
}

QByteArray WsHandshakeRequest::path() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.left(q);
}

QByteArray WsHandshakeRequest::query() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? QByteArray() : target.mid(q + 1);
}

QList<WsExtensionOffer> WsHandshakeRequest::extensions() const
{
    QList<WsExtensionOffer> result;
    if (!wsParseExtensions(headers.values("Sec-WebSocket-Extensions"), &result))
        result.clear();
    return result;
}

QByteArray WsHandshakeRequest::toBytes() const
{
    QByteArray out;
    out.reserve(256);
    out += method + ' ' + target + ' ' + httpVersion + "\r\n";
    headers.appendTo(out);
    out += "\r\n";
    return out;
}

static bool isValidKey(const QByteArray &key)
{
    // RFC 6455 §4.1: a base64-encoded 16-byte value, i.e. 24 characters ending in "==".
    if (key.size() != 24 || !key.endsWith("=="))
        return false;
    const auto decoded = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    return decoded && decoded.decoded.size() == 16;
}

static bool parseHttpVersion(QByteArrayView v, int *major, int *minor)
{
    // "HTTP/" DIGIT "." DIGIT (RFC 7230 §2.6)
    if (v.size() != 8 || !v.startsWith("HTTP/") || v[6] != '.')
        return false;
    if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
        return false;
    *major = v[5] - '0';
    *minor = v[7] - '0';
    return true;
}

WsError WsHandshakeRequest::parse(const QByteArray &startLine, const WsHttpHeaders &headers,
                                  WsHandshakeRequest *out)
{
    const QList<QByteArray> parts = startLine.split(' ');
    if (parts.size() != 3 || parts[0].isEmpty() || parts[1].isEmpty() || !wsIsToken(parts[0]))
        return WsError::HandshakeMalformedRequest;
    int major = 0, minor = 0;
    if (!parseHttpVersion(parts[2], &major, &minor))
        return WsError::HandshakeMalformedRequest;
    out->method = parts[0];
    out->target = parts[1];
    out->httpVersion = parts[2];
    out->headers = headers;

    // RFC 6455 §4.2.1, in order: an HTTP/1.1 or higher GET request ...
    if (major < 1 || (major == 1 && minor < 1))
        return WsError::HandshakeBadHttpVersion;
    if (out->method != "GET")
        return WsError::HandshakeMethodNotAllowed;
    if (!out->target.startsWith('/') && out->target != "*" && !out->target.contains("://"))
        return WsError::HandshakeMalformedRequest;
    // ... with exactly one Host header field ...
    if (headers.count("Host") != 1 || headers.value("Host").isEmpty())
        return WsError::HandshakeMissingHost;
    // ... an Upgrade header field containing "websocket" ...
    if (!headers.hasToken("Upgrade", "websocket"))
        return WsError::HandshakeNotUpgrade;
    // ... a Connection header field that includes the token "Upgrade" ...
    if (!headers.hasToken("Connection", "Upgrade"))
        return WsError::HandshakeMissingConnectionUpgrade;
    // ... a Sec-WebSocket-Key that decodes to 16 bytes ...
    if (headers.count("Sec-WebSocket-Key") != 1 || !isValidKey(headers.value("Sec-WebSocket-Key")))
        return WsError::HandshakeBadKey;
    // ... and Sec-WebSocket-Version 13 (§4.4: otherwise 426 with the supported version).
    if (headers.count("Sec-WebSocket-Version") != 1
        || headers.value("Sec-WebSocket-Version") != "13")
        return WsError::HandshakeUnsupportedVersion;
    // Malformed Sec-WebSocket-Extensions are a bad request too (§9.1 grammar).
    QList<WsExtensionOffer> extensions;
    if (!wsParseExtensions(headers.values("Sec-WebSocket-Extensions"), &extensions))
        return WsError::HandshakeMalformedRequest;
    for (const QByteArray &p : headers.tokens("Sec-WebSocket-Protocol"))
        if (!wsIsToken(p))
            return WsError::HandshakeMalformedRequest;
    return WsError::NoError;
}

QByteArray WsHandshakeResponse::toBytes() const
{
    QByteArray out;
    out.reserve(256 + body.size());
    out += httpVersion + ' ' + QByteArray::number(status) + ' '
            + (reason.isEmpty() ? wsHttpReasonPhrase(status) : reason) + "\r\n";
    headers.appendTo(out);
    if (!body.isEmpty() && !headers.contains("Content-Length"))
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n";
    out += body;
    return out;
}

bool WsHandshakeResponse::parse(const QByteArray &statusLine, const WsHttpHeaders &headers,
                                WsHandshakeResponse *out)
{
    // status-line = HTTP-version SP status-code SP reason-phrase (RFC 7230 §3.1.2)
    const qsizetype sp1 = statusLine.indexOf(' ');
    if (sp1 < 0)
        return false;
    int major = 0, minor = 0;
    if (!parseHttpVersion(QByteArrayView(statusLine).first(sp1), &major, &minor) || major != 1)
        return false;
    const qsizetype sp2 = statusLine.indexOf(' ', sp1 + 1);
    const QByteArray code = statusLine.mid(sp1 + 1, sp2 < 0 ? -1 : sp2 - sp1 - 1);
    if (code.size() != 3)
        return false;
    for (char c : code)
        if (c < '0' || c > '9')
            return false;
    out->httpVersion = statusLine.left(sp1);
    out->status = code.toInt();
    out->reason = sp2 < 0 ? QByteArray() : statusLine.mid(sp2 + 1);
    out->headers = headers;
    return out->status >= 100;
}

QByteArray wsHttpReasonPhrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status >= 200 && status < 300 ? "OK" : "Error";
    }
}

WsHandshakeResponse wsHandshakeRejection(int status, const QByteArray &body,
                                         const WsHttpHeaders &extraHeaders)
{
    WsHandshakeResponse r;
    r.status = status;
    r.reason = wsHttpReasonPhrase(status);
    r.body = body.isEmpty() ? r.reason + '\n' : body;
    if (status == 426) {
        r.headers.add("Upgrade", "websocket");
        r.headers.add("Sec-WebSocket-Version", "13");
    }
    if (status == 405)
        r.headers.add("Allow", "GET");
    for (const WsHttpHeaders::Field &f : extraHeaders.fields())
        r.headers.set(f.first, f.second);
    if (!r.headers.contains("Content-Type"))
        r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.headers.set("Connection", "close");
    r.headers.set("Content-Length", QByteArray::number(r.body.size()));
    return r;
}
