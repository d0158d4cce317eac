/* tcpmigctl: command-line client of tcpmigd's control socket (protocol: common/ctlproto.h). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int cmd_help(const struct ctl_opts *o, int argc, char **argv)
{
	int ret = ctl_check_extra_args("help", argc, argv, 1);

	if (!ret)
		ctl_help(stdout);
	return ret;
}

static const struct {
	const char *name;
	int (*run)(const struct ctl_opts *o, int argc, char **argv);
} commands[] = {
    {"flows", cmd_flows}, {"flow", cmd_flow},	    {"migrate", cmd_migrate},
    {"stats", cmd_stats}, {"version", cmd_version}, {"help", cmd_help},
    {"rules", cmd_rules}, {"events", cmd_events},   {"reload", cmd_reload},
};

static int parse_options(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *env = getenv("TCPMIG_SOCK");
	int c;

	o->sock = env && *env ? env : TM_CTL_DEFAULT_SOCK;
	o->timeout_ms = CTL_DEFAULT_TIMEOUT_S * 1000;
	opterr = 0;
	/* '+': options end at COMMAND, whose own options (migrate --to) are its business. */
	while ((c = getopt_long(argc, argv, "+:jS:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'S':
			o->sock = optarg;
			break;
		case 't':
			if (!ctl_parse_timeout(optarg, &o->timeout_ms)) {
				ctl_usage(NULL);
				return -EINVAL;
			}
			break;
		case 'h':
			ctl_help(stdout);
			return 1;
		case ':':
			if (!strncmp(argv[optind - 1], "--", 2))
				ctl_usage_error(NULL, "option '%s' needs an argument",
						argv[optind - 1]);
			else
				ctl_usage_error(NULL, "option '-%c' needs an argument", optopt);
			return -EINVAL;
		default:
			if (optopt)
				ctl_usage_error(NULL, "unknown option '-%c'", optopt);
			else
				ctl_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!ctl_parse_sock(o->sock)) {
		ctl_usage(NULL);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = {0};
	int ret;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (optind >= argc)
		return ctl_usage_error(NULL, "missing COMMAND");
	ret = -1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			ret = commands[i].run(&o, argc - optind, argv + optind);
	if (ret < 0)
		return ctl_usage_error(NULL, "unknown command '%s'", argv[optind]);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", CTL_PROG, strerror(errno));
		ret = ret ? ret : CTL_EXIT_FAIL;
	}
	return ret;
}
