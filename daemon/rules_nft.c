/* The daemon's nftables table: managed flows go to NFQUEUE before routing, conntrack kept out. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "tcpmigd.h"

static int run(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (!ctx)
		return -1;
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, cmd);
	if (rc)
		log_warnx("nftables: %s", nft_ctx_get_error_buffer(ctx));
	nft_ctx_free(ctx);
	return rc ? -1 : 0;
}

static void addr_match(struct sbuf *b, const struct tm_endpoint_cfg *e, const char *dir)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(e->family == TM_AF_INET ? AF_INET : AF_INET6, e->addr.w, ip, sizeof(ip));
	sb_printf(b, "%s %saddr %s tcp %sport %u", e->family == TM_AF_INET ? "ip" : "ip6", dir, ip,
		  dir, e->port);
}

/*
 * Priority -310: before conntrack (-200) and the raw table (-300), so managed
 * packets are never tracked (conntrack would mark translated flows INVALID).
 * "bypass": when no tcpmigd listens on the queue the kernel accepts the packet
 * instead of dropping it (fail-open, tcpmigd(8)).
 */
int nft_install(const struct tm_config *c)
{
	struct sbuf b = { 0 };
	int rc;

	sb_printf(&b, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", c->rules_table,
		  c->rules_table, c->rules_table);
	sb_printf(&b, "  chain pre {\n    type filter hook prerouting priority -310; policy accept;\n");
	for (int i = 0; i < c->nservices; i++) {
		const struct tm_service *s = &c->services[i];

		sb_printf(&b, "    ");
		addr_match(&b, &s->vip, "d");
		sb_printf(&b, " notrack queue num %d bypass\n", c->queue);
		for (int j = 0; j < s->nbackends; j++) {
			sb_printf(&b, "    ");
			addr_match(&b, &s->backends[j], "s");
			sb_printf(&b, " notrack queue num %d bypass\n", c->queue);
		}
	}
	sb_printf(&b, "  }\n  chain out {\n    type filter hook output priority -310; policy accept;\n");
	/* Crafted packets (replayed SYN, third ACK, RST) leave through OUTPUT: keep them untracked. */
	for (int i = 0; i < c->nservices; i++) {
		const struct tm_service *s = &c->services[i];

		for (int j = 0; j < s->nbackends; j++) {
			sb_printf(&b, "    ");
			addr_match(&b, &s->backends[j], "d");
			sb_printf(&b, " notrack\n");
		}
		sb_printf(&b, "    ");
		addr_match(&b, &s->vip, "s");
		sb_printf(&b, " notrack\n");
	}
	sb_printf(&b, "  }\n}\n");
	if (b.oom) {
		sb_free(&b);
		return -1;
	}
	log_debug("nftables ruleset:\n%s", b.s);
	rc = run(b.s);
	sb_free(&b);
	return rc;
}

void nft_remove(const struct tm_config *c)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "delete table inet %s\n", c->rules_table);
	run(cmd);
}
