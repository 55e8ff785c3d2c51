#!/usr/bin/python3
"""report.py - tables from a tests/bench/run.sh result directory.

  report.py OUTDIR [--doc docs/performance.md]

Reads OUTDIR/meta.txt and OUTDIR/<mode>/<test>.<run>.txt (key=value lines
written by measure.sh), takes the median over runs of each cell, prints one
table (mode x metric), each mode's ratio to direct, gatewayd against the
targets of issue 8, and, with --doc, writes the same between the markers
<!-- bench:begin --> and <!-- bench:end --> of the document (the text
around the markers is kept; the document is created if missing).
"""
import glob
import os
import re
import statistics
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MODE_ORDER = ["direct", "gatewayd", "gwbase", "sslsplit", "squid", "mitmproxy"]
PEERS = ["sslsplit", "squid", "mitmproxy"]


def kv(path):
    d = {}
    try:
        with open(path) as f:
            for ln in f:
                k, sep, v = ln.strip().partition("=")
                if sep:
                    d[k] = v
    except OSError:
        pass
    return d


def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return None


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def cells(out, mode, test):
    return [kv(p) for p in sorted(glob.glob(f"{out}/{mode}/{test}.[0-9]*.txt"))]


def spread(vals):
    vals = [v for v in vals if v]
    if len(vals) < 2:
        return None
    return 100.0 * (max(vals) - min(vals)) / statistics.median(vals)


def collect(out, mode):
    m = {"status": kv(f"{out}/{mode}/status.txt").get("status", "not run")}
    errs, stalled, cw, spreads = 0, 0, 0, {}
    for test in ("ka", "full", "bulk", "http"):
        cs = cells(out, mode, test)
        if not cs:
            continue
        rate, cpu_unit, p50, p99, mbs, resumed = [], [], [], [], [], 0
        ngx = []
        upc = upr = 0
        for c in cs:
            req, dur = num(c, "requests"), num(c, "duration_us")
            cpu, byt = num(c, "proxy_cpu_s"), num(c, "bytes")
            if req and dur:
                rate.append(req / (dur / 1e6))
                if num(c, "nginx_cpu_s") is not None and test != "bulk":
                    ngx.append(num(c, "nginx_cpu_s") * 1e6 / req)
                mbs.append(byt / (dur / 1e6) / 1e6 if byt else None)
                if mode != "direct" and cpu is not None:
                    if test == "bulk":
                        cpu_unit.append(cpu * 1e3 / (byt / 10485760))
                    else:
                        cpu_unit.append(cpu * 1e6 / req)
            p50.append((num(c, "p50_us") or 0) / 1e3)
            p99.append((num(c, "p99_us") or 0) / 1e3)
            for k in ("err_connect", "err_read", "err_write", "err_status",
                      "err_timeout"):
                errs += int(num(c, k) or 0)
            if test != "full":
                stalled = max(stalled, int(num(c, "stalled") or 0))
            cw = max(cw, int(num(c, "closewait") or 0))
            resumed += int(num(c, "tls_resumed") or 0)
            upc += int(num(c, "up_conns") or 0)
            upr += int(num(c, "up_resumed") or 0)
            m["peak_rss_mb"] = max(m.get("peak_rss_mb", 0),
                                   (num(c, "peak_rss_kb") or 0) / 1024)
        m[f"{test}_rate"] = median(rate)
        m[f"{test}_cpu"] = median(cpu_unit)
        m[f"{test}_p50"] = median(p50)
        m[f"{test}_p99"] = median(p99)
        m[f"{test}_mbs"] = median(mbs)
        m[f"{test}_runs"] = len(cs)
        m[f"{test}_nginx"] = median(ngx)
        if test == "full":
            m["full_resumed"] = resumed
            m["full_up_conns"], m["full_up_resumed"] = upc, upr
        spreads[test] = spread(rate)
    m["errors"], m["stalled"], m["closewait"] = errs, stalled, cw
    m["closewait_end"] = int(num(kv(f"{out}/{mode}/end.txt"),
                                 "closewait_end") or 0)
    m["spread"] = spreads
    s = kv(f"{out}/{mode}/sni.txt")
    if s:
        m["sni_n"] = int(num(s, "names") or 0)
        m["sni_err"] = int(num(s, "errors") or 0)
        for k in ("new_p50_us", "new_p99_us", "seen_p50_us", "seen_p99_us",
                  "added_p50_us", "added_p99_us"):
            m["sni_" + k] = num(s, k)
    for name in ("idle", "hold"):
        h = kv(f"{out}/{mode}/{name}.txt")
        if not h:
            continue
        opened = num(h, "opened") or 0
        m[name + "_n"] = int(num(h, "n") or 0)
        m[name + "_opened"] = int(opened)
        m[name + "_ok"] = int(num(h, "ok") or 0)
        before, held = num(h, "rss_before_kb"), num(h, "rss_held_kb")
        settled = num(h, "rss_settled_kb")
        if opened and before and held:
            # per idle connection: after they sat idle, when measured
            m[name + "_kib"] = ((settled or held) - before) / opened
            m[name + "_kib_held"] = (held - before) / opened
            m[name + "_rss_mb"] = held / 1024
    return m


def f(v, fmt="{:,.0f}", none="–"):
    return none if v is None else fmt.format(v)


def ratio(a, b):
    return None if a is None or not b else a / b


def tables(out):
    meta = kv(f"{out}/meta.txt")
    modes = [m for m in MODE_ORDER if m in meta.get("modes", "").split()]
    modes += [m for m in meta.get("modes", "").split() if m not in modes]
    data = {m: collect(out, m) for m in modes}
    d = data.get("direct", {})
    L = []
    L.append("| mode | HTTPS keep-alive req/s | p50 ms | p99 ms "
             "| full-handshake conn/s | HTTPS bulk MB/s | HTTP keep-alive req/s "
             "| CPU µs/req (HTTPS ka) | CPU µs/conn (full) "
             "| CPU ms/10 MiB (bulk) | CPU µs/req (HTTP) | peak RSS MiB "
             "| KiB/idle conn (1,000) | new SNI: first request p50 / p99 ms "
             "(added vs. second) "
             "| stalled / CLOSE-WAIT | wrk errors |")
    L.append("|---" + "|---:" * 15 + "|")
    for mode in modes:
        m = data[mode]
        if m["status"] not in ("ok",):
            L.append(f"| {mode} | {m['status']} |" + " |" * 14)
            continue
        sni = "–"
        if m.get("sni_n"):
            sni = (f"{m['sni_new_p50_us'] / 1e3:.2f} / "
                   f"{m['sni_new_p99_us'] / 1e3:.2f} "
                   f"({m['sni_added_p50_us'] / 1e3:+.2f} / "
                   f"{m['sni_added_p99_us'] / 1e3:+.2f})")
            if m.get("sni_err"):
                sni += f" ({m['sni_err']} err)"
        L.append(
            f"| {mode} | {f(m.get('ka_rate'))} | {f(m.get('ka_p50'), '{:.2f}')}"
            f" | {f(m.get('ka_p99'), '{:.2f}')} | {f(m.get('full_rate'))}"
            f" | {f(m.get('bulk_mbs'), '{:,.1f}')} | {f(m.get('http_rate'))}"
            f" | {f(m.get('ka_cpu'), '{:,.1f}')} | {f(m.get('full_cpu'))}"
            f" | {f(m.get('bulk_cpu'), '{:,.1f}')} | {f(m.get('http_cpu'), '{:,.1f}')}"
            f" | {f(m.get('peak_rss_mb') if mode != 'direct' else None, '{:,.1f}')}"
            f" | {f(m.get('idle_kib'), '{:,.1f}')} | {sni}"
            f" | {m['stalled']} / {max(m['closewait'], m['closewait_end'])}"
            f" | {m['errors']} |")
    R = ["| mode | HTTPS keep-alive | full handshakes | bulk | plain HTTP "
         "| p50 | p99 |", "|---" + "|---:" * 6 + "|"]
    for mode in modes:
        m = data[mode]
        if mode == "direct" or m["status"] != "ok":
            continue
        R.append(
            f"| {mode} | {f(ratio(m.get('ka_rate'), d.get('ka_rate')), '{:.2f}×')}"
            f" | {f(ratio(m.get('full_rate'), d.get('full_rate')), '{:.2f}×')}"
            f" | {f(ratio(m.get('bulk_mbs'), d.get('bulk_mbs')), '{:.2f}×')}"
            f" | {f(ratio(m.get('http_rate'), d.get('http_rate')), '{:.2f}×')}"
            f" | {f(ratio(m.get('ka_p50'), d.get('ka_p50')), '{:.2f}×')}"
            f" | {f(ratio(m.get('ka_p99'), d.get('ka_p99')), '{:.2f}×')} |")
    T = targets(data, d)
    X = extras(data, modes)
    return meta, L, R, T, X


def targets(data, d):
    g = data.get("gatewayd")
    if not g or g["status"] != "ok":
        return ["gatewayd was not measured."]
    peers = [data[p] for p in PEERS if p in data and data[p]["status"] == "ok"]

    def best(key, hi=True):
        v = [p.get(key) for p in peers if p.get(key) is not None]
        if not v:
            return None
        return max(v) if hi else min(v)

    rows = []

    def row(name, val, target, ok, peer_key=None, hi=True, fmt="{:.2f}"):
        pk = "–"
        if peer_key:
            b = best(peer_key, hi)
            mine = g.get(peer_key)
            if b is not None and mine is not None:
                ahead = mine > b if hi else mine < b
                pk = ("yes" if ahead else "**no**") + f" (best peer {f(b, fmt)})"
        rows.append(f"| {name} | {val} | {target} | "
                    f"{'met' if ok else '**missed**'} | {pk} |")

    def r(a, b):
        return ratio(g.get(a), d.get(b or a))

    v = r("ka_rate", None)
    row("HTTPS keep-alive / direct", f(v, "{:.2f}×"), "≥ 0.65×",
        v is not None and v >= 0.65, "ka_rate", True, "{:,.0f}")
    v = g.get("ka_cpu")
    row("proxy CPU per keep-alive request", f(v, "{:.1f} µs"), "≤ 18 µs",
        v is not None and v <= 18, "ka_cpu", False, "{:.1f}")
    v = r("full_rate", None)
    row("full-handshake conn/s / direct", f(v, "{:.2f}×"), "≥ 0.50×",
        v is not None and v >= 0.5, "full_rate", True, "{:,.0f}")
    v = g.get("full_cpu")
    row("proxy CPU per full-handshake connection", f(v, "{:,.0f} µs"),
        "≤ 1,200 µs", v is not None and v <= 1200, "full_cpu", False,
        "{:,.0f}")
    v = r("bulk_mbs", None)
    row("bulk / direct", f(v, "{:.2f}×"), "≥ 0.65×",
        v is not None and v >= 0.65, "bulk_mbs", True, "{:,.1f}")
    v = g.get("bulk_cpu")
    row("proxy CPU per 10 MiB", f(v, "{:.1f} ms"), "≤ 15 ms",
        v is not None and v <= 15, "bulk_cpu", False, "{:.1f}")
    v = r("http_rate", None)
    row("plain HTTP keep-alive / direct", f(v, "{:.2f}×"), "≥ 0.75×",
        v is not None and v >= 0.75, "http_rate", True, "{:,.0f}")
    v = r("ka_p99", None)
    row("p99 keep-alive / direct", f(v, "{:.2f}×"), "≤ 2×",
        v is not None and v <= 2, "ka_p99", False, "{:.2f}")
    v = g.get("idle_kib")
    row("memory per idle intercepted connection", f(v, "{:.1f} KiB"),
        "≤ 32 KiB", v is not None and v <= 32, "idle_kib", False, "{:.1f}")
    v = g.get("sni_added_p99_us")
    row("new SNI, added latency at p99", f(v and v / 1e3, "{:.2f} ms"),
        "< 1 ms", v is not None and v < 1000)
    n, ok = g.get("hold_n"), g.get("hold_ok")
    row(f"{f(n)} concurrent connections held",
        f"{f(g.get('hold_opened'))} opened, {f(ok)} answered again",
        "no errors", bool(n) and ok == n)
    return (["| target | gatewayd | issue 8 | | ahead of every peer |",
             "|---|---:|---|---|---|"] + rows)


def extras(data, modes):
    X = []
    for mode in modes:
        m = data[mode]
        if m["status"] != "ok":
            continue
        bits = []
        if m.get("full_resumed"):
            bits.append(f"client resumed {m['full_resumed']} handshakes in "
                        "'full' (should be 0)")
        if m.get("ka_nginx") is not None:
            bits.append(f"nginx CPU per request/connection: ka "
                        f"{m['ka_nginx']:.1f} µs, http "
                        f"{f(m.get('http_nginx'), '{:.1f}')} µs, full "
                        f"{f(m.get('full_nginx'))} µs")
        if m.get("full_up_conns"):
            bits.append(
                f"full handshakes: upstream resumed {m['full_up_resumed']:,} "
                f"of {m['full_up_conns']:,} connections "
                f"({100.0 * m['full_up_resumed'] / m['full_up_conns']:.0f}%)")
        sp = ", ".join(f"{t} {v:.0f}%" for t, v in m["spread"].items()
                       if v is not None)
        if sp:
            bits.append("run-to-run spread " + sp)
        if m.get("sni_n"):
            bits.append(
                f"SNI: {m['sni_n']} names, first request p50/p99 "
                f"{m['sni_new_p50_us'] / 1e3:.2f}/{m['sni_new_p99_us'] / 1e3:.2f} ms, "
                f"second {m['sni_seen_p50_us'] / 1e3:.2f}/"
                f"{m['sni_seen_p99_us'] / 1e3:.2f} ms")
        if m.get("idle_n"):
            bits.append(f"idle: {m['idle_opened']}/{m['idle_n']} opened, "
                        f"RSS {m.get('idle_rss_mb', 0):.1f} MiB held, "
                        f"{m.get('idle_kib_held', 0):.1f} KiB per connection "
                        f"right after opening, "
                        f"{m.get('idle_kib', 0):.1f} KiB after "
                        f"{os.environ.get('IDLE_SETTLE_S', '12')} s idle")
        if m.get("hold_n"):
            bits.append(f"hold: {m['hold_opened']}/{m['hold_n']} opened, "
                        f"{m['hold_ok']} answered a second request, RSS "
                        f"{m.get('hold_rss_mb', 0):.1f} MiB")
        X.append(f"- **{mode}**: " + "; ".join(bits))
    return X


def render(out):
    meta, L, R, T, X = tables(out)
    o = []
    o.append(f"Run {meta.get('date', '?')}: `{meta.get('command', '?').strip()}` "
             f"({meta.get('knobs', '')}).")
    o.append("")
    o.append(f"Machine: {meta.get('cpu', '?')}, {meta.get('ram', '?')}, "
             f"{meta.get('os', '?')}, kernel {meta.get('kernel', '?')}; "
             f"load average {meta.get('loadavg_start', '?')} at the start, "
             f"{meta.get('loadavg_end', '?')} at the end. "
             f"{meta.get('openssl', '')}, nginx {meta.get('nginx', '')}, "
             f"{meta.get('wrk', '')}, {meta.get('python', '')}; "
             f"open files limit (hard) {meta.get('nofile', '?')}.")
    vers = [meta[k] for k in sorted(meta) if k.startswith("version_")
            and not k.endswith("direct")]
    o.append("Modes: " + "; ".join(vers) + ".")
    o.append("")
    o.append("Medians over the runs of each cell.")
    o.append("")
    o += L
    o.append("")
    o.append("Ratio to direct (throughput: higher is better; latency: lower "
             "is better):")
    o.append("")
    o += R
    o.append("")
    o.append("gatewayd against the targets of issue 8 (same run):")
    o.append("")
    o += T
    o.append("")
    o += X
    return "\n".join(o) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    text = render(out)
    print(text)
    if "--doc" in sys.argv:
        doc = sys.argv[sys.argv.index("--doc") + 1]
        block = f"{BEGIN}\n{text}{END}"
        if os.path.exists(doc):
            old = open(doc).read()
            if BEGIN in old and END in old:
                new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END),
                             lambda _: block, old, flags=re.S)
            else:
                new = old.rstrip("\n") + "\n\n" + block + "\n"
        else:
            new = "# Performance\n\n" + block + "\n"
        with open(doc + ".tmp", "w") as fh:
            fh.write(new)
        os.replace(doc + ".tmp", doc)
        print(f"wrote {doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
