#!/usr/bin/python3
"""grpc_calls.py - unary calls/s for tests/bench/h2.sh (python3-grpcio).

Against the server of tests/integration/grpc_test.py (method /t.T/Unary
echoes the request): CALLS unary calls in total, spread over CHANNELS
channels, each its own TLS connection (a local subchannel pool, so grpcio
does not share one connection between them) driven by its own thread,
one call at a time.  Every answer is checked (the echo of what was sent);
a failed or wrong call ends the run with exit status 1.

  grpc_calls.py --target HOST:PORT --cafile CA --calls N --channels C
prints "CALLS SECONDS calls/s" on one line.  The channels are connected
(and one warm-up call made on each) before the clock starts.
"""

import argparse
import sys
import threading
import time

import grpc


def channel(target, ca):
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(ca),
                               options=[("grpc.use_local_subchannel_pool",
                                         1)])


def run(stub, n, tag, errors):
    for i in range(n):
        req = b"%s-%d" % (tag, i)
        try:
            if stub(req, timeout=10) != req:
                errors.append("wrong answer to %r" % req)
                return
        except grpc.RpcError as e:
            errors.append("%r: %s" % (req, e.code()))
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--channels", type=int, default=1)
    a = ap.parse_args()
    if a.calls < a.channels or a.channels < 1:
        sys.exit("need --calls >= --channels >= 1")
    with open(a.cafile, "rb") as f:
        ca = f.read()
    chans = [channel(a.target, ca) for _ in range(a.channels)]
    stubs = [c.unary_unary("/t.T/Unary") for c in chans]
    for s in stubs:
        s(b"warm-up", timeout=10)
    per = a.calls // a.channels
    errors = []
    threads = [threading.Thread(target=run, args=(s, per, b"c%d" % k, errors))
               for k, s in enumerate(stubs)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    for c in chans:
        c.close()
    if errors:
        sys.exit("grpc_calls: " + errors[0])
    n = per * a.channels
    print("%d %.3f %.1f" % (n, dt, n / dt))


if __name__ == "__main__":
    main()
