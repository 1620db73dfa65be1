// wskit-loadgen: a WebSocket (and raw TCP) load generator for the network benchmarks
// (bench/net.sh, doc/benchmarks.md "Network").
//
// It is deliberately independent of WsKit and of Qt: one thread, one epoll set, non-blocking
// sockets, and a minimal RFC 6455 client (HTTP upgrade with a fixed key, masked frames with
// a fixed mask key, unmasked server frames parsed incrementally, pings answered, close
// handshake). Every echoed byte is compared with what was sent; a mismatch, an unexpected
// close or a protocol error ends the run with exit status 2 and a message on stderr.
//
// Modes (one JSON line on stdout per run):
//   echo      --conns N --size S --inflight K [--binary] (--duration SEC [--warmup SEC] | --messages M)
//             messages/s, MB/s (payload bytes echoed), p50/p99 latency from per-message stamps
//   connrate  --total T --concurrency C [--size S]
//             each connection: handshake + one echo + close handshake; connections/s
//   idle      --conns N [--warm W] [--hold SEC]
//             opens W connections, prints {"event":"warm"}, waits for SIGUSR1, opens the rest,
//             prints {"event":"ready"}, waits for SIGUSR1 (or --hold seconds), closes cleanly
//   --raw     plain TCP instead of WebSocket: the same payload bytes, no framing, no handshake;
//             a connection ends with shutdown(SHUT_WR) and waits for the server's EOF.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const char *fmt, ...)
{
    std::va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "wskit-loadgen: FAIL: ");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
    std::exit(2);
}

uint64_t nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

double cpuSeconds()
{
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

enum class Mode { Echo, ConnRate, Idle };

struct Options
{
    std::string host = "127.0.0.1";
    int port = 0;
    Mode mode = Mode::Echo;
    bool raw = false;
    int conns = 1;
    size_t size = 32;
    int inflight = 1;
    bool binary = false;
    double duration = 5;
    double warmup = 0.5;
    long long messages = 0;   // fixed total instead of a duration
    int total = 1000;         // connrate
    int concurrency = 50;     // connrate; idle: handshakes in progress at once
    int warm = 0;             // idle
    double hold = 0;          // idle: 0 = until SIGUSR1
    double timeout = 30;      // no progress for this long = failure
    std::string path = "/";
};

// RFC 6455 §1.3: the accept key of "dGhlIHNhbXBsZSBub25jZQ==". A fixed key is enough here:
// the server cannot tell, and the client still checks the server's answer.
constexpr const char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char kAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
// RFC 6455 §5.3 wants an unpredictable mask; for a benchmark a fixed, non-zero key is fine:
// the server still has to unmask every byte.
constexpr uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
constexpr size_t kStampLen = 16;
constexpr size_t kInlineLimit = 64 * 1024;  // larger payloads are sent from the shared buffer

struct Seg
{
    std::string own;
    const char *ext = nullptr;
    size_t extLen = 0;
    size_t off = 0;
    const char *data() const { return ext ? ext : own.data(); }
    size_t size() const { return ext ? extLen : own.size(); }
};

enum class St { Connecting, Handshake, Open, Closing, WaitEof, Done };

struct Conn
{
    int fd = -1;
    uint32_t idx = 0;
    St st = St::Connecting;
    bool wantOut = false;
    std::deque<Seg> out;
    size_t outBytes = 0;
    std::string hs;        // handshake response so far
    // frame parser
    uint8_t hdr[14];
    size_t hdrHave = 0;
    bool inPayload = false;
    uint64_t payloadLeft = 0;
    uint8_t opcode = 0;
    bool fin = false;
    bool msgActive = false;
    uint8_t msgOpcode = 0;
    std::string ctrl;
    // messages
    uint64_t msgOffset = 0;    // bytes of the message being received
    uint64_t sentSeq = 0, recvSeq = 0;
    long long budget = -1;     // messages left to send (-1: unlimited)
    std::deque<uint64_t> stamps;
    uint64_t startNs = 0;
};

struct Stats
{
    uint64_t messages = 0;
    uint64_t bytes = 0;
    std::vector<float> latUs;
};

class LoadGen
{
public:
    explicit LoadGen(const Options &o) : opt(o) {}
    int run();

private:
    Options opt;
    int ep = -1;
    int sigFd = -1;
    sockaddr_in addr{};
    std::string request;
    std::vector<char> base;        // payload as sent (before masking), stamp area included
    std::vector<char> maskedBase;  // base ^ mask
    std::vector<std::unique_ptr<Conn>> conns;
    std::vector<char> rbuf = std::vector<char>(256 * 1024);
    int openCount = 0, doneCount = 0, started = 0, active = 0;
    bool sending = true;       // echo: new messages may be sent
    bool measuring = false;
    bool signalled = false;
    uint64_t winStart = 0, winEnd = 0;
    uint64_t lastProgress = 0;
    Stats stats;
    std::vector<float> connLatUs;

    void makeStamp(const Conn &c, uint64_t seq, char *out) const
    {
        static const char hex[] = "0123456789abcdef";
        uint64_t v = (uint64_t(c.idx) << 40) | seq;
        char full[kStampLen];
        for (int i = int(kStampLen) - 1; i >= 0; --i) {
            full[i] = hex[v & 15];
            v >>= 4;
        }
        const size_t n = std::min(kStampLen, opt.size);
        std::memcpy(out, full + (kStampLen - n), n);
    }

    void startConnect();
    void onEvent(Conn &c, uint32_t events);
    void onConnected(Conn &c);
    void onOpen(Conn &c);
    void readSome(Conn &c);
    void onBytes(Conn &c, const char *p, size_t n);
    void onHandshakeBytes(Conn &c, const char *p, size_t n);
    void onFrameBytes(Conn &c, const char *p, size_t n);
    void onRawBytes(Conn &c, const char *p, size_t n);
    void verify(Conn &c, const char *p, size_t n);
    void onMessageDone(Conn &c);
    void onFrameDone(Conn &c);
    void onEof(Conn &c);
    void sendMessage(Conn &c);
    void sendFrame(Conn &c, uint8_t opcode, const char *payload, size_t len);
    void startClose(Conn &c);
    void finish(Conn &c);
    void queue(Conn &c, Seg &&s);
    void flush(Conn &c);
    void updateEpoll(Conn &c);
    void pump(int timeoutMs);
    bool waitSignalOrTimeout(double seconds);
    void openAll(int target);
};

void LoadGen::queue(Conn &c, Seg &&s)
{
    c.outBytes += s.size();
    if (!s.ext && !c.out.empty() && !c.out.back().ext && c.out.back().own.size() + s.own.size() <= kInlineLimit)
        c.out.back().own += s.own;
    else
        c.out.push_back(std::move(s));
}

void LoadGen::flush(Conn &c)
{
    while (!c.out.empty()) {
        iovec iov[16];
        int n = 0;
        for (auto it = c.out.begin(); it != c.out.end() && n < 16; ++it, ++n) {
            iov[n].iov_base = const_cast<char *>(it->data() + it->off);
            iov[n].iov_len = it->size() - it->off;
        }
        ssize_t w = ::writev(c.fd, iov, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            fail("connection %u: write: %s", c.idx, std::strerror(errno));
        }
        c.outBytes -= size_t(w);
        size_t left = size_t(w);
        while (left > 0) {
            Seg &s = c.out.front();
            const size_t avail = s.size() - s.off;
            if (left >= avail) {
                left -= avail;
                c.out.pop_front();
            } else {
                s.off += left;
                left = 0;
            }
        }
    }
    updateEpoll(c);
}

void LoadGen::updateEpoll(Conn &c)
{
    const bool want = !c.out.empty() || c.st == St::Connecting;
    if (want == c.wantOut)
        return;
    c.wantOut = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) < 0)
        fail("epoll_ctl: %s", std::strerror(errno));
}

void LoadGen::startConnect()
{
    auto c = std::make_unique<Conn>();
    c->idx = uint32_t(conns.size());
    c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        fail("socket: %s (raise ulimit -n?)", std::strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->startNs = nowNs();
    if (::connect(c->fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) < 0 && errno != EINPROGRESS)
        fail("connection %u: connect: %s", c->idx, std::strerror(errno));
    c->wantOut = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c.get();
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        fail("epoll_ctl: %s", std::strerror(errno));
    if (opt.messages > 0) {
        const long long per = opt.messages / opt.conns;
        c->budget = per + (c->idx < uint32_t(opt.messages % opt.conns) ? 1 : 0);
    } else if (opt.mode == Mode::ConnRate) {
        c->budget = 1;
    }
    ++started;
    ++active;
    conns.push_back(std::move(c));
}

void LoadGen::onConnected(Conn &c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
        fail("connection %u: connect: %s", c.idx, std::strerror(err));
    if (opt.raw) {
        c.st = St::Open;
        onOpen(c);
    } else {
        c.st = St::Handshake;
        Seg s;
        s.own = request;
        queue(c, std::move(s));
    }
    flush(c);
}

void LoadGen::onOpen(Conn &c)
{
    ++openCount;
    lastProgress = nowNs();
    if (opt.mode == Mode::ConnRate) {
        sendMessage(c);
        flush(c);
    }
    // echo: every connection starts together once all are open (see run()).
}

void LoadGen::sendMessage(Conn &c)
{
    if (c.budget == 0)
        return;
    if (c.budget > 0)
        --c.budget;
    const size_t n = opt.size;
    const size_t stampLen = std::min(kStampLen, n);
    char stamp[kStampLen];
    makeStamp(c, c.sentSeq++, stamp);
    c.stamps.push_back(nowNs());
    Seg head;
    if (!opt.raw) {
        char h[14];
        size_t hl = 0;
        h[hl++] = char(0x80 | (opt.binary ? 2 : 1));
        if (n < 126) {
            h[hl++] = char(0x80 | n);
        } else if (n < 65536) {
            h[hl++] = char(0x80 | 126);
            h[hl++] = char(n >> 8);
            h[hl++] = char(n);
        } else {
            h[hl++] = char(0x80 | 127);
            for (int i = 7; i >= 0; --i)
                h[hl++] = char(uint64_t(n) >> (8 * i));
        }
        std::memcpy(h + hl, kMask, 4);
        hl += 4;
        for (size_t i = 0; i < stampLen; ++i)
            stamp[i] = char(uint8_t(stamp[i]) ^ kMask[i & 3]);
        head.own.assign(h, hl);
    }
    const std::vector<char> &src = opt.raw ? base : maskedBase;
    head.own.append(stamp, stampLen);
    if (n <= kInlineLimit) {
        head.own.append(src.data() + stampLen, n - stampLen);
        queue(c, std::move(head));
    } else {
        queue(c, std::move(head));
        Seg body;
        body.ext = src.data() + stampLen;
        body.extLen = n - stampLen;
        queue(c, std::move(body));
    }
}

void LoadGen::sendFrame(Conn &c, uint8_t opcode, const char *payload, size_t len)
{
    Seg s;
    s.own.push_back(char(0x80 | opcode));
    s.own.push_back(char(0x80 | len));  // control frames: len <= 125
    s.own.append(reinterpret_cast<const char *>(kMask), 4);
    for (size_t i = 0; i < len; ++i)
        s.own.push_back(char(uint8_t(payload[i]) ^ kMask[i & 3]));
    queue(c, std::move(s));
}

void LoadGen::startClose(Conn &c)
{
    if (c.st != St::Open)
        return;
    c.st = St::Closing;
    if (opt.raw) {
        flush(c);
        if (!c.out.empty())
            fail("connection %u: closing with unsent data", c.idx);
        ::shutdown(c.fd, SHUT_WR);
    } else {
        const char code[2] = {char(1000 >> 8), char(1000 & 0xff)};  // RFC 6455 §7.4.1: normal closure
        sendFrame(c, 8, code, 2);
        flush(c);
    }
}

void LoadGen::finish(Conn &c)
{
    if (c.st == St::Done)
        return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.st = St::Done;
    c.out.clear();
    ++doneCount;
    --active;
    lastProgress = nowNs();
    if (opt.mode == Mode::ConnRate)
        connLatUs.push_back(float(double(nowNs() - c.startNs) / 1e3));
}

void LoadGen::onEof(Conn &c)
{
    if (c.st == St::WaitEof || (opt.raw && c.st == St::Closing)) {
        finish(c);
        return;
    }
    fail("connection %u: server closed the TCP connection unexpectedly (state %d, %" PRIu64 " of %" PRIu64
         " echoes received)", c.idx, int(c.st), c.recvSeq, c.sentSeq);
}

void LoadGen::readSome(Conn &c)
{
    for (int round = 0; round < 4; ++round) {
        ssize_t r = ::read(c.fd, rbuf.data(), rbuf.size());
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            fail("connection %u: read: %s (state %d)", c.idx, std::strerror(errno), int(c.st));
        }
        if (r == 0) {
            onEof(c);
            return;
        }
        onBytes(c, rbuf.data(), size_t(r));
        if (c.st == St::Done)
            return;
        if (!c.out.empty())
            flush(c);
        if (size_t(r) < rbuf.size())
            return;
    }
}

void LoadGen::onBytes(Conn &c, const char *p, size_t n)
{
    if (c.st == St::Handshake)
        onHandshakeBytes(c, p, n);
    else if (opt.raw)
        onRawBytes(c, p, n);
    else
        onFrameBytes(c, p, n);
}

void LoadGen::onHandshakeBytes(Conn &c, const char *p, size_t n)
{
    const size_t old = c.hs.size();
    c.hs.append(p, n);
    const size_t end = c.hs.find("\r\n\r\n", old > 3 ? old - 3 : 0);
    if (end == std::string::npos) {
        if (c.hs.size() > 16384)
            fail("connection %u: handshake response too long", c.idx);
        return;
    }
    std::string head = c.hs.substr(0, end + 2);
    if (head.compare(0, 13, "HTTP/1.1 101 ") != 0)
        fail("connection %u: handshake refused: %s", c.idx, head.substr(0, head.find('\r')).c_str());
    std::string lower = head;
    for (char &ch : lower)
        ch = char(std::tolower(static_cast<unsigned char>(ch)));
    const size_t k = lower.find("\r\nsec-websocket-accept:");
    if (k == std::string::npos)
        fail("connection %u: no Sec-WebSocket-Accept", c.idx);
    size_t v = k + 23;
    while (v < head.size() && head[v] == ' ')
        ++v;
    if (head.compare(v, sizeof kAccept - 1, kAccept) != 0)
        fail("connection %u: wrong Sec-WebSocket-Accept", c.idx);
    if (lower.find("\r\nsec-websocket-extensions:") != std::string::npos)
        fail("connection %u: the server negotiated an extension that was not offered", c.idx);
    std::string rest = c.hs.substr(end + 4);
    c.hs.clear();
    c.hs.shrink_to_fit();
    c.st = St::Open;
    onOpen(c);
    if (!rest.empty())
        onFrameBytes(c, rest.data(), rest.size());
}

void LoadGen::verify(Conn &c, const char *p, size_t n)
{
    if (c.recvSeq >= c.sentSeq)
        fail("connection %u: received data but no message is in flight", c.idx);
    if (c.msgOffset + n > opt.size)
        fail("connection %u: echo of message %" PRIu64 " is longer than the %zu bytes sent", c.idx, c.recvSeq, opt.size);
    size_t off = size_t(c.msgOffset);
    const size_t stampLen = std::min(kStampLen, opt.size);
    if (off < stampLen) {
        char stamp[kStampLen];
        makeStamp(c, c.recvSeq, stamp);
        const size_t m = std::min(n, stampLen - off);
        if (std::memcmp(p, stamp + off, m) != 0)
            fail("connection %u: echo of message %" PRIu64 " has the wrong stamp (out of order or corrupted): "
                 "expected %.*s", c.idx, c.recvSeq, int(stampLen), stamp);
        p += m;
        n -= m;
        off += m;
    }
    if (n > 0 && std::memcmp(p, base.data() + off, n) != 0) {
        size_t i = 0;
        while (p[i] == base[off + i])
            ++i;
        fail("connection %u: echo of message %" PRIu64 " differs at byte %zu", c.idx, c.recvSeq, off + i);
    }
    c.msgOffset = off + n;
}

void LoadGen::onMessageDone(Conn &c)
{
    if (c.msgOffset != opt.size)
        fail("connection %u: echo of message %" PRIu64 " has %" PRIu64 " bytes, sent %zu", c.idx, c.recvSeq,
             c.msgOffset, opt.size);
    const uint64_t t = nowNs();
    const uint64_t sent = c.stamps.front();
    c.stamps.pop_front();
    c.msgOffset = 0;
    ++c.recvSeq;
    lastProgress = t;
    if (!measuring || (t >= winStart && t < winEnd)) {
        ++stats.messages;
        stats.bytes += opt.size;
        stats.latUs.push_back(float(double(t - sent) / 1e3));
    }
    if (opt.mode == Mode::ConnRate) {
        if (opt.raw)
            flush(c);
        startClose(c);
        return;
    }
    if (sending)
        sendMessage(c);  // flushed by readSome() once the whole read is processed
}

void LoadGen::onRawBytes(Conn &c, const char *p, size_t n)
{
    while (n > 0) {
        const size_t take = std::min<size_t>(n, opt.size - size_t(c.msgOffset));
        verify(c, p, take);
        p += take;
        n -= take;
        if (c.msgOffset == opt.size)
            onMessageDone(c);
    }
}

void LoadGen::onFrameDone(Conn &c)
{
    c.inPayload = false;
    c.hdrHave = 0;
    if (c.opcode >= 8) {
        switch (c.opcode) {
        case 8: {  // close
            int code = c.ctrl.size() >= 2 ? (uint8_t(c.ctrl[0]) << 8 | uint8_t(c.ctrl[1])) : 1005;
            if (c.st == St::Closing) {
                c.st = St::WaitEof;  // RFC 6455 §7.1.1: the server closes the TCP connection first
            } else {
                fail("connection %u: unexpected close frame from the server, code %d reason \"%s\" "
                     "(%" PRIu64 " of %" PRIu64 " echoes received)", c.idx, code,
                     c.ctrl.size() > 2 ? c.ctrl.substr(2).c_str() : "", c.recvSeq, c.sentSeq);
            }
            break;
        }
        case 9:  // ping: RFC 6455 §5.5.3, answer with the same payload
            if (c.st == St::Open) {
                sendFrame(c, 10, c.ctrl.data(), c.ctrl.size());
                flush(c);
            }
            break;
        case 10:
            break;
        default:
            fail("connection %u: unknown control opcode %d", c.idx, c.opcode);
        }
        c.ctrl.clear();
        return;
    }
    if (c.fin) {
        c.msgActive = false;
        const uint8_t want = opt.binary ? 2 : 1;
        if (c.msgOpcode != want)
            fail("connection %u: echo of message %" PRIu64 " came back as opcode %d, sent %d", c.idx, c.recvSeq,
                 c.msgOpcode, want);
        onMessageDone(c);
    }
}

void LoadGen::onFrameBytes(Conn &c, const char *p, size_t n)
{
    while (n > 0 && c.st != St::Done) {
        if (!c.inPayload) {
            size_t need = 2;
            if (c.hdrHave >= 2) {
                const uint8_t l7 = c.hdr[1] & 0x7f;
                need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
            }
            const size_t take = std::min(n, need - c.hdrHave);
            std::memcpy(c.hdr + c.hdrHave, p, take);
            c.hdrHave += take;
            p += take;
            n -= take;
            if (c.hdrHave < need)
                continue;
            if (c.hdrHave == 2) {
                const uint8_t l7 = c.hdr[1] & 0x7f;
                if (l7 >= 126)
                    continue;  // extended length follows
            }
            const uint8_t b0 = c.hdr[0], b1 = c.hdr[1];
            if (b0 & 0x70)
                fail("connection %u: RSV bits set in a server frame", c.idx);
            if (b1 & 0x80)
                fail("connection %u: masked server frame (RFC 6455 §5.1)", c.idx);
            c.fin = b0 & 0x80;
            c.opcode = b0 & 0x0f;
            uint64_t len = b1 & 0x7f;
            if (len == 126)
                len = uint64_t(c.hdr[2]) << 8 | c.hdr[3];
            else if (len == 127) {
                len = 0;
                for (int i = 2; i < 10; ++i)
                    len = len << 8 | c.hdr[i];
            }
            if (c.opcode >= 8) {
                if (!c.fin || len > 125)
                    fail("connection %u: invalid control frame", c.idx);
            } else if (c.opcode == 0) {
                if (!c.msgActive)
                    fail("connection %u: continuation frame without a message", c.idx);
            } else if (c.opcode == 1 || c.opcode == 2) {
                if (c.msgActive)
                    fail("connection %u: new message inside a fragmented one", c.idx);
                c.msgActive = true;
                c.msgOpcode = c.opcode;
            } else {
                fail("connection %u: reserved opcode %d", c.idx, c.opcode);
            }
            c.inPayload = true;
            c.payloadLeft = len;
            if (len == 0)
                onFrameDone(c);
            continue;
        }
        const size_t take = size_t(std::min<uint64_t>(n, c.payloadLeft));
        if (c.opcode >= 8)
            c.ctrl.append(p, take);
        else
            verify(c, p, take);
        p += take;
        n -= take;
        c.payloadLeft -= take;
        if (c.payloadLeft == 0)
            onFrameDone(c);
    }
}

void LoadGen::onEvent(Conn &c, uint32_t events)
{
    if (c.st == St::Connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            onConnected(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        readSome(c);
    if (c.st != St::Done && (events & EPOLLOUT))
        flush(c);
}

void LoadGen::pump(int timeoutMs)
{
    epoll_event evs[256];
    const int n = epoll_wait(ep, evs, 256, timeoutMs);
    if (n < 0) {
        if (errno == EINTR)
            return;
        fail("epoll_wait: %s", std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
        if (evs[i].data.ptr == nullptr) {
            signalfd_siginfo si;
            while (::read(sigFd, &si, sizeof si) == ssize_t(sizeof si))
                signalled = true;
            continue;
        }
        onEvent(*static_cast<Conn *>(evs[i].data.ptr), evs[i].events);
    }
    if (nowNs() - lastProgress > uint64_t(opt.timeout * 1e9))
        fail("no progress for %.0f s (%d open, %d done, %d active)", opt.timeout, openCount, doneCount, active);
}

bool LoadGen::waitSignalOrTimeout(double seconds)
{
    const uint64_t until = seconds > 0 ? nowNs() + uint64_t(seconds * 1e9) : 0;
    signalled = false;
    while (!signalled && (until == 0 || nowNs() < until)) {
        lastProgress = nowNs();  // idle on purpose
        pump(50);
    }
    return signalled;
}

void LoadGen::openAll(int target)
{
    while (openCount < target) {
        while (started < target && started - openCount < opt.concurrency)
            startConnect();
        pump(100);
    }
}

}  // namespace

int LoadGen::run()
{
    if (inet_pton(AF_INET, opt.host.c_str(), &addr.sin_addr) != 1)
        fail("not an IPv4 address: %s", opt.host.c_str());
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(opt.port));
    request = "GET " + opt.path + " HTTP/1.1\r\nHost: " + opt.host + ":" + std::to_string(opt.port) +
              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kKey +
              "\r\nSec-WebSocket-Version: 13\r\n\r\n";

    // Payload: printable ASCII for text (valid UTF-8), pseudo-random bytes for binary.
    base.resize(opt.size);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < opt.size; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        base[i] = opt.binary ? char(x >> 24) : char('a' + (x >> 24) % 26);
    }
    maskedBase.resize(opt.size);
    for (size_t i = 0; i < opt.size; ++i)
        maskedBase[i] = char(uint8_t(base[i]) ^ kMask[i & 3]);

    ep = epoll_create1(EPOLL_CLOEXEC);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sigFd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.ptr = nullptr;
    epoll_ctl(ep, EPOLL_CTL_ADD, sigFd, &sev);
    ::signal(SIGPIPE, SIG_IGN);
    lastProgress = nowNs();

    const char *kind = opt.raw ? "raw" : "ws";
    if (opt.mode == Mode::Echo) {
        conns.reserve(size_t(opt.conns));
        while (started < opt.conns)
            startConnect();
        while (openCount < opt.conns)
            pump(100);
        const bool fixed = opt.messages > 0;
        const uint64_t t0 = nowNs();
        measuring = !fixed;
        winStart = t0 + uint64_t(opt.warmup * 1e9);
        winEnd = winStart + uint64_t(opt.duration * 1e9);
        stats.latUs.reserve(1 << 20);
        double cpu0 = cpuSeconds(), cpu1 = 0;
        bool inWindow = false;
        for (auto &c : conns) {
            for (int k = 0; k < opt.inflight; ++k)
                sendMessage(*c);
            flush(*c);
        }
        lastProgress = nowNs();
        for (;;) {
            const uint64_t t = nowNs();
            if (!fixed && !inWindow && t >= winStart) {
                inWindow = true;
                cpu0 = cpuSeconds();
            }
            if (!fixed && sending && t >= winEnd) {
                sending = false;
                cpu1 = cpuSeconds();
            }
            bool allDone = true;
            for (auto &c : conns)
                if (c->recvSeq != c->sentSeq || (fixed && c->budget > 0)) {
                    allDone = false;
                    break;
                }
            if (allDone && (fixed || !sending))
                break;
            pump(10);
        }
        const uint64_t t1 = nowNs();
        if (fixed)
            cpu1 = cpuSeconds();
        const double secs = fixed ? double(t1 - t0) / 1e9 : opt.duration;
        for (auto &c : conns)
            startClose(*c);
        while (doneCount < opt.conns)
            pump(100);
        std::vector<float> &l = stats.latUs;
        auto pct = [&](double q) -> double {
            if (l.empty())
                return 0;
            const size_t i = std::min(l.size() - 1, size_t(q * double(l.size())));
            std::nth_element(l.begin(), l.begin() + long(i), l.end());
            return l[i];
        };
        const double p50 = pct(0.50), p99 = pct(0.99);
        std::printf("{\"mode\":\"echo\",\"kind\":\"%s\",\"conns\":%d,\"size\":%zu,\"inflight\":%d,\"type\":\"%s\","
                    "\"seconds\":%.3f,\"messages\":%" PRIu64 ",\"msg_per_s\":%.1f,\"mb_per_s\":%.3f,"
                    "\"p50_us\":%.1f,\"p99_us\":%.1f,\"loadgen_cpu\":%.3f}\n",
                    kind, opt.conns, opt.size, opt.inflight, opt.binary ? "binary" : "text", secs, stats.messages,
                    double(stats.messages) / secs, double(stats.bytes) / secs / 1e6, p50, p99,
                    (cpu1 - cpu0) / secs);
    } else if (opt.mode == Mode::ConnRate) {
        conns.reserve(size_t(opt.total));
        const uint64_t t0 = nowNs();
        const double cpu0 = cpuSeconds();
        while (doneCount < opt.total) {
            while (started < opt.total && active < opt.concurrency)
                startConnect();
            pump(100);
        }
        const double secs = double(nowNs() - t0) / 1e9;
        const double cpu = cpuSeconds() - cpu0;
        std::sort(connLatUs.begin(), connLatUs.end());
        std::printf("{\"mode\":\"connrate\",\"kind\":\"%s\",\"total\":%d,\"concurrency\":%d,\"size\":%zu,"
                    "\"seconds\":%.3f,\"conns_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"loadgen_cpu\":%.3f}\n",
                    kind, opt.total, opt.concurrency, opt.size, secs, double(opt.total) / secs,
                    double(connLatUs[connLatUs.size() / 2]), double(connLatUs[connLatUs.size() * 99 / 100]),
                    cpu / secs);
    } else {
        conns.reserve(size_t(opt.conns));
        const uint64_t t0 = nowNs();
        if (opt.warm > 0 && opt.warm < opt.conns) {
            openAll(opt.warm);
            std::printf("{\"event\":\"warm\",\"conns\":%d}\n", opt.warm);
            std::fflush(stdout);
            waitSignalOrTimeout(opt.hold);
        }
        openAll(opt.conns);
        const double secs = double(nowNs() - t0) / 1e9;
        std::printf("{\"event\":\"ready\",\"conns\":%d}\n", opt.conns);
        std::fflush(stdout);
        waitSignalOrTimeout(opt.hold);
        // Every connection must still be open (an idle timeout would have failed loudly).
        for (auto &c : conns)
            startClose(*c);
        while (doneCount < opt.conns)
            pump(100);
        std::printf("{\"mode\":\"idle\",\"kind\":\"%s\",\"conns\":%d,\"warm\":%d,\"open_seconds\":%.3f}\n", kind,
                    opt.conns, opt.warm, secs);
    }
    std::fflush(stdout);
    return 0;
}

namespace {

[[noreturn]] void usage()
{
    std::fprintf(stderr,
                 "usage: wskit-loadgen --port P [--host 127.0.0.1] [--raw] MODE-OPTIONS\n"
                 "  --mode echo     --conns N --size BYTES --inflight K [--binary] [--duration S] [--warmup S]\n"
                 "                  [--messages M]   (a fixed total instead of a duration)\n"
                 "  --mode connrate --total T --concurrency C [--size BYTES]\n"
                 "  --mode idle     --conns N [--warm W] [--concurrency C] [--hold S] (0: until SIGUSR1)\n"
                 "  --timeout S     fail when nothing happens for S seconds (default 30)\n");
    std::exit(1);
}

}  // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (a == "--host") o.host = val();
        else if (a == "--port") o.port = std::atoi(val().c_str());
        else if (a == "--mode") {
            const std::string m = val();
            o.mode = m == "echo" ? Mode::Echo : m == "connrate" ? Mode::ConnRate : m == "idle" ? Mode::Idle : (usage(), Mode::Echo);
        }
        else if (a == "--raw") o.raw = true;
        else if (a == "--conns") o.conns = std::atoi(val().c_str());
        else if (a == "--size") o.size = size_t(std::strtoull(val().c_str(), nullptr, 10));
        else if (a == "--inflight") o.inflight = std::atoi(val().c_str());
        else if (a == "--binary") o.binary = true;
        else if (a == "--text") o.binary = false;
        else if (a == "--duration") o.duration = std::atof(val().c_str());
        else if (a == "--warmup") o.warmup = std::atof(val().c_str());
        else if (a == "--messages") o.messages = std::atoll(val().c_str());
        else if (a == "--total") o.total = std::atoi(val().c_str());
        else if (a == "--concurrency") o.concurrency = std::atoi(val().c_str());
        else if (a == "--warm") o.warm = std::atoi(val().c_str());
        else if (a == "--hold") o.hold = std::atof(val().c_str());
        else if (a == "--timeout") o.timeout = std::atof(val().c_str());
        else if (a == "--path") o.path = val();
        else usage();
    }
    if (o.port <= 0 || o.conns <= 0 || o.size == 0 || o.inflight <= 0 || o.total <= 0 || o.concurrency <= 0)
        usage();
    LoadGen g(o);
    return g.run();
}
