/* One exchange with tcpmigd over its unix socket: connect, send the request line, read the
 * answer until the daemon closes; everything within one deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until @fd is ready for @events or the deadline passed (-ETIMEDOUT). */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return 0; /* POLLHUP/POLLERR too: the next send/recv tells what happened */
	}
}

static int sock_connect(const char *path, int timeout_ms, int *fdp)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A blocking connect on a unix socket only waits while the listener's backlog is
	 * full; SO_SNDTIMEO bounds that wait (it then fails with EAGAIN). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto err;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		goto err;
	}
	*fdp = fd;
	return 0;
err:
	close(fd);
	return ret;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int ret;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			ret = wait_fd(fd, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF into a NUL-terminated buffer; more than CTL_MAX_ANSWER bytes is -EMSGSIZE. */
static int recv_all(int fd, struct ctl_answer *a, long long deadline)
{
	size_t cap = 4096;
	int ret;

	a->len = 0;
	a->raw = malloc(cap);
	if (!a->raw)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (a->len + 1 == cap) {
			size_t ncap = cap * 2 > CTL_MAX_ANSWER + 2 ? CTL_MAX_ANSWER + 2 : cap * 2;
			char *p;

			if (ncap == cap)
				return -EMSGSIZE;
			p = realloc(a->raw, ncap);
			if (!p)
				return -ENOMEM;
			a->raw = p;
			cap = ncap;
		}
		n = recv(fd, a->raw + a->len, cap - 1 - a->len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A daemon that closes with our bytes unread makes us see ECONNRESET
			 * after its answer: the answer is all there, judge it. */
			if (errno == ECONNRESET && a->len)
				break;
			if (errno != EAGAIN)
				return -errno;
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				return ret;
			continue;
		}
		if (n == 0)
			break;
		a->len += (size_t)n;
		if (a->len > CTL_MAX_ANSWER)
			return -EMSGSIZE;
	}
	a->raw[a->len] = '\0';
	return a->len ? 0 : -ENODATA;
}

/* Returns 0 with a->raw/a->len filled, or -errno with *stage telling where it failed. */
int ctl_exchange(const struct ctl_opts *o, const char *req, struct ctl_answer *a,
		 enum ctl_stage *stage)
{
	long long deadline = now_ms() + o->timeout_ms;
	int fd = -1, ret;

	memset(a, 0, sizeof(*a));
	*stage = CTL_STAGE_CONNECT;
	ret = sock_connect(o->sock, o->timeout_ms, &fd);
	if (ret)
		goto out;
	*stage = CTL_STAGE_SEND;
	ret = send_all(fd, req, strlen(req), deadline);
	if (ret)
		goto out;
	*stage = CTL_STAGE_RECV;
	ret = recv_all(fd, a, deadline);
out:
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(a->raw);
		a->raw = NULL;
		a->len = 0;
	}
	return ret;
}
