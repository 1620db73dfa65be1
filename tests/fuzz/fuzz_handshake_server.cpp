// fuzz_handshake_server: bytes from a would-be client, fed in chunks to a server
// WsConnection from its first byte on: the opening handshake request, and whatever follows.
//
// Input: [flags] [decision] [status] [4 chunk sizes] [request bytes...]
//   flags bit 0: the server accepts permessage-deflate
//         bit 1: deliverPlainHttp
//         bit 2: small limits (256-byte head, 6 header fields)
//         bit 3: answer the Request event only after all input (bytes after the head wait)
//         bit 4: streamMessages
//   decision bit 0: accept(), else reject()
//            bit 1: accept with the client's first subprotocol
//            bit 2: accept with an extra response header
//            bit 3: first try calls that must fail (bad status, bad headers, unknown
//                   subprotocol) and check they change nothing
//   status: reject() with 200 + status % 400
//
// Invariants: the state/event invariants of EventChecker; whatever the server answers
// starts with "HTTP/1.1 " and a 3-digit status and is a well-formed head (101 with the right
// Sec-WebSocket-Accept, or an error with Connection: close and an exact Content-Length
// body), followed only by valid server frames after a 101; nothing is sent while no answer
// is due; one Closed event in the end.
#include "fuzz_common.h"

#include "wshandshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in(data, size);
    const uint8_t flags = in.byte();
    const uint8_t decision = in.byte();
    const int rejectStatus = 200 + in.byte() % 400;
    Chunker chunker(in);

    WsConnectionOptions options;
    if (flags & 0x01)
        options = withDeflate(options, WsDeflateOptions());
    options.deliverPlainHttp = flags & 0x02;
    if (flags & 0x04) {
        options.limits.maxHandshakeSize = 256;
        options.limits.maxHeaderCount = 6;
    }
    const bool deferDecision = flags & 0x08;
    options.streamMessages = flags & 0x10;

    WsFixedRandom random(0x37fa213d);
    WsConnection server(WsRole::Server, options, &random);
    EventChecker events(server, options.limits.maxMessageSize, options.streamMessages);
    QByteArray outgoing;

    enum { Undecided, Accepted, Rejected } outcome = Undecided;
    QByteArray subprotocol;
    const QByteArray rejectBody = "go away\n";

    auto decide = [&]() {
        FUZZ_CHECK(server.state() == WsState::Connecting);
        const bool plain = server.isPlainHttpRequest();
        if (!plain) {
            const WsHandshakeRequest &r = server.request();
            FUZZ_CHECK(r.method == "GET");
            FUZZ_CHECK(r.key().size() == 24);
            FUZZ_CHECK(r.headers.count("Host") == 1);
        } else {
            FUZZ_CHECK(options.deliverPlainHttp);
        }
        if (decision & 0x08) {
            // Refused calls leave the connection as it was.
            FUZZ_CHECK(server.reject(99) == WsError::InvalidArgument);
            FUZZ_CHECK(server.reject(600) == WsError::InvalidArgument);
            WsHttpHeaders bad;
            bad.add("X-Bad", "a\r\nInjected: yes");
            FUZZ_CHECK(server.reject(403, QByteArray(), bad) == WsError::InvalidArgument);
            WsAcceptOptions unknown;
            unknown.subprotocol = "not offered";  // not even a token
            FUZZ_CHECK(server.accept(unknown) == (plain ? WsError::InvalidState : WsError::InvalidArgument));
            WsAcceptOptions reserved;
            reserved.headers.add("Sec-WebSocket-Accept", "x");
            FUZZ_CHECK(server.accept(reserved) == (plain ? WsError::InvalidState : WsError::InvalidArgument));
            FUZZ_CHECK(server.state() == WsState::Connecting);
            FUZZ_CHECK(server.outgoingSize() == 0 && !server.hasEvents());
        }
        if (decision & 0x01) {
            WsAcceptOptions a;
            if ((decision & 0x02) && !plain && !server.request().subprotocols().isEmpty())
                a.subprotocol = server.request().subprotocols().first();
            if (decision & 0x04)
                a.headers.add("X-Fuzz", "1");
            const WsError e = server.accept(a);
            if (plain) {
                // Only reject() may answer plain HTTP.
                FUZZ_CHECK(e == WsError::InvalidState);
                FUZZ_CHECK(server.state() == WsState::Connecting && server.outgoingSize() == 0);
            } else {
                FUZZ_CHECK(e == WsError::NoError);
                FUZZ_CHECK(server.state() != WsState::Connecting);  // Open, or ended by what waited
                FUZZ_CHECK(server.subprotocol() == a.subprotocol);
                subprotocol = a.subprotocol;
                outcome = Accepted;
                return;
            }
        }
        FUZZ_CHECK(server.reject(rejectStatus, rejectBody) == WsError::NoError);
        FUZZ_CHECK(server.state() == WsState::Closed);
        FUZZ_CHECK(server.error() == WsError::HandshakeRejected);
        outcome = Rejected;
    };

    auto collect = [&]() {
        for (;;) {
            const std::vector<WsEvent> batch = server.takeEvents();
            events.check(batch);
            outgoing += server.takeOutgoing();
            if (server.state() == WsState::Connecting && outcome == Undecided)
                FUZZ_CHECK(outgoing.isEmpty());  // nothing is answered before the decision
            bool request = false;
            for (const WsEvent &e : batch)
                request |= e.type == WsEvent::Request;
            if (!request || deferDecision)
                return;
            decide();  // then collect what the answer produced
        }
    };

    const QByteArrayView input = in.rest();
    qsizetype pos = 0;
    while (pos < input.size()) {
        const qsizetype n = chunker.next(input.size() - pos);
        server.receiveData(input.sliced(pos, n));
        pos += n;
        collect();
    }
    if (events.requests() == 1 && outcome == Undecided && server.state() == WsState::Connecting) {
        decide();
        collect();
    }

    if (server.state() == WsState::Connecting) {
        FUZZ_CHECK(outgoing.isEmpty());
    } else {
        const ParsedResponse r = checkHttpResponse(outgoing);
        if (outcome == Accepted) {
            FUZZ_CHECK(r.status == 101);
            FUZZ_CHECK(r.header("Upgrade") == "websocket");
            FUZZ_CHECK(r.header("Connection") == "Upgrade");
            FUZZ_CHECK(r.count("Sec-WebSocket-Accept") == 1);
            FUZZ_CHECK(r.header("Sec-WebSocket-Accept") == wsAcceptKey(server.request().key()));
            FUZZ_CHECK(r.header("Sec-WebSocket-Protocol") == subprotocol);
            FUZZ_CHECK(r.count("Sec-WebSocket-Extensions") == (server.extensions().isEmpty() ? 0 : 1));
            FrameStreamChecker frames(WsRole::Server, server.extensions().isEmpty() ? 0 : WsRsv::Rsv1);
            frames.feed(r.after);
            if (isTerminal(server.state()))
                FUZZ_CHECK(frames.closeSent());
        } else {
            FUZZ_CHECK(r.status != 101);
            FUZZ_CHECK(r.after.isEmpty());
            FUZZ_CHECK(isTerminal(server.state()));
            if (outcome == Rejected) {
                FUZZ_CHECK(r.status == rejectStatus);
                FUZZ_CHECK(r.body == rejectBody);
            } else {
                // The core refused the request itself, with the status for its error.
                const int expected = wsHttpStatusFor(server.error());
                FUZZ_CHECK(r.status == (expected ? expected : 400));
                FUZZ_CHECK(r.status >= 400 && r.status <= 499);
                if (r.status == 426)
                    FUZZ_CHECK(r.header("Sec-WebSocket-Version") == "13");
                FUZZ_CHECK(server.state() == WsState::Failed);
            }
        }
    }

    const bool ended = isTerminal(server.state());
    server.transportClosed();
    events.check(server.takeEvents());
    if (ended)
        FUZZ_CHECK(server.outgoingSize() == 0);
    FUZZ_CHECK(events.closedEvents() == 1);
    FUZZ_CHECK(server.shouldCloseTransport());
    return 0;
}
