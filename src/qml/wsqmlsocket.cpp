#include "wsqmlsocket.h"

#include <QtCore/qfile.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qmetaobject.h>
#include <QtNetwork/qsslcertificate.h>

Q_LOGGING_CATEGORY(lcWsQml, "wskit.qml", QtInfoMsg)

static int nextConnectionId()
{
    static int id = 0;
    return ++id;
}

WsQmlSocket::WsQmlSocket(QObject *parent) : QObject(parent), m_connectionId(nextConnectionId())
{
    attach(new WsSocket(this));
}

WsQmlSocket::WsQmlSocket(WsSocket *accepted, QObject *parent)
    : QObject(parent), m_accepted(true), m_complete(true), m_active(true), m_connectionId(nextConnectionId())
{
    attach(accepted);
    m_status = accepted->state() == WsSocket::State::Open ? Open : Connecting;
}

WsQmlSocket::~WsQmlSocket()
{
    if (m_socket)
        m_socket->disconnect(this);
}

void WsQmlSocket::attach(WsSocket *s)
{
    m_socket = s;
    connect(s, &WsSocket::stateChanged, this, [this](WsSocket::State st) {
        switch (st) {
        case WsSocket::State::Connecting: setStatus(Connecting); break;
        case WsSocket::State::Open: setStatus(Open); break;
        case WsSocket::State::Closing: setStatus(Closing); break;
        case WsSocket::State::Unconnected: setStatus(Idle); break;
        case WsSocket::State::Closed: break;  // see closed(): Closed or Error, after the details
        }
    });
    connect(s, &WsSocket::connected, this, [this] {
        if (!m_errorString.isEmpty()) {
            m_errorString.clear();
            emit errorStringChanged();
        }
        emit reconnectAttemptsChanged();
        emit opened();
    });
    connect(s, &WsSocket::textMessageReceived, this, [this](const QString &m) {
        emit statisticsChanged();
        emit textMessageReceived(m);
        if (isSignalConnected(QMetaMethod::fromSignal(&WsQmlSocket::jsonMessageReceived))) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(m.toUtf8(), &error);
            if (error.error == QJsonParseError::NoError)
                emit jsonMessageReceived(doc.toVariant());
            else
                emit jsonError(error.errorString(), m);
        }
    });
    connect(s, &WsSocket::binaryMessageReceived, this, [this](const QByteArray &m) {
        emit statisticsChanged();
        emit binaryMessageReceived(m);
    });
    connect(s, &WsSocket::pongReceived, this, [this](qint64 rtt) {
        if (rtt >= 0 && int(rtt) != m_rtt) {
            m_rtt = int(rtt);
            emit roundTripTimeChanged();
        }
    });
    connect(s, &WsSocket::errorOccurred, this, [this] {
        // The text first, so that a binding on status sees it with the Error status.
        m_errorString = m_socket->errorString();
        emit errorStringChanged();
        emit errorOccurred(m_errorString);
    });
    connect(s, &WsSocket::sslErrors, this, [this] {
        if (m_ignoreSslErrors)
            m_socket->ignoreSslErrors();
    });
    connect(s, &WsSocket::bytesWritten, this, &WsQmlSocket::bufferedAmountChanged);
    connect(s, &WsSocket::reconnecting, this, &WsQmlSocket::reconnectAttemptsChanged);
    connect(s, &WsSocket::closed, this, [this](const WsCloseStatus &st) {
        m_closeCode = st.code;
        m_closeReason = st.reason;
        m_wasClean = st.wasClean;
        emit closedStatusChanged();
        setStatus(m_socket->error() != WsError::NoError ? Error : Closed);
        QPointer<WsQmlSocket> guard(this);
        emit closed(m_closeCode, m_closeReason, m_wasClean);
        if (!guard)
            return;
        // Unlike QtWebSockets, `active` follows the connection: set it again to reconnect.
        // WsSocket schedules its reconnect right after this signal, unless we closed it.
        const bool retrying = !m_accepted && m_options.reconnect.enabled && m_active && !m_userClosed
                && m_socket->error() != WsError::InvalidArgument;
        if (m_active && !retrying && !m_accepted) {
            m_active = false;
            emit activeChanged();
        }
    });
}

void WsQmlSocket::componentComplete()
{
    m_complete = true;
    if (m_active)
        open();
}

void WsQmlSocket::setStatus(Status s)
{
    if (m_status == s)
        return;
    m_status = s;
    emit statusChanged();
}

void WsQmlSocket::setUrl(const QUrl &url)
{
    if (m_url == url)
        return;
    m_url = url;
    emit urlChanged();
    if (m_complete && m_active && !m_accepted)
        reopen();
}

void WsQmlSocket::setActive(bool active)
{
    if (m_active == active || m_accepted)
        return;
    m_active = active;
    emit activeChanged();
    if (!m_complete)
        return;
    if (active)
        open();
    else
        close();
}

void WsQmlSocket::reopen()
{
    if (m_url.isEmpty()) {
        // Nowhere to go: end the current connection properly.
        close();
        return;
    }
    // A new URL: drop the old connection quietly and connect to the new one.
    const bool wasActive = m_active;
    m_active = false;
    if (m_socket->state() != WsSocket::State::Closed && m_socket->state() != WsSocket::State::Unconnected)
        m_socket->abort();
    m_active = wasActive;
    open();
}

WsRequest WsQmlSocket::buildRequest() const
{
    WsRequest r;
    r.url = m_url;
    for (auto it = m_headers.cbegin(); it != m_headers.cend(); ++it)
        r.headers.add(it.key().toUtf8(), it.value().toString().toUtf8());
    r.origin = m_origin.toUtf8();
    for (const QString &p : m_subprotocols)
        r.subprotocols.append(p.toUtf8());
    r.options = m_options;
    return r;
}

void WsQmlSocket::open()
{
    if (m_accepted)
        return;
    if (m_url.isEmpty()) {
        // Nothing to connect to yet (e.g. a binding not evaluated): connect when it comes.
        if (!m_active) {
            m_active = true;
            emit activeChanged();
        }
        return;
    }
    if (!m_caFile.isEmpty()) {
        QFile f(m_caFile.isLocalFile() ? m_caFile.toLocalFile() : m_caFile.toString());
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        if (f.open(QIODevice::ReadOnly))
            tls.addCaCertificates(QSslCertificate::fromData(f.readAll(), QSsl::Pem));
        else
            qCWarning(lcWsQml) << "cannot read the CA file" << f.fileName();
        m_socket->setSslConfiguration(tls);
    }
    if (!m_active) {
        m_active = true;
        emit activeChanged();
    }
    m_userClosed = false;
    m_socket->open(buildRequest());
}

void WsQmlSocket::setRequestHeaders(const QVariantMap &h)
{
    if (m_headers == h)
        return;
    m_headers = h;
    emit requestHeadersChanged();
}

void WsQmlSocket::setOrigin(const QString &o)
{
    if (m_origin == o)
        return;
    m_origin = o;
    emit originChanged();
}

void WsQmlSocket::setSubprotocols(const QStringList &p)
{
    if (m_subprotocols == p)
        return;
    m_subprotocols = p;
    emit subprotocolsChanged();
}

QString WsQmlSocket::negotiatedSubprotocol() const { return QString::fromUtf8(m_socket->subprotocol()); }

QStringList WsQmlSocket::negotiatedExtensions() const
{
    QStringList out;
    for (const WsExtensionOffer &e : m_socket->extensions())
        out.append(QString::fromUtf8(e.toHeaderValue()));
    return out;
}

void WsQmlSocket::setCompression(bool on)
{
    if (m_options.compression == on)
        return;
    m_options.compression = on;
    emit compressionChanged();
}

void WsQmlSocket::setAutoReconnect(bool on)
{
    if (m_options.reconnect.enabled == on)
        return;
    m_options.reconnect.enabled = on;
    emit autoReconnectChanged();
}

void WsQmlSocket::setReconnectInitialDelay(int ms)
{
    m_options.reconnect.initialDelayMs = ms;
    emit reconnectSettingsChanged();
}

void WsQmlSocket::setReconnectMaxDelay(int ms)
{
    m_options.reconnect.maxDelayMs = ms;
    emit reconnectSettingsChanged();
}

int WsQmlSocket::reconnectAttempts() const { return m_socket->reconnectAttempts(); }

void WsQmlSocket::setPingInterval(int ms)
{
    m_options.pingIntervalMs = ms;
    emit keepaliveChanged();
}

void WsQmlSocket::setPongTimeout(int ms)
{
    m_options.pongTimeoutMs = ms;
    emit keepaliveChanged();
}

qint64 WsQmlSocket::bufferedAmount() const { return m_socket->bufferedAmount(); }

void WsQmlSocket::setIgnoreSslErrors(bool ignore)
{
    if (m_ignoreSslErrors == ignore)
        return;
    m_ignoreSslErrors = ignore;
    emit sslSettingsChanged();
}

void WsQmlSocket::setCaCertificateFile(const QUrl &file)
{
    if (m_caFile == file)
        return;
    m_caFile = file;
    emit sslSettingsChanged();
}

int WsQmlSocket::messagesReceived() const { return int(m_socket->statistics().messagesReceived); }
int WsQmlSocket::messagesSent() const { return int(m_socket->statistics().messagesSent); }
QString WsQmlSocket::peerAddress() const
{
    return m_socket->peerAddress().isNull() ? QString()
                                            : m_socket->peerAddress().toString() + QLatin1Char(':') + QString::number(m_socket->peerPort());
}

bool WsQmlSocket::sendTextMessage(const QString &message)
{
    const bool ok = m_socket->sendTextMessage(message) >= 0;
    emit statisticsChanged();
    emit bufferedAmountChanged();
    return ok;
}

bool WsQmlSocket::sendBinaryMessage(const QByteArray &message)
{
    const bool ok = m_socket->sendBinaryMessage(message) >= 0;
    emit statisticsChanged();
    emit bufferedAmountChanged();
    return ok;
}

bool WsQmlSocket::sendJson(const QJSValue &value)
{
    const QJsonValue v = QJsonValue::fromVariant(value.toVariant());
    if (v.isUndefined())
        return false;
    QByteArray text;
    if (v.isObject()) {
        text = QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
    } else if (v.isArray()) {
        text = QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    } else {
        // A bare value (number, string, null): serialized inside an array, unwrapped.
        text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
        text = text.mid(1, text.size() - 2);
    }
    return sendTextMessage(QString::fromUtf8(text));
}

bool WsQmlSocket::ping(const QString &payload)
{
    return m_socket->ping(payload.toUtf8());
}

QString WsQmlSocket::requestHeader(const QString &name) const
{
    return QString::fromUtf8(m_socket->handshakeRequest().headers.value(name.toUtf8()));
}

void WsQmlSocket::close(int code, const QString &reason)
{
    m_userClosed = true;
    if (m_socket->state() == WsSocket::State::Connecting)
        m_socket->abort();
    else
        m_socket->close(quint16(code), reason);
}
