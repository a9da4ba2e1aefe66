/*
 * check_classify.c: region kinds, on this very process and on buffers.
 *
 * The live tests check libmemwalk's ELF-based kinds against what the
 * dynamic loader itself says (dl_iterate_phdr: load bias and program
 * headers from memory, no libelf), so the two are independent.
 */
#include "config.h"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "mwi.h"
#include "tutil.h"

int		 global_data = 42;
static char	 big_bss[1 << 20];
static const char literal[] = "a string in .rodata";

static int
kind_of(const void *p)
{
	struct mw_maps		*m = mw_maps_read(0);
	const struct mw_region	*r;
	int			 kind;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, (uintptr_t)p);
	kind = r == NULL ? MW_KIND_UNMAPPED : (int)r->kind;
	mw_maps_free(m);
	return kind;
}

#define ck_kind(p, k) do {						\
	int got_ = kind_of(p);						\
	ck_assert_msg(got_ == (k), "%s: kind %s, expected %s", #p,	\
	    mw_kind_name(got_), mw_kind_name(k));			\
} while (0)

START_TEST(test_kinds_of_own_addresses)
{
	int	 local = 1;
	void	*page, *none, *shared;
	int	 fd;

	big_bss[sizeof(big_bss) / 2] = 1;
	ck_kind(&global_data, MW_KIND_DATA);
	ck_kind(&big_bss[sizeof(big_bss) / 2], MW_KIND_BSS);
	ck_kind(literal, MW_KIND_RODATA);
	ck_kind((void *)kind_of, MW_KIND_TEXT);
	ck_kind(&local, TU_OWN_STACK);
	if (!tu_valgrind())	/* which gives its program no vdso */
		ck_kind((void *)getauxval(AT_SYSINFO_EHDR), MW_KIND_VDSO);
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("check", 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	void *mfd = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ck_kind(page, MW_KIND_ANON);
	ck_kind(none, MW_KIND_GUARD);
	ck_kind(shared, MW_KIND_SHMEM);
	ck_kind(mfd, MW_KIND_SHMEM);
	ck_kind(NULL, MW_KIND_UNMAPPED);
#ifndef __SANITIZE_ADDRESS__
	void *small = malloc(32);
	ck_kind(small, TU_OWN_HEAP);
	free(small);
#endif
	munmap(page, 8192);
	munmap(none, 4096);
	munmap(shared, 4096);
	munmap(mfd, 4096);
	close(fd);
}
END_TEST

/* What the loader says a region of an object must be. */
struct expect {
	const struct mw_maps	*maps;
	size_t			 checked;
};

static uint64_t
page_down(uint64_t v)
{
	return v & ~(uint64_t)(getpagesize() - 1);
}

static uint64_t
page_up(uint64_t v)
{
	return page_down(v + (uint64_t)getpagesize() - 1);
}

static bool
in_relro(const struct dl_phdr_info *info, uint64_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_GNU_RELRO && addr >= page_down(lo) &&
		    addr < page_down(lo + ph->p_memsz))
			return true;
	}
	return false;
}

static int
check_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct expect		*x = arg;
	size_t			 n;
	const struct mw_region	*v = mw_maps_regions(x->maps, &n);

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t lo, hi;

		if (ph->p_type != PT_LOAD)
			continue;
		lo = page_down(info->dlpi_addr + ph->p_vaddr);
		hi = page_up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
		for (size_t k = 0; k < n; k++) {
			const struct mw_region *r = &v[k];
			int want;

			if (r->start < lo || r->start >= hi ||
			    (r->perms & 7) == 0)
				continue;
			if (r->inode == 0)
				want = (ph->p_flags & PF_W) ? MW_KIND_BSS : -1;
			else if (ph->p_flags & PF_X)
				want = MW_KIND_TEXT;
			else if (ph->p_flags & PF_W)
				want = MW_KIND_DATA;
			else
				want = MW_KIND_RODATA;
			if (want == -1)
				continue;
			if (want == MW_KIND_DATA && !(r->perms & MW_PERM_WRITE))
				ck_assert(in_relro(info, r->start));
			ck_assert_msg((int)r->kind == want,
			    "%s %llx-%llx: kind %s, loader says %s",
			    info->dlpi_name, (unsigned long long)r->start,
			    (unsigned long long)r->end, mw_kind_name(r->kind),
			    mw_kind_name(want));
			ck_assert(r->flags & MW_REGION_ELF);
			x->checked++;
		}
	}
	return 0;
}

START_TEST(test_segments_agree_with_loader)
{
	struct expect	x = { .maps = mw_maps_read(0) };

	ck_assert_ptr_nonnull(x.maps);
	dl_iterate_phdr(check_object, &x);
	/* This program, libc, ld.so, libelf...: dozens of regions. */
	ck_assert_uint_ge(x.checked, 12);
	mw_maps_free((struct mw_maps *)x.maps);
}
END_TEST

static const char named_maps[] =
    "00400000-00401000 r-xp 00000000 00:00 0 [anon:jit code]\n"
    "00401000-00402000 rw-p 00000000 00:00 0 [anon: glibc: malloc arena]\n"
    "00402000-00403000 rw-s 00000000 00:01 7 [anon_shmem:ring]\n"
    "00403000-00404000 r-xp 00000000 00:00 0 [uprobes]\n"
    "00404000-00405000 rw-s 00000000 00:01 8 /SYSV0000002a (deleted)\n"
    "00405000-00406000 rw-s 00000000 00:19 9 /dev/shm/pulse-shm-1\n"
    "00406000-00407000 rw-s 00000000 00:01 10 /memfd:wayland (deleted)\n"
    "00407000-00408000 rw-s 00000000 00:01 11 /dev/zero (deleted)\n"
    "00408000-00409000 rw-p 00000000 00:00 0 [heap]\n"
    "00409000-0040a000 ---p 00000000 00:00 0 [heap]\n"
    "0040a000-0040b000 r--p 00000000 00:00 0 [vvar_vclock]\n"
    "0040b000-0040c000 r--p 00000000 fe:00 12 /no/such/file.so\n"
    "0040c000-0040d000 rw-p 00000000 00:00 0\n"
    "0040d000-0040e000 r--p 00000000 00:0e 13 anon_inode:[perf_event]\n"
    "7ffc0000-7ffc1000 rw-p 00000000 00:00 0 [stack]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

START_TEST(test_kinds_by_name)
{
	static const enum mw_kind want[] = {
		MW_KIND_ANON, MW_KIND_ANON, MW_KIND_SHMEM, MW_KIND_ANON,
		MW_KIND_SHMEM, MW_KIND_SHMEM, MW_KIND_SHMEM, MW_KIND_SHMEM,
		MW_KIND_HEAP, MW_KIND_GUARD, MW_KIND_VVAR, MW_KIND_FILE,
		MW_KIND_ANON, MW_KIND_FILE, MW_KIND_STACK, MW_KIND_VSYSCALL,
	};
	struct mw_maps		*m;
	const struct mw_region	*v;
	size_t			 n;

	m = mw_maps_parse(named_maps, sizeof(named_maps) - 1, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mw_maps_classify(m), 0);
	v = mw_maps_regions(m, &n);
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(v[i].kind == want[i], "line %zu (%s): %s, not %s",
		    i + 1, v[i].name ? v[i].name : "-", mw_kind_name(v[i].kind),
		    mw_kind_name(want[i]));
	ck_assert_str_eq(v[1].name, "[anon: glibc: malloc arena]");
	mw_maps_free(m);
}
END_TEST

/*
 * A private copy of a library mapped as the loader would (same offsets,
 * perms and adjacency), through a buffer: pid 0 opens files by path.
 * libc's first four segments must come out rodata, text, rodata, data.
 */
START_TEST(test_kinds_from_file_by_path)
{
	struct mw_maps		*self = mw_maps_read(0), *m;
	const struct mw_region	*v, *w;
	size_t			 n, nw, first = SIZE_MAX, len = 0;
	char			 buf[8192];

	ck_assert_ptr_nonnull(self);
	v = mw_maps_regions(self, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].name != NULL && strstr(v[i].name, "/libc.so") &&
		    first == SIZE_MAX)
			first = i;
	ck_assert_uint_ne(first, SIZE_MAX);
	for (size_t i = first; i < n && v[i].start < v[first].start + (64 << 20);
	    i++) {
		char perms[5];

		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%llx-%llx %s %08llx %02x:%02x %llu %s\n",
		    (unsigned long long)v[i].start, (unsigned long long)v[i].end,
		    mw_perms_str(v[i].perms, perms),
		    (unsigned long long)v[i].offset, v[i].dev_major,
		    v[i].dev_minor, (unsigned long long)v[i].inode,
		    v[i].name ? v[i].name : "");
		if (v[i].inode == 0)
			break;	/* libc's .bss ends the object */
	}
	m = mw_maps_parse(buf, len, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mw_maps_classify(m), 0);
	w = mw_maps_regions(m, &nw);
	for (size_t i = 0; i < nw; i++)
		ck_assert_msg(w[i].kind == v[first + i].kind,
		    "region %zu: %s by path, %s by pid", i,
		    mw_kind_name(w[i].kind), mw_kind_name(v[first + i].kind));
	ck_assert_int_eq(w[0].kind, MW_KIND_RODATA);
	ck_assert_int_eq(w[1].kind, MW_KIND_TEXT);
	ck_assert_int_eq(w[nw - 1].kind, MW_KIND_BSS);
	mw_maps_free(m);
	mw_maps_free(self);
}
END_TEST

/* The kept totals equal a count of the regions, whatever the path. */
static void
ck_totals(const struct mw_maps *m)
{
	struct mw_kind_totals	 t, want;
	size_t			 n;
	const struct mw_region	*v = mw_maps_regions(m, &n);

	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < n; i++) {
		want.bytes[v[i].kind] += v[i].end - v[i].start;
		want.count[v[i].kind]++;
	}
	mw_maps_totals(m, &t);
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		ck_assert_uint_eq(t.bytes[k], want.bytes[k]);
		ck_assert_uint_eq(t.count[k], want.count[k]);
	}
}

START_TEST(test_totals)
{
	static const char torn[] =
	    "00403000-00404000 r-xp 00000000 00:00 0 [vdso]\n"
	    "00401000-00402000 rw-p 00000000 00:00 0 [heap]\n"
	    "00401000-00403000 rw-p 00000000 00:00 0 [heap]\n";
	struct mw_maps	*m = mw_maps_read(0);

	ck_assert_ptr_nonnull(m);
	ck_totals(m);
	mw_maps_free(m);
	m = mw_maps_parse(named_maps, sizeof(named_maps) - 1, NULL);
	ck_totals(m);			/* all anon before classifying */
	ck_assert_int_eq(mw_maps_classify(m), 0);
	ck_totals(m);
	mw_maps_classify(m);		/* twice: nothing counted twice */
	ck_totals(m);
	mw_maps_free(m);
	m = mw_maps_parse(torn, sizeof(torn) - 1, NULL);
	ck_assert_ptr_nonnull(m);
	ck_totals(m);			/* the loser of the overlap is gone */
	ck_assert_int_eq(mw_maps_classify(m), 0);
	ck_totals(m);
	mw_maps_free(m);
}
END_TEST

START_TEST(test_kind_names)
{
	char	perms[5];

	for (int k = 0; k < MW_KIND_COUNT; k++)
		ck_assert_int_eq(mw_kind_from_name(mw_kind_name(k)), k);
	errno = 0;
	ck_assert_int_eq(mw_kind_from_name("nonsense"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(mw_kind_name(MW_KIND_COUNT), "unknown");
	ck_assert_str_eq(mw_perms_str(MW_PERM_READ | MW_PERM_SHARED, perms),
	    "r--s");
	ck_assert_str_eq(mw_perms_str(7, perms), "rwxp");
}
END_TEST

/* Every allocation of a read-and-classify may fail: ENOMEM, no leak. */
START_TEST(test_classify_alloc_failures)
{
	struct mw_maps	*m;
	long		 n;

	for (n = 1; n < 1000; n++) {
		mwi_faults.alloc_fail = n;
		m = mw_maps_read(0);
		mwi_faults.alloc_fail = 0;
		if (m != NULL)
			break;
		ck_assert_int_eq(errno, ENOMEM);
	}
	ck_assert_ptr_nonnull(m);
	ck_assert_int_gt(n, 3);	/* buffer, maps, regions, ELF cache */
	mw_maps_free(m);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("classify");
	TCase	*tc = tcase_create("kinds");

	tcase_add_test(tc, test_kinds_of_own_addresses);
	tcase_add_test(tc, test_segments_agree_with_loader);
	tcase_add_test(tc, test_kinds_by_name);
	tcase_add_test(tc, test_kinds_from_file_by_path);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_totals);
	tcase_add_test(tc, test_classify_alloc_failures);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
