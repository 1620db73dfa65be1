// RFC 6455 §5-§7 through the sans-I/O connection: messages, control frames, the close
// handshake, failures with their close codes, limits, local errors and the extension hook.

#include <wsconnection.h>
#include <wsrandom.h>

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

const quint32 kMask = maskOf("\x37\xfa\x21\x3d");

QByteArray frame(bool fin, int opcode, const QByteArray &payload, bool masked, int rsv = 0)
{
    QByteArray out;
    wsAppendFrame(out, fin, quint8(rsv), quint8(opcode), payload, masked, kMask);
    return out;
}
// A frame as a client sends it (masked), and as a server sends it.
QByteArray cf(bool fin, int opcode, const QByteArray &payload, int rsv = 0) { return frame(fin, opcode, payload, true, rsv); }
QByteArray sf(bool fin, int opcode, const QByteArray &payload, int rsv = 0) { return frame(fin, opcode, payload, false, rsv); }
QByteArray closePayload(quint16 code, const QByteArray &reason = QByteArray())
{
    QByteArray p;
    p += char(code >> 8);
    p += char(code & 0xff);
    return p + reason;
}

struct Frame
{
    WsFrameHeader header;
    QByteArray payload;
};

QList<Frame> parseFrames(const QByteArray &bytes, WsFrameReader::Role readerRole)
{
    WsFrameReader reader(readerRole);
    reader.setAllowedRsv(7);
    QList<Frame> frames;
    qsizetype consumed = 0;
    for (;;) {
        const auto item = reader.next(bytes.constData(), bytes.size(), &consumed);
        if (item.type == WsFrameReader::Item::None || item.type == WsFrameReader::Item::Error)
            break;
        if (item.type == WsFrameReader::Item::Header) {
            frames.append({item.header, QByteArray()});
        } else {
            QByteArray piece(item.size, Qt::Uninitialized);
            item.copyTo(piece.data());
            frames.last().payload += piece;
        }
    }
    return frames;
}

// Drives a client and a server connection to Open in memory.
struct Pair
{
    WsFixedRandom random{0x37fa213d};
    WsConnection client;
    WsConnection server;
    std::vector<WsEvent> clientEvents, serverEvents;

    explicit Pair(const WsConnectionOptions &clientOptions = {}, const WsConnectionOptions &serverOptions = {})
        : client(WsRole::Client, clientOptions, &random), server(WsRole::Server, serverOptions, &random)
    {
        openPair(client, server);
    }

    // Moves bytes both ways until quiet, collecting events.
    void pump()
    {
        for (int i = 0; i < 10 && (client.outgoingSize() || server.outgoingSize()); ++i) {
            server.receiveData(client.takeOutgoing());
            client.receiveData(server.takeOutgoing());
        }
        for (auto &e : client.takeEvents())
            clientEvents.push_back(std::move(e));
        for (auto &e : server.takeEvents())
            serverEvents.push_back(std::move(e));
    }
};

QList<WsEvent::Type> typesOf(const std::vector<WsEvent> &events)
{
    QList<WsEvent::Type> t;
    for (const WsEvent &e : events)
        t.append(e.type);
    return t;
}

// A test extension: claims RSV1 and XORs payloads with 0x55; on receipt each byte may be
// expanded `factor` times, like a decompressor, to test the output limit.
class XorExtension : public WsExtension
{
public:
    explicit XorExtension(int factor) : m_factor(factor) {}
    QByteArray name() const override { return "x-xor"; }
    quint8 rsvBits() const override { return WsRsv::Rsv1; }
    quint16 opcodes() const override { return (1u << 0x3) | (1u << 0xB) | (1u << 0x9); }  // 9 is not claimable
    bool beginIncoming(quint8 rsv) override { return rsv == WsRsv::Rsv1; }
    WsError decode(QByteArrayView in, bool, QByteArray &out, qint64 maxOutput) override
    {
        if (in.contains('\xff' ^ 0x55))
            return WsError::ExtensionError;  // our "corrupt data"
        qint64 produced = 0;
        for (char c : in) {
            if (produced + m_factor > maxOutput)
                return WsError::MessageTooLarge;
            out.append(m_factor, char(c ^ 0x55));
            produced += m_factor;
        }
        return WsError::NoError;
    }
    quint8 beginOutgoing(WsOpcode, qint64, bool allowed) override { return allowed ? WsRsv::Rsv1 : 0; }
    void encode(QByteArrayView in, bool, QByteArray &out) override
    {
        for (char c : in)
            out.append(char(c ^ 0x55));
    }

private:
    int m_factor;
};

class XorFactory : public WsExtensionFactory
{
public:
    explicit XorFactory(int factor = 1) : m_factor(factor) {}
    QByteArray name() const override { return "x-xor"; }
    QList<WsExtensionOffer> clientOffers() const override
    {
        return {WsExtensionOffer{"x-xor", {{"fallback", "", false}}}};
    }
    std::unique_ptr<WsExtension> clientAccept(const WsExtensionOffer &response) const override
    {
        if (!response.params.isEmpty())
            return nullptr;
        return std::make_unique<XorExtension>(m_factor);
    }
    std::unique_ptr<WsExtension> serverAccept(const QList<WsExtensionOffer> &offers,
                                              WsExtensionOffer *response) const override
    {
        if (offers.isEmpty())
            return nullptr;
        *response = WsExtensionOffer{"x-xor", {}};
        return std::make_unique<XorExtension>(m_factor);
    }

private:
    int m_factor;
};

} // namespace

class tst_WsConnection : public QObject
{
    Q_OBJECT
private slots:
    void rfcMaskedHelloFromClient();
    void messagesBothWays();
    void fragmentedWithInterleavedPing();
    void violations_data();
    void violations();
    void clientSideViolations_data();
    void clientSideViolations();
    void validCloseCodes_data();
    void validCloseCodes();
    void closeWithoutCode();
    void serverInitiatedClose();
    void closeReasonTruncatedOnUtf8Boundary();
    void dataAfterCloseIsIgnored();
    void dataWhileLocalClosingIsDelivered();
    void remoteClosingWaitsForFragmentedMessage();
    void abnormalClosure();
    void localErrors();
    void fragmentedSending();
    void outgoingAutoFragmentation();
    void streamingDelivery();
    void streamingKeepsCodePointsWhole();
    void splitTextAcrossFramesAccepted();
    void limitsFailFastFromHeader();
    void hugeFrameHeaderCostsNothing();
    void tooManyFragments();
    void customFailure();
    void extensionHook();
    void extensionOptOut();
    void extensionOutputLimit();
    void extensionCorruptData();
    void extensionNotOfferedByServer();
    void errorTable();
    void closeCodeNames();
    void transformedWireLimit();
    void pingFromApplication();
    void frameLogsShortenPayloads();
    void fixedRandomSequence();
    void preparedMessages();
    void plainHttpDelivered();
    void extensionOpcodes();
    void frameObserver();
};

void tst_WsConnection::rfcMaskedHelloFromClient()
{
    // RFC 6455 §5.7: a single-frame masked text message "Hello" with the key 37 fa 21 3d.
    Pair p;
    QCOMPARE(p.client.state(), WsState::Open);
    QCOMPARE(p.server.state(), WsState::Open);
    QCOMPARE(p.client.sendText(QStringLiteral("Hello")), WsError::NoError);
    QCOMPARE(p.client.takeOutgoing().toHex(), QByteArray("818537fa213d7f9f4d5158"));
    QCOMPARE(p.server.sendText(QStringLiteral("Hello")), WsError::NoError);
    QCOMPARE(p.server.takeOutgoing().toHex(), QByteArray("810548656c6c6f"));
}

void tst_WsConnection::messagesBothWays()
{
    Pair p;
    const QByteArray big(100000, 'z');
    p.client.sendText(QStringLiteral("h\u00e9llo \U0001F600"));
    p.client.sendBinary(big);
    p.client.sendBinary(QByteArray());
    p.server.sendText(QByteArrayView("pong"));
    p.pump();
    QCOMPARE(typesOf(p.serverEvents), (QList<WsEvent::Type>{WsEvent::Message, WsEvent::Message, WsEvent::Message}));
    QCOMPARE(p.serverEvents[0].opcode, WsOpcode::Text);
    QCOMPARE(p.serverEvents[0].text(), QStringLiteral("h\u00e9llo \U0001F600"));
    QCOMPARE(p.serverEvents[1].opcode, WsOpcode::Binary);
    QCOMPARE(p.serverEvents[1].data, big);
    QCOMPARE(p.serverEvents[2].data, QByteArray());
    QCOMPARE(typesOf(p.clientEvents), QList<WsEvent::Type>{WsEvent::Message});
    QCOMPARE(p.clientEvents[0].data, QByteArray("pong"));
}

void tst_WsConnection::fragmentedWithInterleavedPing()
{
    // RFC 6455 §5.4: control frames may be injected in the middle of a fragmented message,
    // §5.5.2: and a ping is answered at once with the same payload.
    const QByteArray wire = cf(false, 0x1, "Hel") + cf(true, 0x9, "ping!") + cf(false, 0x0, "l")
            + cf(true, 0x0, "o");
    for (const auto &chunks : splits(wire)) {
        Pair p;
        for (const QByteArray &c : chunks)
            p.server.receiveData(c);
        const auto events = p.server.takeEvents();
        QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::Ping, WsEvent::Message}));
        QCOMPARE(events[0].data, QByteArray("ping!"));
        QCOMPARE(events[1].data, QByteArray("Hello"));
        const auto out = parseFrames(p.server.takeOutgoing(), WsFrameReader::Role::Client);
        QCOMPARE(out.size(), 1);
        QCOMPARE(out[0].header.opcode, quint8(0xA));
        QCOMPARE(out[0].payload, QByteArray("ping!"));
    }
}

void tst_WsConnection::violations_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<WsError>("error");
    QTest::addColumn<int>("closeCode");
    QTest::addColumn<int>("messagesBefore");

    QTest::newRow("rfc6455-5.2/reserved-opcode-3") << cf(true, 0x3, "") << WsError::ReservedOpcode << 1002 << 0;
    QTest::newRow("rfc6455-5.2/reserved-opcode-B") << cf(true, 0xB, "") << WsError::ReservedOpcode << 1002 << 0;
    QTest::newRow("rfc6455-5.2/rsv1-without-extension") << cf(true, 0x1, "x", 4) << WsError::ReservedBitsSet << 1002 << 0;
    QTest::newRow("rfc6455-5.2/rsv3-without-extension") << cf(true, 0x2, "x", 1) << WsError::ReservedBitsSet << 1002 << 0;
    QTest::newRow("rfc6455-5.1/unmasked-client-frame") << sf(true, 0x1, "hi") << WsError::UnmaskedClientFrame << 1002 << 0;
    QTest::newRow("rfc6455-5.2/length-msb-set") << QByteArray::fromHex("82ff8000000000000000") << WsError::InvalidLength << 1002 << 0;
    QTest::newRow("rfc6455-5.5/ping-over-125") << cf(true, 0x9, QByteArray(126, 'p')) << WsError::ControlFrameTooLarge << 1002 << 0;
    QTest::newRow("rfc6455-5.5/fragmented-ping") << cf(false, 0x9, "p") << WsError::FragmentedControlFrame << 1002 << 0;
    QTest::newRow("rfc6455-5.4/continuation-without-start") << cf(true, 0x0, "x") << WsError::UnexpectedContinuation << 1002 << 0;
    QTest::newRow("rfc6455-5.4/new-message-inside-fragmented") << cf(false, 0x1, "a") + cf(true, 0x2, "b") << WsError::ExpectedContinuation << 1002 << 0;
    QTest::newRow("rfc6455-5.4/continuation-after-complete") << cf(true, 0x1, "a") + cf(true, 0x0, "b") << WsError::UnexpectedContinuation << 1002 << 1;
    QTest::newRow("rfc6455-5.5.1/close-payload-1-byte") << cf(true, 0x8, "\x03") << WsError::InvalidClosePayload << 1002 << 0;
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
        QTest::addRow("rfc6455-7.4/invalid-close-code-%d", code) << cf(true, 0x8, closePayload(quint16(code)))
                                                                 << WsError::InvalidCloseCode << 1002 << 0;
    QTest::newRow("rfc6455-5.5.1/close-reason-not-utf8") << cf(true, 0x8, closePayload(1000, "\xce\xba\xe1\xbd")) << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/text-not-utf8") << cf(true, 0x1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80") << WsError::InvalidUtf8 << 1007 << 0;
    // Fail fast: the first fragment is already invalid; the message never ends.
    QTest::newRow("rfc6455-8.1/fail-fast-in-first-fragment") << cf(false, 0x1, "ok\xf5") << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/fail-fast-mid-frame") << QByteArray(cf(true, 0x1, "abc\xc0\xaf" "defghij")).left(12) << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/truncated-at-message-end") << cf(false, 0x1, "ab") + cf(true, 0x0, "\xe2\x82") << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/overlong") << cf(true, 0x1, "\xc0\xaf") << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/surrogate") << cf(true, 0x1, "\xed\xa0\x80") << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("rfc6455-8.1/above-10FFFF") << cf(true, 0x1, "\xf4\x90\x80\x80") << WsError::InvalidUtf8 << 1007 << 0;
    QTest::newRow("limits/message-over-1MiB") << QByteArray(cf(true, 0x2, QByteArray((1 << 20) + 1, 'x'))).left(20) << WsError::MessageTooLarge << 1009 << 0;
    QTest::newRow("limits/fragments-over-1MiB") << cf(false, 0x2, QByteArray(1 << 19, 'x')) + cf(true, 0x0, QByteArray((1 << 19) + 1, 'y')).left(16)
                                                << WsError::MessageTooLarge << 1009 << 0;
    QTest::newRow("limits/frame-announcing-2^63-1") << QByteArray::fromHex("82ff7fffffffffffffff37fa213d") << WsError::MessageTooLarge << 1009 << 0;
}

void tst_WsConnection::violations()
{
    QFETCH(QByteArray, wire);
    QFETCH(WsError, error);
    QFETCH(int, closeCode);
    QFETCH(int, messagesBefore);

    // Big vectors are cut in a few places only; small ones at every offset.
    const QList<QList<QByteArray>> cuts = wire.size() > 256
            ? QList<QList<QByteArray>>{{wire}, {wire.left(7), wire.mid(7)}}
            : splits(wire);
    for (const auto &chunks : cuts) {
        Pair p;
        for (const QByteArray &c : chunks)
            p.server.receiveData(c);
        const auto events = p.server.takeEvents();
        QCOMPARE(events.size(), size_t(messagesBefore + 2));
        QCOMPARE(events[messagesBefore].type, WsEvent::Error);
        QCOMPARE(events[messagesBefore].error, error);
        QVERIFY(!events[messagesBefore].errorString.isEmpty());
        QCOMPARE(events[messagesBefore + 1].type, WsEvent::Closed);
        QCOMPARE(events[messagesBefore + 1].close.sentCode, quint16(closeCode));
        QCOMPARE(events[messagesBefore + 1].close.code, quint16(WsCloseCode::Abnormal));
        QVERIFY(!events[messagesBefore + 1].close.wasClean);
        QCOMPARE(p.server.state(), WsState::Failed);
        QVERIFY(p.server.shouldCloseTransport());
        QCOMPARE(p.server.error(), error);
        QCOMPARE(wsCloseCodeFor(error), quint16(closeCode));
        // The close frame with the code is on its way to the client.
        const auto out = parseFrames(p.server.takeOutgoing(), WsFrameReader::Role::Client);
        QCOMPARE(out.size(), 1);
        QCOMPARE(out[0].header.opcode, quint8(0x8));
        QCOMPARE(int((uchar(out[0].payload[0]) << 8) | uchar(out[0].payload[1])), closeCode);
        QVERIFY(WsUtf8Validator::isValid(out[0].payload.mid(2)));
        QVERIFY(out[0].payload.size() <= 125);
        // Nothing more happens, whatever else arrives.
        p.server.receiveData(cf(true, 0x1, "more"));
        QVERIFY(!p.server.hasEvents());
        QCOMPARE(p.server.outgoingSize(), qsizetype(0));
    }
}

void tst_WsConnection::clientSideViolations_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<WsError>("error");
    QTest::newRow("rfc6455-5.1/masked-server-frame") << cf(true, 0x1, "hi") << WsError::MaskedServerFrame;
    QTest::newRow("rfc6455-5.2/reserved-opcode") << sf(true, 0x7, "") << WsError::ReservedOpcode;
    QTest::newRow("rfc6455-8.1/invalid-text") << sf(true, 0x1, "\xff") << WsError::InvalidUtf8;
}

void tst_WsConnection::clientSideViolations()
{
    QFETCH(QByteArray, wire);
    QFETCH(WsError, error);
    Pair p;
    p.client.receiveData(wire);
    const auto events = p.client.takeEvents();
    QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::Error, WsEvent::Closed}));
    QCOMPARE(events[0].error, error);
    QCOMPARE(p.client.state(), WsState::Failed);
    QVERIFY(p.client.shouldCloseTransport());
    // The client's close frame is masked.
    const auto out = parseFrames(p.client.takeOutgoing(), WsFrameReader::Role::Server);
    QCOMPARE(out.size(), 1);
    QVERIFY(out[0].header.masked);
    QCOMPARE(out[0].payload.left(2), closePayload(wsCloseCodeFor(error)));
}

void tst_WsConnection::validCloseCodes_data()
{
    QTest::addColumn<int>("code");
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
        QTest::addRow("rfc6455-7.4/valid-%d", code) << code;
}

void tst_WsConnection::validCloseCodes()
{
    QFETCH(int, code);
    QVERIFY(wsIsValidCloseCode(quint16(code)));
    // The client closes with the code; the server echoes it and both end cleanly.
    Pair p;
    QCOMPARE(p.client.close(quint16(code), QStringLiteral("reason \u00e9")), WsError::NoError);
    QCOMPARE(p.client.state(), WsState::LocalClosing);
    p.pump();
    QCOMPARE(typesOf(p.serverEvents), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    QCOMPARE(p.serverEvents[0].close.code, quint16(code));
    QCOMPARE(p.serverEvents[0].close.reason, QStringLiteral("reason \u00e9"));
    const WsCloseStatus s = p.serverEvents[1].close;
    QCOMPARE(s.code, quint16(code));
    QVERIFY(s.wasClean);
    QCOMPARE(s.initiator, WsCloseInitiator::Remote);
    QCOMPARE(s.sentCode, quint16(code));
    QCOMPARE(typesOf(p.clientEvents), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    QCOMPARE(p.clientEvents[1].close.code, quint16(code));
    QCOMPARE(p.clientEvents[1].close.initiator, WsCloseInitiator::Local);
    QVERIFY(p.clientEvents[1].close.wasClean);
    QCOMPARE(p.client.state(), WsState::Closed);
    QCOMPARE(p.server.state(), WsState::Closed);
    // RFC 6455 §7.1.1: the server closes the TCP connection first; the client waits.
    QVERIFY(p.server.shouldCloseTransport());
    QVERIFY(!p.client.shouldCloseTransport());
    p.client.transportClosed();
    QVERIFY(!p.client.hasEvents());
}

void tst_WsConnection::closeWithoutCode()
{
    // A close frame without a payload: reported as 1005, echoed without a payload.
    Pair p;
    p.server.receiveData(cf(true, 0x8, QByteArray()));
    const auto events = p.server.takeEvents();
    QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    QCOMPARE(events[1].close.code, quint16(WsCloseCode::NoStatus));
    QCOMPARE(p.server.takeOutgoing().toHex(), QByteArray("8800"));
    // Sending 1005 from our side likewise means an empty close frame.
    Pair q;
    QCOMPARE(q.server.close(WsCloseCode::NoStatus, QStringLiteral("ignored")), WsError::NoError);
    QCOMPARE(q.server.takeOutgoing().toHex(), QByteArray("8800"));
}

void tst_WsConnection::serverInitiatedClose()
{
    Pair p;
    QCOMPARE(p.server.close(WsCloseCode::GoingAway, QStringLiteral("restart")), WsError::NoError);
    QCOMPARE(p.server.takeOutgoing().toHex(), QByteArray("8809") + QByteArray("\x03\xe9restart").toHex());
    p.client.receiveData(sf(true, 0x8, closePayload(1001, "restart")));
    auto ce = p.client.takeEvents();
    QCOMPARE(typesOf(ce), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    QCOMPARE(ce[1].close.initiator, WsCloseInitiator::Remote);
    QCOMPARE(ce[1].close.reason, QStringLiteral("restart"));
    // The echo carries the code only.
    const auto echo = parseFrames(p.client.takeOutgoing(), WsFrameReader::Role::Server);
    QCOMPARE(echo.size(), 1);
    QCOMPARE(echo[0].payload, closePayload(1001));
    p.server.receiveData(cf(true, 0x8, closePayload(1001)));
    const auto se = p.server.takeEvents();
    QCOMPARE(typesOf(se), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    QVERIFY(se[1].close.wasClean);
    QCOMPARE(se[1].close.initiator, WsCloseInitiator::Local);
    QVERIFY(p.server.shouldCloseTransport());
}

void tst_WsConnection::closeReasonTruncatedOnUtf8Boundary()
{
    // 62 two-byte characters are 124 bytes: one too many; the cut may not split a character.
    Pair p;
    const QString reason(62, QChar(0xe9));
    QCOMPARE(p.client.close(1000, reason), WsError::NoError);
    const auto out = parseFrames(p.client.takeOutgoing(), WsFrameReader::Role::Server);
    QCOMPARE(out.size(), 1);
    QCOMPARE(out[0].payload.size(), 2 + 122);
    QCOMPARE(QString::fromUtf8(out[0].payload.mid(2)), QString(61, QChar(0xe9)));
}

void tst_WsConnection::dataAfterCloseIsIgnored()
{
    Pair p;
    p.server.receiveData(cf(true, 0x8, closePayload(1000)) + cf(true, 0x1, "late"));
    QCOMPARE(typesOf(p.server.takeEvents()), (QList<WsEvent::Type>{WsEvent::CloseFrame, WsEvent::Closed}));
    p.server.receiveData(cf(true, 0x1, "later"));
    QVERIFY(!p.server.hasEvents());
}

void tst_WsConnection::dataWhileLocalClosingIsDelivered()
{
    // After sending a close, messages the peer sent before seeing it still arrive; no pong
    // is sent any more.
    Pair p;
    p.server.close(1000);
    p.server.takeOutgoing();
    p.server.receiveData(cf(true, 0x1, "in flight") + cf(true, 0x9, "ping"));
    QCOMPARE(typesOf(p.server.takeEvents()), (QList<WsEvent::Type>{WsEvent::Message, WsEvent::Ping}));
    QCOMPARE(p.server.outgoingSize(), qsizetype(0));
    QCOMPARE(p.server.sendText(QStringLiteral("no")), WsError::NotOpen);
    QCOMPARE(p.server.close(1000), WsError::AlreadyClosing);
    QCOMPARE(p.server.ping(), WsError::NotOpen);
}

void tst_WsConnection::remoteClosingWaitsForFragmentedMessage()
{
    // RFC 6455 §5.5.1: an endpoint MAY delay its close reply until its current message is sent.
    Pair p;
    QCOMPARE(p.server.sendFrame(WsOpcode::Text, "part 1, ", false), WsError::NoError);
    p.server.receiveData(cf(true, 0x8, closePayload(1000, "bye")));
    QCOMPARE(p.server.state(), WsState::RemoteClosing);
    QCOMPARE(typesOf(p.server.takeEvents()), QList<WsEvent::Type>{WsEvent::CloseFrame});
    // Only the message in progress may continue.
    QCOMPARE(p.server.sendText(QStringLiteral("new")), WsError::NotOpen);
    QCOMPARE(p.server.ping(), WsError::NotOpen);
    QCOMPARE(p.server.sendFrame(WsOpcode::Continuation, "part 2", true), WsError::NoError);
    QCOMPARE(p.server.state(), WsState::Closed);
    const auto events = p.server.takeEvents();
    QCOMPARE(typesOf(events), QList<WsEvent::Type>{WsEvent::Closed});
    QVERIFY(events[0].close.wasClean);
    const auto out = parseFrames(p.server.takeOutgoing(), WsFrameReader::Role::Client);
    QCOMPARE(out.size(), 3);
    QCOMPARE(out[1].payload, QByteArray("part 2"));
    QCOMPARE(out[2].header.opcode, quint8(0x8));
    QCOMPARE(out[2].payload, closePayload(1000));

    // Or the application answers at once with close().
    Pair q;
    q.server.sendFrame(WsOpcode::Binary, "x", false);
    q.server.receiveData(cf(true, 0x8, closePayload(4000)));
    QCOMPARE(q.server.state(), WsState::RemoteClosing);
    q.server.takeEvents();
    QCOMPARE(q.server.close(4000), WsError::NoError);
    QCOMPARE(q.server.state(), WsState::Closed);
    QCOMPARE(typesOf(q.server.takeEvents()), QList<WsEvent::Type>{WsEvent::Closed});
}

void tst_WsConnection::abnormalClosure()
{
    Pair p;
    p.server.transportClosed();
    const auto events = p.server.takeEvents();
    QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::Error, WsEvent::Closed}));
    QCOMPARE(events[0].error, WsError::AbnormalClosure);
    QCOMPARE(events[1].close.code, quint16(WsCloseCode::Abnormal));
    QVERIFY(!events[1].close.wasClean);
    QCOMPARE(p.server.state(), WsState::Failed);
    p.server.transportClosed();  // once only
    QVERIFY(!p.server.hasEvents());

    // During the opening handshake.
    WsConnection client(WsRole::Client);
    client.startHandshake({"h", "/", {}, {}, {}});
    client.transportClosed();
    QCOMPARE(typesOf(client.takeEvents()), (QList<WsEvent::Type>{WsEvent::Error, WsEvent::Closed}));
}

void tst_WsConnection::localErrors()
{
    // API misuse fails the call and leaves the connection as it was.
    WsConnection connecting(WsRole::Client);
    QCOMPARE(connecting.sendText(QStringLiteral("x")), WsError::NotOpen);
    QCOMPARE(connecting.ping(), WsError::NotOpen);
    QCOMPARE(connecting.close(), WsError::NotOpen);
    QCOMPARE(connecting.accept(), WsError::InvalidState);
    QCOMPARE(connecting.startHandshake({QByteArray(), "/", {}, {}, {}}), WsError::InvalidArgument);
    QCOMPARE(connecting.startHandshake({"h", "no-slash", {}, {}, {}}), WsError::InvalidArgument);
    QCOMPARE(connecting.startHandshake({"h", "/", {}, {"bad token"}, {}}), WsError::InvalidArgument);

    Pair p;
    QCOMPARE(p.client.sendText(QByteArrayView("\xc3\x28")), WsError::InvalidUtf8ToSend);
    QCOMPARE(p.client.ping(QByteArray(126, 'x')), WsError::ControlPayloadTooLarge);
    QCOMPARE(p.client.pong(QByteArray(126, 'x')), WsError::ControlPayloadTooLarge);
    QCOMPARE(p.client.close(1006), WsError::InvalidCloseCodeToSend);
    QCOMPARE(p.client.close(999), WsError::InvalidCloseCodeToSend);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "x", true), WsError::NoMessageInProgress);
    QCOMPARE(p.client.sendFrame(WsOpcode::Ping, "x", true), WsError::InvalidArgument);
    QCOMPARE(p.client.sendFrame(WsOpcode::Text, "\xe2\x82", true), WsError::InvalidUtf8ToSend);
    QCOMPARE(p.client.startHandshake({"h", "/", {}, {}, {}}), WsError::InvalidState);
    QCOMPARE(p.client.outgoingSize(), qsizetype(0));
    QCOMPARE(p.client.state(), WsState::Open);
    QVERIFY(!p.client.hasEvents());
    QCOMPARE(p.client.sendFrame(WsOpcode::Text, "a", false), WsError::NoError);
    QCOMPARE(p.client.sendBinary("b"), WsError::MessageInProgress);
    QCOMPARE(p.client.sendFrame(WsOpcode::Binary, "b", true), WsError::MessageInProgress);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "\xff", true), WsError::InvalidUtf8ToSend);
    QCOMPARE(p.client.pong("unsolicited"), WsError::NoError);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "z", true), WsError::NoError);
    p.pump();
    QCOMPARE(typesOf(p.serverEvents), (QList<WsEvent::Type>{WsEvent::Pong, WsEvent::Message}));
    QCOMPARE(p.serverEvents[1].data, QByteArray("az"));
    QCOMPARE(wsErrorKind(WsError::NotOpen), WsErrorKind::Local);
}

void tst_WsConnection::fragmentedSending()
{
    // Text split inside a code point across frames is valid as long as the whole is.
    Pair p;
    QCOMPARE(p.client.sendFrame(WsOpcode::Text, "\xe2", false), WsError::NoError);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "\x82", false), WsError::NoError);
    QCOMPARE(p.client.sendFrame(WsOpcode::Continuation, "\xac!", true), WsError::NoError);
    const QByteArray wire = p.client.takeOutgoing();
    const auto frames = parseFrames(wire, WsFrameReader::Role::Server);
    QCOMPARE(frames.size(), 3);
    QCOMPARE(frames[0].header.opcode, quint8(0x1));
    QVERIFY(!frames[0].header.fin);
    QCOMPARE(frames[1].header.opcode, quint8(0x0));
    QVERIFY(frames[2].header.fin);
    p.server.receiveData(wire);
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].text(), QStringLiteral("\u20ac!"));
}

void tst_WsConnection::outgoingAutoFragmentation()
{
    WsConnectionOptions options;
    options.outgoingFrameSize = 4;
    Pair p(options, {});
    p.client.sendText(QStringLiteral("Hello World"));
    const QByteArray wire = p.client.takeOutgoing();
    const auto frames = parseFrames(wire, WsFrameReader::Role::Server);
    QCOMPARE(frames.size(), 3);
    QCOMPARE(frames[0].header.opcode, quint8(0x1));
    QCOMPARE(frames[1].header.opcode, quint8(0x0));
    QCOMPARE(frames[2].payload, QByteArray("rld"));
    QVERIFY(!frames[0].header.fin && !frames[1].header.fin && frames[2].header.fin);
    p.server.receiveData(wire);
    const auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].data, QByteArray("Hello World"));
}

void tst_WsConnection::streamingDelivery()
{
    WsConnectionOptions options;
    options.streamMessages = true;
    options.limits.maxMessageSize = 10;
    Pair p({}, options);
    p.server.receiveData(cf(false, 0x2, "abcd"));
    auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].type, WsEvent::Fragment);
    QVERIFY(events[0].first);
    QVERIFY(!events[0].last);
    QCOMPARE(events[0].data, QByteArray("abcd"));
    // A frame arriving in pieces is delivered in pieces.
    const QByteArray second = cf(true, 0x0, "efgh");
    p.server.receiveData(second.left(8));
    p.server.receiveData(second.mid(8));
    events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(2));
    QCOMPARE(events[0].data, QByteArray("ef"));
    QVERIFY(!events[0].first && !events[0].last);
    QCOMPARE(events[1].data, QByteArray("gh"));
    QVERIFY(events[1].last);
    // The limit still holds for streamed messages.
    p.server.receiveData(cf(false, 0x2, "123456") + cf(true, 0x0, "78901"));
    events = p.server.takeEvents();
    QCOMPARE(events.back().type, WsEvent::Closed);
    QCOMPARE(p.server.error(), WsError::MessageTooLarge);
}

void tst_WsConnection::streamingKeepsCodePointsWhole()
{
    WsConnectionOptions options;
    options.streamMessages = true;
    const QByteArray text = QStringLiteral("a\u00e9\u20ac\U0001F600z").toUtf8();  // 1+2+3+4+1 bytes
    for (qsizetype cut = 1; cut < text.size(); ++cut) {
        Pair p({}, options);
        p.server.receiveData(cf(false, 0x1, text.left(cut)) + cf(true, 0x0, text.mid(cut)));
        QString assembled;
        for (const WsEvent &e : p.server.takeEvents()) {
            QCOMPARE(e.type, WsEvent::Fragment);
            QVERIFY(WsUtf8Validator::isValid(e.data));  // each piece is whole text
            assembled += e.text();
        }
        QCOMPARE(assembled.toUtf8(), text);
    }
}

void tst_WsConnection::splitTextAcrossFramesAccepted()
{
    // Valid text split at every byte offset between two frames is accepted (QtWebSockets'
    // per-frame decoding got this wrong).
    const QByteArray text = QStringLiteral("\u03ba\u1f79\u03c3\u03bc\u03b5 \U0001F600 \u00e9").toUtf8();
    for (qsizetype cut = 0; cut <= text.size(); ++cut) {
        Pair p;
        p.server.receiveData(cf(false, 0x1, text.left(cut)) + cf(true, 0x0, text.mid(cut)));
        const auto events = p.server.takeEvents();
        QCOMPARE(events.size(), size_t(1));
        QCOMPARE(events[0].data, text);
    }
}

void tst_WsConnection::limitsFailFastFromHeader()
{
    // The header alone tells that the message is too big: fail before its payload arrives.
    WsConnectionOptions options;
    options.limits.maxMessageSize = 1000;
    Pair p({}, options);
    p.server.receiveData(QByteArray(cf(true, 0x2, QByteArray(1001, 'x'))).left(8));
    QCOMPARE(p.server.error(), WsError::MessageTooLarge);
    QCOMPARE(p.server.state(), WsState::Failed);

    // A separate, smaller frame limit.
    WsConnectionOptions frameLimited;
    frameLimited.limits.maxFrameSize = 100;
    Pair q({}, frameLimited);
    q.server.receiveData(cf(false, 0x2, QByteArray(100, 'x')) + cf(false, 0x0, QByteArray(100, 'y')));
    QCOMPARE(q.server.state(), WsState::Open);
    q.server.receiveData(QByteArray(cf(true, 0x0, QByteArray(101, 'x'))).left(8));
    QCOMPARE(q.server.error(), WsError::FrameTooLarge);
}

void tst_WsConnection::hugeFrameHeaderCostsNothing()
{
    // With a huge limit, a header announcing 2^62 bytes is accepted as a header, and the
    // message buffer grows only with the bytes that arrive.
    WsConnectionOptions options;
    options.limits.maxMessageSize = std::numeric_limits<qint64>::max();
    Pair p({}, options);
    p.server.receiveData(QByteArray::fromHex("82ff4000000000000000") + QByteArray("\x37\xfa\x21\x3d") + "abc");
    QCOMPARE(p.server.state(), WsState::Open);
    QVERIFY(!p.server.hasEvents());
}

void tst_WsConnection::tooManyFragments()
{
    WsConnectionOptions options;
    options.limits.maxFragments = 3;
    Pair p({}, options);
    p.server.receiveData(cf(false, 0x2, "") + cf(false, 0x0, "") + cf(true, 0x0, ""));
    QCOMPARE(typesOf(p.server.takeEvents()), QList<WsEvent::Type>{WsEvent::Message});
    p.server.receiveData(cf(false, 0x2, "") + cf(false, 0x0, "") + cf(false, 0x0, "") + cf(true, 0x0, ""));
    QCOMPARE(p.server.error(), WsError::TooManyFragments);
    QCOMPARE(p.server.closeStatus().sentCode, quint16(1009));
}

void tst_WsConnection::customFailure()
{
    // The I/O layer fails a connection for its own reasons (e.g. a keepalive timeout).
    Pair p;
    p.client.fail(WsError::InternalError, 1011, QStringLiteral("keepalive ping timeout"));
    QCOMPARE(p.client.state(), WsState::Failed);
    const auto events = p.client.takeEvents();
    QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::Error, WsEvent::Closed}));
    QCOMPARE(events[1].close.sentCode, quint16(1011));
    const auto out = parseFrames(p.client.takeOutgoing(), WsFrameReader::Role::Server);
    QCOMPARE(out.size(), 1);
    QCOMPARE(out[0].payload, closePayload(1011, "keepalive ping timeout"));

    WsConnection connecting(WsRole::Client);
    connecting.startHandshake({"h", "/", {}, {}, {}});
    connecting.takeOutgoing();
    connecting.fail(WsError::HandshakeTimeout, 1011);
    QCOMPARE(connecting.state(), WsState::Failed);
    QCOMPARE(connecting.outgoingSize(), qsizetype(0));  // nothing to send before the handshake
    QCOMPARE(connecting.error(), WsError::HandshakeTimeout);
}

void tst_WsConnection::extensionHook()
{
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, options);
    QCOMPARE(p.client.request().headers.value("Sec-WebSocket-Extensions"), QByteArray("x-xor; fallback"));
    QCOMPARE(p.client.extensions().size(), 1);
    QCOMPARE(p.server.extensions().size(), 1);
    QCOMPARE(p.server.response().headers.value("Sec-WebSocket-Extensions"), QByteArray("x-xor"));

    p.client.sendText(QStringLiteral("abc"));
    const QByteArray wire = p.client.takeOutgoing();
    const auto frames = parseFrames(wire, WsFrameReader::Role::Server);
    QCOMPARE(frames.size(), 1);
    QCOMPARE(frames[0].header.rsv, quint8(WsRsv::Rsv1));
    QCOMPARE(frames[0].payload, QByteArray("\x34\x37\x36"));  // "abc" ^ 0x55
    p.server.receiveData(wire);
    auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].data, QByteArray("abc"));

    // Fragmented: RSV1 on the first frame only (RFC 7692 §6.1) ...
    p.server.sendFrame(WsOpcode::Binary, "12", false);
    p.server.sendFrame(WsOpcode::Continuation, "34", true);
    const QByteArray back = p.server.takeOutgoing();
    const auto backFrames = parseFrames(back, WsFrameReader::Role::Client);
    QCOMPARE(backFrames.size(), 2);
    QCOMPARE(backFrames[0].header.rsv, quint8(WsRsv::Rsv1));
    QCOMPARE(backFrames[1].header.rsv, quint8(0));
    p.client.receiveData(back);
    events = p.client.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].data, QByteArray("1234"));
    // ... and RSV1 on a continuation frame is a violation.
    p.server.receiveData(cf(false, 0x2, "a", 4) + cf(true, 0x0, "b", 4));
    QCOMPARE(p.server.error(), WsError::ReservedBitsSet);
}

void tst_WsConnection::extensionOptOut()
{
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, options);
    p.client.sendBinary("plain", /*allowCompression=*/false);
    const QByteArray wire = p.client.takeOutgoing();
    const auto frames = parseFrames(wire, WsFrameReader::Role::Server);
    QCOMPARE(frames[0].header.rsv, quint8(0));
    QCOMPARE(frames[0].payload, QByteArray("plain"));
    p.server.receiveData(wire);
    QCOMPARE(p.server.takeEvents()[0].data, QByteArray("plain"));
}

void tst_WsConnection::extensionOutputLimit()
{
    // A small transformed message that would expand past the limit fails with 1009, and the
    // extension is never allowed to produce more than the limit.
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>(1000)};
    options.limits.maxMessageSize = 10000;
    Pair p(options, options);
    p.server.receiveData(cf(true, 0x2, QByteArray(10, 'x' ^ 0x55), 4));
    auto events = p.server.takeEvents();
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].data.size(), qsizetype(10000));
    p.server.receiveData(cf(true, 0x2, QByteArray(11, 'x' ^ 0x55), 4));
    QCOMPARE(p.server.error(), WsError::MessageTooLarge);
    QCOMPARE(p.server.closeStatus().sentCode, quint16(1009));
}

void tst_WsConnection::extensionCorruptData()
{
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, options);
    p.server.receiveData(cf(true, 0x2, QByteArray(1, char(0xff ^ 0x55)), 4));
    QCOMPARE(p.server.error(), WsError::ExtensionError);
    QCOMPARE(p.server.closeStatus().sentCode, quint16(1007));
}

void tst_WsConnection::extensionNotOfferedByServer()
{
    // The client offers; a server without the extension declines; RSV1 stays forbidden.
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, {});
    QCOMPARE(p.client.state(), WsState::Open);
    QVERIFY(p.client.extensions().isEmpty());
    QVERIFY(!p.server.response().headers.contains("Sec-WebSocket-Extensions"));
    p.client.receiveData(sf(true, 0x1, "x", 4));
    QCOMPARE(p.client.error(), WsError::ReservedBitsSet);
}

void tst_WsConnection::errorTable()
{
    // Every error has a name and a description; kinds and mappings are consistent.
    for (int i = int(WsError::NoError); i <= int(WsError::InternalError); ++i) {
        const auto e = WsError(i);
        QVERIFY2(QByteArray(wsErrorName(e)) != "Unknown", wsErrorName(e));
        QCOMPARE(wsErrorDescription(e).isEmpty(), e == WsError::NoError);
        if (wsErrorKind(e) == WsErrorKind::Protocol) {
            const quint16 code = wsCloseCodeFor(e);
            QVERIFY2(code == 1002 || code == 1007 || code == 1009, wsErrorName(e));
        }
        const int status = wsHttpStatusFor(e);
        if (status)
            QCOMPARE(wsErrorKind(e), WsErrorKind::Handshake);
    }
    QCOMPARE(wsCloseCodeFor(WsError::InternalError), quint16(1011));
    QCOMPARE(wsCloseCodeFor(WsError::AbnormalClosure), quint16(1006));
    QCOMPARE(wsCloseCodeFor(WsError::NoError), quint16(1000));
    QCOMPARE(wsHttpStatusFor(WsError::HandshakeUnsupportedVersion), 426);
    QCOMPARE(wsHttpStatusFor(WsError::HandshakeHeaderTooLarge), 431);
    QCOMPARE(wsHttpStatusFor(WsError::HandshakeMethodNotAllowed), 405);
    QCOMPARE(wsHttpStatusFor(WsError::HandshakeBadKey), 400);
    QCOMPARE(wsCloseCodeName(1001), QStringLiteral("Going away"));
    QCOMPARE(wsCloseCodeName(4001), QStringLiteral("Private use"));
    QVERIFY(wsCloseCodeName(2000).isEmpty());
    QCOMPARE(QByteArray(wsStateName(WsState::RemoteClosing)), QByteArray("RemoteClosing"));
    QCOMPARE(QByteArray(wsEventName(WsEvent::CloseFrame)), QByteArray("CloseFrame"));
}

void tst_WsConnection::closeCodeNames()
{
    for (int code = 0; code < 6000; ++code) {
        const QString name = wsCloseCodeName(quint16(code));
        const bool known = (code >= 1000 && code <= 1003) || (code >= 1005 && code <= 1015)
                || (code >= 3000 && code <= 4999);
        QCOMPARE(!name.isEmpty(), known);
    }
    QCOMPARE(wsCloseCodeName(1009), QStringLiteral("Message too big"));
    QCOMPARE(wsCloseCodeName(3001), QStringLiteral("Registered (library/framework)"));
}

void tst_WsConnection::transformedWireLimit()
{
    // The payload of a transformed message is bounded on the wire too (message limit plus
    // slack), so a peer cannot make us buffer compressed bytes without bound.
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    options.limits.maxMessageSize = 800;
    Pair p(options, options);
    p.server.receiveData(QByteArray(cf(true, 0x2, QByteArray(800 + 100 + 1024 + 1, 'a'), 4)).left(8));
    QCOMPARE(p.server.error(), WsError::MessageTooLarge);
}

void tst_WsConnection::pingFromApplication()
{
    Pair p;
    QCOMPARE(p.client.ping("rtt-1"), WsError::NoError);
    p.pump();
    QCOMPARE(typesOf(p.serverEvents), QList<WsEvent::Type>{WsEvent::Ping});
    QCOMPARE(typesOf(p.clientEvents), QList<WsEvent::Type>{WsEvent::Pong});
    QCOMPARE(p.clientEvents[0].data, QByteArray("rtt-1"));
    WsConnection idle(WsRole::Server);
    QCOMPARE(idle.pong(), WsError::NotOpen);
}

static QStringList *g_logLines = nullptr;
static void captureLog(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    if (g_logLines && QByteArray(context.category) == "wskit.protocol")
        g_logLines->append(message);
}

void tst_WsConnection::frameLogsShortenPayloads()
{
    QStringList lines;
    g_logLines = &lines;
    QLoggingCategory::setFilterRules(QStringLiteral("wskit.protocol.debug=true"));
    const auto previous = qInstallMessageHandler(captureLog);
    {
        Pair p;
        p.client.sendBinary(QByteArray(100, '\x01'));
        p.client.sendText(QStringLiteral("short"));
        p.pump();
        p.client.close();
    }
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());
    g_logLines = nullptr;
    const QString sent = lines.filter(QStringLiteral("client >> BINARY")).value(0);
    QVERIFY2(sent.contains(QStringLiteral("len=100")), qPrintable(sent));
    QVERIFY2(sent.endsWith(QStringLiteral("...")), qPrintable(sent));
    QVERIFY(sent.size() < 300);
    QVERIFY(!lines.filter(QStringLiteral("client >> TEXT fin=1 rsv=0 len=5 short")).isEmpty());
    QVERIFY(!lines.filter(QStringLiteral("server << BINARY")).isEmpty());
    const QString received = lines.filter(QStringLiteral("server << message BINARY len=100 frames=1")).value(0);
    QVERIFY2(received.endsWith(QStringLiteral("...")), qPrintable(received));
    QVERIFY(!lines.filter(QStringLiteral("server << message TEXT len=5 frames=1 short")).isEmpty());
    QVERIFY(!lines.filter(QStringLiteral("client: Open -> LocalClosing")).isEmpty());
}

void tst_WsConnection::fixedRandomSequence()
{
    const unsigned char bytes[] = {1, 2, 3};
    WsFixedRandom r(bytes, sizeof bytes);
    unsigned char out[7];
    r.fill(out, sizeof out);
    QCOMPARE(QByteArray(reinterpret_cast<char *>(out), 7).toHex(), QByteArray("01020301020301"));
    WsFixedRandom empty(nullptr, 0);
    empty.fill(out, 2);
    QCOMPARE(int(out[0]) + int(out[1]), 0);
    // The system source gives different masks (2^-32 chance of a false failure per pair).
    WsSystemRandom system;
    QVERIFY(system.nextMask() != system.nextMask() || system.nextMask() != system.nextMask());
}

void tst_WsConnection::preparedMessages()
{
    // Encoded once, sent as is by server connections; a client (masking) or a connection
    // with a transforming extension encodes it for itself.
    const WsPreparedMessage m = WsConnection::prepareMessage(WsOpcode::Text, "hi all");
    QCOMPARE(m.serverFrame.toHex(), QByteArray("81066869") + QByteArray(" all").toHex());
    Pair p;
    QCOMPARE(p.server.sendPrepared(m), WsError::NoError);
    QCOMPARE(p.server.takeOutgoing(), m.serverFrame);
    QCOMPARE(p.client.sendPrepared(m), WsError::NoError);
    const QByteArray masked = p.client.takeOutgoing();
    QCOMPARE(masked.size(), m.serverFrame.size() + 4);
    p.server.receiveData(masked);
    QCOMPARE(p.server.takeEvents()[0].data, QByteArray("hi all"));

    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair x(options, options);
    QCOMPARE(x.server.sendPrepared(m), WsError::NoError);
    const auto frames = parseFrames(x.server.takeOutgoing(), WsFrameReader::Role::Client);
    QCOMPARE(frames[0].header.rsv, quint8(WsRsv::Rsv1));

    QCOMPARE(p.server.sendPrepared(WsConnection::prepareMessage(WsOpcode::Text, "\xff")), WsError::InvalidUtf8ToSend);
    p.server.sendFrame(WsOpcode::Binary, "a", false);
    QCOMPARE(p.server.sendPrepared(m), WsError::MessageInProgress);
    WsConnection idle(WsRole::Server);
    QCOMPARE(idle.sendPrepared(m), WsError::NotOpen);
}

void tst_WsConnection::plainHttpDelivered()
{
    WsConnectionOptions options;
    options.deliverPlainHttp = true;
    WsConnection server(WsRole::Server, options);
    server.receiveData(QByteArrayView("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    QCOMPARE(typesOf(server.takeEvents()), QList<WsEvent::Type>{WsEvent::Request});
    QVERIFY(server.isPlainHttpRequest());
    QCOMPARE(server.request().path(), QByteArray("/health"));
    QCOMPARE(server.accept(), WsError::InvalidState);
    QCOMPARE(server.reject(200, "ok\n"), WsError::NoError);
    const QByteArray out = server.takeOutgoing();
    QVERIFY(out.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(out.endsWith("\r\n\r\nok\n"));
    QVERIFY(server.shouldCloseTransport());

    // Without the option the core answers 426 itself.
    WsConnection strict(WsRole::Server);
    strict.receiveData(QByteArrayView("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    QVERIFY(strict.takeOutgoing().startsWith("HTTP/1.1 426"));
    QCOMPARE(strict.error(), WsError::HandshakeNotUpgrade);
}

void tst_WsConnection::extensionOpcodes()
{
    // Without the extension, opcode 3 is reserved (see violations); with it, it is the
    // extension's: delivered as an ExtensionFrame event and sendable.
    WsConnectionOptions options;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, options);
    p.server.receiveData(cf(true, 0x3, "ext data") + cf(true, 0xB, "ctl"));
    auto events = p.server.takeEvents();
    QCOMPARE(typesOf(events), (QList<WsEvent::Type>{WsEvent::ExtensionFrame, WsEvent::ExtensionFrame}));
    QCOMPARE(quint8(events[0].opcode), quint8(0x3));
    QCOMPARE(events[0].data, QByteArray("ext data"));
    QCOMPARE(quint8(events[1].opcode), quint8(0xB));
    // Sending them, and the rules that still hold.
    QCOMPARE(p.client.sendExtensionFrame(0x3, "x"), WsError::NoError);
    QCOMPARE(p.client.sendExtensionFrame(0xB, QByteArray(126, 'x')), WsError::ControlPayloadTooLarge);
    QCOMPARE(p.client.sendExtensionFrame(0x4, "x"), WsError::InvalidArgument);
    QCOMPARE(p.client.sendExtensionFrame(0x9, "x"), WsError::InvalidArgument);
    p.server.receiveData(p.client.takeOutgoing());
    QCOMPARE(typesOf(p.server.takeEvents()), QList<WsEvent::Type>{WsEvent::ExtensionFrame});
    // An unclaimed reserved opcode is still a violation; a fragmented claimed one too.
    p.server.receiveData(cf(true, 0x4, ""));
    QCOMPARE(p.server.error(), WsError::ReservedOpcode);
    Pair q(options, options);
    q.server.receiveData(cf(false, 0x3, "a"));
    QCOMPARE(q.server.error(), WsError::ReservedOpcode);
    Pair r(options, options);
    r.server.receiveData(cf(true, 0xB, QByteArray(126, 'x')));
    QCOMPARE(r.server.error(), WsError::ControlFrameTooLarge);
    WsConnection idle(WsRole::Client);
    QCOMPARE(idle.sendExtensionFrame(0x3, "x"), WsError::NotOpen);
}

void tst_WsConnection::frameObserver()
{
    WsConnectionOptions options;
    options.outgoingFrameSize = 3;
    options.extensions = {std::make_shared<XorFactory>()};
    Pair p(options, options);
    QList<WsFrameInfo> sent, received, replies;
    p.client.setFrameObserver([&](const WsFrameInfo &f) { sent.append(f); });
    p.server.setFrameObserver([&](const WsFrameInfo &f) {
        (f.direction == WsFrameInfo::Incoming ? received : replies).append(f);
    });
    p.client.sendText(QStringLiteral("Hello"));          // 2 frames of 3 + 2 bytes, transformed
    p.client.ping("p!");
    p.client.sendBinary("raw", false);
    p.client.close(4000, QStringLiteral("bye"));
    p.server.receiveData(p.client.takeOutgoing());
    for (const QList<WsFrameInfo> *list : {&sent, &received}) {
        QCOMPARE(list->size(), 5);
        const auto &f = *list;
        QCOMPARE(f[0].opcode, quint8(0x1));
        QCOMPARE(f[0].rsv, quint8(WsRsv::Rsv1));
        QVERIFY(!f[0].fin);
        QCOMPARE(f[0].messageSize, qint64(-1));
        QCOMPARE(f[1].opcode, quint8(0x0));
        QCOMPARE(f[1].messageType, WsOpcode::Text);
        QVERIFY(f[1].fin);
        QCOMPARE(f[1].messageSize, qint64(5));
        QCOMPARE(f[1].payload, QByteArray("Hello"));
        QCOMPARE(f[0].wireSize + f[1].wireSize, qint64(5));
        QCOMPARE(f[2].opcode, quint8(0x9));
        QCOMPARE(f[2].payload, QByteArray("p!"));
        QCOMPARE(f[3].rsv, quint8(0));
        QCOMPARE(f[3].payload, QByteArray("raw"));
        QCOMPARE(f[4].opcode, quint8(0x8));
        QCOMPARE(f[4].closeCode, quint16(4000));
        QVERIFY(f[0].masked);
    }
    QCOMPARE(sent[0].direction, WsFrameInfo::Outgoing);
    QCOMPARE(received[0].direction, WsFrameInfo::Incoming);
    // The server's automatic pong and close reply are observed too.
    QCOMPARE(replies.size(), 2);
    QCOMPARE(replies[0].opcode, quint8(0xA));
    QCOMPARE(replies[0].payload, QByteArray("p!"));
    QCOMPARE(replies[1].closeCode, quint16(4000));
    QVERIFY(!replies[1].masked);
}

QTEST_APPLESS_MAIN(tst_WsConnection)
#include "tst_wsconnection.moc"
