// The WsKit inspector: shows WebSocket traffic as it happens.
//   wskit-inspector                       own echo server on 127.0.0.1, connects to it, demo traffic
//   wskit-inspector ws://host:port/path   connects to a server
//   wskit-inspector --listen PORT         runs a server and shows every client's traffic
// Options: --header "Name: value", --subprotocol NAME, --no-compression, --insecure,
//          --screenshot FILE (with QT_QPA_PLATFORM=offscreen on headless machines), --quit-after MS

#include "inspectorsession.h"
#include "trafficstats.h"

#include <wsqmlserver.h>
#include <wsqmlsocket.h>
#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qdir.h>
#include <QtCore/qset.h>
#include <QtCore/qsettings.h>
#include <QtCore/qtimer.h>
#include <QtGui/qguiapplication.h>
#include <QtNetwork/qsslcipher.h>
#include <QtQml/qqmlapplicationengine.h>
#include <QtQml/qqmlcontext.h>
#include <QtQuick/qquickwindow.h>

#include <cstdio>

// What QML cannot do by itself: wire C++ statistics to sockets, keep saved messages.
class InspectorBridge : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QStringList savedMessages READ savedMessages WRITE setSavedMessages NOTIFY savedMessagesChanged)
    Q_PROPERTY(QString tlsSummary READ tlsSummary NOTIFY handshakeChanged)
    Q_PROPERTY(QString rejectionBody READ rejectionBody NOTIFY handshakeChanged)
public:
    explicit InspectorBridge(TrafficStats *stats, InspectorSession *session, QObject *parent = nullptr)
        : QObject(parent), m_stats(stats), m_session(session) {}

    Q_INVOKABLE void attach(QObject *source)
    {
        if (auto *s = qobject_cast<WsQmlSocket *>(source)) {
            m_stats->attachSocket(s->socket());
            connect(s, &WsQmlSocket::opened, this, [this, s] {
                m_session->captureHandshake(s);
                m_rejectionBody.clear();
                m_tls = describeTls(s->socket()->sessionSslConfiguration());
                emit handshakeChanged();
            });
            // A refused handshake: keep what the server said, status, headers and body.
            connect(s->socket(), &WsSocket::handshakeResponseReceived, this, [this, s](const WsHandshakeResponse &r) {
                if (r.status == 101)
                    return;
                m_session->captureHandshake(*s->socket());
                m_rejectionBody = QString::fromUtf8(r.body.left(64 * 1024));
                emit handshakeChanged();
            });
        } else if (auto *server = qobject_cast<WsQmlServer *>(source)) {
            connect(server, &WsQmlServer::clientConnected, this, [this](WsQmlSocket *c) {
                m_stats->attachSocket(c->socket());
                m_session->captureHandshake(c);
            });
        }
    }
    // Demo traffic for the embedded mode: JSON ticks and, every fifth, a 64-byte binary blob,
    // at `rate` messages per second (several per timer tick above a few hundred).
    Q_INVOKABLE void startDemo(QObject *qmlSocket, double rate)
    {
        auto *s = qobject_cast<WsQmlSocket *>(qmlSocket);
        if (!s || rate <= 0)
            return;
        QPointer<WsSocket> socket = s->socket();
        const int interval = std::max(5, int(1000 / rate));
        const int perTick = std::max(1, int(rate * interval / 1000 + 0.5));
        m_demo.disconnect();
        m_demo.setInterval(interval);
        connect(&m_demo, &QTimer::timeout, this, [this, socket, perTick] {
            if (!socket || socket->state() != WsSocket::State::Open) {
                m_demo.stop();
                return;
            }
            for (int i = 0; i < perTick; ++i) {
                const int n = ++m_tick;
                if (n % 5 == 0) {
                    QByteArray blob(64, Qt::Uninitialized);
                    for (int b = 0; b < blob.size(); ++b)
                        blob[b] = char((b * 37 + n) & 0xff);
                    socket->sendBinaryMessage(blob);
                } else {
                    socket->sendTextMessage(QStringLiteral("{\"type\":\"tick\",\"seq\":%1,\"time\":\"%2\",\"load\":[0.42,0.37,0.31],\"status\":\"ok\"}")
                                                    .arg(n).arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)));
                }
            }
        });
        m_demo.start();
    }

    QString tlsSummary() const { return m_tls; }
    QString rejectionBody() const { return m_rejectionBody; }

    static QString describeTls(const QSslConfiguration &tls)
    {
        if (tls.isNull() || tls.sessionCipher().isNull())
            return QString();
        QString out = QStringLiteral("%1, %2").arg(tls.sessionCipher().protocolString(), tls.sessionCipher().name());
        const QSslCertificate peer = tls.peerCertificate();
        if (!peer.isNull()) {
            out += QStringLiteral("\npeer: %1\nissuer: %2\nvalid until %3").arg(
                    peer.subjectDisplayName(), peer.issuerDisplayName(),
                    peer.expiryDate().toString(Qt::ISODate));
        }
        return out;
    }

    // The composer's saved messages, kept across runs (QSettings).
    QStringList savedMessages() const
    {
        return QSettings().value(QStringLiteral("composer/saved")).toStringList();
    }
    void setSavedMessages(const QStringList &messages)
    {
        if (messages == savedMessages())
            return;
        QSettings().setValue(QStringLiteral("composer/saved"), messages);
        emit savedMessagesChanged();
    }

Q_SIGNALS:
    void savedMessagesChanged();
    void handshakeChanged();

private:
    TrafficStats *m_stats;
    InspectorSession *m_session;
    QString m_tls;
    QString m_rejectionBody;
    QTimer m_demo;
    int m_tick = 0;
};

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("wskit-inspector"));
    QCoreApplication::setOrganizationName(QStringLiteral("WsKit"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Shows WebSocket traffic."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("url"), QStringLiteral("ws:// or wss:// URL to connect to (default: an embedded echo server)"));
    QCommandLineOption listenOpt(QStringLiteral("listen"), QStringLiteral("Run a server on this port instead of a client."), QStringLiteral("port"));
    QCommandLineOption headerOpt(QStringLiteral("header"), QStringLiteral("Extra request header \"Name: value\" (repeatable)."), QStringLiteral("header"));
    QCommandLineOption protoOpt(QStringLiteral("subprotocol"), QStringLiteral("Subprotocol to offer or accept (repeatable)."), QStringLiteral("name"));
    QCommandLineOption noCompressOpt(QStringLiteral("no-compression"), QStringLiteral("Do not negotiate permessage-deflate."));
    QCommandLineOption insecureOpt(QStringLiteral("insecure"), QStringLiteral("Accept any TLS certificate (development only)."));
    QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("Render the window to this PNG after traffic has flowed, then quit."), QStringLiteral("file"));
    QCommandLineOption quitOpt(QStringLiteral("quit-after"), QStringLiteral("Quit (or take the screenshot) after this many milliseconds."), QStringLiteral("ms"));
    QCommandLineOption rateOpt(QStringLiteral("demo-rate"), QStringLiteral("Embedded mode: messages per second of demo traffic (default 2.5)."), QStringLiteral("n"), QStringLiteral("2.5"));
    QCommandLineOption detailsOpt(QStringLiteral("details"), QStringLiteral("Payload view to show first: text, json or hex."), QStringLiteral("view"), QStringLiteral("text"));
    QCommandLineOption tabOpt(QStringLiteral("tab"), QStringLiteral("Side pane to show first: message, handshake, statistics or session."), QStringLiteral("name"), QStringLiteral("message"));
    parser.addOptions({listenOpt, headerOpt, protoOpt, noCompressOpt, insecureOpt, shotOpt, quitOpt, tabOpt, rateOpt, detailsOpt});
    parser.process(app);

    // The embedded echo server of the default mode.
    WsServer echo;
    QUrl url;
    const bool listen = parser.isSet(listenOpt);
    if (!parser.positionalArguments().isEmpty()) {
        url = QUrl(parser.positionalArguments().first());
    } else if (!listen) {
        QObject::connect(&echo, &WsServer::newConnection, &echo, [&echo] {
            while (WsSocket *s = echo.nextPendingConnection()) {
                QObject::connect(s, &WsSocket::textMessageReceived, s, [s](const QString &m) { s->sendTextMessage(m); });
                QObject::connect(s, &WsSocket::binaryMessageReceived, s, [s](const QByteArray &m) { s->sendBinaryMessage(m); });
                QObject::connect(s, &WsSocket::closed, s, &QObject::deleteLater);
            }
        });
        if (!echo.listen(QHostAddress::LocalHost, 0)) {
            std::fprintf(stderr, "cannot start the embedded echo server: %s\n", qPrintable(echo.errorString()));
            return 1;
        }
        url = QUrl(QStringLiteral("ws://127.0.0.1:%1/echo").arg(echo.serverPort()));
    }
    QVariantMap headers;
    for (const QString &h : parser.values(headerOpt)) {
        const qsizetype colon = h.indexOf(QLatin1Char(':'));
        if (colon > 0)
            headers.insert(h.left(colon).trimmed(), h.mid(colon + 1).trimmed());
    }

    TrafficStats stats;
    InspectorSession session;
    InspectorBridge bridge(&stats, &session);
    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral(WSKIT_QML_IMPORT_DIR));
    engine.addImportPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../qml"));
    engine.setInitialProperties({
        {QStringLiteral("initialUrl"), url},
        {QStringLiteral("embedded"), parser.positionalArguments().isEmpty() && !listen},
        {QStringLiteral("listenPort"), listen ? parser.value(listenOpt).toInt() : -1},
        {QStringLiteral("requestHeaders"), headers},
        {QStringLiteral("subprotocols"), parser.values(protoOpt)},
        {QStringLiteral("compression"), !parser.isSet(noCompressOpt)},
        {QStringLiteral("insecure"), parser.isSet(insecureOpt)},
        {QStringLiteral("demoRate"), parser.value(rateOpt).toDouble()},
        {QStringLiteral("detailsView"), std::max(0, int(QStringList{QStringLiteral("text"), QStringLiteral("json"), QStringLiteral("hex")}.indexOf(parser.value(detailsOpt))))},
        {QStringLiteral("initialTab"), int(QStringList{QStringLiteral("message"), QStringLiteral("handshake"), QStringLiteral("statistics"), QStringLiteral("session")}.indexOf(parser.value(tabOpt)))},
        {QStringLiteral("stats"), QVariant::fromValue(static_cast<QObject *>(&stats))},
        {QStringLiteral("session"), QVariant::fromValue(static_cast<QObject *>(&session))},
        {QStringLiteral("bridge"), QVariant::fromValue(static_cast<QObject *>(&bridge))},
    });
    engine.load(QUrl(QStringLiteral("qrc:/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().first());

    const int quitAfter = parser.isSet(quitOpt) ? parser.value(quitOpt).toInt() : (parser.isSet(shotOpt) ? 3000 : -1);
    if (parser.isSet(shotOpt)) {
        const QString file = parser.value(shotOpt);
        QTimer::singleShot(quitAfter, &app, [window, file] {
            const QImage image = window ? window->grabWindow() : QImage();
            // A blank render (one flat colour) means the UI did not come up: say so.
            QSet<QRgb> colours;
            for (int y = 0; y < image.height(); y += 7)
                for (int x = 0; x < image.width(); x += 7)
                    colours.insert(image.pixel(x, y));
            if (colours.size() < 8) {
                std::printf("the window rendered blank (%d colours)\n", int(colours.size()));
                QCoreApplication::exit(1);
                return;
            }
            const bool ok = image.save(file);
            std::printf("%s %s\n", ok ? "screenshot saved to" : "could not save", qPrintable(QDir(file).absolutePath()));
            std::fflush(stdout);
            QCoreApplication::exit(ok ? 0 : 1);
        });
    } else if (quitAfter >= 0) {
        QTimer::singleShot(quitAfter, &app, &QCoreApplication::quit);
    }
    return app.exec();
}

#include "main.moc"
