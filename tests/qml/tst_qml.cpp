// QtQuickTest entry point: the QML test cases in this directory run against the WsKit QML
// module from the build tree, with a TLS certificate generated for the run.

#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtQml/qqmlcontext.h>
#include <QtQml/qqmlengine.h>
#include <QtQuickTest/quicktest.h>

class Setup : public QObject
{
    Q_OBJECT
public slots:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral(WSKIT_QML_IMPORT_DIR));
        // A self-signed certificate made now by the openssl CLI; no key is committed.
        const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
        const QString key = m_dir.filePath(QStringLiteral("key.pem"));
        if (!QFile::exists(cert)) {
            QProcess::execute(QStringLiteral("openssl"),
                              {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                               QStringLiteral("-nodes"), QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert,
                               QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost"),
                               QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1")});
        }
        engine->rootContext()->setContextProperty(QStringLiteral("tlsCertificate"), QUrl::fromLocalFile(cert));
        engine->rootContext()->setContextProperty(QStringLiteral("tlsKey"), QUrl::fromLocalFile(key));
    }

private:
    QTemporaryDir m_dir;
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
