import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import WsKit

// The chat server: keeps the user names, broadcasts what is said and who is present.
Frame {
    id: root
    property alias port: server.port
    readonly property url url: server.url
    property var names: ({})

    function stop() {
        server.port = server.port   // come back on the same port
        server.listening = false
        root.log(qsTr("server stopped"))
    }
    function start() {
        server.listening = true
        root.log(qsTr("server started"))
    }
    function log(text) {
        events.append({ line: new Date().toLocaleTimeString(Qt.locale(), "hh:mm:ss") + "  " + text })
    }
    function presence() {
        const users = []
        for (const id in root.names)
            users.push(root.names[id])
        server.broadcast(JSON.stringify({ type: "presence", users: users.sort() }))
    }

    WsServer {
        id: server
        listening: true
        onClientConnected: socket => root.log(qsTr("%1 connected").arg(socket.peerAddress))
        onClientDisconnected: socket => {
            root.log(qsTr("%1 left (%2)").arg(root.names[socket.connectionId] || socket.peerAddress).arg(socket.closeCode))
            delete root.names[socket.connectionId]
            root.presence()
        }
        onTextMessageReceived: (socket, message) => {
            let m
            try {
                m = JSON.parse(message)
            } catch (e) {
                socket.sendJson({ type: "error", text: "not JSON" })
                return
            }
            if (m.type === "hello" && typeof m.name === "string" && m.name.length > 0) {
                root.names[socket.connectionId] = m.name.substring(0, 32)
                socket.userData = root.names[socket.connectionId]
                root.log(qsTr("%1 is %2").arg(socket.peerAddress).arg(m.name))
                root.presence()
            } else if (m.type === "say" && root.names[socket.connectionId]) {
                server.broadcast(JSON.stringify({ type: "said", from: root.names[socket.connectionId], text: String(m.text) }))
            } else {
                socket.sendJson({ type: "error", text: "say hello first" })
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        RowLayout {
            Label { text: qsTr("Server"); font.bold: true; font.pixelSize: 18 }
            Item { Layout.fillWidth: true }
            Switch {
                text: server.listening ? qsTr("listening") : qsTr("stopped")
                checked: server.listening
                onToggled: checked ? root.start() : root.stop()
            }
        }
        Label { text: server.listening ? server.url : (server.errorString || qsTr("not listening")); color: "#555" }
        Label { text: qsTr("%1 connected").arg(server.connectionCount); font.bold: true }
        ListView {
            model: server.connections
            Layout.fillWidth: true
            Layout.preferredHeight: 90
            clip: true
            delegate: Label {
                id: entry
                required property var socket
                required property string peerAddress
                text: "\u2022 " + (entry.socket.userData || "?") + "  " + entry.peerAddress
            }
        }
        Label { text: qsTr("Events"); font.bold: true }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: ListModel { id: events }
            delegate: Label {
                required property string line
                text: line
                font.family: "monospace"
            }
            onCountChanged: positionViewAtEnd()
        }
    }
}
