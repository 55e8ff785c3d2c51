// ws-server.js --listen ADDR:PORT[:tls]... [--cert F --key F] --log FILE
// A WebSocket echo server for the internet namespace: Node's http/https
// (llhttp, a strict HTTP/1.1 parser) with the `ws` package's server, an
// implementation independent of the gateway's and of upstream.py's.
// Every message is echoed as it came (text as text, binary as binary); the
// text "close:CODE" makes the server close with CODE and reason
// "server bye".  It records, one JSON object a line in FILE: each upgrade
// request as received (method, target, Host, Upgrade, Connection, version,
// TLS or not), each message (kind, length, sha256), each ping, and each
// close with the code and reason the peer sent.  A request that is not an
// upgrade gets 426.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const argv = process.argv.slice(2);
const listens = [];
let cert = null, key = null, logFile = null;
while (argv.length) {
  const a = argv.shift();
  if (a === '--listen') listens.push(argv.shift());
  else if (a === '--cert') cert = argv.shift();
  else if (a === '--key') key = argv.shift();
  else if (a === '--log') logFile = argv.shift();
  else { console.error('ws-server.js: unknown argument ' + a); process.exit(2); }
}
if (!logFile || !listens.length) {
  console.error('usage: ws-server.js --listen ADDR:PORT[:tls]... --log FILE');
  process.exit(2);
}
const log = fs.openSync(logFile, 'a');
function record(rec) {
  fs.writeSync(log, JSON.stringify(Object.assign({ t: Date.now() }, rec)) + '\n');
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false,
  maxPayload: 4 << 20 });

function serve(ws, target) {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    record({ event: 'message', target, binary: isBinary, len: data.length,
      sha256: crypto.createHash('sha256').update(data).digest('hex') });
    const m = text && /^close:(\d+)$/.exec(text);
    if (m) ws.close(Number(m[1]), 'server bye');
    else ws.send(data, { binary: isBinary });
  });
  ws.on('ping', (data) => record({ event: 'ping', target, data: data.toString() }));
  ws.on('close', (code, reason) =>
    record({ event: 'close', target, code, reason: reason.toString() }));
  ws.on('error', (e) => record({ event: 'error', target, error: String(e.message) }));
}

function onUpgrade(tls) {
  return (req, socket, head) => {
    record({ event: 'upgrade', tls, method: req.method, target: req.url,
      host: req.headers.host || null, upgrade: req.headers.upgrade || null,
      connection: req.headers.connection || null,
      version: req.headers['sec-websocket-version'] || null,
      http: req.httpVersion, client: socket.remoteAddress });
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req.url));
  };
}

function notUpgrade(req, res) {
  record({ event: 'request', method: req.method, target: req.url,
    host: req.headers.host || null });
  res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('WebSocket only\n');
}

let pending = listens.length;
for (const l of listens) {
  const m = /^\[?([^\]]+?)\]?:(\d+)(:tls)?$/.exec(l);
  if (!m) { console.error('ws-server.js: bad --listen ' + l); process.exit(2); }
  const tls = Boolean(m[3]);
  const srv = tls ?
    https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, notUpgrade) :
    http.createServer(notUpgrade);
  srv.on('upgrade', onUpgrade(tls));
  srv.listen(Number(m[2]), m[1], () => {
    if (--pending === 0) console.log('listening');
  });
}
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
