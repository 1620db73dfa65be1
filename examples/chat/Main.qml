import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: window
    required property string mode        // "demo", "server" or "client"
    required property int serverPort
    required property url clientUrl
    required property string clientName
    required property int restartAt       // demo: stop the server at this time (ms), restart 2 s later

    Timer {
        running: window.restartAt > 0
        interval: window.restartAt
        onTriggered: {
            chatServer.stop()
            restartTimer.start()
        }
    }
    Timer {
        id: restartTimer
        interval: 2000
        onTriggered: chatServer.start()
    }

    width: mode === "demo" ? 1180 : 460
    height: 620
    visible: true
    title: qsTr("WsKit chat")

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 8

        ChatServer {
            id: chatServer
            visible: window.mode !== "client"
            port: window.serverPort
            Layout.fillHeight: true
            Layout.preferredWidth: 360
            Layout.fillWidth: window.mode === "server"
        }
        ChatClient {
            visible: window.mode !== "server"
            userName: window.mode === "client" ? window.clientName : "Alice"
            serverUrl: window.mode === "client" ? window.clientUrl : chatServer.url
            script: window.mode === "demo" ? ["Hi Bob! WsKit chat is up.", "Messages travel compressed (permessage-deflate)."] : []
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
        ChatClient {
            visible: window.mode === "demo"
            active: window.mode === "demo"
            userName: "Bob"
            serverUrl: chatServer.url
            script: ["Hello Alice!", "We reconnect by ourselves if the server restarts."]
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }
}
