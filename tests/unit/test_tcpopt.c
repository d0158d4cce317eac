/* tm_tcpopt_parse bounds and tm_tcpopt_write_syn / _ts layouts against what real Linux emits. */
#include "vec_real.h"

#include <tcpmig/tcpopt.h>

/* A TCP header (zeros) with @olen option bytes, in a buffer of exactly 20 + @olen bytes. */
static __u8 *hdr(const __u8 *opts, size_t olen)
{
	__u8 *h = calloc(1, TM_TCP_HLEN + olen);

	memcpy(h + TM_TCP_HLEN, opts, olen);
	return h;
}

static void bounds(void)
{
	static const __u8 mss_ts[] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	struct tm_tcpopts o;
	__u8 *h = hdr(mss_ts, sizeof(mss_ts));
	__u8 big[64] = {0};
	__u32 n = TM_TCP_HLEN + sizeof(mss_ts);

	is_int(tm_tcpopt_parse(h, n, h + n, &o), 0, "MSS + TS parse with end at the header end");
	ok(o.present == (TM_HAS_MSS | TM_HAS_TS) && o.mss == 1460 && o.mss_off == 22 &&
	       o.tsval == 0x01020304 && o.tsecr == 0x05060708 && o.ts_off == 28,
	   "values and offsets");
	is_int(tm_tcpopt_parse(h, n, h + n - 1, &o), -TM_OPT_EOVERRUN,
	       "end one byte before the header end: overrun, nothing read past end");
	is_int(tm_tcpopt_parse(h, n - 1, h + n - 1, &o), -TM_OPT_EOVERRUN,
	       "hlen not a multiple of 4 cutting TS: overrun");
	is_int(tm_tcpopt_parse(h, 24, h + 24, &o), 0, "hlen 24: only MSS seen");
	is_int(o.present, TM_HAS_MSS, "hlen 24: MSS only");
	is_int(tm_tcpopt_parse(h, 26, h + 26, &o), 0, "hlen 26: MSS, NOP, NOP, then the end");
	is_int(tm_tcpopt_parse(h, 27, h + 27, &o), -TM_OPT_ELEN,
	       "hlen 27: TS kind without its length");
	is_int(tm_tcpopt_parse(h, 28, h + 28, &o), -TM_OPT_EOVERRUN, "hlen 28: TS cut short");
	is_int(tm_tcpopt_parse(h, 20, h + 20, &o), 0, "hlen 20: no option area");
	is_int(o.present, 0, "hlen 20: nothing present");
	is_int(tm_tcpopt_parse(h, 12, h + 12, &o), 0, "hlen < 20 (fuzzers): nothing read");
	is_int(tm_tcpopt_parse(h, 0, h, &o), 0, "hlen 0, end = start");
	free(h);

	is_int(tm_tcpopt_parse(big, 64, big + 64, &o), -TM_OPT_EOVERRUN, "hlen 64 > 60: overrun");
	is_int(tm_tcpopt_parse(big, 60, big + 64, &o), 0, "hlen 60 of zeros: EOL");

	/* Stale state from an earlier parse is cleared. */
	memset(&o, 0xa5, sizeof(o));
	is_int(tm_tcpopt_parse(big, 60, big + 64, &o), 0, "parse into a dirty struct");
	ok(o.present == 0 && o.nsack == 0 && o.mss_off == 0 && o.ts_off == 0 && o.sack_off == 0 &&
	       o.wscale_off == 0,
	   "present, nsack and offsets reset");
}

static void wscale_clamp(void)
{
	static const __u8 v[] = {0, 1, 14, 15, 16, 200, 255};
	size_t i;

	for (i = 0; i < sizeof(v); i++) {
		__u8 opts[4] = {1, 3, 3, v[i]};
		__u8 *h = hdr(opts, 4);
		struct tm_tcpopts o = {0};

		ok(tm_tcpopt_parse(h, 24, h + 24, &o) == 0 && o.wscale == (v[i] > 14 ? 14 : v[i]) &&
		       o.wscale_off == 23,
		   "wscale %u reads as %u (RFC 7323 §2.3), offset 23", v[i], v[i] > 14 ? 14 : v[i]);
		free(h);
	}
}

/* Every SYN and SYN-ACK captured from Linux: our writer produces the same option bytes. */
static void linux_syn_layouts(void)
{
	size_t i, nsyn = 0, nts = 0;

	for (i = 0; i < sizeof(vec_real) / sizeof(vec_real[0]); i++) {
		const struct vec_pkt *v = &vec_real[i];
		struct vbuf b;
		struct tm_pkt p;
		__u8 out[40];
		int n;

		vec_load(&b, v->hex);
		if (tm_pkt_parse(&p, b.b, b.n))
			continue;
		if (v->flags & TM_TCP_SYN) {
			/* TFO's option (kind 34, then NOP padding) follows Linux's usual layout. */
			const __u8 *o = (__u8 *)p.tcp + TM_TCP_HLEN;

			n = tm_tcpopt_write_syn(out, sizeof(out), &p.opts);
			if (p.opts.present & TM_HAS_UNKNOWN)
				ok(n > 0 && n < p.tcp_hlen - TM_TCP_HLEN && o[n] == 34,
				   "%s: SYN option layout as Linux, TFO option after it", v->name);
			else
				is_int(n, p.tcp_hlen - TM_TCP_HLEN,
				       "%s: SYN option length as Linux", v->name);
			if (n > 0)
				is_mem(out, (__u8 *)p.tcp + TM_TCP_HLEN, (size_t)n,
				       "%s: SYN options byte-exact as Linux wrote them", v->name);
			nsyn++;
		} else if (p.opts.present == TM_HAS_TS) {
			n = tm_tcpopt_write_ts(out, sizeof(out), &p.opts);
			ok(n == 12 && p.tcp_hlen == 32 && !memcmp(out, (__u8 *)p.tcp + 20, 12),
			   "%s: NOP,NOP,TS byte-exact as Linux", v->name);
			nts++;
		}
	}
	is_int(nsyn, 20, "20 captured SYN / SYN-ACKs compared");
	ok(nts > 40, "%zu captured TS-only segments compared", nts);
}

/* All 16 combinations of SYN options: written, padded, parsed back the same. */
static void syn_roundtrip(void)
{
	unsigned m;

	for (m = 0; m < 16; m++) {
		struct tm_tcpopts in = {0}, back = {0};
		__u8 out[40], *h;
		int n;

		in.present = (m & 1 ? TM_HAS_MSS : 0) | (m & 2 ? TM_HAS_WSCALE : 0) |
			     (m & 4 ? TM_HAS_SACKOK : 0) | (m & 8 ? TM_HAS_TS : 0) | TM_HAS_SACK |
			     TM_HAS_UNKNOWN; /* never written */
		in.mss = 1234;
		in.wscale = 9;
		in.tsval = 0xfeedf00d;
		in.tsecr = 0x0badcafe;
		in.nsack = 2;
		n = tm_tcpopt_write_syn(out, sizeof(out), &in);
		h = hdr(out, n > 0 ? (size_t)n : 0);
		ok(n >= 0 && n % 4 == 0 && n <= 20 &&
		       tm_tcpopt_parse(h, TM_TCP_HLEN + (__u32)n, h + TM_TCP_HLEN + n, &back) ==
			   0 &&
		       back.present == (in.present & ~(TM_HAS_SACK | TM_HAS_UNKNOWN)) &&
		       (!(m & 1) || back.mss == 1234) && (!(m & 2) || back.wscale == 9) &&
		       (!(m & 8) || (back.tsval == 0xfeedf00d && back.tsecr == 0x0badcafe)),
		   "SYN options 0x%x: %d bytes, parse back equal", m, n);
		if (n > 0) {
			is_int(tm_tcpopt_write_syn(out, (unsigned)n - 1, &in), -1,
			       "0x%x: cap %d short", m, n - 1);
			is_int(tm_tcpopt_write_syn(out, (unsigned)n, &in), n, "0x%x: cap exact", m);
		}
		free(h);
	}
	{
		static const __u8 want[] = {2,	  4,	0x04, 0xd2, 4,	  2,	8, 10, 0xfe, 0xed,
					    0xf0, 0x0d, 0x0b, 0xad, 0xca, 0xfe, 1, 3,  3,    9};
		struct tm_tcpopts in = {.present =
					    TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS,
					.mss = 1234,
					.wscale = 9,
					.tsval = 0xfeedf00d,
					.tsecr = 0x0badcafe};
		__u8 out[40];

		is_int(tm_tcpopt_write_syn(out, sizeof(out), &in), 20, "full SYN: 20 bytes");
		is_mem(out, want, sizeof(want), "full SYN: MSS,SACKOK,TS,NOP,WS");
	}
	{
		struct tm_tcpopts ts = {.present = TM_HAS_TS, .tsval = 1, .tsecr = 2}, none = {0};
		static const __u8 want[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
		__u8 out[12];

		is_int(tm_tcpopt_write_ts(out, 12, &ts), 12, "write_ts: 12 bytes");
		is_mem(out, want, 12, "write_ts: NOP,NOP,TS");
		is_int(tm_tcpopt_write_ts(out, 11, &ts), -1, "write_ts: cap 11 short");
		is_int(tm_tcpopt_write_ts(out, 0, &none), 0, "write_ts: no TS, nothing written");
	}
}

int main(void)
{
	bounds();
	wscale_clamp();
	linux_syn_layouts();
	syn_roundtrip();
	return tap_done();
}
