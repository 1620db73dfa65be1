'use strict';
// Node `ws` echo server on 127.0.0.1, port chosen by the OS, permessage-deflate on with
// threshold 0 (every message compressed):
//   node node_echo_server.js [EXPECTED_CLOSE_CODE [PERMESSAGE_DEFLATE_JSON]]
// PERMESSAGE_DEFLATE_JSON: more perMessageDeflate options of ws (e.g. {"serverMaxWindowBits":9}),
// to make the server impose or refuse parameters.
//
// Prints "PORT <n>" once listening, "VERSIONS node <v> ws <v>", then for the (single) connection:
//   "OFFER <Sec-WebSocket-Extensions of the request, or ->"
//   "EXTENSIONS <Sec-WebSocket-Extensions of the response, or ->"
//   "NEGOTIATED <ws.extensions, or ->"
//   "MSG <index> <text|binary> <bytes> <sha256>"   for each message received (then echoed)
//   "CLOSED <code> <count> <bytes> <wire bytes read> <wire bytes written> <reason>"
// Echoes text as text and binary as binary; a text "close:<code>:<reason>" makes the server
// close instead. Prints "ERROR ..." and exits 1 on any problem (no permessage-deflate, an
// error from ws, a second connection, a close code other than EXPECTED_CLOSE_CODE); exits 0
// after the connection closed cleanly, 0 when stdin closes (the test is gone), 2 after 60 s.

const common = require('./interop_messages');

common.armWatchdog('node_echo_server');

let WebSocketServer;
try {
  ({ WebSocketServer } = require('ws'));
} catch (e) {
  process.stdout.write(`ERROR cannot load ws (${e.message}): run npm ci in ${__dirname}\n`);
  process.exit(3);
}

const expectedCloseCode = process.argv[2] ? Number(process.argv[2]) : 0;
const deflateOptions = Object.assign({ threshold: 0 }, process.argv[3] ? JSON.parse(process.argv[3]) : {});
let errors = 0;
let connections = 0;

function say(line) {
  process.stdout.write(line + '\n');
}

function fail(text) {
  ++errors;
  say(`ERROR ${text}`);
}

process.on('uncaughtException', (e) => {
  fail(`uncaught ${e.stack || e}`);
  process.exit(1);
});

process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(errors ? 1 : 0));
process.stdin.on('error', () => process.exit(errors ? 1 : 0));

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflateOptions });

let responseExtensions = '-';
wss.on('headers', (headers) => {
  const h = headers.find((l) => l.toLowerCase().startsWith('sec-websocket-extensions:'));
  responseExtensions = h ? h.slice(h.indexOf(':') + 1).trim() : '-';
});

wss.on('listening', () => {
  say(`PORT ${wss.address().port}`);
  say(`VERSIONS node ${process.versions.node} ws ${require('ws/package.json').version}`);
  say(`OPTIONS perMessageDeflate ${JSON.stringify(deflateOptions)}`);
});

wss.on('error', (e) => {
  fail(`server: ${e.message}`);
  process.exit(1);
});

wss.on('connection', (ws, req) => {
  if (++connections > 1) {
    fail('a second connection');
    ws.terminate();
    return;
  }
  const socket = req.socket;
  say(`OFFER ${req.headers['sec-websocket-extensions'] || '-'}`);
  say(`EXTENSIONS ${responseExtensions}`);
  say(`NEGOTIATED ${ws.extensions || '-'}`);
  if (!ws.extensions.split(',').includes('permessage-deflate'))
    fail(`permessage-deflate not negotiated (ws.extensions "${ws.extensions}")`);

  let count = 0;
  let bytes = 0;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const s = data.toString('utf8');
      if (s.startsWith('close:')) {
        const [, code, ...reason] = s.split(':');
        ws.close(Number(code), reason.join(':'));
        return;
      }
    }
    say(`MSG ${count} ${isBinary ? 'binary' : 'text'} ${data.length} ${common.sha256(data)}`);
    ++count;
    bytes += data.length;
    ws.send(data, { binary: isBinary }, (err) => {
      if (err)
        fail(`echo of message ${count - 1}: ${err.message}`);
    });
  });
  ws.on('error', (e) => fail(`ws: ${e.code || ''} ${e.message}`));
  ws.on('close', (code, reason) => {
    say(`CLOSED ${code} ${count} ${bytes} ${socket.bytesRead} ${socket.bytesWritten} ${reason.toString('utf8')}`);
    if (expectedCloseCode && code !== expectedCloseCode)
      fail(`close code ${code}, expected ${expectedCloseCode}`);
    wss.close(() => process.exit(errors ? 1 : 0));
  });
});
