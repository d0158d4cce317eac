#!/usr/bin/env python3
"""Markdown tables of make bench (build/bench/results.md) from what bench/run.sh recorded.

usage: report.py REC_TSV COMMAND_LINE STREAMS MSG_BYTES HANDOFFS
REC_TSV has one "key<TAB>value" line per measurement (values are numbers, words or JSON).
"""
import datetime
import json
import os
import platform
import sys

KMALLOC = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]


def load(path):
    rec = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            rec[k] = v
    return rec


def js(rec, key):
    try:
        return json.loads(rec.get(key) or "{}")
    except ValueError:
        return {}


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def ratio(a, b):
    a, b = num(a), num(b)
    return "%.2f" % (a / b) if a is not None and b else "n/a"


def fmt(v, digits=0):
    v = num(v)
    if v is None:
        return "n/a"
    return "{:,.{}f}".format(v, digits)


PATHS = [("kernel", "plain kernel forwarding"), ("haproxy", "HAProxy %s TCP mode"),
         ("slow", "tcpmigd slow path, managed flow"),
         ("slow_spliced", "tcpmigd slow path, spliced (migrated) flow"),
         ("fast", "tcpmigd fast path, managed flow"),
         ("fast_spliced", "tcpmigd fast path, spliced (migrated) flow")]


def label(rec, key):
    name = dict(PATHS)[key]
    return name % rec.get("haproxy_version", "") if "%s" in name else name


def path_note(rec, run):
    """kernel-translated / queued packets of a tcpmigd run."""
    w = (rec.get("path." + run) or "").split()
    if len(w) < 2:
        return ""
    return "%s / %s" % (fmt(w[0]), fmt(w[1]))


def bulk(rec, streams):
    out = ["## Bulk throughput (Gbit/s, bench/bulk.py: 1 MiB writes, sender's view)", "",
           "| path | 1 stream | vs kernel | vs HAProxy | %d streams | vs kernel | vs HAProxy "
           "| packets kernel / queue (1; %d streams) |" % (streams, streams),
           "|---|---|---|---|---|---|---|---|"]
    k1, h1, kn, hn = (rec.get("bulk1.kernel"), rec.get("bulk1.haproxy"), rec.get("bulkn.kernel"),
                      rec.get("bulkn.haproxy"))
    runs = {"slow": ("slow_1", "slow_n"), "slow_spliced": ("slow_spl1", "slow_spln"),
            "fast": ("fast_1", "fast_n"), "fast_spliced": ("fast_spl1", "fast_spln")}
    for key, _ in PATHS:
        v1, vn = rec.get("bulk1." + key), rec.get("bulkn." + key)
        note = ""
        if key in runs:
            note = "%s; %s" % (path_note(rec, runs[key][0]), path_note(rec, runs[key][1]))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label(rec, key), v1 or "n/a", ratio(v1, k1), ratio(v1, h1), vn or "n/a",
            ratio(vn, kn), ratio(vn, hn), note))
    out += ["", "Aggregate of %d streams: all bytes over the longest sender's time. Packets are "
            "skbs (GSO super-packets count once): what the fast path translated in the kernel "
            "and what reached tcpmigd's NFQUEUE during the run." % streams]
    return out


def small(rec, msg):
    out = ["## Small packets (%d-byte messages, TCP_NODELAY, one flow, bench/pktrate)" % msg, "",
           "| path | client segments/s | vs kernel | vs HAProxy | messages/s | vs kernel "
           "| vs HAProxy | bytes/segment |", "|---|---|---|---|---|---|---|---|"]
    k, h = js(rec, "small.kernel"), js(rec, "small.haproxy")
    for key, _ in PATHS:
        if key.endswith("spliced"):
            continue
        d = js(rec, "small." + key)
        m, s = d.get("msgs_per_s"), d.get("segs_per_s")
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label(rec, key).replace(", managed flow", ""), fmt(s), ratio(s, k.get("segs_per_s")),
            ratio(s, h.get("segs_per_s")), fmt(m), ratio(m, k.get("msgs_per_s")),
            ratio(m, h.get("msgs_per_s")), fmt(d.get("bytes_per_seg"), 1)))
    out += ["", "Segments/s (the packet rate): the client's TcpOutSegs minus retransmissions "
            "over the run. Messages/s: written by the sender from its first write to the sink's "
            "EOF. They differ because TCP packs the messages that queue up behind a slower "
            "path into fewer, larger segments (bytes/segment): a path that forwards fewer "
            "packets can deliver more messages, so compare packet rates."]
    return out


def conns(rec):
    out = ["## New connections (bench/connrate: connect, one line, reply, close)", "",
           "| path | connections/s | vs kernel | vs HAProxy | median ms | p99 ms | failures |",
           "|---|---|---|---|---|---|---|"]
    k, h = js(rec, "conns.kernel"), js(rec, "conns.haproxy")
    conc = None
    for key, _ in PATHS:
        if key.endswith("spliced"):
            continue
        d = js(rec, "conns." + key)
        conc = conc or d.get("conc")
        r = d.get("conns_per_s")
        fails = d.get("failures")
        if fails:
            fails = "%s (%s)" % (fails, d.get("last_error", ""))
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            label(rec, key).replace(", managed flow", ""), fmt(r), ratio(r, k.get("conns_per_s")),
            ratio(r, h.get("conns_per_s")), fmt((num(d.get("median_us")) or 0) / 1000, 2),
            fmt((num(d.get("p99_us")) or 0) / 1000, 2), fails if fails is not None else "n/a"))
    notes = []
    for key in ("slow", "fast"):
        w = (rec.get("path.%s_conns" % key) or "").split()
        if len(w) == 4:
            notes.append("%s: %s packets translated in the kernel, %s through the queue, "
                         "flows_table_full +%s, fast_offload_errors +%s" % ((key,) + tuple(w)))
    out += ["", "%s connections in flight, demo_server line mode on server 1. %s." % (
        conc or "?", "; ".join(notes) if notes else "")]
    return out


def latency(rec, nho):
    d = js(rec, "latency")
    out = ["## Handoff latency over %d handoffs (µs, slow path)" % nho, "",
           "| | median | p99 |", "|---|---|---|"]
    rows = [("request/response without a handoff", "rr_plain_us"),
            ("first request/response after a handoff", "rr_after_handoff_us"),
            ("extra time to the first response", "extra_first_response_us"),
            ("handoff in the daemon (command to commit)", "handoff_daemon_us"),
            ("tcpmigctl-style command round trip", "handoff_command_us")]
    for name, key in rows:
        v = d.get(key, {})
        out.append("| %s | %s | %s |" % (name, fmt(v.get("median")), fmt(v.get("p99"))))
    out += ["", "handoff failures: %s" % d.get("handoff_failures", d.get("error", "n/a")), "",
            "| first request (200 connections, µs from request to reply) | median | p99 |",
            "|---|---|---|"]
    rows = [("managed flow, no rules loaded", "fr.plain"),
            ("seed 000 rules, FORWARD matches (held, decided at once)", "fr.forward"),
            ("seed 000 rules, MIGRATE matches (held, handed to server 2)", "fr.migrate"),
            ("seed 000 rules, nothing matches (held for inspect-wait, 100 ms)", "fr.none")]
    for name, key in rows:
        v = js(rec, key)
        out.append("| %s | %s | %s |" % (name, fmt(v.get("median_us")), fmt(v.get("p99_us"))))
    return out


def byte_checks(rec):
    """Whether the sinks received what the senders sent, in every bulk and small-packet run."""
    runs = {k[len("check."):]: v.split() for k, v in rec.items() if k.startswith("check.")}
    bad = ["%s (sent %s, received %s)" % (k, v[0] if v else "?", v[1] if len(v) > 1 else "?")
           for k, v in sorted(runs.items()) if len(v) != 2 or v[0] != v[1]]
    if not runs:
        return []
    if not bad:
        return ["Byte counts: in all %d bulk and small-packet runs the sinks received exactly "
                "the bytes the senders sent." % len(runs)]
    return ["**Byte counts differ** (sinks vs senders): " + "; ".join(bad)]


def size_class(n):
    for c in KMALLOC:
        if n <= c:
            return c
    return None


def memory(rec):
    a, m, b = js(rec, "mem.before"), js(rec, "mem.mid"), js(rec, "mem.after")
    held = js(rec, "flows.held").get("held", 0)
    w = (rec.get("flows.offloaded") or "0 0").split() + ["0"]
    off_mid, off = num(w[0]) or 0, num(w[1]) or 0
    out = ["## Memory per tracked flow (fast path, idle flows)", "",
           "%s connections opened by two holders (half each), one request answered on each; "
           "flows_offloaded = %s after the first half, %s after both." % (
               fmt(held), fmt(off_mid), fmt(off)), "",
           "| what | no flow | %s flows | %s flows | bytes per flow | bytes per flow, 2nd half "
           "| elements added | bytes per element |" % (fmt(off_mid), fmt(off)),
           "|---|---|---|---|---|---|---|---|"]
    if not off or not a or not b or not m or off <= off_mid:
        return out + ["", "not measured (no offloaded flows or no snapshot)"]
    per, per2, alloc, slab_rows = [0.0, 0.0], [0.0, 0.0], 0.0, []

    def row(name, v0, v1, v2, n, unit=""):
        p, p2 = (v2 - v0) / off, (v2 - v1) / (off - off_mid)
        per_el = (v2 - v0) / n if n else None
        out.append("| %s | %s%s | %s%s | %s%s | %s | %s | %s | %s |" % (
            name, fmt(v0), unit, fmt(v1), unit, fmt(v2), unit, fmt(p, 1), fmt(p2, 1),
            fmt(n) if n is not None else "-", fmt(per_el, 1) if per_el else "-"))
        return p, p2, per_el

    for name in sorted(set(a.get("maps", {})) | set(b.get("maps", {}))):
        ma, mm, mb = (x.get("maps", {}).get(name, {}) for x in (a, m, b))
        n = None
        if mb.get("entries") is not None and ma.get("entries") is not None:
            n = mb["entries"] - ma["entries"]
        p, p2, per_el = row("BPF map %s: memlock" % name, ma.get("memlock", 0),
                            mm.get("memlock", 0), mb.get("memlock", 0), n)
        per[0] += p
        per2[0] += p2
        cls = size_class(per_el) if per_el else None
        if cls:
            alloc += n * cls / off
            slab_rows.append((name, n, cls))
        else:
            alloc += p
    p, p2, _ = row("tcpmigd VmRSS (bytes)", a.get("rss_kb", 0) * 1024, m.get("rss_kb", 0) * 1024,
                   b.get("rss_kb", 0) * 1024, None)
    per[1], per2[1] = p, p2
    out.append("| **total: maps (memlock) + tcpmigd RSS** | | | | **%s** | **%s** | | |" % (
        fmt(sum(per), 1), fmt(sum(per2), 1)))
    out.append("| total with map elements rounded up to their kmalloc size class | | | | %s | | | |"
               % fmt(alloc + per[1], 1))
    out += ["", "Target (issue 5): <= 256 bytes per flow including the daemon.", "",
            "memlock is the kernel's own accounting of each map (fdinfo); for a hash map without "
            "preallocation it grows by the element (key, value, header) plus a list node per "
            "element, and its fixed part (buckets for max_entries) is in every snapshot and "
            "cancels out. Elements counted with bpftool -j map dump. A kernel element is "
            "allocated from the kmalloc size class that fits it, hence the last total. The 2nd "
            "half column (increase from half to all flows over the flows added) leaves out "
            "what the first flows make resident once (e.g. pages of the daemon's hash table). "
            "Cross-check in /proc/slabinfo (system-wide: anything else running on the machine "
            "shows too):", ""]
    for name, n, cls in slab_rows:
        cache = "kmalloc-cg-%d" % cls
        sa, sb = a.get("slab", {}).get(cache), b.get("slab", {}).get(cache)
        if sa and sb:
            out.append("* %s: %s active objects of %d bytes added, for %s elements of %s." % (
                cache, fmt(sb[0] - sa[0]), cls, fmt(n), name))
    if not slab_rows:
        out.append("* no map elements counted.")
    return out


def handoff(rec):
    d = js(rec, "flows.migrate")
    held = js(rec, "flows.held").get("held", 0)
    chk = js(rec, "flows.check")
    cnt = (rec.get("flows.counters") or "").split()
    out = ["## Mass handoff (fast path, idle flows, bench/migrate_many)", ""]
    if not d:
        return out + ["not measured"]
    ms = num(d.get("first_to_last_ms")) or 0
    out += ["| flows | committed | failed | first request to last answer | handoffs/s "
            "| daemon per handoff median / p99 / max (µs) | control connections | target |",
            "|---|---|---|---|---|---|---|---|",
            "| %s | %s | %s | %s ms | %s | %s / %s / %s | %s | 10,000 in <= 1 s |" % (
                fmt(d.get("requests")), fmt(d.get("committed")), fmt(d.get("failed")),
                fmt(ms, 1), fmt(d.get("committed", 0) / ms * 1000 if ms else None),
                fmt(d.get("daemon_us_median")), fmt(d.get("daemon_us_p99")),
                fmt(d.get("daemon_us_max")), d.get("conc"))]
    if d.get("reasons"):
        out += ["", "failure reasons: " + ", ".join("%s %s" % kv for kv in d["reasons"].items())]
    if len(cnt) == 4:
        out += ["", "daemon counters during it: migrations_committed +%s, migrations_rolled_back "
                "+%s, fast_takebacks +%s, fast_offloads +%s; flows_offloaded afterwards: %s." % (
                    tuple(cnt) + (rec.get("flows.reoffloaded", "n/a"),))]
    if chk:
        out += ["", "Afterwards one more request on each of the %s held connections: %s answered, "
                "by %s; %s failed%s." % (
                    fmt(held), fmt(chk.get("answered")),
                    ", ".join("%s %s" % kv for kv in chk.get("servers", {}).items()) or "nobody",
                    chk.get("failures"),
                    " (%s)" % chk.get("last_error") if chk.get("failures") else "")]
    return out


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    rec = load(sys.argv[1])
    streams, msg, nho = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    out = ["# make bench results", "",
           "Command: `%s` (bench/run.sh), %s, Linux %s, %d CPUs. All numbers below come from "
           "this one run in one lab (client c1 - gateway - servers s1, s2)." % (
               sys.argv[2], datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
               platform.release(), os.cpu_count()), ""]
    for part in (bulk(rec, streams), small(rec, msg) + [""] + byte_checks(rec), conns(rec), latency(rec, nho),
                 memory(rec), handoff(rec)):
        out += part + [""]
    print("\n".join(out).rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
