#!/usr/bin/env python3
"""Fake tcpmigd for tcpmigctl tests: canned answers on unix sockets, stdlib only.

Usage: fake_tcpmigd.py DIR

Listens on DIR/<mode>.sock for every mode below, one request line per connection
(common/ctlproto.h).  For each connection it stores the raw request in DIR/<mode>.req
and the raw answer in DIR/<mode>.ans (before sending, so a slow answer is on disk at
once).  DIR/dead.sock is a socket nobody listens on (connect: ECONNREFUSED).  DIR/ready
appears when everything is bound.

Modes:
  normal     answers from the tables below; unknown requests get ok:false bad-request
  pretty     like normal, but the JSON is indented over many lines
  slow       like normal, after SLOW_SECONDS
  malformed  broken JSON               truncated  the first half of the normal answer
  oversized  a 17 MiB answer           empty      closes without answering
  trailing   a second object follows   notobject  a JSON array
  noreason   {"ok":false}              badtypes   fields of the wrong type / missing payload
  escape     ok:false with terminal escape sequences in "error"
"""
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time

SLOW_SECONDS = 2.0
MAX_REQ = 1024


def flow(fid, client, service, backend, state, c2s, s2c, migr, last_error="", **extra):
    f = {"id": fid, "client": client, "service": service, "backend": backend,
         "state": state, "path": "fast", "migrating": False,
         "bytes_c2s": c2s, "bytes_s2c": s2c, "pkts_c2s": 1000 + fid, "pkts_s2c": 2000 + fid,
         "migrations": migr, "rollbacks": 0, "age_ms": 5000, "idle_ms": 20,
         "last_error": last_error}
    f.update(extra)
    return f


FLOW3 = flow(3, "10.0.0.9:40000", "10.0.0.1:80", "10.0.1.1:8080", "established",
             1234567, 512, 1)
FLOW4 = flow(4, "10.0.0.10:40002", "10.0.0.1:80", "10.0.1.2:8080", "closing",
             1048576, 10240, 0, path="slow")
FLOW17 = flow(17, "[2001:db8::9]:40001", "[2001:db8::1]:443", "[2001:db8:1::2]:8443",
              "established", 0, 18446744073709551615, 12, "target-refused",
              migrating=True, rollbacks=2)
FLOWS = [FLOW3, FLOW4, FLOW17]

STATS = {"migrations_ok": 5, "flows_active": 3, "bytes_total": 18446744073709551615,
         "a_first": 0, "rollbacks": 2, "handoff_timeouts": 1}


def fail(error, reason):
    return {"ok": False, "error": error, "reason": reason}


def find_flow(ref):
    for f in FLOWS:
        if ref in (str(f["id"]), f["client"]):
            return f
    return None


def normal_answer(req):
    words = req.split(" ")
    if words == ["flows"]:
        return {"ok": True, "flows": FLOWS}
    if words == ["stats"]:
        return {"ok": True, "stats": STATS}
    if words == ["version"]:
        return {"ok": True, "version": "0.1"}
    if len(words) == 2 and words[0] == "flow":
        f = find_flow(words[1])
        return {"ok": True, "flow": f} if f else fail("no such flow", "unknown-flow")
    if len(words) == 3 and words[0] == "migrate":
        f = find_flow(words[1])
        if not f:
            return fail("no such flow", "unknown-flow")
        if words[2] == "10.0.0.3:80":
            return fail("target answered the handoff SYN with RST", "target-refused")
        if words[2] not in ("10.0.0.2:11111", "[2001:db8:1::3]:8443"):
            return fail("no backend " + words[2], "unknown-backend")
        moved = dict(f, backend=words[2], migrations=f["migrations"] + 1)
        return {"ok": True, "flow": moved,
                "migration": {"from": f["backend"], "to": words[2], "elapsed_us": 1234}}
    return fail("cannot parse request", "bad-request")


def badtypes_answer(req):
    if req == "flows":
        return {"ok": True, "flows": [dict(FLOW3, id="3")]}
    return {"ok": True}  # the payload is missing


def compact(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def answer_for(mode, req):
    """Returns (bytes to send, seconds to wait before sending)."""
    if mode in ("normal", "slow"):
        return compact(normal_answer(req)), SLOW_SECONDS if mode == "slow" else 0
    if mode == "pretty":
        return (json.dumps(normal_answer(req), indent=4) + "\n").encode(), 0
    if mode == "truncated":
        full = compact(normal_answer(req))
        return full[:len(full) // 2], 0
    canned = {
        "malformed": b'{"ok":true,"flows":[{"id":1,,]}\n',
        "oversized": b'{"ok":true,"pad":"' + b"a" * (17 << 20) + b'"}\n',
        "empty": b"",
        "trailing": compact({"ok": True, "version": "0.1"}) + b'{"ok":true}\n',
        "notobject": b"[true]\n",
        "noreason": b'{"ok":false}\n',
        "escape": compact(fail("evil\x1b[31mred\x07", "internal")),
    }
    if mode == "badtypes":
        return compact(badtypes_answer(req)), 0
    return canned[mode], 0


MODES = ["normal", "pretty", "slow", "malformed", "truncated", "oversized", "empty",
         "trailing", "notobject", "noreason", "badtypes", "escape"]


def store(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock, mode, d = self.request, self.server.mode, self.server.dir
        sock.settimeout(10)
        raw = b""
        try:
            while b"\n" not in raw and len(raw) <= MAX_REQ:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                raw += chunk
        except OSError:
            pass
        store(os.path.join(d, mode + ".req"), raw)
        req = raw.split(b"\n", 1)[0].decode("utf-8", "replace")
        data, delay = answer_for(mode, req)
        store(os.path.join(d, mode + ".ans"), data)
        time.sleep(delay)
        try:
            sock.sendall(data)
        except OSError:
            pass  # tcpmigctl gave up (timeout, oversized answer): expected


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 16


def main():
    d = sys.argv[1]
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.path.join(d, "dead.sock"))
    dead.close()  # the file stays, nobody listens
    for mode in MODES:
        srv = Server(os.path.join(d, mode + ".sock"), Handler)
        srv.mode, srv.dir = mode, d
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    open(os.path.join(d, "ready"), "w").close()
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
