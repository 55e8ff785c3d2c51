#!/usr/bin/python3
"""upstream.py - a programmable server for the test "internet" namespace.

Python 3 standard library only.  One thread per listener, one per
connection (bounded), for tests, not for speed.  What it is:

  HTTP/1.1 (optionally TLS) with keep-alive.  Every request gets a JSON
  echo of what arrived: request line, headers in order (duplicates kept),
  body length and sha256 (Content-Length or chunked uploads, hashed while
  streaming, never stored), TLS SNI and ALPN, connection id and request
  number on that connection.  `Expect: 100-continue` is honoured.
  Special paths:
      /status/NNN        answer with status NNN (the echo as body)
      /bytes/N[?chunked] N deterministic bytes (byte i = i % 251)
      /delay/MS          wait MS milliseconds (at most 30000) first
      /close             answer, then close the connection
      /idle-close        answer as keep-alive, close it 200 ms later
      /answer-first      answer first, then read (and drop) the body
      /conn-cl           answer with "Connection: Content-Length"
      /drip/N/MS         N lines "tick I", chunked, one every MS ms (a stream)
      /te/gzip-chunked   1000 /bytes/ gzipped, Transfer-Encoding: gzip, chunked
      /te/gzip           the same, Transfer-Encoding: gzip, until close
      any + Upgrade: websocket   RFC 6455 handshake, then echo every
                         data frame back; ping -> pong; close -> close
                         (/other-proto: the 101 says Upgrade: h2c)
  --tcp ADDR:PORT        plain TCP: send "SSH-2.0-gwtest\\r\\n", echo bytes
  --udp ADDR:PORT        echo datagrams
  --transparent          IP_TRANSPARENT listeners that also report each
                         connection's local address and SO_ORIGINAL_DST:
                         a stand-in for a capturing proxy (harness tests)

Every request, WebSocket message, TCP connection and datagram is written
as one JSON line to --log, flushed at once, so tests can check what
upstream really received (and that it received nothing).  Malformed HTTP
gets a 400 and a log line with "error".
"""

import argparse
import base64
import gzip
import hashlib
import json
import socket
import ssl
import struct
import sys
import threading
import time

MAX_HEAD = 64 * 1024
MAX_WS_FRAME = 16 * 1024 * 1024
MAX_CONNS = 2000
IO_TIMEOUT = 60
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_conn_ids = iter(range(1, 1 << 62))
_conn_sem = threading.BoundedSemaphore(MAX_CONNS)
_tls_sni = threading.local()


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8") if path else None

    def write(self, **rec):
        rec["time"] = round(time.time(), 3)
        line = json.dumps(rec, sort_keys=True) + "\n"
        if self.f is None:
            return
        with self.lock:
            self.f.write(line)
            self.f.flush()


class BadRequest(Exception):
    pass


class Stream:
    """Buffered reads over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def until(self, delim, limit):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise BadRequest("line or head too long")
            start = max(0, len(self.buf) - len(delim) + 1)
            self.fill()

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def hash_n(self, n, h):
        """Consume n bytes into hash h without keeping them."""
        while n > 0:
            if not self.buf:
                self.fill()
            take = min(n, len(self.buf))
            h.update(self.buf[:take])
            del self.buf[:take]
            n -= take


def parse_head(raw):
    text = raw.decode("latin-1")
    lines = text[:-4].split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("bad request line %r" % lines[0][:100])
    headers = []
    for ln in lines[1:]:
        name, sep, value = ln.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line %r" % ln[:100])
        headers.append([name, value.strip(" \t")])
    return parts[0], parts[1], parts[2], headers


def hget(headers, name):
    name = name.lower()
    return [v for n, v in headers if n.lower() == name]


def read_body(st, headers, h):
    """Hash the request body; return its length."""
    te = hget(headers, "transfer-encoding")
    cl = hget(headers, "content-length")
    if te:
        codings = [c.strip().lower() for c in ",".join(te).split(",") if c.strip()]
        if codings[-1:] != ["chunked"]:
            raise BadRequest("unsupported transfer-encoding")
        total = 0
        while True:
            line = st.until(b"\r\n", 1024).decode("latin-1")
            size = int(line.split(";")[0].strip(), 16)
            if size == 0:
                while st.until(b"\r\n", MAX_HEAD) != b"\r\n":
                    pass
                return total
            st.hash_n(size, h)
            total += size
            if st.exact(2) != b"\r\n":
                raise BadRequest("bad chunk end")
    if cl:
        if len(set(cl)) != 1 or not cl[0].isdigit():
            raise BadRequest("bad content-length")
        n = int(cl[0])
        st.hash_n(n, h)
        return n
    return 0


def send_response(sock, status, body, headers=(), chunked=False, head=False):
    reason = {101: "Switching Protocols", 200: "OK", 400: "Bad Request"}
    lines = ["HTTP/1.1 %d %s" % (status, reason.get(status, "Status"))]
    lines += ["%s: %s" % kv for kv in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append("Content-Length: %d" % len(body))
    out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if head:
        sock.sendall(out)
    elif chunked:
        sock.sendall(out)
        for i in range(0, len(body), 16384):
            part = body[i:i + 16384]
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sock.sendall(b"0\r\n\r\n")
    else:
        sock.sendall(out + body)


def ws_recv(st):
    b0, b1 = st.exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", st.exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", st.exact(8))[0]
    if n > MAX_WS_FRAME:
        raise BadRequest("websocket frame too large")
    mask = st.exact(4) if b1 & 0x80 else None
    data = bytearray(st.exact(n))
    if mask:
        for i in range(len(data)):
            data[i] ^= mask[i % 4]
    return b0 & 0x80, b0 & 0x0F, bytes(data)


def ws_frame(op, data, fin=True, mask=None):
    n = len(data)
    hdr = bytearray([(0x80 if fin else 0) | op])
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr.append(mbit | n)
    elif n < 65536:
        hdr += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        hdr += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        hdr += mask
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return bytes(hdr) + data


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


class HTTPConn:
    def __init__(self, srv, sock, peer):
        self.srv, self.sock, self.peer = srv, sock, peer
        self.id = next(_conn_ids)
        self.sni = self.alpn = None

    def base(self):
        rec = {"listen": self.srv.name, "tls": self.srv.tls, "sni": self.sni,
               "alpn": self.alpn, "client": "%s:%d" % self.peer[:2],
               "conn": self.id}
        if self.srv.transparent:
            rec["local"], rec["orig_dst"] = self.dst
        return rec

    def run(self):
        sock = self.sock
        sock.settimeout(IO_TIMEOUT)
        if self.srv.transparent:
            self.dst = original_dst(sock)
        if self.srv.tls:
            _tls_sni.name = None
            sock = self.srv.ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
            try:
                sock.do_handshake()
            except (OSError, ssl.SSLError) as e:
                self.srv.log.write(kind="tls-error", error=str(e), **self.base())
                return
            self.sock = sock
            self.sni = _tls_sni.name
            self.alpn = sock.selected_alpn_protocol()
        st = Stream(sock)
        nreq = 0
        while True:
            try:
                raw = st.until(b"\r\n\r\n", MAX_HEAD)
            except EOFError:
                return
            except BadRequest as e:
                self.bad(str(e), nreq)
                return
            nreq += 1
            try:
                if not self.request(st, raw, nreq):
                    return
            except BadRequest as e:
                self.bad(str(e), nreq)
                return

    def bad(self, why, nreq):
        self.srv.log.write(kind="http", error=why, req=nreq, **self.base())
        try:
            send_response(self.sock, 400, b"bad request\n", [("Connection", "close")])
        except OSError:
            pass

    def request(self, st, raw, nreq):
        method, target, version, headers = parse_head(raw)
        rec = dict(kind="http", req=nreq, method=method, target=target,
                   version=version, headers=headers, **self.base())
        path, _, query = target.partition("?")
        if (hget(headers, "expect") or [""])[0].lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        h = hashlib.sha256()
        # /answer-first answers before it reads the body, as servers that
        # ignore a body do: what the gateway sends next is read as it
        early = path == "/answer-first"
        if not early:
            try:
                rec["body_len"] = read_body(st, headers, h)
            except (EOFError, ValueError, BadRequest) as e:
                # the head arrived: tests must see that it did
                self.srv.log.write(error="body: %s" % (str(e) or "closed"), **rec)
                raise
            rec["body_sha256"] = h.hexdigest()
        upgrade = (hget(headers, "upgrade") or [""])[0].lower()
        if upgrade == "websocket":
            self.srv.log.write(**rec)
            return self.websocket(st, headers, path)
        if path.startswith("/delay/"):
            # tests wait for this line to know a request is in flight
            self.srv.log.write(kind="delay-start", target=target, **self.base())
            time.sleep(min(int(path[7:] or 0), 30000) / 1000.0)
        if path.startswith("/drip/"):
            self.srv.log.write(**rec)
            return self.drip(path[6:])
        if path.startswith("/te/"):
            self.srv.log.write(**rec)
            return self.coded(path[4:], method)
        conn_hdr = ",".join(hget(headers, "connection")).lower()
        close = "close" in conn_hdr or path == "/close" or \
            (version == "HTTP/1.0" and "keep-alive" not in conn_hdr)
        status, chunked = 200, False
        if path.startswith("/status/"):
            status = int(path[8:11])
        if path.startswith("/bytes/"):
            n = min(int(path[7:]), 256 * 1024 * 1024)
            body = bytes(i % 251 for i in range(min(n, 251 * 64))) * (n // (251 * 64) + 1)
            body, chunked = body[:n], "chunked" in query
            ctype = "application/octet-stream"
        else:
            body = (json.dumps(rec, sort_keys=True, indent=1) + "\n").encode()
            ctype = "application/json"
        rec["status"] = status
        self.srv.log.write(**rec)
        hdrs = [("Content-Type", ctype), ("X-Upstream", "upstream.py"),
                ("X-Upstream-Conn", str(self.id)), ("X-Upstream-Req", str(nreq))]
        if close:
            hdrs.append(("Connection", "close"))
        if path == "/conn-cl":
            # names its own framing header hop-by-hop
            hdrs.append(("Connection", "Content-Length"))
        send_response(self.sock, status, body, hdrs, chunked, method == "HEAD")
        if early:
            read_body(st, headers, h)
        if path == "/idle-close":
            # keep-alive promised, then the idle connection is closed, as
            # servers do after their keep-alive timeout
            time.sleep(0.2)
            return False
        return not close

    def drip(self, spec):
        """/drip/N/MS: a chunked body of N lines ("tick I"), one every MS
        milliseconds (N <= 100, MS <= 5000), like a server-sent event
        stream."""
        n, _, ms = spec.partition("/")
        n, ms = min(int(n), 100), min(int(ms or 0), 5000)
        self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n")
        for i in range(n):
            if i:
                time.sleep(ms / 1000.0)
            line = b"tick %d\n" % i
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
        self.sock.sendall(b"0\r\n\r\n")
        return True

    def coded(self, codings, method):
        """/te/gzip-chunked: 1000 bytes of /bytes/ gzipped, then chunked
        (Transfer-Encoding: gzip, chunked), kept alive; /te/gzip: gzipped
        and close-delimited (Transfer-Encoding: gzip)."""
        body = gzip.compress(bytes(i % 251 for i in range(1000)), mtime=0)
        te = codings.replace("-", ", ")
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                "Transfer-Encoding: %s\r\n%s\r\n" %
                (te, "" if te.endswith("chunked") else "Connection: close\r\n"))
        out = head.encode()
        if method != "HEAD":
            out += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) \
                if te.endswith("chunked") else body
        self.sock.sendall(out)
        return te.endswith("chunked")

    def websocket(self, st, headers, path):
        key = (hget(headers, "sec-websocket-key") or [""])[0]
        if not key:
            raise BadRequest("websocket upgrade without a key")
        # /other-proto: a 101 to a protocol the client did not ask for
        proto = "h2c" if path == "/other-proto" else "websocket"
        send_response(self.sock, 101, b"", [
            ("Upgrade", proto), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", ws_accept(key))], head=True)
        while True:
            try:
                fin, op, data = ws_recv(st)
            except EOFError:
                return False
            self.srv.log.write(kind="ws", op=op, fin=bool(fin), len=len(data),
                               sha256=hashlib.sha256(data).hexdigest(),
                               text=data[:200].decode("utf-8", "replace") if op == 1 else None,
                               **self.base())
            if op == 8:
                self.sock.sendall(ws_frame(8, data[:125]))
                return False
            if op == 9:
                self.sock.sendall(ws_frame(10, data))
            elif op in (0, 1, 2):
                self.sock.sendall(ws_frame(op, data, bool(fin)))


class Listener:
    def __init__(self, spec, args, log, kind):
        addr, port, tls = parse_spec(spec)
        self.name, self.tls, self.log, self.kind = spec, tls, log, kind
        self.transparent = args.transparent
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(fam, stype)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if self.transparent:
            if fam == socket.AF_INET:
                self.sock.setsockopt(socket.SOL_IP, 19, 1)       # IP_TRANSPARENT
            else:
                self.sock.setsockopt(socket.IPPROTO_IPV6, 75, 1)  # IPV6_TRANSPARENT
        self.sock.bind((addr, port))
        if kind != "udp":
            self.sock.listen(512)
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            self.ctx.load_cert_chain(args.cert, args.key)
            if args.alpn:
                self.ctx.set_alpn_protocols(args.alpn.split(","))
            self.ctx.sni_callback = sni_seen

    def serve(self):
        if self.kind == "udp":
            while True:
                data, peer = self.sock.recvfrom(65535)
                self.log.write(kind="udp", listen=self.name, client="%s:%d" % peer[:2],
                               len=len(data))
                self.sock.sendto(data, peer)
        while True:
            sock, peer = self.sock.accept()
            if not _conn_sem.acquire(blocking=False):
                sock.close()
                continue
            threading.Thread(target=self.handle, args=(sock, peer), daemon=True).start()

    def handle(self, sock, peer):
        try:
            if self.kind == "tcp":
                self.tcp_echo(sock, peer)
            else:
                HTTPConn(self, sock, peer).run()
        except (OSError, EOFError, ValueError, BadRequest):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass
            _conn_sem.release()

    def tcp_echo(self, sock, peer):
        sock.settimeout(IO_TIMEOUT)
        client = "%s:%d" % peer[:2]
        self.log.write(kind="tcp", event="accept", listen=self.name, client=client)
        sock.sendall(b"SSH-2.0-gwtest\r\n")
        total = 0
        while True:
            data = sock.recv(65536)
            if not data:
                break
            total += len(data)
            sock.sendall(data)
        self.log.write(kind="tcp", event="close", listen=self.name, client=client,
                       bytes=total)


def original_dst(sock):
    """(local address, SO_ORIGINAL_DST) of an accepted socket, as
    "addr:port" strings (None when the lookup fails): under TPROXY the
    local address is the original destination, under nat redirect
    SO_ORIGINAL_DST is."""
    la = sock.getsockname()
    local = "%s:%d" % la[:2]
    try:
        if sock.family == socket.AF_INET:
            raw = sock.getsockopt(socket.SOL_IP, 80, 16)      # SO_ORIGINAL_DST
            port, addr = struct.unpack("!H", raw[2:4])[0], socket.inet_ntop(
                socket.AF_INET, raw[4:8])
        else:
            raw = sock.getsockopt(socket.IPPROTO_IPV6, 80, 28)  # IP6T_SO_ORIGINAL_DST
            port, addr = struct.unpack("!H", raw[2:4])[0], socket.inet_ntop(
                socket.AF_INET6, raw[8:24])
        return local, "%s:%d" % (addr, port)
    except OSError:
        return local, None


def sni_seen(sslobj, name, ctx):
    _tls_sni.name = name


def parse_spec(spec):
    """ADDR:PORT[:tls] with ADDR an IPv4 address or [IPv6]."""
    tls = spec.endswith(":tls")
    if tls:
        spec = spec[:-4]
    if spec.startswith("["):
        addr, _, port = spec[1:].partition("]:")
    else:
        addr, _, port = spec.rpartition(":")
    return addr, int(port), tls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", action="append", default=[],
                    help="HTTP listener ADDR:PORT[:tls] (repeatable)")
    ap.add_argument("--tcp", action="append", default=[], help="TCP banner+echo ADDR:PORT")
    ap.add_argument("--udp", action="append", default=[], help="UDP echo ADDR:PORT")
    ap.add_argument("--cert", help="PEM certificate chain for :tls listeners")
    ap.add_argument("--key", help="PEM key for :tls listeners")
    ap.add_argument("--alpn", default="http/1.1", help="ALPN protocols offered ('' = none)")
    ap.add_argument("--log", help="JSON-lines log of everything received")
    ap.add_argument("--transparent", action="store_true",
                    help="IP_TRANSPARENT listeners; log each connection's local "
                    "address and SO_ORIGINAL_DST (a stand-in for a capturing proxy)")
    args = ap.parse_args()
    log = Log(args.log)
    ls = [Listener(s, args, log, "http") for s in args.listen]
    ls += [Listener(s, args, log, "tcp") for s in args.tcp]
    ls += [Listener(s, args, log, "udp") for s in args.udp]
    if not ls:
        ap.error("nothing to listen on")
    for lst in ls[1:]:
        threading.Thread(target=lst.serve, daemon=True).start()
    print("upstream.py: listening on %s" % " ".join(x.name for x in ls), flush=True)
    ls[0].serve()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
