/*
 * python.c: a CPython process seen from outside: its version, its cache
 * of small ints and its pymalloc arenas, found from exported symbols and
 * memory reads alone (no debug symbols, no ptrace, nothing written).
 *
 * What is read (x86-64, not free-threaded, not a debug build):
 *
 *   PyLongObject, 32 bytes             pool, POOL_SIZE bytes, POOL_SIZE-aligned
 *   +0  ob_refcnt                      +0  count      u32 (blocks in use)
 *   +8  ob_type == &PyLong_Type        +8  freeblock  -> first free block
 *   +16 ob_size (<= 3.11): -1, 0, 1    +16 nextpool, +24 prevpool
 *       lv_tag (3.12+): bits 0-1 sign  +32 arenaindex u32
 *       (0 +, 1 zero, 2 -), >> 3 count +36 szidx u32: block = (szidx+1)*ALIGN
 *   +24 ob_digit[0] u32, |value|       +40 nextoffset u32: first never-used
 *                                      +44 maxnextoffset = POOL_SIZE - block
 *                                      +48 block 0, block 1, ...
 *
 *   arena (an mmap of ARENA_SIZE, page-aligned)
 *   |zeros| pool | pool | ... | pool |   ...    |zeros|
 *   ^base ^first pool = base rounded up to POOL_SIZE
 *          <- carved pools, same arenaindex ->  <- never carved (zeros) ->
 *
 * Small ints (-5 .. 256) live, by version:
 *   <= 3.8     a static array in the data or .bss of the ELF that defines
 *              PyLong_Type (3.6 - 3.8; 2.7 has no PyLong cache at all);
 *   3.9, 3.10  heap or pymalloc objects, pointed to from an array of 262
 *              pointers inside PyInterpreterState, reached through a
 *              pointer in _PyRuntime;
 *   3.11+      a static array inside _PyRuntime (data).
 * In the first and last case py->small_ints .. small_ints_end spans the
 * objects (small_count * 32 bytes); in the middle one it spans the
 * pointer array (small_count * 8 bytes), which mwi_python_object reads
 * again. The span's length tells the two apart.
 *
 * pymalloc geometry, by version (64-bit): 3.10+ 16 KiB pools and 1 MiB
 * arenas, 16-byte classes; 3.8, 3.9 4 KiB pools, 256 KiB arenas, 16-byte
 * classes; 3.7 and older (2.7 too) 4 KiB / 256 KiB with 16-byte classes
 * in late bug-fix releases (2.7.18, 3.6.15: checked), 8-byte ones (64
 * of them) before: both are tried, as is every geometry when the version
 * is unknown, and the first that validates is taken for a region. The
 * geometry of an arena region is remembered in its label's note, a
 * pointer to the static text of that geometry, so that lookups use the
 * geometry that validated. py->classes[] has 16-byte steps: with 8-byte
 * classes, two size classes share an entry (block_size is the larger).
 *
 * Adjacent arenas merge into one VMA; labels[i].arena is then the
 * arenaindex of the lowest. An arena is named (mw_object.arena) by its
 * first pool: the mmap's base lies up to POOL_SIZE - page below it, and
 * only pymalloc's arena_object array, which is not read, records it.
 *
 * Invariants: a region holds arenas (its label's note is a geometry's)
 * only when at least MIN_POOLS pool headers in it pass every check of
 * pool_valid, some 60 bits of constraint that zeros, pointers and text
 * fail (one is enough: an arena whose other pools went back to the OS
 * keeps a single pool), and the pools of one arenaindex span no more
 * than one arena; it is then pymalloc-arena unless commit_region keeps
 * it bss. py->small_ints is set only when a whole run of consecutive
 * values from -5 was read back with ob_type == &PyLong_Type; a small
 * int answer is read again and checked the same way. Otherwise nothing
 * is claimed.
 */
#include "mwi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define LONG_SIZE	32		/* sizeof(PyLongObject), one digit */
#define SMALL_MIN	(-5)
#define SMALL_WANT	262		/* -5 .. 256, the least we accept */
#define SMALL_MAX	4096		/* bound on a run (3.15: 1030) */
#define POOL_OVERHEAD	48		/* sizeof(struct pool_header), rounded */
#define MIN_POOLS	1		/* valid pools that make a region arenas */
#define SLOT_BATCH	1024		/* pool headers read per mwi_read_memv */
#define GIVE_UP		(64u << 20)	/* bytes without a pool ending a scan */
#define IFACE_BLOCK	16384		/* bytes of PyInterpreterState searched */
#define RUNTIME_MAX	(16u << 20)	/* sanity bound on _PyRuntime's size */
#define SEGMENT_MAX	(64u << 20)	/* and on a writable segment's */
#define BSS_MAX		(4u << 20)	/* bytes of a .bss searched */

/* How ob_size / lv_tag says the sign and digit count. */
#define STYLE_OB_SIZE	0x1u		/* up to 3.11 */
#define STYLE_LV_TAG	0x2u		/* 3.12 and later */

struct geometry {
	uint64_t	 pool_size, arena_size;
	unsigned int	 align, nclasses;
	const char	*note;
};

static const struct geometry geometries[] = {
	{ 16384, 1u << 20, 16, 32, "16 KiB pools, 1 MiB arenas" },
	{ 4096, 256u << 10, 16, 32, "4 KiB pools, 256 KiB arenas" },
	{ 4096, 256u << 10, 8, 64,
	    "4 KiB pools, 256 KiB arenas, 8-byte classes" },
};
#define NGEOMETRIES	(sizeof(geometries) / sizeof(geometries[0]))

struct pool_header {
	uint32_t	count, pad;
	uint64_t	freeblock, nextpool, prevpool;
	uint32_t	arenaindex, szidx, nextoffset, maxnextoffset;
};
_Static_assert(sizeof(struct pool_header) == POOL_OVERHEAD,
    "pool_header is 48 bytes in CPython on 64-bit");

/* The pools of one candidate region, as its headers were read. */
struct region_scan {
	const struct geometry *g;
	size_t		 valid;		/* headers that passed */
	size_t		 arenas;	/* runs of one arenaindex */
	int		 first_arena;	/* arenaindex of the lowest; -1 */
	bool		 bad;		/* an arenaindex spans two arenas */
	uint64_t	 run_first;	/* first pool of the current run */
	uint32_t	 run_index;
	bool		 in_run;
	struct mw_py_class classes[MW_PY_CLASSES];
};

/* Buffers of one mwi_python_read, allocated once. */
struct scratch {
	struct pool_header *hdrs;	/* SLOT_BATCH of them */
	struct iovec	*local, *remote;
};

static uint64_t
load64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
load32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* PY_VERSION_HEX -> major << 8 | minor, as 0x030b for 3.11. */
static unsigned int
version_mm(unsigned long version)
{
	return (unsigned int)(version >> 16) & 0xffff;
}

/* Which decodings of a PyLongObject to try for a version (0: unknown). */
static unsigned int
long_styles(unsigned long version)
{
	if (version == 0)
		return STYLE_OB_SIZE | STYLE_LV_TAG;
	return version_mm(version) >= 0x030c ? STYLE_LV_TAG : STYLE_OB_SIZE;
}

/* A one-digit int's value: true when obj[16..28) reads as one. */
static bool
decode_long(const uint8_t *obj, unsigned int style, int64_t *value)
{
	uint64_t	tag = load64(obj + 16);
	uint32_t	digit = load32(obj + 24);
	int64_t		size = (int64_t)tag;

	if (digit >= (1u << 30))
		return false;
	if (style == STYLE_OB_SIZE) {
		if (size < -1 || size > 1)
			return false;
		*value = size * (int64_t)digit;
		return true;
	}
	if ((tag & 3) == 1 && (tag >> 3) == 0)
		*value = 0;
	else if ((tag & 3) != 3 && (tag >> 3) == 1)
		*value = (tag & 3) == 2 ? -(int64_t)digit : (int64_t)digit;
	else
		return false;
	return true;
}

/* Is obj the int want, under one of the styles? */
static bool
long_is(const uint8_t *obj, uint64_t long_type, unsigned int styles,
    int64_t want)
{
	int64_t	v;

	if (load64(obj + 8) != long_type)
		return false;
	for (unsigned int s = STYLE_OB_SIZE; s <= STYLE_LV_TAG; s <<= 1)
		if ((styles & s) && decode_long(obj, s, &v) && v == want)
			return true;
	return false;
}

/* ---- pymalloc arenas --------------------------------------------- */

static uint64_t
block_size(const struct geometry *g, uint32_t szidx)
{
	return (uint64_t)(szidx + 1) * g->align;
}

/*
 * Every header check pymalloc's own invariants allow: the size class,
 * maxnextoffset fixed by it, nextoffset on a block boundary inside the
 * pool, no more blocks in use than were ever carved, and freeblock NULL
 * exactly when the pool is full, else a carved block of this pool.
 */
static bool
pool_valid(const struct geometry *g, uint64_t pool, const struct pool_header *h)
{
	uint64_t	bs, carved, fb = h->freeblock;

	if (h->szidx >= g->nclasses || h->arenaindex >= (1u << 24))
		return false;
	bs = block_size(g, h->szidx);
	if (h->maxnextoffset != g->pool_size - bs ||
	    h->nextoffset < POOL_OVERHEAD + bs ||
	    h->nextoffset > g->pool_size ||
	    (h->nextoffset - POOL_OVERHEAD) % bs != 0)
		return false;
	carved = (h->nextoffset - POOL_OVERHEAD) / bs;
	if (h->count > carved || (h->nextpool & 7) != 0 ||
	    (h->prevpool & 7) != 0)
		return false;
	if (fb == 0)
		return h->count == carved && h->nextoffset > h->maxnextoffset;
	return fb >= pool + POOL_OVERHEAD && fb < pool + h->nextoffset &&
	    (fb - pool - POOL_OVERHEAD) % bs == 0;
}

/* py->classes has 16-byte steps; 8-byte classes share an entry. */
static size_t
class_entry(const struct geometry *g, uint32_t szidx)
{
	return (size_t)((block_size(g, szidx) + 15) / 16 - 1);
}

static void
count_pool(struct region_scan *s, const struct pool_header *h)
{
	const struct geometry	*g = s->g;
	uint64_t		 bs = block_size(g, h->szidx);
	struct mw_py_class	*c = &s->classes[class_entry(g, h->szidx)];

	if (h->count == 0)
		c->pools_empty++;
	else if (h->count == (g->pool_size - POOL_OVERHEAD) / bs)
		c->pools_full++;
	else
		c->pools_used++;
	c->blocks_used += h->count;
}

/*
 * One slot of a region. Pools of an arena are carved from its first
 * pool upward, so an arena shows as a run of valid slots with one
 * arenaindex; a torn header may break the run, so a run goes on where
 * the same index comes back within one arena's span. An index met again
 * further away would be two live arenas with one index: not pymalloc.
 */
static void
scan_slot(struct region_scan *s, uint64_t pool, const struct pool_header *h)
{
	if (!pool_valid(s->g, pool, h))
		return;
	if (s->in_run && h->arenaindex == s->run_index) {
		if (pool >= s->run_first + s->g->arena_size)
			s->bad = true;
	} else {
		s->in_run = true;
		s->run_index = h->arenaindex;
		s->run_first = pool;
		s->arenas++;
		if (s->first_arena == -1)
			s->first_arena = (int)h->arenaindex;
	}
	s->valid++;
	count_pool(s, h);
}

/*
 * Read the pool headers of r in batches of SLOT_BATCH; 0 or -1. Where
 * GIVE_UP bytes in a row hold no valid pool the rest is left unread:
 * arenas are ARENA_SIZE apart at most within their run, and huge sparse
 * reservations (a sanitizer's shadow: terabytes) must not be walked.
 */
static int
scan_region(pid_t pid, const struct mw_region *r, struct scratch *sc,
    struct region_scan *s)
{
	uint64_t	ps = s->g->pool_size;
	uint64_t	a = (r->start + ps - 1) & ~(ps - 1);
	uint64_t	mark = a;	/* after the last valid pool */

	while (a + ps <= r->end && a - mark < GIVE_UP) {
		size_t	valid = s->valid;
		size_t	n = 0;
		ssize_t	got;

		for (; n < SLOT_BATCH && a + ps <= r->end; n++, a += ps) {
			sc->local[n].iov_base = &sc->hdrs[n];
			sc->local[n].iov_len = POOL_OVERHEAD;
			sc->remote[n].iov_base = (void *)(uintptr_t)a;
			sc->remote[n].iov_len = POOL_OVERHEAD;
		}
		got = mwi_peek_memv(pid, sc->local, sc->remote, n);
		if (got == -1)
			return errno == EFAULT ? 0 : -1;	/* unmapped since */
		for (size_t i = 0; i < (size_t)got; i++)
			scan_slot(s, (uintptr_t)sc->remote[i].iov_base,
			    &sc->hdrs[i]);
		if (s->valid > valid)
			mark = a;
		if ((size_t)got < n)
			return 0;
	}
	return 0;
}

/*
 * An arena mmapped right above a library's .bss, or next to a chunk
 * glibc malloc got from mmap, merges with it into one VMA, which the
 * earlier passes call bss or malloc-mmap: such a region becomes arenas
 * when they make up most of it, else it keeps its kind. Either way its
 * label says the geometry, and lookups go by the label.
 */
static void
commit_region(struct mw_maps *m, struct mw_label *labels, size_t i,
    const struct region_scan *s, struct mw_python *py)
{
	const struct mw_region	*r = &m->regions[i];

	if (r->kind == MW_KIND_ANON || r->kind == MW_KIND_PYMALLOC_ARENA ||
	    s->arenas * s->g->arena_size >= (r->end - r->start) / 2)
		mwi_maps_set_kind(m, i, MW_KIND_PYMALLOC_ARENA);
	labels[i].arena = s->first_arena;
	labels[i].note = s->g->note;
	py->arenas += s->arenas;
	py->arena_bytes += s->arenas * s->g->arena_size;
	for (size_t c = 0; c < MW_PY_CLASSES; c++) {
		py->classes[c].pools_used += s->classes[c].pools_used;
		py->classes[c].pools_full += s->classes[c].pools_full;
		py->classes[c].pools_empty += s->classes[c].pools_empty;
		py->classes[c].blocks_used += s->classes[c].blocks_used;
	}
}

/*
 * Arenas are unnamed private rw-p mmaps that no other pass claimed
 * (anon), or that merged with the .bss or an mmapped malloc chunk below
 * them; a second read of the same map meets the regions the first one
 * labeled. An arena is one mmap of ARENA_SIZE (256 KiB at least) that
 * pymalloc never splits: a smaller region holds none (MWI_DEEP_MIN).
 */
static bool
arena_candidate(const struct mw_region *r)
{
	return r->name == NULL && (r->kind == MW_KIND_ANON ||
	    r->kind == MW_KIND_BSS || r->kind == MW_KIND_MALLOC_MMAP ||
	    r->kind == MW_KIND_PYMALLOC_ARENA) &&
	    r->perms == (MW_PERM_READ | MW_PERM_WRITE) &&
	    r->end - r->start >= MWI_DEEP_MIN;
}

/* Try the geometries allowed on region i; commit the first that fits. */
static int
label_region(pid_t pid, struct mw_maps *m, struct mw_label *labels, size_t i,
    const struct geometry *const *gs, size_t ngs, struct scratch *sc,
    struct mw_python *py)
{
	struct region_scan	s;

	for (size_t k = 0; k < ngs; k++) {
		memset(&s, 0, sizeof(s));
		s.g = gs[k];
		s.first_arena = -1;
		if (scan_region(pid, &m->regions[i], sc, &s) == -1)
			return -1;
		if (s.valid >= MIN_POOLS && !s.bad) {
			commit_region(m, labels, i, &s, py);
			return 0;
		}
	}
	return 0;
}

/* The geometries a version can have; all of them when it is unknown. */
static size_t
version_geometries(unsigned long version, const struct geometry **gs)
{
	unsigned int	v = version_mm(version);

	if (version == 0) {
		for (size_t k = 0; k < NGEOMETRIES; k++)
			gs[k] = &geometries[k];
		return NGEOMETRIES;
	}
	if (v >= 0x030a) {
		gs[0] = &geometries[0];
		return 1;
	}
	gs[0] = &geometries[1];
	if (v >= 0x0308)
		return 1;
	/* 16-byte alignment came to 2.7, 3.6, 3.7 in bug-fix releases. */
	gs[1] = &geometries[2];
	return 2;
}

static int
find_arenas(pid_t pid, struct mw_maps *m, struct mw_label *labels,
    struct mw_python *py)
{
	const struct geometry	*gs[NGEOMETRIES];
	size_t			 ngs = version_geometries(py->version, gs);
	struct scratch		 sc;
	int			 rc = 0;

	sc.hdrs = mwi_reallocarray(NULL, SLOT_BATCH, sizeof(*sc.hdrs));
	sc.local = mwi_reallocarray(NULL, SLOT_BATCH, sizeof(*sc.local));
	sc.remote = mwi_reallocarray(NULL, SLOT_BATCH, sizeof(*sc.remote));
	if (sc.hdrs == NULL || sc.local == NULL || sc.remote == NULL)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < m->nregions; i++)
		if (arena_candidate(&m->regions[i]))
			rc = label_region(pid, m, labels, i, gs, ngs, &sc, py);
	free(sc.hdrs);
	free(sc.local);
	free(sc.remote);
	return rc;
}

/* ---- the small-int cache ------------------------------------------ */

/* A run of objects at stride 32 from -5 upward in buf; its length. */
static int
static_run(const uint8_t *buf, size_t len, uint64_t long_type,
    unsigned int styles)
{
	int	n = 0;

	while (n < SMALL_MAX && (size_t)(n + 1) * LONG_SIZE <= len &&
	    long_is(buf + (size_t)n * LONG_SIZE, long_type, styles,
	    SMALL_MIN + n))
		n++;
	return n;
}

/* Search a copy of memory at base for the static array; 1 found, 0. */
static int
search_static(const uint8_t *buf, size_t len, uint64_t base,
    struct mw_python *py)
{
	unsigned int	styles = long_styles(py->version);

	for (size_t off = 0; off + LONG_SIZE <= len; off += 8) {
		int	n;

		if (load64(buf + off + 8) != py->long_type)
			continue;
		if ((n = static_run(buf + off, len - off, py->long_type,
		    styles)) >= SMALL_WANT) {
			py->small_ints = base + off;
			py->small_ints_end = base + off + (uint64_t)n * LONG_SIZE;
			py->small_count = n;
			return 1;
		}
	}
	return 0;
}

/* Read len bytes at addr into a new buffer; NULL with errno. */
static void *
read_copy(pid_t pid, uint64_t addr, size_t len)
{
	uint8_t	*buf;

	if ((buf = mwi_malloc(len > 0 ? len : 1)) == NULL)
		return NULL;
	if (mwi_read_mem(pid, addr, buf, len) == -1) {
		int saved = errno;

		free(buf);
		errno = saved;
		return NULL;
	}
	return buf;
}

/* Search [addr, addr + len) of the target; 1, 0, -1 (EFAULT is 0). */
static int
search_range(pid_t pid, uint64_t addr, size_t len, struct mw_python *py)
{
	uint8_t	*buf;
	int	 rc;

	if ((buf = read_copy(pid, addr, len)) == NULL)
		return errno == EFAULT ? 0 : -1;
	rc = search_static(buf, len, addr, py);
	free(buf);
	return rc;
}

/*
 * 3.8 and older: a static array among the writable mappings of the
 * object that defines PyLong_Type, or in the unnamed region right after
 * them: its .bss, which may have merged with arenas mapped above it (and
 * then be labeled pymalloc-arena): only its first BSS_MAX bytes are
 * read, and what is found there is in .bss all the same.
 */
static int
small_ints_in_segments(pid_t pid, const struct mw_maps *m,
    struct mw_python *py)
{
	bool	ours = false;	/* the previous region was the object's */

	for (size_t i = 0; i < m->nregions; i++) {
		const struct mw_region	*r = &m->regions[i];
		bool			 bss = ours && r->name == NULL &&
					    r->start == r[-1].end;
		uint64_t		 len = r->end - r->start;
		int			 rc;

		ours = r->name != NULL && strcmp(r->name, py->object) == 0;
		if (!(ours && (r->perms & MW_PERM_WRITE)) && !bss)
			continue;
		if (!(r->perms & MW_PERM_READ) || len > SEGMENT_MAX)
			continue;
		if (bss && len > BSS_MAX)
			len = BSS_MAX;
		if ((rc = search_range(pid, r->start, len, py)) == 1)
			py->small_ints_kind = bss ? MW_KIND_BSS : r->kind;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A word that can point to a PyLongObject the target can read. */
static bool
plausible(const struct mw_maps *m, uint64_t w)
{
	const struct mw_region	*r;

	if (w == 0 || (w & 7) != 0 || (r = mw_maps_find(m, w)) == NULL)
		return false;
	return (r->perms & MW_PERM_READ) && w + LONG_SIZE <= r->end;
}

/*
 * words[0 .. n) are plausible pointers: read the objects they point to
 * in one mwi_read_memv and look for -5, -4, ... among them. 1 found
 * (py set; base is the address of words[0]), 0, -1.
 */
static int
pointer_run(pid_t pid, const uint64_t *words, size_t n, uint64_t base,
    struct mw_python *py)
{
	unsigned int	 styles = long_styles(py->version);
	struct iovec	*iov;
	uint8_t		*objs;
	ssize_t		 got;
	int		 rc = 0;

	if (n > SMALL_MAX)
		n = SMALL_MAX;
	iov = mwi_reallocarray(NULL, 2 * n, sizeof(*iov));
	objs = mwi_reallocarray(NULL, n, LONG_SIZE);
	if (iov == NULL || objs == NULL) {
		free(iov);
		free(objs);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		iov[k].iov_base = objs + k * LONG_SIZE;
		iov[n + k].iov_base = (void *)(uintptr_t)words[k];
		iov[k].iov_len = iov[n + k].iov_len = LONG_SIZE;
	}
	if ((got = mwi_read_memv(pid, iov, iov + n, n)) == -1)
		rc = errno == EFAULT ? 0 : -1;
	for (size_t k = 0; got > 0 && k < (size_t)got && rc == 0; k++) {
		size_t	len = 0;

		while (k + len < (size_t)got && long_is(objs +
		    (k + len) * LONG_SIZE, py->long_type, styles,
		    SMALL_MIN + (int64_t)len))
			len++;
		if (len >= SMALL_WANT) {
			py->small_ints = base + 8 * k;
			py->small_ints_end = py->small_ints + 8 * len;
			py->small_count = (int)len;
			rc = 1;
		}
	}
	free(iov);
	free(objs);
	return rc;
}

/* Runs of plausible pointers in a copy of a block at base. */
static int
search_pointer_block(pid_t pid, const struct mw_maps *m, const uint8_t *buf,
    size_t len, uint64_t base, struct mw_python *py)
{
	size_t		 n = len / 8, i = 0;
	uint64_t	*words;
	int		 rc = 0;

	if ((words = mwi_reallocarray(NULL, n > 0 ? n : 1, 8)) == NULL)
		return -1;
	memcpy(words, buf, n * 8);
	while (i < n && rc == 0) {
		size_t	j = i;

		while (j < n && plausible(m, words[j]))
			j++;
		if (j - i >= SMALL_WANT)
			rc = pointer_run(pid, words + i, j - i, base + 8 * i, py);
		i = j + 1;
	}
	free(words);
	return rc;
}

/*
 * 3.9, 3.10: follow each pointer of _PyRuntime to writable memory (one
 * of them is interpreters.head) and search the first IFACE_BLOCK bytes
 * there for the array of pointers to the small ints (3.9: at 3552 of
 * PyInterpreterState, 3.10: at 3512).
 */
static int
small_ints_by_pointers(pid_t pid, const struct mw_maps *m,
    const uint8_t *rt, size_t rtlen, struct mw_python *py)
{
	for (size_t off = 0; off + 8 <= rtlen; off += 8) {
		uint64_t		 w = load64(rt + off);
		const struct mw_region	*r;
		uint8_t			*blk;
		size_t			 len;
		int			 rc;

		if (!plausible(m, w) || (r = mw_maps_find(m, w)) == NULL ||
		    !(r->perms & MW_PERM_WRITE))
			continue;
		len = r->end - w < IFACE_BLOCK ? r->end - w : IFACE_BLOCK;
		if ((blk = read_copy(pid, w, len)) == NULL) {
			if (errno == EFAULT)
				continue;
			return -1;
		}
		rc = search_pointer_block(pid, m, blk, len, w, py);
		free(blk);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* 3.9+: what _PyRuntime holds or points to; 1, 0, -1. */
static int
small_ints_in_runtime(pid_t pid, const struct mw_maps *m, bool statics,
    bool pointers, struct mw_python *py)
{
	uint8_t	*rt;
	int	 rc = 0;

	if (py->runtime == 0 || py->runtime_size == 0 ||
	    py->runtime_size > RUNTIME_MAX)
		return 0;
	if ((rt = read_copy(pid, py->runtime, py->runtime_size)) == NULL)
		return errno == EFAULT ? 0 : -1;
	if (statics)
		rc = search_static(rt, py->runtime_size, py->runtime, py);
	if (rc == 0 && pointers)
		rc = small_ints_by_pointers(pid, m, rt, py->runtime_size, py);
	free(rt);
	return rc;
}

/* Pick the places to search by version; all of them when unknown. */
static int
find_small_ints(pid_t pid, const struct mw_maps *m, struct mw_python *py)
{
	unsigned int		 v = version_mm(py->version);
	bool			 any = py->version == 0;
	const struct mw_region	*r;
	int			 rc;

	rc = small_ints_in_runtime(pid, m, any || v >= 0x030b,
	    any || v == 0x0309 || v == 0x030a, py);
	if (rc == 0 && (any || v <= 0x0308))
		rc = small_ints_in_segments(pid, m, py);
	if (rc != 1)
		return rc;
	if (py->small_ints_end - py->small_ints ==
	    (uint64_t)py->small_count * LONG_SIZE) {
		r = mw_maps_find(m, py->small_ints);
	} else {
		uint64_t	first;

		if (mwi_read_mem(pid, py->small_ints, &first, 8) == -1) {
			rc = errno == EFAULT ? 0 : -1;
			py->small_ints = py->small_ints_end = 0;
			py->small_count = 0;
			return rc;
		}
		r = mw_maps_find(m, first);
	}
	py->small_min = SMALL_MIN;
	if (py->small_ints_kind == MW_KIND_UNMAPPED)	/* not set above */
		py->small_ints_kind = r != NULL ? r->kind : MW_KIND_UNMAPPED;
	return 1;
}

/* ---- version and symbols ------------------------------------------ */

/* "python3.9", "libpython3.6m.so.1.0": major.minor, micro unknown. */
static unsigned long
version_from_name(const char *path)
{
	const char	*base = strrchr(path, '/');
	const char	*p;
	unsigned int	 major, minor;
	char		 dot;

	base = base != NULL ? base + 1 : path;
	for (p = base; (p = strstr(p, "python")) != NULL; p += 6)
		if (sscanf(p + 6, "%2u%c%3u", &major, &dot, &minor) == 3 &&
		    dot == '.' && major >= 2 && major <= 9 && minor < 256)
			return (unsigned long)major << 24 |
			    (unsigned long)minor << 16;
	return 0;
}

/* The symbol when the object that defines PyLong_Type defines it. */
static int
own_symbol(struct mwi_symcache *syms, const struct mw_maps *m,
    const struct mw_python *py, const char *name, struct mwi_symbol *sym)
{
	int	rc = mwi_sym_find_dynamic(syms, m, name, sym);

	if (rc == 1 && strcmp(sym->object, py->object) != 0)
		return 0;
	return rc;
}

/*
 * The version: Py_Version (3.11+) read from memory, else major.minor
 * from the file name. The name also spares lookups of symbols that its
 * version cannot define: each lookup of a symbol that no object
 * defines asks every mapped object's hash table.
 */
static int
read_version(pid_t pid, struct mwi_symcache *syms, const struct mw_maps *m,
    struct mw_python *py)
{
	unsigned long		named = version_from_name(py->object);
	struct mwi_symbol	sym;
	uint64_t		v = 0;
	int			rc = 0;

	if ((named == 0 || version_mm(named) >= 0x030b) &&
	    (rc = own_symbol(syms, m, py, "Py_Version", &sym)) == -1)
		return -1;
	if (rc == 1 && sym.size >= 4 &&
	    mwi_read_mem(pid, sym.value, &v, sym.size >= 8 ? 8 : 4) == -1 &&
	    errno != EFAULT)
		return -1;
	/* An unsigned long on 64-bit, little-endian: the low half is it. */
	v &= 0xffffffffu;
	if ((v >> 24) >= 3 && (v >> 24) <= 9) {
		py->version = (unsigned long)v;
		snprintf(py->version_str, sizeof(py->version_str), "%u.%u.%u",
		    (unsigned int)(v >> 24), (unsigned int)(v >> 16) & 0xff,
		    (unsigned int)(v >> 8) & 0xff);
	} else if ((py->version = named) != 0) {
		snprintf(py->version_str, sizeof(py->version_str), "%lu.%lu",
		    named >> 24, (named >> 16) & 0xff);
	}
	return 0;
}

static int
read_symbols(pid_t pid, struct mwi_symcache *syms, const struct mw_maps *m,
    struct mw_python *py)
{
	struct mwi_symbol	sym;
	int			rc;

	if ((rc = mwi_sym_find_dynamic(syms, m, "PyLong_Type", &sym)) != 1)
		return rc;
	py->object = sym.object;
	py->long_type = sym.value;
	if (read_version(pid, syms, m, py) == -1)
		return -1;
	/* _PyRuntime came with 3.7. */
	if (py->version != 0 && version_mm(py->version) < 0x0307)
		return 1;
	if ((rc = own_symbol(syms, m, py, "_PyRuntime", &sym)) == -1)
		return -1;
	if (rc == 1) {
		py->runtime = sym.value;
		py->runtime_size = sym.size;
	}
	return 1;
}

/*
 * The symbols say a process is a CPython without reading its memory:
 * when reading it is refused (EPERM: the ptrace access check of
 * process_vm_readv), what the symbols told is the answer.
 */
static bool
denied(int err)
{
	return err == EPERM || err == EACCES;
}

int
mwi_python_read(pid_t pid, struct mw_maps *m, struct mwi_symcache *syms,
    struct mw_label *labels, struct mw_python *py)
{
	int	rc;

	memset(py, 0, sizeof(*py));
	py->small_ints_kind = MW_KIND_UNMAPPED;
	for (size_t c = 0; c < MW_PY_CLASSES; c++)
		py->classes[c].block_size = 16 * (c + 1);
	rc = read_symbols(pid, syms, m, py);
	if (rc == -1 && denied(errno) && py->long_type != 0)
		return 1;	/* a CPython whose memory may not be read */
	if (rc != 1)
		return rc;
	if (find_arenas(pid, m, labels, py) == -1 ||
	    find_small_ints(pid, m, py) == -1)
		return denied(errno) ? 1 : -1;
	return 1;
}

/* ---- one address ---------------------------------------------------- */

/* Read the small int at o, the k-th of the cache; 1 when it still is. */
static int
small_int_object(pid_t pid, const struct mw_python *py, uint64_t o, int k,
    struct mw_object *obj)
{
	unsigned int	styles = long_styles(py->version);
	uint8_t		buf[LONG_SIZE];
	int64_t		want = py->small_min + k;

	if (mwi_read_mem(pid, o, buf, sizeof(buf)) == -1)
		return errno == EFAULT ? 0 : -1;
	if (!long_is(buf, py->long_type, styles, want))
		return 0;
	memset(obj, 0, sizeof(*obj));
	obj->type = MW_OBJECT_PY_INT;
	obj->start = o;
	obj->size = LONG_SIZE;
	obj->value = want;
	obj->refcnt = load64(buf);
	return 1;
}

/* The pointer array of 3.9 and 3.10, read again: which object holds addr. */
static int
small_int_by_pointers(pid_t pid, const struct mw_python *py, uint64_t addr,
    struct mw_object *obj)
{
	size_t		 n = (size_t)py->small_count;
	uint64_t	*ptrs, o = 0;
	size_t		 k;

	if ((ptrs = read_copy(pid, py->small_ints, n * 8)) == NULL)
		return errno == EFAULT ? 0 : -1;
	for (k = 0; k < n; k++)
		if (addr >= ptrs[k] && addr - ptrs[k] < LONG_SIZE) {
			o = ptrs[k];
			break;
		}
	free(ptrs);
	return o != 0 ? small_int_object(pid, py, o, (int)k, obj) : 0;
}

static int
small_int_at(pid_t pid, const struct mw_python *py, uint64_t addr,
    struct mw_object *obj)
{
	uint64_t	span = py->small_ints_end - py->small_ints;
	uint64_t	n = (uint64_t)py->small_count;

	if (py->small_ints == 0 || n == 0 || n > SMALL_MAX)
		return 0;
	if (span == n * LONG_SIZE) {
		if (addr < py->small_ints || addr >= py->small_ints_end)
			return 0;
		return small_int_object(pid, py, py->small_ints +
		    (addr - py->small_ints) / LONG_SIZE * LONG_SIZE,
		    (int)((addr - py->small_ints) / LONG_SIZE), obj);
	}
	if (span == n * 8)
		return small_int_by_pointers(pid, py, addr, obj);
	return 0;
}

static const struct geometry *
geometry_of(const struct mw_label *l)
{
	for (size_t k = 0; k < NGEOMETRIES; k++)
		if (l->note == geometries[k].note)
			return &geometries[k];
	return NULL;
}

/*
 * Is the block at offset off of a pool (a copy in buf) on its free
 * list? 1 free, 0 in use, -1 when the list is inconsistent (a torn
 * read): a NULL-terminated chain of carved blocks of this pool, exactly
 * carved - count long.
 */
static int
block_free(const struct geometry *g, uint64_t pool, const uint8_t *buf,
    const struct pool_header *h, uint64_t off)
{
	uint64_t	bs = block_size(g, h->szidx);
	uint64_t	carved = (h->nextoffset - POOL_OVERHEAD) / bs;
	uint64_t	p = h->freeblock, steps = 0;
	int		found = 0;

	while (p != 0) {
		uint64_t	o = p - pool;

		if (p < pool + POOL_OVERHEAD || o >= h->nextoffset ||
		    (o - POOL_OVERHEAD) % bs != 0 || ++steps > carved)
			return -1;
		if (o == off)
			found = 1;
		p = load64(buf + o);
	}
	return steps == carved - h->count ? found : -1;
}

/*
 * An arena is named by its first pool: walking down from the pool of
 * addr over slots with valid headers of the same arenaindex, at most an
 * arena's worth. pymalloc rounds the arena's mmap up to POOL_SIZE for
 * its first pool; the unused pages below it are recorded only in the
 * arena_object array, which this module does not read.
 */
static int
arena_first_pool(pid_t pid, const struct geometry *g,
    const struct mw_region *r, uint64_t pool, uint32_t index, uint64_t *first)
{
	struct pool_header	 hdrs[256];
	struct iovec		 local[256], remote[256];
	size_t			 n = 0;
	ssize_t			 got;

	for (uint64_t a = pool; n < g->arena_size / g->pool_size - 1 &&
	    n < 256 && a >= r->start + g->pool_size; n++) {
		a -= g->pool_size;
		local[n].iov_base = &hdrs[n];
		remote[n].iov_base = (void *)(uintptr_t)a;
		local[n].iov_len = remote[n].iov_len = POOL_OVERHEAD;
	}
	*first = pool;
	if (n == 0)
		return 0;
	if ((got = mwi_read_memv(pid, local, remote, n)) == -1)
		return errno == EFAULT ? 0 : -1;
	for (size_t k = 0; k < (size_t)got; k++) {
		uint64_t a = (uintptr_t)remote[k].iov_base;

		if (!pool_valid(g, a, &hdrs[k]) || hdrs[k].arenaindex != index)
			break;
		*first = a;
	}
	return 0;
}

/* The block of a pymalloc pool that holds addr; 1, 0, -1. */
static int
pool_block(pid_t pid, const struct geometry *g, const struct mw_region *r,
    uint64_t addr, struct mw_object *obj)
{
	uint64_t		 pool = addr & ~(g->pool_size - 1);
	struct pool_header	 h;
	uint8_t			*buf;
	uint64_t		 bs, idx, off, first;
	int			 isfree = -1, rc = 0;

	if (pool < r->start || pool + g->pool_size > r->end)
		return 0;
	if ((buf = read_copy(pid, pool, g->pool_size)) == NULL)
		return errno == EFAULT ? 0 : -1;
	memcpy(&h, buf, sizeof(h));
	if (!pool_valid(g, pool, &h) || addr - pool < POOL_OVERHEAD)
		goto out;
	bs = block_size(g, h.szidx);
	idx = (addr - pool - POOL_OVERHEAD) / bs;
	off = POOL_OVERHEAD + idx * bs;
	if (off + bs > g->pool_size)
		goto out;		/* the slack at the pool's end */
	isfree = off >= h.nextoffset ? 1 : block_free(g, pool, buf, &h, off);
	if (isfree == -1 || (rc = arena_first_pool(pid, g, r, pool,
	    h.arenaindex, &first)) == -1)
		goto out;
	memset(obj, 0, sizeof(*obj));
	obj->type = MW_OBJECT_PY_BLOCK;
	obj->start = pool + off;
	obj->size = bs;
	obj->arena = first;
	obj->pool = pool;
	obj->size_class = h.szidx;
	obj->block = (unsigned int)idx;
	obj->allocated = !isfree;
	rc = 1;
out:
	free(buf);
	return rc;
}

int
mwi_python_object(pid_t pid, const struct mw_python *py,
    const struct mw_maps *m, const struct mw_label *labels, uint64_t addr,
    struct mw_object *obj)
{
	const struct geometry	*g;
	size_t			 i;
	int			 rc;

	/* Small ints first: on 3.9 and 3.10 they are pymalloc blocks too. */
	if ((rc = small_int_at(pid, py, addr, obj)) != 0)
		return rc;
	i = mwi_maps_index(m, addr);
	if (i >= m->nregions || m->regions[i].start > addr ||
	    (g = geometry_of(&labels[i])) == NULL)
		return 0;
	return pool_block(pid, g, &m->regions[i], addr, obj);
}
