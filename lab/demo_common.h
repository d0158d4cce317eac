/* Helpers shared by the lab's demo client and server: numbers, addresses, the test byte stream. */
#ifndef TCPMIG_LAB_DEMO_COMMON_H
#define TCPMIG_LAB_DEMO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DEMO_DEFAULT_PORT 11111 /* the port of seed 000's servers */
#define DEMO_MAX_LINE	  65536 /* longest request or reply line, newline included */
#define DEMO_HEX_LEN	  64	/* sha256 as lowercase hex */

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t demo_now_ms(void);

/* "123", "20M" (K/M/G are binary: 1024-based) -> *out.  false on anything else. */
bool demo_parse_size(const char *s, uint64_t *out);
/* Plain unsigned decimal no larger than max -> *out.  false on anything else. */
bool demo_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* Host (IPv4/IPv6 literal or name; "[v6]" accepted) and port -> socket address.  Returns 0 or
 * prints why not and returns -1. */
int demo_resolve(const char *host, const char *port, bool passive, struct sockaddr_storage *ss,
		 socklen_t *len);
/* "[addr]:port" (IPv6) or "addr:port" into buf. */
const char *demo_fmt_addr(const struct sockaddr *sa, char *buf, size_t size);

/* Raise RLIMIT_NOFILE to its hard limit (for 1000-connection tests). */
void demo_raise_nofile(void);

/*
 * The deterministic test stream: byte i of the stream seeded with string S is byte (i % 8) of
 * splitmix64(fnv1a64(S) + i / 8) in little-endian order.  Counter-based, so any offset can be
 * produced (or checked) directly: a test can verify the bytes a second server sends after a
 * migration without replaying the first part.
 */
uint64_t demo_stream_seed(const char *s);
void demo_stream_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len);

/* sha256 digest -> 64 lowercase hex chars + NUL. */
void demo_hex(const uint8_t *digest, size_t n, char *out);

#endif
