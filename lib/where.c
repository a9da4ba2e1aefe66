/*
 * where.c: mw_proc_open_region, a struct mw_proc that knows one region
 * as well as one over the whole map would, without the whole map when
 * it cannot matter.
 *
 * An address's region comes from PROCMAP_QUERY (query.c) in well under
 * a millisecond; the passes of proc.c (threads, glibc, python) run over
 * a map, and the whole map costs a read of it: 30 ms at 60,000
 * mappings. So the region r decides what the passes are given:
 *
 *   r file-backed, or a .bss tail   the image it belongs to (query.c,
 *                                   a few ioctls): sections, symbols,
 *                                   small ints in the data
 *   r a .bss tail that merged with  the whole map: pymalloc arenas there
 *   MWI_DEEP_MIN or more above its  hold 3.9's and 3.10's small ints,
 *   image                           found from the interpreter (heap)
 *   r anonymous, and some pass      the whole map (mw_proc_open)
 *   could claim or label it
 *   r anonymous, and none could,    r alone
 *   or a file in no loaded image
 *
 * The passes take the map they are given for the whole process. Given
 * r alone they still read the tasks' stack pointers (a thread's stack
 * that holds its SP is found), a chunk header at r's start, and so on;
 * what they cannot do without other regions is what sends an anonymous
 * r to the whole map:
 *
 *   r has a name                  [heap] is arena 0 by main_arena, in
 *                                 libc's data; [stack], [anon:...]
 *   r is ---p                     a guard's label is its stack's, above;
 *                                 a reserve's, its heap's, below
 *   r >= MWI_DEEP_MIN             pymalloc arenas need the interpreter,
 *                                 found by the symbols of other objects
 *   r holds a MWI_HEAP_MAX        a glibc heap: its arena's number needs
 *   boundary, or starts at one    the ring and the other heaps
 *   r is rw-p right above ---p    a TCB at its top (threads.c), taken
 *                                 only above a guard
 *
 * which mirrors each pass's own rule for the regions it reads (glibc.c
 * collect_probes, python.c arena_candidate, threads.c is_candidate); a
 * pass that reads more must be added here. tests/cli.py checks that
 * every region of live targets is answered the same as from the whole
 * map (--no-procmap-query).
 *
 * Invariant: for every address in r, mw_proc_where on the struct
 * mw_proc returned answers what it would on mw_proc_open's; for other
 * addresses it may say unmapped.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>

/* Does a MWI_HEAP_MAX boundary fall in [start, end)? */
static bool
holds_heap_boundary(const struct mw_region *r)
{
	return ((r->end - 1) & ~(MWI_HEAP_MAX - 1)) >= r->start;
}

/* rw-p with a ---p region ending where r starts: 1, 0, -1. */
static int
above_guard(struct mw_query *q, const struct mw_region *r)
{
	struct mw_region	below;
	int			rc;

	if (r->perms != (MW_PERM_READ | MW_PERM_WRITE) || r->start == 0)
		return 0;
	if ((rc = mw_query_addr(q, r->start - 1, &below)) != 1)
		return rc;
	return below.end == r->start && below.perms == 0;
}

/* Could a pass claim or label r? 1, 0, -1. */
static int
needs_all(struct mw_query *q, const struct mw_region *r)
{
	if (r->name != NULL || (r->perms & ~MW_PERM_SHARED) == 0 ||
	    r->end - r->start >= MWI_DEEP_MIN || holds_heap_boundary(r))
		return 1;
	return above_guard(q, r);
}

/* A map of r alone. */
static struct mw_maps *
map_of(pid_t pid, const struct mw_region *r)
{
	struct mw_maps	*m;
	size_t		 cap = 0;

	if ((m = mwi_maps_new(pid)) == NULL)
		return NULL;
	if (mwi_maps_append(m, r, &cap) == -1) {
		mw_maps_free(m);
		return NULL;
	}
	return m;
}

struct mw_proc *
mw_proc_open_region(struct mw_query *q, const struct mw_region *r,
    unsigned int flags)
{
	pid_t		 pid = mwi_query_pid(q);
	struct mw_maps	*m = NULL;
	int		 rc;

	if ((flags & ~(MW_PROC_SMAPS | MW_PROC_STOP)) != 0 ||
	    r->start >= r->end) {
		errno = EINVAL;
		return NULL;
	}
	if ((flags & MW_PROC_SMAPS) || !mw_query_uses_ioctl(q))
		return mw_proc_open(pid, flags);	/* read whole anyway */
	if ((r->inode != 0 || r->kind == MW_KIND_BSS) &&
	    mwi_query_image(q, r, &m) == -1)
		return NULL;
	if (m == NULL && r->inode == 0 && (rc = needs_all(q, r)) != 0)
		return rc == 1 ? mw_proc_open(pid, flags) : NULL;
	if (m == NULL && (m = map_of(pid, r)) == NULL)
		return NULL;
	return mwi_proc_from_maps(pid, flags, m);
}
