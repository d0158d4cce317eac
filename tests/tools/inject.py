#!/usr/bin/env python3
"""Send hand-made IPv4/TCP packets from a lab host through AF_PACKET (exact bytes, no kernel fix-ups).

usage: inject.py IFACE GW_MAC SRC:SPORT DST:DPORT KIND [SEQ ACK [COUNT]]
KIND: trunc-tcp | doff-short | doff-long | opt-overrun | opt-len0 | opt-len1 | sack-badlen |
      rst-outside | ack-future | syn-in-flow
COUNT copies (default 1) leave back to back from one socket, microseconds apart.
Prints what it sent.  Used by tests/netns/t_hostile.sh and t_handoff.sh.
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, 6, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(src, dst, sport, dport, seq, ack, flags, opts=b"", doff=None, payload=b"", fix=True):
    hl = 20 + len(opts)
    d = (doff if doff is not None else hl // 4) << 4
    th = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, d, flags, 502, 0, 0) + opts + payload
    if fix:
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(th))
        c = csum(ph + th)
        th = th[:16] + struct.pack("!H", c) + th[18:]
    return th


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    iface, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    (src, sport), (dst, dport) = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[3:5]]
    kind = sys.argv[5]
    seq = int(sys.argv[6]) if len(sys.argv) > 6 else 12345
    ack = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    count = int(sys.argv[8]) if len(sys.argv) > 8 else 1
    A, R, S, P = 0x10, 0x04, 0x02, 0x08
    if kind == "trunc-tcp":
        seg = tcp(src, dst, sport, dport, seq, ack, A)[:12]
    elif kind == "doff-short":
        seg = tcp(src, dst, sport, dport, seq, ack, A, doff=3)
    elif kind == "doff-long":
        seg = tcp(src, dst, sport, dport, seq, ack, A, doff=15, payload=b"x" * 4)
    elif kind == "opt-overrun":
        seg = tcp(src, dst, sport, dport, seq, ack, A, opts=b"\x01\x01\x08\x0a\x00\x00\x00\x01")
    elif kind == "opt-len0":
        seg = tcp(src, dst, sport, dport, seq, ack, A, opts=b"\x13\x00\x01\x01")
    elif kind == "opt-len1":
        seg = tcp(src, dst, sport, dport, seq, ack, A, opts=b"\x13\x01\x01\x01")
    elif kind == "sack-badlen":
        seg = tcp(src, dst, sport, dport, seq, ack, A, opts=b"\x01\x01\x05\x07\x00\x00\x00\x01\x00\x00\x00\x00")
    elif kind == "rst-outside":
        seg = tcp(src, dst, sport, dport, seq, 0, R)
    elif kind == "ack-future":
        seg = tcp(src, dst, sport, dport, seq, ack, A | P, payload=b"evil\n")
    elif kind == "syn-in-flow":
        seg = tcp(src, dst, sport, dport, seq, 0, S)
    else:
        print("unknown kind " + kind, file=sys.stderr)
        return 2
    pkt = ip4(src, dst, seg)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    for _ in range(count):
        s.sendto(pkt, (iface, 0x0800, 0, 0, mac))
    print("sent %s (%d bytes) x%d" % (kind, len(pkt), count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
