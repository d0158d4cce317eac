/* Flow helpers every module uses: backend keys, the address rewrite, the client's view of scaling. */
#include <string.h>

#include "tcpmigd.h"

void flow_backend_key(const struct flow *f, const struct tm_endpoint_cfg *ep, struct tm_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = f->ckey.family;
	k->saddr = ep->addr;
	k->sport = ep->port;
	k->daddr = f->ckey.saddr;
	k->dport = f->ckey.sport;
}

void flow_set_endpoints(struct flow *f)
{
	const struct tm_endpoint_cfg *vip = &f->svc->vip;

	f->c2s.family = f->s2c.family = (__u8)f->ckey.family;
	if (ep_eq(vip, &f->backend)) {
		f->c2s.flags = 0;
		f->s2c.flags = 0;
		return;
	}
	f->c2s.flags = TM_XL_DADDR | TM_XL_DPORT;
	f->c2s.daddr = f->backend.addr;
	f->c2s.dport = f->backend.port;
	f->s2c.flags = TM_XL_SADDR | TM_XL_SPORT;
	f->s2c.saddr = vip->addr;
	f->s2c.sport = vip->port;
}

__u8 flow_client_s_ws(const struct flow *f)
{
	return tm_flow_wscale(&f->st, TM_DIR_S2C);
}

__u8 flow_client_c_ws(const struct flow *f)
{
	return tm_flow_wscale(&f->st, TM_DIR_C2S);
}

bool flow_needs_gateway(const struct flow *f)
{
	return f->spliced || !ep_eq(&f->svc->vip, &f->backend);
}

bool flow_is_over(const struct flow *f)
{
	return f->st.state == TM_ST_CLOSED || f->st.rst_pending;
}
