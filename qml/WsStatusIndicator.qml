import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A coloured dot and a word for a WsSocket's status, with the error or close code.
RowLayout {
    id: root
    required property var socket
    spacing: 6

    readonly property color statusColor: {
        switch (root.socket ? root.socket.status : -1) {
        case 1: return "#e0a000"      // Connecting
        case 2: return "#2e9d48"      // Open
        case 3: return "#e0a000"      // Closing
        case 5: return "#d23c3c"      // Error
        default: return "#8a8a8a"     // Idle, Closed
        }
    }
    readonly property string statusText: {
        if (!root.socket)
            return qsTr("no socket")
        switch (root.socket.status) {
        case 0: return qsTr("Idle")
        case 1: return qsTr("Connecting")
        case 2: return qsTr("Open")
        case 3: return qsTr("Closing")
        case 4: return qsTr("Closed (%1)").arg(root.socket.closeCode)
        case 5: return qsTr("Error: %1").arg(root.socket.errorString)
        }
        return ""
    }

    Rectangle {
        width: 10
        height: 10
        radius: 5
        color: root.statusColor
    }
    Label {
        text: root.statusText
        elide: Text.ElideRight
        Layout.fillWidth: true
    }
}
