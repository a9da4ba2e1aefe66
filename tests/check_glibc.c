/*
 * check_glibc.c: glibc malloc arenas, their heaps and mmapped chunks,
 * found from the outside, against what malloc_info(3) says from the
 * inside of the same live process (tests/arena_target), and against
 * fake headers this process builds in its own memory.
 */
#include "config.h"

#include <inttypes.h>
#include <sys/mman.h>

#include "mwi.h"
#include "tutil.h"

#define ISLAND		40	/* pages: 160 KiB, above glibc.c's 128 KiB floor */
#define HEAP_MAX	(64ULL << 20)
#define MAX_INFO_ARENAS	64

/* What malloc_info printed, per "<heap nr=N>" and in total. */
struct info {
	size_t		 arenas;
	long		 subheaps[MAX_INFO_ARENAS];	/* -1: none printed */
	uint64_t	 mprotect[MAX_INFO_ARENAS];
	long		 mmap_count;
};

/* The target, its map as memwalk labels it, and malloc_info. */
struct fixture {
	struct tu_target	*t;
	struct mw_maps		*m;
	const struct mw_region	*v;		/* its regions */
	size_t			 n;
	struct mw_label		*labels;
	struct mwi_glibc	 g;
	struct info		 info;
};

static void
parse_info(const char *path, struct info *in)
{
	FILE	*fp = fopen(path, "r");
	char	 line[512];
	long	 nr = -1, v;
	size_t	 size;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	memset(in, 0, sizeof(*in));
	in->mmap_count = -1;
	for (size_t i = 0; i < MAX_INFO_ARENAS; i++)
		in->subheaps[i] = -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "<heap nr=\"%ld\">", &v) == 1) {
			ck_assert_int_eq(v, (long)in->arenas);
			ck_assert_int_lt(v, MAX_INFO_ARENAS);
			nr = v;
			in->arenas++;
		} else if (strncmp(line, "</heap>", 7) == 0)
			nr = -1;
		else if (nr >= 0 && sscanf(line,
		    "<aspace type=\"subheaps\" size=\"%ld\"/>", &v) == 1)
			in->subheaps[nr] = v;
		else if (nr >= 0 && sscanf(line,
		    "<aspace type=\"mprotect\" size=\"%zu\"/>", &size) == 1)
			in->mprotect[nr] = size;
		else if (nr < 0 && sscanf(line,
		    "<total type=\"mmap\" count=\"%ld\"", &v) == 1)
			in->mmap_count = v;
	}
	fclose(fp);
	ck_assert_uint_gt(in->arenas, 0);
	ck_assert_int_ge(in->mmap_count, 0);
}

static struct mw_label *
new_labels(const struct mw_maps *m)
{
	size_t		 n;
	struct mw_label	*l;

	(void)mw_maps_regions(m, &n);
	ck_assert_ptr_nonnull(l = calloc(n + 1, sizeof(*l)));
	for (size_t i = 0; i < n; i++)
		l[i].arena = l[i].heap = -1;
	return l;
}

/* Label pid's map; the map and labels come back through the fixture. */
static void
label(pid_t pid, struct fixture *f)
{
	ck_assert_ptr_nonnull(f->m = mw_maps_read(pid));
	f->v = mw_maps_regions(f->m, &f->n);
	f->labels = new_labels(f->m);
	ck_assert_int_eq(mwi_glibc_label(pid, f->m, f->labels, &f->g), 0);
}

static void
start(struct fixture *f, const char *threads)
{
	char		 path[64];
	const char	*args[] = { "--threads", threads, "--info", path,
			    NULL };
	static char	 prog[1024];

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "/tmp/check_glibc.%d.xml", (int)getpid());
	snprintf(prog, sizeof(prog), "%s/tests/arena_target", TOP_BUILDDIR);
	f->t = tu_spawn(prog, args);
	parse_info(path, &f->info);
	unlink(path);
	label(f->t->pid, f);
}

static void
finish(struct fixture *f)
{
	if (f->t != NULL)
		tu_target_stop(f->t);
	mw_maps_free(f->m);
	free(f->labels);
}

static size_t
index_of(const struct fixture *f, uint64_t addr)
{
	const struct mw_region	*r = mw_maps_find(f->m, addr);

	ck_assert_msg(r != NULL, "0x%" PRIx64 " is in no region", addr);
	return (size_t)(r - f->v);
}

/* A rw-p heap region (not a reserve) of arena a. */
static bool
is_heap_of(const struct fixture *f, size_t i, int a)
{
	const struct mw_region	*r = &f->v[i];

	return r->kind == MW_KIND_GLIBC_ARENA && (r->perms & MW_PERM_WRITE) &&
	    f->labels[i].arena == a;
}

/* libc's data: a writable mapping of libc.so, or the bss after one. */
static bool
in_libc_data(const struct fixture *f, uint64_t addr)
{
	size_t			 i = index_of(f, addr);
	const struct mw_region	*v = f->v;
	const char		*name = v[i].name;

	if (!(v[i].perms & MW_PERM_WRITE))
		return false;
	if (name == NULL && i > 0 && v[i - 1].end == v[i].start)
		name = v[i - 1].name;
	return name != NULL && strstr(name, "/libc.so") != NULL;
}

static void
ck_brk_is_main(const struct fixture *f)
{
	size_t	found = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == MW_KIND_HEAP) {
			ck_assert_int_eq(f->labels[i].arena, 0);
			found++;
		}
	ck_assert_uint_eq(found, 1);
	ck_assert_msg(f->g.main_arena != 0 && in_libc_data(f, f->g.main_arena),
	    "main_arena 0x%" PRIx64 " is not in libc's data",
	    f->g.main_arena);
}

/* Counts and, per arena, its heaps and their rw bytes, as malloc_info. */
START_TEST(arenas_as_malloc_info)
{
	struct fixture	f;
	size_t		heaps = 0;
	long		subheaps = 0;

	start(&f, "4");
	ck_assert_uint_eq(f.info.arenas, 5);
	ck_assert_uint_eq(f.g.arenas, f.info.arenas);
	for (size_t a = 1; a < f.info.arenas; a++) {
		uint64_t	bytes = 0;
		long		count = 0;

		for (size_t i = 0; i < f.n; i++)
			if (is_heap_of(&f, i, (int)a)) {
				bytes += f.v[i].end -
				    f.v[i].start;
				count++;
			}
		ck_assert_int_eq(count, f.info.subheaps[a]);
		ck_assert_uint_eq(bytes, f.info.mprotect[a]);
		subheaps += f.info.subheaps[a];
	}
	for (size_t i = 0; i < f.n; i++)
		heaps += is_heap_of(&f, i, f.labels[i].arena);
	ck_assert_uint_eq(f.g.heaps, (size_t)subheaps);
	ck_assert_uint_eq(heaps, f.g.heaps);
	ck_assert_int_eq((long)f.g.mmapped, f.info.mmap_count);
	ck_brk_is_main(&f);
	finish(&f);
}
END_TEST

/*
 * Each big block: in an mmapped-chunk region, its chunk on a page
 * bound; the region's first chunk big enough for what was asked, and
 * the note saying so when several big blocks share the region.
 */
static void
ck_big(const struct fixture *f, const uint64_t *ptr, const uint64_t *want,
    size_t nbig, size_t k)
{
	size_t			 i = index_of(f, ptr[k]), shared = 0;
	const struct mw_region	*r = &f->v[i];
	const struct mw_label	*l = &f->labels[i];
	uint64_t		 pg = (uint64_t)sysconf(_SC_PAGESIZE);

	ck_assert_msg(r->kind == MW_KIND_MALLOC_MMAP, "0x%" PRIx64 ": %s",
	    ptr[k], mw_kind_name(r->kind));
	ck_assert_uint_eq((ptr[k] - 16 - r->start) % pg, 0);
	ck_assert_uint_eq(l->chunk_size % pg, 0);
	ck_assert_uint_le(r->start + l->chunk_size, r->end);
	if (ptr[k] - 16 == r->start) {
		ck_assert_uint_ge(l->chunk_size, want[k] + 16);
		ck_assert_uint_lt(l->chunk_size, want[k] + 16 + pg + 16);
	}
	for (size_t j = 0; j < nbig; j++)
		shared += ptr[j] >= r->start && ptr[j] < r->end;
	if (shared > 1)
		ck_assert_str_eq(l->note, "several mmapped chunks");
	else if (r->start + l->chunk_size == r->end)
		ck_assert_ptr_null(l->note);
}

START_TEST(big_blocks_are_chunks)
{
	struct fixture	f;
	char		name[32];
	uint64_t	ptr[16], want[16];
	size_t		nbig;

	start(&f, "4");
	for (nbig = 0; nbig < 16; nbig++) {
		snprintf(name, sizeof(name), "big%zu", nbig);
		if ((ptr[nbig] = tu_addr(f.t, name)) == 0)
			break;
		snprintf(name, sizeof(name), "bigsize%zu", nbig);
		ck_assert_uint_ne(want[nbig] = tu_addr(f.t, name), 0);
	}
	ck_assert_uint_ge(nbig, 3);
	for (size_t k = 0; k < nbig; k++)
		ck_big(&f, ptr, want, nbig, k);
	ck_assert_uint_ge(f.g.mmapped, nbig);
	finish(&f);
}
END_TEST

/* Heap h's ---p rest, the reserve, belongs to its arena. */
static void
ck_reserve(const struct fixture *f, size_t i)
{
	const struct mw_region	*v = f->v;
	uint64_t		 h = v[i].start;

	for (size_t j = i + 1; j < f->n && v[j].start < h + HEAP_MAX; j++)
		ck_assert_msg(v[j].kind != MW_KIND_GUARD,
		    "guard 0x%" PRIx64 " inside the heap at 0x%" PRIx64,
		    v[j].start, h);
	if (v[i].end == h + HEAP_MAX)
		return;
	ck_assert_uint_lt(i + 1, f->n);
	ck_assert_uint_eq(v[i + 1].start, v[i].end);
	ck_assert_int_eq(v[i + 1].kind, MW_KIND_GLIBC_ARENA);
	ck_assert_int_eq(f->labels[i + 1].arena, f->labels[i].arena);
	ck_assert_int_eq(f->labels[i + 1].heap, f->labels[i].heap);
	ck_assert_str_eq(f->labels[i + 1].note, "arena heap reserve");
}

/* The arena that outgrew 64 MiB: heaps 0 and 1, one arena number. */
START_TEST(arena_of_two_heaps)
{
	struct fixture	f;
	size_t		two = 0;

	start(&f, "3");
	for (size_t a = 1; a < f.info.arenas; a++) {
		int	seen = 0;

		if (f.info.subheaps[a] != 2)
			continue;
		two++;
		for (size_t i = 0; i < f.n; i++)
			if (is_heap_of(&f, i, (int)a)) {
				ck_assert_uint_eq(f.v[i].start %
				    HEAP_MAX, 0);
				seen |= 1 << f.labels[i].heap;
				ck_reserve(&f, i);
			}
		ck_assert_int_eq(seen, 3);
	}
	ck_assert_uint_eq(two, 1);
	finish(&f);
}
END_TEST

/* No threads: the main arena alone, found in libc all the same. */
START_TEST(no_threads_one_arena)
{
	struct fixture	f;

	start(&f, "0");
	ck_assert_uint_eq(f.info.arenas, 1);
	ck_assert_uint_eq(f.g.arenas, 1);
	ck_assert_uint_eq(f.g.heaps, 0);
	ck_assert_int_eq((long)f.g.mmapped, f.info.mmap_count);
	ck_brk_is_main(&f);
	finish(&f);
}
END_TEST

/* tests/target: one arena; its 4 MiB malloc is a chunk of its own. */
START_TEST(plain_target)
{
	struct fixture	 f;
	uint64_t	 big;
	size_t		 i;

	memset(&f, 0, sizeof(f));
	f.t = tu_target_start(NULL);
	label(f.t->pid, &f);
	ck_assert_uint_eq(f.g.arenas, 1);
	ck_assert_uint_eq(f.g.heaps, 0);
	ck_assert_uint_ge(f.g.mmapped, 1);
	ck_assert_uint_ne(big = tu_addr(f.t, "big_malloc"), 0);
	i = index_of(&f, big);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_MALLOC_MMAP);
	ck_assert_uint_eq(f.v[i].start, big - 16);
	ck_assert_uint_ge(f.labels[i].chunk_size, (4u << 20) + 16);
	finish(&f);
}
END_TEST

/* ---- fakes in this process ------------------------------------------ */

/*
 * A 64 MiB mapping aligned to 64 MiB, PROT_NONE but for its first rw
 * bytes, as glibc's new_heap makes one; then the caller writes a header.
 */
static uint64_t
fake_heap(size_t rw)
{
	char		*p = mmap(NULL, 2 * HEAP_MAX, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t	 a, h;

	ck_assert_ptr_ne(p, MAP_FAILED);
	a = (uint64_t)(uintptr_t)p;
	h = (a + HEAP_MAX - 1) & ~(HEAP_MAX - 1);
	if (h > a)
		ck_assert_int_eq(munmap(p, h - a), 0);
	if (h + HEAP_MAX < a + 2 * HEAP_MAX)
		ck_assert_int_eq(munmap((void *)(uintptr_t)(h + HEAP_MAX),
		    a + 2 * HEAP_MAX - h - HEAP_MAX), 0);
	ck_assert_int_eq(mprotect((void *)(uintptr_t)h, rw,
	    PROT_READ | PROT_WRITE), 0);
	return h;
}

/* How memwalk sees the fake at h, in this process. */
static enum mw_kind
kind_in_self(uint64_t h, struct mw_label *out)
{
	struct fixture	f;
	size_t		i;
	enum mw_kind	kind;

	memset(&f, 0, sizeof(f));
	label(0, &f);
	i = index_of(&f, h);
	ck_assert_uint_eq(f.v[i].start, h);
	kind = f.v[i].kind;
	*out = f.labels[i];
	out->note = NULL;
	if (i + 1 < f.n && f.v[i + 1].start == f.v[i].end)
		ck_assert_int_eq(f.v[i + 1].kind,
		    kind == MW_KIND_GLIBC_ARENA ? MW_KIND_GLIBC_ARENA :
		    MW_KIND_GUARD);
	finish(&f);
	return kind;
}

/* A header as glibc >= 2.35 writes for a first heap of rw bytes. */
static void
write_header(uint64_t h, size_t rw)
{
	uint64_t	*w = (uint64_t *)(uintptr_t)h;

	w[0] = h + 48;		/* ar_ptr: the malloc_state after it */
	w[1] = 0;		/* prev */
	w[2] = rw;		/* size */
	w[3] = rw;		/* mprotect_size */
	w[4] = (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Header words bent one at a time; only the unbent one is a heap. */
START_TEST(fake_heaps)
{
	static const struct {
		int		 word;
		uint64_t	 add;	/* added to the word */
	} bends[] = {
		{ -1, 0 },		/* none: the positive control */
		{ 0, 8 },		/* ar_ptr not right after heap_info */
		{ 1, 0x1000 },		/* prev not a 64 MiB boundary */
		{ 2, 0x10 },		/* size not in pages */
		{ 3, 0x1000 },		/* mprotect_size beyond the rw part */
		{ 4, 0x10 },		/* pagesize not a power of two */
	};
	const size_t	rw = 64 * 1024;
	struct mw_label	l;

	for (size_t k = 0; k < sizeof(bends) / sizeof(bends[0]); k++) {
		uint64_t	h = fake_heap(rw);

		write_header(h, rw);
		if (bends[k].word >= 0)
			((uint64_t *)(uintptr_t)h)[bends[k].word] +=
			    bends[k].add;
		if (bends[k].word < 0) {
			ck_assert_int_eq(kind_in_self(h, &l),
			    MW_KIND_GLIBC_ARENA);
			ck_assert_int_ge(l.arena, 1);
			ck_assert_int_eq(l.heap, 0);
		} else
			ck_assert_msg(kind_in_self(h, &l) == MW_KIND_ANON,
			    "bent word %d claimed", bends[k].word);
		ck_assert_int_eq(munmap((void *)(uintptr_t)h, HEAP_MAX), 0);
	}
}
END_TEST

/*
 * A heap whose rw-p part the kernel merged with an anonymous mapping
 * just below it, a chunk: one region. The heap is found at the 64 MiB
 * boundary inside, and the chunk below it is still counted.
 */
START_TEST(heap_merged_below)
{
	uint64_t	 pg = (uint64_t)sysconf(_SC_PAGESIZE);
	const size_t	 rw = 64 * 1024;
	char		*p = mmap(NULL, 3 * HEAP_MAX, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t	 a = (uint64_t)(uintptr_t)p, h, *chunk;
	struct fixture	 f;
	size_t		 i, without;

	ck_assert_ptr_ne(p, MAP_FAILED);
	h = (a + ISLAND * pg + HEAP_MAX - 1) & ~(HEAP_MAX - 1);
	ck_assert_int_eq(munmap((void *)(uintptr_t)(h + HEAP_MAX),
	    a + 3 * HEAP_MAX - h - HEAP_MAX), 0);
	ck_assert_int_eq(mprotect((void *)(uintptr_t)(h - ISLAND * pg),
	    ISLAND * pg + rw, PROT_READ | PROT_WRITE), 0);
	write_header(h, rw);
	chunk = (uint64_t *)(uintptr_t)(h - ISLAND * pg);

	memset(&f, 0, sizeof(f));
	label(0, &f);
	without = f.g.mmapped;
	finish(&f);
	chunk[1] = (ISLAND * pg) | 2;
	label(0, &f);
	ck_assert_uint_eq(f.g.mmapped, without + 1);
	i = index_of(&f, h);
	ck_assert_uint_eq(f.v[i].start, h - ISLAND * pg);
	ck_assert_uint_eq(f.v[i].end, h + rw);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_GLIBC_ARENA);
	ck_assert_int_ge(f.labels[i].arena, 1);
	ck_assert_int_eq(f.labels[i].heap, 0);
	ck_assert_str_eq(f.labels[i].note,
	    "arena heap, merged with the mapping below it");
	ck_assert_int_eq(f.v[i + 1].kind, MW_KIND_GLIBC_ARENA);
	ck_assert_str_eq(f.labels[i + 1].note, "arena heap reserve");
	finish(&f);
	ck_assert_int_eq(munmap((void *)(uintptr_t)a, h + HEAP_MAX - a), 0);
}
END_TEST

/* A whole aligned 64 MiB of rw garbage is not a heap. */
START_TEST(garbage_is_no_heap)
{
	uint64_t	 h = fake_heap(HEAP_MAX);
	uint64_t	*w = (uint64_t *)(uintptr_t)h;
	struct mw_label	 l;

	for (size_t i = 0; i < 512; i++)
		w[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
	ck_assert_int_eq(kind_in_self(h, &l), MW_KIND_ANON);
	ck_assert_int_eq(l.arena, -1);
	ck_assert_int_eq(munmap((void *)(uintptr_t)h, HEAP_MAX), 0);
}
END_TEST

/*
 * Three rw islands of ISLAND pages between PROT_NONE pages (so that
 * nothing merges with them): a chunk too big for its mapping, a chunk
 * with a flag glibc never sets on an mmapped chunk, and two chunks of
 * half an island each in one region; then a valid chunk in a region
 * below MIN_CHUNK_REGION (128 KiB), which is not looked at.
 */
START_TEST(fake_chunks)
{
	uint64_t	 pg = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t		 span = 3 * ISLAND + 4;
	char		*p = mmap(NULL, span * pg, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t	*too_big, *flagged, *pair;
	struct fixture	 f;
	size_t		 i, half = ISLAND / 2;

	ck_assert_ptr_ne(p, MAP_FAILED);
	too_big = (uint64_t *)(void *)(p + pg);
	flagged = (uint64_t *)(void *)(p + (ISLAND + 2) * pg);
	pair = (uint64_t *)(void *)(p + (2 * ISLAND + 3) * pg);
	ck_assert_int_eq(mprotect(too_big, ISLAND * pg,
	    PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(mprotect(flagged, ISLAND * pg,
	    PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(mprotect(pair, ISLAND * pg,
	    PROT_READ | PROT_WRITE), 0);
	too_big[0] = 0;
	too_big[1] = ((ISLAND + 1) * pg) | 2;
	flagged[0] = 0;
	flagged[1] = (ISLAND * pg) | 2 | 4;
	pair[0] = 0;
	pair[1] = (half * pg) | 2;
	pair[half * pg / 8] = 0;
	pair[half * pg / 8 + 1] = (half * pg) | 2;

	memset(&f, 0, sizeof(f));
	label(0, &f);
	i = index_of(&f, (uint64_t)(uintptr_t)too_big);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_ANON);
	i = index_of(&f, (uint64_t)(uintptr_t)flagged);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_ANON);
	i = index_of(&f, (uint64_t)(uintptr_t)pair);
	ck_assert_uint_eq(f.v[i].end - f.v[i].start, ISLAND * pg);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_MALLOC_MMAP);
	ck_assert_uint_eq(f.labels[i].chunk_size, half * pg);
	ck_assert_str_eq(f.labels[i].note, "several mmapped chunks");
	finish(&f);

	/* Made too long for its region, the second chunk is not counted. */
	pair[half * pg / 8 + 1] = (ISLAND * pg) | 2;
	label(0, &f);
	i = index_of(&f, (uint64_t)(uintptr_t)pair);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_MALLOC_MMAP);
	ck_assert_ptr_null(f.labels[i].note);
	finish(&f);

	/* A region below 128 KiB is not looked at, valid header or not. */
	ck_assert_int_eq(mprotect((char *)pair + 2 * pg, (ISLAND - 2) * pg,
	    PROT_NONE), 0);
	pair[1] = (2 * pg) | 2;
	label(0, &f);
	i = index_of(&f, (uint64_t)(uintptr_t)pair);
	ck_assert_uint_eq(f.v[i].end - f.v[i].start, 2 * pg);
	ck_assert_int_eq(f.v[i].kind, MW_KIND_ANON);
	finish(&f);
	ck_assert_int_eq(munmap(p, span * pg), 0);
}
END_TEST

START_TEST(gone_process)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_maps		*m;
	struct mw_label		*l;
	struct mwi_glibc	 g;
	pid_t			 pid = t->pid;

	ck_assert_ptr_nonnull(m = mw_maps_read(pid));
	l = new_labels(m);
	tu_target_stop(t);
	errno = 0;
	ck_assert_int_eq(mwi_glibc_label(pid, m, l, &g), -1);
	ck_assert_int_eq(errno, ESRCH);
	mw_maps_free(m);
	free(l);
}
END_TEST

/* Every allocation failing in turn: ENOMEM, never a crash or a leak. */
static void
ck_alloc_failures(const char *threads)
{
	struct fixture	f;
	long		n;

	start(&f, threads);
	for (n = 1; n < 1000; n++) {
		struct mw_maps		*m = mw_maps_read(f.t->pid);
		struct mw_label		*l;
		struct mwi_glibc	 g;
		long			 left;
		int			 rc;

		ck_assert_ptr_nonnull(m);
		l = new_labels(m);
		mwi_faults.alloc_fail = n;
		rc = mwi_glibc_label(f.t->pid, m, l, &g);
		left = mwi_faults.alloc_fail;
		mwi_faults.alloc_fail = 0;
		mw_maps_free(m);
		free(l);
		if (rc == 0) {
			/* No allocation failed: the same answer. */
			ck_assert_int_gt(left, 0);
			ck_assert_uint_eq(g.arenas, f.g.arenas);
			ck_assert_uint_eq(g.heaps, f.g.heaps);
			ck_assert_uint_eq(g.mmapped, f.g.mmapped);
			ck_assert_uint_eq(g.main_arena, f.g.main_arena);
			break;
		}
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_int_eq(left, 0);
	}
	ck_assert_int_gt(n, 1);
	ck_assert_int_lt(n, 1000);
	finish(&f);
}

START_TEST(alloc_failures)
{
	ck_alloc_failures("2");		/* the ring */
	ck_alloc_failures("0");		/* main_arena alone, in libc */
}
END_TEST

static Suite *
glibc_suite(void)
{
	Suite	*s = suite_create("glibc");
	TCase	*tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, arenas_as_malloc_info);
	tcase_add_test(tc, big_blocks_are_chunks);
	tcase_add_test(tc, arena_of_two_heaps);
	tcase_add_test(tc, no_threads_one_arena);
	tcase_add_test(tc, plain_target);
	tcase_add_test(tc, fake_heaps);
	tcase_add_test(tc, heap_merged_below);
	tcase_add_test(tc, garbage_is_no_heap);
	tcase_add_test(tc, fake_chunks);
	tcase_add_test(tc, gone_process);
	tcase_add_test(tc, alloc_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(glibc_suite());
}
