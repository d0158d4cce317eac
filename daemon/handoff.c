/* The handoff of DESIGN.md §3: quiesce, replay SYN, intercept SYN-ACK, third ACK, deltas, commit or
 * roll back without a trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/build.h>

#include "tcpmigd.h"

static struct flow *active; /* flows with a running handoff */

static void active_add(struct flow *f)
{
	f->hprev = NULL;
	f->hnext = active;
	if (active)
		active->hprev = f;
	active = f;
}

static void active_del(struct flow *f)
{
	if (f->hprev)
		f->hprev->hnext = f->hnext;
	else if (active == f)
		active = f->hnext;
	if (f->hnext)
		f->hnext->hprev = f->hprev;
	f->hnext = f->hprev = NULL;
}

/*
 * The model as the replayed handshake must present it: the client's next sequence fixed at the
 * cut (however far the client has gone since: its data is held) and a TSval no newer than the
 * oldest held segment's, so the new backend's PAWS check takes every held segment.
 */
static struct tm_flow_state replay_view(const struct flow *f, const struct replay_rec *r)
{
	struct tm_flow_state st = f->st;

	st.c.nxt = r->cut_seq;
	st.c.tsval = r->tsval;
	return st;
}

static void send_syn(struct flow *f, uint64_t now)
{
	struct tm_flow_state st = replay_view(f, &f->hs.rec);

	if (craft_replay_syn(f, &f->hs.to, &st) == 0) {
		if (f->hs.tries++)
			g_cnt.crafted_syn_retrans++;
		else
			g_cnt.crafted_syn++;
	}
	f->hs.next_tx_ns = now + (uint64_t)f->hs.rto_ms * 1000000ull;
	f->hs.rto_ms *= 2;
}

/* The third ACK of the handshake that @r recorded, to @to (the target, or after the commit the
 * flow's backend answering its own repeated SYN-ACK). */
static void send_third_ack(struct flow *f, const struct tm_endpoint_cfg *to,
			   const struct replay_rec *r)
{
	struct tm_flow_state st = replay_view(f, r);

	if (craft_third_ack(f, to, &st, r->isn2, r->t2, &r->syn2) == 0)
		g_cnt.crafted_ack++;
}

static void send_rst_seq(struct flow *f, const struct tm_endpoint_cfg *ep, __u32 seq)
{
	if (craft_rst_backend(f, ep, seq) == 0)
		g_cnt.crafted_rst++;
}

/*
 * The backend the flow is leaving sent a (plausible) RST.  Before the cut (HS_QUIESCE) that is
 * the flow's end like any other: the handoff is abandoned and the RST goes on to the client.
 * After the cut the old backend holds nothing the flow still needs (everything either way was
 * acknowledged, new client data is held for the target) and the commit would reset it anyway:
 * the RST is absorbed and the handoff goes on.  A server application can well do this: one that
 * accepted the connection and closes its listener on an error resets every connection still in
 * its accept queue (iperf3 does, when the commit's RST ends the connection it was reading).  If
 * the handoff then rolls back, there is no backend left: the client gets the reset then.
 */
bool hs_old_backend_reset(struct flow *f)
{
	char a[64];

	if (f->hs.st < HS_SYN_SENT)
		return false;
	if (!f->hs.old_reset)
		log_info("flow %llu: %s reset the flow during its handoff, after the cut: absorbed",
			 (unsigned long long)f->id, ep_str(&f->hs.from, a, sizeof(a)));
	f->hs.old_reset = true;
	g_cnt.old_backend_rst_absorbed++;
	return true;
}

/*
 * Often the only thing in flight is an acknowledgment a receiver is delaying (40 ms and more).
 * A keep-alive-style segment (seq = next - 1, no data) is out of window for the receiver, which
 * answers it at once with an ACK of everything it holds (RFC 9293 3.10.7.4; Linux rate-limits
 * these per socket, tcp_invalid_ratelimit, so a second handoff within 0.5 s may still wait).
 */
static __u16 win16(__u32 w)
{
	return (__u16)(w > 0xffff ? 0xffff : w);
}

static void solicit_acks(struct flow *f)
{
	struct tm_flow_state *st = &f->st;

	/* To the client as the service, and to the backend as the client: seq = next - 1, and
	 * what the other side has acknowledged, never more (should the receiver take the segment
	 * as acceptable, its ACK field is processed, and an ACK of data the sender lacks would
	 * never be retransmitted). */
	if (st->s.una != st->s.nxt &&
	    craft_ack_client(f, st->s.nxt - 1, st->c.una,
			     f->pause_client ? win16((st->c.nxt - st->c.una) >> flow_client_s_ws(f))
					     : (__u16)st->s.win,
			     st->s.tsval) == 0)
		g_cnt.crafted_probe++;
	if (st->c.una != st->c.nxt &&
	    craft_ack_backend(f, st->c.nxt - 1, st->s.una,
			      f->pause_server ? win16((st->s.nxt - st->s.una) >> flow_client_c_ws(f))
					      : (__u16)st->c.win) == 0)
		g_cnt.crafted_probe++;
}

/*
 * Where a handoff may cut (DESIGN.md §3.2): nothing in flight either way, and the stream at a
 * boundary: the client's next data segment 'm' is held (it goes to the new backend), or the
 * server has sent data since the client's last data (its request is answered), or the client
 * never sent any.  Without the boundary a request the old backend's kernel acknowledged but its
 * application has not answered yet would be lost with the reset.  'quiesce-mode bytes' skips it.
 */
static bool at_boundary(const struct flow *f)
{
	return g_conf->quiesce_bytes || f->hs.held.n > 0 || !f->awaiting_reply;
}

static bool ready(const struct flow *f)
{
	return tm_flow_quiescent(&f->st) && at_boundary(f);
}

/*
 * Zero windows that make the flow drain.  The client is paused once its next segment is held
 * (everything after it would only be held too).  The server is paused only after the settle time
 * (a stream that never pauses by itself, a bulk transfer) and only at a boundary: a server that
 * owes a reply must be able to send it.
 */
static void set_pauses(struct flow *f)
{
	bool pc = g_conf->quiesce_bytes || f->hs.held.n > 0 || f->hs.st >= HS_SYN_SENT;
	bool ps = at_boundary(f) && (g_conf->quiesce_bytes || f->hs.settled || f->hs.st >= HS_SYN_SENT);
	bool more = (pc && !f->pause_client) || (ps && !f->pause_server);

	f->pause_client = pc;
	f->pause_server = ps;
	f->hs.paused |= pc || ps;
	if (more && f->hs.st == HS_QUIESCE)
		solicit_acks(f);
}

static void start_syn(struct flow *f, uint64_t now)
{
	struct replay_rec *r = &f->hs.rec;

	/* The cut: from here c.nxt must not move (every later client byte is held). */
	r->cut_seq = f->st.c.nxt;
	r->tsval = f->st.c.tsval;
	if (f->hs.held.have_ts && tm_seq_lt(f->hs.held.first_tsval, r->tsval))
		r->tsval = f->hs.held.first_tsval;
	f->hs.st = HS_SYN_SENT;
	f->hs.deadline_ns = now + (uint64_t)g_conf->handoff_timeout_ms * 1000000ull;
	set_pauses(f); /* nothing new may start now: the cut is here */
	send_syn(f, now);
}

const char *hs_begin(struct flow *f, const struct tm_endpoint_cfg *to, struct ctl_conn *waiter)
{
	const struct tm_service *svc = f->svc;
	struct tm_flow_key tk;
	struct hold_q held;
	struct fnode *n;
	bool known = false;
	uint64_t now = now_ns();

	if (f->hs.st != HS_NONE)
		return "busy";
	/* The analyzer holds this flow's first request and will decide where it goes: one
	 * decision at a time.  A flow whose request has not come yet is the operator's now. */
	if (f->an && !f->an_done)
		return "analyzer-busy";
	f->an_done = true;
	if (f->st.state != TM_ST_ESTABLISHED)
		return "not-established";
	for (int i = 0; i < svc->nbackends; i++)
		known |= ep_eq(&svc->backends[i], to);
	if (!known)
		return "unknown-backend";
	if (ep_eq(&f->backend, to))
		return "same-backend";
	flow_backend_key(f, to, &tk);
	n = table_lookup(&tk);
	if (n && !(n->flow == f && n->kind == FN_OLD))
		return "busy"; /* that backend already has this client tuple in another flow */
	if (hold_init(&held))
		return "out-of-memory";
	if (n)
		table_drop_tomb(f, &tk);
	fast_takeback(f); /* a handoff runs in the slow path */

	memset(&f->hs, 0, sizeof(f->hs));
	f->hs.held = held;
	f->hs.target_was_old = n != NULL;
	f->hs.to = *to;
	f->hs.from = f->backend;
	f->hs.started_ns = now;
	f->hs.rto_ms = g_conf->syn_rto_ms;
	f->hs.waiter = waiter;
	table_link(&f->hs.target_node, f, &tk, FN_TARGET);
	active_add(f);
	g_cnt.migrations_started++;
	if (ready(f)) {
		start_syn(f, now);
	} else {
		/* Something is in flight or unanswered: wait for a boundary (DESIGN.md §3.2). */
		f->hs.st = HS_QUIESCE;
		f->hs.deadline_ns = now + (uint64_t)g_conf->quiesce_timeout_ms * 1000000ull;
		f->hs.settle_ns = now + (uint64_t)g_conf->quiesce_settle_ms * 1000000ull;
		f->hs.settled = g_conf->quiesce_settle_ms == 0;
		set_pauses(f);
		if (!f->pause_client && !f->pause_server)
			solicit_acks(f); /* a delayed ACK may be all that is missing */
	}
	return NULL;
}

static void finish(struct flow *f, const char *reason)
{
	uint64_t el = (now_ns() - f->hs.started_ns) / 1000;
	struct ctl_conn *w = f->hs.waiter;

	table_unlink(&f->hs.target_node);
	active_del(f);
	f->hs.st = HS_NONE;
	f->hs.waiter = NULL;
	f->s_win_real = 0; /* no pause any more */
	hold_free(&f->hs.held); /* released before: none left, normally */
	if (w)
		ctl_migrate_done(w, f, reason, el);
}

/*
 * Roll back: the flow goes on with its backend as if nothing had happened.  The held segments go
 * there, and both ends get their real windows at once: a pause left them in persist mode with a
 * backed-off probe timer (up to 2 minutes), and the flow would look dead meanwhile.
 */
void hs_abort(struct flow *f, const char *reason)
{
	char a[64], b[64];
	struct tm_flow_key tk;

	if (f->hs.st == HS_NONE)
		return;
	if (f->hs.st >= HS_SYN_SENT)
		send_rst_seq(f, &f->hs.to, f->hs.rec.cut_seq);
	/* The target may be a former backend whose late packets must stay dropped. */
	flow_backend_key(f, &f->hs.to, &tk);
	table_unlink(&f->hs.target_node);
	if (f->hs.target_was_old)
		table_add_tomb(f, &tk);
	f->pause_client = f->pause_server = false;
	if (f->hs.old_reset) {
		/* Back to a backend that has reset the flow: it is over, tell the client. */
		hold_drop(&f->hs.held);
		if (craft_rst_client(f) == 0)
			g_cnt.crafted_rst_client++;
		f->st.state = TM_ST_CLOSED;
	} else {
		hold_release(f, &f->hs.held);
		if (f->st.state != TM_ST_CLOSED)
			craft_window_updates(f);
	}
	f->rollbacks++;
	snprintf(f->last_error, sizeof(f->last_error), "%s", reason);
	g_cnt.migrations_rolled_back++;
	log_info("flow %llu: handoff %s -> %s rolled back: %s", (unsigned long long)f->id,
		 ep_str(&f->hs.from, a, sizeof(a)), ep_str(&f->hs.to, b, sizeof(b)), reason);
	ev_push("rollback", f->id, "%s -> %s: %s", a, b, reason);
	finish(f, reason);
}

static void commit(struct flow *f)
{
	struct tm_flow_state *st = &f->st;
	struct handoff *hs = &f->hs;
	struct tm_endpoint_cfg old = f->backend;
	struct tm_flow_key bk;
	__u32 dseq, dts = 0;
	bool ts = (hs->rec.syn2.present & TM_HAS_TS) != 0;
	char a[64], b[64];

	if (st->c.nxt != hs->rec.cut_seq) {
		/* Something reached the old backend after the SYN was replayed: the new one would
		 * wait for bytes it never gets.  Cannot happen while every later byte is held; if it
		 * does, the handoff leaves no trace instead. */
		hs_abort(f, "cut-moved");
		return;
	}
	dseq = st->s.nxt - (hs->rec.isn2 + 1);
	if (ts)
		dts = st->s.tsval + 1 - hs->rec.t2; /* B2's clock, never behind what the client saw */

	f->backend = hs->to;
	flow_set_endpoints(f);
	/* Scaling is on for the new backend only if the client had it and the target granted it. */
	if ((st->c.syn.present & TM_HAS_WSCALE) && (st->s.syn.present & TM_HAS_WSCALE)) {
		bool on = (hs->rec.syn2.present & TM_HAS_WSCALE) != 0;

		f->be_wscale = on ? hs->rec.syn2.wscale : 0;
		f->be_c_wscale = on ? st->c.syn.wscale : 0;
	} else {
		f->be_wscale = f->be_c_wscale = 0;
	}
	f->s2c.seq_delta = dseq;
	f->s2c.tsval_delta = dts;
	f->s2c.win_shift = (__s8)(f->be_wscale - flow_client_s_ws(f));
	f->c2s.ack_delta = (__u32)-dseq;
	f->c2s.tsecr_delta = (__u32)-dts;
	f->c2s.win_shift = (__s8)(flow_client_c_ws(f) - f->be_c_wscale);
	f->spliced = true;

	f->be_rec = hs->rec;
	f->be_rec.valid = true;
	/* The old backend's half: reset it, and drop whatever it still sends. */
	send_rst_seq(f, &old, st->c.nxt);
	flow_backend_key(f, &old, &bk);
	table_unlink(&f->bnode);
	table_unlink(&hs->target_node);
	table_add_tomb(f, &bk);
	flow_backend_key(f, &f->backend, &bk);
	table_link(&f->bnode, f, &bk, FN_BACKEND);

	f->pause_client = f->pause_server = false;
	f->migrations++;
	f->last_error[0] = '\0';
	g_cnt.migrations_committed++;
	hold_release(f, &hs->held);

	/* Reopen the client's window at once (it may sit in persist mode after the pause), with
	 * what the backends acknowledged, not c.nxt: the release just advanced c.nxt over data the
	 * new backend has not acknowledged (and may drop, beyond its first window). */
	{
		__u32 w = hs->rec.syn2.window >> flow_client_s_ws(f);

		if (ts)
			st->s.tsval = hs->rec.t2 + dts;
		if (craft_ack_client(f, st->s.nxt, st->c.una,
				     (__u16)(w > 0xffff ? 0xffff : (w ? w : 1)), st->s.tsval) == 0)
			g_cnt.crafted_winupdate++;
	}
	log_info("flow %llu: handed off %s -> %s (dseq %u, dts %u, wshift %d/%d, %.3f ms)",
		 (unsigned long long)f->id, ep_str(&old, a, sizeof(a)), ep_str(&f->backend, b, sizeof(b)),
		 dseq, dts, f->s2c.win_shift, f->c2s.win_shift,
		 (double)(now_ns() - hs->started_ns) / 1e6);
	ev_push("migration", f->id, "%s -> %s in %.3f ms", a, b, (double)(now_ns() - hs->started_ns) / 1e6);
	finish(f, NULL);
	fast_offload(f, now_ns()); /* with the new translation */
}

static void try_commit(struct flow *f)
{
	if (f->hs.st == HS_ESTAB && ready(f))
		commit(f);
}

void hs_after_packet(struct flow *f, uint64_t now)
{
	if (f->hs.st == HS_QUIESCE) {
		if (ready(f))
			start_syn(f, now);
		else
			set_pauses(f);
	} else if (f->hs.st == HS_ESTAB) {
		try_commit(f);
	}
}

bool hs_client_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v)
{
	__u8 fl = x->p.tcp->flags;
	__u32 seq = tm_pkt_seq(&x->p), end;
	struct hold_q *q = &f->hs.held;

	if (fl & TM_TCP_RST) {
		hs_abort(f, "flow-closed");
		return false;
	}
	if (!(x->p.payload_len || (fl & TM_TCP_FIN)))
		return false;
	end = seq + x->p.payload_len + ((fl & TM_TCP_FIN) ? 1 : 0);
	/*
	 * New data (or FIN) during a handoff is held (DESIGN.md 'm'): it goes to whichever backend
	 * the flow has when the handoff ends.  Before the cut, a segment that starts below c.nxt is
	 * a retransmission for the old backend (which must get it to become quiescent).  After the
	 * cut c.nxt is the replayed SYN's: anything reaching past it is held, a segment straddling
	 * it too (the new backend trims the part it has).
	 */
	if (f->hs.st == HS_QUIESCE ? tm_seq_lt(seq, f->st.c.nxt) : tm_seq_leq(end, f->st.c.nxt))
		return false;
	if (q->n && tm_seq_leq(end, q->end)) {
		g_cnt.pkts_held_dup++; /* a retransmission of what we hold already */
		*v = V_DROP;
		return true;
	}
	if (hold_push(q, x)) {
		g_cnt.pkts_dropped_hold_full++;
		*v = V_DROP; /* the client retransmits it */
		return true;
	}
	/* Its acknowledgment counts now (the model sees the segment itself only at release):
	 * a request often carries the only ACK of the reply before it. */
	if ((fl & TM_TCP_ACK) && tm_seq_gt(tm_pkt_ack(&x->p), f->st.s.una) &&
	    tm_seq_leq(tm_pkt_ack(&x->p), f->st.s.nxt))
		f->st.s.una = tm_pkt_ack(&x->p);
	*v = V_HOLD;
	if (f->hs.st == HS_QUIESCE)
		hs_after_packet(f, now_ns());
	return true;
}

void hs_adopt_held(struct flow *f, struct hold_q *q)
{
	hold_move(&f->hs.held, q);
	if (f->hs.st == HS_QUIESCE)
		hs_after_packet(f, now_ns());
}

void hs_old_backend_closing(struct flow *f)
{
	if (f->hs.st == HS_NONE)
		return;
	/* A FIN: the old backend has more to say than the cut assumed (the client must get it
	 * from there); an RST before the cut: the flow is ending.  Either way it does not move. */
	hs_abort(f, "old-backend-closed");
}

bool hs_repeated_synack(struct flow *f, const struct pkt_ctx *x)
{
	const struct replay_rec *r = &f->be_rec;

	if (!r->valid || (x->p.tcp->flags & (TM_TCP_SYN | TM_TCP_ACK | TM_TCP_RST)) !=
			     (TM_TCP_SYN | TM_TCP_ACK) ||
	    tm_pkt_seq(&x->p) != r->isn2 || tm_pkt_ack(&x->p) != r->cut_seq)
		return false;
	/* Still in SYN-RECEIVED: neither our third ACK nor a data segment reached it yet. */
	g_cnt.synack_repeated++;
	send_third_ack(f, &f->backend, r);
	return true;
}

static const char *options_problem(const struct flow *f, const struct tm_synopts *o)
{
	const struct tm_flow_state *st = &f->st;

	if ((st->c.syn.present & st->s.syn.present & TM_HAS_TS) && !(o->present & TM_HAS_TS))
		return "target-options"; /* the client expects timestamps on every segment */
	return NULL;
}

/*
 * An RST from the target answers our SYN (RST-ACK acking it: ack = cut_seq), or, after its
 * SYN-ACK, sits at its next sequence number.  Anything else did not come from the target.
 */
static bool target_rst_plausible(const struct flow *f, const struct pkt_ctx *x)
{
	const struct handoff *hs = &f->hs;

	if ((x->p.tcp->flags & TM_TCP_ACK) && tm_pkt_ack(&x->p) == hs->rec.cut_seq)
		return true;
	return hs->have_synack && tm_pkt_seq(&x->p) == hs->rec.isn2 + 1;
}

bool hs_target_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v)
{
	struct handoff *hs = &f->hs;
	__u8 fl = x->p.tcp->flags;
	const char *why;

	*v = V_DROP; /* nothing from the target reaches the client before the commit */
	if (hs->st < HS_SYN_SENT)
		return true; /* nothing asked it yet */
	if (fl & TM_TCP_RST) {
		if (!target_rst_plausible(f, x)) {
			g_cnt.pkts_dropped_spoofed++;
			return true;
		}
		hs_abort(f, "target-refused");
		return true;
	}
	if ((fl & (TM_TCP_SYN | TM_TCP_ACK)) != (TM_TCP_SYN | TM_TCP_ACK)) {
		/*
		 * A bare ACK answering our SYN comes from a connection of this very tuple that the
		 * target still holds (the RST of an earlier commit away from it was lost): a challenge
		 * ACK carrying its rcv_nxt (RFC 5961 4.2).  Reset it exactly there and replay the SYN
		 * at once; otherwise every SYN draws another challenge ACK until the handoff times out.
		 * One answer per SYN sent: a forger cannot make us send a stream of RSTs.
		 */
		if (hs->st == HS_SYN_SENT && (fl & TM_TCP_ACK) && !x->p.payload_len &&
		    hs->challenge_try != hs->tries) {
			hs->challenge_try = hs->tries;
			send_rst_seq(f, &hs->to, tm_pkt_ack(&x->p));
			hs->next_tx_ns = now_ns();
		}
		return true;
	}
	if (tm_pkt_ack(&x->p) != hs->rec.cut_seq)
		return true; /* not an answer to our replayed SYN */
	if (hs->st == HS_ESTAB) {
		if (tm_pkt_seq(&x->p) == hs->rec.isn2)
			send_third_ack(f, &hs->to, &hs->rec); /* ours was lost: it repeats itself */
		return true;
	}
	hs->rec.isn2 = tm_pkt_seq(&x->p);
	hs->rec.syn2.present =
	    x->p.opts.present & (TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS);
	hs->rec.syn2.mss = x->p.opts.mss;
	hs->rec.syn2.wscale = x->p.opts.wscale;
	hs->rec.syn2.window = tm_pkt_window(&x->p);
	hs->rec.t2 = x->p.opts.tsval;
	hs->have_synack = true;
	why = options_problem(f, &hs->rec.syn2);
	if (why) {
		hs_abort(f, why);
		return true;
	}
	send_third_ack(f, &hs->to, &hs->rec);
	hs->st = HS_ESTAB;
	try_commit(f);
	return true;
}

void hs_tick(struct flow *f, uint64_t now)
{
	struct handoff *hs = &f->hs;

	if (hs->st == HS_NONE)
		return;
	if (now >= hs->deadline_ns) {
		hs_abort(f, hs->st == HS_QUIESCE	 ? "quiescence-timeout"
			    : hs->st == HS_SYN_SENT ? "target-timeout"
						    : "old-backend-active");
		return;
	}
	if (hs->st == HS_QUIESCE && !hs->settled && now >= hs->settle_ns) {
		hs->settled = true;
		set_pauses(f);
	}
	if (hs->st == HS_SYN_SENT && now >= hs->next_tx_ns)
		send_syn(f, now);
}

void hs_tick_all(uint64_t now)
{
	struct flow *f, *next;

	for (f = active; f; f = next) {
		next = f->hnext;
		hs_tick(f, now);
	}
}
