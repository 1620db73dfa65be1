'use strict';
// Node `ws` client with permessage-deflate: node node_client.js URL
//
// Opens URL offering permessage-deflate (ws' default offer "permessage-deflate;
// client_max_window_bits"), requires it to be negotiated (ws.extensions), sends the messages
// of interop_messages.js one at a time (some frame by frame: ws.send with fin: false) and
// checks every byte of each echo, then closes with
// 1000 "bye" and requires the server's close frame to answer it with 1000. Prints
//   "VERSIONS node <v> ws <v>"
//   "EXTENSIONS <Sec-WebSocket-Extensions of the response, or ->"
//   "CLOSED <code> <wire bytes read> <wire bytes written> <reason>"
//   "OK ..." and exits 0, or "ERROR ..." and exits 1 (2 after 60 s).

const common = require('./interop_messages');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  process.stdout.write(`ERROR cannot load ws (${e.message}): run npm ci in ${__dirname}\n`);
  process.exit(3);
}

function say(line) {
  process.stdout.write(line + '\n');
}

function fail(text) {
  say(`ERROR ${text}`);
  process.exit(1);
}

process.on('uncaughtException', (e) => fail(`uncaught ${e.stack || e}`));

if (process.argv.length < 3)
  fail('usage: node node_client.js URL');

const msgs = common.messages();
let next = 0; // the message whose echo is awaited
let closing = false;
let socket = null;

setTimeout(() => {
  say(`ERROR node_client: hard timeout of ${common.HARD_TIMEOUT_MS / 1000} s, ` +
      (closing ? 'waiting for the close handshake' : `waiting for the echo of message ${next}`));
  process.exit(2);
}, common.HARD_TIMEOUT_MS).unref();

say(`VERSIONS node ${process.versions.node} ws ${require('ws/package.json').version}`);
const ws = new WebSocket(process.argv[2], { perMessageDeflate: true, handshakeTimeout: 10000 });

ws.on('upgrade', (res) => {
  socket = res.socket;
  say(`EXTENSIONS ${res.headers['sec-websocket-extensions'] || '-'}`);
});

ws.on('unexpected-response', (req, res) => fail(`handshake answered with HTTP ${res.statusCode}`));
ws.on('error', (e) => fail(`ws: ${e.code || ''} ${e.message}`));

function sendNext() {
  if (next === msgs.length) {
    closing = true;
    ws.close(1000, 'bye');
    return;
  }
  const m = msgs[next];
  const parts = m.parts || [m.data];
  parts.forEach((part, k) => {
    ws.send(part, { binary: !m.text, compress: m.compress, fin: k === parts.length - 1 }, (err) => {
      if (err)
        fail(`sending message ${next} ${common.describe(m)}: ${err.message}`);
    });
  });
}

ws.on('open', () => {
  if (!ws.extensions.split(',').includes('permessage-deflate'))
    fail(`permessage-deflate not negotiated (ws.extensions "${ws.extensions}")`);
  sendNext();
});

ws.on('message', (data, isBinary) => {
  if (closing || next >= msgs.length)
    fail(`an unexpected message ${isBinary ? 'binary' : 'text'}(${data.length})`);
  const m = msgs[next];
  if (isBinary === m.text)
    fail(`message ${next}: sent ${common.describe(m)}, echo is ${isBinary ? 'binary' : 'text'}(${data.length})`);
  const diff = common.firstDifference(m.data, data);
  if (diff >= 0)
    fail(`message ${next}: sent ${common.describe(m)}, echo of ${data.length} bytes differs at byte ${diff}`);
  ++next;
  sendNext();
});

ws.on('close', (code, reason) => {
  const r = reason.toString('utf8');
  say(`CLOSED ${code} ${socket ? socket.bytesRead : -1} ${socket ? socket.bytesWritten : -1} ${r}`);
  if (!closing)
    fail(`closed by the server with ${code} "${r}" after ${next} of ${msgs.length} echoes`);
  if (code !== 1000)
    fail(`closed with 1000 "bye", the server answered ${code} "${r}"`);
  let bytes = 0;
  for (const m of msgs)
    bytes += m.data.length;
  say(`OK ${msgs.length} messages (${bytes} bytes) echoed, extensions "${ws.extensions}", closed ${code}`);
  process.exit(0);
});
