/* Builders (replayed SYN, third ACK, RST, generic segment) byte-exact against scapy's packets. */
#include "vec_real.h"
#include "vec_scapy.h"

#include <tcpmig/build.h>

static void setup(const struct vec_build *v, struct tm_flow_key *k, struct tm_endpoint *to,
		  struct tm_flow_state *f)
{
	memset(k, 0, sizeof(*k));
	memset(to, 0, sizeof(*to));
	tm_flow_init(f);
	k->family = (__u8)v->family;
	vec_addr(&k->saddr, v->caddr, v->family);
	k->sport = (__u16)v->cport;
	vec_addr(&to->addr, v->toaddr, v->family);
	to->port = (__u16)v->toport;
	/* The destination of the key (the old backend) must not leak into the packets. */
	vec_addr(&k->daddr, v->family == TM_AF_INET ? "10.255.255.1" : "fe80::dead", v->family);
	k->dport = 9;
	f->c.syn.present = v->c_present;
	f->c.syn.mss = (__u16)v->c_mss;
	f->c.syn.wscale = (__u8)v->c_wscale;
	f->c.syn.window = (__u16)v->c_synwin;
	f->s.syn.present = v->s_present;
	f->s.syn.mss = 1000;
	f->s.syn.wscale = 3;
	f->c.nxt = v->c_nxt;
	f->c.tsval = v->c_tsval;
	f->c.win = v->c_win;
	f->s.nxt = 0x12345678;
	f->s.tsval = 0x9999;
}

static int build(const struct vec_build *v, __u8 *buf, size_t cap, const struct tm_flow_key *k,
		 const struct tm_endpoint *to, const struct tm_flow_state *f)
{
	struct tm_synopts target = {.present = v->t_present, .mss = 1200, .wscale = 2, .window = 1};

	switch (v->kind) {
	case 's':
		return tm_build_replay_syn(buf, cap, k, to, f, (__u16)v->mss_clamp);
	case 'a':
		return tm_build_third_ack(buf, cap, k, to, f, v->isn2, v->t2, &target);
	default:
		return tm_build_rst(buf, cap, k, to, v->rst_seq);
	}
}

static void one(const struct vec_build *v)
{
	struct tm_flow_key k;
	struct tm_endpoint to;
	struct tm_flow_state f;
	struct vbuf want, got;
	struct tm_pkt p;
	int n;

	setup(v, &k, &to, &f);
	vec_load(&want, v->out);
	memset(got.b, 0xcc, sizeof(got.b));
	n = build(v, got.b, sizeof(got.b), &k, &to, &f);
	is_int(n, want.n, "%s: length", v->name);
	if (n != (int)want.n)
		return;
	is_mem(got.b, want.b, want.n, "%s: byte-exact as scapy builds it", v->name);
	is_int(got.b[n], 0xcc, "%s: nothing written past the packet", v->name);
	ok(tm_pkt_parse(&p, got.b, (size_t)n) == 0 && tm_csum_tcp_ok(&p) && tm_csum_ip4_ok(&p),
	   "%s: parses, checksums verify", v->name);
	if (v->kind == 'a' && (v->t_present & TM_HAS_TS))
		is_int(p.opts.tsecr, v->t2, "%s: TSecr == t2 exactly (the SYN-ACK's TSval)",
		       v->name);
	if (v->kind == 's')
		is_int(tm_pkt_seq(&p), v->c_nxt - 1, "%s: seq = c_nxt - 1", v->name);
	is_int(build(v, got.b, (size_t)n - 1, &k, &to, &f), -1, "%s: one byte short of room: -1",
	       v->name);
	is_int(build(v, got.b, (size_t)n, &k, &to, &f), n, "%s: exact room", v->name);
}

/* The replayed SYN from a real observed handshake carries the client's own options back. */
static void from_real_flow(void)
{
	const struct vec_flow *fl = &vec_real_flows[0]; /* v4_basic */
	const struct vec_pkt *syn = &vec_real[fl->first];
	struct tm_flow_state f;
	struct tm_flow_key k;
	struct tm_endpoint to = {.port = 8080};
	struct vbuf b, s;
	struct tm_pkt p, q;
	__u8 out[128];
	int i, n;

	tm_flow_init(&f);
	for (i = 0; i < 3; i++) { /* SYN, SYN-ACK, ACK */
		vec_load(&b, vec_real[fl->first + i].hex);
		tm_pkt_parse(&p, b.b, b.n);
		tm_flow_observe(&f, vec_real[fl->first + i].dir, &p);
	}
	vec_load(&s, syn->hex);
	tm_pkt_parse(&q, s.b, s.n);
	tm_flow_key_from_pkt(&k, &q);
	vec_addr(&to.addr, "10.99.0.3", TM_AF_INET);
	n = tm_build_replay_syn(out, sizeof(out), &k, &to, &f, 0);
	is_int(n, s.n, "replay of a real handshake: same length as the client's SYN");
	is_int(tm_pkt_parse(&p, out, (size_t)n), 0, "replay parses");
	/* Identical TCP header but for the destination port and checksum: Linux's option layout,
	 * the client's ISN, window and (here: still the SYN's) TSval. */
	out[20 + 2] = s.b[20 + 2], out[20 + 3] = s.b[20 + 3];
	out[20 + 16] = s.b[20 + 16], out[20 + 17] = s.b[20 + 17];
	is_mem(out + 20, s.b + 20, s.n - 20, "replay = the client's own SYN (TCP header)");
	is_int(tm_get16(out + 2), s.n, "IPv4 total length");
	ok(!memcmp(out + 12, s.b + 12, 4) && tm_get32(out + 16) == 0x0a630003,
	   "from the client's address to the new backend");
}

static void segment(void)
{
	struct tm_seg_spec s;
	__u8 buf[128];
	struct tm_pkt p;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = TM_AF_INET6;
	s.flags = TM_TCP_ACK | TM_TCP_PSH;
	s.ttl = 3;
	s.saddr.w[0] = tm_htonl(0x20010db8);
	s.daddr.w[0] = tm_htonl(0x20010db8);
	s.daddr.w[3] = tm_htonl(1);
	s.sport = 1;
	s.dport = 65535;
	s.seq = 0xffffffff;
	s.ack = 0x80000000;
	s.window = 0;
	s.opts.present = TM_HAS_TS | TM_HAS_SACK | TM_HAS_MSS; /* only TS is written on non-SYNs */
	s.opts.tsval = 7;
	s.opts.tsecr = 8;
	n = tm_build_segment(buf, sizeof(buf), &s);
	is_int(n, 40 + 32, "v6 ACK with TS: 72 bytes");
	ok(n > 0 && tm_pkt_parse(&p, buf, (size_t)n) == 0 && buf[7] == 3 &&
	       p.opts.present == TM_HAS_TS && p.opts.tsval == 7 && p.opts.tsecr == 8 &&
	       tm_pkt_seq(&p) == 0xffffffff && tm_pkt_ack(&p) == 0x80000000 &&
	       p.tcp->flags == (TM_TCP_ACK | TM_TCP_PSH) && tm_csum_tcp_ok(&p),
	   "fields, hop limit 3, checksum");
	s.family = 0;
	is_int(tm_build_segment(buf, sizeof(buf), &s), -1, "family 0: -1");
	s.family = 5;
	is_int(tm_build_segment(buf, sizeof(buf), &s), -1, "family 5: -1");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_builds) / sizeof(vec_builds[0]); i++)
		one(&vec_builds[i]);
	from_real_flow();
	segment();
	return tap_done();
}
