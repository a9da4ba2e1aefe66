/*
 * check_alloc.c: the bundled allocator (alloc.c) and the small-int cache
 * (ints.c).
 *
 *   differential   millions of random malloc/realloc/free against a
 *                  model: every live block keeps its bytes, none overlap,
 *                  usable size >= request
 *   threads        8 threads, each freeing blocks another one allocated
 *   misuse         double free, foreign and interior pointers, a broken
 *                  pool header: the child aborts with the reporter's line
 *   introspection  info, stats and walk against what the test allocated
 *   arena_chunk    arenas two at a time, 2 MiB aligned, resident whole
 *   ints           one object per small value, in the .bss; others on the
 *                  allocator, freed at refcount 0
 */
#include "mwi.h"
#include "tutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

/* ---- a seeded generator, so that a failure can be replayed ------------- */

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly small sizes, some large, sometimes 0. */
static size_t
rand_size(uint64_t *s)
{
	uint64_t	r = next_rand(s);

	switch (r % 16) {
	case 0:
		return 0;
	case 1:
		return MW_ALLOC_SMALL_MAX + 1 + (r >> 8) % 4096;
	default:
		return 1 + (r >> 8) % MW_ALLOC_SMALL_MAX;
	}
}

/* ---- the differential test -------------------------------------------- */

#define SLOTS		4096
#define OPS		(2 * 1000 * 1000)	/* a 20th under valgrind */
#define CHECK_EVERY	100000

struct slot {
	unsigned char	*p;
	size_t		 size;
	unsigned char	 fill;
};

static void
fill_block(struct slot *s, size_t from)
{
	if (s->size > from)
		memset(s->p + from, s->fill, s->size - from);
}

static void
assert_intact(const struct slot *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s->p[i] != s->fill)
			ck_abort_msg("block %p (%zu bytes): byte %zu is %#x, "
			    "not %#x", (void *)s->p, s->size, i, s->p[i],
			    s->fill);
}

static int
by_start(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t)((const struct slot *)a)->p;
	uintptr_t	y = (uintptr_t)((const struct slot *)b)->p;

	return x < y ? -1 : x > y;
}

/* No two live blocks overlap, each at least as large as asked. */
static void
assert_disjoint(const struct slot *slots)
{
	static struct slot	live[SLOTS];
	size_t			n = 0;

	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].p != NULL)
			live[n++] = slots[i];
	qsort(live, n, sizeof(*live), by_start);
	for (size_t i = 0; i < n; i++) {
		size_t	usable = mw_usable_size(live[i].p);

		ck_assert_uint_ge(usable, live[i].size);
		ck_assert_uint_eq((uintptr_t)live[i].p % MW_ALLOC_ALIGNMENT, 0);
		if (i + 1 < n)
			ck_assert_msg(live[i].p + usable <= live[i + 1].p,
			    "%p + %zu overlaps %p", (void *)live[i].p, usable,
			    (void *)live[i + 1].p);
	}
}

static void
one_op(struct slot *s, uint64_t *rs, unsigned char fill)
{
	size_t		 size, keep;
	unsigned char	*q;

	if (s->p == NULL) {
		size = rand_size(rs);
		ck_assert_ptr_nonnull(s->p = mw_malloc(size));
		s->size = size;
		s->fill = fill;
		fill_block(s, 0);
	} else if (next_rand(rs) % 3 == 0) {
		size = rand_size(rs);
		keep = size < s->size ? size : s->size;
		ck_assert_ptr_nonnull(q = mw_realloc(s->p, size));
		s->p = q;
		assert_intact(s, keep);
		s->size = size;
		fill_block(s, keep);
	} else {
		assert_intact(s, s->size);
		mw_free(s->p);
		s->p = NULL;
	}
}

START_TEST(differential)
{
	static struct slot	slots[SLOTS];
	uint64_t		rs = 0x9e3779b97f4a7c15ULL;
	struct mw_alloc_stats	st;
	long			ops = tu_valgrind() ? OPS / 20 : OPS;

	for (long op = 1; op <= ops; op++) {
		one_op(&slots[next_rand(&rs) % SLOTS], &rs,
		    (unsigned char)(op * 7));
		if (op % CHECK_EVERY == 0)
			assert_disjoint(slots);
	}
	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].p != NULL) {
			assert_intact(&slots[i], slots[i].size);
			mw_free(slots[i].p);
			slots[i].p = NULL;
		}
	mw_alloc_stats(&st);
	for (int c = 0; c < MW_ALLOC_CLASSES; c++)
		ck_assert_uint_eq(st.classes[c].blocks, 0);
	ck_assert_uint_eq(st.large_blocks, 0);
	ck_assert_uint_eq(st.pools_used + st.pools_full, 0);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

#define NTHREADS	8
#define PER_THREAD	200000		/* a 20th under valgrind */
#define RING		1024

/*
 * Each thread allocates, fills, and hands the block to the next thread
 * through a ring of slots; it frees what the previous thread handed it,
 * after checking its bytes. A block says its own size in its first
 * word, the rest filled with that size's low byte.
 */
struct handoff {
	_Atomic(unsigned char *) slot[RING];
};

static struct handoff	rings[NTHREADS];

struct worker {
	int		 id;
	long		 freed_foreign;
};

static unsigned char *
make_block(size_t size)
{
	unsigned char	*p;

	if (size < sizeof(size))
		size = sizeof(size);
	ck_assert_ptr_nonnull(p = mw_malloc(size));
	memcpy(p, &size, sizeof(size));
	memset(p + sizeof(size), (unsigned char)size, size - sizeof(size));
	return p;
}

static void
check_and_free(unsigned char *p)
{
	size_t	size;

	memcpy(&size, p, sizeof(size));
	ck_assert_uint_le(size, mw_usable_size(p));
	for (size_t i = sizeof(size); i < size; i++)
		if (p[i] != (unsigned char)size)
			ck_abort_msg("%p byte %zu changed", (void *)p, i);
	mw_free(p);
}

static long
per_thread(void)
{
	return tu_valgrind() ? PER_THREAD / 20 : PER_THREAD;
}

static void *
stress(void *arg)
{
	struct worker	*w = arg;
	struct handoff	*out = &rings[w->id];
	struct handoff	*in = &rings[(w->id + 1) % NTHREADS];
	uint64_t	 rs = 0x1234567ULL * (uint64_t)(w->id + 1);
	unsigned char	*p, *got;

	for (long k = 0; k < per_thread(); k++) {
		p = make_block(rand_size(&rs) % 700);
		if (k % 2 == 0)
			check_and_free(p);
		else if ((got = atomic_exchange(&out->slot[k % RING], p)) !=
		    NULL)
			check_and_free(got);
		got = atomic_exchange(&in->slot[next_rand(&rs) % RING], NULL);
		if (got != NULL) {
			check_and_free(got);
			w->freed_foreign++;
		}
	}
	return NULL;
}

START_TEST(threads)
{
	pthread_t		th[NTHREADS];
	struct worker		w[NTHREADS];
	struct mw_alloc_stats	st;
	long			foreign = 0;

	memset(rings, 0, sizeof(rings));
	for (int i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].freed_foreign = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, stress, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		foreign += w[i].freed_foreign;
	}
	/* What is left in the rings, freed by this thread: none of its own. */
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < RING; j++) {
			unsigned char	*p = atomic_load(&rings[i].slot[j]);

			if (p != NULL)
				check_and_free(p);
		}
	ck_assert_int_gt(foreign, NTHREADS * per_thread() / 20);
	mw_alloc_stats(&st);
	for (int c = 0; c < MW_ALLOC_CLASSES; c++)
		ck_assert_msg(st.classes[c].blocks == 0, "class %d: %zu blocks "
		    "still in use", c, st.classes[c].blocks);
	ck_assert_uint_eq(st.large_blocks, 0);
}
END_TEST

/* ---- misuse --------------------------------------------------------------- */

/*
 * Run fn in a child whose stderr is a pipe: it must die of SIGABRT with
 * exactly one line that starts with want.
 */
static void
assert_aborts(void (*fn)(void), const char *want)
{
	char	buf[512];
	int	fds[2], status;
	ssize_t	n, len = 0;
	pid_t	pid;

	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "status %#x, stderr \"%s\"", status, buf);
	ck_assert_msg(strncmp(buf, want, strlen(want)) == 0 &&
	    strchr(buf, '\n') == buf + len - 1, "stderr \"%s\", want \"%s...\"",
	    buf, want);
}

static void
double_free(void)
{
	void	*p = mw_malloc(24), *q = mw_malloc(24);

	mw_free(p);
	mw_free(q);
	mw_free(p);
}

static void
foreign_pointer(void)
{
	mw_free(malloc(64));
}

static void
interior_pointer(void)
{
	char	*p = mw_malloc(100);

	mw_free(p + 16);
}

static void
broken_pool_header(void)
{
	char			*p = mw_malloc(40);
	struct mw_alloc_info	 info;

	mw_alloc_info(p, &info);
	/* What an overflow elsewhere could do: pool 0 holds the metadata. */
	((struct mwi_arena *)info.arena)->pools[((uintptr_t)info.pool >>
	    MWI_POOL_SHIFT) % MWI_ARENA_POOLS].check ^= 1;
	mw_free(p);
}

static void *
free_elsewhere(void *p)
{
	mw_free(p);
	return NULL;
}

/* The second free comes from another thread: found when it is collected. */
static void
double_free_across_threads(void)
{
	void		*p = mw_malloc(48);
	pthread_t	 t;

	mw_free(p);
	pthread_create(&t, NULL, free_elsewhere, p);
	pthread_join(t, NULL);
	/* The slow path (a first block of a class) takes them back. */
	(void)mw_malloc(300);
}

/*
 * A double free of a block the owner's free kept for reuse (its heap's
 * stash of the class), and of one that went back to its pool once the
 * stash was full (200 frees of one class are more than it holds).
 */
static void *stashed_v[200];

static void
free_all_stashed(void)
{
	for (int i = 0; i < 200; i++)
		stashed_v[i] = mw_malloc(72);
	for (int i = 0; i < 200; i++)
		mw_free(stashed_v[i]);
}

static void
double_free_stashed(void)
{
	free_all_stashed();
	mw_free(stashed_v[0]);
}

static void
double_free_past_the_stash(void)
{
	free_all_stashed();
	mw_free(stashed_v[199]);
}

START_TEST(misuse)
{
	/*
	 * Each misuse makes the allocator read or write memory that is not
	 * the caller's (the header before a foreign pointer, a freed block):
	 * under valgrind memcheck is the one to catch them, and does.
	 */
	if (tu_valgrind())
		return;
	assert_aborts(double_free, "memwalk alloc: double free of 0x");
	assert_aborts(double_free_stashed, "memwalk alloc: double free of 0x");
	assert_aborts(double_free_past_the_stash,
	    "memwalk alloc: double free of 0x");
	assert_aborts(foreign_pointer, "memwalk alloc: bogus pointer (not "
	    "from mw_malloc, or freed twice) 0x");
	assert_aborts(interior_pointer, "memwalk alloc: bogus pointer (inside "
	    "a block, not its start) 0x");
	assert_aborts(broken_pool_header, "memwalk alloc: corrupted pool "
	    "header at 0x");
	assert_aborts(double_free_across_threads,
	    "memwalk alloc: double free of 0x");
}
END_TEST

/* ---- introspection -------------------------------------------------------- */

struct walked {
	size_t	in_use, blocks, free, idle;	/* idle: in use, no block */
};

static int
count_walk(void *ctx, const struct mw_alloc_pool *pool)
{
	struct walked	*w = ctx;

	if (!pool->in_use) {
		w->free++;
		return 0;
	}
	w->in_use++;
	w->idle += pool->used == 0;
	w->blocks += pool->used;
	ck_assert_uint_le(pool->used, pool->blocks);
	ck_assert_uint_eq(pool->blocks, MWI_POOL_SIZE / pool->block_size);
	return 0;
}

START_TEST(introspection)
{
	enum { N = 5000 };
	static char		*v[N];
	struct mw_alloc_stats	 before, after;
	struct mw_alloc_info	 info;
	struct walked		 w = { 0, 0, 0, 0 };
	size_t			 want = 0, blocks = 0;

	mw_alloc_stats(&before);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_nonnull(v[i] = mw_malloc((size_t)(i % 64) * 8));
	mw_alloc_stats(&after);
	for (int c = 0; c < MW_ALLOC_CLASSES; c++)
		blocks += after.classes[c].blocks - before.classes[c].blocks;
	ck_assert_uint_eq(blocks, N);
	for (int i = 0; i < N; i++)	/* 49 .. 64 bytes: class 3 */
		want += (size_t)(i % 64) * 8 > 48 && (size_t)(i % 64) * 8 <= 64;
	ck_assert_uint_eq(after.classes[3].blocks - before.classes[3].blocks,
	    want);
	ck_assert_int_eq(mw_alloc_walk(count_walk, &w), 0);
	blocks = 0;
	for (int c = 0; c < MW_ALLOC_CLASSES; c++)
		blocks += after.classes[c].blocks;
	ck_assert_uint_eq(w.blocks, blocks);
	ck_assert_uint_eq(w.in_use + w.free, after.arenas * 63);
	ck_assert_uint_eq(after.pools_empty, w.free + w.idle);
	ck_assert_uint_eq(after.pools_used + after.pools_full, w.in_use - w.idle);
	ck_assert_uint_eq(after.bytes_mapped, after.arenas << 20);
	/* A block, its middle, and a freed one. */
	ck_assert_int_eq(mw_alloc_info(v[100], &info), 1);
	ck_assert_ptr_eq(info.block_start, v[100]);
	ck_assert_uint_eq(info.block_size, mw_usable_size(v[100]));
	ck_assert_uint_eq(info.size_class, info.block_size / 16 - 1);
	ck_assert_int_eq(info.allocated, 1);
	ck_assert_int_eq(mw_alloc_info(v[100] + 5, &info), 1);
	ck_assert_ptr_eq(info.block_start, v[100]);
	mw_free(v[100]);
	ck_assert_int_eq(mw_alloc_info(v[100], &info), 1);
	ck_assert_int_eq(info.allocated, 0);
	v[100] = NULL;
	ck_assert_int_eq(mw_alloc_info(&w, &info), 0);
	ck_assert_int_eq(mw_alloc_info(NULL, &info), 0);
	/*
	 * Every third freed: each block says which it is, at any index (a
	 * freed one may be in a pool given back, no block of the allocator).
	 */
	for (int i = 0; i < N; i += 3)
		mw_free(v[i]);
	for (int i = 1; i < N; i++) {
		int	rc = v[i] == NULL ? -1 : mw_alloc_info(v[i], &info);

		if (rc == -1)
			continue;		/* v[100], freed above */
		ck_assert_msg(rc == 1 || (rc == 0 && i % 3 == 0),
		    "block %d: %d", i, rc);
		ck_assert_msg(rc == 0 || (info.block_start == v[i] &&
		    info.allocated == (i % 3 != 0)), "block %d", i);
	}
	for (int i = 0; i < N; i++)
		if (i % 3 != 0)
			mw_free(v[i]);
}
END_TEST

START_TEST(calloc_realloc_edges)
{
	unsigned char	*p, *q;

	errno = 0;
	ck_assert_ptr_null(mw_calloc(SIZE_MAX / 2, 3));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_ptr_null(mw_malloc(SIZE_MAX - 8));
	ck_assert_ptr_nonnull(p = mw_calloc(10, 30));
	for (int i = 0; i < 300; i++)
		ck_assert_uint_eq(p[i], 0);
	memset(p, 0x5a, 300);
	ck_assert_ptr_eq(mw_realloc(p, 290), p);	/* same class */
	ck_assert_ptr_nonnull(q = mw_realloc(p, 5000));	/* to large */
	for (int i = 0; i < 290; i++)
		ck_assert_uint_eq(q[i], 0x5a);
	ck_assert_uint_ge(mw_usable_size(q), 5000);
	ck_assert_ptr_nonnull(p = mw_realloc(q, 17));	/* back to small */
	for (int i = 0; i < 17; i++)
		ck_assert_uint_eq(p[i], 0x5a);
	ck_assert_uint_eq(mw_usable_size(p), 32);
	mw_free(p);
	ck_assert_ptr_nonnull(p = mw_realloc(NULL, 0));
	ck_assert_uint_eq(mw_usable_size(p), 16);
	mw_free(p);
	mw_free(NULL);
	ck_assert_uint_eq(mw_usable_size(NULL), 0);
}
END_TEST

/* ---- from outside ---------------------------------------------------------- */

/*
 * tests/alloc_target counts its own arenas (mw_alloc_stats) and prints
 * them; mw_proc reads them from outside: the same figures, the region
 * memwalk-arena, a block in use and a freed one as such.
 */
START_TEST(remote_arenas)
{
	static char		 path[1024];
	struct tu_target	*t;
	struct mw_proc		*p;
	struct mw_alloc_stats	 st;
	struct mw_answer	 a;
	const struct mw_alloc_arena *v;
	size_t			 n, blocks = 0;
	void			*mine;
	char			 name[32];

	snprintf(path, sizeof(path), "%s/tests/alloc_target", TOP_BUILDDIR);
	t = tu_spawn(path, NULL);
	ck_assert_ptr_nonnull(p = mw_proc_open(t->pid, 0));
	ck_assert_int_eq(mw_proc_alloc_stats(p, &st), 1);
	ck_assert_uint_eq(st.arenas, tu_addr(t, "arenas"));
	ck_assert_uint_eq(st.pools_used, tu_addr(t, "pools_used"));
	ck_assert_uint_eq(st.pools_full, tu_addr(t, "pools_full"));
	ck_assert_uint_eq(st.pools_empty, tu_addr(t, "pools_empty"));
	for (int c = 0; c < MW_ALLOC_CLASSES; c++) {
		snprintf(name, sizeof(name), "c%d_pools", c);
		ck_assert_uint_eq(st.classes[c].pools, tu_addr(t, name));
		snprintf(name, sizeof(name), "c%d_blocks", c);
		ck_assert_uint_eq(st.classes[c].blocks, tu_addr(t, name));
		blocks += st.classes[c].blocks;
	}
	v = mw_proc_alloc_arenas(p, &n);
	ck_assert_uint_eq(n, st.arenas);
	for (size_t i = 0; i < n; i++)
		blocks -= v[i].blocks;
	ck_assert_uint_eq(blocks, 0);
	ck_assert_int_eq(mw_proc_where(p, tu_addr(t, "live"), &a), 1);
	ck_assert_int_eq(a.region.kind, MW_KIND_MEMWALK_ARENA);
	ck_assert_int_eq(a.object.type, MW_OBJECT_MW_BLOCK);
	ck_assert_int_eq(a.object.allocated, 1);
	ck_assert_uint_eq(a.object.start, tu_addr(t, "live"));
	ck_assert_uint_eq(a.object.size, 208);
	ck_assert_int_eq(mw_proc_where(p, tu_addr(t, "freed") + 3, &a), 1);
	ck_assert_int_eq(a.object.allocated, 0);
	ck_assert_uint_eq(a.object.start, tu_addr(t, "freed"));
	mw_proc_close(p);
	tu_target_stop(t);
	/* This process too, as it counts itself. */
	ck_assert_ptr_nonnull(mine = mw_malloc(64));
	ck_assert_ptr_nonnull(p = mw_proc_open(0, 0));
	ck_assert_int_eq(mw_proc_alloc_stats(p, &st), 1);
	ck_assert_uint_ge(st.arenas, 1);
	mw_proc_close(p);
	mw_free(mine);
}
END_TEST

/*
 * --enable-alloc-fill: fresh blocks read 0xa5, freed ones 0xdd past
 * their link word; without it, nothing is filled (a freed block keeps
 * what was written).
 */
START_TEST(fill_patterns)
{
	unsigned char	*p = mw_malloc(100), *big = mw_malloc(2000);
	size_t		 n = mw_usable_size(p);

	for (size_t i = 0; i < n; i++)
		p[i] = 0x11;
	mw_free(p);
	if (tu_valgrind()) {	/* reading p now: a use after free */
		mw_free(big);
		return;
	}
	for (size_t i = sizeof(void *); i < n; i++)
#ifdef MW_ALLOC_FILL
		ck_assert_uint_eq(p[i], 0xdd);
#else
		ck_assert_uint_eq(p[i], 0x11);
#endif
#ifdef MW_ALLOC_FILL
	p = mw_malloc(100);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(p[i], 0xa5);
	for (size_t i = 0; i < 2000; i++)
		ck_assert_uint_eq(big[i], 0xa5);
	mw_free(p);
#endif
	mw_free(big);
}
END_TEST

/* ---- reuse: the stash of freed blocks ------------------------------------ */

static void *
free_and_exit(void *arg)
{
	void	*v[300];

	(void)arg;
	for (int i = 0; i < 300; i++)
		v[i] = mw_malloc(64);
	for (int i = 0; i < 300; i++)
		mw_free(v[i]);
	return NULL;
}

/*
 * The block freed last of a class comes back first, malloc(0) included
 * (class 0, whose blocks the stash keeps too); a block waiting there is
 * free to mw_alloc_info and counted free by the stats of its thread; a
 * thread that exits leaves nothing stashed in use.
 */
START_TEST(stash_reuse)
{
	struct mw_alloc_stats	 before, after;
	struct mw_alloc_info	 info;
	void			*p, *q, *r;
	pthread_t		 t;

	mw_alloc_stats(&before);
	p = mw_malloc(8);
	mw_free(p);
	ck_assert_int_eq(mw_alloc_info(p, &info), 1);
	ck_assert(!info.allocated);
	mw_alloc_stats(&after);
	ck_assert_uint_eq(after.classes[0].blocks, before.classes[0].blocks);
	ck_assert_ptr_eq(q = mw_malloc(0), p);
	ck_assert_int_eq(mw_alloc_info(q, &info), 1);
	ck_assert(info.allocated);
	ck_assert_ptr_ne(r = mw_malloc(0), q);
	mw_free(r);
	mw_free(q);
	mw_alloc_stats(&before);
	ck_assert_int_eq(pthread_create(&t, NULL, free_and_exit, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	mw_alloc_stats(&after);
	ck_assert_uint_eq(after.classes[3].blocks, before.classes[3].blocks);
	ck_assert_uint_eq(after.pools_full, before.pools_full);
}
END_TEST

/*
 * Arenas come two at a time, in a chunk of 2 MiB aligned to its size,
 * faulted in whole at once (alloc.c, mwi_map_eager): both halves of a
 * block's chunk are arenas, and every page of the chunk is resident
 * (mincore) where the kernel populates (MADV_POPULATE_WRITE, Linux
 * 5.14; probed on a mapping of our own).
 */
static bool
kernel_populates(void)
{
#ifdef MADV_POPULATE_WRITE
	size_t	 len = (size_t)sysconf(_SC_PAGESIZE);
	void	*m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool	 yes;

	ck_assert_ptr_ne(m, MAP_FAILED);
	yes = madvise(m, len, MADV_POPULATE_WRITE) == 0;
	munmap(m, len);
	return yes;
#else
	return false;
#endif
}

START_TEST(arena_chunk)
{
	enum { CHUNK = 2 * MWI_ARENA_SIZE };
	static unsigned char	 resident[CHUNK / 4096];
	struct mw_alloc_info	 info;
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE), n = 0;
	void			*p = mw_malloc(16);
	uintptr_t		 chunk;

	ck_assert_int_eq(mw_alloc_info(p, &info), 1);
	chunk = (uintptr_t)info.arena & ~(uintptr_t)(CHUNK - 1);
	ck_assert(mwi_alloc_is_arena(chunk));
	ck_assert(mwi_alloc_is_arena(chunk + MWI_ARENA_SIZE));
	ck_assert_uint_eq(((struct mwi_arena *)(chunk + MWI_ARENA_SIZE))->magic,
	    MWI_ARENA_MAGIC ^ (chunk + MWI_ARENA_SIZE));
	if (kernel_populates()) {
		ck_assert_uint_le(CHUNK / page, sizeof(resident));
		ck_assert_int_eq(mincore((void *)chunk, CHUNK, resident), 0);
		for (size_t i = 0; i < CHUNK / page; i++)
			n += resident[i] & 1;
		ck_assert_uint_eq(n, CHUNK / page);
	}
	mw_free(p);
}
END_TEST

/* ---- ints ----------------------------------------------------------------- */

START_TEST(small_ints)
{
	struct mw_int		*a, *b, *big1, *big2, *neg;
	struct mw_alloc_stats	 before, after;

	for (long v = MW_INT_SMALL_MIN; v <= MW_INT_SMALL_MAX; v++) {
		a = mw_int_from_long(v);
		b = mw_int_from_long(v);
		ck_assert_ptr_eq(a, b);
		ck_assert_int_eq(a->value, v);
		ck_assert(mw_int_is_cached(a));
		mw_int_decref(mw_int_incref(a));
		ck_assert_int_gt(a->refcnt, 0);
	}
	ck_assert_int_eq(mw_probe_kind(mw_int_from_long(42)), MW_KIND_BSS);
	mw_alloc_stats(&before);
	big1 = mw_int_from_long(257);
	big2 = mw_int_from_long(257);
	ck_assert_ptr_ne(big1, big2);
	ck_assert(!mw_int_is_cached(big1));
	ck_assert_int_eq((neg = mw_int_from_long(-6))->value, -6);
	/* The probe knows the process's own arenas (probe.c). */
	ck_assert_int_eq(mw_probe_kind(big1), MW_KIND_MEMWALK_ARENA);
	mw_alloc_stats(&after);
	ck_assert_uint_eq(after.classes[0].blocks, before.classes[0].blocks + 3);
	mw_int_incref(big1);
	mw_int_decref(big1);
	ck_assert_int_eq(big1->refcnt, 1);
	mw_int_decref(big1);
	mw_int_decref(big2);
	mw_alloc_stats(&after);
	ck_assert_uint_eq(after.classes[0].blocks, before.classes[0].blocks + 1);
	mw_int_decref(neg);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("alloc");
	TCase	*tc = tcase_create("alloc");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, differential);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, misuse);
	tcase_add_test(tc, introspection);
	tcase_add_test(tc, calloc_realloc_edges);
	tcase_add_test(tc, stash_reuse);
	tcase_add_test(tc, small_ints);
	tcase_add_test(tc, remote_arenas);
	tcase_add_test(tc, fill_patterns);
	tcase_add_test(tc, arena_chunk);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
