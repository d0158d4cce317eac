/* Compiled with clang -target bpf by tests/run.sh: the header-only translation must stay BPF-clean.
 * (Verifier-clean is bpf/tcpmig_fast.bpf.c's job, tested by tests/bpf/test_fastpath.c.) */
#include <tcpmig/xlate.h>

int xlate_entry(const struct tm_xlate *x, __u8 *l3, __u8 *tcp, const __u8 *end);
int xlate_entry(const struct tm_xlate *x, __u8 *l3, __u8 *tcp, const __u8 *end)
{
	struct tm_xlate_diff d;

	return tm_xlate_apply(x, l3, tcp, end, 0) + tm_seq_lt(x->seq_delta, x->ack_delta) +
	       tm_xlate_rewrite(x, l3, tcp, end, &d) + (int)d.pdiff;
}
