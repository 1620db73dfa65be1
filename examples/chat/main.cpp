// wskit-chat: a QML chat over WsKit. With no arguments it runs a server and two clients in one
// window; --server or --client URL run one side alone (two processes).
//   wskit-chat [--port N] [--server | --client ws://host:port/] [--name NAME]
//              [--screenshot FILE] [--quit-after MS] [--restart-at MS]

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qdir.h>
#include <QtCore/qtimer.h>
#include <QtGui/qguiapplication.h>
#include <QtQml/qqmlapplicationengine.h>
#include <QtQml/qqmlcontext.h>
#include <QtQuick/qquickwindow.h>

#include <cstdio>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("wskit-chat"));
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("Server port (0: any free one)."), QStringLiteral("port"), QStringLiteral("0"));
    QCommandLineOption serverOpt(QStringLiteral("server"), QStringLiteral("Run only the chat server."));
    QCommandLineOption clientOpt(QStringLiteral("client"), QStringLiteral("Run only a client of this server."), QStringLiteral("url"));
    QCommandLineOption nameOpt(QStringLiteral("name"), QStringLiteral("The client's user name."), QStringLiteral("name"), QStringLiteral("guest"));
    QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("Save a PNG of the window and quit."), QStringLiteral("file"));
    QCommandLineOption quitOpt(QStringLiteral("quit-after"), QStringLiteral("Quit after this many milliseconds."), QStringLiteral("ms"));
    QCommandLineOption restartOpt(QStringLiteral("restart-at"), QStringLiteral("Demo: stop the server after this many milliseconds, restart it 2 s later."), QStringLiteral("ms"), QStringLiteral("0"));
    parser.addOptions({portOpt, serverOpt, clientOpt, nameOpt, shotOpt, quitOpt, restartOpt});
    parser.process(app);

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral(WSKIT_QML_IMPORT_DIR));
    engine.addImportPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../qml"));
    const QString mode = parser.isSet(serverOpt) ? QStringLiteral("server")
                       : parser.isSet(clientOpt) ? QStringLiteral("client") : QStringLiteral("demo");
    engine.setInitialProperties({{QStringLiteral("mode"), mode},
                                 {QStringLiteral("serverPort"), parser.value(portOpt).toInt()},
                                 {QStringLiteral("clientUrl"), QUrl(parser.value(clientOpt))},
                                 {QStringLiteral("clientName"), parser.value(nameOpt)},
                                 {QStringLiteral("restartAt"), parser.value(restartOpt).toInt()}});
    engine.load(QUrl(QStringLiteral("qrc:/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().first());

    if (parser.isSet(shotOpt)) {
        // Let the demo conversation happen, then save what the window shows.
        const QString file = parser.value(shotOpt);
        const int delay = parser.isSet(quitOpt) ? parser.value(quitOpt).toInt() : 2500;
        QTimer::singleShot(delay, &app, [window, file] {
            const bool ok = window && window->grabWindow().save(file);
            std::printf("%s %s\n", ok ? "screenshot saved to" : "could not save", qPrintable(QDir(file).absolutePath()));
            QCoreApplication::exit(ok ? 0 : 1);
        });
    } else if (parser.isSet(quitOpt)) {
        QTimer::singleShot(parser.value(quitOpt).toInt(), &app, &QCoreApplication::quit);
    }
    return app.exec();
}
