#pragma once

#include "wserror.h"
#include "wsframe.h"
#include "wshttp.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>

#include <memory>

// The extension hook of the core (RFC 6455 §9). A negotiated extension claims RSV bits and
// transforms the payload of whole data messages; the frame code knows nothing about what it
// does. permessage-deflate (RFC 7692) is one such extension.
//
// One WsExtension instance belongs to one connection and keeps that connection's state
// (e.g. a compression context).
class WsExtension
{
public:
    virtual ~WsExtension();

    virtual QByteArray name() const = 0;
    // The RSV bits (WsRsv) this extension gives a meaning to; the frame reader accepts them.
    virtual quint8 rsvBits() const = 0;
    // Reserved opcodes (3-7, 0xB-0xF) this extension gives a meaning to, bit n for opcode n.
    // Frames with them must be unfragmented; they arrive as WsEvent::ExtensionFrame and are
    // sent with WsConnection::sendExtensionFrame(). Opcodes 0xB-0xF keep the control frame
    // rules (at most 125 bytes).
    virtual quint16 opcodes() const { return 0; }

    // Incoming: a data message starts with these RSV bits on its first frame. Returns whether
    // the extension transforms this message (then decode() receives its payload).
    virtual bool beginIncoming(quint8 rsv) = 0;
    // Appends the decoded form of the next piece of the message's payload to out. `last` is
    // set with the final piece of the final frame. At most maxOutput bytes may be appended
    // in this call: past that, return WsError::MessageTooLarge without producing them, so a
    // small compressed message cannot inflate past the message limit. Return
    // WsError::ExtensionError for data that cannot be decoded.
    virtual WsError decode(QByteArrayView in, bool last, QByteArray &out, qint64 maxOutput) = 0;

    // Outgoing: a data message of type opcode starts, of `size` bytes if known (-1 when it is
    // sent frame by frame), and `allowed` is false when the application opted out for it.
    // Returns the RSV bits for its first frame: 0 leaves the message untransformed.
    virtual quint8 beginOutgoing(WsOpcode opcode, qint64 size, bool allowed) = 0;
    // Appends the encoded form of the next piece of a transformed outgoing message to out.
    virtual void encode(QByteArrayView in, bool last, QByteArray &out) = 0;
};

// Negotiates one kind of extension in the opening handshake and creates its instances.
// Shared between connections, so it must not keep per-connection state.
class WsExtensionFactory
{
public:
    virtual ~WsExtensionFactory();

    virtual QByteArray name() const = 0;

    // Client: the offers to send, most preferred first (several allow fallbacks).
    virtual QList<WsExtensionOffer> clientOffers() const = 0;
    // Client: the server's answer, with the offers that were sent. Returns the extension, or
    // nullptr when the answer is not acceptable (the client then fails the connection).
    virtual std::unique_ptr<WsExtension> clientAccept(const WsExtensionOffer &response) const = 0;

    // Server: the client's offers of this extension, in the client's order. Returns the
    // extension for the first acceptable one and fills *response, or nullptr to decline.
    virtual std::unique_ptr<WsExtension> serverAccept(const QList<WsExtensionOffer> &offers,
                                                      WsExtensionOffer *response) const = 0;
};
