#pragma once

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qjsonvalue.h>
#include <QtQml/qqmlengine.h>

#include <deque>
#include <vector>

// A JSON document as a one-column tree model, for QtQuick's TreeView (the inspector's message
// details). The top-level rows are the members of the document's object or array; a document
// that is a single scalar (`42`, `"text"`, `true`, `null`) is one row with an empty key.
//
// The tree is built once per change of `json`, depth first in QJsonDocument's order (which sorts
// the members of an object by name, and keeps the last of duplicate names), up to `maxNodes` rows
// in all: past that, the last row is a marker, "… N more" (type "more"), where N counts the JSON
// values (at any depth) left out. Containers keep their full JSON size in `childCount` and in their
// display (`items [5000]`), so a cut container may have fewer rows than `childCount`.
class WsJsonTreeModel : public QAbstractItemModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString json READ json WRITE setJson NOTIFY jsonChanged)
    Q_PROPERTY(bool valid READ isValid NOTIFY jsonChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY jsonChanged)
    Q_PROPERTY(int maxNodes READ maxNodes WRITE setMaxNodes NOTIFY maxNodesChanged)

public:
    enum Roles {
        KeyRole = Qt::UserRole + 1, // object key, "[i]" for an array element, "" at top level
        ValueRole,                  // scalar as JSON text (strings quoted); "{3}" / "[5]" for containers
        TypeRole,                   // "object", "array", "string", "number", "bool", "null"; "more"
        ChildCountRole,             // members or elements in the JSON (not rows: see maxNodes)
        PathRole,                   // "$.items[2].name", `$["odd key"]`; "$" for a top-level scalar
        LabelRole,                  // the display text again, for delegates that own a `display`
    };
    Q_ENUM(Roles)

    static constexpr int DefaultMaxNodes = 20000;

    explicit WsJsonTreeModel(QObject *parent = nullptr);
    ~WsJsonTreeModel() override;

    QModelIndex index(int row, int column, const QModelIndex &parent = QModelIndex()) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    bool hasChildren(const QModelIndex &parent = QModelIndex()) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString json() const { return m_json; }
    // Parses and rebuilds the tree (one model reset) when the text differs.
    void setJson(const QString &json);
    // False for an empty json (with an empty errorString) and for text that is not JSON.
    bool isValid() const { return m_valid; }
    // "<Qt's parse error> at offset N (line L, column C)": N counts characters (UTF-16 units)
    // from 0, line and column count from 1.
    QString errorString() const { return m_errorString; }
    int maxNodes() const { return m_maxNodes; }
    // At least 1; a change rebuilds the tree.
    void setMaxNodes(int maxNodes);

    // The compact JSON of the subtree at index (as QJsonDocument writes it), whole even where
    // the tree was cut; "" for the "more" marker and for an invalid index (so that a bad index
    // from QML never copies the whole document by surprise: in Qt 6.4, TreeView's
    // modelIndex() takes (column, row), or a point Qt.point(column, row)).
    Q_INVOKABLE QString valueAt(const QModelIndex &index) const;

    // JSON string literal for display: quoted, with control characters, DEL, U+2028 and U+2029
    // escaped so that it stays on one line.
    static QString quoted(const QString &text);

Q_SIGNALS:
    void jsonChanged();
    void maxNodesChanged();

private:
    struct Node
    {
        Node *parent = nullptr;
        int row = 0;             // in parent->children
        int arrayIndex = -1;     // >= 0 for an array element
        qint64 moreCount = 0;    // > 0 for the cut-off marker: the values it stands for
        QString key;             // object member name
        QJsonValue value;
        std::vector<Node *> children;
    };

    void parse();
    void rebuild();
    Node *addNode(Node *parent, const QString &key, int arrayIndex, const QJsonValue &value);
    void addChildren(Node *node);
    static qint64 countValues(const QJsonValue &container);
    Node *nodeAt(const QModelIndex &index) const;
    QString keyText(const Node *node) const;
    QString valueText(const Node *node) const;
    QString typeName(const Node *node) const;
    QString pathOf(const Node *node) const;

    QString m_json;
    QString m_errorString;
    QJsonValue m_document;     // the parsed document (Undefined when not valid)
    bool m_valid = false;
    int m_maxNodes = DefaultMaxNodes;
    Node m_root;               // invisible: its children are the top-level rows
    std::deque<Node> m_nodes;  // every other node, at stable addresses
    qint64 m_seen = 0;         // while building: values visited in document order
    Node *m_last = nullptr;    // while building: the last node added
};
