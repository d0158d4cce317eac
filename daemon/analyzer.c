/* Traffic analyzer: Snort-subset rules (libtcpmig rules, Hyperscan + PCRE2) on the first bytes a
 * client sends; the policy of tcpmigd.conf(5) turns a hit into forward / migrate / reset / drop.
 * The first request is held until the decision, so a backend never sees a request that is to be
 * handed off (seed 000). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/rules.h>

#include "tcpmigd.h"

struct an_state {
	struct flow *flow;
	struct an_state *next, *prev; /* flows being inspected */
	uint8_t *buf;		      /* in-order client bytes, up to cap */
	uint32_t len;
	uint32_t cap;		      /* inspect-depth when inspection began */
	uint32_t next_seq;	      /* client seq that extends buf */
	uint64_t deadline_ns;
	uint8_t flags;		      /* of the latest segment */
	struct hold_q held;	      /* the request, until the decision */
};

static struct tm_rules *rules;
static struct an_state *inspecting;

bool an_enabled(void)
{
	return rules != NULL;
}

static struct tm_rules *load(const struct tm_config *c, FILE *errs, int *nerr)
{
	*nerr = 0;
	return tm_rules_load(c->rules_path, NULL, errs, nerr);
}

int an_init(struct tm_config *c)
{
	int nerr;

	if (!c->rules_path[0])
		return 0;
	rules = load(c, stderr, &nerr);
	if (!rules) {
		log_warnx("%s: %d error(s) in the rules, not starting", c->rules_path, nerr);
		return -1;
	}
	log_info("analyzer: %zu rule(s) from %s, %zu content pattern(s), %d policy line(s)",
		 tm_rules_count(rules), c->rules_path, tm_rules_npatterns(rules), c->npolicies);
	return 0;
}

static void unlink_state(struct an_state *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else if (inspecting == a)
		inspecting = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
}

void an_flow_free(struct flow *f)
{
	struct an_state *a = f->an;

	if (!a)
		return;
	unlink_state(a);
	hold_free(&a->held);
	free(a->buf);
	free(a);
	f->an = NULL;
}

void an_fini(void)
{
	while (inspecting)
		an_flow_free(inspecting->flow);
	tm_rules_free(rules);
	rules = NULL;
}

/* ---- decisions ------------------------------------------------------------------------- */

struct hit {
	const struct tm_rule_info *rule;
	const struct tm_policy *pol;
	bool pass;
	unsigned alerts;
	struct flow *f;
};

static bool policy_matches(const struct tm_policy *p, const struct tm_rule_info *r)
{
	switch (p->sel) {
	case PS_SID:
		return r->sid == p->sid && r->gid == p->gid;
	case PS_MSG:
		return r->msg && !strcmp(r->msg, p->value);
	case PS_CLASSTYPE:
		return r->classtype && !strcmp(r->classtype, p->value);
	case PS_METADATA:
		for (size_t i = 0; i < r->n_metadata; i++)
			if (!strcmp(r->metadata[i].key, p->key) && r->metadata[i].value &&
			    !strcmp(r->metadata[i].value, p->value))
				return true;
		return false;
	}
	return false;
}

static void on_hit(const struct tm_rule_info *r, void *user)
{
	struct hit *h = user;

	if (r->action == TM_RULE_PASS) {
		h->pass = true;
		return;
	}
	h->alerts++;
	ev_push("alert", h->f->id, "[%u:%u:%u] %s%s%s", r->gid, r->sid, r->rev, r->msg,
		r->classtype ? " classtype:" : "", r->classtype ? r->classtype : "");
	if (h->pol)
		return; /* the first rule (load order) with a policy decides */
	for (int i = 0; i < g_conf->npolicies; i++) {
		if (policy_matches(&g_conf->policies[i], r)) {
			h->pol = &g_conf->policies[i];
			h->rule = r;
			return;
		}
	}
}

static const char *act_name(enum pol_action a)
{
	static const char *const n[] = { "none", "forward", "migrate", "reset", "drop" };

	return (unsigned)a < 5 ? n[a] : "?";
}

/* A pool member other than the current backend, round robin. */
static const struct tm_endpoint_cfg *pick(struct flow *f, const struct tm_target *t)
{
	struct tm_pool *p;

	if (t->pool < 0)
		return &t->to;
	p = &g_conf->pools[t->pool];
	for (int i = 0; i < p->n; i++) {
		const struct tm_endpoint_cfg *e = &p->eps[p->rr++ % (unsigned)p->n];

		if (!ep_eq(e, &f->backend))
			return e;
	}
	return NULL;
}

static void decide(struct flow *f, const struct tm_target *t, const char *why)
{
	struct an_state *a = f->an;
	const struct tm_endpoint_cfg *to;
	const char *err;
	char b[64];

	f->an_done = true;
	unlink_state(a);
	g_cnt.analyzer_decisions++;
	switch (t->act) {
	case PA_MIGRATE:
		to = pick(f, t);
		err = to ? hs_begin(f, to, NULL) : "no-pool-member";
		if (!err) {
			/* The held request goes to the new backend once the handoff commits (or to
			 * the old one now if it already ended: hs_begin() can roll back at once). */
			if (f->hs.st != HS_NONE)
				hs_adopt_held(f, &a->held);
			else
				hold_release(f, &a->held);
			ev_push("decision", f->id, "%s: migrate to %s", why, ep_str(to, b, sizeof(b)));
			g_cnt.analyzer_migrate++;
			break;
		}
		ev_push("decision", f->id, "%s: migrate failed (%s), forwarding", why, err);
		log_info("flow %llu: analyzer could not start the handoff: %s", (unsigned long long)f->id,
			 err);
		__attribute__((fallthrough)); /* stay */
	case PA_FORWARD:
	case PA_NONE:
		if (t->act != PA_MIGRATE)
			ev_push("decision", f->id, "%s: forward", why);
		g_cnt.analyzer_forward++;
		hold_release(f, &a->held);
		break;
	case PA_RESET:
		ev_push("decision", f->id, "%s: reset", why);
		g_cnt.analyzer_reset++;
		hold_drop(&a->held);
		craft_reset_both(f);
		f->st.state = TM_ST_CLOSED;
		break;
	case PA_DROP:
		ev_push("decision", f->id, "%s: drop", why);
		g_cnt.analyzer_drop++;
		hold_drop(&a->held);
		f->an_dropping = true;
		break;
	}
	log_debug("flow %llu: analyzer decided %s (%s)", (unsigned long long)f->id, act_name(t->act), why);
	an_flow_free(f);
}

/* Run the rules over what we have; decide when a rule with a policy hits or the bytes run out. */
static void evaluate(struct flow *f, bool final)
{
	struct an_state *a = f->an;
	struct tm_match_pkt m = { 0 };
	struct hit h = { .f = f };
	char why[160];

	m.family = (__u8)f->ckey.family;
	m.flags = a->flags;
	m.dir = TM_RULE_TO_SERVER;
	m.established = f->st.state >= TM_ST_ESTABLISHED;
	m.saddr = f->ckey.saddr;
	m.sport = f->ckey.sport;
	m.daddr = f->ckey.daddr;
	m.dport = f->ckey.dport;
	m.data = a->buf;
	m.len = a->len;
	if (tm_rules_match(rules, &m, on_hit, &h) < 0)
		g_cnt.analyzer_errors++;
	if (h.pol) {
		snprintf(why, sizeof(why), "sid %u \"%s\" (tcpmigd.conf:%d)", h.rule->sid, h.rule->msg,
			 h.pol->line);
		decide(f, &h.pol->t, why);
	} else if (h.pass) {
		decide(f, &(struct tm_target){ .act = PA_FORWARD, .pool = -1 }, "pass rule");
	} else if (final || a->len >= a->cap) {
		snprintf(why, sizeof(why), "%s, %u byte(s) inspected",
			 h.alerts ? "no policy for the alert(s)" : "no rule matched", a->len);
		decide(f, &g_conf->default_action, why);
	}
}

/* Append held segments that continue the buffer (they may have arrived out of order). */
static void reassemble(struct an_state *a)
{
	bool grew = true;

	while (grew && a->len < a->cap) {
		grew = false;
		for (unsigned i = 0; i < a->held.n; i++) {
			struct tm_pkt p;
			__u32 seq, take;

			if (tm_pkt_parse(&p, a->held.pkt[i].data, a->held.pkt[i].len))
				continue;
			seq = tm_pkt_seq(&p);
			if (!tm_seq_leq(seq, a->next_seq) || !tm_seq_lt(a->next_seq, seq + p.payload_len))
				continue;
			/* This segment covers next_seq: take its new bytes. */
			take = seq + p.payload_len - a->next_seq;
			if (take > a->cap - a->len)
				take = a->cap - a->len;
			memcpy(a->buf + a->len, p.payload + (a->next_seq - seq), take);
			a->len += take;
			a->next_seq = seq + p.payload_len;
			a->flags = p.tcp->flags;
			grew = true;
		}
	}
}

bool an_client_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v)
{
	struct an_state *a = f->an;
	__u32 seq = tm_pkt_seq(&x->p);

	if (f->an_dropping) {
		g_cnt.pkts_dropped_policy++;
		*v = V_DROP;
		return true;
	}
	if (f->an_done || !rules)
		return false;
	if (!x->p.payload_len && !(x->p.tcp->flags & TM_TCP_FIN))
		return false;
	if (f->st.state < TM_ST_ESTABLISHED) {
		f->an_done = true; /* data before the handshake completed (TFO): not inspected */
		return false;
	}
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (a) {
			a->cap = g_conf->inspect_depth;
			a->buf = malloc(a->cap);
		}
		if (!a || !a->buf || hold_init(&a->held)) {
			if (a)
				free(a->buf);
			free(a);
			f->an_done = true;
			return false;
		}
		a->flow = f;
		a->next_seq = f->st.c.nxt;
		a->next = inspecting;
		if (inspecting)
			inspecting->prev = a;
		inspecting = a;
		f->an = a;
	}
	if (tm_seq_lt(seq, f->st.c.nxt))
		return false; /* old data: not ours */
	if (tm_seq_lt(seq, a->next_seq) && tm_seq_leq(seq + x->p.payload_len, a->next_seq)) {
		*v = V_DROP; /* a retransmission of bytes we hold */
		return true;
	}
	if (hold_push(&a->held, x)) {
		g_cnt.pkts_dropped_hold_full++;
		*v = V_DROP;
		return true;
	}
	*v = V_HOLD;
	reassemble(a);
	a->deadline_ns = now_ns() + (uint64_t)g_conf->inspect_wait_ms * 1000000ull;
	evaluate(f, (x->p.tcp->flags & TM_TCP_FIN) != 0);
	return true;
}

void an_tick(uint64_t now)
{
	struct an_state *a, *next;

	for (a = inspecting; a; a = next) {
		next = a->next;
		if (now >= a->deadline_ns)
			evaluate(a->flow, true);
	}
}

void an_rules_json(struct sbuf *b)
{
	size_t n = rules ? tm_rules_count(rules) : 0;

	sb_printf(b, "{\"ok\":true,\"file\":");
	sb_json_str(b, g_conf->rules_path);
	sb_printf(b, ",\"rules\":[");
	for (size_t i = 0; i < n; i++) {
		const struct tm_rule_info *r = tm_rules_get(rules, i);
		const struct tm_policy *pol = NULL;

		for (int k = 0; k < g_conf->npolicies && !pol; k++)
			if (policy_matches(&g_conf->policies[k], r))
				pol = &g_conf->policies[k];
		sb_printf(b, "%s{\"gid\":%u,\"sid\":%u,\"rev\":%u,\"action\":\"%s\",\"msg\":", i ? "," : "",
			  r->gid, r->sid, r->rev, tm_rule_action_str(r->action));
		sb_json_str(b, r->msg ? r->msg : "");
		sb_printf(b, ",\"classtype\":");
		sb_json_str(b, r->classtype ? r->classtype : "");
		sb_printf(b, ",\"hits\":%llu,\"file\":", (unsigned long long)r->hits);
		sb_json_str(b, r->file ? r->file : "");
		sb_printf(b, ",\"line\":%u,\"policy\":", r->line);
		if (pol) {
			char t[80] = "";

			if (pol->t.act == PA_MIGRATE && pol->t.pool >= 0)
				snprintf(t, sizeof(t), " pool:%s", g_conf->pools[pol->t.pool].name);
			else if (pol->t.act == PA_MIGRATE)
				t[0] = ' ', ep_str(&pol->t.to, t + 1, sizeof(t) - 1);
			sb_printf(b, "\"%s%s\"", act_name(pol->t.act), t);
		} else {
			sb_printf(b, "\"\"");
		}
		sb_printf(b, "}");
	}
	sb_printf(b, "]}");
}

static bool services_equal(const struct tm_config *a, const struct tm_config *b)
{
	if (a->nservices != b->nservices)
		return false;
	for (int i = 0; i < a->nservices; i++) {
		const struct tm_service *x = &a->services[i], *y = &b->services[i];

		if (!ep_eq(&x->vip, &y->vip) || x->nbackends != y->nbackends)
			return false;
		for (int k = 0; k < x->nbackends; k++)
			if (!ep_eq(&x->backends[k], &y->backends[k]))
				return false;
	}
	return true;
}

int an_reload(struct tm_config *c, struct sbuf *errs)
{
	static struct tm_config nc;
	struct tm_rules *nr = NULL;
	char *mbuf = NULL;
	size_t msz = 0;
	FILE *mf = open_memstream(&mbuf, &msz);
	FILE *saved = stderr;
	int nerr = 0, rc = -1;

	if (!mf)
		return -1;
	conf_defaults(&nc);
	stderr = mf; /* conf_load prints its file:line errors there */
	if (conf_load(&nc, c->path)) {
		stderr = saved;
		goto out;
	}
	stderr = saved;
	if (!services_equal(&nc, c)) {
		fprintf(mf, "%s: services or backends changed: restart tcpmigd to apply them\n", c->path);
		goto out;
	}
	if (nc.rules_path[0]) {
		nr = load(&nc, mf, &nerr);
		if (!nr)
			goto out;
	}
	/* Undecided flows keep their held bytes; they are judged by the new rules. */
	tm_rules_free(rules);
	rules = nr;
	memcpy(c->rules_path, nc.rules_path, sizeof(c->rules_path));
	c->inspect_depth = nc.inspect_depth;
	c->inspect_wait_ms = nc.inspect_wait_ms;
	memcpy(c->pools, nc.pools, sizeof(c->pools));
	c->npools = nc.npools;
	memcpy(c->policies, nc.policies, sizeof(c->policies));
	c->npolicies = nc.npolicies;
	c->default_action = nc.default_action;
	rc = 0;
	log_info("reloaded %s: %zu rule(s), %d policy line(s)", c->path, nr ? tm_rules_count(nr) : 0,
		 c->npolicies);
	ev_push("reload", 0, "%zu rule(s), %d policy line(s)", nr ? tm_rules_count(nr) : 0,
		c->npolicies);
out:
	fclose(mf);
	if (rc && mbuf)
		sb_printf(errs, "%s", mbuf);
	if (rc)
		log_warnx("reload of %s failed, the running rules stay:\n%s", c->path, mbuf ? mbuf : "");
	free(mbuf);
	return rc;
}
