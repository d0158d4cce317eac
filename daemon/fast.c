/*
 * The eBPF fast path from the daemon's side (docs/fastpath.md, DESIGN.md §2): load tcpmig_fast,
 * attach it to the gateway's interfaces (tc ingress), offload established flows, take them back
 * into the slow path for a handoff or for anything the kernel punts (FIN, RST, SYN, bad options).
 *
 * Offload writes a flow's two map entries (client -> service, backend -> client) seeded from the
 * model; from then on the program translates and keeps the state.  Take-back reads both entries,
 * merges their state into the model (serial max: nothing moves back) and deletes them.  A program
 * run on another CPU may still translate a packet in the microseconds around the delete and its
 * state update is lost with the entry: for a short drain time the slow path lets an ACK beyond
 * what the model saw advance the model (gw.c, hostile()) instead of dropping it.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fast.h"
#include "tcpmig_fast.skel.h"
#include "tcpmigd.h"

#define FAST_TC_HANDLE 0x746d /* "tm" */
#define FAST_TC_PRIO   2      /* after the lab's loss injector (prio 1), which passes packets on */
#define FAST_DRAIN_NS  (50ull * 1000000ull)

_Static_assert(sizeof(struct tm_fast_key) == sizeof(struct tm_flow_key), "key layouts differ");

static struct tcpmig_fast *skel;
static int flows_fd = -1, stats_fd = -1;
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
		log_warnx("fast path: cannot create the clsact qdisc on %s: %s", name, strerror(-err));
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
	skel->rodata->tm_fast_mark_value = c->fast_mark;
	skel->rodata->tm_fast_mark_mask = c->fast_mark_mask;
	err = tcpmig_fast__load(skel);
	if (err) {
		log_warnx("fast path: the kernel refused tcpmig_fast (%s); 'fast-path off' runs "
			  "the slow path only",
			  strerror(-err));
		tcpmig_fast__destroy(skel);
		skel = NULL;
		return -1;
	}
	flows_fd = bpf_map__fd(skel->maps.tm_fast_flows);
	stats_fd = bpf_map__fd(skel->maps.tm_fast_stats);
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
	return 0;
fail:
	fast_fini();
	return -1;
}

void fast_fini(void)
{
	if (!skel)
		return;
	for (int i = 0; i < nifs; i++)
		detach(ifs[i]);
	nifs = 0;
	tcpmig_fast__destroy(skel);
	skel = NULL;
	flows_fd = stats_fd = -1;
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
	struct tm_fast_flow vc = { 0 }, vs = { 0 };

	if (!skel || f->offloaded || f->st.state != TM_ST_ESTABLISHED || f->hs.st != HS_NONE ||
	    !f->an_done || f->an_dropping || now < f->fast_retry_ns)
		return false;
	keys(f, &kc, &ks);
	vc.x = f->c2s;
	vc.cookie = vs.cookie = f->id;
	vc.dir = TM_FAST_DIR_C2S;
	seed_side(&vc.st, &f->st.c, &f->st.s);
	vs.x = f->s2c;
	vs.dir = TM_FAST_DIR_S2C;
	seed_side(&vs.st, &f->st.s, &f->st.c);
	if (bpf_map_update_elem(flows_fd, &kc, &vc, BPF_ANY)) {
		g_cnt.fast_offload_errors++;
		f->fast_retry_ns = now + 1000000000ull; /* map full: try again in a second */
		return false;
	}
	if (bpf_map_update_elem(flows_fd, &ks, &vs, BPF_ANY)) {
		bpf_map_delete_elem(flows_fd, &kc);
		g_cnt.fast_offload_errors++;
		f->fast_retry_ns = now + 1000000000ull;
		return false;
	}
	f->offloaded = true;
	g_cnt.fast_offloads++;
	g_cnt.flows_offloaded++;
	return true;
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

void fast_takeback(struct flow *f, uint64_t now)
{
	struct tm_fast_key kc, ks;
	struct tm_fast_flow vc, vs;
	bool hc, hs;

	if (!f->offloaded)
		return;
	keys(f, &kc, &ks);
	hc = lookup(&kc, &vc);
	hs = lookup(&ks, &vs);
	bpf_map_delete_elem(flows_fd, &kc);
	bpf_map_delete_elem(flows_fd, &ks);
	/* Sequence ends first, then the acknowledgments that may only reach up to them. */
	if (hc)
		merge_side(&f->st.c, &f->st.s, &vc.st, false);
	if (hs)
		merge_side(&f->st.s, &f->st.c, &vs.st, false);
	if (hc)
		merge_side(&f->st.c, &f->st.s, &vc.st, true);
	if (hs)
		merge_side(&f->st.s, &f->st.c, &vs.st, true);
	f->offloaded = false;
	f->fast_drain_until = now + FAST_DRAIN_NS;
	g_cnt.fast_takebacks++;
	g_cnt.flows_offloaded--;
}

void fast_forget(struct flow *f)
{
	struct tm_fast_key kc, ks;

	if (!f->offloaded)
		return;
	keys(f, &kc, &ks);
	bpf_map_delete_elem(flows_fd, &kc);
	bpf_map_delete_elem(flows_fd, &ks);
	f->offloaded = false;
	g_cnt.flows_offloaded--;
}

bool fast_peek(const struct flow *f, struct fast_view *v)
{
	struct tm_fast_key kc, ks;
	struct tm_fast_flow vc, vs;
	uint64_t skew = now_ns() - coarse_ns(); /* CLOCK_MONOTONIC vs its coarse reading */

	memset(v, 0, sizeof(*v));
	if (!f->offloaded)
		return false;
	keys(f, &kc, &ks);
	if (lookup(&kc, &vc)) {
		v->bytes_c2s = vc.st.bytes;
		v->pkts_c2s = vc.st.pkts;
		v->last_ns = vc.st.last_ns + skew;
	}
	if (lookup(&ks, &vs)) {
		v->bytes_s2c = vs.st.bytes;
		v->pkts_s2c = vs.st.pkts;
		if (vs.st.last_ns + skew > v->last_ns)
			v->last_ns = vs.st.last_ns + skew;
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
