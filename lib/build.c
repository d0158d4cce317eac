/* Packet builders: generic segment, replayed SYN, third ACK, RST (DESIGN.md §3 steps 3, 5, 7). */
#include <string.h>

#include <tcpmig/build.h>
#include <tcpmig/csum.h>
#include <tcpmig/pkt.h>

int tm_build_segment(__u8 *buf, size_t cap, const struct tm_seg_spec *s)
{
	__u8 opts[TM_TCP_MAXOPT];
	int olen, l3 = s->family == TM_AF_INET ? TM_IP4_HLEN : TM_IP6_HLEN;
	struct tm_tcphdr *th;
	struct tm_pkt p;
	__u32 len;

	if (s->flags & TM_TCP_SYN)
		olen = tm_tcpopt_write_syn(opts, sizeof(opts), &s->opts);
	else
		olen = tm_tcpopt_write_ts(opts, sizeof(opts), &s->opts);
	if (olen < 0)
		return -1;
	len = (__u32)(l3 + TM_TCP_HLEN + olen);
	if (len > cap)
		return -1;
	memset(buf, 0, len);
	if (s->family != TM_AF_INET && s->family != TM_AF_INET6)
		return -1;
	if (s->family == TM_AF_INET) {
		buf[0] = 0x45;
		tm_put16(buf + 2, (__u16)len);
		tm_put16(buf + 6, 0x4000); /* DF */
		buf[8] = s->ttl ? s->ttl : 64;
		buf[9] = 6;
		memcpy(buf + 12, &s->saddr.w[0], 4);
		memcpy(buf + 16, &s->daddr.w[0], 4);
	} else {
		buf[0] = 0x60;
		tm_put16(buf + 4, (__u16)(len - TM_IP6_HLEN));
		buf[6] = 6;
		buf[7] = s->ttl ? s->ttl : 64;
		memcpy(buf + 8, s->saddr.w, 16);
		memcpy(buf + 24, s->daddr.w, 16);
	}
	th = (struct tm_tcphdr *)(buf + l3);
	th->sport = tm_htons(s->sport);
	th->dport = tm_htons(s->dport);
	th->seq = tm_htonl(s->seq);
	th->ack = tm_htonl(s->ack);
	th->doff_res = (__u8)(((TM_TCP_HLEN + olen) / 4) << 4);
	th->flags = s->flags;
	th->window = tm_htons(s->window);
	memcpy(buf + l3 + TM_TCP_HLEN, opts, (size_t)olen);
	if (tm_pkt_parse(&p, buf, len))
		return -1;
	tm_csum_ip4_full(&p);
	tm_csum_tcp_full(&p);
	return (int)len;
}

static void spec_from_client(struct tm_seg_spec *s, const struct tm_flow_key *ck,
			     const struct tm_endpoint *to)
{
	memset(s, 0, sizeof(*s));
	s->family = ck->family;
	s->saddr = ck->saddr;
	s->sport = ck->sport;
	s->daddr = to->addr;
	s->dport = to->port;
}

int tm_build_replay_syn(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
			const struct tm_endpoint *to, const struct tm_flow_state *f,
			__u16 mss_clamp)
{
	const struct tm_synopts *cs = &f->c.syn, *ss = &f->s.syn;
	struct tm_seg_spec s;
	__u32 granted;

	spec_from_client(&s, client_key, to);
	s.flags = TM_TCP_SYN;
	s.seq = f->c.nxt - 1;
	s.window = cs->window;
	/* Offer only what B1 granted: the client never agreed to anything else. */
	granted = cs->present & ss->present;
	if (!(cs->present & TM_HAS_WSCALE) || !(ss->present & TM_HAS_WSCALE))
		granted &= ~TM_HAS_WSCALE;
	s.opts.present = granted | (cs->present & TM_HAS_MSS);
	s.opts.mss = cs->mss;
	if (mss_clamp && (!(cs->present & TM_HAS_MSS) || mss_clamp < cs->mss)) {
		s.opts.present |= TM_HAS_MSS;
		s.opts.mss = mss_clamp;
	}
	s.opts.wscale = cs->wscale;
	s.opts.tsval = f->c.tsval;
	s.opts.tsecr = 0;
	return tm_build_segment(buf, cap, &s);
}

int tm_build_third_ack(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
		       const struct tm_endpoint *to, const struct tm_flow_state *f, __u32 isn2,
		       __u32 t2, const struct tm_synopts *target)
{
	struct tm_seg_spec s;
	__u32 win = f->c.win;
	int scaled = (f->c.syn.present & TM_HAS_WSCALE) && (f->s.syn.present & TM_HAS_WSCALE);

	spec_from_client(&s, client_key, to);
	s.flags = TM_TCP_ACK;
	s.seq = f->c.nxt;
	s.ack = isn2 + 1;
	if (scaled && !(target->present & TM_HAS_WSCALE)) {
		win <<= f->c.syn.wscale;
		if (win > 0xffff)
			win = 0xffff;
	}
	s.window = (__u16)win;
	if (target->present & TM_HAS_TS) {
		s.opts.present = TM_HAS_TS;
		s.opts.tsval = f->c.tsval;
		s.opts.tsecr = t2;
	}
	return tm_build_segment(buf, cap, &s);
}

int tm_build_rst(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
		 const struct tm_endpoint *to, __u32 seq)
{
	struct tm_seg_spec s;

	spec_from_client(&s, client_key, to);
	s.flags = TM_TCP_RST;
	s.seq = seq;
	return tm_build_segment(buf, cap, &s);
}
