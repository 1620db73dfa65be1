// fuzz_handshake_client: bytes from a would-be server, fed in chunks to a client
// WsConnection after startHandshake(): the handshake response, and whatever follows.
//
// Input: [flags] [4 chunk sizes] [response bytes...]
//   flags bit 0: the client offers permessage-deflate
//         bit 1: the client offers the subprotocols "chat" and "superchat"
//         bit 2: a valid 101 head made from the client's real key comes first, so that the
//                input is read as frames (or, with bit 3, as more header fields)
//         bit 3: that head lacks its final empty line
//         bit 4: the head accepts permessage-deflate (if offered)
//         bit 5: the head selects "chat" (if offered)
//         bit 6: streamMessages
//         bit 7: small limits (1000-byte messages, 512-byte head, 100-byte rejection body)
//
// Invariants: EventChecker's; a client that never opened sends nothing after its request;
// after Open everything it sends parses as masked frames, nothing after its Close; the
// negotiated subprotocol and extensions are ones it offered; one Closed event in the end.
#include "fuzz_common.h"

#include "wshandshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in(data, size);
    const uint8_t flags = in.byte();
    Chunker chunker(in);
    const bool offerDeflate = flags & 0x01;
    const bool offerProtocols = flags & 0x02;

    WsConnectionOptions options;
    if (offerDeflate)
        options = withDeflate(options, WsDeflateOptions());
    options.streamMessages = flags & 0x40;
    if (flags & 0x80) {
        options.limits.maxMessageSize = 1000;
        options.limits.maxHandshakeSize = 512;
        options.limits.maxRejectionBodySize = 100;
    }

    WsFixedRandom random(0x37fa213d);
    WsConnection client(WsRole::Client, options, &random);
    WsClientHandshake hs;
    hs.host = "server.example.com";
    hs.target = "/chat?x=1";
    if (offerProtocols)
        hs.subprotocols = {"chat", "superchat"};
    FUZZ_CHECK(client.startHandshake(hs) == WsError::NoError);
    const QByteArray request = client.takeOutgoing();
    FUZZ_CHECK(request.startsWith("GET /chat?x=1 HTTP/1.1\r\n") && request.endsWith("\r\n\r\n"));
    FUZZ_CHECK(client.startHandshake(hs) == WsError::InvalidState);

    QByteArray response;
    if (flags & 0x04) {
        response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: " + wsAcceptKey(client.request().key()) + "\r\n";
        if ((flags & 0x10) && offerDeflate)
            response += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        if ((flags & 0x20) && offerProtocols)
            response += "Sec-WebSocket-Protocol: chat\r\n";
        if (!(flags & 0x08))
            response += "\r\n";
    }
    response += in.rest();

    EventChecker events(client, options.limits.maxMessageSize, options.streamMessages);
    FrameStreamChecker frames(WsRole::Client, offerDeflate ? WsRsv::Rsv1 : 0);
    bool closedBefore = false;
    auto collect = [&]() {
        events.check(client.takeEvents());
        const QByteArray out = client.takeOutgoing();
        if (events.opens() == 0)
            FUZZ_CHECK(out.isEmpty());  // no frames, and no second request, before Open
        if (closedBefore)
            FUZZ_CHECK(out.isEmpty());
        frames.feed(out);
        closedBefore = events.closedEvents() > 0;
    };

    qsizetype pos = 0;
    bool checkedOpen = false;
    while (pos < response.size()) {
        const qsizetype n = chunker.next(response.size() - pos);
        client.receiveData(QByteArrayView(response).sliced(pos, n));
        pos += n;
        collect();
        if (events.opens() == 1 && !checkedOpen) {
            checkedOpen = true;
            const QByteArray p = client.subprotocol();
            FUZZ_CHECK(p.isEmpty() || hs.subprotocols.contains(p));
            FUZZ_CHECK(client.response().status == 101);
            for (const WsExtensionOffer &e : client.extensions())
                FUZZ_CHECK(offerDeflate && e.name == "permessage-deflate");
            FUZZ_CHECK(client.extensions().size() <= 1);
        }
    }
    if (events.rejections() == 1) {
        FUZZ_CHECK(client.state() == WsState::Failed);
        FUZZ_CHECK(client.error() == WsError::HandshakeUnexpectedStatus);
        FUZZ_CHECK(client.response().status != 101);
    }

    // A client that is open answers; a send must produce masked frames.
    if (client.state() == WsState::Open) {
        FUZZ_CHECK(client.sendText(QStringLiteral("ping?")) == WsError::NoError);
        FUZZ_CHECK(client.ping("p") == WsError::NoError);
        FUZZ_CHECK(client.close(WsCloseCode::Normal) == WsError::NoError);
        FUZZ_CHECK(client.state() == WsState::LocalClosing);
        collect();
        FUZZ_CHECK(frames.closeSent() && frames.closeCode() == WsCloseCode::Normal);
    }

    client.transportClosed();
    collect();
    FUZZ_CHECK(events.closedEvents() == 1);
    FUZZ_CHECK(events.opens() == 1 || events.errors.size() >= 1);
    return 0;
}
