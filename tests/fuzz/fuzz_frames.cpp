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
#include "fuzz_common.h"

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

    // The transport goes away: every connection ends with exactly one Closed event.
    server.transportClosed();
    collect(true);
    FUZZ_CHECK(events.closedEvents() == 1);
    FUZZ_CHECK(server.shouldCloseTransport());
    return 0;
}
