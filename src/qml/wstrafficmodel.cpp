#include "wstrafficmodel.h"

#include "wsqmlserver.h"
#include "wsqmlsocket.h"

#include <wsserver.h>

WsTrafficModel::WsTrafficModel(QObject *parent) : QAbstractListModel(parent)
{
    m_flushTimer.setInterval(50);
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &WsTrafficModel::flush);
}

int WsTrafficModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QString WsTrafficModel::kindName(quint8 opcode)
{
    switch (opcode) {
    case 0x0: return QStringLiteral("continuation");
    case 0x1: return QStringLiteral("text");
    case 0x2: return QStringLiteral("binary");
    case 0x8: return QStringLiteral("close");
    case 0x9: return QStringLiteral("ping");
    case 0xA: return QStringLiteral("pong");
    default: return QStringLiteral("ext");
    }
}

QString WsTrafficModel::rsvNames(quint8 rsv)
{
    QStringList names;
    if (rsv & WsRsv::Rsv1)
        names << QStringLiteral("RSV1");
    if (rsv & WsRsv::Rsv2)
        names << QStringLiteral("RSV2");
    if (rsv & WsRsv::Rsv3)
        names << QStringLiteral("RSV3");
    return names.join(QLatin1Char('+'));
}

QString WsTrafficModel::hexPreview(const QByteArray &data, int maxBytes)
{
    QString out = QString::fromLatin1(data.left(maxBytes).toHex(' '));
    if (data.size() > maxBytes)
        out += QStringLiteral(" ...");
    return out;
}

QVariant WsTrafficModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const WsTrafficEntry &e = m_rows.at(size_t(index.row()));
    switch (role) {
    case Qt::DisplayRole:
    case PreviewRole:
        if (e.opcode == 0x1)
            return QString::fromUtf8(e.payload.left(200)).simplified();
        if (e.opcode == 0x8) {
            const QString reason = QString::fromUtf8(e.payload.mid(2));
            return e.closeCode ? QStringLiteral("%1 %2%3").arg(e.closeCode).arg(wsCloseCodeName(e.closeCode),
                                                                reason.isEmpty() ? QString() : QStringLiteral(": ") + reason)
                               : QStringLiteral("(no code)");
        }
        if (e.opcode == 0x9 || e.opcode == 0xA)
            return QString::fromUtf8(e.payload).simplified();
        return hexPreview(e.payload);
    case DirectionRole: return e.outgoing ? QStringLiteral("out") : QStringLiteral("in");
    case OutgoingRole: return e.outgoing;
    case TimestampRole: return e.timestamp;
    case TimeTextRole: return e.timestamp.toString(QStringLiteral("HH:mm:ss.zzz"));
    case ConnectionIdRole: return e.connectionId;
    case OpcodeRole: return int(e.opcode);
    case KindRole: return kindName(e.opcode);
    case FinRole: return e.fin;
    case RsvRole: return int(e.rsv);
    case WireSizeRole: return e.wireSize;
    case SizeRole: return e.size;
    case CompressedRole: return bool(e.rsv & WsRsv::Rsv1);
    case PayloadRole: return e.payload;
    case TextRole: return e.opcode == 0x1 ? QString::fromUtf8(e.payload) : QString();
    case CloseCodeRole: return int(e.closeCode);
    case CloseReasonRole: return e.opcode == 0x8 ? QString::fromUtf8(e.payload.mid(2)) : QString();
    case FrameCountRole: return int(e.frames.size());
    case FramesRole: {
        QVariantList frames;
        for (const WsFrameInfo &f : e.frames)
            frames.append(QVariantMap{{QStringLiteral("opcode"), int(f.opcode)}, {QStringLiteral("kind"), kindName(f.opcode)},
                                      {QStringLiteral("fin"), f.fin}, {QStringLiteral("rsv"), int(f.rsv)},
                                      {QStringLiteral("rsvNames"), rsvNames(f.rsv)}, {QStringLiteral("wireSize"), f.wireSize},
                                      {QStringLiteral("masked"), f.masked}});
        return frames;
    }
    case SequenceRole: return e.sequence;
    case RelativeTimeRole: return m_startTime.isValid() ? double(m_startTime.msecsTo(e.timestamp)) : 0.0;
    case RsvNamesRole: return rsvNames(e.rsv);
    default: return QVariant();
    }
}

QHash<int, QByteArray> WsTrafficModel::roleNames() const
{
    return {{Qt::DisplayRole, "display"}, {DirectionRole, "direction"}, {OutgoingRole, "outgoing"},
            {TimestampRole, "timestamp"}, {TimeTextRole, "timeText"}, {ConnectionIdRole, "connectionId"},
            {OpcodeRole, "opcode"}, {KindRole, "kind"}, {FinRole, "fin"}, {RsvRole, "rsv"},
            {WireSizeRole, "wireSize"}, {SizeRole, "size"}, {CompressedRole, "compressed"},
            {PreviewRole, "preview"}, {PayloadRole, "payload"}, {TextRole, "text"},
            {CloseCodeRole, "closeCode"}, {CloseReasonRole, "closeReason"}, {FrameCountRole, "frameCount"},
            {FramesRole, "frames"}, {SequenceRole, "sequence"}, {RelativeTimeRole, "relativeTime"},
            {RsvNamesRole, "rsvNames"}};
}

QVariantMap WsTrafficModel::get(int row) const
{
    QVariantMap m;
    if (row < 0 || row >= count())
        return m;
    const QModelIndex i = index(row);
    const auto names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        m.insert(QString::fromLatin1(it.value()), data(i, it.key()));
    return m;
}

void WsTrafficModel::setSource(QObject *source)
{
    if (m_source == source)
        return;
    for (const auto &c : std::as_const(m_sourceConnections))
        disconnect(c);
    m_sourceConnections.clear();
    m_source = source;
    if (auto *qs = qobject_cast<WsQmlSocket *>(source)) {
        attachSocket(qs->socket(), qs->connectionId());
    } else if (auto *s = qobject_cast<WsSocket *>(source)) {
        attachSocket(s);
    } else if (auto *qserver = qobject_cast<WsQmlServer *>(source)) {
        // The same connection ids as the QML sockets', so that rows and client lists agree.
        for (WsQmlSocket *c : qserver->connections()->sockets())
            attachSocket(c->socket(), c->connectionId());
        m_sourceConnections.append(connect(qserver, &WsQmlServer::clientConnected, this,
                                           [this](WsQmlSocket *c) { attachSocket(c->socket(), c->connectionId()); }));
    } else if (auto *server = qobject_cast<WsServer *>(source)) {
        const auto attachNew = [this, server] {
            for (WsSocket *c : server->connections())
                if (!c->property("_wskit_traffic").isValid())
                    attachSocket(c);
        };
        attachNew();
        m_sourceConnections.append(connect(server, &WsServer::connectionCountChanged, this, attachNew));
    }
    emit sourceChanged();
}

int WsTrafficModel::attachSocket(WsSocket *socket, int id)
{
    if (id <= 0)
        id = m_nextConnectionId++;
    socket->setProperty("_wskit_traffic", id);
    m_sourceConnections.append(connect(socket, &WsSocket::frameTransferred, this,
                                       [this, id](const WsFrameInfo &f) { onFrame(id, f); }));
    return id;
}

void WsTrafficModel::onFrame(int connectionId, const WsFrameInfo &f)
{
    if (m_paused)
        return;
    const quint64 key = (quint64(connectionId) << 1) | (f.direction == WsFrameInfo::Outgoing ? 1 : 0);
    const bool control = wsIsControlOpcode(f.opcode) || f.opcode > 2;
    WsTrafficEntry *e;
    WsTrafficEntry single;
    if (control) {
        e = &single;
    } else {
        e = &m_partial[key];  // data frames gather until the message's last one
        if (e->frames.isEmpty()) {
            e->timestamp = QDateTime::currentDateTime();
            e->rsv = f.rsv;
            e->opcode = quint8(f.messageType);
        }
    }
    if (control) {
        e->timestamp = QDateTime::currentDateTime();
        e->opcode = f.opcode;
        e->rsv = f.rsv;
    }
    e->connectionId = connectionId;
    e->outgoing = f.direction == WsFrameInfo::Outgoing;
    e->wireSize += f.wireSize;
    e->frames.append(f);
    e->frames.last().payload = QByteArray();  // the entry keeps the payload, once
    if (!control && !f.fin)
        return;
    e->fin = true;
    e->size = control ? f.wireSize : f.messageSize;
    e->closeCode = f.closeCode;
    e->payload = f.payload.size() > m_maxPayload ? f.payload.left(m_maxPayload) : f.payload;
    e->truncated = f.payload.size() > m_maxPayload;
    e->sequence = ++m_sequence;
    m_pending.push_back(std::move(*e));
    if (!control)
        m_partial.remove(key);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void WsTrafficModel::addEntry(const WsTrafficEntry &entry)
{
    m_pending.push_back(entry);
    if (m_pending.back().sequence == 0)
        m_pending.back().sequence = ++m_sequence;
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void WsTrafficModel::flush()
{
    m_flushTimer.stop();
    if (m_pending.empty())
        return;
    // Never hold more than the capacity, even within a batch.
    while (m_pending.size() > size_t(m_capacity)) {
        m_pending.pop_front();
        ++m_dropped;
    }
    if (!m_startTime.isValid() && m_rows.empty())
        m_startTime = m_pending.front().timestamp;
    const int first = int(m_rows.size());
    beginInsertRows(QModelIndex(), first, first + int(m_pending.size()) - 1);
    for (auto &e : m_pending)
        m_rows.push_back(std::move(e));
    m_pending.clear();
    endInsertRows();
    trim();
    emit countChanged();
}

void WsTrafficModel::trim()
{
    const int excess = int(m_rows.size()) - m_capacity;
    if (excess <= 0)
        return;
    beginRemoveRows(QModelIndex(), 0, excess - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + excess);
    m_dropped += excess;
    endRemoveRows();
}

void WsTrafficModel::setCapacity(int capacity)
{
    capacity = std::max(1, capacity);
    if (m_capacity == capacity)
        return;
    m_capacity = capacity;
    trim();
    emit capacityChanged();
    emit countChanged();
}

void WsTrafficModel::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    m_partial.clear();  // a message half seen before the pause would be misleading
    emit pausedChanged();
}

void WsTrafficModel::setMaxPayloadBytes(int bytes)
{
    m_maxPayload = std::max(0, bytes);
    emit maxPayloadBytesChanged();
}

void WsTrafficModel::clear()
{
    beginResetModel();
    m_startTime = QDateTime();
    m_rows.clear();
    m_pending.clear();
    endResetModel();
    emit countChanged();
}

WsTrafficFilterModel::WsTrafficFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &WsTrafficFilterModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &WsTrafficFilterModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &WsTrafficFilterModel::countChanged);
}

void WsTrafficFilterModel::refilter()
{
    m_searchValid = true;
    if (m_regex && !m_search.isEmpty()) {
        m_re = QRegularExpression(m_search, QRegularExpression::CaseInsensitiveOption);
        m_searchValid = m_re.isValid();
    }
    invalidateFilter();
    emit filterChanged();
    emit countChanged();
}

void WsTrafficFilterModel::setDirection(const QString &d) { m_direction = d; refilter(); }
void WsTrafficFilterModel::setShowText(bool on) { m_text = on; refilter(); }
void WsTrafficFilterModel::setShowBinary(bool on) { m_binary = on; refilter(); }
void WsTrafficFilterModel::setShowControl(bool on) { m_control = on; refilter(); }
void WsTrafficFilterModel::setSearchText(const QString &s) { m_search = s; refilter(); }
void WsTrafficFilterModel::setRegularExpression(bool on) { m_regex = on; refilter(); }

bool WsTrafficFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex i = sourceModel()->index(sourceRow, 0, sourceParent);
    const bool outgoing = i.data(WsTrafficModel::OutgoingRole).toBool();
    if ((m_direction == QLatin1String("in") && outgoing) || (m_direction == QLatin1String("out") && !outgoing))
        return false;
    const int op = i.data(WsTrafficModel::OpcodeRole).toInt();
    if ((op == 1 && !m_text) || (op == 2 && !m_binary) || (op > 2 && !m_control))
        return false;
    if (m_search.isEmpty())
        return true;
    const QString haystack = op == 2 ? i.data(WsTrafficModel::PreviewRole).toString()
                                     : QString::fromUtf8(i.data(WsTrafficModel::PayloadRole).toByteArray());
    if (m_regex)
        return m_searchValid && m_re.match(haystack).hasMatch();
    return haystack.contains(m_search, Qt::CaseInsensitive);
}

QVariantMap WsTrafficFilterModel::get(int row) const
{
    auto *source = qobject_cast<WsTrafficModel *>(sourceModel());
    if (!source || row < 0 || row >= rowCount())
        return QVariantMap();
    return source->get(mapToSource(index(row, 0)).row());
}
