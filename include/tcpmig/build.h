/* Builders for the packets a gateway crafts: replayed SYN, third ACK, RST (and any bare segment). */
#ifndef TCPMIG_BUILD_H
#define TCPMIG_BUILD_H

#include <stddef.h>
#include <tcpmig/flow.h>
#include <tcpmig/tcpopt.h>
#include <tcpmig/types.h>

/* Everything a TCP segment without payload needs.  Host byte order. */
struct tm_seg_spec {
	__u8 family;
	__u8 flags;	    /* TM_TCP_* */
	__u8 ttl;	    /* 0 means 64 */
	struct tm_addr saddr;
	struct tm_addr daddr;
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u16 window;
	struct tm_tcpopts opts; /* SYNs: MSS/SACKOK/TS/WSCALE written; others: TS only */
};

/*
 * Write an IP+TCP packet for @s into @buf (@cap bytes) with complete checksums.
 * Returns the packet length or -1 when @cap is too small.
 */
int tm_build_segment(__u8 *buf, size_t cap, const struct tm_seg_spec *s);

/* Endpoint addressing for the builders below (host order port). */
struct tm_endpoint {
	struct tm_addr addr;
	__u16 port;
};

/*
 * The SYN replayed to a new backend (DESIGN.md §3.3): from the client's
 * address/port, seq = c_nxt - 1 so the backend expects exactly the client's
 * next byte; options = the client's SYN options restricted to what the first
 * server granted (@granted: the SYN-ACK options the client saw); MSS clamped
 * to @mss_clamp when non-zero; TSval = the client's latest.
 */
int tm_build_replay_syn(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
			const struct tm_endpoint *to, const struct tm_flow_state *f,
			__u16 mss_clamp);

/*
 * The third ACK to the new backend (DESIGN.md §3.5): seq = c_nxt,
 * ack = @isn2 + 1, TSval = the client's latest, TSecr = @t2 exactly (the
 * SYN-ACK's TSval: Linux >= 6.14 drops a third ACK that does not echo it;
 * timestamps only when @target, the new backend's SYN-ACK options, has them),
 * window = the client's latest raw window when the target granted window
 * scaling (the replayed SYN carried the client's wscale), else that window
 * unscaled (saturated at 65535).
 */
int tm_build_third_ack(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
		       const struct tm_endpoint *to, const struct tm_flow_state *f, __u32 isn2,
		       __u32 t2, const struct tm_synopts *target);

/*
 * An RST into an existing flow, forged from the client towards @to:
 * seq = @seq exactly (the receiver's rcv_nxt, so it is accepted, RFC 5961).
 */
int tm_build_rst(__u8 *buf, size_t cap, const struct tm_flow_key *client_key,
		 const struct tm_endpoint *to, __u32 seq);

#endif
