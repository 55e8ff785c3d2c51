#!/usr/bin/python3
"""nfq-tool.py - small network probes and servers for the t-nfq-* tests.

  tcp HOST PORT [TIMEOUT]         connect; prints connected|refused|timeout ms
  udp HOST PORT [TIMEOUT]         send "ping", wait for any reply; reply|timeout
  dns SERVER NAME TYPE [--tcp]    one query; prints "rcode=X n=N addrs=a,b
                                  https=K ech=0|1 h3=0|1"
  dns-burst SERVER ZONE COUNT     COUNT queries a<i>.ZONE (UDP); prints the
                                  rcode counts "NOERROR=.. REFUSED=.."
  burst HOST PORT COUNT [TIMEOUT] COUNT concurrent connects; prints counts
  tcp-server ADDR PORT            accept, write "hello\\n", close (forever)
  udp-server ADDR PORT LOG        echo datagrams, one line per datagram to LOG
Every wait is bounded.
"""
import random
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28, "HTTPS": 65, "TXT": 16}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp(host, port, timeout=3.0):
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.settimeout(float(timeout))
    t = time.monotonic()
    try:
        s.connect((host, int(port)))
        r = "connected"
    except ConnectionRefusedError:
        r = "refused"
    except (socket.timeout, TimeoutError):
        r = "timeout"
    except OSError as e:
        r = "error:%s" % e.errno
    print("%s %d" % (r, (time.monotonic() - t) * 1000))


def udp(host, port, timeout=2.0):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(float(timeout))
    try:
        s.sendto(b"ping", (host, int(port)))
        s.recvfrom(512)
        print("reply")
    except (socket.timeout, TimeoutError):
        print("timeout")
    except OSError as e:
        print("error:%s" % e.errno)


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(m, off):
    while True:
        n = m[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
        if n == 0:
            return off


def parse(m):
    _, flags, qd, an, ns, ar = struct.unpack("!6H", m[:12])
    off = 12
    for _ in range(qd):
        off = skip_name(m, off) + 4
    addrs, https, ech, h3 = [], 0, 0, 0
    for _ in range(an):
        off = skip_name(m, off)
        t, _, _, rl = struct.unpack("!HHIH", m[off:off + 10])
        rd = m[off + 10:off + 10 + rl]
        off += 10 + rl
        if t == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, rd))
        elif t == 65:
            https += 1
            p = skip_name(rd, 2)
            while p + 4 <= len(rd):
                k, vl = struct.unpack("!HH", rd[p:p + 4])
                v = rd[p + 4:p + 4 + vl]
                if k == 5:
                    ech = 1
                if k == 1:
                    i = 0
                    while i < len(v):
                        a = v[i + 1:i + 1 + v[i]]
                        if a == b"h3" or a.startswith(b"h3-"):
                            h3 = 1
                        i += 1 + v[i]
                p += 4 + vl
    rc = flags & 15
    return "rcode=%s n=%d addrs=%s https=%d ech=%d h3=%d tc=%d" % (
        RCODES[rc] if rc < len(RCODES) else rc, len(addrs),
        ",".join(addrs) or "-", https, ech, h3, (flags >> 9) & 1)


def query(server, name, qtype, use_tcp=False, timeout=3.0):
    qid = random.randrange(65536)
    msg = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + qname(name) + \
        struct.pack("!HH", TYPES.get(qtype, 1), 1)
    try:
        if use_tcp:
            s = socket.create_connection((server, 53), timeout=timeout)
            s.sendall(struct.pack("!H", len(msg)) + msg)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                d = s.recv(65536)
                if not d:
                    return "rcode=EOF"
                buf += d
            return parse(buf[2:])
        s = socket.socket(fam(server), socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.sendto(msg, (server, 53))
        return parse(s.recvfrom(65536)[0])
    except (socket.timeout, TimeoutError):
        return "rcode=TIMEOUT"
    except OSError as e:
        return "rcode=ERROR%s" % e.errno


def dns_burst(server, zone, count):
    seen = {}
    for i in range(int(count)):
        r = query(server, "a%d.%s" % (i, zone), "A", timeout=2.0)
        rc = r.split()[0].split("=")[1]
        seen[rc] = seen.get(rc, 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))


def burst(host, port, count, timeout=10.0):
    count, deadline = int(count), time.monotonic() + float(timeout)
    socks, res = {}, {"connected": 0, "refused": 0, "timeout": 0, "error": 0}
    for _ in range(count):
        s = socket.socket(fam(host), socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, int(port)))
        socks[s.fileno()] = s
    poll = select.poll()
    for fd in socks:
        poll.register(fd, select.POLLOUT)
    while socks and time.monotonic() < deadline:
        for fd, _ in poll.poll(100):
            s = socks.pop(fd)
            poll.unregister(fd)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            res["connected" if err == 0 else
                "refused" if err == 111 else "error"] += 1
            s.close()
    res["timeout"] = len(socks)
    print(" ".join("%s=%d" % (k, res[k]) for k in
                   ("connected", "refused", "timeout", "error")))


def tcp_server(addr, port):
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1024)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"hello\n")
        except OSError:
            pass
        c.close()


def udp_server(addr, port, log):
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    with open(log, "a", buffering=1) as f:
        while True:
            d, peer = s.recvfrom(2048)
            f.write("%s %r\n" % (peer[0], d))
            s.sendto(d, peer)


def main(a):
    cmd = a[0]
    if cmd == "tcp":
        tcp(*a[1:])
    elif cmd == "udp":
        udp(*a[1:])
    elif cmd == "dns":
        print(query(a[1], a[2], a[3], "--tcp" in a[4:]))
    elif cmd == "dns-burst":
        dns_burst(*a[1:])
    elif cmd == "burst":
        burst(*a[1:])
    elif cmd == "tcp-server":
        tcp_server(*a[1:])
    elif cmd == "udp-server":
        udp_server(*a[1:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
