/*
 * Mass handoff for make bench: "migrate CLIENT TARGET" for every client address read from stdin
 * (ADDR:PORT, one a line), over CONC concurrent control connections to tcpmigd (one request and
 * one JSON answer line per connection, common/ctlproto.h), and how long all of them took.
 *
 *   migrate_many SOCKET TARGET [-c CONC] < clients
 *
 * One JSON line on stdout: requests, committed, failed (by reason), the wall time from the first
 * request to the last answer (a committed handoff answers right after its commit), and the
 * daemon's own command-to-commit time per handoff (elapsed_us: median, p99, max).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_REASONS 16
#define ANSWER_MAX  16384 /* a migrate answer is one flow object: well under this */

struct req {
	int fd;
	size_t len;
	char buf[ANSWER_MAX];
};

static struct {
	char reason[MAX_REASONS][32];
	unsigned long count[MAX_REASONS];
	unsigned n;
} fails;

static void count_reason(const char *r, size_t n)
{
	unsigned i;

	if (n >= sizeof(fails.reason[0]))
		n = sizeof(fails.reason[0]) - 1;
	for (i = 0; i < fails.n; i++)
		if (strlen(fails.reason[i]) == n && !memcmp(fails.reason[i], r, n))
			break;
	if (i == fails.n) {
		if (fails.n == MAX_REASONS)
			i = MAX_REASONS - 1; /* the last slot collects the rest */
		else
			fails.n++;
		memcpy(fails.reason[i], r, n);
		fails.reason[i][n] = '\0';
	}
	fails.count[i]++;
}

/* The value of "key": in a JSON answer of tcpmigd, as text (a number or a string's body). */
static bool json_field(const char *js, const char *key, const char **val, size_t *n)
{
	char pat[40];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		const char *q = strchr(++p, '"');

		if (!q)
			return false;
		*n = (size_t)(q - p);
	} else {
		*n = strspn(p, "0123456789truefals");
	}
	*val = p;
	return *n > 0;
}

static int ctl_connect(const char *path, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n = strlen(line);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Blocking connect and write (a short line into an empty socket), then non-blocking. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, line, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long conc = 8, sent = 0, answered = 0, ok = 0, nclients = 0, cap = 1024;
	char **clients = malloc(cap * sizeof(*clients)), line[256];
	uint32_t *elapsed;
	struct req *reqs;
	struct epoll_event evs[64];
	uint64_t t_first = 0, t_last = 0;
	int o, ep;

	while ((o = getopt(argc, argv, "c:h")) != -1) {
		if (o != 'c' || !bench_uint_arg("-c", optarg, 1, 60, &conc)) {
			fprintf(stderr, "usage: migrate_many SOCKET TARGET [-c CONC] < clients\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 2 || !clients) {
		fprintf(stderr, "usage: migrate_many SOCKET TARGET [-c CONC] < clients\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, " \r\n")] = '\0';
		if (!line[0])
			continue;
		if (nclients == cap) {
			char **p = realloc(clients, 2 * cap * sizeof(*clients));

			if (!p)
				return 1;
			clients = p;
			cap *= 2;
		}
		clients[nclients++] = strdup(line);
	}
	elapsed = calloc(nclients + 1, sizeof(*elapsed));
	reqs = calloc(conc, sizeof(*reqs));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!elapsed || !reqs || ep < 0)
		return 1;
	for (unsigned long i = 0; i < conc; i++)
		reqs[i].fd = -1;
	t_first = bench_now_ns();
	while (answered < nclients) {
		int n;

		/* Every idle slot takes the next client. */
		for (unsigned long i = 0; i < conc && sent < nclients; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &reqs[i] };
			char req[320];

			if (reqs[i].fd >= 0)
				continue;
			snprintf(req, sizeof(req), "migrate %s %s\n", clients[sent],
				 argv[optind + 1]);
			sent++;
			reqs[i].len = 0;
			reqs[i].fd = ctl_connect(argv[optind], req);
			if (reqs[i].fd < 0) {
				count_reason("ctl-connect", 11);
				answered++;
				continue;
			}
			epoll_ctl(ep, EPOLL_CTL_ADD, reqs[i].fd, &ev);
		}
		n = epoll_wait(ep, evs, 64, 30000);
		if (n <= 0) {
			fprintf(stderr, "migrate_many: no answer within 30 s\n");
			break;
		}
		for (int k = 0; k < n; k++) {
			struct req *r = evs[k].data.ptr;
			ssize_t got = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
			const char *v;
			size_t vn;

			if (got < 0 && errno == EAGAIN)
				continue;
			if (got > 0) {
				r->len += (size_t)got;
				r->buf[r->len] = '\0';
				if (!memchr(r->buf, '\n', r->len) && r->len < sizeof(r->buf) - 1)
					continue;
			}
			t_last = bench_now_ns();
			answered++;
			r->buf[r->len] = '\0';
			if (json_field(r->buf, "ok", &v, &vn) && vn == 4 && !memcmp(v, "true", 4)) {
				ok++;
				if (json_field(r->buf, "elapsed_us", &v, &vn))
					elapsed[ok - 1] = (uint32_t)strtoul(v, NULL, 10);
			} else if (json_field(r->buf, "reason", &v, &vn)) {
				count_reason(v, vn);
			} else {
				count_reason(r->len ? "bad-answer" : "no-answer", r->len ? 10 : 9);
			}
			close(r->fd); /* also leaves the epoll set */
			r->fd = -1;
		}
	}
	for (; answered < nclients; answered++)
		count_reason("no-answer-30s", 13);
	printf("{\"requests\":%lu,\"committed\":%lu,\"failed\":%lu,\"conc\":%lu,", nclients, ok,
	       nclients - ok, conc);
	printf("\"first_to_last_ms\":%.1f,",
	       t_last > t_first ? (double)(t_last - t_first) / 1e6 : 0.0);
	printf("\"daemon_us_median\":%u,\"daemon_us_p99\":%u,\"daemon_us_max\":%u,\"reasons\":{",
	       bench_pct(elapsed, ok, 50), bench_pct(elapsed, ok, 99), bench_pct(elapsed, ok, 100));
	for (unsigned i = 0; i < fails.n; i++)
		printf("%s\"%s\":%lu", i ? "," : "", fails.reason[i], fails.count[i]);
	printf("}}\n");
	return ok == nclients ? 0 : 1;
}
