/*
 * The take-back handshake of the fast path under real concurrency (bpf/fast.h, struct
 * tm_fast_gate; daemon/fast.c).  One thread translates a data segment of an offloaded flow
 * without pause (BPF_PROG_TEST_RUN, repeat) on one CPU; the other, on another CPU, does what a
 * take-back does: close the flow's gate, wait until the entry's inflight count is 0, read the
 * state, and then checks that no run changed that state after the read: every segment the
 * kernel forwards is in what the daemon merges.  The same without the wait is measured too, as
 * the control that shows the race this guards against is really there (a diagnostic, not a
 * verdict: how often it shows is up to the scheduler).
 */
#include <pthread.h>
#include <sched.h>

#include "fast_util.h"

#define ROUNDS	    1000
#define TEST_REPEAT 200 /* program runs per BPF_PROG_TEST_RUN call */

static struct spec seg;
static struct frame inf;
static size_t inlen;
static volatile int stop;
static unsigned long long runner_calls, runner_errors;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *runner(void *arg)
{
	struct __sk_buff ctx = {0};

	(void)arg;
	pin(0);
	while (!stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = inf.b, .data_size_in = (__u32)inlen,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = TEST_REPEAT);

		if (bpf_prog_test_run_opts(prog_fd, &o))
			runner_errors++;
		runner_calls++;
	}
	return NULL;
}

static int entry(struct tm_fast_flow *v)
{
	return flow_get(&seg, v);
}

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	nanosleep(&ts, NULL);
}

/*
 * ROUNDS take-backs: open the gate for a while (the runner translates), close it, optionally wait
 * for inflight 0, read pkts, give runs time to finish, read again.  Returns the rounds whose
 * second read differed from the first; *waited: rounds that found a run inside.
 */
static int rounds(int wait, int *waited, __u64 *translated)
{
	struct tm_fast_flow v;
	__u64 first = 0, p0;
	int stale = 0;

	*waited = 0;
	entry(&v);
	p0 = v.st.pkts;
	for (int i = 0; i < ROUNDS; i++) {
		gate_put(7, 0);
		sleep_us(300);
		gate_put(7, 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (wait) {
			int busy = 0;

			for (int t = 0; t < 1000000 && entry(&v) == 0 && v.inflight; t++)
				busy = 1;
			*waited += busy;
		}
		entry(&v);
		first = v.st.pkts;
		sleep_us(200); /* far longer than a run in flight could take */
		entry(&v);
		stale += v.st.pkts != first;
	}
	*translated = first - p0;
	return stale;
}

int main(void)
{
	struct tm_fast_key k;
	struct tm_fast_flow v;
	struct tm_xlate x;
	pthread_t th;
	int waited, stale, ctl_waited, ctl_stale;
	__u64 xl, ctl_xl;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("ok 1 # SKIP one CPU: no concurrency to test\n1..1\n");
		return 0;
	}
	switch (fast_start()) {
	case 1:
		return 0;
	case -1:
		return tap_done();
	}
	beat_auto = 0;
	heartbeat_set(mono_ns() + 3600ull * 1000000000ull); /* alive for the whole test */
	/* Sequence and ack deltas only: the translated segment keeps its 4-tuple, so every repeat
	 * of the same buffer is again a segment of the flow. */
	spec_init(&seg, TM_AF_INET);
	seg.flags = TM_TCP_ACK | TM_TCP_PSH;
	seg.paylen = 64;
	memset(&x, 0, sizeof(x));
	x.family = TM_AF_INET;
	x.seq_delta = 1000;
	x.ack_delta = 2000;
	flow_put(&seg, &x, TM_FAST_DIR_C2S, NULL);
	fill_key(&k, &seg);
	entry(&v);
	v.gate = 7;
	bpf_map_update_elem(flows_fd, &k, &v, BPF_EXIST);
	inlen = build(&seg, inf.b);

	pthread_create(&th, NULL, runner, NULL);
	pin(1);
	stale = rounds(1, &waited, &xl);
	ctl_stale = rounds(0, &ctl_waited, &ctl_xl);
	stop = 1;
	pthread_join(th, NULL);

	ok(runner_calls > 0 && runner_errors == 0, "the runner ran (%llu calls, %llu errors)",
	   runner_calls, runner_errors);
	ok(xl > ROUNDS, "the kernel translated while the gate was open (%llu segments)",
	   (unsigned long long)xl);
	is_int(stale, 0,
	       "closed gate + wait for inflight 0: no run changed the state after the read "
	       "(%d of %d rounds found a run inside and waited)",
	       waited, ROUNDS);
	printf("# control, no wait: %d of %d rounds read state a run then changed (%llu segments)\n",
	     ctl_stale, ROUNDS, (unsigned long long)ctl_xl);
	entry(&v);
	is_int(v.inflight, 0, "inflight back to 0 when the runner stopped");
	tcpmig_fast__destroy(skel);
	return tap_done();
}
