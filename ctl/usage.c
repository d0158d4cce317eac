/* Help and usage texts of tcpmigctl; keep them in step with docs/tcpmigctl.8. */
#include <stdarg.h>
#include <string.h>

#include "ctl.h"

#define CTL_SYNOPSIS "tcpmigctl [-j] [-S SOCKET] [-t SECS] COMMAND [ARGS]"

static const struct {
	const char *cmd, *args;
} cmd_usages[] = {
    {"flows", "flows"}, {"flow", "flow ID|CLIENT"}, {"migrate", "migrate ID|CLIENT --to ADDR:PORT"},
    {"stats", "stats"}, {"version", "version"},	    {"help", "help"},
    {"rules", "rules"}, {"events", "events [-f]"},   {"reload", "reload"},
};

void ctl_help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: " CTL_SYNOPSIS "\n"
	    "Query and steer tcpmigd, the TCP connection migration daemon.\n"
	    "\n"
	    "Commands:\n"
	    "  flows                             list the tracked flows as a table\n"
	    "  flow ID|CLIENT                    show one flow, one \"key: value\" per line\n"
	    "  migrate ID|CLIENT --to ADDR:PORT  hand a flow to another backend and wait\n"
	    "                                    until the handoff committed or rolled back\n"
	    "  stats                             show the daemon's counters, \"name value\", "
	    "sorted\n"
	    "  rules                             list the analyzer's rules, hit counters, policy\n"
	    "  events [-f]                       show alerts, decisions, handoffs; -f follows\n"
	    "  reload                            reload rules and policy (errors: old ones stay)\n"
	    "  version                           show the versions of tcpmigctl and tcpmigd\n"
	    "  help                              show this help\n"
	    "\n"
	    "ID is a flow number; CLIENT and ADDR:PORT are 10.0.0.1:80 or [2001:db8::1]:80.\n"
	    "\n"
	    "Options:\n"
	    "  -j, --json            print the daemon's JSON answer instead of text\n"
	    "  -S, --socket SOCKET   control socket (default: $TCPMIG_SOCK, else %s)\n"
	    "  -t, --timeout SECS    give up waiting for tcpmigd after SECS seconds (default: %d)\n"
	    "  -h, --help            show this help\n"
	    "\n"
	    "Exit status: 0 success; 1 tcpmigd refused, or its answer was bad or late;\n"
	    "2 usage error; 3 tcpmigd unreachable.\n",
	    TM_CTL_DEFAULT_SOCK, CTL_DEFAULT_TIMEOUT_S);
}

/* Short usage after a command-line error: the command's own line when we know it. */
void ctl_usage(const char *cmd)
{
	for (size_t i = 0; cmd && i < sizeof(cmd_usages) / sizeof(cmd_usages[0]); i++) {
		if (strcmp(cmd, cmd_usages[i].cmd))
			continue;
		fprintf(stderr, "Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] %s\n",
			cmd_usages[i].args);
		return;
	}
	fprintf(stderr, "Usage: " CTL_SYNOPSIS "\n"
			"Try 'tcpmigctl --help' for the commands.\n");
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", CTL_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_usage(cmd);
	return CTL_EXIT_USAGE;
}

static bool is_global_opt(const char *s)
{
	static const char *const opts[] = {"-j", "--json", "-S", "--socket", "-t", "--timeout"};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t n = strlen(opts[i]);

		if (!strncmp(s, opts[i], n) && (!s[n] || (s[1] == '-' && s[n] == '=')))
			return true;
	}
	return false;
}

/* For commands that take no more arguments than argv[0..first-1]. */
int ctl_check_extra_args(const char *cmd, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	if (is_global_opt(argv[first]))
		return ctl_usage_error(cmd, "%s: option '%s' must come before the command", cmd,
				       argv[first]);
	if (argv[first][0] == '-' && argv[first][1])
		return ctl_usage_error(cmd, "%s: unknown option '%s'", cmd, argv[first]);
	return ctl_usage_error(cmd, "%s: unexpected argument '%s'", cmd, argv[first]);
}
