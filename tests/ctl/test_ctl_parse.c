/* Unit tests of tcpmigctl's command-line parsers and byte formatting, good and bad input. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "ctl.h"

static void addrport_ok(const char *in, const char *want)
{
	char out[CTL_ADDRSTRLEN] = "";

	ok(ctl_parse_addrport("test", in, out, sizeof(out)) && !strcmp(out, want),
	   "addrport '%s' -> '%s' (got '%s')", in, want, out);
}

static void addrport_bad(const char *in)
{
	char out[CTL_ADDRSTRLEN];

	ok(!ctl_parse_addrport("test", in, out, sizeof(out)), "addrport '%s' rejected", in);
}

static void flow_ref_ok(const char *in, const char *want)
{
	char out[CTL_ADDRSTRLEN] = "";

	ok(ctl_parse_flow_ref(in, out, sizeof(out)) && !strcmp(out, want),
	   "flow ref '%s' -> '%s' (got '%s')", in, want, out);
}

static void flow_ref_bad(const char *in)
{
	char out[CTL_ADDRSTRLEN];

	ok(!ctl_parse_flow_ref(in, out, sizeof(out)), "flow ref '%s' rejected", in);
}

static void timeout_is(const char *in, int want_ms)
{
	int ms = -1;
	bool good = ctl_parse_timeout(in, &ms);

	if (want_ms < 0)
		ok(!good, "timeout '%s' rejected", in);
	else
		ok(good && ms == want_ms, "timeout '%s' -> %d ms (got %d)", in, want_ms, ms);
}

static void bytes_is(uint64_t v, const char *want)
{
	char buf[32];

	ctl_fmt_bytes(v, buf, sizeof(buf));
	ok(!strcmp(buf, want), "bytes %llu -> '%s' (got '%s')", (unsigned long long)v, want, buf);
}

int main(void)
{
	char *s;

	addrport_ok("1.2.3.4:5", "1.2.3.4:5");
	addrport_ok("255.255.255.255:65535", "255.255.255.255:65535");
	addrport_ok("10.0.0.2:011111", "10.0.0.2:11111");
	addrport_ok("[::1]:5", "[::1]:5");
	addrport_ok("[2001:0db8:0:0::1]:0080", "[2001:db8::1]:80");
	addrport_ok("[::ffff:1.2.3.4]:9", "[::ffff:1.2.3.4]:9");
	addrport_bad("");
	addrport_bad(":");
	addrport_bad(":80");
	addrport_bad("1.2.3.4");
	addrport_bad("1.2.3.4:");
	addrport_bad("1.2.3.4:0");
	addrport_bad("1.2.3.4:65536");
	addrport_bad("1.2.3.4:99999999999999999999999");
	addrport_bad("1.2.3.4:-1");
	addrport_bad("1.2.3.4:+1");
	addrport_bad("1.2.3.4:0x10");
	addrport_bad("1.2.3.4:1 ");
	addrport_bad(" 1.2.3.4:1");
	addrport_bad("1.2.3:1");
	addrport_bad("1.2.3.4.5:1");
	addrport_bad("256.1.1.1:1");
	addrport_bad("host:80");
	addrport_bad("::1:5");
	addrport_bad("2001:db8::1:80");
	addrport_bad("[::1]5");
	addrport_bad("[::1]");
	addrport_bad("[::1");
	addrport_bad("[]:5");
	addrport_bad("[1.2.3.4]:5");
	addrport_bad("[fe80::1%eth0]:5");
	addrport_bad("[::1]:5:6");
	addrport_bad("[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:5");

	flow_ref_ok("0", "0");
	flow_ref_ok("3", "3");
	flow_ref_ok("007", "7");
	flow_ref_ok("18446744073709551615", "18446744073709551615");
	flow_ref_ok("10.0.0.9:40000", "10.0.0.9:40000");
	flow_ref_ok("[2001:db8::9]:40001", "[2001:db8::9]:40001");
	flow_ref_bad("18446744073709551616");
	flow_ref_bad("99999999999999999999999");
	flow_ref_bad("");
	flow_ref_bad("-1");
	flow_ref_bad("+1");
	flow_ref_bad("3x");
	flow_ref_bad("0x3");
	flow_ref_bad("10.0.0.9");

	timeout_is("30", 30000);
	timeout_is("0.5", 500);
	timeout_is(".25", 250);
	timeout_is("1.", 1000);
	timeout_is("0.001", 1);
	timeout_is("86400", 86400000);
	timeout_is("0", -1);
	timeout_is("0.0004", -1);
	timeout_is("86400.5", -1);
	timeout_is("86401", -1);
	timeout_is("99999999999999999999999", -1);
	timeout_is("", -1);
	timeout_is(".", -1);
	timeout_is("-1", -1);
	timeout_is("1e3", -1);
	timeout_is("0x10", -1);
	timeout_is(" 1", -1);
	timeout_is("1s", -1);

	ok(ctl_parse_sock("/run/tcpmigd.sock"), "socket path accepted");
	ok(!ctl_parse_sock(""), "empty socket path rejected");
	s = malloc(200);
	memset(s, 'a', 199);
	s[199] = '\0';
	ok(!ctl_parse_sock(s), "socket path longer than sun_path rejected");
	free(s);

	bytes_is(0, "0");
	bytes_is(1023, "1023");
	bytes_is(1024, "1.0K");
	bytes_is(1536, "1.5K");
	bytes_is(10188, "9.9K");
	bytes_is(10239, "10K");
	bytes_is(10240, "10K");
	bytes_is(102400, "100K");
	bytes_is(1048575, "1.0M");
	bytes_is(1234567, "1.2M");
	bytes_is(5ull << 30, "5.0G");
	bytes_is(UINT64_MAX, "16E");

	s = ctl_sanitize("a\x1b[31mb\x7f\n");
	ok(s && !strcmp(s, "a\\x1b[31mb\\x7f\\x0a"), "control characters escaped (got '%s')", s);
	free(s);
	return tap_done();
}
