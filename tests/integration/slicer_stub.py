#!/usr/bin/python3
"""A stub of Slicer's REST API for tests: GET /nodes only.

Serves the documented schema (docs.slicervm.com openapi.yaml NodeResponse:
hostname, hostgroup, ip, ram_bytes, cpus, created_at, tags, arch, status)
from a JSON file re-read on every request, so a test edits the file to
change the VMs.  Like Slicer with api.auth.enabled, it answers 401
{"error": ...} unless the request has "Authorization: Bearer <token>" with
the token of --token-file (re-read each time too).  Each request is logged
on stdout as "GET /nodes auth=ok|bad status=N".

usage: slicer_stub.py ADDR PORT TOKEN_FILE NODES_FILE
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with open(TOKEN_FILE) as f:
            token = f.read().strip()
        auth = self.headers.get("Authorization", "")
        ok = auth == "Bearer " + token
        if not ok:
            status, body = 401, '{"error": "unauthorized"}'
        elif self.path != "/nodes":   # Slicer: "/nodes/" may be an error
            status, body = 404, '{"error": "not found"}'
        else:
            with open(NODES_FILE) as f:
                status, body = 200, f.read()
        print("GET %s auth=%s status=%d" % (self.path, "ok" if ok else "bad",
                                            status), flush=True)
        self.answer(status, body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ADDR, PORT, TOKEN_FILE, NODES_FILE = sys.argv[1:5]
    srv = http.server.HTTPServer((ADDR, int(PORT)), Handler)
    print("listening", flush=True)
    srv.serve_forever()
