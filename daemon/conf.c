/* tcpmigd.conf parser: "key value" lines, services with their backends; every error reported as file:line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

#include "tcpmigd.h"

void conf_defaults(struct tm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->queue = 0;
	c->max_flows = 65536;
	c->idle_timeout_s = 3600;
	c->embryonic_timeout_s = 30;
	c->closed_linger_s = 10;
	c->quiesce_timeout_ms = 2000;
	c->handoff_timeout_ms = 3000;
	c->syn_rto_ms = 200;
	c->mss_clamp = 0;
	c->install_rules = true;
	snprintf(c->rules_chain, sizeof(c->rules_chain), "TCPMIG");
	snprintf(c->sock_path, sizeof(c->sock_path), "%s", TM_CTL_DEFAULT_SOCK);
}

struct parse {
	const char *path;
	int line;
	int errors;
};

static void perr(struct parse *ps, const char *msg, const char *tok)
{
	fprintf(stderr, "%s:%d: %s '%s'\n", ps->path, ps->line, msg, tok);
	ps->errors++;
}

static bool parse_uint(struct parse *ps, const char *tok, unsigned long min, unsigned long max,
		       unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(tok, &end, 10);
	if (errno || *end || end == tok || tok[0] == '-' || v < min || v > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "expected a number from %lu to %lu, got", min, max);
		perr(ps, msg, tok);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool parse_ep(struct parse *ps, const char *tok, struct tm_endpoint_cfg *ep)
{
	if (tm_addr_port_parse(tok, &ep->addr, &ep->family, &ep->port)) {
		perr(ps, "expected ADDRESS:PORT (IPv6 as [ADDR]:PORT), got", tok);
		return false;
	}
	return true;
}

static void parse_line(struct tm_config *c, struct parse *ps, char *line)
{
	char *words[4];
	int n = 0;
	char *save = NULL, *w;
	unsigned v;

	for (w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (w[0] == '#')
			break;
		if (n == 3) {
			perr(ps, "too many words at", w);
			return;
		}
		words[n++] = w;
	}
	if (n == 0)
		return;
	if (n != 2) {
		perr(ps, "expected 'KEY VALUE', got", words[0]);
		return;
	}
	const char *k = words[0], *val = words[1];

	if (!strcmp(k, "queue")) {
		if (parse_uint(ps, val, 0, 65535, &v))
			c->queue = (int)v;
	} else if (!strcmp(k, "max-flows")) {
		parse_uint(ps, val, 1, 16u << 20, &c->max_flows);
	} else if (!strcmp(k, "idle-timeout")) {
		parse_uint(ps, val, 1, 7 * 86400, &c->idle_timeout_s);
	} else if (!strcmp(k, "embryonic-timeout")) {
		parse_uint(ps, val, 1, 3600, &c->embryonic_timeout_s);
	} else if (!strcmp(k, "closed-linger")) {
		parse_uint(ps, val, 0, 3600, &c->closed_linger_s);
	} else if (!strcmp(k, "quiesce-timeout")) {
		parse_uint(ps, val, 1, 600000, &c->quiesce_timeout_ms);
	} else if (!strcmp(k, "handoff-timeout")) {
		parse_uint(ps, val, 10, 600000, &c->handoff_timeout_ms);
	} else if (!strcmp(k, "syn-rto")) {
		parse_uint(ps, val, 1, 60000, &c->syn_rto_ms);
	} else if (!strcmp(k, "mss-clamp")) {
		if (parse_uint(ps, val, 0, 65535, &v)) {
			if (v && v < 536)
				perr(ps, "mss-clamp below 536 is not allowed:", val);
			c->mss_clamp = (__u16)v;
		}
	} else if (!strcmp(k, "rules")) {
		if (!strcmp(val, "on"))
			c->install_rules = true;
		else if (!strcmp(val, "off"))
			c->install_rules = false;
		else
			perr(ps, "expected 'on' or 'off', got", val);
	} else if (!strcmp(k, "rules-chain")) {
		const char *p;

		for (p = val; *p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-'); p++)
			;
		if (*p || strlen(val) > 24)
			perr(ps, "bad chain name (letters, digits, _ and -, at most 24):", val);
		else
			snprintf(c->rules_chain, sizeof(c->rules_chain), "%s", val);
	} else if (!strcmp(k, "socket")) {
		if (val[0] != '/' || strlen(val) >= sizeof(c->sock_path))
			perr(ps, "socket must be an absolute path shorter than 108 bytes:", val);
		else
			snprintf(c->sock_path, sizeof(c->sock_path), "%s", val);
	} else if (!strcmp(k, "service")) {
		struct tm_service *s;

		if (c->nservices == TM_MAX_SERVICES) {
			perr(ps, "too many services (max 64) at", val);
			return;
		}
		s = &c->services[c->nservices];
		memset(s, 0, sizeof(*s));
		if (!parse_ep(ps, val, &s->vip))
			return;
		for (int i = 0; i < c->nservices; i++)
			if (ep_eq(&c->services[i].vip, &s->vip)) {
				perr(ps, "duplicate service", val);
				return;
			}
		s->line = ps->line;
		c->nservices++;
	} else if (!strcmp(k, "backend")) {
		struct tm_service *s;
		struct tm_endpoint_cfg ep;

		if (!c->nservices) {
			perr(ps, "'backend' before any 'service':", val);
			return;
		}
		s = &c->services[c->nservices - 1];
		if (!parse_ep(ps, val, &ep))
			return;
		if (ep.family != s->vip.family) {
			perr(ps, "backend address family differs from its service:", val);
			return;
		}
		for (int i = 0; i < s->nbackends; i++)
			if (ep_eq(&s->backends[i], &ep)) {
				perr(ps, "duplicate backend", val);
				return;
			}
		if (s->nbackends == TM_MAX_BACKENDS) {
			perr(ps, "too many backends (max 16) at", val);
			return;
		}
		s->backends[s->nbackends++] = ep;
	} else {
		perr(ps, "unknown keyword", k);
	}
}

int conf_load(struct tm_config *c, const char *path)
{
	struct parse ps = { .path = path };
	char line[512];
	FILE *fp = fopen(path, "r");

	if (!fp) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	while (fgets(line, sizeof(line), fp)) {
		ps.line++;
		if (!strchr(line, '\n') && !feof(fp)) {
			perr(&ps, "line too long (max 511 bytes):", "...");
			int ch;
			while ((ch = fgetc(fp)) != EOF && ch != '\n')
				;
			continue;
		}
		parse_line(c, &ps, line);
	}
	fclose(fp);
	for (int i = 0; i < c->nservices; i++) {
		if (c->services[i].nbackends == 0) {
			char vip[64];

			ps.line = c->services[i].line;
			perr(&ps, "service has no backend:", ep_str(&c->services[i].vip, vip, sizeof(vip)));
		}
	}
	if (!c->nservices && !ps.errors) {
		ps.line = ps.line ? ps.line : 1;
		perr(&ps, "no 'service' defined in", path);
	}
	return ps.errors ? -1 : 0;
}
