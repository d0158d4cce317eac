/* tcpmig-netem selftest (TAP): the tc program through BPF_PROG_TEST_RUN, the delayer's rebuilds. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netem.h"
#include "netem_delay.h"
#include "netem.skel.h"

int netem_selftest(void);

static int t_n, t_fail;

static void t_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void t_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		t_fail++;
}

/* --- test packets --------------------------------------------------------------------------- */

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum for a TCP segment of l4_len bytes (not inverted, folded). */
static uint16_t pseudo(const uint8_t *f, int v6, size_t l4_len)
{
	uint32_t s = 6 + (uint32_t)l4_len;

	return v6 ? sum16(f + 14 + 8, 32, s) : sum16(f + 14 + 12, 8, s);
}

/* The L4 checksum verifies: sum over pseudo header + segment is 0xffff. */
static int tcp_csum_ok(const uint8_t *f, size_t len, int v6)
{
	size_t l4 = v6 ? 54 : 34;

	return sum16(f + l4, len - l4, pseudo(f, v6, len - l4)) == 0xffff;
}

static int ip4_csum_ok(const uint8_t *f)
{
	return sum16(f + 14, 20, 0) == 0xffff;
}

/*
 * Ethernet + IPv4/IPv6 + TCP (20 bytes + 12 of timestamps option) + payload bytes 0,1,2...
 * csum: 0 = partial (pseudo-header only, as under CHECKSUM_PARTIAL), 1 = complete, 2 = wrong.
 */
static size_t build_tcp(uint8_t *f, int v6, size_t payload, uint8_t flags, int csum)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34, thl = 32, len = l4 + thl + payload, i;
	uint16_t c;

	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 4] = (uint8_t)((len - l4) >> 8);
		f[l3 + 5] = (uint8_t)(len - l4);
		f[l3 + 6] = 6;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfd, f[l3 + 23] = 1;  /* fd00::1 */
		f[l3 + 24] = 0xfd, f[l3 + 39] = 2; /* fd00::2 */
	} else {
		f[l3] = 0x45;
		f[l3 + 2] = (uint8_t)((len - l3) >> 8);
		f[l3 + 3] = (uint8_t)(len - l3);
		f[l3 + 4] = 0x12, f[l3 + 5] = 0x34; /* id */
		f[l3 + 6] = 0x40;		    /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		memcpy(f + l3 + 12, "\x0a\x00\x01\x01\x0a\x00\x00\x01", 8);
		c = (uint16_t)~sum16(f + l3, 20, 0);
		f[l3 + 10] = (uint8_t)(c >> 8), f[l3 + 11] = (uint8_t)c;
	}
	f[l4] = 0x9c, f[l4 + 1] = 0x40;	 /* 40000 */
	f[l4 + 2] = 0x2b, f[l4 + 3] = 0x67; /* 11111 */
	memcpy(f + l4 + 4, "\xff\xff\xf0\x00", 4); /* seq near the wrap: serial arithmetic */
	memcpy(f + l4 + 8, "\x00\x00\x00\x01", 4);
	f[l4 + 12] = (uint8_t)((thl / 4) << 4);
	f[l4 + 13] = flags;
	f[l4 + 14] = 0x01, f[l4 + 15] = 0xf5;
	memcpy(f + l4 + 20, "\x01\x01\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x09", 12);
	for (i = 0; i < payload; i++)
		f[l4 + thl + i] = (uint8_t)i;
	c = pseudo(f, v6, len - l4);
	if (csum >= 1)
		c = (uint16_t)~sum16(f + l4, len - l4, c);
	if (csum == 2)
		c ^= 0x5555;
	f[l4 + 16] = (uint8_t)(c >> 8), f[l4 + 17] = (uint8_t)c;
	return len;
}

/* --- the BPF program ------------------------------------------------------------------------- */

struct bpf_env {
	struct netem *skel;
	int prog, cfg, stats;
	uint32_t gen;
};

static int set_cfg(struct bpf_env *e, uint32_t loss_pct, uint32_t reorder_pct, uint64_t seed,
		   uint32_t flags, uint32_t mark)
{
	struct netem_cfg c = {
		.gen = ++e->gen,
		.flags = flags,
		.loss_ppm = loss_pct * 10000,
		.reorder_ppm = reorder_pct * 10000,
		.delay_us = 5000,
		.reinject_mark = mark,
		.seed = seed,
	};
	uint32_t zero = 0;

	return bpf_map_update_elem(e->cfg, &zero, &c, BPF_ANY);
}

static int run_pkt(struct bpf_env *e, const uint8_t *f, size_t len, uint32_t mark)
{
	struct __sk_buff ctx = {.mark = mark};
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(e->prog, &o))
		return -1000;
	return (int)o.retval;
}

/* Verdicts of n runs of packet f: bitmap of drops (TC_ACT_STOLEN). */
static unsigned run_many(struct bpf_env *e, const uint8_t *f, size_t len, unsigned n,
			 uint8_t *shot)
{
	unsigned i, drops = 0;

	for (i = 0; i < n; i++) {
		shot[i] = run_pkt(e, f, len, 0) == TC_ACT_STOLEN;
		drops += shot[i];
	}
	return drops;
}

static uint64_t stat_sum(struct bpf_env *e, uint32_t idx)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	uint64_t vals[1024] = {0}, s = 0;

	if (ncpu <= 0 || ncpu > 1024 || bpf_map_lookup_elem(e->stats, &idx, vals))
		return 0;
	for (c = 0; c < ncpu; c++)
		s += vals[c];
	return s;
}

struct ring_seen {
	unsigned n;
	uint32_t len;
	uint64_t min_release;
};

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct ring_seen *rs = ctx;
	const struct netem_held *h = data;

	if (size >= sizeof(*h)) {
		rs->n++;
		rs->len = h->len;
		if (!rs->min_release || h->release_ns < rs->min_release)
			rs->min_release = h->release_ns;
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_bpf(void)
{
	enum { N = 20000 };
	static uint8_t a[N], b[N];
	uint8_t f[2048], ack[128];
	struct bpf_env e = {0};
	struct ring_buffer *rb = NULL;
	struct ring_seen rs = {0};
	size_t len = build_tcp(f, 0, 100, 0x18, 1), alen = build_tcp(ack, 0, 0, 0x10, 1);
	unsigned d1, d2, d3, i, all_pass;
	int ncpu = libbpf_num_possible_cpus();
	uint64_t t0;
	cpu_set_t cpus;

	/* Per-CPU generators: stay on one CPU so two runs draw from the same stream. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	e.skel = netem__open();
	if (e.skel && ncpu > 0)
		bpf_map__set_max_entries(e.skel->maps.netem_scratch, (uint32_t)ncpu);
	t_ok(e.skel && netem__load(e.skel) == 0, "BPF program loads (verifier)");
	if (!e.skel || bpf_program__fd(e.skel->progs.netem_tc) < 0) {
		printf("# cannot go on without the program: %s\n", strerror(errno));
		netem__destroy(e.skel);
		return;
	}
	e.prog = bpf_program__fd(e.skel->progs.netem_tc);
	e.cfg = bpf_map__fd(e.skel->maps.netem_cfg);
	e.stats = bpf_map__fd(e.skel->maps.netem_stats);

	set_cfg(&e, 0, 0, 1, 0, 0);
	t_ok(run_many(&e, f, len, 1000, a) == 0 && run_pkt(&e, f, len, 0) == TC_ACT_UNSPEC,
	     "no loss configured: every packet passes with TC_ACT_UNSPEC (next filter runs)");

	set_cfg(&e, 2, 0, 42, 0, 0);
	d1 = run_many(&e, f, len, N, a);
	t_ok(d1 >= N * 15 / 1000 && d1 <= N * 25 / 1000, "loss 2%%: %u of %u dropped", d1, N);
	set_cfg(&e, 2, 0, 42, 0, 0);
	d2 = run_many(&e, f, len, N, b);
	t_ok(d1 == d2 && !memcmp(a, b, N), "same seed, same packets: the same packets dropped");
	set_cfg(&e, 2, 0, 43, 0, 0);
	d3 = run_many(&e, f, len, N, b);
	t_ok(memcmp(a, b, N) != 0, "another seed: other packets dropped (%u)", d3);

	set_cfg(&e, 100, 0, 1, NETEM_F_TCP_DATA_ONLY, 0);
	t_ok(run_pkt(&e, ack, alen, 0) == TC_ACT_UNSPEC && run_pkt(&e, f, len, 0) == TC_ACT_STOLEN,
	     "tcp-data-only with loss 100%%: a pure ACK passes, a data segment is dropped");

	set_cfg(&e, 100, 0, 1, 0, NETEM_DEFAULT_MARK);
	t_ok(run_pkt(&e, f, len, NETEM_DEFAULT_MARK) == TC_ACT_UNSPEC,
	     "a packet carrying the reinject mark passes even at loss 100%%");

	set_cfg(&e, 0, 100, 1, 0, 0);
	t_ok(run_pkt(&e, f, len, 0) == TC_ACT_UNSPEC && stat_sum(&e, NETEM_ST_DELAY_FAIL) >= 1,
	     "reorder without a delayer (mark 0): passed and counted delay-failed");

	rb = ring_buffer__new(bpf_map__fd(e.skel->maps.netem_rb), ring_cb, &rs, NULL);
	set_cfg(&e, 0, 5, 7, 0, NETEM_DEFAULT_MARK);
	t0 = mono_ns();
	d1 = run_many(&e, f, len, 4000, a);
	if (rb)
		ring_buffer__consume(rb);
	t_ok(rb && d1 >= 120 && d1 <= 280 && rs.n == d1 && rs.len == len,
	     "reorder 5%%: %u of 4000 held, %u copies of %zu bytes in the ring", d1, rs.n, len);
	t_ok(rs.min_release >= t0 + 5000000 && rs.min_release < mono_ns() + 5000000,
	     "held packets are due delay-ms (5) after they were taken");
	t_ok(stat_sum(&e, NETEM_ST_DELAYED) == d1, "delayed counter = held packets");

	set_cfg(&e, 0, 0, 1, 0, 0);
	for (i = 0, all_pass = 1; i < 100; i++)
		all_pass &= run_pkt(&e, f, len, 0) == TC_ACT_UNSPEC;
	t_ok(all_pass, "options back to zero: everything passes again");
	ring_buffer__free(rb);
	netem__destroy(e.skel);
}

/* --- the delayer's packet rebuilding -------------------------------------------------------- */

struct capture {
	unsigned n;
	uint8_t frames[64][2048];
	size_t len[64];
};

static int capture_sink(const uint8_t *frame, size_t len, void *ctx)
{
	struct capture *c = ctx;

	if (c->n >= 64 || len > sizeof(c->frames[0]))
		return -1;
	memcpy(c->frames[c->n], frame, len);
	c->len[c->n++] = len;
	return 0;
}

/* Feed one packet to the delayer as the ring buffer would, release it, capture the frames. */
static void delay_one(const uint8_t *f, size_t len, uint16_t gso_size, struct capture *c)
{
	static uint8_t rec[sizeof(struct netem_held) + 20000];
	struct netem_held *h = (struct netem_held *)rec;

	memset(c, 0, sizeof(*c));
	memset(h, 0, sizeof(*h));
	h->len = (uint32_t)len;
	h->gso_size = gso_size;
	h->gso_segs = gso_size ? (uint16_t)((len + gso_size - 1) / gso_size) : 1;
	memcpy(rec + sizeof(*h), f, len);
	netem_delay_set_sink(capture_sink, c);
	netem_delay_enqueue(NULL, rec, sizeof(*h) + len);
	netem_delay_release(0, true);
	netem_delay_set_sink(NULL, NULL);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_gso(int v6)
{
	static uint8_t f[20000];
	static struct capture c;
	size_t payload = 10000, mss = 1448, l4 = v6 ? 54 : 34, i, off = 0;
	size_t len = build_tcp(f, v6, payload, 0x19 /* FIN PSH ACK */, 0);
	int csums = 1, seqs = 1, flags = 1, lens = 1, bytes = 1, ids = 1;

	delay_one(f, len, (uint16_t)mss, &c);
	t_ok(c.n == (payload + mss - 1) / mss, "IPv%d GSO %zu bytes / mss %zu: %u segments", v6 ? 6 : 4,
	     payload, mss, c.n);
	for (i = 0; i < c.n; i++) {
		const uint8_t *s = c.frames[i];
		size_t n = c.len[i] - l4 - 32;
		int last = i + 1 == c.n;

		csums &= tcp_csum_ok(s, c.len[i], v6) && (v6 || ip4_csum_ok(s));
		seqs &= get32(s + l4 + 4) == 0xfffff000u + (uint32_t)off;
		flags &= s[l4 + 13] == (last ? 0x19 : 0x10);
		lens &= n == (last ? payload - off : mss) &&
			(v6 ? (size_t)(s[18] << 8 | s[19]) == c.len[i] - 54
			    : (size_t)(s[16] << 8 | s[17]) == c.len[i] - 14);
		bytes &= s[l4 + 32] == (uint8_t)off && !memcmp(s + l4 + 20, f + l4 + 20, 12);
		ids &= v6 || (s[18] << 8 | s[19]) == 0x1234 + (int)i;
		off += n;
	}
	t_ok(csums, "IPv%d segments: TCP%s checksums completed and valid", v6 ? 6 : 4,
	     v6 ? "" : " and IPv4 header");
	t_ok(seqs && off == payload, "IPv%d segments: sequence numbers contiguous across the wrap",
	     v6 ? 6 : 4);
	t_ok(flags, "IPv%d segments: FIN/PSH only on the last one", v6 ? 6 : 4);
	t_ok(lens && bytes && ids, "IPv%d segments: lengths, payload, options%s right", v6 ? 6 : 4,
	     v6 ? "" : ", IP ids");
}

static void test_csum(void)
{
	static uint8_t f[2048], g[2048];
	static struct capture c;
	size_t len;

	len = build_tcp(f, 0, 300, 0x18, 0);
	delay_one(f, len, 0, &c);
	t_ok(c.n == 1 && c.len[0] == len && tcp_csum_ok(c.frames[0], len, 0),
	     "partial checksum of a small packet completed");
	len = build_tcp(f, 1, 300, 0x18, 1);
	memcpy(g, f, len);
	delay_one(f, len, 0, &c);
	t_ok(c.n == 1 && !memcmp(c.frames[0], g, len), "complete checksum: frame unchanged");
	len = build_tcp(f, 0, 300, 0x18, 2);
	memcpy(g, f, len);
	delay_one(f, len, 0, &c);
	t_ok(c.n == 1 && !memcmp(c.frames[0], g, len) && !tcp_csum_ok(c.frames[0], len, 0),
	     "a wrong checksum stays wrong");
}

int netem_selftest(void)
{
	test_gso(0);
	test_gso(1);
	test_csum();
	test_bpf();
	printf("1..%d\n", t_n);
	return t_fail ? 1 : 0;
}
