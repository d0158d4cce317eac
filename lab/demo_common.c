/* Helpers shared by the lab's demo client and server (see demo_common.h). */
#include "demo_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int64_t demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool demo_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool demo_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		return false;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int demo_resolve(const char *host, const char *port, bool passive, struct sockaddr_storage *ss,
		 socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char buf[256];
	size_t n;
	int rc;

	if (host && host[0] == '[') { /* [v6] */
		n = strlen(host);
		if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof(buf)) {
			fprintf(stderr, "bad address '%s'\n", host);
			return -1;
		}
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "cannot resolve '%s' port '%s': %s\n", host ? host : "*", port,
			gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *demo_fmt_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) { /* IPv4 peer of a dual-stack socket */
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
			snprintf(buf, size, "%s:%u", ip, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
		}
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(buf, size, "(family %d)", sa->sa_family);
	}
	return buf;
}

void demo_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

uint64_t demo_stream_seed(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void demo_stream_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len)
{
	uint64_t block = offset / 8, v;
	unsigned skip = offset % 8, i;
	size_t done = 0;

	while (done < len) {
		v = splitmix64(seed + block++);
		for (i = skip; i < 8 && done < len; i++)
			buf[done++] = (uint8_t)(v >> (8 * i));
		skip = 0;
	}
}

void demo_hex(const uint8_t *digest, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * n] = '\0';
}
