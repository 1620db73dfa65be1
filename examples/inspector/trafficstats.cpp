#include "trafficstats.h"

#include <wssocket.h>

#include <algorithm>
#include <iterator>
#include <limits>

TrafficStats::TrafficStats(QObject *parent) : QObject(parent)
{
    m_elapsed.start();
    m_timer.setInterval(UpdateIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, &TrafficStats::update);
}

qint64 TrafficStats::now() const
{
    const qint64 t = m_clock ? m_clock() : m_elapsed.elapsed();
    m_lastNow = std::max(m_lastNow, std::max<qint64>(t, 0));
    return m_lastNow;
}

void TrafficStats::setClock(Clock clock)
{
    m_clock = std::move(clock);
    m_lastNow = 0;
    reset();
}

void TrafficStats::attachSocket(WsSocket *socket)
{
    connect(socket, &WsSocket::frameTransferred, this, &TrafficStats::addFrame);
    connect(socket, &WsSocket::pongReceived, this, [this](qint64 rtt, const QByteArray &) { recordRtt(rtt); });
}

void TrafficStats::reset()
{
    m_timer.stop();
    m_buckets.fill(Bucket());
    m_rtt.clear();
    m_originSecond = now() / 1000;
    m_lastActivitySecond = -1;
    const bool ratesChangedNow = m_rates[In] != Rates() || m_rates[Out] != Rates();
    const bool totalsChangedNow = m_notifiedTotals[In].messages || m_notifiedTotals[In].bytes
                               || m_notifiedTotals[Out].messages || m_notifiedTotals[Out].bytes
                               || m_totals[In].messages || m_totals[In].bytes || m_totals[Out].messages
                               || m_totals[Out].bytes;
    m_rates[In] = m_rates[Out] = Rates();
    m_totals[In] = m_totals[Out] = Counts();
    m_notifiedTotals[In] = m_notifiedTotals[Out] = Counts();
    const bool rttChangedNow = m_lastRtt != -1;
    m_lastRtt = -1;
    if (ratesChangedNow)
        emit ratesChanged();
    if (totalsChangedNow)
        emit totalsChanged();
    if (rttChangedNow)
        emit lastRttChanged();
}

void TrafficStats::setRateWindow(int seconds)
{
    seconds = std::clamp(seconds, 1, HistorySeconds);
    if (m_window == seconds)
        return;
    m_window = seconds;
    emit rateWindowChanged();
    update();
}

void TrafficStats::addFrame(const WsFrameInfo &frame)
{
    // Control frames are always final; a data message ends with its fin frame.
    record(frame.direction == WsFrameInfo::Outgoing, frame.wireSize, frame.fin);
}

void TrafficStats::record(bool outgoing, qint64 bytes, bool messageEnd)
{
    const qint64 second = now() / 1000;
    Bucket &b = m_buckets[size_t(second % qint64(m_buckets.size()))];
    if (b.second != second) {
        b = Bucket();
        b.second = second;
    }
    const Direction d = outgoing ? Out : In;
    bytes = std::max<qint64>(bytes, 0);
    b.counts[d].bytes += bytes;
    m_totals[d].bytes += bytes;
    if (messageEnd) {
        ++b.counts[d].messages;
        ++m_totals[d].messages;
    }
    m_lastActivitySecond = second;
    activity();
}

void TrafficStats::recordRtt(qint64 ms)
{
    if (ms < 0)
        return;
    m_rtt.push_back({now(), ms});
    while (m_rtt.size() > size_t(MaxRttSamples))
        m_rtt.pop_front();
    const int rtt = int(std::min<qint64>(ms, std::numeric_limits<int>::max()));
    if (m_lastRtt != rtt) {
        m_lastRtt = rtt;
        emit lastRttChanged();
    }
}

void TrafficStats::activity()
{
    if (!m_timer.isActive())
        m_timer.start();
}

const TrafficStats::Counts *TrafficStats::countsAt(qint64 second, Direction d) const
{
    if (second < 0)
        return nullptr;
    const Bucket &b = m_buckets[size_t(second % qint64(m_buckets.size()))];
    return b.second == second ? &b.counts[d] : nullptr;
}

void TrafficStats::update()
{
    const qint64 current = now() / 1000;
    // The last m_window complete seconds, fewer if the clock started more recently.
    const qint64 window = std::min<qint64>(m_window, current - m_originSecond);
    Rates rates[2];
    if (window > 0) {
        for (const Direction d : {In, Out}) {
            Counts sum;
            for (qint64 s = current - window; s < current; ++s) {
                if (const Counts *c = countsAt(s, d)) {
                    sum.messages += c->messages;
                    sum.bytes += c->bytes;
                }
            }
            rates[d].messages = double(sum.messages) / double(window);
            rates[d].bytes = double(sum.bytes) / double(window);
        }
    }
    const bool ratesDiffer = rates[In] != m_rates[In] || rates[Out] != m_rates[Out];
    m_rates[In] = rates[In];
    m_rates[Out] = rates[Out];
    const auto same = [](const Counts &a, const Counts &b) { return a.messages == b.messages && a.bytes == b.bytes; };
    const bool totalsDiffer = !same(m_totals[In], m_notifiedTotals[In]) || !same(m_totals[Out], m_notifiedTotals[Out]);
    m_notifiedTotals[In] = m_totals[In];
    m_notifiedTotals[Out] = m_totals[Out];
    // Nothing left that could still change a rate: sleep until the next frame.
    if (m_lastActivitySecond < current - m_window)
        m_timer.stop();
    if (ratesDiffer)
        emit ratesChanged();
    if (totalsDiffer)
        emit totalsChanged();
}

QVariantList TrafficStats::history(const QString &series, int seconds) const
{
    QVariantList out;
    seconds = std::clamp(seconds, 0, HistorySeconds);
    const qint64 nowMs = now();
    const qint64 current = nowMs / 1000;
    const QString t = QStringLiteral("t");
    const QString value = QStringLiteral("value");
    if (series == QLatin1String("rtt")) {
        const qint64 from = (current - seconds) * 1000;
        for (const RttSample &s : m_rtt)
            if (s.timeMs >= from)
                out.append(QVariantMap{{t, double(s.timeMs) / 1000.0}, {value, double(s.rtt)}});
        return out;
    }
    static const struct { const char *name; Direction direction; bool messages; } kinds[] = {
        {"inMessages", In, true}, {"outMessages", Out, true}, {"inBytes", In, false}, {"outBytes", Out, false}};
    const auto kind = std::find_if(std::begin(kinds), std::end(kinds),
                                   [&](const auto &k) { return series == QLatin1String(k.name); });
    if (kind == std::end(kinds))
        return out;
    const Direction d = kind->direction;
    const bool messages = kind->messages;
    // Complete seconds only, and none from before the start.
    const qint64 first = std::max(current - seconds, m_originSecond);
    for (qint64 s = first; s < current; ++s) {
        const Counts *c = countsAt(s, d);
        const qint64 v = c ? (messages ? c->messages : c->bytes) : 0;
        out.append(QVariantMap{{t, double(s)}, {value, double(v)}});
    }
    return out;
}
