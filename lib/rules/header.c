/* Rule headers: address and port expressions (CIDR, ranges, lists, '!', $VARS) and variables. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

/* Next whitespace-separated field of *@rest; spaces inside [...] belong to the field. */
bool rl_next_field(struct rl_str *rest, struct rl_str *field)
{
	const char *p = rest->p, *end = rest->p + rest->n, *b;
	int depth = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end) {
		rest->p = p;
		rest->n = 0;
		return false;
	}
	for (b = p; p < end && (depth > 0 || !isspace((unsigned char)*p)); p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
	}
	*field = rl_str(b, (size_t)(p - b));
	rest->p = p;
	rest->n = (size_t)(end - p);
	return true;
}

/* --- matching ------------------------------------------------------------------------------ */

static bool net_contains(const struct rl_set *s, const struct tm_addr *a)
{
	int i, words = s->family == TM_AF_INET ? 1 : 4;

	for (i = 0; i < words; i++) {
		int bits = (int)s->prefix - 32 * i;
		__u32 m;

		if (bits <= 0)
			break;
		m = bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
		if ((a->w[i] & tm_htonl(m)) != s->net.w[i])
			return false;
	}
	return true;
}

static bool set_match(const struct rl_set *s, int family, const struct tm_addr *a, __u16 port);

/* A list: no negated item may match, and some plain item must (when there is one). */
static bool list_match(const struct rl_set *s, int family, const struct tm_addr *a, __u16 port)
{
	bool plain = false, plain_hit = false;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct rl_set *it = s->items[i];
		bool m = set_match(it, family, a, port);

		if (it->neg) {
			if (!m)
				return false;
		} else {
			plain = true;
			plain_hit = plain_hit || m;
		}
	}
	return !plain || plain_hit;
}

static bool set_match(const struct rl_set *s, int family, const struct tm_addr *a, __u16 port)
{
	bool m = false;

	switch (s->kind) {
	case RL_SET_ANY:
		m = true;
		break;
	case RL_SET_NET:
		m = a && s->family == family && net_contains(s, a);
		break;
	case RL_SET_PORTS:
		m = !a && port >= s->lo && port <= s->hi;
		break;
	case RL_SET_LIST:
		m = list_match(s, family, a, port);
		break;
	}
	return s->neg ? !m : m;
}

bool rl_set_match_addr(const struct rl_set *s, int family, const struct tm_addr *a)
{
	return set_match(s, family, a, 0);
}

bool rl_set_match_port(const struct rl_set *s, __u16 port)
{
	return set_match(s, 0, NULL, port);
}

/* --- parsing -------------------------------------------------------------------------------- */

struct setp {
	struct rl_ctx *c;
	struct rl_str whole;
	const char *p, *end;
	bool ports;
	int depth;
};

static struct rl_set *set_new(struct setp *sp, enum rl_set_kind kind)
{
	struct rl_set *s = rl_alloc(&sp->c->rs->arena, sizeof(*s));

	if (!s)
		rl_oom(sp->c);
	else
		s->kind = (__u8)kind;
	return s;
}

static void skip_ws(struct setp *sp)
{
	while (sp->p < sp->end && isspace((unsigned char)*sp->p))
		sp->p++;
}

static struct rl_set *leaf_addr(struct setp *sp, struct rl_str t)
{
	char buf[64];
	const char *slash = memchr(t.p, '/', t.n);
	size_t alen = slash ? (size_t)(slash - t.p) : t.n;
	struct rl_set *s;
	long long prefix;
	int maxp;

	if (alen >= sizeof(buf)) {
		rl_error(sp->c, t, "bad address");
		return NULL;
	}
	memcpy(buf, t.p, alen);
	buf[alen] = 0;
	s = set_new(sp, RL_SET_NET);
	if (!s)
		return NULL;
	if (inet_pton(AF_INET, buf, &s->net.w[0]) == 1) {
		s->family = TM_AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, buf, s->net.w) == 1) {
		s->family = TM_AF_INET6;
		maxp = 128;
	} else {
		rl_error(sp->c, t, "bad address");
		return NULL;
	}
	prefix = maxp;
	if (slash) {
		struct rl_str ps = rl_str(slash + 1, t.n - alen - 1);

		if (!ps.n || ps.p[0] == '-' || !rl_parse_num(ps, 0, maxp, &prefix)) {
			rl_error(sp->c, t, "bad prefix length");
			return NULL;
		}
	}
	s->prefix = (__u8)prefix;
	for (int i = 0; i < 4; i++) {
		int bits = (int)prefix - 32 * i;
		__u32 m = bits <= 0 ? 0 : bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);

		s->net.w[i] &= tm_htonl(m);
	}
	return s;
}

static bool port_num(struct rl_str t, long long *v)
{
	return t.n && t.p[0] != '-' && rl_parse_num(t, 0, 65535, v);
}

static struct rl_set *leaf_ports(struct setp *sp, struct rl_str t)
{
	const char *colon = memchr(t.p, ':', t.n);
	long long lo = 0, hi = 65535;
	struct rl_set *s;

	if (!colon) {
		if (!port_num(t, &lo)) {
			rl_error(sp->c, t, "bad port");
			return NULL;
		}
		hi = lo;
	} else {
		struct rl_str l = rl_str(t.p, (size_t)(colon - t.p));
		struct rl_str r = rl_str(colon + 1, t.n - l.n - 1);

		if ((!l.n && !r.n) || (l.n && !port_num(l, &lo)) || (r.n && !port_num(r, &hi))) {
			rl_error(sp->c, t, "bad port range");
			return NULL;
		}
		if (lo > hi) {
			rl_error(sp->c, t, "port range ends before it starts");
			return NULL;
		}
	}
	s = set_new(sp, RL_SET_PORTS);
	if (s) {
		s->lo = (__u16)lo;
		s->hi = (__u16)hi;
	}
	return s;
}

static struct rl_set *set_expr(struct setp *sp);

static struct rl_set *set_var(struct setp *sp)
{
	const char *b = sp->p++;
	struct rl_str name = {sp->p, 0};
	const struct rl_var *v;

	while (sp->p < sp->end && (isalnum((unsigned char)*sp->p) || *sp->p == '_'))
		sp->p++;
	name.n = (size_t)(sp->p - name.p);
	if (!rl_is_name(name)) {
		rl_error(sp->c, rl_str(b, (size_t)(sp->p - b) + (sp->p < sp->end)),
			 "bad variable name");
		return NULL;
	}
	v = rl_var_find(sp->c, name);
	if (!v) {
		rl_error(sp->c, rl_str(b, name.n + 1), "undefined variable");
		return NULL;
	}
	if (sp->ports && !v->port) {
		rl_error(sp->c, rl_str(b, name.n + 1), "variable is not a port list");
		return NULL;
	}
	if (!sp->ports && !v->addr) {
		rl_error(sp->c, rl_str(b, name.n + 1), "variable is not an address list");
		return NULL;
	}
	return sp->ports ? v->port : v->addr;
}

static struct rl_set *set_list(struct setp *sp)
{
	const char *open = sp->p++;
	struct rl_set **items = NULL, *s = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		struct rl_set *it;

		skip_ws(sp);
		if (sp->p < sp->end && *sp->p == ']' && n == 0) {
			rl_error(sp->c, rl_str(open, (size_t)(sp->p + 1 - open)), "empty list");
			goto out;
		}
		it = set_expr(sp);
		if (!it)
			goto out;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct rl_set **v = realloc(items, ncap * sizeof(*v));

			if (!v) {
				rl_oom(sp->c);
				goto out;
			}
			items = v;
			cap = ncap;
		}
		items[n++] = it;
		skip_ws(sp);
		if (sp->p == sp->end) {
			rl_error(sp->c, rl_str(open, (size_t)(sp->end - open)), "missing ']'");
			goto out;
		}
		if (*sp->p == ']') {
			sp->p++;
			break;
		}
		if (*sp->p != ',') {
			rl_error(sp->c, rl_str(sp->p, 1), "expected ',' or ']' in list");
			goto out;
		}
		sp->p++;
	}
	s = set_new(sp, RL_SET_LIST);
	if (!s)
		goto out;
	s->items = rl_alloc(&sp->c->rs->arena, n * sizeof(*s->items));
	if (!s->items) {
		rl_oom(sp->c);
		s = NULL;
		goto out;
	}
	memcpy(s->items, items, n * sizeof(*items));
	s->n = n;
out:
	free(items);
	return s;
}

static struct rl_set *set_expr(struct setp *sp)
{
	struct rl_set *s = NULL;
	struct rl_str atom;

	skip_ws(sp);
	if (sp->p == sp->end) {
		rl_error(sp->c, sp->whole, "missing %s in", sp->ports ? "port" : "address");
		return NULL;
	}
	if (*sp->p == ',' || *sp->p == ']') {
		rl_error(sp->c, rl_str(sp->p, 1), "missing %s before",
			 sp->ports ? "port" : "address");
		return NULL;
	}
	if (++sp->depth > RL_MAX_NEST) {
		rl_error(sp->c, rl_str(sp->p, (size_t)(sp->end - sp->p)), "nested too deeply");
		return NULL;
	}
	if (*sp->p == '!') {
		const char *bang = sp->p++;
		struct rl_set *inner = set_expr(sp);

		if (!inner)
			goto out;
		if (inner->kind == RL_SET_ANY && !inner->neg) {
			rl_error(sp->c, rl_str(bang, (size_t)(sp->p - bang)),
				 "negated 'any' matches nothing");
			goto out;
		}
		/* Wrap rather than flip: @inner may be a variable's shared tree. */
		s = set_new(sp, RL_SET_LIST);
		if (s) {
			s->neg = 1;
			s->items = rl_alloc(&sp->c->rs->arena, sizeof(*s->items));
			if (!s->items) {
				rl_oom(sp->c);
				s = NULL;
				goto out;
			}
			s->items[0] = inner;
			s->n = 1;
		}
	} else if (*sp->p == '[') {
		s = set_list(sp);
	} else if (*sp->p == '$') {
		s = set_var(sp);
	} else {
		atom.p = sp->p;
		while (sp->p < sp->end && *sp->p != ',' && *sp->p != ']' && *sp->p != '[' &&
		       !isspace((unsigned char)*sp->p))
			sp->p++;
		atom.n = (size_t)(sp->p - atom.p);
		if (atom.n == 3 && !memcmp(atom.p, "any", 3))
			s = set_new(sp, RL_SET_ANY);
		else
			s = sp->ports ? leaf_ports(sp, atom) : leaf_addr(sp, atom);
	}
out:
	sp->depth--;
	return s;
}

static struct rl_set *parse_set(struct rl_ctx *c, struct rl_str t, bool ports)
{
	struct setp sp = {.c = c, .whole = t, .p = t.p, .end = t.p + t.n, .ports = ports};
	struct rl_set *s = set_expr(&sp);

	skip_ws(&sp);
	if (s && sp.p != sp.end) {
		rl_error(c, rl_str(sp.p, (size_t)(sp.end - sp.p)), "unexpected text after %s",
			 ports ? "port" : "address");
		return NULL;
	}
	return s;
}

struct rl_set *rl_parse_addr(struct rl_ctx *c, struct rl_str s)
{
	return parse_set(c, s, false);
}

struct rl_set *rl_parse_ports(struct rl_ctx *c, struct rl_str s)
{
	return parse_set(c, s, true);
}

/* --- variables ------------------------------------------------------------------------------- */

struct rl_var *rl_var_find(struct rl_ctx *c, struct rl_str name)
{
	struct rl_var *v;

	for (v = c->vars; v; v = v->next)
		if (strlen(v->name) == name.n && !memcmp(v->name, name.p, name.n))
			return v;
	return NULL;
}

/* @val with every $NAME replaced by that variable's text (for `var` values used as paths). */
static char *expand_text(struct rl_ctx *c, struct rl_str val, bool *ok)
{
	char *out = NULL;
	size_t len = 0, i = 0;
	FILE *f = open_memstream(&out, &len);

	*ok = true;
	if (!f) {
		rl_oom(c);
		return NULL;
	}
	while (i < val.n) {
		if (val.p[i] == '$') {
			struct rl_str name = {val.p + i + 1, 0};
			const struct rl_var *v;

			while (i + 1 + name.n < val.n &&
			       (isalnum((unsigned char)name.p[name.n]) || name.p[name.n] == '_'))
				name.n++;
			v = rl_is_name(name) ? rl_var_find(c, name) : NULL;
			if (!v) {
				rl_error(c, rl_str(val.p + i, name.n + 1), "undefined variable");
				*ok = false;
				break;
			}
			fputs(v->text, f);
			i += name.n + 1;
		} else {
			fputc(val.p[i++], f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		rl_oom(c);
		return NULL;
	}
	return out;
}

void rl_var_define(struct rl_ctx *c, enum rl_var_type type, struct rl_str name, struct rl_str val)
{
	struct rl_var *old = rl_var_find(c, name), *v;
	struct rl_set *addr = NULL, *port = NULL;
	char *text;
	bool ok;

	switch (type) {
	case RL_VAR_IP:
		addr = rl_parse_addr(c, val);
		if (!addr)
			return;
		break;
	case RL_VAR_PORT:
		port = rl_parse_ports(c, val);
		if (!port)
			return;
		break;
	case RL_VAR_ANY: /* an address list, a port list, or just text (a path) */
		c->quiet++;
		addr = rl_parse_addr(c, val);
		port = rl_parse_ports(c, val);
		c->quiet--;
		break;
	}
	text = expand_text(c, val, &ok);
	if (!text || !ok) {
		free(text);
		return;
	}
	/* The caller's definitions win over the files' (still checked above). */
	if (old && old->override && !c->in_vars) {
		free(text);
		return;
	}
	v = rl_alloc(&c->rs->arena, sizeof(*v));
	if (v) {
		v->name = rl_strndup(&c->rs->arena, name.p, name.n);
		v->text = rl_strndup(&c->rs->arena, text, strlen(text));
	}
	free(text);
	if (!v || !v->name || !v->text) {
		rl_oom(c);
		return;
	}
	v->addr = addr;
	v->port = port;
	v->override = c->in_vars;
	v->next = c->vars;
	c->vars = v;
}

/* --- rule header ---------------------------------------------------------------------------- */

static bool is(struct rl_str s, const char *w)
{
	return s.n == strlen(w) && !memcmp(s.p, w, s.n);
}

static bool is_dir(struct rl_str s)
{
	return is(s, "->") || is(s, "<>") || is(s, "<-");
}

static struct rl_set *any_set(struct rl_ctx *c)
{
	struct rl_set *s = rl_alloc(&c->rs->arena, sizeof(*s));

	if (!s)
		rl_oom(c);
	else
		s->kind = RL_SET_ANY;
	return s;
}

/*
 * action proto [src_addr [src_port] dir dst_addr [dst_port]] -- as Snort 3 reads it: an omitted
 * port is `any`, and `alert tcp (...)` is `alert tcp any any -> any any (...)`.
 */
static void parse_header(struct rl_ctx *c, struct rl_rule *r, struct rl_str hdr)
{
	struct rl_str f[8], rest = hdr, *src, *sport = NULL, *dir, *dst, *dport = NULL;
	int nf = 0, i;

	while (nf < 8 && rl_next_field(&rest, &f[nf]))
		nf++;
	if (nf < 2) {
		rl_error(c, rl_trim(hdr), "rule header has no protocol");
		return;
	}
	if (!is(f[1], "tcp"))
		rl_error(c, f[1],
			 is(f[1], "udp") || is(f[1], "icmp") || is(f[1], "ip")
			     ? "unsupported protocol (only tcp)"
			     : "unknown protocol");
	if (nf == 2) {
		r->src = r->dst = r->sport = r->dport = any_set(c);
		return;
	}
	src = &f[2];
	i = 3;
	if (nf > 3 && !is_dir(f[3]))
		sport = &f[i++];
	dir = i < nf ? &f[i++] : NULL;
	dst = i < nf ? &f[i++] : NULL;
	if (i < nf)
		dport = &f[i++];
	if (!dst) {
		rl_error(c, rl_trim(hdr),
			 "incomplete rule header (want: action proto src_addr [src_port] -> "
			 "dst_addr [dst_port])");
		return;
	}
	if (i < nf) {
		rl_error(c, f[i], "unexpected text in rule header");
		return;
	}
	r->src = rl_parse_addr(c, *src);
	r->sport = sport ? rl_parse_ports(c, *sport) : any_set(c);
	if (is(*dir, "<>"))
		r->bidir = true;
	else if (!is(*dir, "->"))
		rl_error(c, *dir, "bad direction (want -> or <>)");
	r->dst = rl_parse_addr(c, *dst);
	r->dport = dport ? rl_parse_ports(c, *dport) : any_set(c);
}

void rl_parse_rule(struct rl_ctx *c, struct rl_str line, enum tm_rule_action action)
{
	const char *open = memchr(line.p, '(', line.n), *close = NULL, *q;
	struct rl_rule *r = rl_alloc(&c->rs->arena, sizeof(*r));
	int before = c->nerr;

	if (!r || !(r->info.text = rl_strndup(&c->rs->arena, line.p, line.n))) {
		rl_oom(c);
		return;
	}
	r->info.gid = 1;
	r->info.rev = 1;
	r->info.msg = "";
	r->info.action = action;
	r->info.file = c->cur->file;
	r->info.line = rl_line_of(c->cur, line.p);
	r->fast = -1;
	if (!open) {
		rl_error(c, rl_trim(line), "rule has no options (missing '(')");
		return;
	}
	for (q = line.p + line.n; q > open; q--) {
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	}
	parse_header(c, r, rl_str(line.p, (size_t)(open - line.p)));
	if (!close) {
		rl_error(c, rl_trim(rl_str(open, (size_t)(line.p + line.n - open))),
			 "rule options do not end with ')'");
		return;
	}
	if (rl_trim(rl_str(close + 1, (size_t)(line.p + line.n - close - 1))).n) {
		rl_error(c, rl_trim(rl_str(close + 1, (size_t)(line.p + line.n - close - 1))),
			 "unexpected text after rule options");
		return;
	}
	rl_parse_options(c, r, rl_str(open + 1, (size_t)(close - open - 1)));
	if (r->info.sid)
		rl_add_rule(c, r, c->nerr == before && !c->oom);
}
