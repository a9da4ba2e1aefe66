/*
 * check_elfsym.c: sections and symbols of addresses in live processes:
 * this one (functions and variables of the test itself, libc), CPython
 * interpreters (PyLong_Type, _Py_NoneStruct, Py_Version) and
 * tests/target; lookups by name through the hash tables of .dynsym
 * (.gnu.hash, .hash) against the sorted index, for every symbol of
 * libc, libpython and objects built here with one hash style;
 * out-of-memory at every allocation.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mwi.h"
#include "tutil.h"

/* What the test asks about in itself: one of each section. */
int		 elfsym_data = 42;
int		 elfsym_bss;
const char	 elfsym_rodata[] = "elfsym rodata, not in .data";
static char	 elfsym_big_bss[256 * 1024];	/* past the file's last page */

__attribute__((noinline)) int elfsym_global_fn(int);
int		 (*volatile elfsym_fnp)(int);

__attribute__((noinline)) int
elfsym_global_fn(int x)
{
	for (int i = 0; i < 3; i++)
		x = x * 31 + elfsym_data;
	return x;
}

__attribute__((noinline, used)) static int
elfsym_static_fn(int x)
{
	return elfsym_global_fn(x) ^ elfsym_bss ^ elfsym_big_bss[x & 7];
}

#if defined(__x86_64__)
/*
 * A function of 32 bytes with a bare label 8 bytes into it: at and past
 * the label, the function still covers the address, and wins.
 */
__asm__(".text\n"
    ".globl elfsym_asm_fn\n"
    ".type elfsym_asm_fn, @function\n"
    "elfsym_asm_fn:\n"
    ".skip 8, 0x90\n"
    "elfsym_asm_label:\n"
    ".skip 23, 0x90\n"
    "ret\n"
    ".size elfsym_asm_fn, 32\n");
extern const char elfsym_asm_fn[];
#endif

static uint64_t
addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* mwi_sym_at must say 1 and name the symbol, section and offset. */
static void
ck_sym(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    const char *section, const char *name, uint64_t offset)
{
	struct mwi_symbol	s;

	ck_assert_int_eq(mwi_sym_at(c, m, addr, &s), 1);
	ck_assert_ptr_nonnull(s.object);
	ck_assert_msg(s.section != NULL && strcmp(s.section, section) == 0,
	    "0x%" PRIx64 ": section %s, want %s", addr,
	    s.section ? s.section : "(none)", section);
	ck_assert_msg(s.name != NULL && strcmp(s.name, name) == 0,
	    "0x%" PRIx64 ": symbol %s, want %s", addr,
	    s.name ? s.name : "(none)", name);
	ck_assert_uint_eq(s.offset, offset);
	ck_assert_uint_eq(s.value + s.offset, addr);
	ck_assert_uint_le(s.offset, s.size == 0 ? s.offset : s.size - 1);
}

static int
count_fds(void)
{
	DIR	*d = opendir("/proc/self/fd");
	int	 n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static uint64_t
libc_getpid(void)
{
	void	*p = dlsym(RTLD_DEFAULT, "getpid");

	ck_assert_ptr_nonnull(p);
	return addr_of(p);
}

START_TEST(self_sections)
{
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*c = mwi_symcache_new(0);
	uint64_t		 fn = addr_of((void *)elfsym_global_fn);
	struct mwi_symbol	 s;

	elfsym_fnp = elfsym_static_fn;
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	ck_sym(c, m, fn, ".text", "elfsym_global_fn", 0);
	ck_sym(c, m, fn + 5, ".text", "elfsym_global_fn", 5);
	ck_sym(c, m, addr_of((void *)elfsym_fnp), ".text", "elfsym_static_fn",
	    0);
	ck_sym(c, m, addr_of(&elfsym_data), ".data", "elfsym_data", 0);
	ck_sym(c, m, addr_of(&elfsym_bss), ".bss", "elfsym_bss", 0);
	ck_sym(c, m, addr_of(elfsym_rodata) + 3, ".rodata", "elfsym_rodata", 3);
	/* Deep in .bss: the anonymous tail after the file's mappings. */
	ck_sym(c, m, addr_of(elfsym_big_bss + sizeof(elfsym_big_bss) - 8),
	    ".bss", "elfsym_big_bss", sizeof(elfsym_big_bss) - 8);
#if defined(__x86_64__)
	ck_sym(c, m, addr_of(elfsym_asm_fn) + 20, ".text", "elfsym_asm_fn", 20);
	ck_sym(c, m, addr_of(elfsym_asm_fn) + 8, ".text", "elfsym_asm_fn", 8);
	ck_assert_int_eq(mwi_sym_find(c, m, "elfsym_asm_label", &s), 1);
	ck_assert_uint_eq(s.value, addr_of(elfsym_asm_fn) + 8);
#endif
	ck_assert_int_eq(mwi_sym_at(c, m, fn, &s), 1);
	ck_assert_ptr_nonnull(strstr(s.object, "check_elfsym"));
	ck_assert_uint_eq(s.bias & (uint64_t)(sysconf(_SC_PAGESIZE) - 1), 0);
	mwi_symcache_free(c);
	mw_maps_free(m);
}
END_TEST

START_TEST(self_libc_and_find)
{
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*c = mwi_symcache_new(0);
	uint64_t		 gp = libc_getpid();
	struct mwi_symbol	 s;
	int			 fds = count_fds();

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	ck_sym(c, m, gp, ".text", "getpid", 0);
	ck_assert_int_eq(mwi_sym_at(c, m, gp, &s), 1);
	ck_assert_ptr_nonnull(strstr(s.object, "libc.so"));
	ck_assert_int_eq(mwi_sym_find(c, m, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, gp);
	ck_assert_str_eq(s.name, "getpid");
	ck_assert_str_eq(s.section, ".text");
	ck_assert_uint_eq(s.offset, 0);
	/* Only in .symtab: a static function of this very program. */
	ck_assert_int_eq(mwi_sym_find(c, m, "elfsym_static_fn", &s), 1);
	ck_assert_uint_eq(s.value, addr_of((void *)elfsym_static_fn));
	ck_assert_int_eq(mwi_sym_find(c, m, "elfsym_big_bss", &s), 1);
	ck_assert_uint_eq(s.value, addr_of(elfsym_big_bss));
	ck_assert_uint_eq(s.size, sizeof(elfsym_big_bss));
	ck_assert_int_eq(mwi_sym_find(c, m, "no_object_defines_this_xyzzy",
	    &s), 0);
	ck_assert_int_eq(mwi_sym_find(c, m, "", &s), 0);
	/* Every object was read for the names above; none is held open. */
	ck_assert_int_eq(count_fds(), fds);
	mwi_symcache_free(c);
	mw_maps_free(m);
}
END_TEST

static bool
same_name(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * The first lookups in an object scan its symbol table; later ones
 * search them sorted: both name every address the same. Addresses all
 * over libc's text and this program's, each asked of a fresh cache
 * (which scans) and of one that sorts from its second lookup on.
 */
START_TEST(scan_agrees_with_sorted)
{
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*warm = mwi_symcache_new(0), *c;
	const struct mw_region	*v;
	struct mwi_symbol	 a, b;
	size_t			 n, asked = 0;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(warm);
	mwi_symcache_scan_first(warm, 1);
	v = mw_maps_regions(m, &n);
	for (size_t i = 0; i < n; i++) {
		uint64_t	step;

		if (v[i].kind != MW_KIND_TEXT || v[i].name == NULL ||
		    (strstr(v[i].name, "/libc.so") == NULL &&
		    strstr(v[i].name, "check_elfsym") == NULL))
			continue;
		ck_assert_int_eq(mwi_sym_at(warm, m, v[i].start, &b), 1);
		step = (v[i].end - v[i].start) / 97 + 1;
		for (uint64_t addr = v[i].start; addr < v[i].end;
		    addr += step, asked++) {
			ck_assert_ptr_nonnull(c = mwi_symcache_new(0));
			ck_assert_int_eq(mwi_sym_at(c, m, addr, &a), 1);
			ck_assert_int_eq(mwi_sym_at(warm, m, addr, &b), 1);
			ck_assert_msg(same_name(a.section, b.section) &&
			    same_name(a.name, b.name) && a.offset == b.offset,
			    "%#jx: %s %s+%ju vs %s %s+%ju", (uintmax_t)addr,
			    a.section, a.name, (uintmax_t)a.offset, b.section,
			    b.name, (uintmax_t)b.offset);
			mwi_symcache_free(c);
		}
	}
	ck_assert_uint_ge(asked, 2 * 97);
#if defined(__x86_64__)
	/* A label inside a function: the function covers, the label not. */
	ck_assert_ptr_nonnull(c = mwi_symcache_new(0));
	ck_sym(c, m, addr_of(elfsym_asm_fn) + 20, ".text", "elfsym_asm_fn", 20);
	mwi_symcache_free(c);
#endif
	mwi_symcache_free(warm);
	mw_maps_free(m);
}
END_TEST

/*
 * The regions of the file that holds addr and lie in [lo, lo + len), as
 * a maps of their own.
 */
static struct mw_maps *
regions_of(const struct mw_maps *m, uint64_t addr, uint64_t lo, uint64_t len)
{
	const struct mw_region	*r = mw_maps_find(m, addr), *v;
	struct mw_maps		*om;
	size_t			 n, used = 0, errline;
	char			 perms[5], *buf;

	ck_assert_ptr_nonnull(r);
	v = mw_maps_regions(m, &n);
	buf = malloc(n * 256);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		if (v[i].inode == r->inode && v[i].dev_major == r->dev_major &&
		    v[i].dev_minor == r->dev_minor && v[i].start >= lo &&
		    v[i].end - lo <= len)
			used += (size_t)snprintf(buf + used, 256,
			    "%" PRIx64 "-%" PRIx64 " %s %08" PRIx64
			    " %02x:%02x %" PRIu64 " %s\n", v[i].start,
			    v[i].end, mw_perms_str(v[i].perms, perms),
			    v[i].offset, v[i].dev_major, v[i].dev_minor,
			    v[i].inode, v[i].name);
	om = mw_maps_parse(buf, used, &errline);
	ck_assert_ptr_nonnull(om);
	free(buf);
	return om;
}

/* The regions of the object that holds addr, as a maps of their own. */
static struct mw_maps *
only_object(const struct mw_maps *m, uint64_t addr)
{
	return regions_of(m, addr, 0, UINT64_MAX);
}

/*
 * pthread_cond_destroy has an old version beside the default one, at
 * a lower address in glibc 2.36: a name means the default, as dlsym on
 * libc's handle says. Only libc's regions are searched, as the
 * sanitizers define the name too.
 */
START_TEST(self_versions)
{
	struct mw_maps		*m = mw_maps_read(0), *lm;
	struct mwi_symcache	*c = mwi_symcache_new(0);
	void			*libc = dlopen("libc.so.6", RTLD_LAZY |
				    RTLD_NOLOAD);
	void			*want;
	struct mwi_symbol	 s;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(libc);
	lm = only_object(m, libc_getpid());
	want = dlsym(libc, "pthread_cond_destroy");
	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(mwi_sym_find(c, lm, "pthread_cond_destroy", &s), 1);
	ck_assert_uint_eq(s.value, addr_of(want));
	ck_assert_int_eq(mwi_sym_find_dynamic(c, lm, "pthread_cond_destroy",
	    &s), 1);
	ck_assert_uint_eq(s.value, addr_of(want));
	ck_assert_int_eq(mwi_sym_find(c, lm, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, libc_getpid());
	ck_assert_int_eq(mwi_sym_find(c, lm, "elfsym_static_fn", &s), 0);
	dlclose(libc);
	mwi_symcache_free(c);
	mw_maps_free(lm);
	mw_maps_free(m);
}
END_TEST

/* ---- by name: the hash tables against the sorted index ---------------- */

/*
 * An ELF file mapped by hand as ld.so maps it, without running it: the
 * whole span reserved PROT_NONE, then each PT_LOAD's file pages at its
 * place, with its permissions.
 */
struct image {
	char	*base;
	size_t	 span;
};

static uint64_t
pg_down(uint64_t v)
{
	return v & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
}

static uint64_t
pg_up(uint64_t v)
{
	return pg_down(v + (uint64_t)sysconf(_SC_PAGESIZE) - 1);
}

static void
map_image(const char *path, struct image *im)
{
	int		 fd = open(path, O_RDONLY);
	Elf		*e;
	GElf_Phdr	 ph;
	uint64_t	 lo = UINT64_MAX, hi = 0;
	size_t		 n;

	ck_assert_int_ne(fd, -1);
	e = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(elf_getphdrnum(e, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(e, (int)i, &ph) != NULL && ph.p_type == PT_LOAD) {
			lo = ph.p_vaddr < lo ? pg_down(ph.p_vaddr) : lo;
			hi = pg_up(ph.p_vaddr + ph.p_memsz) > hi ?
			    pg_up(ph.p_vaddr + ph.p_memsz) : hi;
		}
	ck_assert_uint_lt(lo, hi);
	im->span = (size_t)(hi - lo);
	im->base = mmap(NULL, im->span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	ck_assert_ptr_ne(im->base, MAP_FAILED);
	for (size_t i = 0; i < n; i++) {
		uint64_t	start;
		int		prot;

		if (gelf_getphdr(e, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		start = pg_down(ph.p_vaddr);
		prot = (ph.p_flags & PF_R ? PROT_READ : 0) |
		    (ph.p_flags & PF_W ? PROT_WRITE : 0) |
		    (ph.p_flags & PF_X ? PROT_EXEC : 0);
		ck_assert_ptr_eq(mmap(im->base + (start - lo),
		    (size_t)(pg_up(ph.p_vaddr + ph.p_filesz) - start), prot,
		    MAP_PRIVATE | MAP_FIXED, fd, (off_t)pg_down(ph.p_offset)),
		    im->base + (start - lo));
	}
	elf_end(e);
	close(fd);
}

/* The regions of the file mapped in [base, base + span), as a maps. */
static struct mw_maps *
only_image(const struct image *im)
{
	struct mw_maps	*m = mw_maps_read(0), *om;

	ck_assert_ptr_nonnull(m);
	om = regions_of(m, addr_of(im->base), addr_of(im->base), im->span);
	mw_maps_free(m);
	return om;
}

static void
copy_file(const char *from, const char *to)
{
	char	buf[1 << 16];
	ssize_t	n;
	int	in = open(from, O_RDONLY), out;

	ck_assert_int_ne(in, -1);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ck_assert_int_ne(out, -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/*
 * The section types of file: how many SHT_GNU_HASH and SHT_HASH; with
 * unhash set, both become SHT_PROGBITS. ld.so reads the dynamic
 * section, not the section headers, so the file still loads. sh_type
 * is the 32-bit word at offset 4 of a section header in either class;
 * the files are this machine's, so it is written in its byte order.
 */
static void
hash_sections(const char *file, bool unhash, int *gnu, int *sysv)
{
	int		 fd = open(file, unhash ? O_RDWR : O_RDONLY);
	Elf		*e;
	Elf_Scn		*scn = NULL;
	GElf_Ehdr	 eh;
	GElf_Shdr	 sh;
	uint32_t	 progbits = SHT_PROGBITS;

	*gnu = *sysv = 0;
	ck_assert_int_ne(fd, -1);
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	ck_assert_ptr_nonnull(e = elf_begin(fd, ELF_C_READ, NULL));
	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		ck_assert_ptr_nonnull(gelf_getshdr(scn, &sh));
		if (sh.sh_type != SHT_GNU_HASH && sh.sh_type != SHT_HASH)
			continue;
		*(sh.sh_type == SHT_GNU_HASH ? gnu : sysv) += 1;
		if (unhash)
			ck_assert_int_eq(pwrite(fd, &progbits, 4, (off_t)(eh.e_shoff
			    + elf_ndxscn(scn) * eh.e_shentsize + 4)), 4);
	}
	elf_end(e);
	close(fd);
}

/*
 * The names of a file's symbol tables, and for each what a by-name
 * lookup of exports must say, by this test's own reading of the file:
 * defined in a section, code or data, not local, and a default or no
 * version (a hidden one, 0x8000 in .gnu.version, is no plain name).
 */
struct name {
	const char	*name;
	bool		 dynamic;	/* in .dynsym at all */
	bool		 exported;
	bool		 in_symtab;	/* in .symtab, wanted there */
	uint64_t	 value, size;	/* of the export */
};

struct names {
	Elf		*elf;
	int		 fd;
	bool		 symtab;	/* the file has a .symtab */
	size_t		 n;
	struct name	*v;
};

static bool
code_or_data(const GElf_Sym *s, const char *name)
{
	unsigned int	t = GELF_ST_TYPE(s->st_info);

	return name[0] != '\0' && name[0] != '$' && s->st_shndx != SHN_UNDEF &&
	    s->st_shndx < SHN_LORESERVE && (t == STT_FUNC || t == STT_OBJECT ||
	    t == STT_GNU_IFUNC || t == STT_NOTYPE);
}

static void
add_table(struct names *ns, Elf_Scn *scn, Elf_Data *versym)
{
	GElf_Shdr	 sh;
	Elf_Data	*d = elf_getdata(scn, NULL);
	GElf_Sym	 s;
	GElf_Versym	 vs;

	ck_assert_ptr_nonnull(gelf_getshdr(scn, &sh));
	ck_assert_ptr_nonnull(d);
	for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
		struct name	*nm = &ns->v[ns->n];

		ck_assert_ptr_nonnull(gelf_getsym(d, (int)i, &s));
		memset(nm, 0, sizeof(*nm));
		nm->name = elf_strptr(ns->elf, sh.sh_link, s.st_name);
		ck_assert_ptr_nonnull(nm->name);
		if (sh.sh_type == SHT_SYMTAB) {
			nm->in_symtab = code_or_data(&s, nm->name);
		} else {
			nm->dynamic = true;
			nm->exported = code_or_data(&s, nm->name) &&
			    GELF_ST_BIND(s.st_info) != STB_LOCAL &&
			    !(versym != NULL &&
			    gelf_getversym(versym, (int)i, &vs) != NULL &&
			    (vs & 0x8000));
			nm->value = s.st_value;
			nm->size = s.st_size;
		}
		ns->n++;
	}
}

static int
name_cmp(const void *a, const void *b)
{
	const struct name	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* One entry per name: exported and dynamic by any entry of that name. */
static void
merge_names(struct names *ns)
{
	size_t	k = 0;

	qsort(ns->v, ns->n, sizeof(*ns->v), name_cmp);
	for (size_t i = 0; i < ns->n; i++) {
		struct name	*to = &ns->v[k - (k > 0 &&
				    strcmp(ns->v[k - 1].name, ns->v[i].name) == 0)];

		if (to == &ns->v[k]) {
			*to = ns->v[i];
			k++;
			continue;
		}
		if (ns->v[i].exported) {
			ck_assert_msg(!to->exported, "%s exported twice",
			    to->name);
			to->value = ns->v[i].value;
			to->size = ns->v[i].size;
		}
		to->exported |= ns->v[i].exported;
		to->dynamic |= ns->v[i].dynamic;
		to->in_symtab |= ns->v[i].in_symtab;
	}
	ns->n = k;
}

static void
read_names(const char *path, struct names *ns)
{
	Elf_Scn		*scn = NULL;
	Elf_Data	*versym = NULL;
	GElf_Shdr	 sh;
	size_t		 total = 0;

	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	memset(ns, 0, sizeof(*ns));
	ck_assert_int_ne(ns->fd = open(path, O_RDONLY), -1);
	ck_assert_ptr_nonnull(ns->elf = elf_begin(ns->fd, ELF_C_READ, NULL));
	while ((scn = elf_nextscn(ns->elf, scn)) != NULL) {
		ck_assert_ptr_nonnull(gelf_getshdr(scn, &sh));
		if (sh.sh_type == SHT_GNU_versym)
			versym = elf_getdata(scn, NULL);
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			total += sh.sh_size / sh.sh_entsize;
		ns->symtab |= sh.sh_type == SHT_SYMTAB;
	}
	ns->v = calloc(total + 1, sizeof(*ns->v));
	ck_assert_ptr_nonnull(ns->v);
	while ((scn = elf_nextscn(ns->elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) != NULL &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			add_table(ns, scn, versym);
	merge_names(ns);
}

static void
free_names(struct names *ns)
{
	free(ns->v);
	elf_end(ns->elf);
	close(ns->fd);
}

static const struct name *
find_name(const struct names *ns, const char *name)
{
	struct name	key = { .name = name };

	return bsearch(&key, ns->v, ns->n, sizeof(*ns->v), name_cmp);
}

/*
 * mwi_sym_find_dynamic on image a (through its hash table) and on b
 * (the same file without one: the sorted index) must agree with each
 * other and with the names. Returns whether name was found.
 */
static bool
agree(struct mwi_symcache *c, const struct mw_maps *a,
    const struct mw_maps *b, const struct names *ns, const char *name)
{
	const struct name	*nm = find_name(ns, name);
	struct mwi_symbol	 sa, sb;
	int			 ra = mwi_sym_find_dynamic(c, a, name, &sa);
	int			 rb = mwi_sym_find_dynamic(c, b, name, &sb);

	ck_assert_msg(ra == rb, "%s: %d by hash, %d by index", name, ra, rb);
	ck_assert_msg(ra == (nm != NULL && nm->exported), "%s: found %d",
	    name, ra);
	if (ra != 1)
		return false;
	ck_assert_str_eq(sa.name, name);
	ck_assert_str_eq(sb.name, name);
	ck_assert_uint_eq(sa.value - sa.bias, nm->value);
	ck_assert_uint_eq(sb.value - sb.bias, nm->value);
	ck_assert_uint_eq(sa.size, nm->size);
	ck_assert_uint_eq(sb.size, nm->size);
	ck_assert_ptr_nonnull(sa.section);
	ck_assert_str_eq(sa.section, sb.section);
	return true;
}

/* A name made of random characters of a symbol, 1 to 40 of them. */
static void
random_name(char *buf, unsigned int *seed)
{
	static const char	chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@";
	size_t			len = 1 + (size_t)rand_r(seed) % 40;

	for (size_t k = 0; k < len; k++)
		buf[k] = chars[(size_t)rand_r(seed) % (sizeof(chars) - 1)];
	buf[len] = '\0';
}

/* A directory of scratch files beside the tests (not noexec /tmp). */
struct tmpdir {
	char	 path[PATH_MAX / 2];
	char	*files[8];
	int	 n;
};

static void
tmpdir_make(struct tmpdir *t)
{
	int	n = snprintf(t->path, sizeof(t->path), "%s/tests/elfsym.XXXXXX",
		    TOP_BUILDDIR);

	ck_assert(n > 0 && (size_t)n < sizeof(t->path));
	ck_assert_ptr_nonnull(mkdtemp(t->path));
	t->n = 0;
}

static const char *
tmpdir_file(struct tmpdir *t, const char *name)
{
	size_t	len = strlen(t->path) + strlen(name) + 2;

	ck_assert_int_lt(t->n, 8);
	ck_assert_ptr_nonnull(t->files[t->n] = malloc(len));
	snprintf(t->files[t->n], len, "%s/%s", t->path, name);
	return t->files[t->n++];
}

static void
tmpdir_remove(struct tmpdir *t)
{
	for (int i = 0; i < t->n; i++) {
		unlink(t->files[i]);
		free(t->files[i]);
	}
	ck_assert_int_eq(rmdir(t->path), 0);
}

/*
 * Every name of path's symbol tables, a near miss of each (one more
 * character) and random names, looked up in path mapped by hand and in
 * a copy of it without hash sections. Returns how many were found.
 */
static size_t
check_agreement(const char *path, int want_gnu, int want_sysv)
{
	struct tmpdir		 td;
	const char		*copy;
	struct image		 a, b;
	struct mw_maps		*am, *bm;
	struct mwi_symcache	*c = mwi_symcache_new(0);
	struct mwi_symbol	 s;
	struct names		 ns;
	char			 buf[1024];
	unsigned int		 seed = (unsigned int)getpid();
	size_t			 found = 0, exported = 0, tab_found = 0;
	int			 gnu, sysv;

	ck_assert_ptr_nonnull(c);
	hash_sections(path, false, &gnu, &sysv);
	ck_assert_int_eq(gnu, want_gnu);
	ck_assert_int_eq(sysv, want_sysv);
	tmpdir_make(&td);
	copy = tmpdir_file(&td, "unhashed.so");
	copy_file(path, copy);
	hash_sections(copy, true, &gnu, &sysv);
	map_image(path, &a);
	map_image(copy, &b);
	am = only_image(&a);
	bm = only_image(&b);
	read_names(path, &ns);
	for (size_t i = 0; i < ns.n; i++) {
		const struct name	*nm = &ns.v[i];

		found += agree(c, am, bm, &ns, nm->name);
		exported += nm->exported;
		snprintf(buf, sizeof(buf), "%s_", nm->name);
		agree(c, am, bm, &ns, buf);
		if (nm->in_symtab && !nm->dynamic) {
			ck_assert_int_eq(mwi_sym_find(c, am, nm->name, &s), 1);
			tab_found++;
		}
	}
	for (int k = 0; k < 2000; k++) {
		random_name(buf, &seed);
		agree(c, am, bm, &ns, buf);
	}
	ck_assert_uint_eq(found, exported);
	/* A .symtab has names of its own (static functions, at least). */
	ck_assert(!ns.symtab || tab_found > 0);
	free_names(&ns);
	mw_maps_free(am);
	mw_maps_free(bm);
	mwi_symcache_free(c);
	munmap(a.base, a.span);
	munmap(b.base, b.span);
	tmpdir_remove(&td);
	return found;
}

START_TEST(libc_hash_agrees)
{
	struct mw_maps		*m = mw_maps_read(0);
	const struct mw_region	*r;
	char			 path[PATH_MAX];
	int			 gnu, sysv;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, libc_getpid());
	ck_assert(r != NULL && r->name != NULL);
	snprintf(path, sizeof(path), "%s", r->name);
	mw_maps_free(m);
	hash_sections(path, false, &gnu, &sysv);
	ck_assert_int_gt(gnu + sysv, 0);
	ck_assert_uint_gt(check_agreement(path, gnu, sysv), 100);
}
END_TEST

/* The pyenv libpython, and Debian's (gdb's), where present. */
START_TEST(libpython_hash_agrees)
{
	static const char *const	paths[] = {
		"/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0",
		"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
	};
	int				gnu, sysv;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK) != 0)
			continue;
		hash_sections(paths[i], false, &gnu, &sysv);
		ck_assert_uint_gt(check_agreement(paths[i], gnu, sysv), 100);
	}
}
END_TEST

/*
 * A shared object of many symbols, built with one hash style: variables
 * and functions, a static function (only in .symtab), and versions:
 * hs_ver@HS_1 (hidden) beside hs_ver@@HS_2, and hs_gone@HS_1 alone.
 */
#define HS_COUNT	400

static const char *
build_hashed(struct tmpdir *td, const char *style, const char *flags)
{
	const char	*cc = getenv("CC"), *src, *map, *lib;
	char		 cmd[4 * PATH_MAX], name[32];
	FILE		*f;

	if (cc == NULL || cc[0] == '\0')
		return NULL;
	src = tmpdir_file(td, "hs.c");
	map = tmpdir_file(td, "hs.map");
	ck_assert_ptr_nonnull(f = fopen(src, "w"));
	for (int k = 0; k < HS_COUNT; k++)
		fprintf(f, "int hs_var_%d = %d;\nint hs_fn_%d(void) "
		    "{ return %d; }\n", k, k, k, k);
	fputs("static int hs_local(int x) { return x * 3; }\n"
	    "int (*hs_use)(int) = hs_local;\n"
	    "int hs_old(void) { return 1; }\n"
	    "int hs_new(void) { return 2; }\n"
	    "int hs_compat(void) { return 3; }\n"
	    "__asm__(\".symver hs_old,hs_ver@HS_1\");\n"
	    "__asm__(\".symver hs_new,hs_ver@@HS_2\");\n"
	    "__asm__(\".symver hs_compat,hs_gone@HS_1\");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(f = fopen(map, "w"));
	fputs("HS_1 { global: hs_*; local: *; };\n"
	    "HS_2 { global: hs_ver; } HS_1;\n", f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(name, sizeof(name), "libhs-%s.so", style);
	lib = tmpdir_file(td, name);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "%s %s -shared -fPIC -o "
	    "'%s' '%s' -Wl,--hash-style=%s -Wl,--version-script='%s'", cc,
	    flags, lib, src, style, map), (int)sizeof(cmd));
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	return lib;
}

/* The built object, loaded by ld.so: each name where dlsym says. */
static void
check_dlopen(const char *lib)
{
	void			*h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	struct mw_maps		*m = mw_maps_read(0), *om;
	struct mwi_symcache	*c = mwi_symcache_new(0);
	struct mwi_symbol	 s;
	char			 name[64];

	ck_assert_msg(h != NULL, "%s", dlerror());
	ck_assert_ptr_nonnull(m);
	om = only_object(m, addr_of(dlsym(h, "hs_fn_0")));
	for (int k = 0; k < HS_COUNT; k++) {
		snprintf(name, sizeof(name), "hs_var_%d", k);
		ck_assert_int_eq(mwi_sym_find_dynamic(c, om, name, &s), 1);
		ck_assert_uint_eq(s.value, addr_of(dlsym(h, name)));
		ck_assert_uint_eq(s.size, sizeof(int));
		snprintf(name, sizeof(name), "hs_fn_%d", k);
		ck_assert_int_eq(mwi_sym_find_dynamic(c, om, name, &s), 1);
		ck_assert_uint_eq(s.value, addr_of(dlsym(h, name)));
	}
	ck_assert_int_eq(mwi_sym_find_dynamic(c, om, "hs_ver", &s), 1);
	ck_assert_uint_eq(s.value, addr_of(dlsym(h, "hs_new")));
	ck_assert_uint_eq(s.value, addr_of(dlsym(h, "hs_ver")));
	ck_assert_int_eq(mwi_sym_find_dynamic(c, om, "hs_gone", &s), 0);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, om, "hs_local", &s), 0);
	ck_assert_int_eq(mwi_sym_find(c, om, "hs_local", &s), 1);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, om, "hs_var_", &s), 0);
	mwi_symcache_free(c);
	mw_maps_free(om);
	mw_maps_free(m);
	dlclose(h);
}

static void
check_style(const char *style, int gnu, int sysv)
{
	struct tmpdir	 td;
	const char	*lib;

	tmpdir_make(&td);
	if ((lib = build_hashed(&td, style, "")) != NULL) {
		/* hs_var_*, hs_fn_*, hs_use, hs_old, hs_new, hs_compat, hs_ver */
		ck_assert_uint_eq(check_agreement(lib, gnu, sysv),
		    2 * HS_COUNT + 5);
		check_dlopen(lib);
	}
	tmpdir_remove(&td);
}

/* Only DT_HASH (SHT_HASH): skipped without a compiler in CC. */
START_TEST(sysv_hash_only)
{
	check_style("sysv", 0, 1);
}
END_TEST

START_TEST(gnu_hash_only)
{
	check_style("gnu", 1, 0);
}
END_TEST

/*
 * The same objects as ELF32 (read by hand in their class): mapped by
 * hand only, as ld.so would not load them here. Skipped without a
 * compiler that builds -m32 (no C library is needed with -nostdlib).
 */
START_TEST(elf32_hashes)
{
	const char	*cc = getenv("CC");
	struct tmpdir	 td;
	const char	*lib;
	char		 cmd[1024];

	if (cc == NULL || cc[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "echo 'int x;' | %s -m32 -nostdlib -shared "
	    "-x c -o /dev/null - 2>/dev/null", cc);
	if (system(cmd) != 0)
		return;
	tmpdir_make(&td);
	lib = build_hashed(&td, "sysv", "-m32 -nostdlib");
	ck_assert_uint_eq(check_agreement(lib, 0, 1), 2 * HS_COUNT + 5);
	lib = build_hashed(&td, "gnu", "-m32 -nostdlib");
	ck_assert_uint_eq(check_agreement(lib, 1, 0), 2 * HS_COUNT + 5);
	tmpdir_remove(&td);
}
END_TEST

/* Allocations made by one call (mwi_faults.alloc_fail counts down). */
#define ALLOCS(call, rc) do {						\
	mwi_faults.alloc_fail = LONG_MAX;				\
	rc = (call);							\
	allocs = LONG_MAX - mwi_faults.alloc_fail;			\
	mwi_faults.alloc_fail = 0;					\
} while (0)

/*
 * mwi_sym_find_dynamic never reads .symtab: a name only there is not
 * found, and after it mwi_sym_find still has the .symtab stage to do
 * (it allocates its tables; a stage runs once, so the dynamic calls
 * had not run it). The dynamic lookups allocate nothing once the
 * objects are known: no index is built for a hash table.
 */
START_TEST(dynamic_skips_symtab)
{
	struct mw_maps		*m = mw_maps_read(0), *om;
	struct mwi_symcache	*c = mwi_symcache_new(0);
	struct mwi_symbol	 s;
	long			 allocs;
	int			 rc;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	om = only_object(m, addr_of((void *)elfsym_global_fn));
	ALLOCS(mwi_sym_find_dynamic(c, om, "elfsym_static_fn", &s), rc);
	ck_assert_int_eq(rc, 0);
	ALLOCS(mwi_sym_find_dynamic(c, om, "elfsym_static_fn", &s), rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(allocs, 0);
	ALLOCS(mwi_sym_find(c, om, "elfsym_static_fn", &s), rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(s.value, addr_of((void *)elfsym_static_fn));
	ck_assert_int_ge(allocs, 2);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, om, "elfsym_static_fn", &s),
	    0);
	mwi_symcache_free(c);

	/* The whole process: the same for a name that no object has. */
	c = mwi_symcache_new(0);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, m, "elfsym_no_such_xyzzy",
	    &s), 0);
	ALLOCS(mwi_sym_find_dynamic(c, m, "elfsym_no_such_xyzzy", &s), rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(allocs, 0);
	ALLOCS(mwi_sym_find(c, m, "elfsym_no_such_xyzzy", &s), rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_ge(allocs, 2);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, m, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, libc_getpid());
	mwi_symcache_free(c);
	mw_maps_free(om);
	mw_maps_free(m);
}
END_TEST

/*
 * libc mapped again by hand, whole and its first page alone: an ELF
 * file, but no image, so no section; the loaded libc is still found.
 */
START_TEST(self_plain_mmap)
{
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*c = mwi_symcache_new(0);
	const struct mw_region	*r;
	struct mwi_symbol	 s;
	struct stat		 st;
	void			*whole, *page;
	int			 fd;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, libc_getpid());
	ck_assert_ptr_nonnull(r);
	ck_assert((fd = open(r->name, O_RDONLY)) != -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	whole = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert(whole != MAP_FAILED && page != MAP_FAILED);
	close(fd);
	mw_maps_free(m);
	m = mw_maps_read(0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mwi_sym_find(c, m, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, libc_getpid());
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(whole) + 0x1000, &s), 1);
	ck_assert_ptr_nonnull(strstr(s.object, "libc.so"));
	ck_assert_ptr_null(s.section);
	ck_assert_ptr_null(s.name);
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(page) + 64, &s), 1);
	ck_assert_ptr_null(s.section);
	ck_sym(c, m, libc_getpid(), ".text", "getpid", 0);
	munmap(whole, (size_t)st.st_size);
	munmap(page, 4096);
	mwi_symcache_free(c);
	mw_maps_free(m);
}
END_TEST

/*
 * The first page of libc alone, between guard pages: it looks like the
 * head of an image, but libc has several PT_LOADs and no other mapping
 * of it follows, so it is none.
 */
START_TEST(self_lone_head)
{
	long			 pg = sysconf(_SC_PAGESIZE);
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*c = mwi_symcache_new(0);
	const struct mw_region	*r;
	struct mwi_symbol	 s;
	char			*guard, *page;
	int			 fd;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, libc_getpid());
	ck_assert_ptr_nonnull(r);
	ck_assert((fd = open(r->name, O_RDONLY)) != -1);
	guard = mmap(NULL, 3 * (size_t)pg, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(guard != MAP_FAILED);
	page = mmap(guard + pg, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_FIXED,
	    fd, 0);
	ck_assert(page == guard + pg);
	close(fd);
	mw_maps_free(m);
	m = mw_maps_read(0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mwi_sym_find(c, m, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, libc_getpid());
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(page) + 64, &s), 1);
	ck_assert_ptr_null(s.section);
	ck_assert_uint_eq(s.bias, 0);
	munmap(guard, 3 * (size_t)pg);
	mwi_symcache_free(c);
	mw_maps_free(m);
}
END_TEST

/*
 * The region of this program's .bss tail grown by a page (mremap in
 * place, as a new mapping would not merge with it in Check's forked
 * child): that page is past every PT_LOAD, in no object. Skipped when
 * the page there is taken.
 */
static void
check_past_bss(void)
{
	long			 pg = sysconf(_SC_PAGESIZE);
	struct mw_maps		*m = mw_maps_read(0);
	struct mwi_symcache	*c = mwi_symcache_new(0);
	const struct mw_region	*r;
	struct mwi_symbol	 s;
	char			*base, *p;
	size_t			 len;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, addr_of(elfsym_big_bss + sizeof(elfsym_big_bss) -
	    1));
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(r->name);
	len = r->end - r->start;
	base = (char *)(uintptr_t)r->start;
	mw_maps_free(m);
	if (mremap(base, len, len + (size_t)pg, 0) == MAP_FAILED)
		goto out;
	p = base + len;
	p[0] = 1;
	m = mw_maps_read(0);
	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, addr_of(p));
	ck_assert(r != NULL && r->start == addr_of(base));
	ck_sym(c, m, addr_of(elfsym_big_bss + sizeof(elfsym_big_bss) - 1),
	    ".bss", "elfsym_big_bss", sizeof(elfsym_big_bss) - 1);
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(p) + 8, &s), 0);
	mw_maps_free(m);
	ck_assert(mremap(base, len + (size_t)pg, len, 0) == base);
out:
	mwi_symcache_free(c);
}

START_TEST(self_not_elf)
{
	long			 pg = sysconf(_SC_PAGESIZE);
	char			*anon = mmap(NULL, 4 * (size_t)pg,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char			*heap = malloc(64);
	struct mw_maps		*m;
	struct mwi_symcache	*c = mwi_symcache_new(0);
	struct mwi_symbol	 s;

	ck_assert_ptr_ne(anon, MAP_FAILED);
	ck_assert_ptr_nonnull(heap);
	anon[0] = 1;
	m = mw_maps_read(0);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(mw_maps_find(m, addr_of(anon + pg)));
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(anon + pg), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(heap), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, addr_of(&s), &s), 0);	/* stack */
	ck_assert_int_eq(mwi_sym_at(c, m, 0, &s), 0);
	mwi_symcache_free(c);
	mw_maps_free(m);
	check_past_bss();
	free(heap);
	munmap(anon, 4 * (size_t)pg);
}
END_TEST

/*
 * A CPython prints where int and None are and its hexversion: the
 * symbols must be there, and Py_Version (3.11+) must hold that version.
 */
static const char py_script[] =
    "import sys\n"
    "print('int', hex(id(int)))\n"
    "print('none', hex(id(None)))\n"
    "print('hexversion', hex(sys.hexversion))\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n";

static void
ck_data_section(const struct mwi_symbol *s)
{
	ck_assert_ptr_nonnull(s->section);
	ck_assert_msg(strncmp(s->section, ".data", 5) == 0,
	    "%s in section %s", s->name, s->section);
}

static void
check_python(const char *path)
{
	const char *const	 args[] = { "-c", py_script, NULL };
	struct tu_target	*t = tu_spawn(path, args);
	struct mw_maps		*m = mw_maps_read(t->pid);
	struct mwi_symcache	*c = mwi_symcache_new(t->pid);
	uint64_t		 int_type = tu_addr(t, "int");
	uint64_t		 hexversion = tu_addr(t, "hexversion");
	struct mwi_symbol	 s;
	uint32_t		 v;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mwi_sym_find_dynamic(c, m, "PyLong_Type", &s), 1);
	ck_assert_uint_eq(s.value, int_type);
	ck_assert_int_eq(mwi_sym_find(c, m, "PyLong_Type", &s), 1);
	ck_assert_uint_eq(s.value, int_type);
	ck_assert_ptr_nonnull(strstr(s.object, "python"));
	ck_data_section(&s);
	ck_sym(c, m, int_type, s.section, "PyLong_Type", 0);
	ck_sym(c, m, int_type + 8, s.section, "PyLong_Type", 8);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "none"), &s), 1);
	ck_assert_str_eq(s.name, "_Py_NoneStruct");
	ck_assert_uint_eq(s.offset, 0);
	ck_data_section(&s);
	if (hexversion >= 0x030b0000) {
		ck_assert_int_eq(mwi_sym_find(c, m, "Py_Version", &s), 1);
		ck_assert_int_eq(mwi_read_mem(t->pid, s.value, &v, sizeof(v)),
		    0);
		ck_assert_uint_eq(v, hexversion);
		ck_assert_int_eq(mwi_sym_find_dynamic(c, m, "Py_Version",
		    &s), 1);
		ck_assert_int_eq(mwi_read_mem(t->pid, s.value, &v, sizeof(v)),
		    0);
		ck_assert_uint_eq(v, hexversion);
		ck_assert_int_eq(mwi_sym_find_dynamic(c, m, "_PyRuntime", &s),
		    1);
		ck_assert_int_eq(mwi_sym_find(c, m, "_PyRuntime", &s), 1);
		ck_assert_uint_gt(s.size, 0);
		ck_sym(c, m, s.value + s.size / 2, s.section, "_PyRuntime",
		    s.size / 2);
	}
	mwi_symcache_free(c);
	mw_maps_free(m);
	tu_target_stop(t);
}

START_TEST(python_on_path)
{
	check_python("python3");
}
END_TEST

START_TEST(python_debian)
{
	if (access("/usr/bin/python3.11", X_OK) != 0)
		return;
	check_python("/usr/bin/python3.11");
}
END_TEST

START_TEST(target_sections)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_maps		*m = mw_maps_read(t->pid);
	struct mwi_symcache	*c = mwi_symcache_new(t->pid);
	struct mwi_symbol	 s;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(c);
	ck_sym(c, m, tu_addr(t, "text"), ".text", "main", 0);
	ck_sym(c, m, tu_addr(t, "data"), ".data", "data_var", 0);
	ck_sym(c, m, tu_addr(t, "bss"), ".bss", "bss_var", 128 * 1024);
	ck_sym(c, m, tu_addr(t, "rodata"), ".rodata", "rodata_str", 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "text"), &s), 1);
	ck_assert_ptr_nonnull(strstr(s.object, "/tests/target"));
	/* A PIE keeps data_var out of .dynsym: found in .symtab. */
	ck_assert_int_eq(mwi_sym_find(c, m, "data_var", &s), 1);
	ck_assert_uint_eq(s.value, tu_addr(t, "data"));
	/* Files that are no ELF, and memory that is no file. */
	ck_assert_ptr_nonnull(mw_maps_find(m, tu_addr(t, "odd_file")));
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "odd_file"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "latin_file"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "deleted"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "memfd"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "heap"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "big_malloc"), &s), 0);
	ck_assert_int_eq(mwi_sym_at(c, m, tu_addr(t, "stack"), &s), 0);
	mwi_symcache_free(c);
	mw_maps_free(m);
	tu_target_stop(t);
}
END_TEST

/* One query under fault injection: -1 with ENOMEM, or the right answer. */
static int
faulty_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr,
    const char *name)
{
	struct mwi_symbol	s;
	int			rc = mwi_sym_at(c, m, addr, &s);

	if (rc == -1) {
		ck_assert_int_eq(errno, ENOMEM);
		return 1;
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(s.name, name);
	return 0;
}

static int
faulty_find(struct mwi_symcache *c, const struct mw_maps *m,
    const char *name, uint64_t want, bool dynamic)
{
	struct mwi_symbol	s;
	int			rc = dynamic ? mwi_sym_find_dynamic(c, m, name,
				    &s) : mwi_sym_find(c, m, name, &s);

	if (rc == -1) {
		ck_assert_int_eq(errno, ENOMEM);
		return 1;
	}
	ck_assert_int_eq(rc, want != 0);
	if (want != 0)
		ck_assert_uint_eq(s.value, want);
	return 0;
}

/*
 * The Nth allocation fails, for N = 1, 2, ... until none does. One
 * failure per round, so the calls after it on the same cache must give
 * right answers: a stage that failed is redone.
 */
START_TEST(alloc_failures)
{
	struct mw_maps		*m = mw_maps_read(0);
	uint64_t		 fn = addr_of((void *)elfsym_global_fn);
	uint64_t		 gp = libc_getpid();
	long			 n, rounds_failed = 0;

	ck_assert_ptr_nonnull(m);
	for (n = 1; n < 10000; n++) {
		struct mwi_symcache	*c;
		int			 failed = 0;

		mwi_faults.alloc_fail = n;
		if ((c = mwi_symcache_new(0)) == NULL) {
			ck_assert_int_eq(errno, ENOMEM);
			continue;
		}
		failed += faulty_find(c, m, "getpid", gp, true);
		failed += faulty_find(c, m, "no_object_defines_this_xyzzy", 0,
		    true);
		failed += faulty_at(c, m, fn + 1, "elfsym_global_fn");
		failed += faulty_find(c, m, "getpid", gp, false);
		failed += faulty_at(c, m, gp, "getpid");
		failed += faulty_find(c, m, "elfsym_static_fn",
		    addr_of((void *)elfsym_static_fn), false);
		failed += faulty_find(c, m, "elfsym_static_fn", 0, true);
		failed += faulty_find(c, m, "no_object_defines_this_xyzzy", 0,
		    false);
		failed += faulty_at(c, m, addr_of(&elfsym_data), "elfsym_data");
		mwi_symcache_free(c);
		ck_assert_int_le(failed, 1);
		rounds_failed += failed;
		if (mwi_faults.alloc_fail > 0)
			break;		/* the Nth allocation never came */
	}
	mwi_faults.alloc_fail = 0;
	ck_assert_int_gt(n, 3);
	ck_assert_int_lt(n, 10000);
	ck_assert_int_gt(rounds_failed, 0);
	mw_maps_free(m);
}
END_TEST

static Suite *
elfsym_suite(void)
{
	Suite	*s = suite_create("elfsym");
	TCase	*tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, self_sections);
	tcase_add_test(tc, self_libc_and_find);
	tcase_add_test(tc, scan_agrees_with_sorted);
	tcase_add_test(tc, self_versions);
	tcase_add_test(tc, libc_hash_agrees);
	tcase_add_test(tc, libpython_hash_agrees);
	tcase_add_test(tc, sysv_hash_only);
	tcase_add_test(tc, gnu_hash_only);
	tcase_add_test(tc, elf32_hashes);
	tcase_add_test(tc, dynamic_skips_symtab);
	tcase_add_test(tc, self_plain_mmap);
	tcase_add_test(tc, self_lone_head);
	tcase_add_test(tc, self_not_elf);
	tcase_add_test(tc, python_on_path);
	tcase_add_test(tc, python_debian);
	tcase_add_test(tc, target_sections);
	tcase_add_test(tc, alloc_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(elfsym_suite());
}
