#!/usr/bin/python3
"""client.py - test clients for a guest namespace (Python stdlib only).

No proxy settings are read, ever: connections go straight to the
destination, as an agent in a VM does, and the gateway captures them.
Certificates are verified against --cafile only (the group CA).

Every command takes --cafile F, --alpn LIST, --timeout S after its name.

  get URL [--n N] [--method M] [--data S] [--header 'K: V']...
        N requests on ONE keep-alive connection (http.client); prints one
        JSON line per response: status, length, sha256, some headers.
  ws URL [--msg TEXT]...
        WebSocket (ws:// or wss://): upgrade, send each message (masked),
        read the echo; prints JSON {status, echoes}; exit 1 on mismatch.
  raw HOST PORT [--tls] [--sni NAME]
        send stdin as is (e.g. a smuggling attempt), print what comes back
        until the peer closes or --timeout; exit 0 either way (with
        --expect-close: 3 if the peer did not close in time).
  tls-split HOST PORT --sni NAME [--split N] [--delay S] [--path P]
        TLS whose ClientHello is written in pieces of N bytes, each its own
        TCP segment (TCP_NODELAY + delay), then GET P; prints the status
        line and the issuer of the certificate the server showed.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys
import time
import urllib.parse


def tls_ctx(args):
    ctx = ssl.create_default_context(cafile=args.cafile) if args.cafile \
        else ssl.create_default_context()
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    return ctx


def cmd_get(args):
    u = urllib.parse.urlsplit(args.url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    kw = {"context": tls_ctx(args)} if u.scheme == "https" else {}
    conn = cls(u.hostname, u.port, timeout=args.timeout, **kw)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    hdrs = dict(h.split(":", 1) for h in args.header)
    hdrs = {k.strip(): v.strip() for k, v in hdrs.items()}
    rc = 0
    for i in range(args.n):
        body = args.data.encode() if args.data is not None else None
        conn.request(args.method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        print(json.dumps({"i": i + 1, "status": r.status, "len": len(data),
                          "sha256": hashlib.sha256(data).hexdigest(),
                          "upstream_conn": r.getheader("X-Upstream-Conn"),
                          "body": data[:300].decode("utf-8", "replace")}), flush=True)
        if r.status >= 400:
            rc = 1
    conn.close()
    return rc


def connect(host, port, args, sni=None):
    s = socket.create_connection((host, port), timeout=args.timeout)
    if getattr(args, "tls", False):
        s = tls_ctx(args).wrap_socket(s, server_hostname=sni or host)
    return s


def recv_until(s, delim, limit=65536):
    buf = b""
    while delim not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
        if len(buf) > limit:
            break
    return buf


def cmd_ws(args):
    sys.dont_write_bytecode = True  # nothing written into the source tree
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from upstream import ws_accept, ws_frame  # same framing code, both ends
    u = urllib.parse.urlsplit(args.url)
    args.tls = u.scheme == "wss"
    port = u.port or (443 if args.tls else 80)
    s = connect(u.hostname, port, args)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (u.path or "/", u.netloc, key))
    s.sendall(req.encode())
    head = recv_until(s, b"\r\n\r\n")
    hdr, _, rest = head.partition(b"\r\n\r\n")
    status = int(hdr.split(b" ")[1]) if hdr.startswith(b"HTTP/") else 0
    out = {"status": status, "echoes": []}
    ok = status == 101 and ws_accept(key).encode() in hdr
    buf = bytearray(rest)
    for m in (args.msg if ok else []):
        s.sendall(ws_frame(1, m.encode(), mask=os.urandom(4)))
        while True:
            if len(buf) >= 2:
                n = buf[1] & 0x7F
                off = 2 + (2 if n == 126 else 8 if n == 127 else 0)
                if len(buf) >= off:
                    if n == 126:
                        n = int.from_bytes(buf[2:4], "big")
                    elif n == 127:
                        n = int.from_bytes(buf[2:10], "big")
                    if len(buf) >= off + n:
                        data = bytes(buf[off:off + n])
                        del buf[:off + n]
                        break
            d = s.recv(65536)
            if not d:
                data = None
                break
            buf += d
        out["echoes"].append(data.decode("utf-8", "replace") if data is not None else None)
        ok = ok and data == m.encode()
    print(json.dumps(out), flush=True)
    return 0 if ok else 1


def cmd_raw(args):
    data = sys.stdin.buffer.read()
    s = connect(args.host, args.port, args, args.sni)
    s.sendall(data)
    try:
        s.shutdown(socket.SHUT_WR) if args.half_close else None
    except OSError:
        pass
    out = b""
    end = time.time() + args.timeout
    s.settimeout(0.5)
    closed = False
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            break
        if not d:
            closed = True
            break
        out += d
    sys.stdout.buffer.write(out)
    return 3 if args.expect_close and not closed else 0


def cmd_tls_split(args):
    ctx = tls_ctx(args)
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=args.sni)
    first = True
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = outg.read()
        if data and first:
            # the ClientHello: one small segment at a time
            for i in range(0, len(data), args.split):
                raw.sendall(data[i:i + args.split])
                time.sleep(args.delay)
            first = False
        elif data:
            raw.sendall(data)
        if done:
            break
        d = raw.recv(65536)
        if not d:
            print("closed during handshake", file=sys.stderr)
            return 1
        inc.write(d)
    cert = obj.getpeercert()
    issuer = dict(x[0] for x in cert.get("issuer", ()))
    obj.write(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (args.path, args.sni)).encode())
    raw.sendall(outg.read())
    resp = b""
    while b"\r\n" not in resp:
        try:
            resp += obj.read(65536)
        except ssl.SSLWantReadError:
            d = raw.recv(65536)
            if not d:
                break
            inc.write(d)
    print(json.dumps({"status_line": resp.split(b"\r\n")[0].decode("latin-1"),
                      "issuer_cn": issuer.get("commonName"),
                      "hello_bytes_split": args.split}), flush=True)
    return 0


def main():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cafile", help="the only CA trusted (default: system store)")
    common.add_argument("--alpn", default="", help="ALPN protocols offered, comma-separated")
    common.add_argument("--timeout", type=float, default=10.0)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("get", parents=[common])
    p.add_argument("url")
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--method", default="GET")
    p.add_argument("--data")
    p.add_argument("--header", action="append", default=[])
    p = sub.add_parser("ws", parents=[common])
    p.add_argument("url")
    p.add_argument("--msg", action="append", default=[])
    p = sub.add_parser("raw", parents=[common])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--sni")
    p.add_argument("--half-close", action="store_true")
    p.add_argument("--expect-close", action="store_true")
    p = sub.add_parser("tls-split", parents=[common])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--sni", required=True)
    p.add_argument("--split", type=int, default=100)
    p.add_argument("--delay", type=float, default=0.02)
    p.add_argument("--path", default="/")
    args = ap.parse_args()
    fn = {"get": cmd_get, "ws": cmd_ws, "raw": cmd_raw, "tls-split": cmd_tls_split}
    try:
        return fn[args.cmd](args)
    except (OSError, ssl.SSLError, http.client.HTTPException) as e:
        print("client.py %s: %s: %s" % (args.cmd, type(e).__name__, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
