/* Internet checksums: incremental updates (RFC 1624, header-only) and full sums (RFC 1071, lib). */
#ifndef TCPMIG_CSUM_H
#define TCPMIG_CSUM_H

#include <tcpmig/types.h>

/*
 * Checksum arithmetic works on 16-bit words as stored in memory; the ones'
 * complement sum is byte-order independent (RFC 1071 §2(B)), so fields are
 * read with plain loads here, not ntohs.
 *
 * A "diff" is a 32-bit accumulator of (~old + new) terms.  It is folded and
 * applied to a checksum field once, which keeps rewrites of many fields cheap.
 *
 * Two kinds of checksum field exist:
 *  - complete: the field holds ~sum over pseudo-header + segment. Update with
 *    tm_csum_apply() (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
 *  - partial (CHECKSUM_PARTIAL, what NFQUEUE hands over as
 *    NFQA_SKB_CSUMNOTREADY with GSO on): the field holds the folded, *not*
 *    complemented, pseudo-header sum; the rest is summed later by the kernel or
 *    NIC.  Only pseudo-header changes (addresses, length) may be folded in, with
 *    tm_csum_apply_partial(); changes to the TCP header or payload must not be.
 */

TM_INLINE __u16 tm_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Accumulate the change of one aligned 16-bit word. */
TM_INLINE __u32 tm_csum_diff16(__u32 diff, __u16 old, __u16 new_)
{
	return diff + (__u16)~old + new_;
}

/* Accumulate the change of one 32-bit value stored at a 16-bit aligned offset (memory order). */
TM_INLINE __u32 tm_csum_diff32(__u32 diff, __u32 old, __u32 new_)
{
	diff = tm_csum_diff16(diff, (__u16)(old >> 16), (__u16)(new_ >> 16));
	return tm_csum_diff16(diff, (__u16)old, (__u16)new_);
}

/*
 * Accumulate the change of one byte at offset @off from the start of the
 * checksummed area (an even offset is the high half of its word as seen on
 * the wire).  The value is computed in wire (big-endian) order and converted,
 * so the result composes with the memory-order diffs above.
 */
TM_INLINE __u32 tm_csum_diff_byte(__u32 diff, __u32 off, __u8 old, __u8 new_)
{
	__u16 o = (off & 1) ? old : (__u16)(old << 8);
	__u16 n = (off & 1) ? new_ : (__u16)(new_ << 8);

	return tm_csum_diff16(diff, tm_htons(o), tm_htons(n));
}

/* Change of a big-endian 32-bit field at any byte offset (TCP option fields). */
TM_INLINE __u32 tm_csum_diff_be32_at(__u32 diff, __u32 off, __u32 old, __u32 new_)
{
	diff = tm_csum_diff_byte(diff, off, (__u8)(old >> 24), (__u8)(new_ >> 24));
	diff = tm_csum_diff_byte(diff, off + 1, (__u8)(old >> 16), (__u8)(new_ >> 16));
	diff = tm_csum_diff_byte(diff, off + 2, (__u8)(old >> 8), (__u8)(new_ >> 8));
	return tm_csum_diff_byte(diff, off + 3, (__u8)old, (__u8)new_);
}

/* Apply an accumulated diff to a complete checksum field. */
TM_INLINE __u16 tm_csum_apply(__u16 check, __u32 diff)
{
	__u32 sum = (__u16)~check;

	sum += tm_csum_fold(diff);
	return (__u16)~tm_csum_fold(sum);
}

/* Apply an accumulated pseudo-header diff to a partial (CHECKSUM_PARTIAL) field. */
TM_INLINE __u16 tm_csum_apply_partial(__u16 check, __u32 diff)
{
	__u32 sum = check;

	sum += tm_csum_fold(diff);
	return tm_csum_fold(sum);
}

/* Accumulate an address change (4 words for IPv6, 1 for IPv4). */
TM_INLINE __u32 tm_csum_diff_addr(__u32 diff, const struct tm_addr *old, const struct tm_addr *new_,
				  int family)
{
	diff = tm_csum_diff32(diff, old->w[0], new_->w[0]);
	if (family == TM_AF_INET6) {
		diff = tm_csum_diff32(diff, old->w[1], new_->w[1]);
		diff = tm_csum_diff32(diff, old->w[2], new_->w[2]);
		diff = tm_csum_diff32(diff, old->w[3], new_->w[3]);
	}
	return diff;
}

#ifndef __bpf__
#include <stddef.h>

struct tm_pkt;

/* RFC 1071 sum of @len bytes added to @sum, folded to 16 bits, not complemented.  When
 * chaining pieces, every piece but the last must have an even length. */
__u32 tm_csum_add(const void *buf, size_t len, __u32 sum);
/* Sum of the TCP pseudo-header for a segment of @tcp_len bytes. */
__u32 tm_csum_pseudo(const struct tm_addr *saddr, const struct tm_addr *daddr, int family,
		     __u32 tcp_len);
/* Recompute the IPv4 header checksum of @p in place (no-op for IPv6). */
void tm_csum_ip4_full(struct tm_pkt *p);
/* Recompute the TCP checksum of @p in place, complete (not partial). */
void tm_csum_tcp_full(struct tm_pkt *p);
/* Write the partial (pseudo-header only) TCP checksum, as the kernel does for CHECKSUM_PARTIAL. */
void tm_csum_tcp_partial(struct tm_pkt *p);
/* 1 when the TCP checksum of @p verifies, 0 otherwise. */
int tm_csum_tcp_ok(const struct tm_pkt *p);
/* 1 when the IPv4 header checksum verifies (always 1 for IPv6). */
int tm_csum_ip4_ok(const struct tm_pkt *p);
#endif

#endif
