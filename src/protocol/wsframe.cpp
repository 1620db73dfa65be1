#include "wsframe.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char *wsOpcodeName(quint8 opcode) noexcept
{
    switch (opcode) {
    case 0x0: return "CONT";
    case 0x1: return "TEXT";
    case 0x2: return "BINARY";
    case 0x8: return "CLOSE";
    case 0x9: return "PING";
    case 0xA: return "PONG";
    default: return "RESERVED";
    }
}

int wsEncodeFrameHeader(char *out, bool fin, quint8 rsv, quint8 opcode,
                        quint64 payloadLength, bool masked, quint32 mask) noexcept
{
    auto *p = reinterpret_cast<uchar *>(out);
    p[0] = uchar((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f));
    const uchar maskBit = masked ? 0x80 : 0;
    int n;
    if (payloadLength <= 125) {
        p[1] = uchar(maskBit | payloadLength);
        n = 2;
    } else if (payloadLength <= 0xffff) {
        p[1] = maskBit | 126;
        p[2] = uchar(payloadLength >> 8);
        p[3] = uchar(payloadLength);
        n = 4;
    } else {
        p[1] = maskBit | 127;
        for (int i = 0; i < 8; ++i)
            p[2 + i] = uchar(payloadLength >> (56 - 8 * i));
        n = 10;
    }
    if (masked) {
        std::memcpy(p + n, &mask, 4);
        n += 4;
    }
    return n;
}

WsHeaderParse wsDecodeFrameHeader(const char *data, qsizetype size, WsFrameHeader *header) noexcept
{
    if (size < 2)
        return WsHeaderParse::NeedMore;
    const auto *p = reinterpret_cast<const uchar *>(data);
    const bool masked = p[1] & 0x80;
    const uchar len7 = p[1] & 0x7f;
    const int lengthBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    // RFC 6455 §5.2: "the most significant bit MUST be 0" for the 64-bit length; checked
    // as soon as that byte is here, before the mask.
    if (lengthBytes == 8 && size >= 3 && (p[2] & 0x80))
        return WsHeaderParse::Invalid;
    const int needed = 2 + lengthBytes + (masked ? 4 : 0);
    if (size < needed)
        return WsHeaderParse::NeedMore;

    quint64 length = len7;
    if (lengthBytes) {
        length = 0;
        for (int i = 0; i < lengthBytes; ++i)
            length = (length << 8) | p[2 + i];
    }
    header->fin = p[0] & 0x80;
    header->rsv = (p[0] >> 4) & 7;
    header->opcode = p[0] & 0x0f;
    header->masked = masked;
    header->mask = 0;
    if (masked)
        std::memcpy(&header->mask, p + 2 + lengthBytes, 4);
    header->payloadLength = length;
    header->headerSize = quint8(needed);
    return WsHeaderParse::Ok;
}

static inline quint32 rotatedMask(quint32 mask, quint64 offset) noexcept
{
    const unsigned shift = unsigned(offset & 3);
    if (shift == 0)
        return mask;
    uchar in[4], out[4];
    std::memcpy(in, &mask, 4);
    for (unsigned i = 0; i < 4; ++i)
        out[i] = in[(i + shift) & 3];
    quint32 result;
    std::memcpy(&result, out, 4);
    return result;
}

quint64 wsCopyMasked(char *dst, const char *src, qsizetype size, quint32 mask, quint64 offset) noexcept
{
    const quint32 m = rotatedMask(mask, offset);
    qsizetype i = 0;
#if defined(__SSE2__)
    const __m128i vm = _mm_set1_epi32(int(m));
    for (; i + 64 <= size; i += 64) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 16));
        __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 32));
        __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 48));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_xor_si128(a, vm));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 16), _mm_xor_si128(b, vm));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 32), _mm_xor_si128(c, vm));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 48), _mm_xor_si128(d, vm));
    }
    for (; i + 16 <= size; i += 16) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_xor_si128(a, vm));
    }
#endif
    const quint64 m64 = (quint64(m) << 32) | m;  // the same four bytes twice, in either byte order
    for (; i + 8 <= size; i += 8) {
        quint64 w;
        std::memcpy(&w, src + i, 8);
        w ^= m64;
        std::memcpy(dst + i, &w, 8);
    }
    uchar mb[4];
    std::memcpy(mb, &m, 4);
    for (; i < size; ++i)  // i is a multiple of 4 here, so mb[i & 3] lines up
        dst[i] = char(uchar(src[i]) ^ mb[i & 3]);
    return (offset + quint64(size)) & 3;
}

quint64 wsApplyMask(char *data, qsizetype size, quint32 mask, quint64 offset) noexcept
{
    return wsCopyMasked(data, data, size, mask, offset);
}

void wsAppendFrame(QByteArray &out, bool fin, quint8 rsv, quint8 opcode,
                   QByteArrayView payload, bool masked, quint32 mask)
{
    char header[WsFrameHeader::MaxSize];
    const int headerSize = wsEncodeFrameHeader(header, fin, rsv, opcode, quint64(payload.size()),
                                               masked, mask);
    const qsizetype start = out.size();
    out.resize(start + headerSize + payload.size());
    char *dst = out.data() + start;
    std::memcpy(dst, header, size_t(headerSize));
    if (payload.isEmpty())
        return;
    if (masked)
        wsCopyMasked(dst + headerSize, payload.data(), payload.size(), mask);
    else
        std::memcpy(dst + headerSize, payload.data(), size_t(payload.size()));
}

void WsFrameReader::Item::copyTo(char *dst) const noexcept
{
    if (header.masked)
        wsCopyMasked(dst, data, size, header.mask, payloadOffset);
    else
        std::memcpy(dst, data, size_t(size));
}

WsError WsFrameReader::checkHeader(const WsFrameHeader &h) const noexcept
{
    // RFC 6455 §5.1: a server MUST close the connection upon receiving an unmasked frame;
    // a client MUST close it upon receiving a masked frame.
    if (m_role == Role::Server && !h.masked)
        return WsError::UnmaskedClientFrame;
    if (m_role == Role::Client && h.masked)
        return WsError::MaskedServerFrame;
    // §5.2: unknown opcodes and RSV bits without a negotiated meaning MUST fail the connection.
    switch (h.opcode) {
    case 0x0: case 0x1: case 0x2: case 0x8: case 0x9: case 0xA:
        break;
    default:
        if (!(m_allowedOpcodes & (1u << h.opcode)))
            return WsError::ReservedOpcode;
        break;
    }
    if (h.rsv & ~m_allowedRsv)
        return WsError::ReservedBitsSet;
    if (wsIsControlOpcode(h.opcode)) {
        // §5.5: control frames MUST have a payload of 125 bytes or less and MUST NOT be fragmented.
        if (h.payloadLength > 125)
            return WsError::ControlFrameTooLarge;
        if (!h.fin)
            return WsError::FragmentedControlFrame;
    }
    if (h.payloadLength > m_maxFramePayload)
        return WsError::FrameTooLarge;
    return WsError::NoError;
}

WsFrameReader::Item WsFrameReader::next(const char *data, qsizetype size, qsizetype *consumed) noexcept
{
    Item item;
    if (m_failed)
        return item;
    qsizetype pos = *consumed;
    if (m_remaining == 0) {
        // Between frames: gather a header. Whole headers are decoded in place; a header split
        // across calls is collected in m_headerBuf (never more than 14 bytes).
        WsFrameHeader header;
        WsHeaderParse parse;
        if (m_headerLen == 0) {
            parse = wsDecodeFrameHeader(data + pos, size - pos, &header);
            if (parse == WsHeaderParse::Ok)
                pos += header.headerSize;
        } else {
            parse = WsHeaderParse::NeedMore;
        }
        if (parse == WsHeaderParse::NeedMore) {
            const qsizetype take = std::min<qsizetype>(WsFrameHeader::MaxSize - m_headerLen, size - pos);
            if (take > 0)
                std::memcpy(m_headerBuf + m_headerLen, data + pos, size_t(take));
            parse = wsDecodeFrameHeader(m_headerBuf, m_headerLen + take, &header);
            if (parse == WsHeaderParse::Ok) {
                pos += header.headerSize - m_headerLen;
                m_headerLen = 0;
            } else if (parse == WsHeaderParse::NeedMore) {
                pos += take;
                m_headerLen += int(take);
                *consumed = pos;
                return item;
            }
        }
        if (parse == WsHeaderParse::Invalid) {
            m_failed = true;
            item.type = Item::Error;
            item.error = WsError::InvalidLength;
            return item;
        }
        *consumed = pos;
        item.header = header;
        const WsError error = checkHeader(header);
        if (error != WsError::NoError) {
            m_failed = true;
            item.type = Item::Error;
            item.error = error;
            return item;
        }
        m_header = header;
        m_remaining = header.payloadLength;
        m_offset = 0;
        item.type = Item::Header;
        item.frameEnd = m_remaining == 0;
        return item;
    }

    if (pos >= size)
        return item;
    const qsizetype n = qsizetype(std::min<quint64>(m_remaining, quint64(size - pos)));
    item.type = Item::Payload;
    item.header = m_header;
    item.data = data + pos;
    item.size = n;
    item.payloadOffset = m_offset;
    m_offset += quint64(n);
    m_remaining -= quint64(n);
    item.frameEnd = m_remaining == 0;
    *consumed = pos + n;
    return item;
}
