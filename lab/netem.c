/* tcpmig-netem: loads the netem tc program, sets its options, and sends held packets back late. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netem.h"
#include "netem.skel.h"

#define QUEUE_MAX_BYTES (64u << 20)
#define USTAT_PERIOD_NS 100000000ull

struct netem_opts {
	const char *dev;
	bool ingress;
	bool have_loss, have_reorder, have_delay, have_seed, have_mark, tcp_data_only;
	uint32_t loss_ppm, reorder_ppm, delay_us, mark;
	uint64_t seed;
	const char *label;
};

/* --- small helpers -------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tcpmig-netem run  DEV [--ingress|--egress] [--loss PCT] [--reorder PCT]\n"
	    "                         [--delay-ms MS] [--seed N] [--tcp-data-only] [--mark M]\n"
	    "       tcpmig-netem set  DEV [--ingress|--egress] [same options: change a running "
	    "one]\n"
	    "       tcpmig-netem off  DEV [--ingress|--egress]\n"
	    "       tcpmig-netem show DEV [--ingress|--egress]\n"
	    "  run: attach the tc program to DEV (clsact, handle 0x%x prio %d), then stay in the\n"
	    "       foreground re-sending delayed packets until SIGINT/SIGTERM, then detach.\n"
	    "  PCT: percent, decimals allowed (0.5).  Reordering (egress only) holds a packet "
	    "back\n"
	    "  --delay-ms (default 5, decimals allowed) so later packets overtake it.  Run it in\n"
	    "  DEV's namespace (ip netns exec NS tcpmig-netem ...).\n",
	    NETEM_TC_HANDLE, NETEM_TC_PRIO);
}

static bool libbpf_mute; /* probing for a filter that may not be there: no kernel chatter */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && !libbpf_mute ? vfprintf(stderr, fmt, ap) : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "2", "0.5" percent -> parts per million. */
static bool parse_pct(const char *s, uint32_t *ppm)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 100))
		return false;
	*ppm = (uint32_t)llround(v * (NETEM_PPM / 100));
	return true;
}

static bool parse_ms(const char *s, uint32_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 10000))
		return false;
	*us = (uint32_t)llround(v * 1000);
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

static const char *dir_name(bool ingress)
{
	return ingress ? "ingress" : "egress";
}

static void fmt_cfg(const struct netem_cfg *c, char *buf, size_t n)
{
	snprintf(buf, n, "loss %g%% reorder %g%% delay %gms seed %llu%s", c->loss_ppm / 10000.0,
		 c->reorder_ppm / 10000.0, c->delay_us / 1000.0, (unsigned long long)c->seed,
		 (c->flags & NETEM_F_TCP_DATA_ONLY) ? " tcp-data-only" : "");
}

static void apply_opts(struct netem_cfg *c, const struct netem_opts *o)
{
	if (o->have_loss)
		c->loss_ppm = o->loss_ppm;
	if (o->have_reorder)
		c->reorder_ppm = o->reorder_ppm;
	if (o->have_delay)
		c->delay_us = o->delay_us;
	if (o->have_seed)
		c->seed = o->seed;
	if (o->have_mark)
		c->reinject_mark = o->mark;
	if (o->tcp_data_only)
		c->flags |= NETEM_F_TCP_DATA_ONLY;
	c->gen++;
}

/* --- finding an attached injector ---------------------------------------------------------- */

struct netem_maps {
	int cfg, stats;
};

static void maps_close(struct netem_maps *m)
{
	if (m->cfg >= 0)
		close(m->cfg);
	if (m->stats >= 0)
		close(m->stats);
	m->cfg = m->stats = -1;
}

/* The maps of the netem filter on DEV/direction.  0, -ENOENT (none attached) or -errno. */
static int maps_find(int ifindex, bool ingress, struct netem_maps *m)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);
	struct bpf_prog_info pinfo = {};
	struct bpf_map_info minfo;
	uint32_t ids[16], len, i;
	int rc, pfd, fd;

	m->cfg = m->stats = -1;
	libbpf_mute = true;
	rc = bpf_tc_query(&hook, &opts);
	libbpf_mute = false;
	if (rc)
		return rc == -ENOENT || rc == -EINVAL ? -ENOENT : rc;
	pfd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (pfd < 0)
		return -errno;
	pinfo.nr_map_ids = 16;
	pinfo.map_ids = (uintptr_t)ids;
	len = sizeof(pinfo);
	rc = bpf_obj_get_info_by_fd(pfd, &pinfo, &len);
	close(pfd);
	if (rc)
		return -errno;
	for (i = 0; i < pinfo.nr_map_ids && i < 16; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (bpf_obj_get_info_by_fd(fd, &minfo, &len)) {
			close(fd);
			continue;
		}
		if (!strcmp(minfo.name, "netem_cfg") && m->cfg < 0)
			m->cfg = fd;
		else if (!strcmp(minfo.name, "netem_stats") && m->stats < 0)
			m->stats = fd;
		else
			close(fd);
	}
	if (m->cfg < 0 || m->stats < 0) {
		maps_close(m);
		return -ENOENT; /* some other program with our handle */
	}
	return 0;
}

static int stats_read(const struct netem_maps *m, uint64_t *st, uint64_t *us)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	uint32_t k;
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < NETEM_ST_MAX + NETEM_US_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(m->stats, &k, vals) == 0)
			for (c = 0; c < ncpu; c++)
				sum += vals[c];
		if (k < NETEM_ST_MAX)
			st[k] = sum;
		else
			us[k - NETEM_ST_MAX] = sum;
	}
	free(vals);
	return 0;
}

static void print_state(const char *label, bool ingress, const struct netem_cfg *c,
			const uint64_t *st, const uint64_t *us)
{
	char cfg[160];

	fmt_cfg(c, cfg, sizeof(cfg));
	printf("%s %s: %s\n", label, dir_name(ingress), cfg);
	printf("  seen %llu candidates %llu dropped %llu delayed %llu delay-failed %llu "
	       "reinjected %llu\n",
	       (unsigned long long)st[NETEM_ST_SEEN], (unsigned long long)st[NETEM_ST_CANDIDATE],
	       (unsigned long long)st[NETEM_ST_DROPPED], (unsigned long long)st[NETEM_ST_DELAYED],
	       (unsigned long long)st[NETEM_ST_DELAY_FAIL],
	       (unsigned long long)st[NETEM_ST_REINJECTED]);
	printf("  delayer: received %llu sent %llu (%llu wire packets) held-now %llu "
	       "send-errors %llu queue-drops %llu\n",
	       (unsigned long long)us[NETEM_US_RECEIVED], (unsigned long long)us[NETEM_US_SENT],
	       (unsigned long long)us[NETEM_US_SEGMENTS], (unsigned long long)us[NETEM_US_QUEUED],
	       (unsigned long long)us[NETEM_US_SEND_ERR],
	       (unsigned long long)us[NETEM_US_QUEUE_DROP]);
}

static int cmd_show(const struct netem_opts *o, int ifindex, bool both)
{
	struct netem_maps m;
	struct netem_cfg c;
	uint64_t st[NETEM_ST_MAX], us[NETEM_US_MAX];
	uint32_t zero = 0;
	int found = 0, d;

	for (d = 0; d < 2; d++) {
		bool ingress = d == 0;

		if (!both && ingress != o->ingress)
			continue;
		if (maps_find(ifindex, ingress, &m))
			continue;
		if (bpf_map_lookup_elem(m.cfg, &zero, &c) == 0 && stats_read(&m, st, us) == 0) {
			print_state(o->label ? o->label : o->dev, ingress, &c, st, us);
			found++;
		}
		maps_close(&m);
	}
	return found ? 0 : 1;
}

static int cmd_set(const struct netem_opts *o, int ifindex)
{
	struct netem_maps m;
	struct netem_cfg c;
	uint32_t zero = 0;
	char buf[160];
	int rc;

	rc = maps_find(ifindex, o->ingress, &m);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: no injector on %s %s (%s): use 'run'\n", o->dev,
			dir_name(o->ingress), strerror(-rc));
		return 1;
	}
	rc = bpf_map_lookup_elem(m.cfg, &zero, &c);
	if (!rc) {
		apply_opts(&c, o);
		rc = bpf_map_update_elem(m.cfg, &zero, &c, BPF_ANY);
	}
	maps_close(&m);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: %s: cannot update options: %s\n", o->dev,
			strerror(errno));
		return 1;
	}
	fmt_cfg(&c, buf, sizeof(buf));
	printf("%s %s: %s\n", o->dev, dir_name(o->ingress), buf);
	return 0;
}

static int tc_detach(int ifindex, bool ingress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);

	int rc;

	/* Only our filter: the clsact qdisc stays, tcpmigd's filters may live on it. */
	libbpf_mute = true;
	rc = bpf_tc_detach(&hook, &opts);
	libbpf_mute = false;
	return rc;
}

/* Detach only if the filter there is still ours (a later 'run' may have replaced it). */
static void tc_detach_own(int ifindex, bool ingress, uint32_t prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);
	int rc;

	libbpf_mute = true;
	rc = bpf_tc_query(&hook, &opts);
	libbpf_mute = false;
	if (rc == 0 && opts.prog_id == prog_id)
		tc_detach(ifindex, ingress);
}

static int cmd_off(const struct netem_opts *o, int ifindex)
{
	int rc = tc_detach(ifindex, o->ingress);

	if (rc && rc != -ENOENT && rc != -EINVAL) {
		fprintf(stderr, "tcpmig-netem: %s %s: detach: %s\n", o->dev, dir_name(o->ingress),
			strerror(-rc));
		return 1;
	}
	printf("%s %s: %s\n", o->dev, dir_name(o->ingress),
	       rc ? "no injector" : "injector removed");
	return 0;
}

/* --- the delayer: held packets come back after their release time ---------------------------- */

struct held {
	struct held *next;
	uint64_t release_ns;
	uint32_t len;
	uint16_t gso_size, gso_segs;
	uint8_t data[];
};

static struct {
	struct held *head, *tail;
	uint64_t bytes;
	int pkt_fd, ifindex;
	uint64_t us[NETEM_US_MAX];
	bool us_dirty;
} dl;

static int held_enqueue(void *ctx, void *data, size_t size)
{
	const struct netem_held *h = data;
	struct held *e, **pp;

	(void)ctx;
	dl.us[NETEM_US_RECEIVED]++;
	dl.us_dirty = true;
	if (size < sizeof(*h) || h->len > size - sizeof(*h) ||
	    dl.bytes + h->len > QUEUE_MAX_BYTES || !(e = malloc(sizeof(*e) + h->len))) {
		dl.us[NETEM_US_QUEUE_DROP]++;
		return 0;
	}
	e->release_ns = h->release_ns;
	e->len = h->len;
	e->gso_size = h->gso_size;
	e->gso_segs = h->gso_segs;
	memcpy(e->data, (const uint8_t *)data + sizeof(*h), h->len);
	e->next = NULL;
	dl.bytes += h->len;
	dl.us[NETEM_US_QUEUED]++;
	/* Release times only grow with a fixed delay: append; keep order if the delay changed. */
	if (!dl.tail || dl.tail->release_ns <= e->release_ns) {
		if (dl.tail)
			dl.tail->next = e;
		else
			dl.head = e;
		dl.tail = e;
		return 0;
	}
	for (pp = &dl.head; *pp && (*pp)->release_ns <= e->release_ns; pp = &(*pp)->next)
		;
	e->next = *pp;
	*pp = e;
	return 0;
}

/* One's complement sum over big-endian 16-bit words. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct pview {
	size_t l3, l4, l4_hlen, end; /* offsets; end = l3 + IP total length */
	int af;
	uint8_t proto; /* 0: not TCP/UDP we can handle (fragment, ext header, other) */
};

static int pview_parse(const uint8_t *p, size_t len, struct pview *v)
{
	size_t l3 = 14;
	uint16_t type;

	memset(v, 0, sizeof(*v));
	if (len < 14)
		return -1;
	type = get16(p + 12);
	if (type == ETH_P_8021Q && len >= 18) {
		type = get16(p + 16);
		l3 = 18;
	}
	v->l3 = l3;
	if (type == ETH_P_IP && len >= l3 + 20) {
		size_t ihl = (p[l3] & 15) * 4u, tot = get16(p + l3 + 2);

		if (ihl < 20 || tot < ihl || l3 + tot > len)
			return -1;
		v->af = AF_INET;
		v->l4 = l3 + ihl;
		v->end = l3 + tot;
		if (get16(p + l3 + 6) & 0x3fff) /* fragment */
			return 0;
		v->proto = p[l3 + 9];
	} else if (type == ETH_P_IPV6 && len >= l3 + 40) {
		size_t plen = get16(p + l3 + 4);

		v->af = AF_INET6;
		v->l4 = l3 + 40;
		v->end = plen ? l3 + 40 + plen : len; /* 0: BIG TCP jumbogram */
		if (v->end > len)
			return -1;
		v->proto = p[l3 + 6];
	} else {
		v->end = len;
		return 0;
	}
	if (v->proto == IPPROTO_TCP && v->end >= v->l4 + 20) {
		v->l4_hlen = (p[v->l4 + 12] >> 4) * 4u;
		if (v->l4_hlen < 20 || v->l4 + v->l4_hlen > v->end)
			v->proto = 0;
	} else if (v->proto == IPPROTO_UDP && v->end >= v->l4 + 8) {
		v->l4_hlen = 8;
	} else {
		v->proto = 0;
	}
	return 0;
}

static uint64_t pseudo_sum(const uint8_t *p, const struct pview *v, size_t l4_len)
{
	uint64_t sum;

	if (v->af == AF_INET)
		sum = csum_add(0, p + v->l3 + 12, 8);
	else
		sum = csum_add(0, p + v->l3 + 8, 32);
	return sum + v->proto + (l4_len & 0xffff) + (l4_len >> 16);
}

/*
 * Put a correct L4 checksum in a frame we are about to send.  A held packet may carry a
 * partial checksum (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum, the device
 * was to finish it); an AF_PACKET send has no offload, so finish it here.  A checksum that is
 * neither complete nor partial was wrong on purpose: keep it wrong.
 */
static void fix_l4_csum(uint8_t *p, const struct pview *v, bool force)
{
	size_t l4_len = v->end - v->l4, off = v->l4 + (v->proto == IPPROTO_TCP ? 16 : 6);
	uint16_t orig = get16(p + off), partial, full;
	uint64_t ps;

	if (v->proto == IPPROTO_UDP && v->af == AF_INET && orig == 0 && !force)
		return; /* IPv4 UDP without checksum */
	ps = pseudo_sum(p, v, l4_len);
	partial = csum_fold(ps);
	put16(p + off, 0);
	full = (uint16_t)~csum_fold(csum_add(ps, p + v->l4, l4_len));
	if (v->proto == IPPROTO_UDP && full == 0)
		full = 0xffff;
	put16(p + off, (force || orig == partial || orig == full) ? full : orig);
}

static void fix_ip4_csum(uint8_t *p, const struct pview *v)
{
	size_t ihl = v->l4 - v->l3;

	put16(p + v->l3 + 10, 0);
	put16(p + v->l3 + 10, (uint16_t)~csum_fold(csum_add(0, p + v->l3, ihl)));
}

static int frame_send(const uint8_t *p, size_t len)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_ifindex = dl.ifindex,
	    .sll_halen = ETH_ALEN,
	    .sll_protocol = htons(get16(p + 12)),
	};

	memcpy(sll.sll_addr, p, ETH_ALEN);
	if (sendto(dl.pkt_fd, p, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
		dl.us[NETEM_US_SEND_ERR]++;
		return -1;
	}
	dl.us[NETEM_US_SEGMENTS]++;
	return 0;
}

/* Split a TCP/UDP GSO super-packet into gso_size pieces, as the device would have. */
static int send_segmented(struct held *e, const struct pview *v)
{
	size_t hdrs = v->l4 + v->l4_hlen, payload = v->end - hdrs, mss = e->gso_size, off;
	uint8_t *seg = malloc(hdrs + mss);
	uint32_t seq = 0;
	uint16_t ip_id = 0;
	uint8_t flags = 0;
	unsigned i = 0;
	int rc = 0;

	if (!seg)
		return -1;
	if (v->proto == IPPROTO_TCP) {
		seq = (uint32_t)get16(e->data + v->l4 + 4) << 16 | get16(e->data + v->l4 + 6);
		flags = e->data[v->l4 + 13];
	}
	if (v->af == AF_INET)
		ip_id = get16(e->data + v->l3 + 4);
	for (off = 0; off < payload; off += mss, i++) {
		size_t n = payload - off < mss ? payload - off : mss, l4_len = v->l4_hlen + n;
		bool last = off + n >= payload;
		struct pview sv = *v;

		memcpy(seg, e->data, hdrs);
		memcpy(seg + hdrs, e->data + hdrs + off, n);
		sv.end = hdrs + n;
		if (v->af == AF_INET) {
			put16(seg + v->l3 + 2, (uint16_t)(sv.end - v->l3));
			put16(seg + v->l3 + 4, (uint16_t)(ip_id + i));
			fix_ip4_csum(seg, &sv);
		} else {
			put16(seg + v->l3 + 4, (uint16_t)(sv.end - v->l4));
		}
		if (v->proto == IPPROTO_TCP) {
			uint32_t s = seq + (uint32_t)off;
			uint8_t f = flags;

			put16(seg + v->l4 + 4, (uint16_t)(s >> 16));
			put16(seg + v->l4 + 6, (uint16_t)s);
			if (!last)
				f &= (uint8_t)~0x09; /* FIN, PSH only on the last segment */
			if (i)
				f &= (uint8_t)~0x80; /* CWR only on the first */
			seg[v->l4 + 13] = f;
		} else {
			put16(seg + v->l4 + 4, (uint16_t)l4_len);
		}
		fix_l4_csum(seg, &sv, true);
		if (frame_send(seg, sv.end))
			rc = -1;
	}
	free(seg);
	return rc;
}

static void held_send(struct held *e)
{
	struct pview v;
	bool gso;

	dl.us[NETEM_US_SENT]++;
	if (pview_parse(e->data, e->len, &v)) {
		dl.us[NETEM_US_SEND_ERR]++;
		return;
	}
	gso = e->gso_size && v.proto && v.end - v.l4 - v.l4_hlen > e->gso_size;
	if (gso) {
		send_segmented(e, &v);
		return;
	}
	if (v.proto)
		fix_l4_csum(e->data, &v, false);
	frame_send(e->data, v.end ? v.end : e->len);
}

static void release_due(uint64_t now, bool all)
{
	struct held *e;

	while ((e = dl.head) && (all || e->release_ns <= now)) {
		dl.head = e->next;
		if (!dl.head)
			dl.tail = NULL;
		dl.bytes -= e->len;
		dl.us[NETEM_US_QUEUED]--;
		held_send(e);
		free(e);
		dl.us_dirty = true;
	}
}

/* Userspace counters go to CPU 0's copy of their per-CPU slots; readers sum all CPUs. */
static void ustat_publish(int fd)
{
	static uint64_t *vals;
	int ncpu = libbpf_num_possible_cpus();
	uint32_t k;

	if (!vals && ncpu > 0)
		vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (k = 0; k < NETEM_US_MAX; k++) {
		uint32_t key = NETEM_ST_MAX + k;

		vals[0] = dl.us[k];
		bpf_map_update_elem(fd, &key, vals, BPF_ANY);
	}
	dl.us_dirty = false;
}

static int cmd_run(const struct netem_opts *o, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = o->ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, topts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	struct netem_cfg cfg = {.delay_us = 5000, .seed = 1, .reinject_mark = NETEM_DEFAULT_MARK};
	struct netem_maps m = {.cfg = -1, .stats = -1};
	struct ring_buffer *rb = NULL;
	struct netem *skel;
	struct epoll_event ev, evs[4];
	struct timespec ts, *tsp;
	uint64_t st[NETEM_ST_MAX], now, last_pub = 0;
	uint32_t zero = 0;
	sigset_t sigs;
	int rc = 1, epfd = -1, sfd = -1, n, i, ncpu;
	bool attached = false, stop = false;
	char buf[160];

	apply_opts(&cfg, o);
	cfg.gen = 1;
	if (o->ingress && cfg.reorder_ppm) {
		fprintf(stderr,
			"tcpmig-netem: reordering needs --egress (packets are re-sent out of "
			"the device); use the other side's egress\n");
		return 2;
	}
	if (o->ingress)
		cfg.reinject_mark = 0; /* no delayer behind an ingress hook */

	skel = netem__open();
	if (!skel) {
		fprintf(stderr, "tcpmig-netem: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || bpf_map__set_max_entries(skel->maps.netem_scratch, (uint32_t)ncpu)) {
		fprintf(stderr, "tcpmig-netem: cannot size the per-CPU buffer\n");
		goto out;
	}
	if (netem__load(skel)) {
		fprintf(stderr, "tcpmig-netem: cannot load the BPF program (root? verifier?): %s\n",
			strerror(errno));
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.netem_cfg), &zero, &cfg, BPF_ANY)) {
		fprintf(stderr, "tcpmig-netem: cannot write the options: %s\n", strerror(errno));
		goto out;
	}
	dl.ifindex = ifindex;
	dl.pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only */
	if (dl.pkt_fd < 0 || setsockopt(dl.pkt_fd, SOL_SOCKET, SO_MARK, &cfg.reinject_mark,
					sizeof(cfg.reinject_mark))) {
		fprintf(stderr, "tcpmig-netem: packet socket: %s\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.netem_rb), held_enqueue, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "tcpmig-netem: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		fprintf(stderr, "tcpmig-netem: signalfd/epoll: %s\n", strerror(errno));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = 0;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &ev);

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		fprintf(stderr, "tcpmig-netem: %s: cannot add the clsact qdisc: %s\n", o->dev,
			strerror(-rc));
		rc = 1;
		goto out;
	}
	topts.prog_fd = bpf_program__fd(skel->progs.netem_tc);
	rc = bpf_tc_attach(&hook, &topts);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: %s %s: cannot attach: %s\n", o->dev,
			dir_name(o->ingress), strerror(-rc));
		rc = 1;
		goto out;
	}
	attached = true;
	fmt_cfg(&cfg, buf, sizeof(buf));
	printf("ready: %s %s: %s (tc handle 0x%x prio %d, prog id %u)\n", o->dev,
	       dir_name(o->ingress), buf, NETEM_TC_HANDLE, NETEM_TC_PRIO, topts.prog_id);
	fflush(stdout);

	m.cfg = bpf_map__fd(skel->maps.netem_cfg);
	m.stats = bpf_map__fd(skel->maps.netem_stats);
	while (!stop) {
		now = now_ns();
		if (dl.head) {
			uint64_t wait = dl.head->release_ns > now ? dl.head->release_ns - now : 0;

			if (wait > USTAT_PERIOD_NS)
				wait = USTAT_PERIOD_NS;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
		} else {
			ts.tv_sec = 0;
			ts.tv_nsec = (long)USTAT_PERIOD_NS;
		}
		tsp = &ts;
		n = epoll_pwait2(epfd, evs, 4, tsp, NULL);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tcpmig-netem: epoll: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0)
				stop = true;
			else
				ring_buffer__consume(rb);
		}
		now = now_ns();
		release_due(now, false);
		if (dl.us_dirty && now - last_pub >= USTAT_PERIOD_NS) {
			ustat_publish(m.stats);
			last_pub = now;
		}
	}
	/* Stop holding first, then send what is still held now rather than lose it. */
	tc_detach_own(ifindex, o->ingress, topts.prog_id);
	attached = false;
	ring_buffer__consume(rb);
	release_due(0, true);
	ustat_publish(m.stats);
	bpf_map_lookup_elem(m.cfg, &zero, &cfg); /* 'set' may have changed it */
	if (stats_read(&m, st, dl.us) == 0)
		print_state(o->dev, o->ingress, &cfg, st, dl.us);
	rc = 0;
out:
	if (attached)
		tc_detach_own(ifindex, o->ingress, topts.prog_id);
	ring_buffer__free(rb);
	netem__destroy(skel);
	if (dl.pkt_fd > 0)
		close(dl.pkt_fd);
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	return rc;
}

/* --- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	enum {
		O_INGRESS = 256,
		O_EGRESS,
		O_LOSS,
		O_REORDER,
		O_DELAY,
		O_SEED,
		O_TCPDATA,
		O_MARK,
		O_LABEL,
		O_HELP
	};
	static const struct option lopts[] = {
	    {"ingress", no_argument, NULL, O_INGRESS},
	    {"egress", no_argument, NULL, O_EGRESS},
	    {"loss", required_argument, NULL, O_LOSS},
	    {"reorder", required_argument, NULL, O_REORDER},
	    {"delay-ms", required_argument, NULL, O_DELAY},
	    {"seed", required_argument, NULL, O_SEED},
	    {"tcp-data-only", no_argument, NULL, O_TCPDATA},
	    {"mark", required_argument, NULL, O_MARK},
	    {"prefix-line", required_argument, NULL, O_LABEL},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct netem_opts o = {0};
	const char *cmd;
	bool dir_given = false;
	uint64_t v;
	int opt, ifindex;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case O_INGRESS:
		case O_EGRESS:
			o.ingress = opt == O_INGRESS;
			dir_given = true;
			break;
		case O_LOSS:
			if (!parse_pct(optarg, &o.loss_ppm))
				goto bad;
			o.have_loss = true;
			break;
		case O_REORDER:
			if (!parse_pct(optarg, &o.reorder_ppm))
				goto bad;
			o.have_reorder = true;
			break;
		case O_DELAY:
			if (!parse_ms(optarg, &o.delay_us))
				goto bad;
			o.have_delay = true;
			break;
		case O_SEED:
			if (!parse_u64(optarg, &o.seed))
				goto bad;
			o.have_seed = true;
			break;
		case O_TCPDATA:
			o.tcp_data_only = true;
			break;
		case O_MARK:
			if (!parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX)
				goto bad;
			o.mark = (uint32_t)v;
			o.have_mark = true;
			break;
		case O_LABEL:
			o.label = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tcpmig-netem: %s: want exactly one device\n", cmd);
		return 2;
	}
	o.dev = argv[optind];
	ifindex = (int)if_nametoindex(o.dev);
	if (!ifindex) {
		fprintf(stderr, "tcpmig-netem: no device '%s' in this namespace\n", o.dev);
		return 1;
	}
	libbpf_set_print(libbpf_quiet);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "run"))
		return cmd_run(&o, ifindex);
	if (!strcmp(cmd, "set")) {
		if (o.have_mark) {
			fprintf(stderr, "tcpmig-netem: --mark is fixed while the injector runs\n");
			return 2;
		}
		if (o.ingress && o.have_reorder && o.reorder_ppm) {
			fprintf(stderr, "tcpmig-netem: reordering needs --egress\n");
			return 2;
		}
		return cmd_set(&o, ifindex);
	}
	if (!strcmp(cmd, "off"))
		return cmd_off(&o, ifindex);
	if (!strcmp(cmd, "show"))
		return cmd_show(&o, ifindex, !dir_given);
	fprintf(stderr, "tcpmig-netem: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
bad:
	fprintf(stderr, "tcpmig-netem: bad value '%s' for --%s\n", optarg,
		lopts[opt - O_INGRESS].name);
	return 2;
}
