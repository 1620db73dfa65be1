// Shared by the protocol tests: opening a connection pair in memory, and the ways of cutting
// input into chunks that every parser test tries.

#pragma once

#include <wsconnection.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

// Takes a fresh client and server connection through the opening handshake, dropping the
// handshake's events on both sides.
inline void openPair(WsConnection &client, WsConnection &server, const QByteArray &host = "example.com")
{
    WsClientHandshake hs;
    hs.host = host;
    client.startHandshake(hs);
    server.receiveData(client.takeOutgoing());
    const auto request = server.takeEvents();
    if (request.size() == 1 && request.front().type == WsEvent::Request)
        server.accept();
    client.receiveData(server.takeOutgoing());
    server.takeEvents();
    client.takeEvents();
}

// Every way of cutting `bytes` the tests try: whole, one byte at a time, and in two at every
// offset.
inline QList<QList<QByteArray>> splits(const QByteArray &bytes)
{
    QList<QList<QByteArray>> result{{bytes}};
    QList<QByteArray> single;
    for (char c : bytes)
        single.append(QByteArray(1, c));
    result.append(single);
    for (qsizetype i = 1; i < bytes.size(); ++i)
        result.append({bytes.left(i), bytes.mid(i)});
    return result;
}
