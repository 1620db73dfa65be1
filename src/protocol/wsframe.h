#pragma once

#include "wserror.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qglobal.h>

// RFC 6455 §5.2 opcodes.
enum class WsOpcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

inline bool wsIsControlOpcode(quint8 opcode) noexcept { return opcode & 0x8; }
inline bool wsIsControlOpcode(WsOpcode opcode) noexcept { return wsIsControlOpcode(quint8(opcode)); }
const char *wsOpcodeName(quint8 opcode) noexcept;

// RSV bits as they stand in the first header byte, shifted down: RSV1 = 4, RSV2 = 2, RSV3 = 1.
namespace WsRsv {
enum : quint8 { Rsv1 = 4, Rsv2 = 2, Rsv3 = 1 };
}

// A decoded frame header (RFC 6455 §5.2). The mask is kept in wire byte order, as the
// four bytes would be copied from the frame into a quint32.
struct WsFrameHeader
{
    bool fin = true;
    quint8 rsv = 0;          // WsRsv bits
    quint8 opcode = 0;       // raw, so that reserved opcodes can be reported
    bool masked = false;
    quint32 mask = 0;
    quint64 payloadLength = 0;
    quint8 headerSize = 0;   // bytes the header took on the wire

    // RFC 6455 §5.2: at most 2 + 8 + 4 bytes.
    static constexpr int MaxSize = 14;
};

// Writes a header into out (at least WsFrameHeader::MaxSize bytes) and returns its size.
// Uses the shortest length encoding (7, 16 or 64 bits), as RFC 6455 §5.2 requires.
int wsEncodeFrameHeader(char *out, bool fin, quint8 rsv, quint8 opcode,
                        quint64 payloadLength, bool masked, quint32 mask) noexcept;

// Result of trying to decode a header from the start of a buffer.
enum class WsHeaderParse { NeedMore, Ok, Invalid };

// Decodes the header at the start of data. Only the structural rule that belongs to the
// header itself is checked here (a 64-bit length must have its most significant bit clear,
// RFC 6455 §5.2); role, opcode and RSV rules are the connection's (see WsFrameReader).
WsHeaderParse wsDecodeFrameHeader(const char *data, qsizetype size, WsFrameHeader *header) noexcept;

// XORs data with the 4-byte mask, starting at position `offset` of the frame payload
// (RFC 6455 §5.3). Works many bytes at a time. Returns the offset after the data, mod 4.
quint64 wsApplyMask(char *data, qsizetype size, quint32 mask, quint64 offset = 0) noexcept;

// Copies src to dst while applying the mask: one pass instead of memcpy + wsApplyMask.
quint64 wsCopyMasked(char *dst, const char *src, qsizetype size, quint32 mask,
                     quint64 offset = 0) noexcept;

// Appends a whole frame (header and payload, masked if mask is given) to out.
void wsAppendFrame(QByteArray &out, bool fin, quint8 rsv, quint8 opcode,
                   QByteArrayView payload, bool masked, quint32 mask);

// Incremental frame reader: feed bytes, get frame headers and payload chunks as they arrive.
// Payload chunks point into the caller's buffer; Item::copyTo() unmasks them while copying
// them where they belong, so each payload byte is touched once. It never allocates or waits for a whole frame: a header that announces 2^63-1
// bytes costs nothing until the bytes come. It checks the rules that every frame obeys,
// whatever the connection state:
//  - the 64-bit length MSB (RFC 6455 §5.2),
//  - the masking direction for the role (§5.1),
//  - reserved opcodes not claimed by an extension (§5.2), RSV bits not allowed (§5.2),
//  - control frames: at most 125 bytes and never fragmented (§5.5),
//  - the frame payload limit.
class WsFrameReader
{
public:
    enum class Role { Client, Server };  // whose frames are read: a server reads client frames

    struct Item
    {
        enum Type { None, Header, Payload, Error } type = None;
        WsFrameHeader header;        // the current frame (for Header and Payload)
        const char *data = nullptr;  // for Payload: the bytes as received (still masked)
        qsizetype size = 0;
        quint64 payloadOffset = 0;   // for Payload: position of data within the frame payload
        bool frameEnd = false;       // the frame's last byte has been delivered
        WsError error = WsError::NoError;

        // Copies this Payload item's bytes to dst, unmasking them in the same pass.
        void copyTo(char *dst) const noexcept;
    };

    explicit WsFrameReader(Role readerRole) noexcept : m_role(readerRole) {}

    void setAllowedRsv(quint8 rsv) noexcept { m_allowedRsv = rsv; }
    // Reserved opcodes a negotiated extension gives a meaning to: bit n for opcode n.
    void setAllowedOpcodes(quint16 opcodes) noexcept { m_allowedOpcodes = opcodes; }
    void setMaxFramePayload(quint64 max) noexcept { m_maxFramePayload = max; }

    // Returns the next item from data[*consumed, size), advancing *consumed. Returns an item
    // of type None when everything has been consumed and nothing more can be reported.
    // After an Error item, the reader reports nothing more.
    Item next(const char *data, qsizetype size, qsizetype *consumed) noexcept;

    bool inFrame() const noexcept { return m_remaining > 0 || m_headerLen > 0; }

private:
    WsError checkHeader(const WsFrameHeader &header) const noexcept;

    Role m_role;
    quint8 m_allowedRsv = 0;
    quint16 m_allowedOpcodes = 0;
    quint64 m_maxFramePayload = ~quint64(0);
    WsFrameHeader m_header;
    quint64 m_remaining = 0;
    quint64 m_offset = 0;
    char m_headerBuf[WsFrameHeader::MaxSize];
    int m_headerLen = 0;
    bool m_failed = false;
};
