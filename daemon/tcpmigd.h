/* tcpmigd internals shared by the daemon's modules: config, flows, handoffs, counters. */
#ifndef TCPMIGD_H
#define TCPMIGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <tcpmig/flow.h>
#include <tcpmig/pkt.h>
#include <tcpmig/xlate.h>

#define TM_MAX_BACKENDS 16
#define TM_MAX_SERVICES 64
#define TM_FAST_MAX_IFS 32
#define TM_HOLD_MAX_PKTS 64
#define TM_HOLD_MAX_BYTES (512 * 1024)

/* ---- configuration (conf.c) ---------------------------------------------------------- */

struct tm_endpoint_cfg {
	int family;
	struct tm_addr addr;
	__u16 port;
};

struct tm_service {
	struct tm_endpoint_cfg vip; /* what clients connect to */
	struct tm_endpoint_cfg backends[TM_MAX_BACKENDS];
	int nbackends;
	int line; /* where it was declared */
};

/* What a rule hit (or the lack of one) does to a flow (tcpmigd.conf(5) "on"). */
enum pol_action {
	PA_NONE = 0,
	PA_FORWARD, /* stay on the current backend */
	PA_MIGRATE, /* hand off to a backend or a pool */
	PA_RESET,   /* reset both ends */
	PA_DROP,    /* drop the held request and the rest of the client's data */
};

enum pol_sel {
	PS_SID,
	PS_MSG,
	PS_CLASSTYPE,
	PS_METADATA,
};

#define TM_MAX_POOLS 16
#define TM_MAX_POLICIES 256

struct tm_pool {
	char name[32];
	struct tm_endpoint_cfg eps[TM_MAX_BACKENDS];
	int n;
	unsigned rr; /* round-robin cursor */
};

struct tm_target {
	enum pol_action act;
	int pool; /* index into pools for PA_MIGRATE to a pool, else -1 */
	struct tm_endpoint_cfg to;
};

struct tm_policy {
	enum pol_sel sel;
	__u32 gid, sid;
	char key[64];	/* metadata key */
	char value[128]; /* msg / classtype / metadata value */
	struct tm_target t;
	int line;
};

struct tm_config {
	char path[256];
	int queue;		  /* NFQUEUE number */
	unsigned max_flows;
	unsigned idle_timeout_s;  /* established flows without packets */
	unsigned embryonic_timeout_s;
	unsigned closed_linger_s; /* keep translating late FIN/ACKs after close */
	unsigned quiesce_timeout_ms;
	unsigned quiesce_settle_ms; /* wait for a natural boundary before pausing the server */
	bool quiesce_bytes;	  /* quiesce-mode bytes: byte-level quiescence is enough */
	unsigned handoff_timeout_ms;
	unsigned syn_rto_ms;	  /* first retransmission of crafted packets */
	__u16 mss_clamp;	  /* 0: off */
	bool install_rules;	  /* raw-table chains managed by the daemon */
	char rules_chain[32];
	char sock_path[108];
	/* eBPF fast path (fast.c) */
	bool fast_path;
	__u32 fast_mark, fast_mark_mask; /* skb->mark of packets it translated */
	char fast_ifaces[TM_FAST_MAX_IFS][16];
	int fast_nifaces;		  /* 0: every up Ethernet interface */
	char fast_pin[200];		  /* bpffs directory for the maps, "" = no pinning */
	struct tm_service services[TM_MAX_SERVICES];
	int nservices;
	/* traffic analyzer (analyzer.c) */
	char rules_path[256];	   /* empty: no analyzer */
	unsigned inspect_depth;	   /* client bytes looked at */
	unsigned inspect_wait_ms;  /* hold of an unmatched first request */
	struct tm_pool pools[TM_MAX_POOLS];
	int npools;
	struct tm_policy policies[TM_MAX_POLICIES];
	int npolicies;
	struct tm_target default_action;
};

/* Parse @path; on errors print "path:line: message 'token'" for every error and return -1. */
int conf_load(struct tm_config *c, const char *path);
void conf_defaults(struct tm_config *c);

/* ---- counters ------------------------------------------------------------------------ */

#define TM_COUNTERS(X)                                                                        \
	X(pkts_in)                                                                            \
	X(pkts_c2s)                                                                           \
	X(pkts_s2c)                                                                           \
	X(pkts_unmanaged)                                                                     \
	X(pkts_translated)                                                                    \
	X(pkts_csum_partial)                                                                  \
	X(pkts_held)                                                                          \
	X(pkts_held_dup)                                                                      \
	X(pkts_dropped_old_backend)                                                           \
	X(crafted_rst_old_backend)                                                            \
	X(pkts_dropped_hold_full)                                                             \
	X(pkts_dropped_malformed)                                                             \
	X(pkts_dropped_spoofed)                                                               \
	X(pkts_retrans)                                                                       \
	X(bad_ack)                                                                            \
	X(pkts_out_of_window)                                                                 \
	X(rst_challenged)                                                                     \
	X(pkts_dropped_truncated)                                                             \
	X(synack_repeated)                                                                    \
	X(malformed_ip_truncated)                                                             \
	X(malformed_ip_version)                                                               \
	X(malformed_ip_ihl)                                                                   \
	X(malformed_ip_length)                                                                \
	X(malformed_ip_fragment)                                                              \
	X(malformed_ip6_exthdr)                                                               \
	X(malformed_tcp_truncated)                                                            \
	X(malformed_tcp_data_offset)                                                          \
	X(malformed_tcp_options)                                                              \
	X(malformed_other)                                                                    \
	X(flows_created)                                                                      \
	X(flows_removed)                                                                      \
	X(flows_active)                                                                       \
	X(flows_table_full)                                                                   \
	X(flows_idle_expired)                                                                 \
	X(migrations_started)                                                                 \
	X(migrations_committed)                                                               \
	X(migrations_rolled_back)                                                             \
	X(crafted_syn)                                                                        \
	X(crafted_syn_retrans)                                                                \
	X(crafted_ack)                                                                        \
	X(crafted_rst)                                                                        \
	X(crafted_winupdate)                                                                  \
	X(crafted_probe)                                                                      \
	X(crafted_send_errors)                                                                \
	X(verdict_errors)                                                                     \
	X(analyzer_decisions)                                                                 \
	X(analyzer_forward)                                                                   \
	X(analyzer_migrate)                                                                   \
	X(analyzer_reset)                                                                     \
	X(analyzer_drop)                                                                      \
	X(analyzer_errors)                                                                    \
	X(pkts_dropped_policy)                                                                \
	X(ctl_requests)                                                                       \
	X(ctl_errors)                                                                         \
	X(old_backend_rst_absorbed)                                                           \
	X(crafted_rst_client)                                                                 \
	X(fast_offloads)                                                                      \
	X(fast_takebacks)                                                                     \
	X(fast_offload_errors)                                                                \
	X(fast_takeback_waits)                                                                \
	X(fast_takeback_stuck)                                                                \
	X(fast_readopted)                                                                     \
	X(fast_readopt_closed)                                                                \
	X(flows_offloaded)

struct tm_counters {
#define X(n) uint64_t n;
	TM_COUNTERS(X)
#undef X
};

extern struct tm_counters g_cnt;

/* ---- flows (table.c) ----------------------------------------------------------------- */

enum hs_state {
	HS_NONE = 0,
	HS_QUIESCE,   /* waiting for a boundary: nothing in flight, the client's data answered */
	HS_SYN_SENT,  /* replayed SYN out, waiting for the new backend's SYN-ACK */
	HS_ESTAB,     /* third ACK sent; commit as soon as the flow is at a boundary */
};

enum fnode_kind {
	FN_CLIENT,  /* client -> service packets */
	FN_BACKEND, /* current backend -> client */
	FN_TARGET,  /* handoff target -> client (its SYN-ACK) */
	FN_OLD,	    /* a former backend -> client: dropped */
};

struct flow;

struct fnode {
	struct tm_flow_key key; /* directed: as the packet arrives */
	struct flow *flow;
	struct fnode *next;	/* hash chain */
	struct fnode *fnext;	/* the flow's list of tombstones */
	enum fnode_kind kind;
	bool linked;
	uint64_t last_rst_ns; /* FN_OLD: when we last reset that former backend */
};

struct held_pkt {
	uint32_t id; /* NFQUEUE packet id */
	uint32_t len;
	bool csum_partial;
	uint8_t *data;
};

/* Client segments without a verdict yet (hold.c): each owns an NFQUEUE slot until released
 * (through the flow's translation) or dropped. */
struct hold_q {
	struct held_pkt *pkt; /* TM_HOLD_MAX_PKTS of them, allocated while in use only: a flow that
			       * holds nothing carries 8 bytes, not 1.5 KiB */
	unsigned n;
	size_t bytes;
	__u32 end;	    /* client sequence after the last byte held */
	bool have_ts;
	__u32 first_tsval;  /* the oldest TSval held */
};

struct ctl_conn;

/* What the flow's current backend was told when a handoff brought the flow to it: enough to
 * answer its repeated SYN-ACK (our third ACK lost) long after the commit. */
struct replay_rec {
	bool valid;
	__u32 cut_seq; /* the client sequence the backend expects first (replayed SYN + 1) */
	__u32 tsval;   /* TSval of the replayed SYN and third ACK */
	__u32 isn2;    /* the backend's ISN, in its own space */
	__u32 t2;      /* its SYN-ACK's TSval */
	struct tm_synopts syn2;
};

struct handoff {
	enum hs_state st;
	struct tm_endpoint_cfg to;
	struct tm_endpoint_cfg from;
	struct fnode target_node;
	uint64_t started_ns;
	uint64_t deadline_ns; /* whole handoff */
	uint64_t next_tx_ns;  /* retransmission of the crafted SYN / ACK */
	unsigned rto_ms;
	unsigned tries;
	unsigned challenge_try; /* the SYN try whose challenge ACK we answered (one each) */
	struct replay_rec rec; /* cut_seq and tsval fixed by the first SYN; isn2.. by the SYN-ACK */
	bool have_synack;
	bool target_was_old; /* the target is a former backend of this flow (tombstoned) */
	bool old_reset;	     /* the old backend reset the flow after the cut (absorbed) */
	struct hold_q held;  /* the client's data since the handoff began ('m' and after) */
	uint64_t settle_ns;  /* HS_QUIESCE: when to start pausing the server */
	bool settled;	     /* past settle_ns */
	bool paused;	     /* a pause was applied: a rollback must reopen both windows */
	struct ctl_conn *waiter; /* tcpmigctl migrate waiting for the outcome */
};

struct flow {
	uint64_t id;
	const struct tm_service *svc;
	struct tm_flow_key ckey;    /* client -> service */
	struct tm_endpoint_cfg backend;
	struct tm_flow_state st;    /* in the client's sequence spaces */
	struct tm_xlate c2s;	    /* applied to client -> backend packets */
	struct tm_xlate s2c;	    /* applied to backend -> client packets */
	bool spliced;		    /* translation active (migrated at least once) */
	bool pause_client;	    /* zero window in what the client receives: it stops sending */
	bool pause_server;	    /* zero window in what the backend receives */
	bool awaiting_reply;	    /* the client's latest data has no server data after it yet */
	__u16 s_win_real;	    /* the backend's window before the pause rewrote it (client view) */
	struct fnode cnode;
	struct fnode bnode;
	struct fnode *tombs;
	struct handoff hs;
	uint64_t created_ns;
	uint64_t last_ns;
	uint64_t migrations;
	uint64_t rollbacks;
	char last_error[48];
	__u8 be_wscale;		    /* shift the current backend applies to windows it sends */
	__u8 be_c_wscale;	    /* shift the current backend applies to the client's windows */
	struct replay_rec be_rec;   /* how the last handoff reached the current backend */
	struct flow *lnext, *lprev; /* all flows, for listing and sweeping */
	struct flow *hnext, *hprev; /* flows with a running handoff */
	bool offloaded;		    /* in the fast path's map: the kernel translates it */
	__u32 fast_gate;	    /* its slot in tm_fast_gate while offloaded (fast.c) */
	uint64_t fast_retry_ns;	    /* offload failed (map full): not before then */
	__u64 fast_cookie;	    /* key of its tm_fast_meta entry (its id when offloaded) */
	bool an_done;		    /* first request decided (or nothing to inspect) */
	bool an_dropping;	    /* policy "drop": the client's data is discarded */
	struct an_state *an;	    /* while the first request is inspected */
};

int table_init(unsigned max_flows);
void table_fini(void);
struct fnode *table_lookup(const struct tm_flow_key *k);
struct flow *table_new_flow(const struct tm_service *svc, const struct tm_flow_key *ckey,
			    const struct tm_endpoint_cfg *backend);
void table_free_flow(struct flow *f);
void table_link(struct fnode *n, struct flow *f, const struct tm_flow_key *k, enum fnode_kind kind);
void table_unlink(struct fnode *n);
void table_add_tomb(struct flow *f, const struct tm_flow_key *k);
void table_drop_tomb(struct flow *f, const struct tm_flow_key *k);
struct flow *table_first(void);
struct flow *table_find_id(uint64_t id);
struct flow *table_find_client(const struct tm_addr *a, int family, __u16 port);
unsigned table_count(void);
void table_reserve_id(uint64_t id); /* later flows get larger ids */

/* ---- flow helpers (flow.c) --------------------------------------------------------------- */

/* Key of packets from @ep to the flow's client. */
void flow_backend_key(const struct flow *f, const struct tm_endpoint_cfg *ep, struct tm_flow_key *k);
/* Address/port rewrite between the service address and the current backend (deltas untouched). */
void flow_set_endpoints(struct flow *f);
/* The client's view of window scaling: shift of the server's windows, of its own windows. */
__u8 flow_client_s_ws(const struct flow *f);
__u8 flow_client_c_ws(const struct flow *f);
/* The flow cannot live without the gateway: spliced, or addresses rewritten (a virtual service). */
bool flow_needs_gateway(const struct flow *f);
/* Closed, or closing by an RST nobody challenged: nothing more to translate but late packets. */
bool flow_is_over(const struct flow *f);

/* ---- crafted packets (craft.c) ----------------------------------------------------------- */

int craft_init(void); /* raw sockets */
void craft_fini(void);
/* Send a complete IP packet; 0, or -1 (counted in crafted_send_errors). */
int craft_send(const uint8_t *pkt, int len, int family);
/* An RST to @f's client, as the service, at the server's next sequence number. */
int craft_rst_client(const struct flow *f);
/* An RST as @f's client to backend @ep, at @seq (that backend's rcv_nxt). */
int craft_rst_backend(const struct flow *f, const struct tm_endpoint_cfg *ep, __u32 seq);
/* An RST along tuple @from (from its source to its destination), at @seq. */
int craft_rst_tuple(const struct tm_flow_key *from, __u32 seq);
/* RSTs to the current backend and to the client (crafted_rst += 2). */
int craft_reset_both(const struct flow *f);
/* A pure ACK to the client as the service (client's view). */
int craft_ack_client(const struct flow *f, __u32 seq, __u32 ack, __u16 win, __u32 tsval);
/* A pure ACK to the current backend as the client, built in the client's view and translated. */
int craft_ack_backend(const struct flow *f, __u32 seq, __u32 ack, __u16 win);
/* Both ends' real windows again (after a pause): crafted_winupdate += 2. */
void craft_window_updates(const struct flow *f);
int craft_replay_syn(const struct flow *f, const struct tm_endpoint_cfg *to,
		     const struct tm_flow_state *st);
int craft_third_ack(const struct flow *f, const struct tm_endpoint_cfg *to,
		    const struct tm_flow_state *st, __u32 isn2, __u32 t2,
		    const struct tm_synopts *syn2);

/* ---- hold queue (hold.c) ------------------------------------------------------------------ */

struct pkt_ctx;
int hold_init(struct hold_q *q);			  /* allocates the array */
int hold_push(struct hold_q *q, const struct pkt_ctx *x); /* copy; -1 when full */
void hold_release(struct flow *f, struct hold_q *q);	  /* verdicts through the translation */
void hold_drop(struct hold_q *q);			  /* drop verdicts */
void hold_move(struct hold_q *dst, struct hold_q *src);  /* src's packets become dst's */
void hold_free(struct hold_q *q);			  /* drops what is left, frees */

/* ---- data path (gw.c) ------------------------------------------------------------------ */

enum verdict {
	V_ACCEPT,	 /* unchanged */
	V_ACCEPT_MANGLED, /* with the rewritten bytes */
	V_DROP,
	V_HOLD,		 /* no verdict now: the handoff owns the packet */
};

struct pkt_ctx {
	uint32_t id;
	uint8_t *data;
	uint32_t len;
	bool csum_partial;
	struct tm_pkt p;
};

int gw_init(struct tm_config *c);
void gw_fini(void);
enum verdict gw_packet(struct pkt_ctx *x);
/* A copy NFQUEUE truncated (CAP_LEN): dropped if it belongs to a managed flow. */
enum verdict gw_truncated(const struct pkt_ctx *x);
/* Periodic work: handoff timers, idle expiry.  @now in CLOCK_MONOTONIC ns. */
void gw_tick(uint64_t now);
/* Clean shutdown: reset every flow that needs the gateway at both ends (tcpmigd(8)). */
void gw_shutdown_flows(void);
const struct tm_service *gw_find_service(const struct tm_flow_key *k);
bool svc_has_backend(const struct tm_service *svc, const struct tm_endpoint_cfg *ep);
/* Client->server packet of a managed flow, after handoff decisions: observe, pause, translate. */
enum verdict gw_forward_c2s(struct flow *f, struct pkt_ctx *x);
extern struct tm_config *g_conf;
/* Give held client segments their verdicts through the flow's current translation. */
void gw_release(struct flow *f, struct held_pkt *h, unsigned n);

/* ---- eBPF fast path (fast.c) ------------------------------------------------------------ */
struct sbuf;
struct fast_view {
	uint64_t bytes_c2s, bytes_s2c, pkts_c2s, pkts_s2c;
	uint64_t last_ns; /* CLOCK_MONOTONIC of the latest packet it translated */
	/* The model's sequence ends moved on by what the kernel saw (serial max): c_nxt, c_una,
	 * s_nxt, s_una as struct tm_side has them, for tcpmigctl flow. */
	uint32_t c_nxt, c_una, s_nxt, s_una;
};
int fast_init(const struct tm_config *c); /* nothing when fast-path is off */
void fast_fini(void);			  /* detaches, unless fast_keeps_flows() */
bool fast_keeps_flows(void);		  /* pinned maps hold offloaded flows: leave them be */
void fast_heartbeat(uint64_t now);	  /* tell the program a daemon takes its punts (gw_tick) */
bool fast_enabled(void);
bool fast_offload(struct flow *f, uint64_t now); /* when the flow may go: established, decided */
void fast_takeback(struct flow *f); /* back into the slow path, state merged */
void fast_forget(struct flow *f);		   /* the flow is going away */
bool fast_peek(const struct flow *f, struct fast_view *v);
void fast_stats(struct sbuf *b); /* "fast_<counter>":N, for each program counter */

/* ---- handoff (handoff.c) --------------------------------------------------------------- */

/* Start handing @f to @to; returns 0 (running) or a reason token on immediate failure. */
const char *hs_begin(struct flow *f, const struct tm_endpoint_cfg *to, struct ctl_conn *waiter);
/* Packets that belong to a running handoff; returns true when it took the verdict decision. */
bool hs_client_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v);
bool hs_target_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v);
bool hs_old_backend_reset(struct flow *f); /* an RST from the backend being left: absorbed? */
void hs_tick(struct flow *f, uint64_t now);
void hs_abort(struct flow *f, const char *reason);
void hs_after_packet(struct flow *f, uint64_t now);
/* Run timers of every running handoff. */
void hs_tick_all(uint64_t now);
/* A SYN-ACK from the flow's current backend after the commit that brought it there (our third
 * ACK was lost): answered with that ACK again; true when it was (the caller drops the packet). */
bool hs_repeated_synack(struct flow *f, const struct pkt_ctx *x);
/* The analyzer's held first request becomes the handoff's 'm' (it started the handoff). */
void hs_adopt_held(struct flow *f, struct hold_q *q);
/* The old backend sent FIN or RST while the handoff waited for a cut: the handoff is abandoned. */
void hs_old_backend_closing(struct flow *f);

/* ---- NFQUEUE (nfq.c) ------------------------------------------------------------------ */

int nfq_open_queue(int queue);
int nfq_sock_fd(void);
/* Read and process every pending packet; returns -1 on fatal error. */
int nfq_dispatch(void);
int nfq_verdict(uint32_t id, int verdict_accept, const uint8_t *data, uint32_t len);
void nfq_close_queue(void);

/* ---- packet filter rules (rules_ipt.c) ------------------------------------------------------ */

int rules_install(const struct tm_config *c);
void rules_remove(const struct tm_config *c);

/* ---- control socket (ctl.c) ------------------------------------------------------------ */

int ctl_probe(const char *path); /* -1: another daemon listens there */
int ctl_open(const char *path);
int ctl_fd(void);
void ctl_accept(void);
void ctl_conn_event(struct ctl_conn *cc, uint32_t events);
/* Free connections closed during the last epoll batch. */
void ctl_reap(void);
void ctl_close(const char *path);
/* Complete a pending migrate request (reason NULL: committed). */
void ctl_migrate_done(struct ctl_conn *cc, struct flow *f, const char *reason, uint64_t elapsed_us);
void ctl_flow_gone(struct flow *f);

/* ---- events (events.c) and the traffic analyzer (analyzer.c) ------------------------- */

void ev_push(const char *type, uint64_t flow, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct sbuf;
void ev_json(struct sbuf *b, uint64_t since, unsigned max);

/* Load the configured rules; -1 when they have errors (printed as file:line). */
int an_init(struct tm_config *c);
void an_fini(void);
/* Re-read configuration and rules; on any error keep the running ones and return -1 with the
 * messages in @errs.  Services must not change (a restart applies those). */
int an_reload(struct tm_config *c, struct sbuf *errs);
bool an_enabled(void);
/* A client segment of a flow whose first request is not decided yet; true: verdict taken. */
bool an_client_packet(struct flow *f, struct pkt_ctx *x, enum verdict *v);
void an_tick(uint64_t now);
void an_flow_free(struct flow *f);
void an_rules_json(struct sbuf *b);

/* ---- misc (log.c) --------------------------------------------------------------------- */

extern int g_verbose;
extern int g_epfd;
uint64_t now_ns(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ep_str(const struct tm_endpoint_cfg *e, char *buf, size_t cap);
bool ep_eq(const struct tm_endpoint_cfg *a, const struct tm_endpoint_cfg *b);

/* Growable string for JSON answers (json.c). */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);
void sb_free(struct sbuf *b);
void json_flow(struct sbuf *b, const struct flow *f);

#endif
