#!/usr/bin/env python3
"""A stand-in for containd that records every request cctl sends (one JSON line per request, with
the number of fds that came with it, in RECORD) and answers just enough for cctl to finish.
Used by tests/integration/cctl-flags.sh to check what cctl puts on the wire.

Usage: fake-daemon.py SOCKET RECORD"""
import json
import os
import socket
import sys

path, record = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)

def reply(conn, req, result=None, error=None, fds=()):
    msg = {"v": 1, "id": req.get("id")}
    if error:
        msg["error"] = {"code": error[0], "message": error[1]}
    else:
        msg["result"] = result if result is not None else {}
    if fds:
        msg["fds"] = len(fds)
    socket.send_fds(conn, [(json.dumps(msg) + "\n").encode()], list(fds))

def handle(conn, req, nfds):
    m, p = req.get("method"), req.get("params", {})
    with open(record, "a") as f:
        f.write(json.dumps({"method": m, "params": p, "nfds": nfds}) + "\n")
    if m == "container.run":
        res = {"id": "f" * 64, "name": p.get("name", "fake"), "pid": 1}
        if p.get("stdio") == "pty" and not p.get("detach"):
            r, w = os.pipe()
            reply(conn, req, res, fds=(r,))
            os.close(r)
            os.close(w)
        else:
            reply(conn, req, res)
    elif m in ("container.remove", "image.remove", "container.kill", "container.inspect"):
        name = p.get("id", p.get("name"))
        if name.startswith("missing"):
            reply(conn, req, error=("not_found", "no such container or image: " + name))
        elif m == "image.remove":
            reply(conn, req, {"removed": [name]})
        else:
            reply(conn, req, {})
    elif m == "container.stop":
        if p["id"].startswith("missing"):
            reply(conn, req, error=("not_found", "no such container: " + p["id"]))
        else:
            reply(conn, req, {"id": "f" * 64, "exit_code": 143, "signal": 15, "oom_killed": False})
    elif m == "image.import":
        reply(conn, req, {"id": "sha256:" + "a" * 64, "names": [p.get("name")], "layers": [], "size": 0})
    elif m == "image.inspect":
        # run and create ask whether the image is here before they send the run (--pull missing).
        reply(conn, req, {"id": "sha256:" + "a" * 64, "repo_tags": [p.get("name")]})
    elif m == "system.info":
        reply(conn, req, {"containers": 3, "running": 1, "images": 2, "cgroup_layout": "hybrid", "version": "fake"})
    else:
        reply(conn, req, error=("unknown_method", "fake daemon: " + str(m)))

while True:
    conn, _ = srv.accept()
    buf = b""
    fds = []
    while True:
        data, anc, _, _ = socket.recv_fds(conn, 65536, 8)
        fds += anc
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            got = len(fds)
            for fd in fds:
                os.close(fd)
            fds = []
            handle(conn, req, got)
    conn.close()
