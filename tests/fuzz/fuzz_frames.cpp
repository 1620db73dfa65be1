// fuzz_frames: the bytes a client sends after the opening handshake, fed to an open server
// WsConnection in chunks.
//
// Input: [flags] [4 chunk sizes] [bytes from the client...]
//   flags bit 0: permessage-deflate negotiated
//         bit 1: streamMessages
//         bit 2: the server is sending a fragmented text message meanwhile ("Hel" ... "lo")
//         bit 3: the server starts the close handshake after the first chunk
//         bit 4: small limits (1000-byte messages, 8 fragments, 16-byte outgoing frames)
//         bit 5: no context takeover, both directions
//         bit 6: the client's compressor uses a 512-byte window (client_max_window_bits=9)
//         bit 7: the server sends a (compressible) text message after each of the first 4 chunks
//
// Invariants: at most one Closed event and nothing after it; terminal states are announced
// and make the server close the transport; a server that ended the connection sent a Close
// frame and nothing after it; everything the server sends parses as valid unmasked frames
// and is accepted by a real client connection without error; delivered messages respect the
// limit and text is valid UTF-8 (streamed text in whole code points).
//
// When the server does not close first, the outcome is also checked against RefFrameJudge
// below, a reading of RFC 6455 and RFC 7692 §6 written apart from WsConnection: the same
// messages delivered, and the same ending (still open, the client's close answered, or the
// connection failed with the same close code), however the bytes were chunked. The judge
// does not inflate: after a compressed message, the server may also have failed earlier with
// 1007 or 1009 because of its content (fuzz_deflate checks that against zlib).
#include "fuzz_common.h"

#include <cstring>

namespace {

// Reads the whole client byte stream at once and says what a server must have done with it:
// RFC 6455 §5.2 (header, mask, length), §5.4 (fragmentation), §5.5 (control frames), §5.6 and
// §8.1 (UTF-8, failing as soon as a byte cannot continue valid text), §5.5.1 and §7.4 (close
// payload and codes), and the limits (a message over maxMessage bytes, or over maxFragments
// frames, fails with 1009 as soon as the frame header says so). Headers are judged once
// complete; only a 64-bit length with its top bit set fails as soon as that byte is here.
// With permessage-deflate, RSV1 may be set on the first frame of a data message only (RFC 7692
// §6); the content and size of such a message are not judged.
class RefFrameJudge
{
public:
    enum Outcome { Open, ClientClosed, Failed };
    Outcome outcome = Open;
    quint16 failCode = 0;                 // when Failed
    std::vector<QByteArray> messages;     // complete messages before the outcome (a compressed
                                          // one as its wire bytes: see compressedSeen)
    bool compressedSeen = false;          // a compressed message started before the outcome
    size_t plainMessages = 0;             // how many messages came before the first compressed one

    RefFrameJudge(QByteArrayView in, qint64 maxMessage, int maxFragments, bool deflate)
    {
        judge(in, maxMessage, maxFragments, deflate);
        if (!compressedSeen)
            plainMessages = messages.size();
    }

private:
    void judge(QByteArrayView in, qint64 maxMessage, int maxFragments, bool deflate)
    {
        const auto *p = reinterpret_cast<const uchar *>(in.data());
        const qsizetype n = in.size();
        qsizetype pos = 0;
        bool inMessage = false, text = false, compressed = false;
        int fragments = 0;
        QByteArray message;
        RefUtf8 utf8;
        while (pos < n) {
            // Header.
            if (n - pos < 2)
                return;
            const uchar b0 = p[pos], b1 = p[pos + 1];
            const int len7 = b1 & 0x7F;
            const int extra = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            if (extra == 8 && n - pos >= 3 && (p[pos + 2] & 0x80))
                return fail(1002);
            const bool masked = b1 & 0x80;
            const qsizetype headerSize = 2 + extra + (masked ? 4 : 0);
            if (n - pos < headerSize)
                return;
            quint64 length = quint64(len7);
            if (extra) {
                length = 0;
                for (int i = 0; i < extra; ++i)
                    length = (length << 8) | p[pos + 2 + i];
            }
            const bool fin = b0 & 0x80;
            const int opcode = b0 & 0x0F;
            const bool control = opcode >= 8;
            const bool known = opcode <= 2 || (opcode >= 8 && opcode <= 10);
            const bool rsv1 = b0 & 0x40;
            // RSV1 only on the first frame of a data message, and only with permessage-deflate.
            const bool rsvOk = !(b0 & 0x30) && (!rsv1 || (deflate && (opcode == 1 || opcode == 2)));
            if (!masked || !rsvOk || !known || (control && (length > 125 || !fin)))
                return fail(1002);
            if (!control) {
                if (opcode == 0 && !inMessage)
                    return fail(1002);
                if (opcode != 0 && inMessage)
                    return fail(1002);
                if (opcode != 0) {
                    inMessage = true;
                    text = opcode == 1;
                    compressed = rsv1;
                    if (compressed && !compressedSeen) {
                        compressedSeen = true;
                        plainMessages = messages.size();
                    }
                    fragments = 0;
                    message.clear();
                    utf8 = RefUtf8();
                }
                if (++fragments > maxFragments)
                    return fail(1009);
                if (!compressed && quint64(message.size()) + length > quint64(maxMessage))
                    return fail(1009);
            }
            uchar mask[4];
            std::memcpy(mask, p + pos + 2 + extra, 4);
            pos += headerSize;
            // Payload: what of it is here.
            const qsizetype here = qsizetype(std::min<quint64>(length, quint64(n - pos)));
            QByteArray payload(here, Qt::Uninitialized);
            for (qsizetype i = 0; i < here; ++i)
                payload[i] = char(p[pos + i] ^ mask[i & 3]);
            pos += here;
            if (!control) {
                if (text && !compressed) {
                    for (char c : payload)
                        if (!utf8.feed(uchar(c)))
                            return fail(1007);
                }
                message += payload;
                if (quint64(here) < length)
                    return;  // the frame is not over
                if (fin) {
                    if (text && !compressed && !utf8.complete())
                        return fail(1007);
                    messages.push_back(message);
                    inMessage = false;
                }
                continue;
            }
            if (quint64(here) < length)
                return;  // control frames are acted on once whole
            if (opcode == 8) {
                if (payload.size() == 1)
                    return fail(1002);
                if (payload.size() >= 2) {
                    const int code = (uchar(payload[0]) << 8) | uchar(payload[1]);
                    // §7.4.1, §7.4.2 and the IANA registry: 1000-1003, 1007-1014, 3000-4999.
                    const bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                            || (code >= 3000 && code <= 4999);
                    if (!valid)
                        return fail(1002);
                    if (!refUtf8Valid(QByteArrayView(payload).sliced(2)))
                        return fail(1007);
                }
                outcome = ClientClosed;
                return;  // anything after the close frame is not read
            }
        }
    }

    void fail(quint16 code)
    {
        outcome = Failed;
        failCode = code;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in(data, size);
    const uint8_t flags = in.byte();
    Chunker chunker(in);
    const bool deflate = flags & 0x01;
    const bool streaming = flags & 0x02;
    const bool serverFragmented = flags & 0x04;
    const bool serverCloses = flags & 0x08;
    const bool smallLimits = flags & 0x10;
    const bool noTakeover = flags & 0x20;
    const bool smallWindow = flags & 0x40;
    const bool serverSends = flags & 0x80;

    WsConnectionOptions serverOptions;
    serverOptions.streamMessages = streaming;
    if (smallLimits) {
        serverOptions.limits.maxMessageSize = 1000;
        serverOptions.limits.maxFragments = 8;
        serverOptions.outgoingFrameSize = 16;
    }
    WsConnectionOptions clientOptions;
    if (deflate) {
        WsDeflateOptions s;
        s.noContextTakeover = noTakeover;
        serverOptions = withDeflate(serverOptions, s);
        WsDeflateOptions c;
        c.noContextTakeover = noTakeover;
        if (smallWindow)
            c.maxWindowBits = 9;
        clientOptions = withDeflate(clientOptions, c);
    }

    OpenPair pair(clientOptions, serverOptions);
    WsConnection &server = pair.server;
    WsConnection &client = pair.client;
    FUZZ_CHECK(server.extensions().size() == (deflate ? 1 : 0));

    EventChecker events(server, serverOptions.limits.maxMessageSize, streaming);
    events.assumeOpen();
    EventChecker clientEvents(client, clientOptions.limits.maxMessageSize, false);
    clientEvents.assumeOpen();
    FrameStreamChecker serverFrames(WsRole::Server, deflate ? WsRsv::Rsv1 : 0);
    FrameStreamChecker clientFrames(WsRole::Client, deflate ? WsRsv::Rsv1 : 0);

    bool closedBefore = false;
    bool appClosed = false;  // close() answered the peer's close with a code of its own
    // Moves what the server produced to the checkers and on to the client.
    auto collect = [&](bool transportGone = false) {
        events.check(server.takeEvents());
        const QByteArray out = server.takeOutgoing();
        if (closedBefore)
            FUZZ_CHECK(out.isEmpty());  // an ended connection sends nothing more
        serverFrames.feed(out);
        if (client.state() == WsState::Open || client.state() == WsState::LocalClosing) {
            client.receiveData(out);
            clientEvents.check(client.takeEvents());
            FUZZ_CHECK(clientEvents.errors.empty());  // the server never violates the protocol
            clientFrames.feed(client.takeOutgoing());
        }
        if (isTerminal(server.state()) && !transportGone) {
            // RFC 6455 §7.1.7 / §5.5.1: the server ended the connection with a Close frame.
            FUZZ_CHECK(serverFrames.closeSent());
            const WsCloseStatus &cs = server.closeStatus();
            if (cs.initiator == WsCloseInitiator::Remote && cs.wasClean && !appClosed)
                FUZZ_CHECK(serverFrames.closeCode() == cs.code);  // the code was echoed
        }
        closedBefore = events.closedEvents() > 0;
    };

    if (serverFragmented) {
        FUZZ_CHECK(server.sendFrame(WsOpcode::Text, "Hel", false) == WsError::NoError);
        collect();
    }

    const QByteArray message = QByteArray("The quick brown fox jumps over the lazy dog. ").repeated(3);
    const QByteArrayView input = in.rest();
    qsizetype pos = 0;
    bool first = true;
    int chunks = 0;
    while (pos < input.size()) {
        const qsizetype n = chunker.next(input.size() - pos);
        server.receiveData(input.sliced(pos, n));
        pos += n;
        collect();
        if (first && serverCloses) {
            const WsState before = server.state();
            const WsError e = server.close(WsCloseCode::GoingAway, QStringLiteral("bye"));
            if (before == WsState::Open) {
                FUZZ_CHECK(e == WsError::NoError);
                FUZZ_CHECK(server.state() == WsState::LocalClosing);
            } else if (before == WsState::RemoteClosing) {
                // Answers the peer's close, abandoning the message being sent (§5.5.1).
                FUZZ_CHECK(e == WsError::NoError);
                FUZZ_CHECK(server.state() == WsState::Closed);
                appClosed = true;
            } else {
                FUZZ_CHECK(e != WsError::NoError);
                FUZZ_CHECK(server.state() == before);
            }
            collect();
        }
        // (A few: each compressed message costs the client a 64 KiB inflate buffer.)
        if (serverSends && ++chunks <= 4) {
            const WsState before = server.state();
            const WsError e = server.sendText(QByteArrayView(message));
            if (before == WsState::Open)
                FUZZ_CHECK(e == (serverFragmented ? WsError::MessageInProgress : WsError::NoError));
            else
                FUZZ_CHECK(e == WsError::NotOpen);
            FUZZ_CHECK(server.state() == before);
            collect();
        }
        first = false;
    }

    if (serverFragmented) {
        const WsState before = server.state();
        const WsError e = server.sendFrame(WsOpcode::Continuation, "lo", true);
        if (before == WsState::Open || before == WsState::RemoteClosing) {
            FUZZ_CHECK(e == WsError::NoError);
            // The close reply that waited for the message goes out now (RFC 6455 §5.5.1).
            if (before == WsState::RemoteClosing)
                FUZZ_CHECK(server.state() == WsState::Closed);
        } else {
            FUZZ_CHECK(e == WsError::NotOpen);
        }
        collect();
        if (before == WsState::Open && client.state() == WsState::Open)
            FUZZ_CHECK(!clientEvents.messages.empty() && clientEvents.messages.back() == "Hello");
    }

    if (!serverCloses) {
        const RefFrameJudge judge(input, serverOptions.limits.maxMessageSize, serverOptions.limits.maxFragments, deflate);
        // The messages before the first compressed one, exactly; then, if the content of a
        // compressed message failed the connection, fewer messages and a 1007 or 1009.
        FUZZ_CHECK(events.messages.size() >= judge.plainMessages);
        FUZZ_CHECK(std::equal(judge.messages.begin(), judge.messages.begin() + judge.plainMessages, events.messages.begin()));
        const quint16 sent = serverFrames.closeSent() ? serverFrames.closeCode() : 0;
        const bool contentFailure = judge.compressedSeen && server.state() == WsState::Failed
                && (sent == 1007 || sent == 1009);
        if (!judge.compressedSeen)
            FUZZ_CHECK(events.messages == judge.messages);
        else if (!contentFailure)
            FUZZ_CHECK(events.messages.size() == judge.messages.size());
        if (!contentFailure) {
            switch (judge.outcome) {
            case RefFrameJudge::Open:
                FUZZ_CHECK(server.state() == WsState::Open);
                FUZZ_CHECK(events.errors.empty());
                FUZZ_CHECK(!serverFrames.closeSent());
                break;
            case RefFrameJudge::ClientClosed:
                FUZZ_CHECK(server.state() == WsState::Closed);
                FUZZ_CHECK(events.errors.empty());
                FUZZ_CHECK(serverFrames.closeSent());
                break;
            case RefFrameJudge::Failed:
                FUZZ_CHECK(server.state() == WsState::Failed || server.state() == WsState::Closed);
                FUZZ_CHECK(!events.errors.empty());
                FUZZ_CHECK(serverFrames.closeSent());
                FUZZ_CHECK(serverFrames.closeCode() == judge.failCode);
                break;
            }
        }
    }

    // The transport goes away: every connection ends with exactly one Closed event.
    server.transportClosed();
    collect(true);
    FUZZ_CHECK(events.closedEvents() == 1);
    FUZZ_CHECK(server.shouldCloseTransport());
    return 0;
}
