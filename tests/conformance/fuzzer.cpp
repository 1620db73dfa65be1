#include "fuzzer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr size_t kMaxMessage = 64u << 20;  // what we accept from the peer

std::string hexPrefix(const Bytes &b, size_t n = 16)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < b.size() && i < n; ++i) {
        s += digits[(unsigned char)b[i] >> 4];
        s += digits[(unsigned char)b[i] & 15];
    }
    if (b.size() > n)
        s += "...";
    return s;
}

bool validCloseCodeOnWire(int code)
{
    // RFC 6455 §7.4.1 and the IANA registry: 1004-1006 and 1015 are never sent.
    if (code >= 1000 && code <= 1014)
        return code != 1004 && code != 1005 && code != 1006;
    return code >= 3000 && code <= 4999;
}

}  // namespace

int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Bytes buildFrame(int opcode, const Bytes &payload, bool fin, int rsv, bool mask, uint32_t maskKey)
{
    Bytes f;
    f.reserve(payload.size() + 14);
    f.push_back(char((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)));
    const uint64_t n = payload.size();
    const unsigned char m = mask ? 0x80 : 0;
    if (n < 126) {
        f.push_back(char(m | n));
    } else if (n < 65536) {
        f.push_back(char(m | 126));
        f.push_back(char(n >> 8));
        f.push_back(char(n & 0xff));
    } else {
        f.push_back(char(m | 127));
        for (int i = 7; i >= 0; --i)
            f.push_back(char((n >> (8 * i)) & 0xff));
    }
    if (!mask) {
        f += payload;
        return f;
    }
    const unsigned char key[4] = {(unsigned char)(maskKey >> 24), (unsigned char)(maskKey >> 16),
                                  (unsigned char)(maskKey >> 8), (unsigned char)maskKey};
    f.append(reinterpret_cast<const char *>(key), 4);
    const size_t start = f.size();
    f += payload;
    for (size_t i = 0; i < payload.size(); ++i)
        f[start + i] = char((unsigned char)f[start + i] ^ key[i & 3]);
    return f;
}

long utf8ErrorOffset(const Bytes &s)
{
    // RFC 3629 §4 / Unicode table 3-7: the well-formed byte sequences.
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        int need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c == 0xe0) {
            need = 2;
            lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            need = 2;
        } else if (c == 0xed) {
            need = 2;
            hi = 0x9f;
        } else if (c == 0xf0) {
            need = 3;
            lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            need = 3;
        } else if (c == 0xf4) {
            need = 3;
            hi = 0x8f;
        } else {
            return long(i);
        }
        ++i;
        for (int k = 0; k < need; ++k) {
            if (i >= n)
                return long(n);
            const unsigned char d = (unsigned char)s[i];
            if (d < lo || d > hi)
                return long(i);
            lo = 0x80;
            hi = 0xbf;
            ++i;
        }
    }
    return -1;
}

Bytes closePayload(int code, const Bytes &reason)
{
    Bytes p;
    p.push_back(char((code >> 8) & 0xff));
    p.push_back(char(code & 0xff));
    return p + reason;
}

std::string DeflateConfig::header() const
{
    std::string h = "permessage-deflate";
    if (clientNoContextTakeover)
        h += "; client_no_context_takeover";
    if (serverNoContextTakeover)
        h += "; server_no_context_takeover";
    if (serverMaxWindowBits > 0)
        h += "; server_max_window_bits=" + std::to_string(serverMaxWindowBits);
    if (clientMaxWindowBits > 0)
        h += "; client_max_window_bits=" + std::to_string(clientMaxWindowBits);
    else if (clientMaxWindowBits < 0)
        h += "; client_max_window_bits";
    return h;
}

Deflater::Deflater(int windowBits, bool noContextTakeover) : m_reset(noContextTakeover)
{
    deflateInit2(&m_z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -windowBits, 8, Z_DEFAULT_STRATEGY);
}

Deflater::~Deflater() { deflateEnd(&m_z); }

Bytes Deflater::compress(const Bytes &in)
{
    Bytes out;
    m_z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    m_z.avail_in = uInt(in.size());
    char buf[65536];
    do {
        m_z.next_out = reinterpret_cast<Bytef *>(buf);
        m_z.avail_out = sizeof buf;
        deflate(&m_z, Z_SYNC_FLUSH);
        out.append(buf, sizeof buf - m_z.avail_out);
    } while (m_z.avail_out == 0);
    // RFC 7692 §7.2.1: remove the 4 octets 0x00 0x00 0xff 0xff at the tail end.
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, Bytes("\0\0\xff\xff", 4)) == 0)
        out.resize(out.size() - 4);
    if (m_reset)
        deflateReset(&m_z);
    return out;
}

Inflater::Inflater(int windowBits, bool noContextTakeover) : m_reset(noContextTakeover)
{
    inflateInit2(&m_z, -windowBits);
}

Inflater::~Inflater() { inflateEnd(&m_z); }

bool Inflater::decompress(const Bytes &in, Bytes *out, std::string *error, size_t maxOutput)
{
    // RFC 7692 §7.2.2: append 0x00 0x00 0xff 0xff, then decompress.
    Bytes data = in + Bytes("\0\0\xff\xff", 4);
    m_z.next_in = reinterpret_cast<Bytef *>(data.data());
    m_z.avail_in = uInt(data.size());
    char buf[65536];
    for (int guard = 0; guard < 1 << 20; ++guard) {
        m_z.next_out = reinterpret_cast<Bytef *>(buf);
        m_z.avail_out = sizeof buf;
        const int r = inflate(&m_z, Z_SYNC_FLUSH);
        if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_MEM_ERROR || r == Z_STREAM_ERROR) {
            *error = std::string("inflate: ") + (m_z.msg ? m_z.msg : "error");
            inflateReset(&m_z);
            return false;
        }
        out->append(buf, sizeof buf - m_z.avail_out);
        if (out->size() > maxOutput) {
            *error = "decompressed message too large";
            return false;
        }
        if (r == Z_STREAM_END) {
            // BFINAL was set: the sender starts a new stream (and a new window) next.
            inflateReset(&m_z);
            if (m_z.avail_in == 0)
                break;
            continue;
        }
        if (m_z.avail_in == 0 && m_z.avail_out != 0)
            break;
        if (r == Z_BUF_ERROR && m_z.avail_in == 0)
            break;
    }
    if (m_reset)
        inflateReset(&m_z);
    return true;
}

std::string Event::describe() const
{
    std::string s = kind == Pong ? "pong" : binary ? "binary" : "text";
    s += "(" + std::to_string(payload.size()) + ":" + hexPrefix(payload, 12) + ")";
    return s;
}

Event textEvent(const Bytes &payload) { return Event{Event::Message, false, payload}; }
Event binaryEvent(const Bytes &payload) { return Event{Event::Message, true, payload}; }
Event pongEvent(const Bytes &payload) { return Event{Event::Pong, false, payload}; }

const char *verdictName(Verdict v)
{
    switch (v) {
    case Verdict::Ok: return "OK";
    case Verdict::NonStrict: return "NON-STRICT";
    case Verdict::Failed: return "FAILED";
    }
    return "?";
}

Session::Session(Role role, int fd, uint32_t seed, int64_t deadline)
    : m_role(role), m_fd(fd), m_rng(seed ? seed : 0x9e3779b9u), m_deadline(deadline)
{
}

Session::~Session()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void Session::setDeflate(const DeflateConfig &agreed)
{
    m_deflate = agreed;
    if (!agreed.enabled)
        return;
    const int clientBits = agreed.clientMaxWindowBits > 0 ? agreed.clientMaxWindowBits : 15;
    const int serverBits = agreed.serverMaxWindowBits > 0 ? agreed.serverMaxWindowBits : 15;
    if (m_role == Role::Client) {
        m_tx = std::make_unique<Deflater>(clientBits, agreed.clientNoContextTakeover);
        m_rx = std::make_unique<Inflater>(serverBits, agreed.serverNoContextTakeover);
    } else {
        m_tx = std::make_unique<Deflater>(serverBits, agreed.serverNoContextTakeover);
        m_rx = std::make_unique<Inflater>(clientBits, agreed.clientNoContextTakeover);
    }
}

void Session::expect(std::vector<Event> ok, std::vector<std::vector<Event>> nonStrict)
{
    m_expectOk = std::move(ok);
    m_expectNonStrict = std::move(nonStrict);
}

void Session::expectFail(int code, std::vector<Event> ok, std::vector<std::vector<Event>> nonStrict)
{
    expect(std::move(ok), std::move(nonStrict));
    expectClose(false, {code}, false);
}

void Session::expectClose(bool closedByMe, std::vector<int> codes, bool requireClean, std::vector<int> nonStrictCodes)
{
    m_expectClose.closedByMe = closedByMe;
    m_expectClose.codes = std::move(codes);
    m_expectClose.nonStrictCodes = std::move(nonStrictCodes);
    m_expectClose.requireClean = requireClean;
}

void Session::nonStrict(const std::string &why) { m_nonStrict.push_back(why); }
void Session::fail(const std::string &why) { m_failures.push_back(why); }
void Session::note(const std::string &text) { m_notes.push_back(text); }

Bytes Session::frame(int opcode, const Bytes &payload, bool fin, int rsv)
{
    const bool mask = m_role == Role::Client;
    m_rng ^= m_rng << 13;
    m_rng ^= m_rng >> 17;
    m_rng ^= m_rng << 5;
    return buildFrame(opcode, payload, fin, rsv, mask, m_rng);
}

void Session::sendFrame(int opcode, const Bytes &payload, bool fin, int rsv, size_t chop, int delayMs)
{
    sendRaw(frame(opcode, payload, fin, rsv), chop, delayMs);
}

void Session::sendMessage(int opcode, const Bytes &payload, size_t fragmentSize, bool compress)
{
    const bool deflated = compress && m_tx;
    const Bytes data = deflated ? m_tx->compress(payload) : payload;
    if (fragmentSize == 0 || data.size() <= fragmentSize) {
        sendFrame(opcode, data, true, deflated ? 4 : 0);
        return;
    }
    Bytes out;
    for (size_t off = 0; off < data.size(); off += fragmentSize) {
        const bool first = off == 0;
        const bool last = off + fragmentSize >= data.size();
        out += frame(first ? opcode : OpCont, data.substr(off, fragmentSize), last, first && deflated ? 4 : 0);
        if (out.size() >= (1u << 20) || last) {
            sendRaw(out);
            out.clear();
        }
    }
}

void Session::sendRaw(const Bytes &bytes, size_t chop, int delayMs)
{
    if (chop == 0 || chop >= bytes.size()) {
        writeAll(bytes);
    } else {
        for (size_t off = 0; off < bytes.size() && !m_writeFailed && !m_tcpClosed; off += chop) {
            writeAll(bytes.substr(off, chop));
            if (delayMs > 0)
                sleepPump(delayMs);
        }
    }
    flushPending();
}

void Session::sendClose(int code, const Bytes &reason)
{
    sendClosePayload(code < 0 ? Bytes() : closePayload(code, reason));
}

void Session::sendClosePayload(const Bytes &payload, size_t chop)
{
    if (!m_closeReceived && !m_closeSent)
        m_closedByMe = true;
    m_closeSent = true;
    sendRaw(frame(OpClose, payload), chop);
}

void Session::writeAll(const Bytes &bytes)
{
    size_t off = 0;
    while (off < bytes.size()) {
        if (m_fd < 0 || m_tcpClosed || m_writeFailed)
            return;
        const int wait = remaining(60000);
        if (wait <= 0) {
            m_writeFailed = true;
            m_timedOut = true;
            note("write timed out");
            return;
        }
        pollfd p{m_fd, short(POLLIN | POLLOUT), 0};
        const int r = ::poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            readAvailable();
        if (m_tcpClosed)
            return;
        if (p.revents & POLLOUT) {
            const ssize_t k = ::send(m_fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    continue;
                m_writeFailed = true;
                note(std::string("write failed: ") + std::strerror(errno));
                return;
            }
            off += size_t(k);
        }
    }
}

void Session::readAvailable()
{
    char buf[262144];
    for (int i = 0; i < 64 && m_fd >= 0 && !m_tcpClosed; ++i) {
        const ssize_t k = ::recv(m_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k > 0) {
            m_in.append(buf, size_t(k));
            parseFrames();
            continue;
        }
        if (k == 0) {
            m_tcpClosed = true;
            break;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        if (errno == EINTR)
            continue;
        m_tcpClosed = true;
        note(std::string("read: ") + std::strerror(errno));
        break;
    }
    flushPending();
}

void Session::parseFrames()
{
    for (;;) {
        if (m_tcpClosed || !m_violations.empty())
            return;
        const size_t avail = m_in.size() - m_inPos;
        if (avail < 2)
            break;
        const unsigned char *p = reinterpret_cast<const unsigned char *>(m_in.data()) + m_inPos;
        const bool fin = p[0] & 0x80;
        const int rsv = (p[0] >> 4) & 7;
        const int opcode = p[0] & 0x0f;
        const bool masked = p[1] & 0x80;
        uint64_t len = p[1] & 0x7f;
        size_t header = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t(p[2]) << 8) | p[3];
            header = 4;
            if (len < 126)
                return violation("16-bit length used for a payload under 126 bytes");
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | p[2 + i];
            header = 10;
            if (len >> 63)
                return violation("64-bit length with the most significant bit set");
            if (len < 65536)
                return violation("64-bit length used for a payload under 65536 bytes");
        }
        if (len > kMaxMessage)
            return violation("frame of " + std::to_string(len) + " bytes");
        if (masked)
            header += 4;
        if (avail < header + len)
            break;
        // RFC 6455 §5.1: clients mask every frame, servers never do.
        if (m_role == Role::Client && masked)
            return violation("the server sent a masked frame");
        if (m_role == Role::Server && !masked)
            return violation("the client sent an unmasked frame");
        Bytes payload(m_in, m_inPos + header, size_t(len));
        if (masked) {
            const unsigned char *key = p + header - 4;
            for (size_t i = 0; i < payload.size(); ++i)
                payload[i] = char((unsigned char)payload[i] ^ key[i & 3]);
        }
        m_inPos += header + size_t(len);
        handleFrame(fin, rsv, opcode, std::move(payload));
    }
    if (m_inPos > 0 && (m_inPos == m_in.size() || m_inPos > (1u << 20))) {
        m_in.erase(0, m_inPos);
        m_inPos = 0;
    }
}

void Session::violation(const std::string &what)
{
    m_violations.push_back(what);
    closeTcp();
}

void Session::handleFrame(bool fin, int rsv, int opcode, Bytes &&payload)
{
    if (m_closeReceived)
        return violation("frame after the close frame");
    if (opcode >= 8) {
        if (!fin || payload.size() > 125 || rsv != 0 || opcode > 10)
            return violation("invalid control frame, opcode " + std::to_string(opcode));
        if (opcode == OpClose) {
            if (payload.size() == 1)
                return violation("close frame with a 1-byte payload");
            if (payload.size() >= 2) {
                m_peerCloseHasCode = true;
                m_peerCloseCode = ((unsigned char)payload[0] << 8) | (unsigned char)payload[1];
                if (!validCloseCodeOnWire(m_peerCloseCode))
                    return violation("peer sent close code " + std::to_string(m_peerCloseCode));
                if (utf8ErrorOffset(payload.substr(2)) >= 0)
                    return violation("close reason is not UTF-8");
            }
            m_closeReceived = true;
            if (m_closeSent) {
                m_cleanClose = !m_writeFailed;
                if (m_role == Role::Server)
                    m_closeAfterFlush = true;
            } else if (m_midFrame) {
                // We are inside a frame of our own: no valid reply is possible any more.
                if (m_role == Role::Server)
                    m_closeAfterFlush = true;
            } else {
                m_closeSent = true;
                // Echo the peer's code, as Autobahn does.
                queueControl(frame(OpClose, m_peerCloseHasCode ? closePayload(m_peerCloseCode) : Bytes()));
                m_cleanClose = true;
                if (m_role == Role::Server)
                    m_closeAfterFlush = true;
            }
            return;
        }
        if (opcode == OpPing) {
            if (!m_closeSent)
                queueControl(frame(OpPong, payload));
            return;
        }
        if (!m_syncMarker.empty() && payload == m_syncMarker) {
            m_syncSeen = true;
            return;
        }
        m_events.push_back(pongEvent(payload));
        return;
    }
    if (opcode != OpCont && opcode != OpText && opcode != OpBinary)
        return violation("reserved opcode " + std::to_string(opcode));
    if (opcode == OpCont) {
        if (m_fragOpcode < 0)
            return violation("continuation frame without a message");
        if (rsv != 0)
            return violation("RSV bits on a continuation frame");
        m_fragData += payload;
    } else {
        if (m_fragOpcode >= 0)
            return violation("new message inside a fragmented message");
        if ((rsv & 3) || ((rsv & 4) && !m_rx))
            return violation("RSV bits " + std::to_string(rsv) + " without an extension");
        m_fragOpcode = opcode;
        m_fragCompressed = rsv & 4;
        m_fragData = std::move(payload);
    }
    if (m_fragData.size() > kMaxMessage)
        return violation("message too large");
    if (!fin)
        return;
    Bytes message;
    if (m_fragCompressed) {
        std::string error;
        if (!m_rx->decompress(m_fragData, &message, &error, kMaxMessage))
            return violation(error);
    } else {
        message = std::move(m_fragData);
    }
    m_fragData.clear();
    const bool binary = m_fragOpcode == OpBinary;
    m_fragOpcode = -1;
    if (!binary && utf8ErrorOffset(message) >= 0)
        return violation("the peer sent invalid UTF-8 text");
    m_events.push_back(Event{Event::Message, binary, std::move(message)});
}

void Session::queueControl(const Bytes &frameBytes)
{
    m_pending += frameBytes;
}

void Session::flushPending()
{
    if (m_midFrame || m_fd < 0)
        return;
    if (!m_pending.empty() && !m_tcpClosed) {
        const Bytes out = std::move(m_pending);
        m_pending.clear();
        writeAll(out);
    }
    if (m_closeAfterFlush && m_fd >= 0)
        closeTcp();
}

void Session::closeTcp()
{
    if (m_fd >= 0) {
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_fd = -1;
    }
    m_tcpClosed = true;
}

int Session::remaining(int timeoutMs) const
{
    const int64_t left = m_deadline - nowMs();
    return int(std::max<int64_t>(0, std::min<int64_t>(left, timeoutMs)));
}

void Session::pump(int timeoutMs)
{
    flushPending();
    if (m_fd < 0 || m_tcpClosed)
        return;
    pollfd p{m_fd, POLLIN, 0};
    const int r = ::poll(&p, 1, remaining(timeoutMs));
    if (r > 0)
        readAvailable();
}

void Session::sleepPump(int ms)
{
    const int64_t end = nowMs() + ms;
    for (int guard = 0; guard < 100000 && !m_tcpClosed; ++guard) {
        const int64_t left = end - nowMs();
        if (left <= 0 || nowMs() >= m_deadline)
            break;
        pump(int(left));
    }
}

bool Session::waitEvents(size_t count, int timeoutMs)
{
    const int64_t end = std::min<int64_t>(nowMs() + timeoutMs, m_deadline);
    for (int guard = 0; guard < 10000000; ++guard) {
        if (m_events.size() >= count)
            return true;
        if (m_tcpClosed || m_closeReceived || !m_violations.empty())
            return false;
        const int64_t left = end - nowMs();
        if (left <= 0)
            return false;
        pump(int(left));
    }
    return false;
}

bool Session::waitCloseFrame(int timeoutMs)
{
    const int64_t end = std::min<int64_t>(nowMs() + timeoutMs, m_deadline);
    for (int guard = 0; guard < 10000000; ++guard) {
        if (m_closeReceived || m_tcpClosed)
            return true;
        const int64_t left = end - nowMs();
        if (left <= 0)
            return false;
        pump(int(left));
    }
    return false;
}

bool Session::sync(int timeoutMs)
{
    if (m_closeSent || m_closeReceived || m_tcpClosed)
        return false;
    m_syncMarker = "conformance-sync-" + std::to_string(++m_syncCounter);
    m_syncSeen = false;
    sendFrame(OpPing, m_syncMarker);
    const int64_t end = std::min<int64_t>(nowMs() + timeoutMs, m_deadline);
    for (int guard = 0; guard < 10000000 && !m_syncSeen; ++guard) {
        if (m_tcpClosed || m_closeReceived)
            return false;
        const int64_t left = end - nowMs();
        if (left <= 0) {
            note("no pong for the sync ping");
            return false;
        }
        pump(int(left));
    }
    return m_syncSeen;
}

void Session::waitClosed(int timeoutMs)
{
    const int64_t end = std::min<int64_t>(nowMs() + timeoutMs, m_deadline + 2000);
    for (int guard = 0; guard < 10000000 && !m_tcpClosed; ++guard) {
        const int64_t left = end - nowMs();
        if (left <= 0)
            break;
        flushPending();
        if (m_tcpClosed || m_fd < 0)
            break;
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, int(left)) > 0)
            readAvailable();
    }
    if (!m_tcpClosed) {
        if (m_closeSent && m_closeReceived && m_role == Role::Client) {
            m_droppedByMe = true;
        } else {
            m_timedOut = true;
            note(m_closeSent ? "timed out waiting for the close handshake" : "timed out waiting for the peer to close");
        }
        closeTcp();
    }
}

void Session::endNormal()
{
    waitEvents(m_expectOk.size(), 10000);
    sync();
    if (!m_closeReceived && !m_tcpClosed && !m_closeSent)
        sendClose(1000);
    waitClosed(3000);
}

void Session::endFail(int timeoutMs)
{
    waitClosed(timeoutMs);
}

static std::string describeEvents(const std::vector<Event> &events)
{
    std::string s = "[";
    for (size_t i = 0; i < events.size() && i < 4; ++i)
        s += (i ? ", " : "") + events[i].describe();
    if (events.size() > 4)
        s += ", ... (" + std::to_string(events.size()) + " events)";
    return s + "]";
}

Verdict Session::evaluate(std::string *reason) const
{
    Verdict v = Verdict::Ok;
    std::vector<std::string> why;
    const auto worse = [&](Verdict w, const std::string &text) {
        if (int(w) > int(v))
            v = w;
        why.push_back(std::string(w == Verdict::Failed ? "FAILED: " : "NON-STRICT: ") + text);
    };
    for (const std::string &f : m_failures)
        worse(Verdict::Failed, f);
    for (const std::string &f : m_violations)
        worse(Verdict::Failed, "peer violated the protocol: " + f);
    // Behaviour: what the peer sent back.
    if (m_events != m_expectOk) {
        bool matched = false;
        for (const auto &alt : m_expectNonStrict) {
            if (m_events == alt) {
                matched = true;
                worse(Verdict::NonStrict, "got the non-strict alternative " + describeEvents(alt));
                break;
            }
        }
        if (!matched) {
            std::string text = "expected " + describeEvents(m_expectOk) + ", got " + describeEvents(m_events);
            for (size_t i = 0; i < m_events.size() && i < m_expectOk.size(); ++i) {
                if (!(m_events[i] == m_expectOk[i])) {
                    const Bytes &a = m_events[i].payload, &b = m_expectOk[i].payload;
                    size_t d = 0;
                    while (d < a.size() && d < b.size() && a[d] == b[d])
                        ++d;
                    text += " (event " + std::to_string(i) + " differs at byte " + std::to_string(d) + ")";
                    break;
                }
            }
            worse(Verdict::Failed, text);
        }
    }
    for (const std::string &n : m_nonStrict)
        worse(Verdict::NonStrict, n);
    // Closing behaviour (Autobahn's behaviorClose).
    const CloseExpectation &e = m_expectClose;
    if (m_timedOut && !m_closeReceived)
        worse(Verdict::Failed, e.closedByMe ? "the peer did not answer the close handshake" : "the peer did not fail the connection");
    else if (e.closedByMe != m_closedByMe)
        worse(Verdict::Failed, e.closedByMe ? "the peer closed the connection (code " + std::to_string(m_peerCloseCode) + ")"
                                           : "the peer did not fail the connection");
    if (e.requireClean && !m_cleanClose)
        worse(Verdict::Failed, "the close handshake did not complete cleanly");
    if (m_closeReceived && m_peerCloseHasCode && !e.codes.empty()) {
        const auto in = [](const std::vector<int> &l, int c) { return std::find(l.begin(), l.end(), c) != l.end(); };
        if (in(e.nonStrictCodes, m_peerCloseCode))
            worse(Verdict::NonStrict, "close code " + std::to_string(m_peerCloseCode) + " (strictest: " + std::to_string(e.codes.front()) + ")");
        else if (!in(e.codes, m_peerCloseCode))
            worse(Verdict::Failed, "wrong close code " + std::to_string(m_peerCloseCode) + ", expected " + std::to_string(e.codes.front()));
    }
    if (!e.closedByMe && !m_closeReceived && m_violations.empty() && !m_timedOut)
        worse(Verdict::NonStrict, "the peer dropped TCP without a close frame");
    else if (!e.closedByMe && m_closeReceived && !m_peerCloseHasCode && !e.codes.empty())
        worse(Verdict::NonStrict, "close frame without a code, expected " + std::to_string(e.codes.front()));
    if (m_droppedByMe)
        worse(Verdict::NonStrict, "the server did not close TCP after the close handshake");
    std::string text;
    for (const std::string &w : why)
        text += (text.empty() ? "" : "; ") + w;
    for (const std::string &n : m_notes)
        text += (text.empty() ? "" : "; ") + std::string("note: ") + n;
    *reason = text;
    return v;
}
