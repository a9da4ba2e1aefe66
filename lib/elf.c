/*
 * elf.c: the PT_LOAD segments of the objects a process maps, by libelf.
 *
 * One entry per (device, inode), filled on first use and kept:
 *
 *   cache->v: [ {dev, inode, is_elf, loads[0..nloads), relro} ... ]
 *                                        ^ cache->last: the last hit
 *
 * Consecutive regions of a maps file mostly belong to one object, so
 * the last hit answers most lookups before the linear scan. An object
 * that cannot be opened or is no ELF is cached too (is_elf = false), so
 * each file is opened at most once per cache.
 */
#include "mwi.h"

#include <errno.h>
#include <gelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t	elf_once = PTHREAD_ONCE_INIT;
static bool		elf_usable;

static void
elf_init(void)
{
	elf_usable = elf_version(EV_CURRENT) != EV_NONE;
}

static bool
same_object(const struct mwi_elf *e, const struct mw_region *r)
{
	return e->inode == r->inode && e->dev_major == r->dev_major &&
	    e->dev_minor == r->dev_minor;
}

/* Read the four magic bytes first: most non-ELF files stop here. */
static bool
has_elf_magic(int fd)
{
	char	magic[SELFMAG];

	return pread(fd, magic, SELFMAG, 0) == SELFMAG &&
	    memcmp(magic, ELFMAG, SELFMAG) == 0;
}

static void
add_phdr(struct mwi_elf *e, const GElf_Phdr *ph)
{
	struct mwi_load	*l;

	if (ph->p_type == PT_GNU_RELRO) {
		e->relro_vaddr = ph->p_vaddr;
		e->relro_memsz = ph->p_memsz;
		return;
	}
	if (ph->p_type != PT_LOAD || e->nloads == MWI_MAX_LOADS)
		return;
	l = &e->loads[e->nloads++];
	l->vaddr = ph->p_vaddr;
	l->memsz = ph->p_memsz;
	l->offset = ph->p_offset;
	l->filesz = ph->p_filesz;
	l->flags = ph->p_flags & (PF_R | PF_W | PF_X);
}

static void
load_headers(struct mwi_elf *e, int fd)
{
	Elf		*elf;
	GElf_Ehdr	 eh;
	GElf_Phdr	 ph;
	size_t		 n;

	if (!has_elf_magic(fd) ||
	    (elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL)
		return;
	if (elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) != NULL &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
	    elf_getphdrnum(elf, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (gelf_getphdr(elf, (int)i, &ph) != NULL)
				add_phdr(e, &ph);
		e->is_elf = e->nloads > 0;
	}
	elf_end(elf);
}

static void
fill_entry(struct mwi_elf *e, pid_t pid, const struct mw_region *r)
{
	int	fd;

	memset(e, 0, sizeof(*e));
	e->inode = r->inode;
	e->dev_major = r->dev_major;
	e->dev_minor = r->dev_minor;
	e->pagesize = (uint64_t)sysconf(_SC_PAGESIZE);
	pthread_once(&elf_once, elf_init);
	if (!elf_usable || (fd = mwi_open_object(pid, r)) == -1)
		return;
	load_headers(e, fd);
	close(fd);
}

/*
 * The ELF facts of the object behind a file mapping, or NULL when it is
 * no ELF, cannot be read, or memory ran out.
 */
const struct mwi_elf *
mwi_elf_get(struct mwi_elf_cache *c, pid_t pid, const struct mw_region *r)
{
	struct mwi_elf	*e, *nv;

	if (r->inode == 0)
		return NULL;
	if (c->n > 0 && same_object(&c->v[c->last], r))
		return c->v[c->last].is_elf ? &c->v[c->last] : NULL;
	for (size_t i = 0; i < c->n; i++)
		if (same_object(&c->v[i], r)) {
			c->last = i;
			return c->v[i].is_elf ? &c->v[i] : NULL;
		}
	if (c->n == c->cap) {
		size_t	ncap = c->cap == 0 ? 16 : c->cap * 2;

		if ((nv = mwi_reallocarray(c->v, ncap, sizeof(*nv))) == NULL) {
			c->oom = true;
			return NULL;
		}
		c->v = nv;
		c->cap = ncap;
	}
	e = &c->v[c->n];
	fill_entry(e, pid, r);
	c->last = c->n++;
	return e->is_elf ? e : NULL;
}

void
mwi_elf_cache_free(struct mwi_elf_cache *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}
