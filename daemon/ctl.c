/* Control socket: root-only unix stream socket, one request line in, one JSON answer out (ctlproto.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "tcpmigd.h"

struct ctl_conn {
	int fd;
	size_t len;
	bool waiting; /* a migrate in progress answers later */
	struct flow *flow;
	struct ctl_conn *next;
	char buf[TM_CTL_MAX_REQ];
};

static int lfd = -1;
static struct ctl_conn *conns;
/* Closed connections are freed only after the current epoll batch: an event for them may still
 * be pending in that batch (a handoff can finish while its requester's event waits). */
static struct ctl_conn *dead;

static bool ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return false;
	}
	strcpy(sa->sun_path, path);
	return true;
}

/* A stale socket of a dead daemon: connect() tells whether someone still listens.  Called before
 * the daemon touches queue, rules or fast path: a second daemon must not disturb the first. */
int ctl_probe(const char *path)
{
	struct sockaddr_un sa;
	int probe;

	if (!ctl_addr(path, &sa))
		return -1;
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_warnx("another tcpmigd is listening on %s", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	return 0;
}

/* Opened last at start-up: once the socket exists the daemon is ready (rules in, fast path on). */
int ctl_open(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;

	if (ctl_probe(path) || !ctl_addr(path, &sa))
		return -1;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	unlink(path);
	old = umask(0077);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		log_warn("bind %s", path);
		return -1;
	}
	umask(old);
	chmod(path, 0600);
	if (listen(lfd, 64) < 0) {
		log_warn("listen %s", path);
		return -1;
	}
	return 0;
}

int ctl_fd(void)
{
	return lfd;
}

static void conn_free(struct ctl_conn *cc)
{
	struct ctl_conn **pp;

	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == cc) {
			*pp = cc->next;
			break;
		}
	if (cc->waiting && cc->flow && cc->flow->hs.waiter == cc)
		cc->flow->hs.waiter = NULL;
	epoll_ctl(g_epfd, EPOLL_CTL_DEL, cc->fd, NULL);
	close(cc->fd);
	cc->fd = -1;
	cc->next = dead;
	dead = cc;
}

void ctl_reap(void)
{
	while (dead) {
		struct ctl_conn *cc = dead;

		dead = cc->next;
		free(cc);
	}
}

/* Answer and close.  The socket is blocking-on-write for the answer (bounded by SO_SNDTIMEO). */
static void reply(struct ctl_conn *cc, struct sbuf *b)
{
	size_t off = 0;

	sb_printf(b, "\n");
	/* Blocking for the answer (a rule list can be megabytes), bounded by SO_SNDTIMEO. */
	fcntl(cc->fd, F_SETFL, fcntl(cc->fd, F_GETFL) & ~O_NONBLOCK);
	if (b->oom) {
		static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\",\"reason\":\"internal\"}\n";

		(void)!write(cc->fd, oom, sizeof(oom) - 1);
	} else {
		while (off < b->len) {
			ssize_t n = write(cc->fd, b->s + off, b->len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	sb_free(b);
	conn_free(cc);
}

static void reply_err(struct ctl_conn *cc, const char *reason, const char *msg)
{
	struct sbuf b = { 0 };

	g_cnt.ctl_errors++;
	sb_printf(&b, "{\"ok\":false,\"error\":");
	sb_json_str(&b, msg);
	sb_printf(&b, ",\"reason\":");
	sb_json_str(&b, reason);
	sb_printf(&b, "}");
	reply(cc, &b);
}

static struct flow *find_flow(const char *arg)
{
	char *end;
	unsigned long long id;
	struct tm_addr a;
	int fam;
	__u16 port;

	id = strtoull(arg, &end, 10);
	if (*arg && !*end)
		return table_find_id(id);
	if (tm_addr_port_parse(arg, &a, &fam, &port) == 0)
		return table_find_client(&a, fam, port);
	return NULL;
}

static void cmd_flows(struct ctl_conn *cc)
{
	struct sbuf b = { 0 };
	bool first = true;

	sb_printf(&b, "{\"ok\":true,\"flows\":[");
	for (struct flow *f = table_first(); f; f = f->lnext) {
		if (!first)
			sb_printf(&b, ",");
		first = false;
		json_flow(&b, f);
	}
	sb_printf(&b, "]}");
	reply(cc, &b);
}

static void cmd_stats(struct ctl_conn *cc)
{
	struct sbuf b = { 0 };

	g_cnt.flows_active = table_count();
	sb_printf(&b, "{\"ok\":true,\"stats\":{");
#define X(n) sb_printf(&b, "\"" #n "\":%llu,", (unsigned long long)g_cnt.n);
	TM_COUNTERS(X)
#undef X
	fast_stats(&b);
	b.len--; /* trailing comma */
	sb_printf(&b, "}}");
	reply(cc, &b);
}

void ctl_migrate_done(struct ctl_conn *cc, struct flow *f, const char *reason, uint64_t elapsed_us)
{
	struct sbuf b = { 0 };
	char from[64], to[64];

	cc->flow = NULL;
	cc->waiting = false;
	if (reason) {
		char msg[160];

		snprintf(msg, sizeof(msg), "handoff of flow %llu to %s rolled back: %s",
			 (unsigned long long)f->id, ep_str(&f->hs.to, to, sizeof(to)), reason);
		reply_err(cc, reason, msg);
		return;
	}
	sb_printf(&b, "{\"ok\":true,\"flow\":");
	json_flow(&b, f);
	sb_printf(&b, ",\"migration\":{\"from\":\"%s\",\"to\":\"%s\",\"elapsed_us\":%llu}}",
		  ep_str(&f->hs.from, from, sizeof(from)), ep_str(&f->backend, to, sizeof(to)),
		  (unsigned long long)elapsed_us);
	reply(cc, &b);
}

void ctl_flow_gone(struct flow *f)
{
	if (f->hs.waiter) {
		struct ctl_conn *cc = f->hs.waiter;

		f->hs.waiter = NULL;
		cc->flow = NULL;
		cc->waiting = false;
		reply_err(cc, "flow-closed", "the flow ended during the handoff");
	}
}

static void handle(struct ctl_conn *cc, char *line)
{
	char *w[4] = { 0 };
	int n = 0;
	char *save = NULL, *t;

	g_cnt.ctl_requests++;
	for (t = strtok_r(line, " ", &save); t && n < 4; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (t || n == 0) {
		reply_err(cc, "bad-request", "empty or too long request");
		return;
	}
	if (!strcmp(w[0], "flows") && n == 1) {
		cmd_flows(cc);
	} else if (!strcmp(w[0], "stats") && n == 1) {
		cmd_stats(cc);
	} else if (!strcmp(w[0], "version") && n == 1) {
		struct sbuf b = { 0 };

		sb_printf(&b, "{\"ok\":true,\"version\":\"%s\"}", TM_CTL_VERSION);
		reply(cc, &b);
	} else if (!strcmp(w[0], "rules") && n == 1) {
		struct sbuf b = { 0 };

		an_rules_json(&b);
		reply(cc, &b);
	} else if (!strcmp(w[0], "events") && n <= 2) {
		struct sbuf b = { 0 };
		unsigned long long since = 0;
		char *end = NULL;

		if (n == 2) {
			since = strtoull(w[1], &end, 10);
			if (*end || w[1][0] == '-') {
				reply_err(cc, "bad-request", "events takes a sequence number");
				return;
			}
		}
		ev_json(&b, since, 1000);
		reply(cc, &b);
	} else if (!strcmp(w[0], "reload") && n == 1) {
		struct sbuf errs = { 0 };

		if (an_reload(g_conf, &errs)) {
			reply_err(cc, "reload-failed", errs.s ? errs.s : "reload failed");
		} else {
			struct sbuf b = { 0 };

			sb_printf(&b, "{\"ok\":true,\"rules\":\"%s\"}", g_conf->rules_path);
			reply(cc, &b);
		}
		sb_free(&errs);
	} else if (!strcmp(w[0], "flow") && n == 2) {
		struct flow *f = find_flow(w[1]);
		struct sbuf b = { 0 };

		if (!f) {
			reply_err(cc, "unknown-flow", "no such flow");
			return;
		}
		sb_printf(&b, "{\"ok\":true,\"flow\":");
		json_flow(&b, f);
		sb_printf(&b, "}");
		reply(cc, &b);
	} else if (!strcmp(w[0], "migrate") && n == 3) {
		struct flow *f = find_flow(w[1]);
		struct tm_endpoint_cfg to = { 0 };
		const char *why;

		if (!f) {
			reply_err(cc, "unknown-flow", "no such flow");
			return;
		}
		if (tm_addr_port_parse(w[2], &to.addr, &to.family, &to.port)) {
			reply_err(cc, "bad-request", "target must be ADDRESS:PORT");
			return;
		}
		why = hs_begin(f, &to, cc);
		if (why) {
			char msg[128];

			snprintf(msg, sizeof(msg), "cannot start handoff of flow %llu: %s",
				 (unsigned long long)f->id, why);
			reply_err(cc, why, msg);
			return;
		}
		if (f->hs.st != HS_NONE) { /* still running: answer when it ends */
			cc->waiting = true;
			cc->flow = f;
		}
	} else {
		reply_err(cc, "bad-request", "unknown command or wrong number of arguments");
	}
}

void ctl_accept(void)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct timeval tv = { .tv_sec = 2 };
		struct ctl_conn *cc;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0) {
			static const char msg[] =
				"{\"ok\":false,\"error\":\"permission denied: root only\",\"reason\":\"bad-request\"}\n";

			(void)!write(fd, msg, sizeof(msg) - 1);
			close(fd);
			g_cnt.ctl_errors++;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		cc = calloc(1, sizeof(*cc));
		if (!cc) {
			close(fd);
			continue;
		}
		cc->fd = fd;
		cc->next = conns;
		conns = cc;
		ev.data.ptr = cc;
		epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

void ctl_conn_event(struct ctl_conn *cc, uint32_t events)
{
	if (cc->fd < 0)
		return; /* closed earlier in this batch */
	if (cc->waiting) {
		/* Peer went away (not just half-closed) while its migrate runs: the handoff goes on. */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_free(cc);
		return;
	}
	for (;;) {
		ssize_t n = read(cc->fd, cc->buf + cc->len, sizeof(cc->buf) - cc->len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(cc);
			return;
		}
		cc->len += (size_t)n;
		nl = memchr(cc->buf, '\n', cc->len);
		if (nl) {
			*nl = '\0';
			/* Stop reading: one request per connection. */
			struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = cc };

			epoll_ctl(g_epfd, EPOLL_CTL_MOD, cc->fd, &ev);
			handle(cc, cc->buf);
			return;
		}
		if (cc->len == sizeof(cc->buf)) {
			reply_err(cc, "bad-request", "request too long");
			return;
		}
	}
}

void ctl_close(const char *path)
{
	while (conns)
		conn_free(conns);
	ctl_reap();
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
	lfd = -1;
}
