/* Every packet the gateway crafts (RSTs, ACKs, window updates, replayed SYNs), sent on raw sockets. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tcpmig/build.h>

#include "tcpmigd.h"

static int raw4 = -1, raw6 = -1;

int craft_init(void)
{
	raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw4 < 0) {
		log_warn("raw IPv4 socket");
		return -1;
	}
	raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw6 < 0) {
		log_warn("raw IPv6 socket");
		return -1;
	}
	return 0;
}

void craft_fini(void)
{
	if (raw4 >= 0)
		close(raw4);
	if (raw6 >= 0)
		close(raw6);
	raw4 = raw6 = -1;
}

int craft_send(const uint8_t *pkt, int len, int family)
{
	ssize_t n;

	if (len <= 0)
		return -1;
	if (family == TM_AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, pkt + 16, 4);
		n = sendto(raw4, pkt, (size_t)len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		memcpy(&sin6.sin6_addr, pkt + 24, 16);
		n = sendto(raw6, pkt, (size_t)len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (n != len) {
		g_cnt.crafted_send_errors++;
		log_warn("sending crafted packet");
		return -1;
	}
	return 0;
}

static void to_endpoint(const struct tm_endpoint_cfg *c, struct tm_endpoint *e)
{
	e->addr = c->addr;
	e->port = c->port;
}

int craft_rst_client(const struct flow *f)
{
	struct tm_flow_key rk;
	struct tm_endpoint to;
	uint8_t buf[128];

	tm_flow_key_reverse(&rk, &f->ckey); /* service -> client */
	to.addr = f->ckey.saddr;
	to.port = f->ckey.sport;
	return craft_send(buf, tm_build_rst(buf, sizeof(buf), &rk, &to, f->st.s.nxt),
			  f->ckey.family);
}

int craft_rst_backend(const struct flow *f, const struct tm_endpoint_cfg *ep, __u32 seq)
{
	struct tm_endpoint to;
	uint8_t buf[128];

	to_endpoint(ep, &to);
	return craft_send(buf, tm_build_rst(buf, sizeof(buf), &f->ckey, &to, seq), f->ckey.family);
}

int craft_rst_tuple(const struct tm_flow_key *from, __u32 seq)
{
	struct tm_flow_key k;
	struct tm_endpoint to;
	uint8_t buf[128];

	k = *from;
	to.addr = from->daddr;
	to.port = from->dport;
	return craft_send(buf, tm_build_rst(buf, sizeof(buf), &k, &to, seq), from->family);
}

int craft_reset_both(const struct flow *f)
{
	int r1 = craft_rst_backend(f, &f->backend, f->st.c.nxt);
	int r2 = craft_rst_client(f);

	g_cnt.crafted_rst += 2;
	return r1 ? r1 : r2;
}

/* Timestamps a crafted segment carries: only when both ends use them. */
static void seg_ts(const struct flow *f, struct tm_seg_spec *s, __u32 tsval, __u32 tsecr)
{
	if (f->st.s.ts_seen && f->st.c.ts_seen) {
		s->opts.present = TM_HAS_TS;
		s->opts.tsval = tsval;
		s->opts.tsecr = tsecr;
	}
}

int craft_ack_client(const struct flow *f, __u32 seq, __u32 ack, __u16 win, __u32 tsval)
{
	struct tm_seg_spec s = { 0 };
	uint8_t buf[128];

	s.family = (__u8)f->ckey.family;
	s.flags = TM_TCP_ACK;
	s.saddr = f->svc->vip.addr;
	s.sport = f->svc->vip.port;
	s.daddr = f->ckey.saddr;
	s.dport = f->ckey.sport;
	s.seq = seq;
	s.ack = ack;
	s.window = win;
	seg_ts(f, &s, tsval, f->st.c.tsval);
	return craft_send(buf, tm_build_segment(buf, sizeof(buf), &s), f->ckey.family);
}

int craft_ack_backend(const struct flow *f, __u32 seq, __u32 ack, __u16 win)
{
	struct tm_seg_spec s = { 0 };
	uint8_t buf[128];
	struct tm_pkt p;
	int len;

	/* Built as the client would send it to the service, then translated like its segments. */
	s.family = (__u8)f->ckey.family;
	s.flags = TM_TCP_ACK;
	s.saddr = f->ckey.saddr;
	s.sport = f->ckey.sport;
	s.daddr = f->svc->vip.addr;
	s.dport = f->svc->vip.port;
	s.seq = seq;
	s.ack = ack;
	s.window = win;
	seg_ts(f, &s, f->st.c.tsval, f->st.s.tsval);
	len = tm_build_segment(buf, sizeof(buf), &s);
	if (len <= 0 || tm_pkt_parse(&p, buf, (size_t)len) ||
	    tm_xlate_apply(&f->c2s, p.l3, (__u8 *)p.tcp, p.end, 0))
		return -1;
	return craft_send(buf, len, f->ckey.family);
}

/*
 * Both ends' real windows again, at once: after a pause (zero or frozen windows) a sender sits in
 * persist mode with a backed-off probe timer; a pure ACK that opens the window makes it send now.
 * Each carries the peer's latest acknowledgment and the sequence its peer expects, so it changes
 * nothing but the window (RFC 9293 3.10.7.4: SND.WL1/WL2 let it update the window).
 */
void craft_window_updates(const struct flow *f)
{
	const struct tm_flow_state *st = &f->st;

	/* s.win is what the client saw: the paused window, if the pause rewrote it. */
	__u16 swin = f->s_win_real ? f->s_win_real : (__u16)st->s.win;

	if (craft_ack_client(f, st->s.nxt, st->c.una, swin, st->s.tsval) == 0)
		g_cnt.crafted_winupdate++;
	if (craft_ack_backend(f, st->c.nxt, st->s.una, (__u16)st->c.win) == 0)
		g_cnt.crafted_winupdate++;
}

int craft_replay_syn(const struct flow *f, const struct tm_endpoint_cfg *to,
		     const struct tm_flow_state *st)
{
	struct tm_endpoint e;
	uint8_t buf[128];

	to_endpoint(to, &e);
	return craft_send(buf,
			  tm_build_replay_syn(buf, sizeof(buf), &f->ckey, &e, st, g_conf->mss_clamp),
			  f->ckey.family);
}

int craft_third_ack(const struct flow *f, const struct tm_endpoint_cfg *to,
		    const struct tm_flow_state *st, __u32 isn2, __u32 t2,
		    const struct tm_synopts *syn2)
{
	struct tm_endpoint e;
	uint8_t buf[128];

	to_endpoint(to, &e);
	return craft_send(
	    buf, tm_build_third_ack(buf, sizeof(buf), &f->ckey, &e, st, isn2, t2, syn2),
	    f->ckey.family);
}
