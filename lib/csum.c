/* Full Internet checksums (RFC 1071) over buffers and packets. */
#include <string.h>

#include <tcpmig/csum.h>
#include <tcpmig/pkt.h>

__u32 tm_csum_add(const void *buf, size_t len, __u32 sum)
{
	const __u8 *p = buf;
	__u64 acc = sum;

	/* 16-bit words in memory order; a trailing odd byte is the high half of a word on the wire. */
	while (len >= 8) {
		__u16 w[4];

		memcpy(w, p, 8);
		acc += (__u32)w[0] + w[1] + w[2] + w[3];
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		__u16 w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len)
		acc += tm_htons((__u16)(p[0] << 8));
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (__u32)acc;
}

__u32 tm_csum_pseudo(const struct tm_addr *saddr, const struct tm_addr *daddr, int family,
		     __u32 tcp_len)
{
	__u32 sum;
	size_t alen = family == TM_AF_INET ? 4 : 16;

	sum = tm_csum_add(saddr->w, alen, 0);
	sum = tm_csum_add(daddr->w, alen, sum);
	/* Protocol and length as 16-bit words in network order. */
	sum += tm_htons(6);
	if (family == TM_AF_INET) {
		sum += tm_htons((__u16)tcp_len);
	} else {
		sum += tm_htons((__u16)(tcp_len >> 16));
		sum += tm_htons((__u16)tcp_len);
	}
	return tm_csum_fold(sum);
}

static __u32 tcp_len(const struct tm_pkt *p)
{
	return (__u32)(p->end - (__u8 *)p->tcp);
}

void tm_csum_ip4_full(struct tm_pkt *p)
{
	__u16 *check;

	if (p->family != TM_AF_INET)
		return;
	check = (__u16 *)(p->l3 + 10);
	*check = 0;
	*check = (__u16)~tm_csum_fold(tm_csum_add(p->l3, p->l3_len, 0));
}

void tm_csum_tcp_full(struct tm_pkt *p)
{
	__u32 sum = tm_csum_pseudo(&p->saddr, &p->daddr, p->family, tcp_len(p));

	p->tcp->check = 0;
	sum = tm_csum_add(p->tcp, tcp_len(p), sum);
	p->tcp->check = (__u16)~tm_csum_fold(sum);
}

void tm_csum_tcp_partial(struct tm_pkt *p)
{
	p->tcp->check = tm_csum_fold(tm_csum_pseudo(&p->saddr, &p->daddr, p->family, tcp_len(p)));
}

int tm_csum_tcp_ok(const struct tm_pkt *p)
{
	__u32 sum = tm_csum_pseudo(&p->saddr, &p->daddr, p->family, tcp_len(p));

	sum = tm_csum_add(p->tcp, tcp_len(p), sum);
	return tm_csum_fold(sum) == 0xffff;
}

int tm_csum_ip4_ok(const struct tm_pkt *p)
{
	if (p->family != TM_AF_INET)
		return 1;
	return tm_csum_fold(tm_csum_add(p->l3, p->l3_len, 0)) == 0xffff;
}
