// A console WebSocket client: sends each line of standard input as a text message and
// prints what comes back. Closes cleanly at the end of input.

#include <wssocket.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtimer.h>

#include <cstdio>
#include <unistd.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("wskit-echoclient"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sends standard input line by line to a WebSocket server."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("url"), QStringLiteral("ws:// or wss:// URL"));
    QCommandLineOption protoOpt(QStringLiteral("subprotocol"), QStringLiteral("Subprotocol to offer (repeatable)."), QStringLiteral("name"));
    QCommandLineOption originOpt(QStringLiteral("origin"), QStringLiteral("Origin header."), QStringLiteral("origin"));
    QCommandLineOption headerOpt(QStringLiteral("header"), QStringLiteral("Extra header \"Name: value\" (repeatable)."), QStringLiteral("header"));
    QCommandLineOption insecureOpt(QStringLiteral("insecure"), QStringLiteral("Accept any TLS certificate (development only)."));
    parser.addOptions({protoOpt, originOpt, headerOpt, insecureOpt});
    parser.process(app);
    if (parser.positionalArguments().size() != 1)
        parser.showHelp(2);

    WsRequest request;
    request.url = QUrl(parser.positionalArguments().first());
    request.origin = parser.value(originOpt).toUtf8();
    for (const QString &p : parser.values(protoOpt))
        request.subprotocols.append(p.toUtf8());
    for (const QString &h : parser.values(headerOpt)) {
        const qsizetype colon = h.indexOf(QLatin1Char(':'));
        if (colon > 0)
            request.headers.add(h.left(colon).trimmed().toUtf8(), h.mid(colon + 1).trimmed().toUtf8());
    }
    request.options.pingIntervalMs = 0;

    WsSocket socket;
    int exitCode = 0;
    int awaiting = 0;
    bool inputDone = false;
    const auto maybeClose = [&] {
        if (inputDone && awaiting == 0 && socket.state() == WsSocket::State::Open)
            socket.close();
    };
    if (parser.isSet(insecureOpt))
        QObject::connect(&socket, &WsSocket::sslErrors, &socket, [&] { socket.ignoreSslErrors(); });
    QObject::connect(&socket, &WsSocket::textMessageReceived, &socket, [&](const QString &m) {
        std::printf("%s\n", qPrintable(m));
        std::fflush(stdout);
        --awaiting;
        maybeClose();
    });
    QObject::connect(&socket, &WsSocket::binaryMessageReceived, &socket, [&](const QByteArray &m) {
        std::printf("<binary %lld bytes>\n", static_cast<long long>(m.size()));
        --awaiting;
        maybeClose();
    });
    QObject::connect(&socket, &WsSocket::errorOccurred, &socket, [&] {
        std::fprintf(stderr, "error: %s\n", qPrintable(socket.errorString()));
        exitCode = 1;
    });
    QObject::connect(&socket, &WsSocket::closed, &app, [&](const WsCloseStatus &s) {
        std::fprintf(stderr, "closed: code %d%s\n", s.code, s.wasClean ? "" : " (not clean)");
        QCoreApplication::exit(exitCode);
    });

    QFile input;
    // Unbuffered on the descriptor: no lines hide in a stdio buffer while the notifier waits.
    input.open(STDIN_FILENO, QIODevice::ReadOnly | QIODevice::Unbuffered);
    QSocketNotifier notifier(STDIN_FILENO, QSocketNotifier::Read);
    notifier.setEnabled(false);
    QObject::connect(&notifier, &QSocketNotifier::activated, &socket, [&] {
        // Several lines may have arrived at once: send every complete one now.
        do {
            const QByteArray line = input.readLine();
            if (line.isEmpty()) {  // end of input
                notifier.setEnabled(false);
                inputDone = true;
                maybeClose();
                return;
            }
            ++awaiting;
            socket.sendTextMessage(QString::fromUtf8(line).chopped(line.endsWith('\n') ? 1 : 0));
        } while (input.canReadLine());
    });
    QObject::connect(&socket, &WsSocket::connected, &socket, [&] {
        std::fprintf(stderr, "connected to %s%s%s\n", qPrintable(socket.requestUrl().toString()),
                     socket.subprotocol().isEmpty() ? "" : ", subprotocol ", socket.subprotocol().constData());
        notifier.setEnabled(true);
    });
    socket.open(request);
    return app.exec();
}
