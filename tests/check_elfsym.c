/*
 * check_elfsym.c: sections and symbols of addresses in live processes:
 * this one (functions and variables of the test itself, libc), CPython
 * interpreters (PyLong_Type, _Py_NoneStruct, Py_Version) and
 * tests/target; out-of-memory at every allocation.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <inttypes.h>
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

/* The regions of the object that holds addr, as a maps of their own. */
static struct mw_maps *
only_object(const struct mw_maps *m, uint64_t addr)
{
	const struct mw_region	*r = mw_maps_find(m, addr), *v;
	struct mw_maps		*om;
	size_t			 n, len = 0, errline;
	char			 perms[5], *buf;

	ck_assert_ptr_nonnull(r);
	v = mw_maps_regions(m, &n);
	buf = malloc(n * 256);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		if (v[i].inode == r->inode && v[i].dev_major == r->dev_major &&
		    v[i].dev_minor == r->dev_minor)
			len += (size_t)snprintf(buf + len, 256,
			    "%" PRIx64 "-%" PRIx64 " %s %08" PRIx64
			    " %02x:%02x %" PRIu64 " %s\n", v[i].start,
			    v[i].end, mw_perms_str(v[i].perms, perms),
			    v[i].offset, v[i].dev_major, v[i].dev_minor,
			    v[i].inode, v[i].name);
	om = mw_maps_parse(buf, len, &errline);
	ck_assert_ptr_nonnull(om);
	free(buf);
	return om;
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
	ck_assert_int_eq(mwi_sym_find(c, lm, "getpid", &s), 1);
	ck_assert_uint_eq(s.value, libc_getpid());
	ck_assert_int_eq(mwi_sym_find(c, lm, "elfsym_static_fn", &s), 0);
	dlclose(libc);
	mwi_symcache_free(c);
	mw_maps_free(lm);
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
    const char *name, uint64_t want)
{
	struct mwi_symbol	s;
	int			rc = mwi_sym_find(c, m, name, &s);

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
		failed += faulty_at(c, m, fn + 1, "elfsym_global_fn");
		failed += faulty_find(c, m, "getpid", gp);
		failed += faulty_at(c, m, gp, "getpid");
		failed += faulty_find(c, m, "elfsym_static_fn",
		    addr_of((void *)elfsym_static_fn));
		failed += faulty_find(c, m, "no_object_defines_this_xyzzy", 0);
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
	tcase_add_test(tc, self_versions);
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
