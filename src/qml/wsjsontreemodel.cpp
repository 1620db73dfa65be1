#include "wsjsontreemodel.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>

#include <algorithm>
#include <string>

namespace {

bool isJsonSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

qsizetype skipSpace(const QByteArray &text, qsizetype from)
{
    while (from < text.size() && isJsonSpace(text.at(from)))
        ++from;
    return from;
}

// The end of the scalar token starting at `from`: past the closing quote of a string (the
// end of the text if there is none), else at the first space or structural character.
qsizetype scalarEnd(const QByteArray &text, qsizetype from)
{
    qsizetype i = from;
    if (i < text.size() && text.at(i) == '"') {
        for (++i; i < text.size(); ++i) {
            if (text.at(i) == '\\')
                ++i;
            else if (text.at(i) == '"')
                return i + 1;
        }
        return text.size();
    }
    static constexpr char delimiters[] = " \t\r\n,:[]{}\"";
    while (i < text.size() && !std::char_traits<char>::find(delimiters, sizeof delimiters - 1, text.at(i)))
        ++i;
    return i;
}

QString formatNumber(const QJsonValue &value)
{
    // As QJsonDocument writes numbers: integers (Qt keeps integral values as qint64) in full,
    // doubles in their shortest exact form.
    const QVariant v = value.toVariant();
    if (v.typeId() == QMetaType::LongLong)
        return QString::number(v.toLongLong());
    const double d = value.toDouble();
    return qIsFinite(d) ? QString::number(d, 'g', QLocale::FloatingPointShortest) : QStringLiteral("null");
}

bool isIdentifier(const QString &key)
{
    if (key.isEmpty())
        return false;
    for (qsizetype i = 0; i < key.size(); ++i) {
        const char16_t c = key.at(i).unicode();
        const bool letter = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_' || c == u'$';
        if (!letter && !(i > 0 && c >= u'0' && c <= u'9'))
            return false;
    }
    return true;
}

bool isContainer(const QJsonValue &value)
{
    return value.isObject() || value.isArray();
}

} // namespace

WsJsonTreeModel::WsJsonTreeModel(QObject *parent) : QAbstractItemModel(parent) {}

WsJsonTreeModel::~WsJsonTreeModel() = default;

void WsJsonTreeModel::setJson(const QString &json)
{
    // A null and an empty QString compare equal: both mean no document.
    if (json == m_json)
        return;
    m_json = json;
    beginResetModel();
    parse();
    rebuild();
    endResetModel();
    emit jsonChanged();
}

void WsJsonTreeModel::setMaxNodes(int maxNodes)
{
    maxNodes = std::max(maxNodes, 1);
    if (maxNodes == m_maxNodes)
        return;
    m_maxNodes = maxNodes;
    if (m_valid) {
        beginResetModel();
        rebuild();
        endResetModel();
    }
    emit maxNodesChanged();
}

void WsJsonTreeModel::parse()
{
    m_valid = false;
    m_errorString.clear();
    m_document = QJsonValue(QJsonValue::Undefined);
    if (m_json.isEmpty())
        return;

    const QByteArray utf8 = m_json.toUtf8();
    const auto fail = [&](QJsonParseError::ParseError error, qsizetype byteOffset) {
        QJsonParseError e;
        e.error = error;
        e.offset = int(byteOffset);
        // Qt counts UTF-8 bytes; the text is a QString, so report characters, lines and columns.
        const QString before = QString::fromUtf8(utf8.constData(), byteOffset);
        const qsizetype lineStart = before.lastIndexOf(u'\n') + 1;
        m_errorString = QStringLiteral("%1 at offset %2 (line %3, column %4)")
                            .arg(e.errorString())
                            .arg(before.size())
                            .arg(before.count(u'\n') + 1)
                            .arg(before.size() - lineStart + 1);
    };

    QJsonParseError error;
    const qsizetype start = skipSpace(utf8, 0);
    if (start < utf8.size() && (utf8.at(start) == '{' || utf8.at(start) == '[')) {
        const QJsonDocument doc = QJsonDocument::fromJson(utf8, &error);
        if (error.error != QJsonParseError::NoError)
            return fail(error.error, error.offset);
        m_document = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    } else {
        // QJsonDocument only takes an object or an array: parse the scalar token inside one.
        const qsizetype end = scalarEnd(utf8, start);
        const QJsonDocument doc = QJsonDocument::fromJson('[' + utf8.left(end) + ']', &error);
        if (error.error != QJsonParseError::NoError)
            return fail(error.error, std::clamp<qsizetype>(error.offset - 1, 0, end));
        if (doc.array().size() != 1)  // nothing but space, or a stray ',', ':', ']' or '}'
            return fail(QJsonParseError::IllegalValue, start);
        const qsizetype rest = skipSpace(utf8, end);
        if (rest < utf8.size())
            return fail(QJsonParseError::GarbageAtEnd, rest);
        m_document = doc.array().at(0);
    }
    m_valid = true;
}

void WsJsonTreeModel::rebuild()
{
    m_root.children.clear();
    m_nodes.clear();
    m_root.value = m_document;
    m_seen = 0;
    m_last = nullptr;
    if (!m_valid)
        return;
    if (isContainer(m_document))
        addChildren(&m_root);
    else
        addNode(&m_root, QString(), -1, m_document);
    if (m_seen > m_maxNodes) {
        // m_last is value number maxNodes: it becomes the marker for itself and all after it.
        Q_ASSERT(m_last && m_last->children.empty());
        m_last->moreCount = m_seen - (m_maxNodes - 1);
        m_last->key.clear();
        m_last->arrayIndex = -1;
        m_last->value = QJsonValue();
    }
    m_last = nullptr;
}

WsJsonTreeModel::Node *WsJsonTreeModel::addNode(Node *parent, const QString &key, int arrayIndex,
                                                const QJsonValue &value)
{
    ++m_seen;
    if (m_seen > m_maxNodes) {
        // Past the limit: only count what is left out.
        if (isContainer(value))
            m_seen += countValues(value);
        return nullptr;
    }
    Node &node = m_nodes.emplace_back();
    node.parent = parent;
    node.row = int(parent->children.size());
    node.arrayIndex = arrayIndex;
    node.key = key;
    node.value = value;
    parent->children.push_back(&node);
    m_last = &node;
    if (isContainer(value))
        addChildren(&node);
    return &node;
}

void WsJsonTreeModel::addChildren(Node *node)
{
    const qint64 budget = std::max<qint64>(m_maxNodes - m_seen, 0);
    if (node->value.isObject()) {
        const QJsonObject object = node->value.toObject();
        node->children.reserve(size_t(std::min<qint64>(object.size(), budget)));
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            addNode(node, it.key(), -1, it.value());
    } else {
        const QJsonArray array = node->value.toArray();
        node->children.reserve(size_t(std::min<qint64>(array.size(), budget)));
        for (qsizetype i = 0; i < array.size(); ++i)
            addNode(node, QString(), int(i), array.at(i));
    }
}

qint64 WsJsonTreeModel::countValues(const QJsonValue &container)
{
    qint64 count = 0;
    if (container.isObject()) {
        const QJsonObject object = container.toObject();
        count += object.size();
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            if (isContainer(it.value()))
                count += countValues(it.value());
    } else if (container.isArray()) {
        const QJsonArray array = container.toArray();
        count += array.size();
        for (const QJsonValue &v : array)
            if (isContainer(v))
                count += countValues(v);
    }
    return count;
}

WsJsonTreeModel::Node *WsJsonTreeModel::nodeAt(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : const_cast<Node *>(&m_root);
}

QModelIndex WsJsonTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return QModelIndex();
    return createIndex(row, column, nodeAt(parent)->children[size_t(row)]);
}

QModelIndex WsJsonTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return QModelIndex();
    const Node *parent = nodeAt(child)->parent;
    if (!parent || parent == &m_root)
        return QModelIndex();
    return createIndex(parent->row, 0, const_cast<Node *>(parent));
}

int WsJsonTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return int(nodeAt(parent)->children.size());
}

int WsJsonTreeModel::columnCount(const QModelIndex &) const
{
    return 1;
}

bool WsJsonTreeModel::hasChildren(const QModelIndex &parent) const
{
    return parent.column() <= 0 && !nodeAt(parent)->children.empty();
}

Qt::ItemFlags WsJsonTreeModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractItemModel::flags(index);
    if (index.isValid() && nodeAt(index)->children.empty())
        f |= Qt::ItemNeverHasChildren;
    return f;
}

QString WsJsonTreeModel::quoted(const QString &text)
{
    QString out;
    out.reserve(text.size() + 2);
    out += u'"';
    for (const QChar c : text) {
        switch (c.unicode()) {
        case u'"': out += u"\\\""; break;
        case u'\\': out += u"\\\\"; break;
        case u'\b': out += u"\\b"; break;
        case u'\f': out += u"\\f"; break;
        case u'\n': out += u"\\n"; break;
        case u'\r': out += u"\\r"; break;
        case u'\t': out += u"\\t"; break;
        default:
            if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.unicode() == 0x2028 || c.unicode() == 0x2029)
                out += QStringLiteral("\\u%1").arg(uint(c.unicode()), 4, 16, QChar(u'0'));
            else
                out += c;
        }
    }
    out += u'"';
    return out;
}

QString WsJsonTreeModel::keyText(const Node *node) const
{
    if (node->moreCount > 0)
        return QString();
    if (node->arrayIndex >= 0)
        return QStringLiteral("[%1]").arg(node->arrayIndex);
    return node->key;
}

QString WsJsonTreeModel::valueText(const Node *node) const
{
    if (node->moreCount > 0)
        return QString();
    const QJsonValue &v = node->value;
    switch (v.type()) {
    case QJsonValue::Object: return QStringLiteral("{%1}").arg(v.toObject().size());
    case QJsonValue::Array: return QStringLiteral("[%1]").arg(v.toArray().size());
    case QJsonValue::String: return quoted(v.toString());
    case QJsonValue::Double: return formatNumber(v);
    case QJsonValue::Bool: return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    default: return QStringLiteral("null");
    }
}

QString WsJsonTreeModel::typeName(const Node *node) const
{
    if (node->moreCount > 0)
        return QStringLiteral("more");
    switch (node->value.type()) {
    case QJsonValue::Object: return QStringLiteral("object");
    case QJsonValue::Array: return QStringLiteral("array");
    case QJsonValue::String: return QStringLiteral("string");
    case QJsonValue::Double: return QStringLiteral("number");
    case QJsonValue::Bool: return QStringLiteral("bool");
    default: return QStringLiteral("null");
    }
}

QString WsJsonTreeModel::pathOf(const Node *node) const
{
    if (node->moreCount > 0)
        return QString();
    QStringList segments;
    for (const Node *n = node; n != &m_root && n->parent; n = n->parent) {
        if (n->arrayIndex >= 0)
            segments.append(QStringLiteral("[%1]").arg(n->arrayIndex));
        else if (n->parent->value.isObject())
            segments.append(isIdentifier(n->key) ? u'.' + n->key : u'[' + quoted(n->key) + u']');
        // else: a top-level scalar, the document itself.
    }
    QString path = QStringLiteral("$");
    for (auto it = segments.crbegin(); it != segments.crend(); ++it)
        path += *it;
    return path;
}

QVariant WsJsonTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return QVariant();
    const Node *node = nodeAt(index);
    switch (role) {
    case Qt::DisplayRole:
    case LabelRole: {
        if (node->moreCount > 0)
            return QStringLiteral("\u2026 %1 more").arg(node->moreCount);
        QString key = keyText(node);
        if (key.isEmpty() && node->parent->value.isObject())
            key = QStringLiteral("\"\"");  // the empty member name
        const QString value = valueText(node);
        if (key.isEmpty())
            return value;  // a top-level scalar
        return isContainer(node->value) ? key + u' ' + value : key + QStringLiteral(": ") + value;
    }
    case KeyRole: return keyText(node);
    case ValueRole: return valueText(node);
    case TypeRole: return typeName(node);
    case ChildCountRole:
        if (node->moreCount > 0)
            return 0;
        return node->value.isObject() ? int(node->value.toObject().size())
             : node->value.isArray()  ? int(node->value.toArray().size())
                                      : 0;
    case PathRole: return pathOf(node);
    default: return QVariant();
    }
}

QHash<int, QByteArray> WsJsonTreeModel::roleNames() const
{
    return {{Qt::DisplayRole, "display"}, {KeyRole, "key"},         {ValueRole, "value"},
            {TypeRole, "type"},           {ChildCountRole, "childCount"}, {PathRole, "path"},
            {LabelRole, "label"}};
}

QString WsJsonTreeModel::valueAt(const QModelIndex &index) const
{
    // Nothing selected is normal; an index of another model is a bug (checkIndex warns).
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid))
        return QString();
    const Node *node = nodeAt(index);
    if (node->moreCount > 0)
        return QString();
    if (node->value.isObject())
        return QString::fromUtf8(QJsonDocument(node->value.toObject()).toJson(QJsonDocument::Compact));
    if (node->value.isArray())
        return QString::fromUtf8(QJsonDocument(node->value.toArray()).toJson(QJsonDocument::Compact));
    // A scalar: written inside an array, without the brackets.
    const QByteArray json = QJsonDocument(QJsonArray{node->value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(json.mid(1, json.size() - 2));
}
