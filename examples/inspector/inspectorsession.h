#pragma once

#include <wstrafficmodel.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qpair.h>
#include <QtCore/qpointer.h>
#include <QtCore/qstring.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>

class WsSocket;

// One inspected WebSocket connection: the traffic recorded in a WsTrafficModel (not owned)
// and what the opening handshake said (URL, headers both ways, negotiated subprotocol and
// extensions, start time). Saves and loads it as JSON Lines (lossless, WsKit's own format)
// and exports it as a HAR 1.2 log the way Chrome DevTools writes WebSocket connections.
//
// JSON Lines: the first line is {"type":"session", ...metadata...}, then one
// {"type":"message", ...} per model row (see toJsonLines()). Importing replaces the model's
// rows and this session's metadata, and is all or nothing.
class InspectorSession : public QObject
{
    Q_OBJECT
    Q_PROPERTY(WsTrafficModel *model READ model WRITE setModel NOTIFY modelChanged)
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY metadataChanged)
    Q_PROPERTY(QVariantList requestHeaders READ requestHeadersValue NOTIFY metadataChanged)
    Q_PROPERTY(QVariantList responseHeaders READ responseHeadersValue NOTIFY metadataChanged)
    Q_PROPERTY(int responseStatus READ responseStatus WRITE setResponseStatus NOTIFY metadataChanged)
    Q_PROPERTY(QString subprotocol READ subprotocol WRITE setSubprotocol NOTIFY metadataChanged)
    Q_PROPERTY(QString extensions READ extensions WRITE setExtensions NOTIFY metadataChanged)
    Q_PROPERTY(QString serverAddress READ serverAddress WRITE setServerAddress NOTIFY metadataChanged)
    Q_PROPERTY(QDateTime startTime READ startTime WRITE setStartTime NOTIFY metadataChanged)

public:
    using Header = QPair<QString, QString>;  // name, value; in the order sent
    using Headers = QList<Header>;

    // Bounds on what fromJsonLines() accepts; bigger input is rejected before parsing.
    static constexpr qint64 MaxInputBytes = qint64(512) * 1024 * 1024;
    static constexpr qint64 MaxLines = 1000000;
    static constexpr int FormatVersion = 1;

    explicit InspectorSession(WsTrafficModel *model = nullptr, QObject *parent = nullptr);

    WsTrafficModel *model() const { return m_model; }
    void setModel(WsTrafficModel *model);

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url);
    Headers requestHeaders() const { return m_requestHeaders; }
    void setRequestHeaders(const Headers &headers);
    Headers responseHeaders() const { return m_responseHeaders; }
    void setResponseHeaders(const Headers &headers);
    int responseStatus() const { return m_status; }
    void setResponseStatus(int status);
    QString subprotocol() const { return m_subprotocol; }
    void setSubprotocol(const QString &subprotocol);
    // The negotiated Sec-WebSocket-Extensions value, e.g. "permessage-deflate".
    QString extensions() const { return m_extensions; }
    void setExtensions(const QString &extensions);
    QString serverAddress() const { return m_serverAddress; }
    void setServerAddress(const QString &address);
    QDateTime startTime() const { return m_startTime; }
    void setStartTime(const QDateTime &time);
    // [{name, value}] for QML.
    QVariantList requestHeadersValue() const { return headersValue(m_requestHeaders); }
    QVariantList responseHeadersValue() const { return headersValue(m_responseHeaders); }

    // Takes the metadata from a connected socket: a WsSocket, or the QML WsSocket type
    // (WsQmlSocket). The start time becomes now. Returns false for anything else.
    Q_INVOKABLE bool captureHandshake(QObject *socket);
    void captureHandshake(const WsSocket &socket);
    // Forgets the metadata (not the model's rows).
    Q_INVOKABLE void clearMetadata();

    // One JSON object per line, '\n'-terminated. Message lines have seq, time (ISO 8601 with
    // ms and offset), connection, direction ("in"/"out"), opcode, kind, fin, rsv, wireSize,
    // size, closeCode, truncated, frames [{opcode, fin, rsv, wireSize, masked}] and either
    // "payload" (text messages, and control frames whose payload is text; for a close frame
    // the reason, its code being closeCode) or "payloadBase64" (everything else).
    QByteArray toJsonLines() const;
    // Replaces the model's rows (the capacity grows if needed, so that none is dropped) and
    // the metadata with what data holds. On malformed input nothing changes, false is
    // returned and *error says why, as "line N: ...".
    bool fromJsonLines(const QByteArray &data, QString *error = nullptr);

    // A HAR 1.2 log with one entry for the connection, like Chrome DevTools' export:
    // _resourceType "websocket" and _webSocketMessages [{type: "send"|"receive", time
    // (seconds since the epoch), opcode, data}], data being the text for opcode 1 and base64
    // for any other opcode (as in the DevTools protocol). connectionId selects one
    // connection's rows when the model has several; 0 takes them all.
    QByteArray toHar(int connectionId = 0) const;

    bool saveJsonLines(const QString &path, QString *error = nullptr) const;
    bool saveHar(const QString &path, QString *error = nullptr) const;
    bool loadJsonLines(const QString &path, QString *error = nullptr);

    // For QML (file dialogs give URLs): local files only; an error message, or empty.
    Q_INVOKABLE QString exportJsonLines(const QUrl &fileUrl) const;
    Q_INVOKABLE QString exportHar(const QUrl &fileUrl) const;
    Q_INVOKABLE QString importJsonLines(const QUrl &fileUrl);

Q_SIGNALS:
    void modelChanged();
    void metadataChanged();

private:
    static QVariantList headersValue(const Headers &headers);

    QPointer<WsTrafficModel> m_model;
    QUrl m_url;
    Headers m_requestHeaders;
    Headers m_responseHeaders;
    int m_status = 101;
    QString m_subprotocol;
    QString m_extensions;
    QString m_serverAddress;
    QDateTime m_startTime;
};
