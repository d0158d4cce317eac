/* Bulk transfers of the demo client: send or receive the test stream and check it byte for byte. */
#include "demo_bulk.h"
#include "demo_common.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 65536

/* Wait for events on fd, or for a stop signal: 1 ready, 0 timeout, -1 signal. */
static int bulk_wait(const struct demo_bulk *b, short events)
{
	struct pollfd p[2] = {{.fd = b->fd, .events = events}, {.fd = b->sigfd, .events = POLLIN}};
	int n = poll(p, 2, (int)b->timeout_ms);

	if (n > 0 && p[1].revents)
		return -1;
	return n > 0 ? 1 : 0;
}

static double mbit(uint64_t bytes, int64_t ms)
{
	return ms > 0 ? (double)bytes * 8 / 1e3 / (double)ms : 0;
}

int demo_bulk_send(const struct demo_bulk *b)
{
	uint8_t *buf, digest[crypto_hash_sha256_BYTES];
	char hex[DEMO_HEX_LEN + 1], reply[256];
	crypto_hash_sha256_state sha;
	uint64_t seed = demo_stream_seed(b->seed ? b->seed : "client"), off = 0;
	size_t have = 0, chunk = 0, pos = 0, rlen = 0;
	int64_t t0 = demo_now_ms();
	ssize_t n;
	int fd = b->fd, w, rc = 1;

	buf = malloc(CHUNK);
	if (!buf)
		return 1;
	crypto_hash_sha256_init(&sha);
	while (off < b->bytes || pos < chunk) {
		if (pos == chunk) {
			chunk = b->bytes - off < CHUNK ? (size_t)(b->bytes - off) : CHUNK;
			demo_stream_fill(seed, off, buf, chunk);
			crypto_hash_sha256_update(&sha, buf, chunk);
			off += chunk;
			pos = 0;
		}
		n = write(fd, buf + pos, chunk - pos);
		if (n > 0) {
			pos += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			fprintf(stderr, "demo_client: bulk-send: write after %llu bytes: %s\n",
				(unsigned long long)(off - chunk + pos), strerror(errno));
			goto out;
		}
		w = bulk_wait(b, POLLOUT);
		if (w <= 0) {
			fprintf(stderr, "demo_client: bulk-send: %s after %llu bytes\n",
				w < 0 ? "interrupted" : "no progress within --timeout",
				(unsigned long long)(off - chunk + pos));
			goto out;
		}
	}
	crypto_hash_sha256_final(&sha, digest);
	demo_hex(digest, sizeof(digest), hex);
	shutdown(fd, SHUT_WR);
	for (;;) {
		n = read(fd, reply + rlen, sizeof(reply) - 1 - rlen);
		if (n == 0)
			break;
		if (n > 0) {
			rlen += (size_t)n;
			if (rlen == sizeof(reply) - 1)
				break;
			continue;
		}
		if (errno != EAGAIN) {
			fprintf(stderr, "demo_client: bulk-send: reading the server's digest: %s\n",
				strerror(errno));
			goto out;
		}
		w = bulk_wait(b, POLLIN);
		if (w <= 0) {
			fprintf(stderr, "demo_client: bulk-send: %s waiting for the digest\n",
				w < 0 ? "interrupted" : "no answer within --timeout");
			goto out;
		}
	}
	reply[rlen] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	have = strlen(reply);
	rc = have == DEMO_HEX_LEN && !strcmp(reply, hex) ? 0 : 1;
	printf("bulk-send: %llu bytes in %.2f s (%.0f Mbit/s), sha256 %s, server %s: %s\n",
	       (unsigned long long)b->bytes, (double)(demo_now_ms() - t0) / 1000,
	       mbit(b->bytes, demo_now_ms() - t0), hex, have ? reply : "(nothing)",
	       rc ? "MISMATCH" : "OK");
	fflush(stdout);
out:
	free(buf);
	return rc;
}

int demo_bulk_recv(const struct demo_bulk *b)
{
	uint8_t *buf, *want = NULL, digest[crypto_hash_sha256_BYTES];
	char hex[DEMO_HEX_LEN + 1];
	crypto_hash_sha256_state sha;
	uint64_t seed = b->seed ? demo_stream_seed(b->seed) : 0, got = 0, bad_at = UINT64_MAX;
	int64_t t0 = demo_now_ms();
	ssize_t n, i;
	int fd = b->fd, w, rc = 1;

	buf = malloc(CHUNK);
	want = malloc(CHUNK);
	if (!buf || !want)
		goto out;
	crypto_hash_sha256_init(&sha);
	for (;;) {
		n = read(fd, buf, CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno != EAGAIN) {
				fprintf(stderr,
					"demo_client: bulk-recv: read after %llu bytes: %s\n",
					(unsigned long long)got, strerror(errno));
				goto out;
			}
			w = bulk_wait(b, POLLIN);
			if (w <= 0) {
				fprintf(stderr, "demo_client: bulk-recv: %s after %llu bytes\n",
					w < 0 ? "interrupted" : "no progress within --timeout",
					(unsigned long long)got);
				goto out;
			}
			continue;
		}
		crypto_hash_sha256_update(&sha, buf, (size_t)n);
		if (b->seed && bad_at == UINT64_MAX) {
			demo_stream_fill(seed, got, want, (size_t)n);
			for (i = 0; i < n; i++)
				if (buf[i] != want[i]) {
					bad_at = got + (uint64_t)i;
					break;
				}
		}
		got += (uint64_t)n;
	}
	crypto_hash_sha256_final(&sha, digest);
	demo_hex(digest, sizeof(digest), hex);
	rc = 0;
	if (bad_at != UINT64_MAX || (b->have_expect && got != b->bytes))
		rc = 1;
	printf("bulk-recv: %llu bytes in %.2f s (%.0f Mbit/s), sha256 %s", (unsigned long long)got,
	       (double)(demo_now_ms() - t0) / 1000, mbit(got, demo_now_ms() - t0), hex);
	if (b->seed) {
		if (bad_at != UINT64_MAX)
			printf(", stream '%s' MISMATCH at byte %llu", b->seed,
			       (unsigned long long)bad_at);
		else
			printf(", stream '%s' matches", b->seed);
	}
	if (b->have_expect)
		printf(", expected %llu bytes: %s", (unsigned long long)b->bytes,
		       got == b->bytes ? "OK" : "WRONG LENGTH");
	printf("\n");
	fflush(stdout);
out:
	free(buf);
	free(want);
	return rc;
}

int demo_gen(uint64_t bytes, const char *seed_str)
{
	uint64_t seed = demo_stream_seed(seed_str ? seed_str : "client"), off = 0;
	uint8_t buf[CHUNK];
	size_t n;

	while (off < bytes) {
		n = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
		demo_stream_fill(seed, off, buf, n);
		if (fwrite(buf, 1, n, stdout) != n) {
			fprintf(stderr, "demo_client: --gen: write: %s\n", strerror(errno));
			return 1;
		}
		off += n;
	}
	return fflush(stdout) ? 1 : 0;
}
