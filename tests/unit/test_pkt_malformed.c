/* tm_pkt_parse on malformed input: every truncation, lying lengths, bad offsets and options, with
 * the exact reason code each time.  Buffers are malloc'ed to the exact length so that the ASan
 * build catches any read past them. */
#include "vec_real.h"
#include "vec_scapy.h"

/* Parse a copy of @src[0..n) in a buffer of exactly @n bytes; returns the error. */
static int parse_exact(const __u8 *src, size_t n, int *opt_err, __u32 *payload_len)
{
	__u8 *b = malloc(n ? n : 1);
	struct tm_pkt p;
	int err;

	memcpy(b, src, n);
	err = tm_pkt_parse(&p, b, n);
	if (opt_err)
		*opt_err = p.opt_err;
	if (payload_len)
		*payload_len = p.payload_len;
	free(b);
	return err;
}

/* Every prefix of a good packet: the IP length field now lies (larger than the buffer). */
static void prefixes(const struct vec_pkt *v)
{
	struct vbuf b;
	size_t n, bad = 0;

	vec_load(&b, v->hex);
	for (n = 0; n < b.n; n++) {
		int want, got = parse_exact(b.b, n, NULL, NULL);
		size_t ihl = (size_t)(b.b[0] & 15) * 4;

		if (v->family == TM_AF_INET)
			want = n < 20 ? TM_PKT_ETRUNC_L3 : ihl > n ? TM_PKT_EIHL : TM_PKT_ETOTLEN;
		else
			want = n < 40 ? TM_PKT_ETRUNC_L3 : TM_PKT_ETOTLEN;
		if (got != -want && bad++ < 3)
			printf("#   %s prefix %zu: got %d, want %d\n", v->name, n, got, -want);
	}
	ok(bad == 0, "%s: all %zu prefixes rejected with the right reason", v->name, b.n);
}

/* Every truncation with the IP length field made to agree: the TCP layer must notice. */
static void truncations(const struct vec_pkt *v)
{
	struct vbuf b;
	size_t n, bad = 0;

	vec_load(&b, v->hex);
	for (n = TM_IP4_HLEN; n < b.n; n++) {
		struct vbuf t = b;
		size_t l4 = n - (size_t)v->l3_len;
		int want, got;
		__u32 plen = 0;

		if (v->family == TM_AF_INET)
			tm_put16(t.b + 2, (__u16)n);
		else if (n >= TM_IP6_HLEN)
			tm_put16(t.b + 4, (__u16)(n - TM_IP6_HLEN));
		else
			continue;
		if (n < (size_t)v->l3_len) /* IPv4: IHL beyond the buffer; IPv6: chain cut short */
			want = v->family == TM_AF_INET ? TM_PKT_EIHL : TM_PKT_EEXTHDR;
		else if (l4 < TM_TCP_HLEN)
			want = TM_PKT_ETRUNC_L4;
		else if (l4 < (size_t)v->tcp_hlen)
			want = TM_PKT_EDOFF;
		else
			want = 0;
		got = parse_exact(t.b, n, NULL, &plen);
		if (got == 0 && want == 0 && plen != l4 - (size_t)v->tcp_hlen)
			got = 999;
		if (got != -want && bad++ < 3)
			printf("#   %s truncated to %zu: got %d, want %d\n", v->name, n, got,
			       -want);
	}
	ok(bad == 0, "%s: every truncation with a matching IP length gives the exact reason",
	   v->name);
}

/* An IPv4 + TCP packet (ACK, given options, payload of 'P's) written by hand. */
static size_t mk_v4(__u8 *b, const __u8 *opts, size_t olen, size_t paylen)
{
	size_t hl = TM_TCP_HLEN + olen, tot = TM_IP4_HLEN + hl + paylen;
	__u8 *t = b + TM_IP4_HLEN;

	memset(b, 0, tot);
	b[0] = 0x45;
	tm_put16(b + 2, (__u16)tot);
	b[8] = 64;
	b[9] = 6;
	tm_put32(b + 12, 0x0a000001);
	tm_put32(b + 16, 0x0a000002);
	tm_put16(t, 40000);
	tm_put16(t + 2, 80);
	tm_put32(t + 4, 1000);
	tm_put32(t + 8, 2000);
	t[12] = (__u8)((hl / 4) << 4);
	t[13] = TM_TCP_ACK;
	tm_put16(t + 14, 512);
	memcpy(t + TM_TCP_HLEN, opts, olen);
	memset(t + hl, 'P', paylen);
	return tot;
}

struct optcase {
	const char *what;
	__u8 len; /* option area length (multiple of 4) */
	__u8 bytes[40];
	int err; /* enum tm_opt_err, 0 = parses */
	__u32 present;
};

static const struct optcase optcases[] = {
    {"MSS length 0", 4, {2, 0, 5, 0xb4}, TM_OPT_ELEN, 0},
    {"MSS length 1", 4, {2, 1, 5, 0xb4}, TM_OPT_ELEN, 0},
    {"unknown kind length 0", 4, {99, 0, 0, 0}, TM_OPT_ELEN, 0},
    {"unknown kind length 1", 4, {99, 1, 0, 0}, TM_OPT_ELEN, 0},
    {"kind in the last byte, no length", 4, {1, 1, 1, 2}, TM_OPT_ELEN, 0},
    {"TS runs past the header", 4, {8, 10, 0, 0}, TM_OPT_EOVERRUN, 0},
    {"SACK runs past the header", 8, {1, 1, 5, 10, 0, 0, 0, 1}, TM_OPT_EOVERRUN, 0},
    {"unknown kind runs past", 8, {99, 9, 0, 0, 0, 0, 0, 0}, TM_OPT_EOVERRUN, 0},
    {"MSS length 3", 4, {2, 3, 5, 0}, TM_OPT_EBADLEN, 0},
    {"MSS length 5", 8, {2, 5, 5, 0xb4, 0, 0, 0, 0}, TM_OPT_EBADLEN, 0},
    {"wscale length 2", 4, {3, 2, 1, 1}, TM_OPT_EBADLEN, 0},
    {"wscale length 4", 4, {3, 4, 7, 0}, TM_OPT_EBADLEN, 0},
    {"SACK-permitted length 3", 4, {4, 3, 0, 0}, TM_OPT_EBADLEN, 0},
    {"TS length 8", 8, {8, 8, 1, 2, 3, 4, 5, 6}, TM_OPT_EBADLEN, 0},
    {"TS length 12", 12, {8, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, TM_OPT_EBADLEN, 0},
    {"SACK length 2 (no block)", 4, {5, 2, 1, 1}, TM_OPT_EBADLEN, 0},
    {"SACK length 9", 12, {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, TM_OPT_EBADLEN, 0},
    {"SACK length 11", 12, {5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, TM_OPT_EBADLEN, 0},
    {"SACK length 17", 20, {5, 17, [18] = 1, 1}, TM_OPT_EBADLEN, 0},
    /* Five blocks need 42 bytes: more than any option area, so the length overruns. */
    {"SACK with 5 blocks", 40, {5, 42}, TM_OPT_EOVERRUN, 0},
    {"duplicate MSS", 8, {2, 4, 5, 0xb4, 2, 4, 5, 0xb4}, TM_OPT_EDUP, 0},
    {"duplicate wscale", 8, {3, 3, 7, 3, 3, 7, 1, 1}, TM_OPT_EDUP, 0},
    {"duplicate SACK-permitted", 4, {4, 2, 4, 2}, TM_OPT_EDUP, 0},
    {"duplicate TS", 20, {8, 10, [10] = 8, 10}, TM_OPT_EDUP, 0},
    {"duplicate SACK", 20, {5, 10, [10] = 5, 10}, TM_OPT_EDUP, 0},
    {"bad length wins over duplicate", 8, {2, 4, 5, 0xb4, 2, 3, 5, 0}, TM_OPT_EBADLEN, 0},
    /* Good ones around the edges. */
    {"duplicate unknown kinds are fine", 8, {99, 2, 99, 2, 253, 4, 0xab, 0xcd}, 0, TM_HAS_UNKNOWN},
    {"EOL ends the walk: garbage after it ignored", 8, {2, 4, 5, 0xb4, 0, 5, 1, 0}, 0, TM_HAS_MSS},
    {"NOPs only",
     40,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     0,
     0},
    {"all EOL", 8, {0}, 0, 0},
    {"unknown kind filling the area", 40, {254, 40}, 0, TM_HAS_UNKNOWN},
    {"SACK 4 blocks exactly at the end", 36, {1, 1, 5, 34}, 0, TM_HAS_SACK},
    {"TS exactly at the end", 12, {1, 1, 8, 10}, 0, TM_HAS_TS},
};

static void options(void)
{
	size_t i;

	for (i = 0; i < sizeof(optcases) / sizeof(optcases[0]); i++) {
		const struct optcase *c = &optcases[i];
		__u8 b[128];
		size_t n = mk_v4(b, c->bytes, c->len, 3);
		int opt_err = -1, err = parse_exact(b, n, &opt_err, NULL);

		if (c->err) {
			ok(err == -TM_PKT_EOPT && opt_err == c->err,
			   "options: %s -> tcp-options/%s (got %d/%d)", c->what,
			   tm_tcpopt_strerror(c->err), err, opt_err);
		} else {
			struct tm_pkt p;

			err = tm_pkt_parse(&p, b, n);
			ok(err == 0 && p.opts.present == c->present && p.payload_len == 3,
			   "options: %s parses (err %d, present 0x%x)", c->what, err,
			   p.opts.present);
		}
	}
}

/* Flip header fields of good packets and check the exact reason. */
static void mutate_v4(void)
{
	const struct vec_pkt *v = &vec_real[VEC_V4_BASIC + 2]; /* pure ACK with TS: 20 + 32 */
	struct vbuf b, t;
	int i;
	__u32 plen;

	vec_load(&b, v->hex);
	for (i = 0; i < 16; i++) {
		t = b;
		t.b[0] = (__u8)(i << 4 | 5);
		if (i == 4 || i == 6)
			continue;
		is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EVERSION,
		       "IP version %d rejected", i);
	}
	t = b;
	t.b[0] = 0x65; /* an IPv4 header claiming version 6: too short for IPv6's length field */
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN, "version 6 on a v4 header");
	is_int(parse_exact(t.b, 0, NULL, NULL), -TM_PKT_ETRUNC_L3, "empty buffer");
	for (i = 0; i < 5; i++) {
		t = b;
		t.b[0] = (__u8)(0x40 | i);
		is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EIHL, "IHL %d rejected", i);
	}
	t = b;
	t.b[0] = 0x4f; /* 60 bytes of header in a 52-byte packet */
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EIHL, "IHL 15 beyond the buffer");
	t = b;
	t.b[0] = 0x4d; /* 52 = the whole packet: the header fits, nothing is left for TCP */
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETRUNC_L4,
	       "IHL covering the whole packet");

	t = b;
	tm_put16(t.b + 2, (__u16)(t.n + 1));
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN,
	       "total length 1 past the buffer");
	tm_put16(t.b + 2, 0xffff);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN, "total length 65535");
	tm_put16(t.b + 2, 19);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN, "total length below IHL");
	tm_put16(t.b + 2, 0);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN, "total length 0");
	tm_put16(t.b + 2, 20);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETRUNC_L4, "total length = IHL: no TCP");
	tm_put16(t.b + 2, 39);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETRUNC_L4, "19 bytes of TCP");
	tm_put16(t.b + 2, 40);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EDOFF, "TCP header shorter than doff");
	tm_put16(t.b + 2, 52);
	is_int(parse_exact(t.b, t.n, NULL, &plen), 0, "total length exact");

	static const struct {
		__u16 frag;
		int err;
		const char *what;
	} frags[] = {
	    {0x2000, TM_PKT_EFRAG, "MF set"},
	    {0x0001, TM_PKT_EFRAG, "offset 8"},
	    {0x1fff, TM_PKT_EFRAG, "last offset"},
	    {0x3fff, TM_PKT_EFRAG, "MF + offset"},
	    {0x6000, TM_PKT_EFRAG, "DF + MF"},
	    {0x4000, 0, "DF only"},
	    {0x0000, 0, "no flags"},
	    {0x8000, 0, "reserved bit only"},
	};
	for (i = 0; i < (int)(sizeof(frags) / sizeof(frags[0])); i++) {
		t = b;
		tm_put16(t.b + 6, frags[i].frag);
		is_int(parse_exact(t.b, t.n, NULL, NULL), -frags[i].err,
		       "IPv4 frag field 0x%04x (%s)", frags[i].frag, frags[i].what);
	}
	static const __u8 protos[] = {0, 1, 17, 41, 132, 255};
	for (i = 0; i < (int)sizeof(protos); i++) {
		t = b;
		t.b[9] = protos[i];
		is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ENOTTCP,
		       "IP protocol %u is not TCP", protos[i]);
	}
	for (i = 0; i < 16; i++) {
		/* doff 6 and 7 cut the TS option short (NOP,NOP,TS at 20..31); with doff 5 the
		 * option bytes are payload. */
		int want = i < 5 || i * 4 > 32 ? TM_PKT_EDOFF : i == 6 || i == 7 ? TM_PKT_EOPT : 0;

		t = b;
		t.b[20 + 12] = (__u8)(i << 4);
		is_int(parse_exact(t.b, t.n, NULL, NULL), -want, "data offset %d (%d bytes)", i,
		       i * 4);
	}
	/* The 4 reserved bits next to doff do not matter. */
	t = b;
	t.b[20 + 12] |= 0x0f;
	is_int(parse_exact(t.b, t.n, NULL, NULL), 0, "reserved bits beside doff ignored");
}

/* IPv6 with @n extension headers of type @type (8 bytes each) before a bare TCP header. */
static size_t mk_v6_ext(__u8 *b, int n, __u8 type)
{
	size_t tot = TM_IP6_HLEN + 8 * (size_t)n + TM_TCP_HLEN;
	__u8 *t;
	int i;

	memset(b, 0, tot);
	b[0] = 0x60;
	tm_put16(b + 4, (__u16)(tot - TM_IP6_HLEN));
	b[6] = n ? type : 6;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[39] = 2;
	for (i = 0; i < n; i++) {
		__u8 *e = b + TM_IP6_HLEN + 8 * i;

		e[0] = i == n - 1 ? 6 : type;
		if (type == 44) { /* fragment: offset 0, M clear: atomic */
			tm_put32(e + 4, 0x1000 + (__u32)i);
		} else if (type == 51) { /* AH: length in 4-byte units minus 2 */
			e[1] = 0;
		} else {
			e[2] = 1; /* PadN with 4 bytes */
			e[3] = 4;
		}
	}
	t = b + TM_IP6_HLEN + 8 * n;
	tm_put16(t, 1);
	tm_put16(t + 2, 2);
	t[12] = 5 << 4;
	t[13] = TM_TCP_ACK;
	return tot;
}

static void mutate_v6(void)
{
	const struct vec_pkt *v = &vec_real[VEC_V6_BASIC + 2];
	static const __u8 types[] = {0, 43, 60, 44, 51};
	struct vbuf b, t;
	__u8 e[256];
	size_t n;
	int i, k;

	vec_load(&b, v->hex);
	t = b;
	tm_put16(t.b + 4, (__u16)(t.n - 40 + 1));
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN,
	       "v6 payload length 1 past the buffer");
	tm_put16(t.b + 4, 0);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ETOTLEN,
	       "v6 payload length 0 (jumbogram)");
	is_int(parse_exact(t.b, 40, NULL, NULL), -TM_PKT_ETRUNC_L4, "bare v6 header, length 0");
	t = b;
	t.b[6] = 17;
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ENOTTCP, "v6 next header UDP");
	t.b[6] = 135; /* mobility: not walked, so it is the upper layer */
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ENOTTCP, "v6 next header mobility");

	for (k = 0; k < (int)sizeof(types); k++) {
		for (i = 1; i <= 9; i++) {
			int want = i <= 8 ? 0 : TM_PKT_EEXTHDR;
			int err;
			struct tm_pkt p;

			n = mk_v6_ext(e, i, types[k]);
			err = parse_exact(e, n, NULL, NULL);
			is_int(err, -want, "v6: %d extension headers of type %u", i, types[k]);
			if (!err && i == 8) {
				tm_pkt_parse(&p, e, n);
				is_int(p.l3_len, 40 + 8 * 8, "v6: 8 headers: TCP found at 104");
			}
		}
	}
	n = mk_v6_ext(e, 2, 60);
	e[40 + 8 + 1] = 1; /* second header claims 16 bytes: runs into and past the TCP header */
	is_int(parse_exact(e, n - 8, NULL, NULL), -TM_PKT_ETOTLEN,
	       "ext header: payload length lies");
	tm_put16(e + 4, (__u16)(n - 40));
	e[40 + 8 + 1] = 3; /* 32 bytes: past the end */
	is_int(parse_exact(e, n, NULL, NULL), -TM_PKT_EEXTHDR, "ext header length past the packet");
	n = mk_v6_ext(e, 1, 44);
	tm_put16(e + 40 + 2, 0x0008); /* offset 1 */
	is_int(parse_exact(e, n, NULL, NULL), -TM_PKT_EFRAG, "v6 fragment offset 1");
	tm_put16(e + 40 + 2, 0x0001); /* M */
	is_int(parse_exact(e, n, NULL, NULL), -TM_PKT_EFRAG, "v6 fragment M set");
	tm_put16(e + 40 + 2, 0x0006); /* reserved bits only: still atomic */
	is_int(parse_exact(e, n, NULL, NULL), 0, "v6 atomic fragment, reserved bits set");
	tm_put16(e + 4, 4); /* the fragment header itself cut short */
	is_int(parse_exact(e, 44, NULL, NULL), -TM_PKT_EEXTHDR, "v6 fragment header truncated");
	n = mk_v6_ext(e, 1, 51);
	e[41] = 6; /* AH of (6 + 2) * 4 = 32 bytes: past the end */
	is_int(parse_exact(e, n, NULL, NULL), -TM_PKT_EEXTHDR, "AH length past the packet");
}

/* TCP never runs between unspecified, broadcast or multicast addresses (RFC 1122 4.2.3.10). */
static void addresses(void)
{
	static const struct {
		__u32 a;
		int err;
	} v4[] = {
	    {0x00000000, TM_PKT_EADDR},
	    {0xffffffff, TM_PKT_EADDR},
	    {0xe0000001, TM_PKT_EADDR},
	    {0xefffffff, TM_PKT_EADDR},
	    {0x00000001, 0},
	    {0xdfffffff, 0},
	    {0xf0000001, 0},
	    {0x7f000001, 0},
	};
	const struct vec_pkt *pv4 = &vec_real[VEC_V4_BASIC + 2], *pv6 = &vec_real[VEC_V6_BASIC + 2];
	struct vbuf b, t;
	size_t i;
	int dst;

	vec_load(&b, pv4->hex);
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		for (dst = 0; dst < 2; dst++) {
			t = b;
			tm_put32(t.b + 12 + 4 * dst, v4[i].a);
			is_int(parse_exact(t.b, t.n, NULL, NULL), -v4[i].err, "IPv4 %s 0x%08x: %s",
			       dst ? "dst" : "src", v4[i].a, tm_pkt_strerror(v4[i].err));
		}
	}
	t = b;
	tm_put32(t.b + 16, 0xe0000001);
	t.b[9] = 17;
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_ENOTTCP, "multicast UDP: not-tcp first");
	t.b[9] = 6;
	tm_put16(t.b + 2, 30);
	is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EADDR,
	       "multicast TCP cut short: address first");

	vec_load(&b, pv6->hex);
	for (dst = 0; dst < 2; dst++) {
		t = b;
		memset(t.b + 8 + 16 * dst, 0, 16);
		is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EADDR, "IPv6 %s :: rejected",
		       dst ? "dst" : "src");
		t.b[8 + 16 * dst] = 0xff;
		t.b[8 + 16 * dst + 1] = 0x02;
		t.b[8 + 16 * dst + 15] = 1;
		is_int(parse_exact(t.b, t.n, NULL, NULL), -TM_PKT_EADDR, "IPv6 %s ff02::1 rejected",
		       dst ? "dst" : "src");
		memset(t.b + 8 + 16 * dst, 0, 16);
		t.b[8 + 16 * dst + 15] = 1;
		is_int(parse_exact(t.b, t.n, NULL, NULL), 0, "IPv6 %s ::1 accepted",
		       dst ? "dst" : "src");
		t.b[8 + 16 * dst] = 0xfe;
		t.b[8 + 16 * dst + 1] = 0x80;
		is_int(parse_exact(t.b, t.n, NULL, NULL), 0, "IPv6 %s fe80::1 accepted",
		       dst ? "dst" : "src");
	}
}

static void scapy_rejects(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_rejects) / sizeof(vec_rejects[0]); i++) {
		struct vbuf b;

		vec_load(&b, vec_rejects[i].hex);
		is_int(parse_exact(b.b, b.n, NULL, NULL), -vec_rejects[i].err, "scapy %s: %s",
		       vec_rejects[i].name, tm_pkt_strerror(vec_rejects[i].err));
	}
}

static void huge_buffer(void)
{
	const struct vec_pkt *v = &vec_real[VEC_V4_BASIC + 3];
	size_t big = 0x30000;
	__u8 *b = calloc(1, big);
	struct tm_pkt p;
	struct vbuf t;

	vec_load(&t, v->hex);
	memcpy(b, t.b, t.n);
	is_int(tm_pkt_parse(&p, b, big), 0, "a packet at the start of a 192 KiB buffer parses");
	is_int(p.len, t.n, "its length comes from the IP header");
	free(b);
}

static void names(void)
{
	static const char *const want[] = {
	    "ok",	   "ip-truncated", "ip-version", "ip-ihl",	  "ip-length",
	    "ip-fragment", "ip6-exthdr",   "not-tcp",	 "tcp-truncated", "tcp-data-offset",
	    "tcp-options", "ip-address"};
	int i;

	for (i = 0; i < TM_PKT_ERR_MAX; i++)
		ok(!strcmp(tm_pkt_strerror(i), want[i]) && !strcmp(tm_pkt_strerror(-i), want[i]),
		   "tm_pkt_strerror(%d) = %s", i, want[i]);
	ok(!strcmp(tm_pkt_strerror(TM_PKT_ERR_MAX), "unknown") &&
	       !strcmp(tm_pkt_strerror(1000), "unknown"),
	   "tm_pkt_strerror out of range");
	ok(!strcmp(tm_tcpopt_strerror(TM_OPT_ELEN), "option-length") &&
	       !strcmp(tm_tcpopt_strerror(TM_OPT_EOVERRUN), "option-overrun") &&
	       !strcmp(tm_tcpopt_strerror(TM_OPT_EBADLEN), "option-bad-length") &&
	       !strcmp(tm_tcpopt_strerror(TM_OPT_EDUP), "option-duplicate") &&
	       !strcmp(tm_tcpopt_strerror(TM_OPT_OK), "ok") &&
	       !strcmp(tm_tcpopt_strerror(77), "option-unknown-error") &&
	       !strcmp(tm_tcpopt_strerror(-TM_OPT_EDUP), "option-duplicate"),
	   "tm_tcpopt_strerror names");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_real) / sizeof(vec_real[0]); i++) {
		prefixes(&vec_real[i]);
		truncations(&vec_real[i]);
	}
	for (i = 0; i < sizeof(vec_crafted) / sizeof(vec_crafted[0]); i++) {
		prefixes(&vec_crafted[i]);
		truncations(&vec_crafted[i]);
	}
	options();
	mutate_v4();
	mutate_v6();
	addresses();
	scapy_rejects();
	huge_buffer();
	names();
	return tap_done();
}
