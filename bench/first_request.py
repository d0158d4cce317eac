#!/usr/bin/env python3
"""First-request latency for bench/run.sh: N connections, each sends one request line and waits
for the reply; prints JSON with the median and p99 of request-to-reply time in microseconds.

usage: first_request.py ADDR PORT N MESSAGE
"""
import json
import socket
import statistics
import sys
import time


def main():
    addr, port, n, msg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
    rtt = []
    for i in range(n):
        c = socket.create_connection((addr, port))
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = c.makefile("rb")
        t0 = time.monotonic()
        c.sendall(msg + b" %d\n" % i)
        if not f.readline():
            print(json.dumps({"error": "no reply on connection %d" % i}))
            return 1
        rtt.append((time.monotonic() - t0) * 1e6)
        c.close()
    rtt.sort()
    print(json.dumps({"n": n, "median_us": statistics.median(rtt),
                      "p99_us": rtt[min(n - 1, int(round(0.99 * (n - 1))))]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
