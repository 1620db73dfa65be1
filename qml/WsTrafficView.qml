import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A list of traffic rows (a WsTrafficModel or WsTrafficFilterModel): direction, time (absolute
// and since the first row), connection, kind, sizes on the wire and decoded, and a preview.
// A message of several frames expands into them (the arrow). Follows the newest row unless
// scrolled.
ListView {
    id: root
    clip: true
    spacing: 1
    property bool follow: true
    currentIndex: -1                  // the selected row; -1: none
    highlightFollowsCurrentItem: false
    // Rows scroll past quickly under load: reuse delegates instead of creating new ones.
    reuseItems: true

    onCountChanged: if (root.follow) root.positionViewAtEnd()
    onMovementStarted: root.follow = false
    onAtYEndChanged: if (root.atYEnd) root.follow = true

    ScrollBar.vertical: ScrollBar {}

    delegate: Rectangle {
        id: row
        required property int index
        required property bool outgoing
        required property string timeText
        required property string kind
        required property int wireSize
        required property int size
        required property bool compressed
        required property bool fin
        required property int rsv
        required property string preview
        required property int frameCount
        required property int connectionId
        required property real relativeTime
        required property var frames
        property bool expanded: false
        ListView.onReused: row.expanded = false

        width: ListView.view.width
        height: 26 + (row.expanded ? frameList.implicitHeight : 0)
        color: row.ListView.isCurrentItem ? "#cfe3ff"
             : row.kind === "close" ? "#fbe3e3"
             : (row.kind === "ping" || row.kind === "pong") ? "#f1f1f1"
             : row.outgoing ? "#eef7ee" : "#ffffff"

        RowLayout {
            id: line
            x: 6
            width: parent.width - 12
            height: 26
            spacing: 10
            Label {
                text: row.frameCount > 1 ? (row.expanded ? "\u25be" : "\u25b8") : ""
                Layout.preferredWidth: 10
                MouseArea {
                    anchors.fill: parent
                    anchors.margins: -4
                    onClicked: row.expanded = !row.expanded
                }
            }
            Label {
                text: row.outgoing ? "\u2191" : "\u2193"
                color: row.outgoing ? "#2e9d48" : "#2f6fd0"
                font.bold: true
                Layout.preferredWidth: 12
            }
            Label { text: row.timeText; font.family: "monospace"; Layout.preferredWidth: 96 }
            Label {
                text: "+" + (row.relativeTime / 1000).toFixed(3) + " s"
                color: "#888"
                font.family: "monospace"
                Layout.preferredWidth: 80
            }
            Label { text: "#" + row.connectionId; color: "#777"; Layout.preferredWidth: 30 }
            Label { text: row.kind; font.bold: row.kind === "close"; Layout.preferredWidth: 50 }
            Label {
                // on the wire / decoded, and the compression ratio for compressed messages
                text: row.compressed ? (row.wireSize + " / " + row.size + " B") : (row.size + " B")
                horizontalAlignment: Text.AlignRight
                Layout.preferredWidth: 100
            }
            Label {
                text: row.compressed && row.wireSize > 0 ? (row.size / row.wireSize).toFixed(1) + "\u00d7" : ""
                color: "#777"
                Layout.preferredWidth: 40
            }
            Label {
                // FIN of the last frame, RSV bits of the first (RSV1: compressed)
                text: (row.fin ? "F" : "-") + ((row.rsv & 4) ? "1" : "-") + ((row.rsv & 2) ? "2" : "-") + ((row.rsv & 1) ? "3" : "-")
                color: "#777"
                font.family: "monospace"
                Layout.preferredWidth: 34
            }
            Label {
                text: row.frameCount > 1 ? row.frameCount + " frames" : ""
                color: "#777"
                Layout.preferredWidth: 60
            }
            Label {
                text: row.preview
                elide: Text.ElideRight
                font.family: row.kind === "binary" ? "monospace" : ""
                Layout.fillWidth: true
            }
        }
        Column {
            id: frameList
            x: 40
            y: 26
            visible: row.expanded
            Repeater {
                model: row.expanded ? row.frames : []
                Label {
                    required property var modelData
                    required property int index
                    text: qsTr("frame %1: %2%3%4, %5 bytes%6").arg(index + 1)
                          .arg(modelData.kind)
                          .arg(modelData.fin ? ", FIN" : "")
                          .arg(modelData.rsv ? ", " + modelData.rsvNames : "")
                          .arg(modelData.wireSize).arg(modelData.masked ? ", masked" : "")
                    color: "#555"
                    font.family: "monospace"
                    height: 20
                }
            }
        }
        MouseArea {
            anchors.fill: line
            anchors.leftMargin: 20
            onClicked: row.ListView.view.currentIndex = row.index
        }
    }
}
