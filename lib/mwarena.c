/*
 * mwarena.c: the bundled allocator's arenas (alloc.c) in another process,
 * found and read from outside: the memwalk-arena kind, the arenas and
 * their pools for `memwalk arenas`, a block for `where`.
 *
 * What is read (the layout of mwi.h, struct mwi_arena):
 *
 *   region (anonymous rw-p, named "[anon:memwalk arena]" or not; the
 *   kernel merges neighbouring arenas into one region)
 *   | arena (1 MiB, 1 MiB-aligned)                 | arena ...
 *   | header: magic ^ address, version, sizes      |
 *   | pools[64]: 64 bytes each, one cache line     |
 *   | bitmaps[64][16]: a bit per 16-byte granule,   |
 *   |   set at the start of each free block         |
 *   | pool 1 | pool 2 | ...          | pool 63     |
 *
 * Every 1 MiB boundary of a candidate region (unnamed or named
 * "[anon:memwalk arena]", rw-p, holding an aligned 1 MiB, at most
 * SCAN_MAX long) is a candidate arena: the 24-byte headers of up to
 * BATCH candidates are read in one mwi_read_memv; an arena whose magic,
 * version and sizes hold is read whole (its pool metadata, 4 KiB) and
 * counted pool by pool as mw_alloc_stats counts. Regions under 1 MiB
 * cost nothing; regions over SCAN_MAX (AddressSanitizer's shadow, 15
 * TiB) are not looked into: an arena merged into one is not found.
 * A pool counts only when its own check word (keyed to its address),
 * class, block size and counts agree.
 *
 * Invariants: a region is claimed (kind memwalk-arena) only when it
 * holds at least one valid arena and no earlier pass claimed it; its
 * label's arena is the index, in address order, of its first arena.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define BATCH		1024		/* headers read per mwi_read_memv */
#define SCAN_MAX	(64ULL << 30)	/* larger regions are not looked at */

/* The first bytes of an arena: what tells one. */
struct head {
	uint64_t	magic;
	uint32_t	version, pool_size, arena_size, npools;
};

struct scan {
	struct head	heads[BATCH];
	struct iovec	local[BATCH], remote[BATCH];
};

static bool
candidate(const struct mw_region *r, const struct mw_label *l)
{
	return r->perms == (MW_PERM_READ | MW_PERM_WRITE) &&
	    (r->kind == MW_KIND_ANON || r->kind == MW_KIND_MEMWALK_ARENA) &&
	    (r->name == NULL || strcmp(r->name, "[anon:" MWI_ARENA_NAME "]") ==
	    0) && l->tid == 0 && r->end - r->start <= SCAN_MAX &&
	    mwi_pageup(r->start, MWI_ARENA_SIZE) + MWI_ARENA_SIZE <= r->end;
}

static bool
head_valid(const struct head *h, uint64_t at)
{
	return h->magic == (MWI_ARENA_MAGIC ^ at) &&
	    h->version == MWI_ARENA_VERSION && h->pool_size == MWI_POOL_SIZE &&
	    h->arena_size == MWI_ARENA_SIZE && h->npools == MWI_ARENA_POOLS;
}

/* Does pool i of the arena at base, as read, hold together? */
static bool
pool_valid(const struct mwi_pool *p, uint64_t base, unsigned int i)
{
	if (p->state == MWI_POOL_FREE)
		return true;
	return p->check == (MWI_POOL_MAGIC ^ (base + ((uint64_t)i <<
	    MWI_POOL_SHIFT))) && p->state <= MWI_POOL_FULL &&
	    p->szidx < MW_ALLOC_CLASSES &&
	    p->bsize == (p->szidx + 1u) * MW_ALLOC_ALIGNMENT &&
	    p->nblocks == MWI_POOL_SIZE / p->bsize && p->nused <= p->nblocks &&
	    p->hint < MWI_BITMAP_WORDS;
}

/*
 * Count the valid pools of one arena as mw_alloc_stats counts them
 * (mwi_alloc_count_pool), into a, and add them to st.
 */
static void
count_arena(const struct mwi_arena *ar, uint64_t base,
    struct mw_alloc_arena *a, struct mw_alloc_stats *st)
{
	struct mw_alloc_stats	one;

	memset(&one, 0, sizeof(one));
	for (unsigned int i = 1; i < MWI_ARENA_POOLS; i++)
		if (pool_valid(&ar->pools[i], base, i))
			mwi_alloc_count_pool(&one, &ar->pools[i]);
	memset(a, 0, sizeof(*a));
	a->start = base;
	a->pools_used = one.pools_used;
	a->pools_full = one.pools_full;
	a->pools_empty = one.pools_empty;
	for (unsigned int c = 0; c < MW_ALLOC_CLASSES; c++) {
		a->blocks += one.classes[c].blocks;
		a->bytes += one.classes[c].bytes;
		st->classes[c].pools += one.classes[c].pools;
		st->classes[c].blocks += one.classes[c].blocks;
		st->classes[c].bytes += one.classes[c].bytes;
	}
	st->arenas++;
	st->bytes_mapped += MWI_ARENA_SIZE;
	st->pools_used += a->pools_used;
	st->pools_full += a->pools_full;
	st->pools_empty += a->pools_empty;
}

static int
add_arena(struct mwi_mwalloc *w, const struct mw_alloc_arena *a)
{
	struct mw_alloc_arena	*v;

	if (w->n == w->cap) {
		w->cap = w->cap * 2 + 8;
		if ((v = mwi_reallocarray(w->v, w->cap, sizeof(*v))) == NULL)
			return -1;
		w->v = v;
	}
	w->v[w->n++] = *a;
	return 0;
}

/* Read and count the arena whose header at base was found valid. */
static int
read_arena(pid_t pid, uint64_t base, struct mwi_mwalloc *w)
{
	struct mwi_arena	*ar;
	struct mw_alloc_arena	 a;
	int			 rc = 0;

	if ((ar = mwi_malloc(offsetof(struct mwi_arena, bitmaps))) == NULL)
		return -1;
	if (mwi_peek_mem(pid, base, ar, offsetof(struct mwi_arena, bitmaps)) ==
	    0 && head_valid((const struct head *)ar, base)) {
		count_arena(ar, base, &a, &w->stats);
		rc = add_arena(w, &a);
	} else if (errno != EFAULT)
		rc = -1;
	free(ar);
	return rc;
}

/*
 * The headers of up to BATCH candidate arenas from base on, in one
 * mwi_read_memv; the valid ones read whole. -1 only when the target is
 * gone or memory ran out.
 */
static int
scan_batch(pid_t pid, uint64_t base, size_t n, struct scan *sc,
    struct mwi_mwalloc *w)
{
	ssize_t	got;

	for (size_t i = 0; i < n; i++) {
		sc->local[i].iov_base = &sc->heads[i];
		sc->local[i].iov_len = sizeof(sc->heads[i]);
		sc->remote[i].iov_base = (void *)(uintptr_t)(base +
		    (uint64_t)i * MWI_ARENA_SIZE);
		sc->remote[i].iov_len = sizeof(sc->heads[i]);
	}
	if ((got = mwi_peek_memv(pid, sc->local, sc->remote, n)) == -1)
		return errno == ESRCH ? -1 : 0;
	for (size_t i = 0; i < (size_t)got; i++) {
		uint64_t	at = base + (uint64_t)i * MWI_ARENA_SIZE;

		if (head_valid(&sc->heads[i], at) &&
		    read_arena(pid, at, w) == -1)
			return -1;
	}
	return 0;
}

/* The arenas of region i: kind, label, and each counted. */
static int
scan_region(pid_t pid, struct mw_maps *m, struct mw_label *labels, size_t i,
    struct scan *sc, struct mwi_mwalloc *w)
{
	const struct mw_region	*r = &m->regions[i];
	uint64_t		 first = mwi_pageup(r->start, MWI_ARENA_SIZE);
	uint64_t		 count = (r->end - first) / MWI_ARENA_SIZE;
	size_t			 before = w->n, n;

	for (uint64_t k = 0; k < count; k += n) {
		n = count - k < BATCH ? (size_t)(count - k) : BATCH;
		if (scan_batch(pid, first + k * MWI_ARENA_SIZE, n, sc, w) == -1)
			return -1;
	}
	if (w->n == before)
		return 0;
	if (r->kind != MW_KIND_MEMWALK_ARENA)
		mwi_maps_set_kind(m, i, MW_KIND_MEMWALK_ARENA);
	labels[i].arena = (int)before;
	return 0;
}

int
mwi_mwalloc_label(pid_t pid, struct mw_maps *m, struct mw_label *labels,
    struct mwi_mwalloc *w)
{
	struct scan	*sc;
	int		 rc = 0;

	memset(w, 0, sizeof(*w));
	if ((sc = mwi_calloc(1, sizeof(*sc))) == NULL)
		return -1;
	for (size_t i = 0; i < m->nregions && rc == 0; i++)
		if (candidate(&m->regions[i], &labels[i]))
			rc = scan_region(pid, m, labels, i, sc, w);
	free(sc);
	return rc;
}

void
mwi_mwalloc_free(struct mwi_mwalloc *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/*
 * The block of a memwalk arena that holds addr, read again now: 1 (obj
 * set), 0 (the metadata, a free pool, past the last block), -1.
 */
int
mwi_mwalloc_object(pid_t pid, uint64_t addr, struct mw_object *obj)
{
	uint64_t	base = addr & ~(uint64_t)(MWI_ARENA_SIZE - 1), word;
	unsigned int	i = (unsigned int)((addr >> MWI_POOL_SHIFT) &
			    (MWI_ARENA_POOLS - 1));
	struct head	h;
	struct mwi_pool	p;
	uint32_t	off = (uint32_t)(addr & (MWI_POOL_SIZE - 1)), b, g;

	if (i == 0 ||
	    mwi_peek_mem(pid, base, &h, sizeof(h)) == -1 ||
	    !head_valid(&h, base) ||
	    mwi_peek_mem(pid, base + offsetof(struct mwi_arena, pools) +
	    i * sizeof(p), &p, sizeof(p)) == -1)
		return errno == EFAULT || errno == 0 ? 0 : -1;
	if (p.state == MWI_POOL_FREE || !pool_valid(&p, base, i) ||
	    off >= (uint32_t)p.nblocks * p.bsize)
		return 0;
	b = off / p.bsize;
	g = b * p.bsize / MW_ALLOC_ALIGNMENT;	/* its bit */
	if (mwi_peek_mem(pid, base + offsetof(struct mwi_arena, bitmaps) +
	    (i * MWI_BITMAP_WORDS + g / 64) * sizeof(word), &word,
	    sizeof(word)) == -1)
		return errno == EFAULT ? 0 : -1;
	memset(obj, 0, sizeof(*obj));
	obj->type = MW_OBJECT_MW_BLOCK;
	obj->arena = base;
	obj->pool = base + ((uint64_t)i << MWI_POOL_SHIFT);
	obj->size_class = p.szidx;
	obj->block = b;
	obj->start = obj->pool + (uint64_t)b * p.bsize;
	obj->size = p.bsize;
	obj->allocated = !((word >> (g % 64)) & 1);
	return 1;
}
