#!/usr/bin/python3
"""flood-tool.py - one guest floods the gateway, another measures
(t-dns-flood, t-leaf-flood, t-head-drip).

Every loop is bounded in time (and in count where it opens sockets).

  dns-server ADDR IP             DNS on ADDR:53 (UDP, TCP): *.fast.test is IP
                                 at once, nothing else is ever answered
  tcp-hold SERVER N SECS         N DNS-over-TCP connections, one byte each
                                 every 0.5 s (never a whole query)
  udp-flood SERVER SECS RATE     DNS queries at RATE/s: every other one the
                                 same name, the rest distinct names, all
                                 under slow.test (whose upstream never
                                 answers)
  http-flood IP SECS CONC        CONC HTTP requests at a time to IP:80, each
                                 with a fresh Host under slow.test
  probe SERVER IP COUNT TAG      COUNT UDP lookups, COUNT TCP lookups and
                                 COUNT HTTP requests (names under fast.test,
                                 never seen before) one after the other;
                                 prints ok/fail counts and latencies
  tls-flood IP SECS CONC         CONC TLS handshakes at a time to IP:443,
                                 each with a fresh SNI under denied.test
                                 and flood.test (certificate not checked)
  https-probe IP HOST CA COUNT   COUNT HTTPS GETs of https://HOST/ to IP, a
                                 new connection each, verified with CA;
                                 prints ok/fail, latencies and how many
                                 distinct leaves were seen (and the first)
  http-probe IP HOST COUNT       the same over plain HTTP (no leaves)
  drip-server ADDR PORT          HTTP on ADDR:PORT: /drip gets a response
                                 head one byte a second, never finished;
                                 anything else a 200 at once
"""
import random
import select
import signal
import socket
import struct
import sys
import time

STOP = []   # set by SIGTERM: the floods end early and still report


def running(end):
    return not STOP and time.monotonic() < end


def qmsg(name, qid):
    q = b""
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + q + b"\0" + \
        struct.pack("!HH", 1, 1)


def rcode(m):
    return m[3] & 15 if len(m) >= 4 else -1


def answer(m, ip):
    """The answer to query m: *.fast.test A is ip, other types of it
    NOERROR with nothing; None (no answer ever) for anything else."""
    off, labels = 12, []
    while off < len(m) and m[off] != 0:
        labels.append(m[off + 1:off + 1 + m[off]].decode("ascii", "replace"))
        off += 1 + m[off]
    name, qtype = ".".join(labels).lower(), m[off + 1:off + 3]
    if not (name == "fast.test" or name.endswith(".fast.test")):
        return None
    q = m[12:off + 5]
    a = struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 4) + socket.inet_aton(ip) \
        if qtype == b"\x00\x01" else b""
    return m[:2] + struct.pack("!5H", 0x8180, 1, 1 if a else 0, 0, 0) + q + a


def dns_server(addr, ip):
    """UDP and TCP DNS on addr:53 answering with answer()."""
    import socketserver
    import threading

    class TCP(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            buf = b""
            while True:
                while len(buf) < 2 or len(buf) < 2 + (buf[0] << 8 | buf[1]):
                    d = self.request.recv(4096)
                    if not d:
                        return
                    buf += d
                n = 2 + (buf[0] << 8 | buf[1])
                r = answer(buf[2:n], ip)
                buf = buf[n:]
                if r is not None:
                    self.request.sendall(struct.pack("!H", len(r)) + r)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    t = Server((addr, 53), TCP)
    threading.Thread(target=t.serve_forever, daemon=True).start()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    while True:
        m, peer = u.recvfrom(2048)
        r = answer(m, ip) if len(m) > 12 else None
        if r is not None:
            u.sendto(r, peer)


def tcp_hold(server, n, secs):
    """Keep n connections open (reconnecting what the gateway closes),
    each fed one byte of a 256-byte query every 0.5 s: never complete."""
    end, n = time.monotonic() + float(secs), int(n)
    socks, opened, closed, refused, longest = [], 0, 0, 0, 0.0
    frame = b"\x01\x00" + b"x" * 256
    while running(end):
        while len(socks) < n and running(end):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect((server, 53))
                s.setblocking(False)
                socks.append([s, 0, time.monotonic()])
                opened += 1
            except OSError:
                refused += 1
                s.close()
                break
        alive = []
        for s, off, t0 in socks:
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    raise OSError
                s.send(frame[off:off + 1])
                alive.append([s, off + 1, t0])
                continue
            except BlockingIOError:
                s.send(frame[off:off + 1])
                alive.append([s, off + 1, t0])
                continue
            except OSError:
                pass
            closed += 1
            longest = max(longest, time.monotonic() - t0)
            s.close()
        socks = alive
        time.sleep(0.5)
    for s, _, _ in socks:
        s.close()
    print("opened=%d closed_by_gateway=%d connect_failed=%d longest=%.1fs" %
          (opened, closed, refused, longest))


def udp_flood(server, secs, rate):
    end = time.monotonic() + float(secs)
    gap, sent, answers = 1.0 / float(rate), 0, {}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    nxt = time.monotonic()
    while running(end):
        name = "same.slow.test" if sent % 2 == 0 else \
            "u%d.slow.test" % sent
        try:
            s.sendto(qmsg(name, sent & 0xffff), (server, 53))
            sent += 1
        except BlockingIOError:
            pass
        while True:
            try:
                rc = rcode(s.recv(2048))
                answers[rc] = answers.get(rc, 0) + 1
            except BlockingIOError:
                break
        nxt += gap
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
    print("sent=%d answers=%s" % (sent, sorted(answers.items())))


def http_flood(ip, secs, conc):
    end = time.monotonic() + float(secs)
    conc, n, status, live = int(conc), 0, {}, {}
    poll = select.poll()

    def start():
        nonlocal n
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((ip, 80))
        n += 1
        live[s.fileno()] = [s, b"GET / HTTP/1.1\r\nHost: r%d-%d.slow.test"
                            b"\r\nConnection: close\r\n\r\n" %
                            (n, random.randrange(1 << 30)), b""]
        poll.register(s.fileno(), select.POLLOUT | select.POLLIN)

    while running(end):
        while len(live) < conc:
            start()
        for fd, ev in poll.poll(100):
            s, out, inp = live[fd]
            done = False
            try:
                if out and ev & select.POLLOUT:
                    live[fd][1] = out[s.send(out):]
                    if not live[fd][1]:
                        poll.modify(fd, select.POLLIN)
                elif ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    d = s.recv(4096)
                    live[fd][2] = inp + d
                    done = not d
            except BlockingIOError:
                pass
            except OSError:
                done = True
            if done:
                line = live[fd][2].split(b"\r\n", 1)[0].split(b" ")
                k = line[1].decode() if len(line) > 1 else "none"
                status[k] = status.get(k, 0) + 1
                poll.unregister(fd)
                del live[fd]
                s.close()
    for s, _, _ in live.values():
        s.close()
    print("requests=%d status=%s unfinished=%d" %
          (n, sorted(status.items()), len(live)))


def dns_once(server, name, use_tcp):
    msg = qmsg(name, random.randrange(65536))
    if use_tcp:
        with socket.create_connection((server, 53), timeout=2) as s:
            s.sendall(struct.pack("!H", len(msg)) + msg)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + (buf[0] << 8 | buf[1]):
                d = s.recv(4096)
                if not d:
                    return "eof"
                buf += d
            return "ok" if rcode(buf[2:]) == 0 else "rcode%d" % rcode(buf[2:])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(msg, (server, 53))
        m = s.recv(2048)
        return "ok" if rcode(m) == 0 else "rcode%d" % rcode(m)


def get_status(s, path, host):
    """GET path on socket s (Connection: close): "ok" for a 200, else
    "http<status>"."""
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close"
              b"\r\n\r\n" % (path.encode(), host.encode()))
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    st = buf.split(b"\r\n", 1)[0].split(b" ")
    return "ok" if len(st) > 1 and st[1] == b"200" else \
        "http%s" % (st[1].decode() if len(st) > 1 else "-")


def http_once(ip, host, path="/probe"):
    with socket.create_connection((ip, 80), timeout=3) as s:
        return get_status(s, path, host)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0


def probe(server, ip, count, tag):
    out = []
    for kind in ("udp", "tcp", "http"):
        lat, fails = [], {}
        for i in range(int(count)):
            if sum(fails.values()) >= 3:
                fails["not-tried"] = int(count) - i
                break
            name = "%s%d-%s.fast.test" % (kind, i, tag)
            t0 = time.monotonic()
            try:
                r = http_once(ip, name) if kind == "http" else \
                    dns_once(server, name, kind == "tcp")
            except (socket.timeout, TimeoutError):
                r = "timeout"
            except OSError as e:
                r = "error%s" % e.errno
            ms = (time.monotonic() - t0) * 1000
            if r == "ok":
                lat.append(ms)
            else:
                fails[r] = fails.get(r, 0) + 1
        out.append("%s ok=%d fail=%d%s p50=%.1fms p99=%.1fms" % (
            kind, len(lat), sum(fails.values()),
            "".join(" %s=%d" % kv for kv in sorted(fails.items())),
            pct(lat, 0.5), pct(lat, 0.99)))
    print("; ".join(out))


def tls_flood(ip, secs, conc):
    """Handshakes with fresh names, CONC threads, each bounded by SECS."""
    import ssl
    import threading

    end, counts, lock = time.monotonic() + float(secs), {}, threading.Lock()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def one(i):
        zone = "denied.test" if i % 2 else "flood.test"
        name = "f%d-%d.%s" % (i, random.randrange(1 << 30), zone)
        try:
            with socket.create_connection((ip, 443), timeout=3) as raw:
                with ctx.wrap_socket(raw, server_hostname=name):
                    return "handshake"
        except ssl.SSLError:
            return "refused"
        except OSError:
            return "error"

    def worker(k):
        i = k
        while running(end):
            r = one(i)
            i += int(conc)
            with lock:
                counts[r] = counts.get(r, 0) + 1

    ts = [threading.Thread(target=worker, args=(k,))
          for k in range(int(conc))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("tls %s" % " ".join("%s=%d" % kv for kv in sorted(counts.items())))


def get_probe(kind, count, once):
    """COUNT calls of once(i) -> (result, extra): ok/fail counts and the
    latencies of the ok ones; returns (summary, extras of the ok ones)."""
    import ssl

    lat, fails, extras = [], {}, []
    for i in range(int(count)):
        if sum(fails.values()) >= 3:
            fails["not-tried"] = int(count) - i
            break
        t0 = time.monotonic()
        extra = None
        try:
            r, extra = once(i)
        except (socket.timeout, TimeoutError):
            r = "timeout"
        except ssl.SSLError as e:
            r = "tls-%s" % (e.reason or "error")
        except OSError as e:
            r = "error%s" % e.errno
        if r == "ok":
            lat.append((time.monotonic() - t0) * 1000)
            extras.append(extra)
        else:
            fails[r] = fails.get(r, 0) + 1
    return "%s ok=%d fail=%d%s p50=%.1fms p99=%.1fms" % (
        kind, len(lat), sum(fails.values()),
        "".join(" %s=%d" % kv for kv in sorted(fails.items())),
        pct(lat, 0.5), pct(lat, 0.99)), extras


def https_probe(ip, host, ca, count):
    """COUNT verified GETs, each on a new connection; latencies and the
    leaves (sha256 of the DER) seen."""
    import hashlib
    import ssl

    ctx = ssl.create_default_context(cafile=ca)

    def once(i):
        with socket.create_connection((ip, 443), timeout=3) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.settimeout(3)
                der = s.getpeercert(binary_form=True)
                return get_status(s, "/probe%d" % i, host), \
                    hashlib.sha256(der).hexdigest()[:16]

    out, fps = get_probe("https", count, once)
    leaves = sorted(set(fps), key=fps.index)
    print("%s leaves=%d first=%s" % (out, len(leaves),
                                     leaves[0] if leaves else "-"))


def http_probe(ip, host, count):
    """COUNT plain-HTTP GETs of http://HOST/ to IP, a new connection
    each."""
    print(get_probe("http", count, lambda i: (
        http_once(ip, host, "/probe%d" % i), None))[0])


def drip_server(addr, port):
    """/drip: a head one byte a second (for 10 minutes at most: the test
    ends long before); anything else: 200 at once."""
    import socketserver
    import threading

    head = b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"d" * 100000

    class H(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(30)
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = self.request.recv(4096)
                if not d:
                    return
                buf += d
            if buf.split(b" ", 2)[1].startswith(b"/drip"):
                for i in range(600):
                    self.request.sendall(head[i:i + 1])
                    time.sleep(1)
                return
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3"
                                 b"\r\nConnection: close\r\n\r\nok\n")

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    Server((addr, int(port)), H).serve_forever()


def main(a):
    cmds = {"dns-server": dns_server, "tcp-hold": tcp_hold,
            "udp-flood": udp_flood, "http-flood": http_flood,
            "probe": probe, "tls-flood": tls_flood,
            "https-probe": https_probe, "http-probe": http_probe,
            "drip-server": drip_server}
    if not a or a[0] not in cmds:
        sys.exit(__doc__)
    if a[0] != "dns-server":
        signal.signal(signal.SIGTERM, lambda *_: STOP.append(1))
    cmds[a[0]](*a[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
