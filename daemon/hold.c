/* The hold queue: client segments kept without a verdict (the analyzer's first request, a
 * handoff's 'm'), bounded, released through the flow's translation or dropped, never leaked. */
#include <stdlib.h>
#include <string.h>

#include "tcpmigd.h"

int hold_init(struct hold_q *q)
{
	memset(q, 0, sizeof(*q));
	q->pkt = calloc(TM_HOLD_MAX_PKTS, sizeof(*q->pkt));
	return q->pkt ? 0 : -1;
}

int hold_push(struct hold_q *q, const struct pkt_ctx *x)
{
	struct held_pkt *h;
	__u32 seq = tm_pkt_seq(&x->p);
	__u32 end = seq + x->p.payload_len + ((x->p.tcp->flags & TM_TCP_FIN) ? 1 : 0);

	if (!q->pkt || q->n == TM_HOLD_MAX_PKTS || q->bytes + x->len > TM_HOLD_MAX_BYTES)
		return -1;
	h = &q->pkt[q->n];
	h->data = malloc(x->len);
	if (!h->data)
		return -1;
	memcpy(h->data, x->data, x->len);
	h->len = x->len;
	h->id = x->id;
	h->csum_partial = x->csum_partial;
	if (!q->n || tm_seq_gt(end, q->end))
		q->end = end;
	/* The oldest TSval held (a client's clock only moves on): a replayed SYN must carry none
	 * newer, or the new backend's PAWS check drops the held segments (RFC 7323 5.3). */
	if (x->p.opts.present & TM_HAS_TS) {
		if (!q->have_ts || tm_seq_lt(x->p.opts.tsval, q->first_tsval))
			q->first_tsval = x->p.opts.tsval;
		q->have_ts = true;
	}
	q->n++;
	q->bytes += x->len;
	g_cnt.pkts_held++;
	return 0;
}

/* Forget the held packets (their verdicts are given elsewhere or have been). */
static void hold_clear(struct hold_q *q)
{
	for (unsigned i = 0; i < q->n; i++) {
		free(q->pkt[i].data);
		q->pkt[i].data = NULL;
	}
	q->n = 0;
	q->bytes = 0;
	q->have_ts = false;
}

void hold_release(struct flow *f, struct hold_q *q)
{
	gw_release(f, q->pkt, q->n);
	hold_clear(q);
}

void hold_drop(struct hold_q *q)
{
	for (unsigned i = 0; i < q->n; i++)
		nfq_verdict(q->pkt[i].id, 0, NULL, 0);
	hold_clear(q);
}

void hold_move(struct hold_q *dst, struct hold_q *src)
{
	struct held_pkt *keep = dst->pkt;

	hold_drop(dst);
	*dst = *src;
	src->pkt = keep;
	src->n = 0;
	src->bytes = 0;
	src->have_ts = false;
}

void hold_free(struct hold_q *q)
{
	/* Each held packet owns an NFQUEUE slot until it gets a verdict: drop, never just free. */
	hold_drop(q);
	free(q->pkt);
	q->pkt = NULL;
}
