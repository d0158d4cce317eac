/* Smoke test: build a replayed SYN and parse it back. */
#include <tcpmig/build.h>
#include <tcpmig/csum.h>
#include <tcpmig/pkt.h>

#include "tap.h"

int main(void)
{
	struct tm_flow_state f;
	struct tm_flow_key k = { 0 };
	struct tm_endpoint to = { 0 };
	unsigned char buf[128];
	struct tm_pkt p;
	int n;

	tm_flow_init(&f);
	k.family = TM_AF_INET;
	k.saddr.w[0] = tm_htonl(0x0a000003);
	k.sport = 40000;
	to.addr.w[0] = tm_htonl(0x0a000002);
	to.port = 11111;
	f.c.syn.present = TM_HAS_MSS | TM_HAS_TS | TM_HAS_SACKOK | TM_HAS_WSCALE;
	f.c.syn.mss = 1460;
	f.c.syn.wscale = 7;
	f.c.syn.window = 64240;
	f.s.syn.present = TM_HAS_MSS | TM_HAS_TS | TM_HAS_WSCALE;
	f.c.nxt = 1001;
	f.c.tsval = 777;
	n = tm_build_replay_syn(buf, sizeof(buf), &k, &to, &f, 0);
	ok(n == 20 + 20 + 20, "replayed SYN length %d", n);
	is_int(tm_pkt_parse(&p, buf, (size_t)n), 0, "parses");
	is_int(tm_pkt_seq(&p), 1000, "seq = c_nxt - 1");
	ok(!(p.opts.present & TM_HAS_SACKOK), "SACK-permitted dropped: B1 did not grant it");
	is_int(p.opts.tsval, 777, "TSval = client's latest");
	ok(tm_csum_tcp_ok(&p) && tm_csum_ip4_ok(&p), "checksums verify");
	return tap_done();
}
