/* The flow table: bounded, hashed by directed 4-tuple (client->service, backend->client, ...). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tcpmigd.h"

static struct fnode **buckets;
static size_t nbuckets; /* power of two */
static __u8 seed[16];
static struct flow *all_head;
static unsigned nflows, max_flows;
static uint64_t next_id = 1;

int table_init(unsigned maxf)
{
	size_t want = (size_t)maxf * 4;

	nbuckets = 1024;
	while (nbuckets < want)
		nbuckets <<= 1;
	buckets = calloc(nbuckets, sizeof(*buckets));
	if (!buckets)
		return -1;
	randombytes_buf(seed, sizeof(seed));
	max_flows = maxf;
	return 0;
}

void table_fini(void)
{
	while (all_head)
		table_free_flow(all_head);
	free(buckets);
	buckets = NULL;
}

static size_t bucket_of(const struct tm_flow_key *k)
{
	return (size_t)tm_flow_hash(k, seed) & (nbuckets - 1);
}

struct fnode *table_lookup(const struct tm_flow_key *k)
{
	struct fnode *n;

	for (n = buckets[bucket_of(k)]; n; n = n->next)
		if (tm_flow_key_eq(&n->key, k))
			return n;
	return NULL;
}

void table_link(struct fnode *n, struct flow *f, const struct tm_flow_key *k, enum fnode_kind kind)
{
	size_t b;

	if (n->linked)
		table_unlink(n);
	n->key = *k;
	n->flow = f;
	n->kind = kind;
	b = bucket_of(k);
	n->next = buckets[b];
	buckets[b] = n;
	n->linked = true;
}

void table_unlink(struct fnode *n)
{
	struct fnode **pp;

	if (!n->linked)
		return;
	for (pp = &buckets[bucket_of(&n->key)]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	n->next = NULL;
	n->linked = false;
}

struct flow *table_new_flow(const struct tm_service *svc, const struct tm_flow_key *ckey,
			    const struct tm_endpoint_cfg *backend)
{
	struct tm_flow_key bk;
	struct flow *f;

	if (nflows >= max_flows) {
		g_cnt.flows_table_full++;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->id = next_id++;
	f->svc = svc;
	f->ckey = *ckey;
	f->backend = *backend;
	tm_flow_init(&f->st);
	f->created_ns = f->last_ns = now_ns();
	table_link(&f->cnode, f, ckey, FN_CLIENT);
	flow_backend_key(f, backend, &bk);
	table_link(&f->bnode, f, &bk, FN_BACKEND);
	f->lnext = all_head;
	if (all_head)
		all_head->lprev = f;
	all_head = f;
	nflows++;
	g_cnt.flows_created++;
	g_cnt.flows_active = nflows;
	return f;
}

void table_add_tomb(struct flow *f, const struct tm_flow_key *k)
{
	struct fnode *n;

	for (n = f->tombs; n; n = n->fnext)
		if (tm_flow_key_eq(&n->key, k))
			return;
	if (table_lookup(k)) /* someone else's flow uses that tuple: leave it alone */
		return;
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	table_link(n, f, k, FN_OLD);
	n->fnext = f->tombs;
	f->tombs = n;
}

void table_drop_tomb(struct flow *f, const struct tm_flow_key *k)
{
	struct fnode **pp;

	for (pp = &f->tombs; *pp; pp = &(*pp)->fnext) {
		if (tm_flow_key_eq(&(*pp)->key, k)) {
			struct fnode *n = *pp;

			*pp = n->fnext;
			table_unlink(n);
			free(n);
			return;
		}
	}
}

void table_free_flow(struct flow *f)
{
	fast_forget(f);
	while (f->tombs) {
		struct fnode *n = f->tombs;

		f->tombs = n->fnext;
		table_unlink(n);
		free(n);
	}
	table_unlink(&f->cnode);
	table_unlink(&f->bnode);
	table_unlink(&f->hs.target_node);
	hold_free(&f->hs.held);
	an_flow_free(f);
	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else
		all_head = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	ctl_flow_gone(f);
	free(f);
	nflows--;
	g_cnt.flows_removed++;
	g_cnt.flows_active = nflows;
}

void table_reserve_id(uint64_t id)
{
	if (id >= next_id)
		next_id = id + 1;
}

struct flow *table_first(void)
{
	return all_head;
}

unsigned table_count(void)
{
	return nflows;
}

struct flow *table_find_id(uint64_t id)
{
	for (struct flow *f = all_head; f; f = f->lnext)
		if (f->id == id)
			return f;
	return NULL;
}

struct flow *table_find_client(const struct tm_addr *a, int family, __u16 port)
{
	for (struct flow *f = all_head; f; f = f->lnext)
		if (f->ckey.family == family && f->ckey.sport == port &&
		    !memcmp(&f->ckey.saddr, a, sizeof(*a)))
			return f;
	return NULL;
}
