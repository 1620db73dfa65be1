// The inspector's C++ core: JSON Lines export/import (lossless round trip, rejection of
// malformed input with its line number, size limits), the HAR export in Chrome DevTools'
// shape, files, TrafficStats with an injected clock, and all of it live over a real
// WsServer/WsSocket pair on 127.0.0.1.

#include <inspectorsession.h>
#include <trafficstats.h>

#include <wsserver.h>
#include <wssocket.h>
#include <wstrafficmodel.h>

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/QtTest>

Q_DECLARE_METATYPE(WsTrafficEntry)

namespace {

QString s(const char *latin1) { return QString::fromLatin1(latin1); }

QByteArray allBytes()
{
    QByteArray b(256, Qt::Uninitialized);
    for (int i = 0; i < 256; ++i)
        b[i] = char(i);
    return b;
}

QByteArray be16(quint16 code) { return QByteArray(1, char(code >> 8)) + QByteArray(1, char(code & 0xff)); }

struct FrameSpec
{
    quint8 opcode;
    bool fin;
    quint8 rsv;
    qint64 wireSize;
};

// An entry as WsTrafficModel records it from the frame observer.
WsTrafficEntry makeEntry(bool outgoing, quint8 opcode, const QByteArray &payload, quint16 closeCode = 0,
                         QList<FrameSpec> frames = {}, qint64 size = -1)
{
    WsTrafficEntry e;
    e.timestamp = QDateTime::currentDateTime().addMSecs(-1234);
    e.connectionId = 1;
    e.outgoing = outgoing;
    e.opcode = opcode;
    e.payload = payload;
    e.size = size >= 0 ? size : payload.size();
    e.closeCode = closeCode;
    if (frames.isEmpty())
        frames.append({opcode, true, 0, payload.size()});
    e.rsv = frames.first().rsv;
    const bool data = opcode == 1 || opcode == 2;
    for (const FrameSpec &spec : frames) {
        WsFrameInfo f;
        f.direction = outgoing ? WsFrameInfo::Outgoing : WsFrameInfo::Incoming;
        f.opcode = spec.opcode;
        f.messageType = WsOpcode(opcode);
        f.fin = spec.fin;
        f.rsv = spec.rsv;
        f.masked = !outgoing;  // as seen by a server
        f.wireSize = spec.wireSize;
        if (data && spec.fin)
            f.messageSize = e.size;
        if (opcode == 8)
            f.closeCode = closeCode;
        e.wireSize += spec.wireSize;
        e.frames.append(f);
    }
    return e;
}

void compareEntries(const WsTrafficEntry &a, const WsTrafficEntry &b)
{
    QCOMPARE(a.sequence, b.sequence);
    QCOMPARE(a.timestamp, b.timestamp);
    QCOMPARE(a.timestamp.toString(Qt::ISODateWithMs), b.timestamp.toString(Qt::ISODateWithMs));
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.outgoing, b.outgoing);
    QCOMPARE(a.opcode, b.opcode);
    QCOMPARE(a.fin, b.fin);
    QCOMPARE(a.rsv, b.rsv);
    QCOMPARE(a.wireSize, b.wireSize);
    QCOMPARE(a.size, b.size);
    QCOMPARE(a.payload, b.payload);
    QCOMPARE(a.truncated, b.truncated);
    QCOMPARE(a.closeCode, b.closeCode);
    QCOMPARE(a.frames.size(), b.frames.size());
    for (qsizetype i = 0; i < a.frames.size(); ++i) {
        const WsFrameInfo &x = a.frames.at(i), &y = b.frames.at(i);
        QCOMPARE(x.direction, y.direction);
        QCOMPARE(x.opcode, y.opcode);
        QCOMPARE(x.messageType, y.messageType);
        QCOMPARE(x.fin, y.fin);
        QCOMPARE(x.rsv, y.rsv);
        QCOMPARE(x.masked, y.masked);
        QCOMPARE(x.wireSize, y.wireSize);
        QCOMPARE(x.messageSize, y.messageSize);
        QCOMPARE(x.payload, y.payload);
        QCOMPARE(x.closeCode, y.closeCode);
    }
}

// Every row of both models equal, field by field and as the roles a view sees.
void compareModels(const WsTrafficModel &a, const WsTrafficModel &b)
{
    QCOMPARE(a.count(), b.count());
    for (int row = 0; row < a.count(); ++row) {
        compareEntries(a.entry(row), b.entry(row));
        if (QTest::currentTestFailed()) {
            qWarning("row %d differs", row);
            return;
        }
        QCOMPARE(a.get(row), b.get(row));
    }
}

void fillMetadata(InspectorSession &session)
{
    session.setUrl(QUrl(s("ws://127.0.0.1:9001/chat?room=1&x=y%20z")));
    session.setRequestHeaders({{s("Host"), s("127.0.0.1:9001")},
                               {s("Upgrade"), s("websocket")},
                               {s("Connection"), s("Upgrade")},
                               {s("Sec-WebSocket-Key"), s("dGhlIHNhbXBsZSBub25jZQ==")},
                               {s("Sec-WebSocket-Version"), s("13")},
                               {s("Cookie"), s("a=1; b=two")},
                               {s("X-Gr\xfc\xdf"), QStringLiteral("Gr\u00fc\u00dfe")}});
    session.setResponseHeaders({{s("Upgrade"), s("websocket")},
                                {s("Connection"), s("Upgrade")},
                                {s("Sec-WebSocket-Accept"), s("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")},
                                {s("Sec-WebSocket-Protocol"), s("chat.v1")},
                                {s("Sec-WebSocket-Extensions"), s("permessage-deflate")},
                                {s("Set-Cookie"), s("sid=xyz; Path=/; HttpOnly")}});
    session.setSubprotocol(s("chat.v1"));
    session.setExtensions(s("permessage-deflate"));
    session.setServerAddress(s("127.0.0.1"));
    session.setStartTime(QDateTime::currentDateTime().addSecs(-5));
}

void compareMetadata(const InspectorSession &a, const InspectorSession &b)
{
    QCOMPARE(a.url(), b.url());
    QCOMPARE(a.requestHeaders(), b.requestHeaders());
    QCOMPARE(a.responseHeaders(), b.responseHeaders());
    QCOMPARE(a.responseStatus(), b.responseStatus());
    QCOMPARE(a.subprotocol(), b.subprotocol());
    QCOMPARE(a.extensions(), b.extensions());
    QCOMPARE(a.serverAddress(), b.serverAddress());
    QCOMPARE(a.startTime(), b.startTime());
}

QJsonObject harEntry(const QByteArray &har)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(har, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("HAR does not parse: %s", qPrintable(error.errorString()));
    return doc.object().value(s("log")).toObject().value(s("entries")).toArray().at(0).toObject();
}

// A clock the test moves by hand.
struct ManualClock
{
    qint64 ms = 0;
    TrafficStats::Clock function() { return [this] { return ms; }; }
};

} // namespace

class tst_InspectorCore : public QObject
{
    Q_OBJECT
private slots:
    void jsonRoundTrip_data();
    void jsonRoundTrip();
    void jsonRoundTripWholeSession();
    void jsonFormat();
    void malformedInput_data();
    void malformedInput();
    void inputLimits();
    void harStructure();
    void harSelectsConnection();
    void files();
    void statsRates_data();
    void statsRates();
    void statsExpiry();
    void statsFramesAndSignals();
    void statsBoundedMemory();
    void live();
};

void tst_InspectorCore::jsonRoundTrip_data()
{
    QTest::addColumn<WsTrafficEntry>("entry");
    QTest::addColumn<QString>("payloadForm");  // "payload" or "payloadBase64" in the file

    const QByteArray nonAscii = QStringLiteral("Gr\u00fc\u00dfe, \u4e16\u754c \U0001F680 \"quoted\"\n\ttab \\").toUtf8();
    QTest::newRow("text ascii") << makeEntry(true, 1, "hello") << s("payload");
    QTest::newRow("text non-ascii") << makeEntry(false, 1, nonAscii) << s("payload");
    QTest::newRow("text with NUL") << makeEntry(false, 1, QByteArray("a\0b", 3)) << s("payload");
    QTest::newRow("text empty") << makeEntry(true, 1, QByteArray()) << s("payload");
    QTest::newRow("binary every byte") << makeEntry(false, 2, allBytes()) << s("payloadBase64");
    QTest::newRow("binary empty") << makeEntry(true, 2, QByteArray()) << s("payloadBase64");
    QTest::newRow("ping text") << makeEntry(true, 9, "are you there?") << s("payload");
    QTest::newRow("ping binary") << makeEntry(true, 9, QByteArray("\xff\x00\xfe", 3)) << s("payloadBase64");
    QTest::newRow("pong") << makeEntry(false, 10, "are you there?") << s("payload");
    QTest::newRow("pong empty") << makeEntry(false, 10, QByteArray()) << s("payload");
    QTest::newRow("close with code and reason")
        << makeEntry(false, 8, be16(1001) + QStringLiteral("going \u00e0 l'ouest").toUtf8(), 1001) << s("payload");
    QTest::newRow("close with code only") << makeEntry(true, 8, be16(1000), 1000) << s("payload");
    QTest::newRow("close without code") << makeEntry(true, 8, QByteArray(), 1005) << s("payload");
    QTest::newRow("close with 1-byte payload") << makeEntry(false, 8, QByteArray(1, '\x03'), 1005) << s("payloadBase64");
    QTest::newRow("close with non-UTF-8 reason")
        << makeEntry(false, 8, be16(4000) + QByteArray("\xc3\x28", 2), 4000) << s("payloadBase64");
    QTest::newRow("extension opcode") << makeEntry(false, 3, "ext") << s("payloadBase64");

    // One message in three frames, compressed (RSV1 on the first frame only).
    WsTrafficEntry multi = makeEntry(false, 1, QStringLiteral("fragment\u00e9d message").toUtf8(), 0,
                                     {{1, false, 4, 7}, {0, false, 0, 5}, {0, true, 0, 3}});
    QTest::newRow("multi-frame compressed") << multi << s("payload");
    WsTrafficEntry multiBinary = makeEntry(true, 2, allBytes(), 0, {{2, false, 0, 100}, {0, true, 0, 156}});
    QTest::newRow("multi-frame binary") << multiBinary << s("payloadBase64");

    // Kept up to maxPayloadBytes: cut inside a UTF-8 sequence, so no longer text.
    WsTrafficEntry truncated = makeEntry(false, 1, QStringLiteral("\u00e9\u00e9\u00e9").toUtf8().left(3), 0, {}, 6);
    truncated.truncated = true;
    QTest::newRow("truncated text") << truncated << s("payloadBase64");
}

void tst_InspectorCore::jsonRoundTrip()
{
    QFETCH(WsTrafficEntry, entry);
    QFETCH(QString, payloadForm);

    WsTrafficModel model;
    model.addEntry(entry);
    model.flush();
    InspectorSession session(&model);
    fillMetadata(session);
    const QByteArray jsonl = session.toJsonLines();

    const QList<QByteArray> lines = jsonl.split('\n');
    QCOMPARE(lines.size(), 3);  // session, message, and the empty rest after the last '\n'
    QVERIFY(lines.last().isEmpty());
    const QJsonObject message = QJsonDocument::fromJson(lines.at(1)).object();
    QVERIFY(message.contains(payloadForm));
    QVERIFY(!message.contains(payloadForm == s("payload") ? s("payloadBase64") : s("payload")));

    WsTrafficModel imported;
    InspectorSession importer(&imported);
    QString error;
    QVERIFY2(importer.fromJsonLines(jsonl, &error), qPrintable(error));
    QVERIFY(error.isEmpty());
    compareModels(model, imported);
    compareMetadata(session, importer);
    // And once more: the export of the import is the same file.
    QCOMPARE(importer.toJsonLines(), jsonl);
}

void tst_InspectorCore::jsonRoundTripWholeSession()
{
    WsTrafficModel model;
    QList<WsTrafficEntry> entries{
        makeEntry(true, 1, "one"), makeEntry(false, 1, "two"), makeEntry(true, 2, allBytes()),
        makeEntry(false, 9, "p"), makeEntry(true, 10, "p"), makeEntry(false, 8, be16(1000) + "bye", 1000),
    };
    model.setCapacity(100);
    for (int i = 0; i < entries.size(); ++i) {
        entries[i].connectionId = 1 + i % 2;
        model.addEntry(entries.at(i));
    }
    model.flush();
    InspectorSession session(&model);
    fillMetadata(session);
    WsTrafficModel imported;
    imported.setCapacity(2);
    imported.addEntry(makeEntry(true, 1, "replaced by the import"));
    imported.flush();
    InspectorSession importer(&imported);
    QSignalSpy metadataChanged(&importer, &InspectorSession::metadataChanged);
    QString error;
    QVERIFY2(importer.fromJsonLines(session.toJsonLines(), &error), qPrintable(error));
    QCOMPARE(metadataChanged.size(), 1);
    QCOMPARE(imported.capacity(), 6);
    QCOMPARE(imported.droppedRows(), qint64(0));
    compareModels(model, imported);
    compareMetadata(session, importer);
    QCOMPARE(imported.entry(5).closeCode, quint16(1000));
    QCOMPARE(imported.get(5).value(s("closeReason")).toString(), s("bye"));
    QCOMPARE(imported.entry(1).connectionId, 2);

    // CRLF line endings and blank lines are fine too.
    QByteArray crlf = session.toJsonLines();
    crlf.replace("\n", "\r\n\r\n");
    WsTrafficModel imported2;
    InspectorSession importer2(&imported2);
    QVERIFY2(importer2.fromJsonLines(crlf, &error), qPrintable(error));
    compareModels(model, imported2);
}

void tst_InspectorCore::jsonFormat()
{
    WsTrafficModel model;
    WsTrafficEntry e = makeEntry(false, 1, "hi", 0, {{1, false, 4, 3}, {0, true, 0, 2}});
    e.sequence = 42;
    e.connectionId = 7;
    e.timestamp = QDateTime(QDate(2024, 5, 1), QTime(12, 30, 45, 123), Qt::OffsetFromUTC, 7200);
    model.addEntry(e);
    model.flush();
    InspectorSession session(&model);
    fillMetadata(session);
    const QList<QByteArray> lines = session.toJsonLines().split('\n');

    const QJsonObject head = QJsonDocument::fromJson(lines.at(0)).object();
    QCOMPARE(head.value(s("type")).toString(), s("session"));
    QCOMPARE(head.value(s("url")).toString(), s("ws://127.0.0.1:9001/chat?room=1&x=y%20z"));
    QCOMPARE(head.value(s("subprotocol")).toString(), s("chat.v1"));
    QCOMPARE(head.value(s("extensions")).toString(), s("permessage-deflate"));
    QCOMPARE(head.value(s("status")).toInt(), 101);
    const QJsonArray request = head.value(s("requestHeaders")).toArray();
    QCOMPARE(request.size(), 7);
    QCOMPARE(request.at(0).toObject().value(s("name")).toString(), s("Host"));
    QCOMPARE(request.at(0).toObject().value(s("value")).toString(), s("127.0.0.1:9001"));
    QVERIFY(QDateTime::fromString(head.value(s("startTime")).toString(), Qt::ISODateWithMs).isValid());

    const QJsonObject m = QJsonDocument::fromJson(lines.at(1)).object();
    QCOMPARE(m.value(s("type")).toString(), s("message"));
    QCOMPARE(m.value(s("seq")).toInt(), 42);
    QCOMPARE(m.value(s("time")).toString(), s("2024-05-01T12:30:45.123+02:00"));
    QCOMPARE(m.value(s("connection")).toInt(), 7);
    QCOMPARE(m.value(s("direction")).toString(), s("in"));
    QCOMPARE(m.value(s("opcode")).toInt(), 1);
    QCOMPARE(m.value(s("kind")).toString(), s("text"));
    QCOMPARE(m.value(s("fin")).toBool(), true);
    QCOMPARE(m.value(s("rsv")).toInt(), 4);
    QCOMPARE(m.value(s("wireSize")).toInt(), 5);
    QCOMPARE(m.value(s("size")).toInt(), 2);
    QCOMPARE(m.value(s("closeCode")).toInt(), 0);
    QCOMPARE(m.value(s("payload")).toString(), s("hi"));
    const QJsonArray frames = m.value(s("frames")).toArray();
    QCOMPARE(frames.size(), 2);
    const QJsonObject f0 = frames.at(0).toObject();
    QCOMPARE(f0.keys(), QStringList({s("fin"), s("masked"), s("opcode"), s("rsv"), s("wireSize")}));
    QCOMPARE(f0.value(s("opcode")).toInt(), 1);
    QCOMPARE(f0.value(s("fin")).toBool(), false);
    QCOMPARE(f0.value(s("rsv")).toInt(), 4);
    QCOMPARE(f0.value(s("wireSize")).toInt(), 3);
    QCOMPARE(f0.value(s("masked")).toBool(), true);
    QCOMPARE(frames.at(1).toObject().value(s("opcode")).toInt(), 0);

    // A file with just a session line and a minimal message (optional fields left out).
    WsTrafficModel imported;
    InspectorSession importer(&imported);
    QString error;
    QVERIFY2(importer.fromJsonLines(
                 "{\"type\":\"session\"}\n"
                 "{\"type\":\"message\",\"seq\":1,\"time\":\"2024-05-01T10:30:45.123Z\",\"connection\":1,"
                 "\"direction\":\"out\",\"opcode\":2,\"fin\":true,\"rsv\":0,\"wireSize\":3,\"size\":3,\"frames\":[],"
                 "\"payloadBase64\":\"AQID\"}",
                 &error),
             qPrintable(error));
    QCOMPARE(imported.count(), 1);
    QCOMPARE(imported.entry(0).payload, QByteArray("\x01\x02\x03"));
    QCOMPARE(imported.entry(0).timestamp, e.timestamp);
    QCOMPARE(imported.entry(0).timestamp.timeSpec(), Qt::LocalTime);
    QCOMPARE(importer.url(), QUrl());
    QCOMPARE(importer.responseStatus(), 101);
}

void tst_InspectorCore::malformedInput_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("error");  // the start of the expected message

    const QByteArray session = "{\"type\":\"session\",\"url\":\"ws://h/\"}\n";
    const QByteArray good = "{\"type\":\"message\",\"seq\":1,\"time\":\"2024-05-01T10:30:45.123Z\",\"connection\":1,"
                            "\"direction\":\"in\",\"opcode\":1,\"fin\":true,\"rsv\":0,\"wireSize\":2,\"size\":2,"
                            "\"frames\":[{\"opcode\":1,\"fin\":true,\"rsv\":0,\"wireSize\":2,\"masked\":false}],"
                            "\"payload\":\"hi\"}\n";
    const auto with = [&](const char *from, const char *to) {
        QByteArray m = good;
        Q_ASSERT(m.contains(from));
        return m.replace(from, to);
    };

    QTest::newRow("empty") << QByteArray() << s("line 1: no session line");
    QTest::newRow("blank lines only") << QByteArray("\n \n\n") << s("line 1: no session line");
    QTest::newRow("not JSON") << QByteArray(session + good + "{oops\n") << s("line 3: ");
    QTest::newRow("truncated line") << QByteArray(session + good.left(40)) << s("line 2: ");
    QTest::newRow("array") << QByteArray(session + "[1,2]\n") << s("line 2: not a JSON object");
    QTest::newRow("message first") << QByteArray(good + session) << s("line 1: a message before the session line");
    QTest::newRow("two sessions") << QByteArray(session + good + session) << s("line 3: a second session line");
    QTest::newRow("unknown type") << QByteArray(session + "{\"type\":\"frame\"}\n") << s("line 2: \"type\" must be");
    QTest::newRow("no type") << QByteArray(session + "{}\n") << s("line 2: \"type\" must be");
    QTest::newRow("blank lines counted") << QByteArray(session + "\n\n" + good + "\n{oops}\n") << s("line 6: ");
    QTest::newRow("opcode a string") << QByteArray(session + with("\"opcode\":1,\"fin\"", "\"opcode\":\"1\",\"fin\""))
                                     << s("line 2: \"opcode\" must be an integer");
    QTest::newRow("opcode out of range") << QByteArray(session + good + with("\"opcode\":1,\"fin\"", "\"opcode\":16,\"fin\""))
                                         << s("line 3: \"opcode\" must be an integer from 0 to 15");
    QTest::newRow("fractional size") << QByteArray(session + with("\"size\":2", "\"size\":2.5"))
                                     << s("line 2: \"size\" must be an integer");
    QTest::newRow("negative wire size") << QByteArray(session + with("\"wireSize\":2,\"size\"", "\"wireSize\":-2,\"size\""))
                                        << s("line 2: \"wireSize\" must be an integer");
    QTest::newRow("missing time") << QByteArray(session + good + with("\"time\":\"2024-05-01T10:30:45.123Z\",", ""))
                                  << s("line 3: missing \"time\"");
    QTest::newRow("bad time") << QByteArray(session + with("2024-05-01T10:30:45.123Z", "yesterday"))
                              << s("line 2: \"time\" is not an ISO 8601");
    QTest::newRow("bad direction") << QByteArray(session + with("\"in\"", "\"sideways\""))
                                   << s("line 2: \"direction\" must be \"in\" or \"out\"");
    QTest::newRow("fin not a bool") << QByteArray(session + with("\"fin\":true,\"rsv\":0,\"wireSize\":2,\"size\"",
                                                                 "\"fin\":1,\"rsv\":0,\"wireSize\":2,\"size\""))
                                    << s("line 2: \"fin\" must be true or false");
    QTest::newRow("frames not an array") << QByteArray(session + with("\"frames\":[", "\"frames\":{\"a\":[").replace("],", "]},"))
                                         << s("line 2: \"frames\" must be an array");
    QTest::newRow("frame not an object") << QByteArray(session + with("\"frames\":[", "\"frames\":[1,"))
                                         << s("line 2: frame 1 is not an object");
    QTest::newRow("frame without masked") << QByteArray(session + with(",\"masked\":false", ""))
                                          << s("line 2: frame 1: missing \"masked\"");
    QTest::newRow("bad base64") << QByteArray(session + with("\"payload\":\"hi\"", "\"payloadBase64\":\"!!!\""))
                                << s("line 2: \"payloadBase64\" is not valid base64");
    QTest::newRow("both payloads") << QByteArray(session + with("\"payload\":\"hi\"", "\"payload\":\"hi\",\"payloadBase64\":\"aGk=\""))
                                   << s("line 2: both \"payload\" and \"payloadBase64\"");
    QTest::newRow("payload a number") << QByteArray(session + with("\"payload\":\"hi\"", "\"payload\":5"))
                                      << s("line 2: \"payload\" must be a string");
    QTest::newRow("close reason without code")
        << QByteArray(session + with("\"opcode\":1,\"fin\":true,\"rsv\"", "\"opcode\":8,\"closeCode\":1005,\"fin\":true,\"rsv\""))
        << s("line 2: a close reason without a close code");
    QTest::newRow("session headers malformed") << QByteArray("{\"type\":\"session\",\"requestHeaders\":[{\"name\":1}]}\n")
                                               << s("line 1: \"requestHeaders\" must hold");
    QTest::newRow("session version from the future") << QByteArray("{\"type\":\"session\",\"version\":2}\n")
                                                     << s("line 1: \"version\" must be an integer from 1 to 1");
    QTest::newRow("session url invalid") << QByteArray("{\"type\":\"session\",\"url\":\"ws://[::1\"}\n")
                                         << s("line 1: \"url\" is not a valid URL");
}

void tst_InspectorCore::malformedInput()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, error);

    // The model and metadata stay as they were.
    WsTrafficModel model;
    model.addEntry(makeEntry(true, 1, "kept"));
    model.flush();
    InspectorSession session(&model);
    session.setUrl(QUrl(s("ws://kept/")));
    QSignalSpy metadataChanged(&session, &InspectorSession::metadataChanged);
    QString message;
    QVERIFY(!session.fromJsonLines(input, &message));
    QVERIFY2(message.startsWith(error), qPrintable(message));
    QCOMPARE(model.count(), 1);
    QCOMPARE(model.entry(0).payload, QByteArray("kept"));
    QCOMPARE(session.url(), QUrl(s("ws://kept/")));
    QCOMPARE(metadataChanged.size(), 0);
}

void tst_InspectorCore::inputLimits()
{
    WsTrafficModel model;
    InspectorSession session(&model);
    QString error;
    // One line too many, rejected before anything is parsed.
    QByteArray lines("{\"type\":\"session\"}\n");
    lines += QByteArray(InspectorSession::MaxLines, '\n');
    QVERIFY(!session.fromJsonLines(lines, &error));
    QVERIFY2(error.startsWith(s("too many lines: 1000001")), qPrintable(error));
    lines.chop(1);  // exactly the limit: blank lines are allowed
    QVERIFY2(session.fromJsonLines(lines, &error), qPrintable(error));
    // Without a trailing newline the last line counts too.
    lines += 'x';
    QVERIFY(!session.fromJsonLines(lines, &error));
    QVERIFY2(error.startsWith(s("too many lines")), qPrintable(error));

    // A file over the size limit (sparse: nothing is written) is refused without reading it.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString big = dir.filePath(s("big.jsonl"));
    {
        QFile f(big);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.resize(InspectorSession::MaxInputBytes + 1));
    }
    QVERIFY(!session.loadJsonLines(big, &error));
    QVERIFY2(error.contains(s("too large")), qPrintable(error));

    InspectorSession withoutModel;
    QVERIFY(!withoutModel.fromJsonLines("{\"type\":\"session\"}\n", &error));
    QVERIFY(!error.isEmpty());
}

void tst_InspectorCore::harStructure()
{
    WsTrafficModel model;
    const QByteArray text = QStringLiteral("Gr\u00fc\u00dfe \U0001F680").toUtf8();
    const QList<WsTrafficEntry> entries{
        makeEntry(true, 1, text), makeEntry(false, 2, allBytes()), makeEntry(true, 9, "ping"),
        makeEntry(false, 10, "ping"), makeEntry(false, 8, be16(1000) + "bye", 1000),
    };
    for (const WsTrafficEntry &e : entries)
        model.addEntry(e);
    model.flush();
    InspectorSession session(&model);
    fillMetadata(session);

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(session.toHar(), &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    const QJsonObject log = doc.object().value(s("log")).toObject();
    QCOMPARE(log.value(s("version")).toString(), s("1.2"));
    QCOMPARE(log.value(s("creator")).toObject().value(s("name")).toString(), s("WsKit inspector"));
    QVERIFY(!log.value(s("creator")).toObject().value(s("version")).toString().isEmpty());
    QVERIFY(log.value(s("pages")).isArray());
    QCOMPARE(log.value(s("entries")).toArray().size(), 1);
    const QJsonObject entry = log.value(s("entries")).toArray().at(0).toObject();

    // The entry, with every field Chrome DevTools writes for a WebSocket.
    for (const char *field : {"startedDateTime", "time", "request", "response", "cache", "timings", "serverIPAddress",
                              "_initiator", "_priority", "_resourceType", "connection", "_webSocketMessages"})
        QVERIFY2(entry.contains(s(field)), field);
    const QDateTime started = QDateTime::fromString(entry.value(s("startedDateTime")).toString(), Qt::ISODateWithMs);
    QCOMPARE(started, session.startTime());
    QVERIFY(entry.value(s("startedDateTime")).toString().endsWith(QLatin1Char('Z')));
    QVERIFY(entry.value(s("time")).isDouble());
    QVERIFY(entry.value(s("cache")).isObject());
    QCOMPARE(entry.value(s("serverIPAddress")).toString(), s("127.0.0.1"));
    QCOMPARE(entry.value(s("_resourceType")).toString(), s("websocket"));
    QCOMPARE(entry.value(s("connection")).toString(), s("1"));
    QVERIFY(entry.value(s("_initiator")).toObject().value(s("type")).isString());
    const QJsonObject timings = entry.value(s("timings")).toObject();
    for (const char *t : {"blocked", "dns", "ssl", "connect", "send", "wait", "receive", "_blocked_queueing"})
        QVERIFY2(timings.value(s(t)).isDouble(), t);
    for (const char *t : {"send", "wait", "receive"})
        QVERIFY2(timings.value(s(t)).toDouble() >= 0, t);  // HAR 1.2: never -1

    const auto headerList = [](const QJsonArray &array) {
        InspectorSession::Headers out;
        for (const QJsonValue &v : array) {
            const QJsonObject o = v.toObject();
            if (o.size() == 2)
                out.append({o.value(QStringLiteral("name")).toString(), o.value(QStringLiteral("value")).toString()});
        }
        return out;
    };
    const auto nameValues = [](const QJsonArray &array) {
        QStringList out;
        for (const QJsonValue &v : array)
            out.append(v.toObject().value(QStringLiteral("name")).toString() + QLatin1Char('=')
                       + v.toObject().value(QStringLiteral("value")).toString());
        return out;
    };
    const QJsonObject request = entry.value(s("request")).toObject();
    QCOMPARE(request.value(s("method")).toString(), s("GET"));
    QCOMPARE(request.value(s("url")).toString(), s("ws://127.0.0.1:9001/chat?room=1&x=y%20z"));
    QCOMPARE(request.value(s("httpVersion")).toString(), s("HTTP/1.1"));
    QCOMPARE(headerList(request.value(s("headers")).toArray()), session.requestHeaders());
    QCOMPARE(nameValues(request.value(s("queryString")).toArray()), QStringList({s("room=1"), s("x=y z")}));
    QCOMPARE(nameValues(request.value(s("cookies")).toArray()), QStringList({s("a=1"), s("b=two")}));
    qint64 requestHead = QByteArray("GET /chat?room=1&x=y%20z HTTP/1.1\r\n\r\n").size();
    for (const auto &h : session.requestHeaders())
        requestHead += (h.first + QStringLiteral(": ") + h.second + QStringLiteral("\r\n")).toUtf8().size();
    QCOMPARE(request.value(s("headersSize")).toInteger(), requestHead);
    QCOMPARE(request.value(s("bodySize")).toInteger(), qint64(0));

    const QJsonObject response = entry.value(s("response")).toObject();
    QCOMPARE(response.value(s("status")).toInt(), 101);
    QCOMPARE(response.value(s("statusText")).toString(), s("Switching Protocols"));
    QCOMPARE(response.value(s("httpVersion")).toString(), s("HTTP/1.1"));
    QCOMPARE(headerList(response.value(s("headers")).toArray()), session.responseHeaders());
    QCOMPARE(nameValues(response.value(s("cookies")).toArray()), QStringList({s("sid=xyz")}));
    const QJsonObject content = response.value(s("content")).toObject();
    QCOMPARE(content.value(s("size")).toInt(), 0);
    QVERIFY(content.value(s("mimeType")).isString());
    QCOMPARE(response.value(s("redirectURL")).toString(), QString());
    QVERIFY(response.value(s("headersSize")).toInteger() > 0);
    QCOMPARE(response.value(s("bodySize")).toInteger(), qint64(0));
    QVERIFY(response.contains(s("_transferSize")));

    const QJsonArray messages = entry.value(s("_webSocketMessages")).toArray();
    QCOMPARE(messages.size(), entries.size());
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        QCOMPARE(m.keys(), QStringList({s("data"), s("opcode"), s("time"), s("type")}));
        const WsTrafficEntry &e = entries.at(i);
        QCOMPARE(m.value(s("type")).toString(), e.outgoing ? s("send") : s("receive"));
        QCOMPARE(m.value(s("opcode")).toInt(), int(e.opcode));
        QVERIFY(m.value(s("time")).isDouble());
        QVERIFY(qAbs(m.value(s("time")).toDouble() - double(e.timestamp.toMSecsSinceEpoch()) / 1000.0) < 1e-4);
        QVERIFY(m.value(s("time")).toDouble() > 1.6e9);  // seconds, not milliseconds
        const QString data = m.value(s("data")).toString();
        if (e.opcode == 1)
            QCOMPARE(data, QString::fromUtf8(text));
        else
            QCOMPARE(QByteArray::fromBase64(data.toLatin1()), e.payload);
    }
    QCOMPARE(messages.at(1).toObject().value(s("data")).toString(), s(allBytes().toBase64().constData()));
}

void tst_InspectorCore::harSelectsConnection()
{
    WsTrafficModel model;
    for (int i = 0; i < 6; ++i) {
        WsTrafficEntry e = makeEntry(i % 2, 1, QByteArray::number(i));
        e.connectionId = 1 + i / 3;
        model.addEntry(e);
    }
    model.flush();
    InspectorSession session(&model);
    QCOMPARE(harEntry(session.toHar()).value(s("_webSocketMessages")).toArray().size(), 6);
    const QJsonObject second = harEntry(session.toHar(2));
    QCOMPARE(second.value(s("connection")).toString(), s("2"));
    const QJsonArray messages = second.value(s("_webSocketMessages")).toArray();
    QCOMPARE(messages.size(), 3);
    QCOMPARE(messages.at(0).toObject().value(s("data")).toString(), s("3"));
    QCOMPARE(harEntry(session.toHar(9)).value(s("_webSocketMessages")).toArray().size(), 0);
    // No metadata: still a well-formed entry, started at the first message.
    const QDateTime started = QDateTime::fromString(harEntry(session.toHar()).value(s("startedDateTime")).toString(),
                                                    Qt::ISODateWithMs);
    QCOMPARE(started, model.entry(0).timestamp);
    QCOMPARE(harEntry(session.toHar()).value(s("request")).toObject().value(s("headersSize")).toInt(), -1);
}

void tst_InspectorCore::files()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    WsTrafficModel model;
    model.addEntry(makeEntry(true, 1, QStringLiteral("\u00e9t\u00e9").toUtf8()));
    model.addEntry(makeEntry(false, 2, allBytes()));
    model.addEntry(makeEntry(false, 8, be16(1000), 1000));
    model.flush();
    InspectorSession session(&model);
    fillMetadata(session);

    QString error;
    const QString jsonl = dir.filePath(s("session.jsonl"));
    QVERIFY2(session.saveJsonLines(jsonl, &error), qPrintable(error));
    {
        QFile f(jsonl);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), session.toJsonLines());
    }
    WsTrafficModel loaded;
    InspectorSession loader(&loaded);
    QVERIFY2(loader.loadJsonLines(jsonl, &error), qPrintable(error));
    compareModels(model, loaded);
    compareMetadata(session, loader);

    const QString har = dir.filePath(s("session.har"));
    QVERIFY2(session.saveHar(har, &error), qPrintable(error));
    {
        QFile f(har);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(harEntry(f.readAll()).value(s("_webSocketMessages")).toArray().size(), 3);
    }

    // The QML entry points: file URLs, an error string or nothing.
    const QUrl jsonlUrl = QUrl::fromLocalFile(dir.filePath(s("via-url.jsonl")));
    QCOMPARE(session.exportJsonLines(jsonlUrl), QString());
    QCOMPARE(session.exportHar(QUrl::fromLocalFile(dir.filePath(s("via-url.har")))), QString());
    QVERIFY(QFile::exists(dir.filePath(s("via-url.har"))));
    WsTrafficModel viaUrl;
    InspectorSession viaUrlSession(&viaUrl);
    QCOMPARE(viaUrlSession.importJsonLines(jsonlUrl), QString());
    compareModels(model, viaUrl);

    QVERIFY(viaUrlSession.importJsonLines(QUrl::fromLocalFile(dir.filePath(s("missing.jsonl")))).contains(s("missing.jsonl")));
    QVERIFY(session.exportHar(QUrl(s("https://example.com/x.har"))).startsWith(s("not a local file")));
    QVERIFY(!session.exportJsonLines(QUrl::fromLocalFile(dir.filePath(s("no/such/dir/x.jsonl")))).isEmpty());
    QVERIFY(!session.saveHar(dir.filePath(s("no/such/dir/x.har")), &error));
    QVERIFY(error.contains(s("x.har")));
    QVERIFY(!loader.loadJsonLines(dir.path(), &error));  // a directory
    QVERIFY(!error.isEmpty());
    // A broken file names itself and the line.
    const QString broken = dir.filePath(s("broken.jsonl"));
    {
        QFile f(broken);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"type\":\"session\"}\nnot json\n");
    }
    QVERIFY(!loader.loadJsonLines(broken, &error));
    QVERIFY2(error.startsWith(broken + s(": line 2: ")), qPrintable(error));
    compareModels(model, loaded);  // unchanged
}

void tst_InspectorCore::statsRates_data()
{
    QTest::addColumn<bool>("outgoing");
    QTest::addColumn<int>("window");
    QTest::addColumn<qint64>("checkAt");  // ms; 10 messages of 100 bytes came at 0, 100, ..., 900
    QTest::addColumn<double>("messagesPerSecond");
    QTest::addColumn<double>("bytesPerSecond");

    QTest::newRow("in, first second not complete") << false << 1 << qint64(999) << 0.0 << 0.0;
    QTest::newRow("in, after one second") << false << 1 << qint64(1000) << 10.0 << 1000.0;
    QTest::newRow("in, end of the next second") << false << 1 << qint64(1999) << 10.0 << 1000.0;
    QTest::newRow("in, out of the window") << false << 1 << qint64(2000) << 0.0 << 0.0;
    QTest::newRow("out, after one second") << true << 1 << qint64(1500) << 10.0 << 1000.0;
    QTest::newRow("window 5, after 1 s (window clamped)") << false << 5 << qint64(1000) << 10.0 << 1000.0;
    QTest::newRow("window 5, after 2 s") << false << 5 << qint64(2000) << 5.0 << 500.0;
    QTest::newRow("window 5, after 5 s") << true << 5 << qint64(5000) << 2.0 << 200.0;
    QTest::newRow("window 5, after 6 s") << true << 5 << qint64(6000) << 0.0 << 0.0;
    QTest::newRow("window 60, after 60 s") << false << 60 << qint64(60000) << 10.0 / 60 << 1000.0 / 60;
}

void tst_InspectorCore::statsRates()
{
    QFETCH(bool, outgoing);
    QFETCH(int, window);
    QFETCH(qint64, checkAt);
    QFETCH(double, messagesPerSecond);
    QFETCH(double, bytesPerSecond);

    ManualClock clock;
    TrafficStats stats;
    stats.setClock(clock.function());
    stats.setRateWindow(window);
    QCOMPARE(stats.rateWindow(), window);
    for (int i = 0; i < 10; ++i) {
        clock.ms = i * 100;
        stats.record(outgoing, 100, true);
    }
    clock.ms = checkAt;
    stats.update();
    const double msgs = outgoing ? stats.outMessagesPerSecond() : stats.inMessagesPerSecond();
    const double bytes = outgoing ? stats.outBytesPerSecond() : stats.inBytesPerSecond();
    QCOMPARE(msgs, messagesPerSecond);
    QCOMPARE(bytes, bytesPerSecond);
    // The other direction saw nothing.
    QCOMPARE(outgoing ? stats.inMessagesPerSecond() : stats.outMessagesPerSecond(), 0.0);
    QCOMPARE(outgoing ? stats.inBytesPerSecond() : stats.outBytesPerSecond(), 0.0);
    QCOMPARE(outgoing ? stats.totalMessagesOut() : stats.totalMessagesIn(), qint64(10));
    QCOMPARE(outgoing ? stats.totalBytesOut() : stats.totalBytesIn(), qint64(1000));
    QCOMPARE(outgoing ? stats.totalMessagesIn() : stats.totalMessagesOut(), qint64(0));
    // QML sees the same through the properties.
    QCOMPARE(stats.property(outgoing ? "outMessagesPerSecond" : "inMessagesPerSecond").toDouble(), messagesPerSecond);
    QCOMPARE(stats.property(outgoing ? "totalBytesOut" : "totalBytesIn").toDouble(), 1000.0);
}

void tst_InspectorCore::statsExpiry()
{
    ManualClock clock;
    TrafficStats stats;
    stats.setClock(clock.function());
    for (int i = 0; i < 10; ++i) {
        clock.ms = 200 + i * 50;
        stats.record(false, 100, true);
    }
    const auto sum = [&](const QString &series) {
        double total = 0;
        for (const QVariant &p : stats.history(series))
            total += p.toMap().value(QStringLiteral("value")).toDouble();
        return total;
    };

    clock.ms = 3000;
    QVariantList h = stats.history(s("inMessages"));
    QCOMPARE(h.size(), 3);  // seconds 0, 1, 2: none from before the start, not the current one
    QCOMPARE(h.at(0).toMap().value(s("t")).toDouble(), 0.0);
    QCOMPARE(h.at(0).toMap().value(s("value")).toDouble(), 10.0);
    QCOMPARE(h.at(2).toMap().value(s("t")).toDouble(), 2.0);
    QCOMPARE(stats.history(s("inMessages"), 2).size(), 2);
    QCOMPARE(sum(s("inBytes")), 1000.0);
    QCOMPARE(sum(s("outBytes")), 0.0);

    clock.ms = 60000;  // second 0 is the oldest of the last 60 complete seconds
    h = stats.history(s("inMessages"));
    QCOMPARE(h.size(), TrafficStats::HistorySeconds);
    QCOMPARE(h.first().toMap().value(s("t")).toDouble(), 0.0);
    QCOMPARE(sum(s("inMessages")), 10.0);

    clock.ms = 61000;  // and now it is gone
    h = stats.history(s("inMessages"));
    QCOMPARE(h.size(), TrafficStats::HistorySeconds);
    QCOMPARE(h.first().toMap().value(s("t")).toDouble(), 1.0);
    QCOMPARE(h.last().toMap().value(s("t")).toDouble(), 60.0);
    QCOMPARE(sum(s("inMessages")), 0.0);

    // Second 61 reuses the ring slot of second 0: nothing of the old count leaks in.
    clock.ms = 61500;
    stats.record(false, 7, true);
    clock.ms = 62000;
    stats.update();
    QCOMPARE(stats.inMessagesPerSecond(), 1.0);
    QCOMPARE(stats.inBytesPerSecond(), 7.0);
    QCOMPARE(sum(s("inMessages")), 1.0);
    QCOMPARE(stats.totalMessagesIn(), qint64(11));
    QCOMPARE(stats.totalBytesIn(), qint64(1007));

    // A clock that goes back is held where it was.
    clock.ms = 1000;
    stats.update();
    QCOMPARE(stats.inMessagesPerSecond(), 1.0);

    stats.reset();
    QCOMPARE(stats.totalMessagesIn(), qint64(0));
    QCOMPARE(stats.inMessagesPerSecond(), 0.0);
    QCOMPARE(stats.history(s("inMessages")).size(), 0);
}

void tst_InspectorCore::statsFramesAndSignals()
{
    ManualClock clock;
    TrafficStats stats;
    stats.setClock(clock.function());
    QSignalSpy rates(&stats, &TrafficStats::ratesChanged);
    QSignalSpy totals(&stats, &TrafficStats::totalsChanged);
    QSignalSpy rtt(&stats, &TrafficStats::lastRttChanged);
    QCOMPARE(stats.lastRtt(), -1);

    // A message in three frames counts once; its bytes are every frame's.
    const auto frame = [](WsFrameInfo::Direction d, quint8 opcode, bool fin, qint64 wire) {
        WsFrameInfo f;
        f.direction = d;
        f.opcode = opcode;
        f.fin = fin;
        f.wireSize = wire;
        return f;
    };
    stats.addFrame(frame(WsFrameInfo::Incoming, 1, false, 100));
    stats.addFrame(frame(WsFrameInfo::Incoming, 0, false, 100));
    stats.addFrame(frame(WsFrameInfo::Incoming, 0, true, 50));
    stats.addFrame(frame(WsFrameInfo::Outgoing, 9, true, 4));  // a ping
    QCOMPARE(stats.totalMessagesIn(), qint64(1));
    QCOMPARE(stats.totalBytesIn(), qint64(250));
    QCOMPARE(stats.totalMessagesOut(), qint64(1));
    QCOMPARE(stats.totalBytesOut(), qint64(4));
    QCOMPARE(totals.size(), 0);  // batched: not once per frame

    stats.update();
    QCOMPARE(totals.size(), 1);
    QCOMPARE(rates.size(), 0);  // the second is not over yet
    stats.update();
    QCOMPARE(totals.size(), 1);
    clock.ms = 1000;
    stats.update();
    QCOMPARE(rates.size(), 1);
    QCOMPARE(stats.inBytesPerSecond(), 250.0);
    QCOMPARE(stats.outMessagesPerSecond(), 1.0);
    stats.update();
    QCOMPARE(rates.size(), 1);
    clock.ms = 2000;
    stats.update();
    QCOMPARE(rates.size(), 2);
    QCOMPARE(stats.inBytesPerSecond(), 0.0);

    stats.recordRtt(12);
    QCOMPARE(stats.lastRtt(), 12);
    QCOMPARE(rtt.size(), 1);
    stats.recordRtt(12);
    QCOMPARE(rtt.size(), 1);
    stats.recordRtt(-1);  // not a measurement
    QCOMPARE(stats.lastRtt(), 12);
    clock.ms = 2500;
    stats.recordRtt(30);
    QCOMPARE(rtt.size(), 2);
    const QVariantList samples = stats.history(s("rtt"));
    QCOMPARE(samples.size(), 3);
    QCOMPARE(samples.last().toMap().value(s("t")).toDouble(), 2.5);
    QCOMPARE(samples.last().toMap().value(s("value")).toDouble(), 30.0);
    QCOMPARE(stats.history(s("no such series")), QVariantList());

    // The timer updates the rates while there is traffic, down to zero when it stops.
    TrafficStats timed;
    ManualClock timedClock;
    timed.setClock(timedClock.function());
    timed.record(true, 10, true);
    timedClock.ms = 1000;
    QTRY_COMPARE(timed.outMessagesPerSecond(), 1.0);
    timedClock.ms = 2000;
    QTRY_COMPARE(timed.outMessagesPerSecond(), 0.0);

    // The default clock runs on its own.
    TrafficStats live;
    live.setRateWindow(5);
    QSignalSpy liveRates(&live, &TrafficStats::ratesChanged);
    live.record(true, 10, true);
    QTRY_VERIFY_WITH_TIMEOUT(live.outMessagesPerSecond() > 0, 3000);
    QCOMPARE(live.outBytesPerSecond(), live.outMessagesPerSecond() * 10);
    QVERIFY(liveRates.size() >= 1);
}

void tst_InspectorCore::statsBoundedMemory()
{
    ManualClock clock;
    TrafficStats stats;
    stats.setClock(clock.function());
    for (int second = 0; second < 1000; ++second) {
        clock.ms = qint64(second) * 1000;
        for (int i = 0; i < 5; ++i)
            stats.record(second % 2, 1000, true);
        stats.recordRtt(second);
    }
    clock.ms = 1000 * 1000;
    stats.update();
    QCOMPARE(stats.history(s("inMessages")).size(), TrafficStats::HistorySeconds);
    QCOMPARE(stats.history(s("outBytes"), 1000).size(), TrafficStats::HistorySeconds);
    QCOMPARE(stats.rttSampleCount(), TrafficStats::MaxRttSamples);
    QCOMPARE(stats.history(s("rtt")).size(), TrafficStats::HistorySeconds);
    QCOMPARE(stats.totalMessagesIn() + stats.totalMessagesOut(), qint64(5000));
    QCOMPARE(stats.totalBytesOut(), qint64(500) * 5 * 1000);
    QCOMPARE(stats.outMessagesPerSecond(), 5.0);  // second 999 was odd: outgoing
    QCOMPARE(stats.lastRtt(), 999);
}

void tst_InspectorCore::live()
{
    WsSocketOptions options;
    options.pingIntervalMs = 0;
    WsServer server;
    server.setOptions(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &WsServer::newConnection, &server, [&] {
        while (WsSocket *c = server.nextPendingConnection()) {
            connect(c, &WsSocket::textMessageReceived, c, &WsSocket::sendTextMessage);
            connect(c, &WsSocket::binaryMessageReceived, c, &WsSocket::sendBinaryMessage);
        }
    });

    WsTrafficModel model;
    TrafficStats stats;
    InspectorSession session(&model);
    WsSocket client;
    client.setOptions(options);
    model.attachSocket(&client);
    stats.attachSocket(&client);
    connect(&client, &WsSocket::connected, &session, [&] { session.captureHandshake(&client); });
    QSignalSpy closed(&client, &WsSocket::closed);

    const QString text = QStringLiteral("Gr\u00fc\u00dfe \u4e16\u754c \U0001F680");
    const QByteArray binary = allBytes();
    const QString big(5000, QLatin1Char('z'));  // compressed: RSV1, fewer bytes on the wire
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/live?x=1").arg(server.serverPort())));
    QTRY_COMPARE(client.state(), WsSocket::State::Open);
    QVERIFY(client.sendTextMessage(text) > 0);
    QVERIFY(client.sendBinaryMessage(binary) > 0);
    QVERIFY(client.sendTextMessage(big) > 0);
    QVERIFY(client.sendFrame(WsOpcode::Text, "frag", false) > 0);
    QVERIFY(client.sendFrame(WsOpcode::Continuation, "men", false) > 0);
    QVERIFY(client.sendFrame(WsOpcode::Continuation, "ted", true) > 0);
    QVERIFY(client.ping("are you there?"));
    QTRY_COMPARE(model.totalMessages(), qint64(10));  // 4 messages and a ping out; 4 echoes and a pong in
    client.close(WsCloseCode::Normal, QStringLiteral("bye \u00e9"));
    QTRY_COMPARE(closed.size(), 1);
    QTRY_COMPARE(model.totalMessages(), qint64(12));  // and both close frames
    model.flush();
    QCOMPARE(model.count(), 12);

    // What was recorded.
    int out = 0, in = 0;
    qint64 outBytes = 0, inBytes = 0;
    bool sawFragmented = false, sawCompressed = false, sawBinary = false, sawText = false;
    for (int row = 0; row < model.count(); ++row) {
        const WsTrafficEntry &e = model.entry(row);
        (e.outgoing ? out : in) += 1;
        (e.outgoing ? outBytes : inBytes) += e.wireSize;
        for (const WsFrameInfo &f : e.frames)
            QCOMPARE(f.masked, e.outgoing);  // a client masks, a server does not
        if (e.outgoing && e.frames.size() == 3) {
            sawFragmented = true;
            QCOMPARE(e.payload, QByteArray("fragmented"));
        }
        if (e.opcode == 1 && e.size == big.size() && (e.rsv & 4)) {
            sawCompressed = true;
            QVERIFY(e.wireSize < e.size);
        }
        if (!e.outgoing && e.opcode == 2) {
            sawBinary = true;
            QCOMPARE(e.payload, binary);
        }
        if (!e.outgoing && e.opcode == 1 && e.payload == text.toUtf8())
            sawText = true;
        if (e.opcode == 8)
            QCOMPARE(e.closeCode, quint16(1000));
    }
    QVERIFY(sawFragmented);
    QVERIFY(sawCompressed);
    QVERIFY(sawBinary);
    QVERIFY(sawText);
    QCOMPARE(out, 6);
    QCOMPARE(in, 6);

    // The statistics saw the same frames.
    QCOMPARE(stats.totalMessagesOut(), qint64(out));
    QCOMPARE(stats.totalMessagesIn(), qint64(in));
    QCOMPARE(stats.totalBytesOut(), outBytes);
    QCOMPARE(stats.totalBytesIn(), inBytes);
    QVERIFY(stats.lastRtt() >= 0);
    QCOMPARE(stats.history(s("rtt")).size(), 1);
    const auto historySum = [&](const char *series) {
        double total = 0;
        for (const QVariant &p : stats.history(s(series)))
            total += p.toMap().value(QStringLiteral("value")).toDouble();
        return total;
    };
    // Once their second is over, the history has every message and byte.
    QTRY_COMPARE_WITH_TIMEOUT(historySum("outMessages"), double(out), 3000);
    QCOMPARE(historySum("inMessages"), double(in));
    QCOMPARE(historySum("outBytes"), double(outBytes));
    QCOMPARE(historySum("inBytes"), double(inBytes));

    // The handshake.
    QCOMPARE(session.url(), QUrl(QStringLiteral("ws://127.0.0.1:%1/live?x=1").arg(server.serverPort())));
    QCOMPARE(session.responseStatus(), 101);
    QCOMPARE(session.serverAddress(), s("127.0.0.1"));
    QVERIFY(session.startTime().isValid());
    QVERIFY(session.extensions().startsWith(s("permessage-deflate")));
    const auto has = [](const InspectorSession::Headers &headers, const char *name) {
        for (const auto &h : headers)
            if (h.first.compare(QLatin1String(name), Qt::CaseInsensitive) == 0 && !h.second.isEmpty())
                return true;
        return false;
    };
    QVERIFY(has(session.requestHeaders(), "Sec-WebSocket-Key"));
    QVERIFY(has(session.requestHeaders(), "Host"));
    QVERIFY(has(session.responseHeaders(), "Sec-WebSocket-Accept"));

    // Export, import into a fresh model: the same rows and handshake.
    QString error;
    WsTrafficModel imported;
    InspectorSession importer(&imported);
    QVERIFY2(importer.fromJsonLines(session.toJsonLines(), &error), qPrintable(error));
    compareModels(model, imported);
    compareMetadata(session, importer);

    // And the HAR of it.
    const QJsonObject entry = harEntry(importer.toHar());
    QCOMPARE(entry.value(s("request")).toObject().value(s("url")).toString(), session.url().toString());
    const QJsonArray messages = entry.value(s("_webSocketMessages")).toArray();
    QCOMPARE(messages.size(), model.count());
    int sends = 0;
    for (const QJsonValue &m : messages) {
        const QJsonObject o = m.toObject();
        sends += o.value(s("type")).toString() == s("send");
        if (o.value(s("type")).toString() == s("receive") && o.value(s("opcode")).toInt() == 2)
            QCOMPARE(QByteArray::fromBase64(o.value(s("data")).toString().toLatin1()), binary);
    }
    QCOMPARE(sends, out);
}

QTEST_GUILESS_MAIN(tst_InspectorCore)
#include "tst_inspectorcore.moc"
