#pragma once

#include "wserror.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qpair.h>

// HTTP header fields in the order received, with case-insensitive names (RFC 7230 §3.2).
class WsHttpHeaders
{
public:
    using Field = QPair<QByteArray, QByteArray>;

    void add(const QByteArray &name, const QByteArray &value);
    void set(const QByteArray &name, const QByteArray &value);  // replaces every field of that name
    void remove(QByteArrayView name);

    bool contains(QByteArrayView name) const noexcept;
    int count(QByteArrayView name) const noexcept;
    QByteArray value(QByteArrayView name) const;        // the first, or empty
    QList<QByteArray> values(QByteArrayView name) const;
    QByteArray combined(QByteArrayView name) const;     // all values joined with ", " (§3.2.2)
    // The comma-separated elements of every field of that name, trimmed, empty ones dropped.
    QList<QByteArray> tokens(QByteArrayView name) const;
    // Whether tokens(name) contains token, compared case-insensitively (e.g. Connection: Upgrade).
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    const QList<Field> &fields() const noexcept { return m_fields; }
    qsizetype size() const noexcept { return m_fields.size(); }
    bool isEmpty() const noexcept { return m_fields.isEmpty(); }

    // "Name: value\r\n" lines.
    void appendTo(QByteArray &out) const;

    friend bool operator==(const WsHttpHeaders &a, const WsHttpHeaders &b) { return a.m_fields == b.m_fields; }

private:
    QList<Field> m_fields;
};

// Whether name is an RFC 7230 token and value has no CR, LF or NUL: safe to put on the wire.
bool wsIsValidHeaderName(QByteArrayView name) noexcept;
bool wsIsValidHeaderValue(QByteArrayView value) noexcept;
bool wsIsToken(QByteArrayView s) noexcept;

// Parses an HTTP/1.1 message head (start line + header fields + empty line) incrementally,
// with limits on its total size and on the number of fields, so that a peer cannot make it
// buffer without bound. Used for the handshake request (server) and response (client).
class WsHttpHeadParser
{
public:
    enum class Status { NeedMore, Done, Error };

    WsHttpHeadParser(qsizetype maxSize, int maxFields) noexcept
        : m_maxSize(maxSize), m_maxFields(maxFields) {}

    // Reads data from offset *consumed on, up to and including the empty line, and advances
    // *consumed past what it took; bytes after the head are left unconsumed.
    Status feed(const char *data, qsizetype size, qsizetype *consumed);

    WsError error() const noexcept { return m_error; }
    const QByteArray &startLine() const noexcept { return m_startLine; }
    const WsHttpHeaders &headers() const noexcept { return m_headers; }

private:
    Status fail(WsError error);
    bool parseHead();

    qsizetype m_maxSize;
    int m_maxFields;
    QByteArray m_buffer;
    QByteArray m_startLine;
    WsHttpHeaders m_headers;
    WsError m_error = WsError::NoError;
    Status m_status = Status::NeedMore;
};

// One element of a Sec-WebSocket-Extensions header: a name and its parameters
// (RFC 6455 §9.1, e.g. "permessage-deflate; client_max_window_bits; server_max_window_bits=10").
struct WsExtensionOffer
{
    struct Param
    {
        QByteArray name;
        QByteArray value;   // unquoted
        bool hasValue = false;
        friend bool operator==(const Param &a, const Param &b)
        { return a.name == b.name && a.value == b.value && a.hasValue == b.hasValue; }
    };

    QByteArray name;
    QList<Param> params;

    QByteArray toHeaderValue() const;
    friend bool operator==(const WsExtensionOffer &a, const WsExtensionOffer &b)
    { return a.name == b.name && a.params == b.params; }
};

// Parses every element of the given Sec-WebSocket-Extensions values (RFC 6455 §9.1 grammar,
// with quoted-string parameter values). Returns false on a syntax error.
bool wsParseExtensions(const QList<QByteArray> &headerValues, QList<WsExtensionOffer> *out);
QByteArray wsFormatExtensions(const QList<WsExtensionOffer> &extensions);
