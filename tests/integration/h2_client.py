#!/usr/bin/python3
"""h2_client.py - a raw HTTP/2 client for the guest (python3-h2, hyperframe).

Does what a hostile guest would, over TLS with ALPN h2, trusting --cafile:
    get PATH...          one stream per PATH (the --authority given)
    forbidden NAME=VAL   one request carrying a field RFC 9113 forbids
    continuation N       HEADERS without END_HEADERS, then N CONTINUATIONs
    rapid-reset N        N streams, each opened and cancelled at once
    open N               N streams opened and left open (no END_STREAM)
Prints one JSON object: statuses by stream, resets by stream (error
code), the GOAWAY error code (or null), whether the server closed.
Bounded: every read has a timeout, and the run stops at --seconds.
"""

import argparse
import json
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
from hyperframe.frame import ContinuationFrame, HeadersFrame, RstStreamFrame


def connect(args):
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection((args.host, args.port), timeout=10)
    sock = ctx.wrap_socket(raw, server_hostname=args.sni)
    if sock.selected_alpn_protocol() != "h2":
        print(json.dumps({"error": "alpn", "alpn":
                          sock.selected_alpn_protocol()}))
        sys.exit(2)
    cfg = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                    validate_outbound_headers=False,
                                    normalize_outbound_headers=False,
                                    validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=cfg)
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def req_headers(args, path, extra=()):
    return [(b":method", b"GET"), (b":scheme", b"https"),
            (b":authority", args.authority.encode()),
            (b":path", path.encode())] + list(extra)


def collect(sock, conn, args, want):
    out = {"statuses": {}, "resets": {}, "goaway": None, "closed": False,
           "bodies": {}}
    end = time.time() + args.seconds
    sock.settimeout(1)
    while time.time() < end and not want(out):
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            out["closed"] = True
            break
        if not data:
            out["closed"] = True
            break
        try:
            events = conn.receive_data(data)
        except Exception as e:  # the server may say odd things to us
            out["client_error"] = repr(e)
            break
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived):
                out["statuses"][ev.stream_id] = int(dict(ev.headers)[b":status"])
            elif isinstance(ev, h2.events.DataReceived):
                b = out["bodies"].get(ev.stream_id, "")
                out["bodies"][ev.stream_id] = b + ev.data.decode("latin-1")
                conn.acknowledge_received_data(ev.flow_controlled_length,
                                               ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                out.setdefault("ended", []).append(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                out["resets"][ev.stream_id] = int(ev.error_code)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                out["goaway"] = int(ev.error_code)
        try:
            sock.sendall(conn.data_to_send())
        except OSError:
            out["closed"] = True
            break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--sni", required=True)
    ap.add_argument("--authority")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    args.authority = args.authority or args.sni
    sock, conn = connect(args)
    n = int(args.args[0]) if args.args and args.args[0].isdigit() else 0
    if args.cmd == "get":
        sids = []
        for p in args.args:
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, req_headers(args, p), end_stream=True)
            sids.append(sid)
        sock.sendall(conn.data_to_send())
        res = collect(sock, conn, args, lambda o: all(
            s in o["resets"] or s in o.get("ended", ()) for s in sids))
    elif args.cmd == "forbidden":
        name, val = args.args[0].split("=", 1)
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, req_headers(args, "/forbidden",
                                           [(name.encode(), val.encode())]),
                          end_stream=True)
        sock.sendall(conn.data_to_send())
        res = collect(sock, conn, args,
                      lambda o: sid in o["resets"] or sid in o["statuses"])
    elif args.cmd in ("continuation", "rapid-reset", "open"):
        enc = conn.encoder
        block = enc.encode(req_headers(args, "/flood"))
        frames = b""
        if args.cmd == "continuation":
            hf = HeadersFrame(1)
            hf.data = block
            frames += hf.serialize()
            for _ in range(n):
                cf = ContinuationFrame(1)
                cf.data = enc.encode([(b"x-pad", b"y" * 8)])
                frames += cf.serialize()
        else:
            for i in range(n):
                sid = 1 + 2 * i
                hf = HeadersFrame(sid)
                hf.data = block if i == 0 else enc.encode(
                    req_headers(args, "/flood"))
                hf.flags.add("END_HEADERS")
                if args.cmd == "rapid-reset":
                    hf.flags.add("END_STREAM")
                frames += hf.serialize()
                if args.cmd == "rapid-reset":
                    frames += RstStreamFrame(sid, error_code=8).serialize()
        try:
            sock.sendall(frames)
        except OSError:
            pass
        # our own state machine did not see these frames: read raw
        res = {"statuses": {}, "resets": {}, "goaway": None, "closed": False}
        sock.settimeout(1)
        end = time.time() + args.seconds
        buf = b""
        while time.time() < end:
            try:
                d = sock.recv(65536)
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                d = b""
            if not d:
                res["closed"] = True
                break
            buf += d
        off = 0
        while off + 9 <= len(buf):
            ln = int.from_bytes(buf[off:off + 3], "big")
            typ, sid = buf[off + 3], int.from_bytes(buf[off + 5:off + 9],
                                                    "big") & 0x7fffffff
            pl = buf[off + 9:off + 9 + ln]
            if typ == 7 and len(pl) >= 8 and res["goaway"] is None:
                res["goaway"] = int.from_bytes(pl[4:8], "big")
            elif typ == 3 and len(pl) >= 4:
                res["resets"][sid] = int.from_bytes(pl[:4], "big")
            elif typ == 1:
                res["statuses"][sid] = "headers"
            off += 9 + ln
    else:
        ap.error("unknown command")
    res.pop("ended", None)
    print(json.dumps(res, sort_keys=True))


if __name__ == "__main__":
    main()
