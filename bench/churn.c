/*
 * churn.c: small-object churn, the bundled allocator against glibc
 * malloc, mimalloc and jemalloc (issue 4's benchmark).
 *
 * usage: churn [-l libmemwalk.so] [-n ops] [-r rounds]
 *
 * Two patterns, sizes uniform in 8..512 from a fixed seed, each block's
 * first byte written:
 *   random   a working set of 100,000 live blocks; each step frees a
 *            random one and allocates a new one in its place
 *   batch    100,000 allocations, then their 100,000 frees, in order
 * An operation is one allocation or one free: 20 million by default.
 * Each is run single-threaded and with 2 threads (each thread its own
 * working set and half the operations).
 *
 * Every allocator is called through a pointer from dlsym, glibc's too,
 * so that none is inlined and all pay the same call: memwalk and
 * mimalloc are loaded with dlopen, jemalloc (whose TLS cannot be
 * dlopen'ed) with LD_PRELOAD. Each run is a process of its own, this
 * program executed again with -C, so that its peak RSS (ru_maxrss of
 * wait4) is its own. Rounds run every (pattern, threads, allocator)
 * once, the allocators in a rotated order; the report gives the median,
 * min and p90 of ns per operation, the median of peak RSS, their ratios
 * to glibc's (of medians, and the median of the per-round ratios for
 * ns/op), memwalk's against mimalloc's and jemalloc's, and the goals of
 * issue 4 (faster than mimalloc on both patterns single-threaded, peak
 * RSS at most 1.1x glibc's, no slower than glibc on 2 threads), also as
 * `goal` lines to $BENCH_DATA for bench/all (see harness.h).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKING_SET	100000
#define MIN_SIZE	8
#define MAX_SIZE	512

struct impl {
	const char	*name;
	const char	*lib;		/* dlopen'ed; NULL: this process */
	const char	*malloc_sym, *free_sym;
	void		*(*alloc)(size_t);
	void		 (*release)(void *);
};

static struct impl impls[] = {
	{ "glibc", NULL, "malloc", "free", NULL, NULL },
	{ "memwalk", NULL, "mw_malloc", "mw_free", NULL, NULL },
	{ "mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free", NULL, NULL },
	/* initial-exec TLS: it cannot be dlopen'ed, so it is preloaded */
	{ "jemalloc", NULL, "malloc", "free", NULL, NULL },
};
#define NIMPL	(sizeof(impls) / sizeof(impls[0]))

static const char *patterns[] = { "random", "batch" };
static const int threads_of[] = { 1, 2 };

struct job {
	const struct impl *im;
	int		 pattern;
	long		 ops;
	uint64_t	 seed;
	double		 ns;
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
size_of(uint64_t *s)
{
	return MIN_SIZE + next_rand(s) % (MAX_SIZE - MIN_SIZE + 1);
}

static void *
checked(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "churn: out of memory\n");
		exit(1);
	}
	*(volatile char *)p = 1;
	return p;
}

static void
run_random(const struct impl *im, long ops, uint64_t seed)
{
	void	**live = calloc(WORKING_SET, sizeof(*live));
	uint64_t s = seed;

	for (long i = 0; i < WORKING_SET; i++)
		live[i] = checked(im->alloc(size_of(&s)));
	for (long i = 0; i < ops / 2; i++) {
		size_t	k = next_rand(&s) % WORKING_SET;

		im->release(live[k]);
		live[k] = checked(im->alloc(size_of(&s)));
	}
	for (long i = 0; i < WORKING_SET; i++)
		im->release(live[i]);
	free(live);
}

static void
run_batch(const struct impl *im, long ops, uint64_t seed)
{
	void	**live = calloc(WORKING_SET, sizeof(*live));
	uint64_t s = seed;

	for (long done = 0; done < ops; done += 2 * WORKING_SET) {
		for (long i = 0; i < WORKING_SET; i++)
			live[i] = checked(im->alloc(size_of(&s)));
		for (long i = 0; i < WORKING_SET; i++)
			im->release(live[i]);
	}
	free(live);
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *
job_main(void *arg)
{
	struct job	*j = arg;

	if (j->pattern == 0)
		run_random(j->im, j->ops, j->seed);
	else
		run_batch(j->im, j->ops, j->seed);
	return NULL;
}

/*
 * In the child: load the allocator, warm it with a short run, time the
 * pattern on nthreads threads, write ns per operation to fd.
 */
static void
child(struct impl *im, int pattern, int nthreads, long ops, int fd)
{
	pthread_t	 th[2];
	struct job	 jobs[2];
	void		*h = RTLD_DEFAULT;
	double		 t0, ns;

	if ((im->lib != NULL &&
	    (h = dlopen(im->lib, RTLD_NOW | RTLD_LOCAL)) == NULL) ||
	    (im->alloc = dlsym(h, im->malloc_sym)) == NULL ||
	    (im->release = dlsym(h, im->free_sym)) == NULL) {
		fprintf(stderr, "churn: %s: %s\n", im->name, dlerror());
		_exit(1);
	}
	for (int i = 0; i < nthreads; i++)
		jobs[i] = (struct job){ im, pattern, ops / nthreads,
		    0x9e3779b97f4a7c15ULL + (uint64_t)i, 0 };
	t0 = now_ns();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, job_main, &jobs[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	ns = (now_ns() - t0) / (double)ops;
	if (write(fd, &ns, sizeof(ns)) != sizeof(ns))
		_exit(1);
	_exit(0);
}

/* One measurement in a child process: ns per op and peak RSS in KiB. */
static int
measure(struct impl *im, int pattern, int nthreads, long ops, double *ns,
    long *rss_kib)
{
	struct rusage	ru;
	int		fds[2], status;
	pid_t		pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		char	a[4][32];

		close(fds[0]);
		snprintf(a[0], sizeof(a[0]), "%d", (int)(im - impls));
		snprintf(a[1], sizeof(a[1]), "%d", pattern);
		snprintf(a[2], sizeof(a[2]), "%d", nthreads);
		snprintf(a[3], sizeof(a[3]), "%ld", ops);
		dup2(fds[1], 3);
		if (strcmp(im->name, "jemalloc") == 0)
			setenv("LD_PRELOAD", "libjemalloc.so.2", 1);
		execl("/proc/self/exe", "churn", "-C", a[0], a[1], a[2], a[3],
		    impls[1].lib, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], ns, sizeof(*ns)) != sizeof(*ns))
		*ns = -1;
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || *ns < 0)
		return -1;
	*rss_kib = ru.ru_maxrss;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double	median, min, p90;
};

/* Median, min and p90 (nearest rank) of v, which stays as it was. */
static struct stats
stats_of(const double *v, int n)
{
	double		s[64];
	struct stats	st;
	int		k = (9 * n + 9) / 10 - 1;	/* ceil(0.9 n) - 1 */

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	st.min = s[0];
	st.p90 = s[k < 0 ? 0 : k];
	return st;
}

/* The median over rounds of a[r] / b[r]. */
static double
per_round(const double *a, const double *b, int n)
{
	double	v[64];

	for (int r = 0; r < n; r++)
		v[r] = a[r] / b[r];
	return stats_of(v, n).median;
}

/* A goal line for bench/all, to $BENCH_DATA (see harness.h). */
static void
data_goal(const char *text, double fig, const char *op, double limit,
    const char *basis, const char *other)
{
	const char	*path = getenv("BENCH_DATA");
	FILE		*f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "goal\tchurn\t%s\t%.6g\tx\t%s\t%g\t%s\t%s\n", text, fig, op,
	    limit, basis, other);
	fclose(f);
}

enum { I_GLIBC, I_MEMWALK, I_MIMALLOC, I_JEMALLOC };

static double	ns[4][NIMPL][64], rss[4][NIMPL][64];

static void
report(int rounds)
{
	char	other[256];
	double	rss_max = 0;
	int	rss_at = 0;

	printf("| pattern | threads | allocator | ns/op median | min | p90 | "
	    "peak RSS MiB | ns/op vs glibc (of medians) | (per round) | "
	    "RSS vs glibc |\n|---|---:|---|---:|---:|---:|---:|---:|---:|"
	    "---:|\n");
	for (int k = 0; k < 4; k++) {
		struct stats	g_ns = stats_of(ns[k][I_GLIBC], rounds);
		struct stats	g_rss = stats_of(rss[k][I_GLIBC], rounds);

		for (size_t i = 0; i < NIMPL; i++) {
			struct stats	m_ns = stats_of(ns[k][i], rounds);
			struct stats	m_rss = stats_of(rss[k][i], rounds);

			printf("| %s | %d | %s | %.2f | %.2f | %.2f | %.1f | "
			    "%.2fx | %.2fx | %.2fx |\n", patterns[k % 2],
			    threads_of[k / 2], impls[i].name, m_ns.median,
			    m_ns.min, m_ns.p90, m_rss.median / 1024,
			    m_ns.median / g_ns.median, per_round(ns[k][i],
			    ns[k][I_GLIBC], rounds), m_rss.median /
			    g_rss.median);
			if (i == I_MEMWALK && m_rss.median / g_rss.median >
			    rss_max) {
				rss_max = m_rss.median / g_rss.median;
				rss_at = k;
			}
		}
	}

	printf("\n| memwalk's ns/op against | pattern | threads | of medians "
	    "| median of per-round |\n|---|---|---:|---:|---:|\n");
	for (int k = 0; k < 4; k++)
		for (size_t i = I_MIMALLOC; i < NIMPL; i++)
			printf("| %s | %s | %d | %.2fx | %.2fx |\n",
			    impls[i].name, patterns[k % 2], threads_of[k / 2],
			    stats_of(ns[k][I_MEMWALK], rounds).median /
			    stats_of(ns[k][i], rounds).median,
			    per_round(ns[k][I_MEMWALK], ns[k][i], rounds));

	printf("\n| goal | figure | verdict |\n|---|---:|---|\n");
	for (int k = 0; k < 2; k++) {
		double	r = per_round(ns[k][I_MEMWALK], ns[k][I_MIMALLOC],
		    rounds);
		double	m = stats_of(ns[k][I_MEMWALK], rounds).median /
		    stats_of(ns[k][I_MIMALLOC], rounds).median;
		char	*text;

		printf("| memwalk faster than mimalloc, %s, 1 thread (ns/op "
		    "ratio, per round) | %.2fx | %s |\n", patterns[k], r,
		    r < 1 ? "met" : "NOT met");
		if (asprintf(&text, "`mw_malloc` faster than mimalloc, %s, "
		    "1 thread", patterns[k]) < 0)
			exit(1);
		snprintf(other, sizeof(other), "of medians %.2fx (%.1f against "
		    "%.1f ns/op)", m, stats_of(ns[k][I_MEMWALK], rounds).median,
		    stats_of(ns[k][I_MIMALLOC], rounds).median);
		data_goal(text, r, "<", 1, "per-round ratio memwalk / "
		    "mimalloc", other);
		free(text);
	}
	printf("| memwalk's peak RSS at most 1.1x glibc's (the largest of "
	    "the 4 cases: %s, %d thread%s) | %.2fx | %s |\n",
	    patterns[rss_at % 2], threads_of[rss_at / 2], rss_at / 2 ? "s" :
	    "", rss_max, rss_max <= 1.1 ? "met" : "NOT met");
	snprintf(other, sizeof(other), "the largest of the 4 cases (%s, %d "
	    "thread%s)", patterns[rss_at % 2], threads_of[rss_at / 2],
	    rss_at / 2 ? "s" : "");
	data_goal("`mw_malloc` peak RSS at most 1.1x glibc's", rss_max, "<=",
	    1.1, "ratio of medians", other);
	for (int k = 2; k < 4; k++) {
		double	r = per_round(ns[k][I_MEMWALK], ns[k][I_GLIBC], rounds);
		double	m = stats_of(ns[k][I_MEMWALK], rounds).median /
		    stats_of(ns[k][I_GLIBC], rounds).median;
		char	*text;

		printf("| memwalk no worse than glibc, %s, 2 threads (ns/op "
		    "ratio, per round) | %.2fx | %s |\n", patterns[k % 2], r,
		    r <= 1 ? "met" : "NOT met");
		if (asprintf(&text, "`mw_malloc` no worse than glibc, %s, "
		    "2 threads", patterns[k % 2]) < 0)
			exit(1);
		snprintf(other, sizeof(other), "of medians %.2fx", m);
		data_goal(text, r, "<=", 1, "per-round ratio memwalk / glibc",
		    other);
		free(text);
	}
}

int
main(int argc, char **argv)
{
	const char	*lib = "../build/lib/.libs/libmemwalk.so";
	long		 ops = 20 * 1000 * 1000;
	int		 rounds = 5, c;
	enum { NCASE = 2 * 2 };
	void		*mw;

	if (argc == 7 && strcmp(argv[1], "-C") == 0) {	/* one run */
		impls[1].lib = argv[6];
		child(&impls[atoi(argv[2])], atoi(argv[3]), atoi(argv[4]),
		    atol(argv[5]), 3);
	}
	while ((c = getopt(argc, argv, "l:n:r:")) != -1)
		switch (c) {
		case 'l': lib = optarg; break;
		case 'n': ops = atol(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: churn [-l libmemwalk.so] "
			    "[-n ops] [-r rounds]\n");
			return 2;
		}
	if (rounds < 1 || rounds > 64 || ops < 2 * WORKING_SET)
		return 2;
	if ((mw = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "churn: %s\n", dlerror());
		return 1;
	}
	dlclose(mw);
	impls[1].lib = lib;
	printf("churn: %ld operations per run, sizes %d..%d, working set %d, "
	    "%d rounds; memwalk from %s\n\n", ops, MIN_SIZE, MAX_SIZE,
	    WORKING_SET, rounds, lib);
	fflush(stdout);
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NCASE; k++)
			for (size_t a = 0; a < NIMPL; a++) {
				size_t	i = (a + (size_t)r) % NIMPL;
				long	kib;

				if (measure(&impls[i], k % 2, threads_of[k / 2],
				    ops, &ns[k][i][r], &kib) == -1) {
					fprintf(stderr, "churn: %s failed\n",
					    impls[i].name);
					return 1;
				}
				rss[k][i][r] = (double)kib;
			}
	report(rounds);
	return 0;
}
