/* Fast path header parsing: Ethernet + IPv4/IPv6 + TCP fixed headers, linearised on demand,
 * into a flow key and offsets.  Every access is checked against data_end right before it. */
#ifndef TCPMIG_BPF_PARSE_H
#define TCPMIG_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "../fast.h"

/* What the parse found; offsets are from skb->data (the Ethernet header). */
struct fast_pkt {
	__u32 l3_len;  /* IP header incl. IPv4 options: 20..60 or 40 */
	__u32 tcp_off; /* ETH_HLEN + l3_len */
	__u32 hlen;    /* TCP header incl. options: 20..60 */
	__u32 payload; /* TCP payload bytes, from the IP length field (link padding excluded) */
	__u8 family;
	__u8 tcp_flags;
};

/*
 * Make the first @need bytes linear (direct access only sees skb->data..data_end).  Headers are
 * normally linear already (GRO and the stack pull them); a pull moves bytes from the frags and
 * invalidates every packet pointer, so callers re-read skb->data after.  0 or a punt reason.
 */
static __always_inline int fast_pull(struct __sk_buff *skb, __u32 need)
{
	if ((long)skb->data + need <= (long)skb->data_end)
		return 0;
	if (need > skb->len)
		return TM_FAST_PUNT_TRUNC;
	return bpf_skb_pull_data(skb, need) ? TM_FAST_PUNT_PULL : 0;
}

static __always_inline int fast_ip6_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return 1;
	}
	return 0;
}

/* IPv4 header at ETH_HLEN: key addresses, header length, total length.  0 or a punt reason. */
static __always_inline int fast_parse_ip4(struct __sk_buff *skb, struct fast_pkt *fp,
					  struct tm_fast_key *k, __u32 *ip_len)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *iph = data + ETH_HLEN;

	if ((void *)(iph + 1) > data_end)
		return TM_FAST_PUNT_TRUNC;
	if (iph->ihl < 5)
		return TM_FAST_PUNT_MALFORMED;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF or an offset: no whole TCP header here */
		return TM_FAST_PUNT_FRAG;
	if (iph->protocol != IPPROTO_TCP)
		return TM_FAST_PUNT_NOT_TCP;
	*ip_len = bpf_ntohs(iph->tot_len);
	if (*ip_len == 0) /* BIG TCP: tot_len 0, the length is skb->len */
		return TM_FAST_PUNT_JUMBO;
	fp->l3_len = (__u32)iph->ihl * 4;
	fp->family = TM_AF_INET;
	k->saddr.w[0] = iph->saddr;
	k->daddr.w[0] = iph->daddr;
	return 0;
}

static __always_inline int fast_parse_ip6(struct __sk_buff *skb, struct fast_pkt *fp,
					  struct tm_fast_key *k, __u32 *ip_len)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;

	if ((void *)(ip6 + 1) > data_end)
		return TM_FAST_PUNT_TRUNC;
	if (ip6->nexthdr != IPPROTO_TCP) {
		if (ip6->nexthdr == IPPROTO_FRAGMENT)
			return TM_FAST_PUNT_FRAG;
		return fast_ip6_ext(ip6->nexthdr) ? TM_FAST_PUNT_IP6_EXT : TM_FAST_PUNT_NOT_TCP;
	}
	if (ip6->payload_len == 0) /* jumbogram / BIG TCP */
		return TM_FAST_PUNT_JUMBO;
	*ip_len = (__u32)bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	fp->l3_len = sizeof(*ip6);
	fp->family = TM_AF_INET6;
	__builtin_memcpy(k->saddr.w, &ip6->saddr, 16);
	__builtin_memcpy(k->daddr.w, &ip6->daddr, 16);
	return 0;
}

/*
 * Parse the headers of @skb into @fp and the directed key @k (which the caller zeroed).  On
 * success the Ethernet, IP and whole TCP header (options included) are linear.  0 or a punt
 * reason; the packet is never modified (a pull only moves bytes into the linear part).
 */
static __always_inline int fast_parse(struct __sk_buff *skb, struct fast_pkt *fp,
				      struct tm_fast_key *k)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct tm_tcphdr *th;
	__u32 ip_len = 0, need;
	int r;

	need = ETH_HLEN + sizeof(struct ipv6hdr);
	r = fast_pull(skb, need < skb->len ? need : skb->len);
	if (r)
		return r;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TM_FAST_PUNT_TRUNC;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		r = fast_parse_ip4(skb, fp, k, &ip_len);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		r = fast_parse_ip6(skb, fp, k, &ip_len);
	else
		r = TM_FAST_PUNT_NOT_IP;
	if (r)
		return r;
	k->family = fp->family;

	fp->tcp_off = ETH_HLEN + fp->l3_len;
	r = fast_pull(skb, fp->tcp_off + TM_TCP_HLEN);
	if (r)
		return r;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	th = data + fp->tcp_off;
	if ((void *)(th + 1) > data_end)
		return TM_FAST_PUNT_TRUNC;
	fp->hlen = (__u32)(th->doff_res >> 4) * 4;
	fp->tcp_flags = th->flags;
	k->sport = bpf_ntohs(th->sport);
	k->dport = bpf_ntohs(th->dport);
	if (fp->hlen < TM_TCP_HLEN || ip_len < fp->l3_len + fp->hlen)
		return TM_FAST_PUNT_MALFORMED;
	if (ETH_HLEN + ip_len > skb->len)
		return TM_FAST_PUNT_TRUNC;
	fp->payload = ip_len - fp->l3_len - fp->hlen;
	return fast_pull(skb, fp->tcp_off + fp->hlen);
}

#endif
