/* The daemon's packet-filter rules: managed flows go to NFQUEUE before routing, conntrack kept out.
 *
 * iptables-nft (raw table, priority -300: before conntrack) rather than a native nftables table:
 * kernels without nft_queue (this lab's among them) still have the xtables NFQUEUE target through
 * nft_compat.  Rules are applied atomically per family with iptables-restore --noflush. */
#include <arpa/inet.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcpmigd.h"

extern char **environ;

/* Run argv with @input on stdin (may be NULL); 0 when it exits 0. */
static int run(char *const argv[], const char *input, bool quiet)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, st = 0, devnull = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	}
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)) {
		log_warn("cannot run %s", argv[0]);
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (input) {
		size_t off = 0, len = strlen(input);

		while (off < len) {
			ssize_t n = write(pfd[1], input + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(pfd[1]);
	(void)devnull;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void match(struct sbuf *b, const struct tm_endpoint_cfg *e, char dir)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(e->family == TM_AF_INET ? AF_INET : AF_INET6, e->addr.w, ip, sizeof(ip));
	sb_printf(b, "-%c %s -p tcp --%cport %u", dir, ip, dir == 'd' ? 'd' : 's', e->port);
}

static void chain_names(const struct tm_config *c, char *pre, char *out, size_t cap)
{
	snprintf(pre, cap, "%s_PRE", c->rules_chain);
	snprintf(out, cap, "%s_OUT", c->rules_chain);
}

static const char *tool(int family, bool restore)
{
	if (family == TM_AF_INET)
		return restore ? "iptables-restore" : "iptables";
	return restore ? "ip6tables-restore" : "ip6tables";
}

static void remove_family(const struct tm_config *c, int family)
{
	char pre[80], out[80];
	char *t = (char *)tool(family, false);

	chain_names(c, pre, out, sizeof(pre));
	for (int i = 0; i < 16; i++) {
		char *a[] = { t, "-w", "-t", "raw", "-D", "PREROUTING", "-j", pre, NULL };

		if (run(a, NULL, true))
			break;
	}
	for (int i = 0; i < 16; i++) {
		char *a[] = { t, "-w", "-t", "raw", "-D", "OUTPUT", "-j", out, NULL };

		if (run(a, NULL, true))
			break;
	}
	for (int k = 0; k < 2; k++) {
		char *chain = k ? out : pre;
		char *f[] = { t, "-w", "-t", "raw", "-F", chain, NULL };
		char *x[] = { t, "-w", "-t", "raw", "-X", chain, NULL };

		run(f, NULL, true);
		run(x, NULL, true);
	}
}

static int install_family(const struct tm_config *c, int family)
{
	char pre[80], out[80];
	struct sbuf b = { 0 };
	int n = 0, rc;

	chain_names(c, pre, out, sizeof(pre));
	sb_printf(&b, "*raw\n:%s - [0:0]\n:%s - [0:0]\n", pre, out);
	if (c->fast_path) {
		/* Translated by the fast path at tc ingress: untracked, not queued again. */
		sb_printf(&b, "-A %s -m mark --mark 0x%x/0x%x -j CT --notrack\n", pre, c->fast_mark,
			  c->fast_mark_mask);
		sb_printf(&b, "-A %s -m mark --mark 0x%x/0x%x -j RETURN\n", pre, c->fast_mark,
			  c->fast_mark_mask);
	}
	for (int i = 0; i < c->nservices; i++) {
		const struct tm_service *s = &c->services[i];

		if (s->vip.family != family)
			continue;
		n++;
		/* Client -> service, and every backend -> client: untracked, then queued (bypass = fail-open). */
		for (int j = -1; j < s->nbackends; j++) {
			const struct tm_endpoint_cfg *e = j < 0 ? &s->vip : &s->backends[j];
			char dir = j < 0 ? 'd' : 's';

			sb_printf(&b, "-A %s ", pre);
			match(&b, e, dir);
			sb_printf(&b, " -j CT --notrack\n-A %s ", pre);
			match(&b, e, dir);
			sb_printf(&b, " -j NFQUEUE --queue-num %d --queue-bypass\n", c->queue);
		}
		/* Crafted packets leave through OUTPUT: keep them untracked too. */
		for (int j = -1; j < s->nbackends; j++) {
			sb_printf(&b, "-A %s ", out);
			match(&b, j < 0 ? &s->vip : &s->backends[j], j < 0 ? 's' : 'd');
			sb_printf(&b, " -j CT --notrack\n");
		}
	}
	sb_printf(&b, "-I PREROUTING 1 -j %s\n-I OUTPUT 1 -j %s\nCOMMIT\n", pre, out);
	if (b.oom) {
		sb_free(&b);
		return -1;
	}
	if (!n) {
		sb_free(&b);
		return 0;
	}
	log_debug("%s rules:\n%s", family == TM_AF_INET ? "IPv4" : "IPv6", b.s);
	remove_family(c, family); /* leftovers of a daemon that was killed */
	{
		char *a[] = { (char *)tool(family, true), "-w", "--noflush", NULL };

		rc = run(a, b.s, false);
	}
	if (rc)
		log_warnx("%s failed to install the rules", tool(family, true));
	sb_free(&b);
	return rc;
}

int rules_install(const struct tm_config *c)
{
	if (install_family(c, TM_AF_INET) || install_family(c, TM_AF_INET6)) {
		rules_remove(c);
		return -1;
	}
	return 0;
}

void rules_remove(const struct tm_config *c)
{
	remove_family(c, TM_AF_INET);
	remove_family(c, TM_AF_INET6);
}
