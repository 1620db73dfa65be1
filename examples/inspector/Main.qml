import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import WsKit

ApplicationWindow {
    id: window
    required property url initialUrl
    required property bool embedded
    required property int listenPort        // -1: client mode
    required property var requestHeaders
    required property var subprotocols
    required property bool compression
    required property bool insecure
    required property var stats            // TrafficStats
    required property var session          // InspectorSession
    required property var bridge           // statistics wiring, saved messages, TLS details
    required property int initialTab
    required property real demoRate       // embedded mode: demo messages per second
    required property int detailsView      // 0 text, 1 JSON tree, 2 hex       // side pane: 0 message, 1 handshake, 2 statistics, 3 session

    readonly property bool serverMode: listenPort >= 0
    width: 1280
    height: 800
    visible: true
    title: qsTr("WsKit inspector") + " \u2014 " + (serverMode ? server.url : socket.url)

    WsSocket {
        id: socket
        url: window.serverMode ? "" : window.initialUrl
        active: !window.serverMode
        requestHeaders: window.requestHeaders
        subprotocols: window.subprotocols
        compression: window.compression
        ignoreSslErrors: window.insecure
        pingInterval: 1000
        Component.onCompleted: if (!window.serverMode) window.bridge.attach(socket)
    }
    WsServer {
        id: server
        port: Math.max(0, window.listenPort)
        listening: window.serverMode
        subprotocols: window.subprotocols
        compression: window.compression
        onTextMessageReceived: (client, message) => client.sendTextMessage(message)
        onBinaryMessageReceived: (client, message) => client.sendBinaryMessage(message)
        Component.onCompleted: if (window.serverMode) window.bridge.attach(server)
    }
    WsTrafficModel {
        id: traffic
        source: window.serverMode ? server : socket
        capacity: 20000
        Component.onCompleted: window.session.model = traffic
    }
    WsTrafficFilterModel {
        id: shown
        sourceModel: traffic
        direction: directionBox.currentIndex === 1 ? "in" : directionBox.currentIndex === 2 ? "out" : ""
        showText: textBox.checked
        showBinary: binaryBox.checked
        showControl: controlBox.checked
        searchText: searchField.text
        regularExpression: regexBox.checked
    }

    // The embedded mode makes traffic flow at once (generated in C++, so that high rates are
    // the inspector's load, not the generator's).
    Connections {
        target: socket
        enabled: window.embedded
        function onOpened() { window.bridge.startDemo(socket, window.demoRate) }
    }

    // The embedded demo shows a message's details once a few have flowed.
    Timer {
        running: window.embedded
        interval: 1500
        onTriggered: {
            for (let i = shown.count - 1; i >= 0; --i) {
                if (shown.get(i).kind === "text" && !shown.get(i).outgoing) {
                    trafficView.currentIndex = i
                    break
                }
            }
        }
    }

    // Replays the messages a capture (e.g. an imported one) sent, in order, on this connection.
    Timer {
        id: replayTimer
        property var queue: []
        interval: 50
        repeat: true
        function begin() {
            const rows = []
            for (let i = 0; i < traffic.count; ++i) {
                const r = traffic.get(i)
                if (r.outgoing && (r.kind === "text" || r.kind === "binary"))
                    rows.push({ kind: r.kind, text: r.text, payload: r.payload })
            }
            queue = rows
            start()
        }
        onTriggered: {
            if (queue.length === 0 || socket.status !== WsSocket.Open) {
                stop()
                return
            }
            const r = queue.shift()
            queue = queue  // notify the label
            if (r.kind === "text")
                socket.sendTextMessage(r.text)
            else
                socket.sendBinaryMessage(r.payload)
        }
    }

    header: ToolBar {
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 8
            TextField {
                id: urlField
                visible: !window.serverMode
                text: socket.url
                selectByMouse: true
                Layout.preferredWidth: 320
                onAccepted: { socket.url = text; socket.active = true }
            }
            Button {
                visible: !window.serverMode
                text: socket.active ? qsTr("Disconnect") : qsTr("Connect")
                onClicked: {
                    if (!socket.active)
                        socket.url = urlField.text
                    socket.active = !socket.active
                }
            }
            Label {
                visible: window.serverMode
                text: server.listening ? qsTr("Listening on %1 \u2014 %2 client(s)").arg(server.url).arg(server.connectionCount)
                                       : qsTr("Not listening: %1").arg(server.errorString)
            }
            WsStatusIndicator {
                visible: !window.serverMode
                socket: socket
                Layout.preferredWidth: 220
            }
            Item { Layout.fillWidth: true }
            ComboBox {
                id: directionBox
                model: [qsTr("Both ways"), qsTr("Received"), qsTr("Sent")]
            }
            CheckBox { id: textBox; text: qsTr("Text"); checked: true }
            CheckBox { id: binaryBox; text: qsTr("Binary"); checked: true }
            CheckBox { id: controlBox; text: qsTr("Control"); checked: true }
            TextField {
                id: searchField
                placeholderText: regexBox.checked ? qsTr("Regular expression") : qsTr("Search")
                color: shown.searchValid ? palette.text : "#c03030"
                Layout.preferredWidth: 150
            }
            CheckBox { id: regexBox; text: qsTr(".*") }
            Button {
                text: traffic.paused ? qsTr("Resume") : qsTr("Pause")
                onClicked: traffic.paused = !traffic.paused
            }
            Button { text: qsTr("Clear"); onClicked: { traffic.clear(); trafficView.currentIndex = -1 } }
        }
    }

    SplitView {
        anchors.fill: parent
        orientation: Qt.Vertical

        SplitView {
            SplitView.fillHeight: true
            orientation: Qt.Horizontal

            ColumnLayout {
                SplitView.fillWidth: true
                SplitView.minimumWidth: 500
                spacing: 0
                Rectangle {
                    Layout.fillWidth: true
                    height: 24
                    color: "#e6e8ec"
                    Label {
                        anchors.verticalCenter: parent.verticalCenter
                        x: 8
                        text: qsTr("%1 of %2 rows shown \u2022 %3 messages seen%4")
                              .arg(shown.count).arg(traffic.count).arg(traffic.totalMessages)
                              .arg(traffic.paused ? qsTr(" \u2022 paused") : "")
                        color: "#444"
                    }
                }
                WsTrafficView {
                    id: trafficView
                    model: shown
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                }
            }
            ColumnLayout {
                SplitView.preferredWidth: 470
                spacing: 0
                TabBar {
                    id: sideTabs
                    Layout.fillWidth: true
                    currentIndex: window.initialTab
                    TabButton { text: qsTr("Message") }
                    TabButton { text: qsTr("Handshake") }
                    TabButton { text: qsTr("Statistics") }
                    TabButton { text: window.serverMode ? qsTr("Clients") : qsTr("Session") }
                }
                StackLayout {
                    currentIndex: sideTabs.currentIndex
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    WsMessageDetails { view: window.detailsView; row: trafficView.currentIndex >= 0 ? shown.get(trafficView.currentIndex) : null }
                    HandshakePane { session: window.session; bridge: window.bridge }
                    StatsPane { stats: window.stats }
                    Pane {
                        ColumnLayout {
                            anchors.fill: parent
                            Label { text: window.serverMode ? qsTr("Connected clients") : qsTr("Export or import this session"); font.bold: true }
                            ListView {
                                visible: window.serverMode
                                model: server.connections
                                Layout.fillWidth: true
                                Layout.preferredHeight: 200
                                delegate: Label {
                                    required property string peerAddress
                                    required property string path
                                    required property int connectionId
                                    text: "#" + connectionId + "  " + peerAddress + "  " + path
                                }
                            }
                            Label { text: qsTr("File (without extension):"); color: "#555" }
                            TextField { id: fileField; text: "/tmp/wskit-session"; Layout.fillWidth: true }
                            RowLayout {
                                Button { text: qsTr("Export JSONL"); onClicked: fileResult.text = window.session.exportJsonLines("file://" + fileField.text + ".jsonl") || qsTr("saved %1.jsonl").arg(fileField.text) }
                                Button { text: qsTr("Export HAR"); onClicked: fileResult.text = window.session.exportHar("file://" + fileField.text + ".har") || qsTr("saved %1.har").arg(fileField.text) }
                                Button { text: qsTr("Import JSONL"); onClicked: fileResult.text = window.session.importJsonLines("file://" + fileField.text + ".jsonl") || qsTr("imported %1 rows").arg(traffic.count) }
                            }
                            ColumnLayout {
                                visible: !window.serverMode
                                Layout.fillWidth: true
                                Button {
                                    text: replayTimer.running ? qsTr("Stop replay") : qsTr("Replay sent messages")
                                    enabled: socket.status === WsSocket.Open
                                    onClicked: replayTimer.running ? replayTimer.stop() : replayTimer.begin()
                                }
                                Label {
                                    text: replayTimer.running ? qsTr("%1 left").arg(replayTimer.queue.length) : qsTr("Resends the text and binary messages this capture sent, in order (e.g. after importing one).")
                                    color: "#555"
                                    wrapMode: Text.Wrap
                                    Layout.fillWidth: true
                                }
                            }
                            Label { id: fileResult; wrapMode: Text.Wrap; Layout.fillWidth: true }
                            Item { Layout.fillHeight: true }
                        }
                    }
                }
            }
        }
        WsComposer {
            SplitView.preferredHeight: 190
            socket: window.serverMode ? null : socket
            server: server
            saved: window.bridge.savedMessages
            onSavedChanged: window.bridge.savedMessages = saved
        }
    }
}
