#!/usr/bin/python3
"""dnsdelay.py ADDR DELAY_MS - a UDP DNS server for tests/bench/resolve.sh.

Names under fast.test answer at once, names under slow.test after
DELAY_MS (without holding up anything else: one thread, a timer heap),
A with 198.18.0.1 (TTL 60), other types NOERROR with no answer; any
other name NXDOMAIN.  Runs until killed.
"""
import heapq
import select
import socket
import struct
import sys
import time


def answer(m):
    off, labels = 12, []
    while off < len(m) and m[off] != 0:
        labels.append(m[off + 1:off + 1 + m[off]].decode("ascii", "replace"))
        off += 1 + m[off]
    if off + 5 > len(m):
        return None, False
    name, qtype = ".".join(labels).lower(), m[off + 1:off + 3]
    slow = name.endswith(".slow.test")
    known = slow or name.endswith(".fast.test")
    q = m[12:off + 5]
    a = struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([198, 18, 0, 1]) \
        if known and qtype == b"\x00\x01" else b""
    flags = 0x8180 if known else 0x8183
    return m[:2] + struct.pack("!5H", flags, 1, 1 if a else 0, 0, 0) + q + a, \
        slow


def main(addr, delay_ms):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    due, seq = [], 0
    delay = int(delay_ms) / 1000.0
    while True:
        wait = max(0.0, due[0][0] - time.monotonic()) if due else None
        if select.select([s], [], [], wait)[0]:
            for _ in range(256):
                try:
                    m, peer = s.recvfrom(2048, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                r, slow = answer(m) if len(m) > 12 else (None, False)
                if r is None:
                    continue
                if slow:
                    seq += 1
                    heapq.heappush(due, (time.monotonic() + delay, seq,
                                         r, peer))
                else:
                    s.sendto(r, peer)
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, r, peer = heapq.heappop(due)
            s.sendto(r, peer)


if __name__ == "__main__":
    main(*sys.argv[1:])
