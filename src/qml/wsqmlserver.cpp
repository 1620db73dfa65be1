#include "wsqmlserver.h"

#include <QtCore/qfile.h>
#include <QtCore/qloggingcategory.h>
#include <QtNetwork/qsslkey.h>

Q_DECLARE_LOGGING_CATEGORY(lcWsQml)

int WsConnectionListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_sockets.size());
}

QVariant WsConnectionListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    WsQmlSocket *s = m_sockets.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case PeerAddressRole: return s->peerAddress();
    case SocketRole: return QVariant::fromValue(s);
    case ConnectionIdRole: return s->connectionId();
    case PathRole: return QString::fromUtf8(s->socket()->handshakeRequest().target);
    default: return QVariant();
    }
}

QHash<int, QByteArray> WsConnectionListModel::roleNames() const
{
    return {{SocketRole, "socket"}, {ConnectionIdRole, "connectionId"}, {PeerAddressRole, "peerAddress"},
            {PathRole, "path"}, {Qt::DisplayRole, "display"}};
}

WsQmlSocket *WsConnectionListModel::get(int row) const
{
    return row >= 0 && row < m_sockets.size() ? m_sockets.at(row) : nullptr;
}

void WsConnectionListModel::append(WsQmlSocket *socket)
{
    beginInsertRows(QModelIndex(), int(m_sockets.size()), int(m_sockets.size()));
    m_sockets.append(socket);
    endInsertRows();
    emit countChanged();
}

void WsConnectionListModel::remove(WsQmlSocket *socket)
{
    const int row = int(m_sockets.indexOf(socket));
    if (row < 0)
        return;
    beginRemoveRows(QModelIndex(), row, row);
    m_sockets.removeAt(row);
    endRemoveRows();
    emit countChanged();
}

WsQmlServer::WsQmlServer(QObject *parent) : QObject(parent)
{
    connect(this, &WsQmlServer::listeningChanged, this, &WsQmlServer::urlChanged);
    connect(this, &WsQmlServer::portChanged, this, &WsQmlServer::urlChanged);
    connect(this, &WsQmlServer::hostChanged, this, &WsQmlServer::urlChanged);
    m_options.pingIntervalMs = 0;
    connect(&m_server, &WsServer::newConnection, this, &WsQmlServer::onNewConnection);
}

WsQmlServer::~WsQmlServer()
{
    for (WsQmlSocket *s : m_connections.sockets())
        s->disconnect(this);
}

void WsQmlServer::componentComplete()
{
    m_complete = true;
    if (m_wantListening)
        start();
}

bool WsQmlServer::start()
{
    m_server.setOptions(m_options);
    QList<QByteArray> p, o;
    for (const QString &s : std::as_const(m_subprotocols))
        p.append(s.toUtf8());
    for (const QString &s : std::as_const(m_origins))
        o.append(s.toUtf8());
    m_server.setSupportedSubprotocols(p);
    m_server.setAllowedOrigins(o);
    if (!m_certFile.isEmpty() || !m_keyFile.isEmpty()) {
        QFile cert(m_certFile.isLocalFile() ? m_certFile.toLocalFile() : m_certFile.toString());
        QFile key(m_keyFile.isLocalFile() ? m_keyFile.toLocalFile() : m_keyFile.toString());
        if (!cert.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly)) {
            setErrorString(QStringLiteral("Cannot read the TLS certificate or key"));
            return false;
        }
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(QSslCertificate(cert.readAll(), QSsl::Pem));
        tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Rsa, QSsl::Pem));
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
        m_server.setSslConfiguration(tls);
        if (!m_server.isSecure()) {
            setErrorString(QStringLiteral("Invalid TLS certificate or key"));
            return false;
        }
    }
    const QHostAddress address = m_host.isEmpty() ? QHostAddress(QHostAddress::Any) : QHostAddress(m_host);
    if (!m_server.listen(address, quint16(m_port))) {
        setErrorString(m_server.errorString());
        emit listeningChanged();
        return false;
    }
    setErrorString(QString());
    emit portChanged();
    emit listeningChanged();
    return true;
}

void WsQmlServer::setErrorString(const QString &s)
{
    if (m_errorString == s)
        return;
    m_errorString = s;
    emit errorStringChanged();
}

void WsQmlServer::onNewConnection()
{
    while (WsSocket *s = m_server.nextPendingConnection()) {
        auto *socket = new WsQmlSocket(s, this);
        s->setParent(socket);
        QQmlEngine::setObjectOwnership(socket, QQmlEngine::CppOwnership);
        connect(socket, &WsQmlSocket::textMessageReceived, this, [this, socket](const QString &m) {
            emit textMessageReceived(socket, m);
        });
        connect(socket, &WsQmlSocket::binaryMessageReceived, this, [this, socket](const QByteArray &m) {
            emit binaryMessageReceived(socket, m);
        });
        connect(socket, &WsQmlSocket::closed, this, [this, socket] {
            m_connections.remove(socket);
            emit connectionCountChanged();
            emit clientDisconnected(socket);
            socket->deleteLater();  // unlike QtWebSockets' QML server, nothing is left behind
        });
        m_connections.append(socket);
        emit connectionCountChanged();
        emit clientConnected(socket);
    }
}

void WsQmlServer::setHost(const QString &host)
{
    if (m_host == host)
        return;
    m_host = host;
    emit hostChanged();
}

int WsQmlServer::port() const
{
    return m_server.isListening() ? m_server.serverPort() : m_port;
}

void WsQmlServer::setPort(int port)
{
    if (m_port == port)
        return;
    m_port = port;
    emit portChanged();
}

void WsQmlServer::setListening(bool listening)
{
    m_wantListening = listening;
    if (!m_complete || listening == m_server.isListening())
        return;
    if (listening) {
        start();
    } else {
        m_server.close();
        emit listeningChanged();
        emit portChanged();
    }
}

QUrl WsQmlServer::url() const
{
    // While stopped, a server with a fixed port keeps its URL, so that bindings to it (and
    // the clients that reconnect to it) stay put across a restart.
    if (!m_server.isListening() && m_port == 0)
        return QUrl();
    QUrl u;
    const bool secure = m_server.isListening() ? m_server.isSecure() : !m_certFile.isEmpty();
    u.setScheme(secure ? QStringLiteral("wss") : QStringLiteral("ws"));
    u.setHost(m_server.isListening() ? m_server.serverAddress().toString() : (m_host.isEmpty() ? QStringLiteral("127.0.0.1") : m_host));
    u.setPort(m_server.isListening() ? m_server.serverPort() : m_port);
    u.setPath(QStringLiteral("/"));
    return u;
}

void WsQmlServer::setCertificateFile(const QUrl &f)
{
    m_certFile = f;
    emit tlsChanged();
}

void WsQmlServer::setPrivateKeyFile(const QUrl &f)
{
    m_keyFile = f;
    emit tlsChanged();
}

void WsQmlServer::setSubprotocols(const QStringList &p)
{
    m_subprotocols = p;
    emit subprotocolsChanged();
}

void WsQmlServer::setAllowedOrigins(const QStringList &o)
{
    m_origins = o;
    emit allowedOriginsChanged();
}

void WsQmlServer::setCompression(bool on)
{
    m_options.compression = on;
    emit compressionChanged();
}

void WsQmlServer::setPingInterval(int ms)
{
    m_options.pingIntervalMs = ms;
    emit pingIntervalChanged();
}

int WsQmlServer::broadcast(const QString &message) { return m_server.broadcastTextMessage(message); }
int WsQmlServer::broadcastBinary(const QByteArray &message) { return m_server.broadcastBinaryMessage(message); }

void WsQmlServer::close()
{
    m_wantListening = false;
    m_server.close();
    emit listeningChanged();
}
