#pragma once

#include <wssocket.h>

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqmlengine.h>
#include <QtQml/qqmlparserstatus.h>

// The QML face of WsSocket (import WsKit; WsSocket { url: ...; active: true }).
// A client connects once the component is complete and active is true, reconnects when the
// URL changes, and lets go of `active` when the connection ends (unless autoReconnect), so
// that setting it again is all it takes to reconnect. The WsServer QML type hands out
// instances of it for its accepted clients.
class WsQmlSocket : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(WsSocket)
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(Status status READ status NOTIFY statusChanged)
    Q_PROPERTY(QVariantMap requestHeaders READ requestHeaders WRITE setRequestHeaders NOTIFY requestHeadersChanged)
    Q_PROPERTY(QString origin READ origin WRITE setOrigin NOTIFY originChanged)
    Q_PROPERTY(QStringList subprotocols READ subprotocols WRITE setSubprotocols NOTIFY subprotocolsChanged)
    Q_PROPERTY(QString negotiatedSubprotocol READ negotiatedSubprotocol NOTIFY statusChanged)
    Q_PROPERTY(QStringList negotiatedExtensions READ negotiatedExtensions NOTIFY statusChanged)
    Q_PROPERTY(bool compression READ compression WRITE setCompression NOTIFY compressionChanged)
    Q_PROPERTY(bool autoReconnect READ autoReconnect WRITE setAutoReconnect NOTIFY autoReconnectChanged)
    Q_PROPERTY(int reconnectInitialDelay READ reconnectInitialDelay WRITE setReconnectInitialDelay NOTIFY reconnectSettingsChanged)
    Q_PROPERTY(int reconnectMaxDelay READ reconnectMaxDelay WRITE setReconnectMaxDelay NOTIFY reconnectSettingsChanged)
    Q_PROPERTY(int reconnectAttempts READ reconnectAttempts NOTIFY reconnectAttemptsChanged)
    Q_PROPERTY(int pingInterval READ pingInterval WRITE setPingInterval NOTIFY keepaliveChanged)
    Q_PROPERTY(int pongTimeout READ pongTimeout WRITE setPongTimeout NOTIFY keepaliveChanged)
    Q_PROPERTY(int roundTripTime READ roundTripTime NOTIFY roundTripTimeChanged)
    Q_PROPERTY(int closeCode READ closeCode NOTIFY closedStatusChanged)
    Q_PROPERTY(QString closeReason READ closeReason NOTIFY closedStatusChanged)
    Q_PROPERTY(bool wasClean READ wasClean NOTIFY closedStatusChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(double bufferedAmount READ bufferedAmountValue NOTIFY bufferedAmountChanged)
    Q_PROPERTY(bool ignoreSslErrors READ ignoreSslErrors WRITE setIgnoreSslErrors NOTIFY sslSettingsChanged)
    Q_PROPERTY(QUrl caCertificateFile READ caCertificateFile WRITE setCaCertificateFile NOTIFY sslSettingsChanged)
    Q_PROPERTY(int messagesReceived READ messagesReceived NOTIFY statisticsChanged)
    Q_PROPERTY(int messagesSent READ messagesSent NOTIFY statisticsChanged)
    Q_PROPERTY(QString peerAddress READ peerAddress NOTIFY statusChanged)
    Q_PROPERTY(int connectionId READ connectionId CONSTANT)
    // Anything the application wants to keep with this connection (e.g. a user name).
    Q_PROPERTY(QVariant userData READ userData WRITE setUserData NOTIFY userDataChanged)

public:
    enum Status { Idle, Connecting, Open, Closing, Closed, Error };
    Q_ENUM(Status)

    explicit WsQmlSocket(QObject *parent = nullptr);
    // Wraps a connection a server accepted.
    WsQmlSocket(WsSocket *accepted, QObject *parent);
    ~WsQmlSocket() override;

    void classBegin() override {}
    void componentComplete() override;

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    Status status() const { return m_status; }
    QVariantMap requestHeaders() const { return m_headers; }
    void setRequestHeaders(const QVariantMap &headers);
    QString origin() const { return m_origin; }
    void setOrigin(const QString &origin);
    QStringList subprotocols() const { return m_subprotocols; }
    void setSubprotocols(const QStringList &subprotocols);
    QString negotiatedSubprotocol() const;
    QStringList negotiatedExtensions() const;
    bool compression() const { return m_options.compression; }
    void setCompression(bool on);
    bool autoReconnect() const { return m_options.reconnect.enabled; }
    void setAutoReconnect(bool on);
    int reconnectInitialDelay() const { return m_options.reconnect.initialDelayMs; }
    void setReconnectInitialDelay(int ms);
    int reconnectMaxDelay() const { return m_options.reconnect.maxDelayMs; }
    void setReconnectMaxDelay(int ms);
    int reconnectAttempts() const;
    int pingInterval() const { return m_options.pingIntervalMs; }
    void setPingInterval(int ms);
    int pongTimeout() const { return m_options.pongTimeoutMs; }
    void setPongTimeout(int ms);
    int roundTripTime() const { return m_rtt; }
    int closeCode() const { return m_closeCode; }
    QString closeReason() const { return m_closeReason; }
    bool wasClean() const { return m_wasClean; }
    QString errorString() const { return m_errorString; }
    qint64 bufferedAmount() const;
    double bufferedAmountValue() const { return double(bufferedAmount()); }
    bool ignoreSslErrors() const { return m_ignoreSslErrors; }
    void setIgnoreSslErrors(bool ignore);
    QUrl caCertificateFile() const { return m_caFile; }
    void setCaCertificateFile(const QUrl &file);
    int messagesReceived() const;
    int messagesSent() const;
    QString peerAddress() const;

    WsSocket *socket() const { return m_socket; }
    QVariant userData() const { return m_userData; }
    void setUserData(const QVariant &data)
    {
        if (m_userData == data)
            return;
        m_userData = data;
        emit userDataChanged();
    }
    int connectionId() const { return m_connectionId; }

    Q_INVOKABLE bool sendTextMessage(const QString &message);
    Q_INVOKABLE bool sendBinaryMessage(const QByteArray &message);
    Q_INVOKABLE bool sendJson(const QJSValue &value);
    Q_INVOKABLE bool ping(const QString &payload = QString());
    Q_INVOKABLE void close(int code = 1000, const QString &reason = QString());
    Q_INVOKABLE void open();
    // A header of the opening handshake request: the one sent (client) or received (server).
    Q_INVOKABLE QString requestHeader(const QString &name) const;

Q_SIGNALS:
    void urlChanged();
    void activeChanged();
    void statusChanged();
    void requestHeadersChanged();
    void originChanged();
    void subprotocolsChanged();
    void compressionChanged();
    void autoReconnectChanged();
    void reconnectSettingsChanged();
    void reconnectAttemptsChanged();
    void keepaliveChanged();
    void roundTripTimeChanged();
    void closedStatusChanged();
    void errorStringChanged();
    void bufferedAmountChanged();
    void sslSettingsChanged();
    void statisticsChanged();
    void userDataChanged();

    void opened();
    void textMessageReceived(const QString &message);
    void binaryMessageReceived(const QByteArray &message);
    void jsonMessageReceived(const QVariant &value);
    // A text message that is not valid JSON, while jsonMessageReceived is connected.
    void jsonError(const QString &error, const QString &message);
    void closed(int code, const QString &reason, bool wasClean);
    void errorOccurred(const QString &errorString);

private:
    void attach(WsSocket *socket);
    void setStatus(Status status);
    void reopen();
    WsRequest buildRequest() const;

    WsSocket *m_socket = nullptr;
    bool m_accepted = false;
    bool m_complete = false;
    QUrl m_url;
    bool m_active = false;
    bool m_userClosed = false;
    Status m_status = Idle;
    QVariantMap m_headers;
    QString m_origin;
    QStringList m_subprotocols;
    WsSocketOptions m_options;
    int m_rtt = -1;
    int m_closeCode = 0;
    QString m_closeReason;
    bool m_wasClean = false;
    QString m_errorString;
    bool m_ignoreSslErrors = false;
    QUrl m_caFile;
    int m_connectionId;
    QVariant m_userData;
};
