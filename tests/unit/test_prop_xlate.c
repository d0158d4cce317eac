/* Property tests for tm_xlate_apply on random valid IPv4/IPv6 TCP packets (random IP options,
 * extension headers, option layouts with odd alignment, payloads): the incremental result equals an
 * independent full rewrite + recompute, byte for byte; partial-checksum mode; inverse identity. */
#include "vec.h"

#define ITERATIONS 100000

/* --- an independent reference: big-endian RFC 1071 sums over bytes ------------------------ */

static __u32 ref_sum(const __u8 *p, size_t n, __u32 s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

static __u16 ref_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

struct gpkt {
	struct vbuf b;
	int family, l3_len, hlen, paylen;
	int ts_off, sack_off, nsack; /* offsets from the TCP header, 0 = absent */
};

static __u32 ref_pseudo(const struct gpkt *g)
{
	__u32 tlen = (__u32)(g->b.n - (size_t)g->l3_len);

	if (g->family == TM_AF_INET)
		return ref_sum(g->b.b + 12, 8, 6 + tlen);
	return ref_sum(g->b.b + 8, 32, 6 + (tlen >> 16) + (tlen & 0xffff));
}

/* Complete checksums, written big-endian. */
static void ref_full(struct gpkt *g)
{
	__u8 *t = g->b.b + g->l3_len;

	if (g->family == TM_AF_INET) {
		tm_put16(g->b.b + 10, 0);
		tm_put16(g->b.b + 10, (__u16)~ref_fold(ref_sum(g->b.b, (size_t)g->l3_len, 0)));
	}
	tm_put16(t + 16, 0);
	tm_put16(t + 16, (__u16)~ref_fold(ref_sum(t, g->b.n - (size_t)g->l3_len, ref_pseudo(g))));
}

/* CHECKSUM_PARTIAL: the folded pseudo-header sum, not complemented. */
static void ref_partial(struct gpkt *g)
{
	tm_put16(g->b.b + g->l3_len + 16, ref_fold(ref_pseudo(g)));
}

/* --- random packets --------------------------------------------------------------------- */

static void rand_addr(__u64 *s, __u8 *p, int family)
{
	int i;

	if (family == TM_AF_INET) {
		__u32 v;

		do
			v = prng_u32(s);
		while (v == 0 || (v >> 28) >= 0xe); /* no 0/0, multicast, class E, broadcast */
		tm_put32(p, v);
		return;
	}
	for (i = 0; i < 16; i++)
		p[i] = (__u8)prng_u32(s);
	if (p[0] == 0xff)
		p[0] = 0x20;
	p[15] |= 1;
}

/* Random option area: NOPs anywhere (odd alignment), known kinds at most once, unknown kinds. */
static int rand_opts(__u64 *s, __u8 *o, struct gpkt *g)
{
	unsigned used = 0;
	int n = 0, steps = (int)prng_below(s, 9), i;

	g->ts_off = g->sack_off = g->nsack = 0;
	while (steps-- > 0) {
		int k = (int)prng_below(s, 7), len;

		switch (k) {
		case 0: /* NOP */
			if (n + 1 > 40)
				continue;
			o[n++] = 1;
			continue;
		case 1: /* MSS */
			len = 4;
			break;
		case 2: /* wscale */
			len = 3;
			break;
		case 3: /* SACK-permitted */
			len = 2;
			break;
		case 4: /* TS */
			len = 10;
			break;
		case 5: /* SACK */
			len = 2 + 8 * (1 + (int)prng_below(s, 4));
			break;
		default: /* an unknown kind: kept as it is */
			len = 2 + (int)prng_below(s, 9);
			break;
		}
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
		if (k == 4)
			g->ts_off = TM_TCP_HLEN + n + 2;
		if (k == 5) {
			g->sack_off = TM_TCP_HLEN + n + 2;
			g->nsack = (len - 2) / 8;
		}
		n += len;
	}
	while (n % 4) /* EOL or NOP padding */
		o[n++] = (__u8)(prng_below(s, 2));
	return n;
}

static void rand_pkt(__u64 *s, struct gpkt *g)
{
	__u8 *b = g->b.b, *t, opts[40];
	int olen, i;

	memset(b, 0, 512);
	g->family = prng_below(s, 2) ? TM_AF_INET : TM_AF_INET6;
	if (g->family == TM_AF_INET) {
		int ihl = prng_below(s, 4) ? 5 : 5 + (int)prng_below(s, 11);

		b[0] = (__u8)(0x40 | ihl);
		b[1] = (__u8)prng_u32(s);
		tm_put16(b + 4, (__u16)prng_u32(s));
		tm_put16(b + 6, prng_below(s, 2) ? 0x4000 : 0);
		b[8] = (__u8)prng_u32(s);
		b[9] = 6;
		rand_addr(s, b + 12, TM_AF_INET);
		rand_addr(s, b + 16, TM_AF_INET);
		for (i = 20; i < ihl * 4; i++) /* IP options: content is not parsed */
			b[i] = (__u8)prng_u32(s);
		g->l3_len = ihl * 4;
	} else {
		static const __u8 kinds[] = {0, 60, 43, 44};
		int next = 6, off = 40, n = (int)prng_below(s, 4);
		__u8 *prev = b + 6;

		b[0] = 0x60 | (__u8)prng_below(s, 16);
		tm_put16(b + 2, (__u16)prng_u32(s));
		b[7] = (__u8)prng_u32(s);
		rand_addr(s, b + 8, TM_AF_INET6);
		rand_addr(s, b + 24, TM_AF_INET6);
		for (i = 0; i < n; i++) {
			__u8 k = kinds[prng_below(s, 4)], *e = b + off;
			int hl = k == 44 ? 8 : 8 * (1 + (int)prng_below(s, 3)), j;

			*prev = k;
			for (j = 0; j < hl; j++)
				e[j] = (__u8)prng_u32(s);
			if (k == 44) {
				e[1] = 0;
				e[2] = 0;
				e[3] &= 0x06; /* offset 0, M clear: an atomic fragment */
			} else {
				e[1] = (__u8)(hl / 8 - 1);
				if (k == 43)
					e[3] = 0; /* segments left 0: final dst */
			}
			prev = e;
			off += hl;
		}
		*prev = (__u8)next;
		g->l3_len = off;
	}
	t = b + g->l3_len;
	olen = rand_opts(s, opts, g);
	g->hlen = TM_TCP_HLEN + olen;
	for (i = 0; i < 16; i++)
		t[i] = (__u8)prng_u32(s);
	t[12] = (__u8)((g->hlen / 4) << 4 | prng_below(s, 16));
	t[13] = (__u8)prng_u32(s); /* any flags: SYN and ACK change what is rewritten */
	tm_put16(t + 18, (__u16)prng_u32(s));
	memcpy(t + TM_TCP_HLEN, opts, (size_t)olen);
	g->paylen = (int)prng_below(s, 2) ? (int)prng_below(s, 80) : 0;
	for (i = 0; i < g->paylen; i++)
		t[g->hlen + i] = (__u8)prng_u32(s);
	g->b.n = (size_t)(g->l3_len + g->hlen + g->paylen);
	if (g->family == TM_AF_INET)
		tm_put16(b + 2, (__u16)g->b.n);
	else
		tm_put16(b + 4, (__u16)(g->b.n - 40));
	ref_full(g);
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

static void rand_xlate(__u64 *s, struct tm_xlate *x, int family, int shift_min)
{
	memset(x, 0, sizeof(*x));
	x->family = (__u8)family;
	x->flags = (__u8)prng_below(s, 16);
	rand_addr(s, (__u8 *)x->saddr.w, family);
	rand_addr(s, (__u8 *)x->daddr.w, family);
	x->sport = (__u16)prng_u32(s);
	x->dport = (__u16)prng_u32(s);
	x->seq_delta = rand_delta(s);
	x->ack_delta = rand_delta(s);
	x->tsval_delta = rand_delta(s);
	x->tsecr_delta = rand_delta(s);
	if (prng_below(s, 2))
		x->win_shift = (__s8)(shift_min + (int)prng_below(s, (__u32)(17 - shift_min)));
}

/* --- the expected result, written field by field from the documentation ------------------ */

static __u16 ref_window(__u16 w, int shift)
{
	__u32 v = w;

	if (shift > 0) {
		v <<= shift > 14 ? 14 : shift;
		return (__u16)(v > 0xffff ? 0xffff : v);
	}
	if (shift < 0) {
		v >>= -shift > 14 ? 14 : -shift;
		return (__u16)(v == 0 && w ? 1 : v);
	}
	return w;
}

static void ref_xlate(struct gpkt *g, const struct tm_xlate *x)
{
	__u8 *b = g->b.b, *t = b + g->l3_len;
	int v4 = g->family == TM_AF_INET, alen = v4 ? 4 : 16, i;
	int ack = t[13] & TM_TCP_ACK, syn = t[13] & TM_TCP_SYN;

	if (x->flags & TM_XL_SADDR)
		memcpy(b + (v4 ? 12 : 8), x->saddr.w, (size_t)alen);
	if (x->flags & TM_XL_DADDR)
		memcpy(b + (v4 ? 16 : 24), x->daddr.w, (size_t)alen);
	if (x->flags & TM_XL_SPORT)
		tm_put16(t, x->sport);
	if (x->flags & TM_XL_DPORT)
		tm_put16(t + 2, x->dport);
	tm_put32(t + 4, tm_get32(t + 4) + x->seq_delta);
	if (ack)
		tm_put32(t + 8, tm_get32(t + 8) + x->ack_delta);
	if (!syn)
		tm_put16(t + 14, ref_window(tm_get16(t + 14), x->win_shift));
	if (g->ts_off) {
		tm_put32(t + g->ts_off, tm_get32(t + g->ts_off) + x->tsval_delta);
		if (ack)
			tm_put32(t + g->ts_off + 4, tm_get32(t + g->ts_off + 4) + x->tsecr_delta);
	}
	for (i = 0; i < 2 * g->nsack; i++)
		tm_put32(t + g->sack_off + 4 * i, tm_get32(t + g->sack_off + 4 * i) + x->ack_delta);
	ref_full(g);
}

static void report(const char *what, __u64 seed, int it, const struct gpkt *in,
		   const struct gpkt *got, const struct gpkt *want)
{
	printf("# %s: seed 0x%llx iteration %d\n", what, (unsigned long long)seed, it);
	tap_hexdump("in", in->b.b, in->b.n);
	tap_hexdump("got", got->b.b, got->b.n);
	tap_hexdump("want", want->b.b, want->b.n);
}

int main(void)
{
	const __u64 seed0 = 0x7c9e3a5b1d2f4e61ULL;
	__u64 s = seed0;
	int it, bad_apply = 0, bad_full = 0, bad_partial = 0, bad_inv = 0, bad_parse = 0;
	int n_v6 = 0, n_ts = 0, n_sack4 = 0, n_oddts = 0;

	for (it = 0; it < ITERATIONS; it++) {
		static struct gpkt in, got, want;
		struct tm_xlate x, inv;
		struct tm_flow_key orig;
		struct tm_pkt p;

		rand_pkt(&s, &in);
		n_v6 += in.family == TM_AF_INET6;
		n_ts += in.ts_off != 0;
		n_oddts += in.ts_off & 1;
		n_sack4 += in.nsack == 4;
		if (tm_pkt_parse(&p, in.b.b, in.b.n) || !tm_csum_tcp_ok(&p)) {
			if (bad_parse++ < 3)
				report("generated packet does not parse/verify", seed0, it, &in,
				       &in, &in);
			continue;
		}
		tm_flow_key_from_pkt(&orig, &p);

		/* (a) + (d): complete checksums; the incremental rewrite equals a field-by-field
		 * rewrite with a full recompute: every SACK edge and TS shifted, nothing else. */
		rand_xlate(&s, &x, in.family, -16);
		got = in;
		want = in;
		tm_pkt_parse(&p, got.b.b, got.b.n);
		if (tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 0) != 0) {
			bad_apply++;
			continue;
		}
		ref_xlate(&want, &x);
		if (memcmp(got.b.b, want.b.b, in.b.n)) {
			if (bad_full++ < 3)
				report("complete", seed0, it, &in, &got, &want);
		}

		/* (b) CHECKSUM_PARTIAL: start from the partial sum; end on the new one. */
		got = in;
		ref_partial(&got);
		ref_partial(&want);
		tm_pkt_parse(&p, got.b.b, got.b.n);
		if (tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 1) != 0 ||
		    memcmp(got.b.b, want.b.b, in.b.n)) {
			if (bad_partial++ < 3)
				report("partial", seed0, it, &in, &got, &want);
		}

		/* (c) apply then inverse: the original bytes (shift >= 0 and no saturation). */
		rand_xlate(&s, &x, in.family, 0);
		if (x.win_shift > 14)
			x.win_shift = 14;
		got = in;
		{
			__u8 *t = got.b.b + got.l3_len;

			if (x.win_shift > 0 && (tm_get16(t + 14) << x.win_shift) > 0xffff) {
				/* A window that survives the shift (input rewritten). */
				tm_put16(t + 14, (__u16)(tm_get16(t + 14) >> x.win_shift));
				ref_full(&got);
				in = got;
			}
		}
		tm_pkt_parse(&p, got.b.b, got.b.n);
		tm_xlate_inverse(&inv, &x, &orig);
		if (tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 0) ||
		    tm_xlate_apply(&inv, p.l3, (__u8 *)p.tcp, p.end, 0) ||
		    memcmp(got.b.b, in.b.b, in.b.n)) {
			if (bad_inv++ < 3)
				report("inverse", seed0, it, &in, &got, &in);
		}
	}
	is_int(bad_parse, 0, "%d random packets parse and verify", ITERATIONS);
	is_int(bad_apply, 0, "tm_xlate_apply accepts every one");
	is_int(bad_full, 0,
	       "(a)+(d) complete checksum: incremental == field rewrite + full recompute");
	is_int(bad_partial, 0,
	       "(b) partial checksum: result == pseudo-header sum of the new packet");
	is_int(bad_inv, 0, "(c) apply then tm_xlate_inverse: original bytes");
	ok(n_v6 > ITERATIONS / 3 && n_ts > ITERATIONS / 5 && n_oddts > ITERATIONS / 20 &&
	       n_sack4 > ITERATIONS / 100,
	   "coverage: %d IPv6, %d with TS (%d at odd offsets), %d with 4 SACK blocks", n_v6, n_ts,
	   n_oddts, n_sack4);
	return tap_done();
}
