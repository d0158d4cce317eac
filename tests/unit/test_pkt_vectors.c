/* tm_pkt_parse and checksum helpers on known-good packets: real Linux captures, scapy layouts. */
#include "vec_real.h"
#include "vec_scapy.h"

static int mism;

/* Compare one field; print every mismatch, count them for one ok() per group. */
#define FIELD(name, got, want)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_) {                                                                    \
			printf("#   %s: %s = %lld (0x%llx), want %lld (0x%llx)\n", name, #got, g_, \
			       (unsigned long long)g_, w_, (unsigned long long)w_);                \
			mism++;                                                                    \
		}                                                                                  \
	} while (0)

static void check_headers(const struct vec_pkt *v, const struct tm_pkt *p, const struct vbuf *b)
{
	struct tm_addr s, d;

	mism = 0;
	vec_addr(&s, v->src, v->family);
	vec_addr(&d, v->dst, v->family);
	FIELD(v->name, p->family, v->family);
	FIELD(v->name, p->len, b->n);
	FIELD(v->name, p->l3_len, v->l3_len);
	FIELD(v->name, p->tcp_hlen, v->tcp_hlen);
	FIELD(v->name, p->payload_len, v->payload_len);
	FIELD(v->name, p->l3 - b->b, 0);
	FIELD(v->name, (const __u8 *)p->tcp - b->b, v->l3_len);
	FIELD(v->name, p->payload - b->b, v->l3_len + v->tcp_hlen);
	FIELD(v->name, p->end - b->b, b->n);
	FIELD(v->name, memcmp(&p->saddr, &s, sizeof(s)), 0);
	FIELD(v->name, memcmp(&p->daddr, &d, sizeof(d)), 0);
	FIELD(v->name, tm_pkt_sport(p), v->sport);
	FIELD(v->name, tm_pkt_dport(p), v->dport);
	FIELD(v->name, tm_pkt_seq(p), v->seq);
	FIELD(v->name, tm_pkt_ack(p), v->ack);
	FIELD(v->name, p->tcp->flags, v->flags);
	FIELD(v->name, tm_pkt_window(p), v->window);
	FIELD(v->name, tm_pkt_seqlen(p),
	      v->payload_len + !!(v->flags & TM_TCP_SYN) + !!(v->flags & TM_TCP_FIN));
	FIELD(v->name, p->opt_err, 0);
	ok(!mism, "%s: addresses, ports, seq/ack, flags, window, lengths as scapy dissects",
	   v->name);
}

static void check_options(const struct vec_pkt *v, const struct tm_tcpopts *o)
{
	int i;

	mism = 0;
	FIELD(v->name, o->present, v->present);
	FIELD(v->name, o->mss_off, v->mss_off);
	FIELD(v->name, o->wscale_off, v->wscale_off);
	FIELD(v->name, o->ts_off, v->ts_off);
	FIELD(v->name, o->sack_off, v->sack_off);
	FIELD(v->name, o->nsack, v->nsack);
	if (v->present & TM_HAS_MSS)
		FIELD(v->name, o->mss, v->mss);
	if (v->present & TM_HAS_WSCALE)
		FIELD(v->name, o->wscale, v->wscale);
	if (v->present & TM_HAS_TS) {
		FIELD(v->name, o->tsval, v->tsval);
		FIELD(v->name, o->tsecr, v->tsecr);
	}
	for (i = 0; i < v->nsack && i < TM_SACK_MAX; i++) {
		FIELD(v->name, o->sack[i].left, v->sack[i][0]);
		FIELD(v->name, o->sack[i].right, v->sack[i][1]);
	}
	ok(!mism,
	   "%s: options (present 0x%02x, %d SACK blocks) and their offsets as scapy sees them",
	   v->name, v->present, v->nsack);
}

/* The recorded offsets point at the values on the wire: what tm_xlate_apply rewrites. */
static void check_offsets(const struct vec_pkt *v, const struct tm_pkt *p)
{
	const __u8 *t = (const __u8 *)p->tcp;
	int i;

	mism = 0;
	if (v->present & TM_HAS_MSS)
		FIELD(v->name, tm_get16(t + p->opts.mss_off), v->mss);
	if (v->present & TM_HAS_TS) {
		FIELD(v->name, tm_get32(t + p->opts.ts_off), v->tsval);
		FIELD(v->name, tm_get32(t + p->opts.ts_off + 4), v->tsecr);
		FIELD(v->name, t[p->opts.ts_off - 2], TM_OPT_TS);
	}
	for (i = 0; i < v->nsack && i < TM_SACK_MAX; i++) {
		FIELD(v->name, tm_get32(t + p->opts.sack_off + 8 * i), v->sack[i][0]);
		FIELD(v->name, tm_get32(t + p->opts.sack_off + 8 * i + 4), v->sack[i][1]);
	}
	ok(!mism, "%s: option offsets address the wire values", v->name);
}

static void check_csums(const struct vec_pkt *v, struct tm_pkt *p, struct vbuf *b)
{
	struct vbuf orig = *b;
	__u8 *last = b->b + b->n - 1;

	ok(tm_csum_tcp_ok(p) == v->csum_ok, "%s: tm_csum_tcp_ok verifies the known-good checksum",
	   v->name);
	ok(tm_csum_ip4_ok(p) == v->csum_ok, "%s: tm_csum_ip4_ok verifies", v->name);

	/* A full recompute lands on the same bytes the sender wrote. */
	tm_csum_tcp_full(p);
	tm_csum_ip4_full(p);
	is_mem(b->b, orig.b, b->n, "%s: full recompute reproduces the sender's checksums", v->name);

	/* One flipped bit anywhere in the segment is caught. */
	*last ^= 0x01;
	ok(!tm_csum_tcp_ok(p), "%s: a flipped bit in the last byte fails the TCP checksum",
	   v->name);
	*last ^= 0x01;
	b->b[v->l3_len + 4] ^= 0x80; /* seq */
	ok(!tm_csum_tcp_ok(p), "%s: a flipped seq bit fails the TCP checksum", v->name);
	b->b[v->l3_len + 4] ^= 0x80;
	if (v->family == TM_AF_INET) {
		b->b[8] ^= 0x10; /* TTL: in the IP header sum only */
		ok(!tm_csum_ip4_ok(p) && tm_csum_tcp_ok(p),
		   "%s: a changed TTL fails the IPv4 header checksum only", v->name);
		b->b[8] ^= 0x10;
	}
	is_mem(b->b, orig.b, b->n, "%s: buffer restored", v->name);
}

static void check_one(const struct vec_pkt *v)
{
	struct vbuf b, padded;
	struct tm_pkt p;
	int err;

	vec_load(&b, v->hex);
	err = tm_pkt_parse(&p, b.b, b.n);
	is_int(err, 0, "%s parses (%s)", v->name, tm_pkt_strerror(err));
	if (err)
		return;
	check_headers(v, &p, &b);
	check_options(v, &p.opts);
	check_offsets(v, &p);
	check_csums(v, &p, &b);

	/* Ethernet pads short frames: bytes past the IP length are not part of the packet. */
	padded = b;
	memset(padded.b + b.n, 0xee, 18);
	err = tm_pkt_parse(&p, padded.b, b.n + 18);
	ok(err == 0 && p.len == b.n && p.payload_len == (__u32)v->payload_len &&
	       p.end == padded.b + b.n && tm_csum_tcp_ok(&p),
	   "%s: link padding after the IP length is ignored", v->name);
}

/* Partial (CHECKSUM_PARTIAL) sums: the uncomplemented folded pseudo-header, as Linux writes it. */
static void check_partial(void)
{
	/* Pseudo-header sums by hand (RFC 793 / RFC 8200 §8.1) for two captured packets. */
	const struct vec_pkt *v4 = &vec_real[VEC_V4_BASIC], *v6 = &vec_real[VEC_V6_BASIC];
	struct vbuf b;
	struct tm_pkt p;
	__u32 s;
	int i;

	vec_load(&b, v4->hex);
	tm_pkt_parse(&p, b.b, b.n);
	s = tm_get16(b.b + 12) + tm_get16(b.b + 14) + tm_get16(b.b + 16) + tm_get16(b.b + 18) + 6 +
	    (b.n - 20);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	tm_csum_tcp_partial(&p);
	is_int(tm_get16(b.b + 20 + 16), s, "v4 partial checksum = folded pseudo-header sum");
	is_int(tm_csum_pseudo(&p.saddr, &p.daddr, TM_AF_INET, b.n - 20), tm_htons((__u16)s),
	       "tm_csum_pseudo v4 (memory order)");

	vec_load(&b, v6->hex);
	tm_pkt_parse(&p, b.b, b.n);
	s = 6 + (b.n - 40);
	for (i = 8; i < 40; i += 2)
		s += tm_get16(b.b + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	tm_csum_tcp_partial(&p);
	is_int(tm_get16(b.b + 40 + 16), s, "v6 partial checksum = folded pseudo-header sum");
	/* Completing a partial sum over the segment gives the sender's checksum back. */
	tm_csum_tcp_full(&p);
	ok(tm_csum_tcp_ok(&p), "v6 full after partial verifies");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_real) / sizeof(vec_real[0]); i++)
		check_one(&vec_real[i]);
	for (i = 0; i < sizeof(vec_crafted) / sizeof(vec_crafted[0]); i++)
		check_one(&vec_crafted[i]);
	check_partial();
	{
		const size_t nf = sizeof(vec_real_flows) / sizeof(vec_real_flows[0]);

		is_int(vec_real_flows[nf - 1].first + vec_real_flows[nf - 1].n,
		       sizeof(vec_real) / sizeof(vec_real[0]),
		       "flow index covers every captured packet");
	}
	return tap_done();
}
