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

/*
 * Rewrite the segment at @l3 (IP header) / @tcp (TCP header), bounded by @end.
 * @csum_partial: the TCP checksum field holds a CHECKSUM_PARTIAL pseudo-header
 * sum; only address changes are folded into it then.  The IPv4 header checksum
 * is always updated (it is never partial).  Everything is validated (headers,
 * options) before the first byte is written: on error the packet is untouched.
 */
TM_INLINE int tm_xlate_apply(const struct tm_xlate *x, __u8 *l3, __u8 *tcp, const __u8 *end,
			     int csum_partial)
{
	struct tm_tcphdr *th = (struct tm_tcphdr *)tcp;
	struct tm_tcpopts o;
	__u32 pdiff = 0; /* pseudo-header (and IPv4 header) changes */
	__u32 tdiff = 0; /* TCP header changes */
	__u32 hlen, v;
	__u16 w;
	int err, b;

	if (x->family != TM_AF_INET && x->family != TM_AF_INET6)
		return -TM_XLATE_EFAMILY;
	if (l3 + (x->family == TM_AF_INET ? TM_IP4_HLEN : TM_IP6_HLEN) > end)
		return -TM_XLATE_ETRUNC;
	if (tcp + TM_TCP_HLEN > end || tcp < l3)
		return -TM_XLATE_ETRUNC;
	hlen = (__u32)(th->doff_res >> 4) * 4;
	if (hlen < TM_TCP_HLEN || tcp + hlen > end)
		return -TM_XLATE_ETRUNC;
	err = tm_tcpopt_parse(tcp, hlen, end, &o);
	if (err)
		return -TM_XLATE_EOPT;

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
	if ((o.present & TM_HAS_TS) && (x->tsval_delta || x->tsecr_delta)) {
		__u8 *p = tcp + o.ts_off;

		if (x->tsval_delta) {
			v = o.tsval + x->tsval_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, o.ts_off, o.tsval, v);
			tm_put32(p, v);
		}
		/* TSecr is only meaningful with ACK set (RFC 7323 §3.2); a SYN's zero stays zero. */
		if (x->tsecr_delta && (th->flags & TM_TCP_ACK)) {
			v = o.tsecr + x->tsecr_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, o.ts_off + 4u, o.tsecr, v);
			tm_put32(p + 4, v);
		}
	}
	if ((o.present & TM_HAS_SACK) && x->ack_delta) {
		for (b = 0; b < TM_SACK_MAX; b++) {
			__u32 off;

			if (b >= o.nsack)
				break;
			off = o.sack_off + 8u * (__u32)b;
			v = o.sack[b].left + x->ack_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, off, o.sack[b].left, v);
			tm_put32(tcp + off, v);
			v = o.sack[b].right + x->ack_delta;
			tdiff = tm_csum_diff_be32_at(tdiff, off + 4, o.sack[b].right, v);
			tm_put32(tcp + off + 4, v);
		}
	}

	if (x->family == TM_AF_INET && (x->flags & (TM_XL_SADDR | TM_XL_DADDR))) {
		__u16 *ipcheck = (__u16 *)(l3 + 10);

		*ipcheck = tm_csum_apply(*ipcheck, pdiff);
	}
	if (csum_partial)
		th->check = tm_csum_apply_partial(th->check, pdiff);
	else
		th->check = tm_csum_apply(th->check, pdiff + tdiff);
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
