/* BPF_PROG_TEST_RUN tests of the tc fast path (bpf/tcpmig_fast.bpf.c): output byte-exact with
 * userspace tm_xlate_apply() for every option layout, both directions and families; punt reasons
 * and their counters; implausible ACKs dropped; FIN/RST
 * without a daemon; per-flow state in the client's view; a seeded
 * property loop. */
#include "fast_util.h"

#define PROP_ITERATIONS 4000

/* --- fixed cases -------------------------------------------------------------------------- */

static void c2s_xlate(struct tm_xlate *x, int family)
{
	memset(x, 0, sizeof(*x));
	x->family = (__u8)family;
	x->flags = TM_XL_DADDR | TM_XL_DPORT;
	if (family == TM_AF_INET)
		memcpy(x->daddr.w, "\x0a\x00\x00\x02", 4);
	else
		memcpy(x->daddr.w, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	x->dport = 8080;
	x->ack_delta = (__u32)-892000;
	x->tsecr_delta = (__u32)-6969;
	x->win_shift = 2;
}

static void s2c_xlate(struct tm_xlate *x, int family, const struct spec *client_side)
{
	memset(x, 0, sizeof(*x));
	x->family = (__u8)family;
	x->flags = TM_XL_SADDR | TM_XL_SPORT;
	memcpy(x->saddr.w, client_side->daddr, family == TM_AF_INET ? 4 : 16);
	x->sport = client_side->dport;
	x->seq_delta = 892000;
	x->tsval_delta = 6969;
	x->win_shift = -3;
}

/* A client->server spec with timestamps (NOP, NOP, TS 1/2): what the stack sends. */
static void spec_ts(struct spec *s, int family)
{
	spec_init(s, family);
	opt_nop(s);
	opt_nop(s);
	opt_ts(s, 1, 2);
}

/* The backend's answer to client spec @c: from the backend @c2s sends to, back to the client. */
static void backend_spec(struct spec *b, const struct spec *c, const struct tm_xlate *c2s)
{
	*b = *c;
	memcpy(b->saddr, c2s->daddr.w, 16);
	b->sport = c2s->dport;
	memcpy(b->daddr, c->saddr, 16);
	b->dport = c->sport;
}

/* One translated packet: verdict, counter @reason, bytes as userspace makes them, checksums,
 * mark. */
static void check_xlated_as(const char *name, const struct spec *s, const struct tm_xlate *x,
			    int reason)
{
	static struct frame inf, wantf;
	static struct result r;
	__u8 *in = inf.b, *want = wantf.b;
	__u64 before[TM_FAST_STAT_MAX];
	size_t len = build(s, in);
	int err, got;

	err = expect_xlate(x, in, len, want);
	stats_read(before);
	run(in, len, &r);
	ok(r.err == 0 && r.retval == TC_ACT_OK && r.len == len && err == 0,
	   "%s: TC_ACT_OK, length %zu kept", name, len);
	is_mem(r.outf.b, want, len, "%s: byte-exact with tm_xlate_apply()", name);
	ok(csums_ok(r.outf.b, len), "%s: IPv4 header and TCP checksums verify", name);
	ok(stats_one(before, reason, &got), "%s: counted as %s (got %s)", name, stat_name(reason),
	   stat_name(got));
	is_int(r.mark, 0x105, "%s: mark set under the mask, other bits kept", name);
}

static void check_xlated(const char *name, const struct spec *s, const struct tm_xlate *x)
{
	check_xlated_as(name, s, x, TM_FAST_XLATED);
}

/* One punted packet: TC_ACT_OK, not a byte changed, counted under @reason. */
static void check_punt(const char *name, const __u8 *in, size_t len, int reason)
{
	static struct result r;
	__u64 before[TM_FAST_STAT_MAX];
	int got;

	stats_read(before);
	run(in, len, &r);
	ok(r.err == 0 && r.retval == TC_ACT_OK && r.len == len && !memcmp(r.outf.b, in, len) &&
	       r.mark == 0x5,
	   "%s: passed untouched (TC_ACT_OK, mark kept)", name);
	if (r.err || r.len != len)
		printf("#   test run: %s, %u bytes out of %zu\n", strerror(-r.err), r.len, len);
	ok(stats_one(before, reason, &got), "%s: counted as %s (got %s)", name, stat_name(reason),
	   stat_name(got));
}

static void check_punt_spec(const char *name, const struct spec *s, int reason)
{
	static struct frame inf;
	size_t len = build(s, inf.b);

	check_punt(name, inf.b, len, reason);
}

/* Every option layout the stack or a middlebox may send, both directions, both families. */
static void layouts(int family)
{
	const char *fam = family == TM_AF_INET ? "v4" : "v6";
	struct tm_xlate c2s, s2c;
	struct spec s, b;
	char name[96];
	int dir, lay;

	for (dir = 0; dir < 2; dir++) {
		for (lay = 0; lay < 12; lay++) {
			const char *what = "";

			spec_init(&s, family);
			switch (lay) {
			case 0:
				what = "no options";
				break;
			case 1:
				what = "NOP NOP TS (Linux)";
				opt_nop(&s);
				opt_nop(&s);
				opt_ts(&s, 123456, 654321);
				break;
			case 2:
				what = "TS at an odd offset";
				opt_nop(&s);
				opt_ts(&s, 0xfffffff0, 0x7ffffff0);
				break;
			case 3:
				what = "TS first, then EOL";
				opt_ts(&s, 1, 2);
				opt_bytes(&s, (const __u8 *)"\0\0", 2);
				break;
			case 4:
				what = "NOP NOP TS NOP NOP SACK x1";
				opt_nop(&s);
				opt_nop(&s);
				opt_ts(&s, 5, 6);
				opt_nop(&s);
				opt_nop(&s);
				opt_sack(&s, 1, 7000001 + 1448);
				break;
			case 5:
				what = "TS + SACK x3 (odd offsets)";
				opt_nop(&s);
				opt_ts(&s, 77, 88);
				opt_nop(&s);
				opt_nop(&s);
				opt_nop(&s);
				opt_sack(&s, 3, 0xfffff000);
				break;
			case 6:
				what = "SACK x4 at an odd offset";
				opt_nop(&s);
				opt_sack(&s, 4, 7002000);
				break;
			case 7:
				what = "SACK x2 first, TS last";
				opt_sack(&s, 2, 100);
				opt_ts(&s, 9, 10);
				break;
			case 8:
				what = "MSS, wscale, SACK-perm, unknown kind on a data segment";
				opt_bytes(&s, (const __u8 *)"\x02\x04\x05\xb4\x03\x03\x07\x04\x02",
					  9);
				opt_bytes(&s, (const __u8 *)"\x1e\x06\xaa\xbb\xcc\xdd", 6);
				opt_ts(&s, 31337, 4242);
				break;
			case 9:
				what = "40 bytes of options";
				opt_ts(&s, 0x80000000, 0x7fffffff);
				opt_nop(&s);
				opt_nop(&s);
				opt_sack(&s, 3, 55);
				break;
			case 10:
				what = "payload, odd length";
				opt_nop(&s);
				opt_nop(&s);
				opt_ts(&s, 1000, 2000);
				s.paylen = 1001;
				s.flags |= TM_TCP_PSH;
				break;
			case 11:
				what = family == TM_AF_INET ? "IPv4 options (IHL 9), payload"
							    : "URG|ECE|CWR, payload";
				s.ihl = 9;
				s.flags |= TM_TCP_URG | TM_TCP_ECE | TM_TCP_CWR;
				opt_nop(&s);
				opt_nop(&s);
				opt_ts(&s, 3, 4);
				s.paylen = 100;
				break;
			}
			opt_pad(&s);
			c2s_xlate(&c2s, family);
			if (dir == 0) {
				flow_put(&s, &c2s, TM_FAST_DIR_C2S, NULL);
				snprintf(name, sizeof(name), "%s c2s, %s", fam, what);
				check_xlated(name, &s, &c2s);
			} else {
				/* The backend's answer: from the backend to the client. */
				backend_spec(&b, &s, &c2s);
				s2c_xlate(&s2c, family, &s);
				flow_put(&b, &s2c, TM_FAST_DIR_S2C, NULL);
				snprintf(name, sizeof(name), "%s s2c, %s", fam, what);
				check_xlated(name, &b, &s2c);
				flow_del(&b);
			}
			flow_del(&s);
		}
	}
}

static void windows(void)
{
	static const struct {
		__u16 win;
		int shift;
	} w[] = {{502, 3}, {30000, 2}, {65535, 14}, {7, -3},
		 {1, -14}, {0, -2},    {0, 5},	    {40000, -1}};
	struct tm_xlate x;
	struct spec s;
	char name[64];
	unsigned i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		spec_init(&s, i % 2 ? TM_AF_INET6 : TM_AF_INET);
		s.win = w[i].win;
		memset(&x, 0, sizeof(x));
		x.family = (__u8)s.family;
		x.win_shift = (__s8)w[i].shift;
		flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
		snprintf(name, sizeof(name), "window %u shift %d", w[i].win, w[i].shift);
		check_xlated(name, &s, &x);
		flow_del(&s);
	}
	/* The identity: a flow offloaded with nothing to change is still the fast path's. */
	spec_init(&s, TM_AF_INET);
	memset(&x, 0, sizeof(x));
	x.family = TM_AF_INET;
	flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
	check_xlated("identity translation", &s, &x);
	flow_del(&s);
}

static void punts(void)
{
	static struct frame inf;
	__u8 *in = inf.b;
	struct tm_xlate x;
	struct spec s, o;
	struct tm_fast_flow v;
	struct tm_fast_key k;
	size_t len;
	int fam;

	for (fam = 0; fam < 2; fam++) {
		int family = fam ? TM_AF_INET6 : TM_AF_INET;
		const char *f = fam ? "v6" : "v4";
		char name[96];

		spec_ts(&s, family);
		c2s_xlate(&x, family);
		snprintf(name, sizeof(name), "%s not offloaded", f);
		check_punt_spec(name, &s, TM_FAST_PUNT_NO_FLOW);

		flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
		o = s;
		o.flags = TM_TCP_SYN;
		snprintf(name, sizeof(name), "%s SYN on an offloaded tuple", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_SYN);
		o.flags = TM_TCP_SYN | TM_TCP_ACK;
		snprintf(name, sizeof(name), "%s SYN-ACK", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_SYN);
		o.flags = TM_TCP_FIN | TM_TCP_ACK;
		snprintf(name, sizeof(name), "%s FIN", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_FIN);
		o.flags = TM_TCP_RST;
		snprintf(name, sizeof(name), "%s RST", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_RST);
		o.flags = TM_TCP_RST | TM_TCP_ACK;
		snprintf(name, sizeof(name), "%s RST|ACK", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_RST);

		/* Malformed options: the slow path's parser says no, so does the fast path. */
		o = s;
		o.optlen = 0;
		opt_bytes(&o, (const __u8 *)"\x01\x01\x08\x01\x00\x00", 6); /* length 1 */
		opt_pad(&o);
		snprintf(name, sizeof(name), "%s option length 1", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT);
		o.optlen = 0;
		opt_ts(&o, 1, 2); /* twice */
		opt_ts(&o, 3, 4);
		opt_pad(&o);
		snprintf(name, sizeof(name), "%s duplicate timestamps", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT);
		o.optlen = 0;
		opt_bytes(&o, (const __u8 *)"\x01\x01\x05\x0b\0\0\0\x01\0\0\0\x02\0", 13);
		opt_pad(&o);
		snprintf(name, sizeof(name), "%s SACK of 11 bytes", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT);
		o.optlen = 0;
		opt_bytes(&o, (const __u8 *)"\x01\x01\x08\x0a\0\0\0\x01\0\0\0\x02\x1e\x08", 14);
		opt_pad(&o);
		snprintf(name, sizeof(name), "%s option past the header", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT);
		o.optlen = 0;
		opt_bytes(&o, (const __u8 *)"\x02\x05\x05\xb4\x00\x00\x00\x00", 8); /* MSS len 5 */
		snprintf(name, sizeof(name), "%s MSS of 5 bytes", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT);

		/* Headers. */
		o = s;
		o.doff = 4;
		snprintf(name, sizeof(name), "%s data offset 4", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_MALFORMED);
		o = s;
		o.ip_len_adj = 200;
		snprintf(name, sizeof(name), "%s IP length past the frame", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_TRUNC);
		o = s;
		o.ip_len_adj = -8;
		snprintf(name, sizeof(name), "%s IP length shorter than the headers", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_MALFORMED);
		o = s;
		o.doff = 15; /* 60 bytes of header, 32 in the frame */
		snprintf(name, sizeof(name), "%s data offset past the frame", f);
		check_punt_spec(name, &o, TM_FAST_PUNT_MALFORMED);
		len = build(&s, in);
		snprintf(name, sizeof(name), "%s frame cut in the TCP header", f);
		check_punt(name, in, len - 20, TM_FAST_PUNT_TRUNC);
		/* (BPF_PROG_TEST_RUN refuses frames shorter than the IP header.) */
		snprintf(name, sizeof(name), "%s frame ends with the IP header", f);
		check_punt(name, in, ETH_HLEN + (fam ? 40 : 20), TM_FAST_PUNT_TRUNC);

		/* Link padding after the IP packet is no part of it: translated, padding kept. */
		o = s;
		o.frame_extra = 6;
		snprintf(name, sizeof(name), "%s with 6 bytes of link padding", f);
		check_xlated(name, &o, &x);

		/* The daemon's pause bit, then an entry whose translation is for the other family.
		 */
		fill_key(&k, &s);
		flow_get(&s, &v);
		v.flags = TM_FAST_F_PAUSE;
		bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);
		snprintf(name, sizeof(name), "%s paused by the daemon", f);
		check_punt_spec(name, &s, TM_FAST_PUNT_PAUSED);
		v.flags = 0;
		v.x.family = fam ? TM_AF_INET : TM_AF_INET6;
		bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);
		snprintf(name, sizeof(name), "%s entry of the other family", f);
		check_punt_spec(name, &s, TM_FAST_PUNT_BAD_ENTRY);
		flow_del(&s);
	}

	/* IPv4 only. */
	spec_init(&s, TM_AF_INET);
	c2s_xlate(&x, TM_AF_INET);
	flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
	o = s;
	o.frag_off = 0x2000; /* MF */
	check_punt_spec("v4 first fragment (MF)", &o, TM_FAST_PUNT_FRAG);
	o.frag_off = 0x0010;
	check_punt_spec("v4 later fragment", &o, TM_FAST_PUNT_FRAG);
	len = build(&s, in);
	in[ETH_HLEN] = 0x44;
	check_punt("v4 IHL 4", in, len, TM_FAST_PUNT_MALFORMED);
	len = build(&s, in);
	in[ETH_HLEN + 9] = IPPROTO_UDP;
	check_punt("v4 UDP", in, len, TM_FAST_PUNT_NOT_TCP);
	len = build(&s, in);
	tm_put16(in + ETH_HLEN + 2, 0);
	check_punt("v4 total length 0 (BIG TCP)", in, len, TM_FAST_PUNT_JUMBO);
	flow_del(&s);

	/* IPv6 only. */
	spec_init(&s, TM_AF_INET6);
	c2s_xlate(&x, TM_AF_INET6);
	flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
	o = s;
	o.ip6_next = 44;
	check_punt_spec("v6 fragment header", &o, TM_FAST_PUNT_FRAG);
	o.ip6_next = 60;
	check_punt_spec("v6 destination options header", &o, TM_FAST_PUNT_IP6_EXT);
	o.ip6_next = 17;
	check_punt_spec("v6 UDP", &o, TM_FAST_PUNT_NOT_TCP);
	len = build(&s, in);
	tm_put16(in + ETH_HLEN + 4, 0);
	check_punt("v6 payload length 0 (jumbogram)", in, len, TM_FAST_PUNT_JUMBO);
	flow_del(&s);

	/* Not IP. */
	len = build(&s, in);
	tm_put16(in + 12, ETH_P_ARP);
	check_punt("ARP", in, len, TM_FAST_PUNT_NOT_IP);
	tm_put16(in + 12, 0x8100);
	check_punt("in-band VLAN tag", in, len, TM_FAST_PUNT_NOT_IP);
}

/* A dropped packet: TC_ACT_SHOT, counted under @reason. */
static void check_drop_spec(const char *name, const struct spec *s, int reason)
{
	static struct frame inf;
	static struct result r;
	__u64 before[TM_FAST_STAT_MAX];
	size_t len = build(s, inf.b);
	int got;

	stats_read(before);
	run(inf.b, len, &r);
	ok(r.err == 0 && r.retval == TC_ACT_SHOT, "%s: TC_ACT_SHOT (got %u)", name, r.retval);
	ok(stats_one(before, reason, &got), "%s: counted as %s (got %s)", name, stat_name(reason),
	   stat_name(got));
}

/*
 * Acknowledging data the peer never sent: with both directions offloaded, an ACK beyond the
 * other entry's nxt (in the client's view) is dropped; up to it, translated; without the other
 * entry, translated (no opinion).
 */
static void implausible(int family)
{
	const char *f = family == TM_AF_INET ? "v4" : "v6";
	struct tm_xlate c2s, s2c;
	struct tm_fast_side seed_c, seed_s;
	struct tm_fast_flow v;
	struct spec c, b, o;
	char name[96];

	spec_init(&c, family);
	c2s_xlate(&c2s, family);
	backend_spec(&b, &c, &c2s);
	s2c_xlate(&s2c, family, &c);
	memset(&seed_c, 0, sizeof(seed_c));
	seed_c.nxt = 0x00000100; /* the client sent up to here (just after a wrap) */
	seed_c.ack = 0x7ffff000;
	seed_c.seen = TM_FAST_SEEN_NXT | TM_FAST_SEEN_ACK;
	seed_s = seed_c;
	seed_s.nxt = 0x7ffff000; /* the server, in the client's view */
	seed_s.ack = 0x00000100;
	flow_put(&c, &c2s, TM_FAST_DIR_C2S, &seed_c);
	flow_put(&b, &s2c, TM_FAST_DIR_S2C, &seed_s);

	c.flags = TM_TCP_ACK;
	c.seq = 0x100;
	c.ack = 0x7ffff000;
	snprintf(name, sizeof(name), "%s c2s ack = the server's nxt", f);
	check_xlated(name, &c, &c2s);
	c.ack = 0x7ffff000 - 5000;
	snprintf(name, sizeof(name), "%s c2s old ack (reordered)", f);
	check_xlated(name, &c, &c2s);
	o = c;
	o.ack = 0x7ffff001;
	snprintf(name, sizeof(name), "%s c2s ack one byte past the server's nxt", f);
	check_drop_spec(name, &o, TM_FAST_DROP_BAD_ACK);
	o.ack = 0x7ffff000u + 0x40000000u;
	o.paylen = 5;
	o.flags = TM_TCP_ACK | TM_TCP_PSH;
	snprintf(name, sizeof(name), "%s c2s data with an ack 2^30 ahead", f);
	check_drop_spec(name, &o, TM_FAST_DROP_BAD_ACK);
	o.optlen = 0;
	opt_bytes(&o, (const __u8 *)"\x01\x01\x08\x01\x00\x00", 6); /* length 1 */
	opt_pad(&o);
	snprintf(name, sizeof(name), "%s c2s ack 2^30 ahead, malformed options", f);
	check_punt_spec(name, &o, TM_FAST_PUNT_BAD_OPT); /* malformed first, as in the slow path */
	flow_get(&c, &v);
	ok(v.st.pkts == 2 && v.st.nxt == 0x100, "%s c2s: dropped segments leave the state alone",
	   f);

	/* Server->client: its ack (translated by ack_delta, 0 here) against the client's nxt. */
	b.flags = TM_TCP_ACK;
	b.seq = 0x7ffff000 - 892000;
	b.ack = 0x100;
	snprintf(name, sizeof(name), "%s s2c ack = the client's nxt", f);
	check_xlated(name, &b, &s2c);
	o = b;
	o.ack = 0x101;
	snprintf(name, sizeof(name), "%s s2c ack one byte past the client's nxt", f);
	check_drop_spec(name, &o, TM_FAST_DROP_BAD_ACK);
	o.flags = TM_TCP_PSH; /* no ACK flag: the field means nothing */
	o.paylen = 10;
	snprintf(name, sizeof(name), "%s s2c without ACK flag, ack field ignored", f);
	check_xlated(name, &o, &s2c);

	/* Without the peer's entry (a take-back in progress): no opinion. */
	flow_del(&b);
	o = c;
	o.ack = 0x7ffff000u + 0x40000000u;
	snprintf(name, sizeof(name), "%s c2s, peer entry gone: translated", f);
	check_xlated(name, &o, &c2s);
	flow_del(&c);
}

/*
 * FIN and RST go to the daemon while its heartbeat is fresh; without one (stopped, killed) the
 * program translates them itself, or nothing could end an offloaded migrated flow cleanly.
 */
static void orphan(int family)
{
	const char *f = family == TM_AF_INET ? "v4" : "v6";
	struct tm_fast_flow v;
	struct tm_xlate x;
	struct spec s, o;
	char name[96];

	spec_ts(&s, family);
	c2s_xlate(&x, family);
	flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
	beat_auto = 0;
	o = s;
	o.flags = TM_TCP_FIN | TM_TCP_ACK;
	heartbeat_set(mono_ns());
	snprintf(name, sizeof(name), "%s FIN, daemon alive", f);
	check_punt_spec(name, &o, TM_FAST_PUNT_FIN);
	heartbeat_set(mono_ns() - TM_FAST_ORPHAN_NS - 100000000ull);
	snprintf(name, sizeof(name), "%s FIN, no heartbeat for 600 ms: translated", f);
	check_xlated_as(name, &o, &x, TM_FAST_XLATED_ORPHAN);
	flow_get(&s, &v);
	is_int(v.st.nxt, o.seq + 1, "%s FIN translated: nxt counts its sequence number", f);
	ok(v.st.seen & TM_FAST_SEEN_FIN, "%s FIN translated: marked seen for a restarted daemon",
	   f);
	heartbeat_set(0); /* a clean stop that left its flows to the kernel */
	o.flags = TM_TCP_RST | TM_TCP_ACK;
	snprintf(name, sizeof(name), "%s RST, daemon stopped: translated", f);
	check_xlated_as(name, &o, &x, TM_FAST_XLATED_ORPHAN);
	o.flags = TM_TCP_SYN;
	snprintf(name, sizeof(name), "%s SYN, daemon stopped: still punted", f);
	check_punt_spec(name, &o, TM_FAST_PUNT_SYN);
	flow_get(&s, &v);
	ok(v.st.seen & TM_FAST_SEEN_RST, "%s RST translated: marked seen", f);
	heartbeat_set(mono_ns());
	o.flags = TM_TCP_RST;
	snprintf(name, sizeof(name), "%s RST, daemon back: punted", f);
	check_punt_spec(name, &o, TM_FAST_PUNT_RST);
	beat_auto = 1;
	flow_del(&s);
}

/*
 * The take-back gate: a closed slot punts its flow's packets untouched and leaves the entry's
 * state alone, other slots go on; every run leaves the entry's inflight count as it found it.
 */
static void gate(int family)
{
	const char *f = family == TM_AF_INET ? "v4" : "v6";
	struct tm_fast_key k;
	struct tm_fast_flow v;
	struct tm_xlate x;
	struct spec s, o;
	char name[96];

	spec_init(&s, family);
	s.flags = TM_TCP_ACK | TM_TCP_PSH;
	s.paylen = 100;
	c2s_xlate(&x, family);
	flow_put(&s, &x, TM_FAST_DIR_C2S, NULL);
	fill_key(&k, &s);
	flow_get(&s, &v);
	v.gate = 7;
	bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);

	gate_put(7, 1);
	snprintf(name, sizeof(name), "%s gate closed: punted as paused", f);
	check_punt_spec(name, &s, TM_FAST_PUNT_PAUSED);
	flow_get(&s, &v);
	is_int(v.st.pkts, 0, "%s gate closed: the entry's state untouched", f);
	is_int(v.inflight, 0, "%s gate closed: the run counted itself out again", f);
	gate_put(6, 1);
	gate_put(8, 1);
	gate_put(7, 0);
	snprintf(name, sizeof(name), "%s gate open (neighbour slots closed): translated", f);
	check_xlated(name, &s, &x);
	flow_get(&s, &v);
	is_int(v.st.pkts, 1, "%s gate open: the segment counted", f);
	is_int(v.inflight, 0, "%s gate open: inflight back to 0 after the run", f);
	o = s;
	o.flags = TM_TCP_FIN | TM_TCP_ACK;
	snprintf(name, sizeof(name), "%s FIN behind an open gate: still the daemon's", f);
	check_punt_spec(name, &o, TM_FAST_PUNT_FIN);
	flow_get(&s, &v);
	is_int(v.inflight, 0, "%s FIN punted: inflight back to 0", f);

	v.gate = 1u << 30; /* beyond the array */
	bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);
	snprintf(name, sizeof(name), "%s gate slot out of range: bad entry", f);
	check_punt_spec(name, &s, TM_FAST_PUNT_BAD_ENTRY);
	v.gate = 7;
	v.inflight = TM_FAST_INFLIGHT_SANE + 1; /* a count no set of CPUs could make */
	bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);
	snprintf(name, sizeof(name), "%s garbage inflight count: bad entry", f);
	check_punt_spec(name, &s, TM_FAST_PUNT_BAD_ENTRY);
	flow_get(&s, &v);
	is_int(v.inflight, TM_FAST_INFLIGHT_SANE + 1, "%s garbage count left as it was", f);
	is_int(v.st.pkts, 1, "%s garbage count: nothing translated", f);
	gate_put(6, 0);
	gate_put(8, 0);
	flow_del(&s);
}

/* --- per-flow state ----------------------------------------------------------------------- */

static void run_quiet(const struct spec *s)
{
	static struct frame inf;
	static struct result r;

	run(inf.b, build(s, inf.b), &r);
}

static void state(int family)
{
	const char *f = family == TM_AF_INET ? "v4" : "v6";
	struct tm_fast_side seed;
	struct tm_fast_flow v;
	struct tm_xlate c2s, s2c;
	struct spec c, b;

	/* Client->server: observed before translation, i.e. the client's own numbers. */
	spec_init(&c, family);
	c2s_xlate(&c2s, family);
	memset(&seed, 0, sizeof(seed));
	seed.nxt = 0xfffffe00; /* the daemon's c_nxt, just before the wrap */
	seed.ack = 7000001;
	seed.tsval = 0xfffffff0;
	seed.seen = TM_FAST_SEEN_NXT | TM_FAST_SEEN_ACK | TM_FAST_SEEN_TS;
	flow_put(&c, &c2s, TM_FAST_DIR_C2S, &seed);
	c.flags = TM_TCP_ACK | TM_TCP_PSH;
	c.seq = 0xfffffe00;
	c.paylen = 1000;
	opt_nop(&c);
	opt_nop(&c);
	opt_ts(&c, 0xfffffff8, 5000);
	run_quiet(&c);	    /* nxt -> 0xfffffe00 + 1000 = 0x1e8 (wrapped) */
	c.seq = 0xfffffe00; /* a retransmission: nothing moves back */
	c.optlen = 0;
	opt_nop(&c);
	opt_nop(&c);
	opt_ts(&c, 0xfffffff4, 4999);
	c.ack = 7000001 - 100; /* an old ack (reordered) */
	run_quiet(&c);
	c.seq = 0x1e8;
	c.paylen = 0;
	c.flags = TM_TCP_ACK;
	c.ack = 7003001;
	c.win = 777;
	c.optlen = 0;
	opt_nop(&c);
	opt_nop(&c);
	opt_ts(&c, 3, 5001); /* TSval wrapped too */
	run_quiet(&c);
	ok(flow_get(&c, &v) == 0, "%s c2s: entry still there", f);
	is_int(v.st.pkts, 3, "%s c2s: 3 packets", f);
	is_int(v.st.bytes, 2000, "%s c2s: 2000 payload bytes (retransmission included)", f);
	is_int(v.st.nxt, 0x1e8, "%s c2s: nxt = highest seq + len, across the wrap", f);
	is_int(v.st.ack, 7003001, "%s c2s: ack = highest, the client's own (before -dseq)", f);
	is_int(v.st.tsval, 3, "%s c2s: newest TSval, across the wrap, not the reordered one", f);
	is_int(v.st.tsecr, 5001, "%s c2s: TSecr of the latest segment, before translation", f);
	is_int(v.st.win, 777, "%s c2s: latest raw window, before scaling", f);
	ok(v.st.last_ns != 0 && v.cookie == 42 && v.dir == TM_FAST_DIR_C2S,
	   "%s c2s: last_ns set; cookie and dir untouched", f);
	flow_del(&c);

	/* Server->client: observed after translation (seq + dseq, TSval + dts). */
	spec_init(&c, family);
	backend_spec(&b, &c, &c2s);
	s2c_xlate(&s2c, family, &c);
	flow_put(&b, &s2c, TM_FAST_DIR_S2C, NULL); /* nothing seen yet: first values are taken */
	b.seq = 5000;
	b.ack = 1000001;
	b.paylen = 1448;
	b.win = 800;
	b.optlen = 0;
	opt_nop(&b);
	opt_nop(&b);
	opt_ts(&b, 100, 0xfffffffe);
	run_quiet(&b);
	b.seq = 5000 + 1448;
	b.paylen = 500;
	b.optlen = 0;
	opt_nop(&b);
	opt_nop(&b);
	opt_ts(&b, 101, 0xffffffff);
	run_quiet(&b);
	ok(flow_get(&b, &v) == 0, "%s s2c: entry there", f);
	is_int(v.st.seen, TM_FAST_SEEN_NXT | TM_FAST_SEEN_ACK | TM_FAST_SEEN_TS,
	       "%s s2c: nxt, ack, TS marked seen", f);
	is_int(v.st.pkts, 2, "%s s2c: 2 packets", f);
	is_int(v.st.bytes, 1948, "%s s2c: 1948 bytes", f);
	is_int(v.st.nxt, 5000 + 1948 + 892000, "%s s2c: nxt in the client's view (+dseq)", f);
	is_int(v.st.ack, 1000001, "%s s2c: ack", f);
	is_int(v.st.tsval, 101 + 6969, "%s s2c: TSval in the client's view (+dts)", f);
	is_int(v.st.tsecr, 0xffffffff, "%s s2c: TSecr", f);
	is_int(v.st.win, 100, "%s s2c: window as the client sees it (800 >> 3)", f);
	flow_del(&b);

	/* Punted packets leave the state alone. */
	spec_init(&c, family);
	flow_put(&c, &c2s, TM_FAST_DIR_C2S, &seed);
	c.flags = TM_TCP_FIN | TM_TCP_ACK;
	c.seq = 0x10000000;
	run_quiet(&c);
	flow_get(&c, &v);
	ok(v.st.pkts == 0 && v.st.nxt == seed.nxt, "%s: a punted FIN does not touch the state", f);
	flow_del(&c);
}

/* --- property loop ------------------------------------------------------------------------ */

static void rand_addr(__u64 *s, __u8 *p, int family)
{
	int i;

	if (family == TM_AF_INET) {
		__u32 v;

		do
			v = prng_u32(s);
		while (v == 0 || (v >> 28) >= 0xe);
		tm_put32(p, v);
		return;
	}
	for (i = 0; i < 16; i++)
		p[i] = (__u8)prng_u32(s);
	if (p[0] == 0xff)
		p[0] = 0x20;
	p[15] |= 1;
}

/* Random option area (the generator of test_prop_xlate.c), sometimes with a corrupt byte. */
static void rand_opts(__u64 *s, struct spec *sp)
{
	unsigned used = 0;
	int steps = (int)prng_below(s, 9), i;

	sp->optlen = 0;
	while (steps-- > 0) {
		int k = (int)prng_below(s, 7), len, n = sp->optlen;
		__u8 *o = sp->opts;

		if (k == 0) {
			if (n + 1 <= 40)
				o[sp->optlen++] = 1;
			continue;
		}
		len = k == 1   ? 4
		      : k == 2 ? 3
		      : k == 3 ? 2
		      : k == 4 ? 10
		      : k == 5 ? 2 + 8 * (1 + (int)prng_below(s, 4))
			       : 2 + (int)prng_below(s, 9);
		if (n + len > 40 || (k < 6 && (used & (1u << k))))
			continue;
		used |= 1u << k;
		o[n] = (__u8)(k == 1   ? 2
			      : k == 2 ? 3
			      : k == 3 ? 4
			      : k == 4 ? 8
			      : k == 5 ? 5
				       : 9 + prng_below(s, 246));
		o[n + 1] = (__u8)len;
		for (i = 2; i < len; i++)
			o[n + i] = (__u8)prng_u32(s);
		sp->optlen += len;
	}
	while (sp->optlen % 4)
		sp->opts[sp->optlen++] = (__u8)prng_below(s, 2);
	if (sp->optlen && prng_below(s, 20) == 0) /* 5%: one random byte anywhere */
		sp->opts[prng_below(s, (__u32)sp->optlen)] = (__u8)prng_u32(s);
}

static __u32 rand_delta(__u64 *s)
{
	switch (prng_below(s, 4)) {
	case 0:
		return 0;
	case 1:
		return prng_below(s, 2) ? prng_below(s, 100) : (__u32) - (__s32)prng_below(s, 100);
	default:
		return prng_u32(s);
	}
}

static void report(const char *what, int it, const __u8 *in, const __u8 *got, const __u8 *want,
		   size_t len)
{
	printf("# %s: iteration %d\n", what, it);
	tap_hexdump("in", in, len);
	tap_hexdump("got", got, len);
	tap_hexdump("want", want, len);
}

static void property(void)
{
	static const __u8 flag_sets[] = {TM_TCP_ACK,
					 TM_TCP_ACK | TM_TCP_PSH,
					 TM_TCP_ACK | TM_TCP_URG,
					 TM_TCP_ACK | TM_TCP_ECE | TM_TCP_CWR,
					 0,
					 TM_TCP_PSH};
	static struct frame inf, wantf;
	static struct result r;
	__u8 *in = inf.b, *want = wantf.b;
	const __u64 seed0 = 0x5eedfa57b0a7ULL;
	__u64 s = seed0, before[TM_FAST_STAT_MAX];
	int it, bad_bytes = 0, bad_csum = 0, bad_verdict = 0, bad_state = 0, got = -1;
	int n_xl = 0, n_v6 = 0, n_opt = 0, n_ctl = 0, n_sack = 0, n_ts = 0;

	for (it = 0; it < PROP_ITERATIONS; it++) {
		struct tm_fast_flow v;
		struct tm_xlate x;
		struct tm_pkt pv;
		struct spec sp;
		int dir, err, want_reason;
		size_t len;

		spec_init(&sp, prng_below(&s, 2) ? TM_AF_INET6 : TM_AF_INET);
		n_v6 += sp.family == TM_AF_INET6;
		if (sp.family == TM_AF_INET && prng_below(&s, 4) == 0)
			sp.ihl = 5 + (int)prng_below(&s, 11);
		rand_addr(&s, sp.saddr, sp.family);
		rand_addr(&s, sp.daddr, sp.family);
		sp.sport = (__u16)prng_u32(&s);
		sp.dport = (__u16)prng_u32(&s);
		sp.seq = prng_u32(&s);
		sp.ack = prng_u32(&s);
		sp.win = (__u16)prng_u32(&s);
		sp.flags = flag_sets[prng_below(&s, sizeof(flag_sets))];
		if (prng_below(&s, 10) == 0)
			sp.flags |= (__u8[]){TM_TCP_SYN, TM_TCP_FIN, TM_TCP_RST}[prng_below(&s, 3)];
		rand_opts(&s, &sp);
		sp.paylen =
		    prng_below(&s, 3) ? (int)prng_below(&s, 200) : (int)prng_below(&s, 1400);
		len = build(&sp, in);

		memset(&x, 0, sizeof(x));
		x.family = (__u8)sp.family;
		x.flags = (__u8)prng_below(&s, 16);
		rand_addr(&s, (__u8 *)x.saddr.w, sp.family);
		rand_addr(&s, (__u8 *)x.daddr.w, sp.family);
		x.sport = (__u16)prng_u32(&s);
		x.dport = (__u16)prng_u32(&s);
		x.seq_delta = rand_delta(&s);
		x.ack_delta = rand_delta(&s);
		x.tsval_delta = rand_delta(&s);
		x.tsecr_delta = rand_delta(&s);
		if (prng_below(&s, 2))
			x.win_shift = (__s8)((int)prng_below(&s, 33) - 16);
		dir = (int)prng_below(&s, 2);
		flow_put(&sp, &x, dir, NULL);

		err = expect_xlate(&x, in, len, want);
		if (sp.flags & TM_TCP_SYN)
			want_reason = TM_FAST_PUNT_SYN;
		else if (sp.flags & TM_TCP_FIN)
			want_reason = TM_FAST_PUNT_FIN;
		else if (sp.flags & TM_TCP_RST)
			want_reason = TM_FAST_PUNT_RST;
		else if (err == -TM_XLATE_EOPT)
			want_reason = TM_FAST_PUNT_BAD_OPT;
		else if (err)
			want_reason = -1; /* the generator made something tm_pkt_parse rejects */
		else
			want_reason = TM_FAST_XLATED;
		n_ctl += want_reason >= TM_FAST_PUNT_SYN && want_reason <= TM_FAST_PUNT_RST;
		n_opt += want_reason == TM_FAST_PUNT_BAD_OPT;
		if (want_reason != TM_FAST_XLATED)
			memcpy(want, in, len);

		stats_read(before);
		run(in, len, &r);
		if (r.err || r.retval != TC_ACT_OK || r.len != len || want_reason < 0 ||
		    !stats_one(before, want_reason, &got)) {
			if (bad_verdict++ < 3)
				printf("# iteration %d: err %d retval %u len %u/%zu reason %s, "
				       "want %s "
				       "(xlate %d)\n",
				       it, r.err, r.retval, r.len, len, stat_name(got),
				       stat_name(want_reason), err);
			if (bad_verdict <= 3)
				tap_hexdump("in", in, len);
			flow_del(&sp);
			continue;
		}
		if (memcmp(r.outf.b, want, len)) {
			if (bad_bytes++ < 3)
				report("bytes differ from tm_xlate_apply()", it, in, r.outf.b, want,
				       len);
		}
		if (want_reason == TM_FAST_XLATED) {
			const __u8 *view = dir == TM_FAST_DIR_C2S ? in : want;
			struct frame vf;
			__u8 *vb = vf.b;
			__u32 exp_nxt, exp_ack, exp_ts = 0, exp_seen;

			n_xl++;
			if (!csums_ok(r.outf.b, len) && bad_csum++ < 3)
				report("checksums do not verify", it, in, r.outf.b, want, len);
			/* The state took the client's view of this one segment. */
			memcpy(vb, view, len);
			tm_pkt_parse(&pv, vb + ETH_HLEN, len - ETH_HLEN);
			n_ts += !!(pv.opts.present & TM_HAS_TS);
			n_sack += !!(pv.opts.present & TM_HAS_SACK);
			exp_nxt = tm_pkt_seq(&pv) + pv.payload_len;
			exp_ack = (sp.flags & TM_TCP_ACK) ? tm_pkt_ack(&pv) : 0;
			if (pv.opts.present & TM_HAS_TS)
				exp_ts = pv.opts.tsval;
			exp_seen = TM_FAST_SEEN_NXT |
				   ((sp.flags & TM_TCP_ACK) ? TM_FAST_SEEN_ACK : 0) |
				   ((pv.opts.present & TM_HAS_TS) ? TM_FAST_SEEN_TS : 0);
			if (flow_get(&sp, &v) || v.st.pkts != 1 || v.st.bytes != pv.payload_len ||
			    v.st.nxt != exp_nxt || v.st.ack != exp_ack || v.st.tsval != exp_ts ||
			    v.st.seen != exp_seen) {
				if (bad_state++ < 3)
					printf(
					    "# iteration %d: state pkts %llu bytes %llu nxt %u/%u "
					    "ack %u/%u tsval %u/%u seen %u\n",
					    it, (unsigned long long)v.st.pkts,
					    (unsigned long long)v.st.bytes, v.st.nxt, exp_nxt,
					    v.st.ack, exp_ack, v.st.tsval, exp_ts, v.st.seen);
			}
		}
		flow_del(&sp);
	}
	is_int(bad_verdict, 0, "property: %d random packets, verdict and counter as expected",
	       PROP_ITERATIONS);
	is_int(bad_bytes, 0, "property: output byte-exact with tm_xlate_apply() (or untouched)");
	is_int(bad_csum, 0, "property: every translated packet's checksums verify");
	is_int(bad_state, 0, "property: per-flow state = the client's view of the segment");
	ok(n_xl > PROP_ITERATIONS / 2 && n_v6 > PROP_ITERATIONS / 3 && n_opt > 20 && n_ctl > 100 &&
	       n_ts > PROP_ITERATIONS / 10 && n_sack > PROP_ITERATIONS / 10,
	   "property coverage: %d translated (%d with TS, %d with SACK), %d IPv6, %d bad options, "
	   "%d SYN/FIN/RST",
	   n_xl, n_ts, n_sack, n_v6, n_opt, n_ctl);
}

int main(void)
{
	_Static_assert(sizeof(struct tm_fast_key) == sizeof(struct tm_flow_key) &&
			   __builtin_offsetof(struct tm_fast_key, sport) ==
			       __builtin_offsetof(struct tm_flow_key, sport) &&
			   __builtin_offsetof(struct tm_fast_key, family) ==
			       __builtin_offsetof(struct tm_flow_key, family),
		       "tm_fast_key has tm_flow_key's layout");
	_Static_assert(TM_FAST_DIR_C2S == TM_DIR_C2S && TM_FAST_DIR_S2C == TM_DIR_S2C,
		       "directions are enum tm_dir");
	switch (fast_start()) {
	case 1:
		return 0;
	case -1:
		return tap_done();
	}
	layouts(TM_AF_INET);
	layouts(TM_AF_INET6);
	windows();
	punts();
	implausible(TM_AF_INET);
	implausible(TM_AF_INET6);
	orphan(TM_AF_INET);
	orphan(TM_AF_INET6);
	gate(TM_AF_INET);
	gate(TM_AF_INET6);
	state(TM_AF_INET);
	state(TM_AF_INET6);
	property();
	tcpmig_fast__destroy(skel);
	return tap_done();
}
