/* tm_addr_port_parse / tm_addr_port_str: good and bad input, round trips. */
#include <arpa/inet.h>
#include <string.h>

#include <tcpmig/pkt.h>

#include "tap.h"

static void good(const char *s, int fam, const char *addr, unsigned port)
{
	struct tm_addr a, want = {{0}};
	int f = -1;
	__u16 p = 0;
	char back[64];

	inet_pton(fam == TM_AF_INET ? AF_INET : AF_INET6, addr, want.w);
	ok(tm_addr_port_parse(s, &a, &f, &p) == 0 && f == fam && p == port &&
	       !memcmp(&a, &want, sizeof(a)),
	   "'%s' -> IPv%d %s port %u", s, fam, addr, port);
	tm_addr_port_str(back, sizeof(back), &a, f, p);
	ok(tm_addr_port_parse(back, &a, &f, &p) == 0 && p == port && !memcmp(&a, &want, sizeof(a)),
	   "'%s' printed as '%s' parses back", s, back);
}

static void bad(const char *s)
{
	struct tm_addr a;
	int f = -1;
	__u16 p = 7;

	is_int(tm_addr_port_parse(s, &a, &f, &p), -1, "'%s' rejected", s);
}

static void no_port(const char *s, int want, int fam)
{
	struct tm_addr a;
	int f = -1;

	ok(tm_addr_port_parse(s, &a, &f, NULL) == want && (want || f == fam),
	   "'%s' without a port wanted: %s", s, want ? "rejected" : "accepted");
}

int main(void)
{
	static const char *const bads[] = {
	    "",
	    ":",
	    ":80",
	    "1.2.3.4",
	    "1.2.3.4:",
	    "1.2.3.4:0",
	    "1.2.3.4:65536",
	    "1.2.3.4:-1",
	    "1.2.3.4:+80",
	    "1.2.3.4: 80",
	    "1.2.3.4:80 ",
	    "1.2.3.4:0x50",
	    "1.2.3.4:80a",
	    "1.2.3.4:-0",
	    " 1.2.3.4:80",
	    "1.2.3:80",
	    "1.2.3.4.5:80",
	    "256.1.1.1:80",
	    "host:80",
	    "::1:80",
	    "2001:db8::1:80",
	    "[::1]80",
	    "[::1]",
	    "[::1",
	    "::1]:80",
	    "[]:80",
	    "[fe80::1%eth0]:80",
	    "[::1]:80:90",
	    "[[::1]]:80",
	    "[1.2.3.4]:80",
	    "1.2.3.4:99999999999999999999999",
	    "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:5",
	};
	char buf[64];
	struct tm_addr a = {{0}};
	size_t i;

	good("1.2.3.4:80", TM_AF_INET, "1.2.3.4", 80);
	good("10.0.0.1:65535", TM_AF_INET, "10.0.0.1", 65535);
	good("192.0.2.1:1", TM_AF_INET, "192.0.2.1", 1);
	good("1.2.3.4:080", TM_AF_INET, "1.2.3.4", 80);
	good("[2001:db8::1]:443", TM_AF_INET6, "2001:db8::1", 443);
	good("[::1]:8080", TM_AF_INET6, "::1", 8080);
	good("[::ffff:10.1.2.3]:5", TM_AF_INET6, "::ffff:10.1.2.3", 5);
	good("[fe80:0:0:0:0:0:0:1]:22", TM_AF_INET6, "fe80::1", 22);
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i]);
	no_port("1.2.3.4", 0, TM_AF_INET);
	no_port("::1", 0, TM_AF_INET6);
	no_port("2001:db8::1:80", 0, TM_AF_INET6);
	no_port("[2001:db8::1]", 0, TM_AF_INET6);
	no_port("1.2.3.4:80", -1, 0);
	no_port("[::1]:80", -1, 0);
	no_port("[1.2.3.4]", -1, 0);

	inet_pton(AF_INET6, "2001:db8::1", a.w);
	ok(!strcmp(tm_addr_port_str(buf, sizeof(buf), &a, TM_AF_INET6, 443), "[2001:db8::1]:443"),
	   "IPv6 printed in brackets");
	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET, "10.0.0.1", a.w);
	ok(!strcmp(tm_addr_port_str(buf, sizeof(buf), &a, TM_AF_INET, 80), "10.0.0.1:80"),
	   "IPv4 printed");
	memset(buf, 'x', sizeof(buf));
	tm_addr_port_str(buf, 5, &a, TM_AF_INET, 80);
	ok(!strcmp(buf, "10.0") && buf[5] == 'x',
	   "a short buffer is cut and terminated, not overrun");
	return tap_done();
}
