// An Autobahn|Testsuite-style fuzzing peer: plain POSIX sockets with poll(), zlib for
// permessage-deflate, nothing from WsKit, so that the checks are independent of the code
// under test. One Session is one connection; a case drives it and declares what it expects.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using Bytes = std::string;

enum class Role { Client, Server };  // the fuzzer's own role

enum Opcode : int { OpCont = 0, OpText = 1, OpBinary = 2, OpClose = 8, OpPing = 9, OpPong = 10 };

// RFC 6455 §5.2, built by hand so that any bit may be wrong on purpose.
Bytes buildFrame(int opcode, const Bytes &payload, bool fin, int rsv, bool mask, uint32_t maskKey);
// -1 if s is valid UTF-8 (RFC 3629); otherwise the offset of the first byte after which no
// continuation can make it valid (s.size() when it merely ends inside a sequence).
long utf8ErrorOffset(const Bytes &s);
Bytes closePayload(int code, const Bytes &reason = Bytes());
int64_t nowMs();

// permessage-deflate parameters (RFC 7692 §7.1): an offer, an answer or what was agreed.
struct DeflateConfig
{
    bool enabled = false;
    bool clientNoContextTakeover = false;
    bool serverNoContextTakeover = false;
    int clientMaxWindowBits = 0;  // 0: absent, -1: present without a value (offers only)
    int serverMaxWindowBits = 0;  // 0: absent
    std::string header() const;   // "permessage-deflate; ..."
};

// Raw deflate with the trailing 00 00 ff ff removed (RFC 7692 §7.2.1).
class Deflater
{
public:
    Deflater(int windowBits, bool noContextTakeover);
    ~Deflater();
    Deflater(const Deflater &) = delete;
    Deflater &operator=(const Deflater &) = delete;
    Bytes compress(const Bytes &in);

private:
    z_stream m_z{};
    bool m_reset;
};

class Inflater
{
public:
    Inflater(int windowBits, bool noContextTakeover);
    ~Inflater();
    Inflater(const Inflater &) = delete;
    Inflater &operator=(const Inflater &) = delete;
    bool decompress(const Bytes &in, Bytes *out, std::string *error, size_t maxOutput);

private:
    z_stream m_z{};
    bool m_reset;
};

struct Event
{
    enum Kind { Message, Pong } kind = Message;
    bool binary = false;
    Bytes payload;
    bool operator==(const Event &o) const { return kind == o.kind && binary == o.binary && payload == o.payload; }
    std::string describe() const;
};
Event textEvent(const Bytes &payload);
Event binaryEvent(const Bytes &payload);
Event pongEvent(const Bytes &payload);

enum class Verdict { Ok = 0, NonStrict = 1, Failed = 2 };
const char *verdictName(Verdict v);

struct CloseExpectation
{
    bool closedByMe = true;        // who is expected to send the first close frame
    std::vector<int> codes;        // the peer's close code must be one of these
    std::vector<int> nonStrictCodes;  // ... or one of these (NON-STRICT)
    bool requireClean = true;      // close handshake completed before TCP went away
};

class Session
{
public:
    Session(Role role, int fd, uint32_t seed, int64_t deadline);
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    Role role() const { return m_role; }
    void setDeflate(const DeflateConfig &agreed);
    void setInput(const Bytes &leftover) { m_in = leftover; }

    // What the case expects. Events are compared in order; a NON-STRICT alternative may
    // be given (Autobahn's expected[NON-STRICT]).
    void expect(std::vector<Event> ok, std::vector<std::vector<Event>> nonStrict = {});
    void expectEcho(std::vector<Event> ok) { expect(std::move(ok)); expectClose(true, {1000}, true); }
    void expectFail(int code, std::vector<Event> ok = {}, std::vector<std::vector<Event>> nonStrict = {});
    void expectClose(bool closedByMe, std::vector<int> codes, bool requireClean, std::vector<int> nonStrictCodes = {});
    void nonStrict(const std::string &why);
    void fail(const std::string &why);
    void note(const std::string &text);

    // Sending. chop > 0 writes the bytes in pieces of that size, delayMs apart.
    void sendFrame(int opcode, const Bytes &payload, bool fin = true, int rsv = 0, size_t chop = 0, int delayMs = 0);
    // A whole message; compressed when deflate was agreed (and compress), in frames of
    // fragmentSize payload bytes (0: one frame).
    void sendMessage(int opcode, const Bytes &payload, size_t fragmentSize = 0, bool compress = true);
    void sendRaw(const Bytes &bytes, size_t chop = 0, int delayMs = 0);
    Bytes frame(int opcode, const Bytes &payload, bool fin = true, int rsv = 0);  // masked as our role requires
    void sendClose(int code, const Bytes &reason = Bytes());  // code < 0: empty payload
    void sendClosePayload(const Bytes &payload, size_t chop = 0);
    void setMidFrame(bool mid) { m_midFrame = mid; }

    // Waiting; every wait ends at its timeout or at the case deadline.
    void pump(int timeoutMs);
    void sleepPump(int ms);
    bool waitEvents(size_t count, int timeoutMs);
    bool waitCloseFrame(int timeoutMs);
    bool sync(int timeoutMs = 3000);  // ping with a marker, wait for its pong
    void waitClosed(int timeoutMs);
    // The two usual endings: we close after the expected echoes (closedByMe), or we wait
    // for the peer to fail the connection.
    void endNormal();
    void endFail(int timeoutMs = 3000);

    bool closeReceived() const { return m_closeReceived; }
    bool tcpClosed() const { return m_tcpClosed; }
    size_t eventCount() const { return m_events.size(); }
    int64_t deadline() const { return m_deadline; }

    Verdict evaluate(std::string *reason) const;

private:
    void writeAll(const Bytes &bytes);
    void readAvailable();
    void parseFrames();
    void handleFrame(bool fin, int rsv, int opcode, Bytes &&payload);
    void violation(const std::string &what);
    void queueControl(const Bytes &frameBytes);
    void flushPending();
    void closeTcp();
    int remaining(int timeoutMs) const;

    Role m_role;
    int m_fd;
    uint32_t m_rng;
    int64_t m_deadline;
    Bytes m_in;
    size_t m_inPos = 0;
    Bytes m_pending;
    bool m_midFrame = false;
    bool m_closeAfterFlush = false;

    DeflateConfig m_deflate;
    std::unique_ptr<Deflater> m_tx;
    std::unique_ptr<Inflater> m_rx;

    int m_fragOpcode = -1;
    bool m_fragCompressed = false;
    Bytes m_fragData;

    bool m_closeSent = false;
    bool m_closeReceived = false;
    bool m_closedByMe = false;
    bool m_tcpClosed = false;
    bool m_cleanClose = false;
    bool m_droppedByMe = false;   // we gave up waiting for the server to close TCP
    bool m_timedOut = false;
    bool m_writeFailed = false;
    bool m_peerCloseHasCode = false;
    int m_peerCloseCode = 0;
    int m_syncCounter = 0;
    Bytes m_syncMarker;
    bool m_syncSeen = false;

    std::vector<Event> m_events;
    std::vector<std::string> m_violations;
    std::vector<std::string> m_failures;
    std::vector<std::string> m_nonStrict;
    std::vector<std::string> m_notes;

    std::vector<Event> m_expectOk;
    std::vector<std::vector<Event>> m_expectNonStrict;
    CloseExpectation m_expectClose;
};

struct Case
{
    std::string id;           // "1.1.1"
    std::string description;
    std::function<void(Session &)> run;
    int timeoutMs = 10000;
    DeflateConfig deflate;    // client role: our offer; server role: our answer
    bool clientRole = true;   // run with the fuzzer as client (against the echo server)
    bool serverRole = true;   // run with the fuzzer as server (against the echo client)
};

std::vector<Case> buildCases();
bool utf8SelfTest(std::string *error);
