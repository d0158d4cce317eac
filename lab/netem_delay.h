/* netem delayer (netem_delay.c): hold packets from the ring buffer, send them back when due. */
#ifndef TCPMIG_LAB_NETEM_DELAY_H
#define TCPMIG_LAB_NETEM_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem.h"

/* Where a finished wire frame goes; 0 or -1 (counted as a send error). */
typedef int netem_sink_fn(const uint8_t *frame, size_t len, void *ctx);

/* Re-send out of ifindex with skb->mark = mark (the tc program lets those pass).  0 or -errno. */
int netem_delay_open(int ifindex, uint32_t mark);
void netem_delay_close(void);
/* Tests: capture frames instead of sending them. */
void netem_delay_set_sink(netem_sink_fn *sink, void *ctx);

/* ring_buffer callback: one struct netem_held + packet.  Always 0 (a bad record is counted). */
int netem_delay_enqueue(void *ctx, void *data, size_t size);
/* CLOCK_MONOTONIC ns when the first held packet is due, UINT64_MAX if none. */
uint64_t netem_delay_next(void);
/*
 * Send every packet due at now (all: every packet).  A GSO super-packet is split into
 * gso_size segments; a partial (CHECKSUM_PARTIAL) L4 checksum is completed, since the packet
 * socket has no offload; a checksum that was wrong on purpose stays wrong.
 */
void netem_delay_release(uint64_t now, bool all);

/* Userspace counters (enum netem_ustat) and their copy in the stats map's upper slots. */
const uint64_t *netem_delay_counters(void);
bool netem_delay_dirty(void);
void netem_delay_publish(int stats_fd);

#endif
