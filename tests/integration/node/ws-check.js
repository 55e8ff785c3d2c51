// ws-check.js URL [--cafile F] - Node's `ws` package (the WebSocket client
// most JavaScript agents and SDKs use; it checks the 101's Upgrade,
// Connection and Sec-WebSocket-Accept) through the gateway, against
// ws-server.js.  Two connections:
//   URL: a text and a binary message echoed, a 200 KiB binary message (a
//   64-bit frame length) echoed intact, a ping answered by its pong, then
//   "close:4002": the server's close code and reason must arrive;
//   URL + "-close": the client closes with 4001 "client bye" (the server's
//   log must show it).
// Prints JSON with each outcome; exits 0 only if all of them are right.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const WebSocket = require('ws');

const argv = process.argv.slice(2);
const url = argv.shift();
let cafile = null;
while (argv.length) {
  const a = argv.shift();
  if (a === '--cafile') cafile = argv.shift();
  else { console.error('ws-check.js: unknown argument ' + a); process.exit(2); }
}
const out = {};
function done(rc) {
  console.log(JSON.stringify(out));
  process.exit(rc);
}
setTimeout(() => { out.error = 'timeout'; done(1); }, 20000).unref();

function open(u) {
  const opts = { perMessageDeflate: false, handshakeTimeout: 5000, maxPayload: 4 << 20 };
  if (cafile) opts.ca = fs.readFileSync(cafile);
  const ws = new WebSocket(u, opts);
  ws.on('error', (e) => { out.error = String(e && e.message); done(1); });
  return ws;
}

// The steps of the first connection, each waiting for its answer.
const big = crypto.randomBytes(200 * 1024);
const bin = Buffer.from([...Array(256).keys()]);
const steps = [
  { name: 'text', send: (ws) => ws.send('hello ünïcode'),
    check: (d, b) => !b && d.toString() === 'hello ünïcode' },
  { name: 'binary', send: (ws) => ws.send(bin),
    check: (d, b) => b && d.equals(bin) },
  { name: 'big', send: (ws) => ws.send(big),
    check: (d, b) => b && d.length === big.length && d.equals(big) },
];

function first() {
  const ws = open(url);
  let i = 0;
  ws.on('upgrade', (res) => { out.status = res.statusCode; });
  ws.on('open', () => steps[0].send(ws));
  ws.on('message', (data, isBinary) => {
    out[steps[i].name] = steps[i].check(data, isBinary);
    if (++i < steps.length) { steps[i].send(ws); return; }
    ws.ping('p1');
  });
  ws.on('pong', (data) => {
    out.pong = data.toString() === 'p1';
    ws.send('close:4002');
  });
  ws.on('close', (code, reason) => {
    out.server_close = code;
    out.server_reason = reason.toString();
    second();
  });
}

function second() {
  const ws = open(url + '-close');
  ws.on('open', () => ws.close(4001, 'client bye'));
  ws.on('close', (code) => {
    out.client_close = code;
    const ok = out.status === 101 && out.text && out.binary && out.big &&
      out.pong && out.server_close === 4002 &&
      out.server_reason === 'server bye' && code === 4001;
    done(ok ? 0 : 1);
  });
}

first();
