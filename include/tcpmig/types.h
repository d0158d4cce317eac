/* Basic types and byte helpers shared by userspace and (later) eBPF: no libc here. */
#ifndef TCPMIG_TYPES_H
#define TCPMIG_TYPES_H

#include <linux/types.h>

#ifndef TM_INLINE
#define TM_INLINE static inline __attribute__((always_inline))
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define tm_bswap16(x) ((__u16)__builtin_bswap16(x))
#define tm_bswap32(x) ((__u32)__builtin_bswap32(x))
#define tm_ntohs(x) tm_bswap16(x)
#define tm_htons(x) tm_bswap16(x)
#define tm_ntohl(x) tm_bswap32(x)
#define tm_htonl(x) tm_bswap32(x)
#else
#define tm_bswap16(x) ((__u16)__builtin_bswap16(x))
#define tm_bswap32(x) ((__u32)__builtin_bswap32(x))
#define tm_ntohs(x) ((__u16)(x))
#define tm_htons(x) ((__u16)(x))
#define tm_ntohl(x) ((__u32)(x))
#define tm_htonl(x) ((__u32)(x))
#endif

/* Unaligned big-endian loads/stores: TCP option fields sit at any byte offset. */
TM_INLINE __u16 tm_get16(const __u8 *p)
{
	return (__u16)((__u16)p[0] << 8 | p[1]);
}

TM_INLINE __u32 tm_get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

TM_INLINE void tm_put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

TM_INLINE void tm_put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* Serial number comparisons (RFC 1982, mod 2^32): never compare sequence numbers with < directly. */
#define tm_seq_lt(a, b) ((__s32)((__u32)(a) - (__u32)(b)) < 0)
#define tm_seq_leq(a, b) ((__s32)((__u32)(a) - (__u32)(b)) <= 0)
#define tm_seq_gt(a, b) tm_seq_lt(b, a)
#define tm_seq_geq(a, b) tm_seq_leq(b, a)
/* a <= x < b on the circle. */
#define tm_seq_in(x, a, b) (tm_seq_leq(a, x) && tm_seq_lt(x, b))

/* An IPv4 or IPv6 address; IPv4 lives in w[0] (network order), w[1..3] are zero. */
struct tm_addr {
	__u32 w[4];
};

enum tm_family {
	TM_AF_INET = 4,
	TM_AF_INET6 = 6,
};

/* Fixed TCP header, network byte order, as on the wire. */
struct tm_tcphdr {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u8 doff_res; /* data offset in the high nibble */
	__u8 flags;
	__u16 window;
	__u16 check;
	__u16 urg;
};

#define TM_TCP_FIN 0x01
#define TM_TCP_SYN 0x02
#define TM_TCP_RST 0x04
#define TM_TCP_PSH 0x08
#define TM_TCP_ACK 0x10
#define TM_TCP_URG 0x20
#define TM_TCP_ECE 0x40
#define TM_TCP_CWR 0x80

#define TM_IP4_HLEN 20
#define TM_IP6_HLEN 40
#define TM_TCP_HLEN 20
#define TM_TCP_MAXOPT 40

#endif
