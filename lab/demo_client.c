/* demo_client: the lab's TCP client; checks every reply and exits 0 only if all arrived. */
#include "demo_bulk.h"
#include "demo_common.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define REPLY_BUF 4096
#define CHUNK	  65536

enum conn_state {
	ST_CONNECTING,
	ST_WAIT_REPLY, /* a request is out, its reply not complete yet */
	ST_PAUSE,      /* between requests (--interval) */
	ST_HOLD,       /* all requests answered, --hold: idle until stop */
	ST_DONE,
	ST_FAILED,
};

struct cconn {
	int fd;
	unsigned idx;
	enum conn_state st;
	uint64_t sent, answered;
	int64_t deadline; /* connect/reply timeout, or when to send the next request */
	char in[REPLY_BUF];
	size_t in_len;
	char out[512];
	size_t out_len, out_off;
	char first_server[64], last_server[64];
	unsigned switches; /* times the answering server changed */
	char err[160];
};

static struct {
	const char *host, *port, *bind_addr, *message, *seed;
	uint64_t count;
	bool forever, hold, quiet, verbose;
	uint64_t interval_ms, timeout_ms;
	unsigned nconns;
	uint64_t bulk_send, expect_bytes;
	bool bulk_recv, have_expect;
	uint64_t gen_bytes;
	bool gen;
	struct sockaddr_storage dst, src;
	socklen_t dst_len, src_len;
	int epfd, sigfd;
	bool watch_stdin, stop;
	const char *stop_why;
} cl;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: demo_client [options] HOST [PORT]          (PORT default %d)\n"
	    "request mode (default): send \"MESSAGE i\" lines, expect \"NAME: MESSAGE i (#k)\"\n"
	    "  --count N        requests per connection (default 5; 0 = none, e.g. with --hold)\n"
	    "  --forever        requests until stdin closes or SIGINT/SIGTERM\n"
	    "  --interval MS    pause between requests (default 200)\n"
	    "  --message TEXT   request text (default \"hello\")\n"
	    "  --hold           after the requests keep the connection(s) open until stdin closes\n"
	    "                   or SIGINT/SIGTERM (stdin /dev/null: signal only); a peer close\n"
	    "                   or reset while holding is a failure\n"
	    "  --conns K        K concurrent connections, each doing the same; prints a summary\n"
	    "  --quiet | --verbose   fewer / more lines (K>1 prints replies only with --verbose)\n"
	    "bulk modes (one connection):\n"
	    "  --bulk-send BYTES   send BYTES of the test stream (--seed, default \"client\"),\n"
	    "                      half-close, expect demo_server --bulk's sha256 line; compare\n"
	    "  --bulk-recv         read until EOF (demo_server --source N); with --seed S check\n"
	    "                      every byte against the stream, with --expect-bytes N the "
	    "length\n"
	    "  --gen BYTES         write BYTES of the test stream (--seed) to stdout; no network\n"
	    "common: --timeout MS (connect, each reply, bulk progress; default 5000),\n"
	    "        --bind ADDR (local address).  BYTES take K/M/G (1024-based).\n"
	    "exit status: 0 all good, 1 a failure (reply missing/wrong, timeout, reset, "
	    "mismatch),\n"
	    "             2 usage\n",
	    DEMO_DEFAULT_PORT);
}

/* --- connections ------------------------------------------------------------------------- */

static void conn_fail(struct cconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_fail(struct cconn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->st = ST_FAILED;
	if (c->fd >= 0) {
		epoll_ctl(cl.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (!cl.quiet || cl.nconns == 1)
		fprintf(stderr, "demo_client: conn %u: %s\n", c->idx, c->err);
}

static void conn_finish(struct cconn *c)
{
	c->st = ST_DONE;
	if (c->fd >= 0) {
		epoll_ctl(cl.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

static int conn_open(struct cconn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	int one = 1;

	c->fd = socket(cl.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cl.bind_addr && bind(c->fd, (struct sockaddr *)&cl.src, cl.src_len)) {
		conn_fail(c, "bind %s: %s", cl.bind_addr, strerror(errno));
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&cl.dst, cl.dst_len) && errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		return -1;
	}
	c->st = ST_CONNECTING;
	c->deadline = demo_now_ms() + (int64_t)cl.timeout_ms;
	if (epoll_ctl(cl.epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void conn_set_events(struct cconn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};

	if (c->out_off < c->out_len)
		ev.events |= EPOLLOUT;
	epoll_ctl(cl.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool more_requests(const struct cconn *c)
{
	return !cl.stop && (cl.forever || c->sent < cl.count);
}

static void conn_flush(struct cconn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0) {
			if (errno != EAGAIN)
				conn_fail(c, "write request %llu: %s", (unsigned long long)c->sent,
					  strerror(errno));
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->st != ST_FAILED)
		conn_set_events(c);
}

static void conn_send_next(struct cconn *c)
{
	int n;

	c->sent++;
	n = snprintf(c->out, sizeof(c->out), "%s %llu\n", cl.message, (unsigned long long)c->sent);
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->st = ST_WAIT_REPLY;
	c->deadline = demo_now_ms() + (int64_t)cl.timeout_ms;
	conn_flush(c);
}

/* Nothing more to send: hold, or close. */
static void conn_idle(struct cconn *c)
{
	if (cl.hold && !cl.stop) {
		c->st = ST_HOLD;
		c->deadline = INT64_MAX;
	} else {
		conn_finish(c);
	}
}

/* One complete reply line for request c->sent. */
static void conn_reply(struct cconn *c, char *line)
{
	char want[400], name[64];
	const char *colon, *tail;
	size_t nlen, wlen;

	if (c->st != ST_WAIT_REPLY) {
		conn_fail(c, "unexpected data from server: '%.80s'", line);
		return;
	}
	/* "NAME: MESSAGE i (#k)" */
	snprintf(want, sizeof(want), ": %s %llu (#", cl.message, (unsigned long long)c->sent);
	colon = strstr(line, want);
	wlen = strlen(want);
	tail = colon ? colon + wlen : NULL;
	if (!colon || colon == line || !*tail || strspn(tail, "0123456789") != strlen(tail) - 1 ||
	    tail[strlen(tail) - 1] != ')') {
		conn_fail(c, "bad reply to request %llu: '%.120s'", (unsigned long long)c->sent,
			  line);
		return;
	}
	nlen = (size_t)(colon - line);
	if (nlen >= sizeof(name))
		nlen = sizeof(name) - 1;
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	if (!c->first_server[0])
		snprintf(c->first_server, sizeof(c->first_server), "%s", name);
	else if (strcmp(name, c->last_server))
		c->switches++;
	snprintf(c->last_server, sizeof(c->last_server), "%s", name);
	c->answered++;
	if (cl.verbose || (cl.nconns == 1 && !cl.quiet)) {
		if (cl.nconns > 1)
			printf("[%u] %s\n", c->idx, line);
		else
			printf("%s\n", line);
		fflush(stdout);
	}
	if (!more_requests(c)) {
		conn_idle(c);
	} else if (cl.interval_ms == 0) {
		conn_send_next(c);
	} else {
		c->st = ST_PAUSE;
		c->deadline = demo_now_ms() + (int64_t)cl.interval_ms;
	}
}

static void conn_read(struct cconn *c)
{
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
		if (n < 0) {
			if (errno != EAGAIN)
				conn_fail(c, "connection error after %llu replies: %s",
					  (unsigned long long)c->answered, strerror(errno));
			return;
		}
		if (n == 0) {
			conn_fail(c, "server closed the connection after %llu replies%s",
				  (unsigned long long)c->answered,
				  c->st == ST_WAIT_REPLY ? " (request outstanding)" : "");
			return;
		}
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		while ((nl = memchr(c->in, '\n', c->in_len))) {
			size_t len = (size_t)(nl - c->in);

			*nl = '\0';
			if (len && c->in[len - 1] == '\r')
				c->in[len - 1] = '\0';
			conn_reply(c, c->in);
			if (c->st == ST_FAILED)
				return;
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
			c->in[c->in_len] = '\0';
			if (c->fd < 0)
				return;
		}
		if (c->in_len >= sizeof(c->in) - 1) {
			conn_fail(c, "reply line longer than %d bytes", REPLY_BUF);
			return;
		}
	}
}

static void conn_event(struct cconn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->st == ST_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			conn_fail(c, "connect to %s port %s: %s", cl.host, cl.port, strerror(err));
			return;
		}
		if (more_requests(c))
			conn_send_next(c);
		else {
			conn_set_events(c);
			conn_idle(c);
		}
		return;
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->st != ST_FAILED && c->fd >= 0 &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		conn_read(c);
}

static void conn_timer(struct cconn *c, int64_t now)
{
	if (now < c->deadline)
		return;
	switch (c->st) {
	case ST_CONNECTING:
		conn_fail(c, "connect to %s port %s: no answer within %llu ms", cl.host, cl.port,
			  (unsigned long long)cl.timeout_ms);
		break;
	case ST_WAIT_REPLY:
		conn_fail(c, "no reply to request %llu within %llu ms", (unsigned long long)c->sent,
			  (unsigned long long)cl.timeout_ms);
		break;
	case ST_PAUSE:
		if (more_requests(c))
			conn_send_next(c);
		else
			conn_idle(c);
		break;
	default:
		break;
	}
}

/* Stop asked (signal, stdin EOF): idle connections close now, busy ones finish their reply. */
static void conns_stop(struct cconn *cs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (cs[i].st == ST_HOLD || cs[i].st == ST_PAUSE)
			conn_finish(&cs[i]);
		else if (cs[i].st == ST_CONNECTING)
			conn_fail(&cs[i], "stopped (%s) before the connection was up", cl.stop_why);
	}
}

static void handle_stop_sources(struct epoll_event *ev, struct cconn *cs)
{
	struct signalfd_siginfo si;
	char buf[4096];
	ssize_t n;

	if (ev->data.ptr == &cl.sigfd) {
		if (read(cl.sigfd, &si, sizeof(si)) == sizeof(si)) {
			cl.stop = true;
			cl.stop_why = strsignal((int)si.ssi_signo);
		}
	} else { /* stdin: data is ignored, EOF stops */
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			cl.stop = true;
			cl.stop_why = "stdin closed";
			epoll_ctl(cl.epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		}
	}
	(void)cs;
}

/* Watch stdin for EOF only where that means something: not /dev/null (a background job). */
static void watch_stdin(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cl.watch_stdin};
	struct stat st, devnull;

	if (fstat(STDIN_FILENO, &st))
		return;
	if (S_ISCHR(st.st_mode) && stat("/dev/null", &devnull) == 0 &&
	    st.st_rdev == devnull.st_rdev)
		return;
	if (epoll_ctl(cl.epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0)
		cl.watch_stdin = true;
}

static int run_requests(void)
{
	struct cconn *cs;
	struct epoll_event evs[256];
	unsigned i, alive, ok = 0, failed = 0;
	uint64_t sent = 0, answered = 0;
	int64_t now, next;
	int n, k, timeout;
	bool stop_applied = false;

	cs = calloc(cl.nconns, sizeof(*cs));
	if (!cs) {
		fprintf(stderr, "demo_client: out of memory\n");
		return 1;
	}
	if (cl.hold || cl.forever)
		watch_stdin();
	for (i = 0; i < cl.nconns; i++) {
		cs[i].idx = i + 1;
		cs[i].fd = -1;
		conn_open(&cs[i]);
	}
	for (;;) {
		if (cl.stop && !stop_applied) {
			conns_stop(cs, cl.nconns);
			stop_applied = true;
		}
		now = demo_now_ms();
		next = INT64_MAX;
		alive = 0;
		for (i = 0; i < cl.nconns; i++) {
			if (cs[i].st == ST_DONE || cs[i].st == ST_FAILED)
				continue;
			conn_timer(&cs[i], now);
			if (cs[i].st == ST_DONE || cs[i].st == ST_FAILED)
				continue;
			alive++;
			if (cs[i].deadline < next)
				next = cs[i].deadline;
		}
		if (!alive)
			break;
		if (next == INT64_MAX)
			timeout = -1;
		else
			timeout = next - now > INT_MAX ? INT_MAX : (int)(next - now);
		if (timeout < 0 && next != INT64_MAX)
			timeout = 0;
		n = epoll_wait(cl.epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "demo_client: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			if (evs[k].data.ptr == &cl.sigfd || evs[k].data.ptr == &cl.watch_stdin) {
				handle_stop_sources(&evs[k], cs);
				if (cl.stop && !cl.hold && !cl.forever) {
					fprintf(stderr, "demo_client: interrupted (%s)\n",
						cl.stop_why);
					return 1;
				}
				continue;
			}
			struct cconn *c = evs[k].data.ptr;

			if (c->st != ST_DONE && c->st != ST_FAILED)
				conn_event(c, evs[k].events);
		}
	}

	/* Report. */
	struct {
		char name[64];
		unsigned n;
	} by[16];
	unsigned nby = 0, switched = 0, j;

	for (i = 0; i < cl.nconns; i++) {
		sent += cs[i].sent;
		answered += cs[i].answered;
		if (cs[i].st == ST_DONE && cs[i].answered == cs[i].sent)
			ok++;
		else
			failed++;
		if (cs[i].switches)
			switched++;
		if (!cs[i].last_server[0])
			continue;
		for (j = 0; j < nby && strcmp(by[j].name, cs[i].last_server); j++)
			;
		if (j == nby && nby < 16) {
			snprintf(by[nby].name, sizeof(by[nby].name), "%s", cs[i].last_server);
			by[nby++].n = 0;
		}
		if (j < nby)
			by[j].n++;
	}
	if (cl.nconns == 1) {
		if (!cl.quiet) {
			fprintf(stderr, "demo_client: %llu/%llu replies",
				(unsigned long long)answered, (unsigned long long)sent);
			if (cs[0].switches)
				fprintf(stderr, ", server changed %u time(s): first %s, last %s",
					cs[0].switches, cs[0].first_server, cs[0].last_server);
			else if (cs[0].last_server[0])
				fprintf(stderr, ", all from %s", cs[0].last_server);
			fprintf(stderr, "%s\n", failed ? " -- FAILED" : "");
		}
	} else {
		printf("conns %u: %u ok, %u failed; requests %llu sent, %llu answered; "
		       "last reply from:",
		       cl.nconns, ok, failed, (unsigned long long)sent,
		       (unsigned long long)answered);
		for (j = 0; j < nby; j++)
			printf(" %s=%u", by[j].name, by[j].n);
		printf("; %u changed server\n", switched);
		if (failed && cl.quiet) {
			for (i = 0, j = 0; i < cl.nconns && j < 5; i++)
				if (cs[i].st == ST_FAILED) {
					fprintf(stderr, "demo_client: conn %u: %s\n", cs[i].idx,
						cs[i].err);
					j++;
				}
		}
		fflush(stdout);
	}
	free(cs);
	return failed ? 1 : 0;
}

/* --- bulk --------------------------------------------------------------------------------- */

/* A connected blocking-free socket for bulk modes, or -1. */
static int bulk_connect(void)
{
	struct pollfd p;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(cl.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "demo_client: socket: %s\n", strerror(errno));
		return -1;
	}
	if (cl.bind_addr && bind(fd, (struct sockaddr *)&cl.src, cl.src_len)) {
		fprintf(stderr, "demo_client: bind %s: %s\n", cl.bind_addr, strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&cl.dst, cl.dst_len) && errno != EINPROGRESS) {
		fprintf(stderr, "demo_client: connect to %s port %s: %s\n", cl.host, cl.port,
			strerror(errno));
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, (int)cl.timeout_ms) <= 0) {
		fprintf(stderr, "demo_client: connect to %s port %s: no answer within %llu ms\n",
			cl.host, cl.port, (unsigned long long)cl.timeout_ms);
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		fprintf(stderr, "demo_client: connect to %s port %s: %s\n", cl.host, cl.port,
			strerror(err));
		close(fd);
		return -1;
	}
	return fd;
}

static int run_bulk(void)
{
	struct demo_bulk b = {
	    .sigfd = cl.sigfd,
	    .timeout_ms = cl.timeout_ms,
	    .seed = cl.seed,
	    .bytes = cl.bulk_send ? cl.bulk_send : cl.expect_bytes,
	    .have_expect = cl.have_expect,
	};
	int rc;

	b.fd = bulk_connect();
	if (b.fd < 0)
		return 1;
	rc = cl.bulk_send ? demo_bulk_send(&b) : demo_bulk_recv(&b);
	close(b.fd);
	return rc;
}

/* --- main ---------------------------------------------------------------------------------- */

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static bool opt_uint(const char *name, const char *arg, uint64_t max, uint64_t *out)
{
	if (demo_parse_uint(arg, max, out))
		return true;
	fprintf(stderr, "demo_client: bad %s '%s' (want 0..%llu)\n", name, arg,
		(unsigned long long)max);
	return false;
}

static bool opt_size(const char *name, const char *arg, uint64_t *out)
{
	if (demo_parse_size(arg, out))
		return true;
	fprintf(stderr, "demo_client: bad %s '%s' (bytes, K/M/G)\n", name, arg);
	return false;
}

int main(int argc, char **argv)
{
	enum {
		O_COUNT = 256,
		O_FOREVER,
		O_INTERVAL,
		O_MESSAGE,
		O_HOLD,
		O_CONNS,
		O_QUIET,
		O_VERBOSE,
		O_BSEND,
		O_BRECV,
		O_EXPECT,
		O_GEN,
		O_SEED,
		O_TIMEOUT,
		O_BIND,
		O_HELP,
	};
	static const struct option opts[] = {
	    {"count", required_argument, NULL, O_COUNT},
	    {"forever", no_argument, NULL, O_FOREVER},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"message", required_argument, NULL, O_MESSAGE},
	    {"hold", no_argument, NULL, O_HOLD},
	    {"conns", required_argument, NULL, O_CONNS},
	    {"quiet", no_argument, NULL, O_QUIET},
	    {"verbose", no_argument, NULL, O_VERBOSE},
	    {"bulk-send", required_argument, NULL, O_BSEND},
	    {"bulk-recv", no_argument, NULL, O_BRECV},
	    {"expect-bytes", required_argument, NULL, O_EXPECT},
	    {"gen", required_argument, NULL, O_GEN},
	    {"seed", required_argument, NULL, O_SEED},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"bind", required_argument, NULL, O_BIND},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	char portbuf[16];
	uint64_t v;
	int opt, modes;
	struct epoll_event ev;

	cl.count = 5;
	cl.interval_ms = 200;
	cl.timeout_ms = 5000;
	cl.message = "hello";
	cl.nconns = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_COUNT:
			if (!opt_uint("--count", optarg, UINT32_MAX, &cl.count))
				return 2;
			break;
		case O_FOREVER:
			cl.forever = true;
			break;
		case O_INTERVAL:
			if (!opt_uint("--interval", optarg, 86400000, &cl.interval_ms))
				return 2;
			break;
		case O_MESSAGE:
			if (strlen(optarg) > 200 || strpbrk(optarg, "\r\n")) {
				fprintf(stderr,
					"demo_client: --message: one line of at most 200 bytes\n");
				return 2;
			}
			cl.message = optarg;
			break;
		case O_HOLD:
			cl.hold = true;
			break;
		case O_CONNS:
			if (!opt_uint("--conns", optarg, 100000, &v) || v == 0)
				return 2;
			cl.nconns = (unsigned)v;
			break;
		case O_QUIET:
			cl.quiet = true;
			break;
		case O_VERBOSE:
			cl.verbose = true;
			break;
		case O_BSEND:
			if (!opt_size("--bulk-send", optarg, &cl.bulk_send))
				return 2;
			break;
		case O_BRECV:
			cl.bulk_recv = true;
			break;
		case O_EXPECT:
			if (!opt_size("--expect-bytes", optarg, &cl.expect_bytes))
				return 2;
			cl.have_expect = true;
			break;
		case O_GEN:
			if (!opt_size("--gen", optarg, &cl.gen_bytes))
				return 2;
			cl.gen = true;
			break;
		case O_SEED:
			cl.seed = optarg;
			break;
		case O_TIMEOUT:
			if (!opt_uint("--timeout", optarg, 86400000, &cl.timeout_ms) ||
			    cl.timeout_ms == 0)
				return 2;
			break;
		case O_BIND:
			cl.bind_addr = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	modes = (cl.bulk_send > 0) + cl.bulk_recv + cl.gen;
	if (modes > 1) {
		fprintf(stderr,
			"demo_client: --bulk-send, --bulk-recv and --gen exclude each other\n");
		return 2;
	}
	if (cl.gen)
		return optind == argc ? demo_gen(cl.gen_bytes, cl.seed) : 2;
	if (optind >= argc || argc - optind > 2) {
		usage(stderr);
		return 2;
	}
	if (modes && cl.nconns > 1) {
		fprintf(stderr, "demo_client: bulk modes use one connection (no --conns)\n");
		return 2;
	}
	cl.host = argv[optind];
	if (optind + 1 < argc) {
		if (!opt_uint("PORT", argv[optind + 1], 65535, &v))
			return 2;
		cl.port = argv[optind + 1];
	} else {
		snprintf(portbuf, sizeof(portbuf), "%d", DEMO_DEFAULT_PORT);
		cl.port = portbuf;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "demo_client: libsodium init failed\n");
		return 1;
	}
	if (demo_resolve(cl.host, cl.port, false, &cl.dst, &cl.dst_len))
		return 1;
	if (cl.bind_addr && demo_resolve(cl.bind_addr, "0", false, &cl.src, &cl.src_len))
		return 1;
	if (cl.bind_addr && cl.src.ss_family != cl.dst.ss_family) {
		fprintf(stderr, "demo_client: --bind %s and %s are not the same address family\n",
			cl.bind_addr, cl.host);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	demo_raise_nofile();
	cl.sigfd = make_signalfd();
	if (cl.sigfd < 0) {
		fprintf(stderr, "demo_client: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (cl.bulk_send || cl.bulk_recv)
		return run_bulk();

	cl.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cl.epfd < 0) {
		fprintf(stderr, "demo_client: epoll_create1: %s\n", strerror(errno));
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &cl.sigfd;
	epoll_ctl(cl.epfd, EPOLL_CTL_ADD, cl.sigfd, &ev);
	return run_requests();
}
