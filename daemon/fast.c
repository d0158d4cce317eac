/*
 * The eBPF fast path from the daemon's side (docs/fastpath.md, DESIGN.md §2): load tcpmig_fast,
 * attach it to the gateway's interfaces (tc ingress), offload established flows, take them back
 * into the slow path for a handoff or for anything the kernel punts (FIN, RST, SYN, bad options).
 *
 * Offload writes a flow's two map entries (client -> service, backend -> client) seeded from the
 * model, with a gate slot (tm_fast_gate) of its own; from then on the program translates and
 * keeps the state.  Take-back closes the gate, waits until no program run is inside either entry
 * (their inflight counts), then reads both, merges their state into the model (serial max:
 * nothing moves back) and deletes them.  A run on another CPU either saw the closed gate and
 * punted its packet to the queue, where the slow path takes it after the take-back, or it had
 * counted itself in and finished its state update before the daemon read: the model misses no
 * segment the kernel forwarded (a handoff cut at a stale sequence number would stall the flow).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "fast.h"
#include "tcpmig_fast.skel.h"
#include "tcpmigd.h"

#define FAST_TC_HANDLE 0x746d /* "tm" */
#define FAST_TC_PRIO   2      /* after the lab's loss injector (prio 1), which passes packets on */
#define FAST_WAIT_NS   (10ull * 1000000ull) /* for program runs still inside a flow's entries */

_Static_assert(sizeof(struct tm_fast_key) == sizeof(struct tm_flow_key), "key layouts differ");
_Static_assert(sizeof(((struct tm_fast_meta *)0)->c_syn) == sizeof(struct tm_synopts),
	       "tm_fast_meta holds a struct tm_synopts");

static struct tcpmig_fast *skel;
static int flows_fd = -1, stats_fd = -1, meta_fd = -1, daemon_fd = -1, gate_fd = -1;
static uint8_t *gate_used; /* one byte per tm_fast_gate slot: held by an offloaded flow */
static __u32 ngates, gate_next;
static uint64_t last_beat_ns;
static bool pinned; /* maps pinned in bpffs: offloaded flows outlive the daemon */
static int ifs[TM_FAST_MAX_IFS];
static int nifs;

static int libbpf_log(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char buf[512];

	if (lvl == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("libbpf: %s", buf);
	return 0;
}

bool fast_enabled(void)
{
	return skel != NULL;
}

/* Every up, non-loopback Ethernet interface of this network namespace (its sysfs). */
static int default_ifaces(void)
{
	struct if_nameindex *ni = if_nameindex(), *i;

	if (!ni)
		return -1;
	for (i = ni; i->if_index && nifs < TM_FAST_MAX_IFS; i++) {
		char path[96];
		unsigned type = 0, flags = 0;
		FILE *fp;

		snprintf(path, sizeof(path), "/sys/class/net/%s/type", i->if_name);
		fp = fopen(path, "r");
		if (!fp || fscanf(fp, "%u", &type) != 1)
			type = 0;
		if (fp)
			fclose(fp);
		snprintf(path, sizeof(path), "/sys/class/net/%s/flags", i->if_name);
		fp = fopen(path, "r");
		if (!fp || fscanf(fp, "%x", &flags) != 1)
			flags = 0;
		if (fp)
			fclose(fp);
		if (type == 1 /* ARPHRD_ETHER */ && (flags & IFF_UP) && !(flags & IFF_LOOPBACK))
			ifs[nifs++] = (int)i->if_index;
	}
	if_freenameindex(ni);
	return 0;
}

static int attach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FAST_TC_HANDLE, .priority = FAST_TC_PRIO,
		    .prog_fd = bpf_program__fd(skel->progs.tcpmig_fast), .flags = BPF_TC_F_REPLACE);
	char name[IF_NAMESIZE] = "?";
	int err;

	if_indextoname((unsigned)ifindex, name);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		log_warnx("fast path: cannot create the clsact qdisc on %s: %s", name,
			  strerror(-err));
		return -1;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_warnx("fast path: cannot attach to %s: %s", name, strerror(-err));
		return -1;
	}
	log_info("fast path: attached to %s (tc ingress, handle 0x%x, prio %d)", name,
		 FAST_TC_HANDLE, FAST_TC_PRIO);
	return 0;
}

static void detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FAST_TC_HANDLE, .priority = FAST_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

/* Pin the maps under fast-path-pin (reused when a former daemon left them): only on a bpffs. */
static bool pin_setup(const struct tm_config *c)
{
	struct bpf_map *maps[] = {skel->maps.tm_fast_flows, skel->maps.tm_fast_stats,
				  skel->maps.tm_fast_meta, skel->maps.tm_fast_daemon,
				  skel->maps.tm_fast_gate};
	struct statfs sf;
	char path[300];

	if (!c->fast_pin[0])
		return false;
	mkdir(c->fast_pin, 0700);
	if (statfs(c->fast_pin, &sf) || sf.f_type != BPF_FS_MAGIC) {
		log_warnx(
		    "fast path: %s is not on a bpf file system: maps not pinned, offloaded flows "
		    "will not survive a restart",
		    c->fast_pin);
		return false;
	}
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->fast_pin, bpf_map__name(maps[i]));
		bpf_map__set_pin_path(maps[i], path);
	}
	return true;
}

static void keys(const struct flow *f, struct tm_fast_key *c2s, struct tm_fast_key *s2c);
static void meta_key_del(__u64 cookie);

/* A gate slot's state, written in place (array map): closed = punt every packet. */
static int gate_set(__u32 slot, bool closed)
{
	struct tm_fast_gate g = {.closed = closed};

	return bpf_map_update_elem(gate_fd, &slot, &g, BPF_ANY);
}

/* A free gate slot, opened, or -1.  Round robin: a freed slot is reused as late as possible. */
static int64_t gate_alloc(void)
{
	for (__u32 i = 0; i < ngates; i++) {
		__u32 slot = (gate_next + i) % ngates;

		if (gate_used[slot])
			continue;
		if (gate_set(slot, false))
			return -1;
		gate_used[slot] = 1;
		gate_next = (slot + 1) % ngates;
		return slot;
	}
	return -1;
}

/* Free, and left closed (the caller closed it): a run that looked the entry up just before its
 * delete still punts. */
static void gate_release(__u32 slot)
{
	if (slot < ngates)
		gate_used[slot] = 0;
}

/* One flow a former daemon left offloaded: back into the table, still offloaded. */
static bool readopt_one(__u64 cookie, uint64_t now)
{
	struct tm_fast_meta m;
	struct tm_fast_flow vc, vs;
	struct tm_fast_key ks;
	struct tm_flow_key ck;
	struct tm_endpoint_cfg be = {0};
	const struct tm_service *svc;
	struct flow *f;

	if (bpf_map_lookup_elem(meta_fd, &cookie, &m))
		return false;
	memcpy(&ck, &m.ckey, sizeof(ck));
	be.family = ck.family;
	be.addr = m.be_addr;
	be.port = m.be_port;
	memset(&ks, 0, sizeof(ks));
	ks.family = ck.family;
	ks.saddr = m.be_addr;
	ks.sport = m.be_port;
	ks.daddr = ck.saddr;
	ks.dport = ck.sport;
	svc = gw_find_service(&ck);
	if (!svc || !svc_has_backend(svc, &be) || bpf_map_lookup_elem(flows_fd, &m.ckey, &vc) ||
	    bpf_map_lookup_elem(flows_fd, &ks, &vs) || table_lookup(&ck))
		goto drop;
	/* Ended while no daemon ran (the program translated its FINs or an RST): nothing to adopt.
	 */
	if (((vc.st.seen | vs.st.seen) & TM_FAST_SEEN_RST) ||
	    ((vc.st.seen & vs.st.seen) & TM_FAST_SEEN_FIN)) {
		g_cnt.fast_readopt_closed++;
		goto drop;
	}
	/* Both directions behind one gate, which no other re-adopted flow holds; opened (the former
	 * daemon may have died half way through a take-back). */
	if (vc.gate != vs.gate || vc.gate >= ngates || gate_used[vc.gate] || gate_set(vc.gate, false))
		goto drop;
	f = table_new_flow(svc, &ck, &be);
	if (!f) {
		gate_set(vc.gate, true);
		goto drop;
	}
	gate_used[vc.gate] = 1;
	f->fast_gate = vc.gate;
	table_reserve_id(cookie);
	f->id = cookie;
	f->st.state = TM_ST_ESTABLISHED;
	memcpy(&f->st.c.syn, m.c_syn, sizeof(f->st.c.syn));
	memcpy(&f->st.s.syn, m.s_syn, sizeof(f->st.s.syn));
	f->st.c.syn_seen = f->st.s.syn_seen = 1;
	f->st.c.nxt = vc.st.nxt;
	f->st.c.tsval = vc.st.tsval;
	f->st.c.tsecr = vc.st.tsecr;
	f->st.c.win = vc.st.win;
	f->st.c.ts_seen = (vc.st.seen & TM_FAST_SEEN_TS) != 0;
	f->st.s.nxt = vs.st.nxt;
	f->st.s.tsval = vs.st.tsval;
	f->st.s.tsecr = vs.st.tsecr;
	f->st.s.win = vs.st.win;
	f->st.s.ts_seen = (vs.st.seen & TM_FAST_SEEN_TS) != 0;
	f->st.c.una = vs.st.ack;
	f->st.s.una = vc.st.ack;
	f->c2s = vc.x;
	f->s2c = vs.x;
	f->spliced = m.spliced;
	f->be_wscale = m.be_wscale;
	f->be_c_wscale = m.be_c_wscale;
	f->migrations = m.migrations;
	f->an_done = true;
	f->offloaded = true;
	f->fast_cookie = cookie;
	f->last_ns = now;
	g_cnt.flows_offloaded++;
	return true;
drop:
	bpf_map_delete_elem(flows_fd, &m.ckey);
	bpf_map_delete_elem(flows_fd, &ks);
	meta_key_del(cookie);
	return false;
}

static void readopt(void)
{
	__u32 cap = bpf_map__max_entries(skel->maps.tm_fast_meta);
	__u64 *cookies = calloc(cap ? cap : 1, sizeof(*cookies)), key, *prev = NULL;
	uint64_t now = now_ns();
	unsigned n = 0, ok = 0;

	if (!cookies)
		return;
	while (n < cap && bpf_map_get_next_key(meta_fd, prev, &key) == 0) {
		cookies[n++] = key;
		prev = &cookies[n - 1];
	}
	for (unsigned i = 0; i < n; i++)
		ok += readopt_one(cookies[i], now);
	free(cookies);
	g_cnt.fast_readopted += ok;
	if (n)
		log_info("fast path: re-adopted %u offloaded flow(s) a former tcpmigd left%s", ok,
			 ok < n ? " (the others had closed or could not be: dropped)" : "");
}

int fast_init(const struct tm_config *c)
{
	__u32 cap = c->max_flows > (1u << 21) ? (1u << 22) : 2 * c->max_flows;
	int err;

	if (!c->fast_path)
		return 0;
	libbpf_set_print(libbpf_log);
	skel = tcpmig_fast__open();
	if (!skel) {
		log_warnx("fast path: cannot open the BPF object");
		return -1;
	}
	bpf_map__set_max_entries(skel->maps.tm_fast_flows, cap);
	bpf_map__set_max_entries(skel->maps.tm_fast_meta, cap / 2);
	bpf_map__set_max_entries(skel->maps.tm_fast_gate, cap / 2);
	skel->rodata->tm_fast_mark_value = c->fast_mark;
	skel->rodata->tm_fast_mark_mask = c->fast_mark_mask;
	pinned = pin_setup(c);
	err = tcpmig_fast__load(skel);
	if (err) {
		log_warnx("fast path: the kernel refused tcpmig_fast (%s)%s; 'fast-path off' runs "
			  "the slow path only",
			  strerror(-err),
			  pinned ? " (maps pinned by another version or size in fast-path-pin?)"
				 : "");
		tcpmig_fast__destroy(skel);
		skel = NULL;
		return -1;
	}
	flows_fd = bpf_map__fd(skel->maps.tm_fast_flows);
	stats_fd = bpf_map__fd(skel->maps.tm_fast_stats);
	meta_fd = bpf_map__fd(skel->maps.tm_fast_meta);
	daemon_fd = bpf_map__fd(skel->maps.tm_fast_daemon);
	gate_fd = bpf_map__fd(skel->maps.tm_fast_gate);
	ngates = bpf_map__max_entries(skel->maps.tm_fast_gate);
	gate_next = 0;
	gate_used = calloc(ngates ? ngates : 1, 1);
	if (!gate_used) {
		log_warnx("fast path: out of memory for %u gate slots", ngates);
		goto fail;
	}
	fast_heartbeat(now_ns()); /* before the attach: punted FIN/RST are ours from now on */
	nifs = 0;
	for (int i = 0; i < c->fast_nifaces; i++) {
		int idx = (int)if_nametoindex(c->fast_ifaces[i]);

		if (!idx) {
			log_warnx("fast path: no interface '%s'", c->fast_ifaces[i]);
			goto fail;
		}
		ifs[nifs++] = idx;
	}
	if (!c->fast_nifaces && default_ifaces())
		goto fail;
	for (int i = 0; i < nifs; i++)
		if (attach(ifs[i]))
			goto fail;
	if (pinned)
		readopt();
	return 0;
fail:
	fast_fini();
	return -1;
}

static void beat(uint64_t alive_ns)
{
	struct tm_fast_daemon d = {.alive_ns = alive_ns};
	__u32 zero = 0;

	if (bpf_map_update_elem(daemon_fd, &zero, &d, BPF_ANY) == 0)
		last_beat_ns = alive_ns;
}

void fast_heartbeat(uint64_t now)
{
	if (skel && now - last_beat_ns >= TM_FAST_HEARTBEAT_NS)
		beat(now);
}

bool fast_keeps_flows(void)
{
	return skel && pinned && g_cnt.flows_offloaded > 0;
}

void fast_fini(void)
{
	if (!skel)
		return;
	if (fast_keeps_flows()) {
		beat(0); /* gone: the program translates their FIN and RST itself until a restart */
		log_info(
		    "fast path: %llu offloaded flow(s) left to the kernel (maps pinned, program "
		    "attached); a restarted tcpmigd re-adopts them",
		    (unsigned long long)g_cnt.flows_offloaded);
	} else
		for (int i = 0; i < nifs; i++)
			detach(ifs[i]);
	nifs = 0;
	tcpmig_fast__destroy(skel);
	skel = NULL;
	free(gate_used);
	gate_used = NULL;
	ngates = 0;
	flows_fd = stats_fd = meta_fd = daemon_fd = gate_fd = -1;
	last_beat_ns = 0;
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void keys(const struct flow *f, struct tm_fast_key *c2s, struct tm_fast_key *s2c)
{
	struct tm_flow_key bk;

	memcpy(c2s, &f->ckey, sizeof(*c2s));
	flow_backend_key(f, &f->backend, &bk);
	memcpy(s2c, &bk, sizeof(*s2c));
}

/* One direction's entry state from the model: @sd sends, @peer's una is what @sd acknowledged. */
static void seed_side(struct tm_fast_side *fs, const struct tm_side *sd, const struct tm_side *peer)
{
	memset(fs, 0, sizeof(*fs));
	fs->last_ns = coarse_ns();
	fs->nxt = sd->nxt;
	fs->ack = peer->una;
	fs->tsval = sd->tsval;
	fs->tsecr = sd->tsecr;
	fs->win = sd->win;
	fs->seen = TM_FAST_SEEN_NXT | TM_FAST_SEEN_ACK | (sd->ts_seen ? TM_FAST_SEEN_TS : 0);
}

bool fast_offload(struct flow *f, uint64_t now)
{
	struct tm_fast_key kc, ks;
	struct tm_fast_flow vc = {0}, vs = {0};
	int64_t slot;

	if (!skel || f->offloaded || f->st.state != TM_ST_ESTABLISHED || f->hs.st != HS_NONE ||
	    !f->an_done || f->an_dropping || now < f->fast_retry_ns)
		return false;
	slot = gate_alloc();
	if (slot < 0) {
		g_cnt.fast_offload_errors++;
		f->fast_retry_ns = now + 1000000000ull;
		return false;
	}
	vc.gate = vs.gate = (__u32)slot;
	keys(f, &kc, &ks);
	vc.x = f->c2s;
	vc.cookie = vs.cookie = f->id;
	vc.dir = TM_FAST_DIR_C2S;
	seed_side(&vc.st, &f->st.c, &f->st.s);
	vs.x = f->s2c;
	vs.dir = TM_FAST_DIR_S2C;
	seed_side(&vs.st, &f->st.s, &f->st.c);
	if (bpf_map_update_elem(flows_fd, &kc, &vc, BPF_ANY))
		goto fail;
	if (bpf_map_update_elem(flows_fd, &ks, &vs, BPF_ANY)) {
		bpf_map_delete_elem(flows_fd, &kc);
		goto fail;
	}
	if (pinned) {
		struct tm_fast_meta m = {0};

		m.ckey = kc;
		m.be_addr = f->backend.addr;
		m.be_port = f->backend.port;
		m.be_wscale = f->be_wscale;
		m.be_c_wscale = f->be_c_wscale;
		m.spliced = f->spliced;
		m.migrations = f->migrations;
		memcpy(m.c_syn, &f->st.c.syn, sizeof(m.c_syn));
		memcpy(m.s_syn, &f->st.s.syn, sizeof(m.s_syn));
		f->fast_cookie = f->id;
		bpf_map_update_elem(meta_fd, &f->fast_cookie, &m, BPF_ANY);
	}
	f->offloaded = true;
	f->fast_gate = (__u32)slot;
	g_cnt.fast_offloads++;
	g_cnt.flows_offloaded++;
	return true;
fail:
	gate_set((__u32)slot, true);
	gate_release((__u32)slot);
	g_cnt.fast_offload_errors++;
	f->fast_retry_ns = now + 1000000000ull; /* map full: try again in a second */
	return false;
}

static void meta_key_del(__u64 cookie)
{
	if (meta_fd >= 0)
		bpf_map_delete_elem(meta_fd, &cookie);
}

static void merge_seq(__u32 *field, __u32 v)
{
	if (tm_seq_gt(v, *field))
		*field = v;
}

/* What the program saw of one direction, into the model (@sd sends, @peer is acknowledged). */
static void merge_side(struct tm_side *sd, struct tm_side *peer, const struct tm_fast_side *fs,
		       bool acks)
{
	if (!acks) {
		if (fs->seen & TM_FAST_SEEN_NXT)
			merge_seq(&sd->nxt, fs->nxt);
		if ((fs->seen & TM_FAST_SEEN_TS) && tm_seq_gt(fs->tsval, sd->tsval)) {
			sd->tsval = fs->tsval;
			sd->tsecr = fs->tsecr;
		}
		if (fs->pkts)
			sd->win = fs->win;
		sd->bytes += fs->bytes;
		sd->pkts += fs->pkts;
		return;
	}
	if ((fs->seen & TM_FAST_SEEN_ACK) && tm_seq_leq(fs->ack, peer->nxt))
		merge_seq(&peer->una, fs->ack);
}

static bool lookup(const struct tm_fast_key *k, struct tm_fast_flow *v)
{
	return bpf_map_lookup_elem(flows_fd, k, v) == 0;
}

/*
 * Read and delete (BPF_MAP_LOOKUP_AND_DELETE_ELEM, hash maps since Linux 5.14; two steps on older
 * kernels).  With the gate closed and no run inside, nothing changes the entry in between.
 */
static bool take(const struct tm_fast_key *k, struct tm_fast_flow *v)
{
	static bool no_lookup_and_delete;

	if (!no_lookup_and_delete) {
		if (bpf_map_lookup_and_delete_elem(flows_fd, k, v) == 0)
			return true;
		if (errno == ENOENT)
			return false;
		/* 524: the kernel's ENOTSUPP, which no userspace header names */
		if (errno == EINVAL || errno == EOPNOTSUPP || errno == 524)
			no_lookup_and_delete = true; /* an older kernel: the two-step way from now on */
	}
	if (!lookup(k, v))
		return false;
	bpf_map_delete_elem(flows_fd, k);
	return true;
}

static bool busy(const struct tm_fast_key *k)
{
	struct tm_fast_flow v;

	return lookup(k, &v) && v.inflight;
}

/*
 * The gate is closed: wait until no program run is inside either entry (the head of this file).
 * A run takes microseconds; the bound is for an entry whose count is corrupt.
 */
static void wait_idle(const struct tm_fast_key *kc, const struct tm_fast_key *ks)
{
	uint64_t t0 = 0;

	/* The closed gate (a store in the update syscall) before our reads of the counts: the
	 * other half of the program's ordered count-then-read-gate. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (busy(kc) || busy(ks)) {
		uint64_t t = now_ns();

		if (!t0) {
			t0 = t;
			g_cnt.fast_takeback_waits++;
		} else if (t - t0 > FAST_WAIT_NS) {
			g_cnt.fast_takeback_stuck++;
			log_warnx("fast path: program runs still counted in a flow's entries after "
				  "%llu ms: taken back anyway",
				  (unsigned long long)(FAST_WAIT_NS / 1000000ull));
			return;
		}
	}
}

void fast_takeback(struct flow *f)
{
	struct tm_fast_key kc, ks;
	struct tm_fast_flow vc, vs;
	bool hc, hs;

	if (!f->offloaded)
		return;
	keys(f, &kc, &ks);
	if (gate_set(f->fast_gate, true) == 0)
		wait_idle(&kc, &ks);
	else
		g_cnt.fast_takeback_stuck++; /* cannot happen: an in-range array slot */
	hc = take(&kc, &vc);
	hs = take(&ks, &vs);
	meta_key_del(f->fast_cookie);
	/* Who spoke last while the kernel had the flow: the reply boundary (handoff.c). */
	if (hc && hs && (vc.st.data_ns || vs.st.data_ns))
		f->awaiting_reply = vc.st.data_ns > vs.st.data_ns;
	/* Sequence ends first, then the acknowledgments that may only reach up to them. */
	if (hc)
		merge_side(&f->st.c, &f->st.s, &vc.st, false);
	if (hs)
		merge_side(&f->st.s, &f->st.c, &vs.st, false);
	if (hc)
		merge_side(&f->st.c, &f->st.s, &vc.st, true);
	if (hs)
		merge_side(&f->st.s, &f->st.c, &vs.st, true);
	gate_release(f->fast_gate);
	f->offloaded = false;
	g_cnt.fast_takebacks++;
	g_cnt.flows_offloaded--;
}

void fast_forget(struct flow *f)
{
	struct tm_fast_key kc, ks;

	if (!f->offloaded || !skel)
		return; /* after fast_fini(): entries left to the kernel on purpose */
	keys(f, &kc, &ks);
	gate_set(f->fast_gate, true);
	bpf_map_delete_elem(flows_fd, &kc);
	bpf_map_delete_elem(flows_fd, &ks);
	gate_release(f->fast_gate);
	meta_key_del(f->fast_cookie);
	f->offloaded = false;
	g_cnt.flows_offloaded--;
}

bool fast_peek(const struct flow *f, struct fast_view *v)
{
	struct tm_fast_key kc, ks;
	struct tm_fast_flow vc, vs;
	uint64_t skew = now_ns() - coarse_ns(); /* CLOCK_MONOTONIC vs its coarse reading */

	memset(v, 0, sizeof(*v));
	v->c_nxt = f->st.c.nxt;
	v->c_una = f->st.c.una;
	v->s_nxt = f->st.s.nxt;
	v->s_una = f->st.s.una;
	if (!f->offloaded)
		return false;
	keys(f, &kc, &ks);
	if (lookup(&kc, &vc)) {
		v->bytes_c2s = vc.st.bytes;
		v->pkts_c2s = vc.st.pkts;
		v->last_ns = vc.st.last_ns + skew;
		if (vc.st.seen & TM_FAST_SEEN_NXT)
			merge_seq(&v->c_nxt, vc.st.nxt);
		if (vc.st.seen & TM_FAST_SEEN_ACK)
			merge_seq(&v->s_una, vc.st.ack);
	}
	if (lookup(&ks, &vs)) {
		v->bytes_s2c = vs.st.bytes;
		v->pkts_s2c = vs.st.pkts;
		if (vs.st.last_ns + skew > v->last_ns)
			v->last_ns = vs.st.last_ns + skew;
		if (vs.st.seen & TM_FAST_SEEN_NXT)
			merge_seq(&v->s_nxt, vs.st.nxt);
		if (vs.st.seen & TM_FAST_SEEN_ACK)
			merge_seq(&v->c_una, vs.st.ack);
	}
	return true;
}

void fast_stats(struct sbuf *b)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[256];

	if (!skel || ncpu <= 0 || ncpu > 256)
		return;
	for (__u32 i = 0; i < TM_FAST_STAT_MAX; i++) {
		__u64 sum = 0;
		char name[48];

		if (bpf_map_lookup_elem(stats_fd, &i, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += vals[c];
		snprintf(name, sizeof(name), "fast_%s", tm_fast_stat_name((int)i));
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		sb_printf(b, "\"%s\":%llu,", name, (unsigned long long)sum);
	}
}
