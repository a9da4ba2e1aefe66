/*
 * check_query.c: single-address lookups on live processes. The ioctl
 * path (PROCMAP_QUERY) and the text path (MW_QUERY_TEXT) must agree with
 * each other and with the full read, field by field, at every edge.
 */
#include "config.h"

#include <inttypes.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "mwi.h"
#include "tutil.h"

static void
ck_same_region(const struct mw_region *a, const struct mw_region *b,
    uint64_t addr)
{
	ck_assert_msg(a->start == b->start && a->end == b->end,
	    "0x%llx: %llx-%llx vs %llx-%llx", (unsigned long long)addr,
	    (unsigned long long)a->start, (unsigned long long)a->end,
	    (unsigned long long)b->start, (unsigned long long)b->end);
	ck_assert_uint_eq(a->offset, b->offset);
	ck_assert_uint_eq(a->inode, b->inode);
	ck_assert_uint_eq(a->dev_major, b->dev_major);
	ck_assert_uint_eq(a->dev_minor, b->dev_minor);
	ck_assert_uint_eq(a->perms, b->perms);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_msg(a->kind == b->kind, "0x%llx: kind %s vs %s",
	    (unsigned long long)addr, mw_kind_name(a->kind),
	    mw_kind_name(b->kind));
	ck_assert_int_eq(a->name == NULL, b->name == NULL);
	if (a->name != NULL)
		ck_assert_str_eq(a->name, b->name);
}

/* Ask both handles and the full map; all three must agree. */
static int
ck_lookup(struct mw_query *qi, struct mw_query *qt,
    const struct mw_maps *m, uint64_t addr)
{
	struct mw_region	 ri, rt;
	const struct mw_region	*rm = mw_maps_find(m, addr);
	int			 fi, ft;

	fi = mw_query_addr(qi, addr, &ri);
	ft = mw_query_addr(qt, addr, &rt);
	ck_assert_int_ne(fi, -1);
	ck_assert_int_eq(fi, ft);
	ck_assert_int_eq(fi, rm != NULL);
	if (fi == 1) {
		ck_same_region(&ri, &rt, addr);
		ck_same_region(&ri, rm, addr);
	}
	return fi;
}

static bool
kernel_has_procmap_query(void)
{
	struct utsname	u;
	int		major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 11);
}

static void
check_process(pid_t pid)
{
	struct mw_query		*qi = mw_query_open(pid, 0);
	struct mw_query		*qt = mw_query_open(pid, MW_QUERY_TEXT);
	struct mw_maps		*m = mw_maps_read(pid);
	const struct mw_region	*v;
	size_t			 n, found = 0;

	ck_assert_ptr_nonnull(qi);
	ck_assert_ptr_nonnull(qt);
	ck_assert_ptr_nonnull(m);
	v = mw_maps_regions(m, &n);
	ck_assert_uint_gt(n, 10);
	for (size_t i = 0; i < n; i++) {
		uint64_t mid = v[i].start + (v[i].end - v[i].start) / 2;

		found += ck_lookup(qi, qt, m, v[i].start);
		found += ck_lookup(qi, qt, m, mid);
		found += ck_lookup(qi, qt, m, v[i].end - 1);
		if (v[i].end != UINT64_MAX)
			ck_lookup(qi, qt, m, v[i].end);
		if (v[i].start > 0)
			ck_lookup(qi, qt, m, v[i].start - 1);
	}
	ck_assert_uint_eq(found, 3 * n);
	ck_assert_int_eq(ck_lookup(qi, qt, m, 0), 0);
	ck_assert_int_eq(ck_lookup(qi, qt, m, 0x10), 0);
	ck_assert_int_eq(ck_lookup(qi, qt, m, UINT64_C(1) << 63), 0);
	ck_assert_int_eq(ck_lookup(qi, qt, m, UINT64_MAX), 0);
	ck_assert_int_eq(mw_query_uses_ioctl(qt), 0);
	if (kernel_has_procmap_query())
		ck_assert_int_eq(mw_query_uses_ioctl(qi), 1);
	mw_query_close(qi);
	mw_query_close(qt);
	mw_maps_free(m);
}

START_TEST(test_paths_agree_on_target)
{
	struct tu_target	*t = tu_target_start(NULL);

	check_process(t->pid);
	tu_target_stop(t);
}
END_TEST

/* More mappings and threads: the same agreement at every edge. */
START_TEST(test_paths_agree_on_busy_target)
{
	static const char *const args[] = { "--maps", "300", "--threads", "4",
	    NULL };
	struct tu_target	*t = tu_target_start(args);

	check_process(t->pid);
	tu_target_stop(t);
}
END_TEST

START_TEST(test_known_addresses_of_target)
{
	static const struct {
		const char	*name;
		enum mw_kind	 kind;
	} want[] = {
		{ "odd_file", MW_KIND_FILE }, { "deleted", MW_KIND_FILE },
		{ "memfd", MW_KIND_SHMEM }, { "sysv", MW_KIND_SHMEM },
		{ "anon_shared", MW_KIND_SHMEM }, { "guard", MW_KIND_GUARD },
		{ "heap", MW_KIND_HEAP }, { "big_malloc", MW_KIND_ANON },
		{ "data", MW_KIND_DATA }, { "bss", MW_KIND_BSS },
		{ "rodata", MW_KIND_RODATA }, { "text", MW_KIND_TEXT },
		{ "stack", MW_KIND_STACK },
	};
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_query		*q = mw_query_open(t->pid, 0);
	struct mw_region	 r;

	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t a = tu_addr(t, want[i].name);

		ck_assert_msg(a != 0, "target printed no %s", want[i].name);
		ck_assert_int_eq(mw_query_addr(q, a, &r), 1);
		ck_assert_msg(r.kind == want[i].kind, "%s: %s, expected %s",
		    want[i].name, mw_kind_name(r.kind),
		    mw_kind_name(want[i].kind));
	}
	ck_assert_int_eq(mw_query_addr(q, tu_addr(t, "odd_file"), &r), 1);
	ck_assert_ptr_nonnull(strstr(r.name, "/odd name\nwith newline"));
	ck_assert_int_eq(mw_query_addr(q, tu_addr(t, "deleted"), &r), 1);
	ck_assert(r.flags & MW_REGION_DELETED);
	mw_query_close(q);
	tu_target_stop(t);
}
END_TEST

START_TEST(test_gone_and_bad)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_query		*q = mw_query_open(t->pid, 0);
	struct mw_region	 r;
	uint64_t		 heap = tu_addr(t, "heap");

	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(mw_query_addr(q, heap, &r), 1);
	tu_target_stop(t);
	ck_assert_int_eq(mw_query_addr(q, heap, &r), -1);
	ck_assert_int_eq(errno, ESRCH);
	mw_query_close(q);

	errno = 0;
	ck_assert_ptr_null(mw_query_open(0x3fffffff, 0));
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_ptr_null(mw_query_open(-1, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(mw_query_open(0, 0x100));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The text path reads once and again only on a miss. */
START_TEST(test_text_path_refreshes_on_miss)
{
	struct mw_query		*q = mw_query_open(0, MW_QUERY_TEXT);
	struct mw_region	 r;
	int			 local;
	void			*p;

	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(mw_query_addr(q, (uintptr_t)&local, &r), 1);
	mwi_faults.read_fail = 1;	/* a hit must not read */
	ck_assert_int_eq(mw_query_addr(q, (uintptr_t)&local, &r), 1);
	ck_assert_int_eq(r.kind, TU_OWN_STACK);
	mwi_faults.read_fail = 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_int_eq(mw_query_addr(q, (uintptr_t)p, &r), 1);
	ck_assert_uint_eq(r.start, (uintptr_t)p);
	munmap(p, 4096);
	mw_query_close(q);
}
END_TEST

/*
 * A handle opened before the target execs follows it into its new
 * image, on both paths: sh waits for a line, then execs tests/target.
 */
static void
check_exec(unsigned int flags)
{
	char		 cmd[1200], line[256];
	int		 to[2], from[2];
	pid_t		 pid;
	FILE		*out;
	struct mw_query	*q;
	struct mw_region r;
	uint64_t	 heap = 0;
	int		 status;

	snprintf(cmd, sizeof(cmd), "read x; exec '%s/tests/target'",
	    TOP_BUILDDIR);
	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	if ((pid = fork()) == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	q = mw_query_open(pid, flags);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(mw_query_addr(q, 0x10, &r), 0);	/* sh's maps */
	ck_assert_int_eq(write(to[1], "go\n", 3), 3);
	out = fdopen(from[0], "r");
	while (fgets(line, sizeof(line), out) != NULL &&
	    strcmp(line, "ready\n") != 0)
		sscanf(line, "heap 0x%" SCNx64, &heap);
	ck_assert_uint_ne(heap, 0);
	ck_assert_int_eq(mw_query_addr(q, heap, &r), 1);
	ck_assert_int_eq(r.kind, MW_KIND_HEAP);
	mw_query_close(q);
	close(to[1]);
	fclose(out);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

START_TEST(test_query_follows_exec)
{
	check_exec(0);
	check_exec(MW_QUERY_TEXT);
}
END_TEST

/*
 * An exec can land between the two ioctls of a miss (the exact one, then
 * the one for the next region): the second meets the old address space,
 * ESRCH. The lookup reopens and answers; CI's valgrind run once caught
 * this on sh's exec. Either ioctl failing gives the same answer.
 */
START_TEST(test_exec_between_ioctls)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_query		*q = mw_query_open(t->pid, 0);
	struct mw_region	 r;

	ck_assert_ptr_nonnull(q);
	for (long nth = 1; nth <= 2; nth++) {
		mwi_faults.query_esrch = nth;
		ck_assert_int_eq(mw_query_addr(q, 0x10, &r), 0);
		ck_assert_int_eq(mwi_faults.query_esrch, 0);
	}
	mwi_faults.query_esrch = 1;
	ck_assert_int_eq(mw_query_addr(q, tu_addr(t, "heap"), &r), 1);
	ck_assert_int_eq(r.kind, MW_KIND_HEAP);
	ck_assert_int_eq(mwi_faults.query_esrch, 0);
	ck_assert_int_eq(mw_query_uses_ioctl(q), 1);
	mwi_faults.query_esrch = 0;
	mw_query_close(q);
	tu_target_stop(t);
}
END_TEST

/*
 * On a kernel without PROCMAP_QUERY (before 6.11) the ioctl fails with
 * ENOTTY: the handle turns to the text for good and gives the same
 * answers. Simulated here with the fault hook.
 */
START_TEST(test_enotty_falls_back_to_text)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_query		*q = mw_query_open(t->pid, 0);
	struct mw_query		*ref = mw_query_open(t->pid, MW_QUERY_TEXT);
	struct mw_maps		*m = mw_maps_read(t->pid);
	static const char *const names[] = { "heap", "stack", "text", "bss",
	    "memfd", "guard", "odd_file" };

	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(mw_query_uses_ioctl(q), 1);
	mwi_faults.no_ioctl = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_int_eq(ck_lookup(q, ref, m, tu_addr(t, names[i])), 1);
	ck_assert_int_eq(ck_lookup(q, ref, m, 0x10), 0);
	ck_assert_int_eq(mw_query_uses_ioctl(q), 0);
	mwi_faults.no_ioctl = false;
	mw_query_close(q);
	mw_query_close(ref);
	mw_maps_free(m);
	tu_target_stop(t);
}
END_TEST

/* What a mw_region_fn was told: copies of regions, and resets. */
struct told {
	struct mw_region	 v[256];
	size_t			 n;
	int			 resets;
};

static void
tell(void *ctx, const struct mw_region *r)
{
	struct told	*t = ctx;

	if (r == NULL) {
		t->n = 0;
		t->resets++;
		return;
	}
	ck_assert_uint_lt(t->n, 256);
	t->v[t->n] = *r;
	t->v[t->n].name = NULL;	/* names are checked through the maps */
	t->n++;
}

static void
ck_told_equals(const struct told *t, const struct mw_maps *m)
{
	size_t			 n;
	const struct mw_region	*v = mw_maps_regions(m, &n);

	ck_assert_uint_eq(t->n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(t->v[i].start, v[i].start);
		ck_assert_uint_eq(t->v[i].end, v[i].end);
		ck_assert_int_eq(t->v[i].kind, v[i].kind);
		ck_assert_uint_eq(t->v[i].perms, v[i].perms);
	}
}

/* Each region is told, classified, in order: the same as the result. */
START_TEST(test_read_each_tells_every_region)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct told		 told = { .n = 0 };
	struct mw_maps		*m = mw_maps_read_each(t->pid, tell, &told);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(told.resets, 0);
	ck_told_equals(&told, m);
	ck_assert_uint_gt(told.n, 20);
	mw_maps_free(m);
	tu_target_stop(t);
}
END_TEST

/* A torn text: what was told is void (NULL), then all, sorted. */
START_TEST(test_read_each_resets_after_sort)
{
	static const char torn[] =
	    "00403000-00404000 r-xp 00000000 00:00 0 [vdso]\n"
	    "00405000-00406000 rw-p 00000000 00:00 0 [heap]\n"
	    "00401000-00402000 rw-p 00000000 00:00 0\n"
	    "00401000-00403000 ---p 00000000 00:00 0\n";
	char		 path[] = "/tmp/mw-torn-XXXXXX";
	int		 fd = mkstemp(path);
	struct told	 told = { .n = 0 };
	struct mw_maps	*m;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, torn, sizeof(torn) - 1),
	    (ssize_t)sizeof(torn) - 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	m = mwi_maps_read_fd(fd, 0, true, tell, &told);
	close(fd);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(told.resets, 1);
	ck_told_equals(&told, m);
	ck_assert_uint_eq(told.n, 3);	/* the older overlapping line lost */
	ck_assert_int_eq(told.v[0].kind, MW_KIND_GUARD);
	mw_maps_free(m);
}
END_TEST

static void
ck_same_maps(const struct mw_maps *a, const struct mw_maps *b)
{
	size_t			 na, nb;
	const struct mw_region	*va = mw_maps_regions(a, &na);
	const struct mw_region	*vb = mw_maps_regions(b, &nb);

	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++)
		ck_same_region(&va[i], &vb[i], va[i].start);
}

/*
 * A map of ~1 MB of text is read by stream.c's reader thread while it
 * is parsed: the result must equal a parse of the same text read in one
 * piece; a read error or a failed allocation anywhere in the pipeline
 * is reported, and nothing leaks or hangs (ASan build).
 */
START_TEST(test_big_map_through_reader_thread)
{
	static const char *const args[] = { "--maps", "20000", NULL };
	struct tu_target	*t = tu_target_start(args);
	struct mw_maps		*whole, *streamed;
	char			 path[64], *text = NULL;
	size_t			 len = 0, n;
	FILE			*fp;
	long			 k;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	for (char buf[65536]; (n = fread(buf, 1, sizeof(buf), fp)) > 0;) {
		ck_assert_ptr_nonnull(text = realloc(text, len + n));
		memcpy(text + len, buf, n);
		len += n;
	}
	fclose(fp);
	ck_assert_uint_gt(len, 3 * 256 * 1024);	/* well past SYNC_LIMIT */
	whole = mw_maps_parse(text, len, NULL);
	ck_assert_ptr_nonnull(whole);
	ck_assert_int_eq(mw_maps_classify(whole), 0);

	streamed = mw_maps_read(t->pid);
	ck_assert_ptr_nonnull(streamed);
	ck_same_maps(whole, streamed);
	mw_maps_free(streamed);

	mwi_faults.read_max = 3000;	/* lines split across reads */
	streamed = mw_maps_read(t->pid);
	mwi_faults.read_max = 0;
	ck_assert_ptr_nonnull(streamed);
	ck_same_maps(whole, streamed);
	mw_maps_free(streamed);

	for (k = 1; k <= 200; k += 57) {	/* inline reads, then thread */
		mwi_faults.read_fail = k;
		errno = 0;
		ck_assert_ptr_null(mw_maps_read(t->pid));
		ck_assert_int_eq(errno, EIO);
		mwi_faults.read_fail = 0;
	}
	for (k = 1; k < 1000; k++) {
		mwi_faults.alloc_fail = k;
		streamed = mw_maps_read(t->pid);
		mwi_faults.alloc_fail = 0;
		if (streamed != NULL)
			break;
		ck_assert_int_eq(errno, ENOMEM);
	}
	ck_assert_ptr_nonnull(streamed);
	ck_assert_int_gt(k, 12);	/* the blocks, the text, the arrays */
	ck_same_maps(whole, streamed);
	mw_maps_free(streamed);
	mw_maps_free(whole);
	free(text);
	tu_target_stop(t);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_paths_agree_on_target);
	tcase_add_test(tc, test_paths_agree_on_busy_target);
	tcase_add_test(tc, test_known_addresses_of_target);
	tcase_add_test(tc, test_gone_and_bad);
	tcase_add_test(tc, test_text_path_refreshes_on_miss);
	tcase_add_test(tc, test_big_map_through_reader_thread);
	tcase_add_test(tc, test_query_follows_exec);
	tcase_add_test(tc, test_exec_between_ioctls);
	tcase_add_test(tc, test_enotty_falls_back_to_text);
	tcase_add_test(tc, test_read_each_tells_every_region);
	tcase_add_test(tc, test_read_each_resets_after_sort);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
