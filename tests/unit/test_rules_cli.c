/* tcpmig-rulecheck (the one built next to this test): output and exit status for valid files,
 * files with errors, --match with addresses/flags/escapes, --var, and bad usage. */
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static char tmpdir[] = "/tmp/tcpmig-rulecheck-XXXXXX";
static char tool[PATH_MAX], samples[PATH_MAX];
static const char *rundir; /* where the tool runs (the temp dir by default) */

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

static char *slurp(const char *name)
{
	FILE *f = fopen(name, "r");
	char *buf = calloc(1, 65536);
	size_t n = f ? fread(buf, 1, 65535, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

struct out {
	int status;
	char *out, *err;
};

/* Run the tool with the NULL-terminated arguments; stdout and stderr captured. */
static struct out run(const char *arg, ...)
{
	const char *argv[32] = {"tcpmig-rulecheck"};
	struct out o = {.status = -1};
	va_list ap;
	int argc = 1, st;
	pid_t pid;

	va_start(ap, arg);
	for (; arg && argc < 31; arg = va_arg(ap, const char *))
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		int fo = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open("err.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fo, 1);
		dup2(fe, 2);
		if (rundir && chdir(rundir) < 0)
			_exit(126);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		o.status = WEXITSTATUS(st);
	o.out = slurp("out.txt");
	o.err = slurp("err.txt");
	return o;
}

static void expect(struct out o, int status, const char *out, const char *err, const char *what)
{
	int good =
	    o.status == status && (!out || !strcmp(o.out, out)) && (!err || !strcmp(o.err, err));

	ok(good, "%s (exit %d)", what, status);
	if (!good)
		printf("#   exit %d\n#   stdout: %s\n#   stderr: %s\n", o.status, o.out, o.err);
	free(o.out);
	free(o.err);
}

static const char seed[] =
    "alert tcp any -> 10.0.0.1 any(msg:\"FORWARD\"; flags:PA; content:\"forward\"; "
    "classtype:connection-migration; sid:1000001;)\n"
    "alert tcp any -> 10.0.0.1 any(msg:\"MIGRATE\"; flags:PA; content:\"migrate\"; "
    "classtype:connection-migration; sid:1000002;)\n";

/* The sample files in tests/rules/, run from that directory. */
static void samples_dir(void)
{
	if (access(samples, R_OK) != 0) {
		ok(0, "%s is readable", samples);
		return;
	}
	rundir = samples;
	expect(run("seed000.rules", NULL), 0, "2 rules loaded\n", "", "tests/rules/seed000.rules");
	expect(
	    run("seed000.rules", "--match", "please migrate", "--dst", "10.0.0.1:11111", NULL), 0,
	    "2 rules loaded\n[1:1000002:1] alert \"MIGRATE\" (seed000.rules:6)\n1 rule matched\n",
	    "", "tests/rules/seed000.rules: migrate");
	expect(run("example.rules", "--list", NULL), 0,
	       "5 rules loaded\n"
	       "[1:2000001:2] alert \"HTTP upload\" (example.rules:8)\n"
	       "[1:2000002:1] alert \"SSH banner\" (example.rules:15)\n"
	       "[1:2000003:1] pass \"health check\" (example.rules:19)\n"
	       "[1:2000010:1] alert \"API v2\" (example-web.rules:2)\n"
	       "[1:2000011:1] alert \"tiny first request\" (example-web.rules:6)\n",
	       "", "tests/rules/example.rules and its include");
	expect(run("example.rules", "--match",
		   "POST /up HTTP/1.1\\r\\ncontent-length: 12345678\\r\\n", "--dst",
		   "10.0.0.5:8080", NULL),
	       0, NULL, "", "example: an upload with a 8-digit length");
	expect(run("example.rules", "--match", "POST /up HTTP/1.1\\r\\ncontent-length: 123\\r\\n",
		   "--dst", "10.0.0.5:8080", NULL),
	       3, NULL, "", "example: a short upload");
	expect(run("example.rules", "--match", "GET /api/v2/x HTTP/1.1\\r\\n\\r\\n", "--dst",
		   "10.0.0.5:80", NULL),
	       0, NULL, "", "example: the API rule");
	expect(run("example.rules", "--match", "GET /api/v2/x HTTP/1.1\\r\\nx-debug: 1\\r\\n",
		   "--dst", "10.0.0.5:80", NULL),
	       3, NULL, "", "example: the API rule's negated header");
	expect(run("errors.rules", NULL), 1, "",
	       "errors.rules:3: unsupported protocol (only tcp) 'udp'\n"
	       "errors.rules:4: unsupported option 'byte_test'\n"
	       "errors.rules:5: bad prefix length '10.0.0.0/33'\n"
	       "errors.rules:5: depth is shorter than the content '2'\n"
	       "errors.rules:6: undefined variable '$NOPE'\n"
	       "errors.rules:8: bad TCP flag 'X'\n"
	       "errors.rules:9: duplicate sid (first used at errors.rules:2) '1'\n"
	       "errors.rules:10: rule has no sid 'msg:\"no sid\"; content:\"x\";'\n"
	       "8 errors\n",
	       "tests/rules/errors.rules: every error");
	rundir = NULL;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		perror("/proc/self/exe");
		return 2;
	}
	self[n] = 0;
	snprintf(tool, sizeof(tool), "%s/tcpmig-rulecheck", dirname(dirname(self)));
	snprintf(samples, sizeof(samples), "%s/tests/rules", dirname(self)); /* build/ -> repo */
	if (access(tool, X_OK) != 0) {
		printf("not ok 1 - %s is not built\n1..1\n", tool);
		return 1;
	}
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0) {
		perror("tmpdir");
		return 2;
	}
	wfile("seed.rules", seed);
	wfile("bad.rules", "alert tcp any any -> any any (msg:\"x\"; byte_test:1,>,2,0; sid:1;)\n"
			   "alert udp any any -> any any (sid:2;)\n");
	wfile("misc.rules",
	      "ipvar SERVERS 10.0.0.5\n"
	      "alert tcp any any -> any any (content:\"|00 ff|\"; sid:7;)\n"
	      "alert tcp any any -> any any (flow:to_client; content:\"resp\"; sid:8;)\n"
	      "alert tcp any any -> 2001:db8::/32 443 (content:\"v6\"; sid:9;)\n"
	      "alert tcp any any -> $SERVERS any (content:\"var\"; sid:10;)\n"
	      "alert tcp any any -> any any (flags:S; sid:11;)\n");

	expect(run("seed.rules", NULL), 0, "2 rules loaded\n", "", "valid file");
	expect(run("-q", "seed.rules", NULL), 0, "", "", "-q");
	expect(run("--list", "seed.rules", NULL), 0,
	       "2 rules loaded\n"
	       "[1:1000001:1] alert \"FORWARD\" (seed.rules:1)\n"
	       "[1:1000002:1] alert \"MIGRATE\" (seed.rules:2)\n",
	       "", "--list");
	expect(run("bad.rules", NULL), 1, "",
	       "bad.rules:1: unsupported option 'byte_test'\n"
	       "bad.rules:2: unsupported protocol (only tcp) 'udp'\n"
	       "2 errors\n",
	       "every error, then the count");
	expect(run("missing.rules", NULL), 1, "",
	       "missing.rules: cannot read: No such file or directory\n1 error\n", "missing file");
	expect(run("seed.rules", "--match", "GET /migrate HTTP/1.0", "--dst", "10.0.0.1:80", NULL),
	       0,
	       "2 rules loaded\n"
	       "[1:1000002:1] alert \"MIGRATE\" (seed.rules:2)\n"
	       "1 rule matched\n",
	       "", "--match: seed 000's MIGRATE");
	expect(run("seed.rules", "--match", "forward migrate", "--dst", "10.0.0.1:80", NULL), 0,
	       "2 rules loaded\n"
	       "[1:1000001:1] alert \"FORWARD\" (seed.rules:1)\n"
	       "[1:1000002:1] alert \"MIGRATE\" (seed.rules:2)\n"
	       "2 rules matched\n",
	       "", "--match: both, in file order");
	expect(run("seed.rules", "--match", "migrate", NULL), 3,
	       "2 rules loaded\n0 rules matched\n", "",
	       "--match: default destination is not 10.0.0.1");
	expect(
	    run("seed.rules", "--match", "migrate", "--dst", "10.0.0.1:80", "--flags", "A", NULL),
	    3, NULL, "", "--flags A: the seed rules want PA");
	expect(run("misc.rules", "--match", "x\\x00\\xffy", NULL), 0, NULL, "",
	       "--match with \\xNN escapes");
	expect(run("misc.rules", "--match", "resp", NULL), 3, NULL, "",
	       "flow:to_client, to server");
	expect(run("misc.rules", "--match", "resp", "--to-client", NULL), 0, NULL, "",
	       "--to-client");
	expect(run("misc.rules", "--match", "v6", "--src", "[2001:db8::1]:5000", "--dst",
		   "[2001:db8::2]:443", NULL),
	       0, NULL, "", "IPv6 --src/--dst");
	expect(run("misc.rules", "--match", "x", "--flags", "s", NULL), 0, NULL, "",
	       "--flags s (lower case)");
	expect(run("misc.rules", "--var", "SERVERS=[10.0.0.5,10.0.0.6]", "--match", "var", "--dst",
		   "10.0.0.6:1", NULL),
	       0, NULL, "", "--var defines a variable");
	expect(run("misc.rules", "--match", "var", "--dst", "10.0.0.6:1", NULL), 3, NULL, "",
	       "without --var, the file's value");
	expect(run("misc.rules", "--var", "SERVERS=10.0.0.999", NULL), 1, "",
	       "misc.rules:5: variable is not an address list '$SERVERS'\n1 error\n",
	       "a --var value that is no address list");
	expect(run("misc.rules", "--var", "X", NULL), 2, "", NULL, "--var without '='");

	expect(run(NULL), 2, "", NULL, "no file: usage");
	expect(run("a", "b", NULL), 2, "", NULL, "two files: usage");
	expect(run("seed.rules", "--flags", "Z", "--match", "x", NULL), 2, "",
	       "tcpmig-rulecheck: bad --flags 'Z' (letters FSRPAUCE, or 0)\n", "bad --flags");
	expect(run("seed.rules", "--match", "a\\q", NULL), 2, "",
	       "tcpmig-rulecheck: bad escape in --match payload\n", "bad escape");
	expect(run("seed.rules", "--match", "a\\x4", NULL), 2, "", NULL, "short \\x escape");
	expect(run("seed.rules", "--match", "a", "--src", "1.2.3.4", NULL), 2, "", NULL,
	       "--src without a port");
	expect(run("seed.rules", "--match", "a", "--src", "[::1]:1", NULL), 2, "",
	       "tcpmig-rulecheck: --src and --dst are not both IPv4 or both IPv6\n",
	       "mixed families");
	expect(run("seed.rules", "--var", "NOEQUALS", NULL), 2, "",
	       "tcpmig-rulecheck: --var wants NAME=VALUE, not 'NOEQUALS'\n", "bad --var");
	samples_dir();
	{
		struct out o = run("--help", NULL);

		ok(o.status == 0 && strstr(o.out, "exit status: 0") && strstr(o.out, "--match"),
		   "--help documents the options and exit codes");
		free(o.out);
		free(o.err);
	}
	if (chdir("/") == 0)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
