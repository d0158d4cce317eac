/* netem delayer: packets the tc program held back are re-sent through a packet socket, late. */
#include "netem_delay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define QUEUE_MAX_BYTES (64u << 20)


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
	netem_sink_fn *sink; /* tests: frames go here instead of the packet socket */
	void *sink_ctx;
} dl = {.pkt_fd = -1};

int netem_delay_enqueue(void *ctx, void *data, size_t size)
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
	if (dl.sink) {
		dl.us[NETEM_US_SEGMENTS]++;
		return dl.sink(p, len, dl.sink_ctx);
	}
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

void netem_delay_release(uint64_t now, bool all)
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
void netem_delay_publish(int fd)
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

int netem_delay_open(int ifindex, uint32_t mark)
{
	dl.ifindex = ifindex;
	dl.pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only */
	if (dl.pkt_fd < 0)
		return -errno;
	if (setsockopt(dl.pkt_fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		int err = -errno;

		close(dl.pkt_fd);
		dl.pkt_fd = -1;
		return err;
	}
	return 0;
}

void netem_delay_close(void)
{
	struct held *e;

	while ((e = dl.head)) {
		dl.head = e->next;
		free(e);
	}
	dl.tail = NULL;
	dl.bytes = 0;
	if (dl.pkt_fd >= 0)
		close(dl.pkt_fd);
	dl.pkt_fd = -1;
}

void netem_delay_set_sink(netem_sink_fn *sink, void *ctx)
{
	dl.sink = sink;
	dl.sink_ctx = ctx;
}

uint64_t netem_delay_next(void)
{
	return dl.head ? dl.head->release_ns : UINT64_MAX;
}

bool netem_delay_dirty(void)
{
	return dl.us_dirty;
}

const uint64_t *netem_delay_counters(void)
{
	return dl.us;
}
