/* The fast path on live CHECKSUM_PARTIAL and GSO skbs (TCP over loopback), the wire captured. */
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "fast_util.h"

/*
 * TCP over loopback in a private network namespace, lo's MTU lowered to 1500 so the stack sends
 * GSO super-packets (lo passes them on unsegmented).  Local TCP skbs are CHECKSUM_PARTIAL, and
 * TCP keeps a clone of each for retransmission.  The program runs at lo's egress with a
 * translation per direction and at its ingress with the inverse one, so the sockets see their
 * own connection while the wire in between carries translated packets.  A packet socket sees
 * those after the egress program: every partial checksum field must equal the pseudo-header sum
 * of the translated packet (what the kernel will finish it from), every complete one verify.
 * Folding a TCP header change into a partial field, or missing the address change, fails this.
 */
struct live {
	int family;
	int lfd, cfd, sfd, pfd;
	struct tm_fast_key c2s, s2c; /* the sockets' tuples */
	struct tm_addr wire_c2s_dst, wire_s2c_src;
	__u16 wire_c2s_dport, wire_s2c_sport;
	long partial, complete, gso, bad_partial, bad_complete, bad_ip, punted, seen_c2s, seen_s2c;
	long max_len;
};

static int live_netns(void)
{
	struct ifreq ifr;
	int fd, err = -1;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = 1500;
	if (ioctl(fd, SIOCSIFMTU, &ifr) == 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return err;
}

static int live_attach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = 1, .priority = 1);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	hook.attach_point = BPF_TC_EGRESS;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	hook.attach_point = BPF_TC_INGRESS;
	opts.prog_fd = prog_fd;
	opts.prog_id = 0;
	opts.flags = 0;
	return bpf_tc_attach(&hook, &opts);
}

static void live_sockaddr(struct sockaddr_storage *ss, socklen_t *sl, int family, __u16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == TM_AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		*sl = sizeof(*a);
	}
}

static __u16 live_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &sl);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int live_connect(struct live *L)
{
	int af = L->family == TM_AF_INET ? AF_INET : AF_INET6, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl;
	__u16 sport;

	L->lfd = socket(af, SOCK_STREAM, 0);
	live_sockaddr(&ss, &sl, L->family, 0);
	setsockopt(L->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(L->lfd, (struct sockaddr *)&ss, sl) || listen(L->lfd, 4))
		return -1;
	sport = live_port(L->lfd);
	L->cfd = socket(af, SOCK_STREAM, 0);
	live_sockaddr(&ss, &sl, L->family, sport);
	if (connect(L->cfd, (struct sockaddr *)&ss, sl))
		return -1;
	L->sfd = accept(L->lfd, NULL, NULL);
	if (L->sfd < 0)
		return -1;

	memset(&L->c2s, 0, sizeof(L->c2s));
	L->c2s.family = (__u8)L->family;
	if (L->family == TM_AF_INET) {
		L->c2s.saddr.w[0] = L->c2s.daddr.w[0] = htonl(INADDR_LOOPBACK);
	} else {
		memcpy(L->c2s.saddr.w, &in6addr_loopback, 16);
		memcpy(L->c2s.daddr.w, &in6addr_loopback, 16);
	}
	L->c2s.sport = live_port(L->cfd);
	L->c2s.dport = sport;
	L->s2c = L->c2s;
	L->s2c.sport = L->c2s.dport;
	L->s2c.dport = L->c2s.sport;
	return 0;
}

/* Egress: @x on @k (dir); ingress: its inverse on the translated tuple. */
static void live_offload(const struct tm_fast_key *k, const struct tm_xlate *x, int dir)
{
	struct tm_flow_key orig;
	struct tm_fast_flow v;
	struct tm_fast_key wk;

	memset(&v, 0, sizeof(v));
	v.x = *x;
	v.dir = (__u8)dir;
	bpf_map_update_elem(flows_fd, k, &v, BPF_ANY);

	memcpy(&orig, k, sizeof(orig));
	wk = *k;
	if (x->flags & TM_XL_SADDR)
		wk.saddr = x->saddr;
	if (x->flags & TM_XL_DADDR)
		wk.daddr = x->daddr;
	if (x->flags & TM_XL_SPORT)
		wk.sport = x->sport;
	if (x->flags & TM_XL_DPORT)
		wk.dport = x->dport;
	tm_xlate_inverse(&v.x, x, &orig);
	bpf_map_update_elem(flows_fd, &wk, &v, BPF_ANY);
}

static void live_capture(struct live *L)
{
	static struct {
		_Alignas(8) __u8 pad[2];
		__u8 b[70000];
	} capf;
	__u8 *buf = capf.b;
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct sockaddr_ll sll;
	struct iovec iov = {capf.b, sizeof(capf.b)};
	struct msghdr mh = {.msg_name = &sll,
			    .msg_namelen = sizeof(sll),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	ssize_t n;

	for (;;) {
		struct tpacket_auxdata *aux = NULL;
		struct cmsghdr *cm;
		struct tm_flow_key k;
		struct tm_pkt p;
		int c2s, s2c;

		mh.msg_namelen = sizeof(sll);
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(L->pfd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		if (sll.sll_pkttype != PACKET_OUTGOING || n <= ETH_HLEN)
			continue;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA)
				aux = (struct tpacket_auxdata *)CMSG_DATA(cm);
		if (!aux || tm_pkt_parse(&p, buf + ETH_HLEN, (size_t)n - ETH_HLEN) ||
		    p.family != L->family)
			continue;
		tm_flow_key_from_pkt(&k, &p);
		c2s = !memcmp(&k.daddr, &L->wire_c2s_dst, sizeof(k.daddr)) &&
		      k.dport == L->wire_c2s_dport;
		s2c = !memcmp(&k.saddr, &L->wire_s2c_src, sizeof(k.saddr)) &&
		      k.sport == L->wire_s2c_sport;
		if (!c2s && !s2c) {
			L->punted += (k.sport == L->c2s.sport || k.dport == L->c2s.sport);
			continue;
		}
		L->seen_c2s += c2s;
		L->seen_s2c += s2c;
		if (n > L->max_len)
			L->max_len = n;
		L->gso += n > 1500 + ETH_HLEN;
		L->bad_ip += !tm_csum_ip4_ok(&p);
		if (aux->tp_status & TP_STATUS_CSUMNOTREADY) {
			__u16 field = p.tcp->check;

			L->partial++;
			tm_csum_tcp_partial(&p);
			if (p.tcp->check != field && L->bad_partial++ < 3)
				printf("# partial field 0x%04x, pseudo-header sum 0x%04x (%zd "
				       "bytes)\n",
				       ntohs(field), ntohs(p.tcp->check), n);
		} else {
			L->complete++;
			L->bad_complete += !tm_csum_tcp_ok(&p);
		}
	}
}

/* Both ways at once, @total bytes each, checked byte for byte; the capture drained meanwhile. */
static int live_transfer(struct live *L, size_t total)
{
	static __u8 tx[65536], rx[65536];
	size_t sent[2] = {0, 0}, got[2] = {0, 0};
	int fds[2] = {L->cfd, L->sfd}, bad = 0, i, rounds = 0;

	for (i = 0; i < 2; i++)
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	while ((got[0] < total || got[1] < total) && rounds++ < 200000) {
		struct pollfd pf[3] = {{fds[0], POLLIN | (sent[0] < total ? POLLOUT : 0), 0},
				       {fds[1], POLLIN | (sent[1] < total ? POLLOUT : 0), 0},
				       {L->pfd, POLLIN, 0}};

		if (poll(pf, 3, 2000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if ((pf[i].revents & POLLOUT) && sent[i] < total) {
				size_t n =
				    total - sent[i] < sizeof(tx) ? total - sent[i] : sizeof(tx);
				size_t j;
				ssize_t w;

				for (j = 0; j < n; j++)
					tx[j] = (__u8)((sent[i] + j) * 7 + 3 + i);
				w = write(fds[i], tx, n);
				if (w > 0)
					sent[i] += (size_t)w;
			}
			if (pf[i].revents & POLLIN) {
				ssize_t r = read(fds[i], rx, sizeof(rx));
				size_t j, o = 1 - (size_t)i; /* what the other side sent */

				for (j = 0; r > 0 && j < (size_t)r; j++)
					bad += rx[j] != (__u8)((got[o] + j) * 7 + 3 + o);
				if (r > 0)
					got[o] += (size_t)r;
			}
		}
		live_capture(L);
	}
	live_capture(L);
	return got[0] == total && got[1] == total && bad == 0 ? 0 : -1;
}

static void live_one(int family, int ifindex)
{
	const char *f = family == TM_AF_INET ? "v4" : "v6";
	struct tm_xlate x;
	struct live L;
	__u64 before[TM_FAST_STAT_MAX], after[TM_FAST_STAT_MAX];
	int one = 1, rcv = 64 << 20;
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};

	memset(&L, 0, sizeof(L));
	L.family = family;
	L.pfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (L.pfd < 0 || bind(L.pfd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(L.pfd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(L.pfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv))) {
		ok(0, "%s live: packet socket on lo: %s", f, strerror(errno));
		return;
	}
	if (live_connect(&L)) {
		ok(0, "%s live: TCP connection over lo: %s", f, strerror(errno));
		return;
	}
	/* Client->server: to another address and port, acks and TSecr shifted. */
	memset(&x, 0, sizeof(x));
	x.family = (__u8)family;
	x.flags = TM_XL_DADDR | TM_XL_DPORT;
	if (family == TM_AF_INET)
		memcpy(x.daddr.w, "\x0a\xff\x00\x01", 4);
	else
		memcpy(x.daddr.w, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	x.dport = 18080;
	x.ack_delta = 0x10000;
	x.tsecr_delta = 777;
	L.wire_c2s_dst = x.daddr;
	L.wire_c2s_dport = x.dport;
	live_offload(&L.c2s, &x, TM_FAST_DIR_C2S);
	/* Server->client: from another address and port, seq and TSval shifted. */
	memset(&x, 0, sizeof(x));
	x.family = (__u8)family;
	x.flags = TM_XL_SADDR | TM_XL_SPORT;
	if (family == TM_AF_INET)
		memcpy(x.saddr.w, "\x0a\xff\x00\x02", 4);
	else
		memcpy(x.saddr.w, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	x.sport = 18081;
	x.seq_delta = 0x12345678;
	x.tsval_delta = 99999;
	L.wire_s2c_src = x.saddr;
	L.wire_s2c_sport = x.sport;
	live_offload(&L.s2c, &x, TM_FAST_DIR_S2C);

	stats_read(before);
	ok(live_transfer(&L, 8u << 20) == 0,
	   "%s live: 8 MiB each way through translate-at-egress / restore-at-ingress, byte-exact",
	   f);
	stats_read(after);
	ok(L.seen_c2s > 50 && L.seen_s2c > 50,
	   "%s live: %ld client->server and %ld server->client translated packets captured", f,
	   L.seen_c2s, L.seen_s2c);
	ok(L.partial > 100 && L.bad_partial == 0,
	   "%s live: %ld CHECKSUM_PARTIAL packets, every partial field = pseudo-header sum of the "
	   "translated packet (%ld wrong)",
	   f, L.partial, L.bad_partial);
	ok(L.gso > 10, "%s live: %ld GSO super-packets among them (largest %ld bytes)", f, L.gso,
	   L.max_len);
	ok(L.bad_complete == 0 && L.bad_ip == 0,
	   "%s live: the %ld packets with a complete TCP checksum verify, so do IPv4 header "
	   "checksums",
	   f, L.complete);
	ok(after[TM_FAST_XLATED] - before[TM_FAST_XLATED] >= (__u64)(2 * (L.seen_c2s + L.seen_s2c)),
	   "%s live: translated counter covers both hooks (%llu)", f,
	   (unsigned long long)(after[TM_FAST_XLATED] - before[TM_FAST_XLATED]));
	close(L.cfd);
	close(L.sfd);
	close(L.lfd);
	close(L.pfd);
}

int main(void)
{
	int ifindex;

	switch (fast_start()) {
	case 1:
		return 0;
	case -1:
		return tap_done();
	}
	if (live_netns()) {
		ok(1, "# SKIP no private network namespace: %s", strerror(errno));
		return tap_done();
	}
	ifindex = (int)if_nametoindex("lo");
	if (live_attach(ifindex)) {
		ok(0, "attach to lo ingress and egress (clsact)");
		return tap_done();
	}
	live_one(TM_AF_INET, ifindex);
	live_one(TM_AF_INET6, ifindex);
	tcpmig_fast__destroy(skel);
	return tap_done();
}
