/*
 * fuzz_elfsym.c: the ELF symbol reader (lib/elfsym.c), and the PT_LOAD
 * reader of the classifier (lib/elf.c), on mutated ELF files.
 *
 * The input is written to a memfd, named in the maps by its
 * /proc/self/fd path (mwi_open_object opens it by name, its inode
 * checked), and laid out as ld.so would map it, from its PT_LOADs read
 * here by hand:
 *
 *   BIAS + pagedown(p_vaddr) .. BIAS + pageup(p_vaddr + p_filesz)
 *        the file from pagedown(p_offset), perms from p_flags
 *   then pageup(p_vaddr + p_filesz) .. pageup(p_vaddr + p_memsz)
 *        anonymous rw-p, for a writable segment (its .bss)
 *
 * (a segment that would overlap the one before is left out; a file
 * with none is mapped whole, once, as a plain mmap). Then:
 *
 *   by address  mwi_sym_at at each region's first, middle and last
 *               byte, and at a few more the input's hash picks:
 *               1, 0, or -1 with ENOMEM; found, the object is the
 *               file, a symbol lies at or below the address in the
 *               image (offset <= address - bias; its section may have
 *               no name, and is then NULL); and a fresh cache (whose
 *               first lookups scan the symbol table) names the
 *               same symbol as the one that sorted them after its
 *               first lookup (for the second to the fourth address,
 *               or every one when fuzz_thorough: a cache costs a
 *               libelf load)
 *   by name     mwi_sym_find and mwi_sym_find_dynamic for the names
 *               found above and a few fixed ones: found, the symbol
 *               has that name; an export found by the second is found
 *               by the first, at the same address
 *   kinds       mw_maps_classify: the file's regions text, rodata,
 *               data or file, the anonymous ones bss or anon
 */
#include "mwi.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fuzz.h"

#define BIAS		0x7f1200000000ULL
#define MAX_LOOKUPS	12
#define FRESH_LAST	3	/* lookups 1 to FRESH_LAST: a fresh cache too */
#define MAX_NAMES	8
#define NAME_MAX_LEN	128

struct image {
	char		 path[64];
	struct stat	 st;
	uint64_t	 pg;
	const uint8_t	*data;
	size_t		 size;
	bool		 elf64, msb;
};

static int	memfd = -1;

/* A field of n bytes at off, in the file's byte order; 0 past the end. */
static uint64_t
get(const struct image *im, uint64_t off, size_t n)
{
	uint64_t	v = 0;

	if (off > im->size || n > im->size - off)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t	k = im->msb ? i : n - 1 - i;

		v = v << 8 | im->data[off + k];
	}
	return v;
}

static int
add(struct mw_maps *m, size_t *cap, const struct image *im, uint64_t start,
    uint64_t end, uint64_t offset, unsigned int perms, bool file)
{
	struct mw_region	r;
	size_t			n;
	const struct mw_region	*v = mw_maps_regions(m, &n);

	if (start >= end || (n > 0 && start < v[n - 1].end))
		return 0;
	memset(&r, 0, sizeof(r));
	r.start = start;
	r.end = end;
	r.perms = perms;
	if (file) {
		r.offset = offset;
		r.inode = im->st.st_ino;
		r.dev_major = major(im->st.st_dev);
		r.dev_minor = minor(im->st.st_dev);
		r.name = im->path;
	}
	return mwi_maps_append(m, &r, cap);
}

/* One PT_LOAD (program header at off) into the maps. */
static int
map_load(struct mw_maps *m, size_t *cap, const struct image *im, uint64_t ph)
{
	uint64_t	pg = im->pg, flags, offset, vaddr, filesz, memsz;
	uint64_t	fend, mend;
	unsigned int	perms = 0;

	if (im->elf64) {
		flags = get(im, ph + 4, 4);
		offset = get(im, ph + 8, 8);
		vaddr = get(im, ph + 16, 8);
		filesz = get(im, ph + 32, 8);
		memsz = get(im, ph + 40, 8);
	} else {
		offset = get(im, ph + 4, 4);
		vaddr = get(im, ph + 8, 4);
		filesz = get(im, ph + 16, 4);
		memsz = get(im, ph + 20, 4);
		flags = get(im, ph + 24, 4);
	}
	perms |= flags & PF_R ? MW_PERM_READ : 0;
	perms |= flags & PF_W ? MW_PERM_WRITE : 0;
	perms |= flags & PF_X ? MW_PERM_EXEC : 0;
	if (filesz == 0 || vaddr + filesz < vaddr || vaddr + memsz < vaddr ||
	    BIAS + vaddr + memsz < BIAS || vaddr + memsz > UINT64_MAX - BIAS -
	    2 * pg)
		return 0;
	fend = mwi_pageup(BIAS + vaddr + filesz, pg);
	mend = mwi_pageup(BIAS + vaddr + memsz, pg);
	if (add(m, cap, im, mwi_pagedown(BIAS + vaddr, pg), fend,
	    mwi_pagedown(offset, pg), perms, true) == -1)
		return -1;
	if ((flags & PF_W) && mend > fend)
		return add(m, cap, im, fend, mend, 0,
		    MW_PERM_READ | MW_PERM_WRITE, false);
	return 0;
}

/* The maps of the image as ld.so lays it out; NULL: no memory. */
static struct mw_maps *
lay_out(const struct image *im)
{
	struct mw_maps	*m;
	size_t		 cap = 0, n, esz = im->elf64 ? 56 : 32;
	uint64_t	 phoff, phnum;

	if ((m = mwi_maps_new(0)) == NULL)
		return NULL;
	phoff = get(im, im->elf64 ? 32 : 28, im->elf64 ? 8 : 4);
	phnum = get(im, im->elf64 ? 56 : 44, 2);
	if (im->size >= 16 && memcmp(im->data, ELFMAG, SELFMAG) == 0)
		for (uint64_t i = 0; i < phnum && i < 64; i++)
			if (get(im, phoff + i * esz, 4) == PT_LOAD &&
			    map_load(m, &cap, im, phoff + i * esz) == -1)
				goto fail;
	(void)mw_maps_regions(m, &n);
	if (n == 0 && add(m, &cap, im, 0x10000, 0x10000 + mwi_pageup(im->size,
	    im->pg) + im->pg, 0, MW_PERM_READ, true) == -1)
		goto fail;
	return m;
fail:
	mw_maps_free(m);
	return NULL;
}

struct found {
	char	 names[MAX_NAMES][NAME_MAX_LEN];
	size_t	 n;
};

static void
keep_name(struct found *f, const char *name)
{
	if (name == NULL || strlen(name) >= NAME_MAX_LEN || f->n == MAX_NAMES)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return;
	strcpy(f->names[f->n++], name);
}

static bool
same_sym(const struct mwi_symbol *a, const struct mwi_symbol *b)
{
	return (a->name == NULL) == (b->name == NULL) &&
	    (a->section == NULL) == (b->section == NULL) &&
	    (a->name == NULL || (strcmp(a->name, b->name) == 0 &&
	    a->value == b->value && a->size == b->size)) &&
	    (a->section == NULL || strcmp(a->section, b->section) == 0) &&
	    a->bias == b->bias;
}

/* One address, through the warm cache c, and a fresh one if asked. */
static const char *
lookup(struct mwi_symcache *c, const struct mw_maps *m,
    const struct image *im, uint64_t a, struct found *f, bool fresh_too)
{
	struct mwi_symcache	*fresh;
	struct mwi_symbol	 s, t;
	const char		*why = NULL;
	int			 rc, rc2;

	errno = 0;
	if ((rc = mwi_sym_at(c, m, a, &s)) == -1)
		return errno == ENOMEM ? NULL :
		    fuzz_why("%#llx: -1 with errno %d", (unsigned long long)a,
		    errno);
	if (rc != 0 && rc != 1)
		return fuzz_why("%#llx: mwi_sym_at gave %d",
		    (unsigned long long)a, rc);
	if (rc == 1 && (s.object == NULL || strcmp(s.object, im->path) != 0))
		return fuzz_why("%#llx: object %s", (unsigned long long)a,
		    s.object != NULL ? s.object : "(none)");
	if (rc == 1 && s.name != NULL && s.offset > a - s.bias)
		return fuzz_why("%#llx: symbol %s+%#llx, section %s",
		    (unsigned long long)a, s.name,
		    (unsigned long long)s.offset,
		    s.section != NULL ? s.section : "(none)");
	if (rc == 1)
		keep_name(f, s.name);
	if (!fresh_too || (fresh = mwi_symcache_new(0)) == NULL)
		return NULL;
	rc2 = mwi_sym_at(fresh, m, a, &t);
	if (rc2 != -1 && (rc2 != rc || (rc == 1 && !same_sym(&s, &t))))
		why = fuzz_why("%#llx: a warm cache says %d, %s in %s; a fresh "
		    "one %d, %s in %s", (unsigned long long)a,
		    rc, rc == 1 && s.name != NULL ? s.name : "no symbol",
		    rc == 1 && s.section != NULL ? s.section : "no section",
		    rc2, rc2 == 1 && t.name != NULL ? t.name : "no symbol",
		    rc2 == 1 && t.section != NULL ? t.section : "no section");
	mwi_symcache_free(fresh);
	return why;
}

static const char *
by_name(struct mwi_symcache *c, const struct mw_maps *m, const char *name)
{
	struct mwi_symbol	s, d;
	int			rc, rcd;

	errno = 0;
	rc = mwi_sym_find(c, m, name, &s);
	rcd = mwi_sym_find_dynamic(c, m, name, &d);
	if ((rc == -1 || rcd == -1) && errno == ENOMEM)
		return NULL;
	if (rc < 0 || rc > 1 || rcd < 0 || rcd > 1)
		return fuzz_why("%s: by name %d, dynamic %d", name, rc, rcd);
	if (rc == 1 && (s.name == NULL || strcmp(s.name, name) != 0))
		return fuzz_why("%s: found as %s", name,
		    s.name != NULL ? s.name : "(none)");
	if (rcd == 1 && (d.name == NULL || strcmp(d.name, name) != 0))
		return fuzz_why("%s: found dynamic as %s", name,
		    d.name != NULL ? d.name : "(none)");
	if (rcd == 1 && (rc != 1 || s.value != d.value))
		return fuzz_why("%s: an export at %#llx, by name %s", name,
		    (unsigned long long)d.value, rc == 1 ? "elsewhere" :
		    "not found");
	return NULL;
}

static const char *
check_kinds(struct mw_maps *m)
{
	const struct mw_region	*v;
	size_t			 n;

	errno = 0;
	if (mw_maps_classify(m) == -1 && errno != ENOMEM)
		return fuzz_why("mw_maps_classify: errno %d", errno);
	v = mw_maps_regions(m, &n);
	for (size_t i = 0; i < n; i++) {
		enum mw_kind	k = v[i].kind;

		if (v[i].name != NULL ? k != MW_KIND_TEXT &&
		    k != MW_KIND_RODATA && k != MW_KIND_DATA &&
		    k != MW_KIND_FILE && k != MW_KIND_GUARD :
		    k != MW_KIND_BSS && k != MW_KIND_ANON)
			return fuzz_why("region %zu (%s): %s", i,
			    v[i].name != NULL ? "file" : "anonymous",
			    mw_kind_name(k));
	}
	return fuzz_check_maps(m, n);
}

static const char *
run(struct mwi_symcache *c, struct mw_maps *m, const struct image *im)
{
	static const char *const fixed[] = { "main", "_start", "malloc" };
	const struct mw_region	*v;
	struct found		 f = { .n = 0 };
	const char		*why;
	uint64_t		 h = fuzz_hash(im->data, im->size), a;
	size_t			 n, nlook = 0;

	v = mw_maps_regions(m, &n);
	for (size_t i = 0; i < n && nlook < MAX_LOOKUPS; i++) {
		uint64_t	len = v[i].end - v[i].start;
		uint64_t	at[] = { 0, len / 2, len - 1, h % len };

		h = h * 0x9e3779b97f4a7c15ULL + i;
		for (size_t k = 0; k < 4 && nlook < MAX_LOOKUPS; k++, nlook++) {
			a = v[i].start + at[k];
			if ((why = lookup(c, m, im, a, &f, fuzz_thorough ||
			    (nlook >= 1 && nlook <= FRESH_LAST))) != NULL)
				return why;
		}
	}
	for (size_t i = 0; i < f.n; i++)
		if ((why = by_name(c, m, f.names[i])) != NULL)
			return why;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if ((why = by_name(c, m, fixed[i])) != NULL)
			return why;
	return check_kinds(m);
}

const char *
fuzz_elfsym(const uint8_t *data, size_t size)
{
	struct image		 im = { .data = data, .size = size };
	struct mwi_symcache	*c;
	struct mw_maps		*m;
	const char		*why;

	if (memfd == -1 && (memfd = fuzz_memfd("fuzz_elfsym")) == -1)
		return NULL;
	if (fuzz_memfd_set(memfd, data, size) == -1 ||
	    fstat(memfd, &im.st) == -1)
		return NULL;
	snprintf(im.path, sizeof(im.path), "/proc/self/fd/%d", memfd);
	im.pg = (uint64_t)sysconf(_SC_PAGESIZE);
	im.elf64 = size > EI_CLASS && data[EI_CLASS] == ELFCLASS64;
	im.msb = size > EI_DATA && data[EI_DATA] == ELFDATA2MSB;
	if ((m = lay_out(&im)) == NULL)
		return NULL;
	if ((c = mwi_symcache_new(0)) == NULL) {
		mw_maps_free(m);
		return NULL;
	}
	mwi_symcache_scan_first(c, 1);	/* sorted from the second lookup */
	why = run(c, m, &im);
	mwi_symcache_free(c);
	mw_maps_free(m);
	return why;
}
