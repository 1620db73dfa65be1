#include "wsserver.h"
#include "wsserver_p.h"
#include "wssocket.h"
#include "wssocket_p.h"

#include <QtCore/qloggingcategory.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qthread.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qsslsocket.h>

#include <algorithm>

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

void WsServerPrivate::acceptOn(WsSocket *socket, const QByteArray &subprotocol, const WsHttpHeaders &headers)
{
    auto *d = socket->d_func();
    if (!d->connection || d->connection->state() != WsState::Connecting)
        return;  // the handshake timed out or the client left meanwhile
    const WsError e = d->connection->accept({subprotocol, headers});
    if (e != WsError::NoError) {
        // E.g. a subprotocol the client did not offer: a server-side bug, answered with 500.
        qCWarning(lcWsNetwork) << "accept() failed:" << wsErrorDescription(e);
        d->connection->reject(500);
    }
    d->processEvents();
}

void WsServerPrivate::rejectOn(WsSocket *socket, int status, const QByteArray &body, const WsHttpHeaders &headers)
{
    auto *d = socket->d_func();
    if (!d->connection || d->connection->state() != WsState::Connecting)
        return;
    if (d->connection->reject(status, body, headers) != WsError::NoError)
        d->connection->reject(500);
    d->processEvents();
}

void WsUpgradeRequest::accept(const QByteArray &subprotocol, const WsHttpHeaders &headers)
{
    answer([subprotocol, headers](WsSocket *s) { WsServerPrivate::acceptOn(s, subprotocol, headers); });
}

void WsUpgradeRequest::reject(int status, const QByteArray &body, const WsHttpHeaders &headers)
{
    answer([status, body, headers](WsSocket *s) { WsServerPrivate::rejectOn(s, status, body, headers); });
}

void WsUpgradeRequest::answer(std::function<void(WsSocket *)> fn)
{
    if (m_answered)
        return;
    if (QThread::currentThread() == m_socket->thread()) {
        m_answered = true;
        fn(m_socket);
        return;
    }
    // Answered from another thread than the connection's worker: hand it over, unless the
    // connection has gone meanwhile.
    QMutexLocker lock(&m_server->mutex);
    if (m_answered || m_server->serials.value(m_socket) != m_serial)
        return;
    m_answered = true;
    WsSocket *socket = m_socket;
    WsServerPrivate::inSocketThread(socket, [socket, fn] { fn(socket); });
}

WsServer::WsServer(QObject *parent) : QObject(parent), d_ptr(new WsServerPrivate(this))
{
    Q_D(WsServer);
    connect(&d->tcp, &WsTcpServer::descriptorReady, this, [d](qintptr fd) { d->onDescriptor(fd); });
    connect(&d->tcp, &QTcpServer::acceptError, this, &WsServer::acceptError);
    d->closeTimer.setSingleShot(true);
    connect(&d->closeTimer, &QTimer::timeout, this, [d] {
        // Connections that did not finish their close handshake in time are dropped.
        QMutexLocker lock(&d->mutex);
        const auto sockets = d->all;
        for (WsSocket *s : sockets)
            WsServerPrivate::inSocketThread(s, [s] { s->abort(); });
        lock.unlock();
        d->checkClosed();
    });
}

WsServer::~WsServer()
{
    Q_D(WsServer);
    d->tcp.close();
    d->closeTimer.stop();
    if (d->threaded()) {
        // Each worker deletes its connections as its thread ends; the bookkeeping that named
        // them is not needed any more.
        d->stopWorkers();
        QMutexLocker lock(&d->mutex);
        d->all.clear();
        d->pending.clear();
        d->open.clear();
        d->taken.clear();
        d->serials.clear();
        d->workerOf.clear();
        return;
    }
    const auto sockets = d->all;
    for (WsSocket *s : sockets)
        s->disconnect(this);
}

void WsServer::setWorkerThreads(int count)
{
    Q_D(WsServer);
    count = std::max(0, count);
    if (count == d->workerCount)
        return;
    if (isListening() || !d->all.isEmpty()) {
        qCWarning(lcWsNetwork, "setWorkerThreads(): call it before listen(), with no connections");
        return;
    }
    d->stopWorkers();
    d->workerCount = count;
}

int WsServer::workerThreads() const { return d_func()->workerCount; }

void WsServer::setOptions(const WsSocketOptions &options) { d_func()->options = options; }
WsSocketOptions WsServer::options() const { return d_func()->options; }

void WsServer::setSslConfiguration(const QSslConfiguration &configuration)
{
    Q_D(WsServer);
    d->sslConfiguration = configuration;
    d->secure = !configuration.localCertificate().isNull() && !configuration.privateKey().isNull();
}

QSslConfiguration WsServer::sslConfiguration() const
{
    Q_D(const WsServer);
    return d->sslConfiguration ? *d->sslConfiguration : QSslConfiguration();
}
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
void WsServer::setConnectionHandler(ConnectionHandler handler) { d_func()->connectionHandler = std::move(handler); }

bool WsServer::listen(const QHostAddress &address, quint16 port)
{
    Q_D(WsServer);
    d->closing = false;
    if (d->workerCount > 0 && d->workers.empty())
        d->startWorkers();
    // Qt's default backlog (50) drops SYNs in a burst of connects: each dropped one waits a
    // second for the kernel to retry. The kernel caps this at net.core.somaxconn.
    d->tcp.setListenBacklogSize(1024);
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
    {
        QMutexLocker lock(&d->mutex);
        const auto sockets = d->all;
        for (WsSocket *s : sockets) {
            WsServerPrivate::inSocketThread(s, [d, s] {
                if (s->d_func()->held && d->dropHeld(s))
                    s->d_func()->release();
                if (s->state() == WsSocket::State::Open)
                    s->close(WsCloseCode::GoingAway, QStringLiteral("server shutting down"));
                else if (s->state() == WsSocket::State::Connecting)
                    s->abort();
            });
        }
    }
    d->closeTimer.start(d->options.closeTimeoutMs + 500);
    d->checkClosed();
}

void WsServerPrivate::startWorkers()
{
    for (int i = 0; i < workerCount; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("WsServer worker %1").arg(i));
        auto *worker = new WsServerWorker;
        worker->moveToThread(thread);
        QObject::connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        thread->start();
        threads.push_back(thread);
        workers.push_back(worker);
    }
}

void WsServerPrivate::stopWorkers()
{
    for (QThread *t : threads)
        t->quit();
    for (QThread *t : threads) {
        t->wait();
        delete t;
    }
    threads.clear();
    workers.clear();
}

void WsServerPrivate::inServerThread(std::function<void()> fn)
{
    Q_Q(WsServer);
    if (QThread::currentThread() == q->thread())
        fn();
    else
        QMetaObject::invokeMethod(q, std::move(fn), Qt::QueuedConnection);
}

void WsServerPrivate::inSocketThread(WsSocket *socket, std::function<void()> fn)
{
    if (QThread::currentThread() == socket->thread())
        fn();
    else
        QMetaObject::invokeMethod(socket, std::move(fn), Qt::QueuedConnection);
}

bool WsServerPrivate::dropHeld(WsSocket *socket)
{
    QMutexLocker lock(&mutex);
    if (taken.contains(socket))
        return false;  // the application has it: it releases it
    pending.removeAll(socket);
    return true;
}

void WsServerPrivate::checkClosed()
{
    Q_Q(WsServer);
    bool done;
    {
        QMutexLocker lock(&mutex);
        done = closing && all.isEmpty() && incoming == 0;
    }
    if (done) {
        closing = false;
        closeTimer.stop();
        emit q->closed();
    }
}

void WsServerPrivate::onDescriptor(qintptr descriptor)
{
    Q_Q(WsServer);
    int live;
    {
        QMutexLocker lock(&mutex);
        live = int(all.size()) + incoming;
    }
    if ((maxConnections > 0 && live >= maxConnections) || closing) {
        // Over capacity: answer 503 once the request arrives is more than we owe; say so now.
        auto *transport = new QTcpSocket(q);
        if (!transport->setSocketDescriptor(descriptor)) {
            delete transport;
            return;
        }
        transport->write(wsHandshakeRejection(503).toBytes());
        transport->disconnectFromHost();
        QObject::connect(transport, &QTcpSocket::disconnected, transport, &QObject::deleteLater);
        return;
    }
    if (!threaded()) {
        createConnection(descriptor, q);
        return;
    }
    // The least busy worker takes it; the socket is created in its thread.
    WsServerWorker *worker = *std::min_element(workers.begin(), workers.end(),
                                               [](WsServerWorker *a, WsServerWorker *b) { return a->load < b->load; });
    worker->load.fetchAndAddRelaxed(1);
    {
        QMutexLocker lock(&mutex);
        ++incoming;
    }
    QMetaObject::invokeMethod(worker, [this, descriptor, worker] { createConnection(descriptor, worker); },
                              Qt::QueuedConnection);
}

void WsServerPrivate::createConnection(qintptr descriptor, QObject *owner)
{
    Q_Q(WsServer);
    auto *worker = qobject_cast<WsServerWorker *>(owner);
    const auto arrived = [this, worker] {
        if (!worker)
            return;
        QMutexLocker lock(&mutex);
        --incoming;
    };
    QTcpSocket *transport;
    if (secure) {
        auto *ssl = new QSslSocket;
        transport = ssl;
        if (!ssl->setSocketDescriptor(descriptor)) {
            delete ssl;
            arrived();
            if (worker)
                worker->load.fetchAndSubRelaxed(1);
            return;
        }
        ssl->setSslConfiguration(*sslConfiguration);
        ssl->startServerEncryption();
    } else {
        transport = new QTcpSocket;
        if (!transport->setSocketDescriptor(descriptor)) {
            delete transport;
            arrived();
            if (worker)
                worker->load.fetchAndSubRelaxed(1);
            return;
        }
    }
    auto *socket = new WsSocket(owner);
    auto *sd = socket->d_func();
    sd->startServer(transport, options, q, bool(httpHandler));
    {
        QMutexLocker lock(&mutex);
        arrived();
        all.append(socket);
        serials.insert(socket, ++nextSerial);
        if (worker)
            workerOf.insert(socket, worker);
    }
    // Bookkeeping runs in the socket's thread, before the application's slots.
    QObject::connect(socket, &WsSocket::connected, owner, [this, socket] { onConnected(socket); });
    QObject::connect(socket, &WsSocket::closed, owner, [this, socket] { onSocketClosed(socket); });
    QObject::connect(socket, &QObject::destroyed, owner, [this, socket] { onSocketDestroyed(socket); });
    inServerThread([q] { emit q->connectionCountChanged(); });
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
    quint64 serial;
    {
        QMutexLocker lock(&mutex);
        // Connections still on their way to newConnection() do not count: the application
        // has not had a chance to take them yet.
        if (maxPending > 0 && pending.size() - unannounced >= maxPending) {
            c.reject(503, "Too many pending connections\n");
            return;
        }
        serial = serials.value(socket);
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
    request->m_server = this;
    request->m_serial = serial;
    if (QThread::currentThread() != q->thread()) {
        if (!q->isSignalConnected(QMetaMethod::fromSignal(&WsServer::upgradeRequested))) {
            request->accept();
            request->deleteLater();
            return;
        }
        // Asked in the server's thread, like every other signal; the connection waits.
        // The request lives as long as its socket, which the serial check vouches for.
        inServerThread([this, request, socket, serial] { emitUpgradeRequested(request, socket, serial); });
        return;
    }
    emit q->upgradeRequested(request);
    if (!request->isAnswered() && !request->isDeferred())
        request->accept();
    if (request->isAnswered())
        request->deleteLater();
    else
        QObject::connect(socket, &WsSocket::closed, request, &QObject::deleteLater);
}

void WsServerPrivate::emitUpgradeRequested(WsUpgradeRequest *request, WsSocket *socket, quint64 serial)
{
    Q_Q(WsServer);
    QMutexLocker lock(&mutex);  // recursive: slots may call back into the server
    if (serials.value(socket) != serial)
        return;  // gone meanwhile, and the request with it
    emit q->upgradeRequested(request);
    if (!request->isAnswered() && !request->isDeferred())
        request->accept();
    if (request->isAnswered())
        request->deleteLater();
}

void WsServerPrivate::onConnected(WsSocket *socket)
{
    Q_Q(WsServer);
    if (connectionHandler) {
        // Handed over at once, in the socket's thread: no queue, no hop.
        {
            QMutexLocker lock(&mutex);
            open.insert(socket);
            taken.insert(socket);
        }
        connectionHandler(socket);
        return;
    }
    {
        QMutexLocker lock(&mutex);
        pending.append(socket);
        open.insert(socket);
        if (threaded())
            ++unannounced;
    }
    if (!threaded()) {
        emit q->newConnection();
        return;
    }
    // The application takes it in the server's thread: until then it waits, held.
    socket->d_func()->held = true;
    inServerThread([this, q] {
        {
            QMutexLocker lock(&mutex);
            --unannounced;
        }
        emit q->newConnection();
    });
}

void WsServerPrivate::onSocketClosed(WsSocket *socket)
{
    Q_Q(WsServer);
    bool ours;
    {
        QMutexLocker lock(&mutex);
        pending.removeAll(socket);
        open.remove(socket);
        all.removeOne(socket);
        // A socket nobody took is ours to delete; one the application took is its own.
        ours = !taken.contains(socket);
    }
    if (ours)
        socket->deleteLater();
    inServerThread([this, q] {
        emit q->connectionCountChanged();
        checkClosed();
    });
}

void WsServerPrivate::onSocketDestroyed(WsSocket *socket)
{
    WsServerWorker *worker;
    {
        QMutexLocker lock(&mutex);
        all.removeOne(socket);
        pending.removeAll(socket);
        open.remove(socket);
        taken.remove(socket);
        serials.remove(socket);
        worker = workerOf.take(socket);
    }
    if (worker)
        worker->load.fetchAndSubRelaxed(1);
    inServerThread([this] { checkClosed(); });
}

bool WsServer::hasPendingConnections() const
{
    Q_D(const WsServer);
    QMutexLocker lock(&d->mutex);
    for (WsSocket *p : d->pending)
        if (d->open.contains(p))
            return true;
    return false;
}

WsSocket *WsServer::nextPendingConnection()
{
    Q_D(WsServer);
    QMutexLocker lock(&d->mutex);
    while (!d->pending.isEmpty()) {
        WsSocket *s = d->pending.takeFirst();
        if (!d->open.contains(s))
            continue;
        d->taken.insert(s);
        if (d->threaded()) {
            // Released once the caller is back in the event loop, its slots connected.
            const quint64 serial = d->serials.value(s);
            QMetaObject::invokeMethod(this, [d, s, serial] {
                QMutexLocker lock(&d->mutex);
                if (d->serials.value(s) == serial)
                    WsServerPrivate::inSocketThread(s, [s] { s->d_func()->release(); });
            }, Qt::QueuedConnection);
        }
        return s;
    }
    return nullptr;
}

QList<WsSocket *> WsServer::connections() const
{
    Q_D(const WsServer);
    QMutexLocker lock(&d->mutex);
    QList<WsSocket *> result;
    for (WsSocket *s : d->all)
        if (d->open.contains(s))
            result.append(s);
    return result;
}

int WsServer::connectionCount() const
{
    Q_D(const WsServer);
    QMutexLocker lock(&d->mutex);
    return int(d->open.size());
}

bool WsServerPrivate::sendPreparedOn(WsSocket *s, const WsPreparedMessage &message)
{
    auto *sd = s->d_func();
    // Back-pressure: a client over its write limit is skipped, and the count returned says so.
    if (s->state() != WsSocket::State::Open || !sd->canQueue())
        return false;
    if (sd->connection->sendPrepared(message) != WsError::NoError)
        return false;
    ++sd->stats.messagesSent;
    sd->flush();
    return true;
}

int WsServerPrivate::broadcast(const WsPreparedMessage &message)
{
    QMutexLocker lock(&mutex);
    const auto sockets = all;
    if (threaded()) {
        // Each worker sends to its own connections; the frame is encoded once and shared.
        int n = 0;
        for (WsSocket *s : sockets) {
            if (!open.contains(s))
                continue;
            inSocketThread(s, [s, message] { sendPreparedOn(s, message); });
            ++n;
        }
        return n;
    }
    lock.unlock();
    int n = 0;
    for (WsSocket *s : sockets)
        n += sendPreparedOn(s, message) ? 1 : 0;
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
