#include "wserror.h"

WsErrorKind wsErrorKind(WsError error) noexcept
{
    if (error == WsError::NoError)
        return WsErrorKind::None;
    if (error <= WsError::WriteBufferFull)
        return WsErrorKind::Local;
    if (error <= WsError::HandshakeTimeout)
        return WsErrorKind::Handshake;
    if (error <= WsError::ExtensionError)
        return WsErrorKind::Protocol;
    return WsErrorKind::Transport;
}

quint16 wsCloseCodeFor(WsError error) noexcept
{
    switch (error) {
    case WsError::NoError:
        return WsCloseCode::Normal;
    case WsError::InvalidUtf8:
    case WsError::ExtensionError:
        // RFC 6455 §7.4.1: 1007 for data inconsistent with the type of the message;
        // RFC 7692 §8.3 / Autobahn 12.x-13.x expect the same for corrupt compressed data.
        return WsCloseCode::InvalidPayload;
    case WsError::FrameTooLarge:
    case WsError::MessageTooLarge:
    case WsError::TooManyFragments:
        return WsCloseCode::MessageTooBig;
    case WsError::AbnormalClosure:
    case WsError::ConnectionRefused:
    case WsError::HostNotFound:
    case WsError::NetworkError:
    case WsError::ProxyError:
    case WsError::CloseTimeout:
        return WsCloseCode::Abnormal;
    case WsError::TlsError:
        return WsCloseCode::TlsHandshake;
    case WsError::InternalError:
        return WsCloseCode::InternalError;
    default:
        break;
    }
    if (wsErrorKind(error) == WsErrorKind::Protocol)
        return WsCloseCode::ProtocolError;
    return WsCloseCode::InternalError;
}

int wsHttpStatusFor(WsError error) noexcept
{
    switch (error) {
    case WsError::HandshakeMalformedRequest:
    case WsError::HandshakeBadHttpVersion:
    case WsError::HandshakeMissingHost:
    case WsError::HandshakeMissingConnectionUpgrade:
    case WsError::HandshakeBadKey:
        return 400;
    case WsError::HandshakeRejected:
        return 403;
    case WsError::HandshakeMethodNotAllowed:
        return 405;
    case WsError::HandshakeTimeout:
        return 408;  // RFC 9110 §15.5.9: the request did not arrive in time
    case WsError::HandshakeNotUpgrade:
    case WsError::HandshakeUnsupportedVersion:
        // RFC 6455 §4.2.2 / §4.4: 426 with Sec-WebSocket-Version: 13.
        return 426;
    case WsError::HandshakeHeaderTooLarge:
        return 431;  // RFC 6585 §5
    default:
        return 0;
    }
}

bool wsIsValidCloseCode(quint16 code) noexcept
{
    // RFC 6455 §7.4.1/§7.4.2 and the IANA registry (1012-1014).
    if (code >= 1000 && code <= 1003)
        return true;
    if (code >= 1007 && code <= 1014)
        return true;
    return code >= 3000 && code <= 4999;
}

QString wsCloseCodeName(quint16 code)
{
    switch (code) {
    case 1000: return QStringLiteral("Normal closure");
    case 1001: return QStringLiteral("Going away");
    case 1002: return QStringLiteral("Protocol error");
    case 1003: return QStringLiteral("Unsupported data");
    case 1005: return QStringLiteral("No status received");
    case 1006: return QStringLiteral("Abnormal closure");
    case 1007: return QStringLiteral("Invalid frame payload data");
    case 1008: return QStringLiteral("Policy violation");
    case 1009: return QStringLiteral("Message too big");
    case 1010: return QStringLiteral("Mandatory extension");
    case 1011: return QStringLiteral("Internal error");
    case 1012: return QStringLiteral("Service restart");
    case 1013: return QStringLiteral("Try again later");
    case 1014: return QStringLiteral("Bad gateway");
    case 1015: return QStringLiteral("TLS handshake failure");
    default:
        if (code >= 3000 && code <= 3999)
            return QStringLiteral("Registered (library/framework)");
        if (code >= 4000 && code <= 4999)
            return QStringLiteral("Private use");
        return QString();
    }
}

const char *wsErrorName(WsError error) noexcept
{
    switch (error) {
#define WS_ERROR_NAME(x) case WsError::x: return #x;
    WS_ERROR_NAME(NoError)
    WS_ERROR_NAME(NotOpen)
    WS_ERROR_NAME(AlreadyClosing)
    WS_ERROR_NAME(MessageInProgress)
    WS_ERROR_NAME(NoMessageInProgress)
    WS_ERROR_NAME(InvalidCloseCodeToSend)
    WS_ERROR_NAME(ControlPayloadTooLarge)
    WS_ERROR_NAME(InvalidUtf8ToSend)
    WS_ERROR_NAME(InvalidState)
    WS_ERROR_NAME(InvalidArgument)
    WS_ERROR_NAME(WriteBufferFull)
    WS_ERROR_NAME(HandshakeMalformedRequest)
    WS_ERROR_NAME(HandshakeMethodNotAllowed)
    WS_ERROR_NAME(HandshakeBadHttpVersion)
    WS_ERROR_NAME(HandshakeHeaderTooLarge)
    WS_ERROR_NAME(HandshakeMissingHost)
    WS_ERROR_NAME(HandshakeNotUpgrade)
    WS_ERROR_NAME(HandshakeMissingConnectionUpgrade)
    WS_ERROR_NAME(HandshakeBadKey)
    WS_ERROR_NAME(HandshakeUnsupportedVersion)
    WS_ERROR_NAME(HandshakeRejected)
    WS_ERROR_NAME(HandshakeMalformedResponse)
    WS_ERROR_NAME(HandshakeUnexpectedStatus)
    WS_ERROR_NAME(HandshakeBadUpgradeHeader)
    WS_ERROR_NAME(HandshakeBadConnectionHeader)
    WS_ERROR_NAME(HandshakeBadAccept)
    WS_ERROR_NAME(HandshakeUnexpectedSubprotocol)
    WS_ERROR_NAME(HandshakeUnexpectedExtension)
    WS_ERROR_NAME(HandshakeTimeout)
    WS_ERROR_NAME(ReservedOpcode)
    WS_ERROR_NAME(ReservedBitsSet)
    WS_ERROR_NAME(UnmaskedClientFrame)
    WS_ERROR_NAME(MaskedServerFrame)
    WS_ERROR_NAME(InvalidLength)
    WS_ERROR_NAME(ControlFrameTooLarge)
    WS_ERROR_NAME(FragmentedControlFrame)
    WS_ERROR_NAME(UnexpectedContinuation)
    WS_ERROR_NAME(ExpectedContinuation)
    WS_ERROR_NAME(InvalidClosePayload)
    WS_ERROR_NAME(InvalidCloseCode)
    WS_ERROR_NAME(InvalidUtf8)
    WS_ERROR_NAME(FrameTooLarge)
    WS_ERROR_NAME(MessageTooLarge)
    WS_ERROR_NAME(TooManyFragments)
    WS_ERROR_NAME(ExtensionError)
    WS_ERROR_NAME(AbnormalClosure)
    WS_ERROR_NAME(ConnectionRefused)
    WS_ERROR_NAME(HostNotFound)
    WS_ERROR_NAME(NetworkError)
    WS_ERROR_NAME(TlsError)
    WS_ERROR_NAME(ProxyError)
    WS_ERROR_NAME(TooManyRedirects)
    WS_ERROR_NAME(CloseTimeout)
    WS_ERROR_NAME(PingTimeout)
    WS_ERROR_NAME(InternalError)
#undef WS_ERROR_NAME
    }
    return "Unknown";
}

QString wsErrorDescription(WsError error)
{
    switch (error) {
    case WsError::NoError: return QString();
    case WsError::NotOpen: return QStringLiteral("The connection is not open");
    case WsError::AlreadyClosing: return QStringLiteral("The connection is already closing");
    case WsError::MessageInProgress: return QStringLiteral("A fragmented message is still being sent");
    case WsError::NoMessageInProgress: return QStringLiteral("No fragmented message is being sent");
    case WsError::InvalidCloseCodeToSend: return QStringLiteral("The close code may not be sent");
    case WsError::ControlPayloadTooLarge: return QStringLiteral("Control frame payloads are limited to 125 bytes");
    case WsError::InvalidUtf8ToSend: return QStringLiteral("Text messages must be valid UTF-8");
    case WsError::InvalidState: return QStringLiteral("The operation is not valid in the current state");
    case WsError::InvalidArgument: return QStringLiteral("Invalid argument");
    case WsError::WriteBufferFull: return QStringLiteral("The write buffer is full");
    case WsError::HandshakeMalformedRequest: return QStringLiteral("Malformed HTTP request");
    case WsError::HandshakeMethodNotAllowed: return QStringLiteral("WebSocket handshakes must use GET");
    case WsError::HandshakeBadHttpVersion: return QStringLiteral("WebSocket handshakes require HTTP/1.1 or higher");
    case WsError::HandshakeHeaderTooLarge: return QStringLiteral("The handshake headers are too large");
    case WsError::HandshakeMissingHost: return QStringLiteral("The Host header is missing");
    case WsError::HandshakeNotUpgrade: return QStringLiteral("Not a WebSocket upgrade request");
    case WsError::HandshakeMissingConnectionUpgrade: return QStringLiteral("The Connection header does not contain \"Upgrade\"");
    case WsError::HandshakeBadKey: return QStringLiteral("Missing or invalid Sec-WebSocket-Key");
    case WsError::HandshakeUnsupportedVersion: return QStringLiteral("Unsupported Sec-WebSocket-Version (13 required)");
    case WsError::HandshakeRejected: return QStringLiteral("The handshake was rejected");
    case WsError::HandshakeMalformedResponse: return QStringLiteral("Malformed HTTP response");
    case WsError::HandshakeUnexpectedStatus: return QStringLiteral("The server did not switch protocols");
    case WsError::HandshakeBadUpgradeHeader: return QStringLiteral("The response's Upgrade header is not \"websocket\"");
    case WsError::HandshakeBadConnectionHeader: return QStringLiteral("The response's Connection header does not contain \"Upgrade\"");
    case WsError::HandshakeBadAccept: return QStringLiteral("Missing or wrong Sec-WebSocket-Accept");
    case WsError::HandshakeUnexpectedSubprotocol: return QStringLiteral("The server chose a subprotocol that was not offered");
    case WsError::HandshakeUnexpectedExtension: return QStringLiteral("The server chose an extension that was not offered or is invalid");
    case WsError::HandshakeTimeout: return QStringLiteral("The opening handshake timed out");
    case WsError::ReservedOpcode: return QStringLiteral("Received a frame with a reserved opcode");
    case WsError::ReservedBitsSet: return QStringLiteral("Received a frame with reserved bits set");
    case WsError::UnmaskedClientFrame: return QStringLiteral("Received an unmasked frame from a client");
    case WsError::MaskedServerFrame: return QStringLiteral("Received a masked frame from a server");
    case WsError::InvalidLength: return QStringLiteral("Received a frame length with the most significant bit set");
    case WsError::ControlFrameTooLarge: return QStringLiteral("Received a control frame over 125 bytes");
    case WsError::FragmentedControlFrame: return QStringLiteral("Received a fragmented control frame");
    case WsError::UnexpectedContinuation: return QStringLiteral("Received a continuation frame without a message to continue");
    case WsError::ExpectedContinuation: return QStringLiteral("Received a new message before the previous one ended");
    case WsError::InvalidClosePayload: return QStringLiteral("Received a close frame with a 1-byte payload");
    case WsError::InvalidCloseCode: return QStringLiteral("Received an invalid close code");
    case WsError::InvalidUtf8: return QStringLiteral("Received invalid UTF-8 text");
    case WsError::FrameTooLarge: return QStringLiteral("Received a frame over the size limit");
    case WsError::MessageTooLarge: return QStringLiteral("Received a message over the size limit");
    case WsError::TooManyFragments: return QStringLiteral("Received a message with too many fragments");
    case WsError::ExtensionError: return QStringLiteral("An extension could not process the received data");
    case WsError::AbnormalClosure: return QStringLiteral("The connection closed without a close handshake");
    case WsError::ConnectionRefused: return QStringLiteral("Connection refused");
    case WsError::HostNotFound: return QStringLiteral("Host not found");
    case WsError::NetworkError: return QStringLiteral("Network error");
    case WsError::TlsError: return QStringLiteral("TLS error");
    case WsError::ProxyError: return QStringLiteral("Proxy error");
    case WsError::TooManyRedirects: return QStringLiteral("Too many redirects");
    case WsError::CloseTimeout: return QStringLiteral("The close handshake timed out");
    case WsError::PingTimeout: return QStringLiteral("No pong received in time (keepalive)");
    case WsError::InternalError: return QStringLiteral("Internal error");
    }
    return QStringLiteral("Unknown error");
}
