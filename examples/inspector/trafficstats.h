#pragma once

#include <wsconnection.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qobject.h>
#include <QtCore/qtimer.h>
#include <QtCore/qvariant.h>

#include <array>
#include <deque>
#include <functional>

class WsSocket;

// Live traffic statistics for the inspector: messages and bytes per second in each
// direction, totals, and round-trip times, with a minute of per-second history for charts.
//
// Counts go into one-second buckets (the last HistorySeconds complete seconds and the current
// one are kept, in a fixed ring: memory does not grow with traffic or time). A rate is the
// average over the last rateWindow complete seconds (fewer right after the start), so it
// changes once a second; update() recomputes it, and a timer calls update() while there is
// traffic to account for. Bytes are payload bytes on the wire (WsFrameInfo::wireSize);
// a message is a whole data message or a control frame, as rows of WsTrafficModel are.
//
// Notifications are batched: totalsChanged and ratesChanged come from update(), at most
// a few times a second, never once per frame; the C++ getters are always current.
class TrafficStats : public QObject
{
    Q_OBJECT
    Q_PROPERTY(double inMessagesPerSecond READ inMessagesPerSecond NOTIFY ratesChanged)
    Q_PROPERTY(double outMessagesPerSecond READ outMessagesPerSecond NOTIFY ratesChanged)
    Q_PROPERTY(double inBytesPerSecond READ inBytesPerSecond NOTIFY ratesChanged)
    Q_PROPERTY(double outBytesPerSecond READ outBytesPerSecond NOTIFY ratesChanged)
    Q_PROPERTY(double totalMessagesIn READ totalMessagesInValue NOTIFY totalsChanged)
    Q_PROPERTY(double totalMessagesOut READ totalMessagesOutValue NOTIFY totalsChanged)
    Q_PROPERTY(double totalBytesIn READ totalBytesInValue NOTIFY totalsChanged)
    Q_PROPERTY(double totalBytesOut READ totalBytesOutValue NOTIFY totalsChanged)
    Q_PROPERTY(int lastRtt READ lastRtt NOTIFY lastRttChanged)  // ms, -1 before the first sample
    Q_PROPERTY(int rateWindow READ rateWindow WRITE setRateWindow NOTIFY rateWindowChanged)

public:
    // Milliseconds from any fixed origin, never decreasing (a QElapsedTimer by default).
    using Clock = std::function<qint64()>;

    static constexpr int HistorySeconds = 60;
    static constexpr int MaxRttSamples = 120;
    static constexpr int UpdateIntervalMs = 250;

    explicit TrafficStats(QObject *parent = nullptr);

    // Replaces the clock (for tests) and resets everything.
    void setClock(Clock clock);
    // Feeds this object from a socket: every frame (frameTransferred) and every RTT
    // measured by a ping (pongReceived). The connections end with the socket.
    void attachSocket(WsSocket *socket);

    double inMessagesPerSecond() const { return m_rates[In].messages; }
    double outMessagesPerSecond() const { return m_rates[Out].messages; }
    double inBytesPerSecond() const { return m_rates[In].bytes; }
    double outBytesPerSecond() const { return m_rates[Out].bytes; }
    qint64 totalMessagesIn() const { return m_totals[In].messages; }
    qint64 totalMessagesOut() const { return m_totals[Out].messages; }
    qint64 totalBytesIn() const { return m_totals[In].bytes; }
    qint64 totalBytesOut() const { return m_totals[Out].bytes; }
    double totalMessagesInValue() const { return double(totalMessagesIn()); }
    double totalMessagesOutValue() const { return double(totalMessagesOut()); }
    double totalBytesInValue() const { return double(totalBytesIn()); }
    double totalBytesOutValue() const { return double(totalBytesOut()); }
    int lastRtt() const { return m_lastRtt; }
    int rateWindow() const { return m_window; }
    void setRateWindow(int seconds);  // 1 to HistorySeconds
    int rttSampleCount() const { return int(m_rtt.size()); }

    // The last `seconds` complete seconds of a series, oldest first, as [{t, value}]:
    // t in seconds on the stats clock (the start of that second), value per second.
    // Series: "inMessages", "outMessages", "inBytes", "outBytes"; "rtt" gives the RTT
    // samples (ms) of that period, t being when each was taken. Unknown series: [].
    Q_INVOKABLE QVariantList history(const QString &series, int seconds = HistorySeconds) const;

public Q_SLOTS:
    void addFrame(const WsFrameInfo &frame);
    // bytes more in one direction; messageEnd counts a message (its last frame).
    void record(bool outgoing, qint64 bytes, bool messageEnd);
    void recordRtt(qint64 ms);
    // Recomputes the rates at the clock's current time, and notifies what changed.
    void update();
    void reset();

Q_SIGNALS:
    void ratesChanged();
    void totalsChanged();
    void lastRttChanged();
    void rateWindowChanged();

private:
    enum Direction { In = 0, Out = 1 };
    struct Counts
    {
        qint64 messages = 0;
        qint64 bytes = 0;
    };
    struct Rates
    {
        double messages = 0;
        double bytes = 0;
        friend bool operator==(const Rates &a, const Rates &b) { return a.messages == b.messages && a.bytes == b.bytes; }
        friend bool operator!=(const Rates &a, const Rates &b) { return !(a == b); }
    };
    struct Bucket
    {
        qint64 second = -1;
        Counts counts[2];
    };
    struct RttSample
    {
        qint64 timeMs = 0;
        qint64 rtt = 0;
    };

    qint64 now() const;
    const Counts *countsAt(qint64 second, Direction d) const;
    void activity();

    Clock m_clock;
    QElapsedTimer m_elapsed;
    mutable qint64 m_lastNow = 0;
    qint64 m_originSecond = 0;
    qint64 m_lastActivitySecond = -1;
    std::array<Bucket, HistorySeconds + 1> m_buckets;
    std::deque<RttSample> m_rtt;
    Counts m_totals[2];
    Counts m_notifiedTotals[2];
    Rates m_rates[2];
    int m_lastRtt = -1;
    int m_window = 1;
    QTimer m_timer;
};
