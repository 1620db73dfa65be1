#include "inspectorsession.h"

#include <wshandshake.h>
#include <wsqmlsocket.h>
#include <wssocket.h>

#include <QtCore/qfile.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qsavefile.h>
#include <QtCore/qurlquery.h>

#include <cmath>
#include <limits>
#include <vector>

#ifndef WSKIT_INSPECTOR_VERSION
#define WSKIT_INSPECTOR_VERSION "0"
#endif

namespace {

QString key(const char *latin1) { return QString::fromLatin1(latin1); }

// ISO 8601 with milliseconds and the UTC offset the time had, e.g. 2024-05-01T12:00:00.123+02:00.
QString isoTime(const QDateTime &time)
{
    if (!time.isValid())
        return QString();
    return time.toOffsetFromUtc(time.offsetFromUtc()).toString(Qt::ISODateWithMs);
}

// Whether bytes are UTF-8 that survives a round trip through QString unchanged.
bool isText(const QByteArray &bytes, QString *text)
{
    QString s = QString::fromUtf8(bytes);
    if (s.toUtf8() != bytes)
        return false;
    *text = std::move(s);
    return true;
}

bool hasCloseCode(quint16 code) { return code != 0 && code != 1005; }

QByteArray closePayload(quint16 code, const QByteArray &reason)
{
    QByteArray out;
    out.reserve(2 + reason.size());
    out.append(char(code >> 8));
    out.append(char(code & 0xff));
    out.append(reason);
    return out;
}

// The payload as text if the JSON Lines format writes it so (see toJsonLines()).
bool payloadText(const WsTrafficEntry &e, QString *text)
{
    switch (e.opcode) {
    case 0x1:
    case 0x9:
    case 0xA:
        return isText(e.payload, text);
    case 0x8:
        if (e.payload.isEmpty()) {
            text->clear();
            return true;
        }
        if (e.payload.size() < 2 || !hasCloseCode(e.closeCode)
            || ((quint16(quint8(e.payload[0])) << 8) | quint8(e.payload[1])) != e.closeCode)
            return false;
        return isText(e.payload.mid(2), text);
    default:
        return false;
    }
}

QJsonArray headersJson(const InspectorSession::Headers &headers)
{
    QJsonArray out;
    for (const auto &h : headers)
        out.append(QJsonObject{{key("name"), h.first}, {key("value"), h.second}});
    return out;
}

QJsonObject entryJson(const WsTrafficEntry &e)
{
    QJsonObject o;
    o.insert(key("type"), key("message"));
    o.insert(key("seq"), double(e.sequence));
    o.insert(key("time"), isoTime(e.timestamp));
    o.insert(key("connection"), e.connectionId);
    o.insert(key("direction"), e.outgoing ? key("out") : key("in"));
    o.insert(key("opcode"), int(e.opcode));
    o.insert(key("kind"), WsTrafficModel::kindName(e.opcode));
    o.insert(key("fin"), e.fin);
    o.insert(key("rsv"), int(e.rsv));
    o.insert(key("wireSize"), double(e.wireSize));
    o.insert(key("size"), double(e.size));
    o.insert(key("closeCode"), int(e.closeCode));
    o.insert(key("truncated"), e.truncated);
    QJsonArray frames;
    for (const WsFrameInfo &f : e.frames)
        frames.append(QJsonObject{{key("opcode"), int(f.opcode)}, {key("fin"), f.fin}, {key("rsv"), int(f.rsv)},
                                  {key("wireSize"), double(f.wireSize)}, {key("masked"), f.masked}});
    o.insert(key("frames"), frames);
    QString text;
    if (payloadText(e, &text))
        o.insert(key("payload"), text);
    else
        o.insert(key("payloadBase64"), QString::fromLatin1(e.payload.toBase64()));
    return o;
}

// Typed field access for the importer: each returns false with *error set when the field
// is present with the wrong type or out of range, or missing while required.
class FieldReader
{
public:
    FieldReader(const QJsonObject &object, QString *error) : m_o(object), m_error(error) {}

    bool integer(const char *name, qint64 min, qint64 max, qint64 *out, bool required = true)
    {
        const QJsonValue v = m_o.value(key(name));
        if (v.isUndefined())
            return !required || fail(QStringLiteral("missing \"%1\"").arg(key(name)));
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || std::floor(d) != d || d < double(min) || d > double(max))
            return fail(QStringLiteral("\"%1\" must be an integer from %2 to %3").arg(key(name)).arg(min).arg(max));
        *out = qint64(d);
        return true;
    }
    bool boolean(const char *name, bool *out, bool required = true)
    {
        const QJsonValue v = m_o.value(key(name));
        if (v.isUndefined())
            return !required || fail(QStringLiteral("missing \"%1\"").arg(key(name)));
        if (!v.isBool())
            return fail(QStringLiteral("\"%1\" must be true or false").arg(key(name)));
        *out = v.toBool();
        return true;
    }
    bool string(const char *name, QString *out, bool required = true)
    {
        const QJsonValue v = m_o.value(key(name));
        if (v.isUndefined())
            return !required || fail(QStringLiteral("missing \"%1\"").arg(key(name)));
        if (!v.isString())
            return fail(QStringLiteral("\"%1\" must be a string").arg(key(name)));
        *out = v.toString();
        return true;
    }
    bool array(const char *name, QJsonArray *out, bool required = true)
    {
        const QJsonValue v = m_o.value(key(name));
        if (v.isUndefined())
            return !required || fail(QStringLiteral("missing \"%1\"").arg(key(name)));
        if (!v.isArray())
            return fail(QStringLiteral("\"%1\" must be an array").arg(key(name)));
        *out = v.toArray();
        return true;
    }
    bool time(const char *name, QDateTime *out, bool required = true)
    {
        QString s;
        if (!string(name, &s, required))
            return false;
        if (s.isEmpty() && !required)
            return true;
        const QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
        if (!t.isValid())
            return fail(QStringLiteral("\"%1\" is not an ISO 8601 date and time").arg(key(name)));
        *out = t.toLocalTime();
        return true;
    }
    bool fail(const QString &message)
    {
        if (m_error)
            *m_error = message;
        return false;
    }

private:
    const QJsonObject &m_o;
    QString *m_error;
};

bool parseHeaders(const QJsonArray &array, const char *what, InspectorSession::Headers *out, QString *error)
{
    out->clear();
    for (const QJsonValue &v : array) {
        const QJsonObject h = v.toObject();
        if (!v.isObject() || !h.value(key("name")).isString() || !h.value(key("value")).isString()) {
            *error = QStringLiteral("\"%1\" must hold {\"name\": string, \"value\": string} objects").arg(key(what));
            return false;
        }
        out->append({h.value(key("name")).toString(), h.value(key("value")).toString()});
    }
    return true;
}

struct SessionData
{
    QUrl url;
    InspectorSession::Headers requestHeaders;
    InspectorSession::Headers responseHeaders;
    int status = 101;
    QString subprotocol;
    QString extensions;
    QString serverAddress;
    QDateTime startTime;
};

bool parseSession(const QJsonObject &o, SessionData *s, QString *error)
{
    FieldReader r(o, error);
    qint64 version = InspectorSession::FormatVersion;
    qint64 status = 101;
    QString url;
    QJsonArray request, response;
    if (!r.integer("version", 1, InspectorSession::FormatVersion, &version, false)
        || !r.string("url", &url, false) || !r.array("requestHeaders", &request, false)
        || !r.array("responseHeaders", &response, false) || !r.integer("status", 0, 999, &status, false)
        || !r.string("subprotocol", &s->subprotocol, false) || !r.string("extensions", &s->extensions, false)
        || !r.string("serverAddress", &s->serverAddress, false) || !r.time("startTime", &s->startTime, false))
        return false;
    s->url = QUrl(url, QUrl::StrictMode);
    if (!url.isEmpty() && !s->url.isValid())
        return r.fail(QStringLiteral("\"url\" is not a valid URL"));
    s->status = int(status);
    return parseHeaders(request, "requestHeaders", &s->requestHeaders, error)
        && parseHeaders(response, "responseHeaders", &s->responseHeaders, error);
}

bool parseMessage(const QJsonObject &o, WsTrafficEntry *e, QString *error)
{
    FieldReader r(o, error);
    qint64 seq = 0, connection = 0, opcode = 0, rsv = 0, wireSize = 0, size = 0, closeCode = 0;
    QString direction;
    QJsonArray frames;
    constexpr qint64 maxSize = qint64(1) << 53;
    if (!r.integer("seq", 0, maxSize, &seq) || !r.time("time", &e->timestamp)
        || !r.integer("connection", 0, std::numeric_limits<int>::max(), &connection)
        || !r.string("direction", &direction) || !r.integer("opcode", 0, 15, &opcode)
        || !r.boolean("fin", &e->fin) || !r.integer("rsv", 0, 7, &rsv)
        || !r.integer("wireSize", 0, maxSize, &wireSize) || !r.integer("size", 0, maxSize, &size)
        || !r.integer("closeCode", 0, 65535, &closeCode, false) || !r.boolean("truncated", &e->truncated, false)
        || !r.array("frames", &frames))
        return false;
    if (direction != QLatin1String("in") && direction != QLatin1String("out"))
        return r.fail(QStringLiteral("\"direction\" must be \"in\" or \"out\""));
    e->sequence = seq;
    e->connectionId = int(connection);
    e->outgoing = direction == QLatin1String("out");
    e->opcode = quint8(opcode);
    e->rsv = quint8(rsv);
    e->wireSize = wireSize;
    e->size = size;
    e->closeCode = quint16(closeCode);

    // Frames as the model keeps them: what the observer reported, without payloads.
    const bool data = e->opcode == 0x1 || e->opcode == 0x2;
    for (qsizetype i = 0; i < frames.size(); ++i) {
        const QJsonObject fo = frames.at(i).toObject();
        if (!frames.at(i).isObject())
            return r.fail(QStringLiteral("frame %1 is not an object").arg(i + 1));
        FieldReader fr(fo, error);
        qint64 fop = 0, frsv = 0, fwire = 0;
        WsFrameInfo f;
        if (!fr.integer("opcode", 0, 15, &fop) || !fr.boolean("fin", &f.fin) || !fr.integer("rsv", 0, 7, &frsv)
            || !fr.integer("wireSize", 0, maxSize, &fwire) || !fr.boolean("masked", &f.masked)) {
            *error = QStringLiteral("frame %1: %2").arg(i + 1).arg(*error);
            return false;
        }
        f.direction = e->outgoing ? WsFrameInfo::Outgoing : WsFrameInfo::Incoming;
        f.opcode = quint8(fop);
        f.rsv = quint8(frsv);
        f.wireSize = fwire;
        f.messageType = WsOpcode(e->opcode);
        if (data && f.fin)
            f.messageSize = e->size;
        if (e->opcode == 0x8)
            f.closeCode = e->closeCode;
        e->frames.append(f);
    }

    const QJsonValue text = o.value(key("payload"));
    const QJsonValue base64 = o.value(key("payloadBase64"));
    if (!text.isUndefined() && !base64.isUndefined())
        return r.fail(QStringLiteral("both \"payload\" and \"payloadBase64\""));
    if (!base64.isUndefined()) {
        if (!base64.isString())
            return r.fail(QStringLiteral("\"payloadBase64\" must be a string"));
        const auto decoded = QByteArray::fromBase64Encoding(base64.toString().toLatin1(),
                                                            QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return r.fail(QStringLiteral("\"payloadBase64\" is not valid base64"));
        e->payload = decoded.decoded;
    } else if (!text.isUndefined()) {
        if (!text.isString())
            return r.fail(QStringLiteral("\"payload\" must be a string"));
        const QByteArray utf8 = text.toString().toUtf8();
        if (e->opcode == 0x8 && hasCloseCode(e->closeCode))
            e->payload = closePayload(e->closeCode, utf8);
        else if (e->opcode == 0x8 && !utf8.isEmpty())
            return r.fail(QStringLiteral("a close reason without a close code"));
        else
            e->payload = utf8;
    }
    return true;
}

QString fileError(const QString &path, const QString &what) { return QStringLiteral("%1: %2").arg(path, what); }

bool writeFile(const QString &path, const QByteArray &data, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit()) {
        if (error)
            *error = fileError(path, file.errorString());
        return false;
    }
    return true;
}

QString localPath(const QUrl &url, QString *error)
{
    if (url.isLocalFile())
        return url.toLocalFile();
    if (url.scheme().isEmpty() && !url.path().isEmpty())
        return url.path();
    *error = QStringLiteral("not a local file: %1").arg(url.toDisplayString());
    return QString();
}

// The size of an HTTP head as it went on the wire, or -1 if its headers are unknown.
qint64 headSize(const QString &startLine, const InspectorSession::Headers &headers)
{
    if (headers.isEmpty())
        return -1;
    qint64 size = startLine.toUtf8().size() + 2 + 2;
    for (const auto &h : headers)
        size += h.first.toUtf8().size() + 2 + h.second.toUtf8().size() + 2;
    return size;
}

QJsonArray cookiesJson(const InspectorSession::Headers &headers, bool response)
{
    QJsonArray out;
    const QLatin1String name = response ? QLatin1String("Set-Cookie") : QLatin1String("Cookie");
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        // Cookie: a=b; c=d.  Set-Cookie: a=b; Path=/; ... (one cookie, attributes after it)
        const QStringList parts = h.second.split(QLatin1Char(';'));
        for (qsizetype i = 0; i < (response ? std::min<qsizetype>(1, parts.size()) : parts.size()); ++i) {
            const QString pair = parts.at(i).trimmed();
            if (pair.isEmpty())
                continue;
            const qsizetype eq = pair.indexOf(QLatin1Char('='));
            out.append(QJsonObject{{key("name"), eq < 0 ? pair : pair.left(eq).trimmed()},
                                   {key("value"), eq < 0 ? QString() : pair.mid(eq + 1).trimmed()}});
        }
    }
    return out;
}

} // namespace

InspectorSession::InspectorSession(WsTrafficModel *model, QObject *parent) : QObject(parent), m_model(model) {}

void InspectorSession::setModel(WsTrafficModel *model)
{
    if (m_model == model)
        return;
    m_model = model;
    emit modelChanged();
}

void InspectorSession::setUrl(const QUrl &url)
{
    if (m_url == url)
        return;
    m_url = url;
    emit metadataChanged();
}

void InspectorSession::setRequestHeaders(const Headers &headers)
{
    m_requestHeaders = headers;
    emit metadataChanged();
}

void InspectorSession::setResponseHeaders(const Headers &headers)
{
    m_responseHeaders = headers;
    emit metadataChanged();
}

void InspectorSession::setResponseStatus(int status)
{
    if (m_status == status)
        return;
    m_status = status;
    emit metadataChanged();
}

void InspectorSession::setSubprotocol(const QString &subprotocol)
{
    if (m_subprotocol == subprotocol)
        return;
    m_subprotocol = subprotocol;
    emit metadataChanged();
}

void InspectorSession::setExtensions(const QString &extensions)
{
    if (m_extensions == extensions)
        return;
    m_extensions = extensions;
    emit metadataChanged();
}

void InspectorSession::setServerAddress(const QString &address)
{
    if (m_serverAddress == address)
        return;
    m_serverAddress = address;
    emit metadataChanged();
}

void InspectorSession::setStartTime(const QDateTime &time)
{
    if (m_startTime == time && m_startTime.isValid() == time.isValid())
        return;
    m_startTime = time;
    emit metadataChanged();
}

QVariantList InspectorSession::headersValue(const Headers &headers)
{
    QVariantList out;
    for (const auto &h : headers)
        out.append(QVariantMap{{key("name"), h.first}, {key("value"), h.second}});
    return out;
}

void InspectorSession::clearMetadata()
{
    m_url = QUrl();
    m_requestHeaders.clear();
    m_responseHeaders.clear();
    m_status = 101;
    m_subprotocol.clear();
    m_extensions.clear();
    m_serverAddress.clear();
    m_startTime = QDateTime();
    emit metadataChanged();
}

bool InspectorSession::captureHandshake(QObject *socket)
{
    if (auto *qs = qobject_cast<WsQmlSocket *>(socket)) {
        if (!qs->socket())
            return false;
        captureHandshake(*qs->socket());
        return true;
    }
    if (auto *s = qobject_cast<WsSocket *>(socket)) {
        captureHandshake(*s);
        return true;
    }
    return false;
}

void InspectorSession::captureHandshake(const WsSocket &socket)
{
    const auto convert = [](const WsHttpHeaders &headers) {
        Headers out;
        for (const auto &f : headers.fields())
            out.append({QString::fromUtf8(f.first), QString::fromUtf8(f.second)});
        return out;
    };
    const WsHandshakeRequest &request = socket.handshakeRequest();
    const WsHandshakeResponse &response = socket.handshakeResponse();
    m_url = socket.requestUrl();
    if (m_url.isEmpty() && !request.host().isEmpty())  // the server side of a connection
        m_url = QUrl(QStringLiteral("ws://%1%2").arg(QString::fromUtf8(request.host()), QString::fromUtf8(request.target)));
    m_requestHeaders = convert(request.headers);
    m_responseHeaders = convert(response.headers);
    m_status = response.status ? response.status : 101;
    m_subprotocol = QString::fromUtf8(socket.subprotocol());
    m_extensions = QString::fromUtf8(response.headers.combined("Sec-WebSocket-Extensions"));
    m_serverAddress = socket.peerAddress().isNull() ? QString() : socket.peerAddress().toString();
    m_startTime = QDateTime::currentDateTime();
    emit metadataChanged();
}

QByteArray InspectorSession::toJsonLines() const
{
    QJsonObject session;
    session.insert(key("type"), key("session"));
    session.insert(key("format"), key("wskit-inspector"));
    session.insert(key("version"), FormatVersion);
    session.insert(key("url"), m_url.toString(QUrl::FullyEncoded));
    session.insert(key("startTime"), isoTime(m_startTime));
    session.insert(key("requestHeaders"), headersJson(m_requestHeaders));
    session.insert(key("responseHeaders"), headersJson(m_responseHeaders));
    session.insert(key("status"), m_status);
    session.insert(key("subprotocol"), m_subprotocol);
    session.insert(key("extensions"), m_extensions);
    session.insert(key("serverAddress"), m_serverAddress);
    QByteArray out = QJsonDocument(session).toJson(QJsonDocument::Compact);
    out += '\n';
    if (!m_model)
        return out;
    for (int row = 0; row < m_model->count(); ++row) {
        out += QJsonDocument(entryJson(m_model->entry(row))).toJson(QJsonDocument::Compact);
        out += '\n';
    }
    return out;
}

bool InspectorSession::fromJsonLines(const QByteArray &data, QString *error)
{
    QString dummy;
    QString &err = error ? *error : dummy;
    if (!m_model) {
        err = QStringLiteral("no traffic model to import into");
        return false;
    }
    if (data.size() > MaxInputBytes) {
        err = QStringLiteral("input too large: %1 bytes (at most %2)").arg(data.size()).arg(MaxInputBytes);
        return false;
    }
    const qint64 lines = data.count('\n') + (data.isEmpty() || data.endsWith('\n') ? 0 : 1);
    if (lines > MaxLines) {
        err = QStringLiteral("too many lines: %1 (at most %2)").arg(lines).arg(MaxLines);
        return false;
    }

    SessionData session;
    bool haveSession = false;
    std::vector<WsTrafficEntry> entries;
    qsizetype start = 0;
    qint64 lineNumber = 0;
    while (start < data.size()) {
        qsizetype end = data.indexOf('\n', start);
        if (end < 0)
            end = data.size();
        ++lineNumber;
        const QByteArray line = QByteArray::fromRawData(data.constData() + start, end - start);
        start = end + 1;
        if (line.trimmed().isEmpty())
            continue;
        const auto fail = [&](const QString &message) {
            err = QStringLiteral("line %1: %2").arg(lineNumber).arg(message);
            return false;
        };
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
        if (parseError.error != QJsonParseError::NoError)
            return fail(QStringLiteral("%1 at column %2").arg(parseError.errorString()).arg(parseError.offset + 1));
        if (!doc.isObject())
            return fail(QStringLiteral("not a JSON object"));
        const QJsonObject o = doc.object();
        const QString type = o.value(key("type")).toString();
        QString message;
        if (type == QLatin1String("session")) {
            if (haveSession)
                return fail(QStringLiteral("a second session line"));
            if (!parseSession(o, &session, &message))
                return fail(message);
            haveSession = true;
        } else if (type == QLatin1String("message")) {
            if (!haveSession)
                return fail(QStringLiteral("a message before the session line"));
            WsTrafficEntry e;
            if (!parseMessage(o, &e, &message))
                return fail(message);
            entries.push_back(std::move(e));
        } else {
            return fail(QStringLiteral("\"type\" must be \"session\" or \"message\""));
        }
    }
    if (!haveSession) {
        err = QStringLiteral("line 1: no session line");
        return false;
    }

    m_model->clear();
    if (entries.size() > size_t(m_model->capacity()))
        m_model->setCapacity(int(entries.size()));
    for (const WsTrafficEntry &e : entries)
        m_model->addEntry(e);
    m_model->flush();
    m_url = session.url;
    m_requestHeaders = session.requestHeaders;
    m_responseHeaders = session.responseHeaders;
    m_status = session.status;
    m_subprotocol = session.subprotocol;
    m_extensions = session.extensions;
    m_serverAddress = session.serverAddress;
    m_startTime = session.startTime;
    emit metadataChanged();
    err.clear();
    return true;
}

QByteArray InspectorSession::toHar(int connectionId) const
{
    QJsonArray messages;
    QDateTime first;
    int connection = connectionId;
    if (m_model) {
        for (int row = 0; row < m_model->count(); ++row) {
            const WsTrafficEntry &e = m_model->entry(row);
            if (connectionId != 0 && e.connectionId != connectionId)
                continue;
            if (!first.isValid())
                first = e.timestamp;
            if (connection == 0)
                connection = e.connectionId;
            messages.append(QJsonObject{
                {key("type"), e.outgoing ? key("send") : key("receive")},
                {key("time"), double(e.timestamp.toMSecsSinceEpoch()) / 1000.0},
                {key("opcode"), int(e.opcode)},
                {key("data"), e.opcode == 0x1 ? QString::fromUtf8(e.payload) : QString::fromLatin1(e.payload.toBase64())},
            });
        }
    }
    QDateTime started = m_startTime.isValid() ? m_startTime : first;
    if (!started.isValid())
        started = QDateTime::currentDateTime();

    QJsonArray queryString;
    const QUrlQuery query(m_url);
    for (const auto &item : query.queryItems(QUrl::FullyDecoded))
        queryString.append(QJsonObject{{key("name"), item.first}, {key("value"), item.second}});
    QString target = m_url.path(QUrl::FullyEncoded);
    if (target.isEmpty())
        target = QStringLiteral("/");
    if (m_url.hasQuery())
        target += QLatin1Char('?') + m_url.query(QUrl::FullyEncoded);
    const QString statusText = QString::fromLatin1(wsHttpReasonPhrase(m_status));

    const QJsonObject request{
        {key("method"), key("GET")},
        {key("url"), m_url.toString(QUrl::FullyEncoded)},
        {key("httpVersion"), key("HTTP/1.1")},
        {key("headers"), headersJson(m_requestHeaders)},
        {key("queryString"), queryString},
        {key("cookies"), cookiesJson(m_requestHeaders, false)},
        {key("headersSize"), double(headSize(QStringLiteral("GET %1 HTTP/1.1").arg(target), m_requestHeaders))},
        {key("bodySize"), 0},
    };
    const QJsonObject response{
        {key("status"), m_status},
        {key("statusText"), statusText},
        {key("httpVersion"), key("HTTP/1.1")},
        {key("headers"), headersJson(m_responseHeaders)},
        {key("cookies"), cookiesJson(m_responseHeaders, true)},
        {key("content"), QJsonObject{{key("size"), 0}, {key("mimeType"), key("x-unknown")}}},
        {key("redirectURL"), QString()},
        {key("headersSize"), double(headSize(QStringLiteral("HTTP/1.1 %1 %2").arg(m_status).arg(statusText), m_responseHeaders))},
        {key("bodySize"), 0},
        {key("_transferSize"), 0},
        {key("_error"), QJsonValue::Null},
    };
    const QJsonObject timings{
        {key("blocked"), -1}, {key("dns"), -1}, {key("ssl"), -1}, {key("connect"), -1},
        {key("send"), 0}, {key("wait"), 0}, {key("receive"), 0}, {key("_blocked_queueing"), -1},
    };
    QJsonObject entry{
        {key("startedDateTime"), started.toUTC().toString(Qt::ISODateWithMs)},
        {key("time"), 0},
        {key("request"), request},
        {key("response"), response},
        {key("cache"), QJsonObject()},
        {key("timings"), timings},
        {key("serverIPAddress"), m_serverAddress},
        {key("_initiator"), QJsonObject{{key("type"), key("other")}}},
        {key("_priority"), QJsonValue::Null},
        {key("_resourceType"), key("websocket")},
        {key("_webSocketMessages"), messages},
    };
    if (connection != 0)
        entry.insert(key("connection"), QString::number(connection));
    const QJsonObject log{
        {key("version"), key("1.2")},
        {key("creator"), QJsonObject{{key("name"), key("WsKit inspector")},
                                     {key("version"), QString::fromLatin1(WSKIT_INSPECTOR_VERSION)}}},
        {key("pages"), QJsonArray()},
        {key("entries"), QJsonArray{entry}},
    };
    return QJsonDocument(QJsonObject{{key("log"), log}}).toJson(QJsonDocument::Indented);
}

bool InspectorSession::saveJsonLines(const QString &path, QString *error) const
{
    return writeFile(path, toJsonLines(), error);
}

bool InspectorSession::saveHar(const QString &path, QString *error) const
{
    return writeFile(path, toHar(), error);
}

bool InspectorSession::loadJsonLines(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = fileError(path, file.errorString());
        return false;
    }
    if (file.size() > MaxInputBytes) {
        if (error)
            *error = fileError(path, QStringLiteral("too large: %1 bytes (at most %2)").arg(file.size()).arg(MaxInputBytes));
        return false;
    }
    // In pieces, and never past the limit: size() says nothing for devices and pipes.
    QByteArray data;
    while (true) {
        const QByteArray chunk = file.read(1 << 20);
        if (chunk.isEmpty())
            break;
        data += chunk;
        if (data.size() > MaxInputBytes) {
            if (error)
                *error = fileError(path, QStringLiteral("too large (more than %1 bytes)").arg(MaxInputBytes));
            return false;
        }
    }
    if (file.error() != QFileDevice::NoError) {
        if (error)
            *error = fileError(path, file.errorString());
        return false;
    }
    QString message;
    if (!fromJsonLines(data, &message)) {
        if (error)
            *error = fileError(path, message);
        return false;
    }
    if (error)
        error->clear();
    return true;
}

QString InspectorSession::exportJsonLines(const QUrl &fileUrl) const
{
    QString error;
    const QString path = localPath(fileUrl, &error);
    if (!path.isEmpty())
        saveJsonLines(path, &error);
    return error;
}

QString InspectorSession::exportHar(const QUrl &fileUrl) const
{
    QString error;
    const QString path = localPath(fileUrl, &error);
    if (!path.isEmpty())
        saveHar(path, &error);
    return error;
}

QString InspectorSession::importJsonLines(const QUrl &fileUrl)
{
    QString error;
    const QString path = localPath(fileUrl, &error);
    if (!path.isEmpty())
        loadJsonLines(path, &error);
    return error;
}
