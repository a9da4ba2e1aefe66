/*
 * fuzz_maps.c: the maps parser (lib/maps.c) on any text.
 *
 * Each input is read three ways, which must agree:
 *
 *   1. mw_maps_parse(input): NULL with EINVAL (ENOMEM) and errline a
 *      line of the text, or maps that keep fuzz_check_maps, and again
 *      once mw_maps_classify has run (fuzz_check_classified);
 *   2. mw_maps_parse(filler + input), classified the same way;
 *   3. mwi_maps_read_fd on a memfd holding filler + input, classified
 *      as it is parsed (mw_maps_read_each's path), in reads of 2 to
 *      4 KiB (the input's hash decides; shorter ones cost a system
 *      call per few bytes of filler):
 *
 *        filler: one line, an anonymous region of a long name
 *        | filler ........................ | input ........ |
 *        | stream.c's first block: > 56 KiB, ends in the input |
 *
 *      so the input's line at the block's end is carried over to the
 *      next block (maps.c's carry) at a place the input moves. (One
 *      line, not many: parsing 1,400 more lines made the target ten
 *      times slower. Even so 2 and 3 cost most of a run: they are
 *      done for one input in STREAM_EVERY, unless fuzz_thorough.)
 *
 * 2 fails iff 1 does, on the same line (counted after the filler); 3
 * fails iff 2 does, and otherwise has the same regions, names and
 * kinds (but see same_region); its callback was told the final
 * regions, in order, after its last reset (fn(ctx, NULL): a torn text
 * was sorted).
 */
#include "mwi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define FILLER_LEN	(56 * 1024 - 32)
#define FILLER_LINES	1
#define READ_MIN	2048
#define STREAM_EVERY	4

struct told {
	struct mw_region	*v;
	size_t			 n, cap;
	bool			 oom;
};

static char	*filler;
static size_t	 filler_len;
static int	 memfd = -1;

static int
setup(void)
{
	if (filler != NULL)
		return 0;
	if ((memfd = fuzz_memfd("fuzz_maps")) == -1 ||
	    (filler = malloc(FILLER_LEN + 1)) == NULL)
		return -1;
	filler_len = (size_t)snprintf(filler, FILLER_LEN,
	    "00010000-00011000 r--p 00000000 00:00 0 [anon:");
	memset(filler + filler_len, 'f', FILLER_LEN - filler_len - 2);
	memcpy(filler + FILLER_LEN - 2, "]\n", 3);
	filler_len = FILLER_LEN;
	return 0;
}

/* mw_region_fn: keep what the parser tells, from its last reset on. */
static void
tell(void *ctx, const struct mw_region *r)
{
	struct told		*t = ctx;
	struct mw_region	*nv;

	if (r == NULL) {
		t->n = 0;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap * 2 + 64;
		if ((nv = realloc(t->v, t->cap * sizeof(*nv))) == NULL) {
			t->oom = true;
			return;
		}
		t->v = nv;
	}
	t->v[t->n++] = *r;
}

/*
 * The same region, and the same kind unless ELF headers decided either
 * kind: the ELF cache is keyed by (device, inode), so a streamed text
 * that classified an entry which the sort then dropped may have read
 * the headers of a file that the whole text never opens (a fuzzed name
 * of another file's inode; in a real text one inode has one name).
 */
static bool
same_region(const struct mw_region *a, const struct mw_region *b)
{
	bool	by_elf = ((a->flags | b->flags) & MW_REGION_ELF) != 0;

	return a->start == b->start && a->end == b->end &&
	    a->offset == b->offset && a->inode == b->inode &&
	    a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	    a->perms == b->perms && (by_elf || (a->flags == b->flags &&
	    a->kind == b->kind)) && (a->name == NULL) == (b->name == NULL) &&
	    (a->name == NULL || strcmp(a->name, b->name) == 0);
}

static const char *
same_maps(const struct mw_maps *a, const struct mw_maps *b, const char *what)
{
	const struct mw_region	*va, *vb;
	size_t			 na, nb;

	va = mw_maps_regions(a, &na);
	vb = mw_maps_regions(b, &nb);
	if (na != nb)
		return fuzz_why("%s: %zu regions against %zu", what, na, nb);
	for (size_t i = 0; i < na; i++)
		if (!same_region(&va[i], &vb[i]))
			return fuzz_why("%s: region %zu differs", what, i);
	return NULL;
}

/* 1: the input alone. *errline: its bad line, or 0. */
static const char *
parse_alone(const uint8_t *data, size_t size, size_t *errline)
{
	struct mw_maps	*m;
	const char	*why = NULL;
	size_t		 nlines = fuzz_lines(data, size);

	errno = 0;
	*errline = (size_t)-1;
	if ((m = mw_maps_parse((const char *)data, size, errline)) == NULL) {
		if (errno == ENOMEM) {
			*errline = (size_t)-1;	/* unknown */
			return NULL;
		}
		if (errno != EINVAL)
			return fuzz_why("NULL with errno %d", errno);
		if (*errline < 1 || *errline > nlines)
			return fuzz_why("errline %zu of %zu lines", *errline,
			    nlines);
		return NULL;
	}
	if (*errline != 0)
		why = fuzz_why("parsed, with errline %zu", *errline);
	else if ((why = fuzz_check_maps(m, nlines)) == NULL)
		why = fuzz_check_classified(m);
	mw_maps_free(m);
	return why;
}

/* 3 against 2 (m2: NULL when it failed). */
static const char *
streamed(const struct mw_maps *m2, const char *text, size_t len,
    size_t read_max)
{
	struct told	 t = { 0 };
	struct mw_maps	*m3;
	const char	*why = NULL;

	if (fuzz_memfd_set(memfd, text, len) == -1)
		return NULL;	/* no room for the file: nothing to say */
	mwi_faults.read_max = read_max;
	errno = 0;
	m3 = mwi_maps_read_fd(memfd, 0, true, tell, &t);
	mwi_faults.read_max = 0;
	if (m3 == NULL && errno == ENOMEM)
		goto out;
	if ((m2 == NULL) != (m3 == NULL)) {
		why = fuzz_why("streamed in reads of %zu: %s, parsed whole: %s",
		    read_max, m3 == NULL ? "NULL" : "maps",
		    m2 == NULL ? "NULL" : "maps");
		goto out;
	}
	if (m3 == NULL) {
		if (errno != EINVAL)
			why = fuzz_why("streamed: NULL with errno %d", errno);
		goto out;
	}
	if ((why = same_maps(m2, m3, "streamed against whole")) == NULL &&
	    !t.oom) {
		struct mw_maps	told = *m3;

		told.regions = t.v;
		told.nregions = t.n;
		why = same_maps(m3, &told, "callback against the result");
	}
out:
	mw_maps_free(m3);
	free(t.v);
	return why;
}

const char *
fuzz_maps(const uint8_t *data, size_t size)
{
	struct mw_maps	*m2 = NULL;
	const char	*why;
	char		*text;
	size_t		 errline, errline2, len;

	if (setup() == -1)
		return NULL;
	if ((why = parse_alone(data, size, &errline)) != NULL ||
	    (!fuzz_thorough && fuzz_hash(data, size) % STREAM_EVERY != 0))
		return why;
	len = filler_len + size;
	if ((text = malloc(len)) == NULL)
		return NULL;
	memcpy(text, filler, filler_len);
	memcpy(text + filler_len, data, size);
	errno = 0;
	m2 = mw_maps_parse(text, len, &errline2);
	if (m2 == NULL && errno == ENOMEM)
		goto out;
	if (errline != (size_t)-1 && (m2 == NULL) != (errline != 0)) {
		why = fuzz_why("with the filler: %s; alone: %s",
		    m2 == NULL ? "NULL" : "maps", errline ? "NULL" : "maps");
		goto out;
	}
	if (m2 == NULL && errline != (size_t)-1 &&
	    errline2 != errline + FILLER_LINES) {
		why = fuzz_why("with the filler: errline %zu, alone %zu",
		    errline2, errline);
		goto out;
	}
	if (m2 != NULL && ((why = fuzz_check_maps(m2, FILLER_LINES +
	    fuzz_lines(data, size))) != NULL ||
	    (why = fuzz_check_classified(m2)) != NULL))
		goto out;
	why = streamed(m2, text, len, READ_MIN + (fuzz_hash(data, size) >> 8) %
	    (READ_MIN + 1));
out:
	mw_maps_free(m2);
	free(text);
	return why;
}
