/* tcpmigd: the tcpmig gateway daemon (NFQUEUE slow path, handoffs, control socket). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ctlproto.h"
#include "tcpmigd.h"

struct tm_counters g_cnt;
int g_epfd = -1;

static char tag_nfq, tag_ctl, tag_timer, tag_sig;

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: tcpmigd [-c FILE] [-S SOCKET] [-q QUEUE] [-n] [-t] [-v] [-h]\n"
		"  -c FILE    configuration (default /etc/tcpmig/tcpmigd.conf; see tcpmigd.conf(5))\n"
		"  -S SOCKET  control socket (default %s, or 'socket' in the config)\n"
		"  -q QUEUE   NFQUEUE number (overrides 'queue')\n"
		"  -n         do not install the packet filter rules (managed elsewhere)\n"
		"  -t         check the configuration and exit\n"
		"  -v         verbose (debug log lines)\n"
		"  -h         this help\n"
		"Runs in the foreground and logs to stderr.  SIGINT/SIGTERM stop it cleanly:\n"
		"the packet filter rules are removed (managed traffic is forwarded untouched) and\n"
		"migrated flows, which cannot live without translation, are reset at both ends.\n",
		TM_CTL_DEFAULT_SOCK);
}

static int ep_add(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	static struct tm_config conf;
	const char *cpath = "/etc/tcpmig/tcpmigd.conf", *sock = NULL;
	int opt, qover = -1, rc = 1, tfd = -1, sfd = -1;
	bool check_only = false, no_rules = false, rules_in = false;
	sigset_t mask;

	while ((opt = getopt(argc, argv, "c:S:q:ntvh")) != -1) {
		switch (opt) {
		case 'c':
			cpath = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'q': {
			char *end;
			long q = strtol(optarg, &end, 10);

			if (*end || q < 0 || q > 65535) {
				fprintf(stderr, "tcpmigd: bad queue number '%s'\n", optarg);
				return 2;
			}
			qover = (int)q;
			break;
		}
		case 'n':
			no_rules = true;
			break;
		case 't':
			check_only = true;
			break;
		case 'v':
			g_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tcpmigd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	conf_defaults(&conf);
	if (conf_load(&conf, cpath))
		return 1;
	if (sock) {
		if (strlen(sock) >= sizeof(conf.sock_path)) {
			fprintf(stderr, "tcpmigd: socket path too long '%s'\n", sock);
			return 2;
		}
		snprintf(conf.sock_path, sizeof(conf.sock_path), "%s", sock);
	}
	if (qover >= 0)
		conf.queue = qover;
	if (no_rules)
		conf.install_rules = false;
	if (an_init(&conf))
		return 1;
	if (check_only) {
		printf("%s: ok (%d service(s)%s)\n", cpath, conf.nservices,
		       an_enabled() ? ", rules loaded" : "");
		an_fini();
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "tcpmigd: must run as root (NFQUEUE, raw sockets, iptables)\n");
		return 1;
	}
	if (sodium_init() < 0 || table_init(conf.max_flows)) {
		log_warnx("initialisation failed");
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	g_epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (g_epfd < 0 || sfd < 0 || tfd < 0) {
		log_warn("epoll/signalfd/timerfd");
		goto out;
	}
	{
		struct itimerspec its = { .it_interval = { 0, 10000000 }, .it_value = { 0, 10000000 } };

		timerfd_settime(tfd, 0, &its, NULL);
	}
	if (ctl_probe(conf.sock_path) || gw_init(&conf) || nfq_open_queue(conf.queue) ||
	    fast_init(&conf))
		goto out;
	if (conf.install_rules) {
		if (rules_install(&conf))
			goto out;
		rules_in = true;
	}
	if (ctl_open(conf.sock_path))
		goto out;
	if (ep_add(nfq_sock_fd(), &tag_nfq) || ep_add(ctl_fd(), &tag_ctl) || ep_add(tfd, &tag_timer) ||
	    ep_add(sfd, &tag_sig)) {
		log_warn("epoll_ctl");
		goto out;
	}
	log_info("running: %d service(s), queue %d, control socket %s%s%s", conf.nservices, conf.queue,
		 conf.sock_path, rules_in ? "" : ", packet filter rules not installed (-n)",
		 fast_enabled() ? ", fast path on" : "");

	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(g_epfd, evs, 32, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			void *t = evs[i].data.ptr;

			if (t == &tag_nfq) {
				if (nfq_dispatch())
					goto out;
			} else if (t == &tag_ctl) {
				ctl_accept();
			} else if (t == &tag_timer) {
				uint64_t exp;

				(void)!read(tfd, &exp, sizeof(exp));
				gw_tick(now_ns());
			} else if (t == &tag_sig) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						struct sbuf errs = { 0 };

						log_info("SIGHUP: reloading %s", conf.path);
						an_reload(&conf, &errs);
						sb_free(&errs);
						continue;
					}
					log_info("signal %u: stopping", si.ssi_signo);
					rc = 0;
					goto out;
				}
			} else {
				ctl_conn_event(t, evs[i].events);
			}
		}
		ctl_reap();
	}
out:
	gw_shutdown_flows();
	if (fast_keeps_flows())
		rules_in = false; /* their FIN/RST still need the queue rules (bypass while down) */
	fast_fini();
	if (rules_in)
		rules_remove(&conf);
	nfq_close_queue();
	ctl_close(conf.sock_path);
	gw_fini();
	table_fini();
	an_fini();
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (g_epfd >= 0)
		close(g_epfd);
	log_info("stopped");
	return rc;
}
