/*
 * check_proc.c: struct mw_proc, the passes put together.
 *
 * Each module has its own suite; this one checks what only the whole
 * can get wrong: the kinds and labels the passes leave agree with the
 * totals, with mw_proc_where and with the threads list; a handle of one
 * region (mw_proc_open_region) answers as the whole map, a .bss merged
 * with anonymous memory above it included; flags reach the
 * passes, and mw_proc_open_each's fn sees every region with either;
 * a gone target and lost memory fail cleanly; peeking at memory
 * the target never touched does not populate it.
 */
#include "mwi.h"
#include "tutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define NTHREADS	3

struct blocked {
	pthread_t	 th;
	int		 fds[2];
	pid_t		 tid;
	uintptr_t	 local;		/* the address of one of its locals */
	pthread_barrier_t *ready;
};

static void *
block_on_pipe(void *arg)
{
	struct blocked	*b = arg;
	volatile char	 local[256];
	char		 c;

	local[0] = 1;
	b->local = (uintptr_t)&local[0];
	b->tid = gettid();
	pthread_barrier_wait(b->ready);
	while (read(b->fds[0], &c, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

static void
start_threads(struct blocked *b, pthread_barrier_t *ready)
{
	char	name[16];

	pthread_barrier_init(ready, NULL, NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++) {
		b[i].ready = ready;
		ck_assert_int_eq(pipe(b[i].fds), 0);
		ck_assert_int_eq(pthread_create(&b[i].th, NULL, block_on_pipe,
		    &b[i]), 0);
		snprintf(name, sizeof(name), "proc-%d", i);
		pthread_setname_np(b[i].th, name);
	}
	pthread_barrier_wait(ready);
	usleep(20000);	/* let them reach read(2) */
}

static void
stop_threads(struct blocked *b, pthread_barrier_t *ready)
{
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(write(b[i].fds[1], "x", 1), 1);
		pthread_join(b[i].th, NULL);
		close(b[i].fds[0]);
		close(b[i].fds[1]);
	}
	pthread_barrier_destroy(ready);
}

START_TEST(test_threads_in_map)
{
	struct blocked		 b[NTHREADS];
	pthread_barrier_t	 ready;
	struct mw_proc		*p;
	const struct mw_region	*r;
	const struct mw_thread	*t;
	char			 name[16];

	start_threads(b, &ready);
	p = mw_proc_open(0, 0);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < NTHREADS; i++) {
		t = mw_proc_thread(p, b[i].tid);
		ck_assert_ptr_nonnull(t);
		snprintf(name, sizeof(name), "proc-%d", i);
		ck_assert_str_eq(t->name, name);
		ck_assert_uint_eq(t->sp_from, MW_SP_SYSCALL);
		if (tu_valgrind())
			continue;	/* its kernel SP: valgrind's stack */
		ck_assert(t->stack_start <= b[i].local &&
		    b[i].local < t->stack_end);
		r = mw_maps_find(mw_proc_maps(p), b[i].local);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->kind, MW_KIND_THREAD_STACK);
		ck_assert_int_eq(mw_proc_label(p, r)->tid, b[i].tid);
	}
	r = mw_maps_find(mw_proc_maps(p), (uintptr_t)&p);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, TU_OWN_STACK);
	if (!tu_valgrind())
		ck_assert_int_eq(mw_proc_label(p, r)->tid, getpid());
	mw_proc_close(p);
	stop_threads(b, &ready);
}
END_TEST

/* The totals moved by the passes are still those of the regions. */
START_TEST(test_totals_agree)
{
	struct tu_target	*tg = tu_target_start(NULL);
	struct mw_kind_totals	 t, want;
	const struct mw_region	*v;
	struct mw_proc		*p;
	size_t			 n;

	p = mw_proc_open(tg->pid, 0);
	ck_assert_ptr_nonnull(p);
	v = mw_maps_regions(mw_proc_maps(p), &n);
	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < n; i++) {
		want.bytes[v[i].kind] += v[i].end - v[i].start;
		want.count[v[i].kind]++;
	}
	mw_maps_totals(mw_proc_maps(p), &t);
	ck_assert_mem_eq(&t, &want, sizeof(t));
	ck_assert_uint_gt(t.count[MW_KIND_HEAP], 0);
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

/* mw_proc_where agrees with the map and the labels, region by region. */
START_TEST(test_where_agrees)
{
	struct tu_target	*tg = tu_target_start(NULL);
	const struct mw_region	*v;
	struct mw_answer	 a;
	struct mw_proc		*p;
	size_t			 n;

	p = mw_proc_open(tg->pid, 0);
	ck_assert_ptr_nonnull(p);
	v = mw_maps_regions(mw_proc_maps(p), &n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(mw_proc_where(p, v[i].end - 1, &a), 1);
		ck_assert_uint_eq(a.region.start, v[i].start);
		ck_assert_int_eq(a.region.kind, v[i].kind);
		ck_assert_mem_eq(&a.label, mw_proc_label(p, &v[i]),
		    sizeof(a.label));
		if (i + 1 < n && v[i].end < v[i + 1].start) {
			ck_assert_int_eq(mw_proc_where(p, v[i].end, &a), 0);
			ck_assert_int_eq(a.region.kind, MW_KIND_UNMAPPED);
		}
	}
	ck_assert_int_eq(mw_proc_where(p, tu_addr(tg, "text"), &a), 1);
	ck_assert_ptr_nonnull(a.section);
	ck_assert_str_eq(a.section, ".text");
	ck_assert_ptr_nonnull(a.symbol);
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* An answer from mw_proc_open_region's handle against the whole map's. */
static void
assert_same_answer(const struct mw_answer *a, const struct mw_answer *b)
{
	ck_assert_uint_eq(a->region.start, b->region.start);
	ck_assert_uint_eq(a->region.end, b->region.end);
	ck_assert_int_eq(a->region.kind, b->region.kind);
	ck_assert_int_eq(a->label.tid, b->label.tid);
	ck_assert_int_eq(a->label.arena, b->label.arena);
	ck_assert_int_eq(a->label.heap, b->label.heap);
	ck_assert_uint_eq(a->label.chunk_size, b->label.chunk_size);
	ck_assert(same_str(a->label.note, b->label.note));
	ck_assert_msg(same_str(a->section, b->section), "%#jx: %s vs %s",
	    (uintmax_t)a->addr, a->section, b->section);
	ck_assert(same_str(a->symbol, b->symbol));
	ck_assert_uint_eq(a->symbol_offset, b->symbol_offset);
	ck_assert_mem_eq(&a->object, &b->object, sizeof(a->object));
}

/*
 * Every region of a target, from a handle of that region alone: the
 * answers of the whole map, at its first, middle and last byte.
 */
START_TEST(test_open_region_agrees)
{
	const char *const	 args[] = { "--maps", "20", NULL };
	struct tu_target	*tg = tu_target_start(args);
	const struct mw_region	*v;
	struct mw_region	 r;
	struct mw_answer	 a, b;
	struct mw_query		*q;
	struct mw_proc		*p, *one;
	size_t			 n, m, small = 0;

	p = mw_proc_open(tg->pid, 0);
	q = mw_query_open(tg->pid, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	v = mw_maps_regions(mw_proc_maps(p), &n);
	for (size_t i = 0; i < n; i++) {
		uint64_t at[3] = { v[i].start, v[i].start +
		    (v[i].end - v[i].start) / 2, v[i].end - 1 };

		if (v[i].kind == MW_KIND_VSYSCALL)
			continue;	/* no VMA: the ioctl does not see it */
		ck_assert_int_eq(mw_query_addr(q, v[i].start, &r), 1);
		one = mw_proc_open_region(q, &r, 0);
		ck_assert_ptr_nonnull(one);
		(void)mw_maps_regions(mw_proc_maps(one), &m);
		if (m < n / 2)
			small++;
		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(mw_proc_where(p, at[k], &b), 1);
			ck_assert_int_eq(mw_proc_where(one, at[k], &a), 1);
			assert_same_answer(&a, &b);
		}
		mw_proc_close(one);
	}
	/* The point: most regions needed far less than the whole map. */
	ck_assert_uint_gt(small, n / 2);
	r = v[0];
	r.end = r.start;
	errno = 0;
	ck_assert_ptr_null(mw_proc_open_region(q, &r, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(mw_proc_open_region(q, &v[0], 0x80));
	ck_assert_int_eq(errno, EINVAL);
	mw_query_close(q);
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

/*
 * A .bss that merged with anonymous memory above its image (target
 * --after-bss; pymalloc's arenas merge so with libpython's, and on 3.9
 * and 3.10 the small ints in them are found only from the heap): its
 * handle is the whole map, and it answers as the whole map does. Over
 * the image alone the stack would be unknown to it.
 */
START_TEST(test_open_region_bss_merged)
{
	const char *const	 args[] = { "--after-bss", "256", NULL };
	struct tu_target	*tg = tu_target_start(args);
	uint64_t		 at = tu_addr(tg, "after_bss");
	struct mw_region	 r;
	struct mw_answer	 a, b;
	struct mw_query		*q;
	struct mw_proc		*p, *one;

	ck_assert_uint_ne(at, 0);
	p = mw_proc_open(tg->pid, 0);
	q = mw_query_open(tg->pid, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(mw_query_addr(q, at, &r), 1);
	ck_assert_int_eq(r.kind, MW_KIND_BSS);
	ck_assert_uint_le(r.start, tu_addr(tg, "bss"));	/* one region */
	one = mw_proc_open_region(q, &r, 0);
	ck_assert_ptr_nonnull(one);
	ck_assert_ptr_nonnull(mw_maps_find(mw_proc_maps(one),
	    tu_addr(tg, "stack")));
	ck_assert_int_eq(mw_proc_where(p, at, &b), 1);
	ck_assert_int_eq(mw_proc_where(one, at, &a), 1);
	assert_same_answer(&a, &b);
	mw_proc_close(one);
	mw_query_close(q);
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

START_TEST(test_smaps_flag)
{
	struct tu_target	*tg = tu_target_start(NULL);
	const struct mw_region	*v;
	struct mw_proc		*p;
	size_t			 n;

	p = mw_proc_open(tg->pid, MW_PROC_SMAPS);
	ck_assert_ptr_nonnull(p);
	v = mw_maps_regions(mw_proc_maps(p), &n);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_nonnull(mw_maps_smaps(mw_proc_maps(p), &v[i]));
	mw_proc_close(p);
	p = mw_proc_open(tg->pid, 0);
	ck_assert_ptr_nonnull(p);
	v = mw_maps_regions(mw_proc_maps(p), &n);
	ck_assert_ptr_null(mw_maps_smaps(mw_proc_maps(p), &v[0]));
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

/* What mw_proc_open_each's fn saw: the regions, in the order told. */
struct told {
	uint64_t	 starts[4096];
	size_t		 n;
	bool		 overflow;
};

static void
tell(void *ctx, const struct mw_region *r)
{
	struct told	*t = ctx;

	if (r == NULL) {	/* a torn read, sorted: all are told again */
		t->n = 0;
		return;
	}
	if (t->n == sizeof(t->starts) / sizeof(t->starts[0])) {
		t->overflow = true;
		return;
	}
	t->starts[t->n++] = r->start;
}

/* With and without MW_PROC_SMAPS, fn is told of every region once. */
START_TEST(test_open_each_tells_every_region)
{
	struct tu_target	*tg = tu_target_start(NULL);
	static const unsigned int flags[] = { 0, MW_PROC_SMAPS };
	const struct mw_region	*v;
	struct mw_proc		*p;
	static struct told	 t;
	size_t			 n;

	for (size_t f = 0; f < 2; f++) {
		memset(&t, 0, sizeof(t));
		p = mw_proc_open_each(tg->pid, flags[f], tell, &t);
		ck_assert_ptr_nonnull(p);
		ck_assert(!t.overflow);
		v = mw_maps_regions(mw_proc_maps(p), &n);
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_eq(t.n, n);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(t.starts[i], v[i].start);
		if (flags[f] & MW_PROC_SMAPS)
			ck_assert_ptr_nonnull(mw_maps_smaps(mw_proc_maps(p),
			    &v[n - 1]));
		mw_proc_close(p);
	}
	tu_target_stop(tg);
}
END_TEST

START_TEST(test_gone)
{
	pid_t	pid = fork();
	int	status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	errno = 0;
	ck_assert_ptr_null(mw_proc_open(pid, 0));
	ck_assert_int_eq(errno, ESRCH);
}
END_TEST

/* The Nth allocation fails: NULL with ENOMEM, or a whole answer. */
START_TEST(test_alloc_faults)
{
	struct tu_target	*tg = tu_target_start(NULL);
	struct mw_proc		*p;
	long			 n;

	for (n = 1; n < 100000; n++) {
		mwi_faults.alloc_fail = n;
		p = mw_proc_open(tg->pid, 0);
		if (p != NULL)
			break;
		ck_assert_int_eq(errno, ENOMEM);
	}
	mwi_faults.alloc_fail = 0;
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_gt(n, 1);
	mw_proc_close(p);
	tu_target_stop(tg);
}
END_TEST

/*
 * mwi_peek_memv on a child that touched pages [TOUCH_LO, TOUCH_HI) of
 * an anonymous mapping, writing each page's index at its start: those
 * read back, the others read as zeros and stay untouched (pagemap), in
 * one call of more ranges than one batch holds.
 */
#define PEEK_PAGES	2048
#define TOUCH_LO	100
#define TOUCH_HI	1300

static bool
child_page_present(pid_t pid, uint64_t addr)
{
	uint64_t	e = 0;
	int		fd = mwi_open_proc(pid, "pagemap");

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &e, 8,
	    (off_t)(addr / (uint64_t)sysconf(_SC_PAGESIZE) * 8)), 8);
	close(fd);
	return (e >> 63) & 1;
}

START_TEST(test_peek_untouched)
{
	size_t		 ps = (size_t)sysconf(_SC_PAGESIZE);
	char		*map = mmap(NULL, PEEK_PAGES * ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec	*local, *remote;
	uint64_t	*got, span[2 * 4096 / 8];
	int		 ready[2];
	pid_t		 pid;
	char		 c;

	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		for (size_t i = TOUCH_LO; i < TOUCH_HI; i++)
			*(uint64_t *)(map + i * ps) = i;
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	local = calloc(PEEK_PAGES, sizeof(*local));
	remote = calloc(PEEK_PAGES, sizeof(*remote));
	got = calloc(PEEK_PAGES, 16);
	for (size_t i = 0; i < PEEK_PAGES; i++) {
		got[2 * i] = got[2 * i + 1] = ~(uint64_t)0;
		local[i] = (struct iovec){ &got[2 * i], 16 };
		remote[i] = (struct iovec){ map + i * ps, 16 };
	}
	ck_assert_int_eq(mwi_peek_memv(pid, local, remote, PEEK_PAGES),
	    PEEK_PAGES);
	for (size_t i = 0; i < PEEK_PAGES; i++) {
		bool touched = i >= TOUCH_LO && i < TOUCH_HI;

		ck_assert_uint_eq(got[2 * i], touched ? i : 0);
		ck_assert_uint_eq(got[2 * i + 1], 0);
	}
	/* One range across an untouched and a touched page. */
	memset(span, 0xff, sizeof(span));
	ck_assert_int_eq(mwi_peek_mem(pid, (uintptr_t)map +
	    (TOUCH_LO - 1) * ps, span, sizeof(span)), 0);
	ck_assert_uint_eq(span[0], 0);
	ck_assert_uint_eq(span[ps / 8 - 1], 0);
	ck_assert_uint_eq(span[ps / 8], TOUCH_LO);
	ck_assert(!child_page_present(pid, (uintptr_t)map));
	ck_assert(!child_page_present(pid, (uintptr_t)map + (TOUCH_LO - 1) * ps));
	ck_assert(!child_page_present(pid, (uintptr_t)map + TOUCH_HI * ps));
	ck_assert(child_page_present(pid, (uintptr_t)map + TOUCH_LO * ps));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	errno = 0;
	ck_assert_int_eq(mwi_peek_memv(pid, local, remote, 1), -1);
	ck_assert_int_eq(errno, ESRCH);
	free(local);
	free(remote);
	free(got);
	close(ready[0]);
	close(ready[1]);
	munmap(map, PEEK_PAGES * ps);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("proc");
	TCase	*tc = tcase_create("proc");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads_in_map);
	tcase_add_test(tc, test_totals_agree);
	tcase_add_test(tc, test_where_agrees);
	tcase_add_test(tc, test_open_region_agrees);
	tcase_add_test(tc, test_open_region_bss_merged);
	tcase_add_test(tc, test_smaps_flag);
	tcase_add_test(tc, test_open_each_tells_every_region);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_alloc_faults);
	tcase_add_test(tc, test_peek_untouched);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
