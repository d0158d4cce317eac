/* Command-line parsers of tcpmigctl: flow references, ADDR:PORT, timeouts, socket paths. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/un.h>

#include "ctl.h"

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool port_parse(const char *s, unsigned int *port, const char **why)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0) {
		*why = "empty port";
		return false;
	}
	if (!all_digits(s, n)) {
		*why = "port is not a number";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535) {
			*why = "port above 65535";
			return false;
		}
	}
	if (v == 0) {
		*why = "port 0";
		return false;
	}
	*port = (unsigned int)v;
	return true;
}

/* "1.2.3.4:5" or "[2001:db8::1]:5" -> canonical text (inet_ntop form, port without zeros). */
static bool addrport_parse(const char *s, char *canon, size_t canon_len, const char **why)
{
	char addr[INET6_ADDRSTRLEN], ntop[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *colon, *end;
	unsigned int port;
	size_t alen;
	int family, n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end) {
			*why = "missing ']'";
			return false;
		}
		if (end[1] != ':') {
			*why = "missing :PORT after ']'";
			return false;
		}
		family = AF_INET6;
		alen = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "missing :PORT";
			return false;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			*why = "IPv6 addresses need brackets, as in [2001:db8::1]:80";
			return false;
		}
		family = AF_INET;
		alen = (size_t)(colon - s);
	}
	if (alen == 0) {
		*why = "empty address";
		return false;
	}
	if (alen >= sizeof(addr)) {
		*why = "address too long";
		return false;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(family, addr, bin) != 1) {
		*why = family == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
		return false;
	}
	if (!port_parse(colon + 1, &port, why))
		return false;
	if (!inet_ntop(family, bin, ntop, sizeof(ntop))) {
		*why = "cannot print address";
		return false;
	}
	n = snprintf(canon, canon_len, family == AF_INET ? "%s:%u" : "[%s]:%u", ntop, port);
	if (n < 0 || (size_t)n >= canon_len) {
		*why = "address too long";
		return false;
	}
	return true;
}

bool ctl_parse_addrport(const char *what, const char *s, char *canon, size_t canon_len)
{
	const char *why;

	if (addrport_parse(s, canon, canon_len, &why))
		return true;
	fprintf(stderr, "%s: bad %s '%s': %s\n", CTL_PROG, what, s, why);
	return false;
}

/* A flow is named by its numeric id or by its client's ADDR:PORT. */
bool ctl_parse_flow_ref(const char *s, char *canon, size_t canon_len)
{
	size_t n = strlen(s);
	const char *why;
	uint64_t id = 0;

	if (all_digits(s, n)) {
		for (size_t i = 0; i < n; i++) {
			unsigned int d = (unsigned int)(s[i] - '0');

			if (id > (UINT64_MAX - d) / 10) {
				fprintf(stderr, "%s: bad flow ID '%s': too large\n", CTL_PROG, s);
				return false;
			}
			id = id * 10 + d;
		}
		snprintf(canon, canon_len, "%" PRIu64, id);
		return true;
	}
	if (addrport_parse(s, canon, canon_len, &why))
		return true;
	fprintf(stderr, "%s: bad flow '%s': want a flow ID or the client's ADDR:PORT (%s)\n",
		CTL_PROG, s, why);
	return false;
}

/* SECS: a positive decimal number of seconds, fractions allowed ("0.5"). */
bool ctl_parse_timeout(const char *s, int *timeout_ms)
{
	unsigned long long whole = 0, frac_ms = 0;
	const char *p = s;
	int digits = 0, frac_digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (unsigned long long)(*p - '0');
		if (whole > CTL_MAX_TIMEOUT_S)
			goto bad;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++, frac_digits++)
			if (frac_digits < 3)
				frac_ms = frac_ms * 10 + (unsigned long long)(*p - '0');
		for (int i = frac_digits; i < 3; i++)
			frac_ms *= 10;
	}
	if (*p || digits == 0)
		goto bad;
	whole = whole * 1000 + frac_ms;
	if (whole == 0 || whole > CTL_MAX_TIMEOUT_S * 1000ull)
		goto bad;
	*timeout_ms = (int)whole;
	return true;
bad:
	fprintf(stderr, "%s: bad timeout '%s': want seconds, more than 0 and at most %d\n",
		CTL_PROG, s, CTL_MAX_TIMEOUT_S);
	return false;
}

bool ctl_parse_sock(const char *s)
{
	if (!*s) {
		fprintf(stderr, "%s: bad socket path '': empty\n", CTL_PROG);
		return false;
	}
	if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "%s: bad socket path '%s': longer than %zu bytes\n", CTL_PROG, s,
			sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return false;
	}
	return true;
}
