/*
 * query.c: one address -> its region, without reading the whole map.
 *
 *   struct mw_query (mwi.h, so that probe.c can hold one in static memory)
 *     fd ------> /proc/PID/maps, held open (permission is checked once,
 *                at open, as the kernel does for PROCMAP_QUERY)
 *     name[]     the answer's name         (valid until the next call)
 *     scratch[]  names of regions the classifier looks up on the side
 *     image_name[]  names of the regions of an image (mwi_query_image)
 *     snap       parsed text, for the fallback path and the gate area
 *     cls        ELF cache, kept for the life of the handle
 *
 * Path 1, PROCMAP_QUERY (Linux 6.11+): one ioctl for the region, plus at
 * most a few more when the classifier needs a neighbour (bss) or the
 * object's first mapping (an ambiguous file offset). The vsyscall page
 * is no VMA (the kernel appends it to the text as a "gate area"), so an
 * address with no VMA at or above it is answered from the text.
 *
 * Path 2, text: on ENOTTY (older kernels) or MW_QUERY_TEXT, the maps are
 * parsed and classified once and kept; a miss re-reads them once, so a
 * region mapped since is found. The classification is the same
 * function on both paths (classify.c).
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
ioctl_lookup(void *ctx, uint64_t addr, struct mw_region *out)
{
	struct mw_query	*q = ctx;

	return mwi_procmap_query(q->fd, addr, 0, out, q->scratch,
	    sizeof(q->scratch));
}

static bool
query_args_ok(pid_t pid, unsigned int flags)
{
	if (pid >= 0 && (flags & ~MW_QUERY_TEXT) == 0)
		return true;
	errno = EINVAL;
	return false;
}

/*
 * A handle in the caller's storage: probe.c keeps its own in static
 * memory, so that no probe allocates. 0, or -1 with errno (q is then
 * left with nothing to release).
 */
int
mwi_query_init(struct mw_query *q, pid_t pid, unsigned int flags)
{
	if (!query_args_ok(pid, flags))
		return -1;
	memset(q, 0, sizeof(*q));
	q->pid = pid == 0 ? getpid() : pid;
	q->text_mode = (flags & MW_QUERY_TEXT) != 0;
	q->cls.pid = q->pid;
	q->cls.lookup = ioctl_lookup;
	q->cls.ctx = q;
	if ((q->fd = mwi_open_proc(pid, "maps")) == -1)
		return -1;
	return 0;
}

/* Release what an initialised handle holds, but not the handle. */
void
mwi_query_fini(struct mw_query *q)
{
	close(q->fd);
	q->fd = -1;
	mw_maps_free(q->snap);
	q->snap = NULL;
	mwi_elf_cache_free(&q->cls.elves);
}

struct mw_query *
mw_query_open(pid_t pid, unsigned int flags)
{
	struct mw_query	*q;
	int		 saved;

	if (!query_args_ok(pid, flags) ||
	    (q = mwi_calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if (mwi_query_init(q, pid, flags) == -1) {
		saved = errno;
		free(q);
		errno = saved;
		return NULL;
	}
	return q;
}

void
mw_query_close(struct mw_query *q)
{
	if (q == NULL)
		return;
	mwi_query_fini(q);
	free(q);
}

pid_t
mwi_query_pid(const struct mw_query *q)
{
	return q->pid;
}

int
mw_query_uses_ioctl(const struct mw_query *q)
{
	return !q->text_mode;
}

/*
 * After execve the held descriptor still names the old address space,
 * and every query fails with ESRCH: open the maps again, once, and go on
 * with the process's new image.
 */
static int
reopen_after_exec(struct mw_query *q)
{
	int	fd;

	if ((fd = mwi_open_proc(q->pid, "maps")) == -1)
		return -1;
	close(q->fd);
	q->fd = fd;
	mw_maps_free(q->snap);
	q->snap = NULL;
	return 0;
}

/*
 * Re-read the text through the held descriptor, parse and classify; an
 * empty text may mean an exec since the open (see above): reopen once.
 */
static int
load_snapshot(struct mw_query *q, bool retried)
{
	struct mw_maps	*m;

	if (lseek(q->fd, 0, SEEK_SET) == -1 ||
	    (m = mwi_maps_read_fd(q->fd, q->pid, true, NULL, NULL)) == NULL)
		return -1;
	if (m->nregions == 0 && !retried && reopen_after_exec(q) == 0) {
		mw_maps_free(m);
		return load_snapshot(q, true);
	}
	if (m->nregions == 0) {
		mw_maps_free(m);
		errno = ESRCH;	/* exited, or never had user memory */
		return -1;
	}
	mw_maps_free(q->snap);
	q->snap = m;
	return 0;
}

static int
text_lookup(struct mw_query *q, uint64_t addr, struct mw_region *out,
    bool reload_on_miss)
{
	const struct mw_region	*r;
	bool			 fresh = false;

	if (q->snap == NULL) {
		if (load_snapshot(q, false) == -1)
			return -1;
		fresh = true;
	}
	r = mw_maps_find(q->snap, addr);
	if (r == NULL && reload_on_miss && !fresh) {
		if (load_snapshot(q, false) == -1)
			return -1;
		r = mw_maps_find(q->snap, addr);
	}
	if (r == NULL)
		return 0;
	*out = *r;
	return 1;
}

/*
 * One lookup through the ioctl. Either of its two calls can meet an exec
 * that happened since the open (ESRCH): the caller reopens and asks again.
 */
static int
ioctl_lookup_addr(struct mw_query *q, uint64_t addr, struct mw_region *out)
{
	struct mw_region	next;
	int			r;

	r = mwi_procmap_query(q->fd, addr, 0, out, q->name, sizeof(q->name));
	if (r == 1) {
		mwi_classify(&q->cls, out);
		if (q->cls.elves.oom) {
			q->cls.elves.oom = false;
			errno = ENOMEM;
			return -1;
		}
		return 1;
	}
	if (r == -1)
		return -1;
	r = mwi_procmap_query(q->fd, addr, PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
	    &next, q->scratch, sizeof(q->scratch));
	if (r != 0)
		return r == 1 ? 0 : -1;
	return text_lookup(q, addr, out, false);
}

int
mw_query_addr(struct mw_query *q, uint64_t addr, struct mw_region *out)
{
	int	r;

	if (q->text_mode)
		return text_lookup(q, addr, out, true);
	r = ioctl_lookup_addr(q, addr, out);
	if (r == -1 && errno == ESRCH && reopen_after_exec(q) == 0)
		r = ioctl_lookup_addr(q, addr, out);
	if (r == -1 && errno == ENOTTY) {
		q->text_mode = true;
		return text_lookup(q, addr, out, true);
	}
	return r;
}

/*
 * ---- The image around a file region (where.c) ---------------------------
 *
 * The regions of the loaded ELF image that r is a segment of (or, for
 * r a .bss tail, the image of the mapping right below it), from the
 * image's first page to the region holding its last, each classified
 * as mw_query_addr classifies: what the section, symbol and small-int
 * answers read, in a few ioctls whatever the size of the map. 1 (*out
 * set, to free), 0 (r is no part of a loaded image, or a .bss tail
 * that merged with MWI_DEEP_MIN or more of anonymous memory above the
 * image: the arenas or chunks there are a deep pass's, whose answers
 * may need other regions; the text path: there is no ioctl), -1 (errno).
 */
#define IMAGE_MAX_REGIONS	1024	/* more: not an image, read it all */

static int
image_range(struct mw_query *q, const struct mw_region *r, uint64_t *lo,
    uint64_t *hi)
{
	struct mw_region	f = *r;
	int			rc;

	if (r->inode == 0) {
		if (r->kind != MW_KIND_BSS || r->start == 0)
			return 0;
		rc = mwi_procmap_query(q->fd, r->start - 1, 0, &f,
		    q->image_name, sizeof(q->image_name));
		if (rc != 1)
			return rc;
	}
	rc = mwi_image_bounds(&q->cls, &f, lo, hi) ? 1 : 0;
	if (q->cls.elves.oom) {
		q->cls.elves.oom = false;
		errno = ENOMEM;
		return -1;
	}
	return rc;
}

int
mwi_query_image(struct mw_query *q, const struct mw_region *r,
    struct mw_maps **out)
{
	struct mw_maps		*m;
	struct mw_region	 reg;
	uint64_t		 lo, hi;
	size_t			 cap = 0;
	int			 rc;

	if (q->text_mode)
		return 0;
	if ((rc = image_range(q, r, &lo, &hi)) != 1)
		return rc;
	if (r->inode == 0 && r->end > hi && r->end - hi >= MWI_DEEP_MIN)
		return 0;
	if ((m = mwi_maps_new(q->pid)) == NULL)
		return -1;
	for (uint64_t addr = lo; addr < hi; addr = reg.end) {
		rc = mwi_procmap_query(q->fd, addr,
		    PROCMAP_QUERY_COVERING_OR_NEXT_VMA, &reg, q->image_name,
		    sizeof(q->image_name));
		if (rc != 1 || reg.start >= hi)
			break;
		if (m->nregions == IMAGE_MAX_REGIONS) {
			rc = 0;
			break;
		}
		mwi_classify(&q->cls, &reg);
		if (q->cls.elves.oom) {
			q->cls.elves.oom = false;
			errno = ENOMEM;
			rc = -1;
		} else if (mwi_maps_append(m, &reg, &cap) == -1)
			rc = -1;
		if (rc == -1)
			break;
	}
	if (rc == -1 || m->nregions == IMAGE_MAX_REGIONS ||
	    mw_maps_find(m, r->start) == NULL) {
		mw_maps_free(m);
		return rc == -1 ? -1 : 0;
	}
	*out = m;
	return 1;
}
