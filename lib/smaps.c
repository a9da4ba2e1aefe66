/*
 * smaps.c: the figures of /proc/PID/smaps and smaps_rollup, in bytes.
 *
 * maps.c reads and parses smaps (mw_smaps_read, mw_smaps_parse) with the
 * maps parser, so the regions are exactly those mw_maps_read gives; the
 * figures land in an array parallel to the regions:
 *
 *   struct mw_maps
 *     regions -> [ r0 | r1 | r2 | ... ]     sorted, disjoint
 *     smaps   -> [ s0 | s1 | s2 | ... ]     s[i]: figures of regions[i]
 *                                           NULL when read from maps
 *
 * smaps_rollup is the same text with one pseudo-region, the whole
 * address space, and the sums of the figures (Linux 4.14+):
 *
 *   55d0c1a00000-7ffd6ca11000 ---p 00000000 00:00 0      [rollup]
 *   Rss:                1760 kB
 *   Pss_Anon:            112 kB        (keys smaps lacks are skipped)
 *
 * so it goes through mw_smaps_parse too, and must give one region.
 *
 * Invariants: every figure is a whole number of KiB (the kernel prints
 * kB); mw_maps_smaps answers only for regions of the maps it is given.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

_Static_assert(sizeof(struct mw_smaps) == 14 * sizeof(uint64_t),
    "mw_smaps_add adds every field of struct mw_smaps");

/*
 * The figures of a region of m: region points into m's regions, or is a
 * copy of one of them (as struct mw_answer holds), told by its bounds.
 */
const struct mw_smaps *
mw_maps_smaps(const struct mw_maps *m, const struct mw_region *region)
{
	uintptr_t	 p = (uintptr_t)region, v = (uintptr_t)m->regions;
	size_t		 i;

	if (m->smaps == NULL || region == NULL || m->nregions == 0)
		return NULL;
	if (p >= v && p < v + m->nregions * sizeof(*region) &&
	    (p - v) % sizeof(*region) == 0)
		return &m->smaps[(p - v) / sizeof(*region)];
	i = mwi_maps_index(m, region->start);
	if (i < m->nregions && m->regions[i].start == region->start &&
	    m->regions[i].end == region->end)
		return &m->smaps[i];
	return NULL;
}

void
mw_smaps_add(struct mw_smaps *sum, const struct mw_smaps *s)
{
	sum->rss += s->rss;
	sum->pss += s->pss;
	sum->pss_dirty += s->pss_dirty;
	sum->shared_clean += s->shared_clean;
	sum->shared_dirty += s->shared_dirty;
	sum->private_clean += s->private_clean;
	sum->private_dirty += s->private_dirty;
	sum->referenced += s->referenced;
	sum->anonymous += s->anonymous;
	sum->lazyfree += s->lazyfree;
	sum->anon_huge += s->anon_huge;
	sum->swap += s->swap;
	sum->swap_pss += s->swap_pss;
	sum->locked += s->locked;
}

#define ROLLUP_FIRST	4096		/* the text is about 1 KiB */
#define ROLLUP_MAX	(1024 * 1024)	/* more is not a rollup */

/*
 * All of fd into a buffer of ours, *lenp bytes. A loop, not one read:
 * the kernel makes the whole text at the first read(), and hands it out
 * to reads as short as the caller asks (the fault hooks ask for short
 * ones too).
 */
static char *
read_all(int fd, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (cap - len < 512) {
			cap = cap == 0 ? ROLLUP_FIRST : cap * 2;
			if (cap > ROLLUP_MAX) {
				errno = EFBIG;
				break;
			}
			if ((nb = mwi_reallocarray(buf, cap, 1)) == NULL)
				break;
			buf = nb;
		}
		if ((r = mwi_read_some(fd, buf + len, cap - len)) == 0) {
			*lenp = len;
			return buf;
		}
		if (r > 0)
			len += (size_t)r;
		else if (errno != EINTR)
			break;
	}
	free(buf);
	return NULL;
}

/* The figures of a rollup text, which must hold exactly one region. */
static int
parse_rollup(const char *text, size_t len, struct mw_smaps *out)
{
	struct mw_maps	*m;
	int		 rc = -1;

	if ((m = mw_smaps_parse(text, len, NULL)) == NULL)
		return -1;
	if (m->nregions == 1) {
		*out = m->smaps[0];
		rc = 0;
	} else
		errno = EINVAL;
	mw_maps_free(m);
	return rc;
}

int
mw_smaps_rollup(pid_t pid, struct mw_smaps *out)
{
	char	*text;
	size_t	 len;
	int	 fd, rc, saved;

	if (pid < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = mwi_open_proc(pid, "smaps_rollup")) == -1)
		return -1;
	text = read_all(fd, &len);
	saved = errno;
	close(fd);
	if (text == NULL) {
		errno = saved;
		return -1;
	}
	if (len == 0) {		/* a kernel thread: no memory to sum */
		free(text);
		errno = ESRCH;
		return -1;
	}
	rc = parse_rollup(text, len, out);
	saved = errno;
	free(text);
	errno = saved;
	return rc;
}
