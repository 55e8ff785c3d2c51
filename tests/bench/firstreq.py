#!/usr/bin/python3
"""firstreq.py FILE - the table of tests/bench/h2.sh's first-request test.

FILE has one line per name and protocol, written by the guest's loop:
  TAG PROTO VERSION1 VERSION2 CONNECT1 APPCONNECT1 TTFB1 CONNECT2 ...
(curl's -w times in seconds of a first request to a never-seen name on a
new connection, then of a second new connection to the same name).  A
line whose curl failed, or whose protocol is not the one offered (h2 must
be answered h2, http/1.1 with 1.1), counts as an error.  Prints, per TAG
(the upstream's delay) and protocol: first-byte times of the first and
the second request (p50, p99, ms) and their paired difference, the cost
of the new name; and per TAG the h2 - http/1.1 difference of the medians,
the cost of ALPN mirroring on a new connection.
"""
import sys


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main(path):
    rows = {}
    with open(path) as f:
        for ln in f:
            w = ln.split()
            if len(w) < 2:
                continue
            r = rows.setdefault((w[0], w[1]), {"first": [], "second": [],
                                              "added": [], "hs1": [],
                                              "hs2": [], "err": 0})
            want = "2" if w[1] == "h2" else "1.1"
            try:
                if len(w) != 10 or w[2] != want or w[3] != want:
                    raise ValueError
                c1, a1, t1, c2, a2, t2 = (float(x) * 1000 for x in w[4:])
            except ValueError:
                r["err"] += 1
                continue
            r["first"].append(t1)
            r["second"].append(t2)
            r["added"].append(t1 - t2)
            r["hs1"].append(a1 - c1)
            r["hs2"].append(a2 - c2)
    print("| upstream RTT | guest offers | names | errors | first request: "
          "first byte p50 / p99 ms | second new connection p50 / p99 ms | "
          "added by the new name (first - second, paired) p50 / p99 ms | "
          "guest TLS handshake, first p50 ms |")
    print("|---|---|---|---|---|---|---|---|")
    tags = []
    for (tag, proto), r in sorted(rows.items()):
        if tag not in tags:
            tags.append(tag)
        print(f"| {tag} | {proto} | {len(r['first'])} | {r['err']} | "
              f"{pct(r['first'], 50):.2f} / {pct(r['first'], 99):.2f} | "
              f"{pct(r['second'], 50):.2f} / {pct(r['second'], 99):.2f} | "
              f"{pct(r['added'], 50):.2f} / {pct(r['added'], 99):.2f} | "
              f"{pct(r['hs1'], 50):.2f} |")
    print()
    print("| upstream RTT | h2 - http/1.1, first request p50 ms | "
          "h2 - http/1.1, second connection p50 ms |")
    print("|---|---|---|")
    for tag in tags:
        a, b = rows.get((tag, "h2")), rows.get((tag, "http1.1"))
        if a and b:
            print(f"| {tag} | "
                  f"{pct(a['first'], 50) - pct(b['first'], 50):+.2f} | "
                  f"{pct(a['second'], 50) - pct(b['second'], 50):+.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
