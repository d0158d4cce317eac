/* libtcpmig worked example: model a flow, hand it off from B1 to B2, translate both directions.
 *
 *   make lib
 *   cc -std=gnu11 -Wall -Wextra -Iinclude docs/examples/xlate_example.c build/libtcpmig.a -lsodium
 *   ./a.out
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/build.h>
#include <tcpmig/csum.h>
#include <tcpmig/flow.h>
#include <tcpmig/pkt.h>
#include <tcpmig/xlate.h>

#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c)) {                                                        \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                   \
		}                                                                  \
	} while (0)

static struct tm_endpoint ep(const char *s)
{
	struct tm_endpoint e;
	int family;

	CHECK(tm_addr_port_parse(s, &e.addr, &family, &e.port) == 0 && family == TM_AF_INET);
	return e;
}

static void parse(struct tm_pkt *p, __u8 *buf, int len)
{
	int err;

	CHECK(len > 0);
	err = tm_pkt_parse(p, buf, (size_t)len);
	if (err) {
		fprintf(stderr, "parse: %s\n", tm_pkt_strerror(err));
		exit(1);
	}
}

/* A segment without payload; options: timestamps only (SYNs also get MSS/SACK-perm/wscale). */
static int seg(__u8 *buf, const struct tm_endpoint *from, const struct tm_endpoint *to, __u8 flags,
	       __u32 seq, __u32 ack, __u16 win, __u32 tsval, __u32 tsecr, __u8 wscale)
{
	struct tm_seg_spec s = { .family = TM_AF_INET, .flags = flags, .saddr = from->addr,
				 .daddr = to->addr, .sport = from->port, .dport = to->port,
				 .seq = seq, .ack = ack, .window = win };

	s.opts.present = TM_HAS_TS;
	s.opts.tsval = tsval;
	s.opts.tsecr = tsecr;
	if (flags & TM_TCP_SYN) {
		s.opts.present |= TM_HAS_MSS | TM_HAS_SACKOK | TM_HAS_WSCALE;
		s.opts.mss = 1460;
		s.opts.wscale = wscale;
	}
	return tm_build_segment(buf, 4096, &s);
}

/* Append @n bytes (payload, or TCP options when @opt) to an IPv4 segment; redo lengths and checksums. */
static int append(__u8 *buf, int len, const __u8 *b, int n, int opt)
{
	struct tm_pkt p;

	parse(&p, buf, len);
	CHECK(p.payload_len == 0 && (!opt || n % 4 == 0));
	memcpy(buf + len, b, (size_t)n);
	if (opt)
		p.tcp->doff_res = (__u8)(p.tcp->doff_res + ((n / 4) << 4));
	len += n;
	tm_put16(buf + 2, (__u16)len); /* IPv4 total length */
	parse(&p, buf, len);		/* the old view's lengths are stale */
	tm_csum_ip4_full(&p);
	tm_csum_tcp_full(&p);
	return len;
}

/* Parse, verify checksums, feed the model. */
static enum tm_obs feed(struct tm_flow_state *f, enum tm_dir dir, __u8 *buf, int len)
{
	struct tm_pkt p;

	parse(&p, buf, len);
	CHECK(tm_csum_ip4_ok(&p) && tm_csum_tcp_ok(&p));
	return tm_flow_observe(f, dir, &p);
}

int main(void)
{
	static __u8 buf[4096], orig[4096], data[3000];
	const struct tm_endpoint cli = ep("10.0.0.1:40000"), svc = ep("10.0.0.100:80"),
				 b2 = ep("10.0.1.2:8080");
	struct tm_xlate s2c = { 0 }, c2s = { 0 }, undo;
	struct tm_flow_state f;
	struct tm_flow_key ck, rk;
	struct tm_pkt p;
	__u8 seed[16] = { 1 }, sack[12] = { TM_OPT_NOP, TM_OPT_NOP, TM_OPT_SACK, 10 };
	__u32 isn2, t2, dseq, dts, check;
	struct tm_synopts syn2 = { 0 };
	int len;

	CHECK(sodium_init() >= 0);
	memset(data, 'x', sizeof(data));

	/* 1. Observe a connection client -> service (B1 answers as the service address). */
	tm_flow_init(&f);
	len = seg(buf, &cli, &svc, TM_TCP_SYN, 1000, 0, 64240, 100, 0, 7);
	CHECK(feed(&f, TM_DIR_C2S, buf, len) == TM_OBS_OK);
	parse(&p, buf, len);
	tm_flow_key_from_pkt(&ck, &p); /* client -> service */
	tm_flow_key_reverse(&rk, &ck);
	CHECK(tm_flow_hash(&ck, seed) == tm_flow_hash(&rk, seed));
	len = seg(buf, &svc, &cli, TM_TCP_SYN | TM_TCP_ACK, 5000, 1001, 65160, 7000, 100, 9);
	feed(&f, TM_DIR_S2C, buf, len);
	len = seg(buf, &cli, &svc, TM_TCP_ACK, 1001, 5001, 502, 101, 7000, 0);
	feed(&f, TM_DIR_C2S, buf, len);
	len = append(buf, seg(buf, &cli, &svc, TM_TCP_ACK | TM_TCP_PSH, 1001, 5001, 502, 102, 7000, 0),
		     data, 100, 0);
	feed(&f, TM_DIR_C2S, buf, len);
	len = append(buf, seg(buf, &svc, &cli, TM_TCP_ACK, 5001, 1101, 128, 7010, 102, 0), data, 3000, 0);
	feed(&f, TM_DIR_S2C, buf, len);
	len = seg(buf, &cli, &svc, TM_TCP_ACK, 1101, 8001, 502, 103, 7010, 0);
	feed(&f, TM_DIR_C2S, buf, len);
	CHECK(f.state == TM_ST_ESTABLISHED && tm_flow_quiescent(&f));
	printf("model: %s c_nxt=%u s_nxt=%u client TSval=%u server TSval=%u\n",
	       tm_flow_state_name(f.state), f.c.nxt, f.s.nxt, f.c.tsval, f.s.tsval);

	/* 2. Replay the SYN to B2 (DESIGN.md §3.3), MSS clamped to 1400. */
	len = tm_build_replay_syn(buf, sizeof(buf), &ck, &b2, &f, 1400);
	parse(&p, buf, len);
	CHECK(tm_pkt_seq(&p) == f.c.nxt - 1 && p.opts.mss == 1400 && p.opts.wscale == 7);
	CHECK(p.opts.tsval == f.c.tsval && tm_csum_tcp_ok(&p));

	/* 3. B2's SYN-ACK (intercepted, never forwarded): record ISN2 and t2. */
	len = seg(buf, &b2, &cli, TM_TCP_SYN | TM_TCP_ACK, 900000, f.c.nxt, 65160, 42, f.c.tsval, 8);
	parse(&p, buf, len);
	isn2 = tm_pkt_seq(&p);
	t2 = p.opts.tsval;
	syn2.present = p.opts.present & (TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS);
	syn2.mss = p.opts.mss;
	syn2.wscale = p.opts.wscale;
	syn2.window = tm_pkt_window(&p);

	/* 4. Third ACK: TSecr must be t2 exactly. */
	len = tm_build_third_ack(buf, sizeof(buf), &ck, &b2, &f, isn2, t2, &syn2);
	parse(&p, buf, len);
	CHECK(tm_pkt_seq(&p) == f.c.nxt && tm_pkt_ack(&p) == isn2 + 1 && p.opts.tsecr == t2);

	/* 5. Deltas (§3.6) and the two translations. */
	dseq = f.s.nxt - (isn2 + 1);
	dts = f.s.tsval + 1 - t2; /* B2's clock never behind what the client saw */
	s2c.family = c2s.family = TM_AF_INET;
	s2c.flags = TM_XL_SADDR | TM_XL_SPORT;
	s2c.saddr = svc.addr;
	s2c.sport = svc.port;
	s2c.seq_delta = dseq;
	s2c.tsval_delta = dts;
	s2c.win_shift = 8 - 9; /* wscale(B2) - wscale the client learned from B1 */
	c2s.flags = TM_XL_DADDR | TM_XL_DPORT;
	c2s.daddr = b2.addr;
	c2s.dport = b2.port;
	c2s.ack_delta = (__u32)-dseq;
	c2s.tsecr_delta = (__u32)-dts;
	c2s.win_shift = 7 - 7; /* client's wscale - the one B2 applies (granted in the replay) */

	/* 6. Commit: RST to B1 at its rcv_nxt. */
	len = tm_build_rst(buf, sizeof(buf), &ck, &svc, f.c.nxt);
	parse(&p, buf, len);
	CHECK(p.tcp->flags == TM_TCP_RST && tm_pkt_seq(&p) == f.c.nxt);

	/* 7. B2 -> client, handed over as CHECKSUM_PARTIAL (NFQUEUE with GSO). */
	len = append(buf, seg(buf, &b2, &cli, TM_TCP_ACK, isn2 + 1, f.c.nxt, 1000, t2 + 3, f.c.tsval, 0),
		     data, 500, 0);
	parse(&p, buf, len);
	tm_csum_tcp_partial(&p);
	CHECK(tm_xlate_apply(&s2c, p.l3, (__u8 *)p.tcp, p.end, 1) == 0);
	parse(&p, buf, len); /* cached saddr/daddr/opts in the old view are stale */
	check = p.tcp->check;
	tm_csum_tcp_partial(&p);
	CHECK(check == p.tcp->check); /* only the pseudo-header went into the partial sum */
	tm_csum_tcp_full(&p);	      /* mangled on NFQUEUE => CHECKSUM_NONE: leave complete */
	CHECK(tm_pkt_seq(&p) == f.s.nxt && tm_pkt_window(&p) == 500);
	CHECK(tm_seq_gt(p.opts.tsval, f.s.tsval) && tm_pkt_sport(&p) == 80);
	CHECK(feed(&f, TM_DIR_S2C, buf, len) == TM_OBS_OK); /* S2C: observe after translating */

	/* 8. Client -> B2: an ACK with one SACK block, translated incrementally (complete checksum). */
	len = seg(buf, &cli, &svc, TM_TCP_ACK, f.c.nxt, 8001, 502, 104, t2 + 3 + dts, 0);
	tm_put32(sack + 4, 8201);
	tm_put32(sack + 8, 8501);
	len = append(buf, len, sack, 12, 1);
	CHECK(feed(&f, TM_DIR_C2S, buf, len) == TM_OBS_OK); /* C2S: observe before translating */
	memcpy(orig, buf, (size_t)len);
	parse(&p, buf, len);
	CHECK(tm_xlate_apply(&c2s, p.l3, (__u8 *)p.tcp, p.end, 0) == 0);
	parse(&p, buf, len);
	CHECK(tm_csum_ip4_ok(&p) && tm_csum_tcp_ok(&p));
	CHECK(tm_pkt_ack(&p) == isn2 + 1 && tm_pkt_dport(&p) == 8080 && p.opts.tsecr == t2 + 3);
	CHECK(p.opts.nsack == 1 && p.opts.sack[0].left == 8201 - dseq &&
	      p.opts.sack[0].right == 8501 - dseq);

	/* 9. The inverse restores the packet byte for byte (exact here: win_shift is 0). */
	tm_xlate_inverse(&undo, &c2s, &ck);
	CHECK(tm_xlate_apply(&undo, p.l3, (__u8 *)p.tcp, p.end, 0) == 0);
	CHECK(memcmp(buf, orig, (size_t)len) == 0);

	printf("handoff: isn2=%u t2=%u dseq=%u dts=%u; s2c and c2s verified\n", isn2, t2, dseq, dts);
	return 0;
}
