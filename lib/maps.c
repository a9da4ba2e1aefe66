/*
 * maps.c: the text of /proc/PID/maps -> a sorted array of regions.
 *
 * A line, as the kernel prints it (fs/proc/task_mmu.c, show_map_vma):
 *
 *   55d0c1a00000-55d0c1a2f000 r--p 00000000 fe:00 1234    /usr/bin/bash
 *   start       -end          perm offset   dev   inode   [pad] name
 *
 * Hex fields are lowercase with a minimum width, up to 16 digits; the
 * inode is decimal; the name is the rest of the line after the padding
 * (it may hold spaces) and the kernel escapes only '\n', as "\012".
 *
 * The text is parsed block by block as it arrives (stream.c); a line cut
 * by a block's end waits in the carry buffer for the rest. Each name is
 * unescaped in place, then copied into the name chunks that struct
 * mw_maps owns; chunks never move, so regions point into them:
 *
 *   maps->names -> [ next | used | size | "[heap]\0/usr/lib/libc.so.6\0..." ]
 *                     |
 *                     v  older chunk ...
 *
 * /proc/PID/smaps is the same line for each region, followed by its
 * figures, one "Key:   N kB" line each (show_smap):
 *
 *   55d0c1a00000-55d0c1a2f000 r--p 00000000 fe:00 1234    /usr/bin/bash
 *   Size:                188 kB
 *   Rss:                 188 kB         -> smaps[i].rss = 188 * 1024
 *   ...
 *   THPeligible:           0            a key memwalk does not keep:
 *   VmFlags: rd mr mw me                skipped, whatever its value
 *
 * The same parser reads it (parse_smaps_lines): a line that starts with
 * "Identifier:" is a key line of the region above it, any other line is
 * the next region's header. The figures go to m->smaps, parallel to
 * m->regions and grown with it; keys this code does not know are
 * skipped (new kernels add some), but a known "N kB" key whose value
 * does not parse, or a key line before the first region, is a
 * malformed line.
 *
 * Invariants of a struct mw_maps:
 *   regions[i].start < regions[i].end <= regions[i+1].start;
 *   no two regions overlap: of entries that a torn read (the kernel
 *   drops its lock between read() calls) left overlapping, the one read
 *   later wins, being the newer view; an entry that loses to any later
 *   one is dropped (see sort_and_resolve);
 *   smaps is NULL for a maps text, else smaps[i] are the figures of
 *   regions[i] (sort_and_resolve moves and drops them together).
 *
 * The parser is hand-written: sscanf costs ~8x more per line.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char deleted_suffix[] = " (deleted)";

bool
mwi_name_is_deleted(const char *name)
{
	size_t	len = strlen(name), slen = sizeof(deleted_suffix) - 1;

	return len > slen && strcmp(name + len - slen, deleted_suffix) == 0;
}

/*
 * Digit values; 16 for anything else, the line's end included. A table
 * because this loop is most of the parser's time: a maps file is about
 * half hex digits.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const unsigned char hexval[256] = {
	[0 ... 255] = 16,
	['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4,
	['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9,
	['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
	['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};
#pragma GCC diagnostic pop

/*
 * The kernel writes addresses and offsets with at least eight digits, so
 * those fields start with eight digits converted at once (SWAR); the
 * rest, like the short device numbers, go a byte at a time. Every
 * buffer the parser sees is followed by MWI_SLACK zero bytes, so the
 * eight-byte load never leaves it.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* The high bit of each byte b with m < b < n (exact for b < 128). */
#define BYTES_BETWEEN(x, m, n)						\
	((((ONES * (127 + (n))) - ((x) & ONES * 127)) & ~(x) &		\
	    (((x) & ONES * 127) + ONES * (127 - (m)))) & HIGHS)

/* Eight bytes, the first in memory as the lowest byte of the word. */
static inline uint64_t
load8(const char *p)
{
	uint64_t	w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* Are all eight bytes of w hex digits? */
static inline bool
all_hex8(uint64_t w)
{
	uint64_t	lower = w | ONES * 0x20;

	return (BYTES_BETWEEN(w, '0' - 1, '9' + 1) |
	    BYTES_BETWEEN(lower, 'a' - 1, 'f' + 1)) == HIGHS;
}

/* The value of eight hex digits, the first the most significant. */
static inline uint64_t
hex8_value(uint64_t w)
{
	/* Digits keep their low nibble; letters ('a', 'A': bit 6) add 9. */
	uint64_t	v = (w & ONES * 0x0f) + ((w >> 6) & ONES) * 9;

	v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL;
	v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffULL;
	return ((v << 16) | (v >> 32)) & 0x00000000ffffffffULL;
}

/*
 * 1 to 16 hex digits; returns the first byte after them, or NULL. Needs
 * no end pointer: every line ends in '\n' or the buffer's NUL.
 */
static const char *
parse_hex(const char *p, bool wide, uint64_t *out)
{
	const char	*first = p;
	uint64_t	 v = 0, w;
	unsigned int	 d;

	if (wide && all_hex8(w = load8(p))) {
		v = hex8_value(w);
		p += 8;
	}
	while ((d = hexval[(unsigned char)*p]) < 16) {
		v = v << 4 | d;
		p++;
	}
	if (p == first || p - first > 16)
		return NULL;
	*out = v;
	return p;
}

static const char *
parse_dec(const char *p, uint64_t *out)
{
	const char	*first = p;
	uint64_t	 v = 0;
	unsigned int	 d;

	while ((d = (unsigned char)*p - '0') < 10) {
		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
		p++;
	}
	if (p == first)
		return NULL;
	*out = v;
	return p;
}

static const char *
expect(const char *p, const char *end, char c)
{
	return p != NULL && p < end && *p == c ? p + 1 : NULL;
}

static const char *
parse_perms(const char *p, const char *end, unsigned int *perms)
{
	static const char want[4][2] = { "r-", "w-", "x-", "sp" };
	static const unsigned int bit[4] = {
		MW_PERM_READ, MW_PERM_WRITE, MW_PERM_EXEC, MW_PERM_SHARED
	};

	if (end - p < 4)
		return NULL;
	*perms = 0;
	for (int i = 0; i < 4; i++) {
		if (p[i] == want[i][0])
			*perms |= bit[i];
		else if (p[i] != want[i][1])
			return NULL;
	}
	return p + 4;
}

/* Turn the kernel's "\012" back into '\n', in place. */
static void
unescape_name(char *s)
{
	char	*w;

	if ((s = strchr(s, '\\')) == NULL)
		return;
	for (w = s; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == '0' && s[2] == '1' && s[3] == '2') {
			*w++ = '\n';
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/*
 * Parse the line at p into *r; returns the start of the next line, or
 * NULL when the line is malformed. One pass: the fixed fields stop at
 * the first byte that does not fit (a '\n' never fits, and the text
 * ends in a NUL, so no scan leaves the buffer), then the name runs to
 * the '\n', where it is NUL-terminated in place.
 */
static inline __attribute__((always_inline)) char *
parse_line(char *p, const char *end, struct mw_region *r)
{
	const char	*q;
	char		*eol;
	uint64_t	 major, minor;

	r->flags = 0;
	r->kind = MW_KIND_ANON;
	r->name = NULL;
	q = parse_hex(p, true, &r->start);
	q = expect(q, end, '-');
	if (q != NULL)
		q = parse_hex(q, true, &r->end);
	q = expect(q, end, ' ');
	if (q != NULL)
		q = parse_perms(q, end, &r->perms);
	q = expect(q, end, ' ');
	if (q != NULL)
		q = parse_hex(q, true, &r->offset);
	q = expect(q, end, ' ');
	if (q != NULL)
		q = parse_hex(q, false, &major);
	q = expect(q, end, ':');
	if (q != NULL)
		q = parse_hex(q, false, &minor);
	q = expect(q, end, ' ');
	if (q != NULL)
		q = parse_dec(q, &r->inode);
	if (q == NULL || r->start >= r->end || major > 0xfff ||
	    minor > 0xfffff)
		return NULL;
	r->dev_major = (unsigned int)major;
	r->dev_minor = (unsigned int)minor;
	if (*q != ' ' && *q != '\n' && q != end)
		return NULL;
	while (*q == ' ')
		q++;
	eol = *q == '\n' ? (char *)q : strchrnul(q, '\n');
	if (eol != end && *eol != '\n')
		return NULL;		/* a NUL inside the line */
	if (eol != q) {
		*eol = '\0';
		r->name = q;
		unescape_name((char *)q);
		if (mwi_name_is_deleted(r->name))
			r->flags |= MW_REGION_DELETED;
	}
	return eol == end ? eol : eol + 1;
}

/*
 * smaps key lines. Most of an smaps text is "Key:   N kB" lines, so a
 * known key is told by its first byte and a few compares of the
 * whole key with its ':' (constant-length memcmp compiles to a couple of
 * loads), and its value is read with the padding skipped eight bytes at
 * a time. Every text is followed by MWI_SLACK zero bytes, so neither
 * reads past the buffer (the longest key, "Private_Hugetlb:", is 16).
 */
#define KB_DIGITS_MAX	17	/* UINT64_MAX >> 10 has 17 digits */

/*
 * What the key at p is, and its length with the ':' (0: no key this
 * code knows). For a key whose value is "N kB", *field is where the
 * value goes: a field of *s, or *sink for one struct mw_smaps does not
 * hold (its value is still checked); for other keys, NULL.
 */
static inline size_t
known_key(const char *p, struct mw_smaps *s, uint64_t *sink,
    uint64_t **field)
{
#define KEY(lit, where)							\
	if (memcmp(p, lit, sizeof(lit) - 1) == 0) {			\
		*field = (where);					\
		return sizeof(lit) - 1;					\
	}
	switch (p[0]) {
	case 'A':
		KEY("Anonymous:", &s->anonymous);
		KEY("AnonHugePages:", &s->anon_huge);
		break;
	case 'F':
		KEY("FilePmdMapped:", sink);
		break;
	case 'K':
		KEY("KernelPageSize:", sink);
		KEY("KSM:", sink);
		break;
	case 'L':
		KEY("LazyFree:", &s->lazyfree);
		KEY("Locked:", &s->locked);
		break;
	case 'M':
		KEY("MMUPageSize:", sink);
		break;
	case 'P':
		KEY("Pss:", &s->pss);
		KEY("Pss_Dirty:", &s->pss_dirty);
		KEY("Private_Clean:", &s->private_clean);
		KEY("Private_Dirty:", &s->private_dirty);
		KEY("Private_Hugetlb:", sink);
		KEY("ProtectionKey:", NULL);
		break;
	case 'R':
		KEY("Rss:", &s->rss);
		KEY("Referenced:", &s->referenced);
		break;
	case 'S':
		KEY("Size:", sink);
		KEY("Shared_Clean:", &s->shared_clean);
		KEY("Shared_Dirty:", &s->shared_dirty);
		KEY("Swap:", &s->swap);
		KEY("SwapPss:", &s->swap_pss);
		KEY("ShmemPmdMapped:", sink);
		KEY("Shared_Hugetlb:", sink);
		break;
	case 'T':
		KEY("THPeligible:", NULL);
		break;
	case 'V':
		KEY("VmFlags:", NULL);
		break;
	}
	return 0;
#undef KEY
}

/*
 * " *N kB" to the line's end, N in bytes into *out; returns the start
 * of the next line, or NULL when the value is anything else.
 */
static inline char *
parse_kb(char *p, const char *end, uint64_t *out)
{
	const char	*first;
	uint64_t	 w, v = 0;
	unsigned int	 d;

	while ((w = load8(p) ^ ONES * ' ') == 0)
		p += 8;
	p += __builtin_ctzll(w) / 8;	/* w != 0: the first non-space */
	first = p;
	while ((d = (unsigned char)*p - '0') < 10 &&
	    p - first <= KB_DIGITS_MAX) {
		v = v * 10 + d;
		p++;
	}
	if (p == first || p - first > KB_DIGITS_MAX || v > UINT64_MAX >> 10 ||
	    p[0] != ' ' || p[1] != 'k' || p[2] != 'B')
		return NULL;
	p += 3;
	*out = v << 10;
	if (*p == '\n')
		return p + 1;
	return p == end ? p : NULL;
}

/* Can this byte be part of a key's name? */
static const bool keychar[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['_'] = true,
};

/*
 * The smaps line at p, if it is a key line: a kept key's figure goes
 * into *s, and the start of the next line is returned. Returns p itself
 * when the line starts with no "Key:" (a region's header), and NULL for
 * a known "N kB" key whose value does not parse or a line holding a
 * NUL. Other keys are skipped whatever their value: new kernels add
 * keys, and VmFlags, THPeligible and the like are not "N kB".
 */
static inline char *
smaps_key_line(char *p, const char *end, struct mw_smaps *s)
{
	uint64_t	 sink, *field;
	size_t		 klen;
	char		*q;

	if ((klen = known_key(p, s, &sink, &field)) > 0 && field != NULL)
		return parse_kb(p + klen, end, field);
	if (klen == 0) {
		for (q = p; keychar[(unsigned char)*q]; q++)
			continue;
		if (q == p || *q != ':')
			return p;
	} else
		q = p + klen;
	q = strchrnul(q, '\n');
	if (*q == '\n')
		return q + 1;
	return q == end ? q : NULL;
}

static int
cmp_by_start_then_line(const void *a, const void *b, void *base)
{
	const struct mw_region	*v = base;
	size_t			 ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct mw_region	*ra = &v[ia], *rb = &v[ib];

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/*
 * Overlaps left by a torn read are resolved pairwise, the later line
 * winning: an entry is dropped when any entry read after it overlaps it
 * (whether or not that one survives in turn). With the entries sorted by
 * start, the newer overlapping ones are of two sorts:
 *
 *   to the left, starting at or before e and ending after e.start: a
 *     max-heap of positions by line, whose top is discarded while it
 *     ends at or before e.start (what it discards ends before every
 *     later e starts too);
 *   to the right, starting in [e.start, e.end): a range of positions,
 *     whose highest line a sparse table answers.
 *
 * O(n log n), and only run when the kernel's order was broken.
 */
struct overlap {
	const struct mw_region	*v;
	const size_t		*idx;	/* positions -> line (= index in v) */
	size_t			 n;
	size_t			*heap;	/* positions, max line on top */
	size_t			 nheap;
	size_t			*table;	/* table[k * n + i]: max line in [i, i + 2^k) */
};

static void
heap_push(struct overlap *o, size_t pos)
{
	size_t	i = o->nheap++, parent;

	while (i > 0 && o->idx[o->heap[parent = (i - 1) / 2]] < o->idx[pos]) {
		o->heap[i] = o->heap[parent];
		i = parent;
	}
	o->heap[i] = pos;
}

static void
heap_pop(struct overlap *o)
{
	size_t	last = o->heap[--o->nheap], i = 0, child;

	while ((child = 2 * i + 1) < o->nheap) {
		if (child + 1 < o->nheap &&
		    o->idx[o->heap[child + 1]] > o->idx[o->heap[child]])
			child++;
		if (o->idx[o->heap[child]] <= o->idx[last])
			break;
		o->heap[i] = o->heap[child];
		i = child;
	}
	o->heap[i] = last;
}

static unsigned int
log2_floor(size_t x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

static void
table_build(struct overlap *o)
{
	size_t	n = o->n;

	for (size_t i = 0; i < n; i++)
		o->table[i] = o->idx[i];
	for (unsigned int k = 1; ((size_t)1 << k) <= n; k++)
		for (size_t i = 0; i + ((size_t)1 << k) <= n; i++) {
			size_t	a = o->table[(k - 1) * n + i];
			size_t	b = o->table[(k - 1) * n + i + ((size_t)1 << (k - 1))];

			o->table[k * n + i] = a > b ? a : b;
		}
}

/* The highest line among positions [a, b), a < b. */
static size_t
table_max(const struct overlap *o, size_t a, size_t b)
{
	unsigned int	k = log2_floor(b - a);
	size_t		x = o->table[k * o->n + a];
	size_t		y = o->table[k * o->n + b - ((size_t)1 << k)];

	return x > y ? x : y;
}

/* Is the entry at position pos overlapped by one read after it? */
static bool
overlapped_by_newer(struct overlap *o, size_t pos)
{
	const struct mw_region	*e = &o->v[o->idx[pos]];
	size_t			 lo = pos + 1, hi = o->n, line = o->idx[pos];

	while (o->nheap > 0 && o->v[o->idx[o->heap[0]]].end <= e->start)
		heap_pop(o);
	if (o->nheap > 0 && o->idx[o->heap[0]] > line)
		return true;
	while (lo < hi) {	/* the first position starting at e->end */
		size_t	mid = lo + (hi - lo) / 2;

		if (o->v[o->idx[mid]].start < e->end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > pos + 1 && table_max(o, pos + 1, lo) > line;
}

/*
 * Sort v[0 .. *np) and drop what lost to a newer line; s, when not NULL,
 * holds the figures of each entry and follows them.
 */
static int
sort_and_resolve(struct mw_region *v, struct mw_smaps *s, size_t *np)
{
	struct overlap		 o = { .v = v, .n = *np };
	size_t			*idx, nkeep = 0;
	struct mw_region	*copy;
	struct mw_smaps		*scopy = NULL;
	int			 rc = -1;

	if (o.n < 2)
		return 0;
	idx = mwi_reallocarray(NULL, o.n, sizeof(*idx));
	o.heap = mwi_reallocarray(NULL, o.n, sizeof(*o.heap));
	o.table = mwi_reallocarray(NULL, o.n, (log2_floor(o.n) + 1) *
	    sizeof(*o.table));
	copy = mwi_reallocarray(NULL, o.n, sizeof(*copy));
	if (s != NULL)
		scopy = mwi_reallocarray(NULL, o.n, sizeof(*scopy));
	if (idx == NULL || o.heap == NULL || o.table == NULL || copy == NULL ||
	    (s != NULL && scopy == NULL))
		goto out;
	for (size_t i = 0; i < o.n; i++)
		idx[i] = i;
	qsort_r(idx, o.n, sizeof(*idx), cmp_by_start_then_line, v);
	o.idx = idx;
	table_build(&o);
	for (size_t pos = 0; pos < o.n; pos++) {
		if (!overlapped_by_newer(&o, pos)) {
			if (s != NULL)
				scopy[nkeep] = s[idx[pos]];
			copy[nkeep++] = v[idx[pos]];
		}
		heap_push(&o, pos);
	}
	memcpy(v, copy, nkeep * sizeof(*v));
	if (s != NULL)
		memcpy(s, scopy, nkeep * sizeof(*s));
	*np = nkeep;
	rc = 0;
out:
	free(scopy);
	free(copy);
	free(o.table);
	free(o.heap);
	free(idx);
	return rc;
}

#define NAMES_CHUNK	(16 * 1024)

/* A stable copy of a name, in the maps' chunks. */
static const char *
keep_name(struct mw_maps *m, const char *name)
{
	size_t			 len = strlen(name) + 1, size;
	struct mwi_chunk	*c = m->names;

	if (c == NULL || c->size - c->used < len) {
		size = len > NAMES_CHUNK ? len : NAMES_CHUNK;
		if ((c = mwi_malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->next = m->names;
		c->used = 0;
		c->size = size;
		m->names = c;
	}
	memcpy(c->data + c->used, name, len);
	c->used += len;
	return c->data + c->used - len;
}

/*
 * The parser's state between blocks. With classify set, each region is
 * classified as soon as it is parsed, while the kernel is still writing
 * the rest (if the text turns out unsorted, all again after the sort).
 */
struct parser {
	struct mw_maps	*m;
	bool		 classify;
	bool		 smaps;		/* an smaps text: m->smaps kept */
	mw_region_fn	 fn;		/* told of each classified region */
	void		*fn_ctx;
	struct mwi_array_classifier ac;
	size_t		 cap;		/* of m->regions (and m->smaps) */
	char		*carry;		/* a line cut by a block's end */
	size_t		 carry_len, carry_cap;
	size_t		 line;
	uint64_t	 prev_end;
	bool		 sorted;
	size_t		 errline;	/* of a malformed line */
};

/* Grow the regions (and figures) by half; the next free slot, or NULL. */
static struct mw_region *
grow_slots(struct parser *ps)
{
	struct mw_maps		*m = ps->m;
	struct mw_region	*v;
	struct mw_smaps		*s;
	size_t			 ncap;

	ncap = ps->cap + ps->cap / 2 + 64;
	if ((v = mwi_reallocarray(m->regions, ncap, sizeof(*v))) == NULL)
		return NULL;
	m->regions = v;
	if (ps->smaps) {
		if ((s = mwi_reallocarray(m->smaps, ncap, sizeof(*s))) == NULL)
			return NULL;
		m->smaps = s;
	}
	ps->cap = ncap;
	return &v[m->nregions];
}

/* Room for one more region (and its figures). */
static inline struct mw_region *
next_slot(struct parser *ps)
{
	if (ps->m->nregions < ps->cap)
		return &ps->m->regions[ps->m->nregions];
	return grow_slots(ps);
}

static int
bad_line(struct parser *ps)
{
	ps->errline = ps->line;
	errno = EINVAL;
	return -1;
}

/*
 * The region line at *pp into the maps; *pp moves to the next line. Its
 * name is kept, its bytes counted, and it is classified now if the text
 * is sorted so far. Always inlined: it is the body of the maps loop,
 * which a call per line made 7% slower (instructions, 60,000 lines).
 */
static inline __attribute__((always_inline)) int
add_region(struct parser *ps, char **pp, char *end)
{
	struct mw_region	*r;

	if ((r = next_slot(ps)) == NULL)
		return -1;
	if ((*pp = parse_line(*pp, end, r)) == NULL)
		return bad_line(ps);
	if (r->name != NULL && (r->name = keep_name(ps->m, r->name)) == NULL)
		return -1;
	ps->sorted = ps->sorted && r->start >= ps->prev_end;
	ps->prev_end = r->end;
	ps->m->totals.bytes[r->kind] += r->end - r->start;
	ps->m->totals.count[r->kind]++;
	if (ps->classify && ps->sorted) {
		mwi_classify_at(&ps->ac, ps->m->nregions);
		if (ps->fn != NULL)
			ps->fn(ps->fn_ctx, r);
	}
	ps->m->nregions++;
	return 0;
}

/* Parse the maps lines of [p, stop); end is the data's NUL-terminated end. */
static int
parse_lines(struct parser *ps, char *p, char *stop, char *end)
{
	while (p < stop) {
		ps->line++;
		if (add_region(ps, &p, end) == -1)
			return -1;
	}
	return 0;
}

/*
 * The same for smaps: key lines fill the figures of the last region,
 * any other line is the header of a new one, whose figures start at 0.
 */
static int
parse_smaps_lines(struct parser *ps, char *p, char *stop, char *end)
{
	struct mw_maps	*m = ps->m;
	struct mw_smaps	 before_any, *s;
	char		*next;

	s = m->nregions > 0 ? &m->smaps[m->nregions - 1] : &before_any;
	while (p < stop) {
		ps->line++;
		if ((next = smaps_key_line(p, end, s)) == p) {
			if (add_region(ps, &p, end) == -1)
				return -1;
			s = &m->smaps[m->nregions - 1];
			memset(s, 0, sizeof(*s));
		} else if (next == NULL || s == &before_any)
			return bad_line(ps);
		else
			p = next;
	}
	return 0;
}

static int
parse_block(struct parser *ps, char *p, char *stop, char *end)
{
	if (ps->smaps)
		return parse_smaps_lines(ps, p, stop, end);
	return parse_lines(ps, p, stop, end);
}

static int
carry_append(struct parser *ps, const char *p, size_t n)
{
	char	*nc;
	size_t	 ncap = ps->carry_cap;

	while (ncap < ps->carry_len + n + MWI_SLACK)
		ncap = ncap == 0 ? 256 : ncap * 2;
	if (ncap != ps->carry_cap) {
		if ((nc = mwi_reallocarray(ps->carry, ncap, 1)) == NULL)
			return -1;
		ps->carry = nc;
		ps->carry_cap = ncap;
	}
	memcpy(ps->carry + ps->carry_len, p, n);
	ps->carry_len += n;
	memset(ps->carry + ps->carry_len, 0, MWI_SLACK);
	return 0;
}

/*
 * Finish the carried line with the head of data; returns where the rest
 * of data starts, or NULL on error.
 */
static char *
finish_carry(struct parser *ps, char *data, size_t len, bool last)
{
	char	*nl = memchr(data, '\n', len);
	size_t	 take = nl != NULL ? (size_t)(nl - data) + 1 : len;

	if (carry_append(ps, data, take) == -1)
		return NULL;
	if (nl != NULL || last) {
		if (parse_block(ps, ps->carry, ps->carry + ps->carry_len,
		    ps->carry + ps->carry_len) == -1)
			return NULL;
		ps->carry_len = 0;
	}
	return data + take;
}

/* mwi_consume_fn: parse the complete lines, carry the cut one. */
static int
parser_feed(void *ctx, char *data, size_t len, bool last)
{
	struct parser	*ps = ctx;
	char		*p = data, *end = data + len, *stop = end;

	if (ps->carry_len > 0 && (p = finish_carry(ps, data, len, last)) ==
	    NULL)
		return -1;
	if (!last) {
		stop = p < end ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
		stop = stop != NULL ? stop + 1 : p;
	}
	if (parse_block(ps, p, stop, end) == -1)
		return -1;
	if (stop < end && carry_append(ps, stop, (size_t)(end - stop)) == -1)
		return -1;
	return 0;
}

static void
parser_abort(struct parser *ps)
{
	int	saved = errno;

	free(ps->carry);
	mwi_array_classifier_done(&ps->ac);
	mw_maps_free(ps->m);
	errno = saved;
}

/*
 * For smaps, the figures' array exists from the start, so that
 * m->smaps != NULL tells smaps from maps even without a region.
 */
static int
parser_init(struct parser *ps, pid_t pid, bool classify, bool smaps)
{
	memset(ps, 0, sizeof(*ps));
	ps->sorted = true;
	if ((ps->m = mwi_calloc(1, sizeof(*ps->m))) == NULL)
		return -1;
	ps->m->pid = pid;
	ps->classify = classify;
	ps->smaps = smaps;
	mwi_array_classifier_init(&ps->ac, ps->m);
	if (smaps && next_slot(ps) == NULL) {
		parser_abort(ps);
		return -1;
	}
	return 0;
}

/* The maps, sorted, disjoint, classified if asked; or NULL, errno set. */
static struct mw_maps *
parser_finish(struct parser *ps)
{
	struct mw_maps	*m = ps->m;

	if (!ps->sorted) {
		if (sort_and_resolve(m->regions, m->smaps, &m->nregions) == -1)
			goto fail;
		mwi_maps_count(m);
		if (ps->fn != NULL)
			ps->fn(ps->fn_ctx, NULL);
		for (size_t i = 0; ps->classify && i < m->nregions; i++) {
			mwi_classify_at(&ps->ac, i);
			if (ps->fn != NULL)
				ps->fn(ps->fn_ctx, &m->regions[i]);
		}
	}
	free(ps->carry);
	ps->carry = NULL;
	if (mwi_array_classifier_done(&ps->ac) == -1)
		goto fail;
	return m;
fail:
	parser_abort(ps);
	return NULL;
}

/* Read and parse a maps or smaps file from fd's current offset. */
static struct mw_maps *
read_fd(int fd, pid_t pid, bool classify, bool smaps, mw_region_fn fn,
    void *ctx)
{
	struct parser	ps;

	if (parser_init(&ps, pid, classify, smaps) == -1)
		return NULL;
	ps.fn = fn;
	ps.fn_ctx = ctx;
	if (mwi_read_stream(fd, parser_feed, &ps) == -1) {
		parser_abort(&ps);
		return NULL;
	}
	return parser_finish(&ps);
}

struct mw_maps *
mwi_maps_read_fd(int fd, pid_t pid, bool classify, mw_region_fn fn,
    void *ctx)
{
	return read_fd(fd, pid, classify, false, fn, ctx);
}

/*
 * A buffer in one piece: parsed from a private copy, since names are
 * NUL-terminated in place on their way to the chunks.
 */
static struct mw_maps *
parse_text(const char *buf, size_t len, bool smaps, size_t *errline)
{
	struct parser	 ps;
	char		*text;
	int		 rc;

	if (errline != NULL)
		*errline = 0;
	if ((text = mwi_malloc(len + MWI_SLACK)) == NULL)
		return NULL;
	memcpy(text, buf, len);
	memset(text + len, 0, MWI_SLACK);
	if (parser_init(&ps, 0, false, smaps) == -1) {
		free(text);
		return NULL;
	}
	rc = parser_feed(&ps, text, len, true);
	free(text);
	if (rc == -1) {
		if (errline != NULL)
			*errline = ps.errline;
		parser_abort(&ps);
		return NULL;
	}
	return parser_finish(&ps);
}

struct mw_maps *
mw_maps_parse(const char *buf, size_t len, size_t *errline)
{
	return parse_text(buf, len, false, errline);
}

/* The text of /proc/PID/smaps: its regions, and their figures. */
struct mw_maps *
mw_smaps_parse(const char *buf, size_t len, size_t *errline)
{
	return parse_text(buf, len, true, errline);
}

/* Open /proc/PID/maps or smaps and read it, classified, in one read. */
static struct mw_maps *
read_proc(pid_t pid, bool smaps, mw_region_fn fn, void *ctx)
{
	struct mw_maps	*m;
	int		 fd, saved;

	if (pid < 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = mwi_open_proc(pid, smaps ? "smaps" : "maps")) == -1)
		return NULL;
	m = read_fd(fd, pid == 0 ? getpid() : pid, true, smaps, fn, ctx);
	saved = errno;
	close(fd);
	errno = saved;
	return m;
}

struct mw_maps *
mw_maps_read(pid_t pid)
{
	return read_proc(pid, false, NULL, NULL);
}

struct mw_maps *
mw_maps_read_each(pid_t pid, mw_region_fn fn, void *ctx)
{
	return read_proc(pid, false, fn, ctx);
}

struct mw_maps *
mw_smaps_read(pid_t pid)
{
	return read_proc(pid, true, NULL, NULL);
}

/* mw_smaps_read, fn told of each region as its line is read. */
struct mw_maps *
mwi_smaps_read_each(pid_t pid, mw_region_fn fn, void *ctx)
{
	return read_proc(pid, true, fn, ctx);
}

void
mw_maps_free(struct mw_maps *m)
{
	if (m == NULL)
		return;
	while (m->names != NULL) {
		struct mwi_chunk *next = m->names->next;

		free(m->names);
		m->names = next;
	}
	free(m->smaps);
	free(m->regions);
	free(m);
}

/*
 * A map put together region by region (query.c's image maps): regions
 * appended in address order, disjoint, names copied into the map.
 */
struct mw_maps *
mwi_maps_new(pid_t pid)
{
	struct mw_maps	*m;

	if ((m = mwi_calloc(1, sizeof(*m))) != NULL)
		m->pid = pid;
	return m;
}

int
mwi_maps_append(struct mw_maps *m, const struct mw_region *r, size_t *cap)
{
	struct mw_region	*v, *slot;
	size_t			 ncap;

	if (m->nregions > 0 && r->start < m->regions[m->nregions - 1].end) {
		errno = EINVAL;
		return -1;
	}
	if (m->nregions == *cap) {
		ncap = *cap + *cap / 2 + 16;
		if ((v = mwi_reallocarray(m->regions, ncap, sizeof(*v))) == NULL)
			return -1;
		m->regions = v;
		*cap = ncap;
	}
	slot = &m->regions[m->nregions];
	*slot = *r;
	if (r->name != NULL && (slot->name = keep_name(m, r->name)) == NULL)
		return -1;
	m->nregions++;
	m->totals.bytes[r->kind] += r->end - r->start;
	m->totals.count[r->kind]++;
	return 0;
}

/* Count the totals again, from the regions. */
void
mwi_maps_count(struct mw_maps *m)
{
	memset(&m->totals, 0, sizeof(m->totals));
	for (size_t i = 0; i < m->nregions; i++) {
		m->totals.bytes[m->regions[i].kind] +=
		    m->regions[i].end - m->regions[i].start;
		m->totals.count[m->regions[i].kind]++;
	}
}

void
mw_maps_totals(const struct mw_maps *m, struct mw_kind_totals *t)
{
	*t = m->totals;
}

pid_t
mw_maps_pid(const struct mw_maps *m)
{
	return m->pid;
}

const struct mw_region *
mw_maps_regions(const struct mw_maps *m, size_t *count)
{
	*count = m->nregions;
	return m->regions;
}

/* The index of the first region whose end is above addr (nregions: none). */
size_t
mwi_maps_index(const struct mw_maps *m, uint64_t addr)
{
	size_t	lo = 0, hi = m->nregions;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (m->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mw_region *
mw_maps_find(const struct mw_maps *m, uint64_t addr)
{
	size_t	i = mwi_maps_index(m, addr);

	if (i < m->nregions && m->regions[i].start <= addr)
		return &m->regions[i];
	return NULL;
}

/* Give region i a new kind, moving its bytes in the totals. */
void
mwi_maps_set_kind(struct mw_maps *m, size_t i, enum mw_kind kind)
{
	struct mw_region	*r = &m->regions[i];
	uint64_t		 len = r->end - r->start;

	m->totals.bytes[r->kind] -= len;
	m->totals.count[r->kind]--;
	r->kind = kind;
	m->totals.bytes[kind] += len;
	m->totals.count[kind]++;
}
