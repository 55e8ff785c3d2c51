#!/usr/bin/python3
"""ws_check.py URL [--cafile F] - python3-websockets (a strict RFC 6455
client: it checks the 101's Upgrade, Connection and Sec-WebSocket-Accept)
through the gateway, against node/ws-server.js.  The same two connections
as node/ws-check.js:
  URL: a text and a binary message echoed, a 200 KiB binary message (a
  64-bit frame length) echoed intact, a ping answered by its pong, then
  "close:4002": the server's close code and reason must arrive;
  URL + "-close": the client closes with 4001 "client bye".
Prints JSON with each outcome; exit 0 only if all of them are right.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

import websockets


async def first(args, kw, out):
    big = os.urandom(200 * 1024)
    binary = bytes(range(256))
    async with websockets.connect(args.url, **kw) as ws:
        out["open"] = True
        t = args.timeout
        await ws.send("hello ünïcode")
        out["text"] = await asyncio.wait_for(ws.recv(), t) == "hello ünïcode"
        await ws.send(binary)
        out["binary"] = await asyncio.wait_for(ws.recv(), t) == binary
        await ws.send(big)
        out["big"] = await asyncio.wait_for(ws.recv(), t) == big
        pong = await ws.ping(b"p1")
        await asyncio.wait_for(pong, t)
        out["pong"] = True
        await ws.send("close:4002")
        try:
            await asyncio.wait_for(ws.recv(), t)
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), t)
        out["server_close"] = ws.close_code
        out["server_reason"] = ws.close_reason


async def second(args, kw, out):
    async with websockets.connect(args.url + "-close", **kw) as ws:
        await ws.close(code=4001, reason="client bye")
        out["client_close"] = ws.close_code


async def hold(args, kw, out):
    """--hold FILE: one 200 KiB echo, FILE written, then the session
    stays open until the other side ends it (a gateway stopping)."""
    big = os.urandom(200 * 1024)
    async with websockets.connect(args.url, **kw) as ws:
        await ws.send(big)
        out["big"] = await asyncio.wait_for(ws.recv(), args.timeout) == big
        with open(args.hold, "w", encoding="utf-8") as f:
            f.write("open\n")
        await asyncio.wait_for(ws.wait_closed(), 3 * args.timeout)
        out["server_close"] = ws.close_code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--cafile")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--hold")
    args = ap.parse_args()
    kw = {"open_timeout": args.timeout, "compression": None,
          "max_size": 4 << 20}
    if args.url.startswith("wss:"):
        kw["ssl"] = ssl.create_default_context(cafile=args.cafile)
    out = {}
    try:
        if args.hold:
            asyncio.run(hold(args, kw, out))
            print(json.dumps(out), flush=True)
            return 0 if out.get("big") else 1
        asyncio.run(first(args, kw, out))
        asyncio.run(second(args, kw, out))
    except Exception as e:  # every failure is the test's answer
        out["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out), flush=True)
    good = (out.get("text") and out.get("binary") and out.get("big") and
            out.get("pong") and out.get("server_close") == 4002 and
            out.get("server_reason") == "server bye" and
            out.get("client_close") == 4001 and "error" not in out)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
