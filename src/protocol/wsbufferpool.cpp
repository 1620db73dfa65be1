#include "wsbufferpool.h"

#include <array>

namespace {

constexpr qsizetype MaximumSize = qsizetype(64) << 20;

struct Pool
{
    std::array<QByteArray, 4> buffers;
};

Pool &pool()
{
    thread_local Pool p;
    return p;
}

} // namespace

QByteArray WsBufferPool::take(qsizetype minCapacity)
{
    if (minCapacity < MinimumSize)
        return QByteArray();
    // The smallest that fits, so that a huge buffer is not spent on a modest message.
    QByteArray *best = nullptr;
    for (QByteArray &b : pool().buffers) {
        if (b.capacity() >= minCapacity && (!best || b.capacity() < best->capacity()))
            best = &b;
    }
    if (!best)
        return QByteArray();
    QByteArray out = std::move(*best);
    *best = QByteArray();
    out.truncate(0);  // keeps the capacity
    return out;
}

void WsBufferPool::give(QByteArray &buffer)
{
    QByteArray b = std::move(buffer);
    buffer = QByteArray();
    // Only a buffer nobody else holds can be reused; a raw-data or shared one is left alone.
    if (!b.isDetached() || b.capacity() < MinimumSize || b.capacity() > MaximumSize)
        return;
    QByteArray *smallest = nullptr;
    for (QByteArray &slot : pool().buffers) {
        if (slot.isNull()) {
            slot = std::move(b);
            return;
        }
        if (!smallest || slot.capacity() < smallest->capacity())
            smallest = &slot;
    }
    if (smallest->capacity() < b.capacity())
        *smallest = std::move(b);
}

void WsBufferPool::clear()
{
    for (QByteArray &slot : pool().buffers)
        slot = QByteArray();
}
