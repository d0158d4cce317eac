/* netem: shared between the tc program (netem.bpf.c) and its loader/delayer (netem.c). */
#ifndef TCPMIG_LAB_NETEM_H
#define TCPMIG_LAB_NETEM_H

#include <linux/types.h>

/* tc filter identity: a fixed handle and priority, so every tool finds the same filter. */
#define NETEM_TC_HANDLE	   0x4e45
#define NETEM_TC_PRIO	   1
#define NETEM_DEFAULT_MARK 0x4e450001u /* skb->mark of packets the delayer sends back */

/* Largest packet (from the Ethernet header) the program copies out for delaying: one GSO
 * super-packet of 64 KiB plus headers.  Bigger packets (BIG TCP) are passed, counted. */
#define NETEM_MAX_PKT 65800

#define NETEM_PPM 1000000u /* probabilities are parts per million */

enum netem_flags {
	NETEM_F_TCP_DATA_ONLY = 1 << 0, /* only TCP segments with payload are candidates */
};

/* Key 0 of the "netem_cfg" array.  gen changes on every write: the per-CPU generators reseed. */
struct netem_cfg {
	__u32 gen;
	__u32 flags;
	__u32 loss_ppm;
	__u32 reorder_ppm;
	__u32 delay_us;
	__u32 reinject_mark; /* 0: there is no delayer, never delay */
	__u64 seed;
};

/* Per-CPU counters in "netem_stats" (summed by readers), one slot per reason. */
enum netem_stat {
	NETEM_ST_SEEN,	     /* packets through the hook */
	NETEM_ST_CANDIDATE,  /* matched the filter (all, or TCP with data) */
	NETEM_ST_DROPPED,    /* lost on purpose */
	NETEM_ST_DELAYED,    /* copied to the delayer and removed from the stream */
	NETEM_ST_DELAY_FAIL, /* chosen for delay but passed: too big, ring full, no delayer */
	NETEM_ST_REINJECTED, /* delayed packets coming back from the delayer */
	NETEM_ST_MAX,
};

/* Counters kept by the delayer in userspace: "netem_stats" slots NETEM_ST_MAX + n. */
enum netem_ustat {
	NETEM_US_RECEIVED,   /* packets taken from the ring */
	NETEM_US_SENT,	     /* packets sent back after the delay */
	NETEM_US_SEGMENTS,   /* wire packets they became (GSO split in userspace) */
	NETEM_US_SEND_ERR,   /* could not send (device gone, malformed) */
	NETEM_US_QUEUE_DROP, /* queue over its byte limit */
	NETEM_US_QUEUED,     /* held right now */
	NETEM_US_MAX,
};

/* Per-CPU PRNG state in "netem_rng": xorshift64*, reseeded from cfg.seed and the CPU number
 * when gen differs, so a run is reproducible for the same packets on the same CPUs. */
struct netem_rng {
	__u64 state;
	__u32 gen;
	__u32 pad;
};

/* One held packet in the ring buffer: this header, then len bytes from the Ethernet header. */
struct netem_held {
	__u64 release_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 len;
	__u32 ifindex;
	__u16 gso_size; /* MSS of a GSO super-packet, 0 if none */
	__u16 gso_segs;
	__u32 pad;
};

struct netem_scratch {
	struct netem_held hdr;
	__u8 data[NETEM_MAX_PKT];
};

#endif
