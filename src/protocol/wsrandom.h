#pragma once

#include <QtCore/qglobal.h>

#include <cstddef>
#include <memory>

// Source of the unpredictable bytes RFC 6455 requires for masking keys (§5.3) and
// Sec-WebSocket-Key nonces (§4.1). Injected into the core so that tests can use fixed values.
class WsRandomSource
{
public:
    virtual ~WsRandomSource();
    virtual void fill(void *buffer, std::size_t size) = 0;
    quint32 nextMask();
};

// The system CSPRNG (QRandomGenerator::system(), i.e. getrandom(2) on Linux), read in
// blocks so that masking a small frame does not cost a system call.
class WsSystemRandom final : public WsRandomSource
{
public:
    void fill(void *buffer, std::size_t size) override;

    // A shared instance; not thread-safe, so each thread gets its own.
    static WsSystemRandom *forThisThread();

private:
    unsigned char m_pool[512];
    std::size_t m_available = 0;
};

// Repeats a fixed byte sequence; for tests and reproducible byte-exact vectors.
class WsFixedRandom final : public WsRandomSource
{
public:
    explicit WsFixedRandom(quint32 mask) noexcept;
    explicit WsFixedRandom(const unsigned char *bytes, std::size_t size);
    void fill(void *buffer, std::size_t size) override;

private:
    unsigned char m_bytes[32] = {};
    std::size_t m_size = 0;
    std::size_t m_pos = 0;
};
