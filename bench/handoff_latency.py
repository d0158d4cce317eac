#!/usr/bin/env python3
"""Handoff latency for bench/run.sh: N request/response rounds on one connection, every other round
preceded by a handoff (alternating between two backends) through the control socket.

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
    c = socket.create_connection((addr, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = c.makefile("rb")
    me = "%s:%d" % c.getsockname()[:2] if c.family == socket.AF_INET else "[%s]:%d" % c.getsockname()[:2]
    plain, after, cmd_us, daemon_us = [], [], [], []
    failures = 0
    target = [bb, ba]
    for i in range(2 * n):
        migrated = i % 2 == 1
        if migrated:
            t0 = time.monotonic()
            r = ctl(sock, "migrate %s %s" % (me, target[(i // 2) % 2]))
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
            print(json.dumps({"error": "connection closed at round %d" % i}))
            return 1
        (after if migrated else plain).append(dt)
    out = {
        "rounds": n, "handoff_failures": failures,
        "rr_plain_us": {"median": statistics.median(plain), "p99": pct(plain, 99)},
        "rr_after_handoff_us": {"median": statistics.median(after), "p99": pct(after, 99)},
        "handoff_daemon_us": {"median": statistics.median(daemon_us), "p99": pct(daemon_us, 99)},
        "handoff_command_us": {"median": statistics.median(cmd_us), "p99": pct(cmd_us, 99)},
    }
    out["extra_first_response_us"] = {
        "median": out["rr_after_handoff_us"]["median"] - out["rr_plain_us"]["median"],
        "p99": out["rr_after_handoff_us"]["p99"] - out["rr_plain_us"]["p99"]}
    print(json.dumps(out))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
