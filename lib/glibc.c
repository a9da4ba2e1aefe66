/*
 * glibc.c: glibc malloc's arenas, the heaps of the non-main ones, and
 * the chunks it got from mmap, found from the outside by their headers.
 *
 * A heap of a non-main arena (HEAP_MAX = 64 MiB on 64-bit, aligned to
 * it, so heap_for_ptr(p) = p & ~(HEAP_MAX - 1)):
 *
 *   h                                   h + mprotect_size      h + HEAP_MAX
 *   | heap_info | malloc_state | chunks ...        | ---p reserve ...     |
 *   |<- 48 ---->|<- first heap of an arena only    |
 *   |<--------------- rw-p region ---------------->|<-- ---p region ----->|
 *
 *   heap_info (glibc >= 2.35): ar_ptr +0, prev +8, size +16,
 *   mprotect_size +24, pagesize +32, pad: 48 bytes; before 2.35 the same
 *   without pagesize: 32 bytes. The first heap of an arena holds its
 *   malloc_state right after heap_info (ar_ptr == h + sizeof heap_info,
 *   prev == 0); later heaps point back through prev and share ar_ptr.
 *
 *   malloc_state.next (+0x870 on x86-64 since 2.26) links every arena
 *   in a ring through &main_arena, which lives in libc's .data:
 *     main_arena -> arena 1 -> arena 2 -> ... -> main_arena
 *   malloc_info(3) prints the arenas in this order, "<heap nr=N>".
 *
 * A chunk served by mmap: its own mapping, the header at its start:
 *
 *   | prev_size | size | IS_MMAPPED | user data ... |   size: pages
 *
 * The kernel merges neighbouring anonymous mappings of equal
 * permissions into one region, so a region may hold several chunks one
 * after the other: they are walked.
 *
 * Numbering: main_arena is 0 and labels [heap] when its top chunk lies
 * there; the others follow the ring from main_arena, which is the
 * only next pointer leading out of the heaps. When the ring cannot be
 * followed whole (another malloc_state layout, a process changing
 * while it is read), the non-main arenas are numbered by address
 * instead: a wrong ring is never given. With no other arena, the ring
 * is main_arena alone, and main_arena is the word of libc's data that
 * points to itself minus 0x870, its other fields agreeing.
 *
 * Checked on Debian 12 (glibc 2.36, x86-64) against malloc_info from
 * inside the target (tests/check_glibc.c): the heap_info offsets
 * (pagesize 0x1000), ar_ptr = h + 0x30, next at +0x870 visiting every
 * arena and &main_arena in libc's rw-p data, malloc_info's order being
 * the ring's from main_arena, and chunks of several malloc calls merged
 * into one region.
 *
 * Invariants: a region is claimed only when its header validates, and
 * never when an earlier pass claimed it (a thread stack) or it has a
 * name. The target's memory is read in batches, one process_vm_readv
 * call per batch (IOV_MAX ranges): the candidate headers together
 * (which are also the first step of every chunk walk), then the
 * arenas' next pointers, then the main arena, then each further step
 * of the chunk walks, all walks at once.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEAP_MAX	MWI_HEAP_MAX	/* 2 * DEFAULT_MMAP_THRESHOLD_MAX */
#define HEAP_INFO_SIZE	48		/* glibc >= 2.35 */
#define HEAP_INFO_OLD	32		/* glibc < 2.35: no pagesize */
#define PROBE_SIZE	48		/* what is read at each candidate */
#define STATE_TOP	0x60		/* malloc_state.top */
#define STATE_BINS	0x70		/* malloc_state.bins[0] */
#define STATE_NEXT	0x870		/* malloc_state.next, x86-64 >= 2.26 */
#define STATE_SYSMEM	0x888		/* malloc_state.system_mem */
#define IS_MMAPPED	0x2u
/* The smallest region looked at for mmapped chunks: see mwi.h. */
#define MIN_CHUNK_REGION MWI_DEEP_MIN
#define SIZE_BITS	0x7u

_Static_assert(HEAP_INFO_SIZE <= PROBE_SIZE, "the probe covers heap_info");

/* One place read in the first batch: a region's start, or a heap inside. */
struct probe {
	uint64_t	 addr;
	size_t		 region;	/* the rw-p region holding addr */
	uint64_t	 word[PROBE_SIZE / 8];
	bool		 ok;		/* read whole */
	bool		 heap;		/* a confirmed arena heap */
	int		 arena, index;	/* its arena number and heap index */
};

/* A chunk walk through one region. */
struct walk {
	size_t		 region;
	uint64_t	 pos, limit;	/* next header; where chunks must end */
	uint64_t	 first_size;
	size_t		 count;
	uint64_t	 word[2];	/* prev_size, size */
	bool		 ok;
};

struct scan {
	pid_t		 pid;
	struct mw_maps	*m;
	struct mw_label	*labels;
	uint64_t	 pagesize;
	struct probe	*p;
	size_t		 np;
	uint64_t	*arenas;	/* ar_ptr of each non-main arena */
	size_t		 narenas;	/* in numbering order once numbered */
	uint64_t	 main_arena;
	uint64_t	 main_top;
};

/* ---- reading ------------------------------------------------------ */

/*
 * Read n ranges in as few calls as possible. A range that cannot be
 * read (EFAULT: unmapped meanwhile) is marked and skipped; when the
 * memory may not be read at all (EPERM), none is. -1 only when the
 * process is gone (ESRCH).
 */
static int
read_batch(pid_t pid, const struct iovec *local, const struct iovec *remote,
    bool *ok, size_t n)
{
	size_t	done = 0;

	while (done < n) {
		ssize_t	got = mwi_peek_memv(pid, local + done, remote + done,
		    n - done);

		if (got == -1 && errno == ESRCH)
			return -1;
		if (got == -1 && errno != EFAULT) {
			while (done < n)
				ok[done++] = false;
			return 0;
		}
		if (got == -1)
			got = 0;
		for (ssize_t i = 0; i < got; i++)
			ok[done + (size_t)i] = true;
		done += (size_t)got;
		if (done < n)
			ok[done++] = false;
	}
	return 0;
}

/* Read the probes; their buffers are their own words. */
static int
read_probes(struct scan *s)
{
	struct iovec	*local, *remote;
	bool		*ok;
	int		 rc = -1;

	local = mwi_reallocarray(NULL, s->np + 1, sizeof(*local));
	remote = mwi_reallocarray(NULL, s->np + 1, sizeof(*remote));
	ok = mwi_calloc(s->np + 1, sizeof(*ok));
	if (local != NULL && remote != NULL && ok != NULL) {
		for (size_t i = 0; i < s->np; i++) {
			local[i].iov_base = s->p[i].word;
			local[i].iov_len = PROBE_SIZE;
			remote[i].iov_base = (void *)(uintptr_t)s->p[i].addr;
			remote[i].iov_len = PROBE_SIZE;
		}
		rc = read_batch(s->pid, local, remote, ok, s->np);
		for (size_t i = 0; rc == 0 && i < s->np; i++)
			s->p[i].ok = ok[i];
	}
	free(local);
	free(remote);
	free(ok);
	return rc;
}

/* ---- candidates ----------------------------------------------------- */

/* Unnamed private rw-p memory that no one has explained yet. */
static bool
claimable(const struct scan *s, size_t i)
{
	const struct mw_region	*r = &s->m->regions[i];

	return r->name == NULL && r->kind == MW_KIND_ANON &&
	    r->perms == (MW_PERM_READ | MW_PERM_WRITE) &&
	    s->labels[i].tid == 0 && s->labels[i].arena == -1 &&
	    r->end - r->start >= PROBE_SIZE;
}

/* An unnamed ---p region starting right at end. */
static bool
reserve_at(const struct mw_maps *m, size_t i, uint64_t end)
{
	const struct mw_region	*r;

	if (i >= m->nregions)
		return false;
	r = &m->regions[i];
	return r->start == end && r->name == NULL && r->perms == 0;
}

static void
add_probe(struct scan *s, size_t region, uint64_t addr)
{
	struct probe	*p = &s->p[s->np++];

	memset(p, 0, sizeof(*p));
	p->addr = addr;
	p->region = region;
	p->arena = p->index = -1;
}

/*
 * Every claimable region's start when it may be a heap (aligned) or
 * hold a chunk (MIN_CHUNK_REGION), and the last HEAP_MAX boundary inside it when a reserve
 * follows or the region ends on a boundary: a heap whose rw-p part the
 * kernel merged with the anonymous mapping below it.
 */
static int
collect_probes(struct scan *s)
{
	struct mw_maps	*m = s->m;

	if ((s->p = mwi_reallocarray(NULL, 2 * m->nregions + 1,
	    sizeof(*s->p))) == NULL)
		return -1;
	for (size_t i = 0; i < m->nregions; i++) {
		const struct mw_region	*r = &m->regions[i];
		uint64_t		 inner = (r->end - 1) & ~(HEAP_MAX - 1);

		if (!claimable(s, i))
			continue;
		if (r->start % HEAP_MAX == 0 ||
		    r->end - r->start >= MIN_CHUNK_REGION)
			add_probe(s, i, r->start);
		if (inner > r->start && r->end - inner >= PROBE_SIZE &&
		    (r->end % HEAP_MAX == 0 || reserve_at(m, i + 1, r->end)))
			add_probe(s, i, inner);
	}
	return 0;
}

/* ---- heaps ---------------------------------------------------------- */

static bool
power_of_two(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/*
 * The header alone: sizes in pages, size <= mprotect_size, and the
 * rw-p part from h to the end of its region (or to h + HEAP_MAX when
 * the region goes on) exactly mprotect_size, since glibc mprotects the
 * rest of the heap PROT_NONE.
 */
static bool
heap_fits(const struct scan *s, const struct probe *p)
{
	uint64_t	 prev = p->word[1], size = p->word[2];
	uint64_t	 mprot = p->word[3];
	uint64_t	 end = s->m->regions[p->region].end;
	uint64_t	 rw = end - p->addr;

	if (!p->ok || p->addr % HEAP_MAX != 0 || prev % HEAP_MAX != 0)
		return false;
	if (rw > HEAP_MAX)
		rw = HEAP_MAX;
	return size >= s->pagesize && size % s->pagesize == 0 &&
	    size <= mprot && mprot == rw && p->word[0] != 0;
}

static const struct probe *
probe_at(const struct scan *s, uint64_t addr)
{
	size_t	lo = 0, hi = s->np;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (s->p[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->np && s->p[lo].addr == addr ? &s->p[lo] : NULL;
}

/* The first heap of an arena: its malloc_state follows its heap_info. */
static bool
first_heap(const struct probe *p)
{
	uint64_t	ar = p->word[0];

	if (p->word[1] != 0)
		return false;
	if (ar == p->addr + HEAP_INFO_SIZE)
		return power_of_two(p->word[4]) && p->word[4] >= 4096;
	return ar == p->addr + HEAP_INFO_OLD;
}

/*
 * Follow prev from a heap to the first heap of its arena, every heap
 * on the way fitting and sharing ar_ptr. The heap's index in its
 * arena, or -1 when the chain breaks (or loops).
 */
static int
heap_depth(const struct scan *s, const struct probe *p)
{
	uint64_t	ar = p->word[0];
	int		depth = 0;

	for (size_t steps = 0; steps <= s->np; steps++) {
		if (!heap_fits(s, p) || p->word[0] != ar)
			return -1;
		if (p->word[1] == 0)
			return first_heap(p) ? depth : -1;
		if ((p = probe_at(s, p->word[1])) == NULL)
			return -1;
		depth++;
	}
	return -1;
}

/* Confirm heaps; gather the distinct arenas (their ar_ptr). */
static int
find_heaps(struct scan *s)
{
	if ((s->arenas = mwi_reallocarray(NULL, s->np + 1,
	    sizeof(*s->arenas))) == NULL)
		return -1;
	for (size_t i = 0; i < s->np; i++) {
		struct probe	*p = &s->p[i];

		if ((p->index = heap_depth(s, p)) == -1)
			continue;
		p->heap = true;
		if (p->index == 0)
			s->arenas[s->narenas++] = p->word[0];
	}
	return 0;
}

/* ---- the ring of arenas -------------------------------------------- */

static ssize_t
arena_index(const struct scan *s, uint64_t ar)
{
	for (size_t i = 0; i < s->narenas; i++)
		if (s->arenas[i] == ar)
			return (ssize_t)i;
	return -1;
}

static bool
in_heap(const struct scan *s, uint64_t addr)
{
	for (size_t i = 0; i < s->np; i++)
		if (s->p[i].heap && addr >= s->p[i].addr &&
		    addr < s->p[i].addr + HEAP_MAX)
			return true;
	return false;
}

/* &main_arena is static: in the data or bss of libc (or the program). */
static bool
main_arena_place(const struct scan *s, uint64_t addr)
{
	const struct mw_region	*r = mw_maps_find(s->m, addr);

	if (r == NULL || (r->kind != MW_KIND_DATA && r->kind != MW_KIND_BSS))
		return false;
	return !in_heap(s, addr) && addr + STATE_SYSMEM + 8 <= r->end;
}

/*
 * Read the main arena's top and next. Its top is in [heap], or is
 * initial_top (the address of the top field itself, a bin) before the
 * first malloc.
 */
static int
read_main(struct scan *s, uint64_t main_arena, uint64_t *next)
{
	struct iovec	local[2], remote[2];
	bool		ok[2];

	local[0] = (struct iovec){ &s->main_top, 8 };
	local[1] = (struct iovec){ next, 8 };
	remote[0] = (struct iovec){ (void *)(uintptr_t)(main_arena +
	    STATE_TOP), 8 };
	remote[1] = (struct iovec){ (void *)(uintptr_t)(main_arena +
	    STATE_NEXT), 8 };
	if (read_batch(s->pid, local, remote, ok, 2) == -1)
		return -1;
	return ok[0] && ok[1] ? 1 : 0;
}

/* Each arena's next pointer, in one batch. */
static int
read_nexts(struct scan *s, uint64_t *next, bool *ok)
{
	struct iovec	*local, *remote;
	int		 rc = -1;

	local = mwi_reallocarray(NULL, s->narenas, sizeof(*local));
	remote = mwi_reallocarray(NULL, s->narenas, sizeof(*remote));
	if (local != NULL && remote != NULL) {
		for (size_t i = 0; i < s->narenas; i++) {
			local[i] = (struct iovec){ &next[i], 8 };
			remote[i] = (struct iovec){ (void *)(uintptr_t)
			    (s->arenas[i] + STATE_NEXT), 8 };
		}
		rc = read_batch(s->pid, local, remote, ok, s->narenas);
	}
	free(local);
	free(remote);
	return rc;
}

/* The one next pointer that leads out of the heaps; 0 when not one. */
static uint64_t
ring_exit(const struct scan *s, const uint64_t *next, const bool *ok)
{
	uint64_t	out = 0;

	for (size_t i = 0; i < s->narenas; i++) {
		if (!ok[i])
			return 0;
		if (arena_index(s, next[i]) != -1)
			continue;
		if (out != 0 || !main_arena_place(s, next[i]))
			return 0;
		out = next[i];
	}
	return out;
}

/*
 * The way out of the heaps must be &main_arena; from it the ring must
 * visit every arena once and come back. Then arenas[] is put in ring
 * order. 1 followed, 0 not, -1 error.
 */
static int
follow_ring(struct scan *s, const uint64_t *next, const bool *ok)
{
	uint64_t	 main_arena, at, *order;
	ssize_t		 k;
	size_t		 n = 0;
	int		 rc;

	if ((main_arena = ring_exit(s, next, ok)) == 0)
		return 0;
	if ((rc = read_main(s, main_arena, &at)) != 1)
		return rc;
	if ((order = mwi_reallocarray(NULL, s->narenas + 1,
	    sizeof(*order))) == NULL)
		return -1;
	while (at != main_arena && n < s->narenas &&
	    (k = arena_index(s, at)) != -1) {
		order[n++] = at;
		at = next[k];
	}
	rc = at == main_arena && n == s->narenas;
	if (rc == 1) {
		memcpy(s->arenas, order, n * sizeof(*order));
		s->main_arena = main_arena;
	}
	free(order);
	return rc;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Number the arenas: in ring order when the ring holds, else by address. */
static int
number_arenas(struct scan *s)
{
	uint64_t	*next;
	bool		*ok;
	int		 rc = -1;

	if (s->narenas == 0)
		return 0;
	next = mwi_reallocarray(NULL, s->narenas, sizeof(*next));
	ok = mwi_calloc(s->narenas, sizeof(*ok));
	if (next != NULL && ok != NULL &&
	    read_nexts(s, next, ok) == 0)
		rc = follow_ring(s, next, ok);
	free(next);
	free(ok);
	if (rc == 0)
		qsort(s->arenas, s->narenas, sizeof(*s->arenas), cmp_u64);
	return rc == -1 ? -1 : 0;
}

/* ---- the main arena alone ------------------------------------------ */

static bool
is_libc(const char *name)
{
	const char	*base;

	if (name == NULL || (base = strrchr(name, '/')) == NULL)
		return false;
	return strncmp(base, "/libc.so", 8) == 0 ||
	    strncmp(base, "/libc-", 6) == 0;
}

/* libc's writable data and the bss right after it. */
static bool
libc_data(const struct mw_maps *m, size_t i)
{
	const struct mw_region	*r = &m->regions[i];

	if (r->kind == MW_KIND_DATA && (r->perms & MW_PERM_WRITE))
		return is_libc(r->name);
	return r->kind == MW_KIND_BSS && i > 0 &&
	    m->regions[i - 1].end == r->start &&
	    is_libc(m->regions[i - 1].name);
}

/*
 * With no other arena, main_arena.next points to main_arena itself: look
 * for that word in libc's data. Before glibc's first malloc (in a
 * process whose malloc is another one) top, the bins and system_mem
 * are still 0; after it, top is in [heap], or is initial_top (the
 * address of the top field itself, a bin) while there is no memory.
 */
static bool
self_ring(const uint64_t *w, uint64_t addr, size_t off, size_t len,
    const struct mw_region *heap)
{
	uint64_t	at = addr + off * 8 - STATE_NEXT;
	uint64_t	top, bin, sysmem;

	if (off * 8 < STATE_NEXT || (off + 4) * 8 > len || w[off] != at)
		return false;
	top = w[off - (STATE_NEXT - STATE_TOP) / 8];
	bin = w[off - (STATE_NEXT - STATE_BINS) / 8];
	sysmem = w[off + (STATE_SYSMEM - STATE_NEXT) / 8];
	if (top == 0)
		return bin == 0 && sysmem == 0;
	if (top == at + STATE_TOP)
		return true;
	return heap != NULL && top >= heap->start && top < heap->end &&
	    sysmem != 0 && sysmem <= heap->end - heap->start;
}

static const struct mw_region *
brk_heap(const struct mw_maps *m)
{
	for (size_t i = 0; i < m->nregions; i++)
		if (m->regions[i].kind == MW_KIND_HEAP)
			return &m->regions[i];
	return NULL;
}

/* Scan one region of libc's data for main_arena; 1 found. */
static int
scan_region(struct scan *s, const struct mw_region *r,
    const struct mw_region *heap)
{
	size_t		 len = (size_t)(r->end - r->start);
	uint64_t	*w;
	int		 rc = 0;

	if ((w = mwi_malloc(len)) == NULL)
		return -1;
	if (mwi_peek_mem(s->pid, r->start, w, len) == -1)
		rc = errno == ESRCH ? -1 : 0;
	else
		for (size_t off = 0; off < len / 8; off++)
			if (self_ring(w, r->start, off, len, heap)) {
				s->main_arena = r->start + off * 8 - STATE_NEXT;
				s->main_top = w[off - (STATE_NEXT -
				    STATE_TOP) / 8];
				rc = 1;
				break;
			}
	free(w);
	return rc;
}

static int
find_lone_main(struct scan *s)
{
	const struct mw_region	*heap = brk_heap(s->m);

	for (size_t i = 0; i < s->m->nregions; i++) {
		int	rc;

		if (!libc_data(s->m, i))
			continue;
		if ((rc = scan_region(s, &s->m->regions[i], heap)) != 0)
			return rc;
	}
	return 0;
}

/* ---- labels ------------------------------------------------------- */

static void
label_region(struct scan *s, size_t i, enum mw_kind kind, int arena,
    int heap, const char *note)
{
	if (s->m->regions[i].kind != kind)
		mwi_maps_set_kind(s->m, i, kind);
	s->labels[i].arena = arena;
	s->labels[i].heap = heap;
	s->labels[i].note = note;
}

static void
label_heap(struct scan *s, struct probe *p)
{
	const struct mw_region	*r = &s->m->regions[p->region];
	const char		*note;
	ssize_t			 k = arena_index(s, p->word[0]);

	p->arena = (int)k + 1;
	if (p->addr != r->start)
		note = "arena heap, merged with the mapping below it";
	else
		note = p->index == 0 ? "arena heap, holds its malloc_state" :
		    "arena heap";
	label_region(s, p->region, MW_KIND_GLIBC_ARENA, p->arena, p->index,
	    note);
	/* The ---p rest of the 64 MiB is the heap's room to grow. */
	if (reserve_at(s->m, p->region + 1, r->end) &&
	    s->m->regions[p->region + 1].end <= p->addr + HEAP_MAX &&
	    s->labels[p->region + 1].tid == 0)
		label_region(s, p->region + 1, MW_KIND_GLIBC_ARENA, p->arena,
		    p->index, "arena heap reserve");
}

/* [heap] is the main arena's when its top chunk lies there. */
static void
label_brk(struct scan *s)
{
	for (size_t i = 0; i < s->m->nregions; i++) {
		const struct mw_region	*r = &s->m->regions[i];

		if (r->kind == MW_KIND_HEAP && s->main_arena != 0 &&
		    s->main_top >= r->start && s->main_top < r->end)
			s->labels[i].arena = 0;
	}
}

/* ---- mmapped chunks ------------------------------------------------- */

/*
 * The header of a chunk of its own mapping at pos: IS_MMAPPED and no
 * other flag (glibc sets exactly that), whole pages, and the chunk
 * inside the room left up to end.
 */
static bool
chunk_header(const uint64_t word[2], uint64_t pos, uint64_t end, uint64_t pg)
{
	uint64_t	size = word[1] & ~(uint64_t)SIZE_BITS;

	return (word[1] & SIZE_BITS) == IS_MMAPPED && word[0] < pg &&
	    word[0] % 8 == 0 && size >= pg && size % pg == 0 &&
	    size <= end - pos && word[0] <= end - pos - size;
}

static bool
chunk_fits(const struct scan *s, const struct walk *w)
{
	return w->ok && chunk_header(w->word, w->pos, w->limit, s->pagesize);
}

/*
 * Where the chunks of the region probed at p[i] must end: at a heap
 * merged into its top (its probe is the next one, of the same region),
 * else at the region's end.
 */
static uint64_t
walk_limit(const struct scan *s, size_t i)
{
	const struct probe	*p = &s->p[i];

	if (i + 1 < s->np && p[1].region == p->region && p[1].heap)
		return p[1].addr;
	return s->m->regions[p->region].end;
}

/* The first step of every walk comes from the probes at region starts. */
static size_t
start_walks(struct scan *s, struct walk *w)
{
	size_t	n = 0;

	for (size_t i = 0; i < s->np; i++) {
		const struct probe	*p = &s->p[i];

		if (p->addr != s->m->regions[p->region].start || p->heap)
			continue;
		memset(&w[n], 0, sizeof(w[n]));
		w[n].region = p->region;
		w[n].pos = p->addr;
		w[n].limit = walk_limit(s, i);
		w[n].word[0] = p->word[0];
		w[n].word[1] = p->word[1];
		w[n].ok = p->ok;
		n++;
	}
	return n;
}

/* Read the next header of every walk still going, in one batch. */
static int
read_walks(struct scan *s, struct walk *w, size_t n, struct iovec *local,
    struct iovec *remote, bool *ok)
{
	size_t	k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!w[i].ok)
			continue;
		local[k] = (struct iovec){ w[i].word, sizeof(w[i].word) };
		remote[k] = (struct iovec){ (void *)(uintptr_t)w[i].pos,
		    sizeof(w[i].word) };
		k++;
	}
	if (k == 0)
		return 0;
	if (read_batch(s->pid, local, remote, ok, k) == -1)
		return -1;
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i].ok)
			w[i].ok = ok[k++];
	return 0;
}

/* One step of every walk; true while some walk goes on. */
static bool
step_walks(const struct scan *s, struct walk *w, size_t n)
{
	bool	more = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t	size = w[i].word[1] & ~(uint64_t)SIZE_BITS;

		if (!chunk_fits(s, &w[i])) {
			w[i].ok = false;
			continue;
		}
		if (w[i].count++ == 0)
			w[i].first_size = size;
		w[i].pos += w[i].word[0] + size;
		w[i].ok = w[i].limit - w[i].pos >= sizeof(w[i].word);
		more |= w[i].ok;
	}
	return more;
}

static void
label_chunks(struct scan *s, const struct walk *w, size_t n,
    struct mwi_glibc *g)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i].count == 0)
			continue;
		g->mmapped += w[i].count;
		if (s->labels[w[i].region].arena != -1)
			continue;	/* a heap shares the region */
		label_region(s, w[i].region, MW_KIND_MALLOC_MMAP, -1, -1,
		    w[i].count > 1 ? "several mmapped chunks" : NULL);
		s->labels[w[i].region].chunk_size = w[i].first_size;
	}
}

/*
 * A region whose start holds no chunk may still hold one a few pages
 * up: the kernel merged the chunk's mapping with a small anonymous one
 * below it. For each such walk, the next SKIP_PAGES page starts are
 * read in one batch, and the walk restarts at the lowest that holds a
 * chunk header. w has room for n * (SKIP_PAGES + 1) walks.
 */
#define SKIP_PAGES	16

static size_t
add_skips(const struct scan *s, struct walk *w, size_t n)
{
	size_t	m = n;

	for (size_t i = 0; i < n; i++) {
		if (w[i].count > 0)
			continue;
		for (uint64_t k = 1; k <= SKIP_PAGES; k++) {
			uint64_t pos = s->m->regions[w[i].region].start +
			    k * s->pagesize;

			if (pos + sizeof(w[i].word) > w[i].limit)
				break;
			w[m] = w[i];
			w[m].pos = pos;
			w[m].ok = true;
			m++;
		}
	}
	return m;
}

/* Keep, per region, the lowest skipped walk that found a chunk. */
static void
pick_skips(const struct scan *s, struct walk *w, size_t n, size_t m)
{
	for (size_t j = n; j < m; j++) {
		w[j].ok = chunk_fits(s, &w[j]);
		if (!w[j].ok)
			continue;
		for (size_t i = 0; i < n; i++)
			if (w[i].region == w[j].region && w[i].count == 0 &&
			    !w[i].ok) {
				w[i] = w[j];	/* the lowest: j goes up */
				w[i].ok = true;
			}
	}
}

static int
run_walks(struct scan *s, struct walk *w, size_t n, struct iovec *local,
    struct iovec *remote, bool *ok)
{
	int	rc = 0;

	while (step_walks(s, w, n))
		if ((rc = read_walks(s, w, n, local, remote, ok)) == -1)
			break;
	return rc;
}

static int
find_chunks(struct scan *s, struct mwi_glibc *g)
{
	struct walk	*w;
	struct iovec	*local, *remote;
	bool		*ok;
	size_t		 n, m, room = (s->np + 1) * (SKIP_PAGES + 1);
	int		 rc = -1;

	w = mwi_reallocarray(NULL, room, sizeof(*w));
	local = mwi_reallocarray(NULL, room, sizeof(*local));
	remote = mwi_reallocarray(NULL, room, sizeof(*remote));
	ok = mwi_calloc(room, sizeof(*ok));
	if (w != NULL && local != NULL && remote != NULL && ok != NULL) {
		n = start_walks(s, w);
		if ((rc = run_walks(s, w, n, local, remote, ok)) == 0) {
			m = add_skips(s, w, n);
			if ((rc = read_walks(s, w + n, m - n, local, remote,
			    ok)) == 0) {
				pick_skips(s, w, n, m);
				rc = run_walks(s, w, n, local, remote, ok);
			}
		}
		if (rc == 0)
			label_chunks(s, w, n, g);
	}
	free(w);
	free(local);
	free(remote);
	free(ok);
	return rc;
}

/*
 * The mmapped chunk of region r that holds addr, for where: the walk of
 * find_chunks done again for one region, one header at a time, up to
 * addr (skipping up to SKIP_PAGES foreign pages at the bottom). 1 with
 * *start, *size; 0 when no chunk holds addr; -1 (errno) on error.
 */
int
mwi_glibc_chunk_at(pid_t pid, const struct mw_region *r, uint64_t addr,
    uint64_t *start, uint64_t *size)
{
	uint64_t	pg = (uint64_t)sysconf(_SC_PAGESIZE), pos = r->start;
	uint64_t	word[2];
	unsigned int	skipped = 0;
	bool		found = false;

	while (pos <= addr && r->end - pos >= sizeof(word)) {
		if (mwi_read_mem(pid, pos, word, sizeof(word)) == -1)
			return errno == EFAULT || errno == EPERM ? 0 : -1;
		if (chunk_header(word, pos, r->end, pg)) {
			found = true;
			if (addr < pos + word[0] + (word[1] & ~(uint64_t)SIZE_BITS)) {
				*start = pos;
				*size = word[1] & ~(uint64_t)SIZE_BITS;
				return 1;
			}
			pos += word[0] + (word[1] & ~(uint64_t)SIZE_BITS);
		} else if (found || ++skipped > SKIP_PAGES)
			return 0;
		else
			pos += pg;
	}
	return 0;
}

/* ---- the pass ------------------------------------------------------- */

static int
run(struct scan *s, struct mwi_glibc *g)
{
	if (collect_probes(s) == -1 || read_probes(s) == -1 ||
	    find_heaps(s) == -1 || number_arenas(s) == -1)
		return -1;
	if (s->narenas == 0 && find_lone_main(s) == -1)
		return -1;
	for (size_t i = 0; i < s->np; i++)
		if (s->p[i].heap) {
			label_heap(s, &s->p[i]);
			g->heaps++;
		}
	label_brk(s);
	g->main_arena = s->main_arena;
	g->arenas = s->narenas + (s->narenas > 0 || s->main_arena != 0);
	return find_chunks(s, g);
}

int
mwi_glibc_label(pid_t pid, struct mw_maps *m, struct mw_label *labels,
    struct mwi_glibc *g)
{
	struct scan	s;
	long		pg = sysconf(_SC_PAGESIZE);
	int		rc, saved;

	memset(g, 0, sizeof(*g));
	memset(&s, 0, sizeof(s));
	s.pid = pid;
	s.m = m;
	s.labels = labels;
	s.pagesize = pg > 0 ? (uint64_t)pg : 4096;
	rc = run(&s, g);
	saved = errno;
	free(s.p);
	free(s.arenas);
	errno = saved;
	return rc;
}
