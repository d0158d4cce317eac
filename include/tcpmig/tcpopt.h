/* TCP options: bounded parser recording values and offsets, for reading and in-place rewriting.
 * Header-only and libc-free: the eBPF fast path compiles this same walker. */
#ifndef TCPMIG_TCPOPT_H
#define TCPMIG_TCPOPT_H

#include <tcpmig/types.h>

#define TM_OPT_EOL 0
#define TM_OPT_NOP 1
#define TM_OPT_MSS 2
#define TM_OPT_WSCALE 3
#define TM_OPT_SACKOK 4
#define TM_OPT_SACK 5
#define TM_OPT_TS 8

/* Presence bits in tm_tcpopts.present. */
#define TM_HAS_MSS (1u << 0)
#define TM_HAS_WSCALE (1u << 1)
#define TM_HAS_SACKOK (1u << 2)
#define TM_HAS_SACK (1u << 3)
#define TM_HAS_TS (1u << 4)
#define TM_HAS_UNKNOWN (1u << 5)

#define TM_SACK_MAX 4
#define TM_WSCALE_MAX 14

/* Option parse results (negated when returned). */
enum tm_opt_err {
	TM_OPT_OK = 0,
	TM_OPT_ELEN,	 /* length byte 0 or 1, or missing */
	TM_OPT_EOVERRUN, /* option runs past the end of the option area */
	TM_OPT_EBADLEN,	 /* known kind with a length it cannot have */
	TM_OPT_EDUP,	 /* a known option appears twice */
};

struct tm_sack_block {
	__u32 left;
	__u32 right;
};

/*
 * Offsets are relative to the start of the TCP header, so a rewrite can feed
 * them straight into tm_csum_diff_be32_at().  An offset of 0 means absent.
 */
struct tm_tcpopts {
	__u32 present;
	__u16 mss;
	__u8 wscale;
	__u8 nsack;
	__u32 tsval;
	__u32 tsecr;
	struct tm_sack_block sack[TM_SACK_MAX];
	__u8 mss_off;
	__u8 wscale_off;
	__u8 ts_off; /* offset of TSval; TSecr follows at +4 */
	__u8 sack_off; /* offset of the first block's left edge */
};

/* Every scalar is defined after a parse, present or not: callers that read tsval under a
 * TM_HAS_TS test otherwise trip -Wmaybe-uninitialized (an error with -Werror) once inlined. */
TM_INLINE void tm_tcpopt_init(struct tm_tcpopts *o)
{
	o->present = 0;
	o->nsack = 0;
	o->mss = 0;
	o->wscale = 0;
	o->tsval = o->tsecr = 0;
	o->mss_off = o->wscale_off = o->ts_off = o->sack_off = 0;
}

/*
 * One step of the walk: the option at @off (from the TCP header) of a header of @hlen bytes.
 * Records it in @o and returns the offset of the next option (> @off), 0 when the walk is over
 * (@off reached @hlen, or EOL), or -enum tm_opt_err.  Never reads at or past @end.
 *
 * The eBPF verifier tracks packet bounds per pointer and constant offset: "p + len <= end" with
 * a variable len proves nothing to it, so every read of an option body is preceded by a check
 * with the constant length that kind has (never true once the generic checks passed, so they
 * change no result).
 */
TM_INLINE int tm_tcpopt_step(const __u8 *tcp, __u32 off, __u32 hlen, const __u8 *end,
			     struct tm_tcpopts *o)
{
	__u8 kind, len;
	const __u8 *p;

	if (off >= hlen)
		return 0;
	p = tcp + off;
	if (p + 1 > end)
		return -TM_OPT_EOVERRUN;
	kind = p[0];
	if (kind == TM_OPT_EOL)
		return 0;
	if (kind == TM_OPT_NOP)
		return (int)off + 1;
	if (off + 2 > hlen || p + 2 > end)
		return -TM_OPT_ELEN;
	len = p[1];
	if (len < 2)
		return -TM_OPT_ELEN;
	if (off + len > hlen || p + len > end)
		return -TM_OPT_EOVERRUN;

	switch (kind) {
	case TM_OPT_MSS:
		if (len != 4)
			return -TM_OPT_EBADLEN;
		if (p + 4 > end) /* for the verifier, see above */
			return -TM_OPT_EOVERRUN;
		if (o->present & TM_HAS_MSS)
			return -TM_OPT_EDUP;
		o->present |= TM_HAS_MSS;
		o->mss = tm_get16(p + 2);
		o->mss_off = (__u8)(off + 2);
		break;
	case TM_OPT_WSCALE:
		if (len != 3)
			return -TM_OPT_EBADLEN;
		if (p + 3 > end)
			return -TM_OPT_EOVERRUN;
		if (o->present & TM_HAS_WSCALE)
			return -TM_OPT_EDUP;
		o->present |= TM_HAS_WSCALE;
		/* RFC 7323 §2.3: values above 14 are used as 14. */
		o->wscale = p[2] > TM_WSCALE_MAX ? TM_WSCALE_MAX : p[2];
		o->wscale_off = (__u8)(off + 2);
		break;
	case TM_OPT_SACKOK:
		if (len != 2)
			return -TM_OPT_EBADLEN;
		if (o->present & TM_HAS_SACKOK)
			return -TM_OPT_EDUP;
		o->present |= TM_HAS_SACKOK;
		break;
	case TM_OPT_SACK: {
		/* Unsigned arithmetic only: the BPF backend has no signed division. */
		__u32 body = (__u32)len - 2u;
		__u8 n = (__u8)(body / 8u);
		__u8 b;

		if (len < 10 || body % 8u != 0 || n > TM_SACK_MAX)
			return -TM_OPT_EBADLEN;
		if (o->present & TM_HAS_SACK)
			return -TM_OPT_EDUP;
		o->present |= TM_HAS_SACK;
		o->nsack = n;
		o->sack_off = (__u8)(off + 2);
		for (b = 0; b < TM_SACK_MAX; b++) {
			const __u8 *q = p + 2 + 8 * b;

			if (b >= n)
				break;
			if (q + 8 > end)
				return -TM_OPT_EOVERRUN;
			o->sack[b].left = tm_get32(q);
			o->sack[b].right = tm_get32(q + 4);
		}
		break;
	}
	case TM_OPT_TS:
		if (len != 10)
			return -TM_OPT_EBADLEN;
		if (p + 10 > end)
			return -TM_OPT_EOVERRUN;
		if (o->present & TM_HAS_TS)
			return -TM_OPT_EDUP;
		o->present |= TM_HAS_TS;
		o->tsval = tm_get32(p + 2);
		o->tsecr = tm_get32(p + 6);
		o->ts_off = (__u8)(off + 2);
		break;
	default:
		o->present |= TM_HAS_UNKNOWN;
		break;
	}
	return (int)(off + len);
}

/* Header lengths tm_tcpopt_parse() accepts, before the walk.  0 or -enum tm_opt_err. */
TM_INLINE int tm_tcpopt_bounds(const __u8 *tcp, __u32 hlen, const __u8 *end)
{
	if (hlen > TM_TCP_HLEN + TM_TCP_MAXOPT)
		return -TM_OPT_EOVERRUN;
	if (tcp + hlen > end)
		return -TM_OPT_EOVERRUN;
	return 0;
}

/*
 * Parse the option area of a TCP header.  @tcp points at the TCP header,
 * @hlen is its length from the data offset (20..60), @end bounds readable
 * memory (the parser never reads at or past it).  Unknown kinds are skipped
 * (and flagged), EOL ends the walk.  Returns 0 or -enum tm_opt_err.
 *
 * The loop runs at most TM_TCP_MAXOPT times: every step consumes at least one
 * byte of a 40-byte area.  The eBPF fast path runs the same steps, but from its
 * own loop around a separately verified function (bpf/tcpmig_fast.bpf.c): the
 * verifier walks this loop with every option layout as a separate state and gives
 * up long before the end.
 */
TM_INLINE int tm_tcpopt_parse(const __u8 *tcp, __u32 hlen, const __u8 *end, struct tm_tcpopts *o)
{
	int off = TM_TCP_HLEN, err, i;

	tm_tcpopt_init(o);
	err = tm_tcpopt_bounds(tcp, hlen, end);
	if (err)
		return err;
	for (i = 0; i < TM_TCP_MAXOPT; i++) {
		off = tm_tcpopt_step(tcp, (__u32)off, hlen, end, o);
		if (off <= 0)
			return off;
	}
	return 0;
}

#ifndef __bpf__
/* A readable name for an option parse error code (either sign). */
const char *tm_tcpopt_strerror(int err);

/*
 * Write an option area for a SYN or SYN-ACK from the fields present in @o
 * (MSS, SACK-permitted, timestamps, window scale; SACK blocks and unknown
 * kinds are not emitted), in the layout Linux uses, padded to 4 bytes.
 * Returns the number of bytes written (at most 20), or -1 when @cap is short.
 */
int tm_tcpopt_write_syn(__u8 *buf, unsigned cap, const struct tm_tcpopts *o);

/* Write NOP,NOP,TS (12 bytes) when @o has timestamps, nothing otherwise; returns bytes written or -1. */
int tm_tcpopt_write_ts(__u8 *buf, unsigned cap, const struct tm_tcpopts *o);
#endif

#endif
