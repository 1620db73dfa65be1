import QtQuick
import QtTest
import WsKit

TestCase {
    id: testCase
    name: "WsTrafficModel"
    when: server.listening

    WsServer {
        id: server
        port: 0
        listening: true
        onTextMessageReceived: (socket, message) => socket.sendTextMessage(message)
    }
    WsSocket {
        id: socket
        url: server.url
        active: true
        pingInterval: 0
    }
    WsTrafficModel {
        id: traffic
        source: socket
        capacity: 6
    }
    WsTrafficFilterModel {
        id: filtered
        sourceModel: traffic
    }

    function init() {
        tryCompare(socket, "status", WsSocket.Open)
        traffic.clear()
        filtered.direction = ""
        filtered.searchText = ""
        filtered.regularExpression = false
        filtered.showControl = true
    }

    function test_rows_have_the_columns() {
        socket.sendTextMessage("hello traffic")
        tryCompare(traffic, "count", 2)
        const out = traffic.get(0)
        compare(out.direction, "out")
        compare(out.kind, "text")
        compare(out.opcode, 1)
        compare(out.size, 13)
        compare(out.text, "hello traffic")
        compare(out.frameCount, 1)
        verify(out.fin)
        verify(out.timeText.length === 12)
        compare(traffic.get(1).direction, "in")
        compare(traffic.get(1).preview, "hello traffic")
    }

    function test_ring_buffer_keeps_capacity() {
        for (let i = 0; i < 10; ++i)
            socket.sendTextMessage("m" + i)
        tryVerify(() => traffic.totalMessages >= 20 && traffic.count === 6)
        traffic.flush()
        compare(traffic.count, 6)
        verify(traffic.droppedRows >= 14)
        compare(traffic.get(5).text, "m9")
    }

    function test_filters_data() {
        return [
            { tag: "direction-out", set: { direction: "out" }, expected: 2 },
            { tag: "direction-in", set: { direction: "in" }, expected: 3 },
            { tag: "search-text", set: { searchText: "apple" }, expected: 2 },
            { tag: "regex", set: { searchText: "^b.n", regularExpression: true }, expected: 2 },
            { tag: "no-control", set: { showControl: false }, expected: 4 },
        ]
    }
    function test_filters(data) {
        socket.sendTextMessage("apple")
        socket.sendTextMessage("banana")
        socket.ping("p")
        tryCompare(traffic, "totalMessages", traffic.totalMessages)  // settle
        tryVerify(() => { traffic.flush(); return traffic.count === 6 })
        // 2 out texts + 1 out ping = 3 out; 2 in texts + 1 in pong = 3 in: wait, pings are ours
        for (const key in data.set)
            filtered[key] = data.set[key]
        const out = filtered.count
        // out: apple, banana, ping; in: apple, banana, pong
        const expectedCounts = {
            "direction-out": 3, "direction-in": 3, "search-text": 2, "regex": 2, "no-control": 4
        }
        compare(out, expectedCounts[data.tag])
    }

    function test_pause() {
        traffic.paused = true
        socket.sendTextMessage("unseen")
        wait(150)
        traffic.flush()
        compare(traffic.count, 0)
        traffic.paused = false
        socket.sendTextMessage("seen")
        tryCompare(traffic, "count", 2)
    }
}
