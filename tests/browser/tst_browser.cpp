// Headless Chromium as a real browser client of WsServer, over loopback only.
//
// The server serves the test page (page.html, a resource) itself with setHttpHandler (GET /).
// Its JavaScript opens ws://127.0.0.1:<port>/ws with the subprotocol "wskit.test" and sends
// text (ASCII, non-ASCII, empty, and 1.5 MB of non-ASCII text that Chromium splits into
// frames in the middle of code points) and binary messages (0 B, 1 KiB, 1 MiB, 8 MiB, byte
// i = (i*31+7) & 255). The server checks every byte it receives and echoes each message with
// its type; the page checks every byte of every echo, then sends "RESULT ok" or
// "RESULT fail: <details>" and closes with 1000 "done".
//
// Chromium offers permessage-deflate. The rows: the server declines it (compression off), the
// server accepts it with its defaults, and with no context takeover and narrow windows on
// both sides (client_max_window_bits=8, which zlib cannot produce: Chromium deflates with 9).
// With compression the bytes on the wire must be far fewer than the payload.
//
// Side channels that do not depend on the WebSocket: the page reports failures with
// GET /report?<text>, and how it saw the close and the negotiated extensions with
// GET /closed?code=&clean=&reason=&extensions=&ua=.
//
// Chromium comes from the Debian package `chromium` (scripts/common.sh installs it); without
// it this test fails, it never skips. It runs in a process group of its own, with HOME and
// the XDG directories in a fresh temporary directory, and is killed in cleanup().

#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qurlquery.h>
#include <QtTest/QtTest>

#include <cstring>
#include <memory>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

static const QString kChromium = QStringLiteral("/usr/bin/chromium");
static const QByteArray kSubprotocol = "wskit.test";
// Per row; three rows stay within ctest's TIMEOUT of 180 s even if each times out.
static constexpr int kResultTimeoutMs = 50000;

// byte i = (i*31+7) & 255: what the page sends; a message of n bytes is its first n bytes.
static QByteArray pattern(qsizetype n)
{
    QByteArray a(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i)
        a[i] = char(quint8((i * 31 + 7) & 255));
    return a;
}

class tst_Browser : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void chromiumEchoesThroughWsServer_data();
    void chromiumEchoesThroughWsServer();

private:
    struct Expected
    {
        bool isText;
        QString text;
        qsizetype size;
    };

    void onConnection(WsSocket *socket);
    void checkMessage(bool isText, const QString &text, const QByteArray &data);
    void stopChromium();
    QString diagnostics() const;

    QList<Expected> m_expected;
    qint64 m_payloadBytes = 0;  // the UTF-8/binary payload of every expected message
    QByteArray m_pattern;

    std::unique_ptr<QTemporaryDir> m_tmp;  // profile, HOME, XDG dirs
    std::unique_ptr<QProcess> m_chromium;
    qint64 m_chromiumPgid = 0;

    // What one row observed; reset by init().
    struct Run
    {
        QByteArray chromiumOutput;
        qsizetype next = 0;
        QStringList serverErrors;
        QStringList pageReports;
        QList<QByteArray> httpRequests;
        int upgrades = 0;
        QByteArray origin, path, offeredExtensions;
        QList<QByteArray> offeredSubprotocols;
        QPointer<WsSocket> socket;
        QByteArray subprotocol;
        QList<WsExtensionOffer> extensions;
        QByteArray responseExtensions;
        QString result;
        bool closed = false;
        WsCloseStatus closeStatus;
        WsSocketStatistics statistics;
        bool browserClosed = false;
        QUrlQuery browserClose;
        QElapsedTimer clock;
        qint64 tPage = -1, tOpen = -1, tResult = -1, tClosed = -1;
    } m;
};

void tst_Browser::initTestCase()
{
    // What the page sends, in order.
    const QString snow = QString::fromUtf8("\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80 snow ");
    m_expected = {
        {true, QStringLiteral("Hello, WsKit!"), 0},
        {true, QString::fromUtf8("h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80"), 0},
        {true, QString(), 0},
        {true, snow.repeated(100000), 0},
        {false, QString(), 0},
        {false, QString(), 1024},
        {false, QString(), 1 << 20},
        {false, QString(), 8 << 20},
    };
    for (const Expected &e : std::as_const(m_expected))
        m_payloadBytes += e.isText ? e.text.toUtf8().size() : e.size;
    m_pattern = pattern(8 << 20);
}

void tst_Browser::init()
{
    m = Run();
}

void tst_Browser::cleanup()
{
    stopChromium();
    m_tmp.reset();
}

// Pids of live processes whose command line mentions path (our temporary directory).
static QList<pid_t> processesMentioning(const QString &path)
{
    QList<pid_t> pids;
    const QByteArray needle = path.toLocal8Bit();
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        bool ok = false;
        const pid_t pid = pid_t(entry.toInt(&ok));
        if (!ok || pid == ::getpid())
            continue;
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(entry));
        if (cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(needle))
            pids.append(pid);
    }
    return pids;
}

void tst_Browser::stopChromium()
{
    if (!m_chromium)
        return;
    m_chromium->disconnect(this);
    // Chromium leads a process group of its own (see setChildProcessModifier below): its
    // zygotes, renderers, GPU and utility processes go with it.
    if (m_chromiumPgid > 0)
        ::kill(pid_t(-m_chromiumPgid), SIGKILL);
    if (m_chromium->state() != QProcess::NotRunning) {
        m_chromium->kill();
        m_chromium->waitForFinished(10000);
    }
    m.chromiumOutput += m_chromium->readAllStandardError();
    m.chromiumOutput += m_chromium->readAllStandardOutput();
    m_chromium.reset();
    m_chromiumPgid = 0;
    // The crashpad handlers start their own sessions; they leave when the browser is gone,
    // and their command lines name our temporary HOME: make sure none outlives the test.
    if (m_tmp) {
        const QDeadlineTimer deadline(5000);
        for (QList<pid_t> left = processesMentioning(m_tmp->path()); !left.isEmpty();
             left = processesMentioning(m_tmp->path())) {
            if (deadline.hasExpired()) {
                QStringList pids;
                for (pid_t p : std::as_const(left))
                    pids << QString::number(p);
                qWarning("Chromium processes still alive after SIGKILL: %s", qPrintable(pids.join(QLatin1Char(' '))));
                break;
            }
            for (pid_t p : std::as_const(left))
                ::kill(p, SIGKILL);
            QTest::qSleep(50);
        }
    }
}

QString tst_Browser::diagnostics() const
{
    QString s;
    s += QStringLiteral("\n  HTTP requests: ");
    for (const QByteArray &r : m.httpRequests)
        s += QString::fromLatin1(r) + QStringLiteral(", ");
    s += QStringLiteral("\n  upgrade requests: %1, messages checked: %2 of %3")
                 .arg(m.upgrades).arg(m.next).arg(m_expected.size());
    s += QStringLiteral("\n  server-side errors: ") + m.serverErrors.join(QStringLiteral("; "));
    s += QStringLiteral("\n  page reports: ") + m.pageReports.join(QStringLiteral(" | "));
    s += QStringLiteral("\n  result: ") + m.result.left(2000);
    // What Chromium printed, without the D-Bus complaints of a machine without a bus.
    QByteArray out;
    for (const QByteArray &line : m.chromiumOutput.split('\n'))
        if (!line.contains(":ERROR:dbus/") && !line.trimmed().isEmpty())
            out += line + '\n';
    out = out.right(12000);
    s += QStringLiteral("\n  chromium stderr (last %1 bytes):\n").arg(out.size()) + QString::fromLocal8Bit(out);
    return s;
}

void tst_Browser::checkMessage(bool isText, const QString &text, const QByteArray &data)
{
    const qsizetype index = m.next++;
    const QString got = isText ? QStringLiteral("text of %1 UTF-16 units").arg(text.size())
                               : QStringLiteral("binary of %1 bytes").arg(data.size());
    if (index >= m_expected.size()) {
        m.serverErrors << QStringLiteral("unexpected message #%1: %2").arg(index).arg(got);
        return;
    }
    const Expected &e = m_expected.at(index);
    if (e.isText != isText) {
        m.serverErrors << QStringLiteral("message #%1 is %2, expected a %3 message")
                                  .arg(index).arg(got, e.isText ? QStringLiteral("text") : QStringLiteral("binary"));
        return;
    }
    if (isText) {
        if (text != e.text) {
            qsizetype i = 0;
            while (i < text.size() && i < e.text.size() && text.at(i) == e.text.at(i))
                ++i;
            m.serverErrors << QStringLiteral("message #%1: %2 differs from the expected %3 units at unit %4")
                                      .arg(index).arg(got).arg(e.text.size()).arg(i);
        }
        return;
    }
    if (data.size() != e.size) {
        m.serverErrors << QStringLiteral("message #%1: %2, expected %3 bytes").arg(index).arg(got).arg(e.size);
        return;
    }
    if (std::memcmp(data.constData(), m_pattern.constData(), size_t(data.size())) != 0) {
        qsizetype i = 0;
        while (data.at(i) == m_pattern.at(i))
            ++i;
        m.serverErrors << QStringLiteral("message #%1 (%2 bytes): byte %3 is %4, expected %5")
                                  .arg(index).arg(data.size()).arg(i)
                                  .arg(quint8(data.at(i))).arg(quint8(m_pattern.at(i)));
    }
}

void tst_Browser::onConnection(WsSocket *socket)
{
    if (m.socket) {
        m.serverErrors << QStringLiteral("a second WebSocket connection");
        socket->close(WsCloseCode::PolicyViolation, QStringLiteral("one connection only"));
        return;
    }
    m.socket = socket;
    m.tOpen = m.clock.elapsed();
    m.subprotocol = socket->subprotocol();
    m.extensions = socket->extensions();
    m.responseExtensions = socket->handshakeResponse().headers.combined("Sec-WebSocket-Extensions");

    connect(socket, &WsSocket::textMessageReceived, this, [this, socket](const QString &message) {
        if (message.startsWith(QLatin1String("RESULT "))) {
            m.result = message;
            m.tResult = m.clock.elapsed();
            if (m.next != m_expected.size())
                m.serverErrors << QStringLiteral("RESULT after %1 of %2 messages").arg(m.next).arg(m_expected.size());
            return;
        }
        checkMessage(true, message, QByteArray());
        if (socket->sendTextMessage(message) < 0)
            m.serverErrors << QStringLiteral("echo of text failed: ") + socket->errorString();
    });
    connect(socket, &WsSocket::binaryMessageReceived, this, [this, socket](const QByteArray &message) {
        checkMessage(false, QString(), message);
        if (socket->sendBinaryMessage(message) < 0)
            m.serverErrors << QStringLiteral("echo of %1 bytes failed: ").arg(message.size()) + socket->errorString();
    });
    connect(socket, &WsSocket::errorOccurred, this, [this, socket](WsError) {
        m.serverErrors << QStringLiteral("server socket error: ") + socket->errorString();
    });
    connect(socket, &WsSocket::closed, this, [this, socket](const WsCloseStatus &status) {
        m.closeStatus = status;
        m.statistics = socket->statistics();
        m.closed = true;
        m.tClosed = m.clock.elapsed();
    });
}

void tst_Browser::chromiumEchoesThroughWsServer_data()
{
    QTest::addColumn<bool>("compression");
    // Server: no context takeover and a 512-byte window for itself, and asks the same of
    // Chromium with client_max_window_bits=8 (zlib cannot deflate with 8: Chromium uses 9).
    QTest::addColumn<bool>("narrowWindows");
    QTest::addColumn<QByteArray>("expectedExtensions");  // the server's answer
    // The most bytes the server may receive and send on the wire (0: more than the payload,
    // since it is not compressed).
    QTest::addColumn<qint64>("maxWireBytes");

    QTest::newRow("permessage-deflate declined") << false << false << QByteArray() << qint64(0);
    // The byte pattern repeats every 256 bytes, the text every 15: they deflate to nearly nothing.
    QTest::newRow("permessage-deflate") << true << false << QByteArray("permessage-deflate")
                                        << m_payloadBytes / 10;
    // zlib matches at most 2^bits - 262 bytes back: with 512-byte windows the binary pattern
    // finds no match and goes out as it is, only the 1.5 MB of text shrinks.
    QTest::newRow("permessage-deflate, no context takeover, windows 9/8")
            << true << true
            << QByteArray("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                          "server_max_window_bits=9; client_max_window_bits=8")
            << m_payloadBytes - 1000000;
}

void tst_Browser::chromiumEchoesThroughWsServer()
{
    QFETCH(bool, compression);
    QFETCH(bool, narrowWindows);
    QFETCH(QByteArray, expectedExtensions);
    QFETCH(qint64, maxWireBytes);

    if (!QFileInfo(kChromium).isExecutable())
        QFAIL("/usr/bin/chromium is missing: install the Debian package `chromium` "
              "(scripts/common.sh does)");

    WsServer server;
    WsSocketOptions options = server.options();
    options.limits.maxMessageSize = 16 << 20;
    options.compression = compression;
    if (narrowWindows) {
        options.deflate.noContextTakeover = true;
        options.deflate.maxWindowBits = 9;
        options.deflate.requestPeerNoContextTakeover = true;
        options.deflate.requestPeerMaxWindowBits = 8;
    }
    server.setOptions(options);
    server.setSupportedSubprotocols({kSubprotocol});
    QVERIFY2(server.listen(QHostAddress::LocalHost, 0), qPrintable(server.errorString()));
    const quint16 port = server.serverPort();
    const QByteArray origin = "http://127.0.0.1:" + QByteArray::number(port);

    QFile pageFile(QStringLiteral(":/browser/page.html"));
    QVERIFY(pageFile.open(QIODevice::ReadOnly));
    QByteArray page = pageFile.readAll();
    page.replace("@PORT@", QByteArray::number(port));

    server.setHttpHandler([&](const WsHandshakeRequest &request, WsHandshakeResponse *response) {
        m.httpRequests << request.method + ' ' + request.target.left(100);
        if (request.method == "GET" && request.path() == "/") {
            if (m.tPage < 0)
                m.tPage = m.clock.elapsed();
            response->status = 200;
            response->headers.add("Content-Type", "text/html; charset=utf-8");
            response->headers.add("Cache-Control", "no-store");
            response->body = page;
            return true;
        }
        if (request.method == "GET" && request.path() == "/report") {
            m.pageReports << QString::fromUtf8(QByteArray::fromPercentEncoding(request.query()));
            response->status = 204;
            return true;
        }
        if (request.method == "GET" && request.path() == "/closed") {
            m.browserClose = QUrlQuery(QString::fromLatin1(request.query()));
            m.browserClosed = true;
            response->status = 204;
            return true;
        }
        response->status = 404;  // e.g. /favicon.ico
        response->body = "not found\n";
        return true;
    });
    connect(&server, &WsServer::upgradeRequested, this, [&](WsUpgradeRequest *request) {
        ++m.upgrades;
        m.origin = request->origin();
        m.path = request->path();
        m.offeredSubprotocols = request->subprotocols();
        m.offeredExtensions = request->request().headers.combined("Sec-WebSocket-Extensions");
        if (m.path != "/ws")
            request->reject(404);
        else if (m.origin != origin)
            request->reject(403, "unexpected Origin\n");
        // otherwise the server's default: accepted with "wskit.test"
    });
    connect(&server, &WsServer::newConnection, this, [&] {
        while (WsSocket *s = server.nextPendingConnection())
            onConnection(s);
    });

    // Everything Chromium writes goes to a fresh temporary directory.
    m_tmp = std::make_unique<QTemporaryDir>();
    QVERIFY(m_tmp->isValid());
    for (const char *dir : {"profile", "home", "config", "cache"})
        QVERIFY(QDir(m_tmp->path()).mkdir(QString::fromLatin1(dir)));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), m_tmp->filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_tmp->filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), m_tmp->filePath(QStringLiteral("cache")));

    const QStringList args = {
        QStringLiteral("--headless"),
        QStringLiteral("--no-sandbox"),
        QStringLiteral("--disable-gpu"),
        QStringLiteral("--disable-quic"),
        QStringLiteral("--no-first-run"),
        QStringLiteral("--disable-background-networking"),
        QStringLiteral("--disable-component-update"),
        QStringLiteral("--disable-sync"),
        QStringLiteral("--enable-logging=stderr"),  // the page's console in the failure message
        QStringLiteral("--user-data-dir=") + m_tmp->filePath(QStringLiteral("profile")),
        QStringLiteral("http://127.0.0.1:%1/").arg(port),
    };
    m_chromium = std::make_unique<QProcess>();
    m_chromium->setProcessEnvironment(env);
    // A process group of its own, so that stopChromium() can kill its children too.
    m_chromium->setChildProcessModifier([] { ::setpgid(0, 0); });
    connect(m_chromium.get(), &QProcess::readyReadStandardError, this, [this] {
        m.chromiumOutput += m_chromium->readAllStandardError();
        if (m.chromiumOutput.size() > (1 << 20))
            m.chromiumOutput = m.chromiumOutput.right(256 * 1024);
    });
    connect(m_chromium.get(), &QProcess::readyReadStandardOutput, this, [this] {
        m.chromiumOutput += m_chromium->readAllStandardOutput();
    });
    m.clock.start();
    m_chromium->start(kChromium, args);
    QVERIFY2(m_chromium->waitForStarted(10000), qPrintable(m_chromium->errorString()));
    m_chromiumPgid = m_chromium->processId();

    // The page does the work. Wait for the server to see the close and for the page to say
    // how it saw it, or for Chromium to die, or for the time to run out.
    const QDeadlineTimer deadline(kResultTimeoutMs);
    QDeadlineTimer afterClose(QDeadlineTimer::Forever);
    while (!(m.closed && m.browserClosed) && !deadline.hasExpired() && !afterClose.hasExpired()
           && m_chromium->state() != QProcess::NotRunning) {
        QTest::qWait(20);
        if (m.closed && afterClose.isForever())
            afterClose.setRemainingTime(10000);
    }
    const bool chromiumExited = m_chromium->state() == QProcess::NotRunning;
    if (chromiumExited)
        QTest::qWait(500);  // what was in flight when it exited
    const qint64 elapsed = m.clock.elapsed();
    const QString exitInfo = chromiumExited
            ? QStringLiteral("Chromium exited (code %1, %2) after %3 ms").arg(m_chromium->exitCode())
                      .arg(m_chromium->exitStatus() == QProcess::NormalExit ? QStringLiteral("normal exit") : QStringLiteral("crashed"))
                      .arg(elapsed)
            : QStringLiteral("Chromium still running after %1 ms").arg(elapsed);
    qInfo("Chromium start -> page served %lld ms, WebSocket open %lld ms, RESULT %lld ms, closed %lld ms",
          m.tPage, m.tOpen, m.tResult, m.tClosed);
    if (m.browserClosed)
        qInfo("%s", qPrintable(m.browserClose.queryItemValue(QStringLiteral("ua"), QUrl::FullyDecoded)));
    stopChromium();

    if (m.result.isEmpty()) {
        const QString why = m.closed ? QStringLiteral("the connection closed without a RESULT; ") + exitInfo
                : chromiumExited     ? QStringLiteral("no RESULT: ") + exitInfo
                                     : QStringLiteral("no RESULT within %1 s: ").arg(kResultTimeoutMs / 1000) + exitInfo;
        QFAIL(qPrintable(why + diagnostics()));
    }
    QVERIFY2(m.result == QLatin1String("RESULT ok"),
             qPrintable(QStringLiteral("the page says: ") + m.result.left(4000) + diagnostics()));
    QVERIFY2(m.serverErrors.isEmpty(),
             qPrintable(QStringLiteral("the server says: ") + m.serverErrors.join(QStringLiteral("; ")) + diagnostics()));
    QVERIFY2(m.pageReports.isEmpty(), qPrintable(QStringLiteral("the page reported problems") + diagnostics()));
    QCOMPARE(m.next, m_expected.size());
    QCOMPARE(m.upgrades, 1);

    // The opening handshake: Origin, path, subprotocol, and permessage-deflate as the row wants.
    QCOMPARE(m.origin, origin);
    QCOMPARE(m.path, QByteArray("/ws"));
    QCOMPARE(m.offeredSubprotocols, QList<QByteArray>{kSubprotocol});
    QCOMPARE(m.subprotocol, kSubprotocol);
    QVERIFY2(m.offeredExtensions.contains("permessage-deflate"),
             qPrintable(QStringLiteral("Chromium offered: ") + QString::fromLatin1(m.offeredExtensions)));
    QCOMPARE(m.responseExtensions, expectedExtensions);
    QCOMPARE(m.extensions.size(), compression ? 1 : 0);
    // What the page saw as ws.extensions: the server's answer, as it was sent.
    QVERIFY2(m.browserClosed, qPrintable(QStringLiteral("the page did not report its close event; ") + exitInfo + diagnostics()));
    QCOMPARE(m.browserClose.queryItemValue(QStringLiteral("extensions"), QUrl::FullyDecoded),
             QString::fromLatin1(expectedExtensions));
    // Compressed or not, really, both ways.
    qInfo("wire bytes received %lld, sent %lld, for %lld payload bytes each way",
          m.statistics.bytesReceived, m.statistics.bytesSent, m_payloadBytes);
    if (maxWireBytes > 0) {
        QVERIFY2(m.statistics.bytesReceived <= maxWireBytes, qPrintable(QString::number(m.statistics.bytesReceived)));
        QVERIFY2(m.statistics.bytesSent <= maxWireBytes, qPrintable(QString::number(m.statistics.bytesSent)));
    } else {
        QVERIFY2(m.statistics.bytesReceived > m_payloadBytes, qPrintable(QString::number(m.statistics.bytesReceived)));
        QVERIFY2(m.statistics.bytesSent > m_payloadBytes, qPrintable(QString::number(m.statistics.bytesSent)));
    }

    // The close the page started, as the server saw it ...
    QVERIFY2(m.closed, qPrintable(QStringLiteral("no close after the RESULT; ") + exitInfo + diagnostics()));
    QCOMPARE(m.closeStatus.code, quint16(WsCloseCode::Normal));
    QCOMPARE(m.closeStatus.reason, QStringLiteral("done"));
    QVERIFY(m.closeStatus.wasClean);
    QCOMPARE(int(m.closeStatus.initiator), int(WsCloseInitiator::Remote));
    QCOMPARE(m.closeStatus.sentCode, quint16(WsCloseCode::Normal));
    QCOMPARE(int(m.closeStatus.error), int(WsError::NoError));
    // ... and as the browser saw it (the server's reply echoes the code).
    QCOMPARE(m.browserClose.queryItemValue(QStringLiteral("code")), QStringLiteral("1000"));
    QCOMPARE(m.browserClose.queryItemValue(QStringLiteral("clean")), QStringLiteral("true"));
}

QTEST_GUILESS_MAIN(tst_Browser)
#include "tst_browser.moc"
