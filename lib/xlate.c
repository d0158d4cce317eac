/* The inverse of a translation: what undoes tm_xlate_apply() on the same direction (tests, rollback). */
#include <string.h>

#include <tcpmig/flow.h>
#include <tcpmig/xlate.h>

void tm_xlate_inverse(struct tm_xlate *inv, const struct tm_xlate *x, const struct tm_flow_key *orig)
{
	memset(inv, 0, sizeof(*inv));
	inv->family = x->family;
	inv->flags = x->flags;
	inv->saddr = orig->saddr;
	inv->daddr = orig->daddr;
	inv->sport = orig->sport;
	inv->dport = orig->dport;
	inv->seq_delta = (__u32)-x->seq_delta;
	inv->ack_delta = (__u32)-x->ack_delta;
	inv->tsval_delta = (__u32)-x->tsval_delta;
	inv->tsecr_delta = (__u32)-x->tsecr_delta;
	inv->win_shift = (__s8)-x->win_shift;
}
