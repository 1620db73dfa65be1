#pragma once

#include <QtCore/qglobal.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringconverter.h>

// Incremental UTF-8 validator (RFC 3629) for WebSocket text messages (RFC 6455 §5.6, §8.1).
// Keeps its state across calls so that text split anywhere between frames/chunks is accepted,
// and fails fast: feed() reports Invalid at the first byte that can no longer start or continue
// a valid sequence (e.g. F4 90, ED A0, E0 80, C0, C1, F5..FF, an unexpected continuation byte),
// without waiting for the sequence or message to end.
class WsUtf8Validator
{
public:
    enum class Result { Valid, Incomplete, Invalid };
    // Valid: all bytes so far are valid and end on a code point boundary.
    // Incomplete: valid so far but inside a multi-byte sequence.
    // Invalid: a byte is invalid; invalidOffset() gives its index within this call's data.
    //          Once Invalid, further feed() calls return Invalid until reset().
    //          invalidOffset() keeps the index reported by the call that failed.
    Result feed(const char *data, qsizetype size) noexcept;
    Result feed(QByteArrayView data) noexcept { return feed(data.data(), data.size()); }
    bool isComplete() const noexcept { return m_state == Boundary; }
    bool hasFailed() const noexcept { return m_state == Failed; }
    qsizetype invalidOffset() const noexcept { return m_invalidOffset; }  // -1 if none
    void reset() noexcept
    {
        m_state = Boundary;
        m_invalidOffset = -1;
    }
    static bool isValid(const char *data, qsizetype size) noexcept;  // one-shot, whole text
    static bool isValid(QByteArrayView data) noexcept { return isValid(data.data(), data.size()); }

private:
    // Where the validator stands inside a sequence: what the next byte must be.
    enum State : quint8 {
        Boundary,     // any ASCII byte or a lead byte
        Need1,        // 80..BF, then Boundary
        Need2,        // 80..BF, then Need1
        Need3,        // 80..BF, then Need2
        AfterE0,      // A0..BF, then Need1 (no overlong 3-byte form)
        AfterED,      // 80..9F, then Need1 (no surrogates)
        AfterF0,      // 90..BF, then Need2 (no overlong 4-byte form)
        AfterF4,      // 80..8F, then Need2 (nothing above U+10FFFF)
        Failed
    };

    static State next(State state, uchar byte) noexcept;

    quint8 m_state = Boundary;
    qsizetype m_invalidOffset = -1;
};

// Length of the longest prefix of (valid UTF-8) data that is at most maxBytes long and does not
// cut a code point: used to truncate close reasons to 123 bytes (RFC 6455 §5.5.1).
qsizetype wsUtf8TruncatedSize(const char *data, qsizetype size, qsizetype maxBytes) noexcept;

// Decodes validated UTF-8. QString::fromUtf8() drops a leading U+FEFF as a byte order mark;
// in a WebSocket text message (or close reason) it is content and must survive the round trip.
inline QString wsDecodeUtf8(QByteArrayView utf8)
{
    if (utf8.size() >= 3 && uchar(utf8[0]) == 0xEF && uchar(utf8[1]) == 0xBB && uchar(utf8[2]) == 0xBF) {
        QStringDecoder decoder(QStringDecoder::Utf8, QStringConverter::Flag::ConvertInitialBom);
        return decoder.decode(utf8);
    }
    return QString::fromUtf8(utf8);
}
