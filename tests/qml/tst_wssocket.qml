import QtQuick
import QtTest
import WsKit

TestCase {
    id: testCase
    name: "WsSocket"
    when: server.listening

    WsServer {
        id: server
        port: 0
        listening: true
        subprotocols: ["chat.v1"]
        onTextMessageReceived: (socket, message) => socket.sendTextMessage(message)
        onBinaryMessageReceived: (socket, message) => socket.sendBinaryMessage(message)
    }

    Component {
        id: socketComponent
        WsSocket { pingInterval: 0 }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }
    Component {
        id: serverComponent
        WsServer { port: 0; listening: true }
    }

    function openSocket(properties) {
        const props = Object.assign({ url: server.url, active: true }, properties || {})
        const s = createTemporaryObject(socketComponent, testCase, props)
        verify(s)
        return s
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, { target: target, signalName: signalName })
    }

    function test_echo_text_data() {
        return [
            { tag: "ascii", message: "hello" },
            { tag: "unicode", message: "h\u00e9llo w\u00f6rld \u2603 \ud83d\ude00" },
            { tag: "empty", message: "" },
            { tag: "large", message: "x".repeat(300000) },
        ]
    }
    function test_echo_text(data) {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        const received = spy(s, "textMessageReceived")
        verify(s.sendTextMessage(data.message))
        tryCompare(received, "count", 1)
        compare(received.signalArguments[0][0], data.message)
        compare(s.messagesSent, 1)
        compare(s.messagesReceived, 1)
    }

    function test_echo_binary() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        const received = spy(s, "binaryMessageReceived")
        const bytes = new Uint8Array(70000)
        for (let i = 0; i < bytes.length; ++i)
            bytes[i] = (i * 31 + 7) & 255
        verify(s.sendBinaryMessage(bytes.buffer))
        tryCompare(received, "count", 1)
        const back = new Uint8Array(received.signalArguments[0][0])
        compare(back.length, bytes.length)
        for (let i = 0; i < bytes.length; ++i) {
            if (back[i] !== bytes[i])
                fail("byte " + i + " differs")
        }
    }

    function test_json() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        const json = spy(s, "jsonMessageReceived")
        const bad = spy(s, "jsonError")
        verify(s.sendJson({ kind: "chat", values: [1, 2, 3], nested: { ok: true } }))
        tryCompare(json, "count", 1)
        compare(json.signalArguments[0][0], { kind: "chat", values: [1, 2, 3], nested: { ok: true } })
        // Not JSON: reported, not a crash, and the connection stays up.
        verify(s.sendTextMessage("{ not json"))
        tryCompare(bad, "count", 1)
        compare(bad.signalArguments[0][1], "{ not json")
        verify(bad.signalArguments[0][0].length > 0)
        compare(s.status, WsSocket.Open)
    }

    function test_request_headers_and_origin() {
        const s = openSocket({ requestHeaders: { "X-Token": "abc123", "X-Client": "qml" }, origin: "http://app.example" })
        tryCompare(s, "status", WsSocket.Open)
        compare(s.requestHeader("X-Token"), "abc123")
        tryCompare(server, "connectionCount", 1)
        const peer = server.connections.get(0)
        compare(peer.requestHeader("x-token"), "abc123")
        compare(peer.requestHeader("X-Client"), "qml")
        compare(peer.requestHeader("Origin"), "http://app.example")
    }

    function test_subprotocol_and_compression() {
        const s = openSocket({ subprotocols: ["other", "chat.v1"] })
        tryCompare(s, "status", WsSocket.Open)
        compare(s.negotiatedSubprotocol, "chat.v1")
        compare(s.negotiatedExtensions.length, 1)
        verify(s.negotiatedExtensions[0].startsWith("permessage-deflate"))
        const plain = openSocket({ compression: false })
        tryCompare(plain, "status", WsSocket.Open)
        compare(plain.negotiatedExtensions.length, 0)
    }

    function test_server_close_sets_code_reason_and_releases_active() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        const closed = spy(s, "closed")
        tryCompare(server, "connectionCount", 1)
        server.connections.get(0).close(4002, "server bye")
        tryCompare(closed, "count", 1)
        compare(closed.signalArguments[0][0], 4002)
        compare(closed.signalArguments[0][1], "server bye")
        compare(closed.signalArguments[0][2], true)
        compare(s.closeCode, 4002)
        compare(s.closeReason, "server bye")
        verify(s.wasClean)
        compare(s.status, WsSocket.Closed)
        compare(s.active, false)
        // Setting active again is all it takes to reconnect.
        s.active = true
        tryCompare(s, "status", WsSocket.Open)
    }

    function test_client_close_with_code() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        const closed = spy(s, "closed")
        s.close(4001, "bye")
        tryCompare(closed, "count", 1)
        compare(s.closeCode, 4001)
        verify(s.wasClean)
        compare(s.status, WsSocket.Closed)
        compare(s.active, false)
        tryCompare(server, "connectionCount", 0)
    }

    function test_active_false_closes() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        s.active = false
        tryCompare(s, "status", WsSocket.Closed)
        compare(s.closeCode, 1000)
    }

    function test_url_change_reconnects() {
        const other = createTemporaryObject(serverComponent, testCase)
        tryCompare(other, "listening", true)
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        tryCompare(server, "connectionCount", 1)
        s.url = other.url
        tryCompare(other, "connectionCount", 1)
        tryCompare(s, "status", WsSocket.Open)
        compare(s.active, true)
        tryCompare(server, "connectionCount", 0)
    }

    function test_error_text_before_error_status() {
        const closedServer = createTemporaryObject(serverComponent, testCase)
        tryCompare(closedServer, "listening", true)
        const url = closedServer.url
        closedServer.listening = false
        const s = createTemporaryObject(socketComponent, testCase)
        const errors = spy(s, "errorOccurred")
        let seen = ""
        s.statusChanged.connect(() => { if (s.status === WsSocket.Error) seen = s.errorString })
        s.url = url
        s.active = true
        tryCompare(s, "status", WsSocket.Error)
        verify(seen.length > 0, "errorString was empty when status became Error")
        compare(errors.count, 1)
        compare(errors.signalArguments[0][0], seen)
        compare(s.active, false)
        compare(s.closeCode, 1006)
    }

    function test_rejected_handshake() {
        const strict = createTemporaryObject(serverComponent, testCase, { allowedOrigins: ["http://good.example"] })
        tryCompare(strict, "listening", true)
        const bad = openSocket({ url: strict.url, origin: "http://evil.example" })
        tryCompare(bad, "status", WsSocket.Error)
        verify(bad.errorString.indexOf("403") >= 0, bad.errorString)
        const good = openSocket({ url: strict.url, origin: "http://good.example" })
        tryCompare(good, "status", WsSocket.Open)
    }

    function test_auto_reconnect_after_server_restart() {
        const restartable = createTemporaryObject(serverComponent, testCase)
        tryCompare(restartable, "listening", true)
        restartable.port = restartable.port   // keep the chosen port across the restart
        const s = openSocket({ url: restartable.url, autoReconnect: true, reconnectInitialDelay: 50, reconnectMaxDelay: 200 })
        tryCompare(s, "status", WsSocket.Open)
        const opened = spy(s, "opened")
        restartable.listening = false          // closes every client with 1001
        tryVerify(() => s.reconnectAttempts >= 2, 5000)
        compare(s.active, true)
        restartable.listening = true
        tryCompare(opened, "count", 1, 5000)
        compare(s.status, WsSocket.Open)
        compare(s.reconnectAttempts, 0)
    }

    function test_ping_round_trip() {
        const s = openSocket()
        tryCompare(s, "status", WsSocket.Open)
        compare(s.roundTripTime, -1)
        verify(s.ping("rtt"))
        tryVerify(() => s.roundTripTime >= 0)
        const keepalive = openSocket({ pingInterval: 50 })
        tryVerify(() => keepalive.roundTripTime >= 0)
    }

    function test_buffered_amount() {
        const s = openSocket({ compression: false })
        tryCompare(s, "status", WsSocket.Open)
        verify(s.sendBinaryMessage(new ArrayBuffer(4 * 1024 * 1024)))
        verify(s.bufferedAmount > 0)
        tryCompare(s, "bufferedAmount", 0, 10000)
    }

    function test_tls_data() {
        return [
            { tag: "ignore-ssl-errors", props: { ignoreSslErrors: true }, status: WsSocket.Open },
            { tag: "trusted-ca-file", props: { caCertificateFile: tlsCertificate }, status: WsSocket.Open },
            { tag: "untrusted", props: {}, status: WsSocket.Error },
        ]
    }
    function test_tls(data) {
        const tlsServer = createTemporaryObject(serverComponent, testCase, { listening: false, certificateFile: tlsCertificate, privateKeyFile: tlsKey })
        tlsServer.listening = true
        tryCompare(tlsServer, "listening", true)
        compare(tlsServer.url.toString().substring(0, 6), "wss://")
        const s = openSocket(Object.assign({ url: tlsServer.url }, data.props))
        tryCompare(s, "status", data.status, 10000)
    }
}
