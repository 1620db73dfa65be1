#pragma once

#include <wssocket.h>

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtCore/qsortfilterproxymodel.h>
#include <QtCore/qtimer.h>
#include <QtQml/qqmlengine.h>

#include <deque>

// One row of traffic: a whole message (with the frames it took) or a control frame.
struct WsTrafficEntry
{
    qint64 sequence = 0;
    QDateTime timestamp;
    int connectionId = 0;
    bool outgoing = false;
    quint8 opcode = 0;             // message type (1 text, 2 binary) or control opcode
    bool fin = true;
    quint8 rsv = 0;                // of the first frame
    qint64 wireSize = 0;           // payload bytes on the wire, all frames
    qint64 size = 0;               // after decompression
    QByteArray payload;            // kept up to WsTrafficModel::maxPayloadBytes
    bool truncated = false;
    quint16 closeCode = 0;
    QList<WsFrameInfo> frames;
};

// Records the traffic of WsSocket/WsServer objects (C++ or QML) as a list model, with a
// capacity (a ring buffer: the oldest rows go first) and batched updates, so that thousands
// of messages per second neither grow memory without bound nor flood the view.
class WsTrafficModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QObject *source READ source WRITE setSource NOTIFY sourceChanged)
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(bool paused READ isPaused WRITE setPaused NOTIFY pausedChanged)
    Q_PROPERTY(int maxPayloadBytes READ maxPayloadBytes WRITE setMaxPayloadBytes NOTIFY maxPayloadBytesChanged)
    Q_PROPERTY(double totalMessages READ totalMessagesValue NOTIFY countChanged)
    Q_PROPERTY(double droppedRows READ droppedRowsValue NOTIFY countChanged)

public:
    enum Roles {
        DirectionRole = Qt::UserRole + 1, // "in" / "out"
        OutgoingRole,
        TimestampRole,                    // QDateTime
        TimeTextRole,                     // "12:34:56.789"
        ConnectionIdRole,
        OpcodeRole,
        KindRole,                         // "text", "binary", "ping", "pong", "close", "ext"
        FinRole,
        RsvRole,
        WireSizeRole,
        SizeRole,
        CompressedRole,
        PreviewRole,                      // text, or hex for binary
        PayloadRole,                      // QByteArray
        TextRole,                         // full text for text messages
        CloseCodeRole,
        CloseReasonRole,
        FrameCountRole,
        FramesRole,                       // list of {opcode, kind, fin, rsv, rsvNames, wireSize, masked}
        SequenceRole,
        RelativeTimeRole,                 // ms since the first row (of the capture, or since clear())
        RsvNamesRole,                     // "RSV1", "RSV1+RSV3", or empty
    };
    Q_ENUM(Roles)

    explicit WsTrafficModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QObject *source() const { return m_source; }
    // A WsSocket or WsServer, C++ (WsSocket, WsServer) or QML (WsQmlSocket, WsQmlServer).
    void setSource(QObject *source);
    int capacity() const { return m_capacity; }
    void setCapacity(int capacity);
    int count() const { return int(m_rows.size()); }
    bool isPaused() const { return m_paused; }
    void setPaused(bool paused);
    int maxPayloadBytes() const { return m_maxPayload; }
    void setMaxPayloadBytes(int bytes);
    qint64 totalMessages() const { return m_sequence; }
    qint64 droppedRows() const { return m_dropped; }
    double totalMessagesValue() const { return double(m_sequence); }
    double droppedRowsValue() const { return double(m_dropped); }

    // Attaches one more socket (e.g. each connection of a server); its id is returned: `id`
    // if given (e.g. a QML socket's connectionId), else the next free one.
    int attachSocket(WsSocket *socket, int id = 0);
    // Adds a row as if it had been observed (for imports and tests).
    void addEntry(const WsTrafficEntry &entry);
    const WsTrafficEntry &entry(int row) const { return m_rows.at(size_t(row)); }

    Q_INVOKABLE void clear();
    Q_INVOKABLE QVariantMap get(int row) const;
    // Flushes pending rows at once (otherwise they are added every 50 ms).
    Q_INVOKABLE void flush();

    static QString kindName(quint8 opcode);     // "continuation" for 0
    static QString rsvNames(quint8 rsv);        // the RSV bits set, by name (RSV1 = 4)
    static QString hexPreview(const QByteArray &data, int maxBytes = 32);

Q_SIGNALS:
    void sourceChanged();
    void capacityChanged();
    void countChanged();
    void pausedChanged();
    void maxPayloadBytesChanged();

private:
    void onFrame(int connectionId, const WsFrameInfo &frame);
    void trim();

    QPointer<QObject> m_source;
    QList<QMetaObject::Connection> m_sourceConnections;
    std::deque<WsTrafficEntry> m_rows;
    std::deque<WsTrafficEntry> m_pending;
    QHash<quint64, WsTrafficEntry> m_partial;  // messages still being framed, by (connection, direction)
    QTimer m_flushTimer;
    int m_capacity = 10000;
    int m_maxPayload = 64 * 1024;
    bool m_paused = false;
    qint64 m_sequence = 0;
    qint64 m_dropped = 0;
    int m_nextConnectionId = 1;
    QDateTime m_startTime;  // the first row's time: relative times count from it
};

// Filters a traffic model by direction, kind and text (plain or regular expression).
class WsTrafficFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString direction READ direction WRITE setDirection NOTIFY filterChanged)  // "", "in", "out"
    Q_PROPERTY(bool showText READ showText WRITE setShowText NOTIFY filterChanged)
    Q_PROPERTY(bool showBinary READ showBinary WRITE setShowBinary NOTIFY filterChanged)
    Q_PROPERTY(bool showControl READ showControl WRITE setShowControl NOTIFY filterChanged)
    Q_PROPERTY(QString searchText READ searchText WRITE setSearchText NOTIFY filterChanged)
    Q_PROPERTY(bool regularExpression READ regularExpression WRITE setRegularExpression NOTIFY filterChanged)
    Q_PROPERTY(bool searchValid READ searchValid NOTIFY filterChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    explicit WsTrafficFilterModel(QObject *parent = nullptr);
    QString direction() const { return m_direction; }
    void setDirection(const QString &d);
    bool showText() const { return m_text; }
    void setShowText(bool on);
    bool showBinary() const { return m_binary; }
    void setShowBinary(bool on);
    bool showControl() const { return m_control; }
    void setShowControl(bool on);
    QString searchText() const { return m_search; }
    void setSearchText(const QString &s);
    bool regularExpression() const { return m_regex; }
    void setRegularExpression(bool on);
    bool searchValid() const { return m_searchValid; }
    int count() const { return rowCount(); }
    Q_INVOKABLE QVariantMap get(int row) const;

Q_SIGNALS:
    void filterChanged();
    void countChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    void refilter();
    QString m_direction;
    bool m_text = true, m_binary = true, m_control = true, m_regex = false, m_searchValid = true;
    QString m_search;
    QRegularExpression m_re;
};
