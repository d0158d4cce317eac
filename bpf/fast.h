/* tcpmig fast path: map keys/values, counters and punt reasons shared by tcpmig_fast.bpf.c and
 * userspace (the loader, tcpmigd, tests).  Layouts are ABI once maps are pinned: append only. */
#ifndef TCPMIG_BPF_FAST_H
#define TCPMIG_BPF_FAST_H

#include <tcpmig/xlate.h>

/* Default max_entries of tm_fast_flows (BPF_F_NO_PREALLOC: a cap, not an allocation); one entry
 * per direction, two per flow.  The loader may change it before load. */
#define TM_FAST_FLOWS_MAX 65536

/*
 * Key of tm_fast_flows: the directed 4-tuple as the packet carries it at the hook, before
 * translation: client -> service for client->server packets, backend -> client for
 * server->client ones.  Same layout and conventions as struct tm_flow_key: addresses in network
 * order (IPv4 in w[0]), ports in host order, unused address words and pad zero.
 */
struct tm_fast_key {
	struct tm_addr saddr;
	struct tm_addr daddr;
	__u16 sport;
	__u16 dport;
	__u8 family; /* TM_AF_INET or TM_AF_INET6 */
	__u8 pad[3];
};

/* struct tm_fast_flow.dir: the values of enum tm_dir. */
#define TM_FAST_DIR_C2S 0
#define TM_FAST_DIR_S2C 1

/* struct tm_fast_side.seen: which fields hold a value (seeded by the daemon or seen since). */
#define TM_FAST_SEEN_NXT (1u << 0)
#define TM_FAST_SEEN_ACK (1u << 1)
#define TM_FAST_SEEN_TS	 (1u << 2)
/* Set by the program when it translated a FIN / an RST itself (no daemon): a restarted daemon
 * does not re-adopt a flow that ended (both FINs, or an RST) while none ran. */
#define TM_FAST_SEEN_FIN (1u << 3)
#define TM_FAST_SEEN_RST (1u << 4)

/*
 * What one direction sent, in the client's sequence and timestamp spaces (DESIGN.md §3), like
 * struct tm_side: client->server segments are read before translation, server->client ones
 * after.  Advanced with serial (mod 2^32) compares and atomics, so retransmitted, reordered and
 * concurrent (multi-CPU) segments never move nxt, ack or tsval back.
 */
struct tm_fast_side {
	__u64 pkts;    /* segments translated (a GSO super-packet counts once) */
	__u64 bytes;   /* TCP payload bytes, retransmissions included */
	__u64 last_ns; /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE), latest segment */
	__u32 nxt;     /* highest seq + payload length */
	__u32 ack;     /* highest ack, ACK segments only */
	__u32 tsval;   /* newest TSval */
	__u32 tsecr;   /* TSecr of the latest segment with timestamps */
	__u32 win;     /* raw window field of the latest ACK segment */
	__u32 seen;    /* TM_FAST_SEEN_* */
	__u64 data_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the latest segment with payload:
			* which side spoke last, for the daemon's reply boundary (tcpmigd(8)) */
};

/*
 * Value of tm_fast_daemon (an array of one): the daemon's heartbeat, CLOCK_MONOTONIC ns
 * (bpf_ktime_get_ns()), written every TM_FAST_HEARTBEAT_NS; 0 when it stopped and left its flows
 * to the kernel.  Without a live daemon (no beat for TM_FAST_ORPHAN_NS) nothing would translate a
 * punted FIN or RST of an offloaded flow (NFQUEUE has no listener: it passes untouched, to the
 * wrong server, which answers with a reset): the program translates those itself then.
 */
struct tm_fast_daemon {
	__u64 alive_ns;
};
#define TM_FAST_HEARTBEAT_NS (50ull * 1000000ull)
#define TM_FAST_ORPHAN_NS    (500ull * 1000000ull)

/* struct tm_fast_flow.flags, written by the daemon. */
#define TM_FAST_F_PAUSE (1u << 0) /* punt every packet (a migration is starting, teardown) */

/* Value of tm_fast_flows: one direction of an offloaded flow. */
struct tm_fast_flow {
	struct tm_xlate x; /* applied with tm_xlate_rewrite(), as the slow path does */
	__u64 cookie;	   /* the daemon's flow id: pairs both directions after a restart */
	__u8 dir;	   /* TM_FAST_DIR_*: which view st is kept in */
	__u8 pad[3];
	__u32 flags;		/* TM_FAST_F_* */
	struct tm_fast_side st; /* seeded by the daemon, then advanced by the program */
	/* Appended (pinned layout): the take-back handshake (fast.c, docs/fastpath.md). */
	__u32 gate;	/* the flow's slot in tm_fast_gate, shared by both directions */
	__u32 inflight; /* program runs inside this entry right now (atomic) */
};

/*
 * Value of tm_fast_gate (an array, one slot per offloaded flow, written in place by the daemon):
 * non-zero = the daemon is taking the flow back, punt.  A run counts itself in the entry's
 * inflight (a fully ordered atomic) before it reads the gate; the daemon closes the gate, then
 * waits for inflight to fall to 0 before it reads and deletes the entries: no run that missed
 * the closed gate can still be changing state the daemon has already read.
 */
struct tm_fast_gate {
	__u32 closed;
};
/* More runs in one entry than CPUs could make: the entry is garbage, punt (BAD_ENTRY). */
#define TM_FAST_INFLIGHT_SANE (1u << 16)

/*
 * Value of tm_fast_meta, keyed by the flow's cookie: what a restarted daemon needs, beyond the two
 * tm_fast_flows entries, to re-adopt an offloaded flow (tcpmigd(8), Fast path).  The program does
 * not read it; it is in the object so that it is created and pinned with the others.
 */
struct tm_fast_meta {
	struct tm_fast_key ckey;  /* client -> service, as in tm_fast_flows */
	struct tm_addr be_addr;	  /* current backend */
	__u16 be_port;
	__u8 be_wscale;		  /* shifts the backend applies (struct flow in tcpmigd.h) */
	__u8 be_c_wscale;
	__u8 spliced;
	__u8 pad[3];
	__u64 migrations;
	__u8 c_syn[12];		  /* struct tm_synopts of the client's SYN, opaque here */
	__u8 s_syn[12];		  /* and of the first server's SYN-ACK */
};

/*
 * Per-CPU counters in tm_fast_stats, one slot each: what happened to every packet the program
 * saw.  Anything but TM_FAST_XLATED(_ORPHAN), TM_FAST_DROP_BAD_ACK (and TM_FAST_DROP_REWRITE, which
 * cannot happen) leaves the packet untouched and passes it (TC_ACT_OK) to the stack, where the slow path (NFQUEUE)
 * decides.  The checks run in this order (DROP_BAD_ACK right after BAD_OPT), so a packet counts
 * once, under the first reason that applies; SYN/FIN/RST, PAUSED, BAD_ENTRY, DROP_BAD_ACK and BAD_OPT
 * are only counted for offloaded flows.
 */
enum tm_fast_stat {
	TM_FAST_XLATED = 0,	/* translated in the kernel */
	TM_FAST_PUNT_NOT_IP,	/* neither IPv4 nor IPv6 over Ethernet (ARP, in-band VLAN, ...) */
	TM_FAST_PUNT_NOT_TCP,	/* IP, but not TCP */
	TM_FAST_PUNT_FRAG,	/* IPv4 fragment or IPv6 fragment header */
	TM_FAST_PUNT_IP6_EXT,	/* IPv6 extension headers before TCP: left to the slow path */
	TM_FAST_PUNT_MALFORMED, /* IHL or data offset < 5, IP length shorter than the headers */
	TM_FAST_PUNT_TRUNC,	/* the frame is shorter than its headers or the IP length says */
	TM_FAST_PUNT_JUMBO,	/* IP length 0 (BIG TCP, IPv6 jumbogram) */
	TM_FAST_PUNT_PULL,	/* bpf_skb_pull_data() could not make the headers linear */
	TM_FAST_PUNT_NO_FLOW,	/* 4-tuple not offloaded */
	TM_FAST_PUNT_PAUSED,	/* offloaded, TM_FAST_F_PAUSE set by the daemon */
	TM_FAST_PUNT_SYN,	/* SYN on an offloaded tuple */
	TM_FAST_PUNT_FIN,	/* FIN: the slow path tracks the close */
	TM_FAST_PUNT_RST,	/* RST: the slow path checks it is plausible */
	TM_FAST_PUNT_BAD_OPT,	/* malformed TCP options */
	TM_FAST_PUNT_BAD_ENTRY, /* map value unusable: family differs from the packet, bad dir */
	TM_FAST_DROP_REWRITE,	/* a helper failed after the rewrite began: dropped */
	TM_FAST_DROP_BAD_ACK,	/* acknowledges data the peer never sent: dropped, as the slow path
				 * does (checked right after BAD_OPT; appended: pinned layout) */
	TM_FAST_XLATED_ORPHAN,	/* a FIN or RST translated in the kernel: no live daemon */
	TM_FAST_STAT_MAX
};

#ifndef __bpf__
/* A stable short name for a counter (logs, tcpmigctl), "?" out of range. */
static inline const char *tm_fast_stat_name(int i)
{
	static const char *const names[TM_FAST_STAT_MAX] = {
	    [TM_FAST_XLATED] = "translated",
	    [TM_FAST_PUNT_NOT_IP] = "not-ip",
	    [TM_FAST_PUNT_NOT_TCP] = "not-tcp",
	    [TM_FAST_PUNT_FRAG] = "fragment",
	    [TM_FAST_PUNT_IP6_EXT] = "ipv6-exthdr",
	    [TM_FAST_PUNT_MALFORMED] = "malformed",
	    [TM_FAST_PUNT_TRUNC] = "truncated",
	    [TM_FAST_PUNT_JUMBO] = "jumbo",
	    [TM_FAST_PUNT_PULL] = "pull-failed",
	    [TM_FAST_PUNT_NO_FLOW] = "not-offloaded",
	    [TM_FAST_PUNT_PAUSED] = "paused",
	    [TM_FAST_PUNT_SYN] = "syn",
	    [TM_FAST_PUNT_FIN] = "fin",
	    [TM_FAST_PUNT_RST] = "rst",
	    [TM_FAST_PUNT_BAD_OPT] = "bad-options",
	    [TM_FAST_PUNT_BAD_ENTRY] = "bad-entry",
	    [TM_FAST_DROP_REWRITE] = "rewrite-failed-drop",
	    [TM_FAST_DROP_BAD_ACK] = "implausible-ack-drop",
	    [TM_FAST_XLATED_ORPHAN] = "translated-no-daemon",
	};

	return i >= 0 && i < TM_FAST_STAT_MAX && names[i] ? names[i] : "?";
}
#endif

#endif
