// permessage-deflate (RFC 7692): WsKit's compress and decompress paths, each beside raw zlib
// doing the same work on the same bytes in the same run, and the heap cost of a connection.
//
//   BM_Compress_WsKit/C/N     server WsConnection (deflate negotiated): sendBinary() + takeOutgoing()
//   BM_Compress_Zlib/C/N      deflate(Z_SYNC_FLUSH) of the same message, raw, -15, level 6, memLevel 8
//   BM_Decompress_WsKit/C/N   client WsConnection: receiveData(compressed frame) + takeEvents()
//   BM_Decompress_Zlib/C/N    inflate(Z_SYNC_FLUSH) of the same compressed bytes (+ 00 00 ff ff)
//   BM_*_ZlibFresh/json_nct/N raw zlib with a new stream per message (Init2 + one call + End)
//   BM_ConnectionMemory/K     heap per connection (mallinfo2 deltas over 1000 connection pairs),
//                             and the ratio of configuration K on the 1 KiB JSON messages
//
// C is the corpus: "json" (API-like JSON records), "random" (incompressible bytes), or
// "json_nct" (the JSON corpus with no_context_takeover negotiated on both sides, and
// deflateReset()/inflateReset() after each message for raw zlib). N is the message size; each
// corpus holds 1 MiB split into messages of N bytes, sent in order and cycled.
//
// Rates count N uncompressed bytes per iteration. The "ratio" counter is uncompressed bytes /
// compressed payload bytes (the WebSocket frame header excluded; for raw zlib, the 4-byte
// 00 00 ff ff tail that RFC 7692 strips excluded), over all iterations.
// See doc/benchmarks.md for how to run and read them.

#include <wsconnection.h>
#include <wsdeflate.h>
#include <wsframe.h>
#include <wshttp.h>

#include <benchmark/benchmark.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qjsondocument.h>

#include <malloc.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr qsizetype kCorpusSize = 1024 * 1024;
constexpr qsizetype kSizes[] = {1024, 16 * 1024, 256 * 1024};
constexpr int kLevel = 6;
constexpr int kMemLevel = 8;
constexpr int kWindowBits = 15;
const uchar kTail[4] = {0x00, 0x00, 0xff, 0xff};

enum class Kind { Json, Random };

// ---- Corpora -------------------------------------------------------------------------------

// SplitMix64: deterministic, fast, good enough for test data.
struct Rng
{
    quint64 state;
    quint64 next()
    {
        quint64 z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    quint32 below(quint32 n) { return quint32(next() % n); }
    template <typename T, std::size_t K>
    const T &pick(const T (&items)[K]) { return items[below(K)]; }
};

const char *const kFirstNames[] = {"Alice", "Bruno", "Chloé", "Dmitri", "Emma", "Farid", "Grace",
                                   "Hiroshi", "Inès", "Jonas", "Kwame", "Lena", "Mateo", "Nora",
                                   "Olivia", "Pavel", "Qiu", "Rosa", "Samir", "Tomás"};
const char *const kLastNames[] = {"Martin", "Schmidt", "Rossi", "Garcia", "Nowak", "Dubois",
                                  "Tanaka", "Silva", "Jensen", "Okafor", "Novak", "Moreau",
                                  "Weber", "Costa", "Kowalski", "Haddad"};
const char *const kCountries[] = {"FR", "DE", "IT", "ES", "PL", "JP", "BR", "DK", "NG", "US", "CA"};
const char *const kEvents[] = {"order.created", "order.paid", "order.shipped", "order.refunded",
                               "cart.updated", "user.login"};
const char *const kStatus[] = {"pending", "paid", "shipped", "delivered", "cancelled"};
const char *const kCurrencies[] = {"EUR", "USD", "GBP", "JPY"};
const char *const kTags[] = {"priority", "gift", "b2b", "promo", "first-order", "subscription",
                             "express", "fragile"};
const char *const kProducts[] = {"USB-C cable 2m", "Wireless mouse", "Mechanical keyboard",
                                 "27\\\" monitor", "Laptop stand", "Noise-cancelling headphones",
                                 "Webcam 1080p", "Desk lamp", "Ergonomic chair", "Coffee mug"};
const char *const kWords[] = {"please", "deliver", "before", "noon", "leave", "at", "the", "door",
                              "call", "on", "arrival", "second", "floor", "ring", "twice",
                              "thank", "you", "gift", "wrap", "invoice", "needed", "for",
                              "company", "address", "back", "entrance", "no", "plastic"};

void appendHex(QByteArray &out, quint64 v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i)
        out.append(hex[(v >> (4 * i)) & 0xf]);
}

void appendPrice(QByteArray &out, quint32 cents)
{
    out.append(QByteArray::number(cents / 100));
    out.append('.');
    out.append(char('0' + cents / 10 % 10));
    out.append(char('0' + cents % 10));
}

QByteArray words(Rng &rng, int count)
{
    QByteArray text;
    for (int i = 0; i < count; ++i) {
        if (i)
            text.append(' ');
        text.append(rng.pick(kWords));
    }
    return text;
}

// One record of an e-commerce event API: ids, a UUID, timestamps, nested objects, arrays,
// numbers and a little free text, about 450-800 bytes.
QByteArray jsonRecord(Rng &rng, int id)
{
    QByteArray r;
    r.reserve(1024);
    const char *first = rng.pick(kFirstNames);
    const char *last = rng.pick(kLastNames);
    r += "{\"id\":" + QByteArray::number(100000 + id) + ",\"uuid\":\"";
    appendHex(r, rng.next(), 8);
    r += '-';
    appendHex(r, rng.next(), 4);
    r += "-4";
    appendHex(r, rng.next(), 3);
    r += '-';
    appendHex(r, 0x8000 | (rng.next() & 0x3fff), 4);
    r += '-';
    appendHex(r, rng.next(), 12);
    r += "\",\"type\":\"" + QByteArray(rng.pick(kEvents)) + "\",\"created_at\":\"2024-";
    const quint32 month = 1 + rng.below(12), day = 1 + rng.below(28);
    const quint32 secs = rng.below(86400);
    char stamp[40];
    std::snprintf(stamp, sizeof stamp, "%02u-%02uT%02u:%02u:%02u.%03uZ", month, day, secs / 3600,
                  secs / 60 % 60, secs % 60, rng.below(1000));
    r += stamp;
    r += "\",\"customer\":{\"id\":" + QByteArray::number(1000 + rng.below(50000)) + ",\"name\":\""
            + first + ' ' + last + "\",\"email\":\"" + QByteArray(first).toLower() + '.'
            + QByteArray(last).toLower() + "@example.com\",\"country\":\"" + rng.pick(kCountries)
            + "\",\"verified\":" + (rng.below(4) ? "true" : "false") + "},\"items\":[";
    const int items = 1 + int(rng.below(4));
    quint32 total = 0;
    for (int i = 0; i < items; ++i) {
        const quint32 qty = 1 + rng.below(3), price = 199 + rng.below(30000);
        total += qty * price;
        r += (i ? ",{\"sku\":\"SKU-" : "{\"sku\":\"SKU-") + QByteArray::number(10000 + rng.below(90000))
                + "\",\"name\":\"" + rng.pick(kProducts) + "\",\"qty\":" + QByteArray::number(qty)
                + ",\"unit_price\":";
        appendPrice(r, price);
        r += '}';
    }
    r += "],\"total\":";
    appendPrice(r, total);
    r += ",\"currency\":\"" + QByteArray(rng.pick(kCurrencies)) + "\",\"status\":\"" + rng.pick(kStatus)
            + "\",\"tags\":[";
    const int tags = int(rng.below(3));
    for (int i = 0; i < tags; ++i)
        r += (i ? ",\"" : "\"") + QByteArray(rng.pick(kTags)) + '"';
    r += "],\"note\":\"" + words(rng, int(rng.below(12))) + "\"}";
    return r;
}

// A JSON array of whole records of exactly `size` bytes: the last element is a short record
// whose note is cut to fit (or, when even that does not fit, spaces pad the array).
QByteArray jsonMessage(Rng &rng, int &nextId, qsizetype size)
{
    QByteArray m;
    m.reserve(size);
    m += '[';
    for (;;) {
        const QByteArray rec = jsonRecord(rng, nextId);
        const qsizetype need = (m.size() > 1 ? 1 : 0) + rec.size() + 1;  // comma, record, ']'
        if (m.size() + need > size)
            break;
        if (m.size() > 1)
            m += ',';
        m += rec;
        ++nextId;
    }
    const QByteArray head = (m.size() > 1 ? QByteArray(",") : QByteArray()) + "{\"id\":"
            + QByteArray::number(100000 + nextId) + ",\"note\":\"";
    const QByteArray tail = "\"}";
    const qsizetype room = size - m.size() - 1 - head.size() - tail.size();
    if (room >= 0) {
        QByteArray note = words(rng, 200);
        note.truncate(room);
        while (note.size() < room)
            note += 'x';
        m += head + note + tail;
        ++nextId;
    }
    while (m.size() < size - 1)
        m += ' ';
    m += ']';
    return m;
}

QByteArray randomMessage(Rng &rng, qsizetype size)
{
    QByteArray m(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; i += 8) {
        const quint64 v = rng.next();
        std::memcpy(m.data() + i, &v, std::size_t(std::min<qsizetype>(8, size - i)));
    }
    return m;
}

// 1 MiB of the kind, as messages of `size` bytes. Built once per (kind, size).
const std::vector<QByteArray> &corpus(Kind kind, qsizetype size)
{
    static std::map<std::pair<int, qsizetype>, std::vector<QByteArray>> cache;
    auto &messages = cache[{int(kind), size}];
    if (messages.empty()) {
        Rng rng{kind == Kind::Json ? 0x5eedu : 0xbadc0ffeeu};
        int nextId = 0;
        for (qsizetype done = 0; done < kCorpusSize; done += size)
            messages.push_back(kind == Kind::Json ? jsonMessage(rng, nextId, size) : randomMessage(rng, size));
    }
    return messages;
}

// ---- Connections ---------------------------------------------------------------------------

struct DeflateConfig
{
    bool enabled = true;
    bool takeover = true;
    int windowBits = kWindowBits;
    int memLevel = kMemLevel;
};

WsConnectionOptions connectionOptions(const DeflateConfig &c)
{
    WsConnectionOptions o;
    if (!c.enabled)
        return o;
    WsDeflateOptions d;
    d.compressionLevel = kLevel;
    d.memoryLevel = c.memLevel;
    d.noContextTakeover = !c.takeover;  // on both sides: each resets its own compressor
    d.maxWindowBits = c.windowBits;
    d.requestPeerMaxWindowBits = c.windowBits;
    o.extensions = {std::make_shared<WsDeflateFactory>(d)};
    return o;
}

// The parameters both sides must have agreed on for config c.
QByteArray expectedExtensions(const DeflateConfig &c)
{
    if (!c.enabled)
        return {};
    QByteArray e = "permessage-deflate";
    if (!c.takeover)
        e += "; server_no_context_takeover";
    if (c.windowBits < 15)
        e += "; server_max_window_bits=" + QByteArray::number(c.windowBits) + "; client_max_window_bits="
                + QByteArray::number(c.windowBits);
    return e;
}

// Opens client and server against each other in memory (as examples/demo does, silently).
bool openPair(WsConnection &client, WsConnection &server, const DeflateConfig &c)
{
    WsClientHandshake hs;
    hs.host = "localhost:8080";
    hs.target = "/bench";
    if (client.startHandshake(hs) != WsError::NoError)
        return false;
    server.receiveData(client.takeOutgoing());
    const auto requests = server.takeEvents();
    if (requests.size() != 1 || requests.front().type != WsEvent::Request || server.accept() != WsError::NoError)
        return false;
    client.receiveData(server.takeOutgoing());
    client.takeEvents();
    server.takeEvents();
    return client.state() == WsState::Open && server.state() == WsState::Open
            && wsFormatExtensions(server.extensions()) == expectedExtensions(c)
            && wsFormatExtensions(client.extensions()) == expectedExtensions(c);
}

struct Pair
{
    DeflateConfig config;
    WsConnectionOptions options;
    WsConnection client;
    WsConnection server;
    bool open;
    explicit Pair(const DeflateConfig &c)
        : config(c), options(connectionOptions(c)), client(WsRole::Client, options),
          server(WsRole::Server, options), open(openPair(client, server, c))
    {}
};

// A server->client frame is unmasked: its header is 2, 4 or 10 bytes.
qsizetype serverHeaderSize(const QByteArray &frame)
{
    const int len7 = uchar(frame[1]) & 0x7f;
    return len7 == 127 ? 10 : len7 == 126 ? 4 : 2;
}

bool isCompressedFrame(const QByteArray &frame)
{
    return frame.size() >= 2 && (uchar(frame[0]) & 0xc0) == 0xc0;  // FIN + RSV1
}

// ---- Raw zlib, as an application would use it directly --------------------------------------

struct RawDeflate
{
    z_stream z{};
    explicit RawDeflate(int windowBits = kWindowBits, int memLevel = kMemLevel)
    {
        deflateInit2(&z, kLevel, Z_DEFLATED, -windowBits, memLevel, Z_DEFAULT_STRATEGY);
    }
    ~RawDeflate() { deflateEnd(&z); }
    // Compresses one message into out (which must be large enough), returns the size with
    // the 00 00 ff ff tail, or -1.
    qsizetype compress(const QByteArray &in, std::vector<uchar> &out)
    {
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.constData()));
        z.avail_in = uInt(in.size());
        z.next_out = out.data();
        z.avail_out = uInt(out.size());
        const int rc = deflate(&z, Z_SYNC_FLUSH);
        if (rc != Z_OK || z.avail_in != 0 || z.avail_out == 0)
            return -1;
        return qsizetype(out.size() - z.avail_out);
    }
};

struct RawInflate
{
    z_stream z{};
    RawInflate() { inflateInit2(&z, -kWindowBits); }
    ~RawInflate() { inflateEnd(&z); }
    // Inflates one message (tail included) into out; returns the size produced, or -1.
    qsizetype decompress(const std::vector<uchar> &in, std::vector<uchar> &out)
    {
        z.next_in = const_cast<Bytef *>(in.data());
        z.avail_in = uInt(in.size());
        z.next_out = out.data();
        z.avail_out = uInt(out.size());
        const int rc = inflate(&z, Z_SYNC_FLUSH);
        if ((rc != Z_OK && rc != Z_BUF_ERROR) || z.avail_in != 0 || z.avail_out == 0)
            return -1;
        return qsizetype(out.size() - z.avail_out);
    }
};

std::vector<uchar> outputBuffer(qsizetype size)
{
    // Room for incompressible data (deflateBound of a raw stream) plus the flush marker.
    return std::vector<uchar>(std::size_t(size + size / 1000 + 64));
}

// The compressed payloads of a corpus, as WsKit's server sends them (frame header removed),
// starting from a fresh connection. Empty on failure.
std::vector<QByteArray> wsKitPayloads(const std::vector<QByteArray> &messages, const DeflateConfig &c)
{
    Pair p(c);
    std::vector<QByteArray> payloads;
    if (!p.open)
        return payloads;
    for (const QByteArray &m : messages) {
        p.server.sendBinary(m);
        const QByteArray frame = p.server.takeOutgoing();
        if (!isCompressedFrame(frame))
            return {};
        payloads.push_back(frame.mid(serverHeaderSize(frame)));
    }
    return payloads;
}

// ---- 1-2. Compression ----------------------------------------------------------------------

void setRatio(benchmark::State &state, std::int64_t in, std::int64_t out)
{
    state.SetBytesProcessed(in);
    state.counters["ratio"] = out > 0 ? double(in) / double(out) : 0.0;
}

void compressWsKit(benchmark::State &state, Kind kind, qsizetype size, bool takeover)
{
    const auto &messages = corpus(kind, size);
    DeflateConfig c;
    c.takeover = takeover;
    Pair p(c);
    if (!p.open) {
        state.SkipWithError("in-memory handshake did not negotiate the expected permessage-deflate");
        return;
    }
    std::size_t i = 0;
    std::int64_t in = 0, out = 0;
    bool allCompressed = true;
    for (auto _ : state) {
        const QByteArray &m = messages[i];
        if (++i == messages.size())
            i = 0;
        p.server.sendBinary(m);
        const QByteArray frame = p.server.takeOutgoing();
        allCompressed &= isCompressedFrame(frame);
        in += m.size();
        out += frame.size() - serverHeaderSize(frame);
        benchmark::DoNotOptimize(frame.constData());
    }
    setRatio(state, in, out);
    if (!allCompressed)
        state.SkipWithError("a message was sent without compression");
}

void compressZlib(benchmark::State &state, Kind kind, qsizetype size, bool takeover)
{
    const auto &messages = corpus(kind, size);
    RawDeflate d;
    std::vector<uchar> buffer = outputBuffer(size);
    std::size_t i = 0;
    std::int64_t in = 0, out = 0;
    for (auto _ : state) {
        const QByteArray &m = messages[i];
        if (++i == messages.size())
            i = 0;
        const qsizetype n = d.compress(m, buffer);
        if (n < 4 || std::memcmp(buffer.data() + n - 4, kTail, 4) != 0) {
            state.SkipWithError("deflate failed");
            return;
        }
        if (!takeover)
            deflateReset(&d.z);
        in += m.size();
        out += n - 4;  // RFC 7692 §7.2.1: the tail is not sent
        benchmark::DoNotOptimize(buffer.data());
    }
    setRatio(state, in, out);
}

// For no_context_takeover only: a fresh deflate stream per message (deflateInit2 + deflate +
// deflateEnd), i.e. what a connection that frees its compressor between messages would pay.
void compressZlibFresh(benchmark::State &state, Kind kind, qsizetype size, bool)
{
    const auto &messages = corpus(kind, size);
    std::vector<uchar> buffer = outputBuffer(size);
    std::size_t i = 0;
    std::int64_t in = 0, out = 0;
    for (auto _ : state) {
        const QByteArray &m = messages[i];
        if (++i == messages.size())
            i = 0;
        RawDeflate d;
        const qsizetype n = d.compress(m, buffer);
        if (n < 4 || std::memcmp(buffer.data() + n - 4, kTail, 4) != 0) {
            state.SkipWithError("deflate failed");
            return;
        }
        in += m.size();
        out += n - 4;
        benchmark::DoNotOptimize(buffer.data());
    }
    setRatio(state, in, out);
}

// ---- 1-2. Decompression --------------------------------------------------------------------

void decompressWsKit(benchmark::State &state, Kind kind, qsizetype size, bool takeover)
{
    const auto &messages = corpus(kind, size);
    DeflateConfig c;
    c.takeover = takeover;
    Pair p(c);
    if (!p.open) {
        state.SkipWithError("in-memory handshake did not negotiate the expected permessage-deflate");
        return;
    }
    // The server compresses the corpus once, in order; the client has received nothing yet.
    // Cycling through the frames is valid with context takeover too: the first frame was
    // compressed from an empty window, so it refers to nothing before it.
    std::vector<QByteArray> frames;
    std::int64_t wire = 0;
    for (const QByteArray &m : messages) {
        p.server.sendBinary(m);
        frames.push_back(p.server.takeOutgoing());
        wire += frames.back().size() - serverHeaderSize(frames.back());
    }
    // Outside the timed loop: one pass checks every message.
    for (std::size_t k = 0; k < frames.size(); ++k) {
        p.client.receiveData(frames[k]);
        const auto events = p.client.takeEvents();
        if (events.size() != 1 || events.front().type != WsEvent::Message || events.front().data != messages[k]) {
            state.SkipWithError("decompressed message differs");
            return;
        }
    }
    std::size_t i = 0;
    std::int64_t in = 0;
    for (auto _ : state) {
        p.client.receiveData(frames[i]);
        std::vector<WsEvent> events = p.client.takeEvents();
        if (++i == frames.size())
            i = 0;
        if (events.size() != 1 || events.front().type != WsEvent::Message || events.front().data.size() != size) {
            state.SkipWithError("expected exactly one Message event of the original size");
            return;
        }
        in += size;
        benchmark::DoNotOptimize(events.front().data.constData());
    }
    state.SetBytesProcessed(in);
    state.counters["ratio"] = double(kCorpusSize) / double(wire);
}

void decompressZlib(benchmark::State &state, Kind kind, qsizetype size, bool takeover)
{
    const auto &messages = corpus(kind, size);
    DeflateConfig c;
    c.takeover = takeover;
    // The same compressed bytes as WsKit's client receives, with the tail put back.
    std::vector<std::vector<uchar>> inputs;
    std::int64_t wire = 0;
    for (const QByteArray &payload : wsKitPayloads(messages, c)) {
        wire += payload.size();
        std::vector<uchar> input(payload.begin(), payload.end());
        input.insert(input.end(), kTail, kTail + 4);
        inputs.push_back(std::move(input));
    }
    if (inputs.size() != messages.size()) {
        state.SkipWithError("could not prepare the compressed corpus");
        return;
    }
    RawInflate inf;
    std::vector<uchar> buffer(std::size_t(size) + 1);  // one byte more: a longer output is seen
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (inf.decompress(inputs[k], buffer) != size || std::memcmp(buffer.data(), messages[k].constData(), std::size_t(size)) != 0) {
            state.SkipWithError("decompressed message differs");
            return;
        }
        if (!takeover)
            inflateReset(&inf.z);
    }
    std::size_t i = 0;
    std::int64_t in = 0;
    for (auto _ : state) {
        const qsizetype n = inf.decompress(inputs[i], buffer);
        if (++i == inputs.size())
            i = 0;
        if (n != size) {
            state.SkipWithError("inflate failed");
            return;
        }
        if (!takeover)
            inflateReset(&inf.z);
        in += n;
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetBytesProcessed(in);
    state.counters["ratio"] = double(kCorpusSize) / double(wire);
}

// For no_context_takeover only: a fresh inflate stream per message (inflateInit2 + inflate +
// inflateEnd).
void decompressZlibFresh(benchmark::State &state, Kind kind, qsizetype size, bool)
{
    const auto &messages = corpus(kind, size);
    DeflateConfig c;
    c.takeover = false;
    std::vector<std::vector<uchar>> inputs;
    std::int64_t wire = 0;
    for (const QByteArray &payload : wsKitPayloads(messages, c)) {
        wire += payload.size();
        std::vector<uchar> input(payload.begin(), payload.end());
        input.insert(input.end(), kTail, kTail + 4);
        inputs.push_back(std::move(input));
    }
    if (inputs.size() != messages.size()) {
        state.SkipWithError("could not prepare the compressed corpus");
        return;
    }
    std::vector<uchar> buffer(std::size_t(size) + 1);
    std::size_t i = 0;
    std::int64_t in = 0;
    for (auto _ : state) {
        RawInflate inf;
        const qsizetype n = inf.decompress(inputs[i], buffer);
        if (n != size || (i == 0 && std::memcmp(buffer.data(), messages[0].constData(), std::size_t(size)) != 0)) {
            state.SkipWithError("inflate failed");
            return;
        }
        if (++i == inputs.size())
            i = 0;
        in += n;
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetBytesProcessed(in);
    state.counters["ratio"] = double(kCorpusSize) / double(wire);
}

// ---- 3. Memory per connection --------------------------------------------------------------

constexpr int kPairs = 1000;

// Bytes the program holds on the heap now: in use in the arenas plus mmapped chunks.
std::int64_t heapInUse()
{
    const struct mallinfo2 mi = mallinfo2();
    return std::int64_t(mi.uordblks) + std::int64_t(mi.hblkhd);
}

struct MemoryResult
{
    double serverOpen = 0;     // KiB per server connection, after the handshake
    double server = 0;         // ... after one message each way
    double client = 0;         // KiB per client connection, after one message each way
    bool ok = true;
};

// kPairs connection pairs are opened (and, if exchange, send one message each way); then
// the clients are destroyed. The heap grew by (pairs) before that and by (servers) after it.
void measurePairs(const DeflateConfig &c, bool exchange, double *serverKiB, double *clientKiB, bool *ok)
{
    const WsConnectionOptions options = connectionOptions(c);
    const QByteArray &toServer = corpus(Kind::Json, 1024)[0];
    const QByteArray &toClient = corpus(Kind::Json, 1024)[1];
    std::vector<std::unique_ptr<WsConnection>> clients, servers;
    clients.reserve(kPairs);
    servers.reserve(kPairs);

    const std::int64_t base = heapInUse();
    for (int k = 0; k < kPairs; ++k) {
        clients.push_back(std::make_unique<WsConnection>(WsRole::Client, options));
        servers.push_back(std::make_unique<WsConnection>(WsRole::Server, options));
        WsConnection &client = *clients.back();
        WsConnection &server = *servers.back();
        *ok &= openPair(client, server, c);
        if (exchange) {
            client.sendBinary(toServer);
            server.receiveData(client.takeOutgoing());
            const auto atServer = server.takeEvents();
            server.sendBinary(toClient);
            const QByteArray frame = server.takeOutgoing();
            *ok &= isCompressedFrame(frame) == c.enabled;
            client.receiveData(frame);
            const auto atClient = client.takeEvents();
            *ok &= atServer.size() == 1 && atServer.front().data == toServer && atClient.size() == 1
                    && atClient.front().data == toClient;
        }
    }
    const std::int64_t pairs = heapInUse();
    clients.clear();
    const std::int64_t serversOnly = heapInUse();
    *serverKiB = double(serversOnly - base) / kPairs / 1024.0;
    *clientKiB = double(pairs - serversOnly) / kPairs / 1024.0;
}

void connectionMemory(benchmark::State &state, DeflateConfig c)
{
    {
        // Warm-up outside the measurement: the per-thread random source, Qt's statics, the corpus.
        Pair warm(c);
        warm.client.sendBinary(corpus(Kind::Json, 1024)[0]);
        warm.server.receiveData(warm.client.takeOutgoing());
        warm.server.takeEvents();
    }
    MemoryResult r;
    for (auto _ : state) {
        double unused = 0;
        measurePairs(c, false, &r.serverOpen, &unused, &r.ok);
        measurePairs(c, true, &r.server, &r.client, &r.ok);
    }
    state.counters["server_open_KiB"] = r.serverOpen;
    state.counters["server_KiB"] = r.server;
    state.counters["client_KiB"] = r.client;
    // What the configuration costs in ratio: the 1 KiB JSON corpus through a fresh pair.
    double ratio = 1.0;
    if (c.enabled) {
        qsizetype compressed = 0;
        const std::vector<QByteArray> payloads = wsKitPayloads(corpus(Kind::Json, 1024), c);
        for (const QByteArray &payload : payloads)
            compressed += payload.size();
        r.ok &= !payloads.empty();
        ratio = compressed > 0 ? double(kCorpusSize) / double(compressed) : 0.0;
    }
    state.counters["json1k_ratio"] = ratio;
    state.SetLabel(c.enabled ? expectedExtensions(c).toStdString() : "no extension");
    if (!r.ok)
        state.SkipWithError("a connection did not open or exchange its messages as expected");
}

// ---- Registration --------------------------------------------------------------------------

void registerAll()
{
    struct Corpus { const char *name; Kind kind; bool takeover; std::vector<qsizetype> sizes; };
    const std::vector<Corpus> corpora = {
        {"json", Kind::Json, true, {std::begin(kSizes), std::end(kSizes)}},
        {"random", Kind::Random, true, {std::begin(kSizes), std::end(kSizes)}},
        {"json_nct", Kind::Json, false, {1024}},
    };
    using Fn = void (*)(benchmark::State &, Kind, qsizetype, bool);
    const std::pair<const char *, Fn> functions[2][3] = {
        {{"BM_Compress_WsKit", compressWsKit}, {"BM_Compress_Zlib", compressZlib},
         {"BM_Compress_ZlibFresh", compressZlibFresh}},
        {{"BM_Decompress_WsKit", decompressWsKit}, {"BM_Decompress_Zlib", decompressZlib},
         {"BM_Decompress_ZlibFresh", decompressZlibFresh}},
    };
    // WsKit and raw zlib of the same case run one after the other, so that they see the same
    // machine load. The "fresh stream" variant only for no_context_takeover.
    for (int op = 0; op < 2; ++op) {
        for (const Corpus &corpus : corpora) {
            for (const qsizetype size : corpus.sizes) {
                for (int impl = 0; impl < (corpus.takeover ? 2 : 3); ++impl) {
                    const Fn fn = functions[op][impl].second;
                    const std::string full = std::string(functions[op][impl].first) + '/' + corpus.name
                            + '/' + std::to_string(size);
                    const Kind kind = corpus.kind;
                    const bool takeover = corpus.takeover;
                    benchmark::RegisterBenchmark(full.c_str(), [=](benchmark::State &s) { fn(s, kind, size, takeover); });
                }
            }
        }
    }

    struct Memory { const char *name; DeflateConfig config; };
    const Memory memory[] = {
        {"none", {false, true, 15, 8}},
        {"w15_m8", {true, true, 15, 8}},
        {"w15_m8_nct", {true, false, 15, 8}},
        {"w10_m8", {true, true, 10, 8}},
        {"w15_m4", {true, true, 15, 4}},
        {"w10_m4", {true, true, 10, 4}},
        {"w10_m4_nct", {true, false, 10, 4}},
    };
    for (const Memory &m : memory) {
        const DeflateConfig c = m.config;
        benchmark::RegisterBenchmark((std::string("BM_ConnectionMemory/") + m.name).c_str(),
                                     [=](benchmark::State &s) { connectionMemory(s, c); })
                ->Iterations(1)
                ->Unit(benchmark::kMillisecond);
    }
}

// Before any figure: WsKit's compressed payloads must be byte-identical to raw zlib's with
// the same parameters (so that both sides of each comparison do the same work), and the JSON
// messages must be valid JSON of the stated size.
bool selfCheck()
{
    for (const qsizetype size : kSizes) {
        for (const Kind kind : {Kind::Json, Kind::Random}) {
            const auto &messages = corpus(kind, size);
            if (qsizetype(messages.size()) != kCorpusSize / size)
                return false;
            for (const QByteArray &m : messages) {
                if (m.size() != size)
                    return false;
                if (kind == Kind::Json) {
                    QJsonParseError error;
                    QJsonDocument::fromJson(m, &error);
                    if (error.error != QJsonParseError::NoError) {
                        std::fprintf(stderr, "invalid JSON message (%lld bytes): %s\n",
                                     static_cast<long long>(size), qPrintable(error.errorString()));
                        return false;
                    }
                }
            }
            for (const bool takeover : {true, false}) {
                DeflateConfig c;
                c.takeover = takeover;
                const std::vector<QByteArray> payloads = wsKitPayloads(messages, c);
                if (payloads.size() != messages.size())
                    return false;
                RawDeflate d;
                std::vector<uchar> buffer = outputBuffer(size);
                for (std::size_t k = 0; k < messages.size(); ++k) {
                    const qsizetype n = d.compress(messages[k], buffer);
                    if (!takeover)
                        deflateReset(&d.z);
                    if (n - 4 != payloads[k].size() || std::memcmp(buffer.data(), payloads[k].constData(), std::size_t(n - 4)) != 0) {
                        std::fprintf(stderr, "WsKit's payload %zu (%lld bytes, takeover %d) differs from raw zlib's\n",
                                     k, static_cast<long long>(size), int(takeover));
                        return false;
                    }
                }
            }
        }
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    if (!selfCheck()) {
        std::fprintf(stderr, "bench_deflate: self-check failed\n");
        return 1;
    }
    registerAll();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
