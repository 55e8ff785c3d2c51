#!/usr/bin/python3
"""Listeners and probes for t-nft-rules.sh (packet-level checks, no gatewayd).

  serve [tproxy:PORT] [tcp:ADDR:PORT] [udp:ADDR:PORT] ...
      tproxy: an IP_TRANSPARENT TCP listener on 0.0.0.0 and :: (what gatewayd
      does in tproxy mode) answering "captured <original destination>";
      tcp: a plain listener answering "tcp <ADDR>:<PORT>";
      udp: a responder answering "udp <ADDR>:<PORT>".
      Every hit is logged to stdout as "hit <kind> <local> from <peer>".
  tcp ADDR PORT [SRC]   connect (from SRC), print the answer; exit 1 if none
  udp ADDR PORT         send a datagram, print the answer; exit 1 if none
Every wait is bounded (2 s).  Runs until killed (serve).
"""
import selectors
import socket
import sys

IP_TRANSPARENT = 19
TIMEOUT = 2.0


def fam(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def split(spec):
    addr, port = spec.rsplit(':', 1)
    return addr.strip('[]'), int(port)


def serve(specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        kind, rest = spec.split(':', 1)
        if kind == 'tproxy':
            for f, any_ in ((socket.AF_INET, '0.0.0.0'),
                            (socket.AF_INET6, '::')):
                s = socket.socket(f, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if f == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((any_, int(rest)))
                s.listen(16)
                sel.register(s, selectors.EVENT_READ, 'tproxy')
            continue
        addr, port = split(rest)
        s = socket.socket(fam(addr), socket.SOCK_STREAM if kind == 'tcp'
                          else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam(addr) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if kind == 'tcp':
            s.listen(16)
        sel.register(s, selectors.EVENT_READ, kind)
    print('ready', flush=True)
    while True:
        for key, _ in sel.select():
            s, kind = key.fileobj, key.data
            if kind == 'udp':
                data, peer = s.recvfrom(2048)
                local = s.getsockname()
                s.sendto(('udp %s:%d\n' % local[:2]).encode(), peer)
            else:
                c, peer = s.accept()
                local = c.getsockname()
                c.settimeout(TIMEOUT)
                word = 'captured' if kind == 'tproxy' else 'tcp'
                try:
                    c.sendall(('%s %s:%d\n' % (word, local[0],
                                                local[1])).encode())
                except OSError:
                    pass
                c.close()
            print('hit %s %s:%d from %s' % (kind, local[0], local[1],
                                            peer[0]), flush=True)


def probe(kind, addr, port, src=None):
    s = socket.socket(fam(addr), socket.SOCK_STREAM if kind == 'tcp'
                      else socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        if src:
            s.bind((src, 0))
        if kind == 'tcp':
            s.connect((addr, port))
            data = s.recv(200)
        else:
            s.sendto(b'ping\n', (addr, port))
            data = s.recv(200)
    except OSError as e:
        print('no answer: %s' % e)
        return 1
    sys.stdout.write(data.decode(errors='replace'))
    return 0 if data else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == 'serve':
        serve(sys.argv[2:])
    elif len(sys.argv) in (4, 5) and sys.argv[1] in ('tcp', 'udp'):
        return probe(sys.argv[1], sys.argv[2], int(sys.argv[3]),
                     sys.argv[4] if len(sys.argv) == 5 else None)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
