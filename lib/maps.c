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
 * struct mw_maps owns one buffer, the text itself: each line's name is
 * NUL-terminated and unescaped in place, and regions point into it.
 *
 * Invariants after mwi_maps_from_text:
 *   regions[i].start < regions[i].end <= regions[i+1].start;
 *   no two regions overlap: of entries that a torn read (the kernel
 *   drops its lock between read() calls) left overlapping, the one read
 *   later wins, being the newer view.
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
 * 1 to 16 hex digits; returns the first byte after them, or NULL.
 * Needs no end pointer: every line ends in '\n' or the buffer's NUL,
 * which are no digits.
 */
static const char *
parse_hex(const char *p, uint64_t *out)
{
	const char	*first = p;
	uint64_t	 v = 0;
	unsigned int	 d;

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
 * Parse one line [p, eol) into *r. *eol is '\n' or the buffer's final
 * NUL, which stops every digit scan; the name is NUL-terminated there.
 */
static bool
parse_line(char *p, char *eol, struct mw_region *r)
{
	const char	*q;
	uint64_t	 major, minor;

	memset(r, 0, sizeof(*r));
	q = parse_hex(p, &r->start);
	q = expect(q, eol, '-');
	if (q != NULL)
		q = parse_hex(q, &r->end);
	q = expect(q, eol, ' ');
	if (q != NULL)
		q = parse_perms(q, eol, &r->perms);
	q = expect(q, eol, ' ');
	if (q != NULL)
		q = parse_hex(q, &r->offset);
	q = expect(q, eol, ' ');
	if (q != NULL)
		q = parse_hex(q, &major);
	q = expect(q, eol, ':');
	if (q != NULL)
		q = parse_hex(q, &minor);
	q = expect(q, eol, ' ');
	if (q != NULL)
		q = parse_dec(q, &r->inode);
	if (q == NULL || r->start >= r->end || major > 0xfff ||
	    minor > 0xfffff)
		return false;
	if (q < eol && *q != ' ')
		return false;
	while (q < eol && *q == ' ')
		q++;
	r->dev_major = (unsigned int)major;
	r->dev_minor = (unsigned int)minor;
	if (q == eol)
		return true;
	if (memchr(q, '\0', (size_t)(eol - q)) != NULL)
		return false;
	*eol = '\0';
	r->name = q;
	unescape_name((char *)q);
	if (mwi_name_is_deleted(r->name))
		r->flags |= MW_REGION_DELETED;
	return true;
}

static size_t
count_lines(const char *p, const char *end)
{
	size_t	n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n + 1;
}

static bool
is_sorted_disjoint(const struct mw_region *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i].start < v[i - 1].end)
			return false;
	return true;
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
 * Sort by start and resolve overlaps left by a torn read: of two
 * overlapping entries, keep the one read later (higher line number).
 * Only called when the kernel's order was broken, which is rare.
 */
static int
sort_and_resolve(struct mw_region *v, size_t *np)
{
	size_t		 n = *np, *idx, *keep, nkeep = 0;
	struct mw_region *copy;

	idx = mwi_reallocarray(NULL, n, sizeof(*idx));
	copy = mwi_reallocarray(NULL, n, sizeof(*copy));
	if (idx == NULL || copy == NULL) {
		free(idx);
		free(copy);
		return -1;
	}
	keep = idx;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_by_start_then_line, v);
	for (size_t i = 0; i < n; i++) {
		size_t	cur = idx[i];

		if (nkeep > 0 && v[cur].start < v[keep[nkeep - 1]].end) {
			if (cur > keep[nkeep - 1])
				keep[nkeep - 1] = cur;
			continue;
		}
		keep[nkeep++] = cur;
	}
	for (size_t i = 0; i < nkeep; i++)
		copy[i] = v[keep[i]];
	memcpy(v, copy, nkeep * sizeof(*v));
	free(copy);
	free(idx);
	*np = nkeep;
	return 0;
}

/*
 * Build a struct mw_maps that takes ownership of text (len bytes, and
 * text[len] == '\0'). On a malformed line: NULL, EINVAL, *errline set.
 */
struct mw_maps *
mwi_maps_from_text(char *text, size_t len, pid_t pid, size_t *errline)
{
	struct mw_maps	*m;
	char		*p = text, *end = text + len, *eol;
	size_t		 line = 0;

	if ((m = mwi_calloc(1, sizeof(*m))) == NULL)
		goto fail_text;
	m->pid = pid;
	m->text = text;
	m->regions = mwi_reallocarray(NULL, count_lines(text, end),
	    sizeof(*m->regions));
	if (m->regions == NULL)
		goto fail;
	while (p < end) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (!parse_line(p, eol, &m->regions[m->nregions])) {
			if (errline != NULL)
				*errline = line;
			errno = EINVAL;
			goto fail;
		}
		m->nregions++;
		p = eol + 1;
	}
	if (!is_sorted_disjoint(m->regions, m->nregions) &&
	    sort_and_resolve(m->regions, &m->nregions) == -1)
		goto fail;
	return m;
fail:
	mw_maps_free(m);
	return NULL;
fail_text:
	free(text);
	return NULL;
}

struct mw_maps *
mw_maps_parse(const char *buf, size_t len, size_t *errline)
{
	char	*text;

	if (errline != NULL)
		*errline = 0;
	if ((text = mwi_malloc(len + 1)) == NULL)
		return NULL;
	memcpy(text, buf, len);
	text[len] = '\0';
	return mwi_maps_from_text(text, len, 0, errline);
}

struct mw_maps *
mw_maps_read(pid_t pid)
{
	struct mw_maps	*m;
	char		*text;
	size_t		 len;
	int		 fd, saved;

	if (pid < 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = mwi_open_proc(pid, "maps")) == -1)
		return NULL;
	if (mwi_read_all(fd, &text, &len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	close(fd);
	m = mwi_maps_from_text(text, len, pid == 0 ? getpid() : pid, NULL);
	if (m != NULL && mw_maps_classify(m) == -1) {
		saved = errno;
		mw_maps_free(m);
		errno = saved;
		return NULL;
	}
	return m;
}

void
mw_maps_free(struct mw_maps *m)
{
	if (m == NULL)
		return;
	free(m->regions);
	free(m->text);
	free(m);
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

const struct mw_region *
mw_maps_find(const struct mw_maps *m, uint64_t addr)
{
	size_t	lo = 0, hi = m->nregions;

	/* The first region whose end is above addr. */
	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (m->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nregions && m->regions[lo].start <= addr)
		return &m->regions[lo];
	return NULL;
}
