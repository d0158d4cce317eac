/* Analyzer throughput: first requests scanned per second by libtcpmig rules (Hyperscan prefilter +
 * confirmation) against a naive per-rule memmem baseline, with 1k and 10k content rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tcpmig/rules.h>

#define NREQ 20000
#define REQLEN 512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

static void word(char *w, unsigned i)
{
	snprintf(w, 16, "k%04x%05u", rnd() & 0xffff, i); /* 10 bytes, unique per rule */
}

int main(int argc, char **argv)
{
	int counts[] = { 1000, 10000 };
	static unsigned char reqs[NREQ][REQLEN];
	char (*words)[16];
	int maxr = 10000;

	(void)argc;
	(void)argv;
	words = calloc((size_t)maxr, sizeof(*words));
	for (int i = 0; i < maxr; i++)
		word(words[i], (unsigned)i);
	/* HTTP-like requests; 1 in 100 carries one rule's pattern. */
	for (int r = 0; r < NREQ; r++) {
		int n = snprintf((char *)reqs[r], REQLEN, "GET /item/%u?q=", rnd());

		for (int k = n; k < REQLEN; k++)
			reqs[r][k] = (unsigned char)("abcdefghijklmnopqrstuvwxyz0123456789&=/ "[rnd() % 40]);
		if (r % 100 == 0)
			memcpy(reqs[r] + 100 + rnd() % 300, words[rnd() % 1000], 10);
	}
	printf("| rules | libtcpmig (Hyperscan + confirm) MB/s | req/s | naive memmem MB/s | req/s | speed-up | matches (both) |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		int n = counts[c], nerr = 0;
		size_t cap = (size_t)n * 128, len = 0;
		char *text = malloc(cap);
		struct tm_rules *rs;
		struct tm_match_pkt p = { 0 };
		long hits = 0, nhits = 0, sub_hits = 0;
		double t0, t_hs, t_naive;
		int rounds = 3;
		/* The baseline is slow: time it on a prefix of the requests (same per-request rate). */
		int nsub = n >= 10000 ? 2000 : 10000;
		static char matched[NREQ];

		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, cap - len,
						"alert tcp any any -> any any (msg:\"r%d\"; content:\"%s\"; sid:%d;)\n",
						i, words[i], 1000 + i);
		rs = tm_rules_load_buffer("bench.rules", text, len, NULL, stderr, &nerr);
		if (!rs) {
			fprintf(stderr, "load failed (%d errors)\n", nerr);
			return 1;
		}
		p.family = TM_AF_INET;
		p.flags = 0x18;
		p.dir = TM_RULE_TO_SERVER;
		p.established = 1;
		p.len = REQLEN;
		t0 = now_s();
		for (int k = 0; k < rounds; k++)
			for (int r = 0; r < NREQ; r++) {
				int m;

				p.data = reqs[r];
				m = tm_rules_match(rs, &p, NULL, NULL);
				hits += m;
				matched[r] = m > 0;
			}
		t_hs = now_s() - t0;
		t0 = now_s();
		for (int r = 0; r < nsub; r++) {
			sub_hits += matched[r];
			for (int i = 0; i < n; i++)
				if (memmem(reqs[r], REQLEN, words[i], 10)) {
					nhits++;
					break;
				}
		}
		t_naive = now_s() - t0;
		{
			double mb = (double)rounds * NREQ * REQLEN / 1e6, mbn = (double)nsub * REQLEN / 1e6;

			printf("| %d | %.0f | %.0f | %.1f | %.0f | %.0fx | %ld / %ld (first %d requests) |\n",
			       n, mb / t_hs, rounds * NREQ / t_hs, mbn / t_naive, nsub / t_naive,
			       (mb / t_hs) / (mbn / t_naive), sub_hits, nhits, nsub);
		}
		if (sub_hits != nhits) {
			fprintf(stderr, "mismatch: engine %ld, naive %ld\n", sub_hits, nhits);
			return 1;
		}
		tm_rules_free(rs);
		free(text);
	}
	free(words);
	return 0;
}
