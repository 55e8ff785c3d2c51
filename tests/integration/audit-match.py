#!/usr/bin/python3
"""audit-match.py FILE COND... - count the JSON lines of a gatewayd audit
log (audit.format = "json", docs/audit-log.md) that satisfy every COND:

  KEY=VALUE   the key is present with exactly that value (numbers compared
              as their decimal text)
  KEY>=N      the key is present with a number at least N
  !KEY        the key is absent

Prints the count.  A missing file counts 0; a line that is not a JSON
object (the writer's last line may be half written) matches nothing.
"""
import json
import sys


def parse_conds(args):
    conds = []
    for a in args:
        if a.startswith("!"):
            conds.append((a[1:], None))
        elif ">=" in a:
            k, v = a.split(">=", 1)
            conds.append((k, int(v)))
        elif "=" in a:
            k, v = a.split("=", 1)
            conds.append((k, v))
        else:
            sys.exit("audit-match.py: bad condition %r" % a)
    return conds


def matches(rec, conds):
    for k, v in conds:
        if v is None:
            if k in rec:
                return False
        elif isinstance(v, int):
            n = rec.get(k)
            if isinstance(n, bool) or not isinstance(n, int) or n < v:
                return False
        elif k not in rec or str(rec[k]) != v:
            return False
    return True


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    conds = parse_conds(sys.argv[2:])
    n = 0
    try:
        with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and matches(rec, conds):
                    n += 1
    except FileNotFoundError:
        pass
    print(n)


main()
