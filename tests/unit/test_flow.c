/* tm_flow_observe over real captured exchanges (in order, duplicated, reordered) and edge cases. */
#include "vec_real.h"

#include <tcpmig/build.h>

/* What TCP says each side's numbers are after a run of packets, computed from scapy's fields. */
struct ref_side {
	__u32 isn, nxt, una, tsval, tsecr, win, fin_seq;
	int syn, fin, ts;
	__u64 pkts, bytes, retrans;
};

struct ref {
	struct ref_side c, s;
};

/* Feed one captured packet to the reference; returns the observation TCP implies. */
static enum tm_obs ref_step(struct ref *r, const struct vec_pkt *v)
{
	struct ref_side *snd = v->dir == 0 ? &r->c : &r->s, *rcv = v->dir == 0 ? &r->s : &r->c;
	int syn = !!(v->flags & TM_TCP_SYN), fin = !!(v->flags & TM_TCP_FIN);
	__u32 end = v->seq + (__u32)v->payload_len + (__u32)syn + (__u32)fin;
	enum tm_obs obs = TM_OBS_OK;

	snd->pkts++;
	snd->bytes += (__u64)v->payload_len;
	if (syn) {
		if (snd->syn && v->seq == snd->isn)
			return TM_OBS_RETRANS;
		snd->syn = 1;
		snd->isn = v->seq;
		snd->una = v->seq;
		snd->nxt = end;
	} else {
		if (v->payload_len && tm_seq_lt(v->seq, snd->nxt)) {
			snd->retrans++;
			obs = TM_OBS_RETRANS;
		}
		if (tm_seq_gt(end, snd->nxt))
			snd->nxt = end;
		if (v->flags & TM_TCP_ACK)
			snd->win = v->window;
	}
	if (fin && !snd->fin) {
		snd->fin = 1;
		snd->fin_seq = v->seq + (__u32)v->payload_len;
	}
	if ((v->flags & TM_TCP_ACK) && tm_seq_gt(v->ack, rcv->una))
		rcv->una = v->ack;
	if (v->present & TM_HAS_TS) {
		if (!snd->ts || tm_seq_geq(v->tsval, snd->tsval))
			snd->tsval = v->tsval;
		snd->tsecr = v->tsecr;
		snd->ts = 1;
	}
	return obs;
}

static int mism;
#define SAME(what, got, want)                                                                      \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_ && mism++ < 6)                                                        \
			printf("#   %s: %s = %lld, want %lld\n", what, #got, g_, w_);              \
	} while (0)

static void same_side(const char *what, const struct tm_side *g, const struct ref_side *w,
		      int counters)
{
	SAME(what, g->isn, w->isn);
	SAME(what, g->nxt, w->nxt);
	SAME(what, g->una, w->una);
	SAME(what, g->tsval, w->tsval);
	SAME(what, g->syn_seen, w->syn);
	SAME(what, g->fin_seen, w->fin);
	SAME(what, g->ts_seen, w->ts);
	if (w->fin)
		SAME(what, g->fin_seq, w->fin_seq);
	if (counters) {
		SAME(what, g->tsecr, w->tsecr);
		SAME(what, g->win, w->win);
		SAME(what, g->pkts, w->pkts);
		SAME(what, g->bytes, w->bytes);
		SAME(what, g->retrans, w->retrans);
	}
}

static void load(struct vbuf *b, struct tm_pkt *p, const struct vec_pkt *v)
{
	vec_load(b, v->hex);
	if (tm_pkt_parse(p, b->b, b->n)) {
		printf("# %s does not parse\n", v->name);
		exit(2);
	}
}

/* Every captured flow in order: after each packet the model equals the reference. */
static void in_order(const struct vec_flow *fl)
{
	struct tm_flow_state f;
	struct ref r;
	const struct vec_pkt *syn = &vec_real[fl->first], *synack = &vec_real[fl->first + 1];
	int i, bad_obs = 0;

	tm_flow_init(&f);
	memset(&r, 0, sizeof(r));
	mism = 0;
	for (i = 0; i < fl->n; i++) {
		const struct vec_pkt *v = &vec_real[fl->first + i];
		struct vbuf b;
		struct tm_pkt p;
		enum tm_obs want = ref_step(&r, v), got;

		load(&b, &p, v);
		got = tm_flow_observe(&f, v->dir, &p);
		if (got != want && bad_obs++ < 3)
			printf("#   %s: observe returned %d, want %d\n", v->name, got, want);
		same_side(v->name, &f.c, &r.c, 0);
		same_side(v->name, &f.s, &r.s, 0);
	}
	ok(bad_obs == 0, "%s: every observation result as TCP implies (retransmissions flagged)",
	   fl->name);
	ok(mism == 0, "%s: isn/nxt/una/tsval/fin of both sides right after every packet", fl->name);
	mism = 0;
	same_side(fl->name, &f.c, &r.c, 1);
	same_side(fl->name, &f.s, &r.s, 1);
	ok(mism == 0, "%s: final counters, windows, tsecr", fl->name);
	is_int(f.state, TM_ST_CLOSED, "%s: closed after both FINs are acked", fl->name);
	ok(tm_flow_quiescent(&f), "%s: quiescent at the end", fl->name);
	is_int(f.bad_ack, 0, "%s: no bad acks", fl->name);
	ok(f.c.syn.present == (syn->present & 0x17) && f.c.syn.mss == syn->mss &&
	       f.c.syn.wscale == syn->wscale && f.c.syn.window == syn->window &&
	       f.s.syn.present == (synack->present & 0x17) && f.s.syn.mss == synack->mss &&
	       f.s.syn.wscale == synack->wscale && f.s.syn.window == synack->window,
	   "%s: both SYN option sets recorded", fl->name);
}

/* The state machine step by step on the plainest exchange. */
static void states_basic(void)
{
	static const enum tm_tcp_state want[] = {
	    TM_ST_SYN_SENT,    /* S */
	    TM_ST_SYN_RCVD,    /* SA */
	    TM_ST_ESTABLISHED, /* A */
	    TM_ST_ESTABLISHED, /* request */
	    TM_ST_ESTABLISHED, /* its ack */
	    TM_ST_FIN_WAIT,    /* client FIN */
	    TM_ST_FIN_WAIT,    /* its ack */
	    TM_ST_FIN_WAIT,    /* response */
	    TM_ST_FIN_WAIT,    /* its ack */
	    TM_ST_CLOSING,     /* server FIN */
	    TM_ST_CLOSED,      /* last ack */
	};
	static const int quiet[] = {0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
	struct tm_flow_state f;
	int i;

	tm_flow_init(&f);
	is_int(f.state, TM_ST_NONE, "fresh flow: none");
	for (i = 0; i < 11; i++) {
		const struct vec_pkt *v = &vec_real[VEC_V4_BASIC + i];
		struct vbuf b;
		struct tm_pkt p;

		load(&b, &p, v);
		tm_flow_observe(&f, v->dir, &p);
		ok(f.state == want[i] && tm_flow_quiescent(&f) == quiet[i], "%s: %s, %squiescent",
		   v->name, tm_flow_state_name(want[i]), quiet[i] ? "" : "not ");
	}
}

/* Every packet seen twice (a duplicating network): same model, doubled counters. */
static void duplicated(const struct vec_flow *fl)
{
	struct tm_flow_state once, twice;
	int i, k, dup_obs = 0;

	tm_flow_init(&once);
	tm_flow_init(&twice);
	for (i = 0; i < fl->n; i++) {
		const struct vec_pkt *v = &vec_real[fl->first + i];
		struct vbuf b;
		struct tm_pkt p;

		load(&b, &p, v);
		tm_flow_observe(&once, v->dir, &p);
		for (k = 0; k < 2; k++) {
			enum tm_obs o = tm_flow_observe(&twice, v->dir, &p);

			if (k == 1 && (v->payload_len || (v->flags & TM_TCP_SYN)) &&
			    o != TM_OBS_RETRANS)
				dup_obs++;
		}
	}
	ok(dup_obs == 0, "%s duplicated: every second copy of data or SYN is a retransmission",
	   fl->name);
	ok(once.state == twice.state && once.c.nxt == twice.c.nxt && once.c.una == twice.c.una &&
	       once.s.nxt == twice.s.nxt && once.s.una == twice.s.una &&
	       once.c.tsval == twice.c.tsval && once.s.tsval == twice.s.tsval &&
	       once.c.fin_seq == twice.c.fin_seq && once.s.fin_seq == twice.s.fin_seq &&
	       twice.c.pkts == 2 * once.c.pkts && twice.s.bytes == 2 * once.s.bytes,
	   "%s duplicated: same model as once, counters doubled", fl->name);
}

/* Adjacent same-direction data segments swapped (reordering): nothing rolls back. */
static void reordered(const struct vec_flow *fl)
{
	struct tm_flow_state a, b;
	int order[64], i, swaps = 0;

	for (i = 0; i < fl->n; i++)
		order[i] = fl->first + i;
	for (i = 3; i + 1 < fl->n; i++) {
		const struct vec_pkt *x = &vec_real[order[i]], *y = &vec_real[order[i + 1]];

		if (x->dir == y->dir && x->payload_len && y->payload_len &&
		    !((x->flags | y->flags) & (TM_TCP_FIN | TM_TCP_SYN))) {
			int t = order[i];

			order[i] = order[i + 1];
			order[i + 1] = t;
			swaps++;
			i++;
		}
	}
	tm_flow_init(&a);
	tm_flow_init(&b);
	for (i = 0; i < fl->n; i++) {
		struct vbuf bb;
		struct tm_pkt p;

		load(&bb, &p, &vec_real[fl->first + i]);
		tm_flow_observe(&a, vec_real[fl->first + i].dir, &p);
		load(&bb, &p, &vec_real[order[i]]);
		tm_flow_observe(&b, vec_real[order[i]].dir, &p);
	}
	ok(swaps > 0 && a.state == b.state && a.c.nxt == b.c.nxt && a.c.una == b.c.una &&
	       a.s.nxt == b.s.nxt && a.s.una == b.s.una && a.c.tsval == b.c.tsval &&
	       a.s.tsval == b.s.tsval && a.bad_ack == b.bad_ack,
	   "%s: %d reorderings, same final nxt/una/tsval/state", fl->name, swaps);
}

/* A synthetic segment: tm_build_segment, then @paylen bytes of payload. */
static struct tm_pkt *seg(struct vbuf *b, int dir, __u8 flags, __u32 seq, __u32 ack, __u32 paylen,
			  __u32 tsval, __u32 tsecr)
{
	static struct tm_pkt p;
	struct tm_seg_spec s;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = TM_AF_INET;
	s.saddr.w[0] = tm_htonl(dir == TM_DIR_C2S ? 0x0a000001 : 0x0a000002);
	s.daddr.w[0] = tm_htonl(dir == TM_DIR_C2S ? 0x0a000002 : 0x0a000001);
	s.sport = dir == TM_DIR_C2S ? 40000 : 80;
	s.dport = dir == TM_DIR_C2S ? 80 : 40000;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.window = 1000;
	s.opts.present = TM_HAS_TS | ((flags & TM_TCP_SYN) ? TM_HAS_MSS | TM_HAS_WSCALE : 0);
	s.opts.mss = 1460;
	s.opts.wscale = 2;
	s.opts.tsval = tsval;
	s.opts.tsecr = tsecr;
	n = tm_build_segment(b->b, sizeof(b->b), &s);
	memset(b->b + n, 'd', paylen);
	b->n = (size_t)n + paylen;
	tm_put16(b->b + 2, (__u16)b->n);
	if (tm_pkt_parse(&p, b->b, b->n)) {
		printf("# synthetic segment does not parse\n");
		exit(2);
	}
	return &p;
}

#define C TM_DIR_C2S
#define S TM_DIR_S2C
#define A TM_TCP_ACK

/* Handshake with client ISN @ci and server ISN @si. */
static void handshake(struct tm_flow_state *f, __u32 ci, __u32 si)
{
	struct vbuf b;

	tm_flow_init(f);
	tm_flow_observe(f, C, seg(&b, C, TM_TCP_SYN, ci, 0, 0, 100, 0));
	tm_flow_observe(f, S, seg(&b, S, TM_TCP_SYN | A, si, ci + 1, 0, 5000, 100));
	tm_flow_observe(f, C, seg(&b, C, A, ci + 1, si + 1, 0, 101, 5000));
}

static void edges(void)
{
	struct tm_flow_state f;
	struct vbuf b;

	/* Sequence numbers wrapping through zero. */
	handshake(&f, 0xfffffff0, 0xffffffff);
	is_int(f.state, TM_ST_ESTABLISHED, "wrap: established");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 0xfffffff1, 0, 32, 102, 5000)), TM_OBS_OK,
	       "wrap: data across 2^32");
	is_int(f.c.nxt, 0x11, "wrap: c.nxt = 0xfffffff1 + 32 mod 2^32");
	is_int(tm_flow_observe(&f, S, seg(&b, S, A, 0, 0x11, 0, 5001, 102)), TM_OBS_OK,
	       "wrap: acked");
	ok(f.c.una == 0x11 && tm_flow_quiescent(&f), "wrap: c.una = 0x11, quiescent");
	is_int(tm_flow_observe(&f, S, seg(&b, S, A, 0, 0xfffffff5, 0, 5002, 102)), TM_OBS_OK,
	       "wrap: an old ack");
	is_int(f.c.una, 0x11, "wrap: old ack does not roll una back");
	is_int(tm_flow_observe(&f, S, seg(&b, S, A, 0, 0x12, 0, 5003, 102)), TM_OBS_BAD_ACK,
	       "ack beyond c.nxt: bad ack");
	ok(f.c.una == 0x11 && f.bad_ack == 1, "bad ack ignored and counted");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 0xfffffff5, 0, 4, 103, 5003)), TM_OBS_RETRANS,
	       "data below c.nxt: retransmission");
	ok(f.c.nxt == 0x11 && f.c.retrans == 1, "retransmission leaves c.nxt, counted");

	/* Timestamps: the newest (serial) TSval is kept, across the wrap. */
	handshake(&f, 1000, 2000);
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 0, 0x70000000, 5000));
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 0, 0xe0000000, 5000));
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 0, 0x10, 5000));
	is_int(f.c.tsval, 0x10, "TSval 0x10 is newer than 0xe0000000 (the clock wrapped)");
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 0, 0xfffffff8, 5000));
	is_int(f.c.tsval, 0x10, "an older TSval (reordered segment) does not replace it");
	is_int(f.c.tsecr, 5000, "TSecr is the latest segment's");

	/* SYN retransmission, new ISN, RST. */
	handshake(&f, 1000, 2000);
	is_int(tm_flow_observe(&f, C, seg(&b, C, TM_TCP_SYN, 1000, 0, 0, 100, 0)), TM_OBS_RETRANS,
	       "same ISN again: a SYN retransmission");
	is_int(f.state, TM_ST_ESTABLISHED, "SYN retransmission changes no state");
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_SYN | A, 2000, 1001, 0, 5000, 100)),
	       TM_OBS_RETRANS, "same SYN-ACK again: retransmission");
	is_int(tm_flow_observe(&f, C, seg(&b, C, TM_TCP_SYN, 7777, 0, 0, 300, 0)), TM_OBS_NEW_SYN,
	       "a SYN with a new ISN: new connection");
	ok(f.state == TM_ST_SYN_SENT && f.c.isn == 7777 && f.c.nxt == 7778 && !f.s.syn_seen &&
	       f.c.pkts == 1 && f.c.tsval == 300,
	   "model restarted from the new SYN (which is counted)");
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_SYN | A, 9, 7000, 0, 1, 300)),
	       TM_OBS_OUT_OF_STATE, "SYN-ACK acking something else: out of state");
	is_int(f.state, TM_ST_SYN_SENT, "still syn-sent");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 7778, 10, 5, 301, 1)), TM_OBS_OUT_OF_STATE,
	       "data before the SYN-ACK: out of state");
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_SYN, 9, 0, 0, 1, 0)), TM_OBS_OUT_OF_STATE,
	       "a server SYN without ACK: out of state");
	is_int(tm_flow_observe(&f, C, seg(&b, C, TM_TCP_SYN | A, 9, 0, 0, 1, 0)),
	       TM_OBS_OUT_OF_STATE, "a SYN-ACK from the client: out of state");
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_RST, 0, 0, 0, 1, 0)), TM_OBS_RST,
	       "RST before the handshake completed");
	is_int(f.state, TM_ST_CLOSED, "RST closes");
	tm_flow_init(&f);
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 1, 1, 10, 1, 1)), TM_OBS_OUT_OF_STATE,
	       "data on an unknown flow: out of state");

	/* FIN carrying data; the FIN's own sequence number. */
	handshake(&f, 1000, 2000);
	tm_flow_observe(&f, C, seg(&b, C, A | TM_TCP_FIN, 1001, 2001, 10, 102, 5000));
	ok(f.state == TM_ST_FIN_WAIT && f.c.fin_seq == 1011 && f.c.nxt == 1012,
	   "FIN with 10 bytes: fin_seq 1011, c.nxt 1012");
	tm_flow_observe(&f, S, seg(&b, S, A | TM_TCP_FIN, 2001, 1012, 0, 5001, 102));
	ok(f.state == TM_ST_CLOSING && f.s.fin_seq == 2001 && f.s.nxt == 2002,
	   "server FIN acking ours: closing");
	tm_flow_observe(&f, C, seg(&b, C, A, 1012, 2001, 0, 103, 5001));
	is_int(f.state, TM_ST_CLOSING, "an ack short of the server's FIN: still closing");
	tm_flow_observe(&f, C, seg(&b, C, A, 1012, 2002, 0, 103, 5001));
	is_int(f.state, TM_ST_CLOSED, "both FINs acked: closed");
}

/* TCP Fast Open (RFC 7413): the SYN carries data, the SYN-ACK acknowledges it. */
static void fast_open(void)
{
	struct tm_flow_state f;
	struct vbuf b;

	tm_flow_init(&f);
	tm_flow_observe(&f, C, seg(&b, C, TM_TCP_SYN, 1000, 0, 24, 100, 0));
	is_int(f.c.nxt, 1025, "TFO: the SYN's 24 bytes are in c.nxt");
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_SYN | A, 2000, 1025, 0, 5000, 100)),
	       TM_OBS_OK, "TFO: SYN-ACK acking SYN + data accepted");
	ok(f.state == TM_ST_SYN_RCVD && f.c.una == 1025 && f.s.syn_seen,
	   "TFO: syn-rcvd, c.una 1025");
	/* The server may send before the client's ACK (RFC 7413 §4.2.2). */
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1025, 100, 5001, 100));
	tm_flow_observe(&f, C, seg(&b, C, A, 1025, 2101, 0, 101, 5001));
	ok(f.state == TM_ST_ESTABLISHED && f.s.una == 2101 && tm_flow_quiescent(&f),
	   "TFO: established by an ACK that also covers server data");

	/* A server that did not take the data acks only the SYN: the client sends it again. */
	tm_flow_init(&f);
	tm_flow_observe(&f, C, seg(&b, C, TM_TCP_SYN, 1000, 0, 24, 100, 0));
	is_int(tm_flow_observe(&f, S, seg(&b, S, TM_TCP_SYN | A, 2000, 1001, 0, 5000, 100)),
	       TM_OBS_OK, "TFO refused: SYN-ACK acking the SYN only");
	ok(f.c.una == 1001 && !tm_flow_quiescent(&f), "TFO refused: 24 bytes outstanding");
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 24, 101, 5000));
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1025, 0, 5001, 101));
	ok(f.state == TM_ST_ESTABLISHED && f.c.nxt == 1025 && f.c.una == 1025 &&
	       tm_flow_quiescent(&f),
	   "TFO refused: data resent after the handshake, acked");
}

static void plausible(void)
{
	struct tm_flow_state f;
	struct vbuf b;

	handshake(&f, 1000, 2000); /* both offer wscale 2; windows 1000 */
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1001, 0, 5001, 101));
	/* Client segments are accepted in [c.una, c.nxt + (s.win << 2)) = [1001, 5001). */
	ok(tm_flow_seq_plausible(&f, C, 1001) && tm_flow_seq_plausible(&f, C, 5000) &&
	       !tm_flow_seq_plausible(&f, C, 5001) && !tm_flow_seq_plausible(&f, C, 1000) &&
	       !tm_flow_seq_plausible(&f, C, 1001 + 0x80000000u),
	   "client seq plausible in [una, nxt + scaled window)");
	f.s.syn.present &= ~TM_HAS_WSCALE; /* scaling not agreed: raw window */
	ok(tm_flow_seq_plausible(&f, C, 2000) && !tm_flow_seq_plausible(&f, C, 2001),
	   "without agreed scaling the window is raw");
	f.s.win = 0;
	ok(tm_flow_seq_plausible(&f, C, 1001) && !tm_flow_seq_plausible(&f, C, 1002),
	   "zero window: only the next byte");
}

/* Blind spoofing: a segment that knows only the 4-tuple must not move the model (tcpmigd(8),
 * SECURITY); RSTs close it only where the endpoint takes them (RFC 5961). */
static void blind(void)
{
	struct tm_flow_state f;
	struct vbuf b;

	handshake(&f, 1000, 2000); /* windows 1000 << 2 = 4000 bytes once scaled */
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1001, 0, 5001, 101));
	is_int(f.s.wnd_edge, 1001 + 4000, "the server offers [1001, 5001)");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 1001 + 1000000000u, 2001, 10, 102, 5001)),
	       TM_OBS_OUT_OF_WINDOW, "client data 10^9 ahead of c.nxt: out of the window");
	ok(f.c.nxt == 1001 && f.s.una == 2001 && f.out_of_window == 1,
	   "it moved neither c.nxt nor s.una, and was counted");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 1001 - 1000000000u, 2001, 10, 102, 5001)),
	       TM_OBS_OUT_OF_WINDOW, "client data 10^9 behind: out of the window");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 5001 + TM_WND_SLACK + 1, 2001, 0, 102, 5001)),
	       TM_OBS_OUT_OF_WINDOW, "an ACK just past the edge and its slack: ignored");
	is_int(tm_flow_observe(&f, C, seg(&b, C, A, 4991, 2001, 10, 102, 5001)), TM_OBS_OK,
	       "data up to the edge (a segment lost before the gateway left a hole)");
	is_int(f.c.nxt, 5001, "it moves c.nxt to the edge");
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 5001, 0, 5002, 102));
	is_int(f.s.wnd_edge, 5001 + 4000, "the edge follows the server's ACK");
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1001, 0, 5002, 102));
	is_int(f.s.wnd_edge, 5001 + 4000, "a reordered older ACK does not pull the edge back");

	/* RSTs (the daemon drops those outside the window before the model sees them). */
	handshake(&f, 1000, 2000);
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1001, 100, 5001, 101));
	is_int(tm_flow_observe(&f, C, seg(&b, C, TM_TCP_RST, 1500, 0, 0, 102, 0)),
	       TM_OBS_RST_CHALLENGE, "in-window RST off rcv_nxt: challenged, not taken");
	is_int(f.state, TM_ST_ESTABLISHED, "the flow stays established");
	tm_flow_observe(&f, S, seg(&b, S, A, 2101, 1001, 0, 5002, 101));
	ok(f.state == TM_ST_ESTABLISHED && !f.rst_pending, "the server's challenge ACK: it lives");
	is_int(tm_flow_observe(&f, C, seg(&b, C, TM_TCP_RST | A, 1001, 2101, 0, 103, 0)), TM_OBS_RST,
	       "RST at c.nxt (the server's rcv_nxt)");
	is_int(f.state, TM_ST_CLOSED, "closes the flow");
	tm_flow_observe(&f, S, seg(&b, S, A, 2101, 1001, 0, 5003, 101));
	is_int(f.state, TM_ST_CLOSED, "a server ACK at the RST's sequence does not reopen it");

	/* An RST at the sender's nxt that the receiver still challenges (its data was lost). */
	handshake(&f, 1000, 2000);
	tm_flow_observe(&f, C, seg(&b, C, A, 1001, 2001, 50, 102, 5000));
	tm_flow_observe(&f, C, seg(&b, C, TM_TCP_RST | A, 1051, 2001, 0, 103, 0));
	is_int(f.state, TM_ST_CLOSED, "RST at c.nxt with data in flight: taken as closing");
	tm_flow_observe(&f, S, seg(&b, S, A, 2001, 1001, 0, 5001, 102));
	is_int(f.state, TM_ST_ESTABLISHED,
	       "the server's challenge ACK (ack 1001, short of the RST) reopens it");
}

static void keys(void)
{
	const struct vec_pkt *c = &vec_real[VEC_V6_BASIC], *s = &vec_real[VEC_V6_BASIC + 1];
	struct tm_flow_key kc, ks, r, cc, cs;
	static const __u8 seed1[16] = {1}, seed2[16] = {2};
	struct vbuf b;
	struct tm_pkt p;
	int i;

	load(&b, &p, c);
	tm_flow_key_from_pkt(&kc, &p);
	load(&b, &p, s);
	tm_flow_key_from_pkt(&ks, &p);
	ok(kc.family == TM_AF_INET6 && kc.sport == c->sport && kc.dport == c->dport &&
	       !memcmp(&kc.saddr, &ks.daddr, 16) && kc.pad[0] == 0,
	   "key from packet: family, host-order ports, addresses");
	tm_flow_key_reverse(&r, &kc);
	ok(tm_flow_key_eq(&r, &ks) && !tm_flow_key_eq(&kc, &ks),
	   "reverse of the client key = server key");
	tm_flow_key_reverse(&r, &r);
	ok(tm_flow_key_eq(&r, &kc), "reverse twice, in place: identity");
	ok(tm_flow_key_canon(&cc, &kc) != tm_flow_key_canon(&cs, &ks) && tm_flow_key_eq(&cc, &cs),
	   "canonical keys of both directions equal, exactly one swapped");
	r = ks;
	tm_flow_key_canon(&r, &r);
	ok(tm_flow_key_eq(&r, &cc), "canon in place");
	ok(tm_flow_hash(&kc, seed1) == tm_flow_hash(&ks, seed1), "hash: same for both directions");
	ok(tm_flow_hash(&kc, seed1) != tm_flow_hash(&kc, seed2), "hash: depends on the seed");
	r = kc;
	r.sport++;
	ok(tm_flow_hash(&r, seed1) != tm_flow_hash(&kc, seed1), "hash: depends on the port");
	r = kc;
	r.pad[1] = 0x77; /* callers' garbage in the padding must not matter */
	ok(tm_flow_hash(&r, seed1) == tm_flow_hash(&kc, seed1), "hash: padding ignored");
	r = kc;
	r.daddr = r.saddr;
	r.dport = (__u16)(r.sport - 1);
	ok(tm_flow_key_canon(&cc, &r) == 1 && cc.sport < cc.dport, "same address: ports decide");

	static const char *const names[] = {"none",	"syn-sent", "syn-rcvd", "established",
					    "fin-wait", "closing",  "closed"};
	for (i = 0; i < TM_ST_MAX; i++)
		ok(!strcmp(tm_flow_state_name(i), names[i]), "state name %d: %s", i, names[i]);
	ok(!strcmp(tm_flow_state_name(TM_ST_MAX), "?") && !strcmp(tm_flow_state_name(-1), "?"),
	   "state name out of range: ?");

	ok(tm_seq_lt(0xffffffff, 0) && tm_seq_gt(0, 0xffffffff) && tm_seq_leq(5, 5) &&
	       tm_seq_geq(5, 5) && !tm_seq_lt(5, 5) && tm_seq_lt(0, 0x7fffffff) &&
	       !tm_seq_lt(0, 0x80000001) && tm_seq_in(0, 0xfffffff0, 0x10) &&
	       !tm_seq_in(0x10, 0xfffffff0, 0x10) && tm_seq_in(0xfffffff0, 0xfffffff0, 0x10),
	   "serial-number comparisons around the wrap (RFC 1982)");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec_real_flows) / sizeof(vec_real_flows[0]); i++) {
		in_order(&vec_real_flows[i]);
		duplicated(&vec_real_flows[i]);
	}
	/* The lossy captures have runs of client segments to swap. */
	reordered(&vec_real_flows[4]);
	reordered(&vec_real_flows[5]);
	reordered(&vec_real_flows[6]);
	states_basic();
	edges();
	fast_open();
	plausible();
	blind();
	keys();
	return tap_done();
}
