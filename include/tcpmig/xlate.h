/* Per-direction translation of a segment (DESIGN.md §3.6): addresses, ports, seq/ack deltas,
 * SACK edges, TSval/TSecr offsets, window rescaling, incremental checksums.
 * Header-only, no libc, no allocation, bounded loops: the eBPF fast path includes this file. */
#ifndef TCPMIG_XLATE_H
#define TCPMIG_XLATE_H

#include <tcpmig/csum.h>
#include <tcpmig/tcpopt.h>
#include <tcpmig/types.h>

/* Which parts of struct tm_xlate apply. */
#define TM_XL_SADDR (1u << 0)
#define TM_XL_DADDR (1u << 1)
#define TM_XL_SPORT (1u << 2)
#define TM_XL_DPORT (1u << 3)

/* Results (negated when returned). */
enum tm_xlate_err {
	TM_XLATE_OK = 0,
	TM_XLATE_ETRUNC, /* headers not within [l3, end) */
	TM_XLATE_EOPT,	 /* malformed options: the caller punts or drops */
	TM_XLATE_EFAMILY,
};

/*
 * One direction's rewrite.  Deltas are added mod 2^32 (use the negation to
 * subtract).  For a flow handed from B1 to B2 with dseq = s_nxt - (ISN2 + 1)
 * and dts mapping B2's clock to the client's view:
 *   server->client: saddr = service, sport = service port, seq_delta = dseq,
 *                   tsval_delta = dts, win_shift = wscale(B2) - wscale(B1)
 *   client->server: daddr = B2, dport = B2's port, ack_delta = -dseq
 *                   (applies to every SACK edge too), tsecr_delta = -dts
 */
struct tm_xlate {
	__u8 family;
	__u8 flags;	   /* TM_XL_* */
	__s8 win_shift;	   /* window <<= win_shift (>0) or >>= -win_shift (<0); not on SYNs */
	__u8 pad;
	struct tm_addr saddr; /* new source address when TM_XL_SADDR */
	struct tm_addr daddr; /* new destination address when TM_XL_DADDR */
	__u16 sport;	   /* new source port, host order, when TM_XL_SPORT */
	__u16 dport;
	__u32 seq_delta;
	__u32 ack_delta;   /* also applied to every SACK block edge */
	__u32 tsval_delta;
	__u32 tsecr_delta;
};

TM_INLINE __u32 tm_xlate_addr_off(int family, int dst)
{
	if (family == TM_AF_INET)
		return dst ? 16 : 12;
	return dst ? 24 : 8;
}

/* Rewrite one address in place, accumulating the pseudo-header diff. */
TM_INLINE __u32 tm_xlate_addr(__u8 *a, const struct tm_addr *to, int family, __u32 pdiff)
{
	struct tm_addr old = { { 0, 0, 0, 0 } };
	int nw = family == TM_AF_INET ? 1 : 4;
	int i;

	for (i = 0; i < 4; i++) {
		if (i >= nw)
			break;
		__builtin_memcpy(&old.w[i], a + 4 * i, 4);
		__builtin_memcpy(a + 4 * i, &to->w[i], 4);
	}
	return tm_csum_diff_addr(pdiff, &old, to, family);
}

/* Scale a window field; never turns an open window into zero, saturates at 65535. */
TM_INLINE __u16 tm_xlate_window(__u16 win, __s8 shift)
{
	__u32 w = win;

	if (shift > 0) {
		w <<= (shift > 14 ? 14 : shift);
		if (w > 0xffff)
			w = 0xffff;
	} else if (shift < 0) {
		w >>= (-shift > 14 ? 14 : -shift);
		if (w == 0 && win != 0)
			w = 1;
	}
	return (__u16)w;
}

/* What tm_xlate_rewrite() leaves to its caller. */
struct tm_xlate_diff {
	/* Pseudo-header (address) changes: the IPv4 header checksum takes them, and so does the
	 * TCP checksum, complete or CHECKSUM_PARTIAL (BPF_F_PSEUDO_HDR in the kernel's terms). */
	__u32 pdiff;
	/* TCP header changes (ports, seq, ack, window, TS, SACK edges): only a complete TCP
	 * checksum takes them; a partial one must not (the kernel or NIC sums the header later). */
	__u32 tdiff;
	struct tm_tcpopts opts; /* the segment's options as parsed, before the rewrite */
};

/*
 * The header checks of tm_xlate_rewrite(): @x's family, the IP header and the whole TCP header
 * (data offset) within [@l3, @end), @tcp not before @l3.  Returns the TCP header length (20..60)
 * or -enum tm_xlate_err.
 */
TM_INLINE int tm_xlate_hdr(const struct tm_xlate *x, const __u8 *l3, const __u8 *tcp,
			   const __u8 *end)
{
	const struct tm_tcphdr *th = (const struct tm_tcphdr *)tcp;
	__u32 hlen;

	if (x->family != TM_AF_INET && x->family != TM_AF_INET6)
		return -TM_XLATE_EFAMILY;
	if (l3 + (x->family == TM_AF_INET ? TM_IP4_HLEN : TM_IP6_HLEN) > end)
		return -TM_XLATE_ETRUNC;
	if (tcp + TM_TCP_HLEN > end || tcp < l3)
		return -TM_XLATE_ETRUNC;
	hlen = (__u32)(th->doff_res >> 4) * 4;
	if (hlen < TM_TCP_HLEN || tcp + hlen > end)
		return -TM_XLATE_ETRUNC;
	return (int)hlen;
}

/*
 * The rewrite proper of tm_xlate_rewrite(), once tm_xlate_hdr() passed and d->opts holds
 * tm_tcpopt_parse() of this very header (the eBPF fast path parses with the same steps from its
 * own loop, see tm_tcpopt_parse()).  Fills d->pdiff and d->tdiff.  0 or -TM_XLATE_ETRUNC, which
 * only a parse of some other header can cause.
 *
 * The bounds checks right before the option stores cannot fail once tm_tcpopt_parse() succeeded
 * (it bounds every option by @end), so they keep the "untouched on error" promise; they are
 * there for the eBPF verifier, which tracks packet ranges per pointer register and knows nothing
 * of the parser's guarantees.  Keep each check next to the stores through the same pointer:
 * clang recomputes a pointer rather than keep it, and the recomputed one is unchecked.
 */
TM_INLINE int tm_xlate_rewrite_opts(const struct tm_xlate *x, __u8 *l3, __u8 *tcp,
				    const __u8 *end, struct tm_xlate_diff *d)
{
	struct tm_tcphdr *th = (struct tm_tcphdr *)tcp;
	const struct tm_tcpopts *o = &d->opts;
	__u32 pdiff = 0;
	__u32 tdiff = 0;
	__u32 v;
	__u16 w;
	int b;

	if (x->flags & TM_XL_SADDR)
		pdiff = tm_xlate_addr(l3 + tm_xlate_addr_off(x->family, 0), &x->saddr, x->family, pdiff);
	if (x->flags & TM_XL_DADDR)
		pdiff = tm_xlate_addr(l3 + tm_xlate_addr_off(x->family, 1), &x->daddr, x->family, pdiff);
	if (x->flags & TM_XL_SPORT) {
		tdiff = tm_csum_diff16(tdiff, th->sport, tm_htons(x->sport));
		th->sport = tm_htons(x->sport);
	}
	if (x->flags & TM_XL_DPORT) {
		tdiff = tm_csum_diff16(tdiff, th->dport, tm_htons(x->dport));
		th->dport = tm_htons(x->dport);
	}
	if (x->seq_delta) {
		v = tm_htonl(tm_ntohl(th->seq) + x->seq_delta);
		tdiff = tm_csum_diff32(tdiff, th->seq, v);
		th->seq = v;
	}
	if (x->ack_delta && (th->flags & TM_TCP_ACK)) {
		v = tm_htonl(tm_ntohl(th->ack) + x->ack_delta);
		tdiff = tm_csum_diff32(tdiff, th->ack, v);
		th->ack = v;
	}
	if (x->win_shift && !(th->flags & TM_TCP_SYN)) {
		w = tm_htons(tm_xlate_window(tm_ntohs(th->window), x->win_shift));
		tdiff = tm_csum_diff16(tdiff, th->window, w);
		th->window = w;
	}
	if ((o->present & TM_HAS_TS) && (x->tsval_delta || x->tsecr_delta)) {
		__u32 tsval = o->tsval, tsecr = o->tsecr;
		__u8 *p;

		if (x->tsval_delta) {
			tsval += x->tsval_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, o->ts_off, o->tsval, tsval);
		}
		/* TSecr is only meaningful with ACK set (RFC 7323 §3.2); a SYN's zero stays zero. */
		if (x->tsecr_delta && (th->flags & TM_TCP_ACK)) {
			tsecr += x->tsecr_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, o->ts_off + 4u, o->tsecr, tsecr);
		}
		/* One check right before both stores, on the pointer they use (see above). */
		p = tcp + o->ts_off;
		if (p + 8 > end)
			return -TM_XLATE_ETRUNC;
		tm_put32(p, tsval);
		tm_put32(p + 4, tsecr);
	}
	if ((o->present & TM_HAS_SACK) && x->ack_delta) {
		for (b = 0; b < TM_SACK_MAX; b++) {
			__u32 off;
			__u8 *p;

			if (b >= o->nsack)
				break;
			off = o->sack_off + 8u * (__u32)b;
			p = tcp + off;
			if (p + 8 > end)
				return -TM_XLATE_ETRUNC;
			v = o->sack[b].left + x->ack_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, off, o->sack[b].left, v);
			tm_put32(p, v);
			v = o->sack[b].right + x->ack_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, off + 4, o->sack[b].right, v);
			tm_put32(p + 4, v);
		}
	}
	d->pdiff = pdiff;
	d->tdiff = tdiff;
	return 0;
}

/*
 * Rewrite the fields of the segment at @l3 (IP header) / @tcp (TCP header), bounded by @end,
 * and return the checksum changes in @d without touching any checksum field: the caller applies
 * them, in userspace with tm_csum_apply*() (tm_xlate_apply() below), in the eBPF fast path with
 * bpf_l3/l4_csum_replace() so the kernel keeps CHECKSUM_PARTIAL and CHECKSUM_COMPLETE skbs right.
 * Everything is validated (headers, options) before the first byte is written: on error the
 * packet is untouched.  Diffs are (~old + new) sums of 16-bit words in memory order, not folded.
 * Returns 0 or -enum tm_xlate_err.
 */
TM_INLINE int tm_xlate_rewrite(const struct tm_xlate *x, __u8 *l3, __u8 *tcp, const __u8 *end,
			       struct tm_xlate_diff *d)
{
	int hlen;

	d->pdiff = d->tdiff = 0;
	hlen = tm_xlate_hdr(x, l3, tcp, end);
	if (hlen < 0)
		return hlen;
	if (tm_tcpopt_parse(tcp, (__u32)hlen, end, &d->opts))
		return -TM_XLATE_EOPT;
	return tm_xlate_rewrite_opts(x, l3, tcp, end, d);
}

/*
 * Rewrite the segment at @l3 (IP header) / @tcp (TCP header), bounded by @end, checksums
 * included.  @csum_partial: the TCP checksum field holds a CHECKSUM_PARTIAL pseudo-header sum;
 * only address changes are folded into it then.  The IPv4 header checksum is always updated
 * (it is never partial).  Everything is validated (headers, options) before the first byte is
 * written: on error the packet is untouched.
 */
TM_INLINE int tm_xlate_apply(const struct tm_xlate *x, __u8 *l3, __u8 *tcp, const __u8 *end,
			     int csum_partial)
{
	struct tm_tcphdr *th = (struct tm_tcphdr *)tcp;
	struct tm_xlate_diff d;
	int err;

	err = tm_xlate_rewrite(x, l3, tcp, end, &d);
	if (err)
		return err;
	if (x->family == TM_AF_INET && (x->flags & (TM_XL_SADDR | TM_XL_DADDR))) {
		__u16 *ipcheck = (__u16 *)(l3 + 10);

		*ipcheck = tm_csum_apply(*ipcheck, d.pdiff);
	}
	if (csum_partial)
		th->check = tm_csum_apply_partial(th->check, d.pdiff);
	else
		th->check = tm_csum_apply(th->check, d.pdiff + d.tdiff);
	return 0;
}

#ifndef __bpf__
struct tm_flow_key;
/*
 * Build the translation that undoes @x for a packet whose addresses/ports
 * before @x were those of @orig.  Deltas are negated, the window shift
 * reversed (exact only when no bits were lost: see tm_xlate_window()).
 */
void tm_xlate_inverse(struct tm_xlate *inv, const struct tm_xlate *x, const struct tm_flow_key *orig);
#endif

#endif
