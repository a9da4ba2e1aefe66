/*
 * debugsym.c: the function symbols of an object's separate debug file.
 *
 * Distributions strip .symtab from what they ship and put it in a file
 * of its own (Debian: libc6-dbg, the *-dbgsym packages), found by the
 * object's build ID, the NT_GNU_BUILD_ID note of a PT_NOTE segment:
 *
 *   build ID  93 ac61ec5a8eb1396f9fbd350e3169a558528a40
 *   file      /usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug
 *
 * What is kept: the STT_FUNC symbols with a size, sorted by value (the
 * link-time address, as in the object itself) and, among aliases, with
 * the best name last, where a search downwards meets it first. Names
 * point into the debug file as libelf maps it, which stays open until
 * the free. Used only where the object's own symbols do not cover an
 * address: local functions such as glibc's start_thread. Without the
 * debug file, nothing changes.
 */
#include "mwi.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacks.h"

#define DEBUG_ROOT	"/usr/lib/debug/.build-id/"

struct fsym {
	uint64_t	 value, size;
	const char	*name;
	int		 rank;		/* higher: the better name */
};

struct mwi_debugsyms {
	Elf		*elf;
	int		 fd;
	struct fsym	*v;
	size_t		 n;
};

/* The build ID in the notes of image (a whole ELF file); 0: none. */
static size_t
build_id(const unsigned char *image, size_t len, unsigned char *id,
    size_t max)
{
	const Elf64_Ehdr	*eh = (const void *)image;

	if (len < sizeof(*eh) || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len)
		return 0;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr	ph;
		uint64_t	off, end;

		memcpy(&ph, image + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			continue;
		for (off = ph.p_offset, end = off + ph.p_filesz;
		    off + sizeof(Elf64_Nhdr) <= end; ) {
			Elf64_Nhdr	nh;
			uint64_t	name, desc;

			memcpy(&nh, image + off, sizeof(nh));
			name = off + sizeof(nh);
			desc = name + ((nh.n_namesz + 3) & ~3u);
			off = desc + ((nh.n_descsz + 3) & ~3u);
			if (off > end)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(image + name, "GNU", 4) == 0 &&
			    nh.n_descsz >= 2 && nh.n_descsz <= max) {
				memcpy(id, image + desc, nh.n_descsz);
				return nh.n_descsz;
			}
		}
	}
	return 0;
}

static int
open_debug_file(const unsigned char *id, size_t n)
{
	char	path[sizeof(DEBUG_ROOT) + 2 * 64 + 16], *p;

	p = path + snprintf(path, sizeof(path), DEBUG_ROOT "%02x/", id[0]);
	for (size_t i = 1; i < n; i++)
		p += snprintf(p, 3, "%02x", id[i]);
	snprintf(p, 7, ".debug");
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int
fsym_cmp(const void *a, const void *b)
{
	const struct fsym	*x = a, *y = b;

	if (x->value != y->value)
		return (x->value > y->value) - (x->value < y->value);
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/*
 * Among aliases, the name a user calls: global before local, and not
 * glibc's internal __GI_ alias (__clone3, not __GI___clone3).
 */
static int
name_rank(const GElf_Sym *s, const char *name)
{
	return (GELF_ST_BIND(s->st_info) != STB_LOCAL) * 2 +
	    (strncmp(name, "__GI_", 5) != 0);
}

/* The STT_FUNC symbols of the .symtab section scn. */
static int
read_functions(struct mwi_debugsyms *d, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data	*data = elf_getdata(scn, NULL);
	size_t		 count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	if (data == NULL || count == 0 ||
	    (d->v = mwi_calloc(count, sizeof(*d->v))) == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym	 s;
		const char	*name;

		if (gelf_getsym(data, (int)i, &s) == NULL ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_size == 0 ||
		    s.st_shndx == SHN_UNDEF ||
		    (name = elf_strptr(d->elf, sh->sh_link, s.st_name)) == NULL ||
		    name[0] == '\0')
			continue;
		d->v[d->n++] = (struct fsym){ s.st_value, s.st_size, name,
		    name_rank(&s, name) };
	}
	qsort(d->v, d->n, sizeof(*d->v), fsym_cmp);
	return d->n > 0 ? 0 : -1;
}

struct mwi_debugsyms *
mwi_debugsyms_open(const unsigned char *image, size_t len)
{
	struct mwi_debugsyms	*d;
	unsigned char		 id[64];
	size_t			 n = build_id(image, len, id, sizeof(id));
	Elf_Scn			*scn = NULL;
	GElf_Shdr		 sh;

	if (n == 0 || elf_version(EV_CURRENT) == EV_NONE ||
	    (d = mwi_calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->fd = -1;
	if ((d->fd = open_debug_file(id, n)) == -1 ||
	    (d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL)) == NULL)
		goto fail;
	while ((scn = elf_nextscn(d->elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_SYMTAB)
			break;
	if (scn == NULL || read_functions(d, scn, &sh) == -1)
		goto fail;
	return d;
fail:
	mwi_debugsyms_free(d);
	return NULL;
}

const char *
mwi_debugsyms_find(const struct mwi_debugsyms *d, uint64_t vaddr,
    uint64_t *value)
{
	size_t	lo = 0, hi = d->n;

	while (lo < hi) {		/* the first symbol above vaddr */
		size_t	mid = lo + (hi - lo) / 2;

		if (d->v[mid].value <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && lo - i <= 8; )
		if (vaddr - d->v[i].value < d->v[i].size) {
			*value = d->v[i].value;
			return d->v[i].name;
		}
	return NULL;
}

void
mwi_debugsyms_free(struct mwi_debugsyms *d)
{
	if (d == NULL)
		return;
	if (d->elf != NULL)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d->v);
	free(d);
}
