#pragma once

#include "wsextension.h"

// permessage-deflate (RFC 7692) settings, for either role.
struct WsDeflateOptions
{
    int compressionLevel = 6;        // zlib level, 0-9
    int memoryLevel = 8;             // zlib memLevel, 1-9: less memory, less speed
    // Messages smaller than this are sent uncompressed (compressing them rarely pays).
    qint64 threshold = 64;
    // Our side's compressor: reset after each message (saves ~memory, costs ratio) ...
    bool noContextTakeover = false;
    // ... and the largest window it may use (8-15; 8 means "do not compress": zlib's raw
    // deflate has no 256-byte window, and sending uncompressed is always allowed).
    int maxWindowBits = 15;
    // What we ask of the peer's compressor.
    bool requestPeerNoContextTakeover = false;
    int requestPeerMaxWindowBits = 15;  // 15: no request
};

// Negotiates permessage-deflate and creates its per-connection instances (RFC 7692 §5-7).
// Client: offers the configured parameters, then a plain "permessage-deflate" as fallback
// when it asks for anything of the server. Server: accepts the first acceptable offer.
class WsDeflateFactory final : public WsExtensionFactory
{
public:
    explicit WsDeflateFactory(const WsDeflateOptions &options = {});

    QByteArray name() const override { return "permessage-deflate"; }
    QList<WsExtensionOffer> clientOffers() const override;
    std::unique_ptr<WsExtension> clientAccept(const WsExtensionOffer &response) const override;
    std::unique_ptr<WsExtension> serverAccept(const QList<WsExtensionOffer> &offers,
                                              WsExtensionOffer *response) const override;

    const WsDeflateOptions &options() const noexcept { return m_options; }

private:
    WsDeflateOptions m_options;
};

// The negotiated parameters of one connection, from our point of view.
struct WsDeflateParameters
{
    bool localNoContextTakeover = false;   // we reset our compressor after each message
    bool remoteNoContextTakeover = false;  // the peer resets its compressor
    int localMaxWindowBits = 15;           // our compressor's window
    int remoteMaxWindowBits = 15;          // the peer's compressor's window
};

// Parses permessage-deflate parameters (RFC 7692 §7.1): each at most once, window bits
// 8-15, client_max_window_bits may lack a value only where allowed. Returns false if invalid.
struct WsDeflateParams
{
    bool serverNoContextTakeover = false;
    bool clientNoContextTakeover = false;
    int serverMaxWindowBits = 0;     // 0: absent
    int clientMaxWindowBits = 0;     // 0: absent; -1: present without a value
    static bool parse(const WsExtensionOffer &offer, bool isResponse, WsDeflateParams *out);
};

std::unique_ptr<WsExtension> wsCreateDeflate(const WsDeflateParameters &parameters,
                                             const WsDeflateOptions &options);
