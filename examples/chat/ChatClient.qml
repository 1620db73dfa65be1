import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import WsKit

// A chat client: says hello with its name, shows who is present, reconnects by itself.
Frame {
    id: root
    required property string userName
    required property url serverUrl
    property var script: []          // lines to say once connected (the demo)
    property alias active: socket.active
    property var users: []

    WsSocket {
        id: socket
        url: root.serverUrl
        active: true
        autoReconnect: true
        reconnectInitialDelay: 500
        reconnectMaxDelay: 5000
        pingInterval: 5000
        onOpened: {
            socket.sendJson({ type: "hello", name: root.userName })
            scriptTimer.restart()
        }
        onJsonMessageReceived: m => {
            if (m.type === "presence")
                root.users = m.users
            else if (m.type === "said")
                messages.append({ from: m.from, text: m.text, mine: m.from === root.userName })
            else if (m.type === "error")
                messages.append({ from: "server", text: m.text, mine: false })
        }
        onErrorOccurred: text => messages.append({ from: "error", text: text, mine: false })
    }
    Timer {
        id: scriptTimer
        property int next: 0
        interval: root.userName === "Alice" ? 300 : 700
        repeat: true
        onTriggered: {
            if (next >= root.script.length) {
                stop()
                return
            }
            socket.sendJson({ type: "say", text: root.script[next++] })
        }
    }

    ColumnLayout {
        anchors.fill: parent
        RowLayout {
            Label { text: root.userName; font.bold: true; font.pixelSize: 18 }
            WsStatusIndicator { socket: socket; Layout.fillWidth: true }
            Button {
                text: socket.active ? qsTr("Disconnect") : qsTr("Connect")
                onClicked: socket.active = !socket.active
            }
        }
        Label {
            text: socket.status === WsSocket.Open
                  ? qsTr("Present: %1").arg(root.users.join(", "))
                  : socket.reconnectAttempts > 0 ? qsTr("Reconnecting (attempt %1)\u2026").arg(socket.reconnectAttempts) : " "
            color: "#555"
        }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 4
            model: ListModel { id: messages }
            onCountChanged: positionViewAtEnd()
            delegate: Rectangle {
                id: bubble
                required property string from
                required property string text
                required property bool mine
                width: ListView.view.width
                height: body.implicitHeight + 10
                radius: 6
                color: mine ? "#dcf3dc" : from === "error" ? "#fbe3e3" : "#eef1f6"
                Label {
                    id: body
                    anchors.fill: parent
                    anchors.margins: 5
                    wrapMode: Text.Wrap
                    text: "<b>" + bubble.from + "</b>: " + bubble.text
                    textFormat: Text.StyledText
                }
            }
        }
        RowLayout {
            TextField {
                id: input
                placeholderText: qsTr("Say something")
                Layout.fillWidth: true
                enabled: socket.status === WsSocket.Open
                onAccepted: send.clicked()
            }
            Button {
                id: send
                text: qsTr("Send")
                enabled: socket.status === WsSocket.Open && input.text.length > 0
                onClicked: {
                    socket.sendJson({ type: "say", text: input.text })
                    input.clear()
                }
            }
        }
    }
}
