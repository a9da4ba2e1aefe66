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
 * What is kept: the debug file, mapped by libelf, and its .symtab,
 * searched for the STT_FUNC symbol whose [value, value + size) holds a
 * link-time address (the best named of its aliases). Names point into
 * the mapped file, which stays open until the free. Used only where the object's own symbols do not cover an
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

struct mwi_debugsyms {
	Elf		*elf;
	int		 fd;
	const Elf64_Sym	*syms;		/* .symtab, as libelf maps it */
	size_t		 n;
	size_t		 strtab;	/* its string table's index */
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

/*
 * Among aliases, the name a user calls: global before local, and not
 * glibc's internal __GI_ alias (__clone3, not __GI___clone3).
 */
static int
name_rank(const Elf64_Sym *s, const char *name)
{
	return (ELF64_ST_BIND(s->st_info) != STB_LOCAL) * 2 +
	    (strncmp(name, "__GI_", 5) != 0);
}

/* The .symtab of scn, if it is a whole array of 64-bit symbols. */
static int
take_symtab(struct mwi_debugsyms *d, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data	*data = elf_getdata(scn, NULL);

	if (data == NULL || gelf_getclass(d->elf) != ELFCLASS64 ||
	    sh->sh_entsize != sizeof(Elf64_Sym) || data->d_buf == NULL ||
	    data->d_size % sizeof(Elf64_Sym) != 0)
		return -1;
	d->syms = data->d_buf;
	d->n = data->d_size / sizeof(Elf64_Sym);
	d->strtab = sh->sh_link;
	return 0;
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
	if (scn == NULL || take_symtab(d, scn, &sh) == -1)
		goto fail;
	return d;
fail:
	mwi_debugsyms_free(d);
	return NULL;
}

/*
 * One pass over the symbols: a stack has a few addresses that need
 * this, a sort of libc's 10,000 would cost more than every scan.
 */
const char *
mwi_debugsyms_find(const struct mwi_debugsyms *d, uint64_t vaddr,
    uint64_t *value)
{
	const char	*best = NULL, *name;
	int		 best_rank = -1, rank;

	for (size_t i = 0; i < d->n; i++) {
		const Elf64_Sym	*s = &d->syms[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
		    s->st_shndx == SHN_UNDEF || vaddr - s->st_value >= s->st_size ||
		    (name = elf_strptr(d->elf, d->strtab, s->st_name)) == NULL ||
		    name[0] == '\0' || (rank = name_rank(s, name)) <= best_rank)
			continue;
		best = name;
		best_rank = rank;
		*value = s->st_value;
	}
	return best;
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
	free(d);
}
