#!/usr/bin/env python3
"""An HTTP reverse proxy in front of a test registry: forwards each request, streams the
response back at most RATE bytes/s, and logs one line per request (method, path, Range header)
to LOG, so a test can slow a pull down, kill it mid-transfer and see what was asked for.

With a fifth argument "norange" it drops Range headers (the whole body comes back, 200, as from
a server without range support); with "bearer" (anonymous tokens) or "bearer:USER:PASS" (tokens only for those
credentials, sent as Basic to /token), it also plays a token server the way Docker Hub does:
/v2/ requests without a valid "Authorization: Bearer" get a 401 with a Bearer challenge whose
realm is this proxy's /token.

usage: registry-proxy.py PORT UPSTREAM_PORT RATE LOG [norange|bearer[:USER:PASS]]"""
import base64, http.client, http.server, json, secrets, socketserver, sys, time

port, upstream, rate, log = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mode = sys.argv[5] if len(sys.argv) > 5 else ""
bearer = mode if mode.startswith("bearer") else None
dropped = ("host", "connection", "authorization") + (("range",) if mode == "norange" else ())
tokens = set()

class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def token(self):
        if ":" in bearer:
            _, user, pw = bearer.split(":", 2)
            want = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
        tok = secrets.token_hex(16)
        tokens.add(tok)
        self.reply(200, {"token": tok, "expires_in": 300})

    def do_GET(self):
        auth = self.headers.get("Authorization", "-")
        with open(log, "a") as f:
            f.write("%s %s range=%s auth=%s\n" % (self.command, self.path, self.headers.get("Range", "-"),
                                                  auth.split(" ")[0]))
        if bearer and self.path.startswith("/token"):
            return self.token()
        if bearer and (not auth.startswith("Bearer ") or auth[7:] not in tokens):
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="test-registry"' % port
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              [("WWW-Authenticate", challenge)])
        conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
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
