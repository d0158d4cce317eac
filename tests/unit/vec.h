/* Test-vector types (filled by the generated vec_real.h / vec_scapy.h) and small test helpers. */
#ifndef TCPMIG_TEST_VEC_H
#define TCPMIG_TEST_VEC_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/csum.h>
#include <tcpmig/flow.h>
#include <tcpmig/pkt.h>
#include <tcpmig/xlate.h>

#include "tap.h"

#define VEC_UNUSED __attribute__((unused))

/* One packet and what scapy dissects from it (host order; offsets from the TCP header). */
struct vec_pkt {
	const char *name;
	const char *hex;
	int dir; /* 0 client->server, 1 server->client, -1 crafted */
	const char *src, *dst;
	int family, l3_len, tcp_hlen, payload_len;
	unsigned sport, dport, seq, ack, flags, window;
	unsigned present, mss, wscale, tsval, tsecr;
	int nsack;
	unsigned sack[4][2];
	int mss_off, wscale_off, ts_off, sack_off;
	int csum_ok;
};

struct vec_flow {
	const char *name;
	int first, n;
};

/* A translation, its input and scapy's expected output. */
struct vec_xlate {
	const char *name;
	int family;
	unsigned flags;
	int win_shift;
	const char *saddr, *daddr;
	unsigned sport, dport;
	unsigned seq_delta, ack_delta, tsval_delta, tsecr_delta;
	int partial;
	const char *in, *out;
};

/* Builder parameters and scapy's packet for them. kind: 's' replay SYN, 'a' third ACK, 'r' RST. */
struct vec_build {
	const char *name;
	char kind;
	int family;
	const char *caddr;
	unsigned cport;
	const char *toaddr;
	unsigned toport;
	unsigned c_present, c_mss, c_wscale, c_synwin, s_present, c_nxt, c_tsval, c_win;
	unsigned mss_clamp, isn2, t2;
	unsigned t_present; /* third ACK: the new backend's SYN-ACK options */
	unsigned rst_seq;
	const char *out;
};

struct vec_reject {
	const char *name;
	int err; /* enum tm_pkt_err */
	const char *hex;
};

#define VEC_MAX 2048

/* A packet buffer aligned like a kernel/NFQUEUE buffer (struct tm_tcphdr needs 4). */
struct vbuf {
	_Alignas(8) __u8 b[VEC_MAX];
	size_t n;
};

static inline size_t vec_load(struct vbuf *v, const char *hex)
{
	memset(v->b, 0, sizeof(v->b));
	v->n = tap_unhex(hex, v->b, sizeof(v->b));
	if (v->n > sizeof(v->b)) {
		printf("# vector longer than %zu bytes\n", sizeof(v->b));
		exit(2);
	}
	return v->n;
}

static inline void vec_addr(struct tm_addr *a, const char *s, int family)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(family == TM_AF_INET ? AF_INET : AF_INET6, s, a->w) != 1) {
		printf("# bad address in a vector: %s\n", s);
		exit(2);
	}
}

/* Deterministic PRNG (xorshift64*) for property tests: same seed, same run. */
static inline __u64 prng_next(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline __u32 prng_u32(__u64 *s)
{
	return (__u32)(prng_next(s) >> 32);
}

/* Uniform-ish in [0, n). */
static inline __u32 prng_below(__u64 *s, __u32 n)
{
	return (__u32)(((__u64)prng_u32(s) * n) >> 32);
}

#endif
