#!/usr/bin/env python3
"""Bulk throughput helper for bench/run.sh.

server: bulk.py serve ADDR PORT          sink: reads each connection to EOF (a thread each, so
                                         parallel streams run in parallel), prints bytes and Gbit/s
client: bulk.py send ADDR PORT BYTES [--wait-file F] [--secs S]
        connects, optionally waits until file F exists (so the flow can be migrated while idle),
        then sends BYTES (or for S seconds) and prints "bytes seconds gbit".
"""
import os
import socket
import sys
import threading
import time

CHUNK = b"\0" * (1 << 20)
OUT_LOCK = threading.Lock()  # one whole line per connection: print() from threads can interleave


def drain(c):
    n = 0
    t0 = time.monotonic()
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
    dt = time.monotonic() - t0
    with OUT_LOCK:
        sys.stdout.write("%d %.3f %.3f\n" % (n, dt, n * 8 / dt / 1e9 if dt else 0))
        sys.stdout.flush()
    c.close()


def serve(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()


def send(addr, port, nbytes, wait_file=None, secs=None):
    c = socket.create_connection((addr, port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    print("port %d" % c.getsockname()[1], flush=True)
    while wait_file and not os.path.exists(wait_file):
        time.sleep(0.01)
    t0 = time.monotonic()
    n = 0
    while (secs is None and n < nbytes) or (secs is not None and time.monotonic() - t0 < secs):
        c.sendall(CHUNK)
        n += len(CHUNK)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    dt = time.monotonic() - t0
    print("%d %.3f %.3f" % (n, dt, n * 8 / dt / 1e9), flush=True)


if __name__ == "__main__":
    a = sys.argv
    if len(a) >= 4 and a[1] == "serve":
        serve(a[2], int(a[3]))
    elif len(a) >= 5 and a[1] == "send":
        wf = a[a.index("--wait-file") + 1] if "--wait-file" in a else None
        secs = float(a[a.index("--secs") + 1]) if "--secs" in a else None
        send(a[2], int(a[3]), int(a[4]), wf, secs)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
