import QtQuick
import QtTest
import WsKit

// The inspector's building blocks together: type in the composer, press Send, and the message
// shows up in the traffic model and view with the right columns.
Item {
    id: root
    width: 900
    height: 600

    WsServer {
        id: server
        port: 0
        listening: true
        onTextMessageReceived: (client, message) => client.sendTextMessage(message)
        onBinaryMessageReceived: (client, message) => client.sendBinaryMessage(message)
    }
    WsSocket {
        id: socket
        url: server.url
        active: server.listening
        pingInterval: 0
    }
    WsTrafficModel { id: traffic; source: socket }
    WsTrafficView {
        id: view
        model: traffic
        width: parent.width
        height: 300
    }
    WsComposer {
        id: composer
        socket: socket
        y: 300
        width: parent.width
        height: 250
    }

    TestCase {
        name: "InspectorComposer"
        // Not `when: status === Open`: the test would then run inside the socket's own
        // readyRead handler, where Qt delivers no further data until it returns.
        when: windowShown

        function init() {
            tryCompare(socket, "status", WsSocket.Open)
            traffic.clear()
            composer.mode = 0
        }
        function send() {
            const button = findChild(composer, "sendButton")
            verify(button)
            verify(button.enabled)
            mouseClick(button)
        }

        function test_send_text_appears_in_traffic() {
            composer.text = "hello from the composer"
            send()
            tryVerify(() => { traffic.flush(); return traffic.count === 2 })
            const out = traffic.get(0)
            compare(out.direction, "out")
            compare(out.kind, "text")
            compare(out.text, "hello from the composer")
            compare(out.size, 23)
            compare(out.frameCount, 1)
            const back = traffic.get(1)
            compare(back.direction, "in")
            compare(back.text, "hello from the composer")
            tryCompare(view, "count", 2)
            compare(composer.history[0], "hello from the composer")
        }

        function test_json_mode_validates_data() {
            return [
                { tag: "valid", text: '{"a": [1, 2]}', enabled: true },
                { tag: "invalid", text: '{"a": [1, 2}', enabled: false },
            ]
        }
        function test_json_mode_validates(data) {
            composer.mode = 1
            composer.text = data.text
            compare(findChild(composer, "sendButton").enabled, data.enabled)
        }

        function test_binary_hex() {
            composer.mode = 2
            composer.text = "00 ff 10 20"
            send()
            tryVerify(() => { traffic.flush(); return traffic.count === 2 })
            compare(traffic.get(0).kind, "binary")
            compare(traffic.get(0).size, 4)
            compare(traffic.get(1).preview, "00 ff 10 20")
        }

        function test_send_n_times() {
            composer.text = "again"
            findChild(composer, "timesBox").value = 5
            findChild(composer, "intervalBox").value = 10
            send()
            tryVerify(() => { traffic.flush(); return traffic.count === 10 }, 5000)
            findChild(composer, "timesBox").value = 1
        }
    }
}
