#!/usr/bin/env python3
"""Handoff latency for bench/run.sh: N connections; on each, one request/response, a handoff from
backend A to backend B through the control socket, and one more request/response.

usage: handoff_latency.py SERVICE_ADDR PORT CTL_SOCK BACKEND_A BACKEND_B N
Prints JSON: handoff command time (request to commit, from the daemon's elapsed_us and as seen by
the caller) and the request/response time right after a handoff vs. without one (median, p99).
"""
import json
import socket
import statistics
import sys
import time


def ctl(path, line):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall((line + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    return json.loads(buf)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    addr, port, sock, ba, bb, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    # N connections, each handed off once (Linux rate-limits the ACKs a handoff solicits to one per
    # socket per 0.5 s: repeated handoffs of one socket would measure that limit, not tcpmig).
    conns = []
    for _ in range(n):
        c = socket.create_connection((addr, port))
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append((c, c.makefile("rb")))
    plain, after, cmd_us, daemon_us = [], [], [], []
    failures = 0
    for i, (c, f) in enumerate(conns):
        me = "%s:%d" % c.getsockname()[:2] if c.family == socket.AF_INET else "[%s]:%d" % c.getsockname()[:2]
        for migrated in (False, True):
            if migrated:
                t0 = time.monotonic()
                r = ctl(sock, "migrate %s %s" % (me, bb))
                cmd_us.append((time.monotonic() - t0) * 1e6)
                if not r.get("ok"):
                    failures += 1
                    continue
                daemon_us.append(r["migration"]["elapsed_us"])
            t0 = time.monotonic()
            c.sendall(b"ping %d\n" % i)
            line = f.readline()
            dt = (time.monotonic() - t0) * 1e6
            if not line:
                print(json.dumps({"error": "connection %d closed" % i}))
                return 1
            (after if migrated else plain).append(dt)
        c.close()
    if not daemon_us:
        print(json.dumps({"error": "no handoff committed"}))
        return 1
    out = {
        "rounds": n, "handoff_failures": failures,
        "rr_plain_us": {"median": statistics.median(plain), "p99": pct(plain, 99)},
        "rr_after_handoff_us": {"median": statistics.median(after), "p99": pct(after, 99)},
        "handoff_daemon_us": {"median": statistics.median(daemon_us), "p99": pct(daemon_us, 99)},
        "handoff_command_us": {"median": statistics.median(cmd_us), "p99": pct(cmd_us, 99)},
    }
    # Per connection: the round after its handoff minus the round before it.
    extra = [a - b for a, b in zip(after, plain)]
    out["extra_first_response_us"] = {"median": statistics.median(extra), "p99": pct(extra, 99)}
    print(json.dumps(out))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
