/* Helpers shared by the C load generators of make bench (connrate, pktrate, migrate_many). */
#ifndef TCPMIG_BENCH_UTIL_H
#define TCPMIG_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* A numeric IPv4 or IPv6 address (brackets allowed) and a decimal port -> *ss.  false, with a
 * message naming the bad token on stderr, on anything else. */
bool bench_addr_parse(const char *addr, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len);
/* "a.b.c.d:port" or "[v6]:port". */
const char *bench_addr_fmt(const struct sockaddr *sa, char *buf, size_t size);

/* Plain unsigned decimal in [min, max] -> *out; false (and a message naming @what) otherwise. */
bool bench_uint_arg(const char *what, const char *s, unsigned long min, unsigned long max,
		    unsigned long *out);

/* RLIMIT_NOFILE to at least @want (the hard limit too, as root). 0 or -errno. */
int bench_nofile(unsigned long want);

/* Sorts @v and returns its p-th percentile (0..100); 0 for an empty set. */
uint32_t bench_pct(uint32_t *v, size_t n, double p);

#endif
