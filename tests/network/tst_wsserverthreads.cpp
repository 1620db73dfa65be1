// WsServer with worker threads (setWorkerThreads): connections live in the workers, the
// server's signals still come in its own thread, nothing is lost on the way.

#include "testutil.h"

#include <QtCore/qthread.h>

using namespace wstest;

namespace {

// Clients in the test's thread, each with what it received.
struct Clients
{
    std::vector<std::unique_ptr<WsSocket>> sockets;
    QList<QStringList> received;
    int connected = 0;
    int closed = 0;
    QList<quint16> closeCodes;

    void open(int n, const QUrl &url, const std::function<void(WsSocket *)> &onConnected = {})
    {
        for (int i = 0; i < n; ++i) {
            auto *s = new WsSocket;
            sockets.emplace_back(s);
            received.append(QStringList());
            QObject::connect(s, &WsSocket::connected, s, [this, s, onConnected] {
                ++connected;
                if (onConnected)
                    onConnected(s);
            });
            QObject::connect(s, &WsSocket::textMessageReceived, s, [this, i](const QString &m) { received[i].append(m); });
            QObject::connect(s, &WsSocket::closed, s, [this](const WsCloseStatus &st) {
                ++closed;
                closeCodes.append(st.code);
            });
            WsSocketOptions o = EchoServer::fastOptions();
            s->setOptions(o);
            s->open(url);
        }
    }
    int totalReceived() const
    {
        int n = 0;
        for (const QStringList &l : received)
            n += int(l.size());
        return n;
    }
};

QUrl urlOf(const WsServer &server, const QString &path = QStringLiteral("/"))
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(server.serverPort()).arg(path));
}

} // namespace

class tst_WsServerThreads : public QObject
{
    Q_OBJECT
private slots:
    void takenSocketsLiveInWorkersAndLoseNothing();
    void upgradeRequestedInServerThread();
    void deferredAnswerFromServerThread();
    void connectionHandlerRunsInWorker();
    void crossThreadSendAndBroadcast();
    void closeGoesAwayEverywhere();
    void untakenConnectionsAreReaped();
    void destroyedWithLiveConnections();
};

void tst_WsServerThreads::takenSocketsLiveInWorkersAndLoseNothing()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    QCOMPARE(server.workerThreads(), 2);
    QSet<QThread *> threads;
    QList<WsSocket *> taken;
    int emitted = 0;
    connect(&server, &WsServer::newConnection, this, [&] {
        QCOMPARE(QThread::currentThread(), thread());  // the server's own thread
        ++emitted;
        while (WsSocket *s = server.nextPendingConnection()) {
            threads.insert(s->thread());
            taken.append(s);
            // Slots with the socket as context run in its worker.
            connect(s, &WsSocket::textMessageReceived, s, [s](const QString &m) {
                Q_ASSERT(QThread::currentThread() == s->thread());
                s->sendTextMessage(m);
            });
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    // Each client sends at once on connected: those messages reach the server before the
    // application takes the socket, and must wait for it, not vanish.
    Clients c;
    c.open(40, urlOf(server), [](WsSocket *s) {
        for (int k = 0; k < 5; ++k)
            s->sendTextMessage(QStringLiteral("early %1").arg(k));
    });
    QTRY_COMPARE_WITH_TIMEOUT(c.totalReceived(), 200, 10000);
    for (const QStringList &l : std::as_const(c.received))
        QCOMPARE(l, (QStringList{QStringLiteral("early 0"), QStringLiteral("early 1"), QStringLiteral("early 2"),
                                 QStringLiteral("early 3"), QStringLiteral("early 4")}));
    QCOMPARE(taken.size(), qsizetype(40));
    QVERIFY(emitted > 0);
    QCOMPARE(threads.size(), qsizetype(2));
    QVERIFY(!threads.contains(thread()));
    QCOMPARE(server.connectionCount(), 40);
    QCOMPARE(server.connections().size(), qsizetype(40));
}

void tst_WsServerThreads::upgradeRequestedInServerThread()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    int asked = 0;
    connect(&server, &WsServer::upgradeRequested, this, [&](WsUpgradeRequest *r) {
        QCOMPARE(QThread::currentThread(), thread());
        ++asked;
        if (r->path() == "/deny")
            r->reject(403, "no\n");
        // else: not answered, so accepted with the defaults
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Clients ok;
    ok.open(10, urlOf(server, QStringLiteral("/ok")));
    Clients denied;
    QList<int> statuses;
    denied.open(10, urlOf(server, QStringLiteral("/deny")));
    for (auto &s : denied.sockets)
        connect(s.get(), &WsSocket::handshakeResponseReceived, this,
                [&](const WsHandshakeResponse &resp) { statuses.append(resp.status); });
    QTRY_COMPARE_WITH_TIMEOUT(ok.connected, 10, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(denied.closed, 10, 10000);
    QCOMPARE(denied.connected, 0);
    QCOMPARE(statuses, QList<int>(10, 403));
    QCOMPARE(asked, 20);
}

void tst_WsServerThreads::deferredAnswerFromServerThread()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(1);
    connect(&server, &WsServer::upgradeRequested, this, [&](WsUpgradeRequest *r) {
        r->defer();
        // An asynchronous check (a token lookup, say), answered later from this thread.
        QTimer::singleShot(50, this, [r] { r->accept(); });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Clients c;
    c.open(5, urlOf(server));
    QTRY_COMPARE_WITH_TIMEOUT(c.connected, 5, 10000);
}

void tst_WsServerThreads::connectionHandlerRunsInWorker()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    QMutex m;
    QSet<QThread *> threads;
    QList<QPointer<WsSocket>> handled;
    server.setConnectionHandler([&](WsSocket *s) {
        QMutexLocker lock(&m);
        threads.insert(QThread::currentThread());
        handled.append(s);
        connect(s, &WsSocket::textMessageReceived, s, [s](const QString &msg) { s->sendTextMessage(msg.toUpper()); });
        connect(s, &WsSocket::closed, s, &QObject::deleteLater);
    });
    int newConnections = 0;
    connect(&server, &WsServer::newConnection, this, [&] { ++newConnections; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Clients c;
    c.open(20, urlOf(server), [](WsSocket *s) { s->sendTextMessage(QStringLiteral("hi")); });
    QTRY_COMPARE_WITH_TIMEOUT(c.totalReceived(), 20, 10000);
    QCOMPARE(c.received.first(), QStringList{QStringLiteral("HI")});
    QCOMPARE(newConnections, 0);
    QCOMPARE(server.nextPendingConnection(), nullptr);
    QMutexLocker lock(&m);
    QCOMPARE(handled.size(), qsizetype(20));
    QCOMPARE(threads.size(), qsizetype(2));
    QVERIFY(!threads.contains(thread()));
}

void tst_WsServerThreads::crossThreadSendAndBroadcast()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    QList<WsSocket *> taken;
    connect(&server, &WsServer::newConnection, this, [&] {
        while (WsSocket *s = server.nextPendingConnection())
            taken.append(s);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Clients c;
    c.open(8, urlOf(server));
    QTRY_COMPARE_WITH_TIMEOUT(taken.size(), qsizetype(8), 10000);
    // Called from this thread on sockets that live in the workers: queued to them.
    for (WsSocket *s : std::as_const(taken))
        QVERIFY(s->sendTextMessage(QStringLiteral("direct")) > 0);
    QCOMPARE(server.broadcastTextMessage(QStringLiteral("to all")), 8);
    QTRY_COMPARE_WITH_TIMEOUT(c.totalReceived(), 16, 10000);
    for (const QStringList &l : std::as_const(c.received))
        QCOMPARE(l, (QStringList{QStringLiteral("direct"), QStringLiteral("to all")}));
}

void tst_WsServerThreads::closeGoesAwayEverywhere()
{
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    connect(&server, &WsServer::newConnection, this, [&] {
        while (WsSocket *s = server.nextPendingConnection())
            connect(s, &WsSocket::closed, s, &QObject::deleteLater);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Clients c;
    c.open(12, urlOf(server));
    QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 12, 10000);
    QSignalSpy closedSpy(&server, &WsServer::closed);
    server.close();
    QTRY_COMPARE_WITH_TIMEOUT(c.closed, 12, 10000);
    QCOMPARE(c.closeCodes, QList<quint16>(12, WsCloseCode::GoingAway));
    QTRY_COMPARE_WITH_TIMEOUT(closedSpy.size(), 1, 10000);
    QCOMPARE(server.connectionCount(), 0);
}

void tst_WsServerThreads::untakenConnectionsAreReaped()
{
    // Nobody takes the connections: when the clients leave, the server deletes them.
    WsServer server;
    server.setOptions(EchoServer::fastOptions());
    server.setWorkerThreads(2);
    server.setMaxPendingConnections(100);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    {
        Clients c;
        c.open(10, urlOf(server));
        QTRY_COMPARE_WITH_TIMEOUT(c.connected, 10, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 10, 10000);
        for (auto &s : c.sockets)
            s->abort();
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 0, 10000);
    QVERIFY(!server.hasPendingConnections());
}

void tst_WsServerThreads::destroyedWithLiveConnections()
{
    Clients c;
    {
        WsServer server;
        server.setOptions(EchoServer::fastOptions());
        server.setWorkerThreads(2);
        connect(&server, &WsServer::newConnection, this, [&] {
            while (WsSocket *s = server.nextPendingConnection())
                connect(s, &WsSocket::textMessageReceived, s, [s](const QString &m) { s->sendTextMessage(m); });
        });
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        c.open(10, urlOf(server), [](WsSocket *s) { s->sendTextMessage(QStringLiteral("x")); });
        QTRY_COMPARE_WITH_TIMEOUT(c.totalReceived(), 10, 10000);
    }
    // The workers stopped and took their connections with them; the clients notice.
    QTRY_COMPARE_WITH_TIMEOUT(c.closed, 10, 10000);
}

QTEST_MAIN(tst_WsServerThreads)
#include "tst_wsserverthreads.moc"
