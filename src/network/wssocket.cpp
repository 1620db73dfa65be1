#include "wssocket.h"
#include "wssocket_p.h"
#include "wsserver_p.h"

#include <wsbufferpool.h>

#include <QtCore/qcoreevent.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qrandom.h>
#include <QtCore/qthread.h>
#include <QtNetwork/qsslsocket.h>
#include <QtNetwork/qtcpsocket.h>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <cerrno>
#endif

Q_LOGGING_CATEGORY(lcWsNetwork, "wskit.network", QtInfoMsg)

static int registerTypes()
{
    qRegisterMetaType<WsError>();
    qRegisterMetaType<WsCloseStatus>();
    qRegisterMetaType<WsHandshakeResponse>();
    qRegisterMetaType<WsFrameInfo>();
    return 0;
}
Q_CONSTRUCTOR_FUNCTION(registerTypes)

WsSocketPrivate::WsSocketPrivate(WsSocket *q) : q_ptr(q)
{
    clock.start();
}

WsConnectionOptions WsSocketPrivate::connectionOptions(const WsSocketOptions &o)
{
    WsConnectionOptions c;
    c.limits = o.limits;
    c.streamMessages = o.streamMessages;
    c.outgoingFrameSize = o.outgoingFrameSize;
    c.extensions = o.extensions;
    if (o.compression)
        c.extensions.prepend(std::make_shared<WsDeflateFactory>(o.deflate));
    return c;
}

WsSocket::WsSocket(QObject *parent) : QObject(parent), d_ptr(new WsSocketPrivate(this))
{
}

// The socket's timers are QBasicTimers (an int each, no QObject, no connection): one socket
// per connection, thousands of them on a server.
void WsSocket::timerEvent(QTimerEvent *event)
{
    Q_D(WsSocket);
    const int id = event->timerId();
    if (id == d->handshakeTimer.timerId()) {
        d->handshakeTimer.stop();
        d->failLocally(WsError::HandshakeTimeout, WsCloseCode::InternalError, QString());
    } else if (id == d->closeTimer.timerId()) {
        d->closeTimer.stop();
        // The peer did not finish the close handshake (or its TCP close) in time: drop it.
        qCDebug(lcWsNetwork) << "close timeout, dropping the connection";
        if (!d->coreClosed)
            d->setError(WsError::CloseTimeout, wsErrorDescription(WsError::CloseTimeout));
        if (d->transport)
            d->transport->abort();
    } else if (id == d->pingTimer.timerId()) {
        d->sendKeepalivePing();  // periodic
    } else if (id == d->reconnectTimer.timerId()) {
        d->reconnectTimer.stop();
        d->startClient(d->request, d->request.maxRedirects);
    } else if (id == d->pongTimer.timerId()) {
        d->pongTimer.stop();
        // Like Python websockets: a missing pong fails the connection with 1011.
        d->failLocally(WsError::PingTimeout, WsCloseCode::InternalError, QStringLiteral("keepalive ping timeout"));
    } else {
        QObject::timerEvent(event);
    }
}

WsSocket::~WsSocket()
{
    Q_D(WsSocket);
    if (d->transport) {
        d->transport->disconnect(this);
        d->transport->abort();
    }
}

void WsSocket::setOptions(const WsSocketOptions &options) { d_func()->options = options; }
WsSocketOptions WsSocket::options() const { return d_func()->options; }

void WsSocket::setSslConfiguration(const QSslConfiguration &configuration)
{
    Q_D(WsSocket);
    d->sslConfiguration = configuration;
}

QSslConfiguration WsSocket::sslConfiguration() const
{
    Q_D(const WsSocket);
    return d->sslConfiguration ? *d->sslConfiguration : QSslConfiguration::defaultConfiguration();
}

QSslConfiguration WsSocket::sessionSslConfiguration() const
{
    Q_D(const WsSocket);
    const auto *ssl = qobject_cast<const QSslSocket *>(d->transport);
    return ssl && ssl->isEncrypted() ? ssl->sslConfiguration() : QSslConfiguration();
}

void WsSocket::open(const QUrl &url)
{
    WsRequest r;
    r.url = url;
    r.options = d_func()->options;
    open(r);
}

void WsSocket::open(const WsRequest &request)
{
    Q_D(WsSocket);
    d->reconnectTimer.stop();
    d->reconnectAttempts = 0;
    d->startClient(request, request.maxRedirects);
}

void WsSocketPrivate::startClient(const WsRequest &r, int redirects)
{
    Q_Q(WsSocket);
    if (transport) {
        detachTransport();
    }
    role = WsRole::Client;
    request = r;
    redirectsLeft = redirects;
    stats = WsSocketStatistics();
    error = WsError::NoError;
    errorString.clear();
    closeStatus = WsCloseStatus();
    coreClosed = finished = aborting = readingPaused = closeRequested = false;
    pendingPings.clear();
    keepalivePing.clear();
    connection = std::make_unique<WsConnection>(WsRole::Client, connectionOptions(r.options));
    installObserver();
    setState(WsSocket::State::Connecting);

    const QString scheme = r.url.scheme().toLower();
    const bool secure = scheme == QLatin1String("wss") || scheme == QLatin1String("https");
    const bool plain = scheme == QLatin1String("ws") || scheme == QLatin1String("http");
    if ((!secure && !plain) || r.url.host().isEmpty()) {
        setError(WsError::InvalidArgument, QStringLiteral("Invalid WebSocket URL: %1").arg(r.url.toString()));
        connection->transportClosed();
        processEvents();
        finish();
        return;
    }
    const quint16 port = quint16(r.url.port(secure ? 443 : 80));
    handshakeTimer.start(r.options.handshakeTimeoutMs, q_ptr);
    QTcpSocket *socket;
    if (secure) {
        auto *ssl = new QSslSocket(q);
        if (sslConfiguration)
            ssl->setSslConfiguration(*sslConfiguration);
        QObject::connect(ssl, &QSslSocket::encrypted, q, [this] { onTransportReady(); });
        QObject::connect(ssl, &QSslSocket::sslErrors, q, [q](const QList<QSslError> &errors) {
            emit q->sslErrors(errors);
        });
        socket = ssl;
    } else {
        socket = new QTcpSocket(q);
        QObject::connect(socket, &QTcpSocket::connected, q, [this] { onTransportReady(); });
    }
    socket->setProxy(r.proxy);
    directWrites = !secure && r.proxy.type() == QNetworkProxy::NoProxy;
    attachTransport(socket);
    qCDebug(lcWsNetwork) << "connecting to" << r.url.host() << port << (secure ? "(TLS)" : "");
    if (secure)
        static_cast<QSslSocket *>(socket)->connectToHostEncrypted(r.url.host(), port);
    else
        socket->connectToHost(r.url.host(), port);
}

void WsSocketPrivate::startServer(QTcpSocket *socket, const WsSocketOptions &o, WsServer *srv,
                                  bool deliverPlainHttp)
{
    Q_Q(WsSocket);
    role = WsRole::Server;
    options = o;
    request.options = o;
    server = srv;
    WsConnectionOptions co = connectionOptions(o);
    co.deliverPlainHttp = deliverPlainHttp;
    connection = std::make_unique<WsConnection>(WsRole::Server, co);
    installObserver();
    socket->setParent(q);
    directWrites = !qobject_cast<QSslSocket *>(socket);
    attachTransport(socket);
    setState(WsSocket::State::Connecting);
    handshakeTimer.start(o.handshakeTimeoutMs, q_ptr);
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(q, [this] { onReadyRead(); }, Qt::QueuedConnection);
}

void WsSocketPrivate::attachTransport(QTcpSocket *socket)
{
    Q_Q(WsSocket);
    transport = socket;
    socket->setReadBufferSize(request.options.readBufferSize);
    QObject::connect(socket, &QTcpSocket::readyRead, q, [this] { onReadyRead(); });
    QObject::connect(socket, &QTcpSocket::bytesWritten, q, [this](qint64 n) { onBytesWritten(n); });
    QObject::connect(socket, &QTcpSocket::errorOccurred, q,
                     [this](QAbstractSocket::SocketError e) { onSocketError(e); });
    QObject::connect(socket, &QTcpSocket::stateChanged, q, [this](QAbstractSocket::SocketState s) {
        if (s == QAbstractSocket::UnconnectedState)
            onTransportGone();
    });
}

void WsSocketPrivate::detachTransport()
{
    Q_Q(WsSocket);
    if (!transport)
        return;
    transport->disconnect(q);
    transport->abort();
    transport->deleteLater();
    transport = nullptr;
}

void WsSocketPrivate::onTransportReady()
{
    // TCP (and TLS) are up: send the opening handshake.
    const QUrl &url = request.url;
    WsClientHandshake hs;
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';  // IPv6 literal
    const bool secure = transport->inherits("QSslSocket");
    const int port = url.port();
    if (port != -1 && port != (secure ? 443 : 80))
        host += ':' + QByteArray::number(port);
    hs.host = host;
    hs.target = url.path(QUrl::FullyEncoded).toLatin1();
    if (hs.target.isEmpty())
        hs.target = "/";
    if (url.hasQuery())
        hs.target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    hs.origin = request.origin;
    hs.subprotocols = request.subprotocols;
    hs.headers = request.headers;
    const WsError e = connection->startHandshake(hs);
    if (e != WsError::NoError) {
        setError(e, wsErrorDescription(e) + QStringLiteral(" (request headers)"));
        aborting = true;
        transport->abort();
        return;
    }
    flush();
}

void WsSocketPrivate::onReadyRead()
{
    Q_Q(WsSocket);
    if (held)
        return;
    QPointer<WsSocket> guard(q);
    if (!unread.isEmpty()) {
        // What was read before the application paused reading comes first.
        const QByteArray earlier = std::exchange(unread, QByteArray());
        if (!feed(earlier) || !guard)
            return;
    }
    // One read buffer per thread, shared by its sockets: the core copies what it keeps
    // before the next read, and an idle connection holds none.
    thread_local QByteArray buffer;
    const qsizetype chunk = qsizetype(std::clamp<qint64>(request.options.readBufferSize, 4096, 1 << 20));
    if (buffer.size() < chunk)
        buffer.resize(chunk);
    while (transport && !readingPaused && !held && unread.isEmpty()) {
        const qint64 n = transport->read(buffer.data(), chunk);
        if (n <= 0)
            break;
        stats.bytesReceived += n;
        if (!feed(QByteArrayView(buffer.constData(), qsizetype(n))) || !guard)
            return;
        if (n < chunk)
            break;  // drained
    }
    flush();
}

bool WsSocketPrivate::feed(QByteArrayView data)
{
    // Event by event: the slots answer a message before the core reads on, so that an echo
    // precedes the close reply (or the failure) that bytes further on cause.
    Q_Q(WsSocket);
    QPointer<WsSocket> guard(q);
    while (connection && (!data.isEmpty() || connection->hasDeferredInput())) {
        const bool deferred = connection->hasDeferredInput();
        const qsizetype used = std::clamp<qsizetype>(connection->receiveSome(data), 0, data.size());
        if (used == 0 && !deferred && !data.isEmpty())
            break;  // no progress: cannot happen, never spin on it
        data = data.sliced(used);
        if (!processEvents(false) || !guard)
            return false;
        if ((readingPaused || held) && !data.isEmpty()) {
            unread = data.toByteArray();  // kept for resumeReading()
            break;
        }
    }
    return true;
}

void WsSocketPrivate::onSocketError(QAbstractSocket::SocketError e)
{
    if (aborting || e == QAbstractSocket::RemoteHostClosedError)
        return;  // the end of the stream: onTransportGone() reports it
    WsError we = WsError::NetworkError;
    switch (e) {
    case QAbstractSocket::ConnectionRefusedError: we = WsError::ConnectionRefused; break;
    case QAbstractSocket::HostNotFoundError: we = WsError::HostNotFound; break;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError: we = WsError::TlsError; break;
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
    case QAbstractSocket::ProxyAuthenticationRequiredError: we = WsError::ProxyError; break;
    case QAbstractSocket::SocketAccessError:
        // What Qt reports when an HTTP proxy answers CONNECT with 403/405.
        if (transport && transport->proxy().type() != QNetworkProxy::NoProxy)
            we = WsError::ProxyError;
        break;
    default: break;
    }
    setError(we, transport ? transport->errorString() : wsErrorDescription(we));
}

void WsSocketPrivate::onTransportGone()
{
    if (!transport || !connection)
        return;
    if (held) {
        Q_Q(WsSocket);
        if (!server || !WsServerPrivate::get(server)->dropHeld(q)) {
            goneWhileHeld = true;  // taken: the release reports it
            return;
        }
        held = false;  // nobody took it, nobody will: end it now
    }
    // A failed connect can change the state before errorOccurred(): take the cause first.
    if (transport->error() != QAbstractSocket::UnknownSocketError)
        onSocketError(transport->error());
    // Deliver what is still buffered before reporting the end.
    Q_Q(WsSocket);
    QPointer<WsSocket> guard(q);
    if (!readingPaused && !unread.isEmpty()) {
        if (!feed(std::exchange(unread, QByteArray())) || !guard)
            return;
    }
    if (!readingPaused && transport && (transport->bytesAvailable() > 0 || connection->hasDeferredInput())) {
        if (!feed(transport->readAll()) || !guard)
            return;
    }
    if (!transport || !connection)
        return;
    connection->transportClosed();
    if (!processEvents() || !guard)
        return;
    finish();
}

void WsSocketPrivate::onBytesWritten(qint64 bytes)
{
    Q_Q(WsSocket);
    emit q->bytesWritten(bytes);
    if (transport && transport->bytesToWrite() == 0)
        emit q->writeBufferDrained();
}

void WsSocketPrivate::installObserver()
{
    if (captureFrames && connection)
        connection->setFrameObserver([this](const WsFrameInfo &f) { observedFrames.push_back(f); });
}

void WsSocketPrivate::emitFrames()
{
    // Emitted after the core returned, never from inside it, so slots may call anything.
    Q_Q(WsSocket);
    if (observedFrames.empty())
        return;
    QPointer<WsSocket> guard(q);
    const std::vector<WsFrameInfo> frames = std::exchange(observedFrames, {});
    for (const WsFrameInfo &f : frames) {
        emit q->frameTransferred(f);
        if (!guard)
            return;
    }
}

void WsSocket::connectNotify(const QMetaMethod &signal)
{
    Q_D(WsSocket);
    if (!d->captureFrames && signal == QMetaMethod::fromSignal(&WsSocket::frameTransferred)) {
        d->captureFrames = true;
        d->installObserver();
    }
}

bool WsSocketPrivate::processEvents(bool flushAfter)
{
    Q_Q(WsSocket);
    QPointer<WsSocket> guard(q);
    struct Depth
    {
        QPointer<WsSocket> &alive;
        int &depth;
        ~Depth()
        {
            if (alive)
                --depth;
        }
    } depth{guard, ++eventDepth};
    emitFrames();
    if (!guard)
        return false;
    std::vector<WsEvent> events = connection->takeEvents();
    if (!heldEvents.empty()) {
        // Deliver what arrived while held first, in order.
        heldEvents.insert(heldEvents.end(), std::make_move_iterator(events.begin()),
                          std::make_move_iterator(events.end()));
        events = std::exchange(heldEvents, {});
    }
    if (held) {
        heldEvents = std::move(events);
        flush();  // what the core answered by itself (pongs, a close) still goes out
        return true;
    }
    for (size_t i = 0; i < events.size(); ++i) {
        const WsEvent &e = events[i];
        switch (e.type) {
        case WsEvent::Request:
            if (server)
                WsServerPrivate::get(server)->handleUpgrade(q);
            break;
        case WsEvent::Open:
            handshakeTimer.stop();
            reconnectAttempts = 0;
            setState(WsSocket::State::Open);
            if (request.options.pingIntervalMs > 0)
                pingTimer.start(request.options.pingIntervalMs, q_ptr);
            if (role == WsRole::Client)
                emit q->handshakeResponseReceived(connection->response());
            if (guard)
                emit q->connected();
            if (guard && held) {
                // Taken by a worker-thread server: the rest waits for the application.
                heldEvents.assign(std::make_move_iterator(events.begin() + qsizetype(i) + 1),
                                  std::make_move_iterator(events.end()));
                flush();
                return true;
            }
            break;
        case WsEvent::Rejected:
            if (followRedirect())
                return guard;
            emit q->handshakeResponseReceived(connection->response());
            break;
        case WsEvent::Message:
            ++stats.messagesReceived;
            if (e.opcode == WsOpcode::Text)
                emit q->textMessageReceived(e.text());
            else
                emit q->binaryMessageReceived(e.data);
            break;
        case WsEvent::Fragment:
            if (e.last)
                ++stats.messagesReceived;
            if (e.opcode == WsOpcode::Text)
                emit q->textFrameReceived(e.text(), e.last);
            else
                emit q->binaryFrameReceived(e.data, e.last);
            break;
        case WsEvent::Ping:
            emit q->pingReceived(e.data);
            break;
        case WsEvent::Pong: {
            qint64 rtt = -1;
            for (qsizetype i = 0; i < pendingPings.size(); ++i) {
                if (pendingPings[i].first == e.data) {
                    rtt = clock.elapsed() - pendingPings[i].second;
                    pendingPings.remove(0, i + 1);  // earlier ones will not be answered
                    break;
                }
            }
            if (rtt >= 0)
                stats.lastRoundTripMs = rtt;
            if (!keepalivePing.isEmpty() && e.data == keepalivePing) {
                keepalivePing.clear();
                pongTimer.stop();
            }
            emit q->pongReceived(rtt, e.data);
            break;
        }
        case WsEvent::ExtensionFrame:
            emit q->extensionFrameReceived(int(e.opcode), e.data);
            break;
        case WsEvent::CloseFrame:
            if (state == WsSocket::State::Open)
                setState(WsSocket::State::Closing);
            break;
        case WsEvent::Error:
            setError(e.error, e.errorString);
            break;
        case WsEvent::Closed:
            coreClosed = true;
            closeStatus = e.close;
            if (closeStatus.error == WsError::NoError && error != WsError::NoError)
                closeStatus.error = error;
            pingTimer.stop();
            pongTimer.stop();
            handshakeTimer.stop();
            if (state != WsSocket::State::Closed && state != WsSocket::State::Unconnected)
                setState(WsSocket::State::Closing);
            // Whoever closes TCP, the peer gets closeTimeoutMs to let go of it.
            if (transport && transport->state() != QAbstractSocket::UnconnectedState)
                closeTimer.start(request.options.closeTimeoutMs, q_ptr);
            break;
        }
        if (!guard)
            return false;
    }
    if (flushAfter)
        flush();
    // Message buffers the slots did not keep go back to the thread's pool.
    for (WsEvent &e : events)
        if (e.data.size() >= WsBufferPool::MinimumSize)
            WsBufferPool::give(e.data);
    return guard;
}

void WsSocketPrivate::release()
{
    if (!held)
        return;
    held = false;
    Q_Q(WsSocket);
    QPointer<WsSocket> guard(q);
    if (!processEvents() || !guard)
        return;
    onReadyRead();
    if (guard && (goneWhileHeld || (transport && transport->state() == QAbstractSocket::UnconnectedState))) {
        goneWhileHeld = false;
        onTransportGone();
    }
}

void WsSocketPrivate::writeOut(const QByteArray &out)
{
    qsizetype done = 0;
#ifdef Q_OS_UNIX
    // QTcpSocket queues every write and sends it on the next loop iteration, switching its
    // write notifier on and off for each one: the costliest part of a small echo. When it has
    // nothing queued, a plain TCP connection writes straight to the kernel instead; what the
    // kernel does not take goes through QTcpSocket as before, so the order holds.
    if (directWrites && transport->bytesToWrite() == 0) {
        const int fd = int(transport->socketDescriptor());
        ssize_t n;
        do {
            n = ::send(fd, out.constData(), size_t(out.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n > 0)
            done = qsizetype(n);
        // An error (EAGAIN aside) is left to QTcpSocket, whose write reports it.
    }
#endif
    if (done < out.size())
        transport->write(out.constData() + done, out.size() - done);
    if (done > 0) {
        Q_Q(WsSocket);
        emit q->bytesWritten(done);
    }
}

void WsSocketPrivate::flush()
{
    if (!transport || !connection)
        return;
    if (!observedFrames.empty()) {
        Q_Q(WsSocket);
        QMetaObject::invokeMethod(q, [this] { emitFrames(); }, Qt::QueuedConnection);
    }
    QByteArray out = connection->takeOutgoing();
    if (!out.isEmpty() && transport->state() == QAbstractSocket::ConnectedState) {
        stats.bytesSent += out.size();
        writeOut(out);
        WsBufferPool::give(out);  // written or copied: free for the next large frame
        // Written at once, so QTcpSocket will not report a drain: say it here to whoever
        // paused reading until the writes went out.
        if (readingPaused && transport->bytesToWrite() == 0) {
            Q_Q(WsSocket);
            QMetaObject::invokeMethod(q, [this] {
                if (transport && transport->bytesToWrite() == 0 && connection && connection->outgoingSize() == 0) {
                    Q_Q(WsSocket);
                    emit q->writeBufferDrained();
                }
            }, Qt::QueuedConnection);
        }
    }
    if (connection->shouldCloseTransport() && transport->state() == QAbstractSocket::ConnectedState)
        transport->disconnectFromHost();  // after the pending bytes are written
}

void WsSocketPrivate::setState(WsSocket::State s)
{
    Q_Q(WsSocket);
    if (state == s)
        return;
    qCDebug(lcWsNetwork) << "state" << state << "->" << s;
    state = s;
    emit q->stateChanged(s);
}

void WsSocketPrivate::setError(WsError e, const QString &text)
{
    Q_Q(WsSocket);
    if (error != WsError::NoError)
        return;  // the first error is the one that counts
    error = e;
    errorString = text.isEmpty() ? wsErrorDescription(e) : text;
    qCDebug(lcWsNetwork) << "error:" << errorString;
    emit q->errorOccurred(e);
}

void WsSocketPrivate::failLocally(WsError e, quint16 code, const QString &reason)
{
    if (!connection || coreClosed)
        return;
    connection->fail(e, code, reason);
    processEvents();
    if (transport && state != WsSocket::State::Closed && transport->state() == QAbstractSocket::ConnectedState
        && e == WsError::HandshakeTimeout) {
        aborting = true;
        transport->abort();
    }
}

void WsSocketPrivate::finish()
{
    Q_Q(WsSocket);
    if (finished)
        return;
    finished = true;
    handshakeTimer.stop();
    closeTimer.stop();
    pingTimer.stop();
    pongTimer.stop();
    if (connection)
        closeStatus = connection->closeStatus();
    if (closeStatus.error == WsError::NoError && error != WsError::NoError)
        closeStatus.error = error;
    if (aborting && error == WsError::NoError)
        closeStatus.error = WsError::NoError;
    setState(WsSocket::State::Closed);
    QPointer<WsSocket> guard(q);
    emit q->closed(closeStatus);
    if (guard)
        scheduleReconnect();
}

void WsSocketPrivate::scheduleReconnect()
{
    Q_Q(WsSocket);
    const WsSocketOptions::Reconnect &policy = request.options.reconnect;
    if (role != WsRole::Client || !policy.enabled || closeRequested || state != WsSocket::State::Closed)
        return;
    if (error == WsError::InvalidArgument)
        return;  // a bad URL or header will not get better
    if (policy.maxAttempts > 0 && reconnectAttempts >= policy.maxAttempts)
        return;
    // Exponential backoff with jitter, so that many clients do not come back in lockstep.
    double delay = policy.initialDelayMs;
    for (int i = 0; i < reconnectAttempts && delay < policy.maxDelayMs; ++i)
        delay *= policy.multiplier;
    delay = std::min<double>(delay, policy.maxDelayMs);
    delay *= 1.0 + policy.jitter * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0);
    const int ms = std::max(0, int(delay));
    ++reconnectAttempts;
    qCDebug(lcWsNetwork) << "reconnect attempt" << reconnectAttempts << "in" << ms << "ms";
    reconnectTimer.start(ms, q_ptr);
    emit q->reconnecting(reconnectAttempts, ms);
}

bool WsSocketPrivate::followRedirect()
{
    const WsHandshakeResponse &r = connection->response();
    if (role != WsRole::Client || r.status < 300 || r.status > 399 || !r.headers.contains("Location"))
        return false;
    if (redirectsLeft <= 0) {
        if (request.maxRedirects > 0) {
            setError(WsError::TooManyRedirects, wsErrorDescription(WsError::TooManyRedirects));
            return false;
        }
        return false;  // redirects disabled: report the 3xx as it is
    }
    QUrl target = request.url.resolved(QUrl::fromEncoded(r.headers.value("Location")));
    const QString scheme = target.scheme().toLower();
    if (scheme == QLatin1String("http"))
        target.setScheme(QStringLiteral("ws"));
    else if (scheme == QLatin1String("https"))
        target.setScheme(QStringLiteral("wss"));
    if (request.url.scheme().compare(QLatin1String("wss"), Qt::CaseInsensitive) == 0
        && target.scheme() != QLatin1String("wss")) {
        qCDebug(lcWsNetwork) << "not following a redirect from TLS to plain text:" << target;
        return false;  // reported as the 3xx it is
    }
    WsRequest next = request;
    next.url = target;
    const bool sameOrigin = target.scheme() == request.url.scheme() && target.host() == request.url.host()
            && target.port() == request.url.port();
    if (!sameOrigin) {
        // Credentials are for the origin they were given to.
        next.headers.remove("Authorization");
        next.headers.remove("Cookie");
        next.url.setUserInfo(QString());
    }
    qCDebug(lcWsNetwork) << "redirect" << r.status << "to" << target;
    Q_Q(WsSocket);
    QMetaObject::invokeMethod(q, [this, next, left = redirectsLeft - 1] { startClient(next, left); },
                              Qt::QueuedConnection);
    if (transport) {
        transport->disconnect(q);
        transport->abort();
        transport->deleteLater();
        transport = nullptr;
    }
    return true;
}

void WsSocketPrivate::sendKeepalivePing()
{
    if (state != WsSocket::State::Open || !keepalivePing.isEmpty())
        return;
    const quint32 n = ++pingCounter;
    keepalivePing = QByteArray("ka-") + QByteArray::number(n);
    if (connection->ping(keepalivePing) != WsError::NoError)
        return;
    pendingPings.append({keepalivePing, clock.elapsed()});
    if (pendingPings.size() > 16)
        pendingPings.removeFirst();
    if (request.options.pongTimeoutMs > 0)
        pongTimer.start(request.options.pongTimeoutMs, q_ptr);
    flush();
}

bool WsSocketPrivate::canQueue()
{
    if (!connection)
        return false;
    // Back-pressure: nothing more is queued while the transport holds too much.
    if (transport && transport->bytesToWrite() > request.options.maxWriteBufferSize) {
        errorString = wsErrorDescription(WsError::WriteBufferFull);
        return false;
    }
    return true;
}

qint64 WsSocketPrivate::afterSend(WsError e, qint64 before)
{
    if (e != WsError::NoError) {
        errorString = wsErrorDescription(e);
        return -1;
    }
    const qint64 queued = connection->outgoingSize() - before;
    // Sent from a slot of ours (an echo, say): written once with the rest of the batch when
    // processEvents() ends, one write for many messages.
    if (eventDepth == 0)
        flush();
    return queued;
}

namespace {
// A socket served by a worker thread (WsServer::setWorkerThreads()) may be driven from
// another thread, e.g. the GUI's: the call then runs in the socket's own thread, queued.
template <typename F>
bool runInOwnThread(WsSocket *socket, F &&f)
{
    if (QThread::currentThread() == socket->thread())
        return false;
    QMetaObject::invokeMethod(socket, std::forward<F>(f), Qt::QueuedConnection);
    return true;
}
} // namespace

qint64 WsSocket::sendTextMessage(const QString &message)
{
    return sendMessage(WsOpcode::Text, message.toUtf8());
}

qint64 WsSocket::sendBinaryMessage(const QByteArray &message)
{
    return sendMessage(WsOpcode::Binary, message);
}

qint64 WsSocket::sendMessage(WsOpcode type, const QByteArray &payload, bool compress)
{
    if (runInOwnThread(this, [this, type, payload, compress] { sendMessage(type, payload, compress); }))
        return payload.size();
    Q_D(WsSocket);
    if (!d->canQueue())
        return -1;
    const qint64 before = d->connection->outgoingSize();
    const WsError e = type == WsOpcode::Text ? d->connection->sendText(QByteArrayView(payload), compress)
            : type == WsOpcode::Binary      ? d->connection->sendBinary(payload, compress)
                                            : WsError::InvalidArgument;
    const qint64 n = d->afterSend(e, before);
    if (n >= 0)
        ++d->stats.messagesSent;
    return n;
}

qint64 WsSocket::sendFrame(WsOpcode opcode, const QByteArray &data, bool last)
{
    if (runInOwnThread(this, [this, opcode, data, last] { sendFrame(opcode, data, last); }))
        return data.size();
    Q_D(WsSocket);
    if (!d->canQueue())
        return -1;
    const qint64 before = d->connection->outgoingSize();
    const qint64 n = d->afterSend(d->connection->sendFrame(opcode, data, last), before);
    if (n >= 0 && last)
        ++d->stats.messagesSent;
    d->processEvents();  // the end of a message may complete a delayed close
    return n;
}

bool WsSocket::ping(const QByteArray &payload)
{
    if (runInOwnThread(this, [this, payload] { ping(payload); }))
        return payload.size() <= 125;
    Q_D(WsSocket);
    if (!d->connection || d->connection->ping(payload) != WsError::NoError)
        return false;
    d->pendingPings.append({payload, d->clock.elapsed()});
    if (d->pendingPings.size() > 16)
        d->pendingPings.removeFirst();
    d->flush();
    return true;
}

void WsSocket::close(quint16 code, const QString &reason)
{
    if (runInOwnThread(this, [this, code, reason] { close(code, reason); }))
        return;
    Q_D(WsSocket);
    d->reconnectTimer.stop();
    if (!d->connection || d->finished)
        return;
    d->closeRequested = true;
    if (d->state == State::Connecting) {
        abort();
        return;
    }
    const WsError e = d->connection->close(code, reason);
    if (e != WsError::NoError) {
        d->errorString = wsErrorDescription(e);
        return;
    }
    d->setState(State::Closing);
    d->closeTimer.start(d->request.options.closeTimeoutMs, this);
    d->processEvents();
}

void WsSocket::abort()
{
    if (runInOwnThread(this, [this] { abort(); }))
        return;
    Q_D(WsSocket);
    d->reconnectTimer.stop();
    d->closeRequested = true;
    if (!d->transport || d->finished)
        return;
    d->aborting = true;
    d->transport->abort();
}

void WsSocket::ignoreSslErrors()
{
    Q_D(WsSocket);
    if (auto *ssl = qobject_cast<QSslSocket *>(d->transport))
        ssl->ignoreSslErrors();
}

void WsSocket::ignoreSslErrors(const QList<QSslError> &errors)
{
    Q_D(WsSocket);
    if (auto *ssl = qobject_cast<QSslSocket *>(d->transport))
        ssl->ignoreSslErrors(errors);
}

WsSocket::State WsSocket::state() const { return d_func()->state; }
QUrl WsSocket::requestUrl() const { return d_func()->request.url; }
WsRequest WsSocket::request() const { return d_func()->request; }
QByteArray WsSocket::subprotocol() const
{
    Q_D(const WsSocket);
    return d->connection ? d->connection->subprotocol() : QByteArray();
}
QList<WsExtensionOffer> WsSocket::extensions() const
{
    Q_D(const WsSocket);
    return d->connection ? d->connection->extensions() : QList<WsExtensionOffer>();
}
const WsHandshakeRequest &WsSocket::handshakeRequest() const
{
    static const WsHandshakeRequest none;
    Q_D(const WsSocket);
    return d->connection ? d->connection->request() : none;
}
const WsHandshakeResponse &WsSocket::handshakeResponse() const
{
    static const WsHandshakeResponse none;
    Q_D(const WsSocket);
    return d->connection ? d->connection->response() : none;
}
QHostAddress WsSocket::peerAddress() const
{
    Q_D(const WsSocket);
    return d->transport ? d->transport->peerAddress() : QHostAddress();
}
quint16 WsSocket::peerPort() const
{
    Q_D(const WsSocket);
    return d->transport ? d->transport->peerPort() : 0;
}
QHostAddress WsSocket::localAddress() const
{
    Q_D(const WsSocket);
    return d->transport ? d->transport->localAddress() : QHostAddress();
}
quint16 WsSocket::localPort() const
{
    Q_D(const WsSocket);
    return d->transport ? d->transport->localPort() : 0;
}
WsCloseStatus WsSocket::closeStatus() const { return d_func()->closeStatus; }
quint16 WsSocket::closeCode() const { return d_func()->closeStatus.code; }
QString WsSocket::closeReason() const { return d_func()->closeStatus.reason; }
WsError WsSocket::error() const { return d_func()->error; }
QString WsSocket::errorString() const { return d_func()->errorString; }
qint64 WsSocket::bufferedAmount() const
{
    Q_D(const WsSocket);
    return (d->transport ? d->transport->bytesToWrite() : 0)
            + (d->connection ? d->connection->outgoingSize() : 0);
}
WsSocketStatistics WsSocket::statistics() const { return d_func()->stats; }

void WsSocket::pauseReading()
{
    if (runInOwnThread(this, [this] { pauseReading(); }))
        return;
    d_func()->readingPaused = true;
}

void WsSocket::resumeReading()
{
    if (runInOwnThread(this, [this] { resumeReading(); }))
        return;
    Q_D(WsSocket);
    if (!d->readingPaused)
        return;
    d->readingPaused = false;
    QMetaObject::invokeMethod(this, [d] {
        d->onReadyRead();
        if (d->transport && d->transport->state() == QAbstractSocket::UnconnectedState)
            d->onTransportGone();
    }, Qt::QueuedConnection);
}

bool WsSocket::isReadingPaused() const { return d_func()->readingPaused; }
int WsSocket::reconnectAttempts() const { return d_func()->reconnectAttempts; }
