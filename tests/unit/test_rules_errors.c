/* Rule loading errors: the exact "file:line: message 'token'" of every error, all of a file's
 * errors, includes and variables gone wrong, and nothing left behind when a load fails. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tcpmig/rules.h>

#include "tap.h"

static char tmpdir[] = "/tmp/tcpmig-rules-err-XXXXXX";

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

/* Print @s as TAP diagnostics, one "#   " line per line. */
static void diag(const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");

		printf("#   %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

/* @s with its newlines shown as " | ", for one-line TAP descriptions (static buffer). */
static const char *flat(const char *s)
{
	static char buf[1024];
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < sizeof(buf); i++) {
		if (s[i] == '\n' && s[i + 1]) {
			memcpy(buf + n, " | ", 3);
			n += 3;
		} else if (s[i] != '\n') {
			buf[n++] = s[i];
		}
	}
	buf[n] = 0;
	return buf;
}

/* Load @path (and @vars); return what was printed to errs (caller frees), the count, errno. */
static char *load_errs(const char *path, const char *vars, int *nerr, int *err, int *loaded)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct tm_rules *rs;

	errno = 0;
	rs = tm_rules_load(path, vars, f, nerr);
	*err = errno;
	*loaded = rs != NULL;
	tm_rules_free(rs);
	fclose(f);
	return out;
}

/* @rules (one file, t.rules) must fail with exactly @want printed. */
static void check(const char *rules, const char *vars, const char *want, const char *what)
{
	int nerr = -1, err, loaded, nwant = 0;
	const char *p;
	char *got;

	for (p = want; (p = strchr(p, '\n')); p++)
		nwant++;
	wfile("t.rules", rules);
	got = load_errs("t.rules", vars, &nerr, &err, &loaded);
	ok(!strcmp(got, want) && nerr == nwant && !loaded && err == EINVAL, "%s", what);
	if (strcmp(got, want) || nerr != nwant) {
		printf("#   got (%d errors):\n", nerr);
		diag(got);
		printf("#   want (%d):\n", nwant);
		diag(want);
	}
	free(got);
}

static void one(const char *rule, const char *want)
{
	char wantline[512], what[256];

	snprintf(wantline, sizeof(wantline), "t.rules:1: %s\n", want);
	snprintf(what, sizeof(what), "%.*s -> %s", (int)strcspn(rule, "\n"), rule, want);
	check(rule, NULL, wantline, what);
}

#define R(opts) "alert tcp any any -> any any (" opts ")\n"

static void header_errors(void)
{
	one("alert udp any any -> any any (sid:1;)", "unsupported protocol (only tcp) 'udp'");
	one("alert foo any any -> any any (sid:1;)", "unknown protocol 'foo'");
	one("drop tcp any any -> any any (sid:1;)", "unsupported rule action 'drop'");
	one("blah tcp any any -> any any (sid:1;)", "unknown rule action or directive 'blah'");
	one("config classification: x,y,1", "unsupported directive 'config'");
	one("alert tcp any any -> any any",
	    "rule has no options (missing '(') 'alert tcp any any -> any any'");
	one("alert tcp any any -> any any (sid:1;", "rule options do not end with ')' '(sid:1;'");
	one("alert tcp any any -> any any (sid:1;) x", "unexpected text after rule options 'x'");
	one("alert tcp any any any -> any any (sid:1;)", "unexpected text in rule header 'any'");
	one("alert tcp any any => any any (sid:1;)", "bad direction (want -> or <>) '=>'");
	one("alert tcp any any <- any any (sid:1;)", "bad direction (want -> or <>) '<-'");
	one("alert tcp any any -> (sid:1;)",
	    "incomplete rule header (want: action proto src_addr [src_port] -> dst_addr "
	    "[dst_port]) 'alert tcp any any ->'");
	one("alert (sid:1;)", "rule header has no protocol 'alert'");
	one("alert tcp 10.0.0.256 any -> any any (sid:1;)", "bad address '10.0.0.256'");
	one("alert tcp any any -> 10.0.0.0/33 any (sid:1;)", "bad prefix length '10.0.0.0/33'");
	one("alert tcp 2001:db8::/129 any -> any any (sid:1;)",
	    "bad prefix length '2001:db8::/129'");
	one("alert tcp 10.0.0.0/ any -> any any (sid:1;)", "bad prefix length '10.0.0.0/'");
	one("alert tcp 10.0.0.0/+8 any -> any any (sid:1;)", "bad prefix length '10.0.0.0/+8'");
	one("alert tcp host any -> any any (sid:1;)", "bad address 'host'");
	one("alert tcp any 65536 -> any any (sid:1;)", "bad port '65536'");
	one("alert tcp any -1 -> any any (sid:1;)", "bad port '-1'");
	one("alert tcp any http -> any any (sid:1;)", "bad port 'http'");
	one("alert tcp any any -> any 90:80 (sid:1;)", "port range ends before it starts '90:80'");
	one("alert tcp any any -> any : (sid:1;)", "bad port range ':'");
	one("alert tcp any any -> any 1:x (sid:1;)", "bad port range '1:x'");
	one("alert tcp !any any -> any any (sid:1;)", "negated 'any' matches nothing '!any'");
	one("alert tcp any !$X -> any any (sid:1;)", "undefined variable '$X'");
	one("alert tcp ! any -> any any (sid:1;)", "missing address in '!'");
	one("alert tcp [] any -> any any (sid:1;)", "empty list '[]'");
	one("alert tcp [1.2.3.4,] any -> any any (sid:1;)", "missing address before ']'");
	one("alert tcp [1.2.3.4 5.6.7.8] any -> any any (sid:1;)",
	    "expected ',' or ']' in list '5'");
	one("alert tcp [1.2.3.4 any -> any any (sid:1;)",
	    "incomplete rule header (want: action proto src_addr [src_port] -> dst_addr "
	    "[dst_port]) 'alert tcp [1.2.3.4 any -> any any'");
	one("alert tcp 1.2.3.4] any -> any any (sid:1;)", "unexpected text after address ']'");
	one("alert tcp [[[[[[[[[[[[[[[[[1.2.3.4]]]]]]]]]]]]]]]]] any -> any any (sid:1;)",
	    "nested too deeply '[1.2.3.4]]]]]]]]]]]]]]]]]'");
	one("alert tcp $NOPE any -> any any (sid:1;)", "undefined variable '$NOPE'");
	one("alert tcp $ any -> any any (sid:1;)", "bad variable name '$'");
	check("portvar P 80\nalert tcp $P any -> any any (sid:1;)\n", NULL,
	      "t.rules:2: variable is not an address list '$P'\n", "portvar used as addresses");
}

static void directive_errors(void)
{
	check("ipvar H 10.0.0.0/8\nalert tcp any $H -> any any (sid:1;)\n", NULL,
	      "t.rules:2: variable is not a port list '$H'\n", "ipvar used as ports");
	check("var PATH /etc/rules\nalert tcp $PATH any -> any any (sid:1;)\n", NULL,
	      "t.rules:2: variable is not an address list '$PATH'\n", "text var used as addresses");
	one("ipvar 1X 1.2.3.4", "bad variable name '1X'");
	one("ipvar X", "variable has no value 'X'");
	one("ipvar", "variable definition needs a name and a value 'ipvar'");
	one("ipvar X 1.2.3.4 5", "unexpected text after variable value '5'");
	one("ipvar X 1.2.3.999", "bad address '1.2.3.999'");
	one("ipvar X [1.2.3.4,$Y]", "undefined variable '$Y'");
	one("portvar P 80-90", "bad port '80-90'");
	one("var X $NOPE", "undefined variable '$NOPE'");
	one("include", "include needs a path 'include'");
	one("include a b", "unexpected text after include path 'b'");
	one("include missing.rules",
	    "cannot read include file: No such file or directory 'missing.rules'");
	one("include $NOPE/x.rules", "undefined variable '$NOPE'");
}

static void option_errors(void)
{
	one(R("foo:1; sid:1;"), "unknown option 'foo'");
	one(R("byte_test:4,>,1,0; sid:1;"), "unsupported option 'byte_test'");
	one(R("content:\"a\"; http_uri; sid:1;"), "unsupported option 'http_uri'");
	one(R("content:\"a\"; rawbytes; sid:1;"), "unsupported option 'rawbytes'");
	one(R("Content:\"a\"; sid:1;"), "unknown option 'Content'");
	one(R("sid:0;"), "bad sid (want 1..4294967295) '0'");
	one(R("sid:abc;"), "bad sid (want 1..4294967295) 'abc'");
	one(R("sid:4294967296;"), "bad sid (want 1..4294967295) '4294967296'");
	one(R("sid:+5;"), "bad sid (want 1..4294967295) '+5'");
	one(R("sid:1; sid:2;"), "option given twice 'sid'");
	one(R("sid;"), "option needs a value 'sid'");
	one(R("msg:; sid:1;"), "option needs a value 'msg'");
	one(R("msg:\"x\";"), "rule has no sid 'msg:\"x\";'");
	one(R(""), "rule has no sid ''");
	one(R("msg:x; sid:1;"), "want a quoted string 'x'");
	one(R("msg:\"a\\qb\"; sid:1;"), "bad escape in string '\\q'");
	one(R("msg:\"a\"b\"; sid:1;"), "unterminated string '\"a\"b\"; sid:1;'");
	one(R("msg:\"abc; sid:1;"), "unterminated string '\"abc; sid:1;'");
	one(R("rev:0; sid:1;"), "bad rev (want 1..4294967295) '0'");
	one(R("gid:x; sid:1;"), "bad gid (want 1..4294967295) 'x'");
	one(R("priority:0; sid:1;"), "bad priority (want 1..2147483647) '0'");
	one(R("classtype:bad class; sid:1;"), "bad classtype 'bad class'");
	one(R("metadata:key; sid:1;"), "metadata item needs a key and a value 'key'");
	one(R("metadata:a b,; sid:1;"), "empty metadata item 'a b,'");
	one(R("metadata:k@y v; sid:1;"), "bad metadata key 'k@y'");
	one(R("reference:cve; sid:1;"), "reference needs system,id 'cve'");
	one(R("reference:cve,; sid:1;"), "reference needs system,id 'cve,'");
	one(R("sid 1;"), "expected ':' or ';' after option name 'sid 1'");
	one(R(";sid:1;"), "missing option name ';'");

	one(R("content:abc; sid:1;"), "content wants a quoted string 'abc'");
	one(R("content:\"\"; sid:1;"), "empty content '\"\"'");
	one(R("content:\"||\"; sid:1;"), "empty content '\"||\"'");
	one(R("content:\"|4|\"; sid:1;"), "odd number of hex digits in content '|4|'");
	one(R("content:\"|4g|\"; sid:1;"), "bad hex digit in content 'g'");
	one(R("content:\"a|41\"; sid:1;"), "unterminated |hex| in content '|41'");
	one(R("content:\"a\\x\"; sid:1;"), "bad escape in content '\\x'");
	one(R("content:\"a\" b; sid:1;"), "unexpected text after content string 'b'");
	one(R("depth:5; sid:1;"), "modifier does not follow a content option 'depth'");
	one(R("nocase; sid:1;"), "modifier does not follow a content option 'nocase'");
	one(R("content:\"a\"; pcre:\"/b/\"; nocase; sid:1;"),
	    "modifier does not follow a content option 'nocase'");
	one(R("content:\"abc\"; depth:2; sid:1;"), "depth is shorter than the content '2'");
	one(R("content:\"abc\"; within:2; sid:1;"), "within is shorter than the content '2'");
	one(R("content:\"a\"; offset:1; distance:1; sid:1;"),
	    "offset/depth cannot be mixed with distance/within on one content 'distance'");
	one(R("content:\"a\"; within:5; depth:5; sid:1;"),
	    "offset/depth cannot be mixed with distance/within on one content 'depth'");
	one(R("content:\"a\"; depth:1; depth:2; sid:1;"),
	    "modifier given twice for one content 'depth'");
	one(R("content:\"a\"; nocase; nocase; sid:1;"),
	    "modifier given twice for one content 'nocase'");
	one(R("content:\"a\"; nocase:1; sid:1;"), "option takes no value 'nocase'");
	one(R("content:\"a\"; offset:x; sid:1;"), "bad offset (want -65535..65535) 'x'");
	one(R("content:\"a\"; offset:65536; sid:1;"), "bad offset (want -65535..65535) '65536'");
	one(R("content:\"a\"; depth:0; sid:1;"), "bad depth (want 1..65535) '0'");
	one(R("content:\"a\"; distance:-70000; sid:1;"),
	    "bad distance (want -65535..65535) '-70000'");
	one(R("content:\"a\"; within:; sid:1;"), "option needs a value 'within'");
	one(R("content:!\"a\"; fast_pattern; sid:1;"),
	    "fast_pattern on a negated content 'fast_pattern'");
	one(R("content:\"a\"; fast_pattern:only; sid:1;"),
	    "fast_pattern arguments are not supported 'only'");
	one(R("content:\"a\"; fast_pattern; content:\"b\"; fast_pattern; sid:1;"),
	    "fast_pattern given twice 'fast_pattern'");

	one(R("flags:PZ; sid:1;"), "bad TCP flag 'Z'");
	one(R("flags:+*S; sid:1;"), "more than one flags modifier '+*S'");
	one(R("flags:0S; sid:1;"), "flag 0 (no flags) combined with other flags '0S'");
	one(R("flags:S,; sid:1;"), "empty flags mask 'S,'");
	one(R("flags:S,0; sid:1;"), "bad TCP flag in mask '0'");
	one(R("flags:+; sid:1;"), "no TCP flags given '+'");
	one(R("flags:S; flags:A; sid:1;"), "option given twice 'flags'");
	one(R("flow:sideways; sid:1;"), "unknown flow option 'sideways'");
	one(R("flow:to_server,to_client; sid:1;"), "conflicting flow option 'to_client'");
	one(R("flow:established,stateless; sid:1;"), "conflicting flow option 'stateless'");
	one(R("flow:only_stream; sid:1;"), "unsupported flow option 'only_stream'");
	one(R("flow:established,; sid:1;"), "empty flow option 'established,'");
	one(R("dsize:abc; sid:1;"), "bad dsize (want N, <N, >N, <=N, >=N, N<>M; N <= 65535) 'abc'");
	one(R("dsize:70000; sid:1;"),
	    "bad dsize (want N, <N, >N, <=N, >=N, N<>M; N <= 65535) '70000'");
	one(R("dsize:<; sid:1;"), "bad dsize (want N, <N, >N, <=N, >=N, N<>M; N <= 65535) '<'");
	one(R("dsize:5<>3; sid:1;"), "dsize range ends before it starts '5<>3'");

	one(R("pcre:\"foo\"; sid:1;"), "pcre wants \"/regex/flags\" '\"foo\"'");
	one(R("pcre:/a/; sid:1;"), "pcre wants \"/regex/flags\" '/a/'");
	one(R("pcre:\"/a\"; sid:1;"), "pcre wants \"/regex/flags\" '\"/a\"'");
	one(R("pcre:\"/a/U\"; sid:1;"), "unsupported pcre flag 'U'");
	one(R("pcre:\"/a/B\"; sid:1;"), "unsupported pcre flag 'B'");
	one(R("pcre:\"/a/q\"; sid:1;"), "bad pcre flag 'q'");
	one(R("pcre:\"/a(/\"; sid:1;"),
	    "bad pcre: missing closing parenthesis at offset 2 '\"/a(/\"'");
}

static void too_many_steps(void)
{
	char rule[4096];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(rule + n, sizeof(rule) - n, "alert tcp any any -> any any (");
	for (i = 0; i < 66; i++)
		n += (size_t)snprintf(rule + n, sizeof(rule) - n, "content:\"%d\"; ", i);
	snprintf(rule + n, sizeof(rule) - n, "sid:1;)");
	one(rule, "too many content and pcre options (max 64) 'content'");
}

/* Every error of a file, in order, on the physical line of the token (continuations too). */
static void multi_error_file(void)
{
	check("# several errors\n"
	      "ipvar HOME_NET [10.0.0.0/8,!10.1.0.0/16]\n"
	      "alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"a\"; sid:1;)\n"
	      "\n"
	      "alert tcp any any -> any any (msg:\"b\"; \\\n"
	      "    content:\"x\"; byte_jump:4,0; \\\n"
	      "    depth:0; sid:2;)\n"
	      "alert tcp any any -> any any (msg:\"c\"; content:\"ok\"; sid:3;)\n"
	      "alert tcp any 99999 -> 1.2.3.4/40 any (flags:PX; flow:up; dsize:9<>1; sid:4;)\n"
	      "alert tcp any any -> any any (msg:\"dup\"; sid:3;)\n"
	      "alert tcp any any -> any any (msg:\"nosid\";)\n",
	      NULL,
	      "t.rules:3: undefined variable '$EXTERNAL_NET'\n"
	      "t.rules:6: unsupported option 'byte_jump'\n"
	      "t.rules:7: bad depth (want 1..65535) '0'\n"
	      "t.rules:9: bad port '99999'\n"
	      "t.rules:9: bad prefix length '1.2.3.4/40'\n"
	      "t.rules:9: bad TCP flag 'X'\n"
	      "t.rules:9: unknown flow option 'up'\n"
	      "t.rules:9: dsize range ends before it starts '9<>1'\n"
	      "t.rules:10: duplicate sid (first used at t.rules:8) '3'\n"
	      "t.rules:11: rule has no sid 'msg:\"nosid\";'\n",
	      "a file with 10 errors on 7 lines: every one reported, in order");
	check(R("gid:3; sid:7;") R("gid:3; sid:7;") R("sid:7;"), NULL,
	      "t.rules:2: duplicate sid for gid 3 (first used at t.rules:1) '7'\n",
	      "duplicate gid:sid; the same sid in another gid is fine");
	check("alert tcp any any -> any any (msg:\"a\"; sid:1;)\r\n"
	      "alert tcp any any -> any any (bogus; sid:2;)\r\n",
	      NULL, "t.rules:2: unknown option 'bogus'\n", "CRLF line endings");
}

static void nul_and_vars(void)
{
	static const char text[] = "alert tcp any any -> any any (sid:1;)\nab\0c\n";
	int nerr, err, loaded;
	char *got;
	FILE *f = fopen("t.rules", "w");

	fwrite(text, 1, sizeof(text) - 1, f);
	fclose(f);
	got = load_errs("t.rules", NULL, &nerr, &err, &loaded);
	is_int(strcmp(got, "t.rules:2: NUL byte in line 'ab\\x00c'\n"), 0, "NUL byte: %s",
	       flat(got));
	free(got);

	check(R("sid:1;"), "ipvar X 1.2.3.4.5\n", "<vars>:1: bad address '1.2.3.4.5'\n",
	      "errors in the caller's variables are reported as <vars>");
	check(R("sid:1;"), "alert tcp any any -> any any (sid:1;)\n",
	      "<vars>:1: only var, ipvar and portvar definitions are allowed here 'alert'\n",
	      "only definitions in the caller's variables");
	check(R("sid:1;"), "include x.rules\n",
	      "<vars>:1: include is not allowed in variable definitions 'x.rules'\n",
	      "no include in the caller's variables");
}

static void include_errors(void)
{
	char name[32], text[64];
	int i, nerr, err, loaded;
	char *got;

	wfile("a.rules", R("sid:1;") "include b.rules\n");
	wfile("b.rules", R("sid:2;") "include a.rules\n");
	got = load_errs("a.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "b.rules:2: include cycle 'a.rules'\n") && nerr == 1 && !loaded,
	   "include cycle: %s", flat(got));
	free(got);

	wfile("self.rules", "include ./self.rules\n");
	got = load_errs("self.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "self.rules:1: include cycle './self.rules'\n") && !loaded,
	   "a file including itself: %s", flat(got));
	free(got);

	mkdir("sub", 0700);
	wfile("c.rules", "include sub\n");
	got = load_errs("c.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "c.rules:1: cannot read include file: Is a directory 'sub'\n"),
	   "include of a directory: %s", flat(got));
	free(got);

	for (i = 0; i <= 17; i++) {
		snprintf(name, sizeof(name), "d%d.rules", i);
		snprintf(text, sizeof(text), "include d%d.rules\n", i + 1);
		wfile(name, text);
	}
	got = load_errs("d0.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "d15.rules:1: includes nested too deeply (max 16) 'd16.rules'\n") &&
	       nerr == 1 && !loaded,
	   "include depth is bounded: %s", flat(got));
	free(got);

	got = load_errs("nofile.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "nofile.rules: cannot read: No such file or directory\n") && nerr == 1 &&
	       err == ENOENT && !loaded,
	   "missing top-level file: errno ENOENT, %s", flat(got));
	free(got);

	got = load_errs("sub", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got, "sub: cannot read: Is a directory\n") && err == EISDIR,
	   "top-level directory: %s", flat(got));
	free(got);

	/* An error in an included file names that file and its line. */
	wfile("inc.rules", "\n\n" R("sid:1; nope;"));
	wfile("top.rules", R("sid:2;") "include inc.rules\n" R("sid:3; nope2;"));
	got = load_errs("top.rules", NULL, &nerr, &err, &loaded);
	ok(!strcmp(got,
		   "inc.rules:3: unknown option 'nope'\ntop.rules:3: unknown option 'nope2'\n") &&
	       nerr == 2,
	   "errors in included files: %s", flat(got));
	free(got);
}

/* A failed load returns NULL and nothing else: the caller keeps its old rules. */
static void failed_load_keeps_nothing(void)
{
	struct tm_rules *old, *bad;
	int nerr = 0;

	old = tm_rules_load_buffer("good", R("sid:1;"), strlen(R("sid:1;")), NULL, NULL, &nerr);
	bad = tm_rules_load_buffer("bad", R("sid:1;") R("sid:1; x:1;"),
				   strlen(R("sid:1;") R("sid:1; x:1;")), NULL, NULL, &nerr);
	ok(old && !bad && nerr == 2 && tm_rules_count(old) == 1,
	   "reload with errors: NULL, errors counted without errs FILE, old set intact");
	tm_rules_free(old);
	bad = tm_rules_load_buffer("n", "x", 1, NULL, NULL, NULL);
	ok(!bad && errno == EINVAL, "nerrors may be NULL");
	bad = tm_rules_load_buffer(NULL, "", 0, NULL, NULL, &nerr);
	ok(!bad && errno == EINVAL, "NULL name: EINVAL");
}

int main(void)
{
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0) {
		perror("tmpdir");
		return 2;
	}
	header_errors();
	directive_errors();
	option_errors();
	too_many_steps();
	multi_error_file();
	nul_and_vars();
	include_errors();
	failed_load_keeps_nothing();
	if (chdir("/") == 0)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
