// An application built against an installed WsKit: a client and a server connection
// exchange one message in memory.
#include <wsconnection.h>

#include <cstdio>

int main()
{
    WsConnection client(WsRole::Client);
    WsConnection server(WsRole::Server);
    WsClientHandshake handshake;
    handshake.host = "localhost";
    if (client.startHandshake(handshake) != WsError::NoError)
        return 1;
    server.receiveData(client.takeOutgoing());
    server.takeEvents();
    server.accept();
    client.receiveData(server.takeOutgoing());
    client.sendText(QStringLiteral("installed"));
    server.receiveData(client.takeOutgoing());
    for (const WsEvent &e : server.takeEvents()) {
        if (e.type == WsEvent::Message && e.text() == QStringLiteral("installed")) {
            std::printf("consumer: ok\n");
            return 0;
        }
    }
    std::printf("consumer: message not received\n");
    return 1;
}
