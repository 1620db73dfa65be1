// Throughput of the protocol core's hot paths, each beside a memcpy of the same size so that
// the figures can be read as "fraction of what the memory system allows" on any machine.
//
//   BM_Memcpy/N               reference: memcpy of N bytes between two fixed buffers
//   BM_FrameParseUnmask/N     WsFrameReader over one masked client frame + Item::copyTo()
//   BM_ReceiveMessage/N       WsConnection (server, Open) receiveData() + takeEvents()
//   BM_FrameEncodeMasked/N    wsAppendFrame() masked, into a QByteArray that keeps its capacity
//   BM_Utf8ValidateAscii/N    WsUtf8Validator::isValid() on ASCII (JSON-like) text
//   BM_Utf8ValidateMultilingual/N   ... on Latin-1 accents, Greek, CJK and emoji mixed
//
// Every benchmark reports bytes of payload (not of frame header) per second.
// See doc/benchmarks.md for how to run and read them.

#include <wsconnection.h>
#include <wsframe.h>
#include <wsutf8.h>

#include <benchmark/benchmark.h>

#include <QtCore/qbytearray.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::int64_t kSizes[] = {16, 1024, 64 * 1024, 1024 * 1024};
constexpr std::int64_t kUtf8Size = 1024 * 1024;
constexpr quint32 kMask = 0x5a3c96e1u;  // any fixed, non-trivial mask

void applySizes(benchmark::internal::Benchmark *b)
{
    for (const std::int64_t n : kSizes)
        b->Arg(n);
}

// Deterministic, not all-equal bytes (the content does not matter to the code measured).
QByteArray makePayload(qsizetype size)
{
    QByteArray payload(size, Qt::Uninitialized);
    quint32 x = 0x12345678u;
    for (qsizetype i = 0; i < size; ++i) {
        x = x * 1664525u + 1013904223u;  // LCG
        payload[i] = char(x >> 24);
    }
    return payload;
}

// A client->server frame: masked, FIN, binary.
QByteArray makeClientFrame(const QByteArray &payload, WsOpcode opcode = WsOpcode::Binary)
{
    QByteArray frame;
    wsAppendFrame(frame, true, 0, quint8(opcode), payload, true, kMask);
    return frame;
}

// ---- 1. memcpy reference -----------------------------------------------------------------

void BM_Memcpy(benchmark::State &state)
{
    const auto n = std::size_t(state.range(0));
    std::vector<char> src(n, 'x');
    std::vector<char> dst(n, 0);
    for (auto _ : state) {
        benchmark::DoNotOptimize(src.data());
        std::memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
}
BENCHMARK(BM_Memcpy)->Apply(applySizes);

// ---- 2. frame parse + unmask ---------------------------------------------------------------

void BM_FrameParseUnmask(benchmark::State &state)
{
    const qsizetype n = qsizetype(state.range(0));
    const QByteArray frame = makeClientFrame(makePayload(n));
    std::vector<char> dst(std::size_t(n), 0);
    const char *const data = frame.constData();
    const qsizetype size = frame.size();

    for (auto _ : state) {
        WsFrameReader reader(WsFrameReader::Role::Server);
        qsizetype consumed = 0;
        for (;;) {
            const WsFrameReader::Item item = reader.next(data, size, &consumed);
            if (item.type == WsFrameReader::Item::None)
                break;
            if (item.type == WsFrameReader::Item::Payload) {
                item.copyTo(dst.data() + item.payloadOffset);
            } else if (item.type == WsFrameReader::Item::Error) {
                state.SkipWithError("WsFrameReader reported an error");
                return;
            }
        }
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n));

    // Outside the timed loop: the unmasked bytes must be the payload.
    if (std::memcmp(dst.data(), makePayload(n).constData(), std::size_t(n)) != 0)
        state.SkipWithError("unmasked payload differs");
}
BENCHMARK(BM_FrameParseUnmask)->Apply(applySizes);

// ---- 3. full receive path ----------------------------------------------------------------

// Moves bytes between the two connections until neither has anything to send, accepting the
// handshake on the server side (as examples/demo does, without the printing).
void pump(WsConnection &client, WsConnection &server)
{
    for (int round = 0; round < 16; ++round) {
        server.receiveData(client.takeOutgoing());
        for (const WsEvent &e : server.takeEvents()) {
            if (e.type == WsEvent::Request)
                server.accept();
        }
        client.receiveData(server.takeOutgoing());
        client.takeEvents();
        if (client.outgoingSize() == 0 && server.outgoingSize() == 0)
            return;
    }
}

void BM_ReceiveMessage(benchmark::State &state)
{
    const qsizetype n = qsizetype(state.range(0));
    WsConnection client(WsRole::Client);
    WsConnection server(WsRole::Server);  // default limits: 1 MiB messages are allowed
    WsClientHandshake hs;
    hs.host = "localhost:8080";
    hs.target = "/bench";
    client.startHandshake(hs);
    pump(client, server);
    server.takeEvents();  // the server's Open event, queued by accept()
    client.takeEvents();
    if (client.state() != WsState::Open || server.state() != WsState::Open) {
        state.SkipWithError("in-memory handshake did not open the connection");
        return;
    }

    const QByteArray frame = makeClientFrame(makePayload(n));
    qsizetype received = 0;
    for (auto _ : state) {
        server.receiveData(frame);
        std::vector<WsEvent> events = server.takeEvents();
        if (events.size() != 1 || events.front().type != WsEvent::Message) {
            state.SkipWithError("expected exactly one Message event");
            return;
        }
        received = events.front().data.size();
        benchmark::DoNotOptimize(events.front().data.constData());
        // events (and the message's QByteArray) are freed here, inside the timed loop.
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
    if (received != n || server.outgoingSize() != 0 || server.state() != WsState::Open)
        state.SkipWithError("unexpected connection state after receiving");
}
BENCHMARK(BM_ReceiveMessage)->Apply(applySizes);

// ---- 4. UTF-8 validation -------------------------------------------------------------------

// Repeats whole snippets to exactly `size` bytes, padding the end with ASCII spaces so that
// no code point is cut.
QByteArray repeatToSize(const std::vector<const char *> &snippets, qsizetype size)
{
    QByteArray text;
    text.reserve(size + 256);
    for (std::size_t i = 0; text.size() < size; i = (i + 1) % snippets.size())
        text.append(snippets[i]);
    text.truncate(wsUtf8TruncatedSize(text.constData(), text.size(), size));
    while (text.size() < size)
        text.append(' ');
    return text;
}

QByteArray asciiText(qsizetype size)
{
    return repeatToSize({
            R"({"id":12345,"type":"message","user":{"name":"alice","roles":["admin","dev"]},)",
            R"("text":"The quick brown fox jumps over the lazy dog. Pack my box with five )",
            R"(dozen liquor jugs!","ts":"2024-05-17T12:34:56.789Z","tags":["a","b","c"]})",
            "\n",
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
            "incididunt ut labore et dolore magna aliqua.\n",
    }, size);
}

QByteArray multilingualText(qsizetype size)
{
    // Written as UTF-8 escapes so that the source encoding does not matter.
    return repeatToSize({
            // French / German / Spanish (Latin-1 accents, 2-byte sequences among ASCII)
            "Fran\xc3\xa7" "ais: \xc3\xa9t\xc3\xa9, \xc3\xa0 bient\xc3\xb4t, na\xc3\xaf" "ve; ",
            "Deutsch: Gr\xc3\xb6\xc3\x9f" "e, \xc3\xbc" "ber, M\xc3\xa4" "dchen; ",
            "Espa\xc3\xb1ol: ma\xc3\xb1" "ana, \xc2\xbf" "qu\xc3\xa9" "? ",
            // Greek (2-byte)
            "\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac: "
            "\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1 "
            "\xce\xba\xcf\x8c\xcf\x83\xce\xbc\xce\xb5; ",
            // Chinese and Japanese (3-byte)
            "\xe4\xb8\xad\xe6\x96\x87: \xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c"
            "\xe3\x80\x82 ",
            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e: \xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1"
            "\xe3\x81\xaf\xe4\xb8\x96\xe7\x95\x8c; ",
            // Emoji (4-byte) and a euro sign (3-byte)
            "emoji \xf0\x9f\x98\x80\xf0\x9f\x8e\x89\xf0\x9f\x9a\x80 \xe2\x82\xac" "42 ",
            "\xf0\x9f\x91\x8d ok\n",
    }, size);
}

void utf8Benchmark(benchmark::State &state, const QByteArray &text)
{
    if (!WsUtf8Validator::isValid(text)) {
        state.SkipWithError("benchmark text is not valid UTF-8");
        return;
    }
    const char *const data = text.constData();
    const qsizetype size = text.size();
    for (auto _ : state) {
        benchmark::DoNotOptimize(data);
        bool valid = WsUtf8Validator::isValid(data, size);
        benchmark::DoNotOptimize(valid);
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(size));
}

void BM_Utf8ValidateAscii(benchmark::State &state)
{
    utf8Benchmark(state, asciiText(qsizetype(state.range(0))));
}
BENCHMARK(BM_Utf8ValidateAscii)->Arg(kUtf8Size);

void BM_Utf8ValidateMultilingual(benchmark::State &state)
{
    const QByteArray text = multilingualText(qsizetype(state.range(0)));
    qsizetype nonAscii = 0;
    for (const char c : text)
        nonAscii += uchar(c) >= 0x80;
    state.counters["non_ascii_pct"] = 100.0 * double(nonAscii) / double(text.size());
    utf8Benchmark(state, text);
}
BENCHMARK(BM_Utf8ValidateMultilingual)->Arg(kUtf8Size);

// ---- 5. frame encode -----------------------------------------------------------------------

void BM_FrameEncodeMasked(benchmark::State &state)
{
    const qsizetype n = qsizetype(state.range(0));
    const QByteArray payload = makePayload(n);
    QByteArray out;
    out.reserve(n + WsFrameHeader::MaxSize);
    const char *const buffer = out.constData();
    for (auto _ : state) {
        out.resize(0);  // keeps the capacity (clear() would free it)
        wsAppendFrame(out, true, 0, quint8(WsOpcode::Binary), payload, true, kMask);
        benchmark::DoNotOptimize(out.constData());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
    if (out.constData() != buffer)
        state.SkipWithError("the output buffer was reallocated inside the loop");
    else if (out != makeClientFrame(payload))
        state.SkipWithError("encoded frame differs");
}
BENCHMARK(BM_FrameEncodeMasked)->Apply(applySizes);

} // namespace

BENCHMARK_MAIN();
