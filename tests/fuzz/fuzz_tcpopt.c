/* libFuzzer: tm_tcpopt_parse on arbitrary option bytes with an arbitrary header length (first input
 * byte).  Every recorded offset plus its field size lies within hlen and the readable memory,
 * values match the bytes at their offsets, and what parsed survives a write_syn/parse round trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/tcpopt.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_tcpopt: %s:%d: %s\n", __FILE__, __LINE__, #c);       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_tcpopts o, back;
	uint8_t *t, syn[TM_TCP_HLEN + TM_TCP_MAXOPT] = {0};
	size_t avail;
	__u32 hlen, lim;
	int err, n;

	if (size < 1)
		return 0;
	hlen = data[0];
	avail = TM_TCP_HLEN + size - 1; /* a zero TCP header, then the option bytes */
	t = malloc(avail);
	memset(t, 0, TM_TCP_HLEN);
	memcpy(t + TM_TCP_HLEN, data + 1, size - 1);
	err = tm_tcpopt_parse(t, hlen, t + avail, &o);
	CHECK(err <= 0 && err >= -TM_OPT_EDUP);
	CHECK(strcmp(tm_tcpopt_strerror(err), "option-unknown-error") != 0);
	if (err)
		goto out;
	lim = hlen < avail ? hlen : (__u32)avail;
	CHECK(hlen <= TM_TCP_HLEN + TM_TCP_MAXOPT);
	CHECK(!!(o.present & TM_HAS_MSS) == !!o.mss_off);
	CHECK(!!(o.present & TM_HAS_WSCALE) == !!o.wscale_off);
	CHECK(!!(o.present & TM_HAS_TS) == !!o.ts_off);
	CHECK(!!(o.present & TM_HAS_SACK) == !!o.sack_off &&
	      !!(o.present & TM_HAS_SACK) == !!o.nsack);
	if (o.mss_off)
		CHECK(o.mss_off >= 22 && o.mss_off + 2u <= lim && tm_get16(t + o.mss_off) == o.mss);
	if (o.wscale_off)
		CHECK(o.wscale_off >= 22 && o.wscale_off + 1u <= lim && o.wscale <= TM_WSCALE_MAX &&
		      (t[o.wscale_off] > TM_WSCALE_MAX ? TM_WSCALE_MAX : t[o.wscale_off]) ==
			  o.wscale);
	if (o.ts_off)
		CHECK(o.ts_off >= 22 && o.ts_off + 8u <= lim && tm_get32(t + o.ts_off) == o.tsval &&
		      tm_get32(t + o.ts_off + 4) == o.tsecr);
	if (o.sack_off) {
		CHECK(o.nsack >= 1 && o.nsack <= TM_SACK_MAX);
		CHECK(o.sack_off >= 22 && o.sack_off + 8u * o.nsack <= lim);
		for (int i = 0; i < o.nsack; i++)
			CHECK(tm_get32(t + o.sack_off + 8 * i) == o.sack[i].left &&
			      tm_get32(t + o.sack_off + 8 * i + 4) == o.sack[i].right);
	}

	/* What a SYN can carry is written in Linux's layout and reads back the same. */
	n = tm_tcpopt_write_syn(syn + TM_TCP_HLEN, TM_TCP_MAXOPT, &o);
	CHECK(n >= 0 && n <= 20 && n % 4 == 0);
	CHECK(tm_tcpopt_parse(syn, TM_TCP_HLEN + (__u32)n, syn + sizeof(syn), &back) == 0);
	CHECK(back.present ==
	      (o.present & (TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS)));
	CHECK(!(o.present & TM_HAS_MSS) || back.mss == o.mss);
	CHECK(!(o.present & TM_HAS_WSCALE) || back.wscale == o.wscale);
	CHECK(!(o.present & TM_HAS_TS) || (back.tsval == o.tsval && back.tsecr == o.tsecr));
out:
	free(t);
	return 0;
}
