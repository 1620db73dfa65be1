#include "wshttp.h"

#include <cstring>

static bool equalsNoCase(QByteArrayView a, QByteArrayView b) noexcept
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

static bool isTokenChar(uchar c) noexcept
{
    // RFC 7230 §3.2.6 tchar.
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

static QByteArrayView trimmed(QByteArrayView s) noexcept
{
    qsizetype b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        --e;
    return s.sliced(b, e - b);
}

bool wsIsToken(QByteArrayView s) noexcept
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(uchar(c)))
            return false;
    return true;
}

bool wsIsValidHeaderName(QByteArrayView name) noexcept { return wsIsToken(name); }

bool wsIsValidHeaderValue(QByteArrayView value) noexcept
{
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0')
            return false;
    return true;
}

void WsHttpHeaders::add(const QByteArray &name, const QByteArray &value)
{
    m_fields.append({name, value});
}

void WsHttpHeaders::set(const QByteArray &name, const QByteArray &value)
{
    remove(name);
    add(name, value);
}

void WsHttpHeaders::remove(QByteArrayView name)
{
    m_fields.removeIf([name](const Field &f) { return equalsNoCase(f.first, name); });
}

bool WsHttpHeaders::contains(QByteArrayView name) const noexcept
{
    return count(name) > 0;
}

int WsHttpHeaders::count(QByteArrayView name) const noexcept
{
    int n = 0;
    for (const Field &f : m_fields)
        n += equalsNoCase(f.first, name);
    return n;
}

QByteArray WsHttpHeaders::value(QByteArrayView name) const
{
    for (const Field &f : m_fields)
        if (equalsNoCase(f.first, name))
            return f.second;
    return QByteArray();
}

QList<QByteArray> WsHttpHeaders::values(QByteArrayView name) const
{
    QList<QByteArray> result;
    for (const Field &f : m_fields)
        if (equalsNoCase(f.first, name))
            result.append(f.second);
    return result;
}

QByteArray WsHttpHeaders::combined(QByteArrayView name) const
{
    return values(name).join(", ");
}

QList<QByteArray> WsHttpHeaders::tokens(QByteArrayView name) const
{
    QList<QByteArray> result;
    for (const Field &f : m_fields) {
        if (!equalsNoCase(f.first, name))
            continue;
        const QByteArrayView value(f.second);
        qsizetype start = 0;
        while (start <= value.size()) {
            qsizetype comma = value.indexOf(',', start);
            if (comma < 0)
                comma = value.size();
            const QByteArrayView t = trimmed(value.sliced(start, comma - start));
            if (!t.isEmpty())
                result.append(t.toByteArray());
            start = comma + 1;
        }
    }
    return result;
}

bool WsHttpHeaders::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const QByteArray &t : tokens(name))
        if (equalsNoCase(t, token))
            return true;
    return false;
}

void WsHttpHeaders::appendTo(QByteArray &out) const
{
    for (const Field &f : m_fields) {
        out += f.first;
        out += ": ";
        out += f.second;
        out += "\r\n";
    }
}

WsHttpHeadParser::Status WsHttpHeadParser::fail(WsError error)
{
    m_error = error;
    m_status = Status::Error;
    m_buffer.clear();
    return m_status;
}

WsHttpHeadParser::Status WsHttpHeadParser::feed(const char *data, qsizetype size, qsizetype *consumed)
{
    if (m_status != Status::NeedMore)
        return m_status;
    // Look for the end of the head only in the new bytes (and the 3 before them), so that a
    // head trickling in one byte at a time costs linear time.
    const qsizetype searchFrom = std::max<qsizetype>(0, m_buffer.size() - 3);
    const qsizetype room = m_maxSize - m_buffer.size();
    const qsizetype take = std::min(size - *consumed, room + 1);
    const qsizetype old = m_buffer.size();
    m_buffer.append(data + *consumed, take);
    const qsizetype end = m_buffer.indexOf("\r\n\r\n", searchFrom);
    // Fail fast on bytes no HTTP head contains (control characters other than CR, LF and
    // HTAB): a TLS ClientHello or binary garbage gets its 400 at once instead of waiting
    // for a blank line that never comes. Bytes after the head are not ours to judge.
    const qsizetype headEnd = end < 0 ? m_buffer.size() : end + 4;
    for (qsizetype i = old; i < headEnd; ++i) {
        const uchar c = uchar(m_buffer[i]);
        if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f)
            return fail(WsError::HandshakeMalformedRequest);
    }
    if (end < 0) {
        *consumed += take;
        if (m_buffer.size() > m_maxSize)
            return fail(WsError::HandshakeHeaderTooLarge);
        return m_status;
    }
    const qsizetype headSize = end + 4;
    if (headSize > m_maxSize)
        return fail(WsError::HandshakeHeaderTooLarge);
    // Give back what followed the head: it belongs to the next layer.
    *consumed += take - (m_buffer.size() - headSize);
    m_buffer.truncate(headSize);
    if (!parseHead())
        return m_status;
    m_buffer.clear();
    m_buffer.squeeze();
    m_status = Status::Done;
    return m_status;
}

bool WsHttpHeadParser::parseHead()
{
    const QByteArrayView head(m_buffer.constData(), m_buffer.size() - 4);
    qsizetype pos = 0;
    bool first = true;
    while (pos <= head.size()) {
        qsizetype eol = head.indexOf("\r\n", pos);
        if (eol < 0)
            eol = head.size();
        const QByteArrayView line = head.sliced(pos, eol - pos);
        pos = eol + 2;
        if (!wsIsValidHeaderValue(line)) {  // a bare CR or LF, or a NUL
            fail(WsError::HandshakeMalformedRequest);
            return false;
        }
        if (first) {
            m_startLine = line.toByteArray();
            first = false;
            continue;
        }
        // RFC 7230 §3.2.4: obsolete line folding and whitespace before the colon are rejected.
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !wsIsToken(line.first(colon))) {
            fail(WsError::HandshakeMalformedRequest);
            return false;
        }
        if (m_headers.size() >= m_maxFields) {
            fail(WsError::HandshakeHeaderTooLarge);
            return false;
        }
        m_headers.add(line.first(colon).toByteArray(), trimmed(line.sliced(colon + 1)).toByteArray());
    }
    if (m_startLine.isEmpty()) {
        fail(WsError::HandshakeMalformedRequest);
        return false;
    }
    return true;
}

QByteArray WsExtensionOffer::toHeaderValue() const
{
    QByteArray out = name;
    for (const Param &p : params) {
        out += "; ";
        out += p.name;
        if (p.hasValue) {
            out += '=';
            if (wsIsToken(p.value)) {
                out += p.value;
            } else {
                out += '"';
                for (char c : p.value) {
                    if (c == '"' || c == '\\')
                        out += '\\';
                    out += c;
                }
                out += '"';
            }
        }
    }
    return out;
}

QByteArray wsFormatExtensions(const QList<WsExtensionOffer> &extensions)
{
    QByteArray out;
    for (const WsExtensionOffer &e : extensions) {
        if (!out.isEmpty())
            out += ", ";
        out += e.toHeaderValue();
    }
    return out;
}

namespace {
// A small scanner for the RFC 6455 §9.1 extension grammar.
struct ExtensionScanner
{
    QByteArrayView s;
    qsizetype pos = 0;

    void skipSpace()
    {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t'))
            ++pos;
    }
    bool atEnd() { skipSpace(); return pos >= s.size(); }
    bool consume(char c)
    {
        skipSpace();
        if (pos < s.size() && s[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    }
    bool token(QByteArray *out)
    {
        skipSpace();
        const qsizetype start = pos;
        while (pos < s.size() && isTokenChar(uchar(s[pos])))
            ++pos;
        *out = s.sliced(start, pos - start).toByteArray();
        return pos > start;
    }
    bool quoted(QByteArray *out)
    {
        skipSpace();
        if (pos >= s.size() || s[pos] != '"')
            return false;
        ++pos;
        out->clear();
        while (pos < s.size()) {
            char c = s[pos++];
            if (c == '"')
                return true;
            if (c == '\\') {
                if (pos >= s.size())
                    return false;
                c = s[pos++];
            }
            out->append(c);
        }
        return false;
    }
};
}

bool wsParseExtensions(const QList<QByteArray> &headerValues, QList<WsExtensionOffer> *out)
{
    out->clear();
    for (const QByteArray &value : headerValues) {
        ExtensionScanner sc{value};
        while (!sc.atEnd()) {
            if (sc.consume(','))  // empty list elements are allowed (RFC 7230 §7)
                continue;
            WsExtensionOffer ext;
            if (!sc.token(&ext.name))
                return false;
            while (sc.consume(';')) {
                WsExtensionOffer::Param p;
                if (!sc.token(&p.name))
                    return false;
                if (sc.consume('=')) {
                    p.hasValue = true;
                    // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
                    if (!sc.token(&p.value) && !(sc.quoted(&p.value) && wsIsToken(p.value)))
                        return false;
                }
                ext.params.append(p);
            }
            if (!sc.atEnd() && !sc.consume(','))
                return false;
            out->append(ext);
        }
    }
    return true;
}
