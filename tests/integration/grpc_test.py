#!/usr/bin/python3
"""grpc_test.py - a gRPC server and client (python3-grpcio) for t-grpc.

No generated code: generic handlers over raw bytes.  Methods of t.T:
    Unary         echoes the request; b"fail" aborts INVALID_ARGUMENT with
                  a message; echoes x-meta back in initial and trailing
                  metadata
    Slow          waits 3 s (the client's deadline is shorter)
    ServerStream  the request is a count N: N messages back
    ClientStream  a sha256 of all messages received
    Bidi          each message echoed as it comes, in order
  server --listen ADDR:PORT --cert --key --log  (one JSON line per call:
                  method, metadata, the deadline left)
  client --target HOST:PORT --cafile           runs every check, prints
                  "ok NAME" per check, exits 1 at the first failure
"""

import argparse
import hashlib
import json
import sys
import threading
import time
from concurrent import futures

import grpc

_lock = threading.Lock()


def ident(b):
    return b


class Handler(grpc.GenericRpcHandler):
    def __init__(self, log):
        self.log = log

    def record(self, ctx, method):
        left = ctx.time_remaining()
        rec = {"method": method,
               "metadata": [[k, v if isinstance(v, str) else "<bin>"]
                            for k, v in ctx.invocation_metadata()],
               "deadline_left": None if left is None or left > 1e6
               else round(left, 3)}
        with _lock, open(self.log, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def service(self, details):
        m = details.method
        if m == "/t.T/Unary":
            return grpc.unary_unary_rpc_method_handler(
                self.unary, ident, ident)
        if m == "/t.T/Slow":
            return grpc.unary_unary_rpc_method_handler(
                self.slow, ident, ident)
        if m == "/t.T/ServerStream":
            return grpc.unary_stream_rpc_method_handler(
                self.server_stream, ident, ident)
        if m == "/t.T/ClientStream":
            return grpc.stream_unary_rpc_method_handler(
                self.client_stream, ident, ident)
        if m == "/t.T/Bidi":
            return grpc.stream_stream_rpc_method_handler(
                self.bidi, ident, ident)
        return None

    def unary(self, req, ctx):
        self.record(ctx, "Unary")
        meta = dict(ctx.invocation_metadata())
        if "x-meta" in meta:
            ctx.send_initial_metadata((("x-meta-echo", meta["x-meta"]),))
            ctx.set_trailing_metadata((("x-trail", "t-" + meta["x-meta"]),))
        if req == b"fail":
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT,
                      "bad argument: caf\u00e9 100%")
        return req

    def slow(self, req, ctx):
        self.record(ctx, "Slow")
        time.sleep(3)
        return b"late"

    def server_stream(self, req, ctx):
        self.record(ctx, "ServerStream")
        for i in range(int(req)):
            yield b"msg-%d" % i

    def client_stream(self, it, ctx):
        self.record(ctx, "ClientStream")
        h = hashlib.sha256()
        n = 0
        for m in it:
            h.update(m)
            n += 1
        return ("%d %s" % (n, h.hexdigest())).encode()

    def bidi(self, it, ctx):
        self.record(ctx, "Bidi")
        for m in it:
            yield b"echo:" + m


def server(args):
    with open(args.cert, "rb") as f:
        cert = f.read()
    with open(args.key, "rb") as f:
        key = f.read()
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                    options=[("grpc.max_receive_message_length", 8 << 20),
                             ("grpc.max_send_message_length", 8 << 20)])
    s.add_generic_rpc_handlers((Handler(args.log),))
    s.add_secure_port(args.listen, grpc.ssl_server_credentials([(key, cert)]))
    s.start()
    s.wait_for_termination()


def check(name, cond, detail=""):
    if not cond:
        print("FAIL %s %s" % (name, detail))
        sys.exit(1)
    print("ok %s" % name)
    sys.stdout.flush()


def client(args):
    with open(args.cafile, "rb") as f:
        ca = f.read()
    ch = grpc.secure_channel(args.target, grpc.ssl_channel_credentials(ca),
                             options=[("grpc.max_receive_message_length",
                                       8 << 20)])
    unary = ch.unary_unary("/t.T/Unary")
    resp, call = unary.with_call(b"hello", timeout=10,
                                 metadata=(("x-meta", "m1"),))
    check("unary", resp == b"hello", repr(resp))
    check("metadata", ("x-meta-echo", "m1") in call.initial_metadata(),
          repr(call.initial_metadata()))
    check("trailing-metadata", ("x-trail", "t-m1") in
          call.trailing_metadata(), repr(call.trailing_metadata()))
    try:
        unary(b"fail", timeout=10)
        check("status", False, "no error")
    except grpc.RpcError as e:
        check("status", e.code() == grpc.StatusCode.INVALID_ARGUMENT,
              repr(e.code()))
        check("status-message", e.details() == "bad argument: caf\u00e9 100%",
              repr(e.details()))
    big = bytes(i % 253 for i in range(1 << 20))
    check("1MB", unary(big, timeout=20) == big)
    t0 = time.time()
    try:
        ch.unary_unary("/t.T/Slow")(b"x", timeout=1)
        check("deadline", False, "no error")
    except grpc.RpcError as e:
        check("deadline", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and
              time.time() - t0 < 2.5, "%r after %.1fs" % (e.code(),
                                                          time.time() - t0))
    msgs = list(ch.unary_stream("/t.T/ServerStream")(b"50", timeout=10))
    check("server-streaming", msgs == [b"msg-%d" % i for i in range(50)],
          "%d messages" % len(msgs))
    parts = [b"part-%d" % i * 100 for i in range(40)]
    out = ch.stream_unary("/t.T/ClientStream")(iter(parts), timeout=10)
    check("client-streaming", out == ("40 %s" % hashlib.sha256(
        b"".join(parts)).hexdigest()).encode(), repr(out))
    # bidi: each answer arrives before the next message is sent, so
    # nothing on the way is buffered whole
    ev = threading.Event()

    def gen():
        for i in range(10):
            yield b"b%d" % i
            ev.wait(5)
            ev.clear()
    got = []
    for m in ch.stream_stream("/t.T/Bidi")(gen(), timeout=20):
        got.append(m)
        ev.set()
    check("bidi", got == [b"echo:b%d" % i for i in range(10)], repr(got))
    ch.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--listen")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--log")
    ap.add_argument("--target")
    ap.add_argument("--cafile")
    args = ap.parse_args()
    if args.mode == "server":
        server(args)
    else:
        client(args)


if __name__ == "__main__":
    main()
