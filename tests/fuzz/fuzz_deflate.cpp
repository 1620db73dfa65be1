// fuzz_deflate: the permessage-deflate decode path of a server with a 64 KiB message limit.
// The input is the compressed payload of one or two messages, sent as masked RSV1 frames of
// a client, fed to the server in chunks; a reference inflater (zlib, one shot, the same
// window and takeover rules) says what the server must make of it.
//
// Input: [flags] [4 chunk sizes] [frame size] [split] [compressed payload...]
//   flags bit 0: streamMessages
//         bit 1: Text messages, else Binary
//         bit 2: client_no_context_takeover (the server resets its inflater per message)
//         bits 3-5: client_max_window_bits: 0 -> not limited (15), n -> 7 + n (8..14)
//         bit 6: two messages, the payload split at split/256 of its length
//         bit 7: fragmented: frames of (frame size + 1) payload bytes
//
// Invariants: no event carries more than the limit (streamed fragments together neither);
// each message is delivered exactly as the reference inflates it, or the connection fails
// with MessageTooLarge when it inflates past the limit, ExtensionError when it is not valid
// deflate data, InvalidUtf8 (text) when the text is not UTF-8; nothing else.
#include "fuzz_common.h"

#include <zlib.h>

#include <cstring>

namespace {

constexpr qint64 kLimit = 64 * 1024;
// What a compressed message may take on the wire (see WsConnection::configureReader()).
constexpr qint64 kWireLimit = kLimit + kLimit / 8 + 1024;

enum class Expect { Deliver, TooLarge, DataError };

// The peer's compressor as the server must undo it, independently of wsdeflate.cpp: inflate
// the message with the RFC 7692 §7.2.2 tail appended (unless a final block ended the stream),
// keeping the window between messages unless no_context_takeover.
//
// A stream may refer further back than the negotiated window (which it must not do);
// whether zlib notices depends on its output buffer: references into the output of the
// same inflate() call are resolved whatever the window. So there are two references: a
// lenient one with a 32 KiB window, which resolves every distance deflate can encode,
// whatever the buffering; and, when the window is smaller, a strict one that inflates one
// output byte per call, so that only the window counts. The server lies in between: where
// the two disagree, the stream was invalid and the server may deliver or fail.
class ReferenceInflater
{
public:
    ReferenceInflater(int windowBits, bool noTakeover, bool strict)
        : m_noTakeover(noTakeover), m_strict(strict)
    {
        std::memset(&m_z, 0, sizeof m_z);
        FUZZ_CHECK(inflateInit2(&m_z, -std::max(9, windowBits)) == Z_OK);
    }
    ~ReferenceInflater() { inflateEnd(&m_z); }

    Expect inflateMessage(QByteArrayView payload, QByteArray *out)
    {
        out->clear();
        bool ended = false;
        Expect e = run(payload, out, &ended);
        if (e == Expect::Deliver && !ended) {
            static const char tail[4] = {0x00, 0x00, char(0xff), char(0xff)};
            e = run(QByteArrayView(tail, 4), out, &ended);
        }
        if (m_noTakeover || ended)
            inflateReset(&m_z);
        return e;
    }

private:
    Expect run(QByteArrayView in, QByteArray *out, bool *ended)
    {
        if (*ended)
            return Expect::Deliver;
        m_z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
        m_z.avail_in = uInt(in.size());
        for (;;) {
            // Room for one byte past the limit at most: that byte decides TooLarge.
            const qsizetype old = out->size();
            const qsizetype room = std::min<qsizetype>(m_strict ? 1 : std::max<qsizetype>(4096, old),
                                                       kLimit + 1 - old);
            if (room <= 0)
                return Expect::TooLarge;
            out->resize(old + room);
            m_z.next_out = reinterpret_cast<Bytef *>(out->data() + old);
            m_z.avail_out = uInt(room);
            const int rc = inflate(&m_z, Z_SYNC_FLUSH);
            out->resize(old + room - qsizetype(m_z.avail_out));
            if (out->size() > kLimit)
                return Expect::TooLarge;
            if (rc == Z_STREAM_END) {
                *ended = true;
                return Expect::Deliver;
            }
            if (rc == Z_BUF_ERROR || (rc == Z_OK && m_z.avail_in == 0 && m_z.avail_out > 0))
                return Expect::Deliver;
            if (rc != Z_OK)
                return Expect::DataError;
        }
    }

    z_stream m_z;
    bool m_noTakeover;
    bool m_strict;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in(data, size);
    const uint8_t flags = in.byte();
    Chunker chunker(in);
    const qsizetype frameSize = qsizetype(in.byte()) + 1;
    const uint8_t split = in.byte();
    const QByteArrayView payload = in.rest();

    const bool streaming = flags & 0x01;
    const bool text = flags & 0x02;
    const bool noTakeover = flags & 0x04;
    const int windowCode = (flags >> 3) & 7;
    const int windowBits = windowCode ? 7 + windowCode : 15;
    const bool twoMessages = flags & 0x40;
    const bool fragmented = flags & 0x80;

    WsDeflateOptions clientDeflate;
    clientDeflate.noContextTakeover = noTakeover;
    clientDeflate.maxWindowBits = windowBits;
    WsConnectionOptions clientOptions = withDeflate(WsConnectionOptions(), clientDeflate);
    WsConnectionOptions serverOptions = withDeflate(WsConnectionOptions(), WsDeflateOptions());
    serverOptions.limits.maxMessageSize = kLimit;
    serverOptions.streamMessages = streaming;

    OpenPair pair(clientOptions, serverOptions);
    WsConnection &server = pair.server;
    FUZZ_CHECK(server.extensions().size() == 1);

    // The client's frames, masked as a client masks them.
    std::vector<QByteArrayView> messages;
    if (twoMessages) {
        const qsizetype at = payload.size() * split / 256;
        messages = {payload.first(at), payload.sliced(at)};
    } else {
        messages = {payload};
    }
    const WsOpcode opcode = text ? WsOpcode::Text : WsOpcode::Binary;
    QByteArray wire;
    quint32 mask = 0x37fa213d;
    for (QByteArrayView m : messages) {
        qsizetype pos = 0;
        bool first = true;
        do {
            const qsizetype n = fragmented ? std::min(frameSize, m.size() - pos) : m.size();
            const bool fin = pos + n == m.size();
            wsAppendFrame(wire, fin, first ? WsRsv::Rsv1 : 0,
                          quint8(first ? opcode : WsOpcode::Continuation), m.sliced(pos, n), true, mask);
            mask = mask * 1664525u + 1013904223u;
            pos += n;
            first = false;
        } while (pos < m.size());
    }

    EventChecker events(server, kLimit, streaming);
    events.assumeOpen();
    FrameStreamChecker serverFrames(WsRole::Server, WsRsv::Rsv1);
    qsizetype pos = 0;
    while (pos < wire.size()) {
        const qsizetype n = chunker.next(wire.size() - pos);
        server.receiveData(QByteArrayView(wire).sliced(pos, n));
        pos += n;
        const std::vector<WsEvent> batch = server.takeEvents();
        for (const WsEvent &e : batch)
            FUZZ_CHECK(e.data.size() <= kLimit);  // the server never holds more than the limit
        events.check(batch);
        serverFrames.feed(server.takeOutgoing());
    }
    events.check(server.takeEvents());

    // What the references make of each message, in order, up to the first failure.
    ReferenceInflater lenient(15, noTakeover, false);
    std::unique_ptr<ReferenceInflater> strict;
    if (windowBits < 15)
        strict = std::make_unique<ReferenceInflater>(windowBits, noTakeover, true);
    bool exact = true;  // the references agreed on every message so far
    size_t delivered = 0;
    bool failed = false;
    for (QByteArrayView m : messages) {
        const bool wireTooLarge = m.size() > kWireLimit;
        QByteArray expected, strictExpected;
        Expect e = Expect::TooLarge;
        if (!wireTooLarge) {
            e = lenient.inflateMessage(m, &expected);
            if (strict && exact) {
                const Expect se = strict->inflateMessage(m, &strictExpected);
                exact = se == e && strictExpected == expected;
                if (!exact && fuzzVerbose())
                    std::fprintf(stderr, "references disagree: lenient %d, strict %d\n", int(e), int(se));
            }
        }
        const bool deliverable = e == Expect::Deliver && (!text || refUtf8Valid(expected));
        if (delivered < events.messages.size()) {
            // The server delivered it: as the lenient reference inflates it.
            FUZZ_CHECK(deliverable || !exact);
            FUZZ_CHECK(e == Expect::Deliver && events.messages[delivered] == expected);
            ++delivered;
            continue;
        }
        if (deliverable && exact) {
            if (fuzzVerbose())
                std::fprintf(stderr, "message %zu not delivered\n", delivered);
            FUZZ_CHECK(false);
        }
        // Failed, for the reason the reference gives (text may fail on its UTF-8 first; a
        // stream referring past the window may fail as invalid).
        FUZZ_CHECK(events.errors.size() == 1);
        const WsError got = events.errors[0];
        bool ok = false;
        if (e == Expect::Deliver)
            ok = got == WsError::InvalidUtf8;
        else if (e == Expect::TooLarge)
            ok = got == WsError::MessageTooLarge || (text && got == WsError::InvalidUtf8)
                    || (wireTooLarge && fragmented && got == WsError::ExtensionError);
        else
            ok = got == WsError::ExtensionError || (text && got == WsError::InvalidUtf8);
        if (!exact)
            ok = ok || got == WsError::ExtensionError;
        if (!ok)
            std::fprintf(stderr, "reference %d, server %s\n", int(e), wsErrorName(got));
        FUZZ_CHECK(ok);
        FUZZ_CHECK(server.state() == WsState::Failed);
        FUZZ_CHECK(serverFrames.closeSent());
        FUZZ_CHECK(serverFrames.closeCode() == wsCloseCodeFor(got));
        failed = true;
        break;
    }
    FUZZ_CHECK(delivered == events.messages.size());
    if (!failed) {
        FUZZ_CHECK(events.errors.empty());
        FUZZ_CHECK(server.state() == WsState::Open);
    }
    return 0;
}
