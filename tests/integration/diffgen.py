#!/usr/bin/python3
"""diffgen.py - the request generator of the differential test.

Run in a guest namespace with no proxy settings: it opens raw TCP (and
TLS, trusting --ca) connections to the upstream's address, which the
gateway's capture rules redirect to gatewayd, and sends heads and bodies
mutated around the known request-smuggling vectors.  Every request it
means to send has a unique target (/d/<run>.<conn>.<k>, under /s/ when it
is meant for the secret rule's path); bytes that are a request only if
some parser mis-frames a body carry a "hidden" target (/h/...).  Then
diffcheck.py can tell, from the upstream's log and the gateway's audit
log, whether anything reached the upstream that the gateway did not judge
and log, and whether a secret went where no rule matched.

Seeded and bounded: --seed, --count (requests at most), --time (seconds
at most, new connections stop then), --conns (in parallel), --idle
(seconds a connection waits for the next response byte).  --vectors (or
the environment variable DIFF_VECTORS) picks vectors by name, comma
separated; the default is every vector.  --out gets one JSON line per
connection (what was sent, what came back); --corpus DIR gets the first
write of one connection per vector variant (seeds for fuzz_headrw).

Prints one summary line: sent, hidden, connections, refused (responses
the gateway made itself: they carry X-Gateway-Reason), timeouts, errors.
"""

import argparse
import hashlib
import json
import os
import random
import socket
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

CRLF = b"\r\n"
CONN_DEADLINE = 8.0	# seconds one connection may take at the most


class Plan:
    """One connection: what to write, when to wait, what it holds."""

    def __init__(self, g, vector, variant):
        self.g = g
        self.vector = vector
        self.variant = variant
        self.steps = []		# ("send", bytes) | ("expect", n) | ("wait100",)
        self.ids = []		# targets of the requests meant to be sent
        self.hidden = []	# targets that are requests only if mis-framed

    def send(self, data):
        self.steps.append(("send", bytes(data)))

    def expect(self, n=1):
        self.steps.append(("expect", n))

    def wait100(self):
        self.steps.append(("wait100",))


class Gen:
    """Builds the requests of one connection (its own seeded RNG)."""

    def __init__(self, run, cid, rng, tls, host, secret_host):
        self.run = run
        self.cid = cid
        self.rng = rng
        self.tls = tls
        self.host = host
        self.secret_host = secret_host
        self.k = 0

    def target(self, kind="d", secret=None):
        self.k += 1
        if secret is None:
            secret = self.host == self.secret_host and self.rng.random() < 0.5
        return "%s/%s/%s.%d.%d" % ("/s" if secret else "", kind, self.run,
                                   self.cid, self.k)

    def head(self, method, target, headers, version="HTTP/1.1", eol=CRLF,
             host=True):
        line = ("%s %s %s" % (method, target, version)).encode()
        out = [line]
        if host is True:
            out.append(b"Host: " + self.host.encode())
        elif host:
            out.append(host if isinstance(host, bytes) else host.encode())
        for h in headers:
            out.append(h if isinstance(h, bytes) else h.encode())
        return eol.join(out) + eol + eol

    def hidden_req(self, plan, host=None, secret=None):
        t = self.target("h", secret)
        plan.hidden.append(t)
        return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                (t, host or self.host)).encode()

    def simple(self, plan, method="GET", body=b"", headers=()):
        t = self.target()
        plan.ids.append(t)
        hs = list(headers)
        if body or method == "POST":
            hs.append("Content-Length: %d" % len(body))
        return self.head(method, t, hs) + body

    def follow_up(self, plan):
        """A plain request after a tricky one: a desync shows on it."""
        plan.send(self.simple(plan))
        plan.expect(1)

    def start(self, plan):
        """The target of a plan's first request (counted as sent)."""
        t = self.target()
        plan.ids.append(t)
        return t

    def finish(self, plan, data, follow=True):
        """Send the tricky request, read its answer, then a plain one."""
        plan.send(data)
        plan.expect(1)
        if follow:
            self.follow_up(plan)
        return plan


def chunked(data, size_line=None):
    line = size_line if size_line is not None else b"%x" % len(data)
    return line + CRLF + data + CRLF + b"0" + CRLF + CRLF


# ------------------------------------------------------------ vectors
# Each takes (gen, variant index) and returns a Plan; VARIANTS[name] is the
# number of variants, picked at random per connection.

def v_basic(g, i):
    p = Plan(g, "basic", i)
    for _ in range(1 + g.rng.randrange(3)):
        if g.rng.random() < 0.5:
            p.send(g.simple(p))
        else:
            p.send(g.simple(p, "POST", b"x" * g.rng.randrange(1, 300)))
        p.expect(1)
    return p


def v_pipeline(g, i):
    p = Plan(g, "pipeline", i)
    n = 2 + g.rng.randrange(4)
    data = b""
    for _ in range(n):
        if g.rng.random() < 0.3:
            data += g.simple(p, "POST", g.hidden_req(p))
        else:
            data += g.simple(p)
    p.send(data)
    p.expect(n)
    return p


CL_FORMS = [
    "Content-Length: {n}",
    "Content-Length: {n}\r\nContent-Length: {n}",
    "Content-Length: {n}, {n}",
    "Content-Length: {n},{m}",
    "Content-Length: {n}\r\nContent-Length: {m}",
    "Content-Length: +{n}",
    "Content-Length: -{n}",
    "Content-Length: 0{n}",
    "Content-Length: {n} ",
    "Content-Length:\t{n}",
    "Content-Length: {x}",
    "Content-Length: {n}x",
    "Content-Length: {s}",		# shorter than the body
    "Content-Length: {n}\r\nTransfer-Encoding: chunked",
    "Content-Length: 99999999999999999999999",
    "Content-Length: ",
]


def v_cl(g, i):
    p = Plan(g, "cl", i)
    hid = g.hidden_req(p)
    body = hid
    n = len(body)
    h = CL_FORMS[i].format(n=n, m=n + 7, x="0x%x" % n, s=max(0, n - len(hid)))
    t = g.start(p)
    return g.finish(p, g.head("POST", t, [h]) + body)


TE_FORMS = [
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: Chunked",
    "Transfer-Encoding: CHUNKED",
    "Transfer-Encoding:  chunked",
    "Transfer-Encoding: chunked ",
    "Transfer-Encoding:\tchunked",
    "Transfer-Encoding: chunked, chunked",
    "Transfer-Encoding: gzip, chunked",
    "Transfer-Encoding: identity, chunked",
    "Transfer-Encoding: chunked, identity",
    "Transfer-Encoding: identity",
    "Transfer-Encoding: xchunked",
    "Transfer-Encoding: chunked;q=1",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked",
    "Transfer-Encoding: chunked\r\nContent-Length: 3",
    "Content-Length: 3\r\nTransfer-Encoding: chunked",
    "Transfer-Encoding: \"chunked\"",
]


def v_te(g, i):
    p = Plan(g, "te", i)
    t = g.start(p)
    body = chunked(g.hidden_req(p))
    version = "HTTP/1.0" if g.rng.random() < 0.15 else "HTTP/1.1"
    return g.finish(p, g.head("POST", t, [TE_FORMS[i]], version) + body,
                    follow=version == "HTTP/1.1")


NOMINATE = ["Content-Length", "content-length", "Transfer-Encoding",
            "Host", "close, Content-Length", "keep-alive, Content-Length",
            "Content-Length, Transfer-Encoding", "X-Api-Key", "Upgrade",
            "Expect"]


def v_nominate(g, i):
    p = Plan(g, "nominate", i)
    t = g.start(p)
    hs = ["Connection: " + NOMINATE[i // 2]]
    if i % 2 == 0:
        body = g.hidden_req(p)
        hs.append("Content-Length: %d" % len(body))
    else:
        body = chunked(g.hidden_req(p))
        hs.append("Transfer-Encoding: chunked")
    return g.finish(p, g.head("POST", t, hs) + body,
                    follow="close" not in NOMINATE[i // 2])


UPGRADES = ["websocket", "h2c", "WebSocket", "foo/1"]


def v_upgrade(g, i):
    p = Plan(g, "upgrade", i)
    t = g.start(p)
    hs = ["Connection: Upgrade", "Upgrade: " + UPGRADES[i % 4],
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    if i >= 4:
        hs.append("X-Recorder: early")
    hid = g.hidden_req(p, secret=g.host == g.secret_host)
    if i % 2 == 0:
        body = hid
        hs.append("Content-Length: %d" % len(body))
    else:
        body = chunked(hid)
        hs.append("Transfer-Encoding: chunked")
    return g.finish(p, g.head("GET", t, hs) + body)


def v_expect(g, i):
    p = Plan(g, "expect", i)
    t = g.start(p)
    body = g.hidden_req(p) if i & 1 else b"y" * 100
    hs = ["Expect: 100-continue" if i < 4 else "Expect: 100-Continue, x"]
    hs.append("Content-Length: %d" % len(body))
    head = g.head("POST", t, hs)
    if i & 2:
        p.send(head + body)
    else:
        p.send(head)
        p.wait100()
        p.send(body)
    p.expect(1)
    g.follow_up(p)
    return p


SIZE_LINES = [b"fffffffffffffffffffff", b"-1", b"{X}", b"{x}", b"000{x}",
              b"0x{x}", b"{x} ", b" {x}", b"+{x}", b"{x}\n", b"",
              b"10000000000000000", b"{x}\r", b"{x};", b"{x}\x00"]


def v_chunksize(g, i):
    p = Plan(g, "chunksize", i)
    t = g.start(p)
    hid = g.hidden_req(p)
    x = b"%x" % len(hid)
    line = SIZE_LINES[i].replace(b"{x}", x).replace(b"{X}", x.upper())
    if line.endswith(b"\n") and not line.endswith(b"\r\n"):
        body = line + hid + CRLF + b"0" + CRLF + CRLF
    else:
        body = chunked(hid, line)
    return g.finish(p, g.head("POST", t, ["Transfer-Encoding: chunked"]) + body)


EXT_BODIES = [
    b"{x};a=b\r\n{d}\r\n0\r\n\r\n",
    b"{x};a=\"x y\"\r\n{d}\r\n0\r\n\r\n",
    b"{x} ;a\r\n{d}\r\n0\r\n\r\n",
    b"{x};a\n{d}\r\n0\r\n\r\n",
    b"{x};\r\n{d}\r\n0\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\nX-Trailer: v\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\nHost: other.test\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\nContent-Length: 50\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"{x}\r\n{d}\r\n0;z=1\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\nX-T: a\r\n b\r\n\r\n",
    b"{x}\r\n{d}0\r\n\r\n",
    b"{x}\r\n{d}\r\n0\r\n",
]


def v_chunkext(g, i):
    p = Plan(g, "chunkext", i)
    t = g.start(p)
    hid = g.hidden_req(p)
    body = EXT_BODIES[i].replace(b"{x}", b"%x" % len(hid)).replace(
        b"{d}", hid)
    return g.finish(p, g.head("POST", t, ["Transfer-Encoding: chunked"]) + body)


def v_colon(g, i):
    p = Plan(g, "colon", i)
    t = g.start(p)
    body = g.hidden_req(p)
    hs = [["Content-Length : %d" % len(body)],
          ["Content-Length: %d" % len(body), "Transfer-Encoding : chunked"],
          ["Content-Length\t: %d" % len(body)],
          ["Content-Length: %d" % len(body), "X-A : b"]][i]
    return g.finish(p, g.head("POST", t, hs, host=True) + body)


def v_case(g, i):
    p = Plan(g, "case", i)
    t = g.start(p)
    body = chunked(g.hidden_req(p)) if i >= 2 else g.hidden_req(p)
    hs = [["cOnTeNt-LeNgTh: %d" % len(body)],
          ["CONTENT-LENGTH: %d" % len(body)],
          ["TRANSFER-ENCODING: CHUNKED"],
          ["transfer-encoding: chunked"]][i % 4]
    method = ["POST", "post", "Post", "POST"][i % 4]
    host = ["HOST: %s", "host: %s", "Host: %s", "Host: %s"][i % 4] % \
        g.host.upper()
    return g.finish(p, g.head(method, t, hs, host=host) + body)


def v_dup(g, i):
    p = Plan(g, "dup", i)
    t = g.start(p)
    other = "other.test" if g.host != "other.test" else g.secret_host
    host = [b"Host: %s\r\nHost: %s" % (g.host.encode(), g.host.encode()),
            b"Host: %s\r\nHost: %s" % (g.host.encode(), other.encode()),
            b"Host: %s, %s" % (g.host.encode(), other.encode()),
            b"Host: %s:%d" % (g.host.encode(), 443 if g.tls else 80),
            b"Host:", b"Host: %s" % g.host.encode(),
            b"Host: %s." % g.host.encode()][i]
    hs = ["X-Api-Key: guest-copy-1", "X-Api-Key: guest-copy-2",
          "X-Dup: 1", "X-Dup: 2"] if i == 5 else []
    return g.finish(p, g.head("GET", t, hs, host=host))


def v_fold(g, i):
    p = Plan(g, "fold", i)
    t = g.start(p)
    body = g.hidden_req(p)
    n = len(body)
    hs = [["Content-Length:\r\n %d" % n],
          ["Content-Length: %d" % n, "X-A: a\r\n b"],
          ["Content-Length: %d" % n, "Transfer-Encoding: identity\r\n chunked"],
          ["Content-Length: %d" % n, "X-A: a\r\n\tb"]][i]
    host = True if i < 3 else "Host:\r\n %s" % g.host
    return g.finish(p, g.head("POST", t, hs, host=host) + body)


def v_crlf(g, i):
    p = Plan(g, "crlf", i)
    t = g.start(p)
    body = g.hidden_req(p)
    n = len(body)
    if i == 0:
        data = g.head("POST", t, ["Content-Length: %d" % n], eol=b"\n")
    elif i == 1:
        data = ("POST %s HTTP/1.1\r\nHost: %s\nContent-Length: %d\r\n\r\n" %
                (t, g.host, n)).encode()
    elif i == 2:
        data = ("POST %s HTTP/1.1\r\nHost: %s\r\nX-A: a\rContent-Length: %d"
                "\r\n\r\n" % (t, g.host, n)).encode()
    elif i == 3:
        data = ("POST %s HTTP/1.1\r\r\nHost: %s\r\nContent-Length: %d"
                "\r\n\r\n" % (t, g.host, n)).encode()
    elif i == 4:
        data = ("POST %s HTTP/1.1\nHost: %s\r\nContent-Length: %d"
                "\r\n\r\n" % (t, g.host, n)).encode()
    elif i == 5:
        data = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d"
                "\r\n\n" % (t, g.host, n)).encode()
    else:
        data = ("POST %s HTTP/1.1\r\nHost: %s\r\nX-A: a\x00b\r\n"
                "Content-Length: %d\r\n\r\n" % (t, g.host, n)).encode()
    return g.finish(p, data + body)


def v_absolute(g, i):
    p = Plan(g, "absolute", i)
    t = g.start(p)
    scheme = "https" if g.tls else "http"
    other = "other.test" if g.host != "other.test" else g.secret_host
    port = 443 if g.tls else 80
    tgt, host = [
        ("%s://%s%s" % (scheme, g.host, t), True),
        ("%s://%s%s" % (scheme, g.host, t), False),
        ("%s://%s%s" % (scheme, g.host, t), "Host: " + other),
        ("%s://%s%s" % (scheme.upper(), g.host.upper(), t), True),
        ("%s://%s:%d%s" % (scheme, g.host, port, t), True),
        ("%s://u@%s%s" % (scheme, g.host, t), True),
        ("%s://%s%s" % ("http" if g.tls else "https", g.host, t), True),
        ("%s://%s%s" % (scheme, other, t), True),
    ][i]
    return g.finish(p, g.head("GET", tgt, [], host=host))


def v_http10(g, i):
    p = Plan(g, "http10", i)
    t = g.start(p)
    hid = g.hidden_req(p)
    if i == 0:
        p.send(g.head("GET", t, [], "HTTP/1.0", host=False))
    elif i == 1:
        p.send(g.head("GET", t, ["Connection: keep-alive"], "HTTP/1.0"))
        p.expect(1)
        t2 = g.target()
        p.ids.append(t2)
        p.send(g.head("GET", t2, ["Connection: keep-alive"], "HTTP/1.0"))
    elif i == 2:
        p.send(g.head("POST", t, ["Content-Length: %d" % len(hid)],
                      "HTTP/1.0") + hid)
    elif i == 3:
        p.send(g.head("POST", t, ["Transfer-Encoding: chunked"],
                      "HTTP/1.0") + chunked(hid))
    else:
        p.send(g.head("POST", t, ["Connection: keep-alive"], "HTTP/1.0") +
               hid)
    p.expect(1)
    return p


def v_keepalive(g, i):
    p = Plan(g, "keepalive", i)
    for k in range(2 + g.rng.randrange(4)):
        hs = ["X-Api-Key: guest-value"] if g.rng.random() < 0.3 else []
        if k % 2:
            p.send(g.simple(p, "POST", b"z" * g.rng.randrange(1, 2000), hs))
        else:
            p.send(g.simple(p, headers=hs))
        p.expect(1)
    return p


VECTORS = {
    "basic": (v_basic, 1),
    "pipeline": (v_pipeline, 1),
    "keepalive": (v_keepalive, 1),
    "cl": (v_cl, len(CL_FORMS)),
    "te": (v_te, len(TE_FORMS)),
    "nominate": (v_nominate, 2 * len(NOMINATE)),
    "upgrade": (v_upgrade, 8),
    "expect": (v_expect, 8),
    "chunksize": (v_chunksize, len(SIZE_LINES)),
    "chunkext": (v_chunkext, len(EXT_BODIES)),
    "colon": (v_colon, 4),
    "case": (v_case, 4),
    "dup": (v_dup, 7),
    "fold": (v_fold, 4),
    "crlf": (v_crlf, 7),
    "absolute": (v_absolute, 8),
    "http10": (v_http10, 5),
}


# ------------------------------------------------------------ responses
class Reader:
    """Counts the responses on a connection (loose framing)."""

    def __init__(self, sock, idle, deadline):
        self.sock = sock
        self.idle = idle
        self.deadline = deadline
        self.buf = b""
        self.closed = False
        self.statuses = []
        self.refused = 0
        self.interim = 0
        self.timeout = False

    def fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0 or self.closed:
            self.timeout = not self.closed
            return False
        self.sock.settimeout(min(self.idle, left))
        try:
            d = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            self.timeout = True
            return False
        except (OSError, ssl.SSLError):
            d = b""
        if not d:
            self.closed = True
            return False
        self.buf += d
        return True

    def one(self, interim_ok=False):
        """Read one response (or an interim one when interim_ok)."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if not self.fill():
                return None
        head = self.buf[:end].decode("latin-1")
        self.buf = self.buf[end + 4:]
        lines = head.split("\r\n")
        try:
            status = int(lines[0].split(" ")[1])
        except (IndexError, ValueError):
            self.closed = True
            return None
        hdr = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdr[k.strip().lower()] = v.strip()
        if 100 <= status < 200 and status != 101:
            self.interim += 1
            return status if interim_ok else self.one()
        n = int(hdr.get("content-length", "0") or 0)
        while len(self.buf) < n:
            if not self.fill():
                break
        self.buf = self.buf[n:]
        self.statuses.append(status)
        if "x-gateway-reason" in hdr:
            self.refused += 1
        if hdr.get("connection", "").lower() == "close":
            self.closed = True
        return status

    def expect(self, n):
        for _ in range(n):
            if self.one() is None:
                return False
        return True


# ------------------------------------------------------------ running
class Runner:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.out = open(a.out, "w", encoding="utf-8") if a.out else None
        self.names = a.vectors
        self.sent = self.hidden = self.conns = self.refused = 0
        self.timeouts = self.errors = 0
        self.corpus_seen = set()
        self.run = "%x" % (a.seed & 0xffffffff)

    def plan(self, cid):
        rng = random.Random(self.a.seed * 1000003 + cid)
        tls = rng.random() < self.a.tls_share
        host = self.a.hosts[rng.randrange(len(self.a.hosts))]
        g = Gen(self.run, cid, rng, tls, host, self.a.secret_host)
        name = self.names[rng.randrange(len(self.names))]
        fn, nvar = VECTORS[name]
        return fn(g, rng.randrange(nvar))

    def keep_corpus(self, p):
        key = (p.vector, p.variant)
        if not self.a.corpus or key in self.corpus_seen:
            return
        self.corpus_seen.add(key)
        data = p.steps[0][1]
        h = hashlib.sha1(data).hexdigest()[:12]
        path = os.path.join(self.a.corpus, "gen-%s-%d-%s" % (key + (h,)))
        with open(path, "wb") as f:
            f.write(data)

    def connect(self, p):
        s = socket.create_connection((self.a.addr, 443 if p.g.tls else 80),
                                     timeout=self.a.idle * 4)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if p.g.tls:
            ctx = ssl.create_default_context(cafile=self.a.ca)
            ctx.set_alpn_protocols(["http/1.1"])
            s = ctx.wrap_socket(s, server_hostname=p.g.host)
        return s

    def one(self, cid):
        p = self.plan(cid)
        rec = {"cid": cid, "vector": p.vector, "variant": p.variant,
               "tls": p.g.tls, "host": p.g.host, "ids": p.ids,
               "hidden": p.hidden}
        with self.lock:
            self.keep_corpus(p)
        s = None
        rd = None
        try:
            s = self.connect(p)
            rec["sport"] = s.getsockname()[1]
            rd = Reader(s, self.a.idle, time.monotonic() + CONN_DEADLINE)
            for st in p.steps:
                if rd.closed:
                    break
                if st[0] == "send":
                    s.sendall(st[1])
                elif st[0] == "wait100":
                    rd.one(interim_ok=True)
                elif not rd.expect(st[1]):
                    break
        except (OSError, ssl.SSLError) as e:
            rec["error"] = str(e)[:120]
        finally:
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        if rd is not None:
            rec.update(statuses=rd.statuses, refused=rd.refused,
                       timeout=rd.timeout, interim=rd.interim)
        with self.lock:
            self.conns += 1
            self.sent += len(p.ids)
            self.hidden += len(p.hidden)
            self.refused += rec.get("refused", 0)
            self.timeouts += bool(rec.get("timeout"))
            self.errors += "error" in rec
            if self.out:
                self.out.write(json.dumps(rec, sort_keys=True) + "\n")
        return len(p.ids)

    def go(self):
        stop = time.monotonic() + self.a.time
        cid = 0
        with ThreadPoolExecutor(self.a.conns) as ex:
            futs = []
            budget = self.a.count
            while budget > 0 and time.monotonic() < stop:
                cid += 1
                # a plan is cheap; build it here to know its size
                n = max(1, len(self.plan(cid).ids))
                budget -= n
                futs.append(ex.submit(self.one, cid))
                if len(futs) >= self.a.conns * 4:
                    futs.pop(0).result()
            for f in futs:
                f.result()
        if self.out:
            self.out.close()
        print("diffgen: seed=%d sent=%d hidden=%d connections=%d refused=%d "
              "timeouts=%d errors=%d vectors=%s" % (
                  self.a.seed, self.sent, self.hidden, self.conns,
                  self.refused, self.timeouts, self.errors,
                  ",".join(self.names)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", required=True,
                    help="the upstream's address (the gateway intercepts)")
    ap.add_argument("--hosts", default="echo.test,other.test")
    ap.add_argument("--secret-host", default="echo.test")
    ap.add_argument("--ca", help="CA file the TLS client trusts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--time", type=float, default=50.0)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--idle", type=float, default=0.6)
    ap.add_argument("--tls-share", type=float, default=0.5)
    ap.add_argument("--vectors", default=os.environ.get("DIFF_VECTORS", ""))
    ap.add_argument("--out")
    ap.add_argument("--corpus")
    a = ap.parse_args()
    a.hosts = a.hosts.split(",")
    a.vectors = [v for v in a.vectors.split(",") if v] or list(VECTORS)
    bad = [v for v in a.vectors if v not in VECTORS]
    if bad:
        sys.exit("diffgen: unknown vector(s) %s; known: %s" %
                 (",".join(bad), ",".join(VECTORS)))
    if a.ca is None:
        a.tls_share = 0.0
    if a.corpus:
        os.makedirs(a.corpus, exist_ok=True)
    Runner(a).go()


if __name__ == "__main__":
    main()
