/* Packet views: IPv4 (options) and IPv6 (extension headers) + TCP, every length checked. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpmig/pkt.h>

#define IP6_MAX_EXTHDRS 8

static const char *const pkt_err_names[TM_PKT_ERR_MAX] = {
	[TM_PKT_OK] = "ok",
	[TM_PKT_ETRUNC_L3] = "ip-truncated",
	[TM_PKT_EVERSION] = "ip-version",
	[TM_PKT_EIHL] = "ip-ihl",
	[TM_PKT_ETOTLEN] = "ip-length",
	[TM_PKT_EFRAG] = "ip-fragment",
	[TM_PKT_EEXTHDR] = "ip6-exthdr",
	[TM_PKT_ENOTTCP] = "not-tcp",
	[TM_PKT_ETRUNC_L4] = "tcp-truncated",
	[TM_PKT_EDOFF] = "tcp-data-offset",
	[TM_PKT_EOPT] = "tcp-options",
	[TM_PKT_EADDR] = "ip-address",
};

const char *tm_pkt_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= TM_PKT_ERR_MAX)
		return "unknown";
	return pkt_err_names[err];
}

static int parse_ip4(struct tm_pkt *p, __u8 *b, size_t buflen, __u8 *proto)
{
	__u32 ihl, tot;
	__u16 frag;

	if (buflen < TM_IP4_HLEN)
		return -TM_PKT_ETRUNC_L3;
	ihl = (__u32)(b[0] & 0x0f) * 4;
	if (ihl < TM_IP4_HLEN || ihl > buflen)
		return -TM_PKT_EIHL;
	tot = tm_get16(b + 2);
	if (tot < ihl || tot > buflen)
		return -TM_PKT_ETOTLEN;
	frag = tm_get16(b + 6);
	if (frag & 0x3fff) /* MF set or non-zero offset */
		return -TM_PKT_EFRAG;
	p->family = TM_AF_INET;
	p->len = tot;
	p->l3_len = (__u16)ihl;
	memcpy(&p->saddr.w[0], b + 12, 4);
	memcpy(&p->daddr.w[0], b + 16, 4);
	*proto = b[9];
	return 0;
}

static int parse_ip6(struct tm_pkt *p, __u8 *b, size_t buflen, __u8 *proto)
{
	__u32 off = TM_IP6_HLEN, tot;
	__u8 nh;
	int i;

	if (buflen < TM_IP6_HLEN)
		return -TM_PKT_ETRUNC_L3;
	tot = TM_IP6_HLEN + (__u32)tm_get16(b + 4);
	/* Payload length 0 is a jumbogram (RFC 2675): not for us. */
	if (tot == TM_IP6_HLEN && buflen > TM_IP6_HLEN)
		return -TM_PKT_ETOTLEN;
	if (tot > buflen)
		return -TM_PKT_ETOTLEN;
	p->family = TM_AF_INET6;
	p->len = tot;
	memcpy(p->saddr.w, b + 8, 16);
	memcpy(p->daddr.w, b + 24, 16);
	nh = b[6];
	/* Up to IP6_MAX_EXTHDRS headers, then one more round that must find the upper layer. */
	for (i = 0; i <= IP6_MAX_EXTHDRS; i++) {
		__u32 hl;

		switch (nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (off + 2 > tot)
				return -TM_PKT_EEXTHDR;
			hl = ((__u32)b[off + 1] + 1) * 8;
			break;
		case 51: /* AH: length in 4-octet units minus 2 */
			if (off + 2 > tot)
				return -TM_PKT_EEXTHDR;
			hl = ((__u32)b[off + 1] + 2) * 4;
			break;
		case 44: /* fragment */
			if (off + 8 > tot)
				return -TM_PKT_EEXTHDR;
			/* Only an atomic fragment (offset 0, M clear) holds a whole segment. */
			if (tm_get16(b + off + 2) & 0xfff9)
				return -TM_PKT_EFRAG;
			hl = 8;
			break;
		default:
			p->l3_len = (__u16)off;
			*proto = nh;
			return 0;
		}
		if (off + hl > tot || i == IP6_MAX_EXTHDRS)
			return -TM_PKT_EEXTHDR;
		nh = b[off];
		off += hl;
	}
	return -TM_PKT_EEXTHDR;
}

/* TCP never runs between unspecified, broadcast or multicast addresses (RFC 1122 4.2.3.10). */
static int addr_usable(const struct tm_addr *a, int family)
{
	if (family == TM_AF_INET) {
		__u32 v = tm_ntohl(a->w[0]);

		return v != 0 && v != 0xffffffffu && (v >> 28) != 0xe;
	}
	if (!(a->w[0] | a->w[1] | a->w[2] | a->w[3]))
		return 0;
	return ((const __u8 *)a->w)[0] != 0xff;
}

int tm_pkt_parse(struct tm_pkt *p, void *buf, size_t buflen)
{
	__u8 *b = buf;
	__u8 proto = 0;
	__u32 l4len, doff;
	int err;

	memset(p, 0, sizeof(*p));
	p->l3 = b;
	if (buflen < 1)
		return -TM_PKT_ETRUNC_L3;
	if (buflen > 0xffff + TM_IP6_HLEN)
		buflen = 0xffff + TM_IP6_HLEN;
	switch (b[0] >> 4) {
	case 4:
		err = parse_ip4(p, b, buflen, &proto);
		break;
	case 6:
		err = parse_ip6(p, b, buflen, &proto);
		break;
	default:
		return -TM_PKT_EVERSION;
	}
	if (err)
		return err;
	p->end = b + p->len;
	if (proto != 6)
		return -TM_PKT_ENOTTCP;
	if (!addr_usable(&p->saddr, p->family) || !addr_usable(&p->daddr, p->family))
		return -TM_PKT_EADDR;

	l4len = p->len - p->l3_len;
	if (l4len < TM_TCP_HLEN)
		return -TM_PKT_ETRUNC_L4;
	p->tcp = (struct tm_tcphdr *)(b + p->l3_len);
	doff = (__u32)(p->tcp->doff_res >> 4) * 4;
	if (doff < TM_TCP_HLEN || doff > l4len)
		return -TM_PKT_EDOFF;
	p->tcp_hlen = (__u16)doff;
	p->payload = (__u8 *)p->tcp + doff;
	p->payload_len = l4len - doff;
	err = tm_tcpopt_parse((__u8 *)p->tcp, doff, p->end, &p->opts);
	if (err) {
		p->opt_err = (__u8)-err;
		return -TM_PKT_EOPT;
	}
	return 0;
}

char *tm_addr_port_str(char *buf, size_t cap, const struct tm_addr *a, int family, __u16 port)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == TM_AF_INET ? AF_INET : AF_INET6, a->w, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (family == TM_AF_INET)
		snprintf(buf, cap, "%s:%u", ip, port);
	else
		snprintf(buf, cap, "[%s]:%u", ip, port);
	return buf;
}

int tm_addr_port_parse(const char *s, struct tm_addr *a, int *family, __u16 *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	int bracketed = s[0] == '[';
	size_t hl;
	char *endp;
	unsigned long pv;

	memset(a, 0, sizeof(*a));
	if (bracketed) {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb[1] == ':' ? rb + 1 : (rb[1] == '\0' ? NULL : rb);
		if (colon == rb)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon) /* bare IPv6 without brackets */
			colon = NULL;
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	/* Brackets are for IPv6 literals only (RFC 3986 §3.2.2). */
	if (!bracketed && inet_pton(AF_INET, host, a->w) == 1)
		*family = TM_AF_INET;
	else if (inet_pton(AF_INET6, host, a->w) == 1)
		*family = TM_AF_INET6;
	else
		return -1;
	if (!port)
		return colon ? -1 : 0;
	/* Digits only: strtoul() alone would also take "+80", " 80" and "-0". */
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	pv = strtoul(colon + 1, &endp, 10);
	if (*endp || pv == 0 || pv > 65535)
		return -1;
	*port = (__u16)pv;
	return 0;
}
