#pragma once

#include "wsqmlsocket.h"

#include <wsserver.h>

#include <QtCore/qabstractitemmodel.h>
#include <QtQml/qqmlengine.h>
#include <QtQml/qqmlparserstatus.h>

// The live clients of a QML WsServer: one row per open connection, removed (and the
// socket object freed) when it closes. Roles: socket, connectionId, peerAddress, path.
class WsConnectionListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles { SocketRole = Qt::UserRole + 1, ConnectionIdRole, PeerAddressRole, PathRole };
    using QAbstractListModel::QAbstractListModel;
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    Q_INVOKABLE WsQmlSocket *get(int row) const;

    void append(WsQmlSocket *socket);
    void remove(WsQmlSocket *socket);
    const QList<WsQmlSocket *> &sockets() const { return m_sockets; }

Q_SIGNALS:
    void countChanged();

private:
    QList<WsQmlSocket *> m_sockets;
};

// The QML face of WsServer: WsServer { port: 0; listening: true; onTextMessageReceived: ... }
class WsQmlServer : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(WsServer)
    Q_PROPERTY(QString host READ host WRITE setHost NOTIFY hostChanged)
    Q_PROPERTY(int port READ port WRITE setPort NOTIFY portChanged)
    Q_PROPERTY(bool listening READ isListening WRITE setListening NOTIFY listeningChanged)
    Q_PROPERTY(QUrl url READ url NOTIFY urlChanged)
    Q_PROPERTY(QUrl certificateFile READ certificateFile WRITE setCertificateFile NOTIFY tlsChanged)
    Q_PROPERTY(QUrl privateKeyFile READ privateKeyFile WRITE setPrivateKeyFile NOTIFY tlsChanged)
    Q_PROPERTY(QStringList subprotocols READ subprotocols WRITE setSubprotocols NOTIFY subprotocolsChanged)
    Q_PROPERTY(QStringList allowedOrigins READ allowedOrigins WRITE setAllowedOrigins NOTIFY allowedOriginsChanged)
    Q_PROPERTY(bool compression READ compression WRITE setCompression NOTIFY compressionChanged)
    Q_PROPERTY(int pingInterval READ pingInterval WRITE setPingInterval NOTIFY pingIntervalChanged)
    Q_PROPERTY(WsConnectionListModel *connections READ connections CONSTANT)
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY connectionCountChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)

public:
    explicit WsQmlServer(QObject *parent = nullptr);
    ~WsQmlServer() override;

    void classBegin() override {}
    void componentComplete() override;

    QString host() const { return m_host; }
    void setHost(const QString &host);
    int port() const;
    void setPort(int port);
    bool isListening() const { return m_server.isListening(); }
    void setListening(bool listening);
    QUrl url() const;
    QUrl certificateFile() const { return m_certFile; }
    void setCertificateFile(const QUrl &file);
    QUrl privateKeyFile() const { return m_keyFile; }
    void setPrivateKeyFile(const QUrl &file);
    QStringList subprotocols() const { return m_subprotocols; }
    void setSubprotocols(const QStringList &p);
    QStringList allowedOrigins() const { return m_origins; }
    void setAllowedOrigins(const QStringList &o);
    bool compression() const { return m_options.compression; }
    void setCompression(bool on);
    int pingInterval() const { return m_options.pingIntervalMs; }
    void setPingInterval(int ms);
    WsConnectionListModel *connections() { return &m_connections; }
    int connectionCount() const { return m_connections.rowCount(); }
    QString errorString() const { return m_errorString; }
    WsServer *server() { return &m_server; }

    // Sends a text message to every client; returns how many it was queued for.
    Q_INVOKABLE int broadcast(const QString &message);
    Q_INVOKABLE int broadcastBinary(const QByteArray &message);
    Q_INVOKABLE void close();

Q_SIGNALS:
    void hostChanged();
    void portChanged();
    void listeningChanged();
    void urlChanged();
    void tlsChanged();
    void subprotocolsChanged();
    void allowedOriginsChanged();
    void compressionChanged();
    void pingIntervalChanged();
    void connectionCountChanged();
    void errorStringChanged();
    void clientConnected(WsQmlSocket *socket);
    void clientDisconnected(WsQmlSocket *socket);
    void textMessageReceived(WsQmlSocket *socket, const QString &message);
    void binaryMessageReceived(WsQmlSocket *socket, const QByteArray &message);

private:
    bool start();
    void onNewConnection();
    void setErrorString(const QString &s);

    WsServer m_server;
    WsConnectionListModel m_connections;
    WsSocketOptions m_options;
    QString m_host = QStringLiteral("127.0.0.1");
    int m_port = 0;
    bool m_wantListening = false;
    bool m_complete = false;
    QUrl m_certFile, m_keyFile;
    QStringList m_subprotocols, m_origins;
    QString m_errorString;
};
