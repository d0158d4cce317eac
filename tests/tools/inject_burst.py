#!/usr/bin/env python3
"""Send the packet of tests/tools/inject.py COUNT times, back to back (a burst of hostile packets).

usage: inject_burst.py COUNT IFACE GW_MAC SRC:SPORT DST:DPORT KIND [SEQ ACK]
The arguments after COUNT are inject.py's; the packet is built by inject.py itself.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inject  # noqa: E402


def main():
    if len(sys.argv) < 7 or not sys.argv[1].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    count = int(sys.argv[1])
    base = socket.socket

    class Repeat(base):
        def sendto(self, data, *args):
            for _ in range(count):
                base.sendto(self, data, *args)
            return len(data)

    socket.socket = Repeat  # inject.py creates its AF_PACKET socket through socket.socket
    sys.argv = [sys.argv[0]] + sys.argv[2:]
    rc = inject.main()
    print("(%d times)" % count)
    return rc


if __name__ == "__main__":
    sys.exit(main())
