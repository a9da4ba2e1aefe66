/*
 * classify.c: one kind for each region.
 *
 * Decision order (the first rule that fits wins):
 *
 *   no r, w or x (---p, ---s)            guard
 *   no name, rw-p, right after an ELF    bss   (inside a writable PT_LOAD)
 *   no name                              anon
 *   [heap] [stack] [vdso] [vvar] [vvar_vclock] [vsyscall]   by name
 *   [anon_shmem:NAME], /memfd:, /SYSV, /dev/shm/, shared /dev/zero: shmem
 *   [anon:NAME], [uprobes], any other [...]: anon
 *   a file whose PT_LOAD covers it       text / rodata / data
 *   any other file                       file
 *
 * ELF segments decide text/rodata/data, not permissions: a mapping is
 * placed by its file offset in a PT_LOAD, then its kind comes from the
 * segment's flags (X text, W data, else rodata), and must agree with
 * the mapping's permissions (RELRO, the read-only part of a writable
 * segment, stays data). When two segments share the mapping's file page,
 * the load bias each would imply is checked against the object's first
 * mapping, found through the owner's lookup callback: the array in
 * mw_maps_classify, PROCMAP_QUERY in query.c. So one function answers
 * both paths, and both give the same answer.
 */
#include "mwi.h"

#include <errno.h>
#include <gelf.h>
#include <string.h>

#define PERMS_RWX	(MW_PERM_READ | MW_PERM_WRITE | MW_PERM_EXEC)

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The kind a name alone decides, or -1 when the file must be read. */
static int
kind_by_name(const char *name, unsigned int perms)
{
	static const struct {
		const char	*name;
		enum mw_kind	 kind;
	} special[] = {
		{ "[heap]", MW_KIND_HEAP },
		{ "[stack]", MW_KIND_STACK },
		{ "[vdso]", MW_KIND_VDSO },
		{ "[vvar]", MW_KIND_VVAR },
		{ "[vvar_vclock]", MW_KIND_VVAR },
		{ "[vsyscall]", MW_KIND_VSYSCALL },
	};

	if (name[0] == '[') {
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
			if (strcmp(name, special[i].name) == 0)
				return special[i].kind;
		if (has_prefix(name, "[anon_shmem:"))
			return MW_KIND_SHMEM;
		return MW_KIND_ANON;
	}
	if (has_prefix(name, "/memfd:") || has_prefix(name, "/SYSV") ||
	    has_prefix(name, "/dev/shm/"))
		return MW_KIND_SHMEM;
	if ((perms & MW_PERM_SHARED) && strcmp(name, "/dev/zero (deleted)") == 0)
		return MW_KIND_SHMEM;
	return -1;
}

static bool
same_file(const struct mw_region *a, const struct mw_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	    a->dev_minor == b->dev_minor;
}

static bool
load_covers_offset(const struct mwi_load *l, uint64_t off, uint64_t pg)
{
	return l->filesz > 0 && mwi_pagedown(l->offset, pg) <= off &&
	    off < mwi_pageup(l->offset + l->filesz, pg);
}

/* The load bias implied if region r maps segment l. */
static uint64_t
implied_bias(const struct mwi_load *l, const struct mw_region *r, uint64_t pg)
{
	return r->start - (mwi_pagedown(l->vaddr, pg) +
	    (r->offset - mwi_pagedown(l->offset, pg)));
}

/* Does the object's first segment sit where this bias puts it? */
static bool
bias_checks_out(struct mwi_classifier *c, const struct mwi_elf *e,
    const struct mw_region *r, uint64_t bias)
{
	const struct mwi_load	*first = &e->loads[0];
	struct mw_region	 head;
	uint64_t		 at = bias + mwi_pagedown(first->vaddr, e->pagesize);
	uint64_t		 off = mwi_pagedown(first->offset, e->pagesize);

	if (at == r->start)
		return r->offset == off;
	if (c->lookup(c->ctx, at, &head) != 1)
		return false;
	return head.start == at && same_file(&head, r) && head.offset == off;
}

/* The PT_LOAD that file mapping r maps, and the object's load bias. */
static const struct mwi_load *
find_load(struct mwi_classifier *c, const struct mwi_elf *e,
    const struct mw_region *r, uint64_t *bias)
{
	const struct mwi_load	*cand[MWI_MAX_LOADS];
	unsigned int		 n = 0;

	for (unsigned int i = 0; i < e->nloads; i++)
		if (load_covers_offset(&e->loads[i], r->offset, e->pagesize))
			cand[n++] = &e->loads[i];
	if (n == 1) {
		*bias = implied_bias(cand[0], r, e->pagesize);
		return cand[0];
	}
	for (unsigned int i = 0; i < n; i++) {
		*bias = implied_bias(cand[i], r, e->pagesize);
		if (bias_checks_out(c, e, r, *bias))
			return cand[i];
	}
	return NULL;
}

static bool
in_relro(const struct mwi_elf *e, uint64_t vaddr)
{
	uint64_t	pg = e->pagesize;

	return e->relro_memsz > 0 && vaddr >= mwi_pagedown(e->relro_vaddr, pg) &&
	    vaddr < mwi_pagedown(e->relro_vaddr + e->relro_memsz, pg);
}

/* text, rodata or data when r is a loaded segment of an ELF, else file. */
static enum mw_kind
file_kind(struct mwi_classifier *c, struct mw_region *r)
{
	const struct mwi_elf	*e;
	const struct mwi_load	*l;
	uint64_t		 bias;
	enum mw_kind		 kind = MW_KIND_FILE;

	if ((r->perms & MW_PERM_SHARED) ||
	    (e = mwi_elf_get(&c->elves, c->pid, r)) == NULL ||
	    (l = find_load(c, e, r, &bias)) == NULL)
		return MW_KIND_FILE;
	if (l->flags & PF_X)
		kind = (r->perms & MW_PERM_EXEC) ? MW_KIND_TEXT : MW_KIND_FILE;
	else if (l->flags & PF_W)
		kind = (r->perms & MW_PERM_WRITE) ||
		    in_relro(e, r->start - bias) ? MW_KIND_DATA : MW_KIND_FILE;
	else if ((r->perms & (MW_PERM_WRITE | MW_PERM_EXEC)) == 0)
		kind = MW_KIND_RODATA;
	if (kind != MW_KIND_FILE)
		r->flags |= MW_REGION_ELF;
	return kind;
}

/*
 * The address range [lo, hi) of the loaded image that file region r is
 * a segment of: its first PT_LOAD's page to the end of its last one's
 * memory (the .bss included). The loader reserves that whole span, so
 * no other mapping lies inside it. False when r maps no PT_LOAD.
 */
bool
mwi_image_bounds(struct mwi_classifier *c, const struct mw_region *r,
    uint64_t *lo, uint64_t *hi)
{
	const struct mwi_elf	*e;
	uint64_t		 bias, top = 0;

	if (r->inode == 0 || (r->perms & MW_PERM_SHARED) ||
	    (e = mwi_elf_get(&c->elves, c->pid, r)) == NULL ||
	    e->nloads == 0 || find_load(c, e, r, &bias) == NULL)
		return false;
	for (unsigned int i = 0; i < e->nloads; i++)
		if (e->loads[i].vaddr + e->loads[i].memsz > top)
			top = e->loads[i].vaddr + e->loads[i].memsz;
	*lo = bias + mwi_pagedown(e->loads[0].vaddr, e->pagesize);
	*hi = bias + mwi_pageup(top, e->pagesize);
	return *lo < *hi;
}

/*
 * An unnamed rw-p region right after a mapping of an ELF, inside one of
 * its writable PT_LOADs by address, is that object's .bss (p_memsz
 * beyond p_filesz, which the loader maps anonymous).
 */
static enum mw_kind
anon_kind(struct mwi_classifier *c, struct mw_region *r)
{
	struct mw_region	 prev;
	const struct mwi_elf	*e;
	const struct mwi_load	*l;
	uint64_t		 bias, v, pg;

	if (r->perms != (MW_PERM_READ | MW_PERM_WRITE) || r->start == 0 ||
	    c->lookup(c->ctx, r->start - 1, &prev) != 1 ||
	    prev.end != r->start || prev.inode == 0 ||
	    (e = mwi_elf_get(&c->elves, c->pid, &prev)) == NULL ||
	    (l = find_load(c, e, &prev, &bias)) == NULL)
		return MW_KIND_ANON;
	v = r->start - bias;
	pg = e->pagesize;
	for (unsigned int i = 0; i < e->nloads; i++) {
		l = &e->loads[i];
		if ((l->flags & PF_W) && v >= mwi_pagedown(l->vaddr, pg) &&
		    v < mwi_pageup(l->vaddr + l->memsz, pg)) {
			r->flags |= MW_REGION_ELF;
			return MW_KIND_BSS;
		}
	}
	return MW_KIND_ANON;
}

void
mwi_classify(struct mwi_classifier *c, struct mw_region *r)
{
	int	kind;

	r->flags &= ~MW_REGION_ELF;
	if ((r->perms & PERMS_RWX) == 0)
		r->kind = MW_KIND_GUARD;
	else if (r->name == NULL)
		r->kind = anon_kind(c, r);
	else if ((kind = kind_by_name(r->name, r->perms)) >= 0)
		r->kind = (enum mw_kind)kind;
	else if (r->inode == 0)
		r->kind = MW_KIND_FILE;
	else
		r->kind = file_kind(c, r);
}

/*
 * Classifying an array: the lookup is answered from the regions before
 * the one at hand (the previous region, nearly always). The array may
 * still be growing (maps.c classifies each region as it is parsed), so
 * everything is read through the maps each time.
 */
static int
array_lookup(void *ctx, uint64_t addr, struct mw_region *out)
{
	struct mwi_array_classifier	*ac = ctx;
	const struct mw_maps		*m = ac->m;
	const struct mw_region		*r;

	if (ac->i > 0 && m->regions[ac->i - 1].start <= addr &&
	    addr < m->regions[ac->i - 1].end)
		r = &m->regions[ac->i - 1];
	else if ((r = mw_maps_find(m, addr)) == NULL)
		return 0;
	*out = *r;
	return 1;
}

void
mwi_array_classifier_init(struct mwi_array_classifier *ac, struct mw_maps *m)
{
	memset(ac, 0, sizeof(*ac));
	ac->m = m;
	ac->c.pid = m->pid;
	ac->c.lookup = array_lookup;
	ac->c.ctx = ac;
}

/*
 * Classify m->regions[i], the regions before it being final, and move
 * its bytes in the maps' totals from its old kind to its new one.
 */
void
mwi_classify_at(struct mwi_array_classifier *ac, size_t i)
{
	struct mw_region	*r = &ac->m->regions[i];
	struct mw_kind_totals	*t = &ac->m->totals;
	enum mw_kind		 was = r->kind;

	ac->i = i;
	mwi_classify(&ac->c, r);
	t->bytes[was] -= r->end - r->start;
	t->count[was]--;
	t->bytes[r->kind] += r->end - r->start;
	t->count[r->kind]++;
}

/* Free the ELF cache; -1 with ENOMEM if an allocation failed. */
int
mwi_array_classifier_done(struct mwi_array_classifier *ac)
{
	bool	oom = ac->c.elves.oom;

	mwi_elf_cache_free(&ac->c.elves);
	if (oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
mw_maps_classify(struct mw_maps *m)
{
	struct mwi_array_classifier	ac;

	mwi_array_classifier_init(&ac, m);
	for (size_t i = 0; i < m->nregions; i++)
		mwi_classify_at(&ac, i);
	return mwi_array_classifier_done(&ac);
}
