import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The opening handshake as captured by the session: request and response headers.
Pane {
    id: root
    required property var session
    required property var bridge
    ScrollView {
        anchors.fill: parent
        ColumnLayout {
            width: parent.width
            Label { text: qsTr("GET %1").arg(root.session.url); font.bold: true; wrapMode: Text.Wrap; Layout.fillWidth: true }
            Repeater {
                model: root.session.requestHeaders
                Label {
                    required property var modelData
                    text: modelData.name + ": " + modelData.value
                    font.family: "monospace"
                }
            }
            Label { text: root.session.responseStatus ? qsTr("HTTP %1").arg(root.session.responseStatus) : qsTr("No response yet"); font.bold: true; topPadding: 10 }
            Repeater {
                model: root.session.responseHeaders
                Label {
                    required property var modelData
                    text: modelData.name + ": " + modelData.value
                    font.family: "monospace"
                }
            }
            Label { text: qsTr("Subprotocol: %1").arg(root.session.subprotocol || qsTr("none")); topPadding: 10 }
            Label { text: qsTr("Extensions: %1").arg(root.session.extensions || qsTr("none")); wrapMode: Text.Wrap; Layout.fillWidth: true }
            Label { text: qsTr("Peer: %1").arg(root.session.serverAddress) }
            Label {
                visible: root.bridge.tlsSummary.length > 0
                text: qsTr("TLS: %1").arg(root.bridge.tlsSummary)
                wrapMode: Text.Wrap
                Layout.fillWidth: true
                topPadding: 6
            }
            Label {
                visible: root.bridge.rejectionBody.length > 0 || (root.session.responseStatus > 0 && root.session.responseStatus !== 101)
                text: qsTr("The server refused the upgrade (HTTP %1):").arg(root.session.responseStatus)
                color: "#c03030"
                font.bold: true
                topPadding: 10
            }
            TextArea {
                visible: root.bridge.rejectionBody.length > 0
                readOnly: true
                text: root.bridge.rejectionBody
                font.family: "monospace"
                wrapMode: TextEdit.Wrap
                Layout.fillWidth: true
            }
        }
    }
}
