#!/usr/bin/python3
"""Turn known-good packets into C test vectors, with scapy (Debian python3-scapy) as the oracle.

Not run by `make test`: it documents where the bytes in tests/unit/vec_real.h and
tests/unit/vec_scapy.h come from.  Run it after tests/vectors/capture.sh:

    /usr/bin/python3 tests/vectors/gen_vectors.py

vec_real.h   every TCP packet of the pcaps in tests/vectors/pcap (real Linux stacks), with the
             fields scapy dissects from it (the expectations for tm_pkt_parse)
../fuzz/corpus  a handful of these packets (and their option areas) as libFuzzer seeds
vec_scapy.h  layouts a real stack rarely emits (odd-aligned options, unknown kinds, routing /
             fragment / AH headers, ...) built by scapy; tm_xlate_apply inputs and the
             expected outputs scapy computes (fields changed, checksums recomputed by scapy);
             builder parameters and the packets scapy builds for them.
"""
import os
import struct
import sys

from scapy.all import IP, TCP, UDP, Raw, rdpcap, raw  # noqa: E402
from scapy.layers.inet import IPOption_NOP, IPOption_RR, IPOption_Router_Alert
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN)
from scapy.layers.ipsec import AH

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "unit")

HAS_MSS, HAS_WSCALE, HAS_SACKOK, HAS_SACK, HAS_TS, HAS_UNKNOWN = (1 << i for i in range(6))
FLOWS = [  # pcap name, server port
    ("v4_basic", 5001), ("v4_ipopt", 5002), ("v6_basic", 5003), ("v6_exthdr", 5004),
    ("v4_sack_ts", 5005), ("v6_sack_ts", 5007), ("v4_sack_nots", 5006), ("v4_mss_only", 5008),
    ("v4_tfo_cookie", 5009), ("v4_tfo_data", 5010),
]


def dissect(b):
    """Bytes of an IP packet -> scapy packet with a TCP layer (scapy leaves TCP after AH as Raw)."""
    q = (IP if b[0] >> 4 == 4 else IPv6)(b)
    if q.haslayer(AH) and not q.haslayer(TCP) and q[AH].nh == 6:
        ah = q[AH]
        tail = raw(ah.payload)
        ah.remove_payload()
        ah.add_payload(TCP(tail))
    return q


# --- an independent description of a packet, checked against scapy's dissection ----------------

def l3_info(pkt):
    """(family, l3_len, tcp layer) of a scapy packet holding TCP."""
    tcp = pkt[TCP]
    whole = raw(pkt)
    return (4 if pkt.haslayer(IP) else 6), len(whole) - len(raw(tcp)), tcp


def walk_options(hdr):
    """Walk the option area of a raw TCP header the way RFC 9293 says; return what a parser sees."""
    d = dict(present=0, mss=0, wscale=0, tsval=0, tsecr=0, sack=[],
             mss_off=0, wscale_off=0, ts_off=0, sack_off=0)
    off, hlen = 20, len(hdr)
    while off < hlen:
        kind = hdr[off]
        if kind == 0:
            break
        if kind == 1:
            off += 1
            continue
        ln = hdr[off + 1]
        assert ln >= 2 and off + ln <= hlen, "generator only emits valid options"
        body = hdr[off + 2:off + ln]
        if kind == 2:
            d["present"] |= HAS_MSS
            d["mss"], d["mss_off"] = struct.unpack(">H", body)[0], off + 2
        elif kind == 3:
            d["present"] |= HAS_WSCALE
            d["wscale"], d["wscale_off"] = min(body[0], 14), off + 2
        elif kind == 4:
            d["present"] |= HAS_SACKOK
        elif kind == 5:
            d["present"] |= HAS_SACK
            d["sack"] = [struct.unpack(">II", body[i:i + 8]) for i in range(0, len(body), 8)]
            d["sack_off"] = off + 2
        elif kind == 8:
            d["present"] |= HAS_TS
            d["tsval"], d["tsecr"] = struct.unpack(">II", body)
            d["ts_off"] = off + 2
        else:
            d["present"] |= HAS_UNKNOWN
        off += ln
    return d


def cross_check(d, tcp):
    """The walker above and scapy must agree on every option value."""
    seen = {}
    for o in tcp.options:
        seen.setdefault(o[0], o[1])
    if d["present"] & HAS_MSS:
        assert seen["MSS"] == d["mss"]
    if d["present"] & HAS_TS:
        assert tuple(seen["Timestamp"]) == (d["tsval"], d["tsecr"])
    if d["present"] & HAS_SACK:
        flat = [e for b in d["sack"] for e in b]
        assert list(seen["SAck"]) == flat, (seen["SAck"], flat)
    if d["present"] & HAS_WSCALE:
        assert min(seen["WScale"], 14) == d["wscale"]


def tcp_checksum(pkt):
    """scapy's TCP checksum for the segment in @pkt: the same segment under a bare IP header with
    the same addresses (extension headers with segleft 0 and AH do not enter the pseudo-header;
    scapy cannot checksum TCP behind AH itself)."""
    tcp = TCP(raw(pkt[TCP]))
    del tcp.chksum
    l3 = IP(src=pkt[IP].src, dst=pkt[IP].dst) if pkt.haslayer(IP) else IPv6(src=pkt[IPv6].src, dst=pkt[IPv6].dst)
    return (l3 / tcp).__class__(raw(l3 / tcp))[TCP].chksum


def fix_checksums(pkt):
    """Bytes of @pkt with its IPv4 header checksum and TCP checksum recomputed by scapy."""
    p = pkt.copy()
    if p.haslayer(IP):
        del p[IP].chksum
    b = bytearray(raw(p))
    _, l3_len, _ = l3_info(p)
    struct.pack_into(">H", b, l3_len + 16, tcp_checksum(p))
    return bytes(b)


def checksums_ok(pkt):
    """scapy's verdict: recomputing every checksum leaves the bytes unchanged."""
    return fix_checksums(pkt) == raw(pkt)


def describe(pkt, name, direction):
    fam, l3_len, tcp = l3_info(pkt)
    whole = raw(pkt)
    hdr = whole[l3_len:l3_len + tcp.dataofs * 4]
    d = walk_options(hdr)
    cross_check(d, tcp)
    l3 = pkt[IP] if fam == 4 else pkt[IPv6]
    return dict(name=name, hex=whole.hex(), dir=direction, family=fam, l3_len=l3_len,
                src=l3.src, dst=l3.dst,
                tcp_hlen=tcp.dataofs * 4, payload_len=len(whole) - l3_len - tcp.dataofs * 4,
                sport=tcp.sport, dport=tcp.dport, seq=tcp.seq, ack=tcp.ack, flags=int(tcp.flags),
                window=tcp.window, csum_ok=int(checksums_ok(pkt)), **d)


# --- C emitters --------------------------------------------------------------------------------

def c_hex(h, indent="\t\t"):
    parts = [h[i:i + 64] for i in range(0, len(h), 64)]
    return "\n".join(indent + '"%s"' % p for p in parts)


def c_pkt(v):
    sack = ", ".join("{ %uu, %uu }" % b for b in v["sack"]) or "{ 0, 0 }"
    return ("\t{ /* %s */\n\t\t.name = \"%s\", .dir = %d, .family = %d, .l3_len = %d,"
            " .tcp_hlen = %d, .payload_len = %d,\n"
            "\t\t.src = \"%s\", .dst = \"%s\",\n"
            "\t\t.sport = %u, .dport = %u, .seq = %uu, .ack = %uu, .flags = 0x%02x,"
            " .window = %u,\n"
            "\t\t.present = 0x%02x, .mss = %u, .wscale = %u, .tsval = %uu, .tsecr = %uu,"
            " .nsack = %d,\n"
            "\t\t.sack = { %s },\n"
            "\t\t.mss_off = %d, .wscale_off = %d, .ts_off = %d, .sack_off = %d, .csum_ok = %d,\n"
            "\t\t.hex =\n%s },\n") % (
        v["summary"], v["name"], v["dir"], v["family"], v["l3_len"], v["tcp_hlen"],
        v["payload_len"], v["src"], v["dst"], v["sport"], v["dport"], v["seq"], v["ack"], v["flags"], v["window"],
        v["present"], v["mss"], v["wscale"], v["tsval"], v["tsecr"], len(v["sack"]), sack,
        v["mss_off"], v["wscale_off"], v["ts_off"], v["sack_off"], v["csum_ok"], c_hex(v["hex"]))


def write_header(path, guard, purpose, body):
    with open(path, "w") as f:
        f.write("/* %s\n * Generated by tests/vectors/gen_vectors.py: do not edit by hand. */\n" % purpose)
        f.write("#ifndef %s\n#define %s\n\n#include \"vec.h\"\n\n" % (guard, guard))
        f.write(body)
        f.write("\n#endif\n")


# --- real captures -----------------------------------------------------------------------------

def real_flows():
    out, index = [], []
    for name, sport in FLOWS:
        pkts = [p for p in rdpcap(os.path.join(HERE, "pcap", name + ".pcap")) if p.haslayer(TCP)]
        start = len(out)
        for i, p in enumerate(pkts):
            l3 = p[IP] if p.haslayer(IP) else p[IPv6]
            direction = 1 if l3[TCP].sport == sport else 0
            v = describe(l3, "%s[%d]" % (name, i), direction)
            assert v["csum_ok"], "capture.sh turns offload off: captured checksums are complete"
            v["summary"] = ("C>S " if direction == 0 else "S>C ") + l3[TCP].sprintf(
                "%TCP.flags% seq=%TCP.seq% ack=%TCP.ack% %TCP.options%") + \
                " len=%d" % v["payload_len"]
            out.append(v)
        index.append((name, start, len(pkts)))
    body = "static const struct vec_pkt vec_real[] VEC_UNUSED = {\n" + "".join(c_pkt(v) for v in out) + "};\n\n"
    body += "/* Flows: { name, first index in vec_real, packet count }, in capture order. */\n"
    body += "static const struct vec_flow vec_real_flows[] VEC_UNUSED = {\n"
    body += "".join('\t{ "%s", %d, %d },\n' % f for f in index) + "};\n"
    for name, start, n in index:
        body += "#define VEC_%s %d\n" % (name.upper(), start)
    write_header(os.path.join(UNIT, "vec_real.h"), "TCPMIG_VEC_REAL_H",
                 "Real Linux TCP packets captured by tests/vectors/capture.sh, fields as scapy dissects them.",
                 body)
    return out


# --- scapy-crafted layouts ---------------------------------------------------------------------

A4C, A4S = "192.0.2.1", "198.51.100.7"
A6C, A6S = "2001:db8::c1", "2001:db8:5::7"
TS = ("Timestamp", (0x01020304, 0xa0b0c0d0))


def crafted():
    t = lambda **kw: TCP(sport=40001, dport=443, seq=0x11223344, ack=0x55667788, window=501, **kw)
    pl = Raw(b"payload!")
    sack3 = ("SAck", (0x55667788 + 100, 0x55667788 + 200, 0x55667788 + 300,
                      0x55667788 + 400, 0x55667788 + 500, 0x55667788 + 600))
    sack4 = ("SAck", (10, 20, 30, 40, 50, 60, 0xfffffff0, 0x10))
    c = [
        ("v4_odd_all", IP(src=A4C, dst=A4S, id=7) / t(flags="S", options=[
            ("WScale", 7), ("MSS", 1460), TS, ("SAckOK", b""), ("EOL", None)])),
        ("v4_sack3_ts_odd", IP(src=A4C, dst=A4S, id=8) / t(flags="A", options=[
            ("NOP", None), sack3, TS, ("EOL", None)]) / pl),
        ("v4_sack4_odd", IP(src=A4C, dst=A4S, id=9) / t(flags="A", options=[
            ("NOP", None), sack4]) / pl),
        ("v4_unknown_kinds", IP(src=A4C, dst=A4S, id=10) / t(flags="PA", options=[
            ("MSS", 1400), (30, b"\x01\x02\x03\x04"), (253, b"\xab\xcd"), (99, b""),
            ("NOP", None), TS]) / pl),
        ("v4_wscale_big", IP(src=A4C, dst=A4S, id=11) / t(flags="S", options=[
            ("MSS", 536), ("NOP", None), ("WScale", 15), ("NOP", None), ("NOP", None),
            ("SAckOK", b"")])),
        ("v4_ipopt_rr", IP(src=A4C, dst=A4S, id=12, options=[
            IPOption_NOP(), IPOption_RR(routers=["10.0.0.1", "10.0.0.2", "0.0.0.0"])]) /
            t(flags="A", options=[("NOP", None), ("NOP", None), TS]) / pl),
        ("v4_ipopt_ra_sack", IP(src=A4C, dst=A4S, id=13, options=[IPOption_Router_Alert()]) /
            t(flags="A", options=[("NOP", None), ("NOP", None), ("SAck", (1000, 2000))])),
        ("v6_routing", IPv6(src=A6C, dst=A6S) / IPv6ExtHdrRouting(
            addresses=["2001:db8::99"], segleft=0) / t(flags="A", options=[TS]) / pl),
        ("v6_atomic_frag", IPv6(src=A6C, dst=A6S) / IPv6ExtHdrFragment(id=0x1234, m=0, offset=0) /
            t(flags="A", options=[("NOP", None), sack3, TS]) / pl),
        ("v6_chain", IPv6(src=A6C, dst=A6S) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) /
            IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 12)]) /
            IPv6ExtHdrRouting(addresses=[], segleft=0) /
            IPv6ExtHdrFragment(id=0xabcdef, m=0, offset=0) /
            IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) /
            t(flags="PA", options=[(30, b"\xee" * 5), ("NOP", None), TS, ("SAck", (7, 9))]) / pl),
        ("v6_ah", IPv6(src=A6C, dst=A6S) / AH(nh=6, payloadlen=4, spi=0x100, seq=1, icv=b"\x5a" * 12) /
            t(flags="A", options=[("NOP", None), ("NOP", None), TS]) / pl),
        ("v6_odd_syn", IPv6(src=A6C, dst=A6S) / t(flags="S", options=[
            ("NOP", None), ("MSS", 1220), TS, ("NOP", None), ("WScale", 14), ("SAckOK", b"")])),
    ]
    out = []
    for name, p in c:
        p = dissect(fix_checksums(p))  # what was built, as a receiver sees it
        v = describe(p, name, -1)
        assert v["csum_ok"]
        v["summary"] = name + ": " + p[TCP].sprintf("%TCP.flags% %TCP.options%")
        out.append(v)
    return out


# --- translations: input, parameters, scapy's expected output ----------------------------------

XL_SADDR, XL_DADDR, XL_SPORT, XL_DPORT = 1, 2, 4, 8


def scale_window(w, shift, syn):
    if syn or shift == 0:
        return w
    if shift > 0:
        return min(w << min(shift, 14), 0xffff)
    n = w >> min(-shift, 14)
    return 1 if n == 0 and w != 0 else n


def pseudo_partial(pkt):
    """The CHECKSUM_PARTIAL field a kernel writes: folded, uncomplemented pseudo-header sum."""
    fam, l3_len, tcp = l3_info(pkt)
    tlen = len(raw(tcp))
    if fam == 4:
        ph = bytes(map(int, pkt[IP].src.split("."))) + bytes(map(int, pkt[IP].dst.split("."))) + \
            struct.pack(">BBH", 0, 6, tlen)
    else:
        import ipaddress
        ph = ipaddress.IPv6Address(pkt[IPv6].src).packed + ipaddress.IPv6Address(pkt[IPv6].dst).packed + \
            struct.pack(">IxxxB", tlen, 6)
    s = sum(struct.unpack(">%dH" % (len(ph) // 2), ph))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def with_check(pkt, check):
    b = bytearray(raw(pkt))
    _, l3_len, _ = l3_info(pkt)
    struct.pack_into(">H", b, l3_len + 16, check)
    return bytes(b)


def expected_xlate(pkt, x):
    """Apply translation @x the obvious way on a scapy packet and let scapy recompute checksums."""
    p = pkt.copy()
    l3 = p[IP] if p.haslayer(IP) else p[IPv6]
    tcp = p[TCP]
    m32 = lambda v: v & 0xffffffff
    if x["flags"] & XL_SADDR:
        l3.src = x["saddr"]
    if x["flags"] & XL_DADDR:
        l3.dst = x["daddr"]
    if x["flags"] & XL_SPORT:
        tcp.sport = x["sport"]
    if x["flags"] & XL_DPORT:
        tcp.dport = x["dport"]
    has_ack = bool(int(tcp.flags) & 0x10)
    tcp.seq = m32(tcp.seq + x["seq_delta"])
    if has_ack:
        tcp.ack = m32(tcp.ack + x["ack_delta"])
    tcp.window = scale_window(tcp.window, x["win_shift"], bool(int(tcp.flags) & 0x02))
    opts = []
    for o in tcp.options:
        if o[0] == "Timestamp":
            tv, te = o[1]
            o = ("Timestamp", (m32(tv + x["tsval_delta"]), m32(te + x["tsecr_delta"]) if has_ack else te))
        elif o[0] == "SAck":
            o = ("SAck", tuple(m32(e + x["ack_delta"]) for e in o[1]))
        opts.append(o)
    tcp.options = opts
    return dissect(fix_checksums(p))


def xlates(real, crafted_pkts):
    def pkt_of(vlist, name):
        v = next(v for v in vlist if v["name"] == name)
        return dissect(bytes.fromhex(v["hex"]))

    base = dict(flags=0, win_shift=0, saddr="", daddr="", sport=0, dport=0, seq_delta=0,
                ack_delta=0, tsval_delta=0, tsecr_delta=0, partial=0)
    X = lambda **kw: dict(base, **kw)
    # Pick real packets by what they show, not by index: a new capture keeps these meaningful.
    sack3 = next(v["name"] for v in real if v["name"].startswith("v4_sack_ts") and len(v["sack"]) == 3)
    sack4 = next(v["name"] for v in real if v["name"].startswith("v4_sack_nots") and len(v["sack"]) == 4)
    v6ack = next(v["name"] for v in real if v["name"].startswith("v6_basic") and v["dir"] == 0
                 and v["payload_len"] > 0)
    v6syn = next(v["name"] for v in real if v["name"].startswith("v6_exthdr") and v["flags"] == 0x02)
    v4synack = next(v["name"] for v in real if v["name"].startswith("v4_basic") and v["flags"] == 0x12)
    v4ipopt = next(v["name"] for v in real if v["name"].startswith("v4_ipopt") and v["dir"] == 0
                   and v["payload_len"] > 0)
    cases = [
        ("s2c_sack3_ts", real, sack3, X(flags=XL_SADDR | XL_SPORT, saddr="203.0.113.80", sport=80,
                                         seq_delta=0x10000001, ack_delta=-12345, tsval_delta=1000000,
                                         tsecr_delta=-5, win_shift=2)),
        ("c2s_sack4_wrap", real, sack4, X(flags=XL_DADDR | XL_DPORT, daddr="10.99.0.3", dport=5999,
                                          ack_delta=0xfffffff0, win_shift=-3)),
        ("v6_data_ack", real, v6ack, X(flags=XL_DADDR | XL_DPORT, daddr="2001:db8::b2", dport=8080,
                                       ack_delta=0x7fffffff, tsecr_delta=-1000, win_shift=1)),
        ("v6_exthdr_syn", real, v6syn, X(flags=XL_DADDR, daddr="fd99::3", seq_delta=1,
                                         ack_delta=5, tsval_delta=77, tsecr_delta=88, win_shift=3)),
        ("v4_synack", real, v4synack, X(flags=XL_SADDR, saddr="10.99.0.200", seq_delta=-1,
                                        ack_delta=1, tsval_delta=-300, tsecr_delta=300, win_shift=-2)),
        ("v4_ipopt_data", real, v4ipopt, X(flags=XL_SADDR | XL_DADDR | XL_SPORT | XL_DPORT,
                                           saddr="172.16.0.1", daddr="172.16.0.2", sport=1, dport=65535,
                                           seq_delta=12, tsval_delta=1)),
        ("odd_sack3_ts", crafted_pkts, "v4_sack3_ts_odd", X(flags=XL_DADDR, daddr="198.51.100.8",
                                                            ack_delta=-0x55667788, tsval_delta=0x80000000,
                                                            tsecr_delta=0x7fffffff, win_shift=7)),
        ("odd_sack4", crafted_pkts, "v4_sack4_odd", X(ack_delta=0x11, win_shift=-14)),
        ("unknown_kinds", crafted_pkts, "v4_unknown_kinds", X(flags=XL_SPORT, sport=2, tsval_delta=3,
                                                              tsecr_delta=4, ack_delta=5, seq_delta=6)),
        ("v6_chain", crafted_pkts, "v6_chain", X(flags=XL_SADDR | XL_DADDR, saddr="2001:db8:ffff::1",
                                                 daddr="::ffff:10.1.2.3", ack_delta=-7, tsval_delta=-1,
                                                 tsecr_delta=-1)),
        ("v6_ah", crafted_pkts, "v6_ah", X(flags=XL_DPORT, dport=4443, seq_delta=0xdeadbeef)),
        ("v4_rr_noop", crafted_pkts, "v4_ipopt_rr", X()),
        # CHECKSUM_PARTIAL: only the address changes reach the (pseudo-header) checksum field.
        ("partial_v4", real, sack3, X(flags=XL_SADDR | XL_SPORT, saddr="203.0.113.80", sport=80,
                                      seq_delta=99, ack_delta=-99, tsval_delta=9, tsecr_delta=-9,
                                      partial=1)),
        ("partial_v6", crafted_pkts, "v6_chain", X(flags=XL_DADDR | XL_SADDR, saddr="2001:db8::1:2",
                                                   daddr="2001:db8::3:4", seq_delta=5, ack_delta=5,
                                                   partial=1)),
        ("partial_v4_ports_only", crafted_pkts, "v4_sack4_odd", X(flags=XL_DPORT, dport=1234,
                                                                  ack_delta=1, partial=1)),
    ]
    out = []
    for name, vlist, pname, x in cases:
        pin = pkt_of(vlist, pname)
        pout = expected_xlate(pin, x)
        if x["partial"]:
            hin, hout = with_check(pin, pseudo_partial(pin)), with_check(pout, pseudo_partial(pout))
        else:
            hin, hout = raw(pin), raw(pout)
        out.append(dict(x, name=name, src=pname, hin=hin.hex(), hout=hout.hex(),
                        family=4 if pin.haslayer(IP) else 6))
    body = "static const struct vec_xlate vec_xlates[] VEC_UNUSED = {\n"
    for v in out:
        body += ("\t{ .name = \"%s\", /* from %s */\n\t\t.family = %d, .flags = 0x%x, .win_shift = %d,"
                 " .saddr = \"%s\", .daddr = \"%s\", .sport = %u, .dport = %u,\n"
                 "\t\t.seq_delta = 0x%08xu, .ack_delta = 0x%08xu, .tsval_delta = 0x%08xu,"
                 " .tsecr_delta = 0x%08xu, .partial = %d,\n\t\t.in =\n%s,\n\t\t.out =\n%s },\n") % (
            v["name"], v["src"], v["family"], v["flags"], v["win_shift"], v["saddr"], v["daddr"],
            v["sport"], v["dport"], v["seq_delta"] & 0xffffffff, v["ack_delta"] & 0xffffffff,
            v["tsval_delta"] & 0xffffffff, v["tsecr_delta"] & 0xffffffff, v["partial"],
            c_hex(v["hin"]), c_hex(v["hout"]))
    return body + "};\n"


# --- builders ----------------------------------------------------------------------------------

def builds():
    def opts_syn(present, mss, wscale, tsval):
        o = []
        if present & HAS_MSS:
            o.append(("MSS", mss))
        if present & HAS_TS:
            o += [("SAckOK", b"")] if present & HAS_SACKOK else [("NOP", None), ("NOP", None)]
            o.append(("Timestamp", (tsval, 0)))
        elif present & HAS_SACKOK:
            o += [("NOP", None), ("NOP", None), ("SAckOK", b"")]
        if present & HAS_WSCALE:
            o += [("NOP", None), ("WScale", wscale)]
        return o

    def l3(fam, src, dst):
        if fam == 4:
            return IP(src=src, dst=dst, id=0, flags="DF", ttl=64, tos=0)
        return IPv6(src=src, dst=dst, hlim=64, tc=0, fl=0)

    ALL = HAS_MSS | HAS_WSCALE | HAS_SACKOK | HAS_TS
    cases = [
        # name, kind, family, client, cport, to, toport, c.syn.present, mss, wscale, syn window,
        # s.syn.present, c.nxt, c.tsval, c.win, mss_clamp, isn2, t2, target (new backend's
        # SYN-ACK options, third ACK only), rst_seq
        ("syn_v4_all_clamped", "syn", 4, "10.0.0.3", 40000, "10.0.0.12", 8080, ALL, 1460, 7, 64240,
         ALL, 1001, 0xdeadbeef, 0, 1400, 0, 0, 0, 0),
        ("syn_v4_no_ts", "syn", 4, "10.0.0.3", 40001, "10.0.0.12", 8080, ALL, 1460, 7, 64240,
         HAS_MSS | HAS_WSCALE | HAS_SACKOK, 0, 5, 0, 0, 0, 0, 0, 0),
        ("syn_v6_no_sack_no_ws", "syn", 6, "2001:db8::c", 50000, "2001:db8::b2", 443,
         ALL, 1440, 10, 64800, HAS_MSS | HAS_TS, 0x80000000, 123456, 0, 1500, 0, 0, 0, 0),
        ("syn_v4_client_no_mss_clamp", "syn", 4, "192.168.1.2", 1024, "192.168.1.3", 80,
         HAS_SACKOK, 0, 0, 29200, ALL, 1, 0, 0, 1380, 0, 0, 0, 0),
        ("syn_v4_mss_only", "syn", 4, "192.168.1.2", 1025, "192.168.1.3", 80,
         HAS_MSS, 536, 0, 8192, HAS_MSS, 0xffffffff, 0, 0, 0, 0, 0, 0, 0),
        ("ack3_v4_ts", "ack", 4, "10.0.0.3", 40000, "10.0.0.12", 8080, ALL, 1460, 7, 64240,
         ALL, 1001, 0xdeadbeef, 502, 0, 0xfffffffe, 0x31323334, ALL, 0),
        ("ack3_v6_target_no_ts", "ack", 6, "2001:db8::c", 50000, "2001:db8::b2", 443, ALL, 1440, 10,
         64800, ALL, 77, 0, 64, 0, 999, 0, HAS_MSS | HAS_WSCALE | HAS_SACKOK, 0),
        # The new backend refused window scaling: the client's scaled window goes out unscaled.
        ("ack3_v4_target_no_ws", "ack", 4, "10.0.0.3", 40002, "10.0.0.12", 8080, ALL, 1460, 7, 64240,
         ALL, 5000, 1, 502, 0, 0, 0x7fffffff, HAS_MSS | HAS_TS, 0),
        ("ack3_v4_target_no_ws_saturated", "ack", 4, "10.0.0.3", 40003, "10.0.0.12", 8080, ALL, 1460,
         7, 64240, ALL, 5000, 1, 1000, 0, 0, 0x7fffffff, HAS_MSS | HAS_TS, 0),
        ("ack3_v4_unscaled_flow", "ack", 4, "10.0.0.3", 40004, "10.0.0.12", 8080,
         HAS_MSS | HAS_SACKOK, 1460, 0, 64240, ALL, 5000, 1, 29200, 0, 0, 0, HAS_MSS, 0),
        ("rst_v4", "rst", 4, "10.0.0.3", 40000, "10.0.0.11", 8080, 0, 0, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0, 0x89abcdef),
        ("rst_v6", "rst", 6, "2001:db8::c", 50000, "2001:db8::b1", 443, 0, 0, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0, 1),
    ]
    body = "static const struct vec_build vec_builds[] VEC_UNUSED = {\n"
    for (name, kind, fam, ca, cp, ta, tp, cpres, mss, ws, synwin, spres, cnxt, ctsval, cwin,
         clamp, isn2, t2, target, rst_seq) in cases:
        if kind == "syn":
            granted = cpres & spres
            present = granted | (cpres & HAS_MSS)
            m = mss
            if clamp and (not (cpres & HAS_MSS) or clamp < mss):
                present |= HAS_MSS
                m = clamp
            p = l3(fam, ca, ta) / TCP(sport=cp, dport=tp, seq=(cnxt - 1) & 0xffffffff, ack=0,
                                      flags="S", window=synwin, options=opts_syn(present, m, ws, ctsval))
        elif kind == "ack":
            o = [("NOP", None), ("NOP", None), ("Timestamp", (ctsval, t2))] if target & HAS_TS else []
            win = cwin
            if (cpres & spres & HAS_WSCALE) and not (target & HAS_WSCALE):
                win = min(cwin << ws, 0xffff)
            p = l3(fam, ca, ta) / TCP(sport=cp, dport=tp, seq=cnxt, ack=(isn2 + 1) & 0xffffffff,
                                      flags="A", window=win, options=o)
        else:
            p = l3(fam, ca, ta) / TCP(sport=cp, dport=tp, seq=rst_seq, ack=0, flags="R", window=0)
        body += ("\t{ .name = \"%s\", .kind = '%s', .family = %d, .caddr = \"%s\", .cport = %u,"
                 " .toaddr = \"%s\", .toport = %u,\n"
                 "\t\t.c_present = 0x%x, .c_mss = %u, .c_wscale = %u, .c_synwin = %u, .s_present = 0x%x,"
                 " .c_nxt = %uu, .c_tsval = %uu, .c_win = %u,\n"
                 "\t\t.mss_clamp = %u, .isn2 = %uu, .t2 = %uu, .t_present = 0x%x, .rst_seq = %uu,\n"
                 "\t\t.out =\n%s },\n") % (
            name, kind[0], fam, ca, cp, ta, tp, cpres, mss, ws, synwin, spres, cnxt, ctsval, cwin,
            clamp, isn2, t2, target, rst_seq, c_hex(raw(p).hex()))
    return body + "};\n"


# --- packets that must not parse, built by scapy ----------------------------------------------

def rejects():
    tcp = TCP(sport=1, dport=2, flags="A")
    cases = [
        ("v4_udp", "TM_PKT_ENOTTCP", IP(src=A4C, dst=A4S) / UDP(sport=53, dport=53) / Raw(b"x" * 12)),
        ("v4_frag_mf", "TM_PKT_EFRAG", IP(src=A4C, dst=A4S, flags="MF") / tcp),
        ("v4_frag_offset", "TM_PKT_EFRAG", IP(src=A4C, dst=A4S, frag=3, proto=6) / Raw(b"y" * 24)),
        ("v6_frag_more", "TM_PKT_EFRAG", IPv6(src=A6C, dst=A6S) / IPv6ExtHdrFragment(m=1) / tcp),
        ("v6_frag_offset", "TM_PKT_EFRAG", IPv6(src=A6C, dst=A6S) /
         IPv6ExtHdrFragment(offset=8, nh=6) / Raw(b"z" * 20)),
        ("v6_udp_after_dstopt", "TM_PKT_ENOTTCP", IPv6(src=A6C, dst=A6S) / IPv6ExtHdrDestOpt() /
         UDP(sport=1, dport=2)),
        ("v6_no_next", "TM_PKT_ENOTTCP", IPv6(src=A6C, dst=A6S, nh=59) / Raw(b"\0" * 20)),
    ]
    body = "static const struct vec_reject vec_rejects[] VEC_UNUSED = {\n"
    for name, err, p in cases:
        body += "\t{ \"%s\", %s,\n%s },\n" % (name, err, c_hex(raw(p).hex()))
    return body + "};\n"


def fuzz_seeds(real, cr):
    """A handful of known-good packets as libFuzzer seeds (tests/fuzz/corpus/{pkt,tcpopt})."""
    want = [
        lambda v: v["name"] == "v4_basic[0]",                             # SYN, all options
        lambda v: v["name"].startswith("v4_sack_ts") and len(v["sack"]) == 3,
        lambda v: v["name"].startswith("v4_sack_nots") and len(v["sack"]) == 4,
        lambda v: v["name"] == "v6_exthdr[0]",                            # hop-by-hop + dstopts
        lambda v: v["name"].startswith("v4_ipopt") and v["payload_len"] > 0,
        lambda v: v["name"] == "v4_tfo_data[0]",                          # TFO cookie, data in SYN
        lambda v: v["name"] == "v4_mss_only[1]",
        lambda v: v["name"] in ("v6_chain", "v6_ah", "v4_odd_all", "v4_unknown_kinds"),
    ]
    pick = []
    for f in want:
        pick += [v for v in real + cr if f(v)][:4]
    root = os.path.join(HERE, "..", "fuzz", "corpus")
    for sub in ("pkt", "tcpopt"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
        for old in os.listdir(os.path.join(root, sub)):
            os.remove(os.path.join(root, sub, old))
    for v in pick:
        b = bytes.fromhex(v["hex"])
        name = v["name"].replace("[", "_").replace("]", "")
        with open(os.path.join(root, "pkt", name), "wb") as f:
            f.write(b)
        opts = b[v["l3_len"] + 20:v["l3_len"] + v["tcp_hlen"]]
        if opts:
            with open(os.path.join(root, "tcpopt", name), "wb") as f:
                f.write(bytes([v["tcp_hlen"]]) + opts)
    return len(pick)


def main():
    real = real_flows()
    cr = crafted()
    nseeds = fuzz_seeds(real, cr)
    body = "static const struct vec_pkt vec_crafted[] VEC_UNUSED = {\n" + "".join(c_pkt(v) for v in cr) + "};\n\n"
    body += xlates(real, cr) + "\n" + builds() + "\n" + rejects()
    write_header(os.path.join(UNIT, "vec_scapy.h"), "TCPMIG_VEC_SCAPY_H",
                 "Packets, translations and builder outputs computed by scapy (an independent oracle).",
                 body)
    print("wrote vec_real.h (%d packets), vec_scapy.h (%d crafted), %d fuzz seeds" %
          (len(real), len(cr), nseeds), file=sys.stderr)


if __name__ == "__main__":
    main()
