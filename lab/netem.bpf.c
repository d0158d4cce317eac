/* netem.bpf.c: tc (clsact) loss + reorder injector, seeded per-CPU PRNG (no sch_netem here). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netem.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netem_cfg);
} netem_cfg SEC(".maps");

/* Counters: enum netem_stat slots counted here, then enum netem_ustat slots written by the
 * delayer (into CPU 0's copy), so one map holds everything a reader needs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETEM_ST_MAX + NETEM_US_MAX);
	__type(key, __u32);
	__type(value, __u64);
} netem_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netem_rng);
} netem_rng SEC(".maps");

/* Per-CPU copy buffer, indexed by CPU: too big for a per-CPU map value (32 KiB limit).  The
 * loader sets max_entries to the number of possible CPUs.  No nesting on one CPU: tc runs
 * with bottom halves disabled. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netem_scratch);
} netem_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} netem_rb SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&netem_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u64 splitmix64(__u64 x)
{
	__u64 z = x + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __always_inline __u64 rng_next(struct netem_rng *r)
{
	__u64 x = r->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* true with probability ppm / 1e6 */
static __always_inline int rng_below(__u64 r, __u32 ppm)
{
	return ((r >> 32) * NETEM_PPM >> 32) < ppm;
}

/* TCP with at least one payload byte?  Only the headers right after IPv4/IPv6 are looked at. */
static __always_inline int is_tcp_data(struct __sk_buff *skb)
{
	struct ethhdr eth;
	struct iphdr ip4;
	struct ipv6hdr ip6;
	struct tcphdr th;
	__u32 l4, l4_len;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return 0;
	if (eth.h_proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip4, sizeof(ip4)) ||
		    ip4.protocol != IPPROTO_TCP || ip4.ihl < 5)
			return 0;
		l4 = sizeof(eth) + ip4.ihl * 4;
		l4_len = bpf_ntohs(ip4.tot_len) - ip4.ihl * 4;
	} else if (eth.h_proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip6, sizeof(ip6)) ||
		    ip6.nexthdr != IPPROTO_TCP)
			return 0;
		l4 = sizeof(eth) + sizeof(ip6);
		l4_len = bpf_ntohs(ip6.payload_len);
		if (l4_len == 0) /* BIG TCP jumbogram: payload for sure */
			return 1;
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)))
		return 0;
	return l4_len > th.doff * 4u;
}

/* Copy the packet to the delayer.  0 on success (caller drops the original). */
static __always_inline int hold_packet(struct __sk_buff *skb, const struct netem_cfg *cfg)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct netem_scratch *s = bpf_map_lookup_elem(&netem_scratch, &cpu);
	__u64 len = skb->len; /* 64-bit: the verifier must see the bounds on the register passed */

	if (!s || len == 0 || len > NETEM_MAX_PKT)
		return -1;
	s->hdr.release_ns = bpf_ktime_get_ns() + (__u64)cfg->delay_us * 1000;
	s->hdr.len = len;
	s->hdr.ifindex = skb->ifindex;
	s->hdr.gso_size = skb->gso_size;
	s->hdr.gso_segs = skb->gso_segs;
	if (bpf_skb_load_bytes(skb, 0, s->data, len))
		return -1;
	return bpf_ringbuf_output(&netem_rb, s, sizeof(s->hdr) + len, 0) ? -1 : 0;
}

SEC("tc")
int netem_tc(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct netem_cfg *cfg = bpf_map_lookup_elem(&netem_cfg, &zero);
	struct netem_rng *rng = bpf_map_lookup_elem(&netem_rng, &zero);
	__u64 r_loss, r_reorder;

	/* TC_ACT_UNSPEC, not TC_ACT_OK: let the next filter (tcpmigd's) see the packet. */
	if (!cfg || !rng)
		return TC_ACT_UNSPEC;
	stat_inc(NETEM_ST_SEEN);
	if (cfg->reinject_mark && skb->mark == cfg->reinject_mark) {
		skb->mark = 0;
		stat_inc(NETEM_ST_REINJECTED);
		return TC_ACT_UNSPEC;
	}
	if ((cfg->flags & NETEM_F_TCP_DATA_ONLY) && !is_tcp_data(skb))
		return TC_ACT_UNSPEC;
	stat_inc(NETEM_ST_CANDIDATE);

	if (rng->gen != cfg->gen) {
		rng->state =
		    splitmix64(cfg->seed ^ ((__u64)(bpf_get_smp_processor_id() + 1) << 32));
		if (!rng->state)
			rng->state = 1;
		rng->gen = cfg->gen;
	}
	/* Always two draws per candidate, so loss decisions do not depend on the reorder rate. */
	r_loss = rng_next(rng);
	r_reorder = rng_next(rng);
	/*
	 * TC_ACT_STOLEN, not TC_ACT_SHOT: on a host's egress SHOT hands NET_XMIT_DROP back to the
	 * local sender, which then knows of the "loss" (and a held packet, reinjected later, would
	 * count as dropped too).  A lossy link says nothing; STOLEN reports success, as netem does.
	 */
	if (cfg->loss_ppm && rng_below(r_loss, cfg->loss_ppm)) {
		stat_inc(NETEM_ST_DROPPED);
		return TC_ACT_STOLEN;
	}
	if (cfg->reorder_ppm && rng_below(r_reorder, cfg->reorder_ppm)) {
		if (cfg->reinject_mark && cfg->delay_us && hold_packet(skb, cfg) == 0) {
			stat_inc(NETEM_ST_DELAYED);
			return TC_ACT_STOLEN;
		}
		stat_inc(NETEM_ST_DELAY_FAIL);
	}
	return TC_ACT_UNSPEC;
}
