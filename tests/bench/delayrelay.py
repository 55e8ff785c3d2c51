#!/usr/bin/python3
"""delayrelay.py LISTEN_ADDR:PORT TARGET_ADDR:PORT RTT_MS - a TCP relay that
plays a distant server, for tests/bench/h2.sh (this kernel has no sch_netem).

Every accepted connection is relayed to TARGET, each direction's bytes held
RTT_MS / 2 before they are passed on, in order.  The relay's own accept
answers the client's SYN at once, so the client's first bytes are held one
more RTT_MS: the server sees them when it would behind a real round trip
(connect, then the first flight), and the client's handshake takes the
connect round trip plus its own, as over a network with RTT_MS.  Bounded:
at most 2000 connections at a time, each ends with either side.  Runs until
killed.
"""
import asyncio
import sys

MAX_CONNS = 2000


async def pump(reader, writer, hold_s, first_extra_s):
    """Copy reader to writer, every chunk hold_s after it was read."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()
    extra = first_extra_s

    async def sender():
        while True:
            due, data = await q.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            await q.put((loop.time() + hold_s + extra, data or None))
            extra = 0.0
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()


async def main(listen, target, rtt_ms):
    lhost, lport = listen.rsplit(":", 1)
    thost, tport = target.rsplit(":", 1)
    hold = rtt_ms / 2000.0
    live = [0]

    async def handle(cr, cw):
        if live[0] >= MAX_CONNS:
            cw.close()
            return
        live[0] += 1
        sw = None
        try:
            sr, sw = await asyncio.open_connection(thost, int(tport))
            await asyncio.gather(pump(cr, sw, hold, 2 * hold),
                                 pump(sr, cw, hold, 0.0))
        except (ConnectionError, OSError):
            pass
        finally:
            live[0] -= 1
            cw.close()
            if sw is not None:
                sw.close()

    srv = await asyncio.start_server(handle, lhost, int(lport), backlog=1024)
    print(f"relaying {listen} -> {target}, rtt {rtt_ms} ms", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
