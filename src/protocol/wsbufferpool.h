#pragma once

#include <QtCore/qglobal.h>

#include <QtCore/qbytearray.h>

// Large message buffers recycled within a thread.
//
// glibc serves blocks above its mmap threshold (128 KiB to 32 MiB, adaptive) with fresh
// mappings and gives them back on free, so a connection echoing 1 MiB messages page-faults
// through every buffer of every message: measured at 14x slower than with the same buffers
// reused. The core takes its large receive and send buffers from here when one is free, and
// the network layer hands them back once nobody else holds them. Each thread keeps at most
// four buffers of at most 64 MiB each: the memory a busy thread needed recently, not per
// connection.
namespace WsBufferPool {

// An empty buffer with room for at least minCapacity bytes if the thread has one, else a
// null QByteArray: this never allocates, so an announced size alone costs nothing.
QByteArray take(qsizetype minCapacity);

// Offers a buffer for reuse. Ignored unless nobody else holds it and it is large (at least
// 64 KiB); the buffer is left null either way.
void give(QByteArray &buffer);

// Frees what this thread keeps.
void clear();

// Buffers smaller than this are left to malloc, which serves them well.
constexpr qsizetype MinimumSize = 64 * 1024;

} // namespace WsBufferPool
