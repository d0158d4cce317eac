/* Rule loading: files and includes, logical lines, directives, errors, and the public accessors. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_int.h"

#define RL_TOKEN_SHOW 80 /* bytes of a token quoted in a message */

/* --- arena ------------------------------------------------------------------------------- */

struct rl_chunk {
	struct rl_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *rl_alloc(struct rl_arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct rl_chunk *ch = a->head;
	void *p;

	n = (n + align - 1) / align * align;
	if (!n)
		n = align;
	if (!ch || ch->cap - ch->used < n) {
		size_t cap = n > 32768 ? n : 32768;

		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->used = 0;
		ch->cap = cap;
		ch->next = a->head;
		a->head = ch;
	}
	p = (char *)ch->data + ch->used;
	ch->used += n;
	memset(p, 0, n);
	return p;
}

char *rl_strndup(struct rl_arena *a, const char *s, size_t n)
{
	char *d = rl_alloc(a, n + 1);

	if (d && n)
		memcpy(d, s, n);
	return d;
}

void rl_arena_free(struct rl_arena *a)
{
	struct rl_chunk *ch = a->head, *next;

	for (; ch; ch = next) {
		next = ch->next;
		free(ch);
	}
	a->head = NULL;
}

/* --- messages ---------------------------------------------------------------------------- */

unsigned rl_line_of(const struct rl_line *l, const char *at)
{
	uintptr_t b = (uintptr_t)l->text, x = (uintptr_t)at;
	size_t off, i;

	if (!l->nseg)
		return 0;
	if (!at || x < b || x > b + l->len)
		return l->seg_line[0];
	off = x - b;
	for (i = l->nseg; i > 1 && l->seg_off[i - 1] > off; i--)
		;
	return l->seg_line[i - 1];
}

static void print_token(FILE *f, struct rl_str t)
{
	size_t i, n = t.n > RL_TOKEN_SHOW ? RL_TOKEN_SHOW : t.n;

	fputs(" '", f);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t.p[i];

		if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, f);
		else
			fprintf(f, "\\x%02x", ch);
	}
	if (n < t.n)
		fputs("...", f);
	fputc('\'', f);
}

void rl_error(struct rl_ctx *c, struct rl_str tok, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	c->nerr++;
	if (!c->errs)
		return;
	if (c->cur)
		fprintf(c->errs, "%s:%u: ", c->cur->file, rl_line_of(c->cur, tok.p));
	va_start(ap, fmt);
	vfprintf(c->errs, fmt, ap);
	va_end(ap);
	if (tok.p)
		print_token(c->errs, tok);
	fputc('\n', c->errs);
}

void rl_oom(struct rl_ctx *c)
{
	if (!c->oom && c->errs)
		fprintf(c->errs, "%s:%u: out of memory\n", c->cur ? c->cur->file : "rules",
			c->cur ? rl_line_of(c->cur, NULL) : 0);
	c->oom = true;
}

/* --- small parsing helpers ------------------------------------------------------------- */

struct rl_str rl_trim(struct rl_str s)
{
	while (s.n && isspace((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

bool rl_is_name(struct rl_str s)
{
	size_t i;

	if (!s.n || !(isalpha((unsigned char)s.p[0]) || s.p[0] == '_'))
		return false;
	for (i = 1; i < s.n; i++)
		if (!isalnum((unsigned char)s.p[i]) && s.p[i] != '_')
			return false;
	return true;
}

/* A decimal integer, optional '-', nothing else; false when malformed or out of [min, max]. */
bool rl_parse_num(struct rl_str s, long long min, long long max, long long *out)
{
	long long v = 0;
	bool neg = false;
	size_t i = 0;

	s = rl_trim(s);
	if (s.n && s.p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == s.n || s.n - i > 12)
		return false;
	for (; i < s.n; i++) {
		if (!isdigit((unsigned char)s.p[i]))
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* --- rules table --------------------------------------------------------------------------- */

static size_t sid_slot(const struct rl_ctx *c, __u32 gid, __u32 sid)
{
	__u64 k = ((__u64)gid << 32 | sid) * 0x9E3779B97F4A7C15ull;

	return (size_t)(k >> 17) & (c->sidcap - 1);
}

static bool sid_grow(struct rl_ctx *c)
{
	size_t i, cap = c->sidcap ? c->sidcap * 2 : 1024;
	struct rl_rule **old = c->sidtab, **t = calloc(cap, sizeof(*t));
	size_t oldcap = c->sidcap;

	if (!t)
		return false;
	c->sidtab = t;
	c->sidcap = cap;
	for (i = 0; i < oldcap; i++) {
		struct rl_rule *r = old[i];
		size_t j;

		if (!r)
			continue;
		for (j = sid_slot(c, r->info.gid, r->info.sid); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = r;
	}
	free(old);
	return true;
}

/* Remember the rule's gid:sid; say so when another rule has it already. */
static void sid_register(struct rl_ctx *c, struct rl_rule *r)
{
	size_t j;

	if ((c->sidn + 1) * 2 > c->sidcap && !sid_grow(c)) {
		rl_oom(c);
		return;
	}
	for (j = sid_slot(c, r->info.gid, r->info.sid); c->sidtab[j];
	     j = (j + 1) & (c->sidcap - 1)) {
		const struct rl_rule *o = c->sidtab[j];

		if (o->info.gid != r->info.gid || o->info.sid != r->info.sid)
			continue;
		if (r->info.gid != 1)
			rl_error(c, r->sid_tok, "duplicate sid for gid %u (first used at %s:%u)",
				 r->info.gid, o->info.file, o->info.line);
		else
			rl_error(c, r->sid_tok, "duplicate sid (first used at %s:%u)", o->info.file,
				 o->info.line);
		return;
	}
	c->sidtab[j] = r;
	c->sidn++;
}

/* Called by the rule parser for every rule that has a sid; @ok: parsed without errors. */
void rl_add_rule(struct rl_ctx *c, struct rl_rule *r, bool ok)
{
	struct tm_rules *rs = c->rs;

	sid_register(c, r);
	if (!ok || c->in_vars)
		return;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct rl_rule **v = realloc(rs->rules, cap * sizeof(*v));

		if (!v) {
			rl_oom(c);
			return;
		}
		rs->rules = v;
		rs->cap = cap;
	}
	rs->rules[rs->n++] = r;
}

/* --- files and lines --------------------------------------------------------------------- */

static void parse_text(struct rl_ctx *c, const char *file, const char *text, size_t len);

/* Read a regular file of at most RL_MAX_FILE bytes; 0 or -errno (-EFBIG, -EINVAL: not a file). */
static int read_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > RL_MAX_FILE) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) { /* grew while we read: not what was checked */
			err = -EFBIG;
			goto out;
		}
	}
	*out = buf;
	*outlen = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static const char *file_errstr(int err)
{
	if (err == -EINVAL)
		return "not a regular file";
	if (err == -EFBIG)
		return "file too large";
	return strerror(-err);
}

/*
 * Parse the file @path; @tok (the include line's path) is where errors about it are reported.
 * Returns why a top-level file (no @tok) could not be read, as -errno, or 0.
 */
static int parse_file(struct rl_ctx *c, const char *path, struct rl_str tok)
{
	char *buf = NULL, *real = NULL;
	size_t len = 0;
	const char *name;
	int i, err;

	err = read_file(path, &buf, &len);
	if (err == -ENOMEM) {
		rl_oom(c);
		return 0;
	}
	if (err) {
		if (tok.p) {
			rl_error(c, tok, "cannot read include file: %s", file_errstr(err));
			return 0;
		}
		c->nerr++;
		if (c->errs)
			fprintf(c->errs, "%s: cannot read: %s\n", path, file_errstr(err));
		return err;
	}
	real = realpath(path, NULL);
	if (!real) {
		rl_oom(c);
		goto out;
	}
	for (i = 0; i < c->depth; i++) {
		if (c->stack[i] && !strcmp(c->stack[i], real)) {
			rl_error(c, tok, "include cycle");
			goto out;
		}
	}
	name = rl_strndup(&c->rs->arena, path, strlen(path));
	if (!name) {
		rl_oom(c);
		goto out;
	}
	c->stack[c->depth++] = real;
	parse_text(c, name, buf, len);
	c->depth--;
out:
	free(real);
	free(buf);
	return 0;
}

static void parse_include(struct rl_ctx *c, struct rl_str line, struct rl_str rest)
{
	struct rl_str path, extra, tok;
	const char *file = c->cur->file, *slash = strrchr(file, '/');
	const char *prefix = "", *rel;
	char incl[PATH_MAX], full[PATH_MAX];
	int n;

	if (!rl_next_field(&rest, &path)) {
		rl_error(c, line, "include needs a path");
		return;
	}
	tok = path;
	if (rl_next_field(&rest, &extra)) {
		rl_error(c, extra, "unexpected text after include path");
		return;
	}
	if (c->in_vars) {
		rl_error(c, tok, "include is not allowed in variable definitions");
		return;
	}
	if (c->depth >= RL_MAX_INCLUDE_DEPTH) {
		rl_error(c, tok, "includes nested too deeply (max %d)", RL_MAX_INCLUDE_DEPTH);
		return;
	}
	/* $NAME/rest: Snort's `include $RULE_PATH/local.rules`. */
	if (path.p[0] == '$') {
		struct rl_str name = {path.p + 1, 0};
		const struct rl_var *v;

		while (name.n + 1 < path.n && path.p[name.n + 1] != '/')
			name.n++;
		v = rl_var_find(c, name);
		if (!v) {
			rl_error(c, rl_str(path.p, name.n + 1), "undefined variable");
			return;
		}
		prefix = v->text;
		path.p += name.n + 1;
		path.n -= name.n + 1;
	}
	n = snprintf(incl, sizeof(incl), "%s%.*s", prefix, (int)path.n, path.p);
	if (n <= 0 || (size_t)n >= sizeof(incl) || strlen(incl) != (size_t)n) {
		rl_error(c, tok, "bad include path");
		return;
	}
	/* Relative paths are relative to the including file. */
	rel = incl;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (incl[0] == '/' || !slash)
		n = snprintf(full, sizeof(full), "%s", rel);
	else
		n = snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - file), file, rel);
	if (n <= 0 || (size_t)n >= sizeof(full)) {
		rl_error(c, tok, "bad include path");
		return;
	}
	parse_file(c, full, tok);
}

static void parse_var(struct rl_ctx *c, enum rl_var_type type, struct rl_str kw, struct rl_str rest)
{
	struct rl_str name, val, extra;

	if (!rl_next_field(&rest, &name)) {
		rl_error(c, kw, "variable definition needs a name and a value");
		return;
	}
	if (!rl_is_name(name)) {
		rl_error(c, name, "bad variable name");
		return;
	}
	if (!rl_next_field(&rest, &val)) {
		rl_error(c, name, "variable has no value");
		return;
	}
	if (rl_next_field(&rest, &extra)) {
		rl_error(c, extra, "unexpected text after variable value");
		return;
	}
	rl_var_define(c, type, name, val);
}

static bool str_is(struct rl_str s, const char *w)
{
	return s.n == strlen(w) && !memcmp(s.p, w, s.n);
}

static bool str_in(struct rl_str s, const char *const *list)
{
	for (; *list; list++)
		if (str_is(s, *list))
			return true;
	return false;
}

/* One logical line: a directive or a rule. */
static void parse_logical(struct rl_ctx *c, struct rl_str line)
{
	static const char *const snort_actions[] = {"drop",    "reject", "sdrop",   "activate",
						    "dynamic", "block",	 "rewrite", NULL};
	static const char *const snort_directives[] = {
	    "config",		"preprocessor",	       "output",
	    "ruletype",		"dynamicpreprocessor", "dynamicengine",
	    "dynamicdetection", "event_filter",	       "suppress",
	    "threshold",	"rate_filter",	       "ipset",
	    "attribute_table",	"dynamicoutput",       NULL};
	struct rl_str kw, rest = line;

	if (!rl_next_field(&rest, &kw))
		return;
	/* A rule's header may end right at its '(' (seed 000: "... any(msg:"). */
	if (memchr(kw.p, '(', kw.n))
		kw.n = (size_t)((const char *)memchr(kw.p, '(', kw.n) - kw.p);
	if (str_is(kw, "var"))
		parse_var(c, RL_VAR_ANY, kw, rest);
	else if (str_is(kw, "ipvar"))
		parse_var(c, RL_VAR_IP, kw, rest);
	else if (str_is(kw, "portvar"))
		parse_var(c, RL_VAR_PORT, kw, rest);
	else if (str_is(kw, "include"))
		parse_include(c, line, rest);
	else if (c->in_vars)
		rl_error(c, kw, "only var, ipvar and portvar definitions are allowed here");
	else if (str_is(kw, "alert"))
		rl_parse_rule(c, line, TM_RULE_ALERT);
	else if (str_is(kw, "log"))
		rl_parse_rule(c, line, TM_RULE_LOG);
	else if (str_is(kw, "pass"))
		rl_parse_rule(c, line, TM_RULE_PASS);
	else if (str_in(kw, snort_actions))
		rl_error(c, kw, "unsupported rule action");
	else if (str_in(kw, snort_directives))
		rl_error(c, kw, "unsupported directive");
	else
		rl_error(c, kw, "unknown rule action or directive");
}

struct lbuf {
	char *text;
	size_t len, cap;
	size_t *seg_off;
	unsigned *seg_line;
	size_t nseg, capseg;
};

static bool lbuf_add(struct lbuf *b, const char *s, size_t n, unsigned line)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *t = realloc(b->text, cap);

		if (!t)
			return false;
		b->text = t;
		b->cap = cap;
	}
	if (b->nseg == b->capseg) {
		size_t cap = b->capseg ? b->capseg * 2 : 8;
		size_t *o = realloc(b->seg_off, cap * sizeof(*o));
		unsigned *l;

		if (!o)
			return false;
		b->seg_off = o;
		l = realloc(b->seg_line, cap * sizeof(*l));
		if (!l)
			return false;
		b->seg_line = l;
		b->capseg = cap;
	}
	b->seg_off[b->nseg] = b->len;
	b->seg_line[b->nseg++] = line;
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = 0;
	return true;
}

static bool blank_or_comment(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i == n || s[i] == '#';
}

/*
 * Split @text into logical lines (a trailing backslash continues a line; '#' starts a comment
 * line; CRLF is fine) and parse each.  @file names the text in messages.
 */
static void parse_text(struct rl_ctx *c, const char *file, const char *text, size_t len)
{
	const struct rl_line *saved = c->cur;
	struct lbuf b = {0};
	struct rl_line l = {.file = file};
	size_t pos = 0, zero = 0;
	unsigned lineno = 0;
	bool pending = false;

	while (pos < len && !c->oom) {
		const char *s = text + pos, *eol = memchr(s, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - s) : len - pos;
		bool cont;

		pos += n + (eol ? 1 : 0);
		lineno++;
		if (n && s[n - 1] == '\r')
			n--;
		if (memchr(s, 0, n)) {
			l.text = s;
			l.len = n;
			l.seg_off = &zero;
			l.seg_line = &lineno;
			l.nseg = 1;
			c->cur = &l;
			rl_error(c, rl_str(s, n), "NUL byte in line");
			b.len = 0;
			b.nseg = 0;
			pending = false;
			continue;
		}
		if (!pending && blank_or_comment(s, n))
			continue;
		cont = n && s[n - 1] == '\\';
		if (!lbuf_add(&b, s, n - cont, lineno)) {
			rl_oom(c);
			break;
		}
		pending = cont && pos < len;
		if (pending)
			continue;
		l.text = b.text;
		l.len = b.len;
		l.seg_off = b.seg_off;
		l.seg_line = b.seg_line;
		l.nseg = b.nseg;
		c->cur = &l;
		parse_logical(c, rl_str(b.text, b.len));
		b.len = 0;
		b.nseg = 0;
	}
	c->cur = saved;
	free(b.text);
	free(b.seg_off);
	free(b.seg_line);
}

/* --- public API -------------------------------------------------------------------------- */

static int cmp_sid(const void *a, const void *b)
{
	const struct rl_rule *x = *(struct rl_rule *const *)a, *y = *(struct rl_rule *const *)b;

	if (x->info.gid != y->info.gid)
		return x->info.gid < y->info.gid ? -1 : 1;
	if (x->info.sid != y->info.sid)
		return x->info.sid < y->info.sid ? -1 : 1;
	return 0;
}

static void ctx_free(struct rl_ctx *c)
{
	int i;

	for (i = 0; i < c->depth; i++)
		free(c->stack[i]);
	free(c->sidtab);
}

static struct tm_rules *load(const char *name, const char *text, size_t len, bool from_file,
			     const char *vars, FILE *errs, int *nerrors)
{
	struct rl_ctx c = {.errs = errs};
	int err = EINVAL;

	if (nerrors)
		*nerrors = 0;
	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	c.rs = calloc(1, sizeof(*c.rs));
	if (!c.rs) {
		errno = ENOMEM;
		return NULL;
	}
	if (vars) {
		c.in_vars = true;
		parse_text(&c, "<vars>", vars, strlen(vars));
		c.in_vars = false;
	}
	if (from_file) {
		int ferr = parse_file(&c, name, rl_str(NULL, 0));

		if (ferr)
			err = -ferr;
	} else {
		const char *fname = rl_strndup(&c.rs->arena, name, strlen(name));

		if (fname)
			parse_text(&c, fname, text ? text : "", text ? len : 0);
		else
			rl_oom(&c);
	}
	if (!c.nerr && !c.oom && rl_build(&c) < 0 && !c.nerr)
		rl_oom(&c);
	if (!c.nerr && !c.oom && c.rs->n) {
		c.rs->by_sid = malloc(c.rs->n * sizeof(*c.rs->by_sid));
		if (!c.rs->by_sid) {
			rl_oom(&c);
		} else {
			memcpy(c.rs->by_sid, c.rs->rules, c.rs->n * sizeof(*c.rs->by_sid));
			qsort(c.rs->by_sid, c.rs->n, sizeof(*c.rs->by_sid), cmp_sid);
		}
	}
	ctx_free(&c);
	if (nerrors)
		*nerrors = c.nerr + c.oom;
	if (c.nerr || c.oom) {
		tm_rules_free(c.rs);
		errno = c.oom ? ENOMEM : err;
		return NULL;
	}
	return c.rs;
}

struct tm_rules *tm_rules_load(const char *path, const char *vars, FILE *errs, int *nerrors)
{
	return load(path, NULL, 0, true, vars, errs, nerrors);
}

struct tm_rules *tm_rules_load_buffer(const char *name, const char *text, size_t len,
				      const char *vars, FILE *errs, int *nerrors)
{
	return load(name, text, len, false, vars, errs, nerrors);
}

void tm_rules_free(struct tm_rules *rs)
{
	if (!rs)
		return;
	rl_engine_free(rs);
	free(rs->rules);
	free(rs->by_sid);
	rl_arena_free(&rs->arena);
	free(rs);
}

size_t tm_rules_count(const struct tm_rules *rs)
{
	return rs ? rs->n : 0;
}

const struct tm_rule_info *tm_rules_get(const struct tm_rules *rs, size_t i)
{
	return rs && i < rs->n ? &rs->rules[i]->info : NULL;
}

const struct tm_rule_info *tm_rules_find(const struct tm_rules *rs, __u32 gid, __u32 sid)
{
	struct rl_rule key, *kp = &key, **hit;

	if (!rs || !rs->n)
		return NULL;
	key.info.gid = gid;
	key.info.sid = sid;
	hit = bsearch(&kp, rs->by_sid, rs->n, sizeof(*rs->by_sid), cmp_sid);
	return hit ? &(*hit)->info : NULL;
}

size_t tm_rules_npatterns(const struct tm_rules *rs)
{
	return rs ? rs->npatterns : 0;
}

const char *tm_rule_action_str(enum tm_rule_action a)
{
	switch (a) {
	case TM_RULE_ALERT:
		return "alert";
	case TM_RULE_LOG:
		return "log";
	case TM_RULE_PASS:
		return "pass";
	}
	return "?";
}
