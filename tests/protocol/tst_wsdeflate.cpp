// permessage-deflate (RFC 7692): the §7.2.3 examples byte-exact, negotiation in both roles,
// context takeover, window bits, thresholds, corrupt data and a decompression bomb.

#include <wsconnection.h>
#include <wsdeflate.h>
#include <wsrandom.h>

#include <QtTest/QtTest>

#include "testutil.h"

#include <sys/resource.h>
#include <zlib.h>

Q_DECLARE_METATYPE(WsError)

namespace {

// A client/server pair with the given deflate settings on each side.
struct Pair
{
    WsFixedRandom random{0x37fa213d};
    WsConnection client;
    WsConnection server;

    static WsConnectionOptions with(const WsDeflateOptions &d, qint64 maxMessage = 1 << 20)
    {
        WsConnectionOptions o;
        o.extensions = {std::make_shared<WsDeflateFactory>(d)};
        o.limits.maxMessageSize = maxMessage;
        return o;
    }
    Pair(const WsConnectionOptions &c, const WsConnectionOptions &s)
        : client(WsRole::Client, c, &random), server(WsRole::Server, s, &random)
    {
        openPair(client, server, "h");
    }
};

WsDeflateOptions noThreshold()
{
    WsDeflateOptions d;
    d.threshold = 0;
    return d;
}

QByteArray jsonCorpus(int records)
{
    QByteArray out = "[";
    for (int i = 0; i < records; ++i)
        out += "{\"id\":" + QByteArray::number(i) + ",\"name\":\"user" + QByteArray::number(i * 7 % 113)
                + "\",\"active\":" + (i % 3 ? "true" : "false") + ",\"score\":" + QByteArray::number(i * 37 % 1000) + "},";
    out.chop(1);
    return out + "]";
}

QByteArray randomBytes(qsizetype n, quint32 seed)
{
    QByteArray b(n, Qt::Uninitialized);
    QRandomGenerator g(seed);
    g.fillRange(reinterpret_cast<quint32 *>(b.data()), n / 4);
    return b;
}

long maxRssKiB()
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

} // namespace

class tst_WsDeflate : public QObject
{
    Q_OBJECT
private slots:
    void bombStopsAtTheLimit();  // first, so that the peak RSS it checks is its own
    void negotiationDefaults();
    void rfcHelloEncoded();
    void rfcExamplesDecoded_data();
    void rfcExamplesDecoded();
    void serverNegotiation_data();
    void serverNegotiation();
    void clientValidatesResponse_data();
    void clientValidatesResponse();
    void clientFallbackOffer();
    void roundTrips_data();
    void roundTrips();
    void noContextTakeoverResetsEachMessage();
    void thresholdAndOptOut();
    void windowBits8SendsUncompressed();
    void corruptDataFailsWith1007();
    void rsv1OnUncompressedConnectionFails();
    void streamingDecompression();
    void emptyLastFrameKeepsStreamValid();
    void smallMessagesKeepSmallBuffers();
    void rsv1OnControlFrameFails();
    void receiveSomeLetsTheApplicationAnswerFirst();
    void byteOrderMarkIsContent();
    void largeMessageGrowsGeometrically();
};

void tst_WsDeflate::negotiationDefaults()
{
    Pair p(Pair::with({}), Pair::with({}));
    QCOMPARE(p.client.request().headers.value("Sec-WebSocket-Extensions"),
             QByteArray("permessage-deflate; client_max_window_bits"));
    QCOMPARE(p.server.response().headers.value("Sec-WebSocket-Extensions"), QByteArray("permessage-deflate"));
    QCOMPARE(p.client.extensions().size(), 1);
    QCOMPARE(p.client.state(), WsState::Open);
}

void tst_WsDeflate::rfcHelloEncoded()
{
    // RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello" compressed, then again with the shared window.
    Pair p(Pair::with(noThreshold()), Pair::with(noThreshold()));
    p.server.sendText(QStringLiteral("Hello"));
    QCOMPARE(p.server.takeOutgoing().toHex(' '), QByteArray("c1 07 f2 48 cd c9 c9 07 00"));
    p.server.sendText(QStringLiteral("Hello"));
    QCOMPARE(p.server.takeOutgoing().toHex(' '), QByteArray("c1 05 f2 00 11 00 00"));
}

void tst_WsDeflate::rfcExamplesDecoded_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("messages");
    QTest::newRow("rfc7692-7.2.3.1/hello") << QByteArray::fromHex("c107f248cdc9c90700") << 1;
    QTest::newRow("rfc7692-7.2.3.1/fragmented") << QByteArray::fromHex("4103f248cd" "8004c9c90700") << 1;
    QTest::newRow("rfc7692-7.2.3.2/shared-window") << QByteArray::fromHex("c107f248cdc9c90700" "c105f200110000") << 2;
    QTest::newRow("rfc7692-7.2.3.3/stored-block") << QByteArray::fromHex("c10b000500faff48656c6c6f00") << 1;
    QTest::newRow("rfc7692-7.2.3.4/bfinal") << QByteArray::fromHex("c108f348cdc9c9070000") << 1;
    QTest::newRow("rfc7692-7.2.3.5/two-blocks") << QByteArray::fromHex("c10df24805000000ffffcac9c90700") << 1;
}

void tst_WsDeflate::rfcExamplesDecoded()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, messages);
    for (const auto &chunks : splits(wire)) {
        Pair p(Pair::with({}), Pair::with({}));
        for (const QByteArray &c : chunks)
            p.client.receiveData(c);
        const auto events = p.client.takeEvents();
        QCOMPARE(int(events.size()), messages);
        for (const WsEvent &e : events) {
            QCOMPARE(e.type, WsEvent::Message);
            QCOMPARE(e.data, QByteArray("Hello"));
        }
    }
}

void tst_WsDeflate::serverNegotiation_data()
{
    QTest::addColumn<QByteArray>("offer");
    QTest::addColumn<QByteArray>("response");  // empty: declined
    QTest::newRow("rfc7692-5/plain") << QByteArray("permessage-deflate") << QByteArray("permessage-deflate");
    QTest::newRow("rfc7692-7.1.2.2/client-bits-no-value") << QByteArray("permessage-deflate; client_max_window_bits") << QByteArray("permessage-deflate");
    QTest::newRow("rfc7692-7.1.2.2/client-bits-10") << QByteArray("permessage-deflate; client_max_window_bits=10") << QByteArray("permessage-deflate; client_max_window_bits=10");
    QTest::newRow("rfc7692-7.1.2.1/server-bits-10") << QByteArray("permessage-deflate; server_max_window_bits=10") << QByteArray("permessage-deflate; server_max_window_bits=10");
    QTest::newRow("rfc7692-7.1.1.1/server-no-context") << QByteArray("permessage-deflate; server_no_context_takeover") << QByteArray("permessage-deflate; server_no_context_takeover");
    QTest::newRow("rfc7692-7.1.1.2/client-no-context-hint") << QByteArray("permessage-deflate; client_no_context_takeover") << QByteArray("permessage-deflate");
    QTest::newRow("rfc7692-7.1/unknown-param-declined") << QByteArray("permessage-deflate; foo") << QByteArray();
    QTest::newRow("rfc7692-7.1/duplicate-param-declined") << QByteArray("permessage-deflate; server_no_context_takeover; server_no_context_takeover") << QByteArray();
    QTest::newRow("rfc7692-7.1.2.1/server-bits-without-value-declined") << QByteArray("permessage-deflate; server_max_window_bits") << QByteArray();
    QTest::newRow("rfc7692-7.1.2.1/server-bits-7-declined") << QByteArray("permessage-deflate; server_max_window_bits=7") << QByteArray();
    QTest::newRow("rfc7692-7.1.2.1/server-bits-16-declined") << QByteArray("permessage-deflate; server_max_window_bits=16") << QByteArray();
    QTest::newRow("rfc7692-7.1.2.1/leading-zero-declined") << QByteArray("permessage-deflate; server_max_window_bits=010") << QByteArray();
    QTest::newRow("rfc7692-7.1.2/no-value-allowed-on-flag") << QByteArray("permessage-deflate; client_no_context_takeover=1") << QByteArray();
    QTest::newRow("rfc7692-5.1/fallback-to-second-offer") << QByteArray("permessage-deflate; server_max_window_bits=7, permessage-deflate")
                                                           << QByteArray("permessage-deflate");
    QTest::newRow("rfc7692-5.1/first-acceptable-wins") << QByteArray("permessage-deflate; server_max_window_bits=12, permessage-deflate")
                                                        << QByteArray("permessage-deflate; server_max_window_bits=12");
    QTest::newRow("rfc6455-9.1/quoted-value") << QByteArray("permessage-deflate; server_max_window_bits=\"11\"") << QByteArray("permessage-deflate; server_max_window_bits=11");
    QTest::newRow("other-extension-ignored") << QByteArray("x-webkit-deflate-frame") << QByteArray();
}

void tst_WsDeflate::serverNegotiation()
{
    QFETCH(QByteArray, offer);
    QFETCH(QByteArray, response);
    WsConnection server(WsRole::Server, Pair::with({}));
    server.receiveData(QByteArray("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Extensions: ") + offer + "\r\n\r\n");
    QCOMPARE(server.takeEvents().size(), size_t(1));
    QCOMPARE(server.accept(), WsError::NoError);
    QCOMPARE(server.response().headers.value("Sec-WebSocket-Extensions"), response);
    QCOMPARE(server.extensions().isEmpty(), response.isEmpty());
}

void tst_WsDeflate::clientValidatesResponse_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("rfc7692-5/plain") << QByteArray("permessage-deflate") << true;
    QTest::newRow("rfc7692-7.1.2.2/client-bits-narrowed") << QByteArray("permessage-deflate; client_max_window_bits=9") << true;
    QTest::newRow("rfc7692-7.1.2.1/server-bits") << QByteArray("permessage-deflate; server_max_window_bits=8") << true;
    QTest::newRow("rfc7692-7.1.1/both-no-context") << QByteArray("permessage-deflate; server_no_context_takeover; client_no_context_takeover") << true;
    QTest::newRow("rfc7692-7.1.2.2/client-bits-without-value") << QByteArray("permessage-deflate; client_max_window_bits") << false;
    QTest::newRow("rfc7692-7.1/unknown-param") << QByteArray("permessage-deflate; mystery=1") << false;
    QTest::newRow("rfc7692-7.1/duplicate") << QByteArray("permessage-deflate; server_max_window_bits=9; server_max_window_bits=9") << false;
    QTest::newRow("rfc7692-7.1.2.1/bits-out-of-range") << QByteArray("permessage-deflate; server_max_window_bits=20") << false;
    QTest::newRow("rfc6455-9.1/twice") << QByteArray("permessage-deflate, permessage-deflate") << false;
    QTest::newRow("rfc6455-4.1/not-offered") << QByteArray("x-other") << false;
}

void tst_WsDeflate::clientValidatesResponse()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, accepted);
    WsFixedRandom random(0x01020304);
    WsConnection client(WsRole::Client, Pair::with({}), &random);
    WsClientHandshake hs;
    hs.host = "h";
    client.startHandshake(hs);
    client.takeOutgoing();
    const QByteArray accept = wsAcceptKey(client.request().key());
    client.receiveData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Extensions: " + response + "\r\n\r\n");
    QCOMPARE(client.state(), accepted ? WsState::Open : WsState::Failed);
    if (!accepted)
        QCOMPARE(client.error(), WsError::HandshakeUnexpectedExtension);
}

void tst_WsDeflate::clientFallbackOffer()
{
    WsDeflateOptions d;
    d.requestPeerNoContextTakeover = true;
    d.requestPeerMaxWindowBits = 10;
    d.maxWindowBits = 12;
    const QByteArray header = wsFormatExtensions(WsDeflateFactory(d).clientOffers());
    QCOMPARE(header, QByteArray("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12, "
                                "permessage-deflate; client_max_window_bits=12"));
    // A server that grants it, and messages flow both ways.
    Pair p(Pair::with(d), Pair::with({}));
    QCOMPARE(p.server.response().headers.value("Sec-WebSocket-Extensions"),
             QByteArray("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"));
    const QByteArray json = jsonCorpus(500);
    p.server.sendText(QByteArrayView(json));
    p.client.sendText(QByteArrayView(json));
    p.client.receiveData(p.server.takeOutgoing());
    p.server.receiveData(p.client.takeOutgoing());
    QCOMPARE(p.client.takeEvents().at(0).data, json);
    QCOMPARE(p.server.takeEvents().at(0).data, json);
}

void tst_WsDeflate::roundTrips_data()
{
    QTest::addColumn<int>("clientBits");
    QTest::addColumn<int>("serverBits");
    QTest::addColumn<bool>("noContext");
    QTest::addColumn<qint64>("frameSize");
    QTest::newRow("defaults") << 15 << 15 << false << qint64(0);
    QTest::newRow("no-context-takeover") << 15 << 15 << true << qint64(0);
    QTest::newRow("window-9") << 9 << 9 << false << qint64(0);
    QTest::newRow("window-12-fragmented-1000") << 12 << 12 << false << qint64(1000);
    QTest::newRow("fragmented-1-byte-frames") << 15 << 15 << false << qint64(1);
}

void tst_WsDeflate::roundTrips()
{
    QFETCH(int, clientBits);
    QFETCH(int, serverBits);
    QFETCH(bool, noContext);
    QFETCH(qint64, frameSize);
    WsDeflateOptions c, s;
    c.maxWindowBits = clientBits;
    s.maxWindowBits = serverBits;
    c.noContextTakeover = s.noContextTakeover = noContext;
    auto co = Pair::with(c, 16 << 20), so = Pair::with(s, 16 << 20);
    co.outgoingFrameSize = so.outgoingFrameSize = frameSize;
    Pair p(co, so);
    const QList<QByteArray> messages = frameSize == 1
            ? QList<QByteArray>{jsonCorpus(20), QByteArray(3000, 'z')}
            : QList<QByteArray>{jsonCorpus(5), jsonCorpus(20000), randomBytes(300000, 1), QByteArray(2 << 20, '\0'), QByteArray(), jsonCorpus(7)};
    for (const QByteArray &m : messages) {
        p.client.sendBinary(m);
        p.server.sendBinary(m);
    }
    const QByteArray toServer = p.client.takeOutgoing();
    const QByteArray toClient = p.server.takeOutgoing();
    p.server.receiveData(toServer);
    p.client.receiveData(toClient);
    const auto se = p.server.takeEvents();
    const auto ce = p.client.takeEvents();
    QCOMPARE(int(se.size()), int(messages.size()));
    QCOMPARE(int(ce.size()), int(messages.size()));
    qint64 plain = 0;
    for (int i = 0; i < messages.size(); ++i) {
        QCOMPARE(se[i].data, messages[i]);
        QCOMPARE(ce[i].data, messages[i]);
        plain += messages[i].size();
    }
    if (frameSize != 1)
        QVERIFY2(toServer.size() < plain / 3, qPrintable(QStringLiteral("%1 of %2").arg(toServer.size()).arg(plain)));
}

void tst_WsDeflate::noContextTakeoverResetsEachMessage()
{
    WsDeflateOptions d = noThreshold();
    d.noContextTakeover = true;
    Pair p(Pair::with({}), Pair::with(d));
    p.server.sendText(QStringLiteral("Hello"));
    p.server.sendText(QStringLiteral("Hello"));
    // Without the shared window, the second message is encoded like the first.
    QCOMPARE(p.server.takeOutgoing().toHex(' '), QByteArray("c1 07 f2 48 cd c9 c9 07 00 c1 07 f2 48 cd c9 c9 07 00"));
}

void tst_WsDeflate::thresholdAndOptOut()
{
    WsDeflateOptions d;
    d.threshold = 100;
    Pair p(Pair::with(d), Pair::with(d));
    p.server.sendText(QStringLiteral("short"));
    QCOMPARE(p.server.takeOutgoing().toHex(' '), QByteArray("81 05 73 68 6f 72 74"));  // RSV1 clear
    p.server.sendBinary(QByteArray(200, 'a'), /*allowCompression=*/false);
    QCOMPARE(uchar(p.server.takeOutgoing()[0]), uchar(0x82));
    p.server.sendBinary(QByteArray(200, 'a'));
    const QByteArray compressed = p.server.takeOutgoing();
    QCOMPARE(uchar(compressed[0]), uchar(0xc2));
    QVERIFY(compressed.size() < 20);
    p.client.receiveData(compressed);
    QCOMPARE(p.client.takeEvents().at(0).data, QByteArray(200, 'a'));
}

void tst_WsDeflate::windowBits8SendsUncompressed()
{
    // zlib's raw deflate cannot use a 256-byte window; a side limited to 8 bits sends its
    // messages uncompressed (always allowed), and still inflates what it receives.
    WsDeflateOptions c = noThreshold();
    c.requestPeerMaxWindowBits = 8;
    Pair p(Pair::with(c), Pair::with(noThreshold()));
    QVERIFY(p.server.response().headers.value("Sec-WebSocket-Extensions").contains("server_max_window_bits=8"));
    p.server.sendText(QStringLiteral("Hello Hello Hello"));
    const QByteArray wire = p.server.takeOutgoing();
    QCOMPARE(uchar(wire[0]), uchar(0x81));
    p.client.sendText(QStringLiteral("Hello Hello Hello"));
    p.server.receiveData(p.client.takeOutgoing());
    QCOMPARE(p.server.takeEvents().at(0).text(), QStringLiteral("Hello Hello Hello"));
}

void tst_WsDeflate::corruptDataFailsWith1007()
{
    Pair p(Pair::with({}), Pair::with({}));
    // 0xff starts a block of reserved type 3: invalid deflate data.
    p.client.receiveData(QByteArray::fromHex("c103ffffff"));
    QCOMPARE(p.client.error(), WsError::ExtensionError);
    QCOMPARE(p.client.closeStatus().sentCode, quint16(1007));
}

void tst_WsDeflate::rsv1OnUncompressedConnectionFails()
{
    Pair p({}, {});
    p.client.receiveData(QByteArray::fromHex("c107f248cdc9c90700"));
    QCOMPARE(p.client.error(), WsError::ReservedBitsSet);
}

void tst_WsDeflate::bombStopsAtTheLimit()
{
    // 1 GiB of zeros deflates to about 1 MiB. With a 1 MiB message limit the receiver fails
    // with 1009 after inflating just past the limit, never holding the inflated gigabyte.
    z_stream z{};
    QVERIFY(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    const QByteArray zeros(1 << 20, '\0');
    QByteArray bomb;
    for (int i = 0; i < 1024; ++i) {
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zeros.constData()));
        z.avail_in = uInt(zeros.size());
        do {
            char out[16384];
            z.next_out = reinterpret_cast<Bytef *>(out);
            z.avail_out = sizeof out;
            deflate(&z, i == 1023 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
            bomb.append(out, qsizetype(sizeof out - z.avail_out));
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    bomb.chop(4);
    QVERIFY2(bomb.size() < 2 << 20, qPrintable(QString::number(bomb.size())));

    WsFixedRandom random(0x11223344);
    Pair p(Pair::with({}), Pair::with({}, 1 << 20));
    QByteArray frame;
    wsAppendFrame(frame, true, WsRsv::Rsv1, 0x2, bomb, true, 0x11223344);
    const long before = maxRssKiB();
    QElapsedTimer t;
    t.start();
    p.server.receiveData(frame);
    const qint64 ms = t.elapsed();
    QCOMPARE(p.server.error(), WsError::MessageTooLarge);
    QCOMPARE(p.server.closeStatus().sentCode, quint16(1009));
    const long grown = maxRssKiB() - before;
    qInfo("bomb: %lld compressed bytes stopped in %lld ms, peak RSS grew by %ld KiB", static_cast<long long>(bomb.size()), ms, grown);
    QVERIFY2(grown < 32 * 1024, qPrintable(QStringLiteral("RSS grew by %1 KiB").arg(grown)));
}

void tst_WsDeflate::streamingDecompression()
{
    auto so = Pair::with({}, 64 << 20);
    so.streamMessages = true;
    Pair p(Pair::with({}), so);
    const QByteArray big = jsonCorpus(100000);  // ~5 MB, compresses well
    p.client.sendText(QByteArrayView(big));
    const QByteArray wire = p.client.takeOutgoing();
    QByteArray assembled;
    int pieces = 0;
    for (qsizetype pos = 0; pos < wire.size(); pos += 4096) {
        p.server.receiveData(wire.mid(pos, 4096));
        for (const WsEvent &e : p.server.takeEvents()) {
            QCOMPARE(e.type, WsEvent::Fragment);
            assembled += e.data;
            ++pieces;
        }
    }
    QCOMPARE(assembled, big);
    QVERIFY(pieces > 10);
}

void tst_WsDeflate::emptyLastFrameKeepsStreamValid()
{
    // Found by Python websockets and wsproto: a message sent frame by frame whose last
    // frame is empty must still end like any compressed message, or the peer's inflater
    // breaks on the next one. zlib writes a lone 00 for it.
    Pair p(Pair::with(noThreshold()), Pair::with(noThreshold()));
    QCOMPARE(p.client.sendFrame(WsOpcode::Text, "frag", false), WsError::NoError);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "mented", false), WsError::NoError);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "", true), WsError::NoError);
    p.client.sendText(QStringLiteral("next message"));
    const QByteArray wire = p.client.takeOutgoing();
    p.server.receiveData(wire);
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(2));
    QCOMPARE(events[0].data, QByteArray("fragmented"));
    QCOMPARE(events[1].data, QByteArray("next message"));
    // And raw zlib, as any other implementation would inflate it, agrees.
    z_stream z{};
    QVERIFY(inflateInit2(&z, -15) == Z_OK);
    QByteArray payloads;
    WsFrameReader reader(WsFrameReader::Role::Server);
    reader.setAllowedRsv(WsRsv::Rsv1);
    qsizetype consumed = 0;
    QByteArray out(4096, '\0');
    QList<QByteArray> messages;
    QByteArray current;
    for (;;) {
        const auto item = reader.next(wire.constData(), wire.size(), &consumed);
        if (item.type == WsFrameReader::Item::None)
            break;
        if (item.type == WsFrameReader::Item::Payload || (item.type == WsFrameReader::Item::Header && item.frameEnd)) {
            QByteArray piece(item.size, Qt::Uninitialized);
            if (item.size)
                item.copyTo(piece.data());
            current += piece;
            if (item.frameEnd && item.header.fin) {
                current += QByteArray::fromHex("0000ffff");
                z.next_in = reinterpret_cast<Bytef *>(current.data());
                z.avail_in = uInt(current.size());
                z.next_out = reinterpret_cast<Bytef *>(out.data());
                z.avail_out = uInt(out.size());
                QVERIFY(inflate(&z, Z_SYNC_FLUSH) == Z_OK);
                messages.append(out.left(out.size() - qsizetype(z.avail_out)));
                current.clear();
            }
        }
    }
    inflateEnd(&z);
    QCOMPARE(messages, (QList<QByteArray>{"fragmented", "next message"}));
}

void tst_WsDeflate::smallMessagesKeepSmallBuffers()
{
    // Each delivered message owns its buffer until the application lets it go: a 5-byte
    // message must not pin tens of KiB of spare capacity (it once held 128 KiB).
    Pair p(Pair::with(noThreshold()), Pair::with({}));
    for (int i = 0; i < 2000; ++i)
        p.client.sendText(QStringLiteral("Hello"));
    p.server.receiveData(p.client.takeOutgoing());
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(2000));
    qsizetype capacity = 0;
    for (const WsEvent &e : events) {
        QCOMPARE(e.type, WsEvent::Message);
        QCOMPARE(e.data, QByteArray("Hello"));
        capacity = std::max(capacity, e.data.capacity());
    }
    QVERIFY2(capacity <= 512, qPrintable(QString::number(capacity)));
}

void tst_WsDeflate::largeMessageGrowsGeometrically()
{
    // 8 MiB of zeros compress ~1000:1; the output buffer grows by half each time, so it ends
    // within twice the message and the inflater is called a few dozen times, not thousands.
    Pair p(Pair::with(noThreshold()), Pair::with({}, 64 << 20));
    const QByteArray zeros(8 << 20, '\0');
    p.client.sendBinary(zeros);
    p.server.receiveData(p.client.takeOutgoing());
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events.front().data.size(), zeros.size());
    QVERIFY(events.front().data == zeros);
    QVERIFY2(events.front().data.capacity() <= 2 * zeros.size(), qPrintable(QString::number(events.front().data.capacity())));
}

void tst_WsDeflate::rsv1OnControlFrameFails()
{
    // Found by tests/conformance (12.6.2): permessage-deflate claims RSV1 for data frames
    // only (RFC 7692 §6.1); a ping with it set fails the connection.
    Pair p(Pair::with({}), Pair::with({}));
    QByteArray frame;
    wsAppendFrame(frame, true, WsRsv::Rsv1, 0x9, QByteArrayView("compressed?"), true, 0x01020304);
    p.server.receiveData(frame);
    QCOMPARE(p.server.error(), WsError::ReservedBitsSet);
    QCOMPARE(p.server.closeStatus().sentCode, quint16(1002));
    QVERIFY(!p.server.takeOutgoing().startsWith(char(0x8a)));  // no pong
}

void tst_WsDeflate::receiveSomeLetsTheApplicationAnswerFirst()
{
    // Found by tests/conformance (3.2, 7.1.1, ...): a message and a close in one read. Fed
    // event by event, the echo goes out before the close reply.
    Pair p(Pair::with({}), Pair::with({}));
    p.client.sendText(QStringLiteral("Hello World!"), false);
    p.client.close(1000);
    const QByteArray wire = p.client.takeOutgoing();
    QByteArrayView rest(wire);
    const qsizetype used = p.server.receiveSome(rest);
    QVERIFY(used > 0 && used < rest.size());
    auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events.front().text(), QStringLiteral("Hello World!"));
    QCOMPARE(p.server.sendText(events.front().text(), false), WsError::NoError);  // the echo
    rest = rest.sliced(used);
    QCOMPARE(p.server.receiveSome(rest), rest.size());
    const QByteArray out = p.server.takeOutgoing();
    QCOMPARE(out.toHex(' '), QByteArray("81 0c 48 65 6c 6c 6f 20 57 6f 72 6c 64 21 88 02 03 e8"));
}

void tst_WsDeflate::byteOrderMarkIsContent()
{
    // Found by tests/conformance (6.23.2): QString::fromUtf8() drops a leading U+FEFF.
    Pair p(Pair::with({}), Pair::with({}));
    p.client.sendText(QByteArrayView("\xef\xbb\xbf" "a"), false);
    p.server.receiveData(p.client.takeOutgoing());
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events.front().text(), QString(QChar(0xFEFF)) + QLatin1Char('a'));
}

QTEST_APPLESS_MAIN(tst_WsDeflate)
#include "tst_wsdeflate.moc"

