/*
 * alloc.c: the bundled allocator. CPython's obmalloc (arenas, pools,
 * blocks, usedpools) with a heap per thread, so that the common malloc
 * and free take no lock and no atomic operation.
 *
 *   arena: ARENA_SIZE (1 MiB), aligned to its size, named "[anon:memwalk
 *   arena]" where the kernel names anonymous memory; mapped CHUNK_ARENAS
 *   at a time (one mmap of 2 MiB, aligned to that), faulted in at once
 *
 *   | pool 0              | pool 1          | pool 2    | ... | pool 63 |
 *   | struct mwi_arena:   | blocks of one   |           |     |         |
 *   |  magic, links,      | size class:     |           |     |         |
 *   |  pools[0..63]:      | [b0][b1][b2]... |           |     |         |
 *   |  the metadata of    | ^ the lowest    |           |     |         |
 *   |  every pool,        |   free first    |           |     |         |
 *   |  bitmaps[0..63]     |                 |           |     |         |
 *   <-- POOL_SIZE 16 KiB -->
 *
 *   pools[i] (struct mwi_pool, one cache line) describes pool i: its owner
 *   heap, size class, block size, blocks in use, and a hint; bitmaps[i], a
 *   bit per 16-byte granule of the pool, 1 where a free block starts, so
 *   that the bit of an address is known from the address alone. malloc
 *   takes the lowest free block (the first set bit from the hint on), free
 *   sets its bit again. Unlike obmalloc, which keeps a pool's header in
 *   the pool and its free blocks in a list linked through them, everything
 *   sits apart, in pool 0, as in musl's mallocng: an overflow out of a
 *   block cannot rewrite it, every free checks it (magic words keyed to
 *   their own addresses, the block at a block boundary, its bit clear),
 *   and neither malloc nor free reads or writes the block itself. On a
 *   large working set that access is a cache miss: a free list, read on
 *   malloc, cost 1.8x mimalloc's time on random replacement. They only
 *   prefetch, for its caller's first write: malloc the block after the one
 *   it hands out, free the block it stashes.
 *
 *   heap (one per thread, struct mwi_heap)
 *     used[c] --> pool <-> pool <-> ...   obmalloc's usedpools: pools of
 *                 ^ malloc takes from     class c with a free block; a
 *                   the first             full pool leaves the list and
 *                                         comes back, first, at its
 *                                         next free
 *     stash[c]: [b][b][b] ... <- top      up to STASH_MAX blocks of class
 *                                         c its own thread freed, newest
 *                                         on top: malloc takes them first
 *     thread_free --> block -> block      blocks of its pools freed by
 *                                         other threads (atomic push)
 *
 *   global, under one mutex: the arenas, the list of arenas with free
 *   pools, the registry of arena addresses (two levels of bitmaps, so
 *   that free can tell one of our pointers from any other without
 *   touching memory that may not be mapped), the heaps.
 *
 * The paths:
 *   malloc, fast    the thread's heap: the top of stash[c], its bit
 *                   cleared; else used[c], the first set bit of its
 *                   bitmap, cleared: no lock, no atomic
 *   malloc, slow    take back the heap's thread_free; take a pool from
 *                   an arena, or a new arena (mutex)
 *   free, owner     check (magic words; a class; a granule where a
 *                   block of the class starts, from class_bits), set
 *                   the bit (a set bit: double free), push on stash[c];
 *                   a full stash: the block counts free in its pool at
 *                   once (nused, usedpools)
 *   free, other     check, push on the owner heap's thread_free (CAS),
 *                   linked through the block's first word; the owner
 *                   sets the bit when it takes it back, and a double
 *                   free is found then
 *   pool empty      back to its arena (mutex), unless it is its heap's
 *                   last pool of that class (no thrashing at a boundary)
 *   arena empty     kept on the spare list, up to SPARE_MAX; beyond,
 *                   unmapped
 *   introspection   the caller's stash counted free in its pools first
 *   thread exit     its stash counted free in its pools; its heap is
 *                   abandoned: from then on every free into
 *                   its pools takes the mutex and acts as the owner, and
 *                   its pools go back to the arenas as they empty; a new
 *                   thread starts a new heap (no adoption)
 *   > SMALL_MAX     malloc(3) with a 16-byte header (size, check)
 *
 * Invariants:
 *   - A pool's bitmap, hint, nused and list links change only by its
 *     owner thread, or under the mutex once its heap is abandoned.
 *   - A block's bit is clear exactly while it is handed out or waits in
 *     a thread_free; a granule where no block starts has its bit clear;
 *     nused counts the clear bits of its blocks and the blocks in its
 *     heap's stash. Every bitmap word below hint is 0 but
 *     for the bits of stashed blocks.
 *   - Only a pool's own class's stash holds its blocks, so while
 *     stash[c] is empty no pool of class c has a stashed block: malloc
 *     takes from the bitmaps only then, and never hands a block out
 *     twice. A pool with a stashed block has nused > 0: it is not given
 *     back.
 *   - Every pool in usedpools has a free block, a set bit at or after
 *     its hint: malloc takes out the pool it fills (state FULL).
 *   - An arena is in the registry exactly while it is mapped.
 *   - pools[0] is never a pool of blocks.
 *
 * The stash: on random replacement (bench/churn) 80% of the frees hit a
 * full pool and the next malloc of the class fills it again, so every
 * operation moved a pool in and out of usedpools. Kept in the stash,
 * the freed block skips that and comes back at once; its bit is still
 * set on free, so that a double free is caught on the free itself, as
 * before, and the block itself is never read (a read of a freed block
 * at free, glibc's tcache key, cost 2x). Measured, paired: random
 * replacement 25.1 -> 20.0 ns per operation, batch unchanged.
 *
 * The bit per granule: with a bit per block, free needed the pool's
 * line (its class) before it could address the bitmap word, two cache
 * misses one after the other; now both are asked for at once. With the
 * prefetch of the stashed block, measured in one process, segments of
 * the allocators interleaved (bench/HISTORY.md): random replacement
 * 1.15x -> 0.95x-1.07x mimalloc's time, batch unchanged.
 *
 * Where obmalloc differs: obmalloc has one set of usedpools under the
 * GIL; here each thread has its own, as mimalloc's heaps. obmalloc
 * frees an arena as soon as it is empty; here up to SPARE_MAX empty
 * arenas are kept, as a batch that frees everything and starts again
 * would otherwise map and fault in its arenas each round (measured: 1.1x
 * glibc's time on such a batch with one kept, against 0.4x). obmalloc
 * maps one arena at a time and lets it fault in page by page; here two
 * are mapped together, 2 MiB aligned, and faulted in whole at once: one
 * transparent huge page where THP is "always" or "madvise", else one
 * MADV_POPULATE_WRITE call (mwi_map_eager). On this KVM guest a page
 * fault costs about 12 us: bench/churn's first 100,000 blocks and their
 * frees took 80 ms with a fault per 4 KiB page, 41 ms populated and 6.5
 * ms as huge pages; random replacement 18.2 -> 14.2 ns per operation
 * (mimalloc 15.7), batch 11.5 -> 8.0 (13.1), the rest unchanged. The
 * cost: the first malloc makes 2 MiB resident, and an arena is resident
 * whole from its start, a spare one included.
 */
#include "mwi.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGNMENT	MW_ALLOC_ALIGNMENT
#define NCLASSES	MW_ALLOC_CLASSES
#define SMALL_MAX	MW_ALLOC_SMALL_MAX
#define POOL_SIZE	MWI_POOL_SIZE
#define POOL_SHIFT	MWI_POOL_SHIFT
#define ARENA_SIZE	MWI_ARENA_SIZE
#define NPOOLS		MWI_ARENA_POOLS
#define LARGE_MAGIC	0x6d776c6172676531ULL	/* "mwlarge1" */
#define SPARE_MAX	64		/* empty arenas kept: 64 MiB */
#define FILL_FRESH	0xa5		/* --enable-alloc-fill: handed out */
#define FILL_FREED	0xdd		/* and freed */
#define STASH_MAX	64		/* a heap's freed blocks kept, per class */
#define CHUNK_ARENAS	2		/* arenas mapped at once: a 2 MiB huge page */

/*
 * With --enable-valgrind, memcheck is told of every block: handed out
 * (malloc-like, of its usable size), freed (free-like, then no access),
 * and the blocks of a fresh pool are no access until handed out. So a
 * use after free, a read of what was never written, an overflow into a
 * neighbour or a leak of mw_malloc's blocks is reported as of malloc(3)'s.
 * Without it the macros are empty: the client requests cost the fast
 * path a few instructions even outside valgrind.
 */
#ifdef MW_VALGRIND
#include <valgrind/memcheck.h>
#define VG_HANDED_OUT(b, n)	VALGRIND_MALLOCLIKE_BLOCK((b), (n), 0, 0)
#define VG_FREED(b)		VALGRIND_FREELIKE_BLOCK((b), 0)
#define VG_NO_ACCESS(b, n)	VALGRIND_MAKE_MEM_NOACCESS((b), (n))
#else
#define VG_HANDED_OUT(b, n)	((void)0)
#define VG_FREED(b)		((void)0)
#define VG_NO_ACCESS(b, n)	((void)0)
#endif

/*
 * With --enable-alloc-fill, a block handed out is filled with FILL_FRESH
 * (a read before a write shows 0xa5a5...), a freed one with FILL_FREED
 * (a use after free shows 0xdddd...; a block freed by another thread
 * keeps its first word, its link, until its owner takes it back).
 */
static inline void
fill(void *b, int c, size_t n)
{
#ifdef MW_ALLOC_FILL
	memset(b, c, n);
#else
	(void)b, (void)c, (void)n;
#endif
}

_Static_assert(sizeof(struct mwi_arena) <= POOL_SIZE,
    "the metadata of an arena fits in its pool 0");
_Static_assert(SMALL_MAX == NCLASSES * ALIGNMENT, "16-byte classes");
_Static_assert(sizeof(struct mwi_pool) == 64, "one cache line");
_Static_assert(POOL_SIZE / ALIGNMENT <= UINT16_MAX, "block counts in 16 bits");

struct mwi_heap {
	struct mwi_pool	*used[NCLASSES];	/* usedpools; [c] allocates */
	uint32_t	 nstash[NCLASSES];	/* blocks in stash[c] */
	_Atomic(void *)	 thread_free;		/* freed by other threads */
	atomic_bool	 abandoned;		/* its thread exited */
	size_t		 npools;		/* pools it owns */
	struct mwi_heap	*next, *prev;		/* all heaps (mutex) */
	void		*stash[NCLASSES][STASH_MAX];	/* freed, newest last */
};

/* What a large block carries before the pointer handed out. */
struct large_header {
	uint64_t	size;		/* as asked */
	uint64_t	check;		/* LARGE_MAGIC ^ the pointer */
};
_Static_assert(sizeof(struct large_header) % ALIGNMENT == 0,
    "large blocks stay aligned");

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct mwi_arena	*arenas;		/* all mapped */
static struct mwi_arena	*usable;		/* those with a free pool */
static struct mwi_arena	*spares;		/* empty, kept: newest first */
static size_t		 nspares;
static struct mwi_heap	*heaps;
static size_t		 narenas;
static atomic_size_t	 large_count, large_bytes;

static _Thread_local struct mwi_heap *tls_heap
    __attribute__((tls_model("initial-exec")));
static pthread_key_t	 heap_key;
static pthread_once_t	 heap_once = PTHREAD_ONCE_INIT;

/*
 * For each class, a set bit at each 16-byte granule of a pool where one
 * of its blocks starts: a fresh pool's bitmap, and what free checks a
 * pointer against (a block's start: not inside a block, not past the
 * last). Made once, with the thread-specific key, before the first
 * heap; read without the mutex.
 */
static uint64_t		 class_bits[NCLASSES][MWI_BITMAP_WORDS];

/* ---- the reporter -------------------------------------------------- */

/*
 * Every detected misuse ends here: one line on stderr, then abort(3).
 * Written with write(2) into a stack buffer: the heap may be the thing
 * that is broken.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
corrupt(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;
	int	n;

	n = snprintf(buf, sizeof(buf), "memwalk alloc: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	abort();
}

/* ---- the registry of arena addresses -------------------------------- */

/*
 * One bit per ARENA_SIZE of a 47-bit address space, in two levels:
 * address bits 46..34 pick a second-level bitmap (allocated on first
 * use, never freed), bits 33..20 a bit in it. Read without the mutex:
 * a live block's arena cannot leave the registry, and for any other
 * pointer a stale answer is as good as a fresh one.
 */
#define REG_L2_BITS	14
#define REG_L1_BITS	(47 - 20 - REG_L2_BITS)
#define REG_L2_WORDS	((1u << REG_L2_BITS) / 64)

static _Atomic(atomic_uint_least64_t *) registry[1u << REG_L1_BITS];
_Static_assert((1u << REG_L2_BITS) % CHUNK_ARENAS == 0,
    "the arenas of an aligned chunk share one second-level bitmap");

static inline __attribute__((always_inline)) bool
registry_has(uintptr_t a)
{
	atomic_uint_least64_t	*l2;
	uintptr_t		 n = a >> MWI_ARENA_SHIFT;

	if ((a >> 47) != 0 ||
	    (l2 = atomic_load_explicit(&registry[n >> REG_L2_BITS],
	    memory_order_acquire)) == NULL)
		return false;
	n &= (1u << REG_L2_BITS) - 1;
	return (atomic_load_explicit(&l2[n / 64], memory_order_relaxed) >>
	    (n % 64)) & 1;
}

/* For the probe (probe.c): is a in one of this process's arenas? */
bool
mwi_alloc_is_arena(uintptr_t a)
{
	return registry_has(a);
}

/* With the mutex held; -1 when the second level cannot be allocated. */
static int
registry_set(uintptr_t a, bool on)
{
	atomic_uint_least64_t	*l2;
	uintptr_t		 n = a >> MWI_ARENA_SHIFT;
	_Atomic(atomic_uint_least64_t *) *slot = &registry[n >> REG_L2_BITS];

	if ((l2 = atomic_load(slot)) == NULL) {
		if ((l2 = calloc(REG_L2_WORDS, sizeof(*l2))) == NULL)
			return -1;
		atomic_store_explicit(slot, l2, memory_order_release);
	}
	n &= (1u << REG_L2_BITS) - 1;
	if (on)
		atomic_fetch_or(&l2[n / 64], UINT64_C(1) << (n % 64));
	else
		atomic_fetch_and(&l2[n / 64], ~(UINT64_C(1) << (n % 64)));
	return 0;
}

/* ---- arenas and pools (with the mutex held) ---------------------------- */

static struct mwi_arena *
arena_of(uintptr_t a)
{
	return (struct mwi_arena *)(a & ~(uintptr_t)(ARENA_SIZE - 1));
}

static size_t
pool_index(const struct mwi_pool *p)
{
	return (size_t)(p - arena_of((uintptr_t)p)->pools);
}

/* The metadata of the pool that holds address a (nothing is read). */
static struct mwi_pool *
pool_at(uintptr_t a)
{
	return &arena_of(a)->pools[(a >> POOL_SHIFT) & (NPOOLS - 1)];
}

static char *
pool_base(const struct mwi_pool *p)
{
	return (char *)arena_of((uintptr_t)p) + (pool_index(p) << POOL_SHIFT);
}

static inline uint64_t *
bitmap_of(struct mwi_pool *p)
{
	return arena_of((uintptr_t)p)->bitmaps[pool_index(p)];
}

/* The index of the 16-byte granule of its pool that holds a: its bit. */
static inline uint32_t
granule_of(uintptr_t a)
{
	return (uint32_t)(a & (POOL_SIZE - 1)) / ALIGNMENT;
}

/* The bitmap word that holds the bit of the block at a, and the bit. */
static inline uint64_t *
bitmap_word(uintptr_t a)
{
	return &arena_of(a)->bitmaps[(a >> POOL_SHIFT) & (NPOOLS - 1)]
	    [granule_of(a) / 64];
}

static inline uint64_t
bitmap_bit(uintptr_t a)
{
	return UINT64_C(1) << (a / ALIGNMENT % 64);
}

static void
list_unlink(struct mwi_arena **head, struct mwi_arena *a)
{
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		*head = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
}

static void
list_push(struct mwi_arena **head, struct mwi_arena *a)
{
	a->prev = NULL;
	a->next = *head;
	if (*head != NULL)
		(*head)->prev = a;
	*head = a;
}

/* The header of arena a, just mapped and registered: every pool free. */
static void
arena_init(struct mwi_arena *a)
{
	a->magic = MWI_ARENA_MAGIC ^ (uintptr_t)a;
	a->version = MWI_ARENA_VERSION;
	a->pool_size = POOL_SIZE;
	a->arena_size = ARENA_SIZE;
	a->npools = NPOOLS;
	for (uint32_t i = 1; i < NPOOLS; i++)
		a->pools[i].next_free = i + 1 < NPOOLS ? i + 1 : 0;
	a->free_head = 1;
	a->nfree = NPOOLS - 1;
	narenas++;
}

/*
 * CHUNK_ARENAS new arenas, mapped at once, aligned to their total, named
 * and faulted in whole (mwi_map_eager: a transparent huge page where
 * the kernel gives one). The first is returned, the others become
 * spares. NULL with ENOMEM. The registry of one aligned chunk is one
 * second-level bitmap: a failure can only be the first arena's.
 */
static struct mwi_arena *
arena_new(void)
{
	char	*chunk;
	size_t	 len = CHUNK_ARENAS * ARENA_SIZE;

	if ((chunk = mwi_map_aligned(len, len)) == NULL)
		return NULL;
	if (registry_set((uintptr_t)chunk, true) == -1) {
		mwi_unmap(chunk, len);
		errno = ENOMEM;
		return NULL;
	}
	mwi_name_anon(chunk, len, MWI_ARENA_NAME);
	mwi_map_eager(chunk, len);
	arena_init((struct mwi_arena *)chunk);
	for (size_t i = 1; i < CHUNK_ARENAS; i++) {
		struct mwi_arena *a = (void *)(chunk + i * ARENA_SIZE);

		(void)registry_set((uintptr_t)a, true);
		arena_init(a);
		list_push(&spares, a);
		nspares++;
	}
	return (struct mwi_arena *)chunk;
}

static void
arena_free(struct mwi_arena *a)
{
	registry_set((uintptr_t)a, false);
	a->magic = 0;
	narenas--;
	mwi_unmap(a, ARENA_SIZE);
}

/* An arena with a free pool: a used one first, then a spare, then new. */
static struct mwi_arena *
arena_usable(void)
{
	struct mwi_arena	*a;

	if (usable != NULL)
		return usable;
	if ((a = spares) != NULL) {
		list_unlink(&spares, a);
		nspares--;
	} else if ((a = arena_new()) == NULL)
		return NULL;
	list_push(&arenas, a);
	a->next_usable = NULL;
	usable = a;
	return a;
}

static void
pool_init(struct mwi_pool *p, struct mwi_heap *h, unsigned int c)
{
	uint32_t	 bsize = (c + 1) * ALIGNMENT, n = POOL_SIZE / bsize;

	p->check = MWI_POOL_MAGIC ^ (uintptr_t)pool_base(p);
	p->heap = h;
	p->szidx = (uint16_t)c;
	p->state = MWI_POOL_USED;
	p->bsize = (uint16_t)bsize;
	p->nblocks = (uint16_t)n;
	p->recip = (uint32_t)((UINT64_C(1) << 32) / bsize + 1);
	p->nused = p->hint = 0;
	memcpy(bitmap_of(p), class_bits[c], sizeof(class_bits[c]));
	VG_NO_ACCESS(pool_base(p), POOL_SIZE);
}

/* A free pool of an arena for heap h and class c; NULL with ENOMEM. */
static struct mwi_pool *
pool_take(struct mwi_heap *h, unsigned int c)
{
	struct mwi_arena	*a;
	struct mwi_pool		*p;

	pthread_mutex_lock(&lock);
	if ((a = arena_usable()) == NULL) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	p = &a->pools[a->free_head];
	a->free_head = p->next_free;
	if (--a->nfree == 0)
		usable = a->next_usable;	/* it was the first */
	pool_init(p, h, c);
	h->npools++;
	pthread_mutex_unlock(&lock);
	return p;
}

/* Remove a from the usable list, wherever it is. */
static void
usable_remove(struct mwi_arena *a)
{
	for (struct mwi_arena **pp = &usable; *pp != NULL;
	    pp = &(*pp)->next_usable)
		if (*pp == a) {
			*pp = a->next_usable;
			return;
		}
}

/* Pool p, empty, back to its arena; with the mutex held. */
static void
pool_give_back(struct mwi_pool *p)
{
	struct mwi_arena	*a = arena_of((uintptr_t)p);

	p->heap->npools--;
	p->state = MWI_POOL_FREE;
	p->heap = NULL;
	p->szidx = MWI_POOL_UNUSED;
	p->next_free = a->free_head;
	a->free_head = (uint32_t)pool_index(p);
	if (a->nfree++ == 0) {
		a->next_usable = usable;
		usable = a;
	}
	if (a->nfree < NPOOLS - 1)
		return;
	usable_remove(a);		/* empty: a spare, or unmapped */
	list_unlink(&arenas, a);
	list_push(&spares, a);
	if (++nspares <= SPARE_MAX)
		return;
	for (a = spares; a->next != NULL; a = a->next)
		;			/* the oldest goes */
	list_unlink(&spares, a);
	nspares--;
	arena_free(a);
}

/* ---- blocks ---------------------------------------------------------- */

/* Aborts when a is not the start of one of p's blocks. */
static void
block_check(const struct mwi_pool *p, uintptr_t a)
{
	uint32_t	off = (uint32_t)(a & (POOL_SIZE - 1));
	uint32_t	i = (uint32_t)(((uint64_t)off * p->recip) >> 32);

	if (i * p->bsize != off || i >= p->nblocks)
		corrupt("bogus pointer (inside a block, not its start) %p",
		    (void *)a);
}

static void pool_filled(struct mwi_heap *h, struct mwi_pool *p);

/*
 * The lowest free block of p, which has one (every pool in usedpools
 * does); a pool that this fills leaves usedpools at once. A word that
 * this empties moves the hint on at once: with a bit per granule a word
 * holds only 64 / (class + 1) blocks, and a scan from an empty word
 * cost batch churn 12%; moved without a branch, which mixed classes
 * mispredict (6% more). The block after it is prefetched for writing:
 * in a pool being filled (batch) the next malloc of the class hands it
 * out and its caller writes it. Measured, paired: batch churn 13.0 ->
 * 11.4 ns per operation (then of the next free block of the word; the
 * next block is as good and reads no bitmap). A caller that never
 * writes its blocks pays for it: on this VM a prefetch into a page never
 * faulted in stalls (random replacement without the write: 15.3 -> 28
 * ns per operation).
 */
static inline __attribute__((always_inline)) void *
block_take(struct mwi_heap *h, struct mwi_pool *p)
{
	uint64_t	*bm = bitmap_of(p);
	uint32_t	 w = p->hint, i;
	void		*b;

	while (bm[w] == 0)
		w++;
	i = w * 64 + (uint32_t)__builtin_ctzll(bm[w]);
	bm[w] &= bm[w] - 1;
	w += (bm[w] == 0) & (w + 1 < MWI_BITMAP_WORDS);	/* no branch */
	p->hint = (uint16_t)w;
	p->nused++;
	b = pool_base(p) + (size_t)i * ALIGNMENT;
	VG_HANDED_OUT(b, p->bsize);
	fill(b, FILL_FRESH, p->bsize);
	if (p->nused < p->nblocks)
		__builtin_prefetch((char *)b + p->bsize, 1);
	else
		pool_filled(h, p);
	return b;
}

/* Set block b's bit again: free. A set bit is a double free. */
static inline __attribute__((always_inline)) void
block_mark_free(void *b)
{
	uint64_t	*w = bitmap_word((uintptr_t)b), m = bitmap_bit((uintptr_t)b);

	if (*w & m)
		corrupt("double free of %p", b);
	*w |= m;
}

/* Block i, its bit set, counted free: malloc may take it again. */
static inline __attribute__((always_inline)) void
block_uncount(struct mwi_pool *p, uint32_t i)
{
	if (i / 64 < p->hint)
		p->hint = (uint16_t)(i / 64);
	p->nused--;
}

/* The pool of metadata p of arena a, checked; aborts when broken. */
static inline __attribute__((always_inline)) struct mwi_pool *
pool_checked(uintptr_t a)
{
	struct mwi_arena	*ar = arena_of(a);
	size_t			 i = (a >> POOL_SHIFT) & (NPOOLS - 1);
	struct mwi_pool		*p = &ar->pools[i];

	if (ar->magic != (MWI_ARENA_MAGIC ^ (uintptr_t)ar))
		corrupt("corrupted arena header at %p (freeing %p)",
		    (void *)ar, (void *)a);
	if (i == 0)
		corrupt("bogus pointer (arena metadata) %p", (void *)a);
	if (p->check != (MWI_POOL_MAGIC ^ (a & ~(uintptr_t)(POOL_SIZE - 1))))
		corrupt("corrupted pool header at %p (freeing %p)",
		    (void *)p, (void *)a);
	if (p->state == MWI_POOL_FREE || p->szidx >= NCLASSES)
		corrupt("bogus pointer (in a free pool) %p", (void *)a);
	return p;
}

/* ---- heaps ------------------------------------------------------------ */

static void
used_unlink(struct mwi_heap *h, struct mwi_pool *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		h->used[p->szidx] = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

static void
used_push(struct mwi_heap *h, struct mwi_pool *p)
{
	p->prev = NULL;
	p->next = h->used[p->szidx];
	if (p->next != NULL)
		p->next->prev = p;
	h->used[p->szidx] = p;
}

/*
 * Pool p has just given its last free block: out of usedpools, until a
 * free makes it the first again. The next pool's metadata and bitmap
 * are asked for now, so that the next malloc of the class finds them.
 */
static void __attribute__((noinline))
pool_filled(struct mwi_heap *h, struct mwi_pool *p)
{
	struct mwi_pool	*next = p->next;

	used_unlink(h, p);
	p->state = MWI_POOL_FULL;
	if (next != NULL) {
		__builtin_prefetch(next);
		__builtin_prefetch(&bitmap_of(next)[next->hint]);
	}
}

/*
 * Pool p of heap h was full, or has no block in use any more: back in
 * usedpools, or back to its arena. Out of the fast path of free.
 */
static void __attribute__((noinline))
pool_changed(struct mwi_heap *h, struct mwi_pool *p, bool locked)
{
	if (p->state == MWI_POOL_FULL) {
		p->state = MWI_POOL_USED;
		used_push(h, p);
	}
	if (p->nused > 0 || (p == h->used[p->szidx] && p->next == NULL &&
	    !atomic_load_explicit(&h->abandoned, memory_order_relaxed)))
		return;
	used_unlink(h, p);
	if (!locked)
		pthread_mutex_lock(&lock);
	pool_give_back(p);
	if (!locked)
		pthread_mutex_unlock(&lock);
}

/* Block b of p freed: its bit set (a set bit: double free), filled. */
static inline __attribute__((always_inline)) void
block_release(struct mwi_pool *p, void *b)
{
	block_mark_free(b);
	fill(b, FILL_FREED, p->bsize);
	VG_FREED(b);
}

/*
 * Free block b of p, checked, as its owner or under the mutex (locked):
 * counted free in its pool at once, the pool relisted or given back.
 */
static inline __attribute__((always_inline)) void
owner_release(struct mwi_pool *p, void *b, bool locked)
{
	block_release(p, b);
	block_uncount(p, granule_of((uintptr_t)b));
	if (p->nused == 0 || p->state == MWI_POOL_FULL)
		pool_changed(p->heap, p, locked);
}

/* The same for a block not checked yet (block_check aborts). */
static void
owner_free(struct mwi_pool *p, void *b, bool locked)
{
	block_check(p, (uintptr_t)b);
	owner_release(p, b, locked);
}

/*
 * The block freed last of class c, out of h's stash, its bit cleared:
 * the bit of its granule, known from its address without a read of its
 * pool's line.
 */
static inline __attribute__((always_inline)) void *
stash_take(struct mwi_heap *h, unsigned int c)
{
	void		*b = h->stash[c][--h->nstash[c]];

	*bitmap_word((uintptr_t)b) &= ~bitmap_bit((uintptr_t)b);
	VG_HANDED_OUT(b, (c + 1) * ALIGNMENT);
	fill(b, FILL_FRESH, (c + 1) * ALIGNMENT);
	return b;
}

/*
 * Every block of h's stash back in its pool, counted free: a full pool
 * relisted, an empty one given back. By h's thread, or under the mutex
 * (locked) once it is abandoned.
 */
static void
stash_flush(struct mwi_heap *h, bool locked)
{
	for (unsigned int c = 0; c < NCLASSES; c++)
		while (h->nstash[c] > 0) {
			uintptr_t	 a = (uintptr_t)h->stash[c][--h->nstash[c]];
			struct mwi_pool	*p = pool_at(a);

			block_uncount(p, granule_of(a));
			if (p->nused == 0 || p->state == MWI_POOL_FULL)
				pool_changed(h, p, locked);
		}
}

/* What the calling thread stashed, counted free before a count. */
static void
stash_flush_mine(void)
{
	if (tls_heap != NULL)
		stash_flush(tls_heap, false);
}

/* Take back the blocks other threads freed into h's pools. */
static void
collect(struct mwi_heap *h, bool locked)
{
	void	*b = atomic_exchange(&h->thread_free, NULL), *next;

	for (; b != NULL; b = next) {
		next = *(void **)b;
		owner_free(pool_checked((uintptr_t)b), b, locked);
	}
}

static void heap_abandon(void *);

static void
heap_key_init(void)
{
	if (pthread_key_create(&heap_key, heap_abandon) != 0)
		corrupt("no thread-specific key for the heaps");
	for (unsigned int c = 0; c < NCLASSES; c++)
		for (uint32_t g = 0; g + c + 1 <= POOL_SIZE / ALIGNMENT;
		    g += c + 1)
			class_bits[c][g / 64] |= UINT64_C(1) << (g % 64);
}

static struct mwi_heap *
heap_new(void)
{
	struct mwi_heap	*h;

	pthread_once(&heap_once, heap_key_init);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if (pthread_setspecific(heap_key, h) != 0) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&lock);
	h->next = heaps;
	if (heaps != NULL)
		heaps->prev = h;
	heaps = h;
	pthread_mutex_unlock(&lock);
	tls_heap = h;
	return h;
}

/* With the mutex held: an abandoned heap that owns nothing goes. */
static void
heap_reap(struct mwi_heap *h)
{
	if (!atomic_load(&h->abandoned) || h->npools > 0)
		return;
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		heaps = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	free(h);
}

/*
 * Thread exit: the heap is marked abandoned, then what other threads
 * freed is taken back, under the mutex. A thread that pushed a block
 * meanwhile sees the mark after its push (both sequentially consistent)
 * and takes its list back itself, under the mutex: no block is left
 * behind in a list nobody reads.
 */
static void
heap_abandon(void *arg)
{
	struct mwi_heap	*h = arg;

	pthread_mutex_lock(&lock);
	atomic_store(&h->abandoned, true);
	stash_flush(h, true);
	collect(h, true);
	for (unsigned int c = 0; c < NCLASSES; c++) {
		struct mwi_pool	*p, *next;

		for (p = h->used[c]; p != NULL; p = next) {
			next = p->next;
			if (p->nused == 0) {
				used_unlink(h, p);
				pool_give_back(p);
			}
		}
	}
	heap_reap(h);
	pthread_mutex_unlock(&lock);
	tls_heap = NULL;
}

static void __attribute__((noinline))
remote_free(struct mwi_pool *p, void *b)
{
	struct mwi_heap	*h = p->heap;
	void		*head;

	if (!atomic_load(&h->abandoned)) {
		head = atomic_load_explicit(&h->thread_free,
		    memory_order_relaxed);
		do
			*(void **)b = head;
		while (!atomic_compare_exchange_weak(&h->thread_free, &head, b));
		if (!atomic_load(&h->abandoned))
			return;
		b = NULL;		/* now in the list: collected below */
	}
	pthread_mutex_lock(&lock);
	if (b != NULL)
		owner_release(p, b, true);
	collect(h, true);
	heap_reap(h);
	pthread_mutex_unlock(&lock);
}

/* ---- large blocks ----------------------------------------------------- */

static void *
large_alloc(size_t n)
{
	struct large_header	*h;

	if (n > SIZE_MAX - sizeof(*h)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->size = n;
	h->check = LARGE_MAGIC ^ (uintptr_t)(h + 1);
	fill(h + 1, FILL_FRESH, n);
	atomic_fetch_add_explicit(&large_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&large_bytes, n, memory_order_relaxed);
	return h + 1;
}

/*
 * The header of a large block; aborts when ptr is none of ours. It reads
 * the 16 bytes before ptr, which belong to malloc(3) when ptr came from
 * it: not instrumented, so that AddressSanitizer lets the check run.
 */
static struct large_header * __attribute__((no_sanitize_address))
large_header(void *ptr)
{
	struct large_header	*h = (struct large_header *)ptr - 1;

	if (((uintptr_t)ptr & (ALIGNMENT - 1)) != 0 ||
	    h->check != (LARGE_MAGIC ^ (uintptr_t)ptr))
		corrupt("bogus pointer (not from mw_malloc, or freed twice) %p",
		    ptr);
	return h;
}

static void __attribute__((noinline))
large_free(void *ptr)
{
	struct large_header	*h = large_header(ptr);

	atomic_fetch_sub_explicit(&large_count, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&large_bytes, h->size, memory_order_relaxed);
	fill(ptr, FILL_FREED, h->size);
	h->check = 0;
	free(h);
}

/* ---- the interface ---------------------------------------------------- */

static unsigned int
class_of(size_t n)
{
	return n == 0 ? 0 : (unsigned int)((n - 1) / ALIGNMENT);
}

static void * __attribute__((noinline))
malloc_slow(size_t n)
{
	struct mwi_heap	*h = tls_heap;
	struct mwi_pool	*p;
	unsigned int	 c = class_of(n);

	if (n > SMALL_MAX)
		return large_alloc(n);
	if (h == NULL && (h = heap_new()) == NULL)
		return NULL;
	if (h->nstash[c] > 0)		/* malloc(0), class 0, comes here */
		return stash_take(h, c);
	if (atomic_load_explicit(&h->thread_free, memory_order_relaxed) != NULL)
		collect(h, false);
	if ((p = h->used[c]) == NULL) {
		if ((p = pool_take(h, c)) == NULL)
			return NULL;
		used_push(h, p);
	}
	return block_take(h, p);
}

void *
mw_malloc(size_t n)
{
	struct mwi_heap	*h = tls_heap;
	struct mwi_pool	*p;
	unsigned int	 c = (unsigned int)((n - 1) / ALIGNMENT);

	if (n - 1 < SMALL_MAX && h != NULL) {
		if (h->nstash[c] > 0)
			return stash_take(h, c);
		if ((p = h->used[c]) != NULL)
			return block_take(h, p);
	}
	return malloc_slow(n);
}

void *
mw_calloc(size_t n, size_t size)
{
	void	*p;
	size_t	 total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = mw_malloc(total)) != NULL)
		memset(p, 0, total);
	return p;
}

/*
 * What mw_free refused a for, the checks one by one as pool_checked and
 * block_check make them, each with its own message.
 */
static void __attribute__((noinline, noreturn, cold))
free_refused(uintptr_t a)
{
	struct mwi_pool	*p = pool_checked(a);

	block_check(p, a);
	if (*bitmap_word(a) & bitmap_bit(a))
		corrupt("double free of %p", (void *)a);
	corrupt("corrupted pool header at %p (freeing %p)", (void *)p,
	    (void *)a);
}

/* A checked free by another thread than the owner, or past a full stash. */
static void __attribute__((noinline))
free_slow(struct mwi_pool *p, void *b)
{
	if (p->heap == tls_heap)
		owner_release(p, b, false);
	else
		remote_free(p, b);
}

/*
 * The checks of every free, at once: the arena's and the pool's magic
 * words, a class (not a free pool), the start of a block (its granule
 * one where a block of the class starts); free_refused says which
 * failed. Then the owner's free, its thread alive: its bit set (a set
 * bit is a double free), and the block kept in the heap's stash of its
 * class, its pool's count and lists untouched, while the stash has
 * room. A stashed block is the next one of its class handed out, whose
 * caller writes it: it is prefetched for writing now, as a free list's
 * link write would bring it in.
 */
void
mw_free(void *ptr)
{
	uintptr_t		 a = (uintptr_t)ptr;
	struct mwi_arena	*ar;
	struct mwi_pool		*p;
	struct mwi_heap		*h = tls_heap;
	uint64_t		 m = bitmap_bit(a);
	unsigned int		 c;

	if (!registry_has(a)) {
		if (ptr != NULL)
			large_free(ptr);
		return;
	}
	ar = arena_of(a);
	p = pool_at(a);
	c = p->szidx;
	if (ar->magic != (MWI_ARENA_MAGIC ^ (uintptr_t)ar) ||
	    p->check != (MWI_POOL_MAGIC ^ (a & ~(uintptr_t)(POOL_SIZE - 1))) ||
	    c >= NCLASSES || (a & (ALIGNMENT - 1)) != 0 ||
	    (class_bits[c][granule_of(a) / 64] & m) == 0)
		free_refused(a);
	if (p->heap != h || h->nstash[c] == STASH_MAX) {
		free_slow(p, ptr);
		return;
	}
	block_release(p, ptr);
	__builtin_prefetch(ptr, 1);
	h->stash[c][h->nstash[c]++] = ptr;
}

size_t
mw_usable_size(const void *ptr)
{
	if (ptr == NULL)
		return 0;
	if (!registry_has((uintptr_t)ptr))
		return large_header((void *)ptr)->size;
	return pool_checked((uintptr_t)ptr)->bsize;
}

void *
mw_realloc(void *ptr, size_t n)
{
	size_t	 old;
	void	*q;

	if (ptr == NULL)
		return mw_malloc(n);
	old = mw_usable_size(ptr);
	if (n <= SMALL_MAX && registry_has((uintptr_t)ptr) &&
	    class_of(n) == class_of(old))
		return ptr;
	if ((q = mw_malloc(n)) == NULL)
		return NULL;
	memcpy(q, ptr, old < n ? old : n);
	mw_free(ptr);
	return q;
}

/* ---- introspection ----------------------------------------------------- */

/*
 * These read the metadata under the mutex. Another thread's pools change
 * under them without it (its own malloc and free take no lock), so what
 * they tell of those is a recent state, exact only when the other
 * threads stand still; blocks freed by other threads count as in use
 * until their owner takes them back, and so do the blocks in another
 * thread's stash (mw_alloc_info, which reads the bitmap, says free). The
 * caller's own stash is counted free first.
 */
int
mw_alloc_info(const void *ptr, struct mw_alloc_info *info)
{
	uintptr_t		 a = (uintptr_t)ptr;
	struct mwi_arena	*ar = arena_of(a);
	struct mwi_pool		*p;
	uint32_t		 off, i;
	int			 rc = 0;

	memset(info, 0, sizeof(*info));
	if (!registry_has(a))
		return 0;
	stash_flush_mine();
	pthread_mutex_lock(&lock);
	p = pool_at(a);
	off = (uint32_t)(a & (POOL_SIZE - 1));
	if (p != &ar->pools[0] && p->state != MWI_POOL_FREE &&
	    off < p->nblocks * p->bsize) {
		i = (uint32_t)(((uint64_t)off * p->recip) >> 32);
		info->arena = ar;
		info->pool = pool_base(p);
		info->size_class = p->szidx;
		info->block_size = p->bsize;
		info->block = i;
		info->block_start = pool_base(p) + (size_t)i * p->bsize;
		info->allocated = !(*bitmap_word((uintptr_t)info->block_start) &
		    bitmap_bit((uintptr_t)info->block_start));
		rc = 1;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Pool p into st, by state and class: mwarena.c counts the same way. */
void
mwi_alloc_count_pool(struct mw_alloc_stats *st, const struct mwi_pool *p)
{
	if (p->state == MWI_POOL_FREE || p->nused == 0)
		st->pools_empty++;
	else if (p->nused == p->nblocks)
		st->pools_full++;
	else
		st->pools_used++;
	if (p->state == MWI_POOL_FREE)
		return;
	st->classes[p->szidx].pools++;
	st->classes[p->szidx].blocks += p->nused;
	st->classes[p->szidx].bytes += (size_t)p->nused * p->bsize;
}

void
mw_alloc_stats(struct mw_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	stash_flush_mine();
	pthread_mutex_lock(&lock);
	for (struct mwi_arena *a = arenas; a != NULL; a = a->next) {
		st->arenas++;
		for (unsigned int i = 1; i < NPOOLS; i++)
			mwi_alloc_count_pool(st, &a->pools[i]);
	}
	st->arenas += nspares;
	st->pools_empty += nspares * (NPOOLS - 1);
	pthread_mutex_unlock(&lock);
	st->bytes_mapped = st->arenas * ARENA_SIZE;
	st->large_blocks = atomic_load(&large_count);
	st->large_bytes = atomic_load(&large_bytes);
}

static void
describe_pool(struct mw_alloc_pool *out, const struct mwi_arena *a,
    unsigned int i)
{
	const struct mwi_pool	*p = &a->pools[i];

	memset(out, 0, sizeof(*out));
	out->arena = a;
	out->pool = (const char *)a + ((size_t)i << POOL_SHIFT);
	out->index = i;
	out->in_use = p->state != MWI_POOL_FREE;
	if (!out->in_use)
		return;
	out->size_class = p->szidx;
	out->block_size = p->bsize;
	out->blocks = p->nblocks;
	out->used = p->nused;
}

/*
 * Every pool of every arena, under the mutex: fn must not call the
 * allocator. It stops at fn's first non-zero return, which it returns.
 */
int
mw_alloc_walk(mw_alloc_walk_fn fn, void *ctx)
{
	struct mw_alloc_pool	 pool;
	struct mwi_arena	*a;
	int			 rc = 0;

	stash_flush_mine();
	pthread_mutex_lock(&lock);
	for (a = arenas; a != NULL && rc == 0; a = a->next)
		for (unsigned int i = 1; i < NPOOLS && rc == 0; i++) {
			describe_pool(&pool, a, i);
			rc = fn(ctx, &pool);
		}
	for (a = spares; a != NULL && rc == 0; a = a->next)
		for (unsigned int i = 1; i < NPOOLS && rc == 0; i++) {
			describe_pool(&pool, a, i);
			rc = fn(ctx, &pool);
		}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* ---- fork ----------------------------------------------------------- */

/*
 * The child of fork inherits the mutex in whatever state: it is taken
 * around fork so that the child gets it unlocked and consistent. The
 * other threads' heaps stay in the child, owned by threads it does not
 * have: blocks freed into their pools wait in their thread_free lists.
 */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void
fork_child(void)
{
	pthread_mutex_unlock(&lock);	/* the child's one thread holds it */
}

static void __attribute__((constructor))
alloc_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
