#!/usr/bin/env python3
"""Memory snapshot of tcpmigd for bench/run.sh (memory per tracked flow).

usage: memsnap.py PID                 prints one JSON object:
  rss_kb     VmRSS of PID (/proc/PID/status)
  maps       every BPF map PID holds an fd of: {name: {id, memlock, max_entries, flags}}.
             memlock comes from the fd's fdinfo: the kernel's own accounting of the map
             (for a hash map without preallocation it grows with every element);
             entries counts a hash map's elements (bpftool -j map dump).
             Names come from `bpftool -j map show id N` (map ids are global).
  slab       /proc/slabinfo, {cache: [active_objs, objsize]} of the kmalloc caches; system-wide,
             so other activity on the machine shows in it too.
"""
import json
import os
import subprocess
import sys


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fdinfo(pid, fd):
    out = {}
    with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def entries(mid, info):
    """Elements in a hash map (the length of bpftool's JSON dump); None for other maps."""
    if info.get("map_type") != "1":  # BPF_MAP_TYPE_HASH
        return None
    try:
        out = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(mid)],
                             capture_output=True, text=True, timeout=120).stdout
        return len(json.loads(out))
    except (OSError, ValueError, TypeError, subprocess.SubprocessError):
        return None


def bpf_maps(pid):
    maps = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-map":
                continue
            info = fdinfo(pid, fd)
        except OSError:
            continue
        mid = int(info.get("map_id", "0"))
        name = "id%d" % mid
        try:
            js = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(mid)],
                                           capture_output=True, text=True, timeout=10).stdout)
            name = js.get("name", name)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
        maps[name] = {"id": mid, "memlock": int(info.get("memlock", "0")),
                      "max_entries": int(info.get("max_entries", "0")),
                      "flags": info.get("map_flags", ""), "entries": entries(mid, info)}
    return maps


def slab():
    out = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                w = line.split()
                if w and w[0].startswith("kmalloc-"):
                    out[w[0]] = [int(w[1]), int(w[3])]
    except OSError:
        pass
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    pid = int(sys.argv[1])
    print(json.dumps({"rss_kb": rss_kb(pid), "maps": bpf_maps(pid), "slab": slab()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
