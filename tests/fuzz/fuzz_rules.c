/* libFuzzer: tm_rules_load_buffer on arbitrary text (before a "\n%%\n" line: the caller's
 * variables). A load fails exactly when it counted errors; a rule set that loads is matched against
 * the input itself, both ways and with flags from the input: counts, callbacks and hit counters
 * agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/rules.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_rules: %s:%d: %s\n", __FILE__, __LINE__, #c);        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void count_cb(const struct tm_rule_info *r, void *user)
{
	CHECK(r && r->sid && r->file && r->msg && r->text && r->hits > 0);
	(*(int *)user)++;
}

static void match_twice(struct tm_rules *rs, const uint8_t *data, size_t size)
{
	struct tm_match_pkt p = {.family = TM_AF_INET, .sport = 40000, .dport = 80};
	size_t i, n = tm_rules_count(rs);
	__u64 hits = 0;
	int a, b, seen = 0;

	p.saddr.w[0] = size > 4 ? (__u32)data[1] << 24 | data[2] | 0x0a : 0x0100000a;
	p.daddr.w[0] = 0x0100000a;
	p.flags = size ? data[0] : 0x18;
	p.dir = size ? (__u8)(data[size - 1] % 3) : 1;
	p.established = size > 1 ? data[1] & 1 : 1;
	p.data = data;
	p.len = size;
	a = tm_rules_match(rs, &p, count_cb, &seen);
	CHECK(a >= 0 && (size_t)a <= n && a == seen);
	b = tm_rules_match(rs, &p, NULL, NULL);
	CHECK(b == a);
	for (i = 0; i < n; i++)
		hits += tm_rules_get(rs, i)->hits;
	CHECK(hits == (__u64)a * 2);
	p.dir = TM_RULE_TO_SERVER;
	p.daddr.w[0] = p.saddr.w[0];
	CHECK(tm_rules_match(rs, &p, NULL, NULL) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	const uint8_t *text = data, *sep;
	char *vars = NULL;
	struct tm_rules *rs;
	size_t tlen = size, i;
	int nerr = -1;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	sep = memmem(data, size, "\n%%\n", 4);
	if (sep) {
		vars = strndup((const char *)data, (size_t)(sep - data));
		text = sep + 4;
		tlen = size - (size_t)(text - data);
	}
	/* No directory: relative includes fail instead of reading the fuzzer's working tree. */
	rs = tm_rules_load_buffer("/nonexistent-tcpmig-fuzz/fuzz.rules", (const char *)text, tlen,
				  vars, devnull, &nerr);
	CHECK(nerr >= 0 && (rs == NULL) == (nerr > 0));
	if (rs) {
		for (i = 0; i < tm_rules_count(rs); i++) {
			const struct tm_rule_info *r = tm_rules_get(rs, i);

			CHECK(r->sid && r->gid && r->rev && r->line && r->file && r->msg &&
			      r->text);
			CHECK(tm_rules_find(rs, r->gid, r->sid) == r);
		}
		match_twice(rs, data, size);
	}
	tm_rules_free(rs);
	free(vars);
	return 0;
}
