#!/usr/bin/env python3
"""A TCP client that sends a file, or receives into a file, at a bounded rate (so a transfer lasts long
enough to hand its connection over several times while data flows).

usage: paced.py send HOST PORT FILE RATE [TIMEOUT]   send FILE, half-close, read to EOF
       paced.py recv HOST PORT FILE RATE [TIMEOUT]   read to EOF into FILE
RATE: bytes per second (K/M suffixes, 1024-based; 0 = unpaced).  TIMEOUT: seconds without progress
before giving up (default 10).  Prints one summary line; exit 0 when the transfer ended with a clean
EOF, 1 on a reset, a timeout or any other error.
"""
import socket
import sys
import time

CHUNK = 65536


def size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def pace(t0, done, rate):
    if rate:
        ahead = done / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)


def main(argv):
    if len(argv) not in (6, 7) or argv[1] not in ("send", "recv"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, host, port, path, rate = argv[1], argv[2], int(argv[3]), argv[4], size(argv[5])
    timeout = float(argv[6]) if len(argv) == 7 else 10.0
    done = 0
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        t0 = time.monotonic()
        if mode == "send":
            with open(path, "rb") as f:
                while True:
                    buf = f.read(CHUNK)
                    if not buf:
                        break
                    s.sendall(buf)
                    done += len(buf)
                    pace(t0, done, rate)
            s.shutdown(socket.SHUT_WR)
            while s.recv(CHUNK):
                pass
        else:
            with open(path, "wb") as f:
                while True:
                    buf = s.recv(CHUNK)
                    if not buf:
                        break
                    f.write(buf)
                    done += len(buf)
                    pace(t0, done, rate)
        s.close()
    except OSError as e:
        print("paced.py %s: %s after %d bytes" % (mode, e, done))
        return 1
    el = time.monotonic() - t0
    print("paced.py %s: %d bytes in %.2f s (%.0f Mbit/s)" % (mode, done, el, done * 8 / el / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
