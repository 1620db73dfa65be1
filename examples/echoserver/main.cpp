// A WebSocket echo server: text comes back as text, binary as binary, any size up to the
// message limit. The server the compliance and load tests point at. SIGINT or SIGTERM shut
// it down gracefully: every connection is closed with 1001 Going Away, then it exits 0.

#include <wsserver.h>
#include <wssocket.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtNetwork/qsslkey.h>

#include <csignal>
#include <cstdio>

#include <sys/socket.h>
#include <unistd.h>

namespace {

// The signal handler only writes a byte to a socket pair; the event loop reads it and shuts
// down in normal code (nothing else is async-signal-safe).
int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const ssize_t n = ::write(signalPipe[0], &c, 1);
}

bool installShutdownSignals()
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signalPipe) != 0)
        return false;
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    return ::sigaction(SIGINT, &sa, nullptr) == 0 && ::sigaction(SIGTERM, &sa, nullptr) == 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("wskit-echoserver"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("WebSocket echo server"));
    parser.addHelpOption();
    QCommandLineOption hostOpt(QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("address"), QStringLiteral("127.0.0.1"));
    QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("Port (0 picks a free one; default 9001)."), QStringLiteral("port"), QStringLiteral("9001"));
    QCommandLineOption certOpt(QStringLiteral("tls-cert"), QStringLiteral("PEM certificate: serve wss://."), QStringLiteral("file"));
    QCommandLineOption keyOpt(QStringLiteral("tls-key"), QStringLiteral("PEM private key for --tls-cert."), QStringLiteral("file"));
    QCommandLineOption protoOpt(QStringLiteral("subprotocol"), QStringLiteral("Supported subprotocol (repeatable)."), QStringLiteral("name"));
    QCommandLineOption originOpt(QStringLiteral("origin"), QStringLiteral("Allowed Origin (repeatable; default any)."), QStringLiteral("origin"));
    QCommandLineOption maxOpt(QStringLiteral("max-message"), QStringLiteral("Largest message in bytes (default 16 MiB)."), QStringLiteral("bytes"), QString::number(16 * 1024 * 1024));
    QCommandLineOption quietOpt(QStringLiteral("quiet"), QStringLiteral("Do not log connections."));
    QCommandLineOption threadsOpt(QStringLiteral("threads"), QStringLiteral("Worker threads serving the connections (default 0: all in the main thread)."), QStringLiteral("n"), QStringLiteral("0"));
    QCommandLineOption handshakeOpt(QStringLiteral("handshake-timeout"), QStringLiteral("Milliseconds a client has to complete its opening handshake."), QStringLiteral("ms"));
    parser.addOptions({hostOpt, portOpt, certOpt, keyOpt, protoOpt, originOpt, maxOpt, quietOpt, threadsOpt, handshakeOpt});
    parser.process(app);
    const bool quiet = parser.isSet(quietOpt);

    WsServer server;
    WsSocketOptions options;
    options.limits.maxMessageSize = parser.value(maxOpt).toLongLong();
    options.maxWriteBufferSize = std::max<qint64>(options.limits.maxMessageSize * 2, 16 * 1024 * 1024);
    if (parser.isSet(handshakeOpt))
        options.handshakeTimeoutMs = parser.value(handshakeOpt).toInt();
    server.setOptions(options);
    server.setWorkerThreads(parser.value(threadsOpt).toInt());
    for (const QString &p : parser.values(protoOpt))
        server.setSupportedSubprotocols(server.supportedSubprotocols() << p.toUtf8());
    for (const QString &o : parser.values(originOpt))
        server.setAllowedOrigins(server.allowedOrigins() << o.toUtf8());
    if (parser.isSet(certOpt)) {
        QFile certFile(parser.value(certOpt));
        QFile keyFile(parser.value(keyOpt));
        if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "cannot read the TLS certificate or key\n");
            return 2;
        }
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(QSslCertificate(certFile.readAll(), QSsl::Pem));
        tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem));
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
        server.setSslConfiguration(tls);
        if (!server.isSecure()) {
            std::fprintf(stderr, "invalid TLS certificate or key\n");
            return 2;
        }
    }
    if (!server.listen(QHostAddress(parser.value(hostOpt)), quint16(parser.value(portOpt).toUInt()))) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    QString host = server.serverAddress().toString();
    if (server.serverAddress().protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    std::printf("listening on %s://%s:%d\n", server.isSecure() ? "wss" : "ws", qPrintable(host), server.serverPort());
    std::fflush(stdout);

    // Graceful shutdown: stop listening, close every connection with 1001, exit once they are
    // gone (the server drops those that do not answer within closeTimeoutMs).
    if (!installShutdownSignals()) {
        std::fprintf(stderr, "cannot install the signal handlers\n");
        return 1;
    }
    QSocketNotifier signalNotifier(signalPipe[1], QSocketNotifier::Read);
    QObject::connect(&signalNotifier, &QSocketNotifier::activated, &app, [&] {
        char c;
        [[maybe_unused]] const ssize_t n = ::read(signalPipe[1], &c, 1);
        signalNotifier.setEnabled(false);
        if (!quiet) {
            std::printf("shutting down: closing %d connection(s)\n", server.connectionCount());
            std::fflush(stdout);
        }
        QObject::connect(&server, &WsServer::closed, &app, &QCoreApplication::quit);
        server.close();
    });

    // Each connection is taken in the thread that serves it (a worker with --threads), and
    // its slots, which have the socket as context, run there too.
    server.setConnectionHandler([quiet](WsSocket *socket) {
        if (!quiet) {
            std::printf("+ %s:%d %s\n", qPrintable(socket->peerAddress().toString()), socket->peerPort(),
                        socket->handshakeRequest().target.constData());
            std::fflush(stdout);
        }
        // Back-pressure: stop reading while the echoes are not written out.
        const auto throttle = [socket] {
            if (socket->bufferedAmount() > 1024 * 1024)
                socket->pauseReading();
        };
        QObject::connect(socket, &WsSocket::textMessageReceived, socket, [socket, throttle](const QString &m) {
            socket->sendTextMessage(m);
            throttle();
        });
        QObject::connect(socket, &WsSocket::binaryMessageReceived, socket, [socket, throttle](const QByteArray &m) {
            socket->sendBinaryMessage(m);
            throttle();
        });
        QObject::connect(socket, &WsSocket::writeBufferDrained, socket, &WsSocket::resumeReading);
        QObject::connect(socket, &WsSocket::closed, socket, [socket, quiet](const WsCloseStatus &s) {
            if (!quiet) {
                std::printf("- %s:%d code %d%s\n", qPrintable(socket->peerAddress().toString()), socket->peerPort(),
                            s.code, s.wasClean ? "" : " (not clean)");
                std::fflush(stdout);
            }
            socket->deleteLater();
        });
    });
    return app.exec();
}
