/* Seed 000's rules verbatim in its scenario; a generated set of 2,000 rules; random payloads
 * against a naive memmem matcher (content-only rules) and against a plain recursive reference of
 * the cursor semantics (relative and negated contents: checks the prefilter and memoised search).
 */
#include <stdlib.h>
#include <string.h>

#include <tcpmig/pkt.h>
#include <tcpmig/rules.h>

#include "tap.h"

#define PA (TM_TCP_PSH | TM_TCP_ACK)

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static struct tm_rules *load(const char *text)
{
	char *errs = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);
	struct tm_rules *rs = tm_rules_load_buffer("gen.rules", text, strlen(text), NULL, f, NULL);

	fclose(f);
	for (p = strtok(errs, "\n"); p; p = strtok(NULL, "\n"))
		printf("#   %s\n", p);
	free(errs);
	return rs;
}

static void pkt(struct tm_match_pkt *p, const char *dst, unsigned dport, __u8 flags,
		const void *data, size_t len)
{
	int fam;

	memset(p, 0, sizeof(*p));
	tm_addr_port_parse("10.0.0.100", &p->saddr, &fam, NULL);
	tm_addr_port_parse(dst, &p->daddr, &fam, NULL);
	p->family = (__u8)fam;
	p->sport = 40000;
	p->dport = (__u16)dport;
	p->flags = flags;
	p->dir = TM_RULE_TO_SERVER;
	p->established = 1;
	p->data = data;
	p->len = len;
}

/* The sids a match reports, in order. */
struct sids {
	__u32 v[4096];
	size_t n;
};

static void add_sid(const struct tm_rule_info *r, void *user)
{
	struct sids *s = user;

	if (s->n < sizeof(s->v) / sizeof(*s->v))
		s->v[s->n++] = r->sid;
}

static int match_sids(struct tm_rules *rs, const struct tm_match_pkt *p, struct sids *out)
{
	out->n = 0;
	return tm_rules_match(rs, p, add_sid, out);
}

static void seed(void)
{
	/* The two rules of seed 000, byte for byte (note "any(" without a space). */
	static const char rules[] =
	    "alert tcp any -> 10.0.0.1 any(msg:\"FORWARD\"; flags:PA; content:\"forward\"; "
	    "classtype:connection-migration; sid:1000001;)\n"
	    "alert tcp any -> 10.0.0.1 any(msg:\"MIGRATE\"; flags:PA; content:\"migrate\"; "
	    "classtype:connection-migration; sid:1000002;)\n";
	struct tm_rules *rs = load(rules);
	struct tm_match_pkt p;
	struct sids s;

	ok(rs && tm_rules_count(rs) == 2, "seed 000 rules load");
	if (!rs)
		return;
	pkt(&p, "10.0.0.1", 11111, PA, "migrate", 7);
	ok(match_sids(rs, &p, &s) == 1 && s.v[0] == 1000002, "'migrate' PA to 10.0.0.1: MIGRATE");
	pkt(&p, "10.0.0.1", 11111, PA, "please forward this", 19);
	ok(match_sids(rs, &p, &s) == 1 && s.v[0] == 1000001, "'...forward...': FORWARD");
	pkt(&p, "10.0.0.1", 11111, PA, "hello", 5);
	is_int(match_sids(rs, &p, &s), 0, "neither word: no alert");
	pkt(&p, "10.0.0.2", 11111, PA, "migrate", 7);
	is_int(match_sids(rs, &p, &s), 0, "to server 2's address: no alert");
	pkt(&p, "10.0.0.1", 11111, TM_TCP_ACK, "migrate", 7);
	is_int(match_sids(rs, &p, &s), 0, "flags A only (not PA): no alert");
	pkt(&p, "10.0.0.1", 11111, PA | TM_TCP_FIN, "migrate", 7);
	is_int(match_sids(rs, &p, &s), 0, "flags FPA: not exactly PA, no alert");
	pkt(&p, "10.0.0.1", 11111, PA, "MIGRATE", 7);
	is_int(match_sids(rs, &p, &s), 0, "content is case-sensitive");
	pkt(&p, "10.0.0.1", 11111, PA, "migrate, then forward", 21);
	ok(match_sids(rs, &p, &s) == 2 && s.v[0] == 1000001 && s.v[1] == 1000002,
	   "both words: both alerts, in file order");
	ok(tm_rules_get(rs, 0)->hits == 2 && tm_rules_get(rs, 1)->hits == 2, "hit counters");
	tm_rules_free(rs);
}

#define NGEN 2000

/* Rule i: i%4 selects nocase / plain / two contents / dsize; i%5 == 0 wants port 81. */
static char *gen_rules(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i;

	for (i = 0; i < NGEN; i++) {
		fprintf(f, "alert tcp any any -> 10.0.0.0/8 %d (msg:\"gen %d\"; ", i % 5 ? 80 : 81,
			i);
		switch (i % 4) {
		case 0:
			fprintf(f, "content:\"TOK%05d\"; nocase; ", i);
			break;
		case 1:
			fprintf(f, "content:\"tok%05d\"; ", i);
			break;
		case 2:
			fprintf(f,
				"content:\"tok%05d\"; content:\"|00|end\"; distance:0; within:4; ",
				i);
			break;
		case 3:
			fprintf(f, "content:\"tok%05d\"; dsize:<4000; ", i);
			break;
		}
		fprintf(f, "sid:%d;)\n", 100000 + i);
	}
	fclose(f);
	return text;
}

static void generated(void)
{
	char *text = gen_rules();
	struct tm_rules *rs = load(text);
	static unsigned char payload[65536];
	int round, bad = 0;

	free(text);
	ok(rs && tm_rules_count(rs) == NGEN && tm_rules_npatterns(rs) == NGEN,
	   "%d generated rules load, one Hyperscan pattern each", NGEN);
	if (!rs)
		return;
	for (round = 0; round < 30; round++) {
		static char want[NGEN];
		struct tm_match_pkt p;
		struct sids s;
		size_t len = 0, k, nwant = 0;
		int i, n;

		memset(want, 0, sizeof(want));
		for (i = 0; i < 60; i++) {
			int t = (int)rnd(NGEN);

			if (rnd(3) == 0) { /* a near miss: wrong case, or no "\0end" */
				if (t % 4 == 0)
					continue;
				len += (size_t)sprintf((char *)payload + len, " %s%05d ",
						       t % 4 == 2 ? "tok" : "TOK", t);
				continue;
			}
			len += (size_t)sprintf((char *)payload + len, " %s%05d",
					       t % 4 == 0 ? "tOk" : "tok", t);
			if (t % 4 == 2) {
				payload[len++] = 0;
				len += (size_t)sprintf((char *)payload + len, "end");
			}
			want[t] = t % 5 != 0;
		}
		if (round % 2) { /* push the dsize:<4000 rules out */
			memset(payload + len, '.', 4000);
			len += 4000;
			for (i = 3; i < NGEN; i += 4)
				want[i] = 0;
		}
		pkt(&p, "10.1.2.3", 80, PA, payload, len);
		n = match_sids(rs, &p, &s);
		for (i = 0; i < NGEN; i++)
			nwant += (size_t)want[i];
		if (n < 0 || (size_t)n != nwant || s.n != nwant) {
			bad++;
			printf("#   round %d: %d matched, want %zu\n", round, n, nwant);
			continue;
		}
		for (k = 0, i = 0; i < NGEN; i++) {
			if (!want[i])
				continue;
			if (s.v[k++] != (__u32)(100000 + i)) {
				bad++;
				printf("#   round %d: sid %u reported, want %d\n", round,
				       s.v[k - 1], 100000 + i);
				break;
			}
		}
	}
	is_int(bad, 0, "30 payloads against %d rules: exactly the expected sids, in order", NGEN);
	tm_rules_free(rs);
}

/* --- random cross-checks -------------------------------------------------------------------- */

static const unsigned char alphabet[] = {'a', 'b', 'A', 'B', 0x00, 0xff};

struct rc {
	unsigned char pat[4];
	int len, nocase, negated, relative, off, dep; /* off/dep: offset/depth or distance/within */
	int has_off, has_dep;
};

struct rrule {
	struct rc c[3];
	int n;
};

static unsigned char low(unsigned char b)
{
	return b >= 'A' && b <= 'Z' ? (unsigned char)(b + 32) : b;
}

static int eq_at(const unsigned char *d, const struct rc *c, size_t at)
{
	int k;

	for (k = 0; k < c->len; k++)
		if (c->nocase ? low(d[at + k]) != low(c->pat[k]) : d[at + k] != c->pat[k])
			return 0;
	return 1;
}

/* Snort's window for content @c with the cursor at @cur: [*b, *e). */
static void window(const struct rc *c, size_t cur, size_t len, long *b, long *e)
{
	*b = c->relative ? (long)cur + (c->has_off ? c->off : 0) : (c->has_off ? c->off : 0);
	if (*b < 0)
		*b = 0;
	*e = (long)len;
	if (c->has_dep && *b + c->dep < *e)
		*e = *b + c->dep;
}

/* The plain reference: try every occurrence, recurse, no memo, no prefilter. */
static int ref(const struct rrule *r, int i, size_t cur, const unsigned char *d, size_t len)
{
	const struct rc *c;
	long b, e, at;

	if (i == r->n)
		return 1;
	c = &r->c[i];
	window(c, cur, len, &b, &e);
	if (c->negated) {
		if (e - b < 1)
			return 0;
		for (at = b; at + c->len <= e; at++)
			if (eq_at(d, c, (size_t)at))
				return 0;
		return ref(r, i + 1, cur, d, len);
	}
	for (at = b; at + c->len <= e; at++)
		if (eq_at(d, c, (size_t)at) && ref(r, i + 1, (size_t)at + (size_t)c->len, d, len))
			return 1;
	return 0;
}

static void print_rule(FILE *f, const struct rrule *r, int sid)
{
	int i, k;

	fprintf(f, "alert tcp any any -> any any (");
	for (i = 0; i < r->n; i++) {
		const struct rc *c = &r->c[i];

		fprintf(f, "content:%s\"", c->negated ? "!" : "");
		for (k = 0; k < c->len; k++) {
			if (c->pat[k] == 'a' || c->pat[k] == 'b' || c->pat[k] == 'A' ||
			    c->pat[k] == 'B')
				fputc(c->pat[k], f);
			else
				fprintf(f, "|%02x|", c->pat[k]);
		}
		fprintf(f, "\"; ");
		if (c->nocase)
			fprintf(f, "nocase; ");
		if (c->has_off)
			fprintf(f, "%s:%d; ", c->relative ? "distance" : "offset", c->off);
		if (c->has_dep)
			fprintf(f, "%s:%d; ", c->relative ? "within" : "depth", c->dep);
	}
	fprintf(f, "sid:%d;)\n", sid);
}

static void random_rule(struct rrule *r, int plain)
{
	int i, k;

	r->n = 1 + (int)rnd(3);
	for (i = 0; i < r->n; i++) {
		struct rc *c = &r->c[i];

		memset(c, 0, sizeof(*c));
		c->len = 1 + (int)rnd(plain ? 3 : 2);
		for (k = 0; k < c->len; k++)
			c->pat[k] = alphabet[rnd(sizeof(alphabet))];
		c->nocase = rnd(3) == 0;
		if (plain)
			continue;
		c->negated = i > 0 && rnd(5) == 0;
		c->relative = rnd(2);
		c->has_off = rnd(2);
		c->off = c->relative ? (int)rnd(7) - 3 : (int)rnd(6);
		c->has_dep = rnd(2);
		c->dep = c->len + (int)rnd(6);
		if (!c->has_off && !c->has_dep)
			c->relative = 0; /* nothing in the rule text would say so */
	}
	if (plain)
		return;
	for (i = 0; i < r->n; i++)
		if (!r->c[i].negated)
			return;
	r->c[0].negated = 0;
}

/* @nrules random rules (plain: content only, no modifiers) against @npay random payloads. */
static void cross_check(int nrules, int npay, int plain, const char *what)
{
	struct rrule *rules = calloc((size_t)nrules, sizeof(*rules));
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	struct tm_rules *rs;
	int i, j, bad = 0, total = 0;

	for (i = 0; i < nrules; i++) {
		random_rule(&rules[i], plain);
		print_rule(f, &rules[i], i + 1);
	}
	fclose(f);
	rs = load(text);
	free(text);
	ok(rs && tm_rules_count(rs) == (size_t)nrules, "%s: %d random rules load", what, nrules);
	if (!rs) {
		free(rules);
		return;
	}
	for (j = 0; j < npay; j++) {
		unsigned char d[48];
		size_t len = rnd(sizeof(d) + 1), k;
		struct tm_match_pkt p;
		struct sids s;
		int n, want;

		for (k = 0; k < len; k++)
			d[k] = alphabet[rnd(sizeof(alphabet))];
		pkt(&p, "10.0.0.1", 80, PA, d, len);
		n = match_sids(rs, &p, &s);
		for (i = 0, k = 0, want = 0; i < nrules; i++) {
			int m;

			if (plain) { /* every content somewhere: memmem, lower-cased for nocase */
				m = 1;
				for (int c = 0; c < rules[i].n && m; c++) {
					const struct rc *rc = &rules[i].c[c];
					unsigned char hay[48], needle[4];

					for (size_t q = 0; q < len; q++)
						hay[q] = rc->nocase ? low(d[q]) : d[q];
					for (int q = 0; q < rc->len; q++)
						needle[q] =
						    rc->nocase ? low(rc->pat[q]) : rc->pat[q];
					m = memmem(hay, len, needle, (size_t)rc->len) != NULL;
				}
			} else {
				m = ref(&rules[i], 0, 0, d, len);
			}
			if (!m)
				continue;
			want++;
			if (k >= s.n || s.v[k++] != (__u32)(i + 1)) {
				bad++;
				if (bad < 5)
					printf("#   payload %d: rule %d should match\n", j, i + 1);
			}
		}
		total += want;
		if (n != want) {
			bad++;
			if (bad < 5)
				printf("#   payload %d: %d matched, want %d\n", j, n, want);
		}
	}
	is_int(bad, 0, "%s: %d payloads, %d rule matches, all as the reference says", what, npay,
	       total);
	tm_rules_free(rs);
	free(rules);
}

int main(void)
{
	seed();
	generated();
	cross_check(300, 3000, 1, "content-only vs memmem");
	cross_check(400, 3000, 0, "offset/depth/distance/within/negation vs recursive reference");
	return tap_done();
}
