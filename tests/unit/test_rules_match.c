/* Matching semantics: content and its modifiers (offset/depth/distance/within, nocase, hex,
 * negation, backtracking), pcre (flags, relative), flags, flow, dsize, addresses and ports, and
 * the tm_rules_match() contract (order, hit counters, return values). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/pkt.h>
#include <tcpmig/rules.h>

#include "tap.h"

#define PA (TM_TCP_PSH | TM_TCP_ACK)

struct pk {
	const char *src, *dst;
	unsigned sport, dport;
	__u8 flags, dir, established;
};

static const struct pk def = {"192.0.2.1", "10.0.0.1", 40000, 80, PA, TM_RULE_TO_SERVER, 1};

static struct tm_rules *load(const char *text, const char *vars)
{
	char *errs = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);
	struct tm_rules *rs;

	rs = tm_rules_load_buffer("m.rules", text, strlen(text), vars, f, NULL);
	fclose(f);
	for (p = strtok(errs, "\n"); p; p = strtok(NULL, "\n"))
		printf("#   %s\n", p);
	free(errs);
	return rs;
}

static void fill(struct tm_match_pkt *p, const struct pk *k, const void *data, size_t len)
{
	int fam = 0;

	memset(p, 0, sizeof(*p));
	tm_addr_port_parse(k->src, &p->saddr, &fam, NULL);
	tm_addr_port_parse(k->dst, &p->daddr, &fam, NULL);
	p->family = (__u8)fam;
	p->sport = (__u16)k->sport;
	p->dport = (__u16)k->dport;
	p->flags = k->flags;
	p->dir = k->dir;
	p->established = k->established;
	p->data = data;
	p->len = len;
}

/* How many rules of @text match; -100 when it does not load. */
static int run(const char *text, const struct pk *k, const void *data, size_t len)
{
	struct tm_rules *rs = load(text, NULL);
	struct tm_match_pkt p;
	int n;

	if (!rs)
		return -100;
	fill(&p, k, data, len);
	n = tm_rules_match(rs, &p, NULL, NULL);
	tm_rules_free(rs);
	return n;
}

/* "alert tcp any any -> any any (@opts sid:1;)" against @data with the default packet. */
static int opts_match(const char *opts, const void *data, size_t len, const struct pk *k)
{
	char rule[1024];

	snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)\n", opts);
	return run(rule, k ? k : &def, data, len);
}

struct mcase {
	const char *opts;
	const char *data;
	int want;
};

/* @s with control bytes as \xNN, for TAP descriptions (static buffer). */
static const char *show(const char *s)
{
	static char buf[256];
	size_t n = 0;

	for (; *s && n + 5 < sizeof(buf); s++) {
		if ((unsigned char)*s < 0x20)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x",
					      (unsigned char)*s);
		else
			buf[n++] = *s;
	}
	buf[n] = 0;
	return buf;
}

static void cases(const char *what, const struct mcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		is_int(opts_match(c[i].opts, c[i].data, strlen(c[i].data), NULL), c[i].want,
		       "%s: %s on '%s': %s", what, c[i].opts, show(c[i].data),
		       c[i].want ? "match" : "no match");
}

#define CASES(what, arr) cases(what, arr, sizeof(arr) / sizeof(*arr))

static void content(void)
{
	static const struct mcase c[] = {
	    {"content:\"abc\";", "xxabcxx", 1},
	    {"content:\"abc\";", "xxabxcx", 0},
	    {"content:\"abc\";", "ab", 0},
	    {"content:\"abc\";", "", 0},
	    {"content:\"ABC\";", "xabcx", 0},
	    {"content:\"ABC\"; nocase;", "xabcx", 1},
	    {"content:\"abc\"; nocase;", "xAbCx", 1},
	    {"content:\"|41 42|C\";", "xABCx", 1},
	    {"content:\"|41 42|C\";", "xabcx", 0},
	    {"content:\"|4142|\"; nocase;", "xabx", 1},
	    {"content:\"a\\\"b\";", "a\"b", 1},
	    {"content:\"a\\;b\";", "a;b", 1},
	    {"content:\"a;b\";", "a;b", 1},
	    {"content:\"a\\\\b\";", "a\\b", 1},
	    {"content:\"a\\:b\";", "a:b", 1},
	    {"content:\"abc\"; content:\"xyz\";", "xyz abc", 1}, /* absolute: any order */
	    {"content:\"abc\"; content:\"xyz\";", "abc", 0},
	    /* offset: the search starts there */
	    {"content:\"abc\"; offset:2;", "xxabc", 1},
	    {"content:\"abc\"; offset:3;", "xxabc", 0},
	    {"content:\"abc\"; offset:2;", "abcabc", 1},
	    {"content:\"abc\"; offset:-5;", "abc", 1},
	    {"content:\"abc\"; offset:10;", "abc", 0},
	    /* depth: the match must end within depth bytes of the start (or of offset) */
	    {"content:\"abc\"; depth:3;", "abcx", 1},
	    {"content:\"abc\"; depth:3;", "xabc", 0},
	    {"content:\"abc\"; depth:4;", "xabc", 1},
	    {"content:\"abc\"; depth:100;", "xabc", 1},
	    {"content:\"abc\"; offset:2; depth:3;", "xxabc", 1},
	    {"content:\"abc\"; offset:2; depth:3;", "xxxabc", 0},
	    {"content:\"abc\"; offset:2; depth:4;", "xxxabc", 1},
	    {"content:\"abc\"; depth:4; offset:2;", "xxxabcx", 1}, /* modifier order */
	    {"content:\"abc\"; nocase; offset:1; depth:3;", "xABC", 1},
	    /* distance: from the end of the previous match */
	    {"content:\"a\"; content:\"b\"; distance:2;", "axxb", 1},
	    {"content:\"a\"; content:\"b\"; distance:2;", "axb", 0},
	    {"content:\"a\"; content:\"b\"; distance:0;", "ab", 1},
	    {"content:\"a\"; content:\"b\"; distance:0;", "ba", 0},
	    {"content:\"b\"; content:\"a\";", "ab", 1},
	    /* within: the match must end within N bytes of the previous match's end */
	    {"content:\"a\"; content:\"b\"; within:2;", "axb", 1},
	    {"content:\"a\"; content:\"b\"; within:2;", "axxb", 0},
	    {"content:\"a\"; content:\"bc\"; within:2;", "abc", 1},
	    {"content:\"a\"; content:\"bc\"; within:2;", "axbc", 0},
	    /* distance and within: within counts from where distance puts the start */
	    {"content:\"a\"; content:\"b\"; distance:1; within:2;", "axxb", 1},
	    {"content:\"a\"; content:\"b\"; distance:1; within:2;", "axxxb", 0},
	    {"content:\"a\"; content:\"b\"; distance:1; within:2;", "ab", 0},
	    /* negative distance reaches back before the cursor (never before 0) */
	    {"content:\"bc\"; content:\"ab\"; distance:-3; within:2;", "abc", 1},
	    {"content:\"c\"; content:\"a\"; distance:-100;", "abc", 1},
	    /* the first content may be relative: to the start */
	    {"content:\"b\"; distance:1;", "bb", 1},
	    {"content:\"b\"; distance:1;", "b", 0},
	    {"content:\"b\"; within:1;", "ab", 0},
	    /* backtracking: a later failure retries earlier contents at their next occurrence */
	    {"content:\"a\"; content:\"b\"; within:1;", "a_ab", 1},
	    {"content:\"a\"; content:\"b\"; within:1; content:\"c\"; within:1;", "ab_abx_abc", 1},
	    {"content:\"a\"; content:\"b\"; within:1; content:\"c\"; within:1;", "ab_abx_ab", 0},
	    {"content:\"x\"; offset:1; content:\"y\"; within:1;", "xxyx", 1},
	    /* negated contents */
	    {"content:!\"evil\";", "good", 1},
	    {"content:!\"evil\";", "is evil", 0},
	    {"content:!\"evil\";", "", 0}, /* Snort: a negated content needs data */
	    {"content:!\"evil\"; depth:4;", "xevil", 1},
	    {"content:!\"evil\"; depth:5;", "xevil", 0},
	    {"content:!\"evil\"; nocase;", "EVIL", 0},
	    {"content:!\"toolong\";", "abc", 1},
	    {"content:\"GET\"; content:!\"admin\"; distance:0; within:10;", "GET /admin", 0},
	    {"content:\"GET\"; content:!\"admin\"; distance:0; within:10;", "GET /x/y/z/admin", 1},
	    {"content:\"GET\"; content:!\"admin\"; distance:0;", "admin GET /", 1},
	    {"content:\"a\"; content:!\"b\"; within:1;", "ab ac", 1}, /* second a */
	    /* fast_pattern only picks the prefilter; the result is the same */
	    {"content:\"a\"; fast_pattern; content:\"bcd\";", "bcd a", 1},
	    {"content:\"a\"; fast_pattern; content:\"bcd\";", "bcd", 0},
	    {"content:\"zz\"; content:\"bcd\"; fast_pattern; nocase;", "BCD zz", 1},
	};
	CASES("content", c);
}

static void binary(void)
{
	static const unsigned char data[] = {'a', 0, 'b', 0xff, 0xfe, 'C'};

	is_int(opts_match("content:\"a|00|b\";", data, sizeof(data), NULL), 1,
	       "content with a NUL byte");
	is_int(opts_match("content:\"|ff FE|c\"; nocase;", data, sizeof(data), NULL), 1,
	       "hex bytes >= 0x80 with nocase");
	is_int(opts_match("content:\"|ff fe|c\";", data, sizeof(data), NULL), 0,
	       "case matters without nocase");
	is_int(opts_match("pcre:\"/\\x00b\\xff/\";", data, sizeof(data), NULL), 1,
	       "pcre over binary data");
	is_int(opts_match("dsize:6;", data, sizeof(data), NULL), 1, "dsize counts every byte");
}

static void pcre(void)
{
	static const struct mcase c[] = {
	    {"pcre:\"/ab+c/\";", "xabbbc", 1},
	    {"pcre:\"/ab+c/\";", "xac", 0},
	    {"pcre:\"/ABC/\";", "abc", 0},
	    {"pcre:\"/ABC/i\";", "abc", 1},
	    {"pcre:\"/a.b/\";", "a\nb", 0},
	    {"pcre:\"/a.b/s\";", "a\nb", 1},
	    {"pcre:\"/^b/\";", "a\nb", 0},
	    {"pcre:\"/^b/m\";", "a\nb", 1},
	    {"pcre:\"/a b c/x\";", "abc", 1},
	    {"pcre:\"/b/A\";", "ab", 0},
	    {"pcre:\"/b/A\";", "ba", 1},
	    {"pcre:\"/a$/\";", "a\n", 1},
	    {"pcre:\"/a$/E\";", "a\n", 0},
	    {"pcre:\"/a\\/b/\";", "a/b", 1},
	    {"pcre:\"/a\\\"b/\";", "a\"b", 1},
	    {"pcre:\"/a\\;b/\";", "a;b", 1},
	    {"pcre:\"/a;b/\";", "a;b", 1},
	    {"pcre:\"/x/\";", "", 0},
	    {"pcre:!\"/evil/\";", "good", 1},
	    {"pcre:!\"/evil/\";", "evil", 0},
	    {"pcre:!\"/evil/\";", "", 1},
	    /* a pcre moves the cursor to the end of its match */
	    {"pcre:\"/a+/\"; content:\"b\"; distance:0; within:1;", "aaab", 1},
	    {"pcre:\"/a+/\"; content:\"b\"; distance:0; within:1;", "aaacb", 0},
	    {"pcre:\"/a.+b/\"; content:\"Z\"; distance:0; within:1;", "aXbZb", 0},
	    {"pcre:\"/a.+b/G\"; content:\"Z\"; distance:0; within:1;", "aXbZb", 1},
	    /* R: relative to the previous match; ^ anchors at the cursor */
	    {"content:\"GET\"; pcre:\"/^ \\//R\";", "GET /x", 1},
	    {"content:\"GET\"; pcre:\"/^ \\//R\";", "GET x /", 0},
	    {"content:\"GET\"; pcre:\"/^GET/R\";", "GETGET", 1},
	    {"content:\"GET\"; pcre:\"/^GET/R\";", "GET GET", 0},
	    {"content:\"GET\"; pcre:\"/GET/R\";", "GET", 0},
	    {"content:\"GET\"; pcre:\"/GET/\";", "GET", 1},
	    {"content:\"x\"; pcre:\"/^GET/\";", "GET x", 1},
	    {"content:\"a\"; pcre:\"/^b/R\";", "ac ab", 1}, /* retried at the second a */
	    {"content:\"=\"; pcre:!\"/^\\d/R\";", "a=1 b=x", 1},
	    {"content:\"=\"; pcre:!\"/^\\d/R\";", "a=1 b=2", 0},
	    {"pcre:\"/(a+)+$/\";", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0}, /* limits */
	};
	CASES("pcre", c);
}

static void flags_flow_dsize(void)
{
	static const struct {
		const char *opts;
		__u8 flags;
		int want;
	} f[] = {
	    {"flags:PA;", PA, 1},
	    {"flags:AP;", PA, 1},
	    {"flags:pa;", PA, 1},
	    {"flags:A;", PA, 0},
	    {"flags:A+;", PA, 1},
	    {"flags:+A;", PA, 1},
	    {"flags:S+;", PA, 0},
	    {"flags:*SA;", PA, 1},
	    {"flags:*SF;", PA, 0},
	    {"flags:!R;", PA, 1},
	    {"flags:!RP;", PA, 0},
	    {"flags:R!;", TM_TCP_RST, 0},
	    {"flags:PA;", PA | TM_TCP_ECE, 0},
	    {"flags:PA,CE;", PA | TM_TCP_ECE, 1},
	    {"flags:PA,12;", PA | TM_TCP_CWR | TM_TCP_ECE, 1},
	    {"flags:PAC;", PA | TM_TCP_CWR, 1},
	    {"flags:PA1;", PA | TM_TCP_CWR, 1},
	    {"flags:PA2;", PA | TM_TCP_ECE, 1},
	    {"flags:S;", TM_TCP_SYN, 1},
	    {"flags:S;", TM_TCP_SYN | TM_TCP_ACK, 0},
	    {"flags:SA;", TM_TCP_SYN | TM_TCP_ACK, 1},
	    {"flags:S,A;", TM_TCP_SYN | TM_TCP_ACK, 1},
	    {"flags:0;", 0, 1},
	    {"flags:0;", TM_TCP_ACK, 0},
	    {"flags:FSRPAU;", 0x3f, 1},
	    {"flags:U*;", TM_TCP_URG | TM_TCP_FIN, 1},
	};
	static const struct {
		const char *opts;
		__u8 dir, est;
		int want;
	} w[] = {
	    {"flow:to_server;", TM_RULE_TO_SERVER, 1, 1},
	    {"flow:to_server;", TM_RULE_TO_CLIENT, 1, 0},
	    {"flow:to_server;", TM_RULE_DIR_UNKNOWN, 1, 0},
	    {"flow:from_client;", TM_RULE_TO_SERVER, 1, 1},
	    {"flow:to_client;", TM_RULE_TO_CLIENT, 1, 1},
	    {"flow:from_server;", TM_RULE_TO_CLIENT, 1, 1},
	    {"flow:from_server;", TM_RULE_TO_SERVER, 1, 0},
	    {"flow:established;", TM_RULE_TO_SERVER, 1, 1},
	    {"flow:established;", TM_RULE_TO_SERVER, 0, 0},
	    {"flow:not_established;", TM_RULE_TO_SERVER, 0, 1},
	    {"flow:not_established;", TM_RULE_TO_SERVER, 1, 0},
	    {"flow:stateless;", TM_RULE_DIR_UNKNOWN, 0, 1},
	    {"flow:to_server,established;", TM_RULE_TO_SERVER, 1, 1},
	    {"flow:established,to_server;", TM_RULE_TO_SERVER, 0, 0},
	    {"flow:to_server,from_client;", TM_RULE_TO_SERVER, 1, 1},
	};
	static const struct mcase d[] = {
	    {"dsize:5;", "12345", 1},	  {"dsize:4;", "12345", 0},
	    {"dsize:<6;", "12345", 1},	  {"dsize:<5;", "12345", 0},
	    {"dsize:>4;", "12345", 1},	  {"dsize:>5;", "12345", 0},
	    {"dsize:<=5;", "12345", 1},	  {"dsize:<=4;", "12345", 0},
	    {"dsize:>=5;", "12345", 1},	  {"dsize:>=6;", "12345", 0},
	    {"dsize:5<>10;", "12345", 1}, {"dsize:1<>5;", "12345", 1},
	    {"dsize:6<>10;", "12345", 0}, {"dsize:1<>4;", "12345", 0},
	    {"dsize:1<=>5;", "12345", 1}, {"dsize:0;", "", 1},
	    {"dsize: > 3 ;", "12345", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		struct pk k = def;

		k.flags = f[i].flags;
		is_int(opts_match(f[i].opts, "x", 1, &k), f[i].want, "%s with flags 0x%02x: %s",
		       f[i].opts, f[i].flags, f[i].want ? "match" : "no match");
	}
	for (i = 0; i < sizeof(w) / sizeof(*w); i++) {
		struct pk k = def;

		k.dir = w[i].dir;
		k.established = w[i].est;
		is_int(opts_match(w[i].opts, "x", 1, &k), w[i].want, "%s dir %d established %d: %s",
		       w[i].opts, w[i].dir, w[i].est, w[i].want ? "match" : "no match");
	}
	CASES("dsize", d);
}

static void header(void)
{
	static const struct {
		const char *hdr;
		struct pk k;
		int want;
	} h[] = {
	    {"any any -> any any", {"192.0.2.1", "10.0.0.1", 1, 2, PA, 1, 1}, 1},
	    {"192.0.2.0/24 any -> 10.0.0.1 80", {"192.0.2.1", "10.0.0.1", 40000, 80, PA, 1, 1}, 1},
	    {"192.0.2.0/24 any -> 10.0.0.1 80", {"192.0.2.1", "10.0.0.2", 40000, 80, PA, 1, 1}, 0},
	    {"192.0.2.0/24 any -> 10.0.0.1 80", {"192.0.3.1", "10.0.0.1", 40000, 80, PA, 1, 1}, 0},
	    {"192.0.2.0/24 any -> 10.0.0.1 80", {"192.0.2.1", "10.0.0.1", 40000, 81, PA, 1, 1}, 0},
	    {"10.0.0.99/8 any -> any any", {"10.200.0.1", "1.1.1.1", 1, 2, PA, 1, 1}, 1},
	    {"0.0.0.0/0 any -> any any", {"1.2.3.4", "1.1.1.1", 1, 2, PA, 1, 1}, 1},
	    {"!192.0.2.1 any -> any any", {"192.0.2.1", "10.0.0.1", 1, 2, PA, 1, 1}, 0},
	    {"!192.0.2.2 any -> any any", {"192.0.2.1", "10.0.0.1", 1, 2, PA, 1, 1}, 1},
	    {"any any -> [10.0.0.0/8,!10.1.0.0/16] any",
	     {"1.1.1.1", "10.0.0.1", 1, 2, PA, 1, 1},
	     1},
	    {"any any -> [10.0.0.0/8,!10.1.0.0/16] any",
	     {"1.1.1.1", "10.1.2.3", 1, 2, PA, 1, 1},
	     0},
	    {"any any -> [10.0.0.0/8,!10.1.0.0/16] any",
	     {"1.1.1.1", "11.0.0.1", 1, 2, PA, 1, 1},
	     0},
	    {"any any -> [!10.0.0.1,!10.0.0.2] any", {"1.1.1.1", "10.0.0.3", 1, 2, PA, 1, 1}, 1},
	    {"any any -> [!10.0.0.1,!10.0.0.2] any", {"1.1.1.1", "10.0.0.2", 1, 2, PA, 1, 1}, 0},
	    {"any any -> ![10.0.0.1,10.0.0.2] any", {"1.1.1.1", "10.0.0.1", 1, 2, PA, 1, 1}, 0},
	    {"any any -> ![10.0.0.1,10.0.0.2] any", {"1.1.1.1", "10.0.0.9", 1, 2, PA, 1, 1}, 1},
	    {"any any -> [[10.0.0.1,10.0.0.2],10.0.0.3] any",
	     {"1.1.1.1", "10.0.0.2", 1, 2, PA, 1, 1},
	     1},
	    /* a nested list is one item: [!x] is all but x, so this union is everything */
	    {"any any -> [10.0.0.0/8,[!10.0.0.1]] any", {"1.1.1.1", "10.0.0.1", 1, 2, PA, 1, 1}, 1},
	    {"any any -> [10.0.0.0/8,[!10.0.0.1]] any", {"1.1.1.1", "11.0.0.1", 1, 2, PA, 1, 1}, 1},
	    {"any any -> [[10.0.0.0/8,!10.0.0.1]] any", {"1.1.1.1", "10.0.0.1", 1, 2, PA, 1, 1}, 0},
	    {"any any -> !!10.0.0.1 any", {"1.1.1.1", "10.0.0.1", 1, 2, PA, 1, 1}, 1},
	    /* ports */
	    {"any any -> any 1:1024", {"1.1.1.1", "2.2.2.2", 1, 1024, PA, 1, 1}, 1},
	    {"any any -> any 1:1024", {"1.1.1.1", "2.2.2.2", 1, 1025, PA, 1, 1}, 0},
	    {"any any -> any :1024", {"1.1.1.1", "2.2.2.2", 1, 0, PA, 1, 1}, 1},
	    {"any any -> any 1024:", {"1.1.1.1", "2.2.2.2", 1, 65535, PA, 1, 1}, 1},
	    {"any any -> any 1024:", {"1.1.1.1", "2.2.2.2", 1, 1023, PA, 1, 1}, 0},
	    {"any any -> any [80,443]", {"1.1.1.1", "2.2.2.2", 1, 443, PA, 1, 1}, 1},
	    {"any any -> any [80,443]", {"1.1.1.1", "2.2.2.2", 1, 444, PA, 1, 1}, 0},
	    {"any any -> any !80", {"1.1.1.1", "2.2.2.2", 1, 80, PA, 1, 1}, 0},
	    {"any any -> any !80", {"1.1.1.1", "2.2.2.2", 1, 81, PA, 1, 1}, 1},
	    {"any any -> any [1:1024,!80]", {"1.1.1.1", "2.2.2.2", 1, 80, PA, 1, 1}, 0},
	    {"any any -> any [1:1024,!80]", {"1.1.1.1", "2.2.2.2", 1, 22, PA, 1, 1}, 1},
	    {"any any -> any [!80,!443]", {"1.1.1.1", "2.2.2.2", 1, 22, PA, 1, 1}, 1},
	    {"any any -> any [!80,!443]", {"1.1.1.1", "2.2.2.2", 1, 443, PA, 1, 1}, 0},
	    {"any 40000 -> any any", {"1.1.1.1", "2.2.2.2", 40000, 1, PA, 1, 1}, 1},
	    {"any 40000 -> any any", {"1.1.1.1", "2.2.2.2", 40001, 1, PA, 1, 1}, 0},
	    /* omitted ports are any */
	    {"any -> 10.0.0.1 any", {"1.1.1.1", "10.0.0.1", 5, 6, PA, 1, 1}, 1},
	    {"any -> 10.0.0.1", {"1.1.1.1", "10.0.0.1", 5, 6, PA, 1, 1}, 1},
	    {"", {"1.1.1.1", "10.0.0.1", 5, 6, PA, 1, 1}, 1},
	    /* IPv6 */
	    {"2001:db8::/32 any -> any any", {"2001:db8::1", "2001:db8::2", 1, 2, PA, 1, 1}, 1},
	    {"2001:db8::/32 any -> any any", {"2001:db9::1", "2001:db8::2", 1, 2, PA, 1, 1}, 0},
	    {"2001:db8::/32 any -> any any", {"192.0.2.1", "10.0.0.1", 1, 2, PA, 1, 1}, 0},
	    {"0.0.0.0/0 any -> any any", {"2001:db8::1", "2001:db8::2", 1, 2, PA, 1, 1}, 0},
	    {"any any -> 2001:db8::2 any", {"2001:db8::1", "2001:db8::2", 1, 2, PA, 1, 1}, 1},
	    {"any any -> 2001:db8::2/127 any", {"2001:db8::1", "2001:db8::3", 1, 2, PA, 1, 1}, 1},
	    {"any any -> 2001:db8::2/127 any", {"2001:db8::1", "2001:db8::4", 1, 2, PA, 1, 1}, 0},
	    {"any any -> [::/0,!2001:db8::2] any",
	     {"2001:db8::1", "2001:db8::2", 1, 2, PA, 1, 1},
	     0},
	    {"any any -> !10.0.0.1 any", {"2001:db8::1", "2001:db8::2", 1, 2, PA, 1, 1}, 1},
	    /* direction */
	    {"10.0.0.1 80 <> 192.0.2.0/24 any", {"192.0.2.1", "10.0.0.1", 40000, 80, PA, 1, 1}, 1},
	    {"10.0.0.1 80 -> 192.0.2.0/24 any", {"192.0.2.1", "10.0.0.1", 40000, 80, PA, 1, 1}, 0},
	    {"10.0.0.1 80 <> 192.0.2.0/24 any", {"192.0.2.1", "10.0.0.1", 40000, 81, PA, 1, 1}, 0},
	    {"192.0.2.0/24 any <> 10.0.0.1 80", {"192.0.2.1", "10.0.0.1", 40000, 80, PA, 1, 1}, 1},
	};
	char rule[512];
	size_t i;

	for (i = 0; i < sizeof(h) / sizeof(*h); i++) {
		snprintf(rule, sizeof(rule), "alert tcp %s (sid:1;)\n", h[i].hdr);
		is_int(run(rule, &h[i].k, "x", 1), h[i].want, "%s with %s:%u -> %s:%u: %s",
		       h[i].hdr, h[i].k.src, h[i].k.sport, h[i].k.dst, h[i].k.dport,
		       h[i].want ? "match" : "no match");
	}
}

static void vars(void)
{
	static const char rules[] =
	    "ipvar HOME_NET [10.0.0.0/8]\n"
	    "ipvar EXTERNAL_NET !$HOME_NET\n"
	    "portvar HTTP_PORTS [80,8080:8081]\n"
	    "alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (sid:1;)\n";
	struct pk k = def;

	is_int(run(rules, &k, "x", 1), 1, "$EXTERNAL_NET -> $HOME_NET $HTTP_PORTS");
	k.src = "10.9.9.9";
	is_int(run(rules, &k, "x", 1), 0, "a HOME_NET source is not EXTERNAL_NET");
	k = def;
	k.dport = 8081;
	is_int(run(rules, &k, "x", 1), 1, "a port range in a portvar");
	k.dport = 8082;
	is_int(run(rules, &k, "x", 1), 0, "just past it");
}

struct seen {
	__u32 sids[16];
	int n;
	struct tm_rules *rs;
	int inner;
};

static void collect(const struct tm_rule_info *r, void *user)
{
	struct seen *s = user;
	struct tm_match_pkt p;

	if (s->n < 16)
		s->sids[s->n++] = r->sid;
	if (s->rs) {
		fill(&p, &def, "x", 1);
		s->inner = tm_rules_match(s->rs, &p, NULL, NULL);
	}
}

static void api(void)
{
	struct tm_rules *rs = load("alert tcp any any -> any any (content:\"b\"; sid:30;)\n"
				   "alert tcp any any -> any any (flags:PA; sid:10;)\n"
				   "alert tcp any any -> any any (content:\"a\"; sid:20;)\n"
				   "alert tcp any any -> any any (content:\"zzz\"; sid:40;)\n",
				   NULL);
	struct tm_match_pkt p;
	struct seen s = {0};
	int n;

	if (!rs) {
		ok(0, "api rules load");
		return;
	}
	fill(&p, &def, "ab", 2);
	n = tm_rules_match(rs, &p, collect, &s);
	ok(n == 3 && s.n == 3 && s.sids[0] == 30 && s.sids[1] == 10 && s.sids[2] == 20,
	   "callbacks in load order, return = number matched");
	fill(&p, &def, "a", 1);
	tm_rules_match(rs, &p, NULL, NULL);
	ok(tm_rules_get(rs, 0)->hits == 1 && tm_rules_get(rs, 1)->hits == 2 &&
	       tm_rules_get(rs, 2)->hits == 2 && tm_rules_get(rs, 3)->hits == 0,
	   "hit counters, also without a callback");
	fill(&p, &def, NULL, 0);
	is_int(tm_rules_match(rs, &p, NULL, NULL), 1, "no data: only the rule without content");
	fill(&p, &def, NULL, 5);
	is_int(tm_rules_match(rs, &p, NULL, NULL), -EINVAL, "data NULL with a length: -EINVAL");
	is_int(tm_rules_match(NULL, &p, NULL, NULL), -EINVAL, "NULL rules: -EINVAL");
	is_int(tm_rules_match(rs, NULL, NULL, NULL), -EINVAL, "NULL packet: -EINVAL");
	memset(&s, 0, sizeof(s));
	s.rs = rs;
	fill(&p, &def, "a", 1);
	tm_rules_match(rs, &p, collect, &s);
	is_int(s.inner, -EBUSY, "tm_rules_match from a callback: -EBUSY");
	is_int(tm_rules_match(rs, &p, NULL, NULL), 2, "and the rule set works afterwards");
	tm_rules_free(rs);
	tm_rules_free(NULL);
	ok(tm_rules_count(NULL) == 0 && !tm_rules_get(NULL, 0) && !tm_rules_find(NULL, 1, 1),
	   "NULL-safe accessors");

	rs = load("alert tcp any any -> any any (dsize:>1000; sid:1;)\n", NULL);
	{
		static unsigned char big[70000];

		memset(big, 'x', sizeof(big));
		fill(&p, &def, big, sizeof(big));
		is_int(rs ? tm_rules_match(rs, &p, NULL, NULL) : -100, 1,
		       "more than 65535 bytes of data");
	}
	tm_rules_free(rs);
}

int main(void)
{
	content();
	binary();
	pcre();
	flags_flow_dsize();
	header();
	vars();
	api();
	return tap_done();
}
