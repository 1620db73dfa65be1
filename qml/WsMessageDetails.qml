import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import WsKit

// The selected row: its columns, its frames, and the payload as text, pretty JSON or hex.
Pane {
    id: root
    property var row: null           // a row of WsTrafficModel / WsTrafficFilterModel (get(i))
    property alias view: views.currentIndex   // 0 text, 1 JSON tree, 2 hex

    function hexDump(buffer) {
        if (!buffer)
            return ""
        const bytes = new Uint8Array(buffer)
        const n = Math.min(bytes.length, 4096)
        let out = ""
        for (let off = 0; off < n; off += 16) {
            let hex = "", ascii = ""
            for (let i = off; i < off + 16; ++i) {
                if (i < n) {
                    hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16) + " "
                    ascii += bytes[i] >= 32 && bytes[i] < 127 ? String.fromCharCode(bytes[i]) : "."
                } else {
                    hex += "   "
                }
            }
            out += ("0000000" + off.toString(16)).slice(-8) + "  " + hex + " " + ascii + "\n"
        }
        if (bytes.length > n)
            out += qsTr("\u2026 %1 more bytes").arg(bytes.length - n)
        return out
    }
    function copy(text) {
        clipboardHelper.text = text
        clipboardHelper.selectAll()
        clipboardHelper.copy()
    }
    TextEdit { id: clipboardHelper; visible: false }

    readonly property string prettyJson: {
        if (!row || row.kind !== "text")
            return ""
        try {
            return JSON.stringify(JSON.parse(row.text), null, 2)
        } catch (e) {
            return qsTr("Not JSON: %1").arg(e.message)
        }
    }

    ColumnLayout {
        anchors.fill: parent
        visible: root.row !== null
        Label {
            text: root.row ? qsTr("%1 %2 \u2022 %3 \u2022 connection #%4")
                              .arg(root.row.outgoing ? "\u2191 sent" : "\u2193 received").arg(root.row.kind)
                              .arg(root.row.timeText).arg(root.row.connectionId) : ""
            font.bold: true
        }
        Label {
            text: root.row ? qsTr("%1 bytes on the wire, %2 decoded%3 \u2022 %4 frame(s)%5%6")
                              .arg(root.row.wireSize).arg(root.row.size)
                              .arg(root.row.compressed && root.row.size > 0 ? qsTr(" (ratio %1)").arg((root.row.size / Math.max(1, root.row.wireSize)).toFixed(2)) : "")
                              .arg(root.row.frameCount)
                              .arg(root.row.rsv ? " \u2022 " + root.row.rsvNames + (root.row.compressed ? qsTr(" (compressed)") : "") : "")
                              .arg(root.row.kind === "close" ? " \u2022 " + root.row.preview : "") : ""
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Label {
            text: root.row ? qsTr("Frames: %1").arg(root.row.frames.map(f => f.kind + (f.fin ? " FIN" : "")
                                                                              + (f.rsv ? " " + f.rsvNames : "") + " " + f.wireSize + " B").join(" | ")) : ""
            color: "#555"
            elide: Text.ElideRight
            Layout.fillWidth: true
        }
        TabBar {
            id: views
            Layout.fillWidth: true
            TabButton { text: qsTr("Text") }
            TabButton { text: qsTr("JSON") }
            TabButton { text: qsTr("Hex") }
        }
        // JSON: a collapsible tree (click a row to fold or unfold it).
        TreeView {
            id: jsonTree
            visible: views.currentIndex === 1 && jsonModel.valid
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: WsJsonTreeModel {
                id: jsonModel
                json: root.row && root.row.kind === "text" && views.currentIndex === 1 ? root.row.text : ""
                onJsonChanged: jsonTree.expandRecursively()
            }
            delegate: TreeViewDelegate {
                id: node
                required property string label
                implicitWidth: node.treeView.width
                contentItem: Label {
                    text: node.label
                    elide: Text.ElideRight
                    font.family: "monospace"
                }
            }
            ScrollBar.vertical: ScrollBar {}
        }
        ScrollView {
            visible: !jsonTree.visible
            Layout.fillWidth: true
            Layout.fillHeight: true
            TextArea {
                readOnly: true
                selectByMouse: true
                font.family: views.currentIndex === 0 ? "" : "monospace"
                wrapMode: views.currentIndex === 0 ? TextEdit.Wrap : TextEdit.NoWrap
                text: !root.row ? "" : views.currentIndex === 0 ? (root.row.kind === "binary" ? qsTr("(binary: see Hex)") : root.row.text || root.row.preview)
                                   : views.currentIndex === 1 ? root.prettyJson : root.hexDump(root.row.payload)
            }
        }
        Button {
            text: qsTr("Copy")
            onClicked: root.copy(views.currentIndex === 1 ? root.prettyJson : views.currentIndex === 2 ? root.hexDump(root.row.payload) : (root.row.text || root.row.preview))
        }
    }
    Label {
        anchors.centerIn: parent
        visible: root.row === null
        text: qsTr("Select a row to see its payload")
        color: "#777"
    }
}
