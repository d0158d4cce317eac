/* Bounds-checked views of IPv4/IPv6 + TCP packets; malformed input gives a reason, never an over-read. */
#ifndef TCPMIG_PKT_H
#define TCPMIG_PKT_H

#include <stddef.h>
#include <tcpmig/tcpopt.h>
#include <tcpmig/types.h>

/* Why a packet could not be parsed.  Stable numbers: they index counters and appear in logs. */
enum tm_pkt_err {
	TM_PKT_OK = 0,
	TM_PKT_ETRUNC_L3,  /* shorter than the fixed IP header */
	TM_PKT_EVERSION,   /* IP version neither 4 nor 6 */
	TM_PKT_EIHL,	   /* IPv4 IHL < 5 or beyond the buffer */
	TM_PKT_ETOTLEN,	   /* IP length field smaller than the headers or larger than the buffer */
	TM_PKT_EFRAG,	   /* a fragment (not the first, or more to come): no whole TCP header */
	TM_PKT_EEXTHDR,	   /* IPv6 extension header chain truncated or too long */
	TM_PKT_ENOTTCP,	   /* not TCP */
	TM_PKT_ETRUNC_L4,  /* shorter than the fixed TCP header */
	TM_PKT_EDOFF,	   /* TCP data offset < 5 or beyond the segment */
	TM_PKT_EOPT,	   /* malformed TCP options (see opt_err) */
	TM_PKT_EADDR,	   /* source or destination address unusable (multicast, broadcast, unspecified) */
	TM_PKT_ERR_MAX
};

struct tm_pkt {
	__u8 *l3;	  /* IP header */
	struct tm_tcphdr *tcp;
	__u8 *payload;
	__u8 *end;	  /* one past the last byte of the IP packet (length field, not buffer) */
	__u32 len;	  /* IP packet length */
	__u16 l3_len;	  /* IP header incl. options / extension headers */
	__u16 tcp_hlen;	  /* TCP header incl. options */
	__u32 payload_len;
	__u8 family;	  /* TM_AF_INET or TM_AF_INET6 */
	__u8 opt_err;	  /* enum tm_opt_err when err == TM_PKT_EOPT */
	struct tm_addr saddr;
	struct tm_addr daddr;
	struct tm_tcpopts opts;
};

/*
 * Parse @buf (an IP packet, no link header) of @buflen bytes.  Bytes past the
 * IP length field are ignored (link padding).  Returns 0 or -enum tm_pkt_err;
 * on error only the fields up to the failing layer are meaningful.
 */
int tm_pkt_parse(struct tm_pkt *p, void *buf, size_t buflen);

/* A short stable name ("ip-truncated", ...) for a reason code (positive value). */
const char *tm_pkt_strerror(int err);

/* Host-order accessors. */
static inline __u32 tm_pkt_seq(const struct tm_pkt *p)
{
	return tm_ntohl(p->tcp->seq);
}

static inline __u32 tm_pkt_ack(const struct tm_pkt *p)
{
	return tm_ntohl(p->tcp->ack);
}

static inline __u16 tm_pkt_sport(const struct tm_pkt *p)
{
	return tm_ntohs(p->tcp->sport);
}

static inline __u16 tm_pkt_dport(const struct tm_pkt *p)
{
	return tm_ntohs(p->tcp->dport);
}

static inline __u16 tm_pkt_window(const struct tm_pkt *p)
{
	return tm_ntohs(p->tcp->window);
}

/* Sequence space a segment occupies: payload plus one for SYN and one for FIN. */
static inline __u32 tm_pkt_seqlen(const struct tm_pkt *p)
{
	return p->payload_len + !!(p->tcp->flags & TM_TCP_SYN) + !!(p->tcp->flags & TM_TCP_FIN);
}

/* Format "addr:port" (IPv6 in brackets) into @buf; returns @buf. */
char *tm_addr_port_str(char *buf, size_t cap, const struct tm_addr *a, int family, __u16 port);
/* Parse "1.2.3.4:80", "[2001:db8::1]:80" (port required when @port is non-NULL); 0 or -1. */
int tm_addr_port_parse(const char *s, struct tm_addr *a, int *family, __u16 *port);

#endif
