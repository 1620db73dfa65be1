// Shared by the protocol tests: opening a connection pair in memory, the ways of cutting
// input into chunks that every parser test tries, and building test input.

#pragma once

#include <wsconnection.h>
#include <wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <cstddef>

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

// A literal with its embedded NULs.
template <std::size_t N>
QByteArray bytes(const char (&literal)[N])
{
    return QByteArray(literal, qsizetype(N - 1));
}

// Headers from "Name: value" strings, split at the first colon, one leading space dropped (the
// rest of the value keeps its exact spelling).
inline WsHttpHeaders headersOf(const QByteArrayList &lines)
{
    WsHttpHeaders h;
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        Q_ASSERT(colon > 0);
        QByteArray value = line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        h.add(line.left(colon), value);
    }
    return h;
}
