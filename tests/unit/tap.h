/* Minimal TAP producer for unit tests: ok()/is_int()/is_mem(), plan printed at the end. */
#ifndef TCPMIG_TAP_H
#define TCPMIG_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

#define ok(cond, ...)                                                                      \
	do {                                                                               \
		int ok_c_ = !!(cond);                                                      \
		printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n);                        \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		if (!ok_c_) {                                                              \
			tap_fail++;                                                        \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
		}                                                                          \
	} while (0)

#define is_int(got, want, ...)                                                             \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		ok(g_ == w_, __VA_ARGS__);                                                 \
		if (g_ != w_)                                                              \
			printf("#   got %lld (0x%llx), want %lld (0x%llx)\n", g_,          \
			       (unsigned long long)g_, w_, (unsigned long long)w_);        \
	} while (0)

static inline void tap_hexdump(const char *tag, const unsigned char *p, size_t n)
{
	printf("#   %s:", tag);
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i % 16 ? " " : "\n#     ", p[i]);
	printf("\n");
}

#define is_mem(got, want, n, ...)                                                          \
	do {                                                                               \
		int m_ = memcmp((got), (want), (n)) == 0;                                  \
		ok(m_, __VA_ARGS__);                                                       \
		if (!m_) {                                                                 \
			tap_hexdump("got", (const unsigned char *)(got), (n));             \
			tap_hexdump("want", (const unsigned char *)(want), (n));           \
		}                                                                          \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

/* Parse a hex string ("45 00 ..", whitespace ignored) into @out; returns the byte count. */
static inline size_t tap_unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n] = (unsigned char)(hi << 4 | v);
			n++;
			hi = -1;
		}
	}
	return n;
}

#endif
