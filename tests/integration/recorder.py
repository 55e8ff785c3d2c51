#!/usr/bin/python3
"""recorder.py - an upstream that writes down every request it receives,
as an independent, strict HTTP/1.1 parser (h11) sees it.

The differential test (t-differential.sh) puts it behind gatewayd and
joins its log with the gateway's audit log (diffcheck.py): whatever the
gateway's own parser believed, this is what a strict origin server took
the bytes for.

  --listen ADDR:PORT[:tls]   one listener (repeatable); :tls serves TLS
                             with --cert/--key (the test PKI's echo.*)
  --secret-env NAME          environment variable holding the real
                             credential value to look for
  --log FILE                 JSON lines, one per request (or parse error)

One thread per connection.  Each request is answered with a small 200
(Content-Length framed) once its body has ended, and the connection is
kept alive as far as h11 allows.  Two behaviours a test may ask for by
request header: "X-Recorder: early" answers as soon as the head is in
(servers may; it is what lets a gateway that mis-frames a body move on
to the next request), and Expect: 100-continue gets a 100 first.  An
Upgrade is always declined (a 200): the point is to see what arrives as
HTTP.

A record: conn (id), seq (n-th request on it), peer ("addr:port" of the
gateway's upstream socket), tls, sni, method, target, host (Host header,
as sent), version, body_len, complete (the body ended as framed), secret
(the value appears anywhere in this request's bytes: head, body or
trailers), and error (h11's complaint) when the bytes were not a valid
request; a record with an error may have no method (the head itself was
bad), and then secret tells whether the bytes h11 rejected held it.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time

import h11

IO_TIMEOUT = 15
MAX_CONNS = 1000
MAX_RAW = 4 * 1024 * 1024	# bytes of one request kept for the search

_ids = iter(range(1, 1 << 62))
_ids_lock = threading.Lock()
_sem = threading.BoundedSemaphore(MAX_CONNS)


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8")

    def write(self, rec):
        rec["time"] = round(time.time(), 3)
        line = json.dumps(rec, sort_keys=True) + "\n"
        with self.lock:
            self.f.write(line)
            self.f.flush()


def text(b):
    return b.decode("latin-1") if isinstance(b, (bytes, bytearray)) else b


class Session:
    """One connection: feed bytes to h11, one record per request."""

    def __init__(self, sock, log, secret, meta):
        self.sock = sock
        self.log = log
        self.secret = secret
        self.meta = meta
        self.h = h11.Connection(h11.SERVER, max_incomplete_event_size=65536)
        self.seq = 0
        self.raw = bytearray()	# this request's bytes (and any that follow)
        self.rec = None
        self.answered = False

    def send(self, ev):
        data = self.h.send(ev)
        if data:
            self.sock.sendall(data)

    def answer(self):
        if self.answered:
            return
        self.answered = True
        body = b"recorded %d\n" % self.seq
        self.send(h11.Response(status_code=200, headers=[
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("X-Recorder-Seq", str(self.seq))]))
        self.send(h11.Data(data=body))
        self.send(h11.EndOfMessage())

    def own_bytes(self):
        """This request's bytes: what h11 has not kept for the next."""
        left = len(self.h.trailing_data[0])
        return bytes(self.raw[:len(self.raw) - left] if left else self.raw)

    def emit(self, error=None):
        rec = self.rec if self.rec is not None else dict(self.meta,
            seq=self.seq + 1)
        if self.rec is None:
            self.seq += 1
        data = bytes(self.raw) if error else self.own_bytes()
        rec["secret"] = bool(self.secret) and self.secret in data
        if error is not None:
            # h11 quotes the bytes it choked on: never the value itself
            err = str(error)
            if self.secret:
                err = err.replace(self.secret.decode("latin-1"), "<SECRET>")
            rec["error"] = err[:200]
            if "method" not in rec:
                # the value itself never goes in the log
                raw = data[:160]
                if self.secret:
                    raw = raw.replace(self.secret, b"<SECRET>")
                rec["raw"] = text(raw)
        self.log.write(rec)
        self.rec = None
        if error is None:
            # keep what belongs to the next request
            left = len(self.h.trailing_data[0])
            del self.raw[:len(self.raw) - left]

    def on_request(self, ev):
        self.seq += 1
        self.answered = False
        host = None
        early = False
        for name, value in ev.headers:
            if name == b"host":
                host = text(value)
            elif name == b"x-recorder" and value.lower() == b"early":
                early = True
        self.rec = dict(self.meta, seq=self.seq, method=text(ev.method),
                        target=text(ev.target), host=host,
                        version=text(ev.http_version), body_len=0,
                        complete=False)
        if self.h.they_are_waiting_for_100_continue:
            self.send(h11.InformationalResponse(status_code=100, headers=[]))
        if early:
            self.answer()

    def step(self):
        """Handle the events h11 has; False when the connection is done."""
        while True:
            ev = self.h.next_event()
            if ev is h11.NEED_DATA:
                return True
            if isinstance(ev, h11.Request):
                self.on_request(ev)
            elif isinstance(ev, h11.Data):
                self.rec["body_len"] += len(ev.data)
            elif isinstance(ev, h11.EndOfMessage):
                self.rec["complete"] = True
                self.answer()
                self.emit()
            elif isinstance(ev, h11.ConnectionClosed):
                return False
            if self.h.our_state is h11.MUST_CLOSE:
                return False
            if (self.h.our_state is h11.DONE and
                    self.h.their_state is h11.DONE):
                self.h.start_next_cycle()
            elif self.h.their_state is h11.MIGHT_SWITCH_PROTOCOL:
                pass	# declined by the 200 already sent

    def run(self):
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except (socket.timeout, OSError, ssl.SSLError):
                    data = b""
                if len(self.raw) < MAX_RAW:
                    self.raw += data
                self.h.receive_data(data)
                if not self.step():
                    break
                if not data:
                    break
        except h11.RemoteProtocolError as e:
            self.emit(error=e)
            try:
                if self.h.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                                      b"Content-Length: 0\r\n"
                                      b"Connection: close\r\n\r\n")
            except OSError:
                pass
            return
        except (h11.LocalProtocolError, OSError, ssl.SSLError) as e:
            if self.rec is not None:
                self.emit(error="local: %s" % e)
            return
        if self.rec is not None:
            self.emit(error="connection closed in the middle of a request")
        elif self.h.trailing_data[0]:
            self.emit(error="connection closed after a partial head")


def serve_conn(sock, peer, tls_ctx, log, secret):
    try:
        with _ids_lock:
            cid = next(_ids)
        sock.settimeout(IO_TIMEOUT)
        meta = {"conn": cid, "peer": "%s:%d" % peer[:2],
                "tls": tls_ctx is not None}
        if tls_ctx is not None:
            try:
                sock = tls_ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log.write(dict(meta, error="tls: %s" % e, secret=False))
                return
            meta["sni"] = getattr(sock, "sni_name", None)
        Session(sock, log, secret, meta).run()
    finally:
        try:
            sock.close()
        except OSError:
            pass
        _sem.release()


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])

    def on_sni(s, name, _ctx):
        s.sni_name = name
    ctx.sni_callback = on_sni
    return ctx


def listen(spec, cert, key, log, secret):
    parts = spec.rsplit(":", 2) if spec.endswith(":tls") else \
        spec.rsplit(":", 1) + [""]
    addr, port, tls = parts[0], int(parts[1]), parts[2] == "tls"
    addr = addr.strip("[]")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(512)
    ctx = tls_context(cert, key) if tls else None

    def loop():
        while True:
            s, peer = ls.accept()
            _sem.acquire()
            threading.Thread(target=serve_conn, daemon=True,
                             args=(s, peer, ctx, log, secret)).start()
    threading.Thread(target=loop, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", action="append", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--secret-env", default="")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    log = Log(a.log)
    secret = os.environ.get(a.secret_env, "") if a.secret_env else ""
    for spec in a.listen:
        listen(spec, a.cert, a.key, log, secret.encode())
    print("recorder: listening on %s" % " ".join(a.listen), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
