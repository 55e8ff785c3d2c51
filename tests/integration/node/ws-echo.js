// ws-echo.js URL [--cafile F] [--msg TEXT]... - Node's `ws` package as the
// guest's WebSocket client (the one most JavaScript agents and SDKs use):
// it checks the 101's Upgrade, Connection and Sec-WebSocket-Accept.
// Sends each message, reads its echo; prints JSON {status, echoes} or
// {error}; exits 0 only if every echo matches.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const argv = process.argv.slice(2);
const url = argv.shift();
const msgs = [];
let cafile = null;
while (argv.length) {
  const a = argv.shift();
  if (a === '--msg') msgs.push(argv.shift());
  else if (a === '--cafile') cafile = argv.shift();
  else { console.error('ws-echo.js: unknown argument ' + a); process.exit(2); }
}

function done(out, rc) {
  console.log(JSON.stringify(out));
  process.exit(rc);
}

setTimeout(() => done({ error: 'timeout' }, 1), 10000).unref();
const opts = { perMessageDeflate: false, handshakeTimeout: 5000 };
if (cafile) opts.ca = fs.readFileSync(cafile);
const ws = new WebSocket(url, opts);
const echoes = [];
ws.on('error', (e) => done({ error: String(e && e.message) }, 1));
ws.on('open', () => { if (msgs.length) ws.send(msgs[0]); else ws.close(); });
ws.on('message', (data) => {
  echoes.push(data.toString());
  if (echoes.length < msgs.length) ws.send(msgs[echoes.length]);
  else ws.close();
});
ws.on('close', () => {
  const ok = JSON.stringify(echoes) === JSON.stringify(msgs);
  done({ status: 101, echoes: echoes }, ok ? 0 : 1);
});
