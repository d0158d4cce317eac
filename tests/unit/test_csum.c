/* Checksum helpers: known answers (RFC 1071/1624), tm_csum_add against a byte-wise reference at
 * any alignment and length, and (property) incremental diffs at odd and even offsets == full sums.
 */
#include "vec.h"

#define ITERATIONS 100000

/* Big-endian byte-wise RFC 1071 sum (an independent reference), folded. */
static __u16 ref_sum(const __u8 *p, size_t n, __u32 s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The library works in memory order; convert its folded sums to wire order to compare. */
static __u16 lib_sum(const void *p, size_t n)
{
	return tm_ntohs(tm_csum_fold(tm_csum_add(p, n, 0)));
}

static void known_answers(void)
{
	/* RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	static const __u8 rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (eqn. 3). */
	__u32 d = tm_csum_diff16(0, tm_htons(0x5555), tm_htons(0x3285));

	is_int(lib_sum(rfc1071, sizeof(rfc1071)), 0xddf2, "RFC 1071 example sum");
	is_int(tm_ntohs(tm_csum_apply(tm_htons(0xdd2f), d)), 0x0000, "RFC 1624 example, eqn. 3");
	is_int(tm_csum_fold(0), 0, "fold 0");
	is_int(tm_csum_fold(0xffff), 0xffff, "fold 0xffff stays (non-zero representation)");
	is_int(tm_csum_fold(0x1fffe), 0xffff, "fold 0x1fffe");
	is_int(tm_csum_fold(0xffffffff), 0xffff, "fold 0xffffffff");
	is_int(tm_csum_fold(0x12345678), 0x68ac, "fold 0x12345678: 0x1234 + 0x5678");
	/* An unchanged value nets to 0xffff ("negative zero"): applying it changes nothing. */
	d = tm_csum_diff32(0, 0xdeadbeef, 0xdeadbeef);
	is_int(tm_csum_apply(0x1234, d), 0x1234, "no-op diff leaves a complete checksum");
	is_int(tm_csum_apply_partial(0x1234, d), 0x1234, "no-op diff leaves a partial checksum");
	is_int(tm_csum_apply(0x1234, 0), 0x1234, "empty diff");
}

static void add_vs_reference(void)
{
	static __u8 buf[70000];
	__u64 s = 0x1234567887654321ULL;
	int i, bad = 0;
	size_t n;

	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (__u8)prng_u32(&s);
	for (i = 0; i < 20000; i++) {
		size_t off = prng_below(&s, 16), len = prng_below(&s, 300);

		if (lib_sum(buf + off, len) != ref_sum(buf + off, len, 0) && bad++ < 3)
			printf("# tm_csum_add(buf + %zu, %zu) differs\n", off, len);
	}
	is_int(bad, 0, "tm_csum_add == byte-wise sum, any start alignment, odd and even lengths");
	memset(buf, 0xff, sizeof(buf));
	is_int(lib_sum(buf, sizeof(buf)), ref_sum(buf, sizeof(buf), 0),
	       "70000 bytes of 0xff: carries");
	is_int(lib_sum(buf, 65536 + 1), 0xff00, "65537 bytes of 0xff: ffff... + ff00");
	is_int(tm_ntohs(tm_csum_fold(tm_csum_add(buf, 3, tm_htons(0x0001)))), ref_sum(buf, 3, 1),
	       "a starting sum is added");
	is_int(lib_sum(buf, 0), 0, "empty");
	/* Chaining pieces: every piece but the last must be even (header comment). */
	for (n = 0; n < 256; n++)
		buf[n] = (__u8)n;
	is_int(tm_ntohs(tm_csum_fold(tm_csum_add(buf + 100, 57, tm_csum_add(buf, 100, 0)))),
	       ref_sum(buf, 157, 0), "chained: even piece then odd piece");
}

/* (e) Incremental updates of 32-bit fields at any byte offset == a full recompute. */
static void diffs(void)
{
	__u64 s = 0x0badc0ffee0ddf00ULL;
	int it, bad = 0, bad_chain = 0, bad_partial = 0, odd = 0;

	for (it = 0; it < ITERATIONS; it++) {
		__u8 b[96];
		size_t len = 8 + prng_below(&s, 88), i;
		__u32 off = prng_below(&s, (__u32)len - 3), old, new_, d;
		__u16 check, want, sum;

		for (i = 0; i < len; i++)
			b[i] = (__u8)prng_u32(&s);
		b[0] |= 1; /* never an all-zero area: like the protocol word of a pseudo-header */
		/* A complete checksum over the area, in memory order as stored in a header. */
		check = tm_htons((__u16)~ref_sum(b, len, 0));
		old = tm_get32(b + off);
		new_ = prng_below(&s, 4) ? prng_u32(&s) : old;
		tm_put32(b + off, new_);
		d = tm_csum_diff_be32_at(0, off, old, new_);
		want = tm_htons((__u16)~ref_sum(b, len, 0));
		if (tm_csum_apply(check, d) != want && bad++ < 3)
			printf("# len %zu off %u: 0x%08x -> 0x%08x: got 0x%04x want 0x%04x\n", len,
			       off, old, new_, tm_csum_apply(check, d), want);
		odd += (int)(off & 1);

		/* The same change as a partial (uncomplemented) sum. */
		tm_put32(b + off, old);
		sum = tm_htons(ref_sum(b, len, 0));
		tm_put32(b + off, new_);
		if (tm_csum_apply_partial(sum, d) != tm_htons(ref_sum(b, len, 0)))
			bad_partial++;

		/* Many changes accumulated in one diff (a SACK-heavy segment): still exact. */
		check = tm_htons((__u16)~ref_sum(b, len, 0));
		d = 0;
		for (i = 0; i < 40; i++) {
			__u32 o2 = prng_below(&s, (__u32)len - 3), v = prng_u32(&s);

			d = tm_csum_diff_be32_at(d, o2, tm_get32(b + o2), v);
			tm_put32(b + o2, v);
			if (!(o2 & 1) && prng_below(&s, 2)) { /* mix in aligned helpers */
				__u16 w_old, w_new = (__u16)prng_u32(&s);

				memcpy(&w_old, b + o2, 2);
				d = tm_csum_diff16(d, w_old, w_new);
				memcpy(b + o2, &w_new, 2);
			}
			if (prng_below(&s, 2)) {
				__u8 v8 = (__u8)prng_u32(&s);

				d = tm_csum_diff_byte(d, o2 + 1, b[o2 + 1], v8);
				b[o2 + 1] = v8;
			}
		}
		if (tm_csum_apply(check, d) != tm_htons((__u16)~ref_sum(b, len, 0)))
			bad_chain++;
	}
	is_int(bad, 0, "(e) tm_csum_diff_be32_at at %d odd and %d even offsets == full recompute",
	       odd, ITERATIONS - odd);
	is_int(bad_partial, 0, "(e) the same diffs on a partial sum");
	is_int(bad_chain, 0, "(e) 40+ accumulated byte/word/be32 changes == full recompute");
}

/* tm_csum_diff32 / tm_csum_diff_addr on aligned memory-order words, e.g. an IPv6 address. */
static void addr_diffs(void)
{
	__u64 s = 42;
	int it, bad = 0;

	for (it = 0; it < 10000; it++) {
		_Alignas(4) __u8 b[40];
		struct tm_addr o, n;
		int fam = prng_below(&s, 2) ? TM_AF_INET : TM_AF_INET6, i;
		size_t alen = fam == TM_AF_INET ? 4 : 16;
		__u16 check;

		for (i = 0; i < 40; i++)
			b[i] = (__u8)prng_u32(&s);
		b[39] |= 1;
		check = tm_htons((__u16)~ref_sum(b, 40, 0));
		memset(&o, 0, sizeof(o));
		memset(&n, 0, sizeof(n));
		memcpy(o.w, b + 8, alen);
		for (i = 0; i < 4; i++)
			n.w[i] = i < (int)alen / 4 ? prng_u32(&s) : 0;
		memcpy(b + 8, n.w, alen);
		if (tm_csum_apply(check, tm_csum_diff_addr(0, &o, &n, fam)) !=
		    tm_htons((__u16)~ref_sum(b, 40, 0)))
			bad++;
	}
	is_int(bad, 0, "tm_csum_diff_addr (v4 and v6) == full recompute");
}

int main(void)
{
	known_answers();
	add_vs_reference();
	diffs();
	addr_diffs();
	return tap_done();
}
