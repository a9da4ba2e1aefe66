/*
 * check_probe.c: p_mem and p_diff print the article's fields and the
 * right kind; the probe is thread-safe, survives fork, and does not
 * re-read the maps text per call.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/mman.h>

#include "mwi.h"
#include "tutil.h"

int	a_global = 5;

/* Run fn with the probe printing into a string; returns it (free it). */
static char *
capture(void (*fn)(void *), void *arg)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&text, &len), *old;

	ck_assert_ptr_nonnull(fp);
	old = mw_probe_stream(fp);
	fn(arg);
	mw_probe_stream(old);
	fclose(fp);
	return text;
}

static void
print_local(void *arg)
{
	int	a = 12;

	(void)arg;
	p_mem("a", &a);
	*(uintptr_t *)arg = (uintptr_t)&a;
}

START_TEST(test_p_mem_format)
{
	uintptr_t	 addr = 0;
	char		*text = capture(print_local, &addr), want[128];

	snprintf(want, sizeof(want), "a:\t0x%" PRIxPTR "\t%" PRIuPTR "\t%s\n",
	    addr, addr, mw_kind_name(TU_OWN_STACK));
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

static void
print_diffs(void *arg)
{
	int	v[3];

	(void)arg;
	p_diff("b-a", &v[0], &v[1]);
	p_diff("a-c", &v[2], &v[0]);
	*(uintptr_t *)arg = (uintptr_t)&v[0];
}

START_TEST(test_p_diff_format)
{
	uintptr_t	 a = 0;
	char		*text = capture(print_diffs, &a), want[256];

	const char	*k = mw_kind_name(TU_OWN_STACK);

	snprintf(want, sizeof(want),
	    "b-a:\tp1:0x%" PRIxPTR "\tp2:0x%" PRIxPTR "\tdiff:\t4\t%s\t%s\n"
	    "a-c:\tp1:0x%" PRIxPTR "\tp2:0x%" PRIxPTR "\tdiff:\t-8\t%s\t%s\n",
	    a, a + 4, k, k, a + 8, a, k, k);
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

static void
print_null(void *arg)
{
	(void)arg;
	p_mem("null", NULL);
	p_diff("far", NULL, (void *)UINTPTR_MAX);
}

START_TEST(test_p_mem_edges)
{
	char	*text = capture(print_null, NULL);

	ck_assert_str_eq(text, "null:\t0x0\t0\tunmapped\n"
	    "far:\tp1:0x0\tp2:0xffffffffffffffff\tdiff:\t-1\tunmapped\tunmapped\n");
	free(text);
}
END_TEST

START_TEST(test_probe_kinds)
{
	void	*page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_int_eq(mw_probe_kind(&a_global), MW_KIND_DATA);
	ck_assert_int_eq(mw_probe_kind((void *)capture), MW_KIND_TEXT);
	ck_assert_int_eq(mw_probe_kind(page), MW_KIND_ANON);
	ck_assert_int_eq(mw_probe_kind("literal"), MW_KIND_RODATA);
#ifndef __SANITIZE_ADDRESS__
	void *p = malloc(16);
	ck_assert_int_eq(mw_probe_kind(p), TU_OWN_HEAP);
	free(p);
#endif
	munmap(page, 4096);
	ck_assert_int_eq(mw_probe_kind(page), MW_KIND_UNMAPPED);
}
END_TEST

/* After warming up, answers come from the ioctl: no read(2) at all. */
START_TEST(test_probe_reads_no_text)
{
	int	local = 0;

	if (mw_probe_kind(&local) != TU_OWN_STACK)
		ck_abort_msg("probe failed: %s", strerror(errno));
	mwi_faults.read_fail = 1;
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(mw_probe_kind(&local), TU_OWN_STACK);
	ck_assert_int_eq(mwi_faults.read_fail, 1);
	mwi_faults.read_fail = 0;
}
END_TEST

/* A child's own mapping is found: the handle follows fork. */
START_TEST(test_probe_after_fork)
{
	int	local = 0, status;
	pid_t	pid;

	ck_assert_int_eq(mw_probe_kind(&local), TU_OWN_STACK);
	if ((pid = fork()) == 0) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);

		_exit(mw_probe_kind(p) == MW_KIND_ANON ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

#define NTHREADS	8
#define NLINES		200

static void *
hammer(void *arg)
{
	char	label[32];
	int	local;

	for (int i = 0; i < NLINES; i++) {
		snprintf(label, sizeof(label), "t%ld-%d", (long)(intptr_t)arg, i);
		p_mem(label, &local);
	}
	return NULL;
}

static void
run_threads(void *arg)
{
	pthread_t	t[NTHREADS];

	(void)arg;
	for (long i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer,
		    (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
}

/* Eight threads at once: every line whole, every local on a stack. */
START_TEST(test_probe_threads)
{
	char	*text = capture(run_threads, NULL), *line, *save = NULL;
	int	 lines = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		long		t;
		int		i;
		uintptr_t	a, d;
		char		kind[32];

		ck_assert_int_eq(sscanf(line, "t%ld-%d:\t0x%" SCNxPTR "\t%"
		    SCNuPTR "\t%31s", &t, &i, &a, &d, kind), 5);
		ck_assert_uint_eq(a, d);
		/* Thread stacks are anonymous mappings until threads.c. */
		ck_assert_str_eq(kind, "anon");
		lines++;
	}
	ck_assert_int_eq(lines, NTHREADS * NLINES);
	free(text);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("probe");
	TCase	*tc = tcase_create("probe");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_p_mem_format);
	tcase_add_test(tc, test_p_diff_format);
	tcase_add_test(tc, test_p_mem_edges);
	tcase_add_test(tc, test_probe_kinds);
	tcase_add_test(tc, test_probe_reads_no_text);
	tcase_add_test(tc, test_probe_after_fork);
	tcase_add_test(tc, test_probe_threads);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
