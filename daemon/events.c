/* Event ring: rule alerts, analyzer decisions, handoffs and rollbacks, for `tcpmigctl events`. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcpmigd.h"

#define EV_RING 4096

struct event {
	uint64_t seq;
	struct timespec when;
	uint64_t flow;
	char type[16];
	char text[200];
};

static struct event ring[EV_RING];
static uint64_t next_seq = 1;

void ev_push(const char *type, uint64_t flow, const char *fmt, ...)
{
	struct event *e = &ring[next_seq % EV_RING];
	va_list ap;

	e->seq = next_seq++;
	clock_gettime(CLOCK_REALTIME, &e->when);
	e->flow = flow;
	snprintf(e->type, sizeof(e->type), "%s", type);
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* Events with seq > @since (at most @max of the oldest such), and the seq to ask for next. */
void ev_json(struct sbuf *b, uint64_t since, unsigned max)
{
	uint64_t first = next_seq > EV_RING ? next_seq - EV_RING : 1;
	uint64_t s = since + 1 > first ? since + 1 : first;
	unsigned n = 0;

	sb_printf(b, "{\"ok\":true,\"events\":[");
	for (; s < next_seq && n < max; s++, n++) {
		const struct event *e = &ring[s % EV_RING];
		struct tm tm;
		char when[40];

		gmtime_r(&e->when.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		sb_printf(b, "%s{\"seq\":%llu,\"time\":\"%s.%03ldZ\",\"type\":", n ? "," : "",
			  (unsigned long long)e->seq, when, e->when.tv_nsec / 1000000);
		sb_json_str(b, e->type);
		sb_printf(b, ",\"flow\":%llu,\"text\":", (unsigned long long)e->flow);
		sb_json_str(b, e->text);
		sb_printf(b, "}");
	}
	sb_printf(b, "],\"next\":%llu,\"lost\":%llu}", (unsigned long long)(s - 1),
		  (unsigned long long)(since + 1 < first ? first - since - 1 : 0));
}
