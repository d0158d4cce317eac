#!/usr/bin/env python3
"""The lab's test stream, reimplemented independently of lab/demo_common.c, and a checker for what a
client received across handoffs.

usage: stream.py gen SEED OFFSET LENGTH          write LENGTH bytes of stream SEED from OFFSET
       stream.py check FILE SEED [SEED...] [--last-len N]
            FILE must be prefix(stream(SEED1)) + prefix(stream(SEED2)) + ... with exactly one
            segment per SEED, in order (a handed-off flow: every new backend's application starts
            its stream at offset 0); a segment may be empty, the last one may not.  --last-len: the last segment is
            exactly N bytes (the last server sent its whole stream).  Prints the segment
            lengths; exit 0 when it all matches, 1 otherwise.

Stream: byte i of the stream seeded with string S is byte (i % 8), little-endian, of
splitmix64(fnv1a64(S) + i / 8).  Plain Python would need ~30 s for 200 MB, so the words are computed
in bulk: each 64-bit value sits in its own 128-bit lane of one big integer, where a 64x64-bit
product cannot carry into the next lane and a mask after every shift drops what crossed over.
"""
import array
import sys

M64 = (1 << 64) - 1
WORDS = 1 << 18  # words per bulk step (2 MiB of stream)
_lanes = {}


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for c in s.encode():
        h = ((h ^ c) * 0x100000001B3) & M64
    return h


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def lanes(n):
    """(ones, index, mask) for n lanes: 1 in every lane, k in lane k, 2^64-1 in every lane."""
    if n not in _lanes:
        idx = array.array("Q", bytes(16 * n))
        idx[0::2] = array.array("Q", range(n))
        _lanes[n] = (int.from_bytes((b"\1" + b"\0" * 15) * n, "little"),
                     int.from_bytes(idx.tobytes(), "little"),
                     int.from_bytes((b"\xff" * 8 + b"\0" * 8) * n, "little"))
    return _lanes[n]


def words(base, n):
    """splitmix64(base + k) for k < n, as 8n little-endian bytes."""
    ones, idx, mask = lanes(n)
    z = (idx + ((base + 0x9E3779B97F4A7C15) & M64) * ones) & mask
    z = (((z ^ (z >> 30)) & mask) * 0xBF58476D1CE4E5B9) & mask
    z = (((z ^ (z >> 27)) & mask) * 0x94D049BB133111EB) & mask
    z = (z ^ (z >> 31)) & mask
    return memoryview(z.to_bytes(16 * n, "little")).cast("Q")[::2].tobytes()


def gen(seed, off, length):
    """length bytes of the stream with 64-bit seed from byte offset off."""
    out = []
    w, skip = off // 8, off % 8
    need = skip + length
    while need > 0:
        n = min(WORDS, (need + 7) // 8)
        out.append(words((seed + w) & M64, n))
        w += n
        need -= 8 * n
    return b"".join(out)[skip:skip + length]


def common_prefix(a, b):
    """Length of the common prefix of two byte strings (binary search on slice compares)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def check(path, names, last_len):
    data = memoryview(open(path, "rb").read())
    seeds = [fnv1a64(s) for s in names]
    CH = 8 * WORDS
    pos, seg, seg_start = 0, 0, 0
    lens = []
    while True:
        off = pos - seg_start
        blk = data[pos:pos + CH]
        if not len(blk):
            break
        exp = gen(seeds[seg], off, len(blk))
        m = common_prefix(blk, exp)
        if m == len(blk):
            pos += m
            continue
        bad = pos + m  # first byte that is not stream `seg`
        if seg + 1 == len(seeds):
            print("stream %s (segment %d) wrong at its offset %d (file byte %d): no more segments"
                  % (names[seg], seg + 1, bad - seg_start, bad))
            return 1
        # The next segment starts at `bad`, or up to a few bytes before it when the next stream's
        # first bytes happen to equal this stream's.  A segment may also be empty (a backend
        # that sent nothing before the flow moved on), so the stream after the next may start
        # there.  Take the candidate that continues furthest (a wrong one matches k bytes with
        # probability 256^-k); a tie between
        # different starts is ambiguous.
        best, best_len, ties = None, -1, 0
        for nxt in range(seg + 1, len(seeds)):
            for q in range(max(seg_start, bad - 32), bad + 1):
                look = data[q:q + 4096]
                k = common_prefix(look, gen(seeds[nxt], 0, len(look)))
                if k > best_len:
                    best, best_len, ties = (q, nxt), k, 0
                elif k == best_len and (q != best[0] or seeds[nxt] != seeds[best[1]]):
                    ties += 1  # the same seed further on is the same stream: keep the nearest
        if best is None or best_len < 1 or ties:
            print("stream %s (segment %d) wrong at its offset %d (file byte %d), and no later "
                  "stream starts there" % (names[seg], seg + 1, bad - seg_start, bad))
            return 1
        q, nxt = best
        lens.append(q - seg_start)
        lens.extend([0] * (nxt - seg - 1))
        seg, seg_start, pos = nxt, q, q
        continue
    lens.append(pos - seg_start)
    if len(lens) < len(names) and seeds[seg] == seeds[-1]:
        # The segments that stayed empty were the ones before the last: the last backend is the
        # one that sent to the end (with alternating backends, the nearest match above picked an
        # earlier segment of the same stream).
        lens[-1:] = [0] * (len(names) - len(lens)) + [lens[-1]]
    print("segments: " + " ".join("%s=%d" % (names[i], n) for i, n in enumerate(lens)))
    print("total: %d bytes" % len(data))
    if len(lens) != len(names):
        print("got %d segments, want %d" % (len(lens), len(names)))
        return 1
    if last_len is not None and lens[-1] != last_len:
        print("last segment %d bytes, want %d" % (lens[-1], last_len))
        return 1
    print("OK")
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "gen":
        sys.stdout.buffer.write(gen(fnv1a64(argv[2]), int(argv[3]), int(argv[4])))
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        args, last_len = argv[3:], None
        if "--last-len" in args:
            i = args.index("--last-len")
            last_len = int(args[i + 1])
            del args[i:i + 2]
        if args:
            return check(argv[2], args, last_len)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
