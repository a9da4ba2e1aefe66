/*
 * proc.c: struct mw_proc, a process looked at closely.
 *
 * The map is read once (maps, or smaps for the figures); then passes
 * that read the target's memory refine the kinds of some regions and
 * label them, each pass leaving alone what an earlier one claimed:
 *
 *   maps.c / smaps    regions[i], kinds by name and ELF headers
 *   threads.c         thread-stack (and the guard below), [stack]: tid
 *   mwarena.c         memwalk-arena: the arenas of mw_malloc
 *   glibc.c           glibc-arena heaps and reserves, [heap]: arena 0,
 *                     malloc-mmap chunks
 *   python.c          pymalloc-arena; the small-int cache, the version
 *
 *   struct mw_proc
 *     maps ------> regions[0 .. n)      kinds final once open returns
 *     labels ----> labels[0 .. n)       parallel to regions
 *     threads      main thread first
 *     syms         ELF sections and symbols, loaded on demand
 *     python       valid when is_python
 *
 * Invariants: labels has exactly one entry per region; arena and heap
 * are -1 where no pass set them. A pass that cannot read the target's
 * memory (EPERM, EFAULT) leaves its regions as the map classified them:
 * only a target that is gone, or memory running out, fails the open.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mw_proc {
	pid_t			 pid;
	unsigned int		 flags;
	struct mw_maps		*maps;
	struct mw_label		*labels;
	struct mwi_threads	 threads;
	struct mwi_glibc	 glibc;
	struct mwi_mwalloc	 mwalloc;
	struct mwi_symcache	*syms;
	bool			 is_python;
	struct mw_python	 python;
};

/* Only a lost target or lost memory makes a pass fatal. */
static bool
fatal(int err)
{
	return err == ESRCH || err == ENOMEM;
}

static struct mw_label *
new_labels(size_t n)
{
	struct mw_label	*labels;

	if ((labels = mwi_calloc(n > 0 ? n : 1, sizeof(*labels))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		labels[i].arena = labels[i].heap = -1;
	return labels;
}

static int
run_passes(struct mw_proc *p)
{
	int	rc;

	if (mwi_threads_read(p->pid, p->maps, p->flags, &p->threads) == -1 &&
	    fatal(errno))
		return -1;
	mwi_threads_label(&p->threads, p->maps, p->labels);
	if (mwi_mwalloc_label(p->pid, p->maps, p->labels, &p->mwalloc) == -1 &&
	    fatal(errno))
		return -1;
	if (mwi_glibc_label(p->pid, p->maps, p->labels, &p->glibc) == -1 &&
	    fatal(errno))
		return -1;
	rc = mwi_python_read(p->pid, p->maps, p->syms, p->labels, &p->python);
	if (rc == -1 && fatal(errno))
		return -1;
	p->is_python = rc == 1;
	return 0;
}

/*
 * A struct mw_proc over maps m, which it owns from now on (freed on
 * failure too): the whole map (mw_proc_open), or the regions of one
 * image (where.c), which the passes see as all there is.
 */
struct mw_proc *
mwi_proc_from_maps(pid_t pid, unsigned int flags, struct mw_maps *m)
{
	struct mw_proc	*p;
	int		 saved;

	if ((p = mwi_calloc(1, sizeof(*p))) == NULL) {
		saved = errno;
		mw_maps_free(m);
		errno = saved;
		return NULL;
	}
	p->pid = pid;
	p->flags = flags;
	p->maps = m;
	if ((p->syms = mwi_symcache_new(pid)) == NULL ||
	    (p->labels = new_labels(m->nregions)) == NULL ||
	    run_passes(p) == -1) {
		saved = errno;
		mw_proc_close(p);
		errno = saved;
		return NULL;
	}
	return p;
}

struct mw_proc *
mw_proc_open_each(pid_t pid, unsigned int flags, mw_region_fn fn, void *ctx)
{
	struct mw_maps	*m;

	if ((flags & ~(MW_PROC_SMAPS | MW_PROC_STOP)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if (flags & MW_PROC_SMAPS)
		m = mwi_smaps_read_each(pid, fn, ctx);
	else
		m = fn != NULL ? mw_maps_read_each(pid, fn, ctx) :
		    mw_maps_read(pid);
	if (m == NULL)
		return NULL;
	return mwi_proc_from_maps(pid, flags, m);
}

struct mw_proc *
mw_proc_open(pid_t pid, unsigned int flags)
{
	return mw_proc_open_each(pid, flags, NULL, NULL);
}

const struct mw_maps *
mw_proc_maps(const struct mw_proc *p)
{
	return p->maps;
}

const struct mw_label *
mw_proc_label(const struct mw_proc *p, const struct mw_region *r)
{
	const struct mw_region	*v = p->maps->regions;

	if (r < v || r >= v + p->maps->nregions)
		return NULL;
	return &p->labels[r - v];
}

const struct mw_thread *
mw_proc_threads(const struct mw_proc *p, size_t *count)
{
	*count = p->threads.n;
	return p->threads.v;
}

const struct mw_thread *
mw_proc_thread(const struct mw_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->threads.n; i++)
		if (p->threads.v[i].tid == tid)
			return &p->threads.v[i];
	return NULL;
}

const struct mw_alloc_arena *
mw_proc_alloc_arenas(const struct mw_proc *p, size_t *count)
{
	*count = p->mwalloc.n;
	return p->mwalloc.v;
}

int
mw_proc_alloc_stats(const struct mw_proc *p, struct mw_alloc_stats *stats)
{
	*stats = p->mwalloc.stats;
	return p->mwalloc.n > 0;
}

const struct mw_python *
mw_proc_python(const struct mw_proc *p)
{
	return p->is_python ? &p->python : NULL;
}

/* A glibc chunk of its own mapping, found by its header. */
static int
chunk_object(pid_t pid, const struct mw_region *r, uint64_t addr,
    struct mw_object *obj)
{
	uint64_t	start, size;
	int		rc;

	if (r->kind != MW_KIND_MALLOC_MMAP)
		return 0;
	if ((rc = mwi_glibc_chunk_at(pid, r, addr, &start, &size)) != 1)
		return rc;
	obj->type = MW_OBJECT_MALLOC_CHUNK;
	obj->start = start;
	obj->size = size;
	return 1;
}

static int
find_object(struct mw_proc *p, const struct mw_region *r, uint64_t addr,
    struct mw_answer *a)
{
	if (p->is_python) {
		int rc = mwi_python_object(p->pid, &p->python, p->maps,
		    p->labels, addr, &a->object);

		if (rc != 0)
			return rc;
	}
	if (r->kind == MW_KIND_MEMWALK_ARENA)
		return mwi_mwalloc_object(p->pid, addr, &a->object);
	return chunk_object(p->pid, r, addr, &a->object);
}

int
mw_proc_where(struct mw_proc *p, uint64_t addr, struct mw_answer *a)
{
	const struct mw_region	*r;
	struct mwi_symbol	 sym;

	memset(a, 0, sizeof(*a));
	a->addr = addr;
	a->label.arena = a->label.heap = -1;
	if ((r = mw_maps_find(p->maps, addr)) == NULL) {
		a->region.kind = MW_KIND_UNMAPPED;
		return 0;
	}
	a->region = *r;
	a->label = p->labels[r - p->maps->regions];
	switch (mwi_sym_at(p->syms, p->maps, addr, &sym)) {
	case 1:
		a->section = sym.section;
		a->symbol = sym.name;
		a->symbol_offset = sym.offset;
		break;
	case -1:
		return -1;
	}
	if (find_object(p, r, addr, a) == -1 && fatal(errno))
		return -1;
	return 1;
}

void
mw_proc_close(struct mw_proc *p)
{
	if (p == NULL)
		return;
	mwi_threads_free(&p->threads);
	mwi_mwalloc_free(&p->mwalloc);
	mwi_symcache_free(p->syms);
	mw_maps_free(p->maps);
	free(p->labels);
	free(p);
}
