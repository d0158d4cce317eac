/* tcpmig-netem: loads the netem tc program, sets its options, and sends held packets back late. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netem.h"
#include "netem_delay.h"
#include "netem.skel.h"

#define USTAT_PERIOD_NS 100000000ull

int netem_selftest(void); /* netem_selftest.c */

struct netem_opts {
	const char *dev;
	bool ingress;
	bool have_loss, have_reorder, have_delay, have_seed, have_mark, tcp_data_only;
	uint32_t loss_ppm, reorder_ppm, delay_us, mark;
	uint64_t seed;
	const char *label;
};

/* --- small helpers -------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tcpmig-netem run  DEV [--ingress|--egress] [--loss PCT] [--reorder PCT]\n"
	    "                         [--delay-ms MS] [--seed N] [--tcp-data-only] [--mark M]\n"
	    "       tcpmig-netem set  DEV [--ingress|--egress] [same options: change a running "
	    "one]\n"
	    "       tcpmig-netem off  DEV [--ingress|--egress]\n"
	    "       tcpmig-netem show DEV [--ingress|--egress]\n"
	    "  run: attach the tc program to DEV (clsact, handle 0x%x prio %d), then stay in the\n"
	    "       foreground re-sending delayed packets until SIGINT/SIGTERM, then detach.\n"
	    "  PCT: percent, decimals allowed (0.5).  Reordering (egress only) holds a packet "
	    "back\n"
	    "  --delay-ms (default 5, decimals allowed) so later packets overtake it.  Run it in\n"
	    "  DEV's namespace (ip netns exec NS tcpmig-netem ...).\n",
	    NETEM_TC_HANDLE, NETEM_TC_PRIO);
}

static bool libbpf_mute; /* probing for a filter that may not be there: no kernel chatter */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && !libbpf_mute ? vfprintf(stderr, fmt, ap) : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "2", "0.5" percent -> parts per million. */
static bool parse_pct(const char *s, uint32_t *ppm)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 100))
		return false;
	*ppm = (uint32_t)llround(v * (NETEM_PPM / 100));
	return true;
}

static bool parse_ms(const char *s, uint32_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 10000))
		return false;
	*us = (uint32_t)llround(v * 1000);
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

static const char *dir_name(bool ingress)
{
	return ingress ? "ingress" : "egress";
}

static void fmt_cfg(const struct netem_cfg *c, char *buf, size_t n)
{
	snprintf(buf, n, "loss %g%% reorder %g%% delay %gms seed %llu%s", c->loss_ppm / 10000.0,
		 c->reorder_ppm / 10000.0, c->delay_us / 1000.0, (unsigned long long)c->seed,
		 (c->flags & NETEM_F_TCP_DATA_ONLY) ? " tcp-data-only" : "");
}

static void apply_opts(struct netem_cfg *c, const struct netem_opts *o)
{
	if (o->have_loss)
		c->loss_ppm = o->loss_ppm;
	if (o->have_reorder)
		c->reorder_ppm = o->reorder_ppm;
	if (o->have_delay)
		c->delay_us = o->delay_us;
	if (o->have_seed)
		c->seed = o->seed;
	if (o->have_mark)
		c->reinject_mark = o->mark;
	if (o->tcp_data_only)
		c->flags |= NETEM_F_TCP_DATA_ONLY;
	c->gen++;
}

/* --- finding an attached injector ---------------------------------------------------------- */

struct netem_maps {
	int cfg, stats;
};

static void maps_close(struct netem_maps *m)
{
	if (m->cfg >= 0)
		close(m->cfg);
	if (m->stats >= 0)
		close(m->stats);
	m->cfg = m->stats = -1;
}

/* The maps of the netem filter on DEV/direction.  0, -ENOENT (none attached) or -errno. */
static int maps_find(int ifindex, bool ingress, struct netem_maps *m)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);
	struct bpf_prog_info pinfo = {};
	struct bpf_map_info minfo;
	uint32_t ids[16], len, i;
	int rc, pfd, fd;

	m->cfg = m->stats = -1;
	libbpf_mute = true;
	rc = bpf_tc_query(&hook, &opts);
	libbpf_mute = false;
	if (rc)
		return rc == -ENOENT || rc == -EINVAL ? -ENOENT : rc;
	pfd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (pfd < 0)
		return -errno;
	pinfo.nr_map_ids = 16;
	pinfo.map_ids = (uintptr_t)ids;
	len = sizeof(pinfo);
	rc = bpf_obj_get_info_by_fd(pfd, &pinfo, &len);
	close(pfd);
	if (rc)
		return -errno;
	for (i = 0; i < pinfo.nr_map_ids && i < 16; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (bpf_obj_get_info_by_fd(fd, &minfo, &len)) {
			close(fd);
			continue;
		}
		if (!strcmp(minfo.name, "netem_cfg") && m->cfg < 0)
			m->cfg = fd;
		else if (!strcmp(minfo.name, "netem_stats") && m->stats < 0)
			m->stats = fd;
		else
			close(fd);
	}
	if (m->cfg < 0 || m->stats < 0) {
		maps_close(m);
		return -ENOENT; /* some other program with our handle */
	}
	return 0;
}

static int stats_read(const struct netem_maps *m, uint64_t *st, uint64_t *us)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	uint32_t k;
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < NETEM_ST_MAX + NETEM_US_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(m->stats, &k, vals) == 0)
			for (c = 0; c < ncpu; c++)
				sum += vals[c];
		if (k < NETEM_ST_MAX)
			st[k] = sum;
		else
			us[k - NETEM_ST_MAX] = sum;
	}
	free(vals);
	return 0;
}

static void print_state(const char *label, bool ingress, const struct netem_cfg *c,
			const uint64_t *st, const uint64_t *us)
{
	char cfg[160];

	fmt_cfg(c, cfg, sizeof(cfg));
	printf("%s %s: %s\n", label, dir_name(ingress), cfg);
	printf("  seen %llu candidates %llu dropped %llu delayed %llu delay-failed %llu "
	       "reinjected %llu\n",
	       (unsigned long long)st[NETEM_ST_SEEN], (unsigned long long)st[NETEM_ST_CANDIDATE],
	       (unsigned long long)st[NETEM_ST_DROPPED], (unsigned long long)st[NETEM_ST_DELAYED],
	       (unsigned long long)st[NETEM_ST_DELAY_FAIL],
	       (unsigned long long)st[NETEM_ST_REINJECTED]);
	printf("  delayer: received %llu sent %llu (%llu wire packets) held-now %llu "
	       "send-errors %llu queue-drops %llu\n",
	       (unsigned long long)us[NETEM_US_RECEIVED], (unsigned long long)us[NETEM_US_SENT],
	       (unsigned long long)us[NETEM_US_SEGMENTS], (unsigned long long)us[NETEM_US_QUEUED],
	       (unsigned long long)us[NETEM_US_SEND_ERR],
	       (unsigned long long)us[NETEM_US_QUEUE_DROP]);
}

static int cmd_show(const struct netem_opts *o, int ifindex, bool both)
{
	struct netem_maps m;
	struct netem_cfg c;
	uint64_t st[NETEM_ST_MAX], us[NETEM_US_MAX];
	uint32_t zero = 0;
	int found = 0, d;

	for (d = 0; d < 2; d++) {
		bool ingress = d == 0;

		if (!both && ingress != o->ingress)
			continue;
		if (maps_find(ifindex, ingress, &m))
			continue;
		if (bpf_map_lookup_elem(m.cfg, &zero, &c) == 0 && stats_read(&m, st, us) == 0) {
			print_state(o->label ? o->label : o->dev, ingress, &c, st, us);
			found++;
		}
		maps_close(&m);
	}
	return found ? 0 : 1;
}

static int cmd_set(const struct netem_opts *o, int ifindex)
{
	struct netem_maps m;
	struct netem_cfg c;
	uint32_t zero = 0;
	char buf[160];
	int rc;

	rc = maps_find(ifindex, o->ingress, &m);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: no injector on %s %s (%s): use 'run'\n", o->dev,
			dir_name(o->ingress), strerror(-rc));
		return 1;
	}
	rc = bpf_map_lookup_elem(m.cfg, &zero, &c);
	if (!rc) {
		apply_opts(&c, o);
		rc = bpf_map_update_elem(m.cfg, &zero, &c, BPF_ANY);
	}
	maps_close(&m);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: %s: cannot update options: %s\n", o->dev,
			strerror(errno));
		return 1;
	}
	fmt_cfg(&c, buf, sizeof(buf));
	printf("%s %s: %s\n", o->dev, dir_name(o->ingress), buf);
	return 0;
}

static int tc_detach(int ifindex, bool ingress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);

	int rc;

	/* Only our filter: the clsact qdisc stays, tcpmigd's filters may live on it. */
	libbpf_mute = true;
	rc = bpf_tc_detach(&hook, &opts);
	libbpf_mute = false;
	return rc;
}

/* Detach only if the filter there is still ours (a later 'run' may have replaced it). */
static void tc_detach_own(int ifindex, bool ingress, uint32_t prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO);
	int rc;

	libbpf_mute = true;
	rc = bpf_tc_query(&hook, &opts);
	libbpf_mute = false;
	if (rc == 0 && opts.prog_id == prog_id)
		tc_detach(ifindex, ingress);
}

static int cmd_off(const struct netem_opts *o, int ifindex)
{
	int rc = tc_detach(ifindex, o->ingress);

	if (rc && rc != -ENOENT && rc != -EINVAL) {
		fprintf(stderr, "tcpmig-netem: %s %s: detach: %s\n", o->dev, dir_name(o->ingress),
			strerror(-rc));
		return 1;
	}
	printf("%s %s: %s\n", o->dev, dir_name(o->ingress),
	       rc ? "no injector" : "injector removed");
	return 0;
}

static int cmd_run(const struct netem_opts *o, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = o->ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, topts, .handle = NETEM_TC_HANDLE,
			    .priority = NETEM_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	struct netem_cfg cfg = {.delay_us = 5000, .seed = 1, .reinject_mark = NETEM_DEFAULT_MARK};
	struct netem_maps m = {.cfg = -1, .stats = -1};
	struct ring_buffer *rb = NULL;
	struct netem *skel;
	struct epoll_event ev, evs[4];
	struct timespec ts, *tsp;
	uint64_t st[NETEM_ST_MAX], us[NETEM_US_MAX], now, last_pub = 0;
	uint32_t zero = 0;
	sigset_t sigs;
	int rc = 1, epfd = -1, sfd = -1, n, i, ncpu;
	bool attached = false, stop = false;
	char buf[160];

	apply_opts(&cfg, o);
	cfg.gen = 1;
	if (o->ingress && cfg.reorder_ppm) {
		fprintf(stderr,
			"tcpmig-netem: reordering needs --egress (packets are re-sent out of "
			"the device); use the other side's egress\n");
		return 2;
	}
	if (o->ingress)
		cfg.reinject_mark = 0; /* no delayer behind an ingress hook */

	skel = netem__open();
	if (!skel) {
		fprintf(stderr, "tcpmig-netem: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || bpf_map__set_max_entries(skel->maps.netem_scratch, (uint32_t)ncpu)) {
		fprintf(stderr, "tcpmig-netem: cannot size the per-CPU buffer\n");
		goto out;
	}
	if (netem__load(skel)) {
		fprintf(stderr, "tcpmig-netem: cannot load the BPF program (root? verifier?): %s\n",
			strerror(errno));
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.netem_cfg), &zero, &cfg, BPF_ANY)) {
		fprintf(stderr, "tcpmig-netem: cannot write the options: %s\n", strerror(errno));
		goto out;
	}
	rc = netem_delay_open(ifindex, cfg.reinject_mark);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: packet socket: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.netem_rb), netem_delay_enqueue, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "tcpmig-netem: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		fprintf(stderr, "tcpmig-netem: signalfd/epoll: %s\n", strerror(errno));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = 0;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &ev);

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		fprintf(stderr, "tcpmig-netem: %s: cannot add the clsact qdisc: %s\n", o->dev,
			strerror(-rc));
		rc = 1;
		goto out;
	}
	topts.prog_fd = bpf_program__fd(skel->progs.netem_tc);
	rc = bpf_tc_attach(&hook, &topts);
	if (rc) {
		fprintf(stderr, "tcpmig-netem: %s %s: cannot attach: %s\n", o->dev,
			dir_name(o->ingress), strerror(-rc));
		rc = 1;
		goto out;
	}
	attached = true;
	fmt_cfg(&cfg, buf, sizeof(buf));
	printf("ready: %s %s: %s (tc handle 0x%x prio %d, prog id %u)\n", o->dev,
	       dir_name(o->ingress), buf, NETEM_TC_HANDLE, NETEM_TC_PRIO, topts.prog_id);
	fflush(stdout);

	m.cfg = bpf_map__fd(skel->maps.netem_cfg);
	m.stats = bpf_map__fd(skel->maps.netem_stats);
	while (!stop) {
		now = now_ns();
		if (netem_delay_next() != UINT64_MAX) {
			uint64_t due = netem_delay_next(), wait = due > now ? due - now : 0;

			if (wait > USTAT_PERIOD_NS)
				wait = USTAT_PERIOD_NS;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
		} else {
			ts.tv_sec = 0;
			ts.tv_nsec = (long)USTAT_PERIOD_NS;
		}
		tsp = &ts;
		n = epoll_pwait2(epfd, evs, 4, tsp, NULL);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tcpmig-netem: epoll: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0)
				stop = true;
			else
				ring_buffer__consume(rb);
		}
		now = now_ns();
		netem_delay_release(now, false);
		if (netem_delay_dirty() && now - last_pub >= USTAT_PERIOD_NS) {
			netem_delay_publish(m.stats);
			last_pub = now;
		}
	}
	/* Stop holding first, then send what is still held now rather than lose it. */
	tc_detach_own(ifindex, o->ingress, topts.prog_id);
	attached = false;
	ring_buffer__consume(rb);
	netem_delay_release(0, true);
	netem_delay_publish(m.stats);
	bpf_map_lookup_elem(m.cfg, &zero, &cfg); /* 'set' may have changed it */
	if (stats_read(&m, st, us) == 0)
		print_state(o->dev, o->ingress, &cfg, st, us);
	rc = 0;
out:
	if (attached)
		tc_detach_own(ifindex, o->ingress, topts.prog_id);
	ring_buffer__free(rb);
	netem__destroy(skel);
	netem_delay_close();
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	return rc;
}

/* --- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	enum {
		O_INGRESS = 256,
		O_EGRESS,
		O_LOSS,
		O_REORDER,
		O_DELAY,
		O_SEED,
		O_TCPDATA,
		O_MARK,
		O_LABEL,
		O_HELP
	};
	static const struct option lopts[] = {
	    {"ingress", no_argument, NULL, O_INGRESS},
	    {"egress", no_argument, NULL, O_EGRESS},
	    {"loss", required_argument, NULL, O_LOSS},
	    {"reorder", required_argument, NULL, O_REORDER},
	    {"delay-ms", required_argument, NULL, O_DELAY},
	    {"seed", required_argument, NULL, O_SEED},
	    {"tcp-data-only", no_argument, NULL, O_TCPDATA},
	    {"mark", required_argument, NULL, O_MARK},
	    {"prefix-line", required_argument, NULL, O_LABEL},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct netem_opts o = {0};
	const char *cmd;
	bool dir_given = false;
	uint64_t v;
	int opt, ifindex;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "selftest")) {
		libbpf_set_print(libbpf_quiet);
		return netem_selftest();
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case O_INGRESS:
		case O_EGRESS:
			o.ingress = opt == O_INGRESS;
			dir_given = true;
			break;
		case O_LOSS:
			if (!parse_pct(optarg, &o.loss_ppm))
				goto bad;
			o.have_loss = true;
			break;
		case O_REORDER:
			if (!parse_pct(optarg, &o.reorder_ppm))
				goto bad;
			o.have_reorder = true;
			break;
		case O_DELAY:
			if (!parse_ms(optarg, &o.delay_us))
				goto bad;
			o.have_delay = true;
			break;
		case O_SEED:
			if (!parse_u64(optarg, &o.seed))
				goto bad;
			o.have_seed = true;
			break;
		case O_TCPDATA:
			o.tcp_data_only = true;
			break;
		case O_MARK:
			if (!parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX)
				goto bad;
			o.mark = (uint32_t)v;
			o.have_mark = true;
			break;
		case O_LABEL:
			o.label = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tcpmig-netem: %s: want exactly one device\n", cmd);
		return 2;
	}
	o.dev = argv[optind];
	ifindex = (int)if_nametoindex(o.dev);
	if (!ifindex) {
		fprintf(stderr, "tcpmig-netem: no device '%s' in this namespace\n", o.dev);
		return 1;
	}
	libbpf_set_print(libbpf_quiet);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "run"))
		return cmd_run(&o, ifindex);
	if (!strcmp(cmd, "set")) {
		if (o.have_mark) {
			fprintf(stderr, "tcpmig-netem: --mark is fixed while the injector runs\n");
			return 2;
		}
		if (o.ingress && o.have_reorder && o.reorder_ppm) {
			fprintf(stderr, "tcpmig-netem: reordering needs --egress\n");
			return 2;
		}
		return cmd_set(&o, ifindex);
	}
	if (!strcmp(cmd, "off"))
		return cmd_off(&o, ifindex);
	if (!strcmp(cmd, "show"))
		return cmd_show(&o, ifindex, !dir_given);
	fprintf(stderr, "tcpmig-netem: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
bad:
	fprintf(stderr, "tcpmig-netem: bad value '%s' for --%s\n", optarg,
		lopts[opt - O_INGRESS].name);
	return 2;
}
