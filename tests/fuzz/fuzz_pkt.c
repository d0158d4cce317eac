/* libFuzzer: tm_pkt_parse on arbitrary bytes; a packet that parses is observed into a flow and
 * translated with parameters derived from the input: checksums that verified still verify, the
 * partial mode lands on the new pseudo-header sum, and the inverse gives the original bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/csum.h>
#include <tcpmig/flow.h>
#include <tcpmig/pkt.h>
#include <tcpmig/xlate.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_pkt: %s:%d: %s\n", __FILE__, __LINE__, #c);          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint64_t mix(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* An address that parses back (not 0, multicast or broadcast). */
static void usable_addr(struct tm_addr *a, int family, uint64_t *s)
{
	memset(a, 0, sizeof(*a));
	if (family == TM_AF_INET) {
		a->w[0] = tm_htonl(((uint32_t)mix(s) & 0x1fffffff) | 0x01000000);
		return;
	}
	for (int i = 0; i < 4; i++)
		a->w[i] = (uint32_t)mix(s);
	((uint8_t *)a->w)[0] = 0x20;
}

static void check_view(const struct tm_pkt *p, const uint8_t *b, size_t n)
{
	const uint8_t *t = (const uint8_t *)p->tcp;

	CHECK(p->l3 == b && p->end == b + p->len && p->len <= n);
	CHECK(t == b + p->l3_len && p->tcp_hlen >= TM_TCP_HLEN && p->tcp_hlen <= 60);
	CHECK(p->payload == t + p->tcp_hlen && p->payload + p->payload_len == p->end);
	CHECK(p->family == TM_AF_INET || p->family == TM_AF_INET6);
	if (p->opts.present & TM_HAS_TS)
		CHECK(p->opts.ts_off >= 22 && p->opts.ts_off + 8u <= p->tcp_hlen &&
		      tm_get32(t + p->opts.ts_off) == p->opts.tsval);
	if (p->opts.present & TM_HAS_SACK)
		CHECK(p->opts.nsack >= 1 && p->opts.nsack <= 4 &&
		      p->opts.sack_off + 8u * p->opts.nsack <= p->tcp_hlen);
	if (p->opts.present & TM_HAS_MSS)
		CHECK(p->opts.mss_off + 2u <= p->tcp_hlen &&
		      tm_get16(t + p->opts.mss_off) == p->opts.mss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1), *orig = malloc(size ? size : 1), *c2;
	struct tm_pkt p, q;
	struct tm_flow_state f;
	struct tm_flow_key key;
	struct tm_xlate x, inv;
	uint64_t s = 0xcbf29ce484222325ULL;
	int err, tcp_ok, ip_ok;
	__u16 check, ipcheck;

	memcpy(b, data, size);
	err = tm_pkt_parse(&p, b, size);
	CHECK(err <= 0 && err > -TM_PKT_ERR_MAX);
	CHECK(strcmp(tm_pkt_strerror(err), "unknown") != 0);
	if (err == -TM_PKT_EOPT)
		CHECK(p.opt_err >= TM_OPT_ELEN && p.opt_err <= TM_OPT_EDUP);
	if (err)
		goto out;
	check_view(&p, b, size);

	/* The flow model accepts anything parsed, in either direction, any number of times. */
	tm_flow_init(&f);
	tm_flow_observe(&f, TM_DIR_C2S, &p);
	tm_flow_observe(&f, TM_DIR_S2C, &p);
	tm_flow_observe(&f, TM_DIR_C2S, &p);
	CHECK(f.state < TM_ST_MAX && strcmp(tm_flow_state_name(f.state), "?") != 0);
	(void)tm_flow_quiescent(&f);
	(void)tm_flow_seq_plausible(&f, TM_DIR_C2S, tm_pkt_seq(&p));

	/* A translation derived from the input. */
	for (size_t i = 0; i < size; i++)
		s = (s ^ data[i]) * 0x100000001b3ULL;
	memset(&x, 0, sizeof(x));
	x.family = p.family;
	x.flags = (__u8)(mix(&s) & 15);
	usable_addr(&x.saddr, p.family, &s);
	usable_addr(&x.daddr, p.family, &s);
	x.sport = (__u16)mix(&s);
	x.dport = (__u16)mix(&s);
	x.seq_delta = (__u32)mix(&s);
	x.ack_delta = (__u32)mix(&s);
	x.tsval_delta = (__u32)mix(&s);
	x.tsecr_delta = (__u32)mix(&s);
	x.win_shift = (mix(&s) & 1) ? (__s8)((int)(mix(&s) % 33) - 16) : 0;
	tm_flow_key_from_pkt(&key, &p);

	memcpy(orig, b, size);
	tcp_ok = tm_csum_tcp_ok(&p);
	ip_ok = tm_csum_ip4_ok(&p);
	check = p.tcp->check;
	ipcheck = p.family == TM_AF_INET ? (__u16)(b[10] << 8 | b[11]) : 0;
	CHECK(tm_xlate_apply(&x, p.l3, (__u8 *)p.tcp, p.end, 0) == 0);
	CHECK(tm_pkt_parse(&q, b, size) == 0);
	CHECK(q.l3_len == p.l3_len && q.tcp_hlen == p.tcp_hlen && q.payload_len == p.payload_len);
	if (tcp_ok)
		CHECK(tm_csum_tcp_ok(&q));
	if (ip_ok)
		CHECK(tm_csum_ip4_ok(&q));
	CHECK(memcmp(b + q.len, orig + q.len, size - q.len) == 0); /* link padding untouched */

	/* Undo: exact unless the window lost bits or a checksum field held 0xffff (the second
	 * representation of zero, which incremental updates never produce). */
	tm_xlate_inverse(&inv, &x, &key);
	CHECK(tm_xlate_apply(&inv, q.l3, (__u8 *)q.tcp, q.end, 0) == 0);
	if (x.win_shift == 0 && check != 0xffff && ipcheck != 0xffff)
		CHECK(memcmp(b, orig, size) == 0);

	/* CHECKSUM_PARTIAL: only address changes reach the field; the result is the new sum. */
	c2 = malloc(size);
	memcpy(c2, orig, size);
	CHECK(tm_pkt_parse(&q, c2, size) == 0);
	tm_csum_tcp_partial(&q);
	CHECK(tm_xlate_apply(&x, q.l3, (__u8 *)q.tcp, q.end, 1) == 0);
	CHECK(tm_pkt_parse(&q, c2, size) == 0); /* a tm_pkt holds copies of the addresses */
	check = q.tcp->check;
	tm_csum_tcp_partial(&q);
	CHECK(q.tcp->check == check);
	free(c2);
out:
	free(b);
	free(orig);
	return 0;
}
