/* NFQUEUE slow path: libmnl + libnetfilter_queue, GSO on, batched reads, per-packet verdicts. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "tcpmigd.h"

#define NFQ_RCVBUF (0xffff + (MNL_SOCKET_BUFFER_SIZE / 2))

static struct mnl_socket *nl;
static unsigned portid;
static int qnum;
static char *rxbuf;
static char txbuf[0xffff + 512];

static int send_cfg(struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		log_warn("nfqueue: config");
		return -1;
	}
	return 0;
}

int nfq_open_queue(int queue)
{
	struct nlmsghdr *nlh;
	int one = 1, sz = 64 << 20;

	qnum = queue;
	rxbuf = malloc(NFQ_RCVBUF);
	if (!rxbuf)
		return -1;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		log_warn("nfqueue: netlink socket");
		return -1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nfqueue: bind");
		return -1;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = nfq_nlmsg_put(txbuf, NFQNL_MSG_CONFIG, (uint32_t)queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (send_cfg(nlh))
		return -1;

	nlh = nfq_nlmsg_put(txbuf, NFQNL_MSG_CONFIG, (uint32_t)queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	/* GSO: whole super-packets, possibly CHECKSUM_PARTIAL (NFQA_SKB_CSUMNOTREADY).
	 * No FAIL_OPEN: an overflowing queue drops (TCP retransmits) instead of letting packets of
	 * migrated flows through untranslated, which would reset them. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 8192);
	if (send_cfg(nlh))
		return -1;

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	/* Lost queue messages must not kill the loop: the kernel already failed open or dropped. */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	return 0;
}

int nfq_sock_fd(void)
{
	return nl ? mnl_socket_get_fd(nl) : -1;
}

int nfq_verdict(uint32_t id, int verdict_accept, const uint8_t *data, uint32_t len)
{
	struct nlmsghdr *nlh;

	if (!nl)
		return -1; /* the queue is closed: the kernel has dropped what it still held */
	nlh = nfq_nlmsg_put(txbuf, NFQNL_MSG_VERDICT, (uint32_t)qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict_accept ? NF_ACCEPT : NF_DROP);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, len);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		g_cnt.verdict_errors++;
		log_warn("nfqueue: verdict for packet %u", id);
		return -1;
	}
	return 0;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct pkt_ctx x;
	enum verdict v;
	uint32_t skbinfo = 0;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) {
		g_cnt.malformed_other++;
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(&x, 0, sizeof(x));
	x.id = ntohl(ph->packet_id);
	if (!attr[NFQA_PAYLOAD]) {
		nfq_verdict(x.id, 1, NULL, 0);
		return MNL_CB_OK;
	}
	x.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	x.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (attr[NFQA_SKB_INFO])
		skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
	x.csum_partial = (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0;
	if (attr[NFQA_CAP_LEN] && ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) != x.len) {
		/* Truncated copy: never mangle a partial copy (gw_truncated()). */
		g_cnt.malformed_other++;
		nfq_verdict(x.id, gw_truncated(&x) != V_DROP, NULL, 0);
		return MNL_CB_OK;
	}
	g_cnt.pkts_in++;
	v = gw_packet(&x);
	switch (v) {
	case V_ACCEPT:
		nfq_verdict(x.id, 1, NULL, 0);
		break;
	case V_ACCEPT_MANGLED:
		nfq_verdict(x.id, 1, x.data, x.len);
		break;
	case V_DROP:
		nfq_verdict(x.id, 0, NULL, 0);
		break;
	case V_HOLD:
		break;
	}
	return MNL_CB_OK;
}

int nfq_dispatch(void)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(mnl_socket_get_fd(nl), rxbuf, NFQ_RCVBUF, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS)
				continue;
			log_warn("nfqueue: recv");
			return -1;
		}
		if (mnl_cb_run(rxbuf, (size_t)n, 0, portid, queue_cb, NULL) < 0 && errno != EINTR) {
			g_cnt.malformed_other++;
		}
	}
	return 0;
}

void nfq_close_queue(void)
{
	if (!nl)
		return;
	struct nlmsghdr *nlh = nfq_nlmsg_put(txbuf, NFQNL_MSG_CONFIG, (uint32_t)qnum);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(nl);
	nl = NULL;
	free(rxbuf);
	rxbuf = NULL;
}
