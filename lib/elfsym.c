/*
 * elfsym.c: the section and the nearest symbol of an address inside a
 * mapped ELF object, and the address of a symbol by name (libelf).
 *
 * The cache keeps one entry per object, found by (device, inode) in an
 * array of pointers sorted by that key; each entry is filled in stages,
 * on first need, and each stage runs once (a stage that ran out of
 * memory keeps what it finished and runs again on the next call):
 *
 *   cache->v[] --> struct object
 *                   key: dev, inode           path: "/usr/lib/.../libc.so.6"
 *   1 headers       elf (libelf, ELF_C_READ_MMAP, the file mapped read-only)
 *                   loads[]: the PT_LOADs, in file order (= vaddr order)
 *                   sects[]: SHF_ALLOC sections, sorted by sh_addr
 *                            { addr, size, name, index, sym0, nsym, maxsize }
 *                   symtab, dynsym, versym, gnuhash, hash: section indices
 *   exports         dh: .dynsym's own hash table, as ld.so reads it: no
 *                   copy, no sort, pointers into libelf's data of the file
 *                     .gnu.hash: nbuckets symoffset bloom_size bloom_shift
 *                                bloom[bloom_size] buckets[nbuckets] chain[]
 *                     .hash:     nbucket nchain bucket[nbucket] chain[nchain]
 *                   dyn[]: only for an object with neither table: .dynsym's
 *                   exported default-version symbols, sorted by name
 *   2 by address    syms[]: from .symtab, else .dynsym, sorted by
 *                   (section index, value, preference)      |
 *                   sects[k].sym0 .. sym0 + nsym  ----------+ its symbols
 *   3 by name       tabname[]: pointers into syms[] by name (.symtab only)
 *
 * A name is looked up in .dynsym first, through its hash table, and in
 * .symtab only when that fails and the caller wants .symtab: asking
 * every object of a process for a name that only one exports (is this a
 * CPython?) then costs the headers and a few probes of each, not the
 * sort of its symbols.
 *
 * Names point into the string tables of the mapped file (elf_strptr),
 * so they live as long as the cache. The file descriptor is closed as
 * soon as stage 1 is done: libelf keeps the file mapped (ELF_C_FDREAD
 * makes sure all it needs is in memory), so the cache holds no
 * descriptor and many objects cannot exhaust RLIMIT_NOFILE.
 *
 * Invariants:
 *   - v[] is sorted by (dev_major, dev_minor, inode), without duplicates.
 *   - state is UNTRIED, NOT_ELF (unreadable, no ELF, no PT_LOAD) or ELF;
 *     only an ELF entry has elf != NULL; dh.kind != HASH_UNTRIED,
 *     have_dyn, have_syms and have_tabname imply state == ELF.
 *   - dh.kind is HASH_GNU or HASH_SYSV only when the table lies whole in
 *     its section's data (its counts checked against d_size), so that a
 *     lookup reads no word outside it; a table that fails the checks is
 *     none (HASH_NONE), and dyn[] stands in for it.
 *   - By name, .dynsym offers only what ld.so would bind a plain name to:
 *     defined, not local, not a hidden version (hash and dyn[] alike).
 *   - Within syms[], the symbols of one section are contiguous and sorted
 *     by value; among equal values the preferred one comes last, so a
 *     scan downwards from the first value above an address meets the
 *     best candidate first.
 *   - The load bias is not cached: it belongs to a mapping of the object,
 *     so it is found in the maps at hand on each call, by a walk of a few
 *     regions bounded by the image's span:
 *
 *       head: offset = pagedown(PT_LOAD[0].p_offset), no longer than it
 *       bias = head.start - pagedown(PT_LOAD[0].p_vaddr)
 *       checked: another mapping of the file sits where its PT_LOAD and
 *       this bias put it (without one, a plain mmap of the file)
 */
#include "mwi.h"

#include <errno.h>
#include <gelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum state { UNTRIED, NOT_ELF, ELF };

struct sect {
	uint64_t	 addr, size;	/* sh_addr, sh_size */
	const char	*name;
	size_t		 index;		/* its section header index */
	size_t		 sym0, nsym;	/* its symbols, syms[sym0..sym0+nsym) */
	uint64_t	 maxsize;	/* the largest st_size among them */
};

struct sym {
	uint64_t	 value, size;	/* st_value (link time), st_size */
	const char	*name;
	size_t		 shndx;
	unsigned int	 bind, type;	/* STB_*, STT_* */
};

enum hash_kind { HASH_UNTRIED, HASH_NONE, HASH_GNU, HASH_SYSV };

/*
 * The hash table of .dynsym (drawn above). bloom[] holds words of the
 * ELF class (64 or 32 bits); buckets[] and chain[] 32-bit words, as
 * SHT_HASH's sh_entsize must say (4) for us to use it.
 */
struct dynhash {
	enum hash_kind	 kind;
	Elf_Data	*syms, *versym;		/* .dynsym, .gnu.version */
	size_t		 strtab;		/* .dynstr's section index */
	size_t		 nsyms;
	uint32_t	 nbuckets, nchain;	/* chain[]'s words */
	uint32_t	 symoffset;		/* GNU: chain[0]'s symbol */
	uint32_t	 bloom_size, bloom_shift, bloom_bits;
	const void	*bloom;
	const uint32_t	*buckets, *chain;
};

struct object {
	uint64_t	 inode;
	unsigned int	 dev_major, dev_minor;
	enum state	 state;
	char		*path;
	Elf		*elf;
	uint64_t	 pagesize;
	unsigned int	 nloads;
	struct mwi_load	 loads[MWI_MAX_LOADS];
	size_t		 symtab, dynsym, versym;	/* section indices; 0 none */
	size_t		 gnuhash, hash;
	size_t		 nsects;
	struct sect	*sects;
	struct dynhash	 dh;
	bool		 have_dyn;
	size_t		 ndyn;
	struct sym	*dyn;
	bool		 have_syms;
	size_t		 nsyms;
	struct sym	*syms;
	bool		 have_tabname;
	size_t		 ntabname;
	const struct sym **tabname;
};

struct mwi_symcache {
	pid_t		 pid;
	size_t		 n, cap;
	struct object	**v;
};

static pthread_once_t	libelf_once = PTHREAD_ONCE_INIT;
static bool		libelf_usable;

static void
libelf_init(void)
{
	libelf_usable = elf_version(EV_CURRENT) != EV_NONE;
}

static inline uint64_t
pagedown(uint64_t v, uint64_t pg)
{
	return v & ~(pg - 1);
}

static inline uint64_t
pageup(uint64_t v, uint64_t pg)
{
	return (v + pg - 1) & ~(pg - 1);
}

/* ---- the cache's index --------------------------------------------- */

static int
key_cmp(const struct object *o, const struct mw_region *r)
{
	if (o->dev_major != r->dev_major)
		return o->dev_major < r->dev_major ? -1 : 1;
	if (o->dev_minor != r->dev_minor)
		return o->dev_minor < r->dev_minor ? -1 : 1;
	if (o->inode != r->inode)
		return o->inode < r->inode ? -1 : 1;
	return 0;
}

/* The index of r's object in c->v, or where it would go. */
static size_t
cache_slot(const struct mwi_symcache *c, const struct mw_region *r)
{
	size_t	lo = 0, hi = c->n;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (key_cmp(c->v[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct object *
cache_insert(struct mwi_symcache *c, size_t at, const struct mw_region *r)
{
	struct object	*o, **nv;

	if (c->n == c->cap) {
		size_t	ncap = c->cap == 0 ? 16 : c->cap * 2;

		if ((nv = mwi_reallocarray(c->v, ncap, sizeof(*nv))) == NULL)
			return NULL;
		c->v = nv;
		c->cap = ncap;
	}
	if ((o = mwi_calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->inode = r->inode;
	o->dev_major = r->dev_major;
	o->dev_minor = r->dev_minor;
	memmove(&c->v[at + 1], &c->v[at], (c->n - at) * sizeof(*c->v));
	c->v[at] = o;
	c->n++;
	return o;
}

/* ---- stage 1: program and section headers ------------------------- */

static bool
has_elf_magic(int fd)
{
	char	magic[SELFMAG];

	return pread(fd, magic, SELFMAG, 0) == SELFMAG &&
	    memcmp(magic, ELFMAG, SELFMAG) == 0;
}

static void
read_loads(struct object *o)
{
	GElf_Phdr	ph;
	size_t		n;

	if (elf_getphdrnum(o->elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && o->nloads < MWI_MAX_LOADS; i++) {
		struct mwi_load	*l = &o->loads[o->nloads];

		if (gelf_getphdr(o->elf, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD)
			continue;
		l->vaddr = ph.p_vaddr;
		l->memsz = ph.p_memsz;
		l->offset = ph.p_offset;
		l->filesz = ph.p_filesz;
		l->flags = ph.p_flags & (PF_R | PF_W | PF_X);
		o->nloads++;
	}
}

/*
 * A section that occupies addresses of the image. .tbss is left out:
 * it takes no room, and its sh_addr overlaps the sections after it.
 */
static bool
is_image_section(const GElf_Shdr *sh)
{
	return (sh->sh_flags & SHF_ALLOC) && sh->sh_size > 0 &&
	    !(sh->sh_type == SHT_NOBITS && (sh->sh_flags & SHF_TLS));
}

static int
sect_cmp(const void *a, const void *b)
{
	const struct sect	*x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The tables that symbols are found in and by (.gnu.hash has no entsize). */
static void
note_symbol_table(struct object *o, const GElf_Shdr *sh, size_t index)
{
	if (sh->sh_size == 0)
		return;
	if (sh->sh_type == SHT_GNU_HASH)
		o->gnuhash = index;
	else if (sh->sh_type == SHT_HASH)
		o->hash = index;
	else if (sh->sh_entsize == 0)
		return;
	else if (sh->sh_type == SHT_SYMTAB)
		o->symtab = index;
	else if (sh->sh_type == SHT_DYNSYM)
		o->dynsym = index;
	else if (sh->sh_type == SHT_GNU_versym)
		o->versym = index;
}

static int
read_sections(struct object *o)
{
	Elf_Scn		*scn = NULL;
	GElf_Shdr	 sh;
	size_t		 nsh, shstr;

	if (elf_getshdrnum(o->elf, &nsh) != 0 ||
	    elf_getshdrstrndx(o->elf, &shstr) != 0)
		return 0;	/* no usable section headers: no sections */
	if ((o->sects = mwi_calloc(nsh + 1, sizeof(*o->sects))) == NULL)
		return -1;
	while ((scn = elf_nextscn(o->elf, scn)) != NULL) {
		struct sect	*s = &o->sects[o->nsects];

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		note_symbol_table(o, &sh, elf_ndxscn(scn));
		if (!is_image_section(&sh) || o->nsects == nsh)
			continue;
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->name = elf_strptr(o->elf, shstr, sh.sh_name);
		s->index = elf_ndxscn(scn);
		o->nsects++;
	}
	qsort(o->sects, o->nsects, sizeof(*o->sects), sect_cmp);
	return 0;
}

static void
object_unload(struct object *o)
{
	free(o->sects);
	free(o->syms);
	free(o->dyn);
	free(o->tabname);
	if (o->elf != NULL)
		elf_end(o->elf);
	free(o->path);
	o->sects = NULL;
	o->syms = o->dyn = NULL;
	o->tabname = NULL;
	o->elf = NULL;
	o->path = NULL;
	o->nsects = o->nsyms = o->ndyn = o->ntabname = 0;
	o->nloads = 0;
	o->symtab = o->dynsym = o->versym = o->gnuhash = o->hash = 0;
	memset(&o->dh, 0, sizeof(o->dh));
	o->have_dyn = o->have_syms = o->have_tabname = false;
}

/* Open the ELF and check it is one memwalk can place: 1 yes, 0 no. */
static int
open_elf(struct object *o, pid_t pid, const struct mw_region *r)
{
	GElf_Ehdr	eh;
	int		fd;

	if (!libelf_usable || (fd = mwi_open_object(pid, r)) == -1)
		return 0;
	if (has_elf_magic(fd))
		o->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	/* Whatever libelf needs is in memory from here on. */
	if (o->elf != NULL && elf_cntl(o->elf, ELF_C_FDREAD) != 0) {
		elf_end(o->elf);
		o->elf = NULL;
	}
	close(fd);
	if (o->elf == NULL || elf_kind(o->elf) != ELF_K_ELF ||
	    gelf_getehdr(o->elf, &eh) == NULL ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return 0;
	read_loads(o);
	return o->nloads > 0;
}

/*
 * Stage 1. Returns 0 with o->state set (NOT_ELF included: a file that
 * cannot be read is no ELF to us), -1 when memory ran out (o untried).
 */
static int
object_load(struct object *o, pid_t pid, const struct mw_region *r)
{
	const char	*name = r->name != NULL ? r->name : "";

	o->pagesize = (uint64_t)sysconf(_SC_PAGESIZE);
	if (open_elf(o, pid, r) != 1) {
		object_unload(o);
		o->state = NOT_ELF;
		return 0;
	}
	if ((o->path = mwi_malloc(strlen(name) + 1)) == NULL ||
	    read_sections(o) == -1) {
		object_unload(o);
		return -1;
	}
	memcpy(o->path, name, strlen(name) + 1);
	o->state = ELF;
	return 0;
}

/*
 * The object behind file mapping r, its stage 1 done; NULL (ENOMEM)
 * when memory ran out.
 */
static struct object *
object_get(struct mwi_symcache *c, const struct mw_region *r)
{
	size_t		 at = cache_slot(c, r);
	struct object	*o;

	if (at < c->n && key_cmp(c->v[at], r) == 0)
		o = c->v[at];
	else if ((o = cache_insert(c, at, r)) == NULL)
		return NULL;
	if (o->state == UNTRIED && object_load(o, c->pid, r) == -1)
		return NULL;
	return o;
}

/* ---- symbol tables ------------------------------------------------- */

/*
 * Symbols that name a place in the image: code and data, defined in a
 * real section. TLS symbols are offsets in a thread's block, not
 * addresses; SHN_ABS and the other reserved indices are no section. ARM
 * mapping symbols ($a, $d, $x, ...) mark instruction sets, not things.
 */
static bool
wanted(const GElf_Sym *s, const char *name)
{
	unsigned int	type = GELF_ST_TYPE(s->st_info);

	if (name == NULL || name[0] == '\0' || name[0] == '$' ||
	    s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE)
		return false;
	return type == STT_FUNC || type == STT_OBJECT ||
	    type == STT_GNU_IFUNC || type == STT_NOTYPE;
}

/*
 * A hidden version (memcpy@GLIBC_2.2.5 beside memcpy@@GLIBC_2.14) is
 * not what a plain name means to the dynamic linker: skip it by name.
 */
static bool
hidden_version(Elf_Data *versym, size_t i)
{
	GElf_Versym	vs;

	return versym != NULL && gelf_getversym(versym, (int)i, &vs) != NULL &&
	    (vs & 0x8000) != 0;
}

/*
 * What ld.so binds a plain name to: a wanted symbol that is not local
 * (global, weak or GNU unique) and not a hidden version.
 */
static bool
exported(const GElf_Sym *s, const char *name, Elf_Data *versym, size_t i)
{
	return wanted(s, name) && GELF_ST_BIND(s->st_info) != STB_LOCAL &&
	    !hidden_version(versym, i);
}

static void
sym_from(struct sym *s, const GElf_Sym *gs, const char *name)
{
	s->value = gs->st_value;
	s->size = gs->st_size;
	s->name = name;
	s->shndx = gs->st_shndx;
	s->bind = GELF_ST_BIND(gs->st_info);
	s->type = GELF_ST_TYPE(gs->st_info);
}

static Elf_Data *
section_data(Elf *elf, size_t index, GElf_Shdr *sh)
{
	Elf_Scn	*scn;

	if (index == 0 || (scn = elf_getscn(elf, index)) == NULL ||
	    gelf_getshdr(scn, sh) == NULL)
		return NULL;
	return elf_getdata(scn, NULL);
}

/*
 * The wanted symbols of one table into a new array; by_name keeps only
 * the exported ones. Returns 0 (an unreadable table gives none), -1
 * ENOMEM.
 */
static int
read_table(struct object *o, size_t index, bool by_name, struct sym **out,
    size_t *n)
{
	GElf_Shdr	 sh, vsh;
	GElf_Sym	 gs;
	Elf_Data	*data, *versym = NULL;
	size_t		 count;

	*n = 0;
	data = section_data(o->elf, index, &sh);
	count = data != NULL ? sh.sh_size / sh.sh_entsize : 0;
	if (by_name && o->versym != 0)
		versym = section_data(o->elf, o->versym, &vsh);
	if ((*out = mwi_calloc(count + 1, sizeof(**out))) == NULL)
		return -1;
	for (size_t i = 1; i < count; i++) {
		const char	*name;

		if (gelf_getsym(data, (int)i, &gs) == NULL)
			continue;
		name = elf_strptr(o->elf, sh.sh_link, gs.st_name);
		if (by_name ? !exported(&gs, name, versym, i) :
		    !wanted(&gs, name))
			continue;
		sym_from(&(*out)[(*n)++], &gs, name);
	}
	return 0;
}

static unsigned int
underscores(const char *s)
{
	unsigned int	n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/*
 * Which of two symbols at one address names it best (> 0: a): one with
 * a size (it can cover the address), then the plainer name (getpid over
 * its alias __getpid), then global over weak over local, then a typed
 * one over a bare label, then the alphabetically first, so that the
 * choice never depends on the order of the table.
 */
static int
preference(const struct sym *a, const struct sym *b)
{
	static const int	bind_rank[] = { [STB_LOCAL] = 0,
				    [STB_GLOBAL] = 2, [STB_WEAK] = 1 };
	unsigned int		ua = underscores(a->name), ub = underscores(b->name);
	int			ra, rb;

	if ((a->size > 0) != (b->size > 0))
		return a->size > 0 ? 1 : -1;
	if (ua != ub)
		return ua < ub ? 1 : -1;
	ra = a->bind <= STB_WEAK ? bind_rank[a->bind] : 0;
	rb = b->bind <= STB_WEAK ? bind_rank[b->bind] : 0;
	if (ra != rb)
		return ra > rb ? 1 : -1;
	if ((a->type != STT_NOTYPE) != (b->type != STT_NOTYPE))
		return a->type != STT_NOTYPE ? 1 : -1;
	return -strcmp(a->name, b->name);
}

static int
by_address(const void *pa, const void *pb)
{
	const struct sym	*a = pa, *b = pb;

	if (a->shndx != b->shndx)
		return a->shndx < b->shndx ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return preference(a, b);
}

/* Where the symbols of section index shndx start in syms[]. */
static size_t
first_of_section(const struct object *o, size_t shndx)
{
	size_t	lo = 0, hi = o->nsyms;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (o->syms[mid].shndx < shndx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
index_sections(struct object *o)
{
	for (size_t k = 0; k < o->nsects; k++) {
		struct sect	*s = &o->sects[k];
		size_t		 end = first_of_section(o, s->index + 1);

		s->sym0 = first_of_section(o, s->index);
		s->nsym = end - s->sym0;
		s->maxsize = 0;
		for (size_t j = s->sym0; j < end; j++)
			if (o->syms[j].size > s->maxsize)
				s->maxsize = o->syms[j].size;
	}
}

/* Stage 2: the symbols sorted by address. 0, or -1 ENOMEM. */
static int
load_syms(struct object *o)
{
	size_t	table = o->symtab != 0 ? o->symtab : o->dynsym;

	if (o->have_syms)
		return 0;
	if (read_table(o, table, false, &o->syms, &o->nsyms) == -1)
		return -1;
	qsort(o->syms, o->nsyms, sizeof(*o->syms), by_address);
	index_sections(o);
	o->have_syms = true;
	return 0;
}

/* Equal names: global first, then weak, then local. */
static int
name_cmp(const struct sym *a, const struct sym *b)
{
	int	c = strcmp(a->name, b->name);

	if (c != 0)
		return c;
	if (a->bind != b->bind)
		return a->bind == STB_GLOBAL ? -1 : b->bind == STB_GLOBAL ? 1 :
		    a->bind == STB_WEAK ? -1 : b->bind == STB_WEAK;
	return a->value < b->value ? -1 : a->value > b->value;
}

static int
by_name(const void *a, const void *b)
{
	return name_cmp(a, b);
}

static int
by_name_ptr(const void *a, const void *b)
{
	return name_cmp(*(const struct sym *const *)a,
	    *(const struct sym *const *)b);
}

/* dyn[]: the exports by name, for an object without a hash table. */
static int
load_dyn(struct object *o)
{
	if (o->have_dyn)
		return 0;
	if (read_table(o, o->dynsym, true, &o->dyn, &o->ndyn) == -1)
		return -1;
	qsort(o->dyn, o->ndyn, sizeof(*o->dyn), by_name);
	o->have_dyn = true;
	return 0;
}

/* Stage 3: .symtab by name, when there is one. 0, or -1 ENOMEM. */
static int
load_tabname(struct object *o)
{
	if (o->have_tabname)
		return 0;
	if (o->symtab != 0) {
		if (load_syms(o) == -1 || (o->tabname = mwi_calloc(o->nsyms + 1,
		    sizeof(*o->tabname))) == NULL)
			return -1;
		for (size_t i = 0; i < o->nsyms; i++)
			o->tabname[i] = &o->syms[i];
		o->ntabname = o->nsyms;
		qsort(o->tabname, o->ntabname, sizeof(*o->tabname),
		    by_name_ptr);
	}
	o->have_tabname = true;
	return 0;
}

/* The first entry named name in a by-name table, or NULL. */
static const struct sym *
lookup_dyn(const struct object *o, const char *name)
{
	size_t	lo = 0, hi = o->ndyn;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (strcmp(o->dyn[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->ndyn && strcmp(o->dyn[lo].name, name) == 0 ?
	    &o->dyn[lo] : NULL;
}

static const struct sym *
lookup_tab(const struct object *o, const char *name)
{
	size_t	lo = 0, hi = o->ntabname;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (strcmp(o->tabname[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->ntabname && strcmp(o->tabname[lo]->name, name) == 0 ?
	    o->tabname[lo] : NULL;
}

/* ---- .dynsym by name, through its hash table -------------------------- */

/* The hash functions of the two tables (gABI; DT_GNU_HASH's is djb2). */
static uint32_t
gnu_hash(const char *name)
{
	uint32_t	h = 5381;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33 + *p;
	return h;
}

static uint32_t
sysv_hash(const char *name)
{
	uint32_t	h = 0, g;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h = (h << 4) + *p;
		if ((g = h & 0xf0000000) != 0)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/*
 * The words of a hash section, when they can be read in place: its
 * table must link to .dynsym, and be aligned for its widest word (the
 * file is mapped, so d_buf is where the section lies in it).
 */
static const uint32_t *
hash_words(struct object *o, size_t index, size_t align, size_t *nwords,
    GElf_Shdr *sh)
{
	Elf_Data	*d = section_data(o->elf, index, sh);

	if (d == NULL || d->d_buf == NULL || sh->sh_link != o->dynsym ||
	    (uintptr_t)d->d_buf % align != 0)
		return NULL;
	*nwords = d->d_size / 4;
	return d->d_buf;
}

/*
 * .gnu.hash, checked whole. ld.so masks the bloom word's index with
 * bloom_size - 1, so a size that is no power of two is no table it
 * could read, nor is a shift that moves every bit of the hash out.
 */
static bool
gnu_hash_open(struct object *o, struct dynhash *h)
{
	unsigned int	 wbits = gelf_getclass(o->elf) == ELFCLASS64 ? 64 : 32;
	const uint32_t	*w;
	GElf_Shdr	 sh;
	size_t		 n, head;

	if ((w = hash_words(o, o->gnuhash, wbits / 8, &n, &sh)) == NULL ||
	    n < 4)
		return false;
	h->nbuckets = w[0];
	h->symoffset = w[1];
	h->bloom_size = w[2];
	h->bloom_shift = w[3];
	h->bloom_bits = wbits;
	if (h->nbuckets == 0 || h->bloom_size == 0 ||
	    (h->bloom_size & (h->bloom_size - 1)) != 0 || h->bloom_shift >= 32)
		return false;
	head = 4 + (size_t)h->bloom_size * (wbits / 32);
	if (head > n || n - head < h->nbuckets)
		return false;
	h->bloom = w + 4;
	h->buckets = w + head;
	h->chain = h->buckets + h->nbuckets;
	h->nchain = (uint32_t)(n - head - h->nbuckets);
	h->kind = HASH_GNU;
	return true;
}

/* .hash, checked whole: 32-bit words only (not s390x's or Alpha's). */
static bool
sysv_hash_open(struct object *o, struct dynhash *h)
{
	const uint32_t	*w;
	GElf_Shdr	 sh;
	size_t		 n;

	if ((w = hash_words(o, o->hash, 4, &n, &sh)) == NULL ||
	    sh.sh_entsize != 4 || n < 2)
		return false;
	h->nbuckets = w[0];
	h->nchain = w[1];
	if (h->nbuckets == 0 || n - 2 < h->nbuckets ||
	    n - 2 - h->nbuckets < h->nchain)
		return false;
	h->buckets = w + 2;
	h->chain = h->buckets + h->nbuckets;
	h->kind = HASH_SYSV;
	return true;
}

/*
 * Find the hash table of .dynsym, once: .gnu.hash when usable (ld.so
 * prefers it too), else .hash, else none. It reads section headers and
 * maps data; libelf allocates what it needs without our fault hooks,
 * and whatever fails leaves HASH_NONE, which dyn[] then stands in for.
 */
static void
dynhash_open(struct object *o)
{
	struct dynhash	*h = &o->dh;
	GElf_Shdr	 sh, vsh;

	memset(h, 0, sizeof(*h));
	h->kind = HASH_NONE;
	if ((h->syms = section_data(o->elf, o->dynsym, &sh)) == NULL)
		return;
	h->nsyms = sh.sh_size / sh.sh_entsize;
	h->strtab = sh.sh_link;
	if (o->versym != 0)
		h->versym = section_data(o->elf, o->versym, &vsh);
	if (o->gnuhash != 0 && gnu_hash_open(o, h))
		return;
	if (o->hash != 0 && sysv_hash_open(o, h))
		return;
	h->kind = HASH_NONE;
}

/*
 * Symbol i of .dynsym, when it is an export named name: then into *best
 * if it is the first such or beats it (as dyn[]'s order would rank it).
 */
static void
consider(const struct object *o, size_t i, const char *name,
    struct sym *best, bool *found)
{
	const struct dynhash	*h = &o->dh;
	GElf_Sym		 gs;
	const char		*n;
	struct sym		 s;

	if (i >= h->nsyms || gelf_getsym(h->syms, (int)i, &gs) == NULL ||
	    (n = elf_strptr(o->elf, h->strtab, gs.st_name)) == NULL ||
	    strcmp(n, name) != 0 || !exported(&gs, n, h->versym, i))
		return;
	sym_from(&s, &gs, n);
	if (!*found || name_cmp(&s, best) < 0)
		*best = s;
	*found = true;
}

/*
 * DT_GNU_HASH: the bloom filter first (two bits of the hash must be set
 * in one word, or no symbol has this hash), then the bucket's run of
 * chain[], whose words hold the hashes of its symbols, the low bit
 * marking the run's last.
 */
static bool
gnu_lookup(const struct object *o, const char *name, struct sym *out)
{
	const struct dynhash	*h = &o->dh;
	uint32_t		 hv = gnu_hash(name), b = h->bloom_bits;
	size_t			 k = (hv / b) & (h->bloom_size - 1);
	uint64_t		 word, mask;
	bool			 found = false;

	word = b == 64 ? ((const uint64_t *)h->bloom)[k] :
	    ((const uint32_t *)h->bloom)[k];
	mask = UINT64_C(1) << (hv % b) |
	    UINT64_C(1) << ((hv >> h->bloom_shift) % b);
	if ((word & mask) != mask)
		return false;
	for (size_t i = h->buckets[hv % h->nbuckets];
	    i >= h->symoffset && i - h->symoffset < h->nchain; i++) {
		uint32_t	c = h->chain[i - h->symoffset];

		if ((c | 1) == (hv | 1))
			consider(o, i, name, out, &found);
		if (c & 1)
			break;
	}
	return found;
}

/* DT_HASH: the bucket's chain, at most nchain links (a loop is no end). */
static bool
sysv_lookup(const struct object *o, const char *name, struct sym *out)
{
	const struct dynhash	*h = &o->dh;
	uint32_t		 i = h->buckets[sysv_hash(name) % h->nbuckets];
	bool			 found = false;

	for (uint32_t n = 0; i != STN_UNDEF && i < h->nchain &&
	    n < h->nchain; i = h->chain[i], n++)
		consider(o, i, name, out, &found);
	return found;
}

/* Does o export name? 1 yes (*sym set), 0 no, -1 ENOMEM (dyn[] only). */
static int
find_export(struct object *o, const char *name, struct sym *sym)
{
	const struct sym	*s;

	if (o->dynsym == 0)
		return 0;
	if (o->dh.kind == HASH_UNTRIED)
		dynhash_open(o);
	if (o->dh.kind == HASH_GNU)
		return gnu_lookup(o, name, sym);
	if (o->dh.kind == HASH_SYSV)
		return sysv_lookup(o, name, sym);
	if (load_dyn(o) == -1)
		return -1;
	if ((s = lookup_dyn(o, name)) == NULL)
		return 0;
	*sym = *s;
	return 1;
}

/* ---- sections and symbols of an address ------------------------------ */

static const struct sect *
sect_at(const struct object *o, uint64_t v)
{
	size_t	lo = 0, hi = o->nsects;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (o->sects[mid].addr <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || v - o->sects[lo - 1].addr >= o->sects[lo - 1].size)
		return NULL;
	return &o->sects[lo - 1];
}

static const struct sect *
sect_by_index(const struct object *o, size_t index)
{
	for (size_t k = 0; k < o->nsects; k++)
		if (o->sects[k].index == index)
			return &o->sects[k];
	return NULL;
}

/*
 * The symbol of section s nearest at or below v, preferring the highest
 * one that covers v. Only a symbol within maxsize below v can cover it,
 * which bounds the scan downwards.
 */
static const struct sym *
sym_near(const struct object *o, const struct sect *s, uint64_t v)
{
	const struct sym	*base = o->syms + s->sym0;
	size_t			 lo = 0, hi = s->nsym;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;

		if (base[mid].value <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	for (size_t j = lo; j-- > 0 && v - base[j].value < s->maxsize;)
		if (v - base[j].value < base[j].size)
			return &base[j];
	return &base[lo - 1];
}

/* ---- load bias ------------------------------------------------------- */

static bool
same_file(const struct object *o, const struct mw_region *r)
{
	return key_cmp(o, r) == 0;
}

/* Could r be part of a loaded image? The loader maps private, by file. */
static bool
maybe_image(const struct mw_region *r)
{
	return r->inode != 0 && !(r->perms & MW_PERM_SHARED) &&
	    (r->name == NULL || r->name[0] == '/');
}

/* The file offset of the object's first mapping: its head's. */
static uint64_t
head_offset(const struct object *o)
{
	return pagedown(o->loads[0].offset, o->pagesize);
}

/* How far the image reaches from its first page to its last. */
static uint64_t
image_span(const struct object *o)
{
	const struct mwi_load	*last = &o->loads[o->nloads - 1];

	return pageup(last->vaddr + last->memsz, o->pagesize) -
	    pagedown(o->loads[0].vaddr, o->pagesize);
}

/*
 * Does file mapping r sit where some PT_LOAD would put it, given bias?
 * A hole between segments (---p) is what is left of ld.so's first
 * mapping of the whole span, so it continues the head's file offsets.
 */
static bool
bias_fits(const struct object *o, const struct mw_region *r, uint64_t bias)
{
	uint64_t	pg = o->pagesize;

	if ((r->perms & (MW_PERM_READ | MW_PERM_WRITE | MW_PERM_EXEC)) == 0)
		return r->offset >= head_offset(o) && r->start - bias ==
		    pagedown(o->loads[0].vaddr, pg) + (r->offset - head_offset(o));
	for (unsigned int i = 0; i < o->nloads; i++) {
		const struct mwi_load	*l = &o->loads[i];

		if (l->filesz > 0 && pagedown(l->offset, pg) <= r->offset &&
		    r->offset < pageup(l->offset + l->filesz, pg) &&
		    r->start - bias == pagedown(l->vaddr, pg) +
		    (r->offset - pagedown(l->offset, pg)))
			return true;
	}
	return false;
}

/*
 * Is r the mapping of o's first PT_LOAD? The loader maps that segment's
 * file pages and no more (ld.so maps the whole span first, then maps
 * the other segments over it and makes the holes PROT_NONE; the kernel
 * unmaps the rest), so a longer mapping of the file is something else:
 * a plain mmap of the whole file, say.
 */
static bool
is_head(const struct object *o, const struct mw_region *r)
{
	const struct mwi_load	*l = &o->loads[0];

	return same_file(o, r) && maybe_image(r) &&
	    r->offset == head_offset(o) && r->end - r->start <=
	    pageup(l->offset + l->filesz, o->pagesize) - head_offset(o);
}

/* The head of o nearest at or below region i, within the image's span. */
static bool
find_head(const struct object *o, const struct mw_maps *m, size_t i,
    size_t *head)
{
	const struct mw_region	*v = m->regions;
	uint64_t		 span = image_span(o);

	for (size_t j = i + 1; j-- > 0 && v[i].start - v[j].start < span;)
		if (is_head(o, &v[j])) {
			*head = j;
			return true;
		}
	return false;
}

/*
 * The load bias of the image that file region i belongs to: from the
 * head, the mapping of the first PT_LOAD (internals.md, section 8), and
 * checked against a second mapping of the object: region i itself, or
 * when i is the head, the next mapping of the file within the image.
 * An object of several PT_LOADs always has that second mapping when it
 * was loaded, so without one the head is a plain mmap of the file.
 */
static bool
find_bias(const struct object *o, const struct mw_maps *m, size_t i,
    uint64_t *bias)
{
	const struct mw_region	*v = m->regions;
	uint64_t		 span = image_span(o);
	size_t			 h;

	if (!find_head(o, m, i, &h))
		return false;
	*bias = v[h].start - pagedown(o->loads[0].vaddr, o->pagesize);
	if (i != h)
		return bias_fits(o, &v[i], *bias);
	for (size_t j = h + 1; j < m->nregions && v[j].start - v[h].start < span;
	    j++)
		if (same_file(o, &v[j]))
			return bias_fits(o, &v[j], *bias);
	return o->nloads == 1;
}

/* ---- the interface ---------------------------------------------------- */

struct mwi_symcache *
mwi_symcache_new(pid_t pid)
{
	struct mwi_symcache	*c;

	pthread_once(&libelf_once, libelf_init);
	if (!libelf_usable) {
		errno = ENOSYS;
		return NULL;
	}
	if ((c = mwi_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->pid = pid;
	return c;
}

void
mwi_symcache_free(struct mwi_symcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		object_unload(c->v[i]);
		free(c->v[i]);
	}
	free(c->v);
	free(c);
}

static void
fill(struct mwi_symbol *out, const struct object *o, const struct sect *s,
    const struct sym *sym, uint64_t bias, uint64_t v)
{
	memset(out, 0, sizeof(*out));
	out->object = o->path;
	out->bias = bias;
	out->section = s != NULL ? s->name : NULL;
	if (sym == NULL)
		return;
	out->name = sym->name;
	out->value = sym->value + bias;
	out->size = sym->size;
	out->offset = v - sym->value;
}

/*
 * The object whose image holds addr, with the index of the file region
 * it is found by: addr's own region, or for the anonymous .bss tail
 * (unnamed rw-p right after a mapping of the object; classify.c's
 * anon_kind) the region before it. 1 found, 0 none, -1 ENOMEM.
 */
static int
object_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    struct object **o, size_t *fi)
{
	const struct mw_region	*r = mw_maps_find(m, addr);

	if (r == NULL)
		return 0;
	*fi = (size_t)(r - m->regions);
	if (r->name == NULL && r->inode == 0 &&
	    r->perms == (MW_PERM_READ | MW_PERM_WRITE) && *fi > 0 &&
	    r[-1].end == r->start) {
		r--;
		(*fi)--;
	}
	if (!maybe_image(r))
		return 0;
	if ((*o = object_get(c, r)) == NULL)
		return -1;
	return (*o)->state == ELF;
}

/* Is v (link-time) inside the memory of a writable PT_LOAD? */
static bool
in_writable_load(const struct object *o, uint64_t v)
{
	for (unsigned int i = 0; i < o->nloads; i++)
		if ((o->loads[i].flags & PF_W) && v >= o->loads[i].vaddr &&
		    v - o->loads[i].vaddr < o->loads[i].memsz)
			return true;
	return false;
}

int
mwi_sym_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    struct mwi_symbol *out)
{
	struct object		*o;
	const struct sect	*s;
	size_t			 fi;
	uint64_t		 bias, v;
	int			 rc;

	if ((rc = object_at(c, m, addr, &o, &fi)) != 1)
		return rc;
	if (!find_bias(o, m, fi, &bias)) {
		/* An ELF file, not laid out as an image: no sections. */
		if (addr >= m->regions[fi].end)
			return 0;
		fill(out, o, NULL, NULL, 0, 0);
		return 1;
	}
	v = addr - bias;
	if (addr >= m->regions[fi].end && !in_writable_load(o, v))
		return 0;	/* anonymous memory past the .bss */
	if (load_syms(o) == -1)
		return -1;
	s = sect_at(o, v);
	fill(out, o, s, s != NULL ? sym_near(o, s, v) : NULL, bias, v);
	return 1;
}

/*
 * Does o define name? Its exports first, then (with symtab) .symtab.
 * 1 yes (*sym set), 0 no, -1 ENOMEM.
 */
static int
defines(struct object *o, const char *name, bool symtab, struct sym *sym)
{
	const struct sym	*s;
	int			 rc;

	if ((rc = find_export(o, name, sym)) != 0 || !symtab)
		return rc;
	if (load_tabname(o) == -1)
		return -1;
	if ((s = lookup_tab(o, name)) == NULL)
		return 0;
	*sym = *s;
	return 1;
}

/* The first image in the maps that defines name: mwi_sym_find's walk. */
static int
find_by_name(struct mwi_symcache *c, const struct mw_maps *m,
    const char *name, bool symtab, struct mwi_symbol *out)
{
	struct sym	 sym;
	struct object	*o;
	uint64_t	 bias;
	int		 rc;

	for (size_t i = 0; i < m->nregions; i++) {
		const struct mw_region	*r = &m->regions[i];

		if (!maybe_image(r))
			continue;
		if ((o = object_get(c, r)) == NULL)
			return -1;
		/* Each image is met once, at its head. */
		if (o->state != ELF || !is_head(o, r))
			continue;
		if ((rc = defines(o, name, symtab, &sym)) != 1) {
			if (rc == -1)
				return -1;
			continue;
		}
		if (find_bias(o, m, i, &bias)) {
			fill(out, o, sect_by_index(o, sym.shndx), &sym, bias,
			    sym.value);
			return 1;
		}
	}
	return 0;
}

int
mwi_sym_find(struct mwi_symcache *c, const struct mw_maps *m,
    const char *name, struct mwi_symbol *out)
{
	return find_by_name(c, m, name, true, out);
}

int
mwi_sym_find_dynamic(struct mwi_symcache *c, const struct mw_maps *m,
    const char *name, struct mwi_symbol *out)
{
	return find_by_name(c, m, name, false, out);
}
