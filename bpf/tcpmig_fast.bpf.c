/* tcpmig_fast.bpf.c: tc (clsact) fast path of the gateway: translates offloaded flows in the
 * kernel with libtcpmig's own tm_xlate_rewrite(), punts everything else to the slow path. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <tcpmig/xlate.h>

#include "fast.h"
#include "lib/parse.h"

char LICENSE[] SEC("license") = "GPL";

/* Set before load by the loader.  Translated packets get skb->mark = (mark & ~mask) | mark_value,
 * so netfilter rules can keep them out of the NFQUEUE slow path; mask 0 leaves the mark alone. */
const volatile __u32 tm_fast_mark_value = 0;
const volatile __u32 tm_fast_mark_mask = 0;

/* Not preallocated: memory follows the number of offloaded flows, max_entries is only a cap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TM_FAST_FLOWS_MAX);
	__type(key, struct tm_fast_key);
	__type(value, struct tm_fast_flow);
} tm_fast_flows SEC(".maps");

/* For the daemon only (re-adoption after a restart), keyed by cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TM_FAST_FLOWS_MAX / 2);
	__type(key, __u64);
	__type(value, struct tm_fast_meta);
} tm_fast_meta SEC(".maps");

/* Per-flow gates of the take-back (struct tm_fast_gate); max_entries set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TM_FAST_FLOWS_MAX / 2);
	__type(key, __u32);
	__type(value, struct tm_fast_gate);
} tm_fast_gate SEC(".maps");

/* The daemon's heartbeat (struct tm_fast_daemon). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tm_fast_daemon);
} tm_fast_daemon SEC(".maps");

/* No heartbeat for TM_FAST_ORPHAN_NS: no daemon takes punted packets. */
static __always_inline int fast_orphaned(void)
{
	__u32 zero = 0;
	struct tm_fast_daemon *d = bpf_map_lookup_elem(&tm_fast_daemon, &zero);
	__u64 alive;

	if (!d)
		return 0;
	alive = *(volatile __u64 *)&d->alive_ns;
	return !alive || bpf_ktime_get_ns() - alive > TM_FAST_ORPHAN_NS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TM_FAST_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tm_fast_stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tm_fast_stats, &idx);

	if (v)
		*v += 1;
}

/* *field = v when v is later (mod 2^32); a compare-and-swap so that two CPUs racing on one
 * flow cannot move it back.  A few tries: losing them all means others moved it forward. */
static __always_inline void serial_max(__u32 *field, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++) {
		__u32 old = *(volatile __u32 *)field;

		if (!tm_seq_gt(v, old))
			return;
		if (__sync_val_compare_and_swap(field, old, v) == old)
			return;
	}
}

static __always_inline void side_advance(struct tm_fast_side *st, __u32 bit, __u32 *field, __u32 v)
{
	if (st->seen & bit) {
		serial_max(field, v);
		return;
	}
	*field = v;
	__sync_fetch_and_or(&st->seen, bit);
}

/* The fields of one segment that the state keeps, in the client's view. */
struct fast_seg {
	__u32 seq;
	__u32 ack;
	__u32 win;
	__u32 tsval;
	__u32 tsecr;
};

static __always_inline void fast_seg_read(struct fast_seg *s, const struct tm_tcphdr *th)
{
	s->seq = bpf_ntohl(th->seq);
	s->ack = bpf_ntohl(th->ack);
	s->win = bpf_ntohs(th->window);
}

static __always_inline void fast_observe(struct tm_fast_side *st, const struct fast_seg *s,
					 const struct fast_pkt *fp, int has_ts)
{
	__sync_fetch_and_add(&st->pkts, 1);
	__sync_fetch_and_add(&st->bytes, fp->payload);
	st->last_ns = bpf_ktime_get_coarse_ns();
	if (fp->payload)
		st->data_ns = bpf_ktime_get_ns();
	/* A FIN takes a sequence number (only translated here without a daemon): the peer's ACK
	 * of it must not look implausible. */
	side_advance(st, TM_FAST_SEEN_NXT, &st->nxt,
		     s->seq + fp->payload + ((fp->tcp_flags & TM_TCP_FIN) ? 1 : 0));
	if (fp->tcp_flags & TM_TCP_ACK) {
		side_advance(st, TM_FAST_SEEN_ACK, &st->ack, s->ack);
		st->win = s->win;
	}
	if (has_ts) {
		side_advance(st, TM_FAST_SEEN_TS, &st->tsval, s->tsval);
		st->tsecr = s->tsecr;
	}
}

/*
 * The slow path's "acknowledges data the peer never sent" check (tcpmigd(8), SECURITY), with the
 * slow path's answer: counted and dropped.  Punting instead would hand the daemon a flow whose
 * model is stale and whose take-back opens the drain window (fast.c).  The peer
 * direction's entry is keyed by the reverse of this packet's translated tuple, and its nxt is, in
 * the client's view, the end of what the gateway forwarded the other way.  A client->server ack
 * is in the client's view before translation, a server->client one after (ack_delta).  No peer
 * entry (a take-back deleting the pair) means no opinion: the daemon's own check then applies.
 * The peer's nxt moves before its segment leaves this hook, so a real ACK can never lead it.
 */
static __always_inline int fast_ack_implausible(const struct tm_fast_flow *f,
						const struct tm_fast_key *key,
						const struct tm_tcphdr *th)
{
	struct tm_fast_key rk = {};
	struct tm_fast_flow *peer;
	__u32 ack;

	rk.family = key->family;
	rk.daddr = (f->x.flags & TM_XL_SADDR) ? f->x.saddr : key->saddr;
	rk.saddr = (f->x.flags & TM_XL_DADDR) ? f->x.daddr : key->daddr;
	rk.dport = (f->x.flags & TM_XL_SPORT) ? f->x.sport : key->sport;
	rk.sport = (f->x.flags & TM_XL_DPORT) ? f->x.dport : key->dport;
	peer = bpf_map_lookup_elem(&tm_fast_flows, &rk);
	if (!peer || !(peer->st.seen & TM_FAST_SEEN_NXT))
		return 0;
	ack = bpf_ntohl(th->ack);
	if (f->dir == TM_FAST_DIR_S2C)
		ack += f->x.ack_delta;
	return tm_seq_gt(ack, *(volatile __u32 *)&peer->st.nxt);
}

/*
 * Checksums, the kernel way: the helpers know skb->ip_summed.  The IPv4 header checksum takes the
 * address diff.  The TCP checksum takes it as a pseudo-header change (BPF_F_PSEUDO_HDR: folded
 * into a CHECKSUM_PARTIAL field, skb->csum kept right for CHECKSUM_COMPLETE) and the TCP header
 * diff as a plain one (ignored for CHECKSUM_PARTIAL: the header is summed at transmit).  Size 0
 * means "to is a diff" (inet_proto_csum_replace_by_diff()).  BPF_F_IPV6 (Linux 6.16, and the
 * stable kernels it went back to) keeps skb->csum untouched for IPv6, which has no header
 * checksum to compensate; older kernels reject the flag, and then skb->csum is put back with
 * bpf_csum_update().
 */
static __always_inline int fast_csum(struct __sk_buff *skb, const struct fast_pkt *fp,
				     const struct tm_xlate_diff *d)
{
	__u32 check_off = fp->tcp_off + 16;
	int r;

	if (d->pdiff) {
		if (fp->family == TM_AF_INET) {
			if (bpf_l3_csum_replace(skb, ETH_HLEN + 10, 0, d->pdiff, 0))
				return -1;
			r = bpf_l4_csum_replace(skb, check_off, 0, d->pdiff, BPF_F_PSEUDO_HDR);
		} else {
			r = bpf_l4_csum_replace(skb, check_off, 0, d->pdiff,
						BPF_F_PSEUDO_HDR | BPF_F_IPV6);
			if (r == -22 /* EINVAL: no BPF_F_IPV6 here */) {
				r = bpf_l4_csum_replace(skb, check_off, 0, d->pdiff,
							BPF_F_PSEUDO_HDR);
				if (!r)
					bpf_csum_update(skb, d->pdiff);
			}
		}
		if (r)
			return -1;
	}
	if (d->tdiff && bpf_l4_csum_replace(skb, check_off, 0, d->tdiff, 0))
		return -1;
	return 0;
}

/*
 * One step of the TCP option walk, verified once on its own: a global (non-static, noinline)
 * function is checked with unknown arguments, not once per caller state.  Inlined, the walk of
 * tm_tcpopt_parse() makes the verifier follow every option layout separately and it gives up
 * (1M instructions).  Global functions cannot take packet pointers, hence skb + offset.
 */
__attribute__((noinline)) int tm_fast_opt_step(struct __sk_buff *skb, __u32 tcp_off, __u32 off,
					       __u32 hlen, struct tm_tcpopts *o)
{
	__u8 *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	if (!o || tcp_off > ETH_HLEN + 60 || off > TM_TCP_HLEN + TM_TCP_MAXOPT ||
	    hlen > TM_TCP_HLEN + TM_TCP_MAXOPT)
		return -TM_OPT_EOVERRUN;
	return tm_tcpopt_step(data + tcp_off, off, hlen, end, o);
}

/*
 * tm_tcpopt_parse() of the TCP header at @fp->tcp_off: the same init, bounds and steps, only the
 * loop is spelled here, around the separately verified step.  0 or -enum tm_opt_err.
 */
static __always_inline int fast_parse_opts(struct __sk_buff *skb, const struct fast_pkt *fp,
					   const __u8 *tcp, const __u8 *end, struct tm_tcpopts *o)
{
	int off = TM_TCP_HLEN, err, i;

	tm_tcpopt_init(o);
	err = tm_tcpopt_bounds(tcp, fp->hlen, end);
	if (err)
		return err;
	for (i = 0; i < TM_TCP_MAXOPT; i++) {
		off = tm_fast_opt_step(skb, fp->tcp_off, (__u32)off, fp->hlen, o);
		if (off <= 0)
			return off;
	}
	return 0;
}

/* The IP and TCP headers, from skb->data; 0 or a punt reason.  Call again after anything that
 * may move packet data (helpers, subprograms that could). */
static __always_inline int fast_hdrs(struct __sk_buff *skb, const struct fast_pkt *fp, __u8 **l3,
				     __u8 **tcp, __u8 **end)
{
	__u8 *data = (void *)(long)skb->data;

	*end = (void *)(long)skb->data_end;
	*l3 = data + ETH_HLEN;
	*tcp = *l3 + (fp->l3_len & 0x3c);
	/* 40 bytes: the largest address rewrite (IPv6), no more than any IPv4 TCP packet has. */
	if (*l3 + TM_IP6_HLEN > *end || *tcp + TM_TCP_HLEN > *end)
		return TM_FAST_PUNT_TRUNC;
	return 0;
}

/* One packet of offloaded entry @f (its gate open): translate it or say why not. */
static __always_inline int fast_flow(struct __sk_buff *skb, const struct fast_pkt *fp,
				     const struct tm_fast_key *key, struct tm_fast_flow *f)
{
	struct tm_xlate_diff d;
	struct fast_seg seg;
	struct tm_tcphdr *th;
	__u8 *l3, *tcp, *end;
	int r, done = TM_FAST_XLATED;

	if (fp->tcp_flags & TM_TCP_SYN)
		return TM_FAST_PUNT_SYN;
	/* FIN and RST are the daemon's (it tracks the close, checks an RST), unless there is none:
	 * then translating them is the only way the flow can end cleanly. */
	if (fp->tcp_flags & (TM_TCP_FIN | TM_TCP_RST)) {
		if (!fast_orphaned())
			return fp->tcp_flags & TM_TCP_FIN ? TM_FAST_PUNT_FIN : TM_FAST_PUNT_RST;
		done = TM_FAST_XLATED_ORPHAN;
	}
	if (f->x.family != fp->family || f->dir > TM_FAST_DIR_S2C)
		return TM_FAST_PUNT_BAD_ENTRY;

	/* tm_xlate_rewrite(), part by part: header checks, option parse, rewrite. */
	d.pdiff = d.tdiff = 0;
	r = fast_hdrs(skb, fp, &l3, &tcp, &end);
	if (r)
		return r;
	if (tm_xlate_hdr(&f->x, l3, tcp, end) != (int)fp->hlen)
		return TM_FAST_PUNT_TRUNC; /* fast_parse() checked the same: cannot happen */
	if (fast_parse_opts(skb, fp, tcp, end, &d.opts))
		return TM_FAST_PUNT_BAD_OPT;
	r = fast_hdrs(skb, fp, &l3, &tcp, &end);
	if (r)
		return r;
	th = (struct tm_tcphdr *)tcp;
	/* After the option parse, as in the slow path: a malformed packet counts as malformed. */
	if ((fp->tcp_flags & TM_TCP_ACK) && fast_ack_implausible(f, key, th))
		return TM_FAST_DROP_BAD_ACK;
	fast_seg_read(&seg, th);
	if (tm_xlate_rewrite_opts(&f->x, l3, tcp, end, &d))
		return TM_FAST_DROP_REWRITE; /* only after another header's parse: cannot happen */
	seg.tsval = d.opts.tsval;
	seg.tsecr = d.opts.tsecr;
	if (f->dir == TM_FAST_DIR_S2C) {
		/* Server->client: the client's view is the translated segment. */
		fast_seg_read(&seg, th);
		if (d.opts.present & TM_HAS_TS) {
			__u8 *p = tcp + d.opts.ts_off;

			if (p + 8 > end)
				return TM_FAST_DROP_REWRITE; /* checked by the rewrite */
			seg.tsval = tm_get32(p);
			seg.tsecr = tm_get32(p + 4);
		}
	}

	/* Packet pointers are invalid from here: the helpers may move the data. */
	if (fast_csum(skb, fp, &d))
		return TM_FAST_DROP_REWRITE;
	if (tm_fast_mark_mask)
		skb->mark = (skb->mark & ~tm_fast_mark_mask) | tm_fast_mark_value;
	fast_observe(&f->st, &seg, fp, !!(d.opts.present & TM_HAS_TS));
	if (done == TM_FAST_XLATED_ORPHAN)
		__sync_fetch_and_or(&f->st.seen, (fp->tcp_flags & TM_TCP_FIN) ? TM_FAST_SEEN_FIN
									     : TM_FAST_SEEN_RST);
	return done;
}

static __always_inline int fast_handle(struct __sk_buff *skb)
{
	struct tm_fast_key key = {};
	struct fast_pkt fp = {};
	struct tm_fast_gate *g;
	struct tm_fast_flow *f;
	__u32 slot;
	int r;

	r = fast_parse(skb, &fp, &key);
	if (r)
		return r;
	f = bpf_map_lookup_elem(&tm_fast_flows, &key);
	if (!f)
		return TM_FAST_PUNT_NO_FLOW;
	if (f->flags & TM_FAST_F_PAUSE)
		return TM_FAST_PUNT_PAUSED;
	slot = f->gate;
	g = bpf_map_lookup_elem(&tm_fast_gate, &slot);
	if (!g)
		return TM_FAST_PUNT_BAD_ENTRY;
	/*
	 * Count this run in, then look at the gate (struct tm_fast_gate).  The fetch variant of the
	 * atomic is fully ordered (the value is used for that: without a use clang emits the
	 * unordered add), so the gate is read after the count is visible to the daemon.
	 */
	if (__sync_fetch_and_add(&f->inflight, 1) > TM_FAST_INFLIGHT_SANE) {
		__sync_fetch_and_add(&f->inflight, -1);
		return TM_FAST_PUNT_BAD_ENTRY;
	}
	if (*(volatile __u32 *)&g->closed)
		r = TM_FAST_PUNT_PAUSED;
	else
		r = fast_flow(skb, &fp, &key, f);
	/* Fully ordered too (a release): the state updates above are seen before the count drops.
	 * It was 0 only if the entry was rewritten under this run. */
	if (__sync_fetch_and_add(&f->inflight, -1) == 0 && r == TM_FAST_XLATED)
		r = TM_FAST_PUNT_BAD_ENTRY;
	return r;
}

SEC("tc")
int tcpmig_fast(struct __sk_buff *skb)
{
	int r = fast_handle(skb);

	stat_inc((__u32)r);
	return r == TM_FAST_DROP_REWRITE || r == TM_FAST_DROP_BAD_ACK ? TC_ACT_SHOT : TC_ACT_OK;
}
