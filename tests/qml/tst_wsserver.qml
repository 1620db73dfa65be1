import QtQuick
import QtTest
import WsKit

TestCase {
    id: testCase
    name: "WsServer"
    when: server.listening

    WsServer {
        id: server
        port: 0
        listening: true
    }
    Component {
        id: socketComponent
        WsSocket { pingInterval: 0 }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, { target: target, signalName: signalName })
    }

    function test_port_chosen() {
        verify(server.port > 0)
        compare(server.url.toString(), "ws://127.0.0.1:" + server.port + "/")
    }

    function test_connections_model_and_signals() {
        const connected = spy(server, "clientConnected")
        const disconnected = spy(server, "clientDisconnected")
        const a = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        const b = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        const c = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        tryCompare(server, "connectionCount", 3)
        compare(server.connections.count, 3)
        compare(connected.count, 3)
        verify(connected.signalArguments[0][0].peerAddress.startsWith("127.0.0.1:"))
        compare(connected.signalArguments[0][0].status, WsSocket.Open)
        b.close()
        tryCompare(server, "connectionCount", 2)
        compare(disconnected.count, 1)
        compare(server.connections.count, 2)
    }

    function test_messages_and_broadcast() {
        const texts = spy(server, "textMessageReceived")
        const binaries = spy(server, "binaryMessageReceived")
        const a = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        const b = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        tryCompare(server, "connectionCount", 2)
        tryCompare(a, "status", WsSocket.Open)
        tryCompare(b, "status", WsSocket.Open)
        a.sendTextMessage("from a")
        b.sendBinaryMessage(new Uint8Array([1, 2, 3]).buffer)
        tryCompare(texts, "count", 1)
        tryCompare(binaries, "count", 1)
        compare(texts.signalArguments[0][1], "from a")
        compare(new Uint8Array(binaries.signalArguments[0][1]).length, 3)
        const aGot = spy(a, "textMessageReceived")
        const bGot = spy(b, "textMessageReceived")
        compare(server.broadcast("to everyone"), 2)
        tryCompare(aGot, "count", 1)
        tryCompare(bGot, "count", 1)
        compare(bGot.signalArguments[0][0], "to everyone")
    }

    function test_listening_toggle_closes_clients_with_1001() {
        const s = createTemporaryObject(socketComponent, testCase, { url: server.url, active: true })
        tryCompare(s, "status", WsSocket.Open)
        const port = server.port
        server.port = port
        server.listening = false
        tryCompare(s, "status", WsSocket.Closed)
        compare(s.closeCode, 1001)
        compare(server.connectionCount, 0)
        server.listening = true
        tryCompare(server, "listening", true)
        compare(server.port, port)
    }
}
