// The QML module's models from C++, under QAbstractItemModelTester, with real traffic:
// the traffic model's ring buffer and batching, its filter, and the server's connection
// list (rows removed and sockets freed on disconnect).

#include <wsqmlserver.h>
#include <wsqmlsocket.h>
#include <wstrafficmodel.h>

#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QtTest>

class tst_QmlModels : public QObject
{
    Q_OBJECT
private slots:
    void trafficModel();
    void filterModel();
    void connectionListFreesSockets();
};

static WsQmlServer *startServer(QObject *parent)
{
    auto *server = new WsQmlServer(parent);
    server->setPort(0);
    server->classBegin();
    server->setListening(true);
    server->componentComplete();
    QObject::connect(server, &WsQmlServer::textMessageReceived, server,
                     [](WsQmlSocket *s, const QString &m) { s->sendTextMessage(m); });
    return server;
}

static WsQmlSocket *openSocket(const QUrl &url, QObject *parent)
{
    auto *s = new WsQmlSocket(parent);
    s->classBegin();
    s->setPingInterval(0);
    s->setUrl(url);
    s->setActive(true);
    s->componentComplete();
    return s;
}

void tst_QmlModels::trafficModel()
{
    QObject owner;
    WsQmlServer *server = startServer(&owner);
    QVERIFY(server->isListening());
    WsTrafficModel traffic;
    QAbstractItemModelTester tester(&traffic, QAbstractItemModelTester::FailureReportingMode::QtTest);
    traffic.setCapacity(50);
    traffic.setSource(server);  // the server side of every connection
    WsQmlSocket *client = openSocket(server->url(), &owner);
    QTRY_COMPARE(client->status(), WsQmlSocket::Open);
    for (int i = 0; i < 100; ++i)
        client->sendTextMessage(QStringLiteral("message %1").arg(i));
    QTRY_COMPARE_WITH_TIMEOUT(traffic.totalMessages(), qint64(200), 10000);
    traffic.flush();
    QCOMPARE(traffic.count(), 50);
    QCOMPARE(traffic.droppedRows(), qint64(150));
    // Rows alternate: in (the client's message), out (the echo).
    const QModelIndex last = traffic.index(49);
    QCOMPARE(last.data(WsTrafficModel::DirectionRole).toString(), QStringLiteral("out"));
    QCOMPARE(last.data(WsTrafficModel::TextRole).toString(), QStringLiteral("message 99"));
    QCOMPARE(last.data(WsTrafficModel::KindRole).toString(), QStringLiteral("text"));
    QVERIFY(last.data(WsTrafficModel::ConnectionIdRole).toInt() > 0);
    traffic.setCapacity(10);
    QCOMPARE(traffic.count(), 10);
    traffic.clear();
    QCOMPARE(traffic.count(), 0);
    // A large compressed message: one row, its sizes on the wire and decoded.
    client->sendTextMessage(QString(100000, QLatin1Char('z')));
    QTRY_COMPARE(traffic.totalMessages(), qint64(202));
    traffic.flush();
    const QModelIndex big = traffic.index(0);
    QCOMPARE(big.data(WsTrafficModel::SizeRole).toLongLong(), qint64(100000));
    QVERIFY(big.data(WsTrafficModel::WireSizeRole).toLongLong() < 1000);
    QVERIFY(big.data(WsTrafficModel::CompressedRole).toBool());
    QCOMPARE(big.data(WsTrafficModel::RsvNamesRole).toString(), QStringLiteral("RSV1"));
    const QVariantMap frame = big.data(WsTrafficModel::FramesRole).toList().value(0).toMap();
    QCOMPARE(frame.value(QStringLiteral("kind")).toString(), QStringLiteral("text"));
    QCOMPARE(frame.value(QStringLiteral("rsvNames")).toString(), QStringLiteral("RSV1"));
    QCOMPARE(WsTrafficModel::kindName(0), QStringLiteral("continuation"));
    QCOMPARE(WsTrafficModel::rsvNames(WsRsv::Rsv1 | WsRsv::Rsv3), QStringLiteral("RSV1+RSV3"));
    QCOMPARE(big.data(WsTrafficModel::PayloadRole).toByteArray().size(), qsizetype(64 * 1024));  // kept up to maxPayloadBytes
}

void tst_QmlModels::filterModel()
{
    WsTrafficModel traffic;
    WsTrafficFilterModel filter;
    filter.setSourceModel(&traffic);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto add = [&](bool out, quint8 opcode, const QByteArray &payload) {
        WsTrafficEntry e;
        e.outgoing = out;
        e.opcode = opcode;
        e.payload = payload;
        e.size = e.wireSize = payload.size();
        e.timestamp = QDateTime::currentDateTime();
        traffic.addEntry(e);
    };
    add(true, 1, "apple pie");
    add(false, 1, "banana split");
    add(false, 2, QByteArray("\x01\x02", 2));
    add(true, 9, "ping");
    add(false, 0xA, "ping");
    traffic.flush();
    QCOMPARE(filter.count(), 5);
    filter.setDirection(QStringLiteral("out"));
    QCOMPARE(filter.count(), 2);
    filter.setDirection(QString());
    filter.setShowControl(false);
    QCOMPARE(filter.count(), 3);
    filter.setShowBinary(false);
    QCOMPARE(filter.count(), 2);
    filter.setSearchText(QStringLiteral("BANANA"));
    QCOMPARE(filter.count(), 1);
    QCOMPARE(filter.get(0).value(QStringLiteral("text")).toString(), QStringLiteral("banana split"));
    filter.setRegularExpression(true);
    filter.setSearchText(QStringLiteral("^a.*e$"));
    QCOMPARE(filter.count(), 1);
    filter.setSearchText(QStringLiteral("(unclosed"));
    QVERIFY(!filter.searchValid());
    QCOMPARE(filter.count(), 0);
    filter.setShowBinary(true);
    filter.setRegularExpression(false);
    filter.setSearchText(QStringLiteral("01 02"));
    QCOMPARE(filter.count(), 1);
}

void tst_QmlModels::connectionListFreesSockets()
{
    QObject owner;
    WsQmlServer *server = startServer(&owner);
    QAbstractItemModelTester tester(server->connections(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    WsQmlSocket *a = openSocket(server->url(), &owner);
    WsQmlSocket *b = openSocket(server->url(), &owner);
    QTRY_COMPARE(server->connectionCount(), 2);
    QPointer<WsQmlSocket> serverSideOfA = server->connections()->get(0);
    QVERIFY(serverSideOfA);
    QCOMPARE(server->connections()->index(0).data(WsConnectionListModel::PathRole).toString(), QStringLiteral("/"));
    QSignalSpy disconnected(server, &WsQmlServer::clientDisconnected);
    a->close();
    QTRY_COMPARE(server->connectionCount(), 1);
    QCOMPARE(disconnected.size(), 1);
    QTRY_VERIFY(serverSideOfA.isNull());  // freed, unlike QtWebSockets' QML server
    QCOMPARE(b->status(), WsQmlSocket::Open);
}

QTEST_MAIN(tst_QmlModels)
#include "tst_qmlmodels.moc"
