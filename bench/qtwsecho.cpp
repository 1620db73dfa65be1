// bench-qtwsecho: the same echo server as examples/echoserver, written the idiomatic
// QtWebSockets way, as the comparison point of the network benchmarks (bench/net.sh).
// Text comes back as text, binary as binary.
//
//   bench-qtwsecho [--port P] [--max-message BYTES]   prints "listening on ws://HOST:PORT"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsocketserver.h>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("bench-qtwsecho"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("QtWebSockets echo server (benchmark reference)"));
    parser.addHelpOption();
    QCommandLineOption hostOpt(QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("address"), QStringLiteral("127.0.0.1"));
    QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("Port (0 picks a free one)."), QStringLiteral("port"), QStringLiteral("0"));
    QCommandLineOption maxOpt(QStringLiteral("max-message"), QStringLiteral("Largest message in bytes (default 64 MiB)."), QStringLiteral("bytes"), QString::number(64 * 1024 * 1024));
    QCommandLineOption quietOpt(QStringLiteral("quiet"), QStringLiteral("Accepted for symmetry with wskit-echoserver; this server never logs."));
    parser.addOptions({hostOpt, portOpt, maxOpt, quietOpt});
    parser.process(app);
    const quint64 maxMessage = parser.value(maxOpt).toULongLong();

    QWebSocketServer server(QStringLiteral("bench-qtwsecho"), QWebSocketServer::NonSecureMode);
    if (!server.listen(QHostAddress(parser.value(hostOpt)), quint16(parser.value(portOpt).toUInt()))) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    std::printf("listening on ws://%s:%d\n", qPrintable(server.serverAddress().toString()), server.serverPort());
    std::fflush(stdout);

    QObject::connect(&server, &QWebSocketServer::newConnection, &server, [&] {
        while (QWebSocket *socket = server.nextPendingConnection()) {
            socket->setMaxAllowedIncomingMessageSize(maxMessage);
            socket->setMaxAllowedIncomingFrameSize(maxMessage);
            QObject::connect(socket, &QWebSocket::textMessageReceived, socket, &QWebSocket::sendTextMessage);
            QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket, &QWebSocket::sendBinaryMessage);
            QObject::connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
    return app.exec();
}
