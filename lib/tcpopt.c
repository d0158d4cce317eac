/* TCP option helpers that only userspace needs: error names and SYN option writers. */
#include <tcpmig/tcpopt.h>

const char *tm_tcpopt_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case TM_OPT_OK:
		return "ok";
	case TM_OPT_ELEN:
		return "option-length";
	case TM_OPT_EOVERRUN:
		return "option-overrun";
	case TM_OPT_EBADLEN:
		return "option-bad-length";
	case TM_OPT_EDUP:
		return "option-duplicate";
	}
	return "option-unknown-error";
}

int tm_tcpopt_write_syn(__u8 *buf, unsigned cap, const struct tm_tcpopts *o)
{
	__u8 tmp[TM_TCP_MAXOPT];
	unsigned n = 0;

	/* Linux's order: MSS, SACK_PERM+TS (or NOP,NOP,TS / NOP,NOP,SACK_PERM), NOP,WS. */
	if (o->present & TM_HAS_MSS) {
		tmp[n++] = TM_OPT_MSS;
		tmp[n++] = 4;
		tm_put16(tmp + n, o->mss);
		n += 2;
	}
	if (o->present & TM_HAS_TS) {
		if (o->present & TM_HAS_SACKOK) {
			tmp[n++] = TM_OPT_SACKOK;
			tmp[n++] = 2;
		} else {
			tmp[n++] = TM_OPT_NOP;
			tmp[n++] = TM_OPT_NOP;
		}
		tmp[n++] = TM_OPT_TS;
		tmp[n++] = 10;
		tm_put32(tmp + n, o->tsval);
		tm_put32(tmp + n + 4, o->tsecr);
		n += 8;
	} else if (o->present & TM_HAS_SACKOK) {
		tmp[n++] = TM_OPT_NOP;
		tmp[n++] = TM_OPT_NOP;
		tmp[n++] = TM_OPT_SACKOK;
		tmp[n++] = 2;
	}
	if (o->present & TM_HAS_WSCALE) {
		tmp[n++] = TM_OPT_NOP;
		tmp[n++] = TM_OPT_WSCALE;
		tmp[n++] = 3;
		tmp[n++] = o->wscale;
	}
	if (n > cap)
		return -1;
	__builtin_memcpy(buf, tmp, n);
	return (int)n;
}

int tm_tcpopt_write_ts(__u8 *buf, unsigned cap, const struct tm_tcpopts *o)
{
	if (!(o->present & TM_HAS_TS))
		return 0;
	if (cap < 12)
		return -1;
	buf[0] = TM_OPT_NOP;
	buf[1] = TM_OPT_NOP;
	buf[2] = TM_OPT_TS;
	buf[3] = 10;
	tm_put32(buf + 4, o->tsval);
	tm_put32(buf + 8, o->tsecr);
	return 12;
}
