#!/usr/bin/python3
"""conns.py - the benchmark's own TLS clients (run inside the guest).

  conns.py hold -n N --host H --ca CA [--conc C] [--hold S] [--deadline S]
      Opens N verified TLS connections to H:443, each doing one keep-alive
      GET /1k, prints "READY opened=.. failed=.." once all are open, keeps
      them idle for S seconds, then sends a second GET on every one of them
      (they must still work) and prints "DONE ok=.. failed=.. errors=..".
      Used for "RSS per idle connection" (N=1000) and "10,000 concurrent
      connections held without errors".

  conns.py sni --names FILE --ca CA [--deadline S]
      For each name of FILE (never seen before by the proxy): one request on
      a new TLS connection to https://NAME/1k (timed), then a second one on
      another new connection to the same name (timed, no resumption).
      Prints percentiles of both, and of the paired differences (first minus
      second request of each name), in microseconds.

Every loop is bounded by a count and a deadline.  Certificates and host
names are verified against CA.  No proxy settings are used, ever.
"""
import argparse
import asyncio
import socket
import ssl
import sys
import time


def make_ctx(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    return ctx


def request(host, path="/1k", close=False):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def parse_head(head):
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = None
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if length is None:
        raise ValueError("no Content-Length")
    return status, length


# ------------------------------------------------------------------ hold
async def get_once(reader, writer, host):
    writer.write(request(host))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status, length = parse_head(head[:-4])
    await reader.readexactly(length)
    if status != 200:
        raise ValueError(f"status {status}")


async def hold(args):
    ctx = make_ctx(args.ca)
    sem = asyncio.Semaphore(args.conc)
    conns, errors = [], {}

    def err(e):
        k = type(e).__name__
        errors[k] = errors.get(k, 0) + 1

    async def open_one():
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(
                    args.host, 443, ssl=ctx, server_hostname=args.host), 20)
                await asyncio.wait_for(get_once(r, w, args.host), 20)
                conns.append((r, w))
            except Exception as e:  # counted, reported
                err(e)

    t0 = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(open_one()
                                            for _ in range(args.n))),
                           args.deadline)
    opened = len(conns)
    print(f"READY opened={opened} failed={args.n - opened} "
          f"open_s={time.monotonic() - t0:.1f} errors={errors}", flush=True)
    await asyncio.sleep(args.hold)
    ok = 0

    async def again(r, w):
        nonlocal ok
        async with sem:
            try:
                await asyncio.wait_for(get_once(r, w, args.host), 20)
                ok += 1
            except Exception as e:
                err(e)

    await asyncio.wait_for(asyncio.gather(*(again(r, w)
                                            for r, w in conns)),
                           args.deadline)
    print(f"DONE ok={ok} failed={args.n - ok} errors={errors}", flush=True)
    for _, w in conns:
        w.close()
    await asyncio.sleep(0.5)


# ------------------------------------------------------------------ sni
def timed_get(ctx, name):
    t0 = time.perf_counter_ns()
    with socket.create_connection((name, 443), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=name) as t:
            t.sendall(request(name, close=True))
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = t.recv(65536)
                if not d:
                    raise ValueError("closed before the head")
                buf += d
            head, _, body = buf.partition(b"\r\n\r\n")
            status, length = parse_head(head)
            while len(body) < length:
                d = t.recv(65536)
                if not d:
                    raise ValueError("short body")
                body += d
    if status != 200:
        raise ValueError(f"status {status}")
    return (time.perf_counter_ns() - t0) // 1000


def pct(v, p):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def sni(args):
    ctx = make_ctx(args.ca)
    with open(args.names) as f:
        names = [ln.strip() for ln in f if ln.strip()]
    new, seen, added, errors = [], [], [], 0
    deadline = time.monotonic() + args.deadline
    for name in names[:100000]:
        if time.monotonic() > deadline:
            break
        try:
            a = timed_get(ctx, name)
            b = timed_get(ctx, name)
            new.append(a)
            seen.append(b)
            added.append(a - b)
        except Exception as e:
            errors += 1
            if errors <= 3:
                print(f"error {name}: {e}", file=sys.stderr)
    print(f"SNI names={len(new)} errors={errors} "
          f"new_p50_us={pct(new, 50)} new_p99_us={pct(new, 99)} "
          f"seen_p50_us={pct(seen, 50)} seen_p99_us={pct(seen, 99)} "
          f"added_p50_us={pct(added, 50)} added_p99_us={pct(added, 99)}",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hold")
    h.add_argument("-n", type=int, required=True)
    h.add_argument("--host", required=True)
    h.add_argument("--ca", required=True)
    h.add_argument("--conc", type=int, default=100)
    h.add_argument("--hold", type=float, default=5)
    h.add_argument("--deadline", type=float, default=120)
    s = sub.add_parser("sni")
    s.add_argument("--names", required=True)
    s.add_argument("--ca", required=True)
    s.add_argument("--deadline", type=float, default=60)
    args = ap.parse_args()
    if args.cmd == "hold":
        if not 1 <= args.n <= 20000:
            sys.exit("hold: -n must be 1..20000")
        try:
            asyncio.run(hold(args))
        except asyncio.TimeoutError:
            print("TIMEOUT", flush=True)
            sys.exit(1)
    else:
        sni(args)


if __name__ == "__main__":
    main()
