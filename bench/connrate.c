/*
 * Connections per second through the lab gateway (make bench), and N held connections for the
 * memory and mass-handoff measurements.  Speaks demo_server's line mode: one request line, one
 * reply line "NAME: <request> (#k)".
 *
 *   connrate ADDR PORT [-t SECS] [-c CONC] [-T MS]
 *	churn: CONC connections in flight for SECS seconds; each connects, sends one line, reads
 *	the reply line and closes.  One JSON line on stdout: connections/s, failures by kind,
 *	connection time.
 *   connrate ADDR PORT --hold N [-c CONC] [-T MS] [-p FILE]
 *	opens N connections (at most CONC in the handshake/request phase at a time), one request
 *	each, then holds them idle.  Prints a JSON "held" line once every one is answered or
 *	failed, and writes their local ADDR:PORT to FILE, one a line.  SIGUSR1: one more request
 *	on every held connection, then a JSON "checked" line naming who answered.  SIGINT/SIGTERM:
 *	close everything and exit.  A held connection that closes or resets is counted as lost.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_NAMES 8

enum cstate { CS_FREE, CS_CONNECTING, CS_REPLY, CS_HELD, CS_FAILED };
enum fail { F_CONNECT, F_RESET, F_TIMEOUT, F_BAD_REPLY, F_LOST, F_MAX };
static const char *const fail_name[F_MAX] = { "connect", "reset", "timeout", "bad_reply",
					      "lost_while_held" };

struct conn {
	int fd;
	enum cstate st;
	unsigned char server; /* 1 + index in names[] of who answered last; 0: nobody yet */
	unsigned short len;
	uint64_t t0, deadline;
	char buf[128];
};

static struct {
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int ep, sigfd;
	uint64_t timeout_ns;
	struct conn *c;
	unsigned nc;
	unsigned long fails[F_MAX];
	char last_error[128];
	char names[MAX_NAMES][64];
	unsigned nnames;
	unsigned long per_name[MAX_NAMES]; /* answers per server in the current phase */
} g;

static void fail(struct conn *c, enum fail why, int err)
{
	g.fails[why]++;
	snprintf(g.last_error, sizeof(g.last_error), "%s%s%s", fail_name[why], err ? ": " : "",
		 err ? strerror(err) : "");
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = CS_FAILED;
}

static bool conn_start(struct conn *c, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->len = 0;
	c->t0 = now;
	c->deadline = now + g.timeout_ns;
	c->fd = socket(g.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(c, F_CONNECT, errno);
		return false;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&g.dst, g.dst_len) && errno != EINPROGRESS) {
		fail(c, F_CONNECT, errno);
		return false;
	}
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		fail(c, F_CONNECT, errno);
		return false;
	}
	c->st = CS_CONNECTING;
	return true;
}

/* Sends one request line on a connected socket and waits for the reply. */
static bool conn_request(struct conn *c, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	char line[32];
	int n = snprintf(line, sizeof(line), "conn %u\n", (unsigned)(c - g.c));

	c->len = 0;
	c->deadline = now + g.timeout_ns;
	if (write(c->fd, line, (size_t)n) != n) {
		fail(c, F_RESET, errno);
		return false;
	}
	epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->st = CS_REPLY;
	return true;
}

static unsigned name_index(const char *s, size_t n)
{
	for (unsigned i = 0; i < g.nnames; i++)
		if (strlen(g.names[i]) == n && !memcmp(g.names[i], s, n))
			return i + 1;
	if (g.nnames == MAX_NAMES || n >= sizeof(g.names[0]))
		return 0;
	memcpy(g.names[g.nnames], s, n);
	g.names[g.nnames][n] = '\0';
	return ++g.nnames;
}

/* Reads the reply; true once a whole "NAME: ..." line arrived (then c->server is set). */
static bool conn_reply(struct conn *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl, *colon;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		fail(c, F_RESET, n < 0 ? errno : ECONNRESET);
		return false;
	}
	c->len += (unsigned short)n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (!nl) {
		if (c->len == sizeof(c->buf) - 1)
			fail(c, F_BAD_REPLY, 0);
		return false;
	}
	colon = memchr(c->buf, ':', (size_t)(nl - c->buf));
	if (!colon || colon == c->buf) {
		fail(c, F_BAD_REPLY, 0);
		return false;
	}
	c->server = (unsigned char)name_index(c->buf, (size_t)(colon - c->buf));
	if (c->server)
		g.per_name[c->server - 1]++;
	return true;
}

/* One event on @c; true when its request was answered (it is then idle in CS_REPLY). */
static bool conn_event(struct conn *c, uint32_t events, uint64_t now)
{
	int err = 0;
	socklen_t el = sizeof(err);

	switch (c->st) {
	case CS_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err) {
			fail(c, F_CONNECT, err);
			return false;
		}
		if (events & (EPOLLERR | EPOLLHUP)) {
			fail(c, F_CONNECT, ECONNREFUSED);
			return false;
		}
		conn_request(c, now);
		return false;
	case CS_REPLY:
		return conn_reply(c);
	case CS_HELD:
		/* An idle connection has nothing to say: data, EOF or an error means it broke. */
		fail(c, F_LOST, (events & EPOLLERR) ? ECONNRESET : 0);
		return false;
	default:
		return false;
	}
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = CS_FREE;
}

static void fails_json(void)
{
	unsigned long total = 0;

	for (int i = 0; i < F_MAX; i++) {
		printf("\"%s\":%lu,", fail_name[i], g.fails[i]);
		total += g.fails[i];
	}
	printf("\"failures\":%lu,\"last_error\":\"%s\"", total, total ? g.last_error : "");
}

static int churn(double secs, unsigned conc)
{
	struct epoll_event evs[256];
	uint64_t start = bench_now_ns(), end = start + (uint64_t)(secs * 1e9), now = start;
	uint64_t next_scan = start;
	size_t nlat = 0, caplat = 1 << 16;
	uint32_t *lat = malloc(caplat * sizeof(*lat));
	unsigned long done = 0;

	g.nc = conc;
	g.c = calloc(conc, sizeof(*g.c));
	if (!lat || !g.c)
		return 1;
	for (unsigned i = 0; i < conc; i++)
		g.c[i].fd = -1;
	while (now < end) {
		int n;

		for (unsigned i = 0; i < conc; i++)
			if (g.c[i].st == CS_FREE || g.c[i].st == CS_FAILED)
				conn_start(&g.c[i], now);
		n = epoll_wait(g.ep, evs, 256, 10);
		now = bench_now_ns();
		for (int k = 0; k < n && now < end; k++) {
			struct conn *c = evs[k].data.ptr;

			if (!c) { /* SIGINT/SIGTERM: report what we have */
				end = now;
				break;
			}
			if (!conn_event(c, evs[k].events, now))
				continue;
			if (nlat == caplat) {
				uint32_t *p = realloc(lat, 2 * caplat * sizeof(*lat));

				if (p) {
					lat = p;
					caplat *= 2;
				}
			}
			if (nlat < caplat)
				lat[nlat++] = (uint32_t)((now - c->t0) / 1000);
			done++;
			conn_close(c);
		}
		if (now >= next_scan) {
			for (unsigned i = 0; i < conc; i++)
				if ((g.c[i].st == CS_CONNECTING || g.c[i].st == CS_REPLY) &&
				    now > g.c[i].deadline)
					fail(&g.c[i], F_TIMEOUT, 0);
			next_scan = now + 10000000ull;
		}
	}
	secs = (double)(now - start) / 1e9;
	for (unsigned i = 0; i < conc; i++)
		conn_close(&g.c[i]); /* in flight at the end: neither counted nor failed */
	printf("{\"mode\":\"churn\",\"secs\":%.3f,\"conc\":%u,\"conns\":%lu,\"conns_per_s\":%.1f,",
	       secs, conc, done, secs > 0 ? (double)done / secs : 0.0);
	printf("\"median_us\":%u,\"p99_us\":%u,", bench_pct(lat, nlat, 50),
	       bench_pct(lat, nlat, 99));
	fails_json();
	printf("}\n");
	free(lat);
	return 0;
}

static void names_json(void)
{
	printf("\"servers\":{");
	for (unsigned i = 0; i < g.nnames; i++)
		printf("%s\"%s\":%lu", i ? "," : "", g.names[i], g.per_name[i]);
	printf("}");
}

static int write_ports(const char *path)
{
	FILE *fp = fopen(path, "w");
	char a[64];

	if (!fp) {
		fprintf(stderr, "connrate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < g.nc; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (g.c[i].st == CS_HELD && !getsockname(g.c[i].fd, (struct sockaddr *)&ss, &sl))
			fprintf(fp, "%s\n", bench_addr_fmt((struct sockaddr *)&ss, a, sizeof(a)));
	}
	return fclose(fp) ? -1 : 0;
}

/* Hold mode's phases: open (one request each), then on SIGUSR1 check (one more each). */
static int hold(unsigned n, unsigned conc, const char *ports_file)
{
	struct epoll_event evs[256];
	uint64_t start = bench_now_ns(), now = start, next_scan = start, phase_t0 = start;
	unsigned next = 0, inflight = 0, answered = 0;
	bool checking = false, reported = false;

	g.nc = n;
	g.c = calloc(n, sizeof(*g.c));
	if (!g.c)
		return 1;
	for (unsigned i = 0; i < n; i++)
		g.c[i].fd = -1;
	for (;;) {
		int k, m;

		/* Feed the current phase, CONC connections at a time. */
		for (; next < n && inflight < conc; next++) {
			struct conn *c = &g.c[next];

			if (!checking && conn_start(c, now))
				inflight++;
			else if (checking && c->st == CS_HELD && conn_request(c, now))
				inflight++;
		}
		if (!inflight && next == n && !reported) {
			unsigned held = 0;

			for (unsigned i = 0; i < n; i++)
				held += g.c[i].st == CS_HELD;
			if (!checking && ports_file && write_ports(ports_file))
				return 1;
			printf("{\"phase\":\"%s\",\"conns\":%u,\"%s\":%u,\"secs\":%.3f,",
			       checking ? "checked" : "held", n, checking ? "answered" : "held",
			       checking ? answered : held, (double)(now - phase_t0) / 1e9);
			names_json();
			printf(",");
			fails_json();
			printf("}\n");
			fflush(stdout);
			reported = true;
		}
		m = epoll_wait(g.ep, evs, 256, 50);
		now = bench_now_ns();
		for (k = 0; k < m; k++) {
			struct conn *c = evs[k].data.ptr;
			struct signalfd_siginfo si;

			if (!c) {
				if (read(g.sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo != SIGUSR1)
					goto out;
				if (!reported || checking)
					continue; /* one check, after the open phase */
				checking = true;
				reported = false;
				next = answered = 0;
				phase_t0 = now;
				memset(g.per_name, 0, sizeof(g.per_name));
				continue;
			}
			bool was_busy = c->st == CS_CONNECTING || c->st == CS_REPLY;

			if (conn_event(c, evs[k].events, now)) {
				struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = c };

				/* Idle now: only a hang-up or an error should wake us. */
				epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev);
				c->st = CS_HELD;
				answered++;
			}
			if (was_busy && c->st != CS_CONNECTING && c->st != CS_REPLY)
				inflight--;
		}
		if (inflight && now >= next_scan) {
			for (unsigned i = 0; i < n; i++)
				if ((g.c[i].st == CS_CONNECTING || g.c[i].st == CS_REPLY) &&
				    now > g.c[i].deadline) {
					fail(&g.c[i], F_TIMEOUT, 0);
					inflight--;
				}
			next_scan = now + 50000000ull;
		}
	}
out:
	for (unsigned i = 0; i < n; i++)
		conn_close(&g.c[i]);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: connrate ADDR PORT [-t SECS] [-c CONC] [-T TIMEOUT_MS]\n"
		"       connrate ADDR PORT --hold N [-c CONC] [-T TIMEOUT_MS] [-p PORTS_FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "secs", required_argument, NULL, 't' },
					      { "conc", required_argument, NULL, 'c' },
					      { "timeout-ms", required_argument, NULL, 'T' },
					      { "hold", required_argument, NULL, 'H' },
					      { "ports-file", required_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	unsigned long secs = 5, conc = 128, tmo = 5000, nhold = 0;
	const char *ports_file = NULL;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	sigset_t ss;
	int o;

	while ((o = getopt_long(argc, argv, "t:c:T:H:p:h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (!bench_uint_arg("--secs", optarg, 1, 3600, &secs))
				return 2;
			break;
		case 'c':
			if (!bench_uint_arg("--conc", optarg, 1, 100000, &conc))
				return 2;
			break;
		case 'T':
			if (!bench_uint_arg("--timeout-ms", optarg, 1, 600000, &tmo))
				return 2;
			break;
		case 'H':
			if (!bench_uint_arg("--hold", optarg, 1, 1000000, &nhold))
				return 2;
			break;
		case 'p':
			ports_file = optarg;
			break;
		default:
			usage();
			return o == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 2) {
		usage();
		return 2;
	}
	if (!bench_addr_parse(argv[optind], argv[optind + 1], &g.dst, &g.dst_len))
		return 2;
	g.timeout_ns = tmo * 1000000ull;
	if (bench_nofile((nhold ? nhold : conc) + 64))
		fprintf(stderr, "connrate: cannot raise RLIMIT_NOFILE: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	g.sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (g.sigfd < 0 || g.ep < 0 || epoll_ctl(g.ep, EPOLL_CTL_ADD, g.sigfd, &ev)) {
		fprintf(stderr, "connrate: %s\n", strerror(errno));
		return 1;
	}
	if (nhold)
		return hold((unsigned)nhold, (unsigned)conc, ports_file);
	return churn((double)secs, (unsigned)conc);
}
