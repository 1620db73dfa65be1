#include "wsconnection.h"
#include "wsbufferpool.h"

#include "wsrandom.h"

#include <QtCore/qloggingcategory.h>

#include <cstring>

Q_LOGGING_CATEGORY(lcWsProtocol, "wskit.protocol", QtInfoMsg)

const char *wsStateName(WsState state) noexcept
{
    switch (state) {
    case WsState::Connecting: return "Connecting";
    case WsState::Open: return "Open";
    case WsState::LocalClosing: return "LocalClosing";
    case WsState::RemoteClosing: return "RemoteClosing";
    case WsState::Closed: return "Closed";
    case WsState::Failed: return "Failed";
    }
    return "?";
}

const char *wsEventName(WsEvent::Type type) noexcept
{
    switch (type) {
    case WsEvent::Request: return "Request";
    case WsEvent::Open: return "Open";
    case WsEvent::Rejected: return "Rejected";
    case WsEvent::Message: return "Message";
    case WsEvent::Fragment: return "Fragment";
    case WsEvent::Ping: return "Ping";
    case WsEvent::Pong: return "Pong";
    case WsEvent::CloseFrame: return "CloseFrame";
    case WsEvent::Error: return "Error";
    case WsEvent::Closed: return "Closed";
    case WsEvent::ExtensionFrame: return "ExtensionFrame";
    }
    return "?";
}

// A short printable form of a payload for frame logs.
static QByteArray preview(QByteArrayView payload)
{
    constexpr qsizetype Max = 48;
    QByteArray out;
    for (qsizetype i = 0; i < std::min(payload.size(), Max); ++i) {
        const uchar c = uchar(payload[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += char(c);
        } else {
            out += "\\x";
            out += QByteArray::number(c, 16).rightJustified(2, '0');
        }
    }
    if (payload.size() > Max)
        out += "...";
    return out;
}

static bool isReservedHandshakeHeader(QByteArrayView name)
{
    static const char *const reserved[] = {
        "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
        "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
        "Content-Length", "Transfer-Encoding",
    };
    for (const char *r : reserved)
        if (name.compare(QByteArrayView(r), Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

static bool areValidExtraHeaders(const WsHttpHeaders &headers)
{
    for (const WsHttpHeaders::Field &f : headers.fields()) {
        if (!wsIsValidHeaderName(f.first) || !wsIsValidHeaderValue(f.second)
            || isReservedHandshakeHeader(f.first))
            return false;
    }
    return true;
}

WsConnection::WsConnection(WsRole role, const WsConnectionOptions &options, WsRandomSource *random)
    : m_role(role),
      m_options(options),
      m_random(random ? random : WsSystemRandom::forThisThread()),
      m_headParser(std::make_unique<WsHttpHeadParser>(options.limits.maxHandshakeSize,
                                                       options.limits.maxHeaderCount)),
      m_reader(role == WsRole::Server ? WsFrameReader::Role::Server : WsFrameReader::Role::Client)
{
}

WsConnection::~WsConnection() = default;

void WsConnection::setState(WsState state)
{
    if (state == m_state)
        return;
    qCDebug(lcWsProtocol, "%s: %s -> %s", m_role == WsRole::Client ? "client" : "server",
            wsStateName(m_state), wsStateName(state));
    m_state = state;
}

// ---- Opening handshake -------------------------------------------------------------------

WsError WsConnection::startHandshake(const WsClientHandshake &handshake)
{
    if (m_role != WsRole::Client || m_state != WsState::Connecting || m_handshakeStarted)
        return WsError::InvalidState;
    if (handshake.host.isEmpty() || !wsIsValidHeaderValue(handshake.host)
        || !wsIsValidHeaderValue(handshake.origin) || !handshake.target.startsWith('/')
        || handshake.target.contains(' ') || !wsIsValidHeaderValue(handshake.target)
        || !areValidExtraHeaders(handshake.headers))
        return WsError::InvalidArgument;
    for (const QByteArray &p : handshake.subprotocols)
        if (!wsIsToken(p))
            return WsError::InvalidArgument;

    m_key = wsGenerateKey(*m_random);
    m_request = WsHandshakeRequest();
    m_request.target = handshake.target;
    WsHttpHeaders &h = m_request.headers;
    h.add("Host", handshake.host);
    h.add("Upgrade", "websocket");
    h.add("Connection", "Upgrade");
    h.add("Sec-WebSocket-Key", m_key);
    h.add("Sec-WebSocket-Version", "13");
    if (!handshake.origin.isEmpty())
        h.add("Origin", handshake.origin);
    if (!handshake.subprotocols.isEmpty())
        h.add("Sec-WebSocket-Protocol", handshake.subprotocols.join(", "));
    QList<WsExtensionOffer> offers;
    for (const auto &factory : m_options.extensions)
        offers += factory->clientOffers();
    if (!offers.isEmpty())
        h.add("Sec-WebSocket-Extensions", wsFormatExtensions(offers));
    for (const WsHttpHeaders::Field &f : handshake.headers.fields())
        h.add(f.first, f.second);

    m_outgoing += m_request.toBytes();
    m_handshakeStarted = true;
    return WsError::NoError;
}

void WsConnection::receiveHandshake(QByteArrayView data)
{
    if (m_role == WsRole::Server && m_requestDelivered) {
        // The client may not send frames before our response (RFC 6455 §4.1); keep what
        // comes, bounded, until the application decides.
        if (data.isEmpty())
            return;
        m_pending.append(data);
        if (m_pending.size() > m_options.limits.maxHandshakeSize)
            failHandshake(WsError::HandshakeMalformedRequest, QStringLiteral("data before the handshake response"));
        return;
    }
    if (m_role == WsRole::Client && m_readingRejectionBody) {
        qint64 take = std::min<qint64>(data.size(), m_options.limits.maxRejectionBodySize - m_response.body.size());
        if (m_rejectionBodyLeft >= 0)
            take = std::min(take, m_rejectionBodyLeft);
        m_response.body.append(data.first(take));
        if (m_rejectionBodyLeft >= 0)
            m_rejectionBodyLeft -= take;
        if (m_rejectionBodyLeft == 0 || m_response.body.size() >= m_options.limits.maxRejectionBodySize)
            finishRejection();
        return;
    }
    if (m_role == WsRole::Client && !m_handshakeStarted) {
        failHandshake(WsError::HandshakeMalformedResponse, QStringLiteral("data before the request"));
        return;
    }

    qsizetype consumed = 0;
    const auto status = m_headParser->feed(data.data(), data.size(), &consumed);
    if (status == WsHttpHeadParser::Status::NeedMore)
        return;
    if (status == WsHttpHeadParser::Status::Error) {
        WsError error = m_headParser->error();
        if (m_role == WsRole::Client && error == WsError::HandshakeMalformedRequest)
            error = WsError::HandshakeMalformedResponse;
        failHandshake(error);
        return;
    }
    const QByteArrayView rest = data.sliced(consumed);
    const QByteArray startLine = m_headParser->startLine();
    const WsHttpHeaders headers = m_headParser->headers();
    m_headParser.reset();

    if (m_role == WsRole::Server) {
        const WsError error = WsHandshakeRequest::parse(startLine, headers, &m_request);
        if (error == WsError::HandshakeNotUpgrade && m_options.deliverPlainHttp) {
            m_plainHttp = true;
        } else if (error != WsError::NoError) {
            failHandshake(error);
            return;
        }
        m_requestDelivered = true;
        WsEvent e;
        e.type = WsEvent::Request;
        m_events.push_back(std::move(e));
        // Whatever followed the head waits for the answer, bounded as in later calls.
        receiveHandshake(rest);
        return;
    }

    if (!WsHandshakeResponse::parse(startLine, headers, &m_response)) {
        failHandshake(WsError::HandshakeMalformedResponse, QString::fromLatin1(startLine.left(64)));
        return;
    }
    if (m_response.status != 101) {
        // Redirects, authentication requests and errors: keep the body (bounded) so that
        // the application sees what the server said.
        m_readingRejectionBody = true;
        m_rejectionBodyLeft = -1;
        bool ok = false;
        const qint64 length = m_response.headers.value("Content-Length").toLongLong(&ok);
        if (ok && length >= 0)
            m_rejectionBodyLeft = length;
        else if (m_response.status == 204 || m_response.status == 304 || m_response.status < 200)
            m_rejectionBodyLeft = 0;
        if (m_rejectionBodyLeft == 0)
            finishRejection();
        else
            receiveHandshake(rest);
        return;
    }
    finishClientHandshake();
    if (m_state == WsState::Open && !rest.isEmpty()) {
        const qsizetype used = receiveFrames(rest);
        if (used < rest.size())  // receiveSome(): the rest waits for the next call
            m_deferred = rest.sliced(used).toByteArray();
    }
}

void WsConnection::finishClientHandshake()
{
    const WsHttpHeaders &h = m_response.headers;
    // RFC 6455 §4.1, the client's checks of the server's response:
    // 2. an Upgrade header field whose value is "websocket" (case-insensitive) ...
    if (h.count("Upgrade") != 1 || h.value("Upgrade").compare("websocket", Qt::CaseInsensitive) != 0)
        return failHandshake(WsError::HandshakeBadUpgradeHeader);
    // 3. a Connection header field with the token "Upgrade" ...
    if (!h.hasToken("Connection", "Upgrade"))
        return failHandshake(WsError::HandshakeBadConnectionHeader);
    // 4. Sec-WebSocket-Accept derived from our key ...
    if (h.count("Sec-WebSocket-Accept") != 1 || h.value("Sec-WebSocket-Accept") != wsAcceptKey(m_key))
        return failHandshake(WsError::HandshakeBadAccept);
    // 5. only extensions we offered ...
    QList<WsExtensionOffer> chosen;
    if (!wsParseExtensions(h.values("Sec-WebSocket-Extensions"), &chosen))
        return failHandshake(WsError::HandshakeUnexpectedExtension, QStringLiteral("malformed header"));
    for (const WsExtensionOffer &ext : std::as_const(chosen)) {
        // One extension at a time can own the RSV bits and the payload.
        if (m_extension)
            return failHandshake(WsError::HandshakeUnexpectedExtension, QString::fromLatin1(ext.name));
        for (const auto &factory : m_options.extensions) {
            if (factory->name() == ext.name) {
                m_extension = factory->clientAccept(ext);
                break;
            }
        }
        if (!m_extension)
            return failHandshake(WsError::HandshakeUnexpectedExtension, QString::fromLatin1(ext.toHeaderValue()));
        m_extensionParams.append(ext);
    }
    // 6. and only a subprotocol we offered.
    if (h.contains("Sec-WebSocket-Protocol")) {
        const QList<QByteArray> offered = m_request.subprotocols();
        const QByteArray p = h.value("Sec-WebSocket-Protocol");
        if (h.count("Sec-WebSocket-Protocol") != 1 || !offered.contains(p))
            return failHandshake(WsError::HandshakeUnexpectedSubprotocol, QString::fromLatin1(p.left(64)));
        m_subprotocol = p;
    }
    open();
}

void WsConnection::finishRejection()
{
    m_readingRejectionBody = false;
    WsEvent e;
    e.type = WsEvent::Rejected;
    e.data = m_response.body;
    m_events.push_back(std::move(e));
    failHandshake(WsError::HandshakeUnexpectedStatus,
                  QStringLiteral("HTTP %1 %2").arg(m_response.status).arg(QString::fromLatin1(m_response.reason)));
}

WsError WsConnection::accept(const WsAcceptOptions &options)
{
    if (m_role != WsRole::Server || m_state != WsState::Connecting || !m_requestDelivered || m_plainHttp)
        return WsError::InvalidState;
    if (!options.subprotocol.isEmpty() && !m_request.subprotocols().contains(options.subprotocol))
        return WsError::InvalidArgument;
    if (!areValidExtraHeaders(options.headers))
        return WsError::InvalidArgument;

    // The server's preference order wins; among one extension's offers, the client's.
    const QList<WsExtensionOffer> offers = m_request.extensions();
    for (const auto &factory : m_options.extensions) {
        QList<WsExtensionOffer> mine;
        for (const WsExtensionOffer &o : offers)
            if (o.name == factory->name())
                mine.append(o);
        if (mine.isEmpty())
            continue;
        WsExtensionOffer response;
        m_extension = factory->serverAccept(mine, &response);
        if (m_extension) {
            m_extensionParams.append(response);
            break;
        }
    }

    m_response = WsHandshakeResponse();
    m_response.status = 101;
    m_response.reason = "Switching Protocols";
    WsHttpHeaders &h = m_response.headers;
    h.add("Upgrade", "websocket");
    h.add("Connection", "Upgrade");
    h.add("Sec-WebSocket-Accept", wsAcceptKey(m_request.key()));
    if (!options.subprotocol.isEmpty()) {
        h.add("Sec-WebSocket-Protocol", options.subprotocol);
        m_subprotocol = options.subprotocol;
    }
    if (!m_extensionParams.isEmpty())
        h.add("Sec-WebSocket-Extensions", wsFormatExtensions(m_extensionParams));
    for (const WsHttpHeaders::Field &f : options.headers.fields())
        h.add(f.first, f.second);
    m_outgoing += m_response.toBytes();
    open();
    const QByteArray pending = std::move(m_pending);
    m_pending = QByteArray();
    if (!pending.isEmpty())
        receiveFrames(pending);
    return WsError::NoError;
}

WsError WsConnection::reject(int status, const QByteArray &body, const WsHttpHeaders &headers)
{
    if (m_role != WsRole::Server || m_state != WsState::Connecting || !m_requestDelivered)
        return WsError::InvalidState;
    if (status < 200 || status > 599)
        return WsError::InvalidArgument;
    for (const WsHttpHeaders::Field &f : headers.fields())
        if (!wsIsValidHeaderName(f.first) || !wsIsValidHeaderValue(f.second))
            return WsError::InvalidArgument;
    m_response = wsHandshakeRejection(status, body, headers);
    m_outgoing += m_response.toBytes();
    m_close.error = WsError::HandshakeRejected;
    m_close.initiator = WsCloseInitiator::Local;
    m_pending.clear();
    setState(WsState::Closed);
    emitClosed();
    return WsError::NoError;
}

void WsConnection::failHandshake(WsError error, const QString &detail)
{
    if (m_state != WsState::Connecting)
        return;
    if (m_role == WsRole::Server) {
        const int status = wsHttpStatusFor(error);
        m_response = wsHandshakeRejection(status ? status : 400, wsErrorDescription(error).toUtf8() + '\n');
        m_outgoing += m_response.toBytes();
    }
    m_close.error = error;
    m_pending.clear();
    emitError(error, detail);
    setState(WsState::Failed);
    emitClosed();
}

void WsConnection::open()
{
    setState(WsState::Open);
    configureReader();
    WsEvent e;
    e.type = WsEvent::Open;
    m_events.push_back(std::move(e));
}

void WsConnection::configureReader()
{
    const WsLimits &l = m_options.limits;
    // Without an explicit frame limit, frames are bounded by the message limit, checked
    // per message. Transformed (e.g. compressed) payloads may exceed their decoded size a
    // little, so their wire size gets some slack.
    m_reader.setMaxFramePayload(l.maxFrameSize > 0 ? quint64(l.maxFrameSize) : ~quint64(0));
    m_wireLimit = l.maxMessageSize + (m_extension ? l.maxMessageSize / 8 + 1024 : 0);
    if (l.maxFrameSize > 0 && l.maxFrameSize > m_wireLimit)
        m_wireLimit = l.maxFrameSize;
    m_reader.setAllowedRsv(m_extension ? m_extension->rsvBits() : 0);
    // Only reserved opcodes can be claimed: never the six RFC 6455 defines.
    m_reader.setAllowedOpcodes(m_extension ? quint16(m_extension->opcodes() & 0xf8f8) : 0);
}

// ---- Receiving frames --------------------------------------------------------------------

void WsConnection::receiveHandshakeOrIgnore(QByteArrayView data)
{
    if (m_state == WsState::Connecting)
        receiveHandshake(data);
}

void WsConnection::receiveData(QByteArrayView data)
{
    if (!m_deferred.isEmpty()) {
        const QByteArray earlier = std::exchange(m_deferred, QByteArray());
        receiveData(earlier);
    }
    switch (m_state) {
    case WsState::Connecting:
        receiveHandshake(data);
        break;
    case WsState::Open:
    case WsState::LocalClosing:
        receiveFrames(data);
        break;
    case WsState::RemoteClosing:  // RFC 6455 §5.5.1: nothing may follow the peer's close frame
    case WsState::Closed:
    case WsState::Failed:
        break;
    }
}

qsizetype WsConnection::receiveSome(QByteArrayView data)
{
    struct Stop
    {
        bool &flag;
        ~Stop() { flag = false; }
    } stop{m_stopAtEvent = true};
    if (!m_deferred.isEmpty()) {
        // Bytes that came with the handshake response, not parsed yet: they go first.
        const QByteArray earlier = std::exchange(m_deferred, QByteArray());
        if (m_state == WsState::Open || m_state == WsState::LocalClosing) {
            const qsizetype used = receiveFrames(earlier);
            if (used < earlier.size()) {
                m_deferred = earlier.mid(used);
                return 0;  // nothing of data consumed yet
            }
        }
        if (!m_events.empty())
            return 0;
    }
    if (m_state != WsState::Open && m_state != WsState::LocalClosing) {
        receiveHandshakeOrIgnore(data);
        return data.size();
    }
    return receiveFrames(data);
}

qsizetype WsConnection::receiveFrames(QByteArrayView data)
{
    qsizetype consumed = 0;
    const size_t eventsBefore = m_events.size();
    while (m_state == WsState::Open || m_state == WsState::LocalClosing) {
        const WsFrameReader::Item item = m_reader.next(data.data(), data.size(), &consumed);
        switch (item.type) {
        case WsFrameReader::Item::None:
            return data.size();
        case WsFrameReader::Item::Error:
            failConnection(item.error);
            return data.size();
        case WsFrameReader::Item::Header:
            if (!onFrameHeader(item.header))
                return data.size();
            if (item.frameEnd && !onPayload(item))
                return data.size();
            break;
        case WsFrameReader::Item::Payload:
            if (!onPayload(item))
                return data.size();
            break;
        }
        if (m_stopAtEvent && m_events.size() > eventsBefore)
            return consumed;
    }
    return data.size();  // the rest follows a close frame or a failure: ignored
}

bool WsConnection::onFrameHeader(const WsFrameHeader &h)
{
    m_frame = h;
    qCDebug(lcWsProtocol, "%s << %s fin=%d rsv=%d len=%llu", m_role == WsRole::Client ? "client" : "server",
            wsOpcodeName(h.opcode), int(h.fin), int(h.rsv), static_cast<unsigned long long>(h.payloadLength));
    if (isExtensionOpcode(h.opcode)) {
        if (!h.fin) {
            failConnection(WsError::ReservedOpcode, QStringLiteral("fragmented extension frame"));
            return false;
        }
        if (h.payloadLength > quint64(m_options.limits.maxMessageSize)) {
            failConnection(WsError::MessageTooLarge);
            return false;
        }
    }
    if (wsIsControlOpcode(h.opcode) && h.rsv) {
        // RFC 6455 §5.2 / RFC 7692 §6.1: extensions (permessage-deflate included) set RSV bits
        // on data frames only; a control frame with one set fails the connection.
        failConnection(WsError::ReservedBitsSet, QStringLiteral("on a control frame"));
        return false;
    }
    if (wsIsControlOpcode(h.opcode) || isExtensionOpcode(h.opcode)) {
        m_control.clear();
        return true;
    }
    if (h.opcode == quint8(WsOpcode::Continuation)) {
        // RFC 6455 §5.4: a continuation continues a started message ...
        if (!m_inMessage) {
            failConnection(WsError::UnexpectedContinuation);
            return false;
        }
        // ... and RFC 7692 §6.1: per-message extensions mark the first frame only.
        if (h.rsv) {
            failConnection(WsError::ReservedBitsSet, QStringLiteral("on a continuation frame"));
            return false;
        }
    } else {
        // §5.4: the fragments of one message are not interleaved with another's.
        if (m_inMessage) {
            failConnection(WsError::ExpectedContinuation);
            return false;
        }
        m_inMessage = true;
        m_messageOpcode = WsOpcode(h.opcode);
        m_messageSize = 0;
        m_messageWireSize = 0;
        m_messageFrames = 0;
        m_fragmentFirst = true;
        m_message.clear();
        m_utf8.reset();
        m_utf8Tail.clear();
        m_messageTransformed = false;
        if (h.rsv) {
            if (!m_extension || !m_extension->beginIncoming(h.rsv)) {
                failConnection(WsError::ReservedBitsSet);
                return false;
            }
            m_messageTransformed = true;
        }
    }
    if (++m_messageFrames > m_options.limits.maxFragments) {
        failConnection(WsError::TooManyFragments);
        return false;
    }
    // Fail fast: the header already tells whether the message will be too big.
    if (m_messageTransformed) {
        if (quint64(m_messageWireSize) + h.payloadLength > quint64(m_wireLimit)) {
            failConnection(WsError::MessageTooLarge);
            return false;
        }
    } else if (quint64(m_messageSize) + h.payloadLength > quint64(m_options.limits.maxMessageSize)) {
        failConnection(WsError::MessageTooLarge);
        return false;
    }
    // A large message starts in a recycled buffer when the thread has one (never a fresh
    // allocation on the header's word alone).
    if (!m_messageTransformed && !m_options.streamMessages && m_message.isEmpty()
        && h.payloadLength >= quint64(WsBufferPool::MinimumSize)) {
        QByteArray pooled = WsBufferPool::take(qsizetype(h.payloadLength));
        if (!pooled.isNull())
            m_message = std::move(pooled);
    }
    return true;
}

bool WsConnection::isExtensionOpcode(quint8 opcode) const noexcept
{
    return m_extension && opcode > 2 && opcode != 8 && opcode != 9 && opcode != 10
            && (m_extension->opcodes() & (1u << opcode));
}

bool WsConnection::onPayload(const WsFrameReader::Item &item)
{
    if (wsIsControlOpcode(m_frame.opcode) || isExtensionOpcode(m_frame.opcode)) {
        if (item.size > 0) {
            const qsizetype old = m_control.size();
            m_control.resize(old + item.size);
            item.copyTo(m_control.data() + old);
        }
        if (item.frameEnd && m_frameObserver)
            observeIncoming();
        return item.frameEnd ? onControlFrame() : true;
    }

    const bool last = item.frameEnd && m_frame.fin;
    m_messageWireSize += item.size;
    bool ok;
    if (!m_messageTransformed && !m_options.streamMessages) {
        // The common case: unmask straight into the message, one pass over each byte.
        const qsizetype old = m_message.size();
        if (item.size > 0) {
            m_message.resize(old + item.size);
            item.copyTo(m_message.data() + old);
        }
        ok = onDataPiece(QByteArrayView(m_message).sliced(old), last);
    } else {
        m_scratch.resize(item.size);
        if (item.size > 0)
            item.copyTo(m_scratch.data());
        ok = onDataPiece(m_scratch, last);
    }
    if (ok && item.frameEnd && m_frameObserver)
        observeIncoming();
    return ok;
}

void WsConnection::observeIncoming()
{
    WsFrameInfo f;
    f.direction = WsFrameInfo::Incoming;
    f.opcode = m_frame.opcode;
    f.fin = m_frame.fin;
    f.rsv = m_frame.rsv;
    f.masked = m_frame.masked;
    f.wireSize = qint64(m_frame.payloadLength);
    if (wsIsControlOpcode(m_frame.opcode) || isExtensionOpcode(m_frame.opcode)) {
        f.messageType = WsOpcode(m_frame.opcode);
        f.payload = m_control;
        if (m_frame.opcode == quint8(WsOpcode::Close))
            f.closeCode = m_control.size() >= 2 ? quint16((uchar(m_control[0]) << 8) | uchar(m_control[1]))
                                                : quint16(WsCloseCode::NoStatus);
    } else {
        f.messageType = m_messageOpcode;
        if (m_frame.fin) {
            f.messageSize = m_messageSize;
            f.payload = std::exchange(m_observedMessage, QByteArray());
        }
    }
    m_frameObserver(f);
}

// A piece of the current message's payload as received (unmasked), in order.
bool WsConnection::onDataPiece(QByteArrayView piece, bool last)
{
    QByteArrayView decoded = piece;
    QByteArray decodedBuffer;
    const bool streaming = m_options.streamMessages;
    if (m_messageTransformed) {
        QByteArray &out = streaming ? decodedBuffer : m_message;
        const qsizetype old = out.size();
        const WsError error = m_extension->decode(piece, last, out, m_options.limits.maxMessageSize - m_messageSize);
        if (error != WsError::NoError) {
            failConnection(error);
            return false;
        }
        decoded = QByteArrayView(out).sliced(old);
    }
    m_messageSize += decoded.size();
    if (m_messageSize > m_options.limits.maxMessageSize) {
        failConnection(WsError::MessageTooLarge);
        return false;
    }
    if (m_messageOpcode == WsOpcode::Text) {
        // RFC 6455 §8.1: fail as soon as the text is known to be invalid, not at its end.
        const auto result = m_utf8.feed(decoded);
        if (result == WsUtf8Validator::Result::Invalid
            || (last && result != WsUtf8Validator::Result::Valid)) {
            failConnection(WsError::InvalidUtf8);
            return false;
        }
    }

    if (streaming) {
        QByteArray out = m_utf8Tail.isEmpty() ? decoded.toByteArray() : m_utf8Tail + decoded.toByteArray();
        m_utf8Tail.clear();
        if (m_messageOpcode == WsOpcode::Text && !last && !m_utf8.isComplete()) {
            // Hold back the start of an incomplete code point so each piece is whole text.
            qsizetype start = out.size();
            while (start > 0 && (uchar(out[start - 1]) & 0xc0) == 0x80)
                --start;
            if (start > 0)
                --start;  // the lead byte
            m_utf8Tail = out.mid(start);
            out.truncate(start);
        }
        if (!out.isEmpty() || last) {
            WsEvent e;
            e.type = WsEvent::Fragment;
            e.opcode = m_messageOpcode;
            e.data = std::move(out);
            e.first = m_fragmentFirst;
            e.last = last;
            m_fragmentFirst = false;
            m_events.push_back(std::move(e));
        }
    } else if (last) {
        qCDebug(lcWsProtocol, "%s << message %s len=%lld frames=%d %s", m_role == WsRole::Client ? "client" : "server",
                wsOpcodeName(quint8(m_messageOpcode)), static_cast<long long>(m_message.size()), m_messageFrames,
                preview(m_message).constData());
        WsEvent e;
        e.type = WsEvent::Message;
        e.opcode = m_messageOpcode;
        e.data = std::move(m_message);
        m_message = QByteArray();
        if (m_frameObserver)
            m_observedMessage = e.data;  // shared, not copied
        m_events.push_back(std::move(e));
    }
    if (last)
        m_inMessage = false;
    return true;
}

bool WsConnection::onControlFrame()
{
    qCDebug(lcWsProtocol, "%s << %s payload %s", m_role == WsRole::Client ? "client" : "server",
            wsOpcodeName(m_frame.opcode), preview(m_control).constData());
    switch (WsOpcode(m_frame.opcode)) {
    case WsOpcode::Ping: {
        // RFC 6455 §5.5.2: answer with a pong carrying the same payload, as soon as practical.
        if (m_state == WsState::Open)
            queueFrame(true, 0, WsOpcode::Pong, m_control);
        WsEvent e;
        e.type = WsEvent::Ping;
        e.data = m_control;
        m_events.push_back(std::move(e));
        return true;
    }
    case WsOpcode::Pong: {
        WsEvent e;
        e.type = WsEvent::Pong;
        e.data = m_control;
        m_events.push_back(std::move(e));
        return true;
    }
    case WsOpcode::Close:
        break;
    default: {
        // Only opcodes an extension claimed get this far (the reader rejects the others).
        WsEvent e;
        e.type = WsEvent::ExtensionFrame;
        e.opcode = WsOpcode(m_frame.opcode);
        e.data = m_control;
        m_events.push_back(std::move(e));
        return true;
    }
    }

    // RFC 6455 §5.5.1: an optional 2-byte code, then a UTF-8 reason.
    quint16 code = WsCloseCode::NoStatus;
    QByteArrayView reason;
    if (m_control.size() == 1) {
        failConnection(WsError::InvalidClosePayload);
        return false;
    }
    if (m_control.size() >= 2) {
        code = quint16((uchar(m_control[0]) << 8) | uchar(m_control[1]));
        if (!wsIsValidCloseCode(code)) {
            failConnection(WsError::InvalidCloseCode, QString::number(code));
            return false;
        }
        reason = QByteArrayView(m_control).sliced(2);
        if (!WsUtf8Validator::isValid(reason)) {
            failConnection(WsError::InvalidUtf8, QStringLiteral("in the close reason"));
            return false;
        }
    }
    m_close.code = code;
    m_close.reason = wsDecodeUtf8(reason);
    WsEvent e;
    e.type = WsEvent::CloseFrame;
    e.close = m_close;
    m_events.push_back(std::move(e));

    if (m_state == WsState::LocalClosing) {
        // Our close was answered: the closing handshake is complete.
        m_close.wasClean = true;
        setState(WsState::Closed);
        emitClosed();
        return false;
    }
    m_close.initiator = WsCloseInitiator::Remote;
    if (m_sendingFragmented) {
        // §5.5.1: the endpoint MAY delay its Close until its current message is sent.
        setState(WsState::RemoteClosing);
        return false;
    }
    // §5.5.1: reply with a Close frame, echoing the status code.
    queueClose(code, {});
    m_close.wasClean = true;
    setState(WsState::Closed);
    emitClosed();
    return false;
}

void WsConnection::transportClosed()
{
    if (m_state == WsState::Closed || m_state == WsState::Failed)
        return;
    if (m_state == WsState::Connecting) {
        if (m_readingRejectionBody) {  // a body without Content-Length ends with the connection
            finishRejection();
            return;
        }
        failHandshake(WsError::AbnormalClosure, QStringLiteral("during the opening handshake"));
        return;
    }
    // RFC 6455 §7.1.5: no close frame received means 1006; §7.1.4: not clean.
    m_close.error = WsError::AbnormalClosure;
    m_close.wasClean = false;
    emitError(WsError::AbnormalClosure, QString());
    setState(WsState::Failed);
    emitClosed();
}

// ---- Failing -----------------------------------------------------------------------------

void WsConnection::failConnection(WsError error, const QString &detail)
{
    // RFC 6455 §7.1.7: send a close frame with the appropriate code (unless one was sent
    // already), then close the transport. Internal errors carry no details (§7.4.1 1011).
    const quint16 code = wsCloseCodeFor(error);
    const QString reason = code == WsCloseCode::InternalError ? QString() : wsErrorDescription(error);
    m_close.error = error;
    if (m_state == WsState::Open || m_state == WsState::RemoteClosing) {
        const QByteArray r = reason.toUtf8();
        queueClose(code, QByteArrayView(r).first(wsUtf8TruncatedSize(r.constData(), r.size(), 123)));
    }
    emitError(error, detail);
    setState(WsState::Failed);
    emitClosed();
}

void WsConnection::fail(WsError error, quint16 code, const QString &reason)
{
    if (m_state == WsState::Closed || m_state == WsState::Failed)
        return;
    if (m_state == WsState::Connecting) {
        failHandshake(error, reason);
        return;
    }
    m_close.error = error;
    if ((m_state == WsState::Open || m_state == WsState::RemoteClosing) && wsIsValidCloseCode(code)) {
        const QByteArray r = reason.toUtf8();
        queueClose(code, QByteArrayView(r).first(wsUtf8TruncatedSize(r.constData(), r.size(), 123)));
    }
    if (m_close.initiator == WsCloseInitiator::None)
        m_close.initiator = WsCloseInitiator::Local;
    emitError(error, reason);
    setState(WsState::Failed);
    emitClosed();
}

void WsConnection::emitError(WsError error, const QString &detail)
{
    WsEvent e;
    e.type = WsEvent::Error;
    e.error = error;
    e.errorString = wsErrorDescription(error);
    if (!detail.isEmpty())
        e.errorString += QStringLiteral(" (") + detail + QLatin1Char(')');
    qCDebug(lcWsProtocol, "%s error: %s", m_role == WsRole::Client ? "client" : "server",
            qPrintable(e.errorString));
    m_events.push_back(std::move(e));
}

void WsConnection::emitClosed()
{
    WsEvent e;
    e.type = WsEvent::Closed;
    e.close = m_close;
    m_events.push_back(std::move(e));
}

bool WsConnection::shouldCloseTransport() const noexcept
{
    if (m_state == WsState::Failed)
        return true;
    if (m_state == WsState::Closed)
        return m_role == WsRole::Server || !m_close.wasClean;
    return false;
}

// ---- Sending -----------------------------------------------------------------------------

void WsConnection::queueFrame(bool fin, quint8 rsv, WsOpcode opcode, QByteArrayView payload)
{
    // RFC 6455 §5.3: a client masks every frame with a fresh unpredictable key; a server never masks.
    const bool masked = m_role == WsRole::Client;
    const quint32 mask = masked ? m_random->nextMask() : 0;
    qCDebug(lcWsProtocol, "%s >> %s fin=%d rsv=%d len=%lld %s", m_role == WsRole::Client ? "client" : "server",
            wsOpcodeName(quint8(opcode)), int(fin), int(rsv), static_cast<long long>(payload.size()),
            preview(payload).constData());
    const qsizetype need = m_outgoing.size() + payload.size() + WsFrameHeader::MaxSize;
    if (need >= WsBufferPool::MinimumSize && m_outgoing.capacity() < need) {
        QByteArray pooled = WsBufferPool::take(need);
        if (!pooled.isNull()) {
            pooled.append(m_outgoing);
            m_outgoing.swap(pooled);
        }
    }
    wsAppendFrame(m_outgoing, fin, rsv, quint8(opcode), payload, masked, mask);
    if (m_frameObserver) {
        WsFrameInfo f;
        f.direction = WsFrameInfo::Outgoing;
        f.opcode = quint8(opcode);
        f.messageType = opcode == WsOpcode::Continuation ? m_sendingOpcode : opcode;
        f.fin = fin;
        f.rsv = rsv;
        f.masked = masked;
        f.wireSize = payload.size();
        if (wsIsControlOpcode(opcode) || isExtensionOpcode(quint8(opcode))) {
            f.payload = payload.toByteArray();
            if (opcode == WsOpcode::Close)
                f.closeCode = payload.size() >= 2 ? quint16((uchar(payload[0]) << 8) | uchar(payload[1]))
                                                  : quint16(WsCloseCode::NoStatus);
        } else if (fin) {
            f.payload = std::exchange(m_outMessage, QByteArray());
            f.messageSize = f.payload.size();
        }
        m_frameObserver(f);
    }
}

void WsConnection::queueClose(quint16 code, QByteArrayView reasonUtf8)
{
    m_close.sentCode = code;
    if (code == WsCloseCode::NoStatus) {
        queueFrame(true, 0, WsOpcode::Close, {});
        return;
    }
    char payload[125];
    payload[0] = char(code >> 8);
    payload[1] = char(code & 0xff);
    const qsizetype n = std::min<qsizetype>(reasonUtf8.size(), 123);
    if (n > 0)
        std::memcpy(payload + 2, reasonUtf8.data(), size_t(n));
    queueFrame(true, 0, WsOpcode::Close, QByteArrayView(payload, 2 + n));
}

WsError WsConnection::sendMessage(WsOpcode opcode, QByteArrayView data, bool allowCompression)
{
    if (m_state != WsState::Open)
        return WsError::NotOpen;
    if (m_sendingFragmented)
        return WsError::MessageInProgress;
    const quint8 rsv = m_extension ? m_extension->beginOutgoing(opcode, data.size(), allowCompression) : 0;
    return queueMessage(opcode, data, rsv);
}

WsError WsConnection::queueMessage(WsOpcode opcode, QByteArrayView data, quint8 rsv)
{
    m_sendingOpcode = opcode;
    if (m_frameObserver)
        m_outMessage = data.toByteArray();
    QByteArray encoded;
    QByteArrayView payload = data;
    if (rsv) {
        m_extension->encode(data, true, encoded);
        payload = encoded;
    }
    const qint64 frameSize = m_options.outgoingFrameSize;
    if (frameSize <= 0 || payload.size() <= frameSize) {
        queueFrame(true, rsv, opcode, payload);
        return WsError::NoError;
    }
    // RFC 6455 §5.4: the first fragment carries the opcode (and the RSV bits of a
    // per-message extension), the others are continuations.
    qsizetype pos = 0;
    while (pos < payload.size()) {
        const qsizetype n = std::min<qsizetype>(frameSize, payload.size() - pos);
        const bool first = pos == 0;
        pos += n;
        queueFrame(pos == payload.size(), first ? rsv : 0, first ? opcode : WsOpcode::Continuation,
                   payload.sliced(pos - n, n));
    }
    return WsError::NoError;
}

WsError WsConnection::sendText(QStringView text, bool allowCompression)
{
    return sendMessage(WsOpcode::Text, text.toUtf8(), allowCompression);
}

WsError WsConnection::sendText(QByteArrayView utf8, bool allowCompression)
{
    if (m_state == WsState::Open && !WsUtf8Validator::isValid(utf8))
        return WsError::InvalidUtf8ToSend;
    return sendMessage(WsOpcode::Text, utf8, allowCompression);
}

WsError WsConnection::sendBinary(QByteArrayView data, bool allowCompression)
{
    return sendMessage(WsOpcode::Binary, data, allowCompression);
}

WsError WsConnection::sendFrame(WsOpcode opcode, QByteArrayView data, bool fin, bool allowCompression)
{
    if (wsIsControlOpcode(opcode))
        return WsError::InvalidArgument;
    const bool continuing = opcode == WsOpcode::Continuation;
    const bool mayContinue = m_state == WsState::Open
            || (m_state == WsState::RemoteClosing && m_sendingFragmented);
    if (!mayContinue || (m_state == WsState::RemoteClosing && !continuing))
        return WsError::NotOpen;
    if (continuing && !m_sendingFragmented)
        return WsError::NoMessageInProgress;
    if (!continuing && m_sendingFragmented)
        return WsError::MessageInProgress;

    const WsOpcode type = continuing ? m_sendingOpcode : opcode;
    if (type == WsOpcode::Text) {
        WsUtf8Validator v = continuing ? m_sendUtf8 : WsUtf8Validator();
        const auto result = v.feed(data);
        if (result == WsUtf8Validator::Result::Invalid || (fin && result != WsUtf8Validator::Result::Valid))
            return WsError::InvalidUtf8ToSend;
        m_sendUtf8 = v;
    }
    quint8 rsv = 0;
    if (!continuing) {
        m_sendingOpcode = opcode;
        m_sendingRsv = m_extension ? m_extension->beginOutgoing(opcode, -1, allowCompression) : 0;
        rsv = m_sendingRsv;
    }
    if (m_frameObserver)
        m_outMessage += data;  // the observer sees the whole message on its last frame
    if (m_sendingRsv) {
        QByteArray encoded;
        m_extension->encode(data, fin, encoded);
        queueFrame(fin, rsv, opcode, encoded);
    } else {
        queueFrame(fin, rsv, opcode, data);
    }
    m_sendingFragmented = !fin;
    if (fin && m_state == WsState::RemoteClosing) {
        // The message that delayed our close reply is complete: reply now.
        queueClose(m_close.code, {});
        m_close.wasClean = true;
        setState(WsState::Closed);
        emitClosed();
    }
    return WsError::NoError;
}

WsPreparedMessage WsConnection::prepareMessage(WsOpcode opcode, const QByteArray &payload)
{
    WsPreparedMessage m;
    m.opcode = opcode;
    m.payload = payload;
    wsAppendFrame(m.serverFrame, true, 0, quint8(opcode), payload, false, 0);
    return m;
}

WsError WsConnection::sendPrepared(const WsPreparedMessage &message, bool allowCompression)
{
    if (m_state != WsState::Open)
        return WsError::NotOpen;
    if (m_sendingFragmented)
        return WsError::MessageInProgress;
    if (message.opcode == WsOpcode::Text && !WsUtf8Validator::isValid(message.payload))
        return WsError::InvalidUtf8ToSend;
    const quint8 rsv = m_extension
            ? m_extension->beginOutgoing(message.opcode, message.payload.size(), allowCompression) : 0;
    const bool asIs = m_role == WsRole::Server && rsv == 0
            && (m_options.outgoingFrameSize <= 0 || message.payload.size() <= m_options.outgoingFrameSize);
    if (!asIs)
        return queueMessage(message.opcode, message.payload, rsv);
    qCDebug(lcWsProtocol, "server >> %s (prepared) len=%lld", wsOpcodeName(quint8(message.opcode)),
            static_cast<long long>(message.payload.size()));
    m_outgoing += message.serverFrame;
    if (m_frameObserver) {
        WsFrameInfo f;
        f.direction = WsFrameInfo::Outgoing;
        f.opcode = quint8(message.opcode);
        f.messageType = message.opcode;
        f.wireSize = f.messageSize = message.payload.size();
        f.payload = message.payload;
        m_frameObserver(f);
    }
    return WsError::NoError;
}

WsError WsConnection::ping(QByteArrayView payload)
{
    if (m_state != WsState::Open)
        return WsError::NotOpen;
    if (payload.size() > 125)
        return WsError::ControlPayloadTooLarge;
    queueFrame(true, 0, WsOpcode::Ping, payload);
    return WsError::NoError;
}

WsError WsConnection::sendExtensionFrame(quint8 opcode, QByteArrayView payload)
{
    if (m_state != WsState::Open)
        return WsError::NotOpen;
    if (!isExtensionOpcode(opcode))
        return WsError::InvalidArgument;
    if (wsIsControlOpcode(opcode) && payload.size() > 125)
        return WsError::ControlPayloadTooLarge;
    queueFrame(true, 0, WsOpcode(opcode), payload);
    return WsError::NoError;
}

WsError WsConnection::pong(QByteArrayView payload)
{
    if (m_state != WsState::Open)
        return WsError::NotOpen;
    if (payload.size() > 125)
        return WsError::ControlPayloadTooLarge;
    queueFrame(true, 0, WsOpcode::Pong, payload);
    return WsError::NoError;
}

WsError WsConnection::close(quint16 code, const QString &reason)
{
    switch (m_state) {
    case WsState::Connecting:
    case WsState::Closed:
    case WsState::Failed:
        return WsError::NotOpen;
    case WsState::LocalClosing:
        return WsError::AlreadyClosing;
    case WsState::Open:
    case WsState::RemoteClosing:
        break;
    }
    if (code != WsCloseCode::NoStatus && !wsIsValidCloseCode(code))
        return WsError::InvalidCloseCodeToSend;
    QByteArray r = code == WsCloseCode::NoStatus ? QByteArray() : reason.toUtf8();
    r.truncate(wsUtf8TruncatedSize(r.constData(), r.size(), 123));
    queueClose(code, r);
    if (m_state == WsState::Open) {
        m_close.initiator = WsCloseInitiator::Local;
        setState(WsState::LocalClosing);
    } else {
        m_close.wasClean = true;
        setState(WsState::Closed);
        emitClosed();
    }
    return WsError::NoError;
}

std::vector<WsEvent> WsConnection::takeEvents()
{
    std::vector<WsEvent> events;
    events.swap(m_events);
    return events;
}

QByteArray WsConnection::takeOutgoing()
{
    QByteArray out;
    out.swap(m_outgoing);
    return out;
}
