#!/usr/bin/env python3
"""An HTTP reverse proxy in front of a test registry: forwards each request, streams the
response back at most RATE bytes/s, and logs one line per request (method, path, Range header)
to LOG, so a test can slow a pull down, kill it mid-transfer and see what was asked for.

usage: registry-proxy.py PORT UPSTREAM_PORT RATE LOG"""
import http.client, http.server, socketserver, sys, time

port, upstream, rate, log = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(log, "a") as f:
            f.write("%s %s range=%s\n" % (self.command, self.path, self.headers.get("Range", "-")))
        conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, headers=headers)
        resp = conn.getresponse()
        body_follows = self.command != "HEAD"
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = max(1024, rate // 20)
        while body_follows:
            data = resp.read(chunk)
            if not data:
                break
            self.wfile.write(data)
            self.wfile.flush()
            time.sleep(len(data) / rate)
        self.close_connection = True

    do_HEAD = do_GET

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

Server(("127.0.0.1", port), Proxy).serve_forever()
