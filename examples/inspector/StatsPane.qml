import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Live rates and totals, and the last 60 seconds as a small chart.
Pane {
    id: root
    required property var stats          // TrafficStats
    function human(bytes) {
        return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MiB" : bytes >= 1024 ? (bytes / 1024).toFixed(1) + " KiB" : Math.round(bytes) + " B"
    }
    ColumnLayout {
        anchors.fill: parent
        GridLayout {
            columns: 3
            Label { text: "" }
            Label { text: qsTr("received"); font.bold: true }
            Label { text: qsTr("sent"); font.bold: true }
            Label { text: qsTr("messages/s") }
            Label { text: root.stats.inMessagesPerSecond.toFixed(1) }
            Label { text: root.stats.outMessagesPerSecond.toFixed(1) }
            Label { text: qsTr("bytes/s") }
            Label { text: root.human(root.stats.inBytesPerSecond) + "/s" }
            Label { text: root.human(root.stats.outBytesPerSecond) + "/s" }
            Label { text: qsTr("messages") }
            Label { text: root.stats.totalMessagesIn }
            Label { text: root.stats.totalMessagesOut }
            Label { text: qsTr("bytes") }
            Label { text: root.human(root.stats.totalBytesIn) }
            Label { text: root.human(root.stats.totalBytesOut) }
        }
        Label { text: qsTr("Round-trip time: %1").arg(root.stats.lastRtt >= 0 ? root.stats.lastRtt + " ms" : qsTr("no pong yet")) }
        RowLayout {
            Label { text: qsTr("Last 60 s:"); color: "#555" }
            ComboBox {
                id: seriesBox
                model: [qsTr("messages/s"), qsTr("bytes/s"), qsTr("round-trip time (ms)")]
                onActivated: chart.requestPaint()
            }
            Label { text: seriesBox.currentIndex === 2 ? qsTr("keepalive pings") : qsTr("blue received, green sent"); color: "#555" }
        }
        Canvas {
            id: chart
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.minimumHeight: 120
            Connections {
                target: root.stats
                function onRatesChanged() { chart.requestPaint() }
                function onLastRttChanged() { chart.requestPaint() }
            }
            onPaint: {
                const ctx = getContext("2d")
                ctx.reset()
                ctx.fillStyle = "#fafbfc"
                ctx.fillRect(0, 0, width, height)
                const series = seriesBox.currentIndex === 0 ? [["inMessages", "#2f6fd0"], ["outMessages", "#2e9d48"]]
                             : seriesBox.currentIndex === 1 ? [["inBytes", "#2f6fd0"], ["outBytes", "#2e9d48"]]
                             : [["rtt", "#b05ad0"]]
                let max = 1
                const data = series.map(s => root.stats.history(s[0], 60))
                data.forEach(points => points.forEach(p => max = Math.max(max, p.value)))
                for (let s = 0; s < series.length; ++s) {
                    const points = data[s]
                    ctx.strokeStyle = series[s][1]
                    ctx.lineWidth = 2
                    ctx.beginPath()
                    for (let i = 0; i < points.length; ++i) {
                        // The newest second at the right edge, 60 s across.
                        const x = width * (i + 60 - points.length) / 59
                        const y = height - 4 - (height - 8) * points[i].value / max
                        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y)
                    }
                    ctx.stroke()
                }
                ctx.fillStyle = "#777"
                ctx.fillText(seriesBox.currentIndex === 2 ? max.toFixed(0) + " ms" : max.toFixed(1) + "/s", 4, 12)
            }
        }
    }
}
