/*
 * Small-packet rate through the lab gateway (make bench): a sender that writes SIZE-byte messages
 * with TCP_NODELAY as fast as it can, and a sink that reads them.
 *
 *   pktrate sink ADDR PORT
 *	accepts connections (a process each), reads each to EOF and closes it; one line per
 *	connection on stdout: bytes and seconds.
 *   pktrate send ADDR PORT [-s SIZE] [-t SECS] [-w WAIT_FILE]
 *	connects and prints "port N" (so the flow can be looked at or migrated while idle), waits
 *	until WAIT_FILE exists, writes for SECS seconds, half-closes and waits for the sink's EOF:
 *	everything written has then been read.  One JSON line on stdout: messages, bytes, seconds
 *	(first write to the sink's EOF), messages/s.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_MSG 65536

static int sink_one(int fd)
{
	static char buf[1 << 20];
	uint64_t t0 = bench_now_ns(), bytes = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			bytes += (uint64_t)n;
	printf("%llu %.3f\n", (unsigned long long)bytes, (double)(bench_now_ns() - t0) / 1e9);
	fflush(stdout);
	close(fd);
	return n < 0 ? 1 : 0;
}

static int sink(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (const struct sockaddr *)ss, len) || listen(lfd, 64)) {
		fprintf(stderr, "pktrate sink: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "pktrate sink: accept: %s\n", strerror(errno));
			return 1;
		}
		switch (fork()) {
		case 0:
			close(lfd);
			_exit(sink_one(fd));
		case -1:
			fprintf(stderr, "pktrate sink: fork: %s\n", strerror(errno));
			break;
		}
		close(fd);
	}
}

static int send_msgs(const struct sockaddr_storage *ss, socklen_t len, size_t size, double secs,
		     const char *wait_file)
{
	static char msg[MAX_MSG];
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct stat st;
	uint64_t t0, end, msgs = 0;
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char c;

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    getsockname(fd, (struct sockaddr *)&me, &ml)) {
		fprintf(stderr, "pktrate send: %s\n", strerror(errno));
		return 1;
	}
	printf("port %u\n", ntohs(((struct sockaddr_in *)&me)->sin_port)); /* same offset in v6 */
	fflush(stdout);
	while (wait_file && stat(wait_file, &st))
		usleep(10000);
	memset(msg, 'x', size);
	t0 = bench_now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		/* The clock every 64 messages: cheap, and at most 64 messages late. */
		if (!(msgs & 63) && bench_now_ns() >= end)
			break;
		if (write(fd, msg, size) != (ssize_t)size) {
			fprintf(stderr, "pktrate send: write: %s\n", strerror(errno));
			return 1;
		}
		msgs++;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, &c, 1) > 0) /* the sink closes after EOF: everything was read */
		;
	secs = (double)(bench_now_ns() - t0) / 1e9;
	printf("{\"size\":%zu,\"msgs\":%llu,\"bytes\":%llu,\"secs\":%.3f,\"msgs_per_s\":%.0f}\n",
	       size, (unsigned long long)msgs, (unsigned long long)(msgs * size), secs,
	       (double)msgs / secs);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: pktrate sink ADDR PORT\n"
			"       pktrate send ADDR PORT [-s SIZE] [-t SECS] [-w WAIT_FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "size", required_argument, NULL, 's' },
					      { "secs", required_argument, NULL, 't' },
					      { "wait-file", required_argument, NULL, 'w' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned long size = 64, secs = 5;
	const char *wait_file = NULL;
	int o;

	while ((o = getopt_long(argc, argv, "s:t:w:h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (!bench_uint_arg("--size", optarg, 1, MAX_MSG, &size))
				return 2;
			break;
		case 't':
			if (!bench_uint_arg("--secs", optarg, 1, 3600, &secs))
				return 2;
			break;
		case 'w':
			wait_file = optarg;
			break;
		default:
			usage();
			return o == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 3 || (strcmp(argv[optind], "sink") && strcmp(argv[optind], "send"))) {
		usage();
		return 2;
	}
	if (!bench_addr_parse(argv[optind + 1], argv[optind + 2], &ss, &len))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[optind], "sink"))
		return sink(&ss, len);
	return send_msgs(&ss, len, size, (double)secs, wait_file);
}
