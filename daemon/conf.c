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
	c->quiesce_settle_ms = 50;
	c->fast_mark = c->fast_mark_mask = 0x10000000;
	snprintf(c->fast_pin, sizeof(c->fast_pin), "/sys/fs/bpf/tcpmig");
	c->handoff_timeout_ms = 3000;
	c->syn_rto_ms = 200;
	c->mss_clamp = 0;
	c->install_rules = true;
	snprintf(c->rules_chain, sizeof(c->rules_chain), "TCPMIG");
	snprintf(c->sock_path, sizeof(c->sock_path), "%s", TM_CTL_DEFAULT_SOCK);
	c->inspect_depth = 1024;
	c->inspect_wait_ms = 100;
	c->default_action.act = PA_FORWARD;
	c->default_action.pool = -1;
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

static int find_pool(const struct tm_config *c, const char *name)
{
	for (int i = 0; i < c->npools; i++)
		if (!strcmp(c->pools[i].name, name))
			return i;
	return -1;
}

/* ACTION [TARGET]: forward | reset | drop | migrate ADDR:PORT | migrate pool:NAME */
static bool parse_target(struct tm_config *c, struct parse *ps, char **w, int n, struct tm_target *t)
{
	memset(t, 0, sizeof(*t));
	t->pool = -1;
	if (!strcmp(w[0], "forward"))
		t->act = PA_FORWARD;
	else if (!strcmp(w[0], "reset"))
		t->act = PA_RESET;
	else if (!strcmp(w[0], "drop"))
		t->act = PA_DROP;
	else if (!strcmp(w[0], "migrate"))
		t->act = PA_MIGRATE;
	else {
		perr(ps, "unknown action (forward, migrate, reset, drop):", w[0]);
		return false;
	}
	if (t->act != PA_MIGRATE) {
		if (n > 1) {
			perr(ps, "unexpected word after the action:", w[1]);
			return false;
		}
		return true;
	}
	if (n != 2) {
		perr(ps, "'migrate' needs one target ADDR:PORT or pool:NAME, got",
		     n > 2 ? w[2] : w[0]);
		return false;
	}
	if (!strncmp(w[1], "pool:", 5)) {
		t->pool = find_pool(c, w[1] + 5);
		if (t->pool < 0) {
			perr(ps, "unknown pool (define it with 'pool' first):", w[1]);
			return false;
		}
		return true;
	}
	return parse_ep(ps, w[1], &t->to);
}

static void parse_pool(struct tm_config *c, struct parse *ps, char **w, int n)
{
	struct tm_pool *p;

	if (n < 3) {
		perr(ps, "expected 'pool NAME ADDR:PORT...', got", w[n - 1]);
		return;
	}
	if (strlen(w[1]) >= sizeof(p->name) || find_pool(c, w[1]) >= 0) {
		perr(ps, "bad or duplicate pool name", w[1]);
		return;
	}
	if (c->npools == TM_MAX_POOLS) {
		perr(ps, "too many pools (max 16) at", w[1]);
		return;
	}
	if (n - 2 > TM_MAX_BACKENDS) {
		perr(ps, "too many pool members (max 16) at", w[2 + TM_MAX_BACKENDS]);
		return;
	}
	p = &c->pools[c->npools];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", w[1]);
	for (int i = 2; i < n; i++)
		if (!parse_ep(ps, w[i], &p->eps[p->n++]))
			return;
	c->npools++;
}

/* on sid [GID:]SID | msg TEXT | classtype NAME | metadata KEY=VALUE  ACTION [TARGET] */
static void parse_on(struct tm_config *c, struct parse *ps, char **w, int n)
{
	struct tm_policy *pol;

	if (n < 4) {
		perr(ps, "expected 'on sid|msg|classtype|metadata VALUE ACTION [TARGET]', got", w[n - 1]);
		return;
	}
	if (c->npolicies == TM_MAX_POLICIES) {
		perr(ps, "too many 'on' lines (max 256) at", w[1]);
		return;
	}
	pol = &c->policies[c->npolicies];
	memset(pol, 0, sizeof(*pol));
	pol->line = ps->line;
	pol->gid = 1;
	if (!strcmp(w[1], "sid")) {
		char *colon = strchr(w[2], ':'), *end;
		unsigned long g = 1, sd;

		errno = 0;
		if (colon) {
			g = strtoul(w[2], &end, 10);
			if (end != colon || g == 0 || g > 0xffffffffUL) {
				perr(ps, "bad gid:sid", w[2]);
				return;
			}
		}
		sd = strtoul(colon ? colon + 1 : w[2], &end, 10);
		if (*end || errno || sd == 0 || sd > 0xffffffffUL || (colon ? colon[1] : w[2][0]) == '-') {
			perr(ps, "bad sid", w[2]);
			return;
		}
		pol->sel = PS_SID;
		pol->gid = (__u32)g;
		pol->sid = (__u32)sd;
	} else if (!strcmp(w[1], "msg") || !strcmp(w[1], "classtype")) {
		pol->sel = w[1][0] == 'm' ? PS_MSG : PS_CLASSTYPE;
		if (strlen(w[2]) >= sizeof(pol->value)) {
			perr(ps, "value too long:", w[2]);
			return;
		}
		snprintf(pol->value, sizeof(pol->value), "%s", w[2]);
	} else if (!strcmp(w[1], "metadata")) {
		char *eq = strchr(w[2], '=');

		if (!eq || eq == w[2] || (size_t)(eq - w[2]) >= sizeof(pol->key) ||
		    strlen(eq + 1) >= sizeof(pol->value)) {
			perr(ps, "expected metadata KEY=VALUE, got", w[2]);
			return;
		}
		pol->sel = PS_METADATA;
		snprintf(pol->key, sizeof(pol->key), "%.*s", (int)(eq - w[2]), w[2]);
		snprintf(pol->value, sizeof(pol->value), "%s", eq + 1);
	} else {
		perr(ps, "unknown selector (sid, msg, classtype, metadata):", w[1]);
		return;
	}
	if (parse_target(c, ps, w + 3, n - 3, &pol->t))
		c->npolicies++;
}

#define MAX_WORDS 24

static void parse_line(struct tm_config *c, struct parse *ps, char *line)
{
	char *words[MAX_WORDS];
	int n = 0;
	char *save = NULL, *w;
	unsigned v;

	for (w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (w[0] == '#')
			break;
		if (n == MAX_WORDS) {
			perr(ps, "too many words at", w);
			return;
		}
		words[n++] = w;
	}
	if (n == 0)
		return;
	if (!strcmp(words[0], "pool")) {
		parse_pool(c, ps, words, n);
		return;
	}
	if (!strcmp(words[0], "on")) {
		parse_on(c, ps, words, n);
		return;
	}
	if (!strcmp(words[0], "default-action")) {
		if (n < 2)
			perr(ps, "expected 'default-action ACTION [TARGET]', got", words[0]);
		else
			parse_target(c, ps, words + 1, n - 1, &c->default_action);
		return;
	}
	if (n != 2) {
		perr(ps, "expected 'KEY VALUE', got", n > 2 ? words[2] : words[0]);
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
	} else if (!strcmp(k, "quiesce-settle")) {
		parse_uint(ps, val, 0, 600000, &c->quiesce_settle_ms);
	} else if (!strcmp(k, "quiesce-mode")) {
		if (!strcmp(val, "reply"))
			c->quiesce_bytes = false;
		else if (!strcmp(val, "bytes"))
			c->quiesce_bytes = true;
		else
			perr(ps, "expected 'reply' or 'bytes', got", val);
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
	} else if (!strcmp(k, "filter-rules")) {
		if (!strcmp(val, "on"))
			c->install_rules = true;
		else if (!strcmp(val, "off"))
			c->install_rules = false;
		else
			perr(ps, "expected 'on' or 'off', got", val);
	} else if (!strcmp(k, "fast-path")) {
		if (!strcmp(val, "on"))
			c->fast_path = true;
		else if (!strcmp(val, "off"))
			c->fast_path = false;
		else
			perr(ps, "expected 'on' or 'off', got", val);
	} else if (!strcmp(k, "fast-path-pin")) {
		if (!strcmp(val, "off"))
			c->fast_pin[0] = '\0';
		else if (val[0] != '/' || strlen(val) >= sizeof(c->fast_pin) - 32)
			perr(ps, "expected an absolute directory (shorter than 168) or 'off', got", val);
		else
			snprintf(c->fast_pin, sizeof(c->fast_pin), "%s", val);
	} else if (!strcmp(k, "fast-path-mark")) {
		char *end;
		unsigned long m = strtoul(val, &end, 0), mask = m;

		if (end != val && *end == '/')
			mask = strtoul(end + 1, &end, 0);
		if (end == val || *end || !m || m > 0xffffffffu || mask > 0xffffffffu || (m & ~mask))
			perr(ps, "expected MARK[/MASK], a non-zero mark inside its mask, got", val);
		else
			c->fast_mark = (__u32)m, c->fast_mark_mask = (__u32)mask;
	} else if (!strcmp(k, "fast-path-interfaces")) {
		char buf[512], *tok, *sp = NULL;

		snprintf(buf, sizeof(buf), "%s", val);
		c->fast_nifaces = 0;
		for (tok = strtok_r(buf, ",", &sp); tok; tok = strtok_r(NULL, ",", &sp)) {
			if (!*tok || strlen(tok) >= sizeof(c->fast_ifaces[0]) ||
			    c->fast_nifaces == TM_FAST_MAX_IFS) {
				perr(ps, "bad interface list (names of at most 15 characters, at most 32):", val);
				break;
			}
			snprintf(c->fast_ifaces[c->fast_nifaces++], sizeof(c->fast_ifaces[0]), "%s", tok);
		}
	} else if (!strcmp(k, "filter-chain")) {
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
	} else if (!strcmp(k, "rules")) {
		if (strlen(val) >= sizeof(c->rules_path) - 1) {
			perr(ps, "path too long:", val);
		} else if (val[0] == '/') {
			snprintf(c->rules_path, sizeof(c->rules_path), "%s", val);
		} else {
			/* Relative to the configuration file's directory. */
			const char *slash = strrchr(ps->path, '/');
			int dl = slash ? (int)(slash - ps->path) : 1;

			char full[sizeof(c->rules_path) * 2];

			snprintf(full, sizeof(full), "%.*s/%s", dl, slash ? ps->path : ".", val);
			if (strlen(full) >= sizeof(c->rules_path))
				perr(ps, "path too long:", val);
			else
				memcpy(c->rules_path, full, strlen(full) + 1);
		}
	} else if (!strcmp(k, "inspect-depth")) {
		parse_uint(ps, val, 1, 65536, &c->inspect_depth);
	} else if (!strcmp(k, "inspect-wait")) {
		parse_uint(ps, val, 0, 60000, &c->inspect_wait_ms);
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
		struct tm_endpoint_cfg ep = { 0 };

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
	/* Handoff targets must be backends of some service (the handoff checks the flow's own). */
	for (int i = 0; i < c->npolicies + c->npools + 1; i++) {
		const struct tm_endpoint_cfg *eps;
		int n, pline;
		char buf[64];

		if (i < c->npolicies) {
			if (c->policies[i].t.act != PA_MIGRATE || c->policies[i].t.pool >= 0)
				continue;
			eps = &c->policies[i].t.to, n = 1, pline = c->policies[i].line;
		} else if (i < c->npolicies + c->npools) {
			eps = c->pools[i - c->npolicies].eps, n = c->pools[i - c->npolicies].n, pline = 0;
		} else {
			if (c->default_action.act != PA_MIGRATE || c->default_action.pool >= 0)
				continue;
			eps = &c->default_action.to, n = 1, pline = 0;
		}
		for (int e = 0; e < n; e++) {
			bool known = false;

			for (int s = 0; s < c->nservices && !known; s++)
				for (int b = 0; b < c->services[s].nbackends && !known; b++)
					known = ep_eq(&c->services[s].backends[b], &eps[e]);
			if (!known) {
				int saved = ps.line;

				if (pline)
					ps.line = pline;
				perr(&ps, "handoff target is no service's backend:",
				     ep_str(&eps[e], buf, sizeof(buf)));
				ps.line = saved;
			}
		}
	}
	if (!c->nservices && !ps.errors) {
		ps.line = ps.line ? ps.line : 1;
		perr(&ps, "no 'service' defined in", path);
	}
	return ps.errors ? -1 : 0;
}
