// RFC 6455 §5: frame headers, masking and the incremental frame reader.

#include <wsframe.h>

#include <QtTest/QtTest>

#include "testutil.h"

#include <cstring>

Q_DECLARE_METATYPE(WsError)

namespace {

quint32 maskOf(const char *bytes)
{
    quint32 m;
    std::memcpy(&m, bytes, 4);
    return m;
}

const quint32 kRfcMask = maskOf("\x37\xfa\x21\x3d");  // RFC 6455 §5.7

struct ReadFrame
{
    WsFrameHeader header;
    QByteArray payload;
};

// Reads every frame from the chunks in order; stops at the first error.
QList<ReadFrame> readAll(WsFrameReader::Role role, const QList<QByteArray> &chunks, WsError *error,
                         quint8 allowedRsv = 0, quint64 maxPayload = ~quint64(0))
{
    WsFrameReader reader(role);
    reader.setAllowedRsv(allowedRsv);
    reader.setMaxFramePayload(maxPayload);
    QList<ReadFrame> frames;
    *error = WsError::NoError;
    for (const QByteArray &chunk : chunks) {
        qsizetype consumed = 0;
        for (;;) {
            const auto item = reader.next(chunk.constData(), chunk.size(), &consumed);
            if (item.type == WsFrameReader::Item::None)
                break;
            if (item.type == WsFrameReader::Item::Error) {
                *error = item.error;
                return frames;
            }
            if (item.type == WsFrameReader::Item::Header) {
                frames.append({item.header, QByteArray()});
            } else {
                QByteArray piece(item.size, Qt::Uninitialized);
                item.copyTo(piece.data());
                frames.last().payload += piece;
            }
        }
        if (consumed != chunk.size()) {
            *error = WsError::InternalError;  // the reader must consume everything it is given
            return frames;
        }
    }
    return frames;
}

QByteArray pattern(qsizetype n)
{
    QByteArray b(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i)
        b[i] = char((i * 7 + 3) & 0xff);
    return b;
}

} // namespace

class tst_WsFrame : public QObject
{
    Q_OBJECT
private slots:
    void rfcExamples_data();
    void rfcExamples();
    void headerLengthEncoding_data();
    void headerLengthEncoding();
    void rejectsLengthWithMsbSet();
    void headerNeedsMore();
    void maskingMatchesNaive();
    void maskingChunked();
    void readerRules_data();
    void readerRules();
    void hugeDeclaredLengthCostsNothing();
    void severalFramesInOneBuffer();
};

void tst_WsFrame::rfcExamples_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<bool>("fromClient");
    QTest::addColumn<bool>("fin");
    QTest::addColumn<int>("opcode");
    QTest::addColumn<QByteArray>("payload");

    const QByteArray hello("Hello");
    QTest::newRow("rfc6455-5.7/unmasked-text")
            << QByteArray::fromHex("810548656c6c6f") << false << true << 0x1 << hello;
    QTest::newRow("rfc6455-5.7/masked-text")
            << QByteArray::fromHex("818537fa213d7f9f4d5158") << true << true << 0x1 << hello;
    QTest::newRow("rfc6455-5.7/fragment-1")
            << QByteArray::fromHex("010348656c") << false << false << 0x1 << QByteArray("Hel");
    QTest::newRow("rfc6455-5.7/fragment-2")
            << QByteArray::fromHex("80026c6f") << false << true << 0x0 << QByteArray("lo");
    QTest::newRow("rfc6455-5.7/unmasked-ping")
            << QByteArray::fromHex("890548656c6c6f") << false << true << 0x9 << hello;
    QTest::newRow("rfc6455-5.7/masked-pong")
            << QByteArray::fromHex("8a8537fa213d7f9f4d5158") << true << true << 0xA << hello;
    const QByteArray b256 = pattern(256);
    QTest::newRow("rfc6455-5.7/binary-256-16bit-length")
            << QByteArray::fromHex("827e0100") + b256 << false << true << 0x2 << b256;
    const QByteArray b64k = pattern(65536);
    QTest::newRow("rfc6455-5.7/binary-64k-64bit-length")
            << QByteArray::fromHex("827f0000000000010000") + b64k << false << true << 0x2 << b64k;
}

void tst_WsFrame::rfcExamples()
{
    QFETCH(QByteArray, wire);
    QFETCH(bool, fromClient);
    QFETCH(bool, fin);
    QFETCH(int, opcode);
    QFETCH(QByteArray, payload);

    // Serialized byte-exact ...
    QByteArray encoded;
    wsAppendFrame(encoded, fin, 0, quint8(opcode), payload, fromClient, kRfcMask);
    QCOMPARE(encoded.toHex(), wire.toHex());

    // ... and parsed back, however the bytes are cut (the 64 KiB row only whole and in
    // a few pieces, to keep the test fast).
    const auto role = fromClient ? WsFrameReader::Role::Server : WsFrameReader::Role::Client;
    QList<QList<QByteArray>> cuts = wire.size() > 1000
            ? QList<QList<QByteArray>>{{wire}, {wire.left(1), wire.mid(1, 5), wire.mid(6)},
                                       {wire.left(9), wire.mid(9, 1), wire.mid(10, 4000), wire.mid(4010)}}
            : splits(wire);
    for (const auto &chunks : cuts) {
        WsError error;
        const auto frames = readAll(role, chunks, &error);
        QCOMPARE(error, WsError::NoError);
        QCOMPARE(frames.size(), 1);
        QCOMPARE(frames[0].header.fin, fin);
        QCOMPARE(int(frames[0].header.opcode), opcode);
        QCOMPARE(frames[0].header.masked, fromClient);
        QCOMPARE(frames[0].header.payloadLength, quint64(payload.size()));
        QCOMPARE(frames[0].payload, payload);
    }
}

void tst_WsFrame::headerLengthEncoding_data()
{
    QTest::addColumn<quint64>("length");
    QTest::addColumn<int>("size");
    QTest::newRow("rfc6455-5.2/len-0") << quint64(0) << 2;
    QTest::newRow("rfc6455-5.2/len-125") << quint64(125) << 2;
    QTest::newRow("rfc6455-5.2/len-126-uses-16bit") << quint64(126) << 4;
    QTest::newRow("rfc6455-5.2/len-65535") << quint64(65535) << 4;
    QTest::newRow("rfc6455-5.2/len-65536-uses-64bit") << quint64(65536) << 10;
    QTest::newRow("rfc6455-5.2/len-4GiB") << (quint64(1) << 32) << 10;
    QTest::newRow("rfc6455-5.2/len-2^63-1") << ((quint64(1) << 63) - 1) << 10;
}

void tst_WsFrame::headerLengthEncoding()
{
    QFETCH(quint64, length);
    QFETCH(int, size);
    for (bool masked : {false, true}) {
        char buf[WsFrameHeader::MaxSize];
        const int n = wsEncodeFrameHeader(buf, true, WsRsv::Rsv1, 0x2, length, masked, kRfcMask);
        QCOMPARE(n, size + (masked ? 4 : 0));
        WsFrameHeader h;
        QCOMPARE(wsDecodeFrameHeader(buf, n, &h), WsHeaderParse::Ok);
        QCOMPARE(h.payloadLength, length);
        QCOMPARE(int(h.headerSize), n);
        QCOMPARE(h.masked, masked);
        QCOMPARE(h.rsv, quint8(WsRsv::Rsv1));
        QCOMPARE(h.opcode, quint8(2));
        if (masked)
            QCOMPARE(h.mask, kRfcMask);
        // One byte short is never enough.
        QCOMPARE(wsDecodeFrameHeader(buf, n - 1, &h), WsHeaderParse::NeedMore);
    }
}

void tst_WsFrame::rejectsLengthWithMsbSet()
{
    // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
    const QByteArray wire = QByteArray::fromHex("827f8000000000000000");
    WsFrameHeader h;
    QCOMPARE(wsDecodeFrameHeader(wire.constData(), wire.size(), &h), WsHeaderParse::Invalid);
    for (const auto &chunks : splits(wire)) {
        WsError error;
        readAll(WsFrameReader::Role::Client, chunks, &error);
        QCOMPARE(error, WsError::InvalidLength);
    }
}

void tst_WsFrame::headerNeedsMore()
{
    WsFrameHeader h;
    QCOMPARE(wsDecodeFrameHeader("", 0, &h), WsHeaderParse::NeedMore);
    QCOMPARE(wsDecodeFrameHeader("\x81", 1, &h), WsHeaderParse::NeedMore);
    QCOMPARE(wsDecodeFrameHeader("\x81\xfe\x01", 3, &h), WsHeaderParse::NeedMore);
    QCOMPARE(wsDecodeFrameHeader("\x81\x85\x37\xfa\x21", 5, &h), WsHeaderParse::NeedMore);
    QCOMPARE(wsDecodeFrameHeader("\x81\x85\x37\xfa\x21\x3d", 6, &h), WsHeaderParse::Ok);
}

void tst_WsFrame::maskingMatchesNaive()
{
    // Every length through several SIMD blocks, every starting offset, unaligned buffers.
    const quint32 mask = maskOf("\xa1\xb2\xc3\xd4");
    const uchar mb[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    QByteArray storage = pattern(300);
    for (int align = 0; align < 3; ++align) {
        for (qsizetype len = 0; len <= 200; ++len) {
            for (quint64 offset = 0; offset < 4; ++offset) {
                const char *src = storage.constData() + align;
                QByteArray expected(len, Qt::Uninitialized);
                for (qsizetype i = 0; i < len; ++i)
                    expected[i] = char(uchar(src[i]) ^ mb[(offset + quint64(i)) & 3]);
                QByteArray copied(len + 1, 'X');
                const quint64 next = wsCopyMasked(copied.data() + 1, src, len, mask, offset);
                QCOMPARE(next, (offset + quint64(len)) & 3);
                QCOMPARE(copied.mid(1), expected);
                QCOMPARE(copied[0], 'X');
                QByteArray inPlace(src, len);
                wsApplyMask(inPlace.data(), len, mask, offset);
                QCOMPARE(inPlace, expected);
            }
        }
    }
}

void tst_WsFrame::maskingChunked()
{
    // Masking a payload in arbitrary pieces, carrying the offset, equals masking it whole.
    const quint32 mask = kRfcMask;
    const QByteArray data = pattern(1000);
    QByteArray whole = data;
    wsApplyMask(whole.data(), whole.size(), mask);
    for (int step : {1, 3, 5, 7, 17, 63, 129}) {
        QByteArray pieces = data;
        quint64 offset = 0;
        for (qsizetype pos = 0; pos < pieces.size(); pos += step) {
            const qsizetype n = std::min<qsizetype>(step, pieces.size() - pos);
            offset = wsApplyMask(pieces.data() + pos, n, mask, offset);
        }
        QCOMPARE(pieces, whole);
    }
    // Masking twice restores the data (XOR).
    wsApplyMask(whole.data(), whole.size(), mask);
    QCOMPARE(whole, data);
}

void tst_WsFrame::readerRules_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<bool>("serverReads");
    QTest::addColumn<int>("allowedRsv");
    QTest::addColumn<WsError>("error");

    const auto masked = [](const char *hexHeader, QByteArray payload = QByteArray()) {
        QByteArray w = QByteArray::fromHex(hexHeader) + QByteArray::fromHex("00000000") + payload;
        return w;
    };
    for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        QByteArray w = QByteArray::fromHex("8000");
        w[0] = char(0x80 | op);
        QTest::addRow("rfc6455-5.2/reserved-opcode-%X", op) << w << false << 0 << WsError::ReservedOpcode;
    }
    QTest::newRow("rfc6455-5.2/rsv1-not-negotiated") << QByteArray::fromHex("c100") << false << 0 << WsError::ReservedBitsSet;
    QTest::newRow("rfc6455-5.2/rsv2-not-negotiated") << QByteArray::fromHex("a100") << false << 0 << WsError::ReservedBitsSet;
    QTest::newRow("rfc6455-5.2/rsv3-not-negotiated") << QByteArray::fromHex("9100") << false << 0 << WsError::ReservedBitsSet;
    QTest::newRow("rfc6455-5.2/rsv2-with-rsv1-negotiated") << QByteArray::fromHex("e100") << false << int(WsRsv::Rsv1) << WsError::ReservedBitsSet;
    QTest::newRow("rfc6455-5.2/rsv1-negotiated-ok") << QByteArray::fromHex("c100") << false << int(WsRsv::Rsv1) << WsError::NoError;
    QTest::newRow("rfc6455-5.1/unmasked-to-server") << QByteArray::fromHex("8100") << true << 0 << WsError::UnmaskedClientFrame;
    QTest::newRow("rfc6455-5.1/masked-to-client") << masked("8180") << false << 0 << WsError::MaskedServerFrame;
    QTest::newRow("rfc6455-5.1/masked-to-server-ok") << masked("8180") << true << 0 << WsError::NoError;
    QTest::newRow("rfc6455-5.5/ping-126-bytes") << QByteArray::fromHex("897e007e") + QByteArray(126, 'x') << false << 0 << WsError::ControlFrameTooLarge;
    QTest::newRow("rfc6455-5.5/ping-125-bytes-ok") << QByteArray::fromHex("897d") + QByteArray(125, 'x') << false << 0 << WsError::NoError;
    QTest::newRow("rfc6455-5.5/close-with-64bit-length") << QByteArray::fromHex("887f0000000000000002") + QByteArray("\x03\xe8", 2) << false << 0 << WsError::NoError;
    QTest::newRow("rfc6455-5.5/fragmented-ping") << QByteArray::fromHex("0900") << false << 0 << WsError::FragmentedControlFrame;
    QTest::newRow("rfc6455-5.5/fragmented-close") << QByteArray::fromHex("0800") << false << 0 << WsError::FragmentedControlFrame;
    QTest::newRow("limits/frame-over-max") << QByteArray::fromHex("827e0401") + QByteArray(1025, 'x') << false << 0 << WsError::FrameTooLarge;
    QTest::newRow("limits/frame-at-max-ok") << QByteArray::fromHex("827e0400") + QByteArray(1024, 'x') << false << 0 << WsError::NoError;
}

void tst_WsFrame::readerRules()
{
    QFETCH(QByteArray, wire);
    QFETCH(bool, serverReads);
    QFETCH(int, allowedRsv);
    QFETCH(WsError, error);
    const auto role = serverReads ? WsFrameReader::Role::Server : WsFrameReader::Role::Client;
    for (const auto &chunks : splits(wire)) {
        WsError got;
        const auto frames = readAll(role, chunks, &got, quint8(allowedRsv), 1024);
        QCOMPARE(got, error);
        if (error != WsError::NoError)
            QVERIFY(frames.isEmpty());  // no part of a bad frame is delivered
        else
            QCOMPARE(frames.size(), 1);
    }
}

void tst_WsFrame::hugeDeclaredLengthCostsNothing()
{
    // A header announcing 2^63-1 bytes is just a header: the reader reports it and then
    // hands out only the bytes that came.
    const QByteArray wire = QByteArray::fromHex("827f7fffffffffffffff") + "abc";
    WsFrameReader reader(WsFrameReader::Role::Client);
    qsizetype consumed = 0;
    auto item = reader.next(wire.constData(), wire.size(), &consumed);
    QCOMPARE(item.type, WsFrameReader::Item::Header);
    QCOMPARE(item.header.payloadLength, (quint64(1) << 63) - 1);
    item = reader.next(wire.constData(), wire.size(), &consumed);
    QCOMPARE(item.type, WsFrameReader::Item::Payload);
    QCOMPARE(item.size, qsizetype(3));
    QVERIFY(!item.frameEnd);
    QVERIFY(reader.inFrame());
    QCOMPARE(reader.next(wire.constData(), wire.size(), &consumed).type, WsFrameReader::Item::None);
    QCOMPARE(consumed, wire.size());
}

void tst_WsFrame::severalFramesInOneBuffer()
{
    // Text, an interleaved ping, a continuation, an empty binary frame, a close.
    QByteArray wire;
    wsAppendFrame(wire, false, 0, 0x1, "Hel", true, kRfcMask);
    wsAppendFrame(wire, true, 0, 0x9, "p", true, kRfcMask);
    wsAppendFrame(wire, true, 0, 0x0, "lo", true, maskOf("\x01\x02\x03\x04"));
    wsAppendFrame(wire, true, 0, 0x2, QByteArray(), true, kRfcMask);
    wsAppendFrame(wire, true, 0, 0x8, QByteArray("\x03\xe8", 2), true, kRfcMask);
    for (const auto &chunks : splits(wire)) {
        WsError error;
        const auto frames = readAll(WsFrameReader::Role::Server, chunks, &error);
        QCOMPARE(error, WsError::NoError);
        QCOMPARE(frames.size(), 5);
        QCOMPARE(frames[0].payload, QByteArray("Hel"));
        QCOMPARE(frames[1].header.opcode, quint8(0x9));
        QCOMPARE(frames[2].payload, QByteArray("lo"));
        QCOMPARE(frames[3].header.payloadLength, quint64(0));
        QCOMPARE(frames[4].payload, QByteArray("\x03\xe8", 2));
    }
    QCOMPARE(QString::fromLatin1(wsOpcodeName(0x9)), QStringLiteral("PING"));
    QCOMPARE(QString::fromLatin1(wsOpcodeName(0x3)), QStringLiteral("RESERVED"));
}

QTEST_APPLESS_MAIN(tst_WsFrame)
#include "tst_wsframe.moc"
