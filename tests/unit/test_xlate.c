/* tm_xlate_apply byte-exact against scapy's expected packets; inverse, errors, window scaling. */
#include "vec_scapy.h"

#include <tcpmig/flow.h>

static void xlate_from_vec(struct tm_xlate *x, const struct vec_xlate *v)
{
	memset(x, 0, sizeof(*x));
	x->family = (__u8)v->family;
	x->flags = (__u8)v->flags;
	x->win_shift = (__s8)v->win_shift;
	if (v->flags & TM_XL_SADDR)
		vec_addr(&x->saddr, v->saddr, v->family);
	if (v->flags & TM_XL_DADDR)
		vec_addr(&x->daddr, v->daddr, v->family);
	x->sport = (__u16)v->sport;
	x->dport = (__u16)v->dport;
	x->seq_delta = v->seq_delta;
	x->ack_delta = v->ack_delta;
	x->tsval_delta = v->tsval_delta;
	x->tsecr_delta = v->tsecr_delta;
}

static void one(const struct vec_xlate *v)
{
	struct vbuf in, want, b;
	struct tm_pkt p, q;
	struct tm_xlate x, inv;
	struct tm_flow_key orig;
	__u16 w0;
	int err;

	vec_load(&in, v->in);
	vec_load(&want, v->out);
	b = in;
	err = tm_pkt_parse(&p, b.b, b.n);
	is_int(err, 0, "%s: input parses", v->name);
	if (err)
		return;
	tm_flow_key_from_pkt(&orig, &p);
	w0 = tm_pkt_window(&p);
	xlate_from_vec(&x, v);
	is_int(tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, v->partial), 0, "%s: applies",
	       v->name);
	is_int(b.n, want.n, "%s: length unchanged", v->name);
	is_mem(b.b, want.b, want.n, "%s: byte-exact as scapy computes it%s", v->name,
	       v->partial ? " (partial checksum = new pseudo-header sum)" : "");
	if (!v->partial) {
		ok(tm_pkt_parse(&q, b.b, b.n) == 0 && tm_csum_tcp_ok(&q) && tm_csum_ip4_ok(&q),
		   "%s: checksums verify after the incremental update", v->name);
	} else {
		struct vbuf r = b;

		tm_pkt_parse(&q, r.b, r.n);
		tm_csum_tcp_partial(&q);
		is_mem(r.b, b.b, b.n, "%s: partial field equals tm_csum_tcp_partial of the result",
		       v->name);
	}

	/* The inverse restores every byte, when the window scaling lost no bits. */
	tm_xlate_inverse(&inv, &x, &orig);
	if (tm_xlate_window(tm_xlate_window(w0, x.win_shift), inv.win_shift) == w0 ||
	    (p.tcp->flags & TM_TCP_SYN)) {
		tm_pkt_parse(&q, b.b, b.n);
		is_int(tm_xlate_apply(&inv, q.l3, (__u8 *)q.tcp, q.end, v->partial), 0,
		       "%s: inverse applies", v->name);
		is_mem(b.b, in.b, in.n, "%s: inverse gives the original bytes", v->name);
	} else {
		ok(1, "%s: window %u does not survive shift %d: inverse not exact (by design)",
		   v->name, w0, x.win_shift);
	}
}

static void errors(void)
{
	const struct vec_xlate *v = &vec_xlates[0];
	struct vbuf in, b;
	struct tm_xlate x;
	__u8 *tcp;
	int i;

	vec_load(&in, v->in);
	xlate_from_vec(&x, v);
	tcp = in.b + 20;
	for (i = 0; i < 256; i++) {
		if (i == TM_AF_INET || i == TM_AF_INET6)
			continue;
		b = in;
		x.family = (__u8)i;
		if (tm_xlate_apply(&x, b.b, b.b + 20, b.b + b.n, 0) != -TM_XLATE_EFAMILY ||
		    memcmp(b.b, in.b, in.n))
			break;
	}
	is_int(i, 256, "every family but 4 and 6: -TM_XLATE_EFAMILY, nothing written");
	x.family = TM_AF_INET;

	b = in;
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + 19, 0), -TM_XLATE_ETRUNC,
	       "end inside the IP header");
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + 39, 0), -TM_XLATE_ETRUNC,
	       "end inside the TCP header");
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + 20 + (tcp[12] >> 4) * 4 - 1, 0),
	       -TM_XLATE_ETRUNC, "end inside the TCP options");
	is_int(tm_xlate_apply(&x, b.b + 24, b.b + 20, b.b + b.n, 0), -TM_XLATE_ETRUNC,
	       "tcp before l3");
	b.b[20 + 12] = 0x40; /* doff 4 */
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + b.n, 0), -TM_XLATE_ETRUNC, "doff 4");
	b.b[20 + 12] = 0xf0; /* doff 15: 60 bytes, more than the segment */
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + 20 + 59, 0), -TM_XLATE_ETRUNC,
	       "doff past end");
	b.b[20 + 12] = in.b[20 + 12];
	is_mem(b.b, in.b, in.n, "nothing written on ETRUNC");

	b = in;
	b.b[20 + 20] = 2; /* first option: MSS of length 0 */
	b.b[20 + 21] = 0;
	is_int(tm_xlate_apply(&x, b.b, b.b + 20, b.b + b.n, 0), -TM_XLATE_EOPT,
	       "malformed options: EOPT");
	ok(b.b[40] == 2 && b.b[41] == 0 && !memcmp(b.b, in.b, 40) &&
	       !memcmp(b.b + 42, in.b + 42, in.n - 42),
	   "nothing written on EOPT (validated before the first write)");
}

static void window(void)
{
	static const struct {
		__u16 w;
		int shift;
		__u16 want;
	} c[] = {
	    {0, 3, 0},
	    {0, -3, 0},
	    {1, -1, 1},
	    {3, -2, 1},
	    {8, -3, 1},
	    {16, -3, 2},
	    {0xffff, -1, 0x7fff},
	    {0x8000, 1, 0xffff},
	    {0x7fff, 1, 0xfffe},
	    {1, 14, 16384},
	    {1, 20, 16384},
	    {4, 14, 0xffff},
	    {0xffff, -14, 3},
	    {0xffff, -20, 3},
	    {1, -20, 1},
	    {500, 0, 500},
	    {63, 2, 252},
	    {63, -2, 15},
	    {0xffff, 127, 0xffff},
	    {0xffff, -128, 3},
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		is_int(tm_xlate_window(c[i].w, (__s8)c[i].shift), c[i].want,
		       "window %u shift %d -> %u", c[i].w, c[i].shift, c[i].want);
}

static void inverse_fields(void)
{
	struct tm_xlate x = {0}, inv;
	struct tm_flow_key k = {0};

	x.family = TM_AF_INET6;
	x.flags = TM_XL_SADDR | TM_XL_DPORT;
	x.win_shift = -3;
	x.seq_delta = 5;
	x.ack_delta = 0xfffffffb;
	x.tsval_delta = 0x80000000;
	x.tsecr_delta = 0;
	k.family = TM_AF_INET6;
	k.saddr.w[0] = 0x11111111;
	k.daddr.w[3] = 0x22222222;
	k.sport = 1111;
	k.dport = 2222;
	memset(&inv, 0x5a, sizeof(inv));
	tm_xlate_inverse(&inv, &x, &k);
	ok(inv.family == TM_AF_INET6 && inv.flags == x.flags && inv.win_shift == 3 &&
	       inv.seq_delta == 0xfffffffb && inv.ack_delta == 5 && inv.tsval_delta == 0x80000000 &&
	       inv.tsecr_delta == 0 && inv.saddr.w[0] == 0x11111111 &&
	       inv.daddr.w[3] == 0x22222222 && inv.sport == 1111 && inv.dport == 2222 &&
	       inv.pad == 0,
	   "tm_xlate_inverse: deltas negated, shift reversed, original addresses and ports");
	is_int(tm_xlate_addr_off(TM_AF_INET, 0), 12, "v4 saddr at 12");
	is_int(tm_xlate_addr_off(TM_AF_INET, 1), 16, "v4 daddr at 16");
	is_int(tm_xlate_addr_off(TM_AF_INET6, 0), 8, "v6 saddr at 8");
	is_int(tm_xlate_addr_off(TM_AF_INET6, 1), 24, "v6 daddr at 24");
}

/* Deltas of zero and no flags: a no-op that leaves every byte, checksum field included. */
static void noop(void)
{
	struct vbuf in, b;
	struct tm_xlate x = {.family = TM_AF_INET};
	struct tm_pkt p;

	vec_load(&in, vec_xlates[0].in);
	b = in;
	tm_pkt_parse(&p, b.b, b.n);
	is_int(tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 0), 0, "empty translation applies");
	is_mem(b.b, in.b, in.n, "empty translation changes nothing");
	is_int(tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 1), 0, "empty translation, partial");
	is_mem(b.b, in.b, in.n, "empty partial translation changes nothing");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_xlates) / sizeof(vec_xlates[0]); i++)
		one(&vec_xlates[i]);
	errors();
	window();
	inverse_fields();
	noop();
	return tap_done();
}
