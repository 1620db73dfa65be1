#include "wsserver.h"
#include "wsserver_p.h"
#include "wssocket.h"
#include "wssocket_p.h"

#include <QtCore/qloggingcategory.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qsslsocket.h>

Q_DECLARE_LOGGING_CATEGORY(lcWsNetwork)

WsUpgradeRequest::WsUpgradeRequest(WsSocket *socket, QByteArray defaultSubprotocol)
    : QObject(socket), m_socket(socket), m_defaultSubprotocol(std::move(defaultSubprotocol))
{
}

const WsHandshakeRequest &WsUpgradeRequest::request() const
{
    return m_socket->handshakeRequest();
}

QHostAddress WsUpgradeRequest::peerAddress() const
{
    return m_socket->peerAddress();
}

void WsUpgradeRequest::accept(const QByteArray &subprotocol, const WsHttpHeaders &headers)
{
    if (m_answered)
        return;
    auto *d = m_socket->d_func();
    if (!d->connection || d->connection->state() != WsState::Connecting)
        return;  // the handshake timed out or the client left meanwhile
    m_answered = true;
    const WsError e = d->connection->accept({subprotocol, headers});
    if (e != WsError::NoError) {
        // E.g. a subprotocol the client did not offer: a server-side bug, answered with 500.
        qCWarning(lcWsNetwork) << "accept() failed:" << wsErrorDescription(e);
        d->connection->reject(500);
    }
    d->processEvents();
}

void WsUpgradeRequest::reject(int status, const QByteArray &body, const WsHttpHeaders &headers)
{
    if (m_answered)
        return;
    auto *d = m_socket->d_func();
    if (!d->connection || d->connection->state() != WsState::Connecting)
        return;
    m_answered = true;
    if (d->connection->reject(status, body, headers) != WsError::NoError)
        d->connection->reject(500);
    d->processEvents();
}

WsServer::WsServer(QObject *parent) : QObject(parent), d_ptr(new WsServerPrivate(this))
{
    Q_D(WsServer);
    connect(&d->tcp, &WsTcpServer::descriptorReady, this, [d](qintptr fd) { d->onDescriptor(fd); });
    connect(&d->tcp, &QTcpServer::acceptError, this, &WsServer::acceptError);
    d->closeTimer.setSingleShot(true);
    connect(&d->closeTimer, &QTimer::timeout, this, [d] {
        // Connections that did not finish their close handshake in time are dropped.
        const auto sockets = d->all;
        for (WsSocket *s : sockets)
            s->abort();
        d->checkClosed();
    });
}

WsServer::~WsServer()
{
    Q_D(WsServer);
    d->tcp.close();
    const auto sockets = d->all;
    for (WsSocket *s : sockets)
        s->disconnect(this);
}

void WsServer::setOptions(const WsSocketOptions &options) { d_func()->options = options; }
WsSocketOptions WsServer::options() const { return d_func()->options; }

void WsServer::setSslConfiguration(const QSslConfiguration &configuration)
{
    Q_D(WsServer);
    d->sslConfiguration = configuration;
    d->secure = !configuration.localCertificate().isNull() && !configuration.privateKey().isNull();
}

QSslConfiguration WsServer::sslConfiguration() const { return d_func()->sslConfiguration; }
bool WsServer::isSecure() const { return d_func()->secure; }
void WsServer::setSupportedSubprotocols(const QList<QByteArray> &p) { d_func()->subprotocols = p; }
QList<QByteArray> WsServer::supportedSubprotocols() const { return d_func()->subprotocols; }
void WsServer::setAllowedOrigins(const QList<QByteArray> &o) { d_func()->allowedOrigins = o; }
QList<QByteArray> WsServer::allowedOrigins() const { return d_func()->allowedOrigins; }
void WsServer::setMaxConnections(int max) { d_func()->maxConnections = max; }
int WsServer::maxConnections() const { return d_func()->maxConnections; }
void WsServer::setMaxPendingConnections(int max) { d_func()->maxPending = max; }
int WsServer::maxPendingConnections() const { return d_func()->maxPending; }
void WsServer::setHttpHandler(HttpHandler handler) { d_func()->httpHandler = std::move(handler); }

bool WsServer::listen(const QHostAddress &address, quint16 port)
{
    Q_D(WsServer);
    d->closing = false;
    const bool ok = d->tcp.listen(address, port);
    if (ok)
        emit listeningChanged();
    return ok;
}

bool WsServer::isListening() const { return d_func()->tcp.isListening(); }
QHostAddress WsServer::serverAddress() const { return d_func()->tcp.serverAddress(); }
quint16 WsServer::serverPort() const { return d_func()->tcp.serverPort(); }
QString WsServer::errorString() const { return d_func()->tcp.errorString(); }

void WsServer::close()
{
    Q_D(WsServer);
    const bool wasListening = d->tcp.isListening();
    d->tcp.close();
    if (wasListening)
        emit listeningChanged();
    d->closing = true;
    const auto sockets = d->all;
    for (WsSocket *s : sockets) {
        if (s->state() == WsSocket::State::Open)
            s->close(WsCloseCode::GoingAway, QStringLiteral("server shutting down"));
        else if (s->state() == WsSocket::State::Connecting)
            s->abort();
    }
    d->closeTimer.start(d->options.closeTimeoutMs + 500);
    d->checkClosed();
}

void WsServerPrivate::checkClosed()
{
    Q_Q(WsServer);
    if (closing && all.isEmpty()) {
        closing = false;
        closeTimer.stop();
        emit q->closed();
    }
}

void WsServerPrivate::onDescriptor(qintptr descriptor)
{
    Q_Q(WsServer);
    QTcpSocket *transport;
    if (secure) {
        auto *ssl = new QSslSocket;
        transport = ssl;
        if (!ssl->setSocketDescriptor(descriptor)) {
            delete ssl;
            return;
        }
        ssl->setSslConfiguration(sslConfiguration);
        ssl->startServerEncryption();
    } else {
        transport = new QTcpSocket;
        if (!transport->setSocketDescriptor(descriptor)) {
            delete transport;
            return;
        }
    }
    if ((maxConnections > 0 && all.size() >= maxConnections) || closing) {
        // Over capacity: answer 503 once the request arrives is more than we owe; say so now.
        transport->setParent(q);
        transport->write(wsHandshakeRejection(503).toBytes());
        transport->disconnectFromHost();
        QObject::connect(transport, &QTcpSocket::disconnected, transport, &QObject::deleteLater);
        return;
    }
    auto *socket = new WsSocket(q);
    WsSocketOptions o = options;
    auto *sd = socket->d_func();
    sd->startServer(transport, o, q, bool(httpHandler));
    all.append(socket);
    QObject::connect(socket, &WsSocket::connected, q, [this, socket] { onConnected(socket); });
    QObject::connect(socket, &WsSocket::closed, q, [this, socket] { onSocketClosed(socket); });
    QObject::connect(socket, &QObject::destroyed, q, [this, socket] {
        all.removeOne(socket);
        checkClosed();
    });
    emit q->connectionCountChanged();
}

void WsServerPrivate::handleUpgrade(WsSocket *socket)
{
    Q_Q(WsServer);
    auto *sd = socket->d_func();
    WsConnection &c = *sd->connection;
    if (c.state() != WsState::Connecting)
        return;  // failed in the same breath (e.g. too much data behind the request)
    const WsHandshakeRequest &r = c.request();

    if (c.isPlainHttpRequest()) {
        WsHandshakeResponse response;
        if (httpHandler && httpHandler(r, &response))
            c.reject(response.status ? response.status : 200, response.body, response.headers);
        else
            c.reject(426, QByteArray(), WsHttpHeaders());
        return;
    }
    // Built-in policy first: origins (RFC 6455 §10.2), then capacity.
    if (!allowedOrigins.isEmpty() && !allowedOrigins.contains(r.origin())) {
        c.reject(403, "Origin not allowed\n");
        return;
    }
    if (maxPending > 0 && pending.size() >= maxPending) {
        c.reject(503, "Too many pending connections\n");
        return;
    }
    QByteArray chosen;
    const QList<QByteArray> offered = r.subprotocols();
    for (const QByteArray &p : std::as_const(subprotocols)) {
        if (offered.contains(p)) {
            chosen = p;
            break;
        }
    }
    auto *request = new WsUpgradeRequest(socket, chosen);
    emit q->upgradeRequested(request);
    if (!request->isAnswered() && !request->isDeferred())
        request->accept();
    if (request->isAnswered())
        request->deleteLater();
    else
        QObject::connect(socket, &WsSocket::closed, request, &QObject::deleteLater);
}

void WsServerPrivate::onConnected(WsSocket *socket)
{
    Q_Q(WsServer);
    pending.append(socket);
    emit q->newConnection();
}

void WsServerPrivate::onSocketClosed(WsSocket *socket)
{
    Q_Q(WsServer);
    pending.removeAll(socket);
    // A socket nobody took is ours to delete; one the application took is its own.
    if (socket->parent() == q && !socket->property("_wskit_taken").toBool())
        socket->deleteLater();
    all.removeOne(socket);
    emit q->connectionCountChanged();
    checkClosed();
}

bool WsServer::hasPendingConnections() const
{
    Q_D(const WsServer);
    for (const auto &p : d->pending)
        if (p && p->state() == WsSocket::State::Open)
            return true;
    return false;
}

WsSocket *WsServer::nextPendingConnection()
{
    Q_D(WsServer);
    while (!d->pending.isEmpty()) {
        QPointer<WsSocket> s = d->pending.takeFirst();
        if (s && s->state() == WsSocket::State::Open) {
            s->setProperty("_wskit_taken", true);
            return s;
        }
    }
    return nullptr;
}

QList<WsSocket *> WsServer::connections() const
{
    Q_D(const WsServer);
    QList<WsSocket *> open;
    for (WsSocket *s : d->all)
        if (s->state() == WsSocket::State::Open)
            open.append(s);
    return open;
}

int WsServer::connectionCount() const { return int(connections().size()); }

int WsServerPrivate::broadcast(const WsPreparedMessage &message)
{
    int n = 0;
    for (WsSocket *s : std::as_const(all)) {
        auto *sd = s->d_func();
        // Back-pressure: a client over its write limit is skipped, and the count returned says so.
        if (s->state() != WsSocket::State::Open || !sd->canQueue())
            continue;
        if (sd->connection->sendPrepared(message) == WsError::NoError) {
            ++sd->stats.messagesSent;
            sd->flush();
            ++n;
        }
    }
    return n;
}

int WsServer::broadcastTextMessage(const QString &message)
{
    return d_func()->broadcast(WsConnection::prepareMessage(WsOpcode::Text, message.toUtf8()));
}

int WsServer::broadcastBinaryMessage(const QByteArray &message)
{
    return d_func()->broadcast(WsConnection::prepareMessage(WsOpcode::Binary, message));
}
