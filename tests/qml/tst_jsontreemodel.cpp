// WsJsonTreeModel (the inspector's JSON tree) under QAbstractItemModelTester: the tree's shape
// and roles for nested documents, top-level scalars, parse errors, the maxNodes cut-off, model
// resets and valueAt.

#include <wsjsontreemodel.h>

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

class tst_JsonTreeModel : public QObject
{
    Q_OBJECT
private slots:
    void initialState();
    void roleNames();
    void structure_data();
    void structure();
    void scalars_data();
    void scalars();
    void invalid_data();
    void invalid();
    void maxNodes_data();
    void maxNodes();
    void maxNodesDefault();
    void maxNodesChangeRebuilds();
    void resetOnNewJson();
    void valueAt_data();
    void valueAt();
    void valueAtForeignIndex();
};

// One line per row, depth first, indented two spaces a level:
// "<display> | <key> | <value> | <type> | <childCount> | <path> | rows=<rowCount>".
// On the way it checks every index: parent() both ways, index() again, one column, hasChildren
// and ItemNeverHasChildren agreeing with rowCount.
static void dumpRows(const QAbstractItemModel &model, const QModelIndex &parent, int depth, QStringList &out)
{
    using R = WsJsonTreeModel::Roles;
    QCOMPARE(model.columnCount(parent), 1);
    const int rows = model.rowCount(parent);
    QCOMPARE(model.hasChildren(parent), rows > 0);
    for (int row = 0; row < rows; ++row) {
        const QModelIndex i = model.index(row, 0, parent);
        QVERIFY(i.isValid());
        QCOMPARE(i.row(), row);
        QCOMPARE(i.column(), 0);
        QCOMPARE(i.parent(), parent);
        QCOMPARE(model.parent(i), parent);
        QCOMPARE(model.index(row, 0, parent), i);
        QVERIFY(!model.index(row, 1, parent).isValid());
        const int childRows = model.rowCount(i);
        QCOMPARE(bool(model.flags(i) & Qt::ItemNeverHasChildren), childRows == 0);
        out.append(QString(depth * 2, u' ')
                   + QStringList{i.data(Qt::DisplayRole).toString(), i.data(R::KeyRole).toString(),
                                 i.data(R::ValueRole).toString(), i.data(R::TypeRole).toString(),
                                 QString::number(i.data(R::ChildCountRole).toInt()),
                                 i.data(R::PathRole).toString(), QStringLiteral("rows=%1").arg(childRows)}
                         .join(QStringLiteral(" | ")));
        dumpRows(model, i, depth + 1, out);
        if (QTest::currentTestFailed())
            return;
    }
    QVERIFY(!model.index(rows, 0, parent).isValid());
}

static QStringList dump(const QAbstractItemModel &model)
{
    QStringList out;
    dumpRows(model, QModelIndex(), 0, out);
    return out;
}

// "2/0/1": row 2 at the top, its row 0, that one's row 1. "" is the invisible root.
static QModelIndex indexAt(const QAbstractItemModel &model, const QString &rows)
{
    QModelIndex i;
    if (rows.isEmpty())
        return i;
    for (const QString &row : rows.split(u'/'))
        i = model.index(row.toInt(), 0, i);
    return i;
}

void tst_JsonTreeModel::initialState()
{
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.json(), QString());
    QCOMPARE(model.isValid(), false);
    QCOMPARE(model.errorString(), QString());
    QCOMPARE(model.maxNodes(), 20000);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.hasChildren(), false);
    QCOMPARE(model.valueAt(QModelIndex()), QString());
    // QML sees the same through the properties.
    QCOMPARE(model.property("json"), QVariant(QString()));
    QCOMPARE(model.property("valid"), QVariant(false));
    QCOMPARE(model.property("errorString"), QVariant(QString()));
    QCOMPARE(model.property("maxNodes"), QVariant(20000));
}

void tst_JsonTreeModel::roleNames()
{
    WsJsonTreeModel model;
    const QHash<int, QByteArray> expected{{Qt::DisplayRole, "display"},
                                          {WsJsonTreeModel::KeyRole, "key"},
                                          {WsJsonTreeModel::ValueRole, "value"},
                                          {WsJsonTreeModel::TypeRole, "type"},
                                          {WsJsonTreeModel::ChildCountRole, "childCount"},
                                          {WsJsonTreeModel::PathRole, "path"},
                                          {WsJsonTreeModel::LabelRole, "label"}};
    QCOMPARE(model.roleNames(), expected);
    // "label" repeats the display text for delegates (TreeViewDelegate) that own `display`.
    model.setJson(QStringLiteral("{\"a\": 1}"));
    QCOMPARE(model.data(model.index(0, 0), WsJsonTreeModel::LabelRole), model.data(model.index(0, 0), Qt::DisplayRole));
}

void tst_JsonTreeModel::structure_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QStringList>("rows");

    // QJsonDocument sorts an object's members by name.
    QTest::newRow("nested object")
        << QStringLiteral(R"({"name":"Ann","age":42,"tags":["a","b"],"address":{"city":"Oslo","zip":null},"ok":true})")
        << QStringList{
               QStringLiteral("address {2} | address | {2} | object | 2 | $.address | rows=2"),
               QStringLiteral(R"(  city: "Oslo" | city | "Oslo" | string | 0 | $.address.city | rows=0)"),
               QStringLiteral("  zip: null | zip | null | null | 0 | $.address.zip | rows=0"),
               QStringLiteral("age: 42 | age | 42 | number | 0 | $.age | rows=0"),
               QStringLiteral(R"(name: "Ann" | name | "Ann" | string | 0 | $.name | rows=0)"),
               QStringLiteral("ok: true | ok | true | bool | 0 | $.ok | rows=0"),
               QStringLiteral("tags [2] | tags | [2] | array | 2 | $.tags | rows=2"),
               QStringLiteral(R"(  [0]: "a" | [0] | "a" | string | 0 | $.tags[0] | rows=0)"),
               QStringLiteral(R"(  [1]: "b" | [1] | "b" | string | 0 | $.tags[1] | rows=0)"),
           };

    QTest::newRow("array at the top")
        << QStringLiteral(R"([{"id":1,"items":[[],{}]},2.5,"x\ny",false,null])")
        << QStringList{
               QStringLiteral("[0] {2} | [0] | {2} | object | 2 | $[0] | rows=2"),
               QStringLiteral("  id: 1 | id | 1 | number | 0 | $[0].id | rows=0"),
               QStringLiteral("  items [2] | items | [2] | array | 2 | $[0].items | rows=2"),
               QStringLiteral("    [0] [0] | [0] | [0] | array | 0 | $[0].items[0] | rows=0"),
               QStringLiteral("    [1] {0} | [1] | {0} | object | 0 | $[0].items[1] | rows=0"),
               QStringLiteral("[1]: 2.5 | [1] | 2.5 | number | 0 | $[1] | rows=0"),
               QStringLiteral(R"([2]: "x\ny" | [2] | "x\ny" | string | 0 | $[2] | rows=0)"),
               QStringLiteral("[3]: false | [3] | false | bool | 0 | $[3] | rows=0"),
               QStringLiteral("[4]: null | [4] | null | null | 0 | $[4] | rows=0"),
           };

    QTest::newRow("deep")
        << QStringLiteral(R"({"a":{"b":{"c":[1,[2,[3]]]}}})")
        << QStringList{
               QStringLiteral("a {1} | a | {1} | object | 1 | $.a | rows=1"),
               QStringLiteral("  b {1} | b | {1} | object | 1 | $.a.b | rows=1"),
               QStringLiteral("    c [2] | c | [2] | array | 2 | $.a.b.c | rows=2"),
               QStringLiteral("      [0]: 1 | [0] | 1 | number | 0 | $.a.b.c[0] | rows=0"),
               QStringLiteral("      [1] [2] | [1] | [2] | array | 2 | $.a.b.c[1] | rows=2"),
               QStringLiteral("        [0]: 2 | [0] | 2 | number | 0 | $.a.b.c[1][0] | rows=0"),
               QStringLiteral("        [1] [1] | [1] | [1] | array | 1 | $.a.b.c[1][1] | rows=1"),
               QStringLiteral("          [0]: 3 | [0] | 3 | number | 0 | $.a.b.c[1][1][0] | rows=0"),
           };

    QTest::newRow("empty object") << QStringLiteral("{}") << QStringList();
    QTest::newRow("empty array, spaced") << QStringLiteral(" \n[ ]\t") << QStringList();

    // Names that are not identifiers go in brackets, quoted; the empty name shows as "".
    QTest::newRow("odd member names")
        << QStringLiteral(R"({"":1,"my key":"v","2x":[],"_ok$1":{},"q\"k":-0.5,"é":true})")
        << QStringList{
               QStringLiteral(R"("": 1 |  | 1 | number | 0 | $[""] | rows=0)"),
               QStringLiteral(R"(2x [0] | 2x | [0] | array | 0 | $["2x"] | rows=0)"),
               QStringLiteral(R"(_ok$1 {0} | _ok$1 | {0} | object | 0 | $._ok$1 | rows=0)"),
               QStringLiteral(R"(my key: "v" | my key | "v" | string | 0 | $["my key"] | rows=0)"),
               QStringLiteral(R"(q"k: -0.5 | q"k | -0.5 | number | 0 | $["q\"k"] | rows=0)"),
               QStringLiteral(R"(é: true | é | true | bool | 0 | $["é"] | rows=0)"),
           };

    // Numbers as QJsonDocument writes them (integral values stay integers).
    QTest::newRow("numbers")
        << QStringLiteral("[0,-7,1.5,1e3,1.0,-2.5e-8,9007199254740993,1e300]")
        << QStringList{
               QStringLiteral("[0]: 0 | [0] | 0 | number | 0 | $[0] | rows=0"),
               QStringLiteral("[1]: -7 | [1] | -7 | number | 0 | $[1] | rows=0"),
               QStringLiteral("[2]: 1.5 | [2] | 1.5 | number | 0 | $[2] | rows=0"),
               QStringLiteral("[3]: 1000 | [3] | 1000 | number | 0 | $[3] | rows=0"),
               QStringLiteral("[4]: 1 | [4] | 1 | number | 0 | $[4] | rows=0"),
               QStringLiteral("[5]: -2.5e-08 | [5] | -2.5e-08 | number | 0 | $[5] | rows=0"),
               QStringLiteral("[6]: 9007199254740993 | [6] | 9007199254740993 | number | 0 | $[6] | rows=0"),
               QStringLiteral("[7]: 1e+300 | [7] | 1e+300 | number | 0 | $[7] | rows=0"),
           };

    // Strings are shown as one-line JSON literals.
    QTest::newRow("string escapes")
        << QStringLiteral(R"(["q\"b\\s\/", "\t\r\b\f", "\u0001\u007f", "\u2028\u2029", "\u00e9\ud83d\ude00"])")
        << QStringList{
               QStringLiteral(R"([0]: "q\"b\\s/" | [0] | "q\"b\\s/" | string | 0 | $[0] | rows=0)"),
               QStringLiteral(R"([1]: "\t\r\b\f" | [1] | "\t\r\b\f" | string | 0 | $[1] | rows=0)"),
               QStringLiteral(R"([2]: "\u0001\u007f" | [2] | "\u0001\u007f" | string | 0 | $[2] | rows=0)"),
               QStringLiteral(R"([3]: "\u2028\u2029" | [3] | "\u2028\u2029" | string | 0 | $[3] | rows=0)"),
               QStringLiteral("[4]: \"\u00e9\U0001F600\" | [4] | \"\u00e9\U0001F600\" | string | 0 | $[4] | rows=0"),
           };
}

void tst_JsonTreeModel::structure()
{
    QFETCH(QString, json);
    QFETCH(QStringList, rows);
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy changed(&model, &WsJsonTreeModel::jsonChanged);
    model.setJson(json);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.json(), json);
    QCOMPARE(model.isValid(), true);
    QCOMPARE(model.errorString(), QString());
    QCOMPARE(dump(model), rows);
    QCOMPARE(model.valueAt(QModelIndex()), QString());
}

void tst_JsonTreeModel::scalars_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("compact");

    QTest::newRow("integer") << QStringLiteral("42") << QStringLiteral("42") << QStringLiteral("number")
                             << QStringLiteral("42");
    QTest::newRow("double, spaced") << QStringLiteral(" \n-1.5e2\t ") << QStringLiteral("-150")
                                    << QStringLiteral("number") << QStringLiteral("-150");
    QTest::newRow("fraction") << QStringLiteral("0.25") << QStringLiteral("0.25") << QStringLiteral("number")
                              << QStringLiteral("0.25");
    QTest::newRow("string") << QStringLiteral(R"("text")") << QStringLiteral(R"("text")")
                            << QStringLiteral("string") << QStringLiteral(R"("text")");
    QTest::newRow("string with structure inside") << QStringLiteral(R"( "a, [b]: {c} \"d\"" )")
                                                  << QStringLiteral(R"("a, [b]: {c} \"d\"")")
                                                  << QStringLiteral("string")
                                                  << QStringLiteral(R"("a, [b]: {c} \"d\"")");
    QTest::newRow("string escapes") << QStringLiteral(R"("\u00e9\n\u2028")")
                                    << QStringLiteral("\"\u00e9\\n\\u2028\"") << QStringLiteral("string")
                                    << QStringLiteral("\"\u00e9\\n\u2028\"");
    QTest::newRow("empty string") << QStringLiteral(R"("")") << QStringLiteral(R"("")")
                                  << QStringLiteral("string") << QStringLiteral(R"("")");
    QTest::newRow("true") << QStringLiteral("true") << QStringLiteral("true") << QStringLiteral("bool")
                          << QStringLiteral("true");
    QTest::newRow("false") << QStringLiteral("false\n") << QStringLiteral("false") << QStringLiteral("bool")
                           << QStringLiteral("false");
    QTest::newRow("null") << QStringLiteral("null") << QStringLiteral("null") << QStringLiteral("null")
                          << QStringLiteral("null");
}

void tst_JsonTreeModel::scalars()
{
    QFETCH(QString, json);
    QFETCH(QString, display);
    QFETCH(QString, type);
    QFETCH(QString, compact);
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(json);
    QCOMPARE(model.isValid(), true);
    QCOMPARE(model.errorString(), QString());
    // One row, the document itself: no key, path "$".
    const QString row = QStringList{display, QString(), display, type, QStringLiteral("0"), QStringLiteral("$"),
                                    QStringLiteral("rows=0")}
                            .join(QStringLiteral(" | "));
    QCOMPARE(dump(model), QStringList{row});
    QCOMPARE(model.valueAt(model.index(0, 0)), compact);
    QCOMPARE(model.valueAt(QModelIndex()), QString());
}

void tst_JsonTreeModel::invalid_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("error");

    // The parse errors and offsets are QJsonDocument's; offsets count characters from 0.
    QTest::newRow("unterminated object") << QStringLiteral("{") << QStringLiteral(
                                                "unterminated object at offset 1 (line 1, column 2)");
    QTest::newRow("trailing comma") << QStringLiteral(R"({"a":1,})")
                                    << QStringLiteral("object is missing after a comma at offset 8 (line 1, column 9)");
    QTest::newRow("missing separator") << QStringLiteral(R"({"a" 1})")
                                       << QStringLiteral("missing name separator at offset 6 (line 1, column 7)");
    QTest::newRow("second line") << QStringLiteral("[1,\n 2 3]")
                                 << QStringLiteral("missing value separator at offset 8 (line 2, column 5)");
    QTest::newRow("garbage after object") << QStringLiteral("{\"a\":1}\n\n  }")
                                          << QStringLiteral(
                                                 "garbage at the end of the document at offset 11 (line 3, column 3)");
    // A two-byte character before the error: 9 UTF-8 bytes, 8 characters.
    QTest::newRow("offset in characters") << QStringLiteral("{\"\u00e9\":1} x")
                                          << QStringLiteral(
                                                 "garbage at the end of the document at offset 8 (line 1, column 9)");
    QTest::newRow("not json") << QStringLiteral("hello")
                              << QStringLiteral("illegal number at offset 0 (line 1, column 1)");
    QTest::newRow("bad literal") << QStringLiteral("  tru")
                                 << QStringLiteral("illegal value at offset 3 (line 1, column 4)");
    QTest::newRow("unterminated string") << QStringLiteral(R"("abc)")
                                         << QStringLiteral("unterminated string at offset 4 (line 1, column 5)");
    QTest::newRow("two scalars") << QStringLiteral("1, 2")
                                 << QStringLiteral("garbage at the end of the document at offset 1 (line 1, column 2)");
    QTest::newRow("scalar and bracket") << QStringLiteral("1]")
                                        << QStringLiteral("garbage at the end of the document at offset 1 (line 1, column 2)");
    QTest::newRow("two strings") << QStringLiteral(R"("ok" "no")")
                                 << QStringLiteral("garbage at the end of the document at offset 5 (line 1, column 6)");
    QTest::newRow("lone bracket") << QStringLiteral(" ]")
                                  << QStringLiteral("illegal value at offset 1 (line 1, column 2)");
    QTest::newRow("only space") << QStringLiteral(" \n ")
                                << QStringLiteral("illegal value at offset 3 (line 2, column 2)");
}

void tst_JsonTreeModel::invalid()
{
    QFETCH(QString, json);
    QFETCH(QString, error);
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(QStringLiteral(R"({"before":[1,2]})"));
    QCOMPARE(model.rowCount(), 1);
    QSignalSpy changed(&model, &WsJsonTreeModel::jsonChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setJson(json);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.json(), json);
    QCOMPARE(model.isValid(), false);
    QCOMPARE(model.errorString(), error);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.hasChildren(), false);
    QCOMPARE(model.index(0, 0), QModelIndex());
    QCOMPARE(model.valueAt(QModelIndex()), QString());
}

void tst_JsonTreeModel::maxNodes_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<int>("maxNodes");
    QTest::addColumn<int>("effectiveMaxNodes");
    QTest::addColumn<QStringList>("rows");

    const QStringList oneTwoThree{
        QStringLiteral("[0]: 1 | [0] | 1 | number | 0 | $[0] | rows=0"),
        QStringLiteral("[1]: 2 | [1] | 2 | number | 0 | $[1] | rows=0"),
        QStringLiteral("[2]: 3 | [2] | 3 | number | 0 | $[2] | rows=0"),
    };
    QTest::newRow("exactly at the limit") << QStringLiteral("[1,2,3]") << 3 << 3 << oneTwoThree;
    QTest::newRow("under the limit") << QStringLiteral("[1,2,3]") << 4 << 4 << oneTwoThree;
    QTest::newRow("one over") << QStringLiteral("[1,2,3,4]") << 3 << 3
                              << QStringList{oneTwoThree.at(0), oneTwoThree.at(1),
                                             QStringLiteral("\u2026 2 more |  |  | more | 0 |  | rows=0")};
    QTest::newRow("three over") << QStringLiteral("[1,2,3,4,5,6]") << 3 << 3
                                << QStringList{oneTwoThree.at(0), oneTwoThree.at(1),
                                               QStringLiteral("\u2026 4 more |  |  | more | 0 |  | rows=0")};
    // The cut falls inside "a": the marker stands for a[2], b, b.c, b.d and e.
    QTest::newRow("cut inside a container")
        << QStringLiteral(R"({"a":[1,2,3],"b":{"c":1,"d":2},"e":5})") << 4 << 4
        << QStringList{
               QStringLiteral("a [3] | a | [3] | array | 3 | $.a | rows=3"),
               QStringLiteral("  [0]: 1 | [0] | 1 | number | 0 | $.a[0] | rows=0"),
               QStringLiteral("  [1]: 2 | [1] | 2 | number | 0 | $.a[1] | rows=0"),
               QStringLiteral("  \u2026 5 more |  |  | more | 0 |  | rows=0"),
           };
    // A container at the limit becomes the marker, for itself and all inside and after it.
    QTest::newRow("container at the limit")
        << QStringLiteral(R"({"a":1,"b":{"c":{"d":1}},"e":[2]})") << 2 << 2
        << QStringList{
               QStringLiteral("a: 1 | a | 1 | number | 0 | $.a | rows=0"),
               QStringLiteral("\u2026 5 more |  |  | more | 0 |  | rows=0"),
           };
    QTest::newRow("one node") << QStringLiteral(R"({"a":{"b":1},"c":2})") << 1 << 1
                              << QStringList{QStringLiteral("\u2026 3 more |  |  | more | 0 |  | rows=0")};
    QTest::newRow("zero means one") << QStringLiteral("[1,2]") << 0 << 1
                                    << QStringList{QStringLiteral("\u2026 2 more |  |  | more | 0 |  | rows=0")};
    QTest::newRow("negative means one") << QStringLiteral("7") << -5 << 1
                                        << QStringList{QStringLiteral("7 |  | 7 | number | 0 | $ | rows=0")};
}

void tst_JsonTreeModel::maxNodes()
{
    QFETCH(QString, json);
    QFETCH(int, maxNodes);
    QFETCH(int, effectiveMaxNodes);
    QFETCH(QStringList, rows);
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMaxNodes(maxNodes);
    QCOMPARE(model.maxNodes(), effectiveMaxNodes);
    model.setJson(json);
    QCOMPARE(model.isValid(), true);
    QCOMPARE(model.errorString(), QString());
    QCOMPARE(dump(model), rows);
}

void tst_JsonTreeModel::maxNodesDefault()
{
    // 30000 objects of 2 members each: 90000 values, of which 20000 rows are built.
    QJsonArray items;
    for (int i = 0; i < 30000; ++i)
        items.append(QJsonObject{{QStringLiteral("id"), i}, {QStringLiteral("ok"), i % 2 == 0}});
    const QString json = QString::fromUtf8(QJsonDocument(items).toJson(QJsonDocument::Compact));
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(json);
    QCOMPARE(model.isValid(), true);
    // 6666 whole objects (19998 rows), then object 6666 itself (row 19999), whose first member
    // would be row 20000: the marker, for the 70001 values from there on.
    QCOMPARE(model.rowCount(), 6667);
    const QModelIndex last = model.index(6666, 0);
    QCOMPARE(last.data().toString(), QStringLiteral("[6666] {2}"));
    QCOMPARE(model.rowCount(last), 1);
    const QModelIndex marker = model.index(0, 0, last);
    QCOMPARE(marker.data().toString(), QStringLiteral("\u2026 70001 more"));
    QCOMPARE(marker.data(WsJsonTreeModel::TypeRole).toString(), QStringLiteral("more"));
    QCOMPARE(model.index(6665, 0).data().toString(), QStringLiteral("[6665] {2}"));
    QCOMPARE(model.rowCount(model.index(6665, 0)), 2);
    QCOMPARE(model.index(1, 0, model.index(6665, 0)).data().toString(), QStringLiteral("ok: false"));
    QCOMPARE(dump(model).size(), 20000);
}

void tst_JsonTreeModel::maxNodesChangeRebuilds()
{
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy changed(&model, &WsJsonTreeModel::maxNodesChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setMaxNodes(3);  // no document: nothing to rebuild
    QCOMPARE(changed.count(), 1);
    QCOMPARE(reset.count(), 0);
    model.setJson(QStringLiteral("[1,2,3,4,5]"));
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(2, 0).data().toString(), QStringLiteral("\u2026 3 more"));
    model.setMaxNodes(3);  // unchanged
    QCOMPARE(changed.count(), 1);
    QCOMPARE(reset.count(), 1);
    model.setMaxNodes(10);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(reset.count(), 2);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.index(2, 0).data().toString(), QStringLiteral("[2]: 3"));
    QCOMPARE(model.index(4, 0).data().toString(), QStringLiteral("[4]: 5"));
    QVERIFY(model.setProperty("maxNodes", 4));
    QCOMPARE(changed.count(), 3);
    QCOMPARE(reset.count(), 3);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(3, 0).data().toString(), QStringLiteral("\u2026 2 more"));
}

void tst_JsonTreeModel::resetOnNewJson()
{
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy aboutToReset(&model, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &WsJsonTreeModel::jsonChanged);

    model.setJson(QStringLiteral(R"({"a":[1,2],"b":true})"));
    QCOMPARE(aboutToReset.count(), 1);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(dump(model), (QStringList{
                              QStringLiteral("a [2] | a | [2] | array | 2 | $.a | rows=2"),
                              QStringLiteral("  [0]: 1 | [0] | 1 | number | 0 | $.a[0] | rows=0"),
                              QStringLiteral("  [1]: 2 | [1] | 2 | number | 0 | $.a[1] | rows=0"),
                              QStringLiteral("b: true | b | true | bool | 0 | $.b | rows=0"),
                          }));
    const QPersistentModelIndex kept(model.index(1, 0, model.index(0, 0)));
    QVERIFY(kept.isValid());

    // The same text again changes nothing.
    model.setJson(QStringLiteral(R"({"a":[1,2],"b":true})"));
    QCOMPARE(reset.count(), 1);
    QCOMPARE(changed.count(), 1);
    QVERIFY(kept.isValid());

    // New text: one reset, a new tree, old indexes gone.
    QVERIFY(model.setProperty("json", QStringLiteral(R"(["x",{"y":null}])")));
    QCOMPARE(aboutToReset.count(), 2);
    QCOMPARE(reset.count(), 2);
    QCOMPARE(changed.count(), 2);
    QVERIFY(!kept.isValid());
    QCOMPARE(dump(model), (QStringList{
                              QStringLiteral(R"([0]: "x" | [0] | "x" | string | 0 | $[0] | rows=0)"),
                              QStringLiteral("[1] {1} | [1] | {1} | object | 1 | $[1] | rows=1"),
                              QStringLiteral("  y: null | y | null | null | 0 | $[1].y | rows=0"),
                          }));

    // Invalid, then valid again, then empty.
    model.setJson(QStringLiteral("[1,"));
    QCOMPARE(reset.count(), 3);
    QCOMPARE(model.isValid(), false);
    QCOMPARE(model.rowCount(), 0);
    model.setJson(QStringLiteral("\"back\""));
    QCOMPARE(reset.count(), 4);
    QCOMPARE(model.isValid(), true);
    QCOMPARE(model.errorString(), QString());
    QCOMPARE(dump(model), QStringList{QStringLiteral(R"("back" |  | "back" | string | 0 | $ | rows=0)")});
    model.setJson(QString());
    QCOMPARE(reset.count(), 5);
    QCOMPARE(changed.count(), 5);
    QCOMPARE(model.isValid(), false);
    QCOMPARE(model.errorString(), QString());
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(aboutToReset.count(), reset.count());
}

void tst_JsonTreeModel::valueAt_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<int>("maxNodes");
    QTest::addColumn<QString>("rows");  // see indexAt()
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("compact");

    const QString doc = QStringLiteral(R"({ "b": [1, {"c": "x", "d": [true, null]}], "a": 2.5 })");
    QTest::newRow("invalid index") << doc << 100 << QString() << QString() << QString();
    QTest::newRow("number member") << doc << 100 << QStringLiteral("0") << QStringLiteral("a: 2.5")
                                   << QStringLiteral("2.5");
    QTest::newRow("array member") << doc << 100 << QStringLiteral("1") << QStringLiteral("b [2]")
                                  << QStringLiteral(R"([1,{"c":"x","d":[true,null]}])");
    QTest::newRow("object in array") << doc << 100 << QStringLiteral("1/1") << QStringLiteral("[1] {2}")
                                     << QStringLiteral(R"({"c":"x","d":[true,null]})");
    QTest::newRow("string") << doc << 100 << QStringLiteral("1/1/0") << QStringLiteral(R"(c: "x")")
                            << QStringLiteral(R"("x")");
    QTest::newRow("deepest array") << doc << 100 << QStringLiteral("1/1/1") << QStringLiteral("d [2]")
                                   << QStringLiteral("[true,null]");
    QTest::newRow("null") << doc << 100 << QStringLiteral("1/1/1/1") << QStringLiteral("[1]: null")
                          << QStringLiteral("null");
    QTest::newRow("escapes") << QStringLiteral(R"(["a\"b\u0001\n\/"])") << 100 << QStringLiteral("0")
                             << QStringLiteral(R"([0]: "a\"b\u0001\n/")") << QStringLiteral(R"("a\"b\u0001\n/")");
    // A cut subtree is copied whole; the marker copies nothing.
    QTest::newRow("cut subtree") << QStringLiteral("[[1,2,3,4]]") << 3 << QStringLiteral("0")
                                 << QStringLiteral("[0] [4]") << QStringLiteral("[1,2,3,4]");
    QTest::newRow("cut document") << QStringLiteral(R"({"a":{"b":[1,2],"c":"x"},"d":[3]})") << 2
                                  << QStringLiteral("0") << QStringLiteral("a {2}")
                                  << QStringLiteral(R"({"b":[1,2],"c":"x"})");
    QTest::newRow("marker") << QStringLiteral("[[1,2,3,4]]") << 3 << QStringLiteral("0/1")
                            << QStringLiteral("\u2026 3 more") << QString();
}

void tst_JsonTreeModel::valueAt()
{
    QFETCH(QString, json);
    QFETCH(int, maxNodes);
    QFETCH(QString, rows);
    QFETCH(QString, display);
    QFETCH(QString, compact);
    WsJsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMaxNodes(maxNodes);
    model.setJson(json);
    QCOMPARE(model.isValid(), true);
    const QModelIndex i = indexAt(model, rows);
    QCOMPARE(i.isValid(), !rows.isEmpty());
    QCOMPARE(i.data().toString(), display);
    QCOMPARE(model.valueAt(i), compact);
    // What QML calls.
    QString viaMeta;
    QVERIFY(QMetaObject::invokeMethod(&model, "valueAt", Q_RETURN_ARG(QString, viaMeta), Q_ARG(QModelIndex, i)));
    QCOMPARE(viaMeta, compact);
}

void tst_JsonTreeModel::valueAtForeignIndex()
{
    WsJsonTreeModel model, other;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(QStringLiteral("[1]"));
    other.setJson(QStringLiteral("[2]"));
    QCOMPARE(model.valueAt(model.index(0, 0)), QStringLiteral("1"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^Index QModelIndex\\(0,0,.*\\) is for model .* which is different from this model")));
    QCOMPARE(model.valueAt(other.index(0, 0)), QString());
}

QTEST_GUILESS_MAIN(tst_JsonTreeModel)
#include "tst_jsontreemodel.moc"
