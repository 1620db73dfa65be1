// The WsKit side of the server-role conformance run: for N = 1..count, opens a WsSocket to
// BASE/case/N and echoes every message (text as text, binary as binary) until the
// connection ends, then goes on with the next case. The fuzzing server checks the rest.
//   conformance_echoclient ws://127.0.0.1:PORT COUNT

#include <wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtCore/qurl.h>

#include <cstdio>

class CaseRunner : public QObject
{
public:
    CaseRunner(const QString &base, int count) : m_base(base), m_count(count)
    {
        m_guard.setSingleShot(true);
        m_guard.setInterval(60000);  // longer than any case's own timeout
        QObject::connect(&m_guard, &QTimer::timeout, this, [this] {
            std::fprintf(stderr, "conformance_echoclient: case %d timed out, aborting it\n", m_current);
            finishCase();
        });
    }

    void startNext()
    {
        if (++m_current > m_count) {
            QCoreApplication::exit(0);
            return;
        }
        WsSocketOptions options;
        options.limits.maxMessageSize = 64 * 1024 * 1024;
        options.maxWriteBufferSize = 256 * 1024 * 1024;
        options.pingIntervalMs = 0;
        options.closeTimeoutMs = 3000;
        options.handshakeTimeoutMs = 10000;
        auto *socket = new WsSocket(this);
        m_socket = socket;
        socket->setOptions(options);
        QObject::connect(socket, &WsSocket::textMessageReceived, socket, [socket](const QString &m) { socket->sendTextMessage(m); });
        QObject::connect(socket, &WsSocket::binaryMessageReceived, socket, [socket](const QByteArray &m) { socket->sendBinaryMessage(m); });
        QObject::connect(socket, &WsSocket::closed, this, [this, socket] {
            if (socket == m_socket)
                finishCase();
        });
        m_guard.start();
        socket->open(QUrl(m_base + QStringLiteral("/case/") + QString::number(m_current)));
    }

private:
    void finishCase()
    {
        m_guard.stop();
        if (WsSocket *socket = m_socket) {
            m_socket = nullptr;
            socket->disconnect(this);
            if (socket->state() != WsSocket::State::Closed && socket->state() != WsSocket::State::Unconnected)
                socket->abort();
            socket->deleteLater();
        }
        QTimer::singleShot(0, this, [this] { startNext(); });
    }

    QString m_base;
    int m_count;
    int m_current = 0;
    QPointer<WsSocket> m_socket;
    QTimer m_guard;
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() != 3) {
        std::fprintf(stderr, "usage: conformance_echoclient ws://127.0.0.1:PORT COUNT\n");
        return 2;
    }
    CaseRunner runner(args.at(1), args.at(2).toInt());
    QTimer::singleShot(0, &runner, [&runner] { runner.startNext(); });
    return app.exec();
}
