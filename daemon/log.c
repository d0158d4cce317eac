/* Logging helpers (relayd style), monotonic clock, endpoint formatting, JSON string buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpmigd.h"

int g_verbose;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vlog(const char *lvl, const char *fmt, va_list ap, const char *suffix)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld tcpmigd %s: ", when, ts.tv_nsec / 1000000, lvl);
	vfprintf(stderr, fmt, ap);
	if (suffix)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, NULL);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, strerror(e));
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

const char *ep_str(const struct tm_endpoint_cfg *e, char *buf, size_t cap)
{
	return tm_addr_port_str(buf, cap, &e->addr, e->family, e->port);
}

bool ep_eq(const struct tm_endpoint_cfg *a, const struct tm_endpoint_cfg *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 1024;
		while (ncap < b->len + (size_t)n + 1)
			ncap *= 2;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

void sb_json_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			sb_printf(b, "\\u%04x", ch);
		else
			sb_printf(b, "%c", ch);
	}
	sb_printf(b, "\"");
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void json_flow(struct sbuf *b, const struct flow *f)
{
	char cl[64], sv[64], be[64];
	uint64_t now = now_ns(), last = f->last_ns;
	struct tm_endpoint_cfg c = { .family = f->ckey.family, .addr = f->ckey.saddr, .port = f->ckey.sport };
	struct fast_view fv;

	/* An offloaded flow's packets since the offload are counted in the kernel, and its
	 * sequence ends moved there. */
	fast_peek(f, &fv);
	if (fv.last_ns > last && fv.last_ns <= now)
		last = fv.last_ns;

	ep_str(&c, cl, sizeof(cl));
	ep_str(&f->svc->vip, sv, sizeof(sv));
	ep_str(&f->backend, be, sizeof(be));
	sb_printf(b, "{\"id\":%llu,\"client\":\"%s\",\"service\":\"%s\",\"backend\":\"%s\","
		  "\"state\":\"%s\",\"path\":\"%s\",\"migrating\":%s,\"spliced\":%s,",
		  (unsigned long long)f->id, cl, sv, be, tm_flow_state_name(f->st.state),
		  f->offloaded ? "fast" : "slow",
		  f->hs.st != HS_NONE ? "true" : "false", f->spliced ? "true" : "false");
	sb_printf(b, "\"bytes_c2s\":%llu,\"bytes_s2c\":%llu,\"pkts_c2s\":%llu,\"pkts_s2c\":%llu,"
		  "\"retrans_c2s\":%llu,\"retrans_s2c\":%llu,",
		  (unsigned long long)(f->st.c.bytes + fv.bytes_c2s),
		  (unsigned long long)(f->st.s.bytes + fv.bytes_s2c),
		  (unsigned long long)(f->st.c.pkts + fv.pkts_c2s),
		  (unsigned long long)(f->st.s.pkts + fv.pkts_s2c),
		  (unsigned long long)f->st.c.retrans, (unsigned long long)f->st.s.retrans);
	sb_printf(b, "\"migrations\":%llu,\"rollbacks\":%llu,\"age_ms\":%llu,\"idle_ms\":%llu,",
		  (unsigned long long)f->migrations, (unsigned long long)f->rollbacks,
		  (unsigned long long)((now - f->created_ns) / 1000000),
		  (unsigned long long)((now - last) / 1000000));
	sb_printf(b, "\"c_nxt\":%u,\"c_una\":%u,\"s_nxt\":%u,\"s_una\":%u,\"dseq\":%u,\"dts\":%u,"
		  "\"last_error\":",
		  fv.c_nxt, fv.c_una, fv.s_nxt, fv.s_una, f->s2c.seq_delta,
		  f->s2c.tsval_delta);
	sb_json_str(b, f->last_error);
	sb_printf(b, "}");
}
