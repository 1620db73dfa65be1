#include "wsutf8.h"

#include <QtCore/qalgorithms.h>

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

constexpr bool isContinuation(uchar byte) noexcept
{
    return (byte & 0xC0) == 0x80;
}

// True when byte lies in [low, high], with one comparison.
constexpr bool inRange(uchar byte, uchar low, uchar high) noexcept
{
    return uchar(byte - low) <= uchar(high - low);
}

// Returns the first byte at or after p that is not ASCII, or end.
inline const uchar *skipAscii(const uchar *p, const uchar *end) noexcept
{
    if (p != end && *p >= 0x80)
        return p;  // multilingual text: the next sequence follows at once
#if defined(__SSE2__)
    // Short ASCII runs between non-ASCII characters end within the first block.
    if (end - p >= 16) {
        const auto mask = quint32(_mm_movemask_epi8(
                _mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
        if (mask != 0)
            return p + qCountTrailingZeroBits(mask);
        p += 16;
    }
    while (end - p >= 64) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 32));
        const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 48));
        const __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if (_mm_movemask_epi8(any) != 0)
            break;
        p += 64;
    }
    while (end - p >= 16) {
        const auto mask = quint32(_mm_movemask_epi8(
                _mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
        if (mask != 0)
            return p + qCountTrailingZeroBits(mask);
        p += 16;
    }
#endif
    while (end - p >= 8) {
        quint64 word;
        std::memcpy(&word, p, sizeof word);
        word &= Q_UINT64_C(0x8080808080808080);
        if (word != 0) {
#if Q_BYTE_ORDER == Q_LITTLE_ENDIAN
            return p + qCountTrailingZeroBits(word) / 8;
#else
            return p + qCountLeadingZeroBits(word) / 8;
#endif
        }
        p += 8;
    }
    while (p != end && *p < 0x80)
        ++p;
    return p;
}

} // namespace

// RFC 3629 §4 (UTF8-2, UTF8-3, UTF8-4 productions), one byte at a time. Used to resume a
// sequence split between calls and for the last few bytes of a call.
WsUtf8Validator::State WsUtf8Validator::next(State state, uchar byte) noexcept
{
    switch (state) {
    case Boundary:
        if (byte < 0x80)
            return Boundary;
        if (byte < 0xC2)  // continuation byte, or C0/C1 (only overlong 2-byte forms)
            return Failed;
        if (byte < 0xE0)
            return Need1;
        if (byte == 0xE0)
            return AfterE0;
        if (byte == 0xED)
            return AfterED;
        if (byte < 0xF0)
            return Need2;
        if (byte == 0xF0)
            return AfterF0;
        if (byte < 0xF4)
            return Need3;
        if (byte == 0xF4)
            return AfterF4;
        return Failed;  // F5..FF: beyond U+10FFFF or not UTF-8 at all
    case Need1:
        return isContinuation(byte) ? Boundary : Failed;
    case Need2:
        return isContinuation(byte) ? Need1 : Failed;
    case Need3:
        return isContinuation(byte) ? Need2 : Failed;
    case AfterE0:
        return inRange(byte, 0xA0, 0xBF) ? Need1 : Failed;
    case AfterED:
        return inRange(byte, 0x80, 0x9F) ? Need1 : Failed;  // RFC 3629 §3: no surrogates
    case AfterF0:
        return inRange(byte, 0x90, 0xBF) ? Need2 : Failed;
    case AfterF4:
        return inRange(byte, 0x80, 0x8F) ? Need2 : Failed;
    case Failed:
        break;
    }
    return Failed;
}

WsUtf8Validator::Result WsUtf8Validator::feed(const char *data, qsizetype size) noexcept
{
    if (m_state == Failed)
        return Result::Invalid;
    if (size <= 0)
        return m_state == Boundary ? Result::Valid : Result::Incomplete;

    const auto *const begin = reinterpret_cast<const uchar *>(data);
    const uchar *const end = begin + size;
    const uchar *p = begin;
    auto state = State(m_state);

    const auto fail = [&](const uchar *at) noexcept {
        m_state = Failed;
        m_invalidOffset = at - begin;
        return Result::Invalid;
    };

    while (state != Boundary && p != end) {
        state = next(state, *p);
        if (state == Failed)
            return fail(p);
        ++p;
    }

    // At a boundary with at least 4 bytes left, a whole sequence can be checked without bounds
    // tests; each byte is rejected as soon as no valid sequence can contain it.
    while (state == Boundary) {
        p = skipAscii(p, end);
        if (end - p < 4)
            break;
        const uchar lead = p[0];
        if (lead < 0xE0) {
            // RFC 3629 §4: a sequence cannot start with 80..BF; C0 and C1 only start overlongs
            if (lead < 0xC2)
                return fail(p);
            if (!isContinuation(p[1]))
                return fail(p + 1);
            p += 2;
        } else if (lead < 0xF0) {
            // RFC 3629 §4: E0 A0..BF (no overlongs), ED 80..9F (no surrogates, §3)
            const uchar low = lead == 0xE0 ? 0xA0 : 0x80;
            const uchar high = lead == 0xED ? 0x9F : 0xBF;
            if (!inRange(p[1], low, high))
                return fail(p + 1);
            if (!isContinuation(p[2]))
                return fail(p + 2);
            p += 3;
        } else if (lead < 0xF5) {
            // RFC 3629 §4: F0 90..BF (no overlongs), F4 80..8F (nothing above U+10FFFF)
            const uchar low = lead == 0xF0 ? 0x90 : 0x80;
            const uchar high = lead == 0xF4 ? 0x8F : 0xBF;
            if (!inRange(p[1], low, high))
                return fail(p + 1);
            if (!isContinuation(p[2]))
                return fail(p + 2);
            if (!isContinuation(p[3]))
                return fail(p + 3);
            p += 4;
        } else {
            return fail(p);  // RFC 3629 §1: F5..FF never appear
        }
    }

    while (p != end) {
        state = next(state, *p);
        if (state == Failed)
            return fail(p);
        ++p;
    }

    m_state = state;
    return state == Boundary ? Result::Valid : Result::Incomplete;
}

bool WsUtf8Validator::isValid(const char *data, qsizetype size) noexcept
{
    WsUtf8Validator validator;
    return validator.feed(data, size) == Result::Valid;
}

qsizetype wsUtf8TruncatedSize(const char *data, qsizetype size, qsizetype maxBytes) noexcept
{
    if (maxBytes >= size)
        return qMax<qsizetype>(size, 0);
    if (maxBytes <= 0)
        return 0;
    // RFC 3629 §3: a continuation byte never starts a character, so cutting before one
    // would split a code point; back up to its lead byte.
    qsizetype cut = maxBytes;
    while (cut > 0 && isContinuation(uchar(data[cut])))
        --cut;
    return cut;
}
