#include "wsdeflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace {

// RFC 7692 §7.2.1: the tail every Z_SYNC_FLUSH ends with, removed from each compressed
// message and restored before inflating it.
const uchar kTail[4] = {0x00, 0x00, 0xff, 0xff};

bool parseBits(const QByteArray &value, int *bits)
{
    // RFC 7692 §7.1.2: a decimal integer from 8 to 15, without leading zeroes.
    if (value.size() < 1 || value.size() > 2 || value[0] == '0')
        return false;
    for (char c : value)
        if (c < '0' || c > '9')
            return false;
    const int v = value.toInt();
    if (v < 8 || v > 15)
        return false;
    *bits = v;
    return true;
}

class WsDeflateExtension final : public WsExtension
{
public:
    WsDeflateExtension(const WsDeflateParameters &p, const WsDeflateOptions &o) : m_params(p), m_options(o) {}
    ~WsDeflateExtension() override
    {
        if (m_deflateReady)
            deflateEnd(&m_deflate);
        if (m_inflateReady)
            inflateEnd(&m_inflate);
    }

    QByteArray name() const override { return "permessage-deflate"; }
    quint8 rsvBits() const override { return WsRsv::Rsv1; }

    bool beginIncoming(quint8 rsv) override { return rsv == WsRsv::Rsv1; }

    WsError decode(QByteArrayView in, bool last, QByteArray &out, qint64 maxOutput) override
    {
        if (!m_inflateReady) {
            std::memset(&m_inflate, 0, sizeof m_inflate);
            // A larger window than the peer's always decodes its data; zlib wants >= 9 here.
            if (inflateInit2(&m_inflate, -std::max(9, m_params.remoteMaxWindowBits)) != Z_OK)
                return WsError::InternalError;
            m_inflateReady = true;
        }
        qint64 produced = 0;
        WsError e = WsError::NoError;
        if (!m_streamEnded)
            e = inflateSome(reinterpret_cast<const uchar *>(in.data()), in.size(), out, maxOutput, produced);
        if (e == WsError::NoError && last) {
            if (!m_streamEnded)
                e = inflateSome(kTail, 4, out, maxOutput, produced);
            if (m_params.remoteNoContextTakeover) {
                // The peer starts afresh each message: free the inflater (~44 KiB) meanwhile.
                inflateEnd(&m_inflate);
                m_inflateReady = false;
            } else if (m_streamEnded) {
                inflateReset(&m_inflate);
            }
            m_streamEnded = false;
        }
        if (e != WsError::NoError)
            inflateReset(&m_inflate);  // the connection fails anyway; leave a sane state
        return e;
    }

    quint8 beginOutgoing(WsOpcode, qint64 size, bool allowed) override
    {
        if (!allowed || m_params.localMaxWindowBits < 9)
            return 0;
        if (size >= 0 && size < m_options.threshold)
            return 0;
        // Without a compressor (zlib out of memory) the message simply goes uncompressed.
        return ensureDeflate() ? WsRsv::Rsv1 : 0;
    }

    void encode(QByteArrayView in, bool last, QByteArray &out) override
    {
        Q_ASSERT(m_deflateReady);  // beginOutgoing() made sure of it
        const qsizetype start = out.size();
        const char *p = in.data();
        qsizetype left = in.size();
        do {
            // zlib counts in uInt: feed at most 1 GiB at a time, and flush after the last.
            const qsizetype chunk = std::min<qsizetype>(left, qsizetype(1) << 30);
            m_deflate.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(p));
            m_deflate.avail_in = uInt(chunk);
            p += chunk;
            left -= chunk;
            // Z_SYNC_FLUSH after every piece, so that each frame can be inflated as it arrives.
            const int flush = left > 0 ? Z_NO_FLUSH : Z_SYNC_FLUSH;
            do {
                const qsizetype old = out.size();
                const qsizetype room = std::max<qsizetype>(64, qsizetype(deflateBound(&m_deflate, m_deflate.avail_in)) + 16);
                out.resize(old + room);
                m_deflate.next_out = reinterpret_cast<Bytef *>(out.data() + old);
                m_deflate.avail_out = uInt(room);
                const int rc = deflate(&m_deflate, flush);
                out.resize(old + room - qsizetype(m_deflate.avail_out));
                if (rc == Z_STREAM_ERROR) {  // an inconsistent stream: cannot happen, never loop on it
                    Q_ASSERT(false);
                    return;
                }
            } while (m_deflate.avail_out == 0 || m_deflate.avail_in > 0);
        } while (left > 0);
        if (last) {
            // RFC 7692 §7.2.1: remove the 4-octet tail of the final flush.
            if (out.size() - start >= 4 && std::memcmp(out.constData() + out.size() - 4, kTail, 4) == 0)
                out.chop(4);
            else if (out.size() == start)
                // An empty last piece after a flushed one: zlib writes nothing, but the peer
                // will append 00 00 ff ff, which needs the header byte of an empty stored
                // block in front of it (what zlib itself writes for an empty message).
                out.append('\0');
            if (m_params.localNoContextTakeover) {
                // Nothing carries over to the next message: free the compressor (~256 KiB
                // with the default window and memLevel) until it is needed again.
                deflateEnd(&m_deflate);
                m_deflateReady = false;
            }
        }
    }

private:
    bool ensureDeflate()
    {
        if (m_deflateReady)
            return true;
        std::memset(&m_deflate, 0, sizeof m_deflate);
        m_deflateReady = deflateInit2(&m_deflate, qBound(0, m_options.compressionLevel, 9), Z_DEFLATED,
                                      -m_params.localMaxWindowBits, qBound(1, m_options.memoryLevel, 9),
                                      Z_DEFAULT_STRATEGY) == Z_OK;
        return m_deflateReady;
    }

    WsError inflateSome(const uchar *data, qsizetype size, QByteArray &out, qint64 maxOutput, qint64 &produced)
    {
        m_inflate.next_in = const_cast<Bytef *>(data);
        m_inflate.avail_in = uInt(size);
        for (;;) {
            // Size the room from what is known: a few times the compressed input, or half
            // again what the message already holds, so that a small message keeps a small
            // buffer and a large one grows geometrically. Never more than one byte past the
            // limit: a bomb costs nothing.
            const qint64 guess = std::max<qint64>({64, qint64(m_inflate.avail_in) * 4, qint64(out.size()) / 2});
            const qint64 room = std::min<qint64>({guess, qint64(16) << 20, maxOutput - produced + 1});
            const qsizetype old = out.size();
            out.resize(old + qsizetype(room));
            m_inflate.next_out = reinterpret_cast<Bytef *>(out.data() + old);
            m_inflate.avail_out = uInt(room);
            const int rc = inflate(&m_inflate, Z_SYNC_FLUSH);
            const qsizetype got = qsizetype(room) - qsizetype(m_inflate.avail_out);
            out.resize(old + got);
            produced += got;
            if (produced > maxOutput) {
                out.resize(old + got - (produced - maxOutput));
                return WsError::MessageTooLarge;
            }
            switch (rc) {
            case Z_OK:
                break;
            case Z_BUF_ERROR:  // no progress possible: everything consumed
                return WsError::NoError;
            case Z_STREAM_END:
                // A final block (BFINAL, RFC 7692 §7.2.3.4) ends the stream: the rest of the
                // message is padding, and the next message starts a new stream.
                m_streamEnded = true;
                return WsError::NoError;
            default:  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR
                return WsError::ExtensionError;
            }
            if (m_inflate.avail_in == 0 && m_inflate.avail_out > 0)
                return WsError::NoError;
        }
    }

    WsDeflateParameters m_params;
    WsDeflateOptions m_options;
    z_stream m_deflate;
    z_stream m_inflate;
    bool m_deflateReady = false;
    bool m_inflateReady = false;
    bool m_streamEnded = false;
};

} // namespace

std::unique_ptr<WsExtension> wsCreateDeflate(const WsDeflateParameters &parameters,
                                             const WsDeflateOptions &options)
{
    return std::make_unique<WsDeflateExtension>(parameters, options);
}

bool WsDeflateParams::parse(const WsExtensionOffer &offer, bool isResponse, WsDeflateParams *out)
{
    *out = WsDeflateParams();
    bool seen[4] = {};
    for (const WsExtensionOffer::Param &p : offer.params) {
        if (p.name == "server_no_context_takeover" || p.name == "client_no_context_takeover") {
            const bool server = p.name.startsWith("server");
            if (p.hasValue || seen[server ? 0 : 1])
                return false;
            seen[server ? 0 : 1] = true;
            (server ? out->serverNoContextTakeover : out->clientNoContextTakeover) = true;
        } else if (p.name == "server_max_window_bits") {
            if (seen[2] || !p.hasValue || !parseBits(p.value, &out->serverMaxWindowBits))
                return false;
            seen[2] = true;
        } else if (p.name == "client_max_window_bits") {
            if (seen[3])
                return false;
            seen[3] = true;
            // §7.1.2.2: a client may offer it without a value; a server's answer has one.
            if (!p.hasValue) {
                if (isResponse)
                    return false;
                out->clientMaxWindowBits = -1;
            } else if (!parseBits(p.value, &out->clientMaxWindowBits)) {
                return false;
            }
        } else {
            return false;  // §7.1: an unknown parameter
        }
    }
    return true;
}

WsDeflateFactory::WsDeflateFactory(const WsDeflateOptions &options) : m_options(options) {}

QList<WsExtensionOffer> WsDeflateFactory::clientOffers() const
{
    WsExtensionOffer offer{"permessage-deflate", {}};
    bool asksServer = false;
    if (m_options.requestPeerNoContextTakeover) {
        offer.params.append({"server_no_context_takeover", {}, false});
        asksServer = true;
    }
    if (m_options.requestPeerMaxWindowBits < 15) {
        offer.params.append({"server_max_window_bits", QByteArray::number(qBound(8, m_options.requestPeerMaxWindowBits, 15)), true});
        asksServer = true;
    }
    if (m_options.noContextTakeover)
        offer.params.append({"client_no_context_takeover", {}, false});
    // Without a value it invites the server to limit our window (browsers send it so).
    if (m_options.maxWindowBits < 15)
        offer.params.append({"client_max_window_bits", QByteArray::number(qBound(8, m_options.maxWindowBits, 15)), true});
    else
        offer.params.append({"client_max_window_bits", {}, false});
    QList<WsExtensionOffer> offers{offer};
    if (asksServer) {
        // A fallback the server can accept if it will not grant what the first asks.
        WsExtensionOffer fallback{"permessage-deflate", {}};
        for (const auto &p : offer.params)
            if (p.name.startsWith("client"))
                fallback.params.append(p);
        offers.append(fallback);
    }
    return offers;
}

std::unique_ptr<WsExtension> WsDeflateFactory::clientAccept(const WsExtensionOffer &response) const
{
    WsDeflateParams r;
    if (!WsDeflateParams::parse(response, true, &r))
        return nullptr;
    // §7.1.2.2: the server may only narrow the window we offered.
    if (m_options.maxWindowBits < 15 && r.clientMaxWindowBits > m_options.maxWindowBits)
        return nullptr;
    WsDeflateParameters p;
    p.localNoContextTakeover = m_options.noContextTakeover || r.clientNoContextTakeover;
    p.localMaxWindowBits = r.clientMaxWindowBits > 0 ? std::min(r.clientMaxWindowBits, m_options.maxWindowBits)
                                                     : m_options.maxWindowBits;
    p.remoteNoContextTakeover = r.serverNoContextTakeover;
    p.remoteMaxWindowBits = r.serverMaxWindowBits > 0 ? r.serverMaxWindowBits : 15;
    return wsCreateDeflate(p, m_options);
}

std::unique_ptr<WsExtension> WsDeflateFactory::serverAccept(const QList<WsExtensionOffer> &offers,
                                                            WsExtensionOffer *response) const
{
    for (const WsExtensionOffer &offer : offers) {
        WsDeflateParams o;
        if (!WsDeflateParams::parse(offer, false, &o))
            continue;  // §7.1: decline an offer with an invalid parameter, try the next
        WsDeflateParameters p;
        WsExtensionOffer answer{"permessage-deflate", {}};
        p.localNoContextTakeover = o.serverNoContextTakeover || m_options.noContextTakeover;
        if (p.localNoContextTakeover)
            answer.params.append({"server_no_context_takeover", {}, false});
        p.remoteNoContextTakeover = o.clientNoContextTakeover || m_options.requestPeerNoContextTakeover;
        if (m_options.requestPeerNoContextTakeover)
            answer.params.append({"client_no_context_takeover", {}, false});
        p.localMaxWindowBits = std::min(m_options.maxWindowBits, o.serverMaxWindowBits > 0 ? o.serverMaxWindowBits : 15);
        if (o.serverMaxWindowBits > 0 || p.localMaxWindowBits < 15)
            answer.params.append({"server_max_window_bits", QByteArray::number(p.localMaxWindowBits), true});
        if (o.clientMaxWindowBits != 0) {
            // The client lets us limit its window (to its own value at most).
            const int offered = o.clientMaxWindowBits > 0 ? o.clientMaxWindowBits : 15;
            p.remoteMaxWindowBits = std::min(offered, m_options.requestPeerMaxWindowBits);
            if (p.remoteMaxWindowBits < 15)
                answer.params.append({"client_max_window_bits", QByteArray::number(p.remoteMaxWindowBits), true});
        }
        *response = answer;
        return wsCreateDeflate(p, m_options);
    }
    return nullptr;
}
