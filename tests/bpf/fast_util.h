/* Helpers of the fast path's BPF tests (tests/bpf/test_*.c): load the skeleton, build Ethernet
 * frames, run them through BPF_PROG_TEST_RUN, read counters and flow entries. */
#ifndef TCPMIG_TEST_FAST_UTIL_H
#define TCPMIG_TEST_FAST_UTIL_H

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vec.h" /* tap.h, libtcpmig headers, the PRNG */

#include "fast.h"
#include "tcpmig_fast.skel.h"

#define FRAME_MAX 2048

/* Frames are laid out as the kernel lays them out (NET_IP_ALIGN): the Ethernet header at 2 mod 4,
 * so the IP and TCP headers are 4-byte aligned, as libtcpmig's struct views need. */
struct frame {
	_Alignas(8) __u8 pad[2];
	__u8 b[FRAME_MAX];
};

static struct tcpmig_fast *skel;
static int prog_fd, flows_fd, stats_fd, daemon_fd, gate_fd, ncpus;
/* run() stands in for a live daemon (a fresh heartbeat before each test run) unless cleared. */
static int beat_auto = 1;
static char libbpf_log[8192];
static size_t libbpf_log_len;

/* Keep libbpf's messages (the verifier log on a failed load) for the TAP diagnostics. */
static inline int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(libbpf_log + libbpf_log_len, sizeof(libbpf_log) - libbpf_log_len, fmt, ap);
	if (n > 0)
		libbpf_log_len += (size_t)n < sizeof(libbpf_log) - libbpf_log_len
				      ? (size_t)n
				      : sizeof(libbpf_log) - libbpf_log_len - 1;
	return 0;
}

/* --- packets ---------------------------------------------------------------------------- */

struct spec {
	int family;
	int ihl;	/* IPv4 header length in words, 5..15 (options are NOPs) */
	int ip6_next;	/* IPv6 next header when not TCP (an extension header test) */
	__u16 frag_off; /* IPv4 flags + fragment offset, host order */
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;
	__u32 seq, ack;
	__u8 flags;
	__u16 win;
	__u8 opts[40];
	int optlen; /* multiple of 4 */
	int doff;   /* 0: from optlen; else written as is (malformed tests) */
	int paylen;
	int ip_len_adj;	 /* added to the IP length field (malformed tests) */
	int frame_extra; /* bytes after the IP packet (link padding) */
};

static inline void spec_init(struct spec *s, int family)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->ihl = 5;
	if (family == TM_AF_INET) {
		memcpy(s->saddr, "\xc0\x00\x02\x0a", 4); /* 192.0.2.10 */
		memcpy(s->daddr, "\xc6\x33\x64\x01", 4); /* 198.51.100.1 */
	} else {
		memcpy(s->saddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x0a", 16);
		memcpy(s->daddr, "\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01", 16);
	}
	s->sport = 40001;
	s->dport = 80;
	s->seq = 1000001;
	s->ack = 7000001;
	s->flags = TM_TCP_ACK;
	s->win = 502;
}

/* Option area builders: append, then pad to 4 with NOPs. */
static inline void opt_bytes(struct spec *s, const __u8 *b, int n)
{
	memcpy(s->opts + s->optlen, b, (size_t)n);
	s->optlen += n;
}

static inline void opt_nop(struct spec *s)
{
	opt_bytes(s, (const __u8 *)"\x01", 1);
}

static inline void opt_ts(struct spec *s, __u32 tsval, __u32 tsecr)
{
	__u8 b[10] = {TM_OPT_TS, 10};

	tm_put32(b + 2, tsval);
	tm_put32(b + 6, tsecr);
	opt_bytes(s, b, 10);
}

static inline void opt_sack(struct spec *s, int n, __u32 first)
{
	__u8 b[34] = {TM_OPT_SACK, (__u8)(2 + 8 * n)};
	int i;

	for (i = 0; i < n; i++) {
		tm_put32(b + 2 + 8 * i, first + 3000u * (__u32)i);
		tm_put32(b + 6 + 8 * i, first + 3000u * (__u32)i + 1448);
	}
	opt_bytes(s, b, 2 + 8 * n);
}

static inline void opt_pad(struct spec *s)
{
	while (s->optlen % 4)
		opt_nop(s);
}

static inline void fill_key(struct tm_fast_key *k, const struct spec *s)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr.w, s->saddr, s->family == TM_AF_INET ? 4 : 16);
	memcpy(k->daddr.w, s->daddr, s->family == TM_AF_INET ? 4 : 16);
	k->sport = s->sport;
	k->dport = s->dport;
	k->family = (__u8)s->family;
}

/* An Ethernet frame with complete, correct checksums.  Returns its length. */
static inline size_t build(const struct spec *s, __u8 *f)
{
	int l3len = s->family == TM_AF_INET ? 4 * s->ihl : 40;
	int hlen = TM_TCP_HLEN + s->optlen;
	__u8 *ip = f + ETH_HLEN, *t = ip + l3len;
	int iplen = l3len + hlen + s->paylen, i;
	struct tm_pkt p;

	memset(f, 0, FRAME_MAX);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (s->family == TM_AF_INET) {
		tm_put16(f + 12, ETH_P_IP);
		ip[0] = (__u8)(0x40 | s->ihl);
		tm_put16(ip + 2, (__u16)(iplen + s->ip_len_adj));
		tm_put16(ip + 4, 0x1234);
		tm_put16(ip + 6, s->frag_off ? s->frag_off : 0x4000);
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, s->saddr, 4);
		memcpy(ip + 16, s->daddr, 4);
		for (i = 20; i < l3len; i++)
			ip[i] = 1; /* NOP IP options */
	} else {
		tm_put16(f + 12, ETH_P_IPV6);
		ip[0] = 0x60;
		tm_put16(ip + 4, (__u16)(iplen - 40 + s->ip_len_adj));
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, s->saddr, 16);
		memcpy(ip + 24, s->daddr, 16);
	}
	tm_put16(t, s->sport);
	tm_put16(t + 2, s->dport);
	tm_put32(t + 4, s->seq);
	tm_put32(t + 8, s->ack);
	t[12] = (__u8)((s->doff ? s->doff : hlen / 4) << 4);
	t[13] = s->flags;
	tm_put16(t + 14, s->win);
	memcpy(t + TM_TCP_HLEN, s->opts, (size_t)s->optlen);
	for (i = 0; i < s->paylen; i++)
		t[hlen + i] = (__u8)(i * 7 + 3);
	if (s->ip_len_adj == 0 && s->doff == 0 && tm_pkt_parse(&p, ip, (size_t)iplen) == 0) {
		tm_csum_ip4_full(&p);
		tm_csum_tcp_full(&p);
	}
	if (s->family == TM_AF_INET6 && s->ip6_next)
		ip[6] = (__u8)s->ip6_next; /* after the checksum: tm_pkt_parse would walk it */
	return (size_t)(ETH_HLEN + iplen + s->frame_extra);
}

/* What the slow path makes of the frame: tm_xlate_apply(), complete checksum.  0 or its error. */
static inline int expect_xlate(const struct tm_xlate *x, const __u8 *in, size_t len, __u8 *want)
{
	struct tm_pkt p;
	int err;

	memcpy(want, in, len);
	/* A parse that failed on the options leaves l3, tcp and end set: let tm_xlate_apply()
	 * say what the slow path's translation says (-TM_XLATE_EOPT). */
	err = tm_pkt_parse(&p, want + ETH_HLEN, len - ETH_HLEN);
	if (err && err != -TM_PKT_EOPT)
		return 1000 - err;
	return tm_xlate_apply(x, p.l3, (__u8 *)p.tcp, p.end, 0);
}

static inline int csums_ok(const __u8 *frame, size_t len)
{
	struct tm_pkt p;
	struct frame fb;
	__u8 *buf = fb.b;

	memcpy(buf, frame, len);
	return tm_pkt_parse(&p, buf + ETH_HLEN, len - ETH_HLEN) == 0 && tm_csum_tcp_ok(&p) &&
	       tm_csum_ip4_ok(&p);
}

/* --- running the program ------------------------------------------------------------------ */

struct result {
	struct frame outf;
	__u32 len;
	__u32 retval;
	__u32 mark;
	int err;
};

static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* The daemon's heartbeat as tcpmigd writes it (struct tm_fast_daemon). */
static inline void heartbeat_set(__u64 alive_ns)
{
	struct tm_fast_daemon d = {.alive_ns = alive_ns};
	__u32 zero = 0;

	bpf_map_update_elem(daemon_fd, &zero, &d, BPF_ANY);
}

static inline void run(const __u8 *in, size_t len, struct result *r)
{
	struct __sk_buff ctx = {.mark = 0x5};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->outf.b, .data_size_out = sizeof(r->outf.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		    .repeat = 1);

	memset(r->outf.b, 0, sizeof(r->outf.b));
	if (beat_auto)
		heartbeat_set(mono_ns());
	r->err = bpf_prog_test_run_opts(prog_fd, &o);
	r->len = o.data_size_out;
	r->retval = o.retval;
	r->mark = ctx.mark;
}

static inline void stats_read(__u64 *sum)
{
	__u64 v[1024];
	__u32 i;
	int c;

	for (i = 0; i < TM_FAST_STAT_MAX; i++) {
		sum[i] = 0;
		if (bpf_map_lookup_elem(stats_fd, &i, v))
			continue;
		for (c = 0; c < ncpus; c++)
			sum[i] += v[c];
	}
}

/* Exactly one counter, @want, moved by exactly one since @before. */
static inline int stats_one(const __u64 *before, int want, int *got)
{
	__u64 now[TM_FAST_STAT_MAX];
	int i, ok = 1;

	stats_read(now);
	*got = -1;
	for (i = 0; i < TM_FAST_STAT_MAX; i++) {
		__u64 d = now[i] - before[i];

		if (d)
			*got = i;
		if (d != (i == want))
			ok = 0;
	}
	return ok;
}

static inline const char *stat_name(int i)
{
	return i < 0 ? "none" : tm_fast_stat_name(i);
}

static inline void flow_put(const struct spec *s, const struct tm_xlate *x, int dir,
			    const struct tm_fast_side *seed)
{
	struct tm_fast_key k;
	struct tm_fast_flow v;

	fill_key(&k, s);
	memset(&v, 0, sizeof(v));
	v.x = *x;
	v.dir = (__u8)dir;
	v.cookie = 42;
	if (seed)
		v.st = *seed;
	if (bpf_map_update_elem(flows_fd, &k, &v, BPF_ANY))
		printf("# map update failed: %s\n", strerror(errno));
}

/* Close or open gate slot @slot (struct tm_fast_gate), as the daemon's take-back does. */
static inline void gate_put(__u32 slot, int closed)
{
	struct tm_fast_gate g = {.closed = (__u32)closed};

	if (bpf_map_update_elem(gate_fd, &slot, &g, BPF_ANY))
		printf("# gate update failed: %s\n", strerror(errno));
}

static inline int flow_get(const struct spec *s, struct tm_fast_flow *v)
{
	struct tm_fast_key k;

	fill_key(&k, s);
	return bpf_map_lookup_elem(flows_fd, &k, v);
}

static inline void flow_del(const struct spec *s)
{
	struct tm_fast_key k;

	fill_key(&k, s);
	bpf_map_delete_elem(flows_fd, &k);
}

static inline int fast_load(void)
{
	int err;

	libbpf_set_print(libbpf_print);
	skel = tcpmig_fast__open();
	if (!skel)
		return -errno;
	bpf_map__set_max_entries(skel->maps.tm_fast_flows, 1024);
	skel->rodata->tm_fast_mark_value = 0x100;
	skel->rodata->tm_fast_mark_mask = 0xf00;
	err = tcpmig_fast__load(skel);
	if (err)
		return err;
	prog_fd = bpf_program__fd(skel->progs.tcpmig_fast);
	flows_fd = bpf_map__fd(skel->maps.tm_fast_flows);
	stats_fd = bpf_map__fd(skel->maps.tm_fast_stats);
	daemon_fd = bpf_map__fd(skel->maps.tm_fast_daemon);
	gate_fd = bpf_map__fd(skel->maps.tm_fast_gate);
	ncpus = libbpf_num_possible_cpus();
	return ncpus > 0 && ncpus <= 1024 ? 0 : -EINVAL;
}

/*
 * Load the program for a test binary and print the first TAP line.  Returns 0 to go on, 1 when
 * the test is skipped (printed "ok 1 # SKIP ..." and the plan: exit 0), -1 when the load failed
 * (printed "not ok 1" and the verifier's last words).  Only missing privilege or kernel support
 * skips: a program the verifier rejects fails.
 */
static inline int fast_start(void)
{
	int err;

	if (geteuid() != 0) {
		printf("ok 1 # SKIP not root: cannot load BPF programs\n1..1\n");
		return 1;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1) {
		printf("ok 1 # SKIP cannot load tc BPF programs here (kernel support, "
		       "CAP_BPF)\n1..1\n");
		return 1;
	}
	err = fast_load();
	if (err == -EPERM) {
		printf("ok 1 # SKIP not allowed to load BPF programs (EPERM)\n1..1\n");
		return 1;
	}
	ok(err == 0, "skeleton opens and loads (the verifier accepts tcpmig_fast)");
	if (err) {
		printf("# load: %s\n", strerror(-err));
		printf("# %s\n",
		       libbpf_log_len > 3000 ? libbpf_log + libbpf_log_len - 3000 : libbpf_log);
		return -1;
	}
	return 0;
}

#endif
