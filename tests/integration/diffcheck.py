#!/usr/bin/python3
"""diffcheck.py - the verdict of the differential test.

  diffcheck.py --recorder REC.log --audit AUDIT.json [--sent SENT.jsonl]
               [--examples N]

Joins what the upstream received (recorder.py's log: every request as h11
parsed it) with what the gateway judged (its JSON audit log, kind http or
tunnel) and checks the invariant:

  Every request an upstream receives is one the gateway judged and
  logged, with the same method, target and host, and carries a secret
  only where a secret rule matched.

A received request is matched by (scheme, method, target, host) to an
audit record whose url is scheme://host/target.  Violations:
  unlogged   received upstream, no audit record has it
  refused    received upstream, but the gateway logged it as refused
             (a 4xx it answered itself: reason set) - the upstream saw a
             request the log says never left
  misorder   requests of one upstream connection that are not, in order,
             requests of one guest connection in the audit log
  leak       the real secret is in the bytes of a received request whose
             audit record names no secret (or that has none), or in bytes
             the upstream could not parse as a request - unless those bytes
             begin with a whole head (request line, one Host) that is a
             request the log shows judged with that secret: a head the
             recorder's parser declines for a feature it lacks (h11 takes
             no transfer coding but chunked) is still that request
Counts printed as well: sent and hidden (from diffgen's --sent file),
refused by the gateway, received upstream, upstream parse errors, lost
(audit says allowed, the upstream never saw it as a request: a desync
swallowed it), retried (received twice, logged once).  Exit 1 on any
violation, with up to N examples of each.
"""

import argparse
import json
import sys
from urllib.parse import urlsplit

REFUSAL = {400, 403, 405, 411, 413, 414, 421, 431, 500, 501, 505}


def load(path):
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    out.append(rec)
    except FileNotFoundError:
        pass
    return out


def audit_key(rec):
    """(scheme, method, target, host) of an audit record, or None."""
    url = rec.get("url") or ""
    if "://" not in url:
        return None
    scheme, rest = url.split("://", 1)
    slash = rest.find("/")
    host, target = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    return (scheme.lower(), rec.get("method"), target, host.lower())


def recorder_key(rec):
    host = (rec.get("host") or "").lower()
    target = rec.get("target", "")
    if "://" in target:	# absolute-form reached the upstream
        u = urlsplit(target)
        host = host or u.netloc.lower()
    return ("https" if rec.get("tls") else "http", rec.get("method"),
            target, host)


def raw_head_key(rec):
    """recorder_key() of the whole head at the start of an unparsed
    record's raw bytes (request line and exactly one Host), or None."""
    raw = rec.get("raw") or ""
    end = raw.find("\r\n\r\n")
    if end < 0:
        return None
    lines = raw[:end].split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    hosts = [l.split(":", 1)[1].strip(" \t") for l in lines[1:]
             if l.split(":", 1)[0].lower() == "host" and ":" in l]
    if len(hosts) != 1:
        return None
    return recorder_key({"tls": rec.get("tls"), "method": parts[0],
                         "target": parts[1], "host": hosts[0]})


def forwarded(rec):
    return rec.get("kind") == "tunnel" or not (
        "reason" in rec and rec.get("status") in REFUSAL)


class Check:
    def __init__(self, audit, received, sent):
        self.audit = [r for r in audit if r.get("kind") in ("http", "tunnel")]
        self.received = received
        self.sent = sent
        self.byk = {}
        for i, r in enumerate(self.audit):
            k = audit_key(r)
            if k is not None:
                self.byk.setdefault(k, []).append(i)
        self.used = set()
        self.v = {"unlogged": [], "refused": [], "misorder": [], "leak": []}
        self.parse_errors = []
        self.retried = 0

    def match(self, rec):
        """Index of the audit record for a received request, or None."""
        cands = self.byk.get(recorder_key(rec), [])
        fresh = [i for i in cands if i not in self.used]
        for i in fresh:
            if forwarded(self.audit[i]):
                self.used.add(i)
                return i
        for i in cands:
            if forwarded(self.audit[i]):
                self.retried += 1
                return i
        if cands:
            self.v["refused"].append((rec, self.audit[cands[0]]))
            self.used.add(cands[0])
            return cands[0]
        self.v["unlogged"].append((rec, None))
        return None

    def judged_with_secret(self, rec):
        """Unparsed bytes carrying the secret: do they begin with a head
        the log shows judged, with the secret?  (Marks that record.)"""
        k = raw_head_key(rec)
        for i in self.byk.get(k, []) if k else []:
            if i not in self.used and "secret" in self.audit[i]:
                self.used.add(i)
                return True
        return False

    def run(self):
        conns = {}
        for r in self.received:
            conns.setdefault(r.get("conn"), []).append(r)
        for cid, reqs in conns.items():
            reqs.sort(key=lambda r: r.get("seq", 0))
            last = None	# (guest, audit index) of the previous request
            prev = None	# target of the previous request
            for r in reqs:
                if "method" not in r and prev is not None:
                    r["after"] = prev	# what the bad bytes followed
                prev = r.get("target", prev)
                if "method" not in r:
                    if r.get("error", "").startswith("tls:"):
                        continue
                    self.parse_errors.append(r)
                    if r.get("secret") and not self.judged_with_secret(r):
                        self.v["leak"].append((r, None))
                    continue
                if "error" in r:
                    self.parse_errors.append(r)
                i = self.match(r)
                a = self.audit[i] if i is not None else None
                if r.get("secret") and (a is None or "secret" not in a):
                    self.v["leak"].append((r, a))
                if a is None:
                    continue
                guest = (a.get("client"), a.get("client_port"))
                if last is not None and (guest != last[0] or i < last[1]):
                    self.v["misorder"].append((r, a))
                last = (guest, i)

    def report(self, examples):
        sent = sum(len(s.get("ids", [])) for s in self.sent)
        hidden = sum(len(s.get("hidden", [])) for s in self.sent)
        refused = sum(1 for a in self.audit if not forwarded(a))
        allowed = [i for i, a in enumerate(self.audit) if forwarded(a) and
                   audit_key(a) is not None]
        lost = sum(1 for i in allowed if i not in self.used)
        got = sum(1 for r in self.received if "method" in r)
        print("diffcheck: sent=%d hidden=%d audited=%d refused_by_gateway=%d "
              "received_upstream=%d upstream_parse_errors=%d lost=%d "
              "retried=%d | unlogged=%d refused_but_received=%d "
              "misordered=%d leaks=%d" % (
                  sent, hidden, len(self.audit), refused, got,
                  len(self.parse_errors), lost, self.retried,
                  len(self.v["unlogged"]), len(self.v["refused"]),
                  len(self.v["misorder"]), len(self.v["leak"])))
        by_target = self.by_target = {}
        for s in self.sent:
            for t in s.get("ids", []) + s.get("hidden", []):
                by_target[t] = "%s/%d" % (s.get("vector"), s.get("variant"))
        bad = False
        for name, items in self.v.items():
            if not items:
                continue
            bad = True
            vecs = {}
            for rec, _ in items:
                v = self.vector_of(rec)
                vecs[v] = vecs.get(v, 0) + 1
            print("VIOLATION %s: %d (by vector/variant: %s)" % (
                name, len(items), ", ".join("%s=%d" % kv for kv in
                                            sorted(vecs.items()))))
            for rec, a in items[:examples]:
                print("  upstream: %s" % json.dumps(
                    {k: rec.get(k) for k in ("conn", "seq", "tls", "method",
                     "target", "host", "secret", "error", "raw", "after")
                     if k in rec}, sort_keys=True))
                print("    vector: %s" % self.vector_of(rec))
                if a is not None:
                    print("    audit:  %s" % json.dumps(
                        {k: a.get(k) for k in ("client_port", "method",
                         "url", "status", "action", "reason", "secret")
                         if k in a}, sort_keys=True))
        lost_recs = [self.audit[i] for i in allowed if i not in self.used]
        for a in lost_recs[:examples if bad else 0]:
            print("  lost (info): %s" % json.dumps(
                {k: a.get(k) for k in ("client_port", "method", "url",
                 "status", "action", "secret") if k in a}, sort_keys=True))
        return 1 if bad else 0

    def vector_of(self, rec):
        """vector/variant of the diffgen connection a target came from."""
        t = rec.get("target") or rec.get("after") or ""
        if "://" in t:
            t = t[t.find("/", t.find("//") + 2):]
        return self.by_target.get(t, "?")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recorder", required=True)
    ap.add_argument("--audit", required=True)
    ap.add_argument("--sent")
    ap.add_argument("--examples", type=int, default=3)
    a = ap.parse_args()
    c = Check(load(a.audit), load(a.recorder),
              load(a.sent) if a.sent else [])
    c.run()
    return c.report(a.examples)


if __name__ == "__main__":
    sys.exit(main())
