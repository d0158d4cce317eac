/* Flow keys, serial-number arithmetic and the per-flow TCP state model of DESIGN.md §3. */
#ifndef TCPMIG_FLOW_H
#define TCPMIG_FLOW_H

#include <tcpmig/pkt.h>
#include <tcpmig/types.h>

/* A directed 4-tuple.  Ports in host order.  Unused address words are zero. */
struct tm_flow_key {
	struct tm_addr saddr;
	struct tm_addr daddr;
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 pad[3];
};

void tm_flow_key_from_pkt(struct tm_flow_key *k, const struct tm_pkt *p);
/* The same flow seen from the other end. */
void tm_flow_key_reverse(struct tm_flow_key *out, const struct tm_flow_key *k);
int tm_flow_key_eq(const struct tm_flow_key *a, const struct tm_flow_key *b);
/*
 * Direction-independent form: endpoints ordered so that both directions of a
 * flow give the same key.  Returns 1 when @k was swapped to get @out.
 */
int tm_flow_key_canon(struct tm_flow_key *out, const struct tm_flow_key *k);
/* Keyed hash (SipHash-2-4 via libsodium) of the canonical key: same for both directions. */
__u64 tm_flow_hash(const struct tm_flow_key *k, const __u8 seed[16]);

/* What one SYN (or SYN-ACK) offered: only these fields of tm_tcpopts. */
struct tm_synopts {
	__u32 present; /* TM_HAS_MSS | TM_HAS_WSCALE | TM_HAS_SACKOK | TM_HAS_TS */
	__u16 mss;
	__u8 wscale;
	__u16 window; /* the SYN's own (unscaled) window */
};

enum tm_tcp_state {
	TM_ST_NONE = 0,
	TM_ST_SYN_SENT,	   /* client SYN seen */
	TM_ST_SYN_RCVD,	   /* server SYN-ACK seen */
	TM_ST_ESTABLISHED, /* client's ACK of the SYN-ACK seen */
	TM_ST_FIN_WAIT,	   /* one side sent FIN */
	TM_ST_CLOSING,	   /* both sides sent FIN */
	TM_ST_CLOSED,	   /* both FINs acked, or RST */
	TM_ST_MAX
};

/* One side (sender) of a flow, in the sequence space the client sees. */
struct tm_side {
	__u32 isn;
	__u32 nxt;	 /* highest seq + len sent (snd_nxt as observed) */
	__u32 una;	 /* highest ack of this side's data from the peer */
	__u32 tsval;	 /* latest TSval this side sent */
	__u32 tsecr;	 /* TSecr in this side's latest segment */
	__u32 win;	 /* latest raw window field */
	__u32 fin_seq;	 /* seq of this side's FIN */
	__u32 wnd_edge;	 /* right edge of the window this side offered: max(ack + (win << shift)) */
	__u8 syn_seen;
	__u8 ts_seen;
	__u8 fin_seen;
	__u8 edge_seen;	 /* wnd_edge holds a value (from the SYN-ACK on) */
	struct tm_synopts syn;
	__u64 bytes;	 /* payload bytes, retransmissions included */
	__u64 pkts;
	__u64 retrans;	 /* segments at or below nxt that carried data */
};

struct tm_flow_state {
	enum tm_tcp_state state;
	struct tm_side c; /* client */
	struct tm_side s; /* server */
	__u64 bad_ack;	  /* acks beyond what the peer sent, ignored */
	__u64 out_of_window; /* segments outside the receiver's window: the model ignored them */
	/* An in-window RST the receiver may answer with a challenge ACK (RFC 5961 3.2) instead of
	 * closing: the model stays open until that receiver shows it lives (or idles out). */
	__u8 rst_pending;    /* 0, or 1 + the tm_dir the RST travelled */
	__u8 rst_prev_state; /* the state before it, restored when it is challenged */
	__u32 rst_seq;
};

enum tm_dir {
	TM_DIR_C2S = 0,
	TM_DIR_S2C = 1,
};

/* What tm_flow_observe() saw, for counters and callers' decisions. */
enum tm_obs {
	TM_OBS_OK = 0,
	TM_OBS_NEW_SYN,	   /* a SYN with a new ISN restarted the model */
	TM_OBS_RETRANS,	   /* data at or below nxt (retransmission / duplicate / reorder) */
	TM_OBS_BAD_ACK,	   /* ack beyond the peer's nxt: not used */
	TM_OBS_RST,	   /* an RST the receiver accepts (seq at its rcv_nxt): closed */
	TM_OBS_OUT_OF_STATE, /* segment that the state cannot have (e.g. data before SYN) */
	TM_OBS_OUT_OF_WINDOW, /* outside what the receiver accepts: ignored (blind spoofing) */
	TM_OBS_RST_CHALLENGE, /* an in-window RST short of rcv_nxt: the receiver challenges it */
};

/* Bytes past a receiver's offered right edge (and before its left one) that still count as in
 * its window: reordered window updates, zero-window probes of other stacks.  A blind spoofer
 * has (window + 2 * slack) / 2^32 chances to be believed. */
#define TM_WND_SLACK 65536u

void tm_flow_init(struct tm_flow_state *f);
/*
 * Update @f from one segment travelling in @dir, seen in the client's
 * sequence spaces (translate server->client segments before observing them).
 * @p must be a parsed packet (tm_pkt_parse() == 0).  Never rolls nxt/una back:
 * reordered, duplicated and retransmitted segments leave the model unchanged.
 */
enum tm_obs tm_flow_observe(struct tm_flow_state *f, enum tm_dir dir, const struct tm_pkt *p);

/* Nothing in flight either way: c.una == c.nxt and s.una == s.nxt. */
int tm_flow_quiescent(const struct tm_flow_state *f);

/* A segment from @dir whose seq lies within what the receiver could accept (for RST/hostile checks). */
int tm_flow_seq_plausible(const struct tm_flow_state *f, enum tm_dir dir, __u32 seq);

/*
 * A segment from @dir covering [@seq, @end) may move the model: it overlaps what the receiver
 * could accept, [snd.una - span - slack, wnd_edge + slack] where span = wnd_edge - snd.una
 * (the receiver's rcv_nxt lies between snd.una and snd.nxt; the gateway cannot see it exactly).
 * True while the handshake has not set an edge yet.
 */
int tm_flow_in_window(const struct tm_flow_state *f, enum tm_dir dir, __u32 seq, __u32 end);

/* The shift a side applies to the windows it sends, as agreed in the handshake (0: no scaling). */
__u8 tm_flow_wscale(const struct tm_flow_state *f, enum tm_dir dir);

const char *tm_flow_state_name(enum tm_tcp_state s);

#endif
