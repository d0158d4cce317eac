/* The gateway data path: classify each queued packet, keep the flow model, translate, police. */
#include <stdlib.h>
#include <string.h>

#include <tcpmig/build.h>
#include <tcpmig/csum.h>

#include "tcpmigd.h"

struct tm_config *g_conf;
static uint64_t last_sweep_ns;

int gw_init(struct tm_config *c)
{
	g_conf = c;
	return craft_init();
}

void gw_fini(void)
{
	craft_fini();
}

static void count_malformed(int err)
{
	switch (-err) {
	case TM_PKT_ETRUNC_L3:
		g_cnt.malformed_ip_truncated++;
		break;
	case TM_PKT_EVERSION:
		g_cnt.malformed_ip_version++;
		break;
	case TM_PKT_EIHL:
		g_cnt.malformed_ip_ihl++;
		break;
	case TM_PKT_ETOTLEN:
		g_cnt.malformed_ip_length++;
		break;
	case TM_PKT_EFRAG:
		g_cnt.malformed_ip_fragment++;
		break;
	case TM_PKT_EEXTHDR:
		g_cnt.malformed_ip6_exthdr++;
		break;
	case TM_PKT_ETRUNC_L4:
		g_cnt.malformed_tcp_truncated++;
		break;
	case TM_PKT_EDOFF:
		g_cnt.malformed_tcp_data_offset++;
		break;
	case TM_PKT_EOPT:
		g_cnt.malformed_tcp_options++;
		break;
	default:
		g_cnt.malformed_other++;
	}
}

/* One log line per malformed packet, at most 10 a second; the counters have them all. */
static void log_malformed(const struct pkt_ctx *x, int err)
{
	static uint64_t window_start;
	static unsigned in_window, suppressed;
	uint64_t now = now_ns();
	char src[64] = "?";

	if (now - window_start >= 1000000000ull) {
		if (suppressed)
			log_warnx("%u more malformed packet(s) dropped without a log line", suppressed);
		window_start = now;
		in_window = suppressed = 0;
	}
	if (++in_window > 10) {
		suppressed++;
		return;
	}
	if (x->p.family)
		tm_addr_port_str(src, sizeof(src), &x->p.saddr, x->p.family,
				 x->p.tcp ? tm_pkt_sport(&x->p) : 0);
	log_warnx("dropped malformed packet from %s (%u bytes): %s%s%s", src, x->len,
		  tm_pkt_strerror(err), err == -TM_PKT_EOPT ? " / " : "",
		  err == -TM_PKT_EOPT ? tm_tcpopt_strerror(x->p.opt_err) : "");
}

static bool xlate_is_identity(const struct tm_xlate *t)
{
	return !t->flags && !t->seq_delta && !t->ack_delta && !t->tsval_delta && !t->tsecr_delta &&
	       !t->win_shift;
}

/*
 * The window (network order) that pauses the sender this segment goes to: its right edge frozen at
 * what that sender has already sent, so it sends nothing new but may still retransmit, with SACK,
 * anything lost in flight.  A zero window would allow only the first unacknowledged segment,
 * once per RTO (Linux __tcp_retransmit_skb()), and a loss would stall the quiescence.  Rounded
 * down to the receiver's scale; never more than offered.  Both directions in the client's view:
 * C2S before translation (the client's scale), S2C after it (the scale the client learned).
 */
static __u16 pause_window(const struct flow *f, const struct pkt_ctx *x, enum tm_dir dir)
{
	const struct tm_side *snd = dir == TM_DIR_C2S ? &f->st.s : &f->st.c;
	__u8 shift = dir == TM_DIR_C2S ? flow_client_c_ws(f) : flow_client_s_ws(f);
	__u32 ack = tm_pkt_ack(&x->p), edge, w;

	if (!(x->p.tcp->flags & TM_TCP_ACK) || !tm_seq_gt(snd->nxt, ack))
		return 0;
	edge = snd->nxt - ack;
	w = edge >> shift;
	if (w > tm_pkt_window(&x->p))
		w = tm_pkt_window(&x->p);
	return tm_htons((__u16)w);
}

static bool apply_pause(struct flow *f, struct pkt_ctx *x, enum tm_dir dir)
{
	__u16 w;

	if (!x->p.tcp->window)
		return false;
	w = pause_window(f, x, dir);
	if (w == x->p.tcp->window)
		return false;
	if (dir == TM_DIR_S2C) /* what the backend really offers, for the end of the pause */
		f->s_win_real = tm_pkt_window(&x->p);
	if (!x->csum_partial)
		x->p.tcp->check = tm_csum_apply(x->p.tcp->check, tm_csum_diff16(0, x->p.tcp->window, w));
	x->p.tcp->window = w;
	return true;
}

/*
 * Rewrite in place.  NFQUEUE turns every mangled packet into CHECKSUM_NONE
 * (nfqnl_mangle), so a packet that came CHECKSUM_PARTIAL must leave with a
 * complete checksum: translate with the partial rules, then sum it all.
 */
static bool rewrite(struct flow *f, struct pkt_ctx *x, enum tm_dir dir)
{
	const struct tm_xlate *t = dir == TM_DIR_C2S ? &f->c2s : &f->s2c;
	bool mangled = false;
	bool pause = dir == TM_DIR_C2S ? f->pause_server : f->pause_client;

	if (pause && dir == TM_DIR_C2S)
		mangled = apply_pause(f, x, dir);
	if (!xlate_is_identity(t)) {
		if (tm_xlate_apply(t, x->p.l3, (__u8 *)x->p.tcp, x->p.end, x->csum_partial))
			return false;
		g_cnt.pkts_translated++;
		mangled = true;
	}
	if (pause && dir == TM_DIR_S2C)
		mangled |= apply_pause(f, x, dir);
	if (mangled && x->csum_partial) {
		if (tm_pkt_parse(&x->p, x->data, x->len))
			return false;
		tm_csum_tcp_full(&x->p);
		g_cnt.pkts_csum_partial++;
	}
	return mangled;
}

static void note_state(const struct flow *f, enum tm_tcp_state was, const struct pkt_ctx *x,
		       enum tm_dir dir)
{
	if (f->st.state != was)
		log_debug("flow %llu: %s -> %s on a %s segment (flags 0x%02x seq %u ack %u)",
			  (unsigned long long)f->id, tm_flow_state_name(was),
			  tm_flow_state_name(f->st.state), dir == TM_DIR_C2S ? "client" : "server",
			  x->p.tcp->flags, tm_pkt_seq(&x->p), tm_pkt_ack(&x->p));
}

static void note_obs(const struct flow *f, enum tm_obs o, const struct pkt_ctx *x)
{
	switch (o) {
	case TM_OBS_RETRANS:
		g_cnt.pkts_retrans++;
		break;
	case TM_OBS_BAD_ACK:
		g_cnt.bad_ack++;
		break;
	case TM_OBS_OUT_OF_WINDOW:
		/* The receiver drops it too (and answers with a duplicate ACK): passed on, but the
		 * model does not believe it. */
		g_cnt.pkts_out_of_window++;
		log_debug("flow %llu: segment outside the receiver's window ignored by the model "
			  "(flags 0x%02x seq %u)",
			  (unsigned long long)f->id, x->p.tcp->flags, tm_pkt_seq(&x->p));
		break;
	case TM_OBS_RST_CHALLENGE:
		g_cnt.rst_challenged++;
		log_debug("flow %llu: RST at seq %u is in the window but not at rcv_nxt: the "
			  "endpoint challenges it, the flow stays",
			  (unsigned long long)f->id, tm_pkt_seq(&x->p));
		break;
	default:
		break;
	}
}

void gw_release(struct flow *f, struct held_pkt *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pkt_ctx x = { .id = h[i].id, .data = h[i].data, .len = h[i].len,
				     .csum_partial = h[i].csum_partial };
		enum verdict v = V_DROP;

		if (tm_pkt_parse(&x.p, x.data, x.len) == 0)
			v = gw_forward_c2s(f, &x);
		nfq_verdict(h[i].id, v != V_DROP, v == V_ACCEPT_MANGLED ? x.data : NULL, x.len);
		free(h[i].data);
		h[i].data = NULL;
	}
}

enum verdict gw_forward_c2s(struct flow *f, struct pkt_ctx *x)
{
	__u32 before = f->st.c.nxt;

	enum tm_tcp_state was = f->st.state;

	note_obs(f, tm_flow_observe(&f->st, TM_DIR_C2S, &x->p), x);
	note_state(f, was, x, TM_DIR_C2S);
	if (x->p.payload_len && tm_seq_gt(f->st.c.nxt, before))
		f->awaiting_reply = true; /* new client data: a request until the server says more */
	if (rewrite(f, x, TM_DIR_C2S))
		return V_ACCEPT_MANGLED;
	return V_ACCEPT;
}

/* Segments no real peer of this flow would send: counted and dropped (tcpmigd(8), SECURITY). */
static bool hostile(const struct flow *f, const struct pkt_ctx *x, enum tm_dir dir)
{
	const struct tm_flow_state *st = &f->st;
	const struct tm_side *peer = dir == TM_DIR_C2S ? &st->s : &st->c;
	__u8 fl = x->p.tcp->flags;

	if (st->state < TM_ST_ESTABLISHED || st->state == TM_ST_CLOSED)
		return false;
	if (fl & TM_TCP_RST)
		return !tm_flow_seq_plausible(st, dir, tm_pkt_seq(&x->p));
	if (fl & TM_TCP_SYN)
		return dir == TM_DIR_C2S; /* a SYN inside an established flow */
	/* Acknowledging data the peer never sent. */
	return (fl & TM_TCP_ACK) && tm_seq_gt(tm_pkt_ack(&x->p), peer->nxt);
}

static enum verdict client_packet(struct flow *f, struct pkt_ctx *x)
{
	enum verdict v;

	if (hostile(f, x, TM_DIR_C2S)) {
		g_cnt.pkts_dropped_spoofed++;
		log_debug("flow %llu: dropped implausible client segment (flags 0x%02x seq %u ack %u)",
			  (unsigned long long)f->id, x->p.tcp->flags, tm_pkt_seq(&x->p), tm_pkt_ack(&x->p));
		return V_DROP;
	}
	if ((!f->an_done || f->an_dropping) && an_client_packet(f, x, &v))
		return v;
	if (f->hs.st != HS_NONE && hs_client_packet(f, x, &v))
		return v;
	v = gw_forward_c2s(f, x);
	if (f->hs.st != HS_NONE)
		hs_after_packet(f, now_ns());
	return v;
}

static enum verdict backend_packet(struct flow *f, struct pkt_ctx *x)
{
	bool mangled;
	__u32 before;
	enum tm_tcp_state was;

	if ((x->p.tcp->flags & TM_TCP_SYN) && f->st.state >= TM_ST_ESTABLISHED &&
	    f->st.state != TM_ST_CLOSED) {
		/* A SYN-ACK inside an established flow: the repeat of the one a handoff took from
		 * this backend (answered again, never forwarded: it would rewrite the model's
		 * server options), or the first backend's own retransmission (the client's ACK was
		 * lost: the client must see it), or nothing a real peer sends. */
		if (hs_repeated_synack(f, x))
			return V_DROP;
		if (f->spliced || tm_pkt_seq(&x->p) + f->s2c.seq_delta != f->st.s.isn) {
			g_cnt.pkts_dropped_spoofed++;
			return V_DROP;
		}
	}
	/* Translate first: the model lives in the client's view. */
	mangled = rewrite(f, x, TM_DIR_S2C);
	if (hostile(f, x, TM_DIR_S2C)) {
		g_cnt.pkts_dropped_spoofed++;
		return V_DROP;
	}
	if ((x->p.tcp->flags & TM_TCP_RST) && hs_old_backend_reset(f))
		return V_DROP;
	if ((x->p.tcp->flags & (TM_TCP_FIN | TM_TCP_RST)) && f->hs.st != HS_NONE)
		hs_old_backend_closing(f); /* the backend being left has more to say, or is gone */
	before = f->st.s.nxt;
	was = f->st.state;
	note_obs(f, tm_flow_observe(&f->st, TM_DIR_S2C, &x->p), x);
	note_state(f, was, x, TM_DIR_S2C);
	if (tm_seq_gt(f->st.s.nxt, before))
		f->awaiting_reply = false;
	if (f->hs.st != HS_NONE)
		hs_after_packet(f, now_ns());
	return mangled ? V_ACCEPT_MANGLED : V_ACCEPT;
}

bool svc_has_backend(const struct tm_service *svc, const struct tm_endpoint_cfg *ep)
{
	for (int i = 0; i < svc->nbackends; i++)
		if (ep_eq(&svc->backends[i], ep))
			return true;
	return false;
}

const struct tm_service *gw_find_service(const struct tm_flow_key *k)
{
	for (int i = 0; i < g_conf->nservices; i++) {
		const struct tm_service *s = &g_conf->services[i];

		if (s->vip.family == k->family && s->vip.port == k->dport &&
		    !memcmp(&s->vip.addr, &k->daddr, sizeof(k->daddr)))
			return s;
	}
	return NULL;
}

static struct flow *new_flow(const struct tm_service *svc, const struct tm_flow_key *k)
{
	struct flow *f = table_new_flow(svc, k, &svc->backends[0]);

	if (!f)
		return NULL;
	flow_set_endpoints(f);
	f->an_done = !an_enabled();
	if (g_verbose) {
		char a[64], b[64];
		struct tm_endpoint_cfg c = { .family = k->family, .addr = k->saddr, .port = k->sport };

		log_debug("flow %llu: new %s -> %s", (unsigned long long)f->id, ep_str(&c, a, sizeof(a)),
			  ep_str(&f->backend, b, sizeof(b)));
	}
	return f;
}

/*
 * A former backend still talking: our RST at commit time was lost (or it is a late segment).
 * Its ack field is its rcv_nxt, so an RST with that seq is accepted.  At most one per 200 ms,
 * which also gives the retransmission with backoff of that crafted packet.
 */
static void reset_old_backend(struct fnode *n, const struct pkt_ctx *x)
{
	struct tm_flow_key ck;
	uint64_t now = now_ns();

	if ((x->p.tcp->flags & TM_TCP_RST) || !(x->p.tcp->flags & TM_TCP_ACK) ||
	    now - n->last_rst_ns < 200000000ull)
		return;
	n->last_rst_ns = now;
	tm_flow_key_reverse(&ck, &n->key); /* client -> old backend */
	if (craft_rst_tuple(&ck, tm_pkt_ack(&x->p)) == 0)
		g_cnt.crafted_rst_old_backend++;
}

/*
 * NFQUEUE handed over only the first bytes of a packet (CAP_LEN shorter than the packet: copy
 * range, memory pressure).  An unmanaged packet passes as it is; one of a managed flow cannot be
 * translated from a partial copy and must not reach a backend untranslated: dropped, and its
 * sender retransmits it.
 */
enum verdict gw_truncated(const struct pkt_ctx *x)
{
	struct tm_flow_key k = { 0 };
	const uint8_t *d = x->data;
	uint32_t l4;

	if (x->len >= 20 && (d[0] >> 4) == 4 && d[9] == 6) {
		l4 = (uint32_t)(d[0] & 0xf) * 4;
		k.family = TM_AF_INET;
		memcpy(&k.saddr.w[0], d + 12, 4);
		memcpy(&k.daddr.w[0], d + 16, 4);
	} else if (x->len >= 40 && (d[0] >> 4) == 6 && d[6] == 6) {
		l4 = 40;
		k.family = TM_AF_INET6;
		memcpy(&k.saddr, d + 8, 16);
		memcpy(&k.daddr, d + 24, 16);
	} else {
		return V_ACCEPT;
	}
	if (l4 < 20 || x->len < l4 + 4)
		return V_ACCEPT;
	k.sport = (__u16)(d[l4] << 8 | d[l4 + 1]);
	k.dport = (__u16)(d[l4 + 2] << 8 | d[l4 + 3]);
	if (!table_lookup(&k))
		return V_ACCEPT;
	g_cnt.pkts_dropped_truncated++;
	log_debug("dropped a truncated NFQUEUE copy (%u bytes) of a managed flow", x->len);
	return V_DROP;
}

enum verdict gw_packet(struct pkt_ctx *x)
{
	struct tm_flow_key k;
	struct fnode *n;
	struct flow *f;
	int err;

	err = tm_pkt_parse(&x->p, x->data, x->len);
	if (err) {
		count_malformed(err);
		g_cnt.pkts_dropped_malformed++;
		log_malformed(x, err);
		return V_DROP;
	}
	/* Link padding beyond the IP length: hand back exactly the IP packet if we mangle. */
	x->len = x->p.len;
	tm_flow_key_from_pkt(&k, &x->p);
	n = table_lookup(&k);
	if (n && n->kind == FN_CLIENT && n->flow->st.state == TM_ST_CLOSED &&
	    (x->p.tcp->flags & (TM_TCP_SYN | TM_TCP_ACK)) == TM_TCP_SYN &&
	    tm_pkt_seq(&x->p) != n->flow->st.c.isn) {
		/* Tuple reused by a new connection. */
		if (n->flow->hs.st != HS_NONE)
			hs_abort(n->flow, "flow-closed");
		table_free_flow(n->flow);
		n = NULL;
	}
	if (!n) {
		const struct tm_service *svc;

		if ((x->p.tcp->flags & (TM_TCP_SYN | TM_TCP_ACK | TM_TCP_RST)) == TM_TCP_SYN &&
		    (svc = gw_find_service(&k)) && (f = new_flow(svc, &k))) {
			f->last_ns = now_ns();
			g_cnt.pkts_c2s++;
			return client_packet(f, x);
		}
		g_cnt.pkts_unmanaged++;
		return V_ACCEPT;
	}
	f = n->flow;
	f->last_ns = now_ns();
	switch (n->kind) {
	case FN_CLIENT:
	case FN_BACKEND: {
		enum verdict v;
		uint64_t now = f->last_ns;

		/* A packet of an offloaded flow here is one the program punted: a control segment
		 * (SYN, FIN, RST: the slow path's even for offloaded flows) or one it cannot handle
		 * (IPv6 extension headers, fragments, an interface it is not attached to).  Take the
		 * flow back first, so the model is current; it is offloaded again below. */
		if (f->offloaded)
			fast_takeback(f);
		if (n->kind == FN_CLIENT) {
			g_cnt.pkts_c2s++;
			v = client_packet(f, x);
		} else {
			g_cnt.pkts_s2c++;
			v = backend_packet(f, x);
		}
		if (fast_enabled() && !f->offloaded)
			fast_offload(f, now);
		return v;
	}
	case FN_TARGET: {
		enum verdict v = V_DROP;

		g_cnt.pkts_s2c++;
		hs_target_packet(f, x, &v);
		return v;
	}
	case FN_OLD:
		g_cnt.pkts_dropped_old_backend++;
		reset_old_backend(n, x);
		return V_DROP;
	}
	return V_ACCEPT;
}

static void sweep(uint64_t now)
{
	struct flow *f, *next;

	for (f = table_first(); f; f = next) {
		uint64_t idle = (now - f->last_ns) / 1000000000ull;
		bool expire = false;

		next = f->lnext;
		if (f->hs.st != HS_NONE)
			continue;
		if (f->offloaded) {
			struct fast_view fv;

			if (fast_peek(f, &fv) && fv.last_ns > f->last_ns && fv.last_ns <= now)
				f->last_ns = fv.last_ns;
			idle = (now - f->last_ns) / 1000000000ull;
		} else if (fast_enabled()) {
			fast_offload(f, now); /* one that became eligible without a packet */
		}
		if (flow_is_over(f))
			expire = idle >= g_conf->closed_linger_s;
		else if (f->st.state < TM_ST_ESTABLISHED)
			expire = idle >= g_conf->embryonic_timeout_s;
		else
			expire = idle >= g_conf->idle_timeout_s;
		if (expire) {
			if (f->st.state != TM_ST_CLOSED)
				g_cnt.flows_idle_expired++;
			log_debug("flow %llu: removed (%s, idle %llus)", (unsigned long long)f->id,
				  tm_flow_state_name(f->st.state), (unsigned long long)idle);
			table_free_flow(f);
		}
	}
}

void gw_tick(uint64_t now)
{
	hs_tick_all(now);
	an_tick(now);
	fast_heartbeat(now);
	if (now - last_sweep_ns >= 1000000000ull) {
		last_sweep_ns = now;
		sweep(now);
	}
}

void gw_shutdown_flows(void)
{
	uint8_t buf[128];
	unsigned n = 0;

	for (struct flow *f = table_first(); f; f = f->lnext) {
		struct tm_endpoint ep;
		struct tm_flow_key rk;
		int len;

		if (f->hs.st != HS_NONE)
			hs_abort(f, "daemon-stopping");
		if (!f->spliced || f->st.state == TM_ST_CLOSED)
			continue;
		if (f->offloaded && fast_keeps_flows())
			continue; /* the kernel goes on translating it; the next daemon re-adopts it */
		/* Without the daemon this flow cannot be translated: end it now rather than let it hang. */
		ep.addr = f->backend.addr;
		ep.port = f->backend.port;
		len = tm_build_rst(buf, sizeof(buf), &f->ckey, &ep, f->st.c.nxt);
		craft_send(buf, len, f->ckey.family);
		tm_flow_key_reverse(&rk, &f->ckey);
		ep.addr = f->ckey.saddr;
		ep.port = f->ckey.sport;
		len = tm_build_rst(buf, sizeof(buf), &rk, &ep, f->st.s.nxt);
		craft_send(buf, len, f->ckey.family);
		g_cnt.crafted_rst += 2;
		n++;
	}
	if (n)
		log_info("reset %u migrated flow(s): they cannot live without translation", n);
}
