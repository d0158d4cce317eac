/* Matching: Hyperscan finds the rules whose fast pattern occurs; each candidate is then checked. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

/* --- build -------------------------------------------------------------------------------- */

static void build_error(struct rl_ctx *c, const struct rl_rule *r, const char *what)
{
	c->nerr++;
	if (!c->errs)
		return;
	if (r)
		fprintf(c->errs, "%s:%u: %s\n", r->info.file, r->info.line, what);
	else
		fprintf(c->errs, "rules: %s\n", what);
}

/* One Hyperscan block-mode database over every rule's fast pattern, its scratch, PCRE2 state. */
int rl_build(struct rl_ctx *c)
{
	struct tm_rules *rs = c->rs;
	const char **pats = NULL;
	unsigned *flags = NULL, *ids = NULL;
	size_t *lens = NULL, i, n = 0;
	hs_compile_error_t *cerr = NULL;
	int err = -ENOMEM;

	rs->nwords = rs->n ? (rs->n + 63) / 64 : 1;
	rs->always = calloc(rs->nwords, sizeof(*rs->always));
	rs->cand = calloc(rs->nwords, sizeof(*rs->cand));
	rs->md = pcre2_match_data_create(1, NULL);
	rs->mctx = pcre2_match_context_create(NULL);
	if (!rs->always || !rs->cand || !rs->md || !rs->mctx)
		goto out;
	pcre2_set_match_limit(rs->mctx, RL_PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RL_PCRE_MATCH_LIMIT);
	if (rs->n) {
		pats = calloc(rs->n, sizeof(*pats));
		flags = calloc(rs->n, sizeof(*flags));
		ids = calloc(rs->n, sizeof(*ids));
		lens = calloc(rs->n, sizeof(*lens));
		if (!pats || !flags || !ids || !lens)
			goto out;
	}
	for (i = 0; i < rs->n; i++) {
		const struct rl_rule *r = rs->rules[i];
		const struct rl_step *s;

		if (r->fast < 0) {
			rs->always[i / 64] |= 1ull << (i % 64);
			continue;
		}
		s = &r->steps[r->fast];
		pats[n] = (const char *)s->pat;
		lens[n] = s->len;
		flags[n] = HS_FLAG_SINGLEMATCH | (s->nocase ? HS_FLAG_CASELESS : 0);
		ids[n] = (unsigned)i;
		n++;
	}
	rs->npatterns = n;
	err = 0;
	if (!n)
		goto out; /* Hyperscan cannot compile an empty set: no database, every rule checked
			   */
	if (n > UINT_MAX || hs_valid_platform() != HS_SUCCESS) {
		build_error(c, NULL, "Hyperscan cannot run here (it needs an x86 CPU with SSSE3)");
		err = -EINVAL;
		goto out;
	}
	if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &rs->db,
				 &cerr) != HS_SUCCESS) {
		char msg[256];
		const struct rl_rule *r = NULL;

		if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < n)
			r = rs->rules[ids[cerr->expression]];
		snprintf(msg, sizeof(msg), "Hyperscan cannot compile the content patterns: %s",
			 cerr && cerr->message ? cerr->message : "unknown error");
		build_error(c, r, msg);
		hs_free_compile_error(cerr);
		rs->db = NULL;
		err = -EINVAL;
		goto out;
	}
	if (hs_alloc_scratch(rs->db, &rs->scratch) != HS_SUCCESS)
		err = -ENOMEM;
out:
	free(pats);
	free(flags);
	free(ids);
	free(lens);
	return err;
}

void rl_engine_free(struct tm_rules *rs)
{
	struct rl_pcre_node *p;

	for (p = rs->pcres; p; p = p->next)
		pcre2_code_free(p->re);
	rs->pcres = NULL;
	hs_free_scratch(rs->scratch);
	hs_free_database(rs->db);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mctx);
	free(rs->always);
	free(rs->cand);
	free(rs->lower);
	free(rs->memo);
}

/* --- checks without a cursor --------------------------------------------------------------- */

static bool flags_ok(const struct rl_rule *r, __u8 pkt_flags)
{
	__u8 f = pkt_flags & (__u8)~r->flags_mask;

	switch (r->flags_mode) {
	case RL_FLAGS_EXACT:
		return f == r->flags;
	case RL_FLAGS_ALL:
		return (f & r->flags) == r->flags;
	case RL_FLAGS_ANY:
		return (f & r->flags) != 0;
	case RL_FLAGS_NOT:
		return (f & r->flags) == 0;
	}
	return false;
}

static bool dsize_ok(const struct rl_rule *r, size_t len)
{
	switch (r->dsize_op) {
	case RL_DSIZE_EQ:
		return len == r->dsize_lo;
	case RL_DSIZE_LT:
		return len < r->dsize_lo;
	case RL_DSIZE_GT:
		return len > r->dsize_lo;
	case RL_DSIZE_LE:
		return len <= r->dsize_lo;
	case RL_DSIZE_GE:
		return len >= r->dsize_lo;
	case RL_DSIZE_RANGE:
		return len >= r->dsize_lo && len <= r->dsize_hi;
	}
	return false;
}

static bool flow_ok(const struct rl_rule *r, const struct tm_match_pkt *p)
{
	if (r->flow_dir && r->flow_dir != p->dir)
		return false;
	if (r->flow_state == RL_FLOW_ESTABLISHED && !p->established)
		return false;
	if (r->flow_state == RL_FLOW_NOT_ESTABLISHED && p->established)
		return false;
	return true;
}

static bool ends_ok(const struct rl_rule *r, int family, const struct tm_addr *sa, __u16 sp,
		    const struct tm_addr *da, __u16 dp)
{
	return rl_set_match_port(r->sport, sp) && rl_set_match_port(r->dport, dp) &&
	       rl_set_match_addr(r->src, family, sa) && rl_set_match_addr(r->dst, family, da);
}

static bool header_ok(const struct rl_rule *r, const struct tm_match_pkt *p)
{
	return ends_ok(r, p->family, &p->saddr, p->sport, &p->daddr, p->dport) ||
	       (r->bidir && ends_ok(r, p->family, &p->daddr, p->dport, &p->saddr, p->sport));
}

/* --- content and pcre, with backtracking ----------------------------------------------------- */

/*
 * Snort semantics: each content/pcre is searched in a window given by offset/depth (from the start)
 * or distance/within (from the cursor: the end of the previous match); a match moves the cursor.
 * When a later option fails, earlier ones are retried at their next occurrence.  (step, cursor)
 * states that failed are remembered, so the search is polynomial; a budget bounds it anyway.
 */
struct chain {
	struct tm_rules *rs;
	const struct rl_rule *r;
	const __u8 *data;
	const __u8 *lower;
	size_t len;
	__u64 *memo;
	long budget;
	int err;
};

static bool chain_from(struct chain *ch, size_t i, size_t cursor);

static const __u8 *lowered(struct chain *ch)
{
	struct tm_rules *rs = ch->rs;
	size_t i;

	if (ch->lower)
		return ch->lower;
	if (rs->lower_cap < ch->len) {
		__u8 *b = realloc(rs->lower, ch->len);

		if (!b) {
			ch->err = -ENOMEM;
			return NULL;
		}
		rs->lower = b;
		rs->lower_cap = ch->len;
	}
	for (i = 0; i < ch->len; i++) {
		__u8 b = ch->data[i];

		rs->lower[i] = b >= 'A' && b <= 'Z' ? (__u8)(b + 32) : b;
	}
	ch->lower = rs->lower;
	return ch->lower;
}

static bool content_from(struct chain *ch, size_t i, size_t cursor)
{
	const struct rl_step *s = &ch->r->steps[i];
	long long base = s->relative ? (long long)cursor + s->offset : s->offset;
	long long end = (long long)ch->len;
	const __u8 *hay, *hit;
	size_t pos;

	if (base < 0)
		base = 0;
	if (s->depth && base + s->depth < end)
		end = base + s->depth;
	if (end - base < (s->negated ? 1 : (long long)s->len))
		return false; /* Snort: a negated content needs a non-empty window */
	hay = s->len && s->nocase ? lowered(ch) : ch->data;
	if (!hay)
		return false;
	if (s->negated) {
		if (end - base >= s->len &&
		    memmem(hay + base, (size_t)(end - base), s->pat, s->len))
			return false;
		return chain_from(ch, i + 1, cursor);
	}
	for (pos = (size_t)base; pos + s->len <= (size_t)end; pos = (size_t)(hit - hay) + 1) {
		hit = memmem(hay + pos, (size_t)end - pos, s->pat, s->len);
		if (!hit || --ch->budget < 0)
			return false;
		if (chain_from(ch, i + 1, (size_t)(hit - hay) + s->len))
			return true;
	}
	return false;
}

static bool pcre_from(struct chain *ch, size_t i, size_t cursor)
{
	const struct rl_step *s = &ch->r->steps[i];
	size_t off = s->relative ? cursor : 0, slen = ch->len - off, start = 0;
	const __u8 *subj = ch->data + off;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ch->rs->md);
	int rc;

	if (s->negated) {
		rc = pcre2_match(s->re, subj, slen, 0, 0, ch->rs->md, ch->rs->mctx);
		if (rc != PCRE2_ERROR_NOMATCH)
			return false; /* matched, or hit a limit: not proven absent */
		return chain_from(ch, i + 1, cursor);
	}
	while (start <= slen) {
		size_t ms, me;

		rc = pcre2_match(s->re, subj, slen, start, 0, ch->rs->md, ch->rs->mctx);
		if (rc < 0 || --ch->budget < 0)
			return false;
		ms = ov[0];
		me = ov[1] < ms ? ms : ov[1];
		if (me > slen)
			me = slen;
		if (chain_from(ch, i + 1, off + me))
			return true;
		start = ms + 1;
	}
	return false;
}

static bool chain_from(struct chain *ch, size_t i, size_t cursor)
{
	size_t bit = 0;
	bool ok;

	if (i == ch->r->nsteps)
		return true;
	if (--ch->budget < 0)
		return false;
	if (ch->memo) {
		const struct rl_step *s = &ch->r->steps[i];

		/* An absolute, positive step's outcome does not depend on the cursor. */
		bit = i * (ch->len + 1) + (s->relative || s->negated ? cursor : 0);
		if (ch->memo[bit / 64] >> (bit % 64) & 1)
			return false;
	}
	if (ch->r->steps[i].kind == RL_STEP_CONTENT)
		ok = content_from(ch, i, cursor);
	else
		ok = pcre_from(ch, i, cursor);
	if (!ok && ch->memo)
		ch->memo[bit / 64] |= 1ull << (bit % 64);
	return ok;
}

/* Memo bits for this rule, cleared; NULL (search without memo) when one step or no memory. */
static __u64 *memo_for(struct chain *ch)
{
	struct tm_rules *rs = ch->rs;
	size_t bits, words;

	if (ch->r->nsteps < 2 || ch->len + 1 > SIZE_MAX / 64 / ch->r->nsteps)
		return NULL;
	bits = ch->r->nsteps * (ch->len + 1);
	words = (bits + 63) / 64;
	if (rs->memo_cap < words) {
		__u64 *m = realloc(rs->memo, words * sizeof(*m));

		if (!m)
			return NULL;
		rs->memo = m;
		rs->memo_cap = words;
	}
	memset(rs->memo, 0, words * sizeof(*rs->memo));
	return rs->memo;
}

static bool rule_match(struct chain *ch, const struct rl_rule *r, const struct tm_match_pkt *p)
{
	if (r->has_flags && !flags_ok(r, p->flags))
		return false;
	if (!flow_ok(r, p))
		return false;
	if (r->has_dsize && !dsize_ok(r, p->len))
		return false;
	if (!header_ok(r, p))
		return false;
	if (!r->nsteps)
		return true;
	ch->r = r;
	ch->budget = RL_MATCH_BUDGET;
	ch->memo = memo_for(ch);
	return chain_from(ch, 0, 0);
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	__u64 *cand = ctx;

	cand[id / 64] |= 1ull << (id % 64);
	return 0;
}

int tm_rules_match(struct tm_rules *rs, const struct tm_match_pkt *p, tm_rules_cb cb, void *user)
{
	static const __u8 empty[1];
	struct chain ch = {.rs = rs};
	int err = 0, nmatch = 0;
	size_t w;

	if (!rs || !p || (!p->data && p->len) || p->len > UINT_MAX)
		return -EINVAL;
	if (rs->busy)
		return -EBUSY;
	if (!rs->n)
		return 0;
	rs->busy = true;
	memcpy(rs->cand, rs->always, rs->nwords * sizeof(*rs->cand));
	if (rs->db && p->len) {
		hs_error_t e = hs_scan(rs->db, (const char *)p->data, (unsigned)p->len, 0,
				       rs->scratch, on_hs_match, rs->cand);

		if (e != HS_SUCCESS) {
			err = e == HS_NOMEM ? -ENOMEM : -EIO;
			goto out;
		}
	}
	ch.data = p->data ? p->data : empty;
	ch.len = p->len;
	for (w = 0; w < rs->nwords; w++) {
		__u64 bits = rs->cand[w];

		while (bits) {
			struct rl_rule *r = rs->rules[w * 64 + (size_t)__builtin_ctzll(bits)];

			bits &= bits - 1;
			if (!rule_match(&ch, r, p)) {
				if (ch.err) {
					err = ch.err;
					goto out;
				}
				continue;
			}
			r->info.hits++;
			nmatch++;
			if (cb)
				cb(&r->info, user);
		}
	}
out:
	rs->busy = false;
	return err ? err : nmatch;
}
