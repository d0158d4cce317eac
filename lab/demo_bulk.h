/* Bulk modes of demo_client (demo_bulk.c): stream out/in with sha256 and per-byte checks. */
#ifndef TCPMIG_LAB_DEMO_BULK_H
#define TCPMIG_LAB_DEMO_BULK_H

#include <stdbool.h>
#include <stdint.h>

struct demo_bulk {
	int fd;		     /* connected, non-blocking TCP socket (the caller closes it) */
	int sigfd;	     /* signalfd: readable = stop */
	uint64_t timeout_ms; /* longest time without progress */
	const char *seed;    /* test stream seed (send: default "client"; recv: NULL = no check) */
	uint64_t bytes;	     /* send: how many; recv: expected length if have_expect */
	bool have_expect;
};

/* Send b->bytes of the stream, half-close, compare the peer's sha256 line.  0 = match. */
int demo_bulk_send(const struct demo_bulk *b);
/* Read to EOF; check the stream (b->seed) and length (b->have_expect).  0 = all good. */
int demo_bulk_recv(const struct demo_bulk *b);
/* Write bytes of the stream seeded seed (NULL: "client") to stdout.  0 or 1. */
int demo_gen(uint64_t bytes, const char *seed);

#endif
