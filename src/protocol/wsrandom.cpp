#include "wsrandom.h"

#include <QtCore/qrandom.h>

#include <cstring>

WsRandomSource::~WsRandomSource() = default;

quint32 WsRandomSource::nextMask()
{
    quint32 mask;
    fill(&mask, sizeof mask);
    return mask;
}

void WsSystemRandom::fill(void *buffer, std::size_t size)
{
    auto *out = static_cast<unsigned char *>(buffer);
    while (size > 0) {
        if (m_available == 0) {
            QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(m_pool),
                                                  sizeof m_pool / sizeof(quint32));
            m_available = sizeof m_pool;
        }
        const std::size_t n = std::min(size, m_available);
        unsigned char *src = m_pool + sizeof m_pool - m_available;
        std::memcpy(out, src, n);
        std::memset(src, 0, n);  // a used value is never handed out twice
        m_available -= n;
        out += n;
        size -= n;
    }
}

WsSystemRandom *WsSystemRandom::forThisThread()
{
    thread_local WsSystemRandom instance;
    return &instance;
}

WsFixedRandom::WsFixedRandom(quint32 mask) noexcept
{
    // Big-endian, so that WsFixedRandom(0x37fa213d) yields the bytes 37 fa 21 3d (RFC 6455 §5.7).
    m_bytes[0] = uchar(mask >> 24);
    m_bytes[1] = uchar(mask >> 16);
    m_bytes[2] = uchar(mask >> 8);
    m_bytes[3] = uchar(mask);
    m_size = 4;
}

WsFixedRandom::WsFixedRandom(const unsigned char *bytes, std::size_t size)
{
    m_size = std::min(size, sizeof m_bytes);
    if (m_size > 0) {
        std::memcpy(m_bytes, bytes, m_size);
    } else {
        m_bytes[0] = 0;
        m_size = 1;
    }
}

void WsFixedRandom::fill(void *buffer, std::size_t size)
{
    auto *out = static_cast<unsigned char *>(buffer);
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = m_bytes[m_pos];
        m_pos = (m_pos + 1) % m_size;
    }
}
