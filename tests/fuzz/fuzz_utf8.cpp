// fuzz_utf8: WsUtf8Validator fed incrementally, against its one-shot form and against an
// independent reference (RefUtf8 in fuzz_common.h).
//
// Input: [flags] [4 chunk sizes] [text...]
//   flags bit 0: an empty feed() between the chunks
//
// Invariants: the incremental result equals isValid() of the whole; each feed() reports
// Valid/Incomplete exactly as the reference is at a boundary or inside a sequence; the first
// Invalid is reported at the reference's first invalid byte (chunk offset + invalidOffset());
// after that every feed() says Invalid and invalidOffset() stays; wsUtf8TruncatedSize() cuts
// valid text at the longest whole-code-point prefix that fits.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in(data, size);
    const uint8_t flags = in.byte();
    Chunker chunker(in);
    const QByteArrayView text = in.rest();
    const qsizetype n = text.size();

    // The reference: where the text stops being valid, and whether each prefix ends on a
    // code point boundary.
    std::vector<bool> boundary(size_t(n) + 1, false);
    boundary[0] = true;
    RefUtf8 ref;
    qsizetype firstInvalid = n;
    for (qsizetype i = 0; i < n; ++i) {
        if (!ref.feed(uchar(text[i]))) {
            firstInvalid = i;
            break;
        }
        boundary[size_t(i) + 1] = ref.complete();
    }
    const bool refValid = firstInvalid == n && boundary[size_t(n)];

    const bool oneShot = WsUtf8Validator::isValid(text);
    FUZZ_CHECK(oneShot == refValid);

    WsUtf8Validator v;
    FUZZ_CHECK(v.isComplete() && !v.hasFailed() && v.invalidOffset() == -1);
    WsUtf8Validator::Result last = WsUtf8Validator::Result::Valid;
    qsizetype pos = 0;
    qsizetype failedAt = -1;  // offset of the invalid byte in the whole text
    qsizetype failedOffset = -1;
    while (pos < n) {
        const qsizetype len = chunker.next(n - pos);
        const WsUtf8Validator::Result r = v.feed(text.data() + pos, len);
        if (failedAt >= 0) {
            // Once Invalid, always Invalid, and the reported offset stays.
            FUZZ_CHECK(r == WsUtf8Validator::Result::Invalid);
            FUZZ_CHECK(v.invalidOffset() == failedOffset);
        } else if (r == WsUtf8Validator::Result::Invalid) {
            FUZZ_CHECK(v.hasFailed() && !v.isComplete());
            FUZZ_CHECK(v.invalidOffset() >= 0 && v.invalidOffset() < len);
            failedOffset = v.invalidOffset();
            failedAt = pos + failedOffset;
            FUZZ_CHECK(failedAt == firstInvalid);  // fails fast, at the right byte
        } else {
            FUZZ_CHECK(firstInvalid >= pos + len);  // no invalid byte was let through
            const bool atBoundary = boundary[size_t(pos + len)];
            FUZZ_CHECK(r == (atBoundary ? WsUtf8Validator::Result::Valid : WsUtf8Validator::Result::Incomplete));
            FUZZ_CHECK(v.isComplete() == atBoundary);
            FUZZ_CHECK(!v.hasFailed() && v.invalidOffset() == -1);
        }
        pos += len;
        last = r;
        if (flags & 1) {
            // An empty piece changes nothing.
            const WsUtf8Validator::Result e = v.feed(text.data() + pos, 0);
            FUZZ_CHECK(e == r);
            FUZZ_CHECK(v.invalidOffset() == failedOffset);
        }
    }
    FUZZ_CHECK((last == WsUtf8Validator::Result::Valid) == oneShot);
    FUZZ_CHECK((failedAt >= 0) == (firstInvalid < n));

    // reset() gives a fresh validator; one feed of everything reports the same offset.
    v.reset();
    FUZZ_CHECK(v.isComplete() && !v.hasFailed() && v.invalidOffset() == -1);
    const WsUtf8Validator::Result whole = v.feed(text);
    FUZZ_CHECK((whole == WsUtf8Validator::Result::Valid) == oneShot);
    if (firstInvalid < n)
        FUZZ_CHECK(whole == WsUtf8Validator::Result::Invalid && v.invalidOffset() == firstInvalid);

    // Truncation of valid text (close reasons, RFC 6455 §5.5.1).
    if (oneShot) {
        const qsizetype limits[] = {0, 1, 2, 3, 123, n / 2, n - 1, n, n + 1, qsizetype(flags)};
        for (qsizetype max : limits) {
            const qsizetype cut = wsUtf8TruncatedSize(text.data(), n, max);
            FUZZ_CHECK(cut >= 0 && cut <= n && cut <= std::max<qsizetype>(max, 0));
            FUZZ_CHECK(boundary[size_t(cut)]);
            if (max >= n)
                FUZZ_CHECK(cut == n);
            else if (max > 0) {
                // The longest: the code point after the cut does not fit.
                qsizetype next = cut + 1;
                while (next < n && !boundary[size_t(next)])
                    ++next;
                FUZZ_CHECK(next > max);
            }
        }
    }
    return 0;
}
