/*
 * elfsym.c: the section and the nearest symbol of an address inside a
 * mapped ELF object, and the address of a symbol by name.
 *
 * The cache keeps one entry per object, found by (device, inode) in an
 * array of pointers sorted by that key; each entry is filled in stages,
 * on first need, and each stage runs once (a stage that ran out of
 * memory keeps what it finished and runs again on the next call):
 *
 *   cache->v[] --> struct object
 *                   key: dev, inode           path: "/usr/lib/.../libc.so.6"
 *   1 headers       read with pread, in the file's byte order and class:
 *                   loads[]: the PT_LOADs, in file order (= vaddr order)
 *                   dynsym, dynstr, versym, gnuhash, hash: where these
 *                   sections lie in the file; symtab: its index
 *     exports       dh: the header of .dynsym's hash table, checked
 *                     .gnu.hash: nbuckets symoffset bloom_size bloom_shift
 *                                bloom[bloom_size] buckets[nbuckets] chain[]
 *                     .hash:     nbucket nchain bucket[nbucket] chain[nchain]
 *                   a lookup reads the words it probes, as ld.so does: by
 *                   pread, or from image once libelf maps the file
 *   2 libelf        elf (ELF_C_READ_MMAP, the file mapped read-only), image
 *                   sects[]: SHF_ALLOC sections, sorted by sh_addr
 *                            { addr, size, name, index, sym0, nsym, maxsize }
 *                   dyn[]: only for an object without a usable hash table:
 *                   .dynsym's exports, sorted by name
 *   3 by address    syms[]: from .symtab, else .dynsym, sorted by
 *                   (section index, value, preference)      |
 *                   sects[k].sym0 .. sym0 + nsym  ----------+ its symbols
 *                   made at an object's lookup SCAN_LOOKUPS + 1 (16; see
 *                   mwi_symcache_scan_first); the lookups before scan
 *                   the ELF table itself (sym_scan).
 *                   One `where` asks once, `stack` a few times per
 *                   object: sorting libpython's 20,000 symbols cost half
 *                   of `where`, and making libc's array and sorting it a
 *                   fifth of the page faults of `stack` (25 us each here)
 *   4 by name       tabname[]: pointers into syms[] by name (.symtab only)
 *
 * Why two ways to read a file: a by-name lookup asks every object of a
 * process (is this a CPython? most are not), and mapping an object for
 * libelf, faulting its pages in and unmapping it costs several times
 * what opening it and a few preads do (some 25 us against 5 to 7 for a
 * library of clangd's here). So an object that only answers "do you
 * export this name?" is read by hand, a few hundred bytes of it; libelf
 * comes in for an object whose sections or symbols are wanted, or that
 * defines the name (whose string must outlive the call).
 *
 * Names point into the string tables of the file as libelf maps it
 * (elf_strptr), so they live as long as the cache. The cache holds at
 * most one file descriptor (fd, of the object fd_of), and only during a
 * call: libelf keeps the file mapped (ELF_C_FDREAD makes sure all it
 * needs is in memory), so many objects cannot exhaust RLIMIT_NOFILE.
 *
 * Invariants:
 *   - v[] is sorted by (dev_major, dev_minor, inode), without duplicates.
 *   - state is UNTRIED, NOT_ELF (unreadable, no ELF, no PT_LOAD) or ELF;
 *     only an ELF entry has elf != NULL. One that libelf cannot read
 *     after all stays ELF, with no_libelf set (stage 2 is not tried
 *     again): what stage 1 read still answers, so that no answer
 *     depends on what was asked before (a plain mmap of such a file is
 *     the file, with no sections, before and after a lookup that
 *     needed libelf). image, sects[], dyn[], syms[] and tabname[] (and
 *     have_dyn, have_syms, have_tabname) come only with elf; sorted
 *     only with have_syms, and sects[].sym0, nsym and maxsize only once
 *     sorted.
 *   - dh.kind is HASH_GNU or HASH_SYSV only when the whole table lies
 *     in its section (its counts checked against sh_size), so a lookup
 *     reads no word outside it; a table that fails the checks is none
 *     (HASH_NONE), and dyn[] stands in for it.
 *   - By name, .dynsym offers only what ld.so binds a plain name to:
 *     defined, not local, not a hidden version (hash and dyn[] alike).
 *   - Once sorted, within syms[] the symbols of one section are
 *     contiguous and sorted by value; among equal values the preferred
 *     one comes last, so a scan downwards from the first value above an
 *     address meets the best candidate first. The scan of the ELF table
 *     (sym_scan) picks the same symbol.
 *   - The load bias is not cached: it belongs to a mapping of the object,
 *     so it is found in the maps at hand on each call, by a walk of a few
 *     regions bounded by the image's span:
 *
 *       head: offset = mwi_pagedown(PT_LOAD[0].p_offset), no longer than it
 *       bias = head.start - mwi_pagedown(PT_LOAD[0].p_vaddr)
 *       checked: another mapping of the file sits where its PT_LOAD and
 *       this bias put it (without one, a plain mmap of the file)
 */
#include "mwi.h"

#include <errno.h>
#include <gelf.h>
#include <pthread.h>
#include <stddef.h>
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

/* Where a section lies in the file; index 0: there is none. */
struct table {
	size_t		 index, link;
	uint64_t	 offset, size, entsize;
};

enum hash_kind { HASH_UNTRIED, HASH_NONE, HASH_GNU, HASH_SYSV };

/*
 * The hash table of .dynsym (drawn above), as file offsets of its
 * arrays. A bloom word has the size of an address (wbytes: 8 or 4);
 * the other words have 32 bits, as SHT_HASH's sh_entsize must say for
 * us to use it (not so on s390x and Alpha).
 */
struct dynhash {
	enum hash_kind	 kind;
	uint32_t	 nbuckets, nchain;	/* chain[]'s words */
	uint32_t	 symoffset;		/* GNU: chain[0]'s symbol */
	uint32_t	 bloom_size, bloom_shift, wbytes;
	uint64_t	 bloom, buckets, chain;
	uint64_t	 nsyms;			/* .dynsym's entries */
};

struct object {
	uint64_t	 inode;
	unsigned int	 dev_major, dev_minor;
	enum state	 state;
	char		*path;
	bool		 elf64, msb;	/* ELFCLASS64, ELFDATA2MSB */
	bool		 no_libelf;	/* libelf could not read it */
	uint64_t	 pagesize;
	unsigned int	 nloads;
	struct mwi_load	 loads[MWI_MAX_LOADS];
	struct table	 dynsym, dynstr, versym, gnuhash, hash;
	size_t		 symtab;	/* section index; 0 none */
	struct dynhash	 dh;
	Elf		*elf;
	const char	*image;		/* the file as libelf maps it */
	size_t		 image_size;
	size_t		 nsects;
	struct sect	*sects;
	bool		 have_dyn;
	size_t		 ndyn;
	struct sym	*dyn;
	bool		 have_syms;
	bool		 sorted;		/* syms[], and sects[].sym0.. */
	unsigned int	 lookups;		/* by address, so far */
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
	int		 fd;		/* open on fd_of's file, or -1 */
	const struct object *fd_of;
	unsigned int	 scan_lookups;	/* per object, before syms[] */
};

static pthread_once_t	libelf_once = PTHREAD_ONCE_INIT;
static bool		libelf_usable;

static void
libelf_init(void)
{
	libelf_usable = elf_version(EV_CURRENT) != EV_NONE;
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

/* ---- the one file descriptor ------------------------------------------ */

static void
fd_release(struct mwi_symcache *c)
{
	if (c->fd_of != NULL)
		close(c->fd);
	c->fd_of = NULL;
	c->fd = -1;
}

/* A descriptor of o's file (mapped as r), or -1: each call reuses it. */
static int
object_fd(struct mwi_symcache *c, const struct object *o,
    const struct mw_region *r)
{
	if (c->fd_of == o)
		return c->fd;
	fd_release(c);
	if ((c->fd = mwi_open_object(c->pid, r)) != -1)
		c->fd_of = o;
	return c->fd;
}

/* ---- reading by hand: bytes at an offset, fields in the file's order -- */

static bool
read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t	n;

	if (off > (uint64_t)INT64_MAX - len)
		return false;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)len;
}

/*
 * An n-byte unsigned field at p (n = 1, 2, 4 or 8), in o's byte order:
 * copied as it lies, and swapped when that is not this machine's.
 */
static uint64_t
getn(const struct object *o, const unsigned char *p, size_t n)
{
	bool		swap = o->msb != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
	uint16_t	v16;
	uint32_t	v32;
	uint64_t	v64;

	switch (n) {
	case 2:
		memcpy(&v16, p, 2);
		return swap ? __builtin_bswap16(v16) : v16;
	case 4:
		memcpy(&v32, p, 4);
		return swap ? __builtin_bswap32(v32) : v32;
	case 8:
		memcpy(&v64, p, 8);
		return swap ? __builtin_bswap64(v64) : v64;
	default:
		return p[0];
	}
}

/* Field f of an Elf32_T or Elf64_T (as o's class says) at p. */
#define FIELD(o, p, T, f)						\
	getn((o), (p) + ((o)->elf64 ? offsetof(Elf64_##T, f) :		\
	    offsetof(Elf32_##T, f)), (o)->elf64 ?			\
	    sizeof(((Elf64_##T *)0)->f) : sizeof(((Elf32_##T *)0)->f))
#define SIZEOF(o, T)	((o)->elf64 ? sizeof(Elf64_##T) : sizeof(Elf32_##T))

/*
 * Bytes of o's file: from libelf's map of it once stage 2 has run (no
 * descriptor is needed then, and a process that is gone cannot make a
 * known object forget its names), else by pread on fd.
 */
static bool
read_obj(const struct object *o, int fd, void *buf, size_t len, uint64_t off)
{
	if (o->image == NULL)
		return read_at(fd, buf, len, off);
	if (off > o->image_size || len > o->image_size - off)
		return false;
	memcpy(buf, o->image + off, len);
	return true;
}

/* A 32-bit word (or an 8-byte one, n = 8) at a file offset. */
static bool
read_word(const struct object *o, int fd, uint64_t off, size_t n,
    uint64_t *v)
{
	unsigned char	b[8];

	if (!read_obj(o, fd, b, n, off))
		return false;
	*v = getn(o, b, n);
	return true;
}

/* ---- stage 1: program and section headers, by hand ---------------------- */

/*
 * The ELF header in head[0..n): an ELF file memwalk can place (an
 * executable or a shared object, headers of the sizes of its class)?
 */
static bool
ehdr_ok(struct object *o, const unsigned char *head, size_t n)
{
	uint64_t	type;

	if (n < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0 ||
	    (head[EI_CLASS] != ELFCLASS32 && head[EI_CLASS] != ELFCLASS64) ||
	    (head[EI_DATA] != ELFDATA2LSB && head[EI_DATA] != ELFDATA2MSB))
		return false;
	o->elf64 = head[EI_CLASS] == ELFCLASS64;
	o->msb = head[EI_DATA] == ELFDATA2MSB;
	if (n < SIZEOF(o, Ehdr))
		return false;
	type = FIELD(o, head, Ehdr, e_type);
	return (type == ET_EXEC || type == ET_DYN) &&
	    FIELD(o, head, Ehdr, e_phentsize) == SIZEOF(o, Phdr);
}

static void
note_load(struct object *o, const unsigned char *p)
{
	struct mwi_load	*l = &o->loads[o->nloads];

	if (FIELD(o, p, Phdr, p_type) != PT_LOAD ||
	    o->nloads == MWI_MAX_LOADS)
		return;
	l->vaddr = FIELD(o, p, Phdr, p_vaddr);
	l->memsz = FIELD(o, p, Phdr, p_memsz);
	l->offset = FIELD(o, p, Phdr, p_offset);
	l->filesz = FIELD(o, p, Phdr, p_filesz);
	l->flags = (unsigned int)FIELD(o, p, Phdr, p_flags) &
	    (PF_R | PF_W | PF_X);
	o->nloads++;
}

/*
 * The PT_LOADs, among the first MAX_PHDRS program headers (the linkers
 * put them first). The headers follow the ELF header at the start of
 * the file, where head[0..n) has them already; else they are read.
 */
#define MAX_PHDRS	64

static void
read_loads(struct object *o, int fd, const unsigned char *head, size_t n)
{
	uint64_t		 phoff = FIELD(o, head, Ehdr, e_phoff);
	size_t			 phnum = FIELD(o, head, Ehdr, e_phnum);
	size_t			 esz = SIZEOF(o, Phdr);
	unsigned char		 buf[MAX_PHDRS * sizeof(Elf64_Phdr)];
	const unsigned char	*p = buf;

	if (phnum > MAX_PHDRS)
		phnum = MAX_PHDRS;
	if (phoff <= n && phnum * esz <= n - phoff)
		p = head + phoff;
	else if (!read_at(fd, buf, phnum * esz, phoff))
		return;
	for (size_t i = 0; i < phnum; i++)
		note_load(o, p + i * esz);
}

static void
parse_shdr(const struct object *o, const unsigned char *p, size_t index,
    struct table *t)
{
	t->index = index;
	t->link = FIELD(o, p, Shdr, sh_link);
	t->offset = FIELD(o, p, Shdr, sh_offset);
	t->size = FIELD(o, p, Shdr, sh_size);
	t->entsize = FIELD(o, p, Shdr, sh_entsize);
}

/* The tables that symbols are found in and by (.gnu.hash has no entsize). */
static void
note_section(struct object *o, const unsigned char *p, size_t index)
{
	struct table	t;
	uint64_t	type = FIELD(o, p, Shdr, sh_type);

	if (type != SHT_GNU_HASH && type != SHT_HASH && type != SHT_SYMTAB &&
	    type != SHT_DYNSYM && type != SHT_GNU_versym)
		return;
	parse_shdr(o, p, index, &t);
	if (t.size == 0)
		return;
	if (type == SHT_GNU_HASH)
		o->gnuhash = t;
	else if (type == SHT_HASH)
		o->hash = t;
	else if (t.entsize == 0)
		return;
	else if (type == SHT_SYMTAB)
		o->symtab = index;
	else if (type == SHT_DYNSYM)
		o->dynsym = t;
	else if (type == SHT_GNU_versym)
		o->versym = t;
}

static bool
read_shdr(const struct object *o, int fd, uint64_t shoff, size_t index,
    struct table *t)
{
	unsigned char	b[sizeof(Elf64_Shdr)];

	if (!read_at(fd, b, SIZEOF(o, Shdr), shoff + index * SIZEOF(o, Shdr)))
		return false;
	parse_shdr(o, b, index, t);
	return true;
}

/*
 * The section headers, SHDR_CHUNK at a time, and .dynstr's (the link of
 * .dynsym). With more than 0xff00 sections, e_shnum is 0 and section
 * 0's sh_size holds the count; past MAX_SECTIONS, we want none of them.
 */
#define SHDR_CHUNK	64
#define MAX_SECTIONS	65536

static void
read_sections_raw(struct object *o, int fd, const unsigned char *head)
{
	uint64_t	shoff = FIELD(o, head, Ehdr, e_shoff);
	size_t		shnum = FIELD(o, head, Ehdr, e_shnum);
	size_t		esz = SIZEOF(o, Shdr);
	unsigned char	buf[SHDR_CHUNK * sizeof(Elf64_Shdr)];
	struct table	zero;

	if (shoff == 0 || FIELD(o, head, Ehdr, e_shentsize) != esz)
		return;
	if (shnum == 0 && read_shdr(o, fd, shoff, 0, &zero))
		shnum = zero.size < MAX_SECTIONS ? zero.size : 0;
	for (size_t i = 0; i < shnum; i += SHDR_CHUNK) {
		size_t	k = shnum - i < SHDR_CHUNK ? shnum - i : SHDR_CHUNK;

		if (!read_at(fd, buf, k * esz, shoff + i * esz))
			return;
		for (size_t j = 0; j < k; j++)
			note_section(o, buf + j * esz, i + j);
	}
	if (o->dynsym.index != 0 && o->dynsym.link < shnum &&
	    !read_shdr(o, fd, shoff, o->dynsym.link, &o->dynstr))
		memset(&o->dynstr, 0, sizeof(o->dynstr));
}

static ssize_t
read_head(int fd, unsigned char *buf, size_t len)
{
	ssize_t	n;

	do
		n = pread(fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	return n;
}

static void
object_unload(struct object *o)
{
	uint64_t	inode = o->inode;
	unsigned int	dev_major = o->dev_major, dev_minor = o->dev_minor;

	free(o->sects);
	free(o->syms);
	free(o->dyn);
	free(o->tabname);
	if (o->elf != NULL)
		elf_end(o->elf);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->inode = inode;
	o->dev_major = dev_major;
	o->dev_minor = dev_minor;
}

/*
 * Stage 1. Returns 0 with o->state set (NOT_ELF included: a file that
 * cannot be read is no ELF to us), -1 when memory ran out (o untried).
 */
static int
object_load(struct mwi_symcache *c, struct object *o,
    const struct mw_region *r)
{
	const char	*name = r->name != NULL ? r->name : "";
	unsigned char	 head[1024];
	ssize_t		 n = -1;
	int		 fd;

	o->pagesize = (uint64_t)sysconf(_SC_PAGESIZE);
	if ((fd = object_fd(c, o, r)) != -1)
		n = read_head(fd, head, sizeof(head));
	if (n > 0 && ehdr_ok(o, head, (size_t)n))
		read_loads(o, fd, head, (size_t)n);
	if (o->nloads == 0) {
		object_unload(o);
		o->state = NOT_ELF;
		return 0;
	}
	read_sections_raw(o, fd, head);
	if ((o->path = mwi_malloc(strlen(name) + 1)) == NULL) {
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
	if (o->state == UNTRIED && object_load(c, o, r) == -1)
		return NULL;
	return o;
}

/* ---- stage 2: libelf, and the sections ---------------------------------- */

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

		if (gelf_getshdr(scn, &sh) == NULL || !is_image_section(&sh) ||
		    o->nsects == nsh)
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

static Elf *
open_libelf(int fd)
{
	Elf		*elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr	 eh;

	/* Whatever libelf needs is in memory from here on. */
	if (elf != NULL && (elf_cntl(elf, ELF_C_FDREAD) != 0 ||
	    elf_kind(elf) != ELF_K_ELF || gelf_getehdr(elf, &eh) == NULL)) {
		elf_end(elf);
		elf = NULL;
	}
	return elf;
}

/*
 * Stage 2, for an ELF object mapped as r: 0 with o->elf set (or, when
 * libelf cannot read what its headers promised, without it, and
 * no_libelf set), -1 ENOMEM.
 */
static int
load_elf(struct mwi_symcache *c, struct object *o, const struct mw_region *r)
{
	int	fd;

	if (o->elf != NULL || o->no_libelf)
		return 0;
	if ((fd = object_fd(c, o, r)) != -1)
		o->elf = open_libelf(fd);
	if (o->elf == NULL) {
		o->no_libelf = true;
		return 0;
	}
	if (read_sections(o) == -1) {
		elf_end(o->elf);
		o->elf = NULL;
		return -1;
	}
	o->image = elf_rawfile(o->elf, &o->image_size);
	return 0;
}

/* ---- symbol tables ------------------------------------------------- */

#define SCAN_LOOKUPS	16	/* by address, before syms[] is made */

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
 * What ld.so can bind a plain name to: a wanted symbol that is not
 * local (global, weak or GNU unique), unless a hidden version.
 */
static bool
exportable(const GElf_Sym *s, const char *name)
{
	return wanted(s, name) && GELF_ST_BIND(s->st_info) != STB_LOCAL;
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
	if (by_name && o->versym.index != 0)
		versym = section_data(o->elf, o->versym.index, &vsh);
	if ((*out = mwi_calloc(count + 1, sizeof(**out))) == NULL)
		return -1;
	for (size_t i = 1; i < count; i++) {
		const char	*name;

		if (gelf_getsym(data, (int)i, &gs) == NULL)
			continue;
		name = elf_strptr(o->elf, sh.sh_link, gs.st_name);
		if (by_name ? !exportable(&gs, name) ||
		    hidden_version(versym, i) : !wanted(&gs, name))
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

/* Stage 3: the symbols, as the table has them. 0, or -1 ENOMEM. */
static int
load_syms(struct object *o)
{
	size_t	table = o->symtab != 0 ? o->symtab : o->dynsym.index;

	if (o->have_syms)
		return 0;
	if (read_table(o, table, false, &o->syms, &o->nsyms) == -1)
		return -1;
	o->have_syms = true;
	return 0;
}

/* Then sorted by address, before a second lookup or a by-name table. */
static void
sort_syms(struct object *o)
{
	if (o->sorted)
		return;
	qsort(o->syms, o->nsyms, sizeof(*o->syms), by_address);
	index_sections(o);
	o->sorted = true;
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
	if (read_table(o, o->dynsym.index, true, &o->dyn, &o->ndyn) == -1)
		return -1;
	qsort(o->dyn, o->ndyn, sizeof(*o->dyn), by_name);
	o->have_dyn = true;
	return 0;
}

/* Stage 4: .symtab by name, when there is one. 0, or -1 ENOMEM. */
static int
load_tabname(struct object *o)
{
	if (o->have_tabname)
		return 0;
	if (o->symtab != 0) {
		if (load_syms(o) == -1)
			return -1;
		sort_syms(o);	/* tabname points into syms[]: no more moves */
		if ((o->tabname = mwi_calloc(o->nsyms + 1,
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

/* The hash functions of the two tables (DT_GNU_HASH's is djb2). */
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

/* A hash section of .dynsym's, and its first n words read into w. */
static bool
hash_head(const struct object *o, int fd, const struct table *t,
    uint32_t *w, size_t n)
{
	unsigned char	b[16];

	if (t->index == 0 || t->link != o->dynsym.index || t->size < 4 * n ||
	    !read_obj(o, fd, b, 4 * n, t->offset))
		return false;
	for (size_t k = 0; k < n; k++)
		w[k] = (uint32_t)getn(o, b + 4 * k, 4);
	return true;
}

/*
 * .gnu.hash, checked whole. ld.so masks the bloom word's index with
 * bloom_size - 1, so a size that is no power of two is no table it
 * could read, nor is a shift that moves every bit of the hash out.
 */
static bool
gnu_hash_open(struct object *o, int fd, struct dynhash *h)
{
	const struct table	*t = &o->gnuhash;
	uint32_t		 w[4];
	uint64_t		 head;

	if (!hash_head(o, fd, t, w, 4))
		return false;
	h->nbuckets = w[0];
	h->symoffset = w[1];
	h->bloom_size = w[2];
	h->bloom_shift = w[3];
	h->wbytes = o->elf64 ? 8 : 4;
	if (h->nbuckets == 0 || h->bloom_size == 0 ||
	    (h->bloom_size & (h->bloom_size - 1)) != 0 || h->bloom_shift >= 32)
		return false;
	head = 16 + (uint64_t)h->bloom_size * h->wbytes +
	    (uint64_t)h->nbuckets * 4;
	if (head > t->size || (t->size - head) / 4 > UINT32_MAX)
		return false;
	h->bloom = t->offset + 16;
	h->buckets = h->bloom + (uint64_t)h->bloom_size * h->wbytes;
	h->chain = t->offset + head;
	h->nchain = (uint32_t)((t->size - head) / 4);
	h->kind = HASH_GNU;
	return true;
}

/* .hash, checked whole: 32-bit words only. */
static bool
sysv_hash_open(struct object *o, int fd, struct dynhash *h)
{
	const struct table	*t = &o->hash;
	uint32_t		 w[2];

	if (t->entsize != 4 || !hash_head(o, fd, t, w, 2))
		return false;
	h->nbuckets = w[0];
	h->nchain = w[1];
	if (h->nbuckets == 0 ||
	    8 + ((uint64_t)h->nbuckets + h->nchain) * 4 > t->size)
		return false;
	h->buckets = t->offset + 8;
	h->chain = h->buckets + (uint64_t)h->nbuckets * 4;
	h->kind = HASH_SYSV;
	return true;
}

/*
 * Find the hash table of .dynsym, once: .gnu.hash when usable (ld.so
 * prefers it too), else .hash, else none (HASH_NONE: dyn[] serves).
 * Symbols must be read whole and their names found in .dynstr.
 */
static void
dynhash_open(struct object *o, int fd)
{
	struct dynhash	*h = &o->dh;
	uint64_t	 esz = SIZEOF(o, Sym);

	memset(h, 0, sizeof(*h));
	h->kind = HASH_NONE;
	if (o->dynsym.entsize < esz || o->dynstr.index == 0)
		return;
	h->nsyms = o->dynsym.size / o->dynsym.entsize;
	if (!gnu_hash_open(o, fd, h) && !sysv_hash_open(o, fd, h)) {
		memset(h, 0, sizeof(*h));
		h->kind = HASH_NONE;
	}
}

/* Is the string at st_name in .dynstr name? Read in pieces, by pread. */
static bool
name_is(const struct object *o, int fd, uint64_t st_name, const char *name)
{
	size_t	len = strlen(name) + 1;	/* with its NUL */
	char	buf[256];

	if (st_name >= o->dynstr.size || o->dynstr.size - st_name < len)
		return false;
	for (size_t k = 0; k < len; k += sizeof(buf)) {
		size_t	n = len - k < sizeof(buf) ? len - k : sizeof(buf);

		if (!read_obj(o, fd, buf, n, o->dynstr.offset + st_name + k) ||
		    memcmp(buf, name + k, n) != 0)
			return false;
	}
	return true;
}

/*
 * A hidden version (memcpy@GLIBC_2.2.5 beside memcpy@@GLIBC_2.14) is
 * not what a plain name means to the dynamic linker: skip it by name.
 */
static bool
raw_hidden(const struct object *o, int fd, uint64_t i)
{
	uint64_t	vs;

	return o->versym.index != 0 && i < o->versym.size / 2 &&
	    read_word(o, fd, o->versym.offset + 2 * i, 2, &vs) &&
	    (vs & 0x8000) != 0;
}

/* A symbol found by hand: what stage 2 needs to name it. */
struct hit {
	struct sym	 s;		/* s.name: the caller's name, for now */
	uint64_t	 st_name;
};

/*
 * Symbol i of .dynsym, when it is an export named name: then into *best
 * if it is the first such or beats it (as dyn[]'s order would rank it).
 */
static void
consider(const struct object *o, int fd, uint64_t i, const char *name,
    struct hit *best, bool *found)
{
	unsigned char	b[sizeof(Elf64_Sym)];
	GElf_Sym	gs;
	struct sym	s;

	if (i >= o->dh.nsyms || !read_obj(o, fd, b, SIZEOF(o, Sym),
	    o->dynsym.offset + i * o->dynsym.entsize))
		return;
	memset(&gs, 0, sizeof(gs));
	gs.st_name = (Elf64_Word)FIELD(o, b, Sym, st_name);
	gs.st_info = (unsigned char)FIELD(o, b, Sym, st_info);
	gs.st_shndx = (Elf64_Section)FIELD(o, b, Sym, st_shndx);
	gs.st_value = FIELD(o, b, Sym, st_value);
	gs.st_size = FIELD(o, b, Sym, st_size);
	if (!exportable(&gs, name) || !name_is(o, fd, gs.st_name, name) ||
	    raw_hidden(o, fd, i))
		return;
	sym_from(&s, &gs, name);
	if (!*found || name_cmp(&s, &best->s) < 0) {
		best->s = s;
		best->st_name = gs.st_name;
	}
	*found = true;
}

/*
 * DT_GNU_HASH: the bloom filter first (two bits of the hash must be set
 * in one word, or no symbol has this hash), then the bucket's run of
 * chain[], whose words hold the hashes of its symbols, the low bit
 * marking the run's last. The run is read CHAIN_PIECE words at a time.
 */
#define CHAIN_PIECE	16

static bool
gnu_lookup(const struct object *o, int fd, const char *name, struct hit *out)
{
	const struct dynhash	*h = &o->dh;
	uint32_t		 hv = gnu_hash(name), b = h->wbytes * 8;
	uint64_t		 word, mask, i;
	unsigned char		 piece[4 * CHAIN_PIECE];
	bool			 found = false;

	mask = UINT64_C(1) << (hv % b) |
	    UINT64_C(1) << ((hv >> h->bloom_shift) % b);
	if (!read_word(o, fd, h->bloom + (uint64_t)((hv / b) &
	    (h->bloom_size - 1)) * h->wbytes, h->wbytes, &word) ||
	    (word & mask) != mask ||
	    !read_word(o, fd, h->buckets + (uint64_t)(hv % h->nbuckets) * 4,
	    4, &i))
		return false;
	/* Bucket 0 is empty: symbol 0 is never hashed. */
	while (i != 0 && i >= h->symoffset && i - h->symoffset < h->nchain) {
		uint64_t	k = i - h->symoffset;
		size_t		n = h->nchain - k < CHAIN_PIECE ?
				    (size_t)(h->nchain - k) : CHAIN_PIECE;

		if (!read_obj(o, fd, piece, 4 * n, h->chain + 4 * k))
			break;
		for (size_t j = 0; j < n; j++, i++) {
			uint32_t	c = (uint32_t)getn(o, piece + 4 * j, 4);

			if ((c | 1) == (hv | 1))
				consider(o, fd, i, name, out, &found);
			if (c & 1)
				return found;
		}
	}
	return found;
}

/* DT_HASH: the bucket's chain, at most nchain links (a loop is no end). */
static bool
sysv_lookup(const struct object *o, int fd, const char *name,
    struct hit *out)
{
	const struct dynhash	*h = &o->dh;
	uint64_t		 i;
	bool			 found = false;

	if (!read_word(o, fd, h->buckets + (uint64_t)(sysv_hash(name) %
	    h->nbuckets) * 4, 4, &i))
		return false;
	for (uint32_t n = 0; i != STN_UNDEF && i < h->nchain && n < h->nchain;
	    n++) {
		consider(o, fd, i, name, out, &found);
		if (!read_word(o, fd, h->chain + 4 * i, 4, &i))
			break;
	}
	return found;
}

/*
 * The export found by hand, named from libelf's .dynstr so that its
 * name lives as long as the cache: 1, 0 (libelf cannot read the file
 * after all), -1 ENOMEM.
 */
static int
name_hit(struct mwi_symcache *c, struct object *o, const struct mw_region *r,
    struct hit *hit, struct sym *sym)
{
	if (load_elf(c, o, r) == -1)
		return -1;
	if (o->elf == NULL || (hit->s.name = elf_strptr(o->elf,
	    o->dynstr.index, hit->st_name)) == NULL)
		return 0;
	*sym = hit->s;
	return 1;
}

/*
 * Does o (mapped as r) export name? 1 yes (*sym set), 0 no, -1 ENOMEM.
 * Through the hash table by hand, else dyn[] from libelf.
 */
static int
find_export(struct mwi_symcache *c, struct object *o,
    const struct mw_region *r, const char *name, struct sym *sym)
{
	const struct sym	*s;
	struct hit		 hit;
	bool			 found;
	int			 fd;

	if (o->dynsym.index == 0)
		return 0;
	/* Once libelf maps the file, its map serves: no descriptor. */
	fd = o->image != NULL ? -1 : object_fd(c, o, r);
	if (fd == -1 && o->image == NULL)
		return 0;
	if (o->dh.kind == HASH_UNTRIED)
		dynhash_open(o, fd);
	if (o->dh.kind != HASH_NONE) {
		found = o->dh.kind == HASH_GNU ? gnu_lookup(o, fd, name, &hit) :
		    sysv_lookup(o, fd, name, &hit);
		return found ? name_hit(c, o, r, &hit, sym) : 0;
	}
	if (load_elf(c, o, r) == -1 || (o->elf != NULL && load_dyn(o) == -1))
		return -1;
	if (o->elf == NULL || (s = lookup_dyn(o, name)) == NULL)
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

/* Is a a better answer for v than b (both at or below v)? */
static bool
better(const struct sym *a, const struct sym *b, uint64_t v)
{
	bool	ca = v - a->value < a->size, cb = v - b->value < b->size;

	if (ca != cb)
		return ca;
	if (a->value != b->value)
		return a->value > b->value;
	return preference(a, b) > 0;
}

/*
 * sym_near straight from the ELF table, without syms[]: the highest
 * symbol of s that covers v, else the highest at or below v; among
 * equal values the preferred. A name is read only for a symbol that
 * could beat the best so far. *out is set when it returns true.
 */
static bool
sym_scan(const struct object *o, const struct sect *s, uint64_t v,
    struct sym *out)
{
	size_t		 table = o->symtab != 0 ? o->symtab : o->dynsym.index;
	GElf_Shdr	 sh;
	GElf_Sym	 gs;
	Elf_Data	*data = section_data(o->elf, table, &sh);
	size_t		 count = data != NULL ? sh.sh_size / sh.sh_entsize : 0;
	bool		 found = false;
	struct sym	 c;

	for (size_t i = 1; i < count; i++) {
		bool	covers;

		if (gelf_getsym(data, (int)i, &gs) == NULL ||
		    gs.st_shndx != s->index || gs.st_value > v)
			continue;
		covers = v - gs.st_value < gs.st_size;
		if (found && (covers != (v - out->value < out->size) ?
		    !covers : gs.st_value < out->value))
			continue;	/* worse whatever its name */
		c.name = elf_strptr(o->elf, sh.sh_link, gs.st_name);
		if (!wanted(&gs, c.name))
			continue;
		sym_from(&c, &gs, c.name);
		if (!found || better(&c, out, v)) {
			*out = c;
			found = true;
		}
	}
	return found;
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
	return mwi_pagedown(o->loads[0].offset, o->pagesize);
}

/* How far the image reaches from its first page to its last. */
static uint64_t
image_span(const struct object *o)
{
	const struct mwi_load	*last = &o->loads[o->nloads - 1];

	return mwi_pageup(last->vaddr + last->memsz, o->pagesize) -
	    mwi_pagedown(o->loads[0].vaddr, o->pagesize);
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
		    mwi_pagedown(o->loads[0].vaddr, pg) + (r->offset - head_offset(o));
	for (unsigned int i = 0; i < o->nloads; i++) {
		const struct mwi_load	*l = &o->loads[i];

		if (l->filesz > 0 && mwi_pagedown(l->offset, pg) <= r->offset &&
		    r->offset < mwi_pageup(l->offset + l->filesz, pg) &&
		    r->start - bias == mwi_pagedown(l->vaddr, pg) +
		    (r->offset - mwi_pagedown(l->offset, pg)))
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
	    mwi_pageup(l->offset + l->filesz, o->pagesize) - head_offset(o);
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
	*bias = v[h].start - mwi_pagedown(o->loads[0].vaddr, o->pagesize);
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
	c->fd = -1;
	c->scan_lookups = SCAN_LOOKUPS;
	return c;
}

void
mwi_symcache_scan_first(struct mwi_symcache *c, unsigned int lookups)
{
	c->scan_lookups = lookups;
}

void
mwi_symcache_free(struct mwi_symcache *c)
{
	if (c == NULL)
		return;
	fd_release(c);
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

static int
sym_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    struct mwi_symbol *out)
{
	struct object		*o;
	const struct sect	*s;
	const struct sym	*sym;
	struct sym		 found;
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
	if (load_elf(c, o, &m->regions[fi]) == -1)
		return -1;
	if (o->elf == NULL)
		return 0;
	if (!o->sorted && o->lookups++ >= c->scan_lookups) {
		if (load_syms(o) == -1)
			return -1;
		sort_syms(o);
	}
	if ((s = sect_at(o, v)) == NULL)
		sym = NULL;
	else if (o->sorted)
		sym = sym_near(o, s, v);
	else
		sym = sym_scan(o, s, v, &found) ? &found : NULL;
	fill(out, o, s, sym, bias, v);
	return 1;
}

int
mwi_sym_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    struct mwi_symbol *out)
{
	int	rc = sym_at(c, m, addr, out);

	fd_release(c);
	return rc;
}

/*
 * Does o (mapped as r) define name? Its exports first, then (with
 * symtab) .symtab. 1 yes (*sym set), 0 no, -1 ENOMEM.
 */
static int
defines(struct mwi_symcache *c, struct object *o, const struct mw_region *r,
    const char *name, bool symtab, struct sym *sym)
{
	const struct sym	*s;
	int			 rc;

	if ((rc = find_export(c, o, r, name, sym)) != 0 || !symtab ||
	    o->symtab == 0)
		return rc;
	if (load_elf(c, o, r) == -1 ||
	    (o->elf != NULL && load_tabname(o) == -1))
		return -1;
	if (o->elf == NULL || (s = lookup_tab(o, name)) == NULL)
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
		if ((rc = defines(c, o, r, name, symtab, &sym)) != 1) {
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
	int	rc = find_by_name(c, m, name, true, out);

	fd_release(c);
	return rc;
}

int
mwi_sym_find_dynamic(struct mwi_symcache *c, const struct mw_maps *m,
    const char *name, struct mwi_symbol *out)
{
	int	rc = find_by_name(c, m, name, false, out);

	fd_release(c);
	return rc;
}
