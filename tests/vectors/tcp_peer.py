#!/usr/bin/env python3
"""One end of a scripted TCP exchange, for capture.sh (plain kernel sockets, no scapy).

  tcp_peer.py server ADDR PORT [tfo]    accept one connection, read until EOF, reply, close
                                        (tfo: the listener accepts TCP Fast Open)
  tcp_peer.py client ADDR PORT SCENARIO connect and run SCENARIO

Scenarios (what the packets should show):
  basic      request, response, client half-close, server close: handshake + data + FIN
  ipopt      as basic, the client's IPv4 packets carry IP options (IP_OPTIONS)
  exthdr     as basic, the client's IPv6 packets carry hop-by-hop and destination options
  burst      nine small segments one by one (capture.sh drops some: SACK blocks, retransmissions)
  tfo        as basic, but the request goes in the SYN (TCP Fast Open, RFC 7413; needs a cookie
             from an earlier connection to the same server address)
"""
import socket
import sys
import time

IPV6_HOPOPTS = 54
IPV6_DSTOPTS = 59
TCP_FASTOPEN = 23
MSG_FASTOPEN = 0x20000000


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(addr, port, tfo=False):
    ls = socket.socket(family_of(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if tfo:
        ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    got = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += d
    time.sleep(0.05)
    c.sendall(b"got %d bytes\n" % len(got))
    time.sleep(0.05)
    c.close()
    ls.close()


def client(addr, port, scenario):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scenario == "ipopt":
        # NOP, Router Alert (RFC 2113), NOP, NOP, EOL: IHL 7, odd option offsets.
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([1, 0x94, 4, 0, 0, 1, 1, 0]))
    if scenario == "exthdr":
        # next header (filled by the kernel), length 0 (8 bytes), PadN of 4 data bytes.
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_DSTOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
    if scenario == "tfo":
        s.sendto(b"GET /tcpmig HTTP/1.0\r\n\r\n", MSG_FASTOPEN, (addr, port))
        time.sleep(0.05)
    else:
        s.connect((addr, port))
        if scenario == "burst":
            for i in range(1, 10):
                s.send(b"seg%d-DROP%d-" % (i, i) + b"x" * 20)
                time.sleep(0.002)
            time.sleep(0.5)
        else:
            s.sendall(b"GET /tcpmig HTTP/1.0\r\n\r\n")
            time.sleep(0.05)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    time.sleep(0.05)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]), sys.argv[4:] == ["tfo"])
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
