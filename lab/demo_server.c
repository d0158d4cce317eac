/* demo_server: the lab's TCP server; each reply names the server, so a client sees who answered. */
#include "demo_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

enum srv_mode {
	MODE_LINES,  /* "<name>: <request> (#k)" per request line */
	MODE_SINK,   /* --bulk: read everything, answer sha256 hex at the peer's FIN */
	MODE_SOURCE, /* --source N: send N stream bytes, then FIN */
};

#define OUT_MAX (4u << 20) /* stop reading a peer that does not read its replies */
#define CHUNK	65536

struct conn {
	int fd;
	char peer[64];
	uint64_t requests;
	uint64_t bytes_in, bytes_out;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool peer_eof, wr_shut, reading;
	uint64_t src_off; /* MODE_SOURCE: stream bytes queued so far */
	crypto_hash_sha256_state sha;
};

static struct {
	const char *name;
	enum srv_mode mode;
	uint64_t source_bytes;
	uint64_t seed;
	bool quiet;
	unsigned delay_ms; /* --delay: a slow application, think time before every reply */
	int epfd;
	unsigned nconns;
	uint64_t total_conns;
} srv;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: demo_server [--name NAME] [--listen ADDR] [--port PORT]\n"
	    "                   [--bulk | --source BYTES [--seed STR]] [--delay MS] [--quiet]\n"
	    "  default: line mode, each request line gets \"NAME: <request> (#k)\" (k = request\n"
	    "           number on that connection)\n"
	    "  --delay MS: line mode, think MS before each reply (the whole server waits:\n"
	    "           an application that acknowledged-by-kernel requests answers late)\n"
	    "  --bulk:  sink; when the peer half-closes, answer the sha256 hex of all bytes "
	    "received\n"
	    "  --source BYTES: send BYTES of the test stream seeded with --seed (default NAME),\n"
	    "           then half-close; input is discarded.  BYTES takes K/M/G (1024-based)\n"
	    "  --listen ADDR: IPv4 or IPv6 address (default :: , which also takes IPv4)\n"
	    "  defaults: --name server --port %d\n",
	    DEMO_DEFAULT_PORT);
}

static void logc(const struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logc(const struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (srv.quiet)
		return;
	printf("%s: %s: ", srv.name, c->peer);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int out_reserve(struct conn *c, size_t n)
{
	char *p;
	size_t cap;

	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n <= c->out_cap)
		return 0;
	if (c->out_off) { /* compact before growing */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + n <= c->out_cap)
			return 0;
	}
	cap = c->out_cap ? c->out_cap : 4096;
	while (cap < c->out_len + n)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

static int out_append(struct conn *c, const char *data, size_t n)
{
	if (out_reserve(c, n))
		return -ENOMEM;
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

static void conn_update_events(struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};
	bool pending = c->out_len > c->out_off;

	/* In source mode there is always more to write until the stream is done. */
	if (srv.mode == MODE_SOURCE && c->src_off < srv.source_bytes)
		pending = true;
	c->reading = !c->peer_eof && (c->out_len - c->out_off) < OUT_MAX;
	if (c->reading)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (pending)
		ev.events |= EPOLLOUT;
	epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c, const char *why)
{
	logc(c, "close (%s): %llu requests, %llu bytes in, %llu bytes out", why,
	     (unsigned long long)c->requests, (unsigned long long)c->bytes_in,
	     (unsigned long long)c->bytes_out);
	epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	srv.nconns--;
}

/* Line mode: answer every complete line in c->in.  Returns 0 or -errno. */
static int serve_lines(struct conn *c)
{
	size_t start = 0, i, len;
	char head[128];
	int n;

	for (i = 0; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		len = i - start;
		if (len && c->in[start + len - 1] == '\r')
			len--;
		c->requests++;
		if (srv.delay_ms) {
			struct timespec ts = { srv.delay_ms / 1000, (long)(srv.delay_ms % 1000) * 1000000 };

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		n = snprintf(head, sizeof(head), "%s: ", srv.name);
		if (out_reserve(c, (size_t)n + len + 32))
			return -ENOMEM;
		out_append(c, head, (size_t)n);
		out_append(c, c->in + start, len);
		n = snprintf(head, sizeof(head), " (#%llu)\n", (unsigned long long)c->requests);
		out_append(c, head, (size_t)n);
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len >= DEMO_MAX_LINE)
		return -EMSGSIZE;
	return 0;
}

static int conn_read(struct conn *c)
{
	char buf[CHUNK];
	ssize_t n;
	int rc;

	for (;;) {
		if (srv.mode == MODE_LINES) {
			size_t room = DEMO_MAX_LINE - c->in_len;

			n = read(c->fd, c->in + c->in_len, room);
		} else {
			n = read(c->fd, buf, sizeof(buf));
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			c->peer_eof = true;
			break;
		}
		c->bytes_in += (uint64_t)n;
		if (srv.mode == MODE_LINES) {
			c->in_len += (size_t)n;
			rc = serve_lines(c);
			if (rc)
				return rc;
			if (c->out_len - c->out_off >= OUT_MAX)
				return 0; /* let the peer read first */
		} else if (srv.mode == MODE_SINK) {
			crypto_hash_sha256_update(&c->sha, (const unsigned char *)buf, (size_t)n);
		}
	}
	if (srv.mode == MODE_SINK) {
		uint8_t digest[crypto_hash_sha256_BYTES];
		char hex[DEMO_HEX_LEN + 2];

		crypto_hash_sha256_final(&c->sha, digest);
		demo_hex(digest, sizeof(digest), hex);
		logc(c, "received %llu bytes, sha256 %s", (unsigned long long)c->bytes_in, hex);
		strcat(hex, "\n");
		return out_append(c, hex, strlen(hex));
	}
	if (srv.mode == MODE_LINES && c->in_len)
		logc(c, "peer closed with %zu bytes of an unterminated line (ignored)", c->in_len);
	return 0;
}

/* Write what is pending; in source mode generate more stream first.  Returns 0 or -errno. */
static int conn_write(struct conn *c)
{
	ssize_t n;
	size_t want;

	for (;;) {
		if (srv.mode == MODE_SOURCE && c->out_len == c->out_off &&
		    c->src_off < srv.source_bytes) {
			want = srv.source_bytes - c->src_off;
			if (want > CHUNK)
				want = CHUNK;
			c->out_off = c->out_len = 0;
			if (out_reserve(c, want))
				return -ENOMEM;
			demo_stream_fill(srv.seed, c->src_off, (uint8_t *)c->out, want);
			c->out_len = want;
			c->src_off += want;
		}
		if (c->out_len == c->out_off)
			return 0;
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->out_off += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
}

/* After I/O: half-close when our side is done, close when both sides are. */
static void conn_progress(struct conn *c)
{
	bool drained = c->out_len == c->out_off;
	bool done_sending;

	if (srv.mode == MODE_SOURCE)
		done_sending = drained && c->src_off >= srv.source_bytes;
	else
		done_sending = drained && c->peer_eof;
	if (done_sending && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
		if (srv.mode == MODE_SOURCE)
			logc(c, "sent %llu stream bytes, half-closed",
			     (unsigned long long)c->bytes_out);
	}
	if (c->wr_shut && c->peer_eof) {
		conn_close(c, "done");
		return;
	}
	conn_update_events(c);
}

static void conn_event(struct conn *c, uint32_t events)
{
	int rc = 0;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		rc = conn_read(c);
	if (!rc && (events & (EPOLLOUT | EPOLLIN | EPOLLHUP)))
		rc = conn_write(c);
	if (rc) {
		conn_close(c, strerror(-rc));
		return;
	}
	conn_progress(c);
}

static void accept_all(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct conn *c;
	struct epoll_event ev;
	int fd, one = 1;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
				fprintf(stderr, "%s: accept: %s\n", srv.name, strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c || (srv.mode == MODE_LINES && !(c->in = malloc(DEMO_MAX_LINE)))) {
			free(c);
			close(fd);
			fprintf(stderr, "%s: out of memory\n", srv.name);
			continue;
		}
		c->fd = fd;
		demo_fmt_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
		if (srv.mode == MODE_LINES)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (srv.mode == MODE_SINK)
			crypto_hash_sha256_init(&c->sha);
		ev.events = EPOLLIN | EPOLLRDHUP | (srv.mode == MODE_SOURCE ? EPOLLOUT : 0);
		ev.data.ptr = c;
		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev)) {
			fprintf(stderr, "%s: epoll_ctl: %s\n", srv.name, strerror(errno));
			close(fd);
			free(c->in);
			free(c);
			continue;
		}
		srv.nconns++;
		srv.total_conns++;
		logc(c, "accepted (%u open)", srv.nconns);
	}
}

static int listen_on(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;
	char buf[80];

	if (demo_resolve(addr, port, true, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", srv.name, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4096)) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", srv.name,
			demo_fmt_addr((struct sockaddr *)&ss, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return -1;
	}
	printf("%s: listening on %s (%s mode)\n", srv.name,
	       demo_fmt_addr((struct sockaddr *)&ss, buf, sizeof(buf)),
	       srv.mode == MODE_LINES  ? "line"
	       : srv.mode == MODE_SINK ? "bulk sink"
				       : "source");
	fflush(stdout);
	return fd;
}

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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"listen", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {"bulk", no_argument, NULL, 'b'},
	    {"source", required_argument, NULL, 's'},
	    {"seed", required_argument, NULL, 'S'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"delay", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen_addr = "::", *port = NULL, *seed = NULL;
	char portbuf[16];
	struct epoll_event evs[256], ev;
	int lfd, sfd, n, i, opt;
	uint64_t v;

	srv.name = "server";
	while ((opt = getopt_long(argc, argv, "n:l:p:bs:S:qd:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			srv.name = optarg;
			break;
		case 'l':
			listen_addr = optarg;
			break;
		case 'p':
			if (!demo_parse_uint(optarg, 65535, &v)) {
				fprintf(stderr, "demo_server: bad --port '%s'\n", optarg);
				return 2;
			}
			port = optarg;
			break;
		case 'b':
			srv.mode = MODE_SINK;
			break;
		case 's':
			if (!demo_parse_size(optarg, &srv.source_bytes)) {
				fprintf(stderr, "demo_server: bad --source '%s' (bytes, K/M/G)\n",
					optarg);
				return 2;
			}
			srv.mode = MODE_SOURCE;
			break;
		case 'S':
			seed = optarg;
			break;
		case 'q':
			srv.quiet = true;
			break;
		case 'd':
			if (!demo_parse_uint(optarg, 60000, &v)) {
				fprintf(stderr, "demo_server: bad --delay '%s' (0..60000 ms)\n", optarg);
				return 2;
			}
			srv.delay_ms = (unsigned)v;
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
		fprintf(stderr, "demo_server: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!port) {
		snprintf(portbuf, sizeof(portbuf), "%d", DEMO_DEFAULT_PORT);
		port = portbuf;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "demo_server: libsodium init failed\n");
		return 1;
	}
	srv.seed = demo_stream_seed(seed ? seed : srv.name);
	signal(SIGPIPE, SIG_IGN);
	demo_raise_nofile();

	lfd = listen_on(listen_addr, port);
	if (lfd < 0)
		return 1;
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = make_signalfd();
	if (srv.epfd < 0 || sfd < 0) {
		fprintf(stderr, "%s: epoll/signalfd: %s\n", srv.name, strerror(errno));
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &lfd;
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sfd;
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, sfd, &ev);

	for (;;) {
		n = epoll_wait(srv.epfd, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: epoll_wait: %s\n", srv.name, strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd) {
				accept_all(lfd);
			} else if (evs[i].data.ptr == &sfd) {
				printf("%s: exiting on signal: %llu connections served, %u open\n",
				       srv.name, (unsigned long long)srv.total_conns, srv.nconns);
				return 0;
			} else {
				conn_event(evs[i].data.ptr, evs[i].events);
			}
		}
	}
}
