import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A list of traffic rows (a WsTrafficModel or WsTrafficFilterModel): direction, time, kind,
// sizes on the wire and decoded, and a preview. Follows the newest row unless scrolled.
ListView {
    id: root
    clip: true
    spacing: 1
    property bool follow: true
    currentIndex: -1                  // the selected row; -1: none

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
        required property string preview
        required property int frameCount
        required property int connectionId

        width: ListView.view.width
        height: 26
        color: row.ListView.isCurrentItem ? "#cfe3ff"
             : row.kind === "close" ? "#fbe3e3"
             : (row.kind === "ping" || row.kind === "pong") ? "#f1f1f1"
             : row.outgoing ? "#eef7ee" : "#ffffff"

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 6
            anchors.rightMargin: 6
            spacing: 10
            Label {
                text: row.outgoing ? "\u2191" : "\u2193"
                color: row.outgoing ? "#2e9d48" : "#2f6fd0"
                font.bold: true
                Layout.preferredWidth: 12
            }
            Label { text: row.timeText; font.family: "monospace"; Layout.preferredWidth: 96 }
            Label { text: "#" + row.connectionId; color: "#777"; Layout.preferredWidth: 30 }
            Label { text: row.kind; font.bold: row.kind === "close"; Layout.preferredWidth: 50 }
            Label {
                text: row.compressed ? (row.wireSize + " / " + row.size + " B") : (row.size + " B")
                horizontalAlignment: Text.AlignRight
                Layout.preferredWidth: 110
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
        MouseArea {
            anchors.fill: parent
            onClicked: row.ListView.view.currentIndex = row.index
        }
    }
}
