/* Rule engine internals shared by the loader, the parsers and the matcher (not a public header). */
#ifndef TCPMIG_RULES_INT_H
#define TCPMIG_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <tcpmig/rules.h>

#define RL_MAX_INCLUDE_DEPTH 16
#define RL_MAX_NEST	     16		 /* brackets and '!' in one address or port expression */
#define RL_MAX_FILE	     (64u << 20) /* bytes of one rule file */
#define RL_MAX_CONTENT	     65535	 /* bytes of one content pattern */
#define RL_MAX_STEPS	     64		 /* content and pcre options in one rule */
#define RL_MATCH_BUDGET	     1000000	 /* search steps for one rule on one input */
#define RL_PCRE_MATCH_LIMIT  100000

/* A piece of the line being parsed: tokens point into it, so errors know their line. */
struct rl_str {
	const char *p;
	size_t n;
};

/* Everything a rule set owns, freed at once. */
struct rl_chunk;
struct rl_arena {
	struct rl_chunk *head;
};

void *rl_alloc(struct rl_arena *a, size_t n); /* zeroed; NULL when out of memory */
char *rl_strndup(struct rl_arena *a, const char *s, size_t n);
void rl_arena_free(struct rl_arena *a);

/*
 * An address or port expression.  A list matches when none of its negated items match and one of
 * its plain items does (or it has none); `neg` inverts a node.  Nodes are immutable once built and
 * shared (a variable's tree is used by every rule naming it).
 */
enum rl_set_kind {
	RL_SET_ANY,
	RL_SET_NET,
	RL_SET_PORTS,
	RL_SET_LIST,
};

struct rl_set {
	__u8 kind;
	__u8 neg;
	__u8 family; /* RL_SET_NET: TM_AF_INET or TM_AF_INET6 */
	__u8 prefix;
	__u16 lo, hi;	    /* RL_SET_PORTS, inclusive */
	struct tm_addr net; /* host bits cleared */
	struct rl_set **items;
	size_t n;
};

bool rl_set_match_addr(const struct rl_set *s, int family, const struct tm_addr *a);
bool rl_set_match_port(const struct rl_set *s, __u16 port);

/* content and pcre options, in rule order: they move the cursor (Snort's doe_ptr). */
enum rl_step_kind {
	RL_STEP_CONTENT,
	RL_STEP_PCRE,
};

struct rl_step {
	__u8 kind;
	__u8 negated;
	__u8 relative; /* distance/within, or pcre's R */
	__u8 nocase;
	__u8 has_offset, has_depth, has_distance, has_within, fast;
	__s32 offset; /* offset, or distance when relative */
	__s32 depth;  /* depth, or within when relative; 0: to the end */
	__u8 *pat;    /* content bytes; lower-cased when nocase */
	__u32 len;
	pcre2_code *re;
	const char *src; /* the option value, for messages */
};

enum rl_flags_mode {
	RL_FLAGS_EXACT, /* these bits and no other (outside the mask) */
	RL_FLAGS_ALL,	/* '+': these bits, others don't care */
	RL_FLAGS_ANY,	/* '*': one of these bits */
	RL_FLAGS_NOT,	/* '!': none of these bits */
};

enum rl_flow_state {
	RL_FLOW_ANY,
	RL_FLOW_ESTABLISHED,
	RL_FLOW_NOT_ESTABLISHED,
	RL_FLOW_STATELESS,
};

enum rl_dsize_op {
	RL_DSIZE_EQ,
	RL_DSIZE_LT,
	RL_DSIZE_GT,
	RL_DSIZE_LE,
	RL_DSIZE_GE,
	RL_DSIZE_RANGE, /* lo <= dsize <= hi (Snort 2's N<>M) */
};

struct rl_rule {
	struct tm_rule_info info;
	struct rl_set *src, *sport, *dst, *dport;
	bool bidir;
	bool has_flags;
	__u8 flags_mode, flags, flags_mask;
	__u8 flow_dir; /* 0 or enum tm_rule_dir */
	__u8 flow_state;
	bool has_dsize;
	__u8 dsize_op;
	__u32 dsize_lo, dsize_hi;
	struct rl_step *steps;
	size_t nsteps;
	int fast;	       /* index of the prefilter content in steps, -1: none */
	struct rl_str sid_tok; /* while parsing: the sid's value, where a duplicate is reported */
};

struct rl_pcre_node {
	struct rl_pcre_node *next;
	pcre2_code *re;
};

struct tm_rules {
	struct rl_arena arena;
	struct rl_rule **rules; /* load order */
	size_t n, cap;
	struct rl_rule **by_sid; /* sorted by gid, sid */
	struct rl_pcre_node *pcres;
	size_t npatterns;
	hs_database_t *db; /* NULL when no rule has a positive content */
	hs_scratch_t *scratch;
	__u64 *always; /* rules checked whatever Hyperscan says (no prefilter content) */
	__u64 *cand;
	size_t nwords;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	__u8 *lower; /* the input lower-cased, for nocase contents */
	size_t lower_cap;
	__u64 *memo; /* failed (step, cursor) states of the rule being checked */
	size_t memo_cap;
	bool busy;
};

/* A variable: its expression(s) parsed when defined. */
enum rl_var_type {
	RL_VAR_ANY, /* var: address or port, whichever it parses as */
	RL_VAR_IP,
	RL_VAR_PORT,
};

struct rl_var {
	struct rl_var *next;
	const char *name;
	const char *text; /* the value as written (include paths use it) */
	struct rl_set *addr, *port;
	bool override;
};

/* The logical line being parsed: continuation lines joined, with where each physical line starts.
 */
struct rl_line {
	const char *file;
	const char *text;
	size_t len;
	const size_t *seg_off;
	const unsigned *seg_line;
	size_t nseg;
};

struct rl_ctx {
	struct tm_rules *rs;
	FILE *errs;
	int nerr;
	bool oom;
	int quiet;    /* > 0: trial parse, errors are neither printed nor counted */
	bool in_vars; /* parsing the caller's override definitions */
	const struct rl_line *cur;
	struct rl_var *vars;
	struct rl_rule **sidtab; /* open addressing on gid:sid, for duplicates */
	size_t sidcap, sidn;
	char *stack[RL_MAX_INCLUDE_DEPTH + 2]; /* real paths of the files being read */
	int depth;
};

void rl_error(struct rl_ctx *c, struct rl_str tok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rl_oom(struct rl_ctx *c);
unsigned rl_line_of(const struct rl_line *l, const char *at);

static inline struct rl_str rl_str(const char *p, size_t n)
{
	struct rl_str s = {p, n};

	return s;
}

struct rl_str rl_trim(struct rl_str s);
bool rl_is_name(struct rl_str s); /* [A-Za-z_][A-Za-z0-9_]* */
bool rl_parse_num(struct rl_str s, long long min, long long max, long long *out);

/* header.c */
struct rl_set *rl_parse_addr(struct rl_ctx *c, struct rl_str s);
struct rl_set *rl_parse_ports(struct rl_ctx *c, struct rl_str s);
struct rl_var *rl_var_find(struct rl_ctx *c, struct rl_str name);
void rl_var_define(struct rl_ctx *c, enum rl_var_type type, struct rl_str name, struct rl_str val);
void rl_parse_rule(struct rl_ctx *c, struct rl_str line, enum tm_rule_action action);
bool rl_next_field(struct rl_str *rest, struct rl_str *field);

/* options.c, content.c */
void rl_parse_options(struct rl_ctx *c, struct rl_rule *r, struct rl_str opts);

/* Options of the rule being parsed; arrays are heap-grown and copied into the arena at the end. */
struct rl_opts {
	struct rl_ctx *c;
	struct rl_rule *r;
	struct rl_step *steps;
	size_t nsteps, capsteps;
	bool bad_steps; /* more than RL_MAX_STEPS: said once */
	enum { RL_LAST_NONE, RL_LAST_CONTENT, RL_LAST_BAD_CONTENT, RL_LAST_PCRE } last;
	unsigned seen; /* single-use options already given (1 << enum rl_once) */
	struct tm_rule_kv *meta, *refs;
	size_t nmeta, capmeta, nrefs, caprefs;
	bool has_sid;
};

void rl_opt_content(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val);
void rl_opt_modifier(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val);
void rl_opt_pcre(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val);
void rl_opt_fast_pattern(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val);
bool rl_is_modifier(struct rl_str name);
void rl_steps_finish(struct rl_opts *o);

/* load.c */
void rl_add_rule(struct rl_ctx *c, struct rl_rule *r, bool ok);

/* match.c */
int rl_build(struct rl_ctx *c);
void rl_engine_free(struct tm_rules *rs);

#endif
