/* Rule loading, good input: every option's fields, header forms, comments and continuations,
 * variables (and the caller's overrides), includes from files in a temp dir. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tcpmig/pkt.h>
#include <tcpmig/rules.h>

#include "tap.h"

static char tmpdir[] = "/tmp/tcpmig-rules-parse-XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void wfile(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(name);
		exit(2);
	}
}

/* Load @text as "t.rules"; errors are shown as TAP comments. */
static struct tm_rules *load(const char *text, const char *vars)
{
	char *errs = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);
	struct tm_rules *rs;
	int nerr = 0;

	rs = tm_rules_load_buffer("t.rules", text, strlen(text), vars, f, &nerr);
	fclose(f);
	for (p = strtok(errs, "\n"); p; p = strtok(NULL, "\n"))
		printf("#   %s\n", p);
	free(errs);
	return rs;
}

/* Does the rule set match @payload sent 192.0.2.1:40000 -> @dst:@dport (PA, to server)? */
static int hits(struct tm_rules *rs, const char *dst, unsigned dport, const char *payload)
{
	struct tm_match_pkt p = {.family = TM_AF_INET,
				 .flags = TM_TCP_PSH | TM_TCP_ACK,
				 .dir = TM_RULE_TO_SERVER,
				 .established = 1,
				 .sport = 40000,
				 .dport = (__u16)dport,
				 .data = (const __u8 *)payload,
				 .len = strlen(payload)};
	int fam;

	tm_addr_port_parse("192.0.2.1", &p.saddr, &fam, NULL);
	tm_addr_port_parse(dst, &p.daddr, &fam, NULL);
	return tm_rules_match(rs, &p, NULL, NULL);
}

static void seed_rules(void)
{
	static const char seed[] =
	    "alert tcp any -> 10.0.0.1 any(msg:\"FORWARD\"; flags:PA; content:\"forward\"; "
	    "classtype:connection-migration; sid:1000001;)\n"
	    "alert tcp any -> 10.0.0.1 any(msg:\"MIGRATE\"; flags:PA; content:\"migrate\"; "
	    "classtype:connection-migration; sid:1000002;)\n";
	struct tm_rules *rs = load(seed, NULL);
	const struct tm_rule_info *a, *b;

	ok(rs && tm_rules_count(rs) == 2, "seed 000's two rules load unchanged");
	if (!rs)
		return;
	a = tm_rules_get(rs, 0);
	b = tm_rules_get(rs, 1);
	ok(a->sid == 1000001 && a->gid == 1 && a->rev == 1 && a->priority == 0 &&
	       a->action == TM_RULE_ALERT && !strcmp(a->msg, "FORWARD") &&
	       !strcmp(a->classtype, "connection-migration") && !strcmp(a->file, "t.rules") &&
	       a->line == 1 && a->n_metadata == 0 && a->n_references == 0 && a->hits == 0,
	   "FORWARD: sid, defaults, msg, classtype, file:line");
	ok(b->sid == 1000002 && !strcmp(b->msg, "MIGRATE") && b->line == 2,
	   "MIGRATE: sid 1000002 on line 2");
	ok(!strncmp(a->text, "alert tcp any -> 10.0.0.1 any(msg:\"FORWARD\";", 44) &&
	       a->text[strlen(a->text) - 1] == ')',
	   "the rule's text is kept");
	ok(tm_rules_find(rs, 1, 1000002) == b && !tm_rules_find(rs, 2, 1000002) &&
	       !tm_rules_find(rs, 1, 5),
	   "tm_rules_find by gid:sid");
	is_int(tm_rules_npatterns(rs), 2, "two content patterns in the Hyperscan database");
	is_int(hits(rs, "10.0.0.1", 80, "migrate"), 1, "seed: 'migrate' to 10.0.0.1 matches");
	tm_rules_free(rs);
}

static void info_fields(void)
{
	struct tm_rules *rs = load(
	    "alert tcp any any -> any any (msg:\"a \\\"quoted\\\" \\; semi \\\\ back \\: colon\"; "
	    "sid:5; rev:3; gid:7; classtype:trojan-activity; priority:2; "
	    "metadata:policy balanced-ips drop, service http; metadata: created_at 2024_01_01; "
	    "reference:cve,2020-1234; reference: url , example.com/a?b=c;)\n"
	    "log tcp any any -> any any (msg:\"l\"; sid:6)\n"
	    "pass tcp any any -> any any (sid:4294967295; priority:2147483647; rev:4294967295;)\n",
	    NULL);
	const struct tm_rule_info *r;

	ok(rs && tm_rules_count(rs) == 3, "msg/sid/rev/gid/classtype/priority/metadata/reference");
	if (!rs)
		return;
	r = tm_rules_get(rs, 0);
	ok(!strcmp(r->msg, "a \"quoted\" ; semi \\ back : colon"),
	   "msg escapes \\\" \\; \\\\ \\:: %s", r->msg);
	ok(r->sid == 5 && r->rev == 3 && r->gid == 7 && r->priority == 2 &&
	       !strcmp(r->classtype, "trojan-activity"),
	   "sid, rev, gid, priority, classtype");
	ok(r->n_metadata == 3 && !strcmp(r->metadata[0].key, "policy") &&
	       !strcmp(r->metadata[0].value, "balanced-ips drop") &&
	       !strcmp(r->metadata[1].key, "service") && !strcmp(r->metadata[1].value, "http") &&
	       !strcmp(r->metadata[2].key, "created_at") &&
	       !strcmp(r->metadata[2].value, "2024_01_01"),
	   "metadata: key value pairs, comma separated, several options add up");
	ok(r->n_references == 2 && !strcmp(r->references[0].key, "cve") &&
	       !strcmp(r->references[0].value, "2020-1234") &&
	       !strcmp(r->references[1].key, "url") &&
	       !strcmp(r->references[1].value, "example.com/a?b=c"),
	   "references: system,id");
	r = tm_rules_get(rs, 1);
	ok(r->action == TM_RULE_LOG && r->sid == 6 && !strcmp(r->msg, "l") && !r->classtype,
	   "log action; the last option's ';' may be missing");
	r = tm_rules_get(rs, 2);
	ok(r->action == TM_RULE_PASS && r->sid == 4294967295u && r->priority == 2147483647 &&
	       r->rev == 4294967295u && !strcmp(r->msg, ""),
	   "pass action, largest values, msg defaults to \"\"");
	ok(!strcmp(tm_rule_action_str(TM_RULE_ALERT), "alert") &&
	       !strcmp(tm_rule_action_str(TM_RULE_LOG), "log") &&
	       !strcmp(tm_rule_action_str(TM_RULE_PASS), "pass"),
	   "tm_rule_action_str");
	tm_rules_free(rs);
}

/* Every supported option and header form parses (their meaning is test_rules_match's job). */
static void every_option(void)
{
	static const char *const good[] = {
	    "content:\"a|00 ff|b\"; nocase; offset:1; depth:10;",
	    "content:\"a\"; content:\"b\"; distance:-1; within:5;",
	    "content:!\"a\"; content:\"b\"; fast_pattern; nocase;",
	    "content:\"a;b\"; content:\"c\\;d\\\"e\\\\f\\:g\"; content:\"|7C|\";",
	    "content: \"spaced\" ; offset: -5 ;",
	    "pcre:\"/a\\/b[;\\\"]/ismxAEGR\"; pcre:!\"/x/\";",
	    "flags:PA; flow:to_server,established; dsize:<100;",
	    "flags:S+; flow:from_client;",
	    "flags:*SF,CE; flow:to_client,not_established; dsize:>=3;",
	    "flags:!R; flow:from_server,stateless; dsize:10<>20;",
	    "flags:0; dsize:5;",
	    "flags:+12; dsize:<=9;",
	    "flags:fsrpauce; dsize:1<=>2;",
	    "dsize:>0;",
	};
	static const char *const headers[] = {
	    "alert tcp any any -> any any",
	    "alert tcp any -> 10.0.0.1 any",
	    "alert tcp any 80 -> 10.0.0.1",
	    "alert tcp any -> any",
	    "alert tcp",
	    "alert tcp 10.0.0.0/8 1024: <> [192.168.0.0/16,!192.168.1.0/24] [80,443,8000:8080]",
	    "alert tcp [10.0.0.1, 10.0.0.2 ,[10.0.0.3]] !80 -> ![1.2.3.4,5.6.7.8] [:1023,!22]",
	    "alert tcp 2001:db8::/32 any -> [::1,fe80::1/64,10.0.0.1] :99",
	    "alert tcp 10.0.0.1/32 0:65535 -> 0.0.0.0/0 65535",
	    "alert tcp !!10.0.0.1 [!1,!2] -> [any] [any,80]",
	};
	char rule[512];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct tm_rules *rs;

		snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", good[i]);
		rs = load(rule, NULL);
		ok(rs && tm_rules_count(rs) == 1, "options: %s", good[i]);
		tm_rules_free(rs);
	}
	for (i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		struct tm_rules *rs;

		snprintf(rule, sizeof(rule), "%s (sid:1;)", headers[i]);
		rs = load(rule, NULL);
		ok(rs && tm_rules_count(rs) == 1, "header: %s", headers[i]);
		tm_rules_free(rs);
	}
}

static void lines(void)
{
	struct tm_rules *rs =
	    load("# a comment\n"
		 "   # an indented comment\n"
		 "\n"
		 "  \t\n"
		 "alert tcp any any -> any any \\\n"
		 "    (msg:\"multi\"; \\\n"
		 "    content:\"a#b\"; sid:1;)\n"
		 "alert tcp any any -> any any (msg:\"crlf\"; sid:2;)\r\n"
		 "\talert tcp any any -> any any (msg:\"indented\"; sid:3;)\n"
		 "alert tcp any any -> any any (msg:\"no newline at the end\"; sid:4;)",
		 NULL);
	const struct tm_rule_info *r;

	ok(rs && tm_rules_count(rs) == 4, "comments, blank lines, continuations, CRLF");
	if (!rs)
		return;
	r = tm_rules_get(rs, 0);
	ok(r->line == 5 && !strcmp(r->msg, "multi") &&
	       !strcmp(r->text, "alert tcp any any -> any any     (msg:\"multi\";     "
				"content:\"a#b\"; sid:1;)"),
	   "a continued rule: first line, text joined without the backslashes");
	ok(tm_rules_get(rs, 1)->line == 8 && !strcmp(tm_rules_get(rs, 1)->msg, "crlf"),
	   "CRLF: line 8");
	ok(tm_rules_get(rs, 3)->line == 10, "last line without a newline");
	is_int(hits(rs, "1.1.1.1", 1, "xa#bx"), 4, "'#' inside a content is content");
	tm_rules_free(rs);

	rs = load("", NULL);
	ok(rs && tm_rules_count(rs) == 0, "an empty file is an empty rule set");
	is_int(rs ? hits(rs, "1.1.1.1", 1, "x") : -1, 0, "and matches nothing");
	tm_rules_free(rs);
	rs = load("alert tcp any any -> any any (sid:1;) \\", NULL);
	ok(rs && tm_rules_count(rs) == 1, "a backslash on the last line continues nothing");
	tm_rules_free(rs);
}

static void variables(void)
{
	struct tm_rules *rs =
	    load("ipvar HOME_NET [10.0.0.0/8,172.16.0.0/12]\n"
		 "ipvar EXTERNAL_NET !$HOME_NET\n"
		 "portvar HTTP_PORTS [80,8080]\n"
		 "portvar NOT_HTTP !$HTTP_PORTS\n"
		 "var SERVERS 10.0.0.1\n"
		 "var WEB $HTTP_PORTS\n"
		 "alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (msg:\"web\"; sid:1;)\n"
		 "alert tcp any any -> $SERVERS $NOT_HTTP (msg:\"other\"; sid:2;)\n"
		 "alert tcp any any -> [$SERVERS,!10.0.0.1] $WEB (msg:\"never\"; sid:3;)\n"
		 "ipvar HOME_NET 192.168.0.0/16\n"
		 "alert tcp any any -> $HOME_NET any (msg:\"redefined\"; sid:4;)\n",
		 NULL);

	ok(rs && tm_rules_count(rs) == 4, "ipvar/portvar/var, variables in variables, lists");
	if (!rs)
		return;
	is_int(hits(rs, "10.0.0.5", 80, "x"), 1, "$EXTERNAL_NET -> $HOME_NET $HTTP_PORTS");
	is_int(hits(rs, "10.0.0.1", 22, "x"), 1, "var as address and !$portvar");
	is_int(hits(rs, "10.0.0.1", 8080, "x"), 1, "$SERVERS 8080: only the web rule");
	is_int(hits(rs, "192.168.1.1", 1, "x"), 1, "a redefinition applies to later rules only");
	tm_rules_free(rs);

	/* The caller's definitions win over the file's. */
	rs = load("ipvar HOME_NET 10.0.0.0/8\n"
		  "alert tcp any any -> $HOME_NET any (sid:1;)\n",
		  "# override\nipvar HOME_NET 172.16.0.0/12\nportvar UNUSED 1\n");
	ok(rs != NULL, "variables override");
	if (rs) {
		is_int(hits(rs, "10.0.0.1", 1, "x"), 0, "the file's HOME_NET is not used");
		is_int(hits(rs, "172.16.0.1", 1, "x"), 1, "the caller's HOME_NET is");
	}
	tm_rules_free(rs);
	rs = load("alert tcp any any -> $NET any (sid:1;)\n", "var NET [10.0.0.1,10.0.0.2]");
	is_int(rs ? hits(rs, "10.0.0.2", 1, "x") : -1, 1, "a variable only the caller defines");
	tm_rules_free(rs);
}

static void includes(void)
{
	struct tm_rules *rs;
	int nerr = 0;

	mkdir("sub", 0700);
	mkdir("sub/deeper", 0700);
	wfile("main.rules", "var RULE_PATH sub\n"
			    "alert tcp any any -> any any (msg:\"top\"; sid:1;)\n"
			    "include sub/a.rules\n"
			    "include $RULE_PATH/deeper/c.rules\n"
			    "alert tcp any any -> any any (msg:\"after\"; sid:5;)\n");
	wfile("sub/a.rules", "ipvar NET 10.0.0.0/8\n"
			     "\n"
			     "alert tcp any any -> $NET any (msg:\"a\"; sid:2;)\n"
			     "include b.rules\n");
	wfile("sub/b.rules", "alert tcp any any -> $NET any (msg:\"b\"; sid:3;)\n");
	wfile("sub/deeper/c.rules", "alert tcp any any -> any any (msg:\"c\"; sid:4;)\n");
	rs = tm_rules_load("main.rules", NULL, NULL, &nerr);
	ok(rs && tm_rules_count(rs) == 5 && nerr == 0, "includes: relative to the including file");
	if (rs) {
		ok(tm_rules_get(rs, 0)->sid == 1 && tm_rules_get(rs, 1)->sid == 2 &&
		       tm_rules_get(rs, 2)->sid == 3 && tm_rules_get(rs, 3)->sid == 4 &&
		       tm_rules_get(rs, 4)->sid == 5,
		   "an include's rules come at its place");
		ok(!strcmp(tm_rules_get(rs, 1)->file, "sub/a.rules") &&
		       tm_rules_get(rs, 1)->line == 3 &&
		       !strcmp(tm_rules_get(rs, 2)->file, "sub/b.rules") &&
		       !strcmp(tm_rules_get(rs, 3)->file, "sub/deeper/c.rules"),
		   "included rules name their file and line");
		is_int(hits(rs, "10.0.0.1", 1, "x"), 5, "variables cross includes");
	}
	tm_rules_free(rs);

	/* The same file twice (not a cycle) is fine when it defines no rules. */
	wfile("vars.rules", "ipvar X 1.2.3.4\n");
	wfile("twice.rules", "include vars.rules\ninclude vars.rules\n"
			     "alert tcp $X any -> any any (sid:1;)\n");
	rs = tm_rules_load("twice.rules", NULL, NULL, &nerr);
	ok(rs && tm_rules_count(rs) == 1, "a variables file included twice");
	tm_rules_free(rs);

	/* From a buffer: relative includes from its name's directory. */
	rs = tm_rules_load_buffer("sub/virtual.rules", "include b.rules\n", 16, "ipvar NET any",
				  NULL, &nerr);
	ok(rs && tm_rules_count(rs) == 1 && !strcmp(tm_rules_get(rs, 0)->file, "sub/b.rules"),
	   "tm_rules_load_buffer: includes relative to its name");
	tm_rules_free(rs);
	{
		char path[256];

		snprintf(path, sizeof(path), "include %s/sub/deeper/c.rules\n", tmpdir);
		rs = tm_rules_load_buffer("nodir", path, strlen(path), NULL, NULL, &nerr);
		ok(rs && tm_rules_count(rs) == 1, "absolute include path");
		tm_rules_free(rs);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0) {
		perror("tmpdir");
		return 2;
	}
	seed_rules();
	info_fields();
	every_option();
	lines();
	variables();
	includes();
	if (chdir("/") == 0)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
