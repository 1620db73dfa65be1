// Drives a client and a server WsConnection against each other in memory: handshake,
// messages, ping and close, printing every byte that crosses and every event. No sockets:
// this is the protocol core alone, as the network layer will drive it.

#include <wsconnection.h>
#include <wsframe.h>

#include <QtCore/qstring.h>

#include <cstdio>
#include <cstring>

static const char *side(const WsConnection &c)
{
    return c.role() == WsRole::Client ? "client" : "server";
}

static void printBytes(const char *from, const char *to, const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    std::printf("  %s -> %s: %lld bytes\n", from, to, static_cast<long long>(bytes.size()));
    if (bytes.startsWith("GET ") || bytes.startsWith("HTTP/")) {
        for (const QByteArray &line : bytes.trimmed().split('\n'))
            std::printf("      | %s\n", line.trimmed().constData());
        return;
    }
    // Describe each frame with the core's own reader.
    WsFrameReader reader(std::strcmp(to, "server") == 0 ? WsFrameReader::Role::Server
                                                         : WsFrameReader::Role::Client);
    qsizetype consumed = 0;
    for (;;) {
        const auto item = reader.next(bytes.constData(), bytes.size(), &consumed);
        if (item.type == WsFrameReader::Item::None || item.type == WsFrameReader::Item::Error)
            break;
        if (item.type == WsFrameReader::Item::Header)
            std::printf("      | frame %-6s fin=%d masked=%d payload=%llu bytes  [%s]\n",
                        wsOpcodeName(item.header.opcode), int(item.header.fin), int(item.header.masked),
                        static_cast<unsigned long long>(item.header.payloadLength),
                        bytes.mid(consumed - item.header.headerSize, item.header.headerSize).toHex(' ').constData());
    }
}

static void printEvents(WsConnection &c)
{
    for (const WsEvent &e : c.takeEvents()) {
        std::printf("  [%s] %-10s", side(c), wsEventName(e.type));
        switch (e.type) {
        case WsEvent::Request:
            std::printf(" GET %s, subprotocols: %s", c.request().target.constData(),
                        c.request().subprotocols().join(", ").constData());
            break;
        case WsEvent::Open:
            std::printf(" subprotocol \"%s\"", c.subprotocol().constData());
            break;
        case WsEvent::Message:
            if (e.opcode == WsOpcode::Text)
                std::printf(" text \"%s\"", e.data.constData());
            else
                std::printf(" binary %lld bytes: %s", static_cast<long long>(e.data.size()),
                            e.data.toHex(' ').constData());
            break;
        case WsEvent::Ping:
        case WsEvent::Pong:
            std::printf(" payload \"%s\"", e.data.constData());
            break;
        case WsEvent::CloseFrame:
            std::printf(" code %d \"%s\"", e.close.code, qPrintable(e.close.reason));
            break;
        case WsEvent::Closed:
            std::printf(" code %d (%s), clean=%s, initiated by %s", e.close.code,
                        qPrintable(wsCloseCodeName(e.close.code)), e.close.wasClean ? "yes" : "no",
                        e.close.initiator == WsCloseInitiator::Local ? "us"
                        : e.close.initiator == WsCloseInitiator::Remote ? "the peer" : "nobody");
            break;
        case WsEvent::Error:
            std::printf(" %s", qPrintable(e.errorString));
            break;
        default:
            break;
        }
        std::printf("\n");
        // The server echoes every message, as an echo server would.
        if (e.type == WsEvent::Message && c.role() == WsRole::Server) {
            if (e.opcode == WsOpcode::Text)
                c.sendText(QByteArrayView(e.data));
            else
                c.sendBinary(e.data);
        }
        if (e.type == WsEvent::Request)
            c.accept({"chat", {}});
    }
}

// Moves bytes both ways until nothing is left to move.
static void pump(WsConnection &client, WsConnection &server)
{
    for (int round = 0; round < 16; ++round) {
        const QByteArray toServer = client.takeOutgoing();
        printBytes("client", "server", toServer);
        server.receiveData(toServer);
        printEvents(server);
        const QByteArray toClient = server.takeOutgoing();
        printBytes("server", "client", toClient);
        client.receiveData(toClient);
        printEvents(client);
        if (client.outgoingSize() == 0 && server.outgoingSize() == 0)
            return;
    }
}

int main()
{
    WsConnection client(WsRole::Client);
    WsConnection server(WsRole::Server);

    std::printf("== Opening handshake\n");
    WsClientHandshake hs;
    hs.host = "localhost:8080";
    hs.target = "/chat?room=demo";
    hs.origin = "http://localhost";
    hs.subprotocols = {"chat", "superchat"};
    client.startHandshake(hs);
    pump(client, server);

    std::printf("\n== Messages (the server echoes)\n");
    client.sendText(QStringLiteral("Hello, WsKit! \u00e9\u00e8 \u2603"));
    client.sendBinary(QByteArray::fromHex("00ff10203040"));
    pump(client, server);

    std::printf("\n== Ping (answered automatically)\n");
    client.ping("are you there?");
    pump(client, server);

    std::printf("\n== Close handshake\n");
    client.close(WsCloseCode::Normal, QStringLiteral("bye"));
    pump(client, server);
    std::printf("\nserver closes the TCP connection: %s\n", server.shouldCloseTransport() ? "yes" : "no");
    client.transportClosed();
    printEvents(client);
    std::printf("final states: client %s, server %s\n", wsStateName(client.state()), wsStateName(server.state()));
    return client.state() == WsState::Closed && server.state() == WsState::Closed ? 0 : 1;
}
