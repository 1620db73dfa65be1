import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
// Compose and send: text, JSON (checked as you type), binary as hex or base64; send N times
// with an interval; ping; close with a code and reason. Keeps a history of what was sent.
Frame {
    id: root
    // Either a WsSocket to send on, or a WsServer whose every client gets the message.
    property var socket: null
    property var server: null
    readonly property bool serverMode: root.socket === null && root.server !== null
    readonly property bool canSend: root.serverMode ? root.server.connectionCount > 0
                                                    : root.socket !== null && root.socket.status === 2  // Open
    property var history: []
    // Messages kept for later; the application decides where to store them.
    property var saved: []
    property alias text: input.text
    property alias mode: kind.currentIndex  // 0 text, 1 JSON, 2 hex, 3 base64
    

    readonly property string jsonError: {
        if (kind.currentIndex !== 1)
            return ""
        try { JSON.parse(input.text); return "" } catch (e) { return e.message }
    }
    function payloadBuffer() {
        const t = input.text.replace(/\s+/g, "")
        if (kind.currentIndex === 2) {
            if (!/^([0-9a-fA-F]{2})*$/.test(t))
                return null
            const bytes = new Uint8Array(t.length / 2)
            for (let i = 0; i < bytes.length; ++i)
                bytes[i] = parseInt(t.substr(2 * i, 2), 16)
            return bytes.buffer
        }
        try {
            const raw = Qt.atob(t)
            const bytes = new Uint8Array(raw.length)
            for (let i = 0; i < raw.length; ++i)
                bytes[i] = raw.charCodeAt(i) & 255
            return bytes.buffer
        } catch (e) {
            return null
        }
    }
    function sendOnce() {
        const targets = root.serverMode ? [] : [root.socket]
        if (root.serverMode)
            for (let i = 0; i < root.server.connections.count; ++i)
                targets.push(root.server.connections.get(i))
        let ok = targets.length > 0
        for (const t of targets) {
            if (kind.currentIndex <= 1) {
                ok = t.sendTextMessage(input.text) && ok
            } else {
                const buffer = root.payloadBuffer()
                ok = buffer !== null && t.sendBinaryMessage(buffer) && ok
            }
        }
        return ok
    }
    function send() {
        if (!sendOnce())
            return
        const updated = [input.text]
        for (const h of root.history) {
            if (h !== input.text && updated.length < 20)
                updated.push(h)
        }
        root.history = updated
        repeatTimer.left = times.value - 1
        if (repeatTimer.left > 0)
            repeatTimer.start()
    }
    Timer {
        id: repeatTimer
        property int left: 0
        interval: intervalBox.value
        repeat: true
        onTriggered: {
            if (left <= 0 || !root.sendOnce()) {
                stop()
                return
            }
            left--
        }
    }

    ColumnLayout {
        anchors.fill: parent
        RowLayout {
            ComboBox { id: kind; model: [qsTr("Text"), qsTr("JSON"), qsTr("Binary (hex)"), qsTr("Binary (base64)")] }
            Label {
                text: kind.currentIndex === 1 ? (root.jsonError ? qsTr("invalid JSON: %1").arg(root.jsonError) : qsTr("valid JSON"))
                    : kind.currentIndex >= 2 && input.text.length > 0 && root.payloadBuffer() === null ? qsTr("invalid %1").arg(kind.currentIndex === 2 ? "hex" : "base64") : ""
                color: root.jsonError ? "#c03030" : "#2e9d48"
                Layout.fillWidth: true
                elide: Text.ElideRight
            }
            ComboBox {
                id: historyBox
                model: root.history
                displayText: qsTr("History (%1)").arg(root.history.length)
                onActivated: index => input.text = root.history[index]
            }
            ComboBox {
                id: savedBox
                model: root.saved
                displayText: qsTr("Saved (%1)").arg(root.saved.length)
                onActivated: index => input.text = root.saved[index]
            }
            Button {
                text: qsTr("Save")
                enabled: input.text.length > 0 && root.saved.indexOf(input.text) < 0
                onClicked: root.saved = root.saved.concat([input.text])
            }
        }
        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            TextArea {
                id: input
                objectName: "composerInput"
                text: '{"hello": "world"}'
                font.family: "monospace"
                selectByMouse: true
                wrapMode: TextEdit.Wrap
            }
        }
        RowLayout {
            Button {
                id: sendButton
                objectName: "sendButton"
                text: qsTr("Send")
                enabled: root.canSend && !root.jsonError
                onClicked: root.send()
            }
            Label { text: qsTr("times") }
            SpinBox { id: times; objectName: "timesBox"; from: 1; to: 100000; value: 1; editable: true; textFromValue: value => String(value); valueFromText: text => parseInt(text) }
            Label { text: qsTr("every (ms)") }
            SpinBox { id: intervalBox; objectName: "intervalBox"; from: 0; to: 60000; value: 100; stepSize: 50; editable: true; textFromValue: value => String(value); valueFromText: text => parseInt(text) }
            Button { text: qsTr("Ping"); enabled: !root.serverMode && root.canSend; onClicked: root.socket.ping("inspector") }
            Item { Layout.fillWidth: true }
            Label { text: qsTr("Close") }
            SpinBox {
                id: closeCode
                from: 1000
                to: 4999
                value: 1000
                editable: true
                textFromValue: value => String(value)
                valueFromText: text => parseInt(text)
            }
            TextField { id: closeReason; placeholderText: qsTr("reason"); Layout.preferredWidth: 120 }
            Button {
                text: qsTr("Close")
                enabled: !root.serverMode && root.canSend
                onClicked: root.socket.close(closeCode.value, closeReason.text)
            }
        }
    }
}
