// Shared pieces of the libFuzzer targets in tests/fuzz: reading the fuzz input, feeding it in
// chunks, an independent UTF-8 reference, and checkers for the events and the bytes a
// WsConnection produces. Every check ends in __builtin_trap() so that libFuzzer records the
// input as a crash; the message on stderr says which invariant broke.
#pragma once

#include "wsconnection.h"
#include "wsdeflate.h"
#include "wsframe.h"
#include "wsrandom.h"
#include "wsutf8.h"

#include <QtCore/qbytearray.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

[[noreturn]] inline void fuzzFail(const char *what, const char *file, int line)
{
    std::fprintf(stderr, "\n*** WsKit fuzz invariant violated: %s (%s:%d)\n", what, file, line);
    std::fflush(stderr);
    __builtin_trap();
}

// WSKIT_FUZZ_VERBOSE=1 prints every event, to see what an input does (e.g. a crash).
inline bool fuzzVerbose()
{
    static const bool verbose = std::getenv("WSKIT_FUZZ_VERBOSE") != nullptr;
    return verbose;
}

#define FUZZ_CHECK(cond)                                  \
    do {                                                  \
        if (!(cond))                                      \
            fuzzFail(#cond, __FILE__, __LINE__);          \
    } while (0)

// ---- Input -------------------------------------------------------------------------------

// Reads parameters from the front of the fuzz input; past its end every byte reads as 0.
class FuzzInput
{
public:
    FuzzInput(const uint8_t *data, size_t size) : m_data(data), m_size(size) {}

    uint8_t byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }
    // Everything not read yet.
    QByteArrayView rest() const
    {
        return QByteArrayView(reinterpret_cast<const char *>(m_data) + m_pos, qsizetype(m_size - m_pos));
    }

private:
    const uint8_t *m_data;
    size_t m_size;
    size_t m_pos = 0;
};

// Chunk sizes 1..256, taken in turn from four bytes of the input.
class Chunker
{
public:
    explicit Chunker(FuzzInput &in)
    {
        for (int &s : m_sizes)
            s = int(in.byte()) + 1;
    }
    qsizetype next(qsizetype remaining)
    {
        const qsizetype n = std::min<qsizetype>(m_sizes[m_index++ & 3], remaining);
        return n;
    }

private:
    int m_sizes[4];
    unsigned m_index = 0;
};

// ---- UTF-8 reference ----------------------------------------------------------------------

// An implementation of RFC 3629 written independently of WsUtf8Validator: it tracks the code
// point bits seen so far in a sequence and rejects a byte as soon as no code point the
// sequence could still become is valid for its length (overlong forms, surrogates, above
// U+10FFFF).
class RefUtf8
{
public:
    // Returns false if the byte cannot continue valid UTF-8 (the state is then unchanged).
    bool feed(unsigned char c)
    {
        int need = m_need, length = m_length;
        uint32_t bits = m_bits;
        if (need == 0) {
            if (c < 0x80)
                return true;
            if ((c & 0xE0) == 0xC0) { length = 2; bits = c & 0x1F; }
            else if ((c & 0xF0) == 0xE0) { length = 3; bits = c & 0x0F; }
            else if ((c & 0xF8) == 0xF0) { length = 4; bits = c & 0x07; }
            else return false;  // a continuation byte, or F8..FF
            need = length - 1;
        } else {
            if ((c & 0xC0) != 0x80)
                return false;
            bits = (bits << 6) | (c & 0x3F);
            --need;
        }
        // The code points this sequence can still become: [lo, hi].
        const uint32_t lo = bits << (6 * need);
        const uint32_t hi = lo | ((uint32_t(1) << (6 * need)) - 1);
        const uint32_t min = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
        const uint32_t max = length == 2 ? 0x7FF : length == 3 ? 0xFFFF : 0x10FFFF;
        const uint32_t from = std::max(lo, min), to = std::min(hi, max);
        if (from > to)
            return false;
        if (from >= 0xD800 && to <= 0xDFFF)  // only surrogates are left: not characters
            return false;
        m_need = need;
        m_length = length;
        m_bits = bits;
        return true;
    }
    bool complete() const { return m_need == 0; }

private:
    int m_need = 0;      // continuation bytes still to come
    int m_length = 0;    // length of the sequence being read
    uint32_t m_bits = 0; // its code point bits so far
};

// The offset of the first invalid byte, or size if there is none; *complete tells whether
// the valid data ends on a code point boundary.
inline qsizetype refUtf8FirstInvalid(const char *data, qsizetype size, bool *complete = nullptr)
{
    RefUtf8 ref;
    for (qsizetype i = 0; i < size; ++i)
        if (!ref.feed(uchar(data[i])))
            return i;
    if (complete)
        *complete = ref.complete();
    return size;
}

inline bool refUtf8Valid(QByteArrayView s)
{
    bool complete = false;
    return refUtf8FirstInvalid(s.data(), s.size(), &complete) == s.size() && complete;
}

// ---- Events --------------------------------------------------------------------------------

inline bool isTerminal(WsState s) { return s == WsState::Closed || s == WsState::Failed; }

// Follows the events of one connection over a whole run and checks what must always hold.
class EventChecker
{
public:
    EventChecker(const WsConnection &conn, qint64 maxMessageSize, bool streaming)
        : m_conn(conn), m_limit(maxMessageSize), m_streaming(streaming) {}

    // Checks a batch from takeEvents() and the connection's state after it.
    void check(const std::vector<WsEvent> &events)
    {
        for (const WsEvent &e : events) {
            if (fuzzVerbose())
                std::fprintf(stderr, "%s event %s%s%s data=%lld state=%s\n",
                             m_conn.role() == WsRole::Server ? "server" : "client", wsEventName(e.type),
                             e.type == WsEvent::Error ? " " : "", e.type == WsEvent::Error ? wsErrorName(e.error) : "",
                             static_cast<long long>(e.data.size()), wsStateName(m_conn.state()));
            // Closed is the last event a connection ever reports.
            FUZZ_CHECK(m_closed == 0);
            switch (e.type) {
            case WsEvent::Request:
                FUZZ_CHECK(m_conn.role() == WsRole::Server);
                FUZZ_CHECK(++m_requests == 1);
                break;
            case WsEvent::Open:
                FUZZ_CHECK(++m_opens == 1);
                break;
            case WsEvent::Rejected:
                FUZZ_CHECK(m_conn.role() == WsRole::Client);
                FUZZ_CHECK(m_opens == 0);
                FUZZ_CHECK(++m_rejections == 1);
                FUZZ_CHECK(e.data.size() <= m_conn.options().limits.maxRejectionBodySize);
                break;
            case WsEvent::Message:
                FUZZ_CHECK(m_opens == 1);
                FUZZ_CHECK(!m_streaming);
                FUZZ_CHECK(e.opcode == WsOpcode::Text || e.opcode == WsOpcode::Binary);
                FUZZ_CHECK(e.data.size() <= m_limit);
                if (e.opcode == WsOpcode::Text)
                    FUZZ_CHECK(refUtf8Valid(e.data));
                messages.push_back(e.data);
                break;
            case WsEvent::Fragment:
                FUZZ_CHECK(m_opens == 1);
                FUZZ_CHECK(m_streaming);
                FUZZ_CHECK(e.opcode == WsOpcode::Text || e.opcode == WsOpcode::Binary);
                FUZZ_CHECK(e.first == !m_inFragmented);
                if (e.first) {
                    m_fragmentOpcode = e.opcode;
                    m_fragmented.clear();
                }
                FUZZ_CHECK(e.opcode == m_fragmentOpcode);
                // Streamed text comes in whole code points.
                if (e.opcode == WsOpcode::Text)
                    FUZZ_CHECK(refUtf8Valid(e.data));
                m_fragmented += e.data;
                FUZZ_CHECK(m_fragmented.size() <= m_limit);
                m_inFragmented = !e.last;
                if (e.last)
                    messages.push_back(m_fragmented);
                break;
            case WsEvent::Ping:
            case WsEvent::Pong:
                FUZZ_CHECK(m_opens == 1);
                FUZZ_CHECK(e.data.size() <= 125);
                break;
            case WsEvent::CloseFrame: {
                FUZZ_CHECK(m_opens == 1);
                FUZZ_CHECK(++m_closeFrames == 1);
                FUZZ_CHECK(e.close.code == WsCloseCode::NoStatus || wsIsValidCloseCode(e.close.code));
                FUZZ_CHECK(e.close.reason.toUtf8().size() <= 123);
                break;
            }
            case WsEvent::Error:
                FUZZ_CHECK(e.error != WsError::NoError);
                errors.push_back(e.error);
                break;
            case WsEvent::Closed:
                ++m_closed;
                FUZZ_CHECK(isTerminal(m_conn.state()));
                break;
            case WsEvent::ExtensionFrame:
                FUZZ_CHECK(false);  // no extension used here claims opcodes
                break;
            }
        }
        // The state and the Closed event agree: terminal states are announced, once.
        FUZZ_CHECK(isTerminal(m_conn.state()) == (m_closed == 1));
        if (m_conn.state() == WsState::Failed) {
            FUZZ_CHECK(m_conn.shouldCloseTransport());
            FUZZ_CHECK(m_conn.error() != WsError::NoError);
        }
        if (m_conn.role() == WsRole::Server && isTerminal(m_conn.state()))
            FUZZ_CHECK(m_conn.shouldCloseTransport());
        if (m_conn.state() != WsState::Connecting)
            FUZZ_CHECK(m_opens == 1 || isTerminal(m_conn.state()));
    }

    // For a connection whose Open event was consumed before checking started.
    void assumeOpen() { m_opens = 1; }

    int closedEvents() const { return m_closed; }
    int opens() const { return m_opens; }
    int requests() const { return m_requests; }
    int rejections() const { return m_rejections; }
    bool hasError(WsError e) const
    {
        for (WsError x : errors)
            if (x == e)
                return true;
        return false;
    }

    std::vector<QByteArray> messages;  // complete messages (streamed ones joined)
    std::vector<WsError> errors;

private:
    const WsConnection &m_conn;
    qint64 m_limit;
    bool m_streaming;
    int m_closed = 0;
    int m_opens = 0;
    int m_requests = 0;
    int m_rejections = 0;
    int m_closeFrames = 0;
    bool m_inFragmented = false;
    WsOpcode m_fragmentOpcode = WsOpcode::Binary;
    QByteArray m_fragmented;
};

// ---- Outgoing frames -----------------------------------------------------------------------

// Parses the frames one side sends with a WsFrameReader of the other side, and checks the
// rules of RFC 6455 for the sender: masking by role (§5.1), control frames (§5.5), the
// fragment sequence (§5.4), a valid close payload (§5.5.1, §7.4), nothing after Close
// (§5.5.1), RSV bits only as negotiated.
class FrameStreamChecker
{
public:
    FrameStreamChecker(WsRole sender, quint8 allowedRsv)
        : m_reader(sender == WsRole::Server ? WsFrameReader::Role::Client : WsFrameReader::Role::Server)
    {
        m_reader.setAllowedRsv(allowedRsv);
    }

    void feed(QByteArrayView bytes)
    {
        if (bytes.isEmpty())
            return;
        FUZZ_CHECK(!m_closeSent);  // §5.5.1: no data after the Close frame
        qsizetype consumed = 0;
        for (;;) {
            const WsFrameReader::Item item = m_reader.next(bytes.data(), bytes.size(), &consumed);
            if (item.type == WsFrameReader::Item::None)
                break;
            FUZZ_CHECK(item.type != WsFrameReader::Item::Error);
            if (item.type == WsFrameReader::Item::Header) {
                FUZZ_CHECK(!m_closeSent);
                onHeader(item.header);
            } else if (item.size > 0 && wsIsControlOpcode(m_header.opcode)) {
                const qsizetype old = m_control.size();
                m_control.resize(old + item.size);
                item.copyTo(m_control.data() + old);
            }
            if (item.frameEnd && wsIsControlOpcode(m_header.opcode))
                onControlEnd();
        }
        FUZZ_CHECK(consumed == bytes.size());
        // takeOutgoing() hands over whole frames.
        FUZZ_CHECK(!m_reader.inFrame());
    }

    bool closeSent() const { return m_closeSent; }
    quint16 closeCode() const { return m_closeCode; }
    int frames() const { return m_frames; }

private:
    void onHeader(const WsFrameHeader &h)
    {
        ++m_frames;
        m_header = h;
        m_control.clear();
        if (wsIsControlOpcode(h.opcode)) {
            FUZZ_CHECK(h.rsv == 0);
            return;
        }
        if (h.opcode == quint8(WsOpcode::Continuation)) {
            FUZZ_CHECK(m_inMessage);
            FUZZ_CHECK(h.rsv == 0);  // RFC 7692 §6.1: RSV1 on the first frame only
        } else {
            FUZZ_CHECK(!m_inMessage);
        }
        m_inMessage = !h.fin;
    }

    void onControlEnd()
    {
        if (m_header.opcode != quint8(WsOpcode::Close))
            return;
        FUZZ_CHECK(m_control.size() != 1);
        m_closeCode = WsCloseCode::NoStatus;
        if (m_control.size() >= 2) {
            m_closeCode = quint16((uchar(m_control[0]) << 8) | uchar(m_control[1]));
            FUZZ_CHECK(wsIsValidCloseCode(m_closeCode));
            FUZZ_CHECK(refUtf8Valid(QByteArrayView(m_control).sliced(2)));
        }
        m_closeSent = true;
    }

    WsFrameReader m_reader;
    WsFrameHeader m_header;
    QByteArray m_control;
    bool m_inMessage = false;
    bool m_closeSent = false;
    quint16 m_closeCode = 0;
    int m_frames = 0;
};

// ---- HTTP responses ------------------------------------------------------------------------

// A server's handshake response as it went on the wire.
struct ParsedResponse
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QByteArray after;  // bytes after the head and body (frames after a 101)

    QByteArray header(const char *name) const
    {
        for (const auto &h : headers)
            if (h.first.compare(QByteArray(name), Qt::CaseInsensitive) == 0)
                return h.second;
        return QByteArray();
    }
    int count(const char *name) const
    {
        int n = 0;
        for (const auto &h : headers)
            n += h.first.compare(QByteArray(name), Qt::CaseInsensitive) == 0;
        return n;
    }
};

// Parses and checks a response head: "HTTP/1.1 " + a 3-digit status + SP + reason, header
// lines "Name: value" without stray CR/LF/NUL, the blank line, then a body of exactly
// Content-Length bytes (non-101 responses always have one).
inline ParsedResponse checkHttpResponse(const QByteArray &bytes)
{
    ParsedResponse r;
    FUZZ_CHECK(bytes.startsWith("HTTP/1.1 "));
    FUZZ_CHECK(bytes.size() >= 13);
    for (int i = 9; i < 12; ++i)
        FUZZ_CHECK(bytes[i] >= '0' && bytes[i] <= '9');
    FUZZ_CHECK(bytes[12] == ' ');
    r.status = bytes.mid(9, 3).toInt();
    FUZZ_CHECK(r.status >= 100 && r.status <= 599);
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    FUZZ_CHECK(end > 0);
    const QList<QByteArray> lines = bytes.left(end).split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (i + 1 < lines.size()) {
            FUZZ_CHECK(line.endsWith('\r'));
            line.chop(1);
        }
        FUZZ_CHECK(!line.contains('\r') && !line.contains('\0'));
        if (i == 0)
            continue;
        const qsizetype colon = line.indexOf(": ");
        FUZZ_CHECK(colon > 0);
        FUZZ_CHECK(wsIsToken(line.left(colon)));
        r.headers.append({line.left(colon), line.mid(colon + 2)});
    }
    QByteArray rest = bytes.mid(end + 4);
    if (r.status != 101) {
        FUZZ_CHECK(r.count("Content-Length") == 1);
        bool ok = false;
        const qsizetype length = r.header("Content-Length").toLongLong(&ok);
        FUZZ_CHECK(ok && length >= 0 && length <= rest.size());
        r.body = rest.left(length);
        rest = rest.mid(length);
        FUZZ_CHECK(r.header("Connection").compare("close", Qt::CaseInsensitive) == 0);
    }
    r.after = rest;
    return r;
}

// ---- Connections ----------------------------------------------------------------------------

inline WsConnectionOptions withDeflate(WsConnectionOptions o, const WsDeflateOptions &d)
{
    o.extensions = {std::make_shared<WsDeflateFactory>(d)};
    return o;
}

// A client and a server connection driven to Open in memory, as a browser and a server
// would be after the opening handshake.
struct OpenPair
{
    WsFixedRandom random{0x37fa213d};
    WsConnection client;
    WsConnection server;

    OpenPair(const WsConnectionOptions &clientOptions, const WsConnectionOptions &serverOptions)
        : client(WsRole::Client, clientOptions, &random), server(WsRole::Server, serverOptions, &random)
    {
        WsClientHandshake hs;
        hs.host = "example.com";
        hs.target = "/chat";
        hs.origin = "http://example.com";
        FUZZ_CHECK(client.startHandshake(hs) == WsError::NoError);
        server.receiveData(client.takeOutgoing());
        const auto requests = server.takeEvents();
        FUZZ_CHECK(requests.size() == 1 && requests[0].type == WsEvent::Request);
        FUZZ_CHECK(server.accept() == WsError::NoError);
        client.receiveData(server.takeOutgoing());
        server.takeEvents();
        client.takeEvents();
        FUZZ_CHECK(client.state() == WsState::Open && server.state() == WsState::Open);
    }
};
