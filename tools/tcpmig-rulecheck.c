/* tcpmig-rulecheck: check a rule file (every error printed), optionally match a payload against it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/pkt.h>
#include <tcpmig/rules.h>

enum {
	EXIT_VALID = 0,
	EXIT_RULE_ERRORS = 1,
	EXIT_USAGE = 2,
	EXIT_NO_MATCH = 3,
};

static void usage(FILE *f)
{
	fputs("usage: tcpmig-rulecheck [options] FILE\n"
	      "       tcpmig-rulecheck [options] FILE --match PAYLOAD [--src A:P] [--dst A:P]\n"
	      "                        [--flags FLAGS] [--to-client] [--not-established]\n"
	      "\n"
	      "Check a tcpmig rule file (see tcpmig-rules(5)) and every file it includes: each\n"
	      "error is printed as 'file:line: message 'token''; without errors, print\n"
	      "'N rules loaded'.  With --match, also print the rules that match PAYLOAD as\n"
	      "'[gid:sid:rev] action \"msg\" (file:line)'.\n"
	      "\n"
	      "  --var NAME=VALUE   define a variable; wins over the files' definitions "
	      "(repeatable)\n"
	      "  --list             print every loaded rule\n"
	      "  --match PAYLOAD    the client bytes to match; escapes \\xNN \\\\ \\n \\r \\t \\0\n"
	      "  --src ADDR:PORT    the segment's source (default 192.0.2.1:40000; [v6]:port)\n"
	      "  --dst ADDR:PORT    the segment's destination (default 198.51.100.1:80)\n"
	      "  --flags FLAGS      TCP flags of the segment, letters FSRPAUCE or 0 (default PA)\n"
	      "  --to-client        the bytes flow server to client (default client to server)\n"
	      "  --not-established  the connection is not established (default established)\n"
	      "  -q, --quiet        do not print 'N rules loaded'\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "exit status: 0 the rules are valid (with --match: and at least one rule matched),\n"
	      "             1 the rules have errors, 2 bad usage or a system error,\n"
	      "             3 --match: the rules are valid and none matched\n",
	      f);
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Resolve \xNN \\ \n \r \t \0 in @s into @out (at least strlen(s) bytes); -1 when malformed. */
static long unescape(const char *s, unsigned char *out)
{
	long n = 0;

	for (; *s; s++) {
		if (*s != '\\') {
			out[n++] = (unsigned char)*s;
			continue;
		}
		switch (*++s) {
		case '\\':
			out[n++] = '\\';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '0':
			out[n++] = 0;
			break;
		case 'x':
			if (hexdigit(s[1]) < 0 || hexdigit(s[2]) < 0)
				return -1;
			out[n++] = (unsigned char)(hexdigit(s[1]) << 4 | hexdigit(s[2]));
			s += 2;
			break;
		default:
			return -1;
		}
	}
	return n;
}

static int parse_flags(const char *s, __u8 *out)
{
	static const char letters[] = "FSRPAUEC";
	__u8 f = 0;

	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		const char *l = strchr(letters, *s >= 'a' && *s <= 'z' ? *s - 32 : *s);

		if (!l || !*l)
			return -1;
		f |= (__u8)(1u << (l - letters));
	}
	*out = f;
	return 0;
}

static void print_rule(const struct tm_rule_info *r, void *user)
{
	printf("[%u:%u:%u] %s \"%s\" (%s:%u)\n", r->gid, r->sid, r->rev,
	       tm_rule_action_str(r->action), r->msg, r->file, r->line);
}

struct opts {
	const char *file, *payload, *src, *dst, *flags;
	char *vars;
	size_t vars_len;
	FILE *vars_f;
	int list, quiet, to_client, not_established;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"var", required_argument, NULL, 'v'},
						 {"list", no_argument, NULL, 'l'},
						 {"match", required_argument, NULL, 'm'},
						 {"src", required_argument, NULL, 's'},
						 {"dst", required_argument, NULL, 'd'},
						 {"flags", required_argument, NULL, 'f'},
						 {"to-client", no_argument, NULL, 'c'},
						 {"not-established", no_argument, NULL, 'n'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v': {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				fprintf(stderr,
					"tcpmig-rulecheck: --var wants NAME=VALUE, not '%s'\n",
					optarg);
				return -1;
			}
			fprintf(o->vars_f, "var %.*s %s\n", (int)(eq - optarg), optarg, eq + 1);
			break;
		}
		case 'l':
			o->list = 1;
			break;
		case 'm':
			o->payload = optarg;
			break;
		case 's':
			o->src = optarg;
			break;
		case 'd':
			o->dst = optarg;
			break;
		case 'f':
			o->flags = optarg;
			break;
		case 'c':
			o->to_client = 1;
			break;
		case 'n':
			o->not_established = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_VALID);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -1;
	}
	o->file = argv[optind];
	return 0;
}

/* Build the --match input; -1 (said why) on a bad argument. */
static int make_pkt(const struct opts *o, struct tm_match_pkt *p, unsigned char **buf)
{
	int sfam, dfam;

	memset(p, 0, sizeof(*p));
	if (tm_addr_port_parse(o->src, &p->saddr, &sfam, &p->sport) < 0 ||
	    tm_addr_port_parse(o->dst, &p->daddr, &dfam, &p->dport) < 0) {
		fprintf(stderr,
			"tcpmig-rulecheck: bad --src/--dst (want ADDR:PORT or [V6]:PORT)\n");
		return -1;
	}
	if (sfam != dfam) {
		fprintf(stderr,
			"tcpmig-rulecheck: --src and --dst are not both IPv4 or both IPv6\n");
		return -1;
	}
	if (parse_flags(o->flags, &p->flags) < 0) {
		fprintf(stderr, "tcpmig-rulecheck: bad --flags '%s' (letters FSRPAUCE, or 0)\n",
			o->flags);
		return -1;
	}
	*buf = malloc(strlen(o->payload) + 1);
	if (!*buf) {
		perror("tcpmig-rulecheck");
		return -1;
	}
	long n = unescape(o->payload, *buf);

	if (n < 0) {
		fprintf(stderr, "tcpmig-rulecheck: bad escape in --match payload\n");
		return -1;
	}
	p->family = (__u8)sfam;
	p->dir = o->to_client ? TM_RULE_TO_CLIENT : TM_RULE_TO_SERVER;
	p->established = !o->not_established;
	p->data = *buf;
	p->len = (size_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.src = "192.0.2.1:40000", .dst = "198.51.100.1:80", .flags = "PA"};
	struct tm_rules *rs = NULL;
	struct tm_match_pkt pkt;
	unsigned char *payload = NULL;
	int rc = EXIT_USAGE, nerr = 0, n;

	o.vars_f = open_memstream(&o.vars, &o.vars_len);
	if (!o.vars_f) {
		perror("tcpmig-rulecheck");
		return EXIT_USAGE;
	}
	if (parse_args(argc, argv, &o) < 0) {
		fclose(o.vars_f);
		goto out;
	}
	if (fclose(o.vars_f) != 0) {
		perror("tcpmig-rulecheck");
		goto out;
	}
	if (o.payload && make_pkt(&o, &pkt, &payload) < 0)
		goto out;
	rs = tm_rules_load(o.file, o.vars_len ? o.vars : NULL, stderr, &nerr);
	if (!rs) {
		if (nerr) {
			fprintf(stderr, "%d error%s\n", nerr, nerr == 1 ? "" : "s");
			rc = EXIT_RULE_ERRORS;
		} else {
			perror("tcpmig-rulecheck");
		}
		goto out;
	}
	if (!o.quiet)
		printf("%zu rule%s loaded\n", tm_rules_count(rs),
		       tm_rules_count(rs) == 1 ? "" : "s");
	if (o.list)
		for (size_t i = 0; i < tm_rules_count(rs); i++)
			print_rule(tm_rules_get(rs, i), NULL);
	rc = EXIT_VALID;
	if (o.payload) {
		n = tm_rules_match(rs, &pkt, print_rule, NULL);
		if (n < 0) {
			fprintf(stderr, "tcpmig-rulecheck: match: %s\n", strerror(-n));
			rc = EXIT_USAGE;
		} else {
			printf("%d rule%s matched\n", n, n == 1 ? "" : "s");
			rc = n ? EXIT_VALID : EXIT_NO_MATCH;
		}
	}
out:
	tm_rules_free(rs);
	free(payload);
	free(o.vars);
	return rc;
}
