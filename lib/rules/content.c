/* content (with |hex|), its modifiers (nocase offset depth distance within fast_pattern), pcre. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

static bool is(struct rl_str s, const char *w)
{
	return s.n == strlen(w) && !memcmp(s.p, w, s.n);
}

static bool need_val(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	if (has_val && val.n)
		return true;
	rl_error(o->c, name, "option needs a value");
	return false;
}

static struct rl_step *add_step(struct rl_opts *o, struct rl_str at)
{
	struct rl_step *s;

	if (o->nsteps == RL_MAX_STEPS) {
		if (!o->bad_steps)
			rl_error(o->c, at, "too many content and pcre options (max %d)",
				 RL_MAX_STEPS);
		o->bad_steps = true;
		return NULL;
	}
	if (o->nsteps == o->capsteps) {
		size_t cap = o->capsteps ? o->capsteps * 2 : 4;
		struct rl_step *v = realloc(o->steps, cap * sizeof(*v));

		if (!v) {
			rl_oom(o->c);
			return NULL;
		}
		o->steps = v;
		o->capsteps = cap;
	}
	s = &o->steps[o->nsteps++];
	memset(s, 0, sizeof(*s));
	return s;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* [!]"bytes|hex bytes|\"\;\\" -> the pattern; false (error said) when malformed. */
static bool content_bytes(struct rl_opts *o, struct rl_str v, bool *neg, __u8 **out, __u32 *len)
{
	const char *p = v.p, *end = v.p + v.n, *hexstart = NULL;
	__u8 *buf, *d;
	int hi = -1;

	*neg = false;
	if (p < end && *p == '!') {
		*neg = true;
		for (p++; p < end && isspace((unsigned char)*p); p++)
			;
	}
	if (p == end || *p != '"') {
		rl_error(o->c, v, "content wants a quoted string");
		return false;
	}
	buf = d = rl_alloc(&o->c->rs->arena, v.n + 1);
	if (!buf) {
		rl_oom(o->c);
		return false;
	}
	for (p++; p < end; p++) {
		char ch = *p;

		if (hexstart) {
			if (ch == '|') {
				if (hi >= 0) {
					rl_error(o->c, rl_str(hexstart, (size_t)(p + 1 - hexstart)),
						 "odd number of hex digits in content");
					return false;
				}
				hexstart = NULL;
			} else if (hexval(ch) >= 0) {
				if (hi < 0) {
					hi = hexval(ch);
				} else {
					*d++ = (__u8)(hi << 4 | hexval(ch));
					hi = -1;
				}
			} else if (ch == '"') {
				break;
			} else if (!isspace((unsigned char)ch)) {
				rl_error(o->c, rl_str(p, 1), "bad hex digit in content");
				return false;
			}
			continue;
		}
		if (ch == '"')
			break;
		if (ch == '|') {
			hexstart = p;
		} else if (ch == '\\') {
			if (p + 1 == end || !strchr("\"\\;:", p[1])) {
				rl_error(o->c, rl_str(p, 1 + (p + 1 < end)),
					 "bad escape in content");
				return false;
			}
			*d++ = (__u8) * ++p;
		} else {
			*d++ = (__u8)ch;
		}
	}
	if (hexstart) {
		rl_error(o->c, rl_str(hexstart, (size_t)(p - hexstart)),
			 "unterminated |hex| in content");
		return false;
	}
	if (p == end) {
		rl_error(o->c, v, "unterminated string");
		return false;
	}
	for (p++; p < end && isspace((unsigned char)*p); p++)
		;
	if (p != end) {
		rl_error(o->c, rl_str(p, (size_t)(end - p)),
			 "unexpected text after content string");
		return false;
	}
	if (d == buf) {
		rl_error(o->c, v, "empty content");
		return false;
	}
	if (d - buf > RL_MAX_CONTENT) {
		rl_error(o->c, v, "content longer than %d bytes", RL_MAX_CONTENT);
		return false;
	}
	*out = buf;
	*len = (__u32)(d - buf);
	return true;
}

void rl_opt_content(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	struct rl_step *s;
	__u8 *pat;
	__u32 len;
	bool neg;

	o->last = RL_LAST_BAD_CONTENT;
	if (!need_val(o, name, val, has_val) || !content_bytes(o, val, &neg, &pat, &len))
		return;
	s = add_step(o, name);
	if (!s)
		return;
	s->kind = RL_STEP_CONTENT;
	s->negated = neg;
	s->pat = pat;
	s->len = len;
	o->last = RL_LAST_CONTENT;
}

/* The content a modifier applies to: the last option must be a content (modifiers between). */
static struct rl_step *modifier_target(struct rl_opts *o, struct rl_str name)
{
	if (o->last == RL_LAST_BAD_CONTENT)
		return NULL; /* that content's error was reported */
	if (o->last != RL_LAST_CONTENT) {
		rl_error(o->c, name, "modifier does not follow a content option");
		return NULL;
	}
	return &o->steps[o->nsteps - 1];
}

static bool mod_num(struct rl_opts *o, struct rl_str name, struct rl_str val, long long min,
		    long long max, long long *v)
{
	if (val.p[0] == '+' || !rl_parse_num(val, min, max, v)) {
		rl_error(o->c, val, "bad %.*s (want %lld..%lld)", (int)name.n, name.p, min, max);
		return false;
	}
	return true;
}

void rl_opt_modifier(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	struct rl_step *s = modifier_target(o, name);
	bool absolute = is(name, "offset") || is(name, "depth");
	long long v;
	__u8 *seen;

	if (!s)
		return;
	if (is(name, "nocase")) {
		if (has_val)
			rl_error(o->c, name, "option takes no value");
		else if (s->nocase)
			rl_error(o->c, name, "modifier given twice for one content");
		s->nocase = 1;
		return;
	}
	seen = is(name, "offset")     ? &s->has_offset
	       : is(name, "depth")    ? &s->has_depth
	       : is(name, "distance") ? &s->has_distance
				      : &s->has_within;
	if (!need_val(o, name, val, has_val))
		return;
	if (*seen) {
		rl_error(o->c, name, "modifier given twice for one content");
		return;
	}
	if (absolute ? (s->has_distance || s->has_within) : (s->has_offset || s->has_depth)) {
		rl_error(o->c, name,
			 "offset/depth cannot be mixed with distance/within on one content");
		return;
	}
	if (is(name, "depth") || is(name, "within")) {
		if (!mod_num(o, name, val, 1, 65535, &v))
			return;
		if (v < s->len) {
			rl_error(o->c, val, "%.*s is shorter than the content", (int)name.n,
				 name.p);
			return;
		}
		s->depth = (__s32)v;
	} else {
		if (!mod_num(o, name, val, -65535, 65535, &v))
			return;
		s->offset = (__s32)v;
	}
	*seen = 1;
	s->relative = !absolute;
}

void rl_opt_fast_pattern(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	struct rl_step *s = modifier_target(o, name);
	size_t i;

	if (!s)
		return;
	if (has_val) {
		rl_error(o->c, val.n ? val : name, "fast_pattern arguments are not supported");
		return;
	}
	if (s->negated) {
		rl_error(o->c, name, "fast_pattern on a negated content");
		return;
	}
	for (i = 0; i < o->nsteps; i++) {
		if (o->steps[i].fast) {
			rl_error(o->c, name, "fast_pattern given twice");
			return;
		}
	}
	s->fast = 1;
}

/* Snort pcre flags that select buffers or change limits: not ours. */
static const char pcre_unsupported[] = "UIPHDMCKSYBO";

/* pcre:[!]"/regex/ismxAEGR" */
void rl_opt_pcre(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *p, *end, *q, *last = NULL;
	struct rl_str raw, re;
	struct rl_pcre_node *node;
	struct rl_step *s;
	pcre2_code *code;
	uint32_t opts = 0;
	bool neg = false, rel = false;
	PCRE2_SIZE eoff;
	int ecode;

	o->last = RL_LAST_PCRE;
	if (!need_val(o, name, val, has_val))
		return;
	p = val.p;
	end = val.p + val.n;
	if (*p == '!') {
		neg = true;
		for (p++; p < end && isspace((unsigned char)*p); p++)
			;
	}
	if (end - p < 2 || *p != '"' || end[-1] != '"') {
		rl_error(o->c, val, "pcre wants \"/regex/flags\"");
		return;
	}
	raw = rl_str(p + 1, (size_t)(end - p - 2));
	for (q = raw.p; q < raw.p + raw.n; q++) {
		if (*q == '\\')
			q++;
		else if (*q == '"')
			break;
		else if (*q == '/' && q > raw.p)
			last = q;
	}
	if (q < raw.p + raw.n || !raw.n || raw.p[0] != '/' || !last) {
		rl_error(o->c, val, "pcre wants \"/regex/flags\"");
		return;
	}
	re = rl_str(raw.p + 1, (size_t)(last - raw.p - 1));
	for (q = last + 1; q < raw.p + raw.n; q++) {
		switch (*q) {
		case 'i':
			opts |= PCRE2_CASELESS;
			break;
		case 's':
			opts |= PCRE2_DOTALL;
			break;
		case 'm':
			opts |= PCRE2_MULTILINE;
			break;
		case 'x':
			opts |= PCRE2_EXTENDED;
			break;
		case 'A':
			opts |= PCRE2_ANCHORED;
			break;
		case 'E':
			opts |= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'G':
			opts |= PCRE2_UNGREEDY;
			break;
		case 'R':
			rel = true;
			break;
		default:
			rl_error(o->c, rl_str(q, 1),
				 strchr(pcre_unsupported, *q) ? "unsupported pcre flag"
							      : "bad pcre flag");
			return;
		}
	}
	code = pcre2_compile((PCRE2_SPTR)re.p, re.n, opts, &ecode, &eoff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[160];

		if (pcre2_get_error_message(ecode, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "error");
		rl_error(o->c, val, "bad pcre: %s at offset %zu", (const char *)msg, (size_t)eoff);
		return;
	}
	node = rl_alloc(&o->c->rs->arena, sizeof(*node));
	if (!node) {
		pcre2_code_free(code);
		rl_oom(o->c);
		return;
	}
	node->re = code;
	node->next = o->c->rs->pcres;
	o->c->rs->pcres = node;
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	s = add_step(o, name);
	if (!s)
		return;
	s->kind = RL_STEP_PCRE;
	s->negated = neg;
	s->relative = rel;
	s->re = code;
	s->src = rl_strndup(&o->c->rs->arena, val.p, val.n);
	if (!s->src)
		rl_oom(o->c);
}

/*
 * Pick the prefilter pattern -- the fast_pattern content, else the longest positive content
 * (the first of equals), as Snort does -- lower-case nocase patterns and attach the steps.
 */
void rl_steps_finish(struct rl_opts *o)
{
	struct rl_rule *r = o->r;
	__u32 best = 0;
	size_t i;

	r->fast = -1;
	for (i = 0; i < o->nsteps; i++) {
		struct rl_step *s = &o->steps[i];

		if (s->kind != RL_STEP_CONTENT)
			continue;
		if (s->nocase)
			for (__u32 k = 0; k < s->len; k++)
				s->pat[k] = (__u8)tolower(s->pat[k]);
		if (s->fast)
			r->fast = (int)i;
	}
	for (i = 0; r->fast < 0 && i < o->nsteps; i++) {
		const struct rl_step *s = &o->steps[i];

		if (s->kind == RL_STEP_CONTENT && !s->negated && s->len > best)
			best = s->len;
	}
	for (i = 0; r->fast < 0 && best && i < o->nsteps; i++) {
		const struct rl_step *s = &o->steps[i];

		if (s->kind == RL_STEP_CONTENT && !s->negated && s->len == best)
			r->fast = (int)i;
	}
	if (!o->nsteps)
		return;
	r->steps = rl_alloc(&o->c->rs->arena, o->nsteps * sizeof(*r->steps));
	if (!r->steps) {
		rl_oom(o->c);
		return;
	}
	memcpy(r->steps, o->steps, o->nsteps * sizeof(*r->steps));
	r->nsteps = o->nsteps;
}
