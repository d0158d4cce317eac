/* Flow keys and the per-flow TCP state model, updated from observed segments. */
#include <sodium.h>
#include <string.h>

#include <tcpmig/flow.h>

void tm_flow_key_from_pkt(struct tm_flow_key *k, const struct tm_pkt *p)
{
	memset(k, 0, sizeof(*k));
	k->saddr = p->saddr;
	k->daddr = p->daddr;
	k->sport = tm_pkt_sport(p);
	k->dport = tm_pkt_dport(p);
	k->family = p->family;
}

void tm_flow_key_reverse(struct tm_flow_key *out, const struct tm_flow_key *k)
{
	struct tm_flow_key r;

	memset(&r, 0, sizeof(r));
	r.saddr = k->daddr;
	r.daddr = k->saddr;
	r.sport = k->dport;
	r.dport = k->sport;
	r.family = k->family;
	*out = r;
}

int tm_flow_key_eq(const struct tm_flow_key *a, const struct tm_flow_key *b)
{
	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	       !memcmp(&a->saddr, &b->saddr, sizeof(a->saddr)) &&
	       !memcmp(&a->daddr, &b->daddr, sizeof(a->daddr));
}

int tm_flow_key_canon(struct tm_flow_key *out, const struct tm_flow_key *k)
{
	int c = memcmp(&k->saddr, &k->daddr, sizeof(k->saddr));

	if (c > 0 || (c == 0 && k->sport > k->dport)) {
		tm_flow_key_reverse(out, k);
		return 1;
	}
	if (out != k) {
		memset(out, 0, sizeof(*out));
		out->saddr = k->saddr;
		out->daddr = k->daddr;
		out->sport = k->sport;
		out->dport = k->dport;
		out->family = k->family;
	}
	return 0;
}

__u64 tm_flow_hash(const struct tm_flow_key *k, const __u8 seed[16])
{
	struct tm_flow_key c;
	unsigned char out[crypto_shorthash_BYTES];
	__u64 h;

	tm_flow_key_canon(&c, k);
	crypto_shorthash(out, (const unsigned char *)&c, sizeof(c), seed);
	memcpy(&h, out, sizeof(h));
	return h;
}

void tm_flow_init(struct tm_flow_state *f)
{
	memset(f, 0, sizeof(*f));
	f->state = TM_ST_NONE;
}

static void record_syn(struct tm_side *sd, const struct tm_pkt *p)
{
	const struct tm_tcpopts *o = &p->opts;

	sd->syn_seen = 1;
	sd->isn = tm_pkt_seq(p);
	/* The SYN takes one sequence number; TCP Fast Open data (RFC 7413) follows it. */
	sd->nxt = sd->isn + 1 + p->payload_len;
	sd->una = sd->isn;
	sd->syn.present = o->present & (TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS);
	sd->syn.mss = o->mss;
	sd->syn.wscale = o->wscale;
	sd->syn.window = tm_pkt_window(p);
}

int tm_flow_quiescent(const struct tm_flow_state *f)
{
	return f->c.una == f->c.nxt && f->s.una == f->s.nxt;
}

__u8 tm_flow_wscale(const struct tm_flow_state *f, enum tm_dir dir)
{
	const struct tm_side *sd = dir == TM_DIR_C2S ? &f->c : &f->s;

	if ((f->c.syn.present & TM_HAS_WSCALE) && (f->s.syn.present & TM_HAS_WSCALE))
		return sd->syn.wscale;
	return 0;
}

int tm_flow_seq_plausible(const struct tm_flow_state *f, enum tm_dir dir, __u32 seq)
{
	const struct tm_side *snd = dir == TM_DIR_C2S ? &f->c : &f->s;
	const struct tm_side *rcv = dir == TM_DIR_C2S ? &f->s : &f->c;
	__u32 win = rcv->win << tm_flow_wscale(f, dir == TM_DIR_C2S ? TM_DIR_S2C : TM_DIR_C2S);

	/* The receiver accepts [rcv_nxt, rcv_nxt + window); rcv_nxt is at least snd->una. */
	if (win < 1)
		win = 1;
	return tm_seq_in(seq, snd->una, snd->nxt + win);
}

int tm_flow_in_window(const struct tm_flow_state *f, enum tm_dir dir, __u32 seq, __u32 end)
{
	const struct tm_side *snd = dir == TM_DIR_C2S ? &f->c : &f->s;
	const struct tm_side *rcv = dir == TM_DIR_C2S ? &f->s : &f->c;
	__u32 edge, lo, span, range;

	if (!rcv->edge_seen)
		return 1;
	/* The edge never trails what the sender has been seen to send (the gateway's own pause
	 * windows freeze it there). */
	edge = tm_seq_gt(snd->nxt, rcv->wnd_edge) ? snd->nxt : rcv->wnd_edge;
	span = edge - snd->una;
	if (span > 0x40000000u)
		span = 0x40000000u; /* 2^30: the largest window TCP can offer */
	lo = snd->una - span - TM_WND_SLACK;
	range = edge + TM_WND_SLACK - lo; /* < 2^32: span and slack are bounded */
	/* [seq, end] overlaps [lo, lo + range], in offsets from lo (serial arithmetic). */
	return seq - lo <= range || end - lo <= range;
}

/* The right edge of the window in @sd's latest ACK, kept as the largest seen (windows never
 * shrink in practice; a reordered older ACK must not pull the edge back). */
static void side_offer(struct tm_side *sd, __u32 ack, __u32 win, __u8 shift)
{
	__u32 edge = ack + (win << shift);

	if (!sd->edge_seen || tm_seq_gt(edge, sd->wnd_edge))
		sd->wnd_edge = edge;
	sd->edge_seen = 1;
}

static void side_ack(struct tm_flow_state *f, struct tm_side *peer, __u32 ack, enum tm_obs *obs)
{
	if (tm_seq_gt(ack, peer->nxt)) {
		f->bad_ack++;
		*obs = TM_OBS_BAD_ACK;
		return;
	}
	if (tm_seq_gt(ack, peer->una))
		peer->una = ack;
}

static void update_state(struct tm_flow_state *f)
{
	if (f->c.fin_seen && f->s.fin_seen) {
		if (f->c.una == f->c.fin_seq + 1 && f->s.una == f->s.fin_seq + 1)
			f->state = TM_ST_CLOSED;
		else
			f->state = TM_ST_CLOSING;
	} else if (f->c.fin_seen || f->s.fin_seen) {
		f->state = TM_ST_FIN_WAIT;
	}
}

/*
 * An RST closes the model only where the receiver takes it: at its rcv_nxt (RFC 5961 3.2).  The
 * gateway knows rcv_nxt exactly when nothing is in flight (snd.una == snd.nxt); a genuine RST
 * carries the sender's snd_nxt, so seq == snd.nxt closes.  Any other RST in the window draws a
 * challenge ACK from a Linux receiver and changes nothing: the model stays open, noting the RST
 * (rst_pending), and the receiver's answer decides (tm_flow_observe).  The caller has dropped
 * RSTs outside the window (tm_flow_seq_plausible).
 */
static enum tm_obs observe_rst(struct tm_flow_state *f, enum tm_dir dir, const struct tm_pkt *p)
{
	const struct tm_side *snd = dir == TM_DIR_C2S ? &f->c : &f->s;
	__u32 seq = tm_pkt_seq(p);

	if (f->state == TM_ST_CLOSED && !f->rst_pending)
		return TM_OBS_RST;
	f->rst_seq = seq;
	if (!f->rst_pending || f->state != TM_ST_CLOSED)
		f->rst_prev_state = (__u8)f->state;
	f->rst_pending = (__u8)(1 + dir);
	/* Before the handshake completes the endpoint's acceptance rules differ (an RST in
	 * SYN-SENT is checked by its ACK): believe it, as the kernel mostly does. */
	if (f->state < TM_ST_ESTABLISHED || !snd->syn_seen || seq == snd->nxt) {
		f->state = TM_ST_CLOSED;
		return TM_OBS_RST;
	}
	return TM_OBS_RST_CHALLENGE;
}

enum tm_obs tm_flow_observe(struct tm_flow_state *f, enum tm_dir dir, const struct tm_pkt *p)
{
	struct tm_side *snd = dir == TM_DIR_C2S ? &f->c : &f->s;
	struct tm_side *rcv = dir == TM_DIR_C2S ? &f->s : &f->c;
	const struct tm_tcpopts *o = &p->opts;
	__u8 fl = p->tcp->flags;
	__u32 seq = tm_pkt_seq(p), end;
	enum tm_obs obs = TM_OBS_OK;

	snd->pkts++;
	snd->bytes += p->payload_len;

	if (fl & TM_TCP_RST)
		return observe_rst(f, dir, p);
	if (f->rst_pending == 2 - dir && !p->payload_len && !(fl & (TM_TCP_SYN | TM_TCP_FIN)) &&
	    (fl & TM_TCP_ACK) && tm_pkt_ack(p) != f->rst_seq) {
		/* The receiver of that RST answers with an ACK short of the RST's sequence: a
		 * challenge ACK (RFC 5961 3.2).  It did not take the RST; the connection lives. */
		if (f->state == TM_ST_CLOSED)
			f->state = f->rst_prev_state;
		f->rst_pending = 0;
	}
	if (fl & TM_TCP_SYN) {
		if (dir == TM_DIR_C2S && !(fl & TM_TCP_ACK)) {
			if (f->c.syn_seen && seq == f->c.isn)
				return TM_OBS_RETRANS;
			/* A new ISN on the same tuple: a new connection (or first sight). */
			obs = f->c.syn_seen ? TM_OBS_NEW_SYN : TM_OBS_OK;
			tm_flow_init(f);
			f->c.pkts = 1;
			f->c.bytes = p->payload_len; /* TFO data */
			record_syn(&f->c, p);
			if (o->present & TM_HAS_TS) {
				f->c.tsval = o->tsval;
				f->c.ts_seen = 1;
			}
			f->state = TM_ST_SYN_SENT;
			return obs;
		}
		if (dir == TM_DIR_S2C && (fl & TM_TCP_ACK)) {
			/* It acks the client's SYN, and with TCP Fast Open maybe the SYN's data. */
			__u32 ack = tm_pkt_ack(p);

			if (!f->c.syn_seen || !tm_seq_gt(ack, f->c.isn) || tm_seq_gt(ack, f->c.nxt))
				return TM_OBS_OUT_OF_STATE;
			if (f->s.syn_seen && seq == f->s.isn)
				return TM_OBS_RETRANS;
			record_syn(&f->s, p);
			if (tm_seq_gt(ack, f->c.una))
				f->c.una = ack;
			/* The first windows: SYN windows are never scaled (RFC 7323 2.2). */
			f->s.edge_seen = f->c.edge_seen = 0;
			side_offer(&f->s, ack, f->s.syn.window, 0);
			side_offer(&f->c, f->s.isn + 1, f->c.syn.window, 0);
			if (o->present & TM_HAS_TS) {
				f->s.tsval = o->tsval;
				f->s.tsecr = o->tsecr;
				f->s.ts_seen = 1;
			}
			if (f->state < TM_ST_SYN_RCVD)
				f->state = TM_ST_SYN_RCVD;
			return TM_OBS_OK;
		}
		return TM_OBS_OUT_OF_STATE;
	}
	if (!snd->syn_seen || !rcv->syn_seen)
		return TM_OBS_OUT_OF_STATE;

	end = seq + p->payload_len + !!(fl & TM_TCP_FIN);
	if (!tm_flow_in_window(f, dir, seq, end)) {
		/* Not what the receiver would take: a blind spoofed segment (or garbage).  It must
		 * not move nxt, una or the window, or the next handoff would replay a SYN at a
		 * sequence the endpoints never reach. */
		f->out_of_window++;
		return TM_OBS_OUT_OF_WINDOW;
	}
	if (p->payload_len && tm_seq_lt(seq, snd->nxt)) {
		snd->retrans++;
		obs = TM_OBS_RETRANS;
	}
	if (tm_seq_gt(end, snd->nxt))
		snd->nxt = end;
	if ((fl & TM_TCP_FIN) && !snd->fin_seen) {
		snd->fin_seen = 1;
		snd->fin_seq = seq + p->payload_len;
	}
	if (fl & TM_TCP_ACK) {
		side_ack(f, rcv, tm_pkt_ack(p), &obs);
		snd->win = tm_pkt_window(p);
		if (obs != TM_OBS_BAD_ACK)
			side_offer(snd, tm_pkt_ack(p), snd->win, tm_flow_wscale(f, dir));
		/* The ACK of the SYN-ACK, or a later one (a TFO server may send before it). */
		if (dir == TM_DIR_C2S && f->state == TM_ST_SYN_RCVD &&
		    tm_seq_gt(f->s.una, f->s.isn))
			f->state = TM_ST_ESTABLISHED;
	}
	if (o->present & TM_HAS_TS) {
		/* PAWS-style: keep the newest TSval; an old one comes from a reordered segment. */
		if (!snd->ts_seen || tm_seq_geq(o->tsval, snd->tsval))
			snd->tsval = o->tsval;
		snd->tsecr = o->tsecr;
		snd->ts_seen = 1;
	}
	update_state(f);
	return obs;
}

static const char *const state_names[TM_ST_MAX] = {
	[TM_ST_NONE] = "none",		   [TM_ST_SYN_SENT] = "syn-sent",
	[TM_ST_SYN_RCVD] = "syn-rcvd",	   [TM_ST_ESTABLISHED] = "established",
	[TM_ST_FIN_WAIT] = "fin-wait",	   [TM_ST_CLOSING] = "closing",
	[TM_ST_CLOSED] = "closed",
};

const char *tm_flow_state_name(enum tm_tcp_state s)
{
	if ((unsigned)s >= TM_ST_MAX)
		return "?";
	return state_names[s];
}
