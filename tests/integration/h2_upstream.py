#!/usr/bin/python3
"""h2_upstream.py - an HTTP/2 origin for the test "internet" (python3-h2).

TLS only, one thread per connection.  ALPN offers only what --alpn says
("h2", or "h2,http/1.1"); a connection that did not select h2 is closed
after its handshake (this server speaks h2 alone), and logged so.

Every request is one JSON line in --log, flushed at once: connection id,
stream id, ALPN, SNI, the header list as received (pseudo-headers
included, in order), body length and sha256.  Paths:
    /bytes/N         N deterministic bytes (byte i = i % 251)
    /upload          {"len": N, "sha256": ...} of the request body
    /trailers        a body "ok\\n", then trailers grpc-status: 0 and
                     x-trailer: yes
    /status/NNN      status NNN
    /slow/MS         wait MS milliseconds (at most 30000), then answer
    anything else    a JSON echo of the request headers
Flow control is honoured both ways (bodies are sent as the window allows).
"""

import argparse
import hashlib
import json
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

_ids = iter(range(1, 1 << 62))
_log_lock = threading.Lock()


def log_line(path, obj):
    with _log_lock, open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
        f.flush()


def det_bytes(n):
    block = bytes(i % 251 for i in range(251 * 64))
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


class Conn:
    def __init__(self, sock, args, cid):
        self.sock = sock
        self.args = args
        self.cid = cid
        cfg = h2.config.H2Configuration(client_side=False,
                                        header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.streams = {}      # id -> dict(headers, hash, len)
        self.pending = {}      # id -> [data, trailers]
        self.lock = threading.Lock()

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def respond(self, sid, status, body, ctype="application/json",
                trailers=None):
        hdrs = [(":status", str(status)), ("content-type", ctype),
                ("x-test-site", "h2")]
        if trailers is None:
            hdrs.append(("content-length", str(len(body))))
        self.h2.send_headers(sid, hdrs, end_stream=False)
        self.pending[sid] = [body, trailers]
        self.pump()

    def pump(self):
        for sid in list(self.pending):
            body, trailers = self.pending[sid]
            while body:
                try:
                    win = min(self.h2.local_flow_control_window(sid),
                              self.h2.max_outbound_frame_size)
                except Exception:
                    del self.pending[sid]
                    break
                if win <= 0:
                    break
                self.h2.send_data(sid, body[:win])
                body = body[win:]
                self.pending[sid][0] = body
            if sid in self.pending and not body:
                if trailers:
                    self.h2.send_headers(sid, trailers, end_stream=True)
                else:
                    self.h2.end_stream(sid)
                del self.pending[sid]
        self.flush()

    def finish(self, sid):
        st = self.streams[sid]
        hdrs = [(k.decode("latin-1"), v.decode("latin-1"))
                for k, v in st["headers"]]
        rec = {"conn": self.cid, "stream": sid, "alpn": "h2",
               "sni": getattr(self.sock, "sni", None), "headers": hdrs,
               "body_len": st["len"], "body_sha256": st["hash"].hexdigest()}
        log_line(self.args.log, rec)
        path = dict(hdrs).get(":path", "/")
        if path.startswith("/bytes/"):
            self.respond(sid, 200, det_bytes(int(path[7:].split("?")[0])),
                         "application/octet-stream")
        elif path == "/upload":
            self.respond(sid, 200, json.dumps(
                {"len": st["len"], "sha256": st["hash"].hexdigest()}
            ).encode())
        elif path == "/trailers":
            self.respond(sid, 200, b"ok\n", "text/plain",
                         [("grpc-status", "0"), ("x-trailer", "yes")])
        elif path.startswith("/status/"):
            self.respond(sid, int(path[8:11]), json.dumps(rec).encode())
        elif path.startswith("/slow/"):
            ms = min(int(path[6:]), 30000)

            def later():
                time.sleep(ms / 1000)
                with self.lock:
                    self.respond(sid, 200, b"slow\n", "text/plain")
            threading.Thread(target=later, daemon=True).start()
        else:
            self.respond(sid, 200, json.dumps(rec).encode())

    def run(self):
        self.h2.initiate_connection()
        self.flush()
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            with self.lock:
                for ev in self.h2.receive_data(data):
                    self.event(ev)
                self.flush()

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.streams[ev.stream_id] = {"headers": ev.headers,
                                          "hash": hashlib.sha256(), "len": 0}
            if ev.stream_ended:
                self.streams[ev.stream_id]["done"] = True
                self.finish(ev.stream_id)
        elif isinstance(ev, h2.events.DataReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st["hash"].update(ev.data)
                st["len"] += len(ev.data)
            self.h2.acknowledge_received_data(ev.flow_controlled_length,
                                              ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            if ev.stream_id in self.streams and \
                    self.streams[ev.stream_id].get("done") is None:
                self.streams[ev.stream_id]["done"] = True
                self.finish(ev.stream_id)
        elif isinstance(ev, h2.events.WindowUpdated):
            self.pump()
        elif isinstance(ev, h2.events.StreamReset):
            self.pending.pop(ev.stream_id, None)


def serve_conn(raw, ctx, args):
    cid = next(_ids)
    raw.settimeout(60)
    try:
        sock = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log_line(args.log, {"conn": cid, "error": "tls: %s" % e})
        raw.close()
        return
    alpn = sock.selected_alpn_protocol()
    if alpn != "h2":
        log_line(args.log, {"conn": cid, "alpn": alpn,
                            "error": "not h2"})
        sock.close()
        return
    try:
        Conn(sock, args, cid).run()
    except Exception as e:  # a test server: log and drop the connection
        log_line(args.log, {"conn": cid, "error": repr(e)})
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", required=True,
                    help="ADDR:PORT")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--alpn", default="h2")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(args.alpn.split(","))

    def on_sni(sock, name, _ctx):
        sock.sni = name
    ctx.sni_callback = on_sni
    socks = []
    for spec in args.listen:
        addr, port = spec.rsplit(":", 1)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr.strip("[]"), int(port)))
        s.listen(256)
        socks.append(s)

    def accept_loop(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve_conn, args=(c, ctx, args),
                             daemon=True).start()
    for s in socks[1:]:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    accept_loop(socks[0])


if __name__ == "__main__":
    sys.exit(main())
