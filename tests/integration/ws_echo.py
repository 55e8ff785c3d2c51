#!/usr/bin/python3
"""ws_echo.py URL [--cafile F] [--msg TEXT]... - python3-websockets as the
guest's WebSocket client: a strict RFC 6455 client (it checks the 101's
Upgrade, Connection and Sec-WebSocket-Accept), unlike client.py's ws.
Sends each message, reads its echo; prints JSON {status, echoes} or
{error}; exit 0 only if every echo matches.
"""

import argparse
import asyncio
import json
import ssl
import sys

import websockets


async def run(args):
    kw = {}
    if args.url.startswith("wss:"):
        kw["ssl"] = ssl.create_default_context(cafile=args.cafile)
    echoes = []
    async with websockets.connect(args.url, open_timeout=args.timeout,
                                  compression=None, **kw) as ws:
        for m in args.msg:
            await ws.send(m)
            echoes.append(await asyncio.wait_for(ws.recv(), args.timeout))
    return echoes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--cafile")
    ap.add_argument("--msg", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    try:
        echoes = asyncio.run(run(args))
    except Exception as e:  # every failure is the test's answer
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}), flush=True)
        return 1
    print(json.dumps({"status": 101, "echoes": echoes}), flush=True)
    return 0 if echoes == args.msg else 1


if __name__ == "__main__":
    sys.exit(main())
