/* Rule engine: a documented subset of the Snort rule language, matched with Hyperscan and PCRE2. */
#ifndef TCPMIG_RULES_H
#define TCPMIG_RULES_H

#include <stddef.h>
#include <stdio.h>
#include <tcpmig/types.h>

/*
 * A loaded rule set is immutable apart from its hit counters and its scratch space: load a new
 * one to reload, keep using the old one until the new one loaded without errors.  Not
 * thread-safe: one tm_rules_match() at a time per rule set.  See tcpmig-rules(5).
 */
struct tm_rules;

enum tm_rule_action {
	TM_RULE_ALERT = 0,
	TM_RULE_LOG,
	TM_RULE_PASS,
};

/* Which way the matched bytes travel (Snort's flow:to_server / flow:to_client). */
enum tm_rule_dir {
	TM_RULE_DIR_UNKNOWN = 0, /* rules with a flow direction never match */
	TM_RULE_TO_SERVER,	 /* client -> server: the usual case */
	TM_RULE_TO_CLIENT,
};

/* One metadata item ("key value") or reference ("system,id": key = system, value = id). */
struct tm_rule_kv {
	const char *key;
	const char *value;
};

/* What a caller may know about a rule; strings live as long as the rule set. */
struct tm_rule_info {
	__u32 gid; /* 1 unless the rule says otherwise */
	__u32 sid;
	__u32 rev;	/* 1 unless the rule says otherwise */
	__u32 priority; /* 0: the rule sets none */
	enum tm_rule_action action;
	const char *msg;       /* "" when the rule has no msg */
	const char *classtype; /* NULL when the rule has none */
	const struct tm_rule_kv *metadata;
	size_t n_metadata;
	const struct tm_rule_kv *references;
	size_t n_references;
	const char *file; /* as named by the caller or the include line */
	unsigned line;	  /* first line of the rule */
	const char *text; /* the rule, continuation lines joined */
	__u64 hits;	  /* incremented by tm_rules_match() */
};

/* What tm_rules_match() looks at: the first bytes of one direction of a connection. */
struct tm_match_pkt {
	__u8 family;	  /* TM_AF_INET or TM_AF_INET6 */
	__u8 flags;	  /* TCP flags of the latest segment (TM_TCP_*) */
	__u8 dir;	  /* enum tm_rule_dir */
	__u8 established; /* non-zero once the three-way handshake completed */
	__u16 sport;	  /* host order */
	__u16 dport;
	struct tm_addr saddr; /* network order, IPv4 in w[0] (as struct tm_pkt) */
	struct tm_addr daddr;
	const __u8 *data; /* stream bytes from the first one (reassembled, in order) */
	size_t len;	  /* what dsize tests, and where searches end */
};

typedef void (*tm_rules_cb)(const struct tm_rule_info *rule, void *user);

/*
 * Load the rule file @path and what it includes.  @vars (optional) holds `var`/`ipvar`/`portvar`
 * lines whose definitions win over the files' ones (errors in it are reported as "<vars>:N").
 * Every error is printed to @errs (if not NULL) as "file:line: message 'token'" and counted in
 * *@nerrors (if not NULL).  Returns the rule set, or NULL with errno set (EINVAL: the rules have
 * errors, ENOMEM, or why the top-level file could not be read) and nothing left allocated.
 */
struct tm_rules *tm_rules_load(const char *path, const char *vars, FILE *errs, int *nerrors);

/*
 * The same from memory: @text (@len bytes, NUL bytes are errors) is named @name in messages;
 * relative include paths are resolved from @name's directory ("." when it has none).
 */
struct tm_rules *tm_rules_load_buffer(const char *name, const char *text, size_t len,
				      const char *vars, FILE *errs, int *nerrors);

void tm_rules_free(struct tm_rules *rs);

/* Rules in load order (an include's rules at the place of its include line), 0..count-1. */
size_t tm_rules_count(const struct tm_rules *rs);
const struct tm_rule_info *tm_rules_get(const struct tm_rules *rs, size_t i);
/* The rule with this gid and sid, or NULL. */
const struct tm_rule_info *tm_rules_find(const struct tm_rules *rs, __u32 gid, __u32 sid);
/* Patterns in the Hyperscan database: one per rule with a non-negated content. */
size_t tm_rules_npatterns(const struct tm_rules *rs);

/*
 * Call @cb (may be NULL) for every rule that matches @p in all its options, in load order, and
 * count a hit on each.  Returns how many matched, or -EINVAL (bad arguments, len > UINT_MAX),
 * -EBUSY (called from inside a callback), -ENOMEM, -EIO (Hyperscan failed); on an error the
 * callbacks already made stand.
 */
int tm_rules_match(struct tm_rules *rs, const struct tm_match_pkt *p, tm_rules_cb cb, void *user);

/* "alert", "log", "pass". */
const char *tm_rule_action_str(enum tm_rule_action a);

#endif
