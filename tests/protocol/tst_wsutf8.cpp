#include "wsutf8.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearraylist.h>
#include <QtCore/qlist.h>
#include <QtTest/qtest.h>

using Result = WsUtf8Validator::Result;

char *toString(WsUtf8Validator::Result result)
{
    switch (result) {
    case Result::Valid:
        return qstrdup("Valid");
    case Result::Incomplete:
        return qstrdup("Incomplete");
    case Result::Invalid:
        return qstrdup("Invalid");
    }
    return qstrdup("<unknown Result>");
}

namespace {

QByteArray hex(const char *text)
{
    return QByteArray::fromHex(text);  // spaces are skipped
}

// Length of the UTF-8 sequence a lead byte starts (text assumed valid up to where it is used).
qsizetype sequenceLength(char lead)
{
    const auto byte = uchar(lead);
    return byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
}

// Feeds text split before each index in cuts (ascending, repeats give empty calls) and checks
// every call: failAt is the absolute index of the first byte a fail-fast validator rejects,
// or -1 when text is a valid prefix.
void checkFeeds(const QByteArray &text, const QList<qsizetype> &cuts, qsizetype failAt)
{
    WsUtf8Validator validator;
    qsizetype start = 0;
    qsizetype failOffset = -1;
    qsizetype boundary = 0;  // code point boundaries found so far, walking by lead bytes
    for (qsizetype c = 0; c <= cuts.size(); ++c) {
        const qsizetype stop = c < cuts.size() ? cuts.at(c) : text.size();
        const Result result = validator.feed(text.constData() + start, stop - start);
        if (failAt >= 0 && failAt < stop) {
            if (failOffset < 0)
                failOffset = failAt - start;
            QCOMPARE(result, Result::Invalid);
            QVERIFY(validator.hasFailed());
            QVERIFY(!validator.isComplete());
            QCOMPARE(validator.invalidOffset(), failOffset);
        } else {
            while (boundary < stop)
                boundary += sequenceLength(text.at(boundary));
            const Result expected = boundary == stop ? Result::Valid : Result::Incomplete;
            QCOMPARE(result, expected);
            QVERIFY(!validator.hasFailed());
            QCOMPARE(validator.isComplete(), expected == Result::Valid);
            QCOMPARE(validator.invalidOffset(), qsizetype(-1));
        }
        start = stop;
    }
}

QList<qsizetype> everyByte(qsizetype size)
{
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < size; ++i)
        cuts.append(i);
    return cuts;
}

QList<qsizetype> chunksOf(qsizetype size, qsizetype chunk)
{
    QList<qsizetype> cuts;
    for (qsizetype i = chunk; i < size; i += chunk)
        cuts.append(i);
    return cuts;
}

// Independent reference: decodes code point values and checks them against RFC 3629 §3
// (no surrogates, at most U+10FFFF, shortest form). A partial sequence is still acceptable
// when filling its missing bytes with 80 or with BF gives an acceptable code point: the
// reachable values form one interval and no interval of a single lead byte has a valid
// value strictly between two invalid ends.
struct Reference
{
    qsizetype failOffset;
    bool complete;
};

bool acceptableCodePoint(quint32 codePoint, int length)
{
    static constexpr quint32 minimum[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    return codePoint >= minimum[length] && codePoint <= 0x10FFFF
            && (codePoint < 0xD800 || codePoint > 0xDFFF);
}

quint32 decodePadded(const uchar *sequence, int count, int length, uchar fill)
{
    static constexpr uchar leadBits[5] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
    quint32 codePoint = sequence[0] & leadBits[length];
    for (int k = 1; k < length; ++k)
        codePoint = (codePoint << 6) | ((k < count ? sequence[k] : fill) & 0x3F);
    return codePoint;
}

Reference reference(const uchar *s, qsizetype n)
{
    qsizetype i = 0;
    while (i < n) {
        const uchar lead = s[i];
        const int length = lead < 0x80 ? 1
                : lead < 0xC0          ? 0
                : lead < 0xE0          ? 2
                : lead < 0xF0          ? 3
                : lead < 0xF8          ? 4
                                       : 0;
        if (length == 0)
            return { i, false };
        for (int count = 1; count <= length; ++count) {
            const qsizetype at = i + count - 1;
            if (at >= n)
                return { -1, false };
            if (count > 1 && (s[at] & 0xC0) != 0x80)
                return { at, false };
            if (!acceptableCodePoint(decodePadded(s + i, count, length, 0x80), length)
                && !acceptableCodePoint(decodePadded(s + i, count, length, 0xBF), length)) {
                return { at, false };
            }
        }
        i += length;
    }
    return { -1, true };
}

Result referenceResult(const Reference &r)
{
    if (r.failOffset >= 0)
        return Result::Invalid;
    return r.complete ? Result::Valid : Result::Incomplete;
}

QByteArray multilingualText(int repeats)
{
    // "Hello, Привет, 你好, 😀 κόσμε! "
    const QByteArray unit = "Hello, "
            + hex("d0 9f d1 80 d0 b8 d0 b2 d0 b5 d1 82") + ", "
            + hex("e4 bd a0 e5 a5 bd") + ", "
            + hex("f0 9f 98 80") + " "
            + hex("ce ba e1 bd b9 cf 83 ce bc ce b5") + "! ";
    return unit.repeated(repeats);
}

} // namespace

class tst_WsUtf8 : public QObject
{
    Q_OBJECT

private slots:
    void validText_data();
    void validText();
    void invalidText_data();
    void invalidText();
    void incompleteText_data();
    void incompleteText();
    void callSequence_data();
    void callSequence();
    void multibyteAtEveryPosition_data();
    void multibyteAtEveryPosition();
    void invalidInLongAscii_data();
    void invalidInLongAscii();
    void multilingual_data();
    void multilingual();
    void invalidAfterMultilingual_data();
    void invalidAfterMultilingual();
    void matchesReference_data();
    void matchesReference();
    void resetClearsState_data();
    void resetClearsState();
    void truncatedSize_data();
    void truncatedSize();
};

void tst_WsUtf8::validText_data()
{
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("ascii/hello") << QByteArray("Hello, World!");
    QTest::newRow("ascii/nul") << hex("00");
    QByteArray allAscii;
    for (int b = 0; b < 0x80; ++b)
        allAscii.append(char(b));
    QTest::newRow("ascii/all-00-7f") << allAscii;
    QTest::newRow("boundary/last-1-byte-u+007f") << hex("7f");
    QTest::newRow("boundary/first-2-byte-u+0080") << hex("c2 80");
    QTest::newRow("2-byte/e-acute-u+00e9") << hex("c3 a9");
    QTest::newRow("boundary/last-2-byte-u+07ff") << hex("df bf");
    QTest::newRow("boundary/first-3-byte-u+0800") << hex("e0 a0 80");
    QTest::newRow("3-byte/e0-highest-u+0fff") << hex("e0 bf bf");
    QTest::newRow("3-byte/euro-u+20ac") << hex("e2 82 ac");
    QTest::newRow("boundary/before-surrogates-u+d7ff") << hex("ed 9f bf");
    QTest::newRow("boundary/after-surrogates-u+e000") << hex("ee 80 80");
    QTest::newRow("3-byte/bom-u+feff") << hex("ef bb bf");
    QTest::newRow("3-byte/replacement-u+fffd") << hex("ef bf bd");
    QTest::newRow("3-byte/noncharacter-u+fffe") << hex("ef bf be");
    QTest::newRow("boundary/last-3-byte-u+ffff") << hex("ef bf bf");
    QTest::newRow("boundary/first-4-byte-u+10000") << hex("f0 90 80 80");
    QTest::newRow("4-byte/emoji-u+1f600") << hex("f0 9f 98 80");
    QTest::newRow("4-byte/f0-highest-u+3ffff") << hex("f0 bf bf bf");
    QTest::newRow("4-byte/f1-lowest-u+40000") << hex("f1 80 80 80");
    QTest::newRow("4-byte/f3-highest-u+fffff") << hex("f3 bf bf bf");
    QTest::newRow("4-byte/f4-lowest-u+100000") << hex("f4 80 80 80");
    QTest::newRow("boundary/max-u+10ffff") << hex("f4 8f bf bf");
    QTest::newRow("kuhn/kosme") << hex("ce ba e1 bd b9 cf 83 ce bc ce b5");
    QTest::newRow("mixed/all-lengths") << "a" + hex("c3 a9 e2 82 ac f0 9f 98 80") + "z";
    QTest::newRow("mixed/consecutive-4-byte") << hex("f0 9f 98 80 f0 9f 98 81 f4 8f bf bf");
    QTest::newRow("mixed/cjk") << hex("e4 bd a0 e5 a5 bd e4 b8 96 e7 95 8c");
    QTest::newRow("mixed/cyrillic-with-spaces")
            << hex("d0 9f d1 80 d0 b8 d0 b2 d0 b5 d1 82 20 d0 bc d0 b8 d1 80");
    QTest::newRow("mixed/bom-then-ascii") << hex("ef bb bf") + "text";
}

void tst_WsUtf8::validText()
{
    QFETCH(QByteArray, text);
    const qsizetype n = text.size();

    QVERIFY(WsUtf8Validator::isValid(text));
    QVERIFY(WsUtf8Validator::isValid(text.constData(), n));

    WsUtf8Validator whole;
    QCOMPARE(whole.feed(text), Result::Valid);
    QVERIFY(whole.isComplete());
    QVERIFY(!whole.hasFailed());
    QCOMPARE(whole.invalidOffset(), qsizetype(-1));

    checkFeeds(text, everyByte(n), -1);
    if (QTest::currentTestFailed())
        return;
    for (qsizetype i = 0; i <= n; ++i) {
        checkFeeds(text, { i }, -1);
        if (QTest::currentTestFailed())
            return;
        for (qsizetype j = i; j <= n; ++j) {
            checkFeeds(text, { i, j }, -1);
            if (QTest::currentTestFailed())
                return;
        }
    }

    // inside ASCII, so that the SIMD skip and the 4-byte fast path meet it
    const QByteArray padded = QByteArray(67, 'a') + text + "wxyz";
    QVERIFY(WsUtf8Validator::isValid(padded));
    checkFeeds(padded, everyByte(padded.size()), -1);
    if (QTest::currentTestFailed())
        return;
    for (qsizetype i = 0; i <= padded.size(); ++i) {
        checkFeeds(padded, { i }, -1);
        if (QTest::currentTestFailed())
            return;
    }
}

void tst_WsUtf8::invalidText_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("failOffset");

    QTest::newRow("lone-continuation/80") << hex("80") << 0;
    QTest::newRow("lone-continuation/bf") << hex("bf") << 0;
    QTest::newRow("lone-continuation/80-bf") << hex("80 bf") << 0;
    QTest::newRow("lone-continuation/after-ascii") << hex("61 80") << 1;
    QTest::newRow("lone-continuation/extra-after-2-byte") << hex("c3 a9 a9") << 2;
    QTest::newRow("lone-continuation/extra-after-3-byte") << hex("e2 82 ac 80") << 3;
    QTest::newRow("lone-continuation/extra-after-4-byte") << hex("f0 9f 98 80 80") << 4;
    QByteArray continuations;
    for (int b = 0x80; b < 0xC0; ++b)
        continuations.append(char(b));
    QTest::newRow("kuhn/all-64-continuations") << continuations << 0;

    QTest::newRow("overlong/2-byte-slash-c0-af") << hex("c0 af") << 0;
    QTest::newRow("overlong/3-byte-slash-e0-80-af") << hex("e0 80 af") << 1;
    QTest::newRow("overlong/4-byte-slash-f0-80-80-af") << hex("f0 80 80 af") << 1;
    QTest::newRow("overlong/5-byte-slash-f8") << hex("f8 80 80 80 af") << 0;
    QTest::newRow("overlong/6-byte-slash-fc") << hex("fc 80 80 80 80 af") << 0;
    QTest::newRow("overlong/max-2-byte-c1-bf") << hex("c1 bf") << 0;
    QTest::newRow("overlong/max-3-byte-e0-9f-bf") << hex("e0 9f bf") << 1;
    QTest::newRow("overlong/max-4-byte-f0-8f-bf-bf") << hex("f0 8f bf bf") << 1;
    QTest::newRow("overlong/nul-2-byte-c0-80") << hex("c0 80") << 0;
    QTest::newRow("overlong/nul-3-byte-e0-80-80") << hex("e0 80 80") << 1;
    QTest::newRow("overlong/nul-4-byte-f0-80-80-80") << hex("f0 80 80 80") << 1;
    QTest::newRow("overlong/after-ascii-c1-81") << hex("41 42 c1 81") << 2;

    QTest::newRow("surrogate/first-high-ed-a0-80") << hex("ed a0 80") << 1;
    QTest::newRow("surrogate/ed-ad-bf") << hex("ed ad bf") << 1;
    QTest::newRow("surrogate/ed-ae-80") << hex("ed ae 80") << 1;
    QTest::newRow("surrogate/last-high-ed-af-bf") << hex("ed af bf") << 1;
    QTest::newRow("surrogate/first-low-ed-b0-80") << hex("ed b0 80") << 1;
    QTest::newRow("surrogate/ed-be-80") << hex("ed be 80") << 1;
    QTest::newRow("surrogate/last-low-ed-bf-bf") << hex("ed bf bf") << 1;
    QTest::newRow("surrogate/pair-ed-a0-80-ed-b0-80") << hex("ed a0 80 ed b0 80") << 1;
    QTest::newRow("surrogate/after-u+d7ff") << hex("ed 9f bf ed a0 80") << 4;

    QTest::newRow("above-max/f4-90-80-80") << hex("f4 90 80 80") << 1;
    QTest::newRow("above-max/f4-bf-bf-bf") << hex("f4 bf bf bf") << 1;
    QTest::newRow("above-max/f5-80-80-80") << hex("f5 80 80 80") << 0;
    QTest::newRow("above-max/f7-bf-bf-bf") << hex("f7 bf bf bf") << 0;
    QTest::newRow("above-max/after-u+10ffff") << hex("f4 8f bf bf f4 90 80 80") << 5;

    QTest::newRow("never-used/fe") << hex("fe") << 0;
    QTest::newRow("never-used/ff") << hex("ff") << 0;
    QTest::newRow("never-used/kuhn-fe-fe-ff-ff") << hex("fe fe ff ff") << 0;
    QTest::newRow("never-used/ff-after-ascii") << hex("61 62 ff") << 2;

    QTest::newRow("lead-then-ascii/c2-41") << hex("c2 41") << 1;
    QTest::newRow("lead-then-ascii/e2-41") << hex("e2 41") << 1;
    QTest::newRow("lead-then-ascii/e2-82-41") << hex("e2 82 41") << 2;
    QTest::newRow("lead-then-ascii/f0-9f-41") << hex("f0 9f 41") << 2;
    QTest::newRow("lead-then-ascii/f0-9f-98-41") << hex("f0 9f 98 41") << 3;
    QTest::newRow("lead-then-ascii/kuhn-c0-space") << hex("c0 20") << 0;
    QTest::newRow("lead-then-ascii/kuhn-df-space") << hex("df 20") << 1;
    QTest::newRow("lead-then-ascii/kuhn-ef-space") << hex("ef 20") << 1;
    QTest::newRow("lead-then-ascii/kuhn-f4-space") << hex("f4 20") << 1;
    QTest::newRow("lead-then-lead/c2-c2") << hex("c2 c2") << 1;
    QTest::newRow("lead-then-lead/kuhn-incomplete-e0-a0-then-c2-80") << hex("e0 a0 c2 80") << 2;
    QTest::newRow("lead-then-lead/f1-80-80-f1") << hex("f1 80 80 f1 80 80 80") << 3;
}

void tst_WsUtf8::invalidText()
{
    QFETCH(QByteArray, text);
    QFETCH(int, failOffset);
    const qsizetype n = text.size();

    QVERIFY(!WsUtf8Validator::isValid(text));

    WsUtf8Validator whole;
    QCOMPARE(whole.feed(text), Result::Invalid);
    QVERIFY(whole.hasFailed());
    QVERIFY(!whole.isComplete());
    QCOMPARE(whole.invalidOffset(), qsizetype(failOffset));
    QCOMPARE(whole.feed("abc"), Result::Invalid);  // sticky
    QCOMPARE(whole.feed(QByteArrayView()), Result::Invalid);
    QCOMPARE(whole.invalidOffset(), qsizetype(failOffset));

    checkFeeds(text, everyByte(n), failOffset);
    if (QTest::currentTestFailed())
        return;
    for (qsizetype i = 0; i <= n; ++i) {
        checkFeeds(text, { i }, failOffset);
        if (QTest::currentTestFailed())
            return;
    }

    // the fast paths after ASCII and after multi-byte text must report the same byte
    const QByteArray ascii(67, 'a');
    const QByteArray inAscii = ascii + text + "wxyz";
    QVERIFY(!WsUtf8Validator::isValid(inAscii));
    checkFeeds(inAscii, {}, ascii.size() + failOffset);
    if (QTest::currentTestFailed())
        return;
    checkFeeds(inAscii, everyByte(inAscii.size()), ascii.size() + failOffset);
    if (QTest::currentTestFailed())
        return;

    const QByteArray multibyte = hex("c3 a9 e2 82 ac f0 9f 98 80");
    const QByteArray afterMultibyte = multibyte + text + "wxyz";
    checkFeeds(afterMultibyte, {}, multibyte.size() + failOffset);
    if (QTest::currentTestFailed())
        return;
    for (qsizetype i = 0; i <= afterMultibyte.size(); ++i) {
        checkFeeds(afterMultibyte, { i }, multibyte.size() + failOffset);
        if (QTest::currentTestFailed())
            return;
    }
}

void tst_WsUtf8::incompleteText_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("completion");

    QTest::newRow("2-byte/lead-only") << hex("c3") << hex("a9");
    QTest::newRow("3-byte/lead-only") << hex("e2") << hex("82 ac");
    QTest::newRow("3-byte/two-of-three") << hex("e2 82") << hex("ac");
    QTest::newRow("3-byte/e0-two-of-three") << hex("e0 a0") << hex("80");
    QTest::newRow("3-byte/ed-two-of-three") << hex("ed 9f") << hex("bf");
    QTest::newRow("3-byte/bom-two-of-three") << hex("ef bb") << hex("bf");
    QTest::newRow("4-byte/lead-only") << hex("f0") << hex("9f 98 80");
    QTest::newRow("4-byte/two-of-four") << hex("f0 9f") << hex("98 80");
    QTest::newRow("4-byte/three-of-four") << hex("f0 9f 98") << hex("80");
    QTest::newRow("4-byte/f4-lead-only") << hex("f4") << hex("8f bf bf");
    QTest::newRow("4-byte/max-three-of-four") << hex("f4 8f bf") << hex("bf");
    QTest::newRow("after-ascii/3-byte-lead") << hex("61 62 63 e2") << hex("82 ac");
    QTest::newRow("after-4-byte/f3-lead") << hex("f0 9f 98 80 f3") << hex("bf bf bf");
}

void tst_WsUtf8::incompleteText()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, completion);

    QVERIFY(!WsUtf8Validator::isValid(text));
    QVERIFY(WsUtf8Validator::isValid(text + completion));

    WsUtf8Validator validator;
    QCOMPARE(validator.feed(text), Result::Incomplete);
    QVERIFY(!validator.isComplete());
    QVERIFY(!validator.hasFailed());
    QCOMPARE(validator.invalidOffset(), qsizetype(-1));
    QCOMPARE(validator.feed(completion), Result::Valid);
    QVERIFY(validator.isComplete());

    checkFeeds(text, everyByte(text.size()), -1);
    if (QTest::currentTestFailed())
        return;

    // the validator really waits for a continuation byte: ASCII next is rejected at once
    WsUtf8Validator interrupted;
    QCOMPARE(interrupted.feed(text), Result::Incomplete);
    QCOMPARE(interrupted.feed("a"), Result::Invalid);
    QCOMPARE(interrupted.invalidOffset(), qsizetype(0));

    const QByteArray longText = QByteArray(1000, 'a') + text;
    QVERIFY(!WsUtf8Validator::isValid(longText));
    WsUtf8Validator afterAscii;
    QCOMPARE(afterAscii.feed(longText), Result::Incomplete);
    QCOMPARE(afterAscii.feed(completion + QByteArray(100, 'b')), Result::Valid);
}

void tst_WsUtf8::callSequence_data()
{
    QTest::addColumn<QByteArrayList>("chunks");  // hex
    QTest::addColumn<QString>("results");        // V valid, I incomplete, X invalid; per call
    QTest::addColumn<int>("invalidOffset");      // after the last call

    QTest::newRow("empty/first-call") << QByteArrayList { "" } << QStringLiteral("V") << -1;
    QTest::newRow("empty/between-4-byte-parts")
            << QByteArrayList { "f0 9f", "", "98", "", "80 41" }
            << QStringLiteral("IIIIV") << -1;
    QTest::newRow("split/4-byte-one-per-call")
            << QByteArrayList { "f0", "9f", "98", "80" } << QStringLiteral("IIIV") << -1;
    QTest::newRow("split/max-code-point")
            << QByteArrayList { "f4 8f", "bf bf" } << QStringLiteral("IV") << -1;
    QTest::newRow("split/continuation-then-ascii-run")
            << QByteArrayList { "e2", "82 ac 41 42 43 44 45 46 47 48" }
            << QStringLiteral("IV") << -1;
    QTest::newRow("split/e0-overlong-second-byte")
            << QByteArrayList { "41 e0", "9f bf" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/ed-surrogate-second-byte")
            << QByteArrayList { "ed", "a0 80" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/f0-overlong-second-byte")
            << QByteArrayList { "f0", "8f bf bf" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/f4-above-max-second-byte")
            << QByteArrayList { "f4", "90 80 80" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/ascii-where-third-byte-expected")
            << QByteArrayList { "41 42 e2 82", "41" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/lead-where-fourth-byte-expected")
            << QByteArrayList { "f0 9f 98", "f0 9f 98 80" } << QStringLiteral("IX") << 0;
    QTest::newRow("split/invalid-late-in-second-call")
            << QByteArrayList { "c3", "a9 41 42 43 44 45 c0 af" } << QStringLiteral("IX") << 6;
    QTest::newRow("sticky/valid-after-failure")
            << QByteArrayList { "41 ff", "41 42", "" } << QStringLiteral("XXX") << 1;
}

void tst_WsUtf8::callSequence()
{
    QFETCH(QByteArrayList, chunks);
    QFETCH(QString, results);
    QFETCH(int, invalidOffset);
    QCOMPARE(results.size(), chunks.size());

    WsUtf8Validator validator;
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        const QByteArray chunk = QByteArray::fromHex(chunks.at(i));
        const Result expected = results.at(i) == u'V' ? Result::Valid
                : results.at(i) == u'I'               ? Result::Incomplete
                                                      : Result::Invalid;
        QCOMPARE(validator.feed(chunk), expected);
        QCOMPARE(validator.isComplete(), expected == Result::Valid);
        QCOMPARE(validator.hasFailed(), expected == Result::Invalid);
    }
    QCOMPARE(validator.invalidOffset(), qsizetype(invalidOffset));
}

void tst_WsUtf8::multibyteAtEveryPosition_data()
{
    QTest::addColumn<QByteArray>("sequence");

    QTest::newRow("2-byte/u+00e9") << hex("c3 a9");
    QTest::newRow("3-byte/e0-u+0800") << hex("e0 a0 80");
    QTest::newRow("3-byte/ed-u+d7ff") << hex("ed 9f bf");
    QTest::newRow("3-byte/u+ffff") << hex("ef bf bf");
    QTest::newRow("4-byte/f0-u+10000") << hex("f0 90 80 80");
    QTest::newRow("4-byte/max-u+10ffff") << hex("f4 8f bf bf");
}

void tst_WsUtf8::multibyteAtEveryPosition()
{
    QFETCH(QByteArray, sequence);
    const qsizetype length = sequence.size();
    constexpr qsizetype total = 160;

    for (qsizetype pos = 0; pos + length <= total; ++pos) {
        QByteArray text = QByteArray(pos, 'a') + sequence + QByteArray(total - pos - length, 'b');
        QVERIFY(WsUtf8Validator::isValid(text));
        checkFeeds(text, {}, -1);
        checkFeeds(text, { pos + 1 }, -1);  // resume inside the sequence
        checkFeeds(text, { pos + length - 1 }, -1);
        if (QTest::currentTestFailed())
            return;

        // last continuation byte replaced by ASCII: rejected exactly there
        text[pos + length - 1] = 'z';
        checkFeeds(text, {}, pos + length - 1);
        checkFeeds(text, { pos + 1 }, pos + length - 1);
        if (QTest::currentTestFailed())
            return;

        // text ends inside the sequence
        const QByteArray cut = QByteArray(pos, 'a') + sequence.chopped(1);
        WsUtf8Validator validator;
        QCOMPARE(validator.feed(cut), Result::Incomplete);
        QCOMPARE(validator.feed(sequence.right(1)), Result::Valid);
    }
}

void tst_WsUtf8::invalidInLongAscii_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("position");
    QTest::addColumn<QByteArray>("bad");  // written over the ASCII at position
    QTest::addColumn<int>("failDelta");   // first rejected byte, relative to position

    const int positions[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 47, 48, 63, 64, 65, 127, 128,
                              500, 935, 936, 951, 952, 984, 985, 991, 992, 995, 996, 997, 999 };
    for (int pos : positions) {
        QTest::addRow("ascii-1000/ff-at-%d", pos) << 1000 << pos << hex("ff") << 0;
        QTest::addRow("ascii-1000/lone-80-at-%d", pos) << 1000 << pos << hex("80") << 0;
        if (pos + 1 < 1000) {
            QTest::addRow("ascii-1000/c2-then-ascii-at-%d", pos) << 1000 << pos << hex("c2") << 1;
            QTest::addRow("ascii-1000/overlong-c0-af-at-%d", pos)
                    << 1000 << pos << hex("c0 af") << 0;
        }
        if (pos + 2 < 1000) {
            QTest::addRow("ascii-1000/surrogate-ed-a0-80-at-%d", pos)
                    << 1000 << pos << hex("ed a0 80") << 1;
        }
        if (pos + 3 < 1000) {
            QTest::addRow("ascii-1000/above-max-f4-90-80-80-at-%d", pos)
                    << 1000 << pos << hex("f4 90 80 80") << 1;
            QTest::addRow("ascii-1000/4-byte-missing-last-at-%d", pos)
                    << 1000 << pos << hex("f0 9f 98") << 3;
        }
    }
    QTest::newRow("ascii-1mib/ff-in-middle") << (1 << 20) << (1 << 19) + 5 << hex("ff") << 0;
    QTest::newRow("ascii-1mib/ff-last-byte") << (1 << 20) << (1 << 20) - 1 << hex("ff") << 0;
}

void tst_WsUtf8::invalidInLongAscii()
{
    QFETCH(int, size);
    QFETCH(int, position);
    QFETCH(QByteArray, bad);
    QFETCH(int, failDelta);

    QByteArray text(size, 'a');
    QVERIFY(WsUtf8Validator::isValid(text));
    text.replace(position, bad.size(), bad);
    QCOMPARE(text.size(), qsizetype(size));
    QVERIFY(!WsUtf8Validator::isValid(text));

    const qsizetype failAt = position + failDelta;
    checkFeeds(text, {}, failAt);
    checkFeeds(text, chunksOf(size, 7), failAt);
    checkFeeds(text, chunksOf(size, 100), failAt);
    checkFeeds(text, { position }, failAt);
    if (position > 0)
        checkFeeds(text, { position - 1 }, failAt);
}

void tst_WsUtf8::multilingual_data()
{
    QTest::addColumn<int>("chunk");  // 0: whole

    QTest::newRow("whole") << 0;
    QTest::newRow("chunks-of-1") << 1;
    QTest::newRow("chunks-of-3") << 3;
    QTest::newRow("chunks-of-5") << 5;
    QTest::newRow("chunks-of-7") << 7;
    QTest::newRow("chunks-of-64") << 64;
    QTest::newRow("chunks-of-4093") << 4093;
}

void tst_WsUtf8::multilingual()
{
    QFETCH(int, chunk);
    const QByteArray text = multilingualText(300);
    QVERIFY(text.size() > 10000);
    QVERIFY(WsUtf8Validator::isValid(text));
    checkFeeds(text, chunk > 0 ? chunksOf(text.size(), chunk) : QList<qsizetype>(), -1);
}

void tst_WsUtf8::invalidAfterMultilingual_data()
{
    QTest::addColumn<QByteArray>("bad");
    QTest::addColumn<int>("failDelta");

    QTest::newRow("lone-continuation-80") << hex("80") << 0;
    QTest::newRow("never-used-ff") << hex("ff") << 0;
    QTest::newRow("overlong-e0-80-af") << hex("e0 80 af") << 1;
    QTest::newRow("surrogate-ed-a0-80") << hex("ed a0 80") << 1;
    QTest::newRow("above-max-f4-90-80-80") << hex("f4 90 80 80") << 1;
    QTest::newRow("lead-then-ascii-e4-bd-41") << hex("e4 bd 41") << 2;
    QTest::newRow("lead-then-lead-f0-9f-98-f0") << hex("f0 9f 98 f0") << 3;
}

void tst_WsUtf8::invalidAfterMultilingual()
{
    QFETCH(QByteArray, bad);
    QFETCH(int, failDelta);

    const QByteArray prefix = multilingualText(100);
    const QByteArray text = prefix + bad + multilingualText(2);
    const qsizetype failAt = prefix.size() + failDelta;
    QVERIFY(!WsUtf8Validator::isValid(text));
    checkFeeds(text, {}, failAt);
    checkFeeds(text, chunksOf(text.size(), 1), failAt);
    checkFeeds(text, chunksOf(text.size(), 7), failAt);
    checkFeeds(text, chunksOf(text.size(), 256), failAt);
}

void tst_WsUtf8::matchesReference_data()
{
    QTest::addColumn<int>("length");          // bytes enumerated
    QTest::addColumn<QByteArray>("prefix");   // valid text before them
    QTest::addColumn<QByteArray>("suffix");   // text after them
    QTest::addColumn<bool>("bytewise");       // also feed one byte per call

    const QByteArray ascii(70, 'a');
    const QByteArray multibyte = hex("c3 a9 e2 82 ac");
    for (int length = 1; length <= 4; ++length) {
        QTest::addRow("exhaustive/%d-byte/bare", length)
                << length << QByteArray() << QByteArray() << (length <= 3);
        QTest::addRow("exhaustive/%d-byte/ascii-suffix", length)
                << length << QByteArray() << QByteArray("wxyz") << false;
        QTest::addRow("exhaustive/%d-byte/inside-ascii", length)
                << length << ascii << QByteArray("wxyz") << false;
        QTest::addRow("exhaustive/%d-byte/after-multibyte", length)
                << length << multibyte << QByteArray("wxyz") << false;
    }
}

void tst_WsUtf8::matchesReference()
{
    QFETCH(int, length);
    QFETCH(QByteArray, prefix);
    QFETCH(QByteArray, suffix);
    QFETCH(bool, bytewise);

    // 1 and 2 bytes: all values; 3 bytes: all first two, a sample third; 4 bytes: leads F0..FF,
    // all second, sampled third and fourth
    static const uchar samples[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                     0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF };
    constexpr int sampleCount = int(sizeof samples);
    QList<int> firstValues;
    for (int b = length == 4 ? 0xF0 : 0; b < 0x100; ++b)
        firstValues.append(b);
    const int secondCount = length >= 2 ? 256 : 1;
    const int thirdCount = length >= 3 ? sampleCount : 1;
    const int fourthCount = length >= 4 ? sampleCount : 1;

    QByteArray text = prefix + QByteArray(length, '\0') + suffix;
    auto *bytes = reinterpret_cast<uchar *>(text.data());
    const qsizetype at = prefix.size();
    const qsizetype n = text.size();
    qsizetype checked = 0;
    qsizetype rejected = 0;

    for (int first : firstValues) {
        for (int second = 0; second < secondCount; ++second) {
            for (int third = 0; third < thirdCount; ++third) {
                for (int fourth = 0; fourth < fourthCount; ++fourth) {
                    bytes[at] = uchar(first);
                    if (length >= 2)
                        bytes[at + 1] = uchar(second);
                    if (length >= 3)
                        bytes[at + 2] = samples[third];
                    if (length >= 4)
                        bytes[at + 3] = samples[fourth];

                    const Reference expected = reference(bytes, n);
                    WsUtf8Validator validator;
                    const Result result = validator.feed(text.constData(), n);
                    ++checked;
                    if (expected.failOffset >= 0)
                        ++rejected;
                    if (result != referenceResult(expected)
                        || validator.invalidOffset() != expected.failOffset) {
                        QFAIL(qPrintable(QStringLiteral("%1: got %2 at %3, expected %4 at %5")
                                                 .arg(QString::fromLatin1(text.toHex(' ')))
                                                 .arg(int(result))
                                                 .arg(validator.invalidOffset())
                                                 .arg(int(referenceResult(expected)))
                                                 .arg(expected.failOffset)));
                    }
                    if (!bytewise)
                        continue;

                    WsUtf8Validator stepper;
                    for (qsizetype k = 0; k < n; ++k) {
                        const Result step = stepper.feed(text.constData() + k, 1);
                        Result want;
                        if (expected.failOffset >= 0 && k >= expected.failOffset)
                            want = Result::Invalid;
                        else
                            want = referenceResult(reference(bytes, k + 1));
                        if (step != want) {
                            QFAIL(qPrintable(QStringLiteral("%1: byte %2 gave %3, expected %4")
                                                     .arg(QString::fromLatin1(text.toHex(' ')))
                                                     .arg(k)
                                                     .arg(int(step))
                                                     .arg(int(want))));
                        }
                    }
                    if (expected.failOffset >= 0) {
                        // reported by the call that took the failing byte, at offset 0
                        QCOMPARE(stepper.invalidOffset(), qsizetype(0));
                    }
                }
            }
        }
    }
    const qsizetype expectedCount = qsizetype(firstValues.size()) * secondCount * thirdCount
            * fourthCount;
    QCOMPARE(checked, expectedCount);
    QVERIFY(rejected > 0);
    QVERIFY(rejected < checked);
}

void tst_WsUtf8::resetClearsState_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<Result>("before");

    QTest::newRow("after-invalid-byte-ff") << hex("41 ff") << Result::Invalid;
    QTest::newRow("after-invalid-mid-sequence-e2-41") << hex("e2 41") << Result::Invalid;
    QTest::newRow("after-surrogate-ed-a0") << hex("ed a0") << Result::Invalid;
    QTest::newRow("after-incomplete-e2-82") << hex("e2 82") << Result::Incomplete;
    QTest::newRow("after-incomplete-f4") << hex("f4") << Result::Incomplete;
    QTest::newRow("after-valid") << hex("41 c3 a9") << Result::Valid;
}

void tst_WsUtf8::resetClearsState()
{
    QFETCH(QByteArray, text);
    QFETCH(Result, before);

    WsUtf8Validator validator;
    QCOMPARE(validator.feed(text), before);
    QCOMPARE(validator.hasFailed(), before == Result::Invalid);
    QCOMPARE(validator.isComplete(), before == Result::Valid);
    if (before == Result::Invalid)
        QCOMPARE(validator.feed("abc"), Result::Invalid);

    validator.reset();
    QVERIFY(validator.isComplete());
    QVERIFY(!validator.hasFailed());
    QCOMPARE(validator.invalidOffset(), qsizetype(-1));
    // no leftover sequence: a continuation byte is rejected, a full character is accepted
    QCOMPARE(validator.feed(hex("80")), Result::Invalid);
    QCOMPARE(validator.invalidOffset(), qsizetype(0));
    validator.reset();
    QCOMPARE(validator.feed(hex("e2 82 ac 41")), Result::Valid);
    QCOMPARE(validator.invalidOffset(), qsizetype(-1));
}

void tst_WsUtf8::truncatedSize_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("maxBytes");
    QTest::addColumn<int>("expected");

    const QByteArray hello("hello world");
    QTest::newRow("ascii/cut-inside") << hello << 5 << 5;
    QTest::newRow("ascii/max-1") << hello << 1 << 1;
    QTest::newRow("ascii/max-zero") << hello << 0 << 0;
    QTest::newRow("ascii/max-negative") << hello << -3 << 0;
    QTest::newRow("ascii/max-equals-size") << hello << 11 << 11;
    QTest::newRow("ascii/max-above-size") << hello << 100 << 11;
    QTest::newRow("empty/max-zero") << QByteArray() << 0 << 0;
    QTest::newRow("empty/max-positive") << QByteArray() << 5 << 0;

    const QByteArray twoByte = "ab" + hex("c3 a9") + "c";  // 5 bytes
    QTest::newRow("2-byte/cut-after-lead") << twoByte << 3 << 2;
    QTest::newRow("2-byte/cut-before-lead") << twoByte << 2 << 2;
    QTest::newRow("2-byte/exact-fit") << twoByte << 4 << 4;

    const QByteArray threeByte = "a" + hex("e2 82 ac");  // 4 bytes
    QTest::newRow("3-byte/cut-after-lead") << threeByte << 2 << 1;
    QTest::newRow("3-byte/cut-after-second") << threeByte << 3 << 1;
    QTest::newRow("3-byte/exact-fit") << threeByte << 4 << 4;
    QTest::newRow("3-byte/max-above-size") << threeByte << 10 << 4;

    const QByteArray fourByte = "a" + hex("f0 9f 98 80") + "b";  // 6 bytes
    QTest::newRow("4-byte/cut-after-lead") << fourByte << 2 << 1;
    QTest::newRow("4-byte/cut-after-second") << fourByte << 3 << 1;
    QTest::newRow("4-byte/cut-after-third") << fourByte << 4 << 1;
    QTest::newRow("4-byte/exact-fit") << fourByte << 5 << 5;
    QTest::newRow("4-byte/at-start-cut") << hex("f0 9f 98 80") << 3 << 0;
    QTest::newRow("3-byte/only-multibyte-cut") << hex("e2 82 ac e2 82 ac e2 82 ac") << 7 << 6;

    QTest::newRow("close-reason/3-byte-straddles-123")
            << QByteArray(121, 'r') + hex("e2 82 ac") << 123 << 121;
    QTest::newRow("close-reason/3-byte-ends-at-123")
            << QByteArray(120, 'r') + hex("e2 82 ac") + "x" << 123 << 123;
    QTest::newRow("close-reason/4-byte-straddles-123")
            << QByteArray(122, 'r') + hex("f4 8f bf bf") << 123 << 122;
    QTest::newRow("close-reason/ascii-124") << QByteArray(124, 'r') << 123 << 123;
}

void tst_WsUtf8::truncatedSize()
{
    QFETCH(QByteArray, text);
    QFETCH(int, maxBytes);
    QFETCH(int, expected);

    QVERIFY(WsUtf8Validator::isValid(text));
    const qsizetype size = wsUtf8TruncatedSize(text.constData(), text.size(), maxBytes);
    QCOMPARE(size, qsizetype(expected));
    QVERIFY(WsUtf8Validator::isValid(text.left(size)));
}

QTEST_APPLESS_MAIN(tst_WsUtf8)

#include "tst_wsutf8.moc"
