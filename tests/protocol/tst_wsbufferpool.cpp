// WsBufferPool: large buffers come back to the thread that gave them, and only those nobody
// else holds.

#include <wsbufferpool.h>
#include <wsconnection.h>
#include <wsrandom.h>

#include <QtCore/qthread.h>
#include <QtTest/QtTest>

#include "testutil.h"

class tst_WsBufferPool : public QObject
{
    Q_OBJECT
private slots:
    void init() { WsBufferPool::clear(); }
    void smallAndSharedAreNotKept();
    void takesTheSmallestThatFits();
    void neverAllocates();
    void perThread();
    void largeMessagesReuseBuffers();
};

void tst_WsBufferPool::smallAndSharedAreNotKept()
{
    QByteArray small(1000, 'x');
    WsBufferPool::give(small);
    QVERIFY(small.isNull());
    QVERIFY(WsBufferPool::take(100).isNull());  // below the minimum: malloc's business

    QByteArray big(1 << 20, 'x');
    const QByteArray other = big;  // shared: someone else still reads it
    WsBufferPool::give(big);
    QVERIFY(big.isNull());
    QVERIFY(WsBufferPool::take(1 << 20).isNull());
    QCOMPARE(other.size(), qsizetype(1 << 20));
}

void tst_WsBufferPool::takesTheSmallestThatFits()
{
    QByteArray a(1 << 20, 'a');
    QByteArray b(4 << 20, 'b');
    const char *pa = a.constData();
    const char *pb = b.constData();
    WsBufferPool::give(a);
    WsBufferPool::give(b);
    QByteArray got = WsBufferPool::take(512 * 1024);
    QCOMPARE(got.constData(), pa);
    QVERIFY(got.isEmpty());
    QVERIFY(got.capacity() >= 1 << 20);
    got = WsBufferPool::take(2 << 20);
    QCOMPARE(got.constData(), pb);
    QVERIFY(WsBufferPool::take(2 << 20).isNull());  // both taken
}

void tst_WsBufferPool::neverAllocates()
{
    // An announced size alone must not cost memory: with nothing pooled, nothing is returned.
    QVERIFY(WsBufferPool::take(qsizetype(1) << 40).isNull());
}

void tst_WsBufferPool::perThread()
{
    QByteArray a(1 << 20, 'a');
    WsBufferPool::give(a);
    bool sawIt = true;
    QThread *t = QThread::create([&] { sawIt = !WsBufferPool::take(1 << 20).isNull(); });
    t->start();
    QVERIFY(t->wait(10000));
    delete t;
    QVERIFY(!sawIt);
    QVERIFY(!WsBufferPool::take(1 << 20).isNull());
}

void tst_WsBufferPool::largeMessagesReuseBuffers()
{
    // A server receiving 1 MiB messages: once the first message's buffer is given back, the
    // next message is assembled in it instead of in fresh memory.
    WsFixedRandom random(7);
    WsConnection client(WsRole::Client, {}, &random);
    WsConnection server(WsRole::Server, {}, &random);
    openPair(client, server, "h");

    const QByteArray payload(1 << 20, 'p');
    client.sendBinary(payload);
    const QByteArray wire = client.takeOutgoing();  // replayed: the server does not mind
    const char *previous = nullptr;
    for (int i = 0; i < 3; ++i) {
        for (qsizetype pos = 0; pos < wire.size(); pos += 65536)
            server.receiveData(QByteArrayView(wire).sliced(pos, std::min<qsizetype>(65536, wire.size() - pos)));
        auto events = server.takeEvents();
        QCOMPARE(events.size(), size_t(1));
        QCOMPARE(events.front().data, payload);
        if (i > 0)
            QCOMPARE(events.front().data.constData(), previous);  // the recycled buffer
        previous = events.front().data.constData();
        WsBufferPool::give(events.front().data);
    }
}

QTEST_MAIN(tst_WsBufferPool)
#include "tst_wsbufferpool.moc"
